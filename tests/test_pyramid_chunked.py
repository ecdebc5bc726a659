"""Pyramids of Dask and zarr arrays, the writers (OME-Zarr, TIFF, Deep Zoom), the command line.

Needs the chunked extra (left out of the floors run, as tests/test_chunked.py is).
"""

from __future__ import annotations

import shutil
import subprocess

import dask
import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from pyramid_helpers import (
    BAD_ARGUMENTS,
    OPS,
    CountingArray,
    cases,
    check_levels,
    chunkings,
    listing,
    rgb_image,
)

import poolcli
from poolcli import chunked


@settings(max_examples=60, deadline=None)
@given(cases(), st.data())
def test_dask_levels_equal_direct_pooling(
    case: tuple[np.ndarray, str, tuple[int, int], int], data: st.DataObject
):
    base, op, factor, levels = case
    chunks = data.draw(chunkings(base.shape))
    chunk = data.draw(st.integers(1, 16))
    lazy = poolcli.pyramid(da.from_array(base, chunks=chunks), op, levels, factor, chunk)
    assert len(lazy) == levels
    assert all(isinstance(level, da.Array) for level in lazy)
    assert [level.dtype for level in lazy] == [base.dtype] * levels
    check_levels(list(dask.compute(*lazy)), base, op, factor)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (31, 17), (64, 64), (3, 33, 65)])
def test_odd_sizes_every_op_in_chunks(op: str, shape: tuple[int, ...]):
    rng = np.random.default_rng(sum(shape))
    base = rng.integers(0, 256, shape).astype(np.uint8)
    lazy = chunked.pyramid(base, op, levels=7, chunks=(*shape[:-2], 5, 7))
    check_levels(list(dask.compute(*lazy)), base, op, (2, 2))


@pytest.mark.parametrize("op", ["mode", "max", "min", "nearest"])
def test_labels_stay_labels_in_chunks(op: str):
    rng = np.random.default_rng(5)
    labels = rng.choice(np.array([0, 3, 17, 200, 60000], np.uint16), size=(45, 51))
    for level in dask.compute(*chunked.pyramid(labels, op, levels=6, chunks=8)):
        assert set(np.unique(level)) <= {0, 3, 17, 200, 60000}


def test_avg_does_not_drift_in_chunks():
    block = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]], np.uint8)
    base = np.tile(block, (16, 16))
    levels = dask.compute(*chunked.pyramid(base, levels=7, chunks=16))
    assert levels[2].mean() == 0 and levels[-1].shape == (1, 1)
    check_levels(list(levels), base, "avg", (2, 2))


