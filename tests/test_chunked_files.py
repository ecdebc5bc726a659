"""Chunked inputs and outputs through the command line, against the in-memory path.

Zarr (formats 2 and 3), OME-Zarr, tiled and striped TIFF and .npy inputs; .zarr, .ome.zarr,
tiled TIFF and .npy outputs. Each is compared with the in-memory ``poolcli.pool`` of the whole
array, or with the in-memory command-line run of the same file. ``--memory-limit 1`` sends a
TIFF or .npy the chunked way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

import poolcli
from poolcli.chunked import sources, stores
from tests.cli_helpers import run

EXACT_OPS = ("max", "min", "median", "mode")


def noise(shape: tuple[int, ...], dtype: str = "uint8", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(0, 200, shape).astype(dtype)


def same(got: np.ndarray, expected: np.ndarray, op: str) -> None:
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if op in EXACT_OPS or got.dtype.kind in "iu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6)


def read_zarr(path: Path) -> np.ndarray:
    node = zarr.open(store=str(path), mode="r")
    return np.asarray(node["0"][:] if isinstance(node, zarr.Group) else node[:])


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result.stderr


# ---------------------------------------------------------------------------------------------
# Zarr and .npy inputs: the array pooled in memory is the oracle


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(
    ("shape", "chunks"),
    [((61, 77), (16, 20)), ((3, 50, 41), (1, 13, 64)), ((2, 2, 40, 33), (1, 2, 9, 9))],
)
@pytest.mark.parametrize(
    ("op", "geometry"),
    [
        ("max", ["-k", "3", "-s", "2", "-p", "1"]),
        ("avg", ["-k", "2"]),
        ("mode", ["-k", "3", "--ceil"]),
        ("median", ["-k", "2x3", "--dilation", "2"]),
        ("sum", ["-k", "4", "-s", "3", "--pad-mode", "reflect", "-p", "2"]),
    ],
)
def test_zarr_input_to_zarr_output(tmp_path, zarr_format, shape, chunks, op, geometry) -> None:
    values = noise(shape)
    source = tmp_path / "in.zarr"
    stored = zarr.create_array(
        store=str(source), shape=shape, chunks=chunks, dtype=values.dtype, zarr_format=zarr_format
    )
    stored[:] = values
    ok(op, str(source), "-o", str(tmp_path / "out.zarr"), *geometry)
    kwargs = _kwargs(geometry)
    expected = poolcli.pool(values, op, **kwargs)
    same(read_zarr(tmp_path / "out.zarr"), expected, op)
    written = zarr.open(store=str(tmp_path / "out.zarr"), mode="r")
    assert written.metadata.zarr_format == 3  # the output's own format: 3 unless asked


def _kwargs(geometry: list[str]) -> dict[str, object]:
    """The library's keywords of a command line's geometry options."""
    names = {"-k": "size", "-s": "stride", "-p": "padding", "--dilation": "dilation",
             "--pad-mode": "pad_mode"}  # fmt: skip
    kwargs: dict[str, object] = {}
    items = iter(geometry)
    for flag in items:
        if flag == "--ceil":
            kwargs["ceil_mode"] = True
            continue
        value = next(items)
        if names[flag] == "pad_mode":
            kwargs["pad_mode"] = value
        else:
            parts = tuple(int(v) for v in value.split("x"))
            kwargs[names[flag]] = parts[0] if len(parts) == 1 else parts
    return kwargs


def test_zarr_output_format_two_and_default_name(tmp_path) -> None:
    values = noise((40, 30))
    np.save(tmp_path / "a.npy", values)
    ok("max", str(tmp_path / "a.npy"), "-o", str(tmp_path / "b.zarr"), "--zarr-format", "2")
    assert (tmp_path / "b.zarr" / ".zarray").is_file()
    same(read_zarr(tmp_path / "b.zarr"), poolcli.pool(values, "max"), "max")
    # A store's result is named STEM.OP.zarr beside it, in the format the store has.
    ok("min", str(tmp_path / "b.zarr"))
    same(
        read_zarr(tmp_path / "b.min.zarr"), poolcli.pool(poolcli.pool(values, "max"), "min"), "min"
    )


def test_npy_input_read_by_memory_map_to_npy(tmp_path) -> None:
    values = noise((3, 300, 257), "float32")
    np.save(tmp_path / "a.npy", values)
    stderr = ok("avg", str(tmp_path / "a.npy"), "-k", "3", "-s", "2", "--memory-limit", "1",
                "-o", str(tmp_path / "out.npy"))  # fmt: skip
    assert "wrote" in stderr
    same(np.load(tmp_path / "out.npy"), poolcli.pool(values, "avg", size=3, stride=2), "avg")


@pytest.mark.parametrize("suffix", ["npy", "tif"])
def test_a_source_pickles_as_its_path_and_reads_in_another_process(tmp_path, suffix) -> None:
    import io
    import pickle

    values = noise((600, 700))
    path = tmp_path / f"a.{suffix}"
    if suffix == "npy":
        np.save(path, values)
    else:
        tiff(path, values, tile=(128, 128))
    opened = sources.open_source(str(path))
    assert opened.array.shape == (1, 1, 600, 700)
    graph = pickle.dumps(dict(opened.array.__dask_graph__()))
    assert len(graph) < values.nbytes // 20  # the path travels, not the pixels
    pooled = poolcli.pool(opened.array, "max", size=3)
    pickled = pickle.dumps(pooled)
    opened.close()
    code = (
        "import pickle, sys, numpy as np, dask\n"
        "array = pickle.loads(sys.stdin.buffer.read())\n"
        "np.save(sys.stdout.buffer, dask.compute(array, scheduler='sync')[0])\n"
    )
    child = subprocess.run([sys.executable, "-c", code], input=pickled, capture_output=True)
    assert child.returncode == 0, child.stderr.decode()
    got = np.load(io.BytesIO(child.stdout))
    np.testing.assert_array_equal(got[0, 0], poolcli.pool(values, "max", size=3))


# ---------------------------------------------------------------------------------------------
# OME-Zarr


def ome_image(path: Path, levels: list[np.ndarray], zarr_format: int = 3) -> None:
    group = zarr.open_group(store=str(path), mode="w", zarr_format=zarr_format)
    axes = [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"},
            {"name": "x", "type": "space"}]  # fmt: skip
    datasets = []
    for index, level in enumerate(levels):
        group.create_array(str(index), shape=level.shape, dtype=level.dtype, chunks=(1, 16, 16))
        group[str(index)][:] = level
        factor = 2.0**index
        datasets.append({"path": str(index), "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 0.5 * factor, 0.5 * factor]}]})  # fmt: skip
    multiscale = {"axes": axes, "datasets": datasets}
    if zarr_format == 3:
        group.attrs["ome"] = {"version": "0.5", "multiscales": [multiscale]}
    else:
        group.attrs["multiscales"] = [{"version": "0.4", **multiscale}]


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_ome_zarr_levels_in_and_metadata_out(tmp_path, zarr_format) -> None:
    base = noise((2, 64, 48))
    ome_image(tmp_path / "in.ome.zarr", [base, poolcli.pool(base, "max")], zarr_format)
    out = tmp_path / "out.ome.zarr"
    ok("max", str(tmp_path / "in.ome.zarr"), "--level", "1", "-k", "3", "-s", "2", "-p", "1",
       "-o", str(out), "--zarr-format", str(zarr_format))  # fmt: skip
    expected = poolcli.pool(poolcli.pool(base, "max"), "max", size=3, stride=2, padding=1)
    same(read_zarr(out), expected, "max")
    attributes = dict(zarr.open_group(store=str(out), mode="r").attrs)
    if zarr_format == 3:
        assert attributes["ome"]["version"] == "0.5"
        multiscale = attributes["ome"]["multiscales"][0]
        assert zarr.open(store=str(out / "0"), mode="r").metadata.dimension_names == ("c", "y", "x")
    else:
        multiscale = attributes["multiscales"][0]
        assert multiscale["version"] == "0.4"
    assert [a["name"] for a in multiscale["axes"]] == ["c", "y", "x"]
    scale, translation = multiscale["datasets"][0]["coordinateTransformations"]
    # Level 1 has pixels of 1.0; the output's are 2 of them, and pixel 0's window (padded by
    # one) is centred on input pixel 0.
    assert scale == {"type": "scale", "scale": [1.0, 2.0, 2.0]}
    assert translation == {"type": "translation", "translation": [0.0, 0.0, 0.0]}
    assert multiscale["type"] == "max" and multiscale["metadata"]["producer"] == "poolcli"


@pytest.mark.parametrize("zarr_format", [3, 2])
def test_an_ome_zarr_output_validates_with_ome_zarr_models(tmp_path, zarr_format) -> None:
    import ome_zarr_models as models  # the test extra's ome-zarr-check

    np.save(tmp_path / "a.npy", noise((2, 3, 40, 30)))
    out = tmp_path / "o.ome.zarr"
    ok("avg", str(tmp_path / "a.npy"), "-k", "2", "-o", str(out), "--zarr-format", str(zarr_format))
    image = models.open_ome_zarr(zarr.open_group(str(out), mode="r"))
    module = "v05" if zarr_format == 3 else "v04"
    assert type(image).__module__ == f"ome_zarr_models.{module}.image"


def test_ome_zarr_level_out_of_range_is_one_line(tmp_path) -> None:
    ome_image(tmp_path / "in.ome.zarr", [noise((1, 16, 16))])
    result = run(
        "max", str(tmp_path / "in.ome.zarr"), "--level", "3", "-o", str(tmp_path / "o.zarr")
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"poolcli: {tmp_path / 'in.ome.zarr'}: has 1 level(s); --level 3 is out of range"
    ]
    assert not (tmp_path / "o.zarr").exists()


# ---------------------------------------------------------------------------------------------
# TIFF: the in-memory command-line run of the same file is the oracle


def tiff(path: Path, values: np.ndarray, **options: object) -> Path:
    tifffile.imwrite(path, values, **options)
    return path


TIFFS = {
    "tiled grey": (lambda: noise((300, 410)), {"tile": (64, 64)}),
    "striped grey": (lambda: noise((300, 410)), {"rowsperstrip": 7}),
    "tiled rgb": (lambda: noise((257, 300, 3)), {"tile": (32, 48), "photometric": "rgb"}),
    "planar rgb": (
        lambda: noise((3, 130, 120)),
        {"photometric": "rgb", "planarconfig": "separate"},
    ),
    "16-bit grey, zlib": (
        lambda: noise((200, 150), "uint16"),
        {"tile": (64, 64), "compression": "zlib"},
    ),
    "pages": (lambda: noise((3, 90, 70)), {"photometric": "minisblack", "metadata": None}),
}


@pytest.mark.parametrize("name", list(TIFFS))
@pytest.mark.parametrize("op", ["max", "avg"])
def test_tiff_chunked_equals_in_memory(tmp_path, name, op) -> None:
    make, options = TIFFS[name]
    source = tiff(tmp_path / "in.tif", make(), **options)
    geometry = ["-k", "3", "-s", "2", "-p", "1"]
    ok(op, str(source), *geometry, "-o", str(tmp_path / "memory.npy"))
    ok(op, str(source), *geometry, "-o", str(tmp_path / "chunks.npy"), "--memory-limit", "1")
    same(np.load(tmp_path / "chunks.npy"), np.load(tmp_path / "memory.npy"), op)
    # Written back as a TIFF, in the input's own type, as the in-memory path writes it.
    ok(op, str(source), *geometry, "-o", str(tmp_path / "memory.tif"))
    ok(op, str(source), *geometry, "-o", str(tmp_path / "chunks.tif"), "--memory-limit", "1")
    expected = tifffile.imread(tmp_path / "memory.tif")
    got = tifffile.imread(tmp_path / "chunks.tif")
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.reshape(expected.shape), expected)


def test_tiff_output_is_tiled_and_follows_the_input_tiles(tmp_path) -> None:
    source = tiff(tmp_path / "in.tif", noise((1000, 900)), tile=(256, 256))
    ok("max", str(source), "-k", "2", "--memory-limit", "1", "-o", str(tmp_path / "out.tif"))
    with tifffile.TiffFile(tmp_path / "out.tif") as written:
        page = written.pages[0]
        assert page.is_tiled and (page.tilelength, page.tilewidth) == (256, 256)
        np.testing.assert_array_equal(page.asarray(), poolcli.pool(tifffile.imread(source), "max"))


def test_tiff_to_zarr_keeps_the_pooled_values(tmp_path) -> None:
    values = noise((120, 90, 3))
    source = tiff(tmp_path / "in.tif", values, tile=(32, 32), photometric="rgb")
    ok("avg", str(source), "-k", "2", "-o", str(tmp_path / "out.zarr"))
    expected = poolcli.pool(values.transpose(2, 0, 1)[np.newaxis], "avg")  # float32, as .npy
    same(read_zarr(tmp_path / "out.zarr"), expected, "avg")


# ---------------------------------------------------------------------------------------------
# Batches, refusals, bad inputs


def test_a_store_in_a_folder_is_one_input(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    zarr.create_array(store=str(folder / "s.zarr"), shape=(8, 8), dtype="uint8")[:] = 7
    np.save(folder / "a.npy", noise((8, 8)))
    out = tmp_path / "out"
    stderr = ok("max", str(folder), "-o", str(out))
    assert "2 done" in stderr
    assert sorted(os.listdir(out)) == ["a.npy", "s.zarr"]
    np.testing.assert_array_equal(read_zarr(out / "s.zarr"), np.full((4, 4), 7, np.uint8))


def test_a_folder_that_is_no_store_is_never_replaced(tmp_path) -> None:
    np.save(tmp_path / "a.npy", noise((8, 8)))
    (tmp_path / "out.zarr").mkdir()
    (tmp_path / "out.zarr" / "keep.txt").write_text("mine")
    result = run("max", str(tmp_path / "a.npy"), "-o", str(tmp_path / "out.zarr"), "--overwrite")
    assert result.exit_code == 1
    assert "is a folder that is no Zarr store; it is not replaced" in result.stderr
    assert (tmp_path / "out.zarr" / "keep.txt").read_text() == "mine"


def test_a_store_from_another_run_needs_overwrite_in_a_batch(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "a.npy", noise((8, 8)))
    ok("max", str(folder), "-o", str(tmp_path / "out"), "--format", "zarr")
    result = run("max", str(folder), "-o", str(tmp_path / "out"), "--format", "zarr")
    assert result.exit_code == 1 and "exists; replace it with --overwrite" in result.stderr
    ok("max", str(folder), "-o", str(tmp_path / "out"), "--format", "zarr", "--overwrite")
    assert "1 skipped" in ok("max", str(folder), "-o", str(tmp_path / "out"), "--format", "zarr",
                             "--skip-existing")  # fmt: skip


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: (p.mkdir(), (p / "zarr.json").write_text("{not json")), "cannot be read"),
        (lambda p: zarr.open_group(store=str(p), mode="w"), "without OME-Zarr multiscales"),
        (lambda p: zarr.create_array(store=str(p), shape=(4,), dtype="uint8"), "1 dimensions"),
        (lambda p: zarr.create_array(store=str(p), shape=(4, 4), dtype="bool"), "values"),
    ],
)
def test_bad_stores_fail_alone_with_one_line(tmp_path, make, reason) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder / "bad.zarr")
    np.save(folder / "good.npy", noise((8, 8)))
    result = run("max", str(folder), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "bad.zarr" in line]
    assert len(errors) == 1 and reason in errors[0], result.stderr
    assert (tmp_path / "out" / "good.npy").is_file()
    assert sorted(os.listdir(tmp_path / "out")) == ["good.npy"]


def test_truncated_tiff_fails_with_one_line_and_leaves_nothing(tmp_path) -> None:
    source = tiff(tmp_path / "in.tif", noise((512, 512)), tile=(64, 64), compression="zlib")
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 2])
    result = run("max", str(source), "--memory-limit", "1", "-o", str(tmp_path / "out.zarr"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and str(source) in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_standard_output_is_refused_for_a_store(tmp_path) -> None:
    zarr.create_array(store=str(tmp_path / "s.zarr"), shape=(8, 8), dtype="uint8")
    result = run("max", str(tmp_path / "s.zarr"), "-o", "-")
    assert result.exit_code == 2 and "give -o FILE" in result.stderr


@pytest.mark.parametrize("op", ["avg", "sum", "lp", "max"])
@pytest.mark.parametrize(
    "geometry", [["-k", "2"], ["-k", "3", "-s", "2", "-p", "1", "--pad-mode", "120"]]
)
@pytest.mark.parametrize("alpha", ["premultiply", "straight"])
def test_alpha_in_chunks_as_in_memory(tmp_path, op, geometry, alpha) -> None:
    values = noise((97, 130, 4))
    values[..., 3][values[..., 3] < 60] = 0  # fully transparent pixels too
    source = tiff(tmp_path / "in.tif", values, photometric="rgb", extrasamples=[2], tile=(32, 32))
    options = [*geometry, "--alpha", alpha, "--overwrite"]
    ok(op, str(source), *options, "-o", str(tmp_path / "memory.npy"))
    ok(op, str(source), *options, "-o", str(tmp_path / "chunks.npy"), "--memory-limit", "1")
    same(np.load(tmp_path / "chunks.npy"), np.load(tmp_path / "memory.npy"), op)


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1.5Q"])
def test_a_bad_memory_limit_is_a_usage_error(tmp_path, value) -> None:
    result = run("max", "x.png", "--memory-limit", value)
    assert result.exit_code == 2 and "--memory-limit" in result.stderr


def test_dry_run_writes_no_store(tmp_path) -> None:
    zarr.create_array(store=str(tmp_path / "s.zarr"), shape=(8, 6), dtype="uint8")
    stderr = ok("max", str(tmp_path / "s.zarr"), "--dry-run", "-o", str(tmp_path / "o.zarr"))
    assert "would write" in stderr and "(8x6 -> 4x3)" in stderr
    assert not (tmp_path / "o.zarr").exists()


# ---------------------------------------------------------------------------------------------
# Stopping


def test_a_stopped_write_leaves_nothing(tmp_path, monkeypatch) -> None:
    import threading

    import dask.array as da

    monkeypatch.setattr(stores, "BAND_BYTES", 2**16)  # TIFF and .npy: many bands
    stop = threading.Event()
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            stop.set()

    result = da.zeros((1, 1, 4096, 4096), dtype="uint8", chunks=(1, 1, 256, 256))
    for fmt, name in [("zarr", "o.zarr"), ("tiff", "o.tif"), ("npy", "o.npy")]:
        stop.clear()
        calls.clear()
        with pytest.raises(stores.Stopped):
            stores.write(result, str(tmp_path / name), fmt, stop=stop, progress=progress,
                         threads=1)  # fmt: skip
        assert os.listdir(tmp_path) == [], fmt
        assert calls[-1] < 10, fmt  # stopped soon after, not at the end


def test_ctrl_c_stops_a_chunked_run_leaving_nothing(tmp_path) -> None:
    values = noise((4096, 4096))
    stored = zarr.create_array(store=str(tmp_path / "in.zarr"), shape=values.shape,
                               chunks=(256, 256), dtype="uint8")  # fmt: skip
    stored[:] = values
    out = tmp_path / "out.zarr"
    command = [sys.executable, "-m", "poolcli", "median", str(tmp_path / "in.zarr"), "-k", "7",
               "-s", "1", "-o", str(out), "-j", "1"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        name.startswith(".out.zarr.") for name in os.listdir(tmp_path)
    ):
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted by SIGINT" in stderr
    assert sorted(os.listdir(tmp_path)) == ["in.zarr"]


# ---------------------------------------------------------------------------------------------
# The way chosen, the extra missing, progress


def test_a_tiff_past_the_pixel_limit_goes_chunked_by_itself(tmp_path, monkeypatch) -> None:
    from PIL import Image

    values = noise((300, 410))
    source = tiff(tmp_path / "in.tif", values, tile=(64, 64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the in-memory path's guard
    ok("max", str(source), "-k", "2", "-o", str(tmp_path / "out.tif"))
    with tifffile.TiffFile(tmp_path / "out.tif") as written:
        assert written.pages[0].is_tiled  # written in parts: the in-memory writer strips
        np.testing.assert_array_equal(written.asarray(), poolcli.pool(values, "max"))


def test_past_the_pixel_limit_a_png_says_how_to_pool_it_in_parts(tmp_path, monkeypatch) -> None:
    from PIL import Image

    Image.new("L", (50, 40)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    result = run("max", str(tmp_path / "big.png"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"poolcli: {tmp_path / 'big.png'}: image has 2000 pixels, more than the limit of 1000; "
        "raise it with --max-pixels; or convert it to a tiled TIFF, which is pooled in parts "
        "(vips tiffsave IN OUT.tif --tile --bigtiff)\n"
    )


def test_other_commands_refuse_a_store_in_one_line(tmp_path) -> None:
    zarr.create_array(store=str(tmp_path / "s.zarr"), shape=(8, 8), dtype="uint8")
    result = run("global", str(tmp_path / "s.zarr"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"poolcli: {tmp_path / 's.zarr'}: a Zarr store is pooled by max, min, avg, sum, "
        "median, lp and mode\n"
    )


def test_without_the_chunked_extra_a_store_is_one_line(tmp_path) -> None:
    zarr.create_array(store=str(tmp_path / "s.zarr"), shape=(8, 8), dtype="uint8")
    np.save(tmp_path / "a.npy", noise((8, 8)))
    code = (
        "import sys\n"
        "for name in ('dask', 'dask.array', 'zarr'):\n"
        "    sys.modules[name] = None\n"
        "from poolcli.cli import main\n"
        "main()\n"
    )
    args = ["max", str(tmp_path / "s.zarr"), str(tmp_path / "a.npy"), "-o", str(tmp_path / "o")]
    finished = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 1
    assert finished.stderr.splitlines()[0] == (
        f"poolcli: {tmp_path / 's.zarr'}: is pooled in parts, which needs the chunked extra: "
        "pip install 'poolcli-image[chunked]'"
    )
    assert os.listdir(tmp_path / "o") == ["a.npy"]  # the batch went on


def test_progress_reaches_the_total(tmp_path) -> None:
    from poolcli.batch.jobs import Job, Target
    from poolcli.batch.process import process
    from poolcli.batch.recipe import Recipe
    from poolcli.imaging.tasks import Pooling

    stored = zarr.create_array(store=str(tmp_path / "s.zarr"), shape=(3000, 2500),
                               chunks=(500, 500), dtype="uint8")  # fmt: skip
    stored[:] = noise((3000, 2500))
    calls: list[tuple[int, int]] = []
    job = Job(0, str(tmp_path / "s.zarr"), "s.zarr", Target(str(tmp_path / "o.zarr")))
    outcome = process(job, Recipe(Pooling("max")), progress=lambda d, t: calls.append((d, t)))
    assert outcome.status.value == "done"
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1][0] == calls[-1][1] > 1


@pytest.mark.parametrize("fmt", ["zarr", "ome-zarr", "tiff", "npy"])
@pytest.mark.parametrize(
    ("shape", "chunks", "tile"),
    [((1, 1, 1500, 1250), (1, 1, 700, 300), 500), ((2, 3, 7, 2049), (1, 3, 7, 1000), 512),
     ((1, 2, 4100, 33), (1, 1, 1024, 33), 64)],
)  # fmt: skip
def test_writers_round_trip_any_shape(tmp_path, fmt, shape, chunks, tile) -> None:
    import dask.array as da

    values = noise(shape, "uint16")
    path = tmp_path / ("out." + {"ome-zarr": "ome.zarr", "tiff": "tif"}.get(fmt, fmt))
    stores.write(da.from_array(values, chunks=chunks), str(path), fmt, tile=tile)
    if fmt == "npy":
        got = np.load(path)
    elif fmt == "tiff":
        got = tifffile.imread(path).reshape(shape[0], shape[2], shape[3], shape[1])
        got = got.transpose(0, 3, 1, 2)
    else:
        got = read_zarr(path).reshape(shape)
    np.testing.assert_array_equal(got, values)
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("name", ["tiled rgb", "16-bit grey, zlib", "pages"])
def test_reports_are_those_of_the_in_memory_path(tmp_path, name) -> None:
    make, options = TIFFS[name]
    source = tiff(tmp_path / "in.tif", make(), **options)
    reports = []
    for limit in ("100G", "1"):
        result = run("avg", str(source), "-k", "3", "-s", "2", "-o", str(tmp_path / "o.npy"),
                     "--report", "json", "--memory-limit", limit, "--overwrite")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        report.pop("replaced", None)
        reports.append(report)
    assert reports[0] == reports[1]


def test_standard_input_to_a_store(tmp_path) -> None:
    import io

    from PIL import Image

    values = noise((30, 40, 3))
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    result = run("max", "-", "-o", str(tmp_path / "o.zarr"), input=buffer.getvalue())
    assert result.exit_code == 0, result.stderr
    expected = poolcli.pool(values.transpose(2, 0, 1)[np.newaxis], "max")
    same(read_zarr(tmp_path / "o.zarr"), expected, "max")


def test_other_commands_refuse_a_store_output_in_one_line(tmp_path) -> None:
    np.save(tmp_path / "a.npy", noise((8, 8)))
    result = run("global", str(tmp_path / "a.npy"), "-o", str(tmp_path / "g.zarr"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"poolcli: {tmp_path / 'a.npy'}: ZARR outputs are written by max, min, avg, sum, "
        "median, lp and mode\n"
    )
    assert not (tmp_path / "g.zarr").exists()


def loaded_by_a_run(*args: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after the run ``poolcli ARGS`` (which
    must succeed)."""
    code = (
        "import sys\n"
        "from poolcli.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "print(*sys.modules)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    return set(finished.stdout.split())


def test_a_chunked_run_starts_no_distributed(tmp_path) -> None:
    np.save(tmp_path / "a.npy", noise((3, 40, 30)))
    loaded = loaded_by_a_run(
        "avg", str(tmp_path / "a.npy"), "-k", "3", "-o", str(tmp_path / "o.zarr")
    )
    assert "dask" in loaded and "distributed" not in loaded  # its import takes 0.3 s


@pytest.mark.parametrize("suffix", ["tif", "npy"])
def test_a_small_tiff_or_npy_is_pooled_without_dask(tmp_path, suffix) -> None:
    path = tmp_path / f"a.{suffix}"
    if suffix == "npy":
        np.save(path, noise((40, 30)))
    else:
        tiff(path, noise((40, 30)), tile=(16, 16))
    assert "dask" not in loaded_by_a_run("max", str(path), "-o", str(tmp_path / f"o.{suffix}"))
    assert (tmp_path / f"o.{suffix}").is_file()


# ---------------------------------------------------------------------------------------------
# Volumes: windows of three axes over Zarr arrays, pooled in chunks


@pytest.mark.parametrize("shape", [(10, 12, 14), (3, 10, 12, 14)])
@pytest.mark.parametrize("output", ["o.zarr", "o.npy"])
def test_zarr_volumes(tmp_path, shape, output) -> None:
    volume = noise(shape)
    chunks = (1, 5, 5, 5)[-len(shape) :]
    stored = zarr.create_array(
        store=str(tmp_path / "v.zarr"), shape=shape, chunks=chunks, dtype="uint8"
    )
    stored[:] = volume
    ok("max", str(tmp_path / "v.zarr"), "-k", "2x2x2", "-o", str(tmp_path / output))
    expected = poolcli.pool(volume, "max", size=(2, 2, 2))
    if output.endswith(".zarr"):
        written = zarr.open_array(store=str(tmp_path / output), mode="r")
        assert written.metadata.dimension_names[-3:] == ("z", "y", "x")
        got = written[:]
    else:
        got = np.load(tmp_path / output)
    np.testing.assert_array_equal(got, expected)


def test_a_volume_larger_than_the_memory_limit_is_pooled_in_chunks(tmp_path) -> None:
    volume = noise((4, 8, 8))
    np.save(tmp_path / "v.npy", volume)
    ok("max", str(tmp_path / "v.npy"), "-k", "2x2x2", "--memory-limit", "10",
       "-o", str(tmp_path / "o.zarr"))  # fmt: skip
    written = zarr.open_array(store=str(tmp_path / "o.zarr"), mode="r")
    np.testing.assert_array_equal(written[:], poolcli.pool(volume, "max", size=(2, 2, 2)))


def test_a_signal_larger_than_the_memory_limit_says_so(tmp_path) -> None:
    np.save(tmp_path / "s.npy", noise((4, 64)))
    result = run("max", str(tmp_path / "s.npy"), "-k", "2", "--axes", "1", "--memory-limit",
                 "10", "-o", str(tmp_path / "o.zarr"))  # fmt: skip
    assert result.exit_code == 1
    assert "windows of 1 axis are pooled in memory" in result.stderr
    assert "--memory-limit of 10" in result.stderr
    assert not (tmp_path / "o.zarr").exists()


@pytest.mark.parametrize("cells", [1, 2, 3, 4, 9, 25, 255, 256, 257, 1000, 4096])
def test_round_means_rounds_as_to_dtype(cells) -> None:
    """Every mean k/n of 8-bit values over n cells, rounded in float32, as in float64."""
    from poolcli.batch.large import round_means
    from poolcli.io.images import to_dtype

    sums = np.arange(0, 255 * cells + 1, max(1, cells // 64), dtype=np.int64)
    means = (sums / np.float32(cells)).astype(np.float32)  # as the engine divides
    np.testing.assert_array_equal(
        round_means(means, np.dtype(np.uint8)), to_dtype(means, np.dtype(np.uint8))
    )


@pytest.mark.parametrize("photometric", ["minisblack", "rgb"])
def test_chunked_tiff_outputs_keep_resolution_and_icc_as_in_memory(tmp_path, photometric) -> None:
    """The resolution (divided by the stride) and the ICC profile reach a TIFF pooled in
    chunks as they reach one pooled in memory; --strip drops both."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    values = noise((96, 80, 3) if photometric == "rgb" else (96, 80))
    source = tiff(tmp_path / "in.tif", values, photometric=photometric, tile=(32, 32),
                  resolution=(300, 150), resolutionunit="INCH", iccprofile=icc)  # fmt: skip
    outputs = {}
    for label, extra in (("memory", []), ("chunks", ["--memory-limit", "1"])):
        target = tmp_path / f"{label}.tif"
        ok("avg", str(source), "-k", "2", "-o", str(target), *extra)
        with tifffile.TiffFile(target) as tif:
            tags = tif.pages[0].tags
            x, y = tags["XResolution"].value, tags["YResolution"].value
            profile = tags.get(34675)
            outputs[label] = (x[0] / x[1], y[0] / y[1], None if profile is None else profile.value)
    assert outputs["chunks"][:2] == pytest.approx((150.0, 75.0))
    assert outputs["chunks"] == pytest.approx(outputs["memory"])
    assert outputs["chunks"][2] == icc
    ok("avg", str(source), "-k", "2", "-o", str(tmp_path / "bare.tif"), "--strip",
       "--memory-limit", "1")  # fmt: skip
    with tifffile.TiffFile(tmp_path / "bare.tif") as tif:
        assert 34675 not in tif.pages[0].tags
        assert tif.pages[0].tags.get("XResolution") is None or tif.pages[0].tags[
            "XResolution"
        ].value == (1, 1)
