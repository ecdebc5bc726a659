"""Pyramids of volumes (issue 15, item 4), and the z axis of OME-Zarr and Zarr inputs.

Level L of a volume's pyramid is ``pool(base, op, size=(fz**L, fy**L, fx**L), ceil_mode=True)``
written in the base's dtype, for numpy and Dask inputs; OME-Zarr outputs carry z as y and x.
Needs the chunked extra (left out of the floors run, as tests/test_chunked.py is).
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from pyramid_helpers import OPS, CountingArray, check_levels, chunkings, listing

import poolcli
from poolcli import chunked

FACTORS = ((2, 2, 2), (1, 2, 2), (3, 2, 2), (2, 3, 2))


def random_volume(shape: tuple[int, ...], dtype: type, seed: int, labels: bool = False):
    rng = np.random.default_rng(seed)
    if labels:
        return rng.integers(0, 4, shape).astype(dtype)
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 1000, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(int(info.min), min(int(info.max), 2**31 - 1), shape).astype(dtype)


@st.composite
def volume_cases(draw: st.DrawFn) -> tuple[np.ndarray, str, tuple[int, ...], int]:
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.int8, np.int32, np.float32]))
    spatial = tuple(draw(st.integers(1, 13)) for _ in range(3))
    lead = draw(st.sampled_from([(), (2,), (1, 2), (2, 1)]))
    base = random_volume((*lead, *spatial), dtype, draw(st.integers(0, 2**32 - 1)),
                         labels=draw(st.booleans()))  # fmt: skip
    return base, draw(st.sampled_from(OPS)), draw(st.sampled_from(FACTORS)), draw(st.integers(1, 4))


# --- the library ------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("shape", [(5, 7, 9), (2, 5, 7, 9), (1, 2, 3, 11, 6), (1, 1, 1)])
def test_numpy_volume_levels_equal_direct_pooling(op, factor, shape):
    for dtype in (np.uint8, np.uint16, np.float32):
        base = random_volume(shape, dtype, sum(shape))
        levels = poolcli.pyramid(base, op, levels=4, factor=factor)
        assert all(isinstance(level, np.ndarray) for level in levels)
        check_levels(levels, base, op, factor)


@settings(max_examples=40, deadline=None)
@given(volume_cases())
def test_numpy_volume_levels_any_geometry(case):
    base, op, factor, levels = case
    check_levels(poolcli.pyramid(base, op, levels, factor), base, op, factor)


@settings(max_examples=40, deadline=None)
@given(volume_cases(), st.data())
def test_dask_volume_levels_equal_direct_pooling(case, data: st.DataObject):
    base, op, factor, levels = case
    chunks = data.draw(chunkings(base.shape))
    chunk = data.draw(st.integers(1, 9))
    lazy = poolcli.pyramid(da.from_array(base, chunks=chunks), op, levels, factor, chunk)
    assert len(lazy) == levels and all(isinstance(level, da.Array) for level in lazy)
    assert [level.dtype for level in lazy] == [base.dtype] * levels
    check_levels(list(dask.compute(*lazy)), base, op, factor)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("factor", [(2, 2, 2), (1, 2, 2)])
def test_dask_odd_volumes_every_op(op, factor):
    base = random_volume((2, 19, 21, 17), np.uint16, 7)
    lazy = chunked.pyramid(base, op, levels=5, factor=factor, chunks=(1, 4, 5, 7), chunk=8)
    check_levels(list(dask.compute(*lazy)), base, op, factor)


def test_auto_levels_count_y_and_x_not_depth():
    base = np.zeros((300, 40, 70), np.uint8)
    assert len(poolcli.pyramid(base, "max", factor=(2, 2, 2), chunk=16)) == 4  # 70 -> 9 <= 16
    assert len(poolcli.pyramid(base, "max", factor=(1, 2, 2), chunk=16)) == 4
    assert len(chunked.pyramid(base, "max", factor=(2, 2, 2), chunk=16)) == 4
    assert len(poolcli.pyramid(base, "max", factor=(2, 2, 2), chunk=70)) == 1


@pytest.mark.parametrize("op", ["mode", "max", "min", "nearest"])
def test_labels_stay_labels_in_volumes(op):
    rng = np.random.default_rng(5)
    kept = np.array([0, 3, 17, 200, 60000], np.uint16)
    labels = rng.choice(kept, size=(13, 23, 29))
    for levels in (
        poolcli.pyramid(labels, op, levels=5, factor=(2, 2, 2)),
        dask.compute(*chunked.pyramid(labels, op, levels=5, factor=(2, 2, 2), chunks=(3, 8, 8))),
    ):
        for level in levels:
            assert set(np.unique(level)) <= set(kept.tolist())


@pytest.mark.parametrize("op", OPS)
def test_all_volume_levels_in_one_pass_over_the_base(op):
    values = np.random.default_rng(2).integers(0, 9, (1, 2, 11, 40, 36)).astype(np.uint8)
    base = CountingArray(values)
    levels = chunked.pyramid(base, op, levels=4, factor=(2, 2, 2), chunks=(1, 1, 3, 16, 16))
    assert base.cells_read == 0  # lazy
    computed = dask.compute(*levels)
    assert base.cells_read == values.size
    check_levels(list(computed), values, op, (2, 2, 2))


@pytest.mark.parametrize(
    ("factor", "shape", "message"),
    [
        ((2, 1, 2), (4, 4, 4), "factor must be"),
        ((0, 2, 2), (4, 4, 4), "factor must be"),
        ((2, 2, 2, 2), (4, 4, 4, 4), "factor must be"),
        ((2, 2, 2), (4, 4), "for a window of 3 axes"),
        ((2, 2, 2), (1, 1, 2, 4, 4, 4), "for a window of 3 axes"),
    ],
)
def test_bad_volume_arguments(factor, shape, message):
    for pyramid in (poolcli.pyramid, chunked.pyramid):
        with pytest.raises(ValueError, match=message):
            pyramid(np.zeros(shape, np.uint8), "avg", 2, factor)


# --- OME-Zarr outputs -------------------------------------------------------------------------


def multiscale_entry(path) -> dict:
    group = zarr.open_group(str(path), mode="r")
    if group.metadata.zarr_format == 3:
        return group.attrs["ome"]["multiscales"][0]
    return group.attrs["multiscales"][0]


@pytest.mark.parametrize("zarr_format", [3, 2])
@pytest.mark.parametrize(
    ("shape", "axes"),
    [
        ((9, 30, 41), ["z", "y", "x"]),
        ((2, 9, 30, 41), ["c", "z", "y", "x"]),
        ((1, 2, 9, 30, 41), ["c", "z", "y", "x"]),
        ((3, 1, 9, 30, 41), ["t", "c", "z", "y", "x"]),
    ],
)
def test_ome_zarr_of_a_volume(tmp_path, zarr_format, shape, axes):
    import ome_zarr_models as models  # the test extra's ome-zarr-check

    from poolcli.chunked.multiscale import write_ome_zarr

    base = random_volume(shape, np.uint16, 4)
    levels = chunked.pyramid(base, "avg", levels=3, factor=(2, 2, 3))
    target = tmp_path / "v.ome.zarr"
    write_ome_zarr(str(target), levels, op="avg", factor=(2, 2, 3), zarr_format=zarr_format,
                   chunk=16, pixel_size=(2.0, 0.5, 0.25), unit="micrometer")  # fmt: skip
    assert listing(tmp_path) == ["v.ome.zarr"]
    image = models.open_ome_zarr(zarr.open_group(str(target), mode="r"))
    assert type(image).__module__ == f"ome_zarr_models.{'v05' if zarr_format == 3 else 'v04'}.image"
    entry = multiscale_entry(target)
    assert [axis["name"] for axis in entry["axes"]] == axes
    assert [axis["type"] for axis in entry["axes"]][-3:] == ["space"] * 3
    assert [axis.get("unit") for axis in entry["axes"]][-3:] == ["micrometer"] * 3
    assert entry["metadata"]["kwargs"]["factor"] == [2, 2, 3]
    group = zarr.open_group(str(target), mode="r")
    lead = [1.0] * (len(axes) - 3)
    for level, (dataset, want) in enumerate(zip(entry["datasets"], dask.compute(*levels),
                                                strict=True)):  # fmt: skip
        scale, translation = dataset["coordinateTransformations"]
        fz, fy, fx = 2**level, 2**level, 3**level
        assert scale["scale"] == [*lead, 2.0 * fz, 0.5 * fy, 0.25 * fx]
        assert translation["translation"] == [
            *[0.0] * len(lead), (fz - 1) / 2 * 2.0, (fy - 1) / 2 * 0.5, (fx - 1) / 2 * 0.25
        ]  # fmt: skip
        array = group[dataset["path"]]
        np.testing.assert_array_equal(array[:], want.reshape(array.shape))
        assert array.chunks[-3:] == (1, min(16, array.shape[-2]), min(16, array.shape[-1]))
        if zarr_format == 3:
            assert list(array.metadata.dimension_names) == axes


def test_a_volume_writer_reads_the_base_once(tmp_path):
    from poolcli.chunked.multiscale import write_ome_zarr

    for op in ("avg", "median", "mode"):
        base = CountingArray(random_volume((2, 12, 40, 33), np.uint8, 3))
        levels = chunked.pyramid(base, op, levels=4, factor=(2, 2, 2), chunks=(1, 4, 16, 16))
        write_ome_zarr(str(tmp_path / f"{op}.ome.zarr"), levels, op=op, factor=(2, 2, 2))
        assert base.cells_read == base.values.size


def test_two_dimensional_metadata_unchanged():
    from poolcli.chunked.multiscale import axes_of, multiscales_metadata

    entry = multiscales_metadata("a", ("c", "y", "x"), 2, "avg", (2, 3), (0.5, 0.25), "micrometer")
    assert entry["axes"] == [
        {"name": "c", "type": "channel"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    assert entry["datasets"][1]["coordinateTransformations"] == [
        {"type": "scale", "scale": [1.0, 1.0, 0.75]},
        {"type": "translation", "translation": [0.0, 0.25, 0.25]},
    ]
    assert axes_of((4, 3, 5, 6)) == ("t", "c", "y", "x")


# --- the z axis of OME-Zarr and Zarr inputs ---------------------------------------------------


def write_ome_input(path, data: np.ndarray, axes: str, scale: list[float], zarr_format: int = 3):
    """An OME-Zarr image of one level, its metadata written by hand (no poolcli writer)."""
    kinds = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
    entries = [{"name": a, "type": kinds[a], **({"unit": "micrometer"} if kinds[a] == "space"
               else {})} for a in axes]  # fmt: skip
    entry = {
        "axes": entries,
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": scale}]}],
    }  # fmt: skip
    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    chunks = tuple(4 if a == "z" else 16 if a in "yx" else 1 for a in axes)
    names = {"dimension_names": list(axes)} if zarr_format == 3 else {}
    array = group.create_array("0", shape=data.shape, chunks=chunks, dtype=data.dtype, **names)
    array[:] = data
    if zarr_format == 3:
        group.attrs["ome"] = {"version": "0.5", "multiscales": [entry]}
    else:
        group.attrs["multiscales"] = [{"version": "0.4", **entry}]


@pytest.mark.parametrize("zarr_format", [3, 2])
@pytest.mark.parametrize(
    ("axes", "shape"),
    [("czyx", (2, 9, 20, 30)), ("tczyx", (3, 2, 9, 20, 30)), ("zyx", (9, 20, 30)),
     ("tzyx", (2, 9, 20, 30)), ("zcyx", (9, 2, 20, 30))],
)  # fmt: skip
def test_z_axis_of_an_ome_zarr_is_read_as_depth(tmp_path, zarr_format, axes, shape):
    from poolcli.chunked import sources

    data = random_volume(shape, np.uint16, 8)
    scale = [{"z": 2.5, "y": 0.5, "x": 0.25}.get(a, 1.0) for a in axes]
    write_ome_input(tmp_path / "in.ome.zarr", data, axes, scale, zarr_format)
    opened = sources.open_source(str(tmp_path / "in.ome.zarr"), volumes=True)
    named = {a: i for i, a in enumerate(axes)}
    order = [named[a] for a in "tczyx" if a in named]
    want = data.transpose(order).reshape(
        tuple(shape[named[a]] if a in named else 1 for a in "tczyx")
    )
    assert opened.array.shape == want.shape  # (N, C, D, H, W)
    np.testing.assert_array_equal(opened.array.compute(), want)
    assert opened.info.ndim == 5 and opened.info.frames == want.shape[0]
    assert (opened.depth_scale, opened.scale, opened.unit) == (2.5, (0.5, 0.25), "micrometer")
    assert opened.array.chunks[2][0] == 4  # a storage chunk deep: each stored chunk read once
    planes = sources.open_source(str(tmp_path / "in.ome.zarr"))  # planes: z among N, as before
    assert planes.array.ndim == 4 and planes.info.ndim == 4
    assert planes.array.shape[-2:] == want.shape[-2:]
    assert planes.array.shape[0] == want.shape[0] * want.shape[2]


def test_dimension_names_of_a_zarr_array_give_its_depth(tmp_path):
    from poolcli.chunked import sources

    data = random_volume((2, 7, 20, 30), np.uint8, 9)
    stored = zarr.create_array(str(tmp_path / "in.zarr"), shape=data.shape, chunks=(1, 3, 8, 8),
                               dtype="uint8", dimension_names=("c", "z", "y", "x"))  # fmt: skip
    stored[:] = data
    opened = sources.open_source(str(tmp_path / "in.zarr"), volumes=True)
    assert opened.array.shape == (1, 2, 7, 20, 30) and opened.info.ndim == 4
    np.testing.assert_array_equal(opened.array.compute()[0], data)
    plain = sources.open_source(str(tmp_path / "in.zarr"))  # without volumes: as a .npy is read
    assert plain.array.shape == data.shape


# --- the command line -------------------------------------------------------------------------


def run(*args: str):
    from cli_helpers import run as run_cli

    return run_cli(*args)


@pytest.mark.parametrize(("factor", "values"), [("2x2x2", (2, 2, 2)), ("1x2x2", (1, 2, 2))])
@pytest.mark.parametrize("op", ["avg", "mode", "median", "max"])
def test_cli_pyramid_of_an_ome_zarr_volume(tmp_path, factor, values, op):
    data = random_volume((2, 11, 40, 37), np.uint16, 10, labels=op == "mode")
    write_ome_input(tmp_path / "in.ome.zarr", data, "czyx", [1.0, 2.5, 0.5, 0.5])
    result = run("pyramid", str(tmp_path / "in.ome.zarr"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--factor", factor, "--op", op, "--chunk", "16")  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = poolcli.pyramid(data, op, levels="auto", factor=values, chunk=16)
    shapes = ", ".join("x".join(map(str, level.shape[1:])) for level in expected)
    assert f"wrote {tmp_path / 'o.ome.zarr'}: {len(expected)} levels ({shapes})" in result.stderr
    group = zarr.open_group(str(tmp_path / "o.ome.zarr"), mode="r")
    entry = multiscale_entry(tmp_path / "o.ome.zarr")
    assert [axis["name"] for axis in entry["axes"]] == ["c", "z", "y", "x"]
    for level, want in enumerate(expected):
        np.testing.assert_array_equal(group[str(level)][:], want)
        scale, translation = entry["datasets"][level]["coordinateTransformations"]
        fz = values[0] ** level
        assert scale["scale"] == [1.0, 2.5 * fz, 0.5 * 2**level, 0.5 * 2**level]
        assert translation["translation"][1] == (fz - 1) / 2 * 2.5  # the input's z pixel size
    assert [axis.get("unit") for axis in entry["axes"]] == [None, *["micrometer"] * 3]


def test_cli_pyramid_of_a_npy_volume_and_a_tiff_stack(tmp_path):
    import ome_zarr_models as models

    data = random_volume((9, 33, 45), np.uint8, 11)
    np.save(tmp_path / "v.npy", data)
    tifffile.imwrite(tmp_path / "v.tif", data)
    expected = poolcli.pyramid(data, "avg", levels=3, factor=(2, 2, 2))
    for source, extra in (("v.npy", []), ("v.tif", ["--volume"])):
        target = tmp_path / f"{source}.ome.zarr"
        result = run("pyramid", str(tmp_path / source), "-o", str(target), "--factor", "2x2x2",
                     "--levels", "3", "--zarr-format", "2", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
        models.open_ome_zarr(zarr.open_group(str(target), mode="r"))
        group = zarr.open_group(str(target), mode="r")
        for level, want in enumerate(expected):
            np.testing.assert_array_equal(group[str(level)][:], want[np.newaxis])
        assert [a["name"] for a in multiscale_entry(target)["axes"]] == ["c", "z", "y", "x"]
    result = run("pyramid", str(tmp_path / "v.tif"), "-o", str(tmp_path / "k.ome.zarr"),
                 "--volume", "--levels", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    kept = zarr.open_group(str(tmp_path / "k.ome.zarr"), mode="r")["1"][:]  # pages kept
    np.testing.assert_array_equal(kept[0], poolcli.pyramid(data, "avg", 2, (1, 2, 2))[1])


def test_cli_z_stack_with_a_plane_factor_keeps_its_slices(tmp_path):
    data = random_volume((2, 5, 40, 37), np.uint16, 12)
    write_ome_input(tmp_path / "in.ome.zarr", data, "czyx", [1.0, 3.0, 1.0, 1.0])
    result = run("pyramid", str(tmp_path / "in.ome.zarr"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--chunk", "16", "--op", "max")  # fmt: skip
    assert result.exit_code == 0, result.output
    group = zarr.open_group(str(tmp_path / "o.ome.zarr"), mode="r")
    for level, want in enumerate(poolcli.pyramid(data, "max", "auto", (1, 2, 2), chunk=16)):
        np.testing.assert_array_equal(group[str(level)][:], want)
    assert multiscale_entry(tmp_path / "o.ome.zarr")["metadata"]["kwargs"]["factor"] == [1, 2, 2]


def test_cli_reads_an_ome_zarr_volume_once(tmp_path, monkeypatch):
    data = random_volume((1, 12, 64, 60), np.uint8, 13)
    write_ome_input(tmp_path / "in.ome.zarr", data, "czyx", [1.0, 1.0, 1.0, 1.0])
    read = []
    real = zarr.Array.__getitem__

    def counted(self, key):
        part = real(self, key)
        if "in.ome.zarr" in str(self.store_path):
            read.append(np.asarray(part).size)
        return part

    monkeypatch.setattr(zarr.Array, "__getitem__", counted)
    options = ["--factor", "2x2x2", "--op", "median", "--levels", "4", "--chunk", "16"]
    result = run("pyramid", str(tmp_path / "in.ome.zarr"), "-o", str(tmp_path / "o.ome.zarr"),
                 *options)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sum(read) == data.size  # every cell read once, for all four levels


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        (["-o", "out.tif", "--factor", "2x2x2"], 2, "a pyramid of a volume is written as NAME"),
        (["-o", "out.dzi", "--factor", "1x2x2"], 2, "a pyramid of a volume is written as NAME"),
        (["-o", "out.tif", "--volume"], 2, "a pyramid of a volume is written as NAME.ome.zarr"),
        (["--factor", "2x1x2"], 2, "--factor 2x1x2: the y and x factors must be at least 2"),
        (["--factor", "0x2x2"], 2, "the factor must be at least 1"),
        (["--factor", "2x2x2x2"], 2, "--factor"),
    ],
)
def test_cli_volume_usage_errors(tmp_path, monkeypatch, arguments, status, message):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "v.npy", np.zeros((4, 8, 8), np.uint8))
    if "-o" not in arguments:
        arguments = [*arguments, "-o", "out.ome.zarr"]
    result = run("pyramid", "v.npy", *arguments)
    assert result.exit_code == status, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert listing(tmp_path) == ["v.npy"]


def test_cli_volume_factor_needs_a_volume(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (20, 20)).save(tmp_path / "p.png")
    np.save(tmp_path / "flat.npy", np.zeros((8, 8), np.uint8))
    np.save(tmp_path / "deep.npy", np.zeros((1, 1, 4, 8, 8), np.uint8))
    for name, said in (("p.png", "this is an image"), ("flat.npy", "this is 2 axes")):
        result = run("pyramid", name, "-o", "out.ome.zarr", "--factor", "2x2x2")
        assert result.exit_code == 1, result.output
        assert said in result.stderr and "--volume" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    result = run("pyramid", "deep.npy", "-o", "out.tif")  # 5 axes: a volume
    assert result.exit_code == 1
    assert result.stderr == "poolcli: out.tif: a pyramid of a volume is written as NAME.ome.zarr\n"
    assert listing(tmp_path) == ["deep.npy", "flat.npy", "p.png"]


def test_pooling_commands_read_the_z_axis_of_an_ome_zarr(tmp_path):
    """A window of three axes pools an OME-Zarr z-stack over (z, y, x), not over (c, y, x)."""
    data = random_volume((2, 9, 20, 30), np.uint16, 14)
    write_ome_input(tmp_path / "in.ome.zarr", data, "czyx", [1.0, 1.0, 1.0, 1.0])
    result = run("max", str(tmp_path / "in.ome.zarr"), "-k", "2x2x2", "-o",
                 str(tmp_path / "o.zarr"))  # fmt: skip
    assert result.exit_code == 0, result.output
    written = zarr.open_array(str(tmp_path / "o.zarr"), mode="r")
    np.testing.assert_array_equal(written[:][0], poolcli.pool(data, "max", size=(2, 2, 2)))
    assert list(written.metadata.dimension_names) == ["n", "c", "z", "y", "x"]
    result = run("max", str(tmp_path / "in.ome.zarr"), "-k", "2", "-o",
                 str(tmp_path / "p.ome.zarr"))  # fmt: skip
    assert result.exit_code == 0, result.output  # planes: each slice, z among the frames
    planes = zarr.open_group(str(tmp_path / "p.ome.zarr"), mode="r")["0"][:]
    want = poolcli.pool(data.transpose(1, 0, 2, 3), "max", size=2)
    np.testing.assert_array_equal(planes, want)
    axes = [axis["name"] for axis in multiscale_entry(tmp_path / "p.ome.zarr")["axes"]]
    assert axes == ["t", "c", "y", "x"]


@pytest.mark.parametrize("zarr_format", ["3", "2"])
def test_pooling_an_ome_zarr_z_stack_to_ome_zarr_in_chunks(tmp_path, zarr_format):
    import ome_zarr_models as models

    data = random_volume((2, 9, 20, 30), np.uint16, 15)
    write_ome_input(tmp_path / "in.ome.zarr", data, "czyx", [1.0, 3.0, 0.5, 0.5])
    target = tmp_path / "o.ome.zarr"
    result = run("avg", str(tmp_path / "in.ome.zarr"), "-k", "3x2x2", "-s", "2", "-o",
                 str(target), "--zarr-format", zarr_format)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(9x20x30 -> 4x10x15)" in result.stderr
    models.open_ome_zarr(zarr.open_group(str(target), mode="r"))
    entry = multiscale_entry(target)
    assert [axis["name"] for axis in entry["axes"]] == ["c", "z", "y", "x"]
    scale, translation = entry["datasets"][0]["coordinateTransformations"]
    assert scale["scale"] == [1.0, 6.0, 1.0, 1.0]  # the stride times the input's pixel size
    assert translation["translation"] == [0.0, 3.0, 0.25, 0.25]  # the first window's centre
    written = zarr.open_group(str(target), mode="r")["0"][:]
    want = poolcli.pool(data, "avg", size=(3, 2, 2), stride=2)
    np.testing.assert_allclose(written, want, rtol=1e-6)
    result = run("max", str(tmp_path / "in.ome.zarr"), "-k", "2x2x2", "-o",
                 str(tmp_path / "o.tif"))  # fmt: skip
    assert result.exit_code == 1 and "writes .zarr, .ome.zarr or .npy" in result.stderr


def test_cli_volume_flag_is_for_pages(tmp_path):
    write_ome_input(tmp_path / "in.ome.zarr", np.zeros((1, 4, 8, 8), np.uint8), "czyx", [1.0] * 4)
    result = run("pyramid", str(tmp_path / "in.ome.zarr"), "-o", str(tmp_path / "o.ome.zarr"),
                 "--volume")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.endswith("has a z axis: --volume is for the pages of a TIFF\n")
    assert not (tmp_path / "o.ome.zarr").exists()


def test_cli_volume_flag_on_a_one_page_tiff_is_a_volume_of_one_slice(tmp_path):
    """--volume is never streamed as a plane: one page is a volume one slice deep."""
    page = random_volume((30, 40), np.uint8, 16)
    tifffile.imwrite(tmp_path / "p.tif", page)
    result = run("pyramid", str(tmp_path / "p.tif"), "-o", str(tmp_path / "p.ome.zarr"),
                 "--volume", "--levels", "2", "--op", "max")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [a["name"] for a in multiscale_entry(tmp_path / "p.ome.zarr")["axes"]] == [
        "c", "z", "y", "x"
    ]  # fmt: skip
    level = zarr.open_group(str(tmp_path / "p.ome.zarr"), mode="r")["1"][:]
    np.testing.assert_array_equal(level[0, 0], poolcli.pyramid(page, "max", 2)[1])