@pytest.mark.parametrize(("arguments", "message"), BAD_ARGUMENTS)
def test_bad_arguments_in_chunks(arguments: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        chunked.pyramid(np.zeros((4, 4)), **arguments)  # type: ignore[arg-type]


def test_zarr_array_goes_through_chunked():
    array = zarr.create_array({}, shape=(9, 10), chunks=(4, 4), dtype="uint8")
    array[:] = np.arange(90, dtype=np.uint8).reshape(9, 10)
    with pytest.raises(TypeError, match="poolcli.chunked.pyramid"):
        poolcli.pyramid(array)
    levels = chunked.pyramid(array, "avg", levels=3)
    check_levels(list(dask.compute(*levels)), array[:], "avg", (2, 2))


@pytest.mark.parametrize("op", OPS)
def test_all_levels_in_one_pass_over_the_base(op: str):
    base = CountingArray(np.random.default_rng(2).integers(0, 9, (2, 70, 90)).astype(np.uint8))
    levels = chunked.pyramid(base, op, levels=5, chunks=(1, 16, 16))
    assert base.cells_read == 0  # lazy
    computed = dask.compute(*levels)
    assert base.cells_read == base.values.size
    check_levels(list(computed), base.values, op, (2, 2))


# --- the writers ------------------------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", [3, 2])
@pytest.mark.parametrize("shape", [(70, 90), (3, 70, 90), (1, 3, 70, 90), (2, 3, 70, 90)])
def test_ome_zarr_levels_and_metadata(tmp_path, zarr_format: int, shape: tuple[int, ...]):
    from poolcli.chunked.multiscale import write_ome_zarr

    base = np.random.default_rng(4).integers(0, 60000, shape).astype(np.uint16)
    levels = chunked.pyramid(base, "avg", levels=4, factor=(2, 3))
    target = tmp_path / "image.ome.zarr"
    write_ome_zarr(
        str(target), levels, op="avg", factor=(2, 3), zarr_format=zarr_format, chunk=32,
        pixel_size=(0.5, 0.25), unit="micrometer",
    )  # fmt: skip
    assert listing(tmp_path) == ["image.ome.zarr"]  # no temporary left
    group = zarr.open_group(str(target), mode="r")
    assert group.metadata.zarr_format == zarr_format
    if zarr_format == 3:
        assert group.attrs["ome"]["version"] == "0.5"
        (entry,) = group.attrs["ome"]["multiscales"]
    else:
        (entry,) = group.attrs["multiscales"]
        assert entry["version"] == "0.4"
    axes = [axis["name"] for axis in entry["axes"]]
    written = base[0] if base.ndim == 4 and base.shape[0] == 1 else base
    assert axes == {2: ["y", "x"], 3: ["c", "y", "x"], 4: ["t", "c", "y", "x"]}[written.ndim]
    assert [axis.get("unit") for axis in entry["axes"]][-2:] == ["micrometer"] * 2
    assert entry["type"] == "avg"
    assert entry["metadata"]["method"] == "poolcli.pyramid"
    assert entry["metadata"]["version"] == poolcli.__version__
    assert entry["metadata"]["kwargs"]["op"] == "avg"
    assert [d["path"] for d in entry["datasets"]] == ["0", "1", "2", "3"]
    expected = dask.compute(*levels)
    for level, dataset in enumerate(entry["datasets"]):
        scale, translation = dataset["coordinateTransformations"]
        fy, fx = 2**level, 3**level
        assert scale["scale"][-2:] == [0.5 * fy, 0.25 * fx]
        assert translation["translation"][-2:] == [(fy - 1) / 2 * 0.5, (fx - 1) / 2 * 0.25]
        array = group[dataset["path"]]
        want = (
            expected[level][0] if expected[level].ndim == 4 and shape[0] == 1 else expected[level]
        )
        np.testing.assert_array_equal(array[:], want)
        assert array.dtype == np.uint16
        if zarr_format == 3:
            assert list(array.metadata.dimension_names) == axes
        else:
            assert array.metadata.dimension_separator == "/"
    sizes = [group[d["path"]].shape[-2:] for d in entry["datasets"]]
    assert sizes == sorted(sizes, reverse=True)  # highest resolution first


@pytest.mark.parametrize("zarr_format", [3, 2])
def test_ome_zarr_validates_with_ome_zarr_models(tmp_path, zarr_format: int):
    import ome_zarr_models as models  # the test extra's ome-zarr-check

    from poolcli.chunked.multiscale import write_ome_zarr

    target = str(tmp_path / "v.ome.zarr")
    write_ome_zarr(
        target, chunked.pyramid(rgb_image(), "mode", levels=3), op="mode", factor=(2, 2),
        zarr_format=zarr_format,
    )  # fmt: skip
    image = models.open_ome_zarr(zarr.open_group(target, mode="r"))
    module = "v05" if zarr_format == 3 else "v04"
    assert type(image).__module__ == f"ome_zarr_models.{module}.image"
    multiscale = (
        image.ome_attributes.multiscales[0] if zarr_format == 3 else image.attributes.multiscales[0]
    )
    assert [d.path for d in multiscale.datasets] == ["0", "1", "2"]


@pytest.mark.parametrize("shape", [(45, 70), (3, 45, 70), (1, 4, 45, 70), (2, 1, 45, 70)])
def test_tiff_levels_are_subifds_read_by_tifffile(tmp_path, shape: tuple[int, ...]):
    from poolcli.chunked.multiscale import write_tiff

    base = np.random.default_rng(6).integers(0, 256, shape).astype(np.uint8)
    levels = chunked.pyramid(base, "max", levels=4)
    target = tmp_path / "p.tif"
    write_tiff(str(target), levels, tile=16)
    assert listing(tmp_path) == ["p.tif"]
    with tifffile.TiffFile(target) as tiff:
        series = tiff.series[0]
        assert len(series.levels) == 4
        assert len(tiff.pages) == (shape[0] if len(shape) == 4 and shape[0] > 1 else 1)
        page = tiff.pages[0]
        assert page.is_tiled and (page.tilelength, page.tilewidth) == (16, 16)
        assert len(page.subifds) == 3
        read = [level.asarray() for level in series.levels]
        subfiletypes = [level.keyframe.subfiletype for level in series.levels]
    assert subfiletypes == [0, 1, 1, 1]
    for got, want in zip(read, dask.compute(*levels), strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, as_tiff_stores(want))


def as_tiff_stores(level: np.ndarray) -> np.ndarray:
    """A level as a TIFF holds it: N of one frame dropped, one channel as grey, three or four
    as interleaved samples (..., H, W, S), others as separate planes (C, H, W)."""
    if level.ndim == 4 and level.shape[0] == 1:
        level = level[0]
    if level.ndim == 2:
        return level
    channels = level.shape[-3]
    if channels == 1:
        return level[..., 0, :, :]
    return np.moveaxis(level, -3, -1) if channels in (3, 4) else level


def dzi_layout(files) -> dict[str, tuple[int, int]]:
    from PIL import Image

    layout = {}
    for tile in sorted(files.glob("*/*.*")):
        if tile.suffix in (".jpeg", ".png"):
            with Image.open(tile) as image:
                layout[f"{tile.parent.name}/{tile.name}"] = image.size
    return layout


@pytest.mark.skipif(shutil.which("vips") is None, reason="libvips' vips is the cross-check")
@pytest.mark.parametrize(("height", "width"), [(300, 517), (254, 255), (1, 600)])
def test_dzi_layout_matches_vips_dzsave(tmp_path, height: int, width: int):
    from PIL import Image

    from poolcli.chunked.multiscale import dzi_levels, write_dzi

    picture = rgb_image(height, width)
    source = tmp_path / "in.png"
    Image.fromarray(np.moveaxis(picture, 0, -1)).save(source)
    subprocess.run(["vips", "dzsave", str(source), str(tmp_path / "vips")], check=True)
    levels = chunked.pyramid(picture, "avg", levels=dzi_levels(picture.shape))
    write_dzi(str(tmp_path / "ours.dzi"), levels)
    assert dzi_layout(tmp_path / "ours_files") == dzi_layout(tmp_path / "vips_files")
    assert (tmp_path / "ours.dzi").read_text() == (tmp_path / "vips.dzi").read_text()
    assert listing(tmp_path) == ["in.png", "ours.dzi", "ours_files", "vips.dzi", "vips_files"]


def test_dzi_xml_and_tiles(tmp_path):
    import xml.etree.ElementTree as ElementTree

    from PIL import Image

    from poolcli.chunked.multiscale import write_dzi

    grey = np.random.default_rng(8).integers(0, 256, (1, 1, 300, 260)).astype(np.uint8)
    write_dzi(str(tmp_path / "g.dzi"), chunked.pyramid(grey, "max", levels=10), tile_format="png")
    root = ElementTree.parse(tmp_path / "g.dzi").getroot()
    namespace = "{http://schemas.microsoft.com/deepzoom/2008}"
    assert root.tag == f"{namespace}Image"
    assert (root.get("Format"), root.get("Overlap"), root.get("TileSize")) == ("png", "1", "254")
    size = root.find(f"{namespace}Size")
    assert size is not None and (size.get("Height"), size.get("Width")) == ("300", "260")
    files = tmp_path / "g_files"
    assert sorted(int(p.name) for p in files.iterdir()) == list(range(10))
    with Image.open(files / "9" / "1_1.png") as tile:  # lossless: the pixels themselves
        np.testing.assert_array_equal(np.asarray(tile), grey[0, 0, 253:300, 253:260])
    with Image.open(files / "0" / "0_0.png") as tile:
        assert np.asarray(tile).tolist() == [[grey.max()]]


def test_dzi_refuses_what_it_cannot_hold(tmp_path):
    from poolcli.chunked.multiscale import write_dzi

    wide = chunked.pyramid(np.zeros((20, 20), np.uint16), levels=6)
    with pytest.raises(poolcli.OutputError, match="8-bit"):
        write_dzi(str(tmp_path / "w.dzi"), wide)
    with pytest.raises(ValueError, match="needs 6 levels"):
        write_dzi(str(tmp_path / "w.dzi"), chunked.pyramid(np.zeros((20, 20), np.uint8), levels=3))
    assert listing(tmp_path) == []


def failing_levels(exception: BaseException) -> list[da.Array]:
    base = da.from_array(rgb_image(), chunks=(1, 16, 16))

    def explode(block: np.ndarray, block_info=None) -> np.ndarray:
        if block_info[None]["chunk-location"][0] == 1:  # the second channel
            raise exception
        return block

    levels = chunked.pyramid(base, "max", levels=3)
    levels[2] = levels[2].map_blocks(explode, dtype=levels[2].dtype)
    return levels


@pytest.mark.parametrize("writer", ["ome-zarr", "tiff", "dzi"])
@pytest.mark.parametrize("exception", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failed_or_stopped_write_leaves_nothing(tmp_path, writer: str, exception):
    from poolcli.chunked import multiscale

    levels = failing_levels(exception)
    with pytest.raises(type(exception)):
        if writer == "ome-zarr":
            multiscale.write_ome_zarr(str(tmp_path / "x.ome.zarr"), levels, op="max", factor=(2, 2))
        elif writer == "tiff":
            multiscale.write_tiff(str(tmp_path / "x.tif"), levels)
        else:
            multiscale.write_dzi(str(tmp_path / "x.dzi"), levels[:2] + [levels[2]] * 6)
    assert listing(tmp_path) == []
    assert multiscale.unfinished() == []


def test_existing_outputs_are_kept_unless_overwrite(tmp_path):
    from poolcli.chunked.multiscale import write_ome_zarr, write_tiff

    levels = chunked.pyramid(rgb_image(), "min", levels=2)
    tif = tmp_path / "k.tif"
    tif.write_bytes(b"keep")
    with pytest.raises(poolcli.OutputError, match="exists"):
        write_tiff(str(tif), levels)
    assert tif.read_bytes() == b"keep"
    write_tiff(str(tif), levels, overwrite=True)
    with tifffile.TiffFile(tif) as tiff:
        assert len(tiff.series[0].levels) == 2
    store = tmp_path / "k.ome.zarr"
    write_ome_zarr(str(store), levels, op="min", factor=(2, 2))
    with pytest.raises(poolcli.OutputError, match="exists"):
        write_ome_zarr(str(store), levels, op="min", factor=(2, 2))
    write_ome_zarr(str(store), levels[:1], op="min", factor=(2, 2), overwrite=True)
    assert sorted(zarr.open_group(str(store), mode="r").array_keys()) == ["0"]
    assert listing(tmp_path) == ["k.ome.zarr", "k.tif"]


def test_a_writer_reads_the_base_once(tmp_path):
    from poolcli.chunked.multiscale import write_ome_zarr, write_tiff

    for op in ("avg", "median"):
        base = CountingArray(rgb_image(64, 80))
        write_tiff(str(tmp_path / f"{op}.tif"), chunked.pyramid(base, op, levels=4, chunks=16))
        assert base.cells_read == base.values.size
        base = CountingArray(rgb_image(64, 80))
        levels = chunked.pyramid(base, op, levels=4, chunks=(1, 16, 16))
        write_ome_zarr(str(tmp_path / f"{op}.ome.zarr"), levels, op=op, factor=(2, 2))
        assert base.cells_read == base.values.size


# --- the command line -------------------------------------------------------------------------


def save_png(path, picture: np.ndarray, dpi: float | None = None) -> None:
    from PIL import Image

    options = {} if dpi is None else {"dpi": (dpi, dpi)}
    Image.fromarray(np.moveaxis(picture, 0, -1) if picture.ndim == 3 else picture).save(
        path, **options
    )


def test_cli_round_trips(tmp_path):
    from cli_helpers import run

    from poolcli.io.images import load_image

    picture = rgb_image(100, 130)
    source = tmp_path / "in.png"
    save_png(source, picture, dpi=254)
    loaded, _ = load_image(str(source))
    expected = poolcli.pyramid(np.ascontiguousarray(loaded), "median", levels="auto", chunk=16)
    result = run("pyramid", str(source), "-o", str(tmp_path / "o.ome.zarr"), "--op", "median",
                 "--chunk", "16")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "poolcli: wrote" in result.stderr and "5 levels" in result.stderr  # as other commands
    group = zarr.open_group(str(tmp_path / "o.ome.zarr"), mode="r")
    (entry,) = group.attrs["ome"]["multiscales"]
    assert entry["datasets"][2]["coordinateTransformations"][0]["scale"] == [1.0, 400.0, 400.0]
    for level, want in enumerate(expected):
        np.testing.assert_array_equal(group[str(level)][:], want[0])
    result = run("pyramid", str(source), "-o", str(tmp_path / "o.tif"), "--op", "median",
                 "--levels", "3", "--chunk", "16", "-q")  # fmt: skip
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    with tifffile.TiffFile(tmp_path / "o.tif") as tiff:
        for level, want in zip(tiff.series[0].levels, expected[:3], strict=True):
            np.testing.assert_array_equal(level.asarray(), np.moveaxis(want[0], 0, -1))
        resolutions = [level.keyframe.resolution for level in tiff.series[0].levels]
    np.testing.assert_allclose(resolutions, [(254, 254), (127, 127), (63.5, 63.5)], rtol=1e-6)
    result = run("pyramid", str(source), "-o", str(tmp_path / "o.dzi"), "--tile-format", "png")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o_files").iterdir()) == [str(n) for n in range(9)]
    result = run("pyramid", str(source), "-o", str(tmp_path / "v2.ome.zarr"), "--zarr-format",
                 "2", "--factor", "3", "--levels", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert zarr.open_group(str(tmp_path / "v2.ome.zarr"), mode="r")["1"].shape == (3, 34, 44)


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (["--op", "sum"], 2, "invalid value for --op: 'sum' is not one of"),
        (["--levels", "0"], 2, "--levels"),
        (["--factor", "1"], 2, "--factor 1x1: each factor must be at least 2"),
        (["--chunk", "4"], 2, "--chunk"),
        (["-o", "OUT.png"], 2, "a pyramid is written as NAME.ome.zarr"),
        (["-o", "OUT.dzi", "--factor", "3"], 2, "--factor must be 2"),
        (["-o", "OUT.dzi", "--levels", "3"], 2, "drop --levels"),
        (["-o", "in.tif"], 2, "the output would replace INPUT"),
    ],
)
def test_cli_bad_options(tmp_path, monkeypatch, arguments: list[str], status: int, message: str):
    from cli_helpers import run

    monkeypatch.chdir(tmp_path)
    save_png(tmp_path / "in.png", rgb_image(20, 20))
    if "in.tif" in arguments:
        shutil.copy(tmp_path / "in.png", tmp_path / "in.tif")
    if "-o" not in arguments:
        arguments = [*arguments, "-o", "OUT.ome.zarr"]
    before = listing(tmp_path)
    result = run("pyramid", "in.tif" if "in.tif" in arguments else "in.png", *arguments)
    assert result.exit_code == status, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert listing(tmp_path) == before


def test_cli_bad_inputs_and_outputs(tmp_path, monkeypatch):
    from cli_helpers import run

    monkeypatch.chdir(tmp_path)
    result = run("pyramid", "missing.png", "-o", "out.tif")
    assert result.exit_code == 1 and result.stderr.startswith("poolcli: missing.png: ")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    result = run("pyramid", "junk.png", "-o", "out.tif")
    assert result.exit_code == 1 and result.stderr.startswith("poolcli: junk.png: ")
    save_png(tmp_path / "wide.png", np.zeros((20, 20), np.uint16))
    result = run("pyramid", "wide.png", "-o", "out.dzi")
    assert result.exit_code == 1 and "8-bit" in result.stderr
    save_png(tmp_path / "in.png", rgb_image(20, 20))
    (tmp_path / "out.tif").write_bytes(b"keep")
    result = run("pyramid", "in.png", "-o", "out.tif")
    assert result.exit_code == 1
    assert result.stderr == "poolcli: out.tif: exists; replace it with --overwrite\n"
    assert (tmp_path / "out.tif").read_bytes() == b"keep"
    result = run("pyramid", "in.png", "-o", "missing/out.tif")
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert listing(tmp_path) == ["in.png", "junk.png", "out.tif", "wide.png"]
    assert run("pyramid", "in.png", "-o", "out.tif", "--overwrite").exit_code == 0


def test_cli_stopped_by_a_signal_leaves_nothing(tmp_path):
    """SIGINT while the levels are written: exit 130, no output, no temporary."""
    import os
    import signal
    import sys
    import time

    base = np.random.default_rng(9).integers(0, 256, (1, 3, 3000, 3000)).astype(np.uint8)
    np.save(tmp_path / "big.npy", base)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "poolcli", "pyramid", "big.npy", "-o", "big.ome.zarr"]
    command += ["--op", "mode", "--max-pixels", "10000000", "-j", "1"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True
    )
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):  # the write has begun
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 130, errors
    assert errors == "poolcli: big.ome.zarr: stopped, nothing written\n"
    assert listing(tmp_path) == ["big.npy"]


