"""Chunked pooling (poolcli.chunked) against the in-memory path, for every op and geometry."""

import dask
import dask.array as da
import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli import chunked
from poolcli.chunked import regions

EXACT_OPS = ("max", "min", "median", "mode")
OPS = (*EXACT_OPS, "avg", "sum", "lp")


def in_memory(x, op, **kwargs):
    """The whole array pooled in memory."""
    return poolcli.pool(x, op, **kwargs)


def assert_same(got, expected, op):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if op in EXACT_OPS or got.dtype.kind in "iu":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6)


@st.composite
def chunking(draw, length):
    """A random split of ``length`` cells into chunks."""
    cuts = draw(st.sets(st.integers(1, length - 1), max_size=4)) if length > 1 else set()
    edges = [0, *sorted(cuts), length]
    return tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))


def sample(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.integers(0, 5, shape) + rng.random(shape).round(2)).astype(dtype)
    return rng.integers(0, 6, shape).astype(dtype)


@settings(max_examples=120, deadline=None)
@given(
    data=st.data(),
    op=st.sampled_from(OPS),
    lead=st.sampled_from([(), (2,), (2, 3)]),
    height=st.integers(1, 11),
    width=st.integers(1, 11),
    size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.one_of(st.tuples(*[st.integers(0, 4)] * 4), st.sampled_from(["same", "valid"])),
    ceil_mode=st.booleans(),
    pad_mode=st.sampled_from(["ignore", "zero", "edge", "reflect", 3, -1.5]),
    dtype=st.sampled_from(["uint8", "int16", "float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_dask_equals_the_whole_array_in_memory(
    data,
    op,
    lead,
    height,
    width,
    size,
    stride,
    dilation,
    padding,
    ceil_mode,
    pad_mode,
    dtype,
    seed,
):
    x = sample((*lead, height, width), dtype, seed)
    kwargs = dict(
        size=size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        pad_mode=pad_mode,
    )
    try:
        expected = in_memory(x, op, **kwargs)
    except ValueError:
        with pytest.raises(ValueError):
            chunked.pool(da.from_array(x), op, **kwargs)
        return
    chunks = tuple(data.draw(chunking(n)) for n in x.shape)
    lazy = chunked.pool(da.from_array(x, chunks=chunks), op, **kwargs)
    assert isinstance(lazy, da.Array)
    with dask.config.set(scheduler="synchronous"):
        assert_same(lazy.compute(), expected, op)


def test_poolcli_pool_gives_a_lazy_dask_array_for_a_dask_array():
    x = sample((3, 20, 17), "uint8", 1)
    lazy = poolcli.pool(da.from_array(x, chunks=(2, 7, 5)), "avg", size=3, stride=2, padding=1)
    assert isinstance(lazy, da.Array)
    assert_same(lazy.compute(), poolcli.pool(x, "avg", size=3, stride=2, padding=1), "avg")


def test_poolcli_pool_refuses_indices_and_out_for_dask_arrays():
    x = da.zeros((4, 4), chunks=2)
    with pytest.raises(ValueError, match="return_indices is for arrays in memory"):
        poolcli.pool(x, "max", return_indices=True)
    with pytest.raises(ValueError, match="out is for arrays in memory"):
        poolcli.pool(x, "max", out=np.empty((2, 2)))


def test_a_bad_argument_fails_at_once_not_at_compute_time():
    x = da.zeros((4, 4), dtype=np.uint8, chunks=2)
    with pytest.raises(ValueError, match="does not fit the input dtype uint8"):
        chunked.pool(x, "max", padding=1, pad_mode=-1)
    with pytest.raises(ValueError, match="p must be a number above 0"):
        chunked.pool(x, "lp", p=0)
    with pytest.raises(ValueError, match="op must be one of .*mode"):
        chunked.pool(x, "mean")


class Recorded:
    """A sliceable array that records the largest part read."""

    def __init__(self, array, chunks=None):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        if chunks is not None:
            self.chunks = chunks
        self.largest = 0

    def __getitem__(self, key):
        part = self.array[key]
        self.largest = max(self.largest, part.size)
        return part


def test_no_task_reads_or_pools_more_than_a_chunk_and_its_halo(monkeypatch):
    x = sample((2, 90, 70), "float32", 2)
    source = Recorded(x, chunks=(1, 20, 16))
    pooled = []
    real_pool_region = regions.pool_region

    def recording(region, *args):
        pooled.append(region.shape)
        return real_pool_region(region, *args)

    monkeypatch.setattr(regions, "pool_region", recording)
    monkeypatch.setattr("poolcli.chunked.arrays.pool_region", recording)
    lazy = chunked.pool(source, "median", size=5, stride=3, padding=2, pad_mode="reflect")
    assert source.largest == 0  # nothing is read before compute (Dask may read an empty part)
    with dask.config.set(scheduler="synchronous"):
        got = lazy.compute()
    assert_same(got, in_memory(x, "median", size=5, stride=3, padding=2, pad_mode="reflect"), "")
    assert source.largest <= 20 * 16
    # A region: the windows starting in one chunk (about 20 / 3 of them), a window's halo, and
    # for the first chunk the leading padding (2).
    assert max(shape[-2] for shape in pooled) <= 20 + 5 + 2
    assert max(shape[-1] for shape in pooled) <= 16 + 5 + 2
    assert len(pooled) == 2 * 5 * 5
    assert all(shape[0] == 1 for shape in pooled)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_arrays_pool_in_their_own_chunks(tmp_path, zarr_format):
    x = sample((3, 40, 33), "uint16", 4)
    z = zarr.create_array(
        store=tmp_path / "a.zarr",
        shape=x.shape,
        chunks=(1, 16, 10),
        dtype=x.dtype,
        zarr_format=zarr_format,
    )
    z[...] = x
    lazy = chunked.pool(z, "mode", size=3, stride=2, padding="same")
    assert lazy.chunks[0] == (1, 1, 1) and len(lazy.chunks[1]) == 3
    assert_same(lazy.compute(), in_memory(x, "mode", size=3, stride=2, padding="same"), "mode")
    with pytest.raises(TypeError, match=r"poolcli\.chunked\.pool"):
        poolcli.pool(z, "max")


def test_memory_maps_pool_in_default_chunks(tmp_path):
    x = sample((600, 530), "float32", 5)
    mapped = np.lib.format.open_memmap(tmp_path / "a.npy", "w+", x.dtype, x.shape)
    mapped[...] = x
    mapped.flush()
    lazy = chunked.pool(np.load(tmp_path / "a.npy", mmap_mode="r"), "avg", size=4, ceil_mode=True)
    assert lazy.numblocks == (2, 2)
    assert_same(lazy.compute(), poolcli.pool(x, "avg", size=4, ceil_mode=True), "avg")


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32", "float64"])
@pytest.mark.parametrize("op", ["avg", "max"])
def test_global_pool_of_dask_arrays(op, dtype):
    x = sample((2, 3, 25, 19), dtype, 6)
    lazy = poolcli.global_pool(da.from_array(x, chunks=(1, 2, 7, 8)), op)
    assert isinstance(lazy, da.Array)
    assert_same(lazy.compute(), poolcli.global_pool(x, op), op if op == "max" else "avg")


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    op=st.sampled_from(["avg", "max"]),
    height=st.integers(1, 14),
    width=st.integers(1, 14),
    dtype=st.sampled_from(["uint8", "int16", "float32"]),
    seed=st.integers(0, 2**16),
)
def test_adaptive_pool_of_dask_arrays(data, op, height, width, dtype, seed):
    x = sample((2, height, width), dtype, seed)
    size = (data.draw(st.integers(1, height)), data.draw(st.integers(1, width)))
    chunks = tuple(data.draw(chunking(n)) for n in x.shape)
    lazy = poolcli.adaptive_pool(da.from_array(x, chunks=chunks), size, op)
    expected = poolcli.adaptive_pool(x, size, op)
    with dask.config.set(scheduler="synchronous"):
        assert_same(lazy.compute(), expected, "max" if op == "max" else "avg")


def test_sliceable_inputs_are_checked():
    with pytest.raises(TypeError, match="shape, dtype and slicing"):
        chunked.pool([[1, 2], [3, 4]], "max")
    with pytest.raises(ValueError, match="2, 3 or 4 dimensions"):
        chunked.pool(da.zeros(5, chunks=2), "max")
