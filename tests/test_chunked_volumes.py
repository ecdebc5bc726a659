"""Chunked pooling of volumes (3 spatial axes) and signals (1 axis) against the in-memory path.

Chunks split every axis, the depth and a signal's one included; the result of the whole graph
must equal ``poolcli.pool`` of the whole array: bit for bit for max, min, median and mode, to
the rounding of the sums for avg, sum and lp.
"""

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli import chunked
from poolcli.chunked import regions

EXACT_OPS = ("max", "min", "median", "mode")
OPS = (*EXACT_OPS, "avg", "sum", "lp")
PAD_MODES = ["ignore", "zero", "edge", "reflect", 3, -1.5]


def assert_same(got, expected, op):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if op in EXACT_OPS or got.dtype.kind in "iu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6)


def sample(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.integers(0, 5, shape) + rng.random(shape).round(2)).astype(dtype)
    return rng.integers(0, 6, shape).astype(dtype)


@st.composite
def chunking(draw, length, split=False):
    """A random split of ``length`` cells into chunks; ``split``: at least two where possible."""
    cuts = set()
    if length > 1:
        cuts = draw(st.sets(st.integers(1, length - 1), min_size=int(split), max_size=3))
    edges = [0, *sorted(cuts), length]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))


@st.composite
def paddings(draw, axes):
    """Every form padding takes: one int, one per axis, a (before, after) pair per axis, words."""
    side = st.integers(0, 3)
    return draw(
        st.one_of(
            side,
            st.tuples(*[side] * axes),
            st.tuples(*[side] * (2 * axes)),
            st.sampled_from(["same", "valid"]),
        )
    )


@st.composite
def geometries(draw, axes, longest):
    """Spatial lengths and pool's keyword arguments for a window of ``axes`` axes."""
    lengths = tuple(draw(st.integers(1, longest)) for _ in range(axes))
    per_axis = st.tuples

    def values(low, high):
        return st.one_of(st.integers(low, high), per_axis(*[st.integers(low, high)] * axes))

    size = draw(per_axis(*[st.integers(1, 3 if axes == 3 else 5)] * axes))
    kwargs = dict(
        size=size,
        stride=draw(st.one_of(st.none(), values(1, 4))),
        padding=draw(paddings(axes)),
        dilation=draw(values(1, 2)),
        ceil_mode=draw(st.booleans()),
        pad_mode=draw(st.sampled_from(PAD_MODES)),
    )
    return lengths, kwargs


def check_against_memory(data, x, op, kwargs, p=2.0):
    try:
        expected = poolcli.pool(x, op, p=p, **kwargs)
    except ValueError:
        with pytest.raises(ValueError):
            chunked.pool(da.from_array(x), op, p=p, **kwargs)
        return
    axes = len(kwargs["size"])
    lead = x.ndim - axes
    chunks = tuple(
        data.draw(chunking(n, split=axis >= lead), label=f"chunks of axis {axis}")
        for axis, n in enumerate(x.shape)
    )
    lazy = chunked.pool(da.from_array(x, chunks=chunks), op, p=p, **kwargs)
    assert isinstance(lazy, da.Array)
    assert lazy.shape == expected.shape
    with dask.config.set(scheduler="synchronous"):
        assert_same(lazy.compute(), expected, op)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    op=st.sampled_from(OPS),
    lead=st.sampled_from([(), (2,), (2, 2)]),
    geometry=geometries(axes=3, longest=7),
    dtype=st.sampled_from(["uint8", "int16", "float32", "float64"]),
    p=st.sampled_from([1.0, 2.0, 3.5]),
    seed=st.integers(0, 2**16),
)
def test_dask_volumes_equal_the_whole_volume_in_memory(data, op, lead, geometry, dtype, p, seed):
    lengths, kwargs = geometry
    check_against_memory(data, sample((*lead, *lengths), dtype, seed), op, kwargs, p)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    op=st.sampled_from(OPS),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    geometry=geometries(axes=1, longest=40),
    dtype=st.sampled_from(["uint8", "int16", "float32", "float64"]),
    p=st.sampled_from([1.0, 2.0, 3.5]),
    seed=st.integers(0, 2**16),
)
def test_dask_signals_equal_the_whole_signal_in_memory(data, op, lead, geometry, dtype, p, seed):
    lengths, kwargs = geometry
    check_against_memory(data, sample((*lead, *lengths), dtype, seed), op, kwargs, p)


def test_poolcli_pool_gives_lazy_dask_arrays_for_volumes_and_signals():
    batch = sample((2, 3, 9, 10, 11), "float32", 1)
    kwargs = dict(size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), ceil_mode=True)
    lazy = poolcli.pool(da.from_array(batch, chunks=(1, 2, 4, 3, 5)), "avg", **kwargs)
    assert isinstance(lazy, da.Array)
    assert_same(lazy.compute(), poolcli.pool(batch, "avg", **kwargs), "avg")
    signal = sample((1000,), "int16", 2)
    lazy = poolcli.pool(da.from_array(signal, chunks=97), "max", size=(5,), stride=(3,))
    assert isinstance(lazy, da.Array)
    assert_same(lazy.compute(), poolcli.pool(signal, "max", size=(5,), stride=(3,)), "max")


def test_chunks_along_depth_hold_the_windows_that_start_in_them():
    x = sample((10, 4, 4), "uint8", 3)
    lazy = chunked.pool(x, "max", size=(3, 2, 2), stride=(2, 2, 2), chunks=(4, 4, 4))
    # Windows start at depths 0, 2, 4, 6: two in each of the first two chunks, none in the last.
    assert lazy.chunks == ((2, 2), (2,), (2,))
    assert_same(lazy.compute(), poolcli.pool(x, "max", size=(3, 2, 2), stride=2), "max")


