"""Pyramids: every level equals direct pooling of the base, for numpy and Dask, and the writers."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli import chunked
from poolcli.io.images import to_dtype

OPS = ("avg", "max", "min", "mode", "median", "nearest")
DTYPES = (np.uint8, np.uint16, np.int8, np.int32, np.float32, np.float64)


def direct(base: np.ndarray, op: str, level: int, factor: tuple[int, int]) -> np.ndarray:
    """Level ``level`` by definition: the base pooled with windows of factor**level (ceil, the
    padded cells ignored), written in the base's dtype as poolcli writes any result."""
    if level == 0:
        return base
    window = (factor[0] ** level, factor[1] ** level)
    if op == "nearest":
        return base[..., :: window[0], :: window[1]]
    pooled = poolcli.pool(base, op, size=window, ceil_mode=True)
    return to_dtype(pooled, base.dtype)


def check_levels(
    levels: list[np.ndarray], base: np.ndarray, op: str, factor: tuple[int, int]
) -> None:
    for level, got in enumerate(levels):
        want = direct(base, op, level, factor)
        assert got.dtype == base.dtype, (level, got.dtype)
        assert got.shape == want.shape, (level, got.shape, want.shape)
        if op == "avg" and base.dtype.kind == "f":
            # float sums are carried in float32 (float64 for float64): equal to float rounding
            rtol = 1e-5 if base.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(base).max())
        else:
            np.testing.assert_array_equal(got, want)


def random_base(draw: st.DrawFn, dtype: type) -> np.ndarray:
    height = draw(st.integers(1, 40))
    width = draw(st.integers(1, 40))
    lead = draw(st.sampled_from([(), (2,), (1, 3), (2, 1)]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if draw(st.booleans()):  # few distinct values: labels, ties, plateaus
        values = rng.integers(0, 4, (*lead, height, width))
    elif info is not None:
        high = min(int(info.max), 2**31 - 1)
        values = rng.integers(int(info.min), high, (*lead, height, width), endpoint=True)
    else:
        values = rng.normal(0, 1000, (*lead, height, width))
    return values.astype(dtype)


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, str, tuple[int, int], int]:
    dtype = draw(st.sampled_from(DTYPES))
    base = random_base(draw, dtype)
    op = draw(st.sampled_from(OPS))
    factor = draw(st.sampled_from([(2, 2), (3, 3), (2, 3), (4, 2)]))
    levels = draw(st.integers(1, 5))
    return base, op, factor, levels


@settings(max_examples=150, deadline=None)
@given(cases())
def test_numpy_levels_equal_direct_pooling(case: tuple[np.ndarray, str, tuple[int, int], int]):
    base, op, factor, levels = case
    got = poolcli.pyramid(base, op, levels=levels, factor=factor)
    assert len(got) == levels
    assert all(isinstance(level, np.ndarray) for level in got)
    check_levels(got, base, op, factor)


@st.composite
def chunkings(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int | tuple[int, ...], ...]:
    """Random chunks along every axis, sizes that need not divide anything."""
    chunks = []
    for length in shape:
        sizes = []
        left = length
        while left:
            size = draw(st.integers(1, max(1, min(left, 13))))
            sizes.append(size)
            left -= size
        chunks.append(tuple(sizes))
    return tuple(chunks)


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
def test_odd_sizes_every_op(op: str, shape: tuple[int, ...]):
    rng = np.random.default_rng(sum(shape))
    base = rng.integers(0, 256, shape).astype(np.uint8)
    check_levels(poolcli.pyramid(base, op, levels=7), base, op, (2, 2))
    lazy = chunked.pyramid(base, op, levels=7, chunks=(*shape[:-2], 5, 7))
    check_levels(list(dask.compute(*lazy)), base, op, (2, 2))


@pytest.mark.parametrize("op", ["mode", "max", "min", "nearest"])
def test_labels_stay_labels(op: str):
    rng = np.random.default_rng(5)
    labels = rng.choice(np.array([0, 3, 17, 200, 60000], np.uint16), size=(45, 51))
    for level in poolcli.pyramid(labels, op, levels=6):
        assert set(np.unique(level)) <= {0, 3, 17, 200, 60000}
    for level in dask.compute(*chunked.pyramid(labels, op, levels=6, chunks=8)):
        assert set(np.unique(level)) <= {0, 3, 17, 200, 60000}


def test_avg_does_not_drift_on_uint8():
    """Rounding each level from the rounded one above drifts; rounding once from sums does not."""
    # 2x2 blocks of mean 0.5 in the left half of every 4x4 block: a recursive pyramid rounds
    # them to 1, then averages 1, 0, 1, 0 to 0.5 and rounds to 1 again; the true mean is 0.25.
    block = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]], np.uint8)
    base = np.tile(block, (16, 16))
    recursive = to_dtype(poolcli.pool(base, "avg", size=2), base.dtype)
    recursive = to_dtype(poolcli.pool(recursive, "avg", size=2), base.dtype)
    assert recursive.mean() == 1  # the drift this test guards against
    lazy = chunked.pyramid(base, levels=7, chunks=16)
    for op_levels in (poolcli.pyramid(base, "avg", levels=7), dask.compute(*lazy)):
        assert op_levels[2].mean() == 0 and op_levels[-1].shape == (1, 1)
        check_levels(list(op_levels), base, "avg", (2, 2))
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (256, 256)).astype(np.uint8)
    last = poolcli.pyramid(noise, "avg", levels=9)[-1]
    assert last.shape == (1, 1)
    assert int(last[0, 0]) == int(np.floor(noise.mean(dtype=np.float64) + 0.5))


