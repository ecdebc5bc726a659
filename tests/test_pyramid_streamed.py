"""Pyramids streamed band by band (poolcli.streaming): every level equals direct pooling of the
base, for every TIFF layout the band reader takes and every output; the files are those the
chunked writers write; the input is read once; bad inputs fail in one line leaving nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import zarr
from cli_helpers import run
from pyramid_helpers import check_levels, direct

from poolcli.streaming import pyramids, tiffrows, zarrchunks

STREAMED = ("avg", "max", "min", "nearest")


def noise(shape: tuple[int, ...], dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 100, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(int(info.min), int(info.max), shape, endpoint=True).astype(dtype)


def zarr_levels(path) -> list[np.ndarray]:
    group = zarr.open_group(str(path), mode="r")
    return [group[key][:] for key in sorted(group.array_keys(), key=int)]


def tiff_levels(path) -> list[np.ndarray]:
    with tifffile.TiffFile(path) as tiff:
        # tifffile reads SubIFDs of unequal factors (2x3) as series of their own
        found = tiff.series[0].levels if len(tiff.series[0].levels) > 1 else tiff.series
        levels = [level.asarray() for level in found]
    return [np.moveaxis(a, -1, 0) if a.ndim == 3 else a[None] for a in levels]


# (C, H, W) bases and how they are stored.
LAYOUTS = {
    "grey tiled": ((1, 301, 259), {"tile": (64, 64)}),
    "grey striped zlib": ((1, 301, 259), {"rowsperstrip": 13, "compression": "zlib"}),
    "rgb tiled": ((3, 150, 211), {"tile": (32, 48), "photometric": "rgb"}),
    "rgb separate": ((3, 150, 211), {"tile": (32, 32), "photometric": "rgb",
                                     "planarconfig": "separate"}),
    "rgba striped": ((4, 97, 130), {"rowsperstrip": 7, "photometric": "rgb",
                                    "extrasamples": [2]}),
    "two channels": ((2, 97, 130), {"tile": (16, 16), "planarconfig": "separate",
                                    "photometric": "minisblack"}),
    "rgb jpeg tiled": ((3, 100, 120), {"tile": (32, 32), "photometric": "rgb",
                                       "compression": "jpeg"}),
    "grey 16-bit lzw predictor": ((1, 90, 77), {"tile": (32, 32), "compression": "lzw",
                                                "predictor": True, "dtype": np.uint16}),
}  # fmt: skip


def write_tiff(path, base: np.ndarray, options: dict) -> np.ndarray:
    """Store ``base`` (C, H, W) as ``options`` say; returns it as tifffile reads it back."""
    contig = base.shape[0] in (3, 4) and options.get("planarconfig") != "separate"
    data = np.moveaxis(base, 0, -1) if contig else (base[0] if base.shape[0] == 1 else base)
    tifffile.imwrite(path, data, **options)
    stored = tifffile.imread(path)
    return np.moveaxis(stored, -1, 0) if contig else (stored[None] if stored.ndim == 2 else stored)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("op", STREAMED)
def test_every_tiff_layout_reads_band_by_band_as_tifffile_reads_it(tmp_path, layout, op):
    shape, options = LAYOUTS[layout]
    options = dict(options)
    base = write_tiff(tmp_path / "in.tif", noise(shape, options.pop("dtype", np.uint8)), options)
    with tiffrows.open_rows(str(tmp_path / "in.tif")) as rows:
        assert rows.shape == shape
        bands = list(rows.bands(40))
    np.testing.assert_array_equal(np.concatenate(bands, axis=-2), base)
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--op", op, "--chunk", "32")  # fmt: skip
    assert result.exit_code == 0, result.output
    check_levels(zarr_levels(tmp_path / "o.ome.zarr"), base, op, (2, 2))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32])
@pytest.mark.parametrize("op", STREAMED)
@pytest.mark.parametrize("suffix", [".ome.zarr", ".tif"])
def test_cli_levels_equal_direct_pooling(tmp_path, dtype, op, suffix):
    base = noise((1, 203, 157), dtype, seed=3)
    tifffile.imwrite(tmp_path / "in.tif", base[0], tile=(32, 32))
    out = tmp_path / f"o{suffix}"
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(out), "--op", op,
                 "--chunk", "32", "--factor", "2x3")  # fmt: skip
    assert result.exit_code == 0, result.output
    levels = zarr_levels(out) if suffix == ".ome.zarr" else tiff_levels(out)
    assert len(levels) == 4  # 203x157 down to 26x6 at 2x3: the first at most 32 a side
    check_levels(levels, base, op, (2, 3))


@pytest.mark.parametrize("source", ["in.npy", "in.png"])
def test_npy_and_pictures_stream_too(tmp_path, source):
    from PIL import Image

    base = noise((3, 77, 90), seed=4)
    if source.endswith(".npy"):
        np.save(tmp_path / source, base[None])
    else:
        Image.fromarray(np.moveaxis(base, 0, -1)).save(tmp_path / source)
    result = run("pyramid", str(tmp_path / source), "-o", str(tmp_path / "o.tif"), "--chunk", "16")
    assert result.exit_code == 0, result.output
    check_levels(tiff_levels(tmp_path / "o.tif"), base, "avg", (2, 2))


@pytest.mark.parametrize("zarr_format", ["2", "3"])
def test_streamed_files_are_the_chunked_writers_files(tmp_path, zarr_format):
    """The same arrays, chunks, codecs and metadata as poolcli.chunked.multiscale writes."""
    from poolcli import chunked
    from poolcli.chunked import multiscale

    base = noise((1, 130, 100), np.uint16, seed=5)
    tifffile.imwrite(tmp_path / "in.tif", base[0], tile=(32, 32), resolution=(300, 300))
    out = tmp_path / "a.ome.zarr"
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(out), "--chunk", "32",
                 "--zarr-format", zarr_format, "--op", "max")  # fmt: skip
    assert result.exit_code == 0, result.output
    levels = chunked.pyramid(base[None], "max", "auto", 2, 32)
    reference = tmp_path / "b" / "a.ome.zarr"
    os.mkdir(tmp_path / "b")
    multiscale.write_ome_zarr(str(reference), levels, op="max", factor=(2, 2),
                              zarr_format=int(zarr_format), chunk=32,
                              pixel_size=(25400 / 300, 25400 / 300), unit="micrometer",
                              arguments={"levels": len(levels), "chunk": 32})  # fmt: skip
    files = sorted(
        os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs
    )
    theirs = sorted(
        os.path.relpath(os.path.join(d, f), reference)
        for d, _, fs in os.walk(reference)
        for f in fs
    )
    assert files == theirs
    for name in files:
        mine, other = (out / name).read_bytes(), (reference / name).read_bytes()
        if name.endswith(("json", ".zattrs", ".zarray", ".zgroup")):
            assert json.loads(mine) == json.loads(other), name
        else:  # a chunk: the same pixels, encoded the same way
            assert mine == other, name


def test_tiff_pyramid_tags_as_the_chunked_writer(tmp_path):
    base = noise((3, 200, 150), seed=6)
    tifffile.imwrite(tmp_path / "in.tif", np.moveaxis(base, 0, -1), tile=(64, 64),
                     photometric="rgb", resolution=(72, 96))  # fmt: skip
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(tmp_path / "o.tif"),
                 "--chunk", "64", "--compression", "zlib")  # fmt: skip
    assert result.exit_code == 0, result.output
    with tifffile.TiffFile(tmp_path / "o.tif") as tiff:
        page = tiff.pages[0]
        levels = tiff.series[0].levels
        assert len(levels) == 3 and page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.tilewidth == page.tilelength == 64 and page.photometric == 2
        for level, series in enumerate(levels):
            keyframe = series.keyframe
            assert keyframe.subfiletype == (1 if level else 0)
            x, y = keyframe.tags["XResolution"].value, keyframe.tags["YResolution"].value
            assert x[0] / x[1] == pytest.approx(72 / 2**level)
            assert y[0] / y[1] == pytest.approx(96 / 2**level)
    check_levels(tiff_levels(tmp_path / "o.tif"), base, "avg", (2, 2))


def test_each_band_is_read_once(tmp_path, monkeypatch):
    base = noise((1, 1000, 300), seed=7)
    tifffile.imwrite(tmp_path / "in.tif", base[0], tile=(64, 64))
    reads: list[int] = []
    real = tiffrows.TiffRows.read

    def counted(self, band, *args):
        reads.append(band)
        return real(self, band, *args)

    monkeypatch.setattr(tiffrows.TiffRows, "read", counted)
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--chunk", "64", "--levels", "5")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(reads) == list(range(16))  # ceil(1000 / 64) bands, each once
    check_levels(zarr_levels(tmp_path / "o.ome.zarr"), base, "avg", (2, 2))


@pytest.mark.parametrize("suffix", [".ome.zarr", ".tif"])
def test_a_truncated_tiff_fails_in_one_line_and_leaves_nothing(tmp_path, suffix):
    tifffile.imwrite(tmp_path / "in.tif", noise((512, 512)), tile=(64, 64), compression="zlib")
    data = (tmp_path / "in.tif").read_bytes()
    (tmp_path / "in.tif").write_bytes(data[: len(data) * 2 // 3])
    result = run("pyramid", str(tmp_path / "in.tif"), "-o", str(tmp_path / f"o{suffix}"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and str(tmp_path / "in.tif") in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_a_stop_leaves_nothing(tmp_path, monkeypatch):
    """An error in the middle of the stream (a band that fails to decode) removes the
    temporary folder; the output is never there."""
    base = noise((1, 500, 200), seed=8)
    tifffile.imwrite(tmp_path / "in.tif", base[0], tile=(64, 64))
    real = tiffrows.TiffRows.read

    def failing(self, band, *args):
        if band == 5:
            raise KeyboardInterrupt
        return real(self, band, *args)

    monkeypatch.setattr(tiffrows.TiffRows, "read", failing)
    for suffix in (".ome.zarr", ".tif"):
        with pytest.raises(KeyboardInterrupt):
            with tiffrows.open_rows(str(tmp_path / "in.tif")) as rows:
                writer = pyramids.write_ome_zarr if suffix == ".ome.zarr" else pyramids.write_tiff
                writer(str(tmp_path / f"o{suffix}"), rows)
        assert sorted(os.listdir(tmp_path)) == ["in.tif"]


def test_streamed_pyramids_do_not_import_dask(tmp_path):
    base = noise((1, 100, 80), seed=9)
    tifffile.imwrite(tmp_path / "in.tif", base[0], tile=(32, 32))
    code = (
        "import sys\n"
        "from poolcli.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('dask' in sys.modules, file=sys.stderr)\n"
    )
    for out in ("o.ome.zarr", "o.tif"):
        args = ["pyramid", str(tmp_path / "in.tif"), "-o", str(tmp_path / out), "--chunk", "32"]
        finished = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
        assert finished.stderr.splitlines()[-1] == "False", finished.stderr


def test_zarr_chunks_written_as_zarr_writes_them(tmp_path):
    values = noise((2, 70, 45), np.int16, seed=10)
    for zarr_format in (2, 3):
        folder = str(tmp_path / f"v{zarr_format}.zarr")
        mine = zarrchunks.create_array(folder, "a", values.shape, values.dtype, (1, 32, 32),
                                       zarr_format=zarr_format)  # fmt: skip
        writer = zarrchunks.ChunkWriter(mine, folder)
        writer.write_rows(values[:, :64], top=0)
        writer.write_rows(values[:, 64:], top=64)
        theirs = zarrchunks.create_array(folder, "b", values.shape, values.dtype, (1, 32, 32),
                                         zarr_format=zarr_format)  # fmt: skip
        theirs[:] = values
        np.testing.assert_array_equal(zarr.open_array(f"{folder}/a", mode="r")[:], values)
        for key in ("0/1/1", "1/2/1"):
            prefix = "c/" if zarr_format == 3 else ""
            assert (tmp_path / f"v{zarr_format}.zarr/a/{prefix}{key}").read_bytes() == (
                tmp_path / f"v{zarr_format}.zarr/b/{prefix}{key}"
            ).read_bytes()
        with pytest.raises(ValueError, match="whole rows of chunks"):
            writer.write_rows(values[:, 10:20], top=10)


def test_library_levels_equal_direct_pooling_for_an_array_in_memory(tmp_path):
    base = noise((2, 90, 61), np.float32, seed=11)
    shapes = pyramids.write_ome_zarr(str(tmp_path / "a.ome.zarr"), pyramids.ArrayRows(base),
                                     op="min", levels=4, chunk=16)  # fmt: skip
    assert shapes == [(2, 90, 61), (2, 45, 31), (2, 23, 16), (2, 12, 8)]
    for level, got in enumerate(zarr_levels(tmp_path / "a.ome.zarr")):
        np.testing.assert_array_equal(got, direct(base, "min", level, (2, 2)))


@pytest.mark.parametrize(("channels", "tile_format"), [(1, "jpeg"), (3, "jpeg"), (4, "png")])
def test_deep_zoom_streamed_is_the_chunked_writers(tmp_path, channels, tile_format):
    """The same tiles, byte for byte, and the same XML as poolcli.chunked.multiscale.write_dzi."""
    from poolcli import chunked
    from poolcli.chunked import multiscale
    from poolcli.io.deepzoom import dzi_levels

    base = noise((channels, 300, 517), seed=12)
    np.save(tmp_path / "in.npy", base[None])
    result = run("pyramid", str(tmp_path / "in.npy"), "-o", str(tmp_path / "a.dzi"),
                 "--tile-format", tile_format)  # fmt: skip
    assert result.exit_code == 0, result.output
    os.mkdir(tmp_path / "ref")
    levels = chunked.pyramid(base, "avg", dzi_levels(base.shape), 2)
    multiscale.write_dzi(str(tmp_path / "ref" / "a.dzi"), levels, tile_format=tile_format)
    assert (tmp_path / "a.dzi").read_text() == (tmp_path / "ref" / "a.dzi").read_text()
    mine = sorted(
        str(p.relative_to(tmp_path / "a_files")) for p in (tmp_path / "a_files").rglob("*.*")
    )
    theirs = sorted(
        str(p.relative_to(tmp_path / "ref" / "a_files"))
        for p in (tmp_path / "ref" / "a_files").rglob("*.*")
    )
    assert mine == theirs and len(mine) == 6 + 2 + 1 * 9  # level 10: 3x2 tiles, 9: 2x1, others 1
    for name in mine:
        assert (tmp_path / "a_files" / name).read_bytes() == (
            tmp_path / "ref" / "a_files" / name
        ).read_bytes(), name
    assert sorted(os.listdir(tmp_path)) == ["a.dzi", "a_files", "in.npy", "ref"]


def test_deep_zoom_of_16_bits_is_refused_in_one_line(tmp_path):
    np.save(tmp_path / "in.npy", noise((1, 40, 40), np.uint16))
    result = run("pyramid", str(tmp_path / "in.npy"), "-o", str(tmp_path / "a.dzi"))
    assert result.exit_code == 1
    assert "8-bit" in result.stderr and result.stderr.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == ["in.npy"]


@pytest.mark.parametrize("held", [0, pyramids.HELD_LEVELS])
def test_tiff_levels_wait_in_memory_or_on_disk_alike(tmp_path, monkeypatch, held):
    """Past HELD_LEVELS the levels below the first wait in a scratch file: the same pyramid."""
    monkeypatch.setattr(pyramids, "HELD_LEVELS", held)
    base = noise((3, 190, 230), np.uint16, seed=13)
    opened = []

    def spy(name, *args, **kwargs):
        opened.append(os.path.basename(name))
        return open(name, *args, **kwargs)

    monkeypatch.setattr(pyramids, "open", spy, raising=False)
    pyramids.write_tiff(str(tmp_path / "o.tif"), pyramids.ArrayRows(base), op="max", tile=32)
    assert opened == (["level1.raw", "level2.raw", "level3.raw"] if held == 0 else [])
    check_levels(tiff_levels(tmp_path / "o.tif"), base, "max", (2, 2))
    assert os.listdir(tmp_path) == ["o.tif"]  # the scratch file is gone


@pytest.mark.parametrize("out", ["big.ome.zarr", "big.tif", "big.dzi"])
def test_a_signal_stops_a_streamed_pyramid_leaving_nothing(tmp_path, out):
    """SIGINT while the levels stream: exit 130, no output, no temporary, no scratch file."""
    import signal
    import time

    np.save(tmp_path / "big.npy", noise((1, 1, 12000, 12000), seed=14))
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "poolcli", "pyramid", "big.npy", "-o", out, "-j", "1"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True
    )
    while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):  # the write has begun
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 130, errors
    assert errors == f"poolcli: {out}: stopped, nothing written\n"
    assert sorted(os.listdir(tmp_path)) == ["big.npy"]


@pytest.mark.parametrize("zarr_format", [3, 2])
def test_streamed_ome_zarr_validates_with_ome_zarr_models(tmp_path, zarr_format):
    import ome_zarr_models as models  # the test extra's ome-zarr-check

    base = noise((3, 150, 140), seed=15)
    target = str(tmp_path / "v.ome.zarr")
    pyramids.write_ome_zarr(target, pyramids.ArrayRows(base), levels=3, chunk=64,
                            zarr_format=zarr_format, pixel_size=(0.5, 0.5),
                            unit="micrometer")  # fmt: skip
    image = models.open_ome_zarr(zarr.open_group(target, mode="r"))
    module = "v05" if zarr_format == 3 else "v04"
    assert type(image).__module__ == f"ome_zarr_models.{module}.image"
    attributes = image.ome_attributes if zarr_format == 3 else image.attributes
    multiscale = attributes.multiscales[0]
    assert [d.path for d in multiscale.datasets] == ["0", "1", "2"]
    assert [a.name for a in multiscale.axes] == ["c", "y", "x"]


@pytest.mark.parametrize("out", ["o.ome.zarr", "o.dzi"])
def test_compression_is_for_tiff_outputs(tmp_path, out):
    np.save(tmp_path / "in.npy", noise((1, 40, 40)))
    result = run("pyramid", str(tmp_path / "in.npy"), "-o", str(tmp_path / out),
                 "--compression", "zlib")  # fmt: skip
    assert result.exit_code == 2
    assert "--compression zlib is for TIFF outputs" in result.stderr
    assert result.stderr.count("\n") == 1 and sorted(os.listdir(tmp_path)) == ["in.npy"]


def test_a_stop_inside_zarrs_calls_waits_for_them(tmp_path, monkeypatch):
    """SIGINT while zarr creates the arrays (its I/O runs in a thread of its own) is delivered
    once its calls are done, never inside them; the output is then removed."""
    import signal

    steps = []
    real = zarrchunks.create_array

    def create(*args, **kwargs):
        if not steps:
            signal.raise_signal(signal.SIGINT)
        steps.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(zarrchunks, "create_array", create)
    with pytest.raises(KeyboardInterrupt):
        rows = pyramids.ArrayRows(noise((1, 80, 80)))
        pyramids.write_ome_zarr(str(tmp_path / "o.ome.zarr"), rows, levels=3, chunk=32)
    assert steps == ["0", "1", "2"]  # every array made before the stop was delivered
    assert os.listdir(tmp_path) == []