class Recorded:
    """A sliceable array that records the largest part read."""

    def __init__(self, array, chunks):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.chunks = chunks
        self.largest = 0

    def __getitem__(self, key):
        part = self.array[key]
        self.largest = max(self.largest, part.size)
        return part


def test_no_volume_task_reads_or_pools_more_than_its_chunks_and_halo(monkeypatch):
    x = sample((1, 30, 40, 36), "float32", 4)
    source = Recorded(x, chunks=(1, 8, 16, 12))
    pooled = []
    real_pool_region = regions.pool_region

    def recording(region, *args):
        pooled.append(region.shape)
        return real_pool_region(region, *args)

    monkeypatch.setattr("poolcli.chunked.arrays.pool_region", recording)
    kwargs = dict(size=(3, 5, 3), stride=(2, 3, 3), padding=(1, 2, 1), pad_mode="reflect")
    lazy = chunked.pool(source, "median", **kwargs)
    assert source.largest == 0  # nothing is read before compute (Dask may read an empty part)
    with dask.config.set(scheduler="synchronous"):
        got = lazy.compute()
    assert_same(got, poolcli.pool(x, "median", **kwargs), "median")
    assert source.largest <= 8 * 16 * 12
    # A region: the windows starting in one chunk, a window's halo, the leading padding.
    assert max(shape[-3] for shape in pooled) <= 8 + 3 + 1
    assert max(shape[-2] for shape in pooled) <= 16 + 5 + 2
    assert max(shape[-1] for shape in pooled) <= 12 + 3 + 1
    assert len(pooled) == 4 * 3 * 3
    assert all(shape[0] == 1 for shape in pooled)


def test_signals_and_volumes_from_sliceables_get_chunks_of_their_own():
    signal = chunked.as_dask(np.zeros((2, 600_000), np.float32), axes=1)
    assert signal.chunks == ((1, 1), (262_144, 262_144, 75_712))
    volume = chunked.as_dask(np.zeros((130, 64, 10), np.uint8), axes=3)
    assert volume.chunks == ((64, 64, 2), (64,), (10,))
    lazy = chunked.pool(np.arange(600.0), "sum", size=(4,))
    assert lazy.numblocks == (1,)
    assert_same(lazy.compute(), poolcli.pool(np.arange(600.0), "sum", size=(4,)), "sum")


def test_a_window_of_more_axes_than_the_input_is_refused_at_once():
    with pytest.raises(ValueError, match=r"3, 4 or 5 dimensions \(D, H, W / C, D, H, W"):
        chunked.pool(da.zeros((4, 4), chunks=2), "max", size=(2, 2, 2))
    with pytest.raises(ValueError, match=r"1, 2 or 3 dimensions \(L / C, L / N, C, L\)"):
        poolcli.pool(da.zeros((2, 2, 2, 8), chunks=2), "max", size=(2,))
    with pytest.raises(ValueError, match="does not fit the input dtype uint8"):
        volume = da.zeros((4, 4, 4), dtype=np.uint8, chunks=2)
        chunked.pool(volume, "max", (2, 2, 2), 1, 1, 1, False, -1)


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32", "float64"])
@pytest.mark.parametrize("op", ["avg", "max"])
@pytest.mark.parametrize(
    ("shape", "axes", "chunks"),
    [
        ((2, 3, 7, 9, 8), 3, (1, 2, 3, 4, 5)),
        ((5, 9, 6, 7), 3, (2, 4, 3, 3)),
        ((3, 101), 1, (2, 17)),
    ],
)
def test_global_pool_of_dask_volumes_and_signals(op, dtype, shape, axes, chunks):
    x = sample(shape, dtype, 6)
    lazy = poolcli.global_pool(da.from_array(x, chunks=chunks), op, axes=axes)
    assert isinstance(lazy, da.Array)
    assert_same(lazy.compute(), poolcli.global_pool(x, op, axes=axes), op if op == "max" else "avg")


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    op=st.sampled_from(["avg", "max"]),
    axes=st.sampled_from([1, 3]),
    dtype=st.sampled_from(["uint8", "int16", "float32"]),
    seed=st.integers(0, 2**16),
)
def test_adaptive_pool_of_dask_volumes_and_signals(data, op, axes, dtype, seed):
    longest = 9 if axes == 3 else 40
    lengths = tuple(data.draw(st.integers(1, longest)) for _ in range(axes))
    x = sample((2, *lengths), dtype, seed)
    size = tuple(data.draw(st.one_of(st.none(), st.integers(1, n))) for n in lengths)
    chunks = tuple(data.draw(chunking(n, split=axis > 0)) for axis, n in enumerate(x.shape))
    lazy = poolcli.adaptive_pool(da.from_array(x, chunks=chunks), size, op)
    expected = poolcli.adaptive_pool(x, size, op)
    with dask.config.set(scheduler="synchronous"):
        assert_same(lazy.compute(), expected, "max" if op == "max" else "avg")


def test_global_and_adaptive_pool_check_their_axes():
    volume = da.zeros((4, 4, 4), chunks=2)
    with pytest.raises(ValueError, match="axes must be 1, 2 or 3"):
        chunked.global_pool(volume, axes=4)
    with pytest.raises(ValueError, match="output_size takes one int or a pair"):
        chunked.adaptive_pool(volume, (1, 1, 1, 1))
    with pytest.raises(ValueError, match="adaptive pooling only shrinks"):
        chunked.adaptive_pool(volume, (5, 1, 1))