def test_auto_levels_stop_at_one_chunk():
    base = np.zeros((1000, 300), np.uint8)
    shapes = [level.shape for level in poolcli.pyramid(base, "max", chunk=256)]
    assert shapes == [(1000, 300), (500, 150), (250, 75)]
    assert [lv.shape for lv in poolcli.pyramid(base, "max", "auto", chunk=1000)] == [(1000, 300)]
    assert len(poolcli.pyramid(base, "max", chunk=1)) == 11  # 1000 -> 1 in ten halvings


def test_factor_pair_and_dtype_kept():
    base = np.arange(6 * 12, dtype=np.int16).reshape(6, 12) - 30
    levels = poolcli.pyramid(base, "avg", levels=3, factor=(2, 3))
    assert [level.shape for level in levels] == [(6, 12), (3, 4), (2, 2)]
    check_levels(levels, base, "avg", (2, 3))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"op": "lp"}, "op must be one of"),
        ({"levels": 0}, "levels must be"),
        ({"levels": "many"}, "levels must be"),
        ({"factor": 1}, "factor must be"),
        ({"factor": (2, 2, 2)}, "factor must be"),
        ({"factor": 2.5}, "factor must be"),
        ({"chunk": 0}, "chunk must be"),
    ],
)
def test_bad_arguments(arguments: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        poolcli.pyramid(np.zeros((4, 4)), **arguments)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        chunked.pyramid(np.zeros((4, 4)), **arguments)  # type: ignore[arg-type]


def test_zarr_array_goes_through_chunked():
    import zarr

    array = zarr.create_array({}, shape=(9, 10), chunks=(4, 4), dtype="uint8")
    array[:] = np.arange(90, dtype=np.uint8).reshape(9, 10)
    with pytest.raises(TypeError, match="poolcli.chunked.pyramid"):
        poolcli.pyramid(array)
    levels = chunked.pyramid(array, "avg", levels=3)
    check_levels(list(dask.compute(*levels)), array[:], "avg", (2, 2))


class CountingArray:
    """A sliceable array that counts how often its cells are read."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.shape = values.shape
        self.dtype = values.dtype
        self.ndim = values.ndim
        self.cells_read = 0

    def __getitem__(self, key: object) -> np.ndarray:
        part = self.values[key]  # type: ignore[index]
        self.cells_read += part.size
        return part


@pytest.mark.parametrize("op", OPS)
def test_all_levels_in_one_pass_over_the_base(op: str):
    base = CountingArray(np.random.default_rng(2).integers(0, 9, (2, 70, 90)).astype(np.uint8))
    levels = chunked.pyramid(base, op, levels=5, chunks=(1, 16, 16))
    assert base.cells_read == 0  # lazy
    computed = dask.compute(*levels)
    assert base.cells_read == base.values.size
    check_levels(list(computed), base.values, op, (2, 2))