def test_signals_are_held_while_zarr_writes_metadata():
    """A stop inside one of Zarr's calls is delivered once the call is over, never within it."""
    import signal

    from poolcli.io import atomic

    steps = []
    with pytest.raises(KeyboardInterrupt):
        with atomic.held_signals():
            signal.raise_signal(signal.SIGINT)
            steps.append("after the signal")
    assert steps == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(
    ("op", "reader"),
    [
        ("max", "poolcli.streaming.tiffrows.open_rows"),
        ("median", "poolcli.chunked.sources.open_source"),
    ],
)
def test_pyramid_of_a_tiff_past_the_pixel_limit_reads_it_in_parts(
    tmp_path, monkeypatch, op, reader
) -> None:
    """Levels that cascade stream the TIFF a band at a time; median reads it in chunks."""
    import importlib

    from cli_helpers import run
    from PIL import Image

    rng = np.random.default_rng(5)
    base = rng.integers(0, 255, (300, 260), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in.tif", base, tile=(64, 64))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow would refuse to decode it
    opened = []
    module_name, name = reader.rsplit(".", 1)
    module = importlib.import_module(module_name)
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: opened.append(a) or real(*a, **k))
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--chunk", "64", "--op", op)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert opened  # read in parts, not decoded whole
    group = zarr.open_group(str(tmp_path / "o.ome.zarr"), mode="r")
    for level, want in enumerate(poolcli.pyramid(base, op, levels="auto", chunk=64)):
        np.testing.assert_array_equal(group[str(level)][:], want[np.newaxis])


def test_pyramid_of_a_zarr_store(tmp_path) -> None:
    from cli_helpers import run

    labels = np.random.default_rng(6).integers(0, 5, (2, 100, 90), dtype=np.uint16)
    stored = zarr.create_array(store=str(tmp_path / "in.zarr"), shape=labels.shape,
                               chunks=(1, 32, 32), dtype="uint16")  # fmt: skip
    stored[:] = labels
    result = run("pyramid", str(tmp_path / "in.zarr"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--chunk", "32", "--op", "mode")  # fmt: skip
    assert result.exit_code == 0, result.output
    group = zarr.open_group(str(tmp_path / "o.ome.zarr"), mode="r")
    for level, want in enumerate(poolcli.pyramid(labels, "mode", levels="auto", chunk=32)):
        np.testing.assert_array_equal(group[str(level)][:], want)


def test_an_ome_zarr_inputs_pixel_size_scales_the_levels(tmp_path):
    """A 2-D OME-Zarr input's scale (its pixel size) and unit carry on to every level."""
    from cli_helpers import run

    from poolcli.chunked.multiscale import write_ome_zarr

    base = np.random.default_rng(12).integers(0, 9, (1, 90, 70), dtype=np.uint8)
    write_ome_zarr(str(tmp_path / "in.ome.zarr"), [base], op="max", factor=(2, 2),
                   pixel_size=(0.25, 0.5), unit="micrometer")  # fmt: skip
    result = run("pyramid", str(tmp_path / "in.ome.zarr"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--levels", "3", "--op", "mode", "--chunk", "32")  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = zarr.open_group(str(tmp_path / "o.ome.zarr"), mode="r").attrs["ome"]["multiscales"][0]
    transforms = [d["coordinateTransformations"] for d in entry["datasets"]]
    assert [t[0]["scale"] for t in transforms] == [[1.0, 0.25, 0.5], [1.0, 0.5, 1.0],
                                                   [1.0, 1.0, 2.0]]  # fmt: skip
    assert transforms[2][1]["translation"] == [0.0, 0.375, 0.75]
    assert [a.get("unit") for a in entry["axes"]] == [None, "micrometer", "micrometer"]
