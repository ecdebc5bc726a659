"""Pooling Dask arrays lazily: one task per output chunk, the engine run on its region.

Each output chunk's task receives the input chunks its region touches (see
:mod:`poolcli.chunked.regions`: the halo is what the window's geometry needs, the padding that
of the whole array), assembles the region and pools it in the calling thread. No task holds
more than its region's chunks, so memory grows with the chunk size, never with the image.

>>> import dask.array as da
>>> import numpy as np
>>> x = da.from_array(np.arange(36.0).reshape(6, 6), chunks=4)
>>> y = pool(x, "max", size=3, stride=2, padding="same")
>>> y.chunks
((2, 1), (2, 1))
>>> y.compute()
array([[14., 16., 17.],
       [26., 28., 29.],
       [32., 34., 35.]])
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Protocol, cast

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from poolcli.chunked.regions import (
    OPS,
    AxisRegion,
    adaptive_region,
    axis_regions,
    pool_array,
    pool_region,
)
from poolcli.core import adaptive
from poolcli.core.geometry import (
    Geometry,
    PaddingLike,
    PadMode,
    PairLike,
    check_rank,
    resolve,
    window_axes,
)

#: Dask's functions, called untyped (Dask's annotations are partial): the results are typed here.
_dask: Any = da
_graphs: Any = HighLevelGraph

#: Spatial chunk of arrays that have no chunks of their own (a memory map, an array in memory).
DEFAULT_CHUNK = 512
#: The side of such a chunk by the number of spatial axes: about ``DEFAULT_CHUNK`` squared cells
#: each, whether a plane's, a volume's or a signal's.
DEFAULT_SIDES = {1: DEFAULT_CHUNK**2, 2: DEFAULT_CHUNK, 3: 64}


class Sliceable(Protocol):
    """An array that is read in parts: a zarr array, a memory map, an h5py dataset."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> Any: ...

    def __getitem__(self, key: Any, /) -> Any: ...


def as_dask(x: da.Array | Sliceable, chunks: Any = None, *, axes: int = 2) -> da.Array:
    """``x`` as a Dask array, read lazily chunk by chunk; checked as ``pool`` checks inputs of
    ``axes`` spatial axes (2: (H, W) up to (N, C, H, W); 3: volumes, 1: signals).

    ``chunks`` as :func:`dask.array.from_array` takes them; by default the array's own chunks
    (a zarr array's), else one plane of leading axes by ``DEFAULT_CHUNK`` squared (a volume's
    chunks are 64 cubed, a signal's ``DEFAULT_CHUNK**2`` long).

    >>> import numpy as np
    >>> as_dask(np.zeros((3, 1000, 600), np.uint8)).chunks
    ((1, 1, 1), (512, 488), (512, 88))
    >>> as_dask(np.zeros((2, 100, 70, 70), np.uint8), axes=3).chunks
    ((1, 1), (64, 36), (64, 6), (64, 6))
    """
    if axes not in DEFAULT_SIDES:
        raise ValueError(f"axes must be 1, 2 or 3 (the spatial axes pooled), got {axes!r}")
    if isinstance(x, da.Array):
        array = x if chunks is None else cast(Any, x).rechunk(chunks)
    else:
        for needed in ("shape", "dtype", "__getitem__"):
            if not hasattr(x, needed):
                raise TypeError(
                    f"pooling in chunks needs an array with shape, dtype and slicing, "
                    f"got {type(x).__name__}"
                )
        if chunks is None:
            chunks = _own_chunks(x, axes)
        array = _dask.from_array(x, chunks=chunks, asarray=True)
    check_rank(array.shape, axes)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"input must hold integers or floats, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"input is empty (shape {array.shape})")
    return array


def _own_chunks(x: Sliceable, axes: int) -> tuple[int, ...]:
    shape = tuple(int(n) for n in x.shape)
    own = getattr(x, "chunks", None)
    if isinstance(own, tuple) and len(own) == len(shape) and all(isinstance(n, int) for n in own):
        return own
    lead = max(0, len(shape) - axes)
    return (*(1 for _ in shape[:lead]), *(DEFAULT_SIDES[axes] for _ in shape[lead:]))


def pool(
    x: da.Array | Sliceable,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    chunks: Any = None,
    return_indices: bool = False,
) -> da.Array:
    """:func:`poolcli.pool` of a Dask array (or any sliceable array), as a lazy Dask array.

    The parameters are those of :func:`poolcli.pool`, plus ``chunks`` (see :func:`as_dask`); op
    may also be "mode" (:mod:`poolcli.core.mode`). As there, the window's values give the
    spatial axes: a pair the last two, ``(kd, kh, kw)`` a volume's three, ``(k,)`` a signal's
    one; chunks may split every axis. The computed result equals the in-memory ``pool`` of the
    whole array: bit for bit for max, min, median and mode, to the rounding of the sums for
    avg, sum and lp. Each output chunk holds the windows that start in one input chunk.
    ``return_indices`` is refused (ValueError): indices are for in-memory arrays.

    >>> import numpy as np
    >>> pool(np.arange(16).reshape(4, 4), "sum", size=2, chunks=3).compute()
    array([[10., 18.],
           [42., 50.]], dtype=float32)
    >>> pool(np.arange(27).reshape(3, 3, 3), "max", size=(2, 2, 2), chunks=2).compute()
    array([[[13]]])
    """
    if return_indices:
        raise ValueError("return_indices is for arrays in memory; chunked pooling gives values")
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    axes = window_axes(size)
    array = as_dask(x, chunks, axes=axes)
    geometry = resolve(array.shape[-axes:], size, stride, padding, dilation, ceil_mode, pad_mode)
    p = float(p) if isinstance(p, (int, float)) else p
    # Fails now, not at compute time, on a bad p or a pad value outside the dtype; gives the dtype.
    ones, twos = (1,) * axes, (2,) * axes
    sample = pool_array(
        np.zeros(twos, array.dtype), op, twos, ones, ones * 2, ones, False, pad_mode, p
    )
    spatial_chunks = array.chunks[-axes:]
    along = [
        axis_regions(axis, chunks_of, geometry.pad_mode)
        for axis, chunks_of in zip(geometry.axes, spatial_chunks, strict=True)
    ]
    edges = [_edges(chunks_of) for chunks_of in spatial_chunks]
    blocks = [
        [_blocks(axis_edges, region.span) for region in regions]
        for axis_edges, regions in zip(edges, along, strict=True)
    ]
    name = "poolcli-pool-" + tokenize(array, op, geometry, p)
    graph: dict[tuple[Any, ...], Any] = {}
    lead_blocks = [range(len(c)) for c in array.chunks[:-axes]]
    spatial_blocks = [range(len(regions)) for regions in along]
    for lead in itertools.product(*lead_blocks):
        for index in itertools.product(*spatial_blocks):
            regions = tuple(along[axis][i] for axis, i in enumerate(index))
            read = [blocks[axis][i] for axis, i in enumerate(index)]
            keys = _keys((array.name, *lead), read)
            origin = tuple(int(edges[axis][r[0]]) for axis, r in enumerate(read))
            graph[(name, *lead, *index)] = (_pool_task, keys, origin, regions, op, geometry, p)
    out_chunks = (
        *array.chunks[:-axes],
        *(tuple(region.count for region in regions) for regions in along),
    )
    layers = _graphs.from_collections(name, graph, dependencies=[array])
    meta = np.empty((0,) * array.ndim, sample.dtype)
    result: da.Array = _dask.Array(layers, name, out_chunks, meta=meta)
    return result


def _keys(prefix: tuple[Any, ...], read: list[range]) -> list[Any]:
    """The keys of the input chunks ``read[0] x read[1] x ...``, nested one list per axis as
    :func:`numpy.block` takes them."""
    if len(read) == 1:
        return [(*prefix, b) for b in read[0]]
    return [_keys((*prefix, b), read[1:]) for b in read[0]]


def _edges(chunks: tuple[int, ...]) -> np.ndarray:
    edges: np.ndarray = np.cumsum((0, *chunks))
    return edges


def _blocks(edges: np.ndarray, span: tuple[int, int]) -> range:
    """The chunks (by index) that cells ``span[0]:span[1]`` fall in."""
    first = int(np.searchsorted(edges, span[0], side="right")) - 1
    last = int(np.searchsorted(edges, span[1] - 1, side="right")) - 1
    return range(first, last + 1)


def _assemble(blocks: list[Any]) -> np.ndarray:
    """One array from chunks nested one list per axis (:func:`_keys`)."""
    single = blocks
    while isinstance(single, list) and len(single) == 1:
        single = single[0]
    if not isinstance(single, list):
        return cast(np.ndarray, single)
    assembled: np.ndarray = np.block(blocks)
    return assembled


def _pick(a: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
    """``a`` at ``indices`` along ``axis``: a view for a run of consecutive indices."""
    start = int(indices[0])
    if len(indices) == int(indices[-1]) - start + 1 and np.all(np.diff(indices) == 1):
        where: list[slice] = [slice(None)] * a.ndim
        where[axis] = slice(start, start + len(indices))
        return a[tuple(where)]
    return np.take(a, indices, axis=axis)


def _pool_task(
    blocks: list[Any],
    origin: tuple[int, ...],
    regions: tuple[AxisRegion, ...],
    op: str,
    geometry: Geometry,
    p: float,
) -> np.ndarray:
    region = _assemble(blocks)
    for axis, (along, start) in enumerate(zip(regions, origin, strict=True)):
        region = _pick(region, along.sources - start, axis - len(regions))
    return pool_region(region, op, regions, geometry, p)


def global_pool(
    x: da.Array | Sliceable, op: str = "avg", axes: int = 2, *, chunks: Any = None
) -> da.Array:
    """:func:`poolcli.global_pool` of a Dask (or sliceable) array, lazily: over its last two
    axes, or ``axes`` of them (3 for volumes, 1 for signals).

    max is exact; avg sums each chunk as the in-memory path sums the whole plane (integers
    exactly in float64, floats in their own type), then adds the chunks' sums and divides once.

    >>> import numpy as np
    >>> global_pool(np.arange(16, dtype=np.uint8).reshape(4, 4), chunks=3).compute()
    array([[7.5]], dtype=float32)
    >>> global_pool(np.arange(8.0).reshape(2, 4), "max", axes=1, chunks=3).compute()
    array([[3.],
           [7.]])
    """
    array = as_dask(x, chunks, axes=axes)
    sample = adaptive.global_pool(np.zeros((1,) * axes, array.dtype), op, axes)  # checks op
    spatial = tuple(range(-axes, 0))
    if op == "max":
        largest: da.Array = cast(Any, array).max(axis=spatial, keepdims=True)
        return largest
    accumulator = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    total = cast(Any, array).sum(axis=spatial, keepdims=True, dtype=accumulator)
    cells = math.prod(array.shape[-axes:])
    mean: da.Array = (total / cells).astype(sample.dtype)
    return mean


def adaptive_pool(
    x: da.Array | Sliceable,
    output_size: adaptive.OutputSize,
    op: str = "avg",
    *,
    chunks: Any = None,
) -> da.Array:
    """:func:`poolcli.adaptive_pool` of a Dask (or sliceable) array, lazily.

    As there, an int or a pair pools the last two axes, three values a volume's, one value a
    signal's. Each output chunk holds the windows that start in one input chunk and reads their
    cells. max is exact; avg to the rounding of float sums (integer sums are exact).

    >>> import numpy as np
    >>> adaptive_pool(np.arange(25.0).reshape(5, 5), (2, 3), chunks=2).compute()
    array([[ 5.5,  7. ,  8.5],
           [15.5, 17. , 18.5]])
    >>> adaptive_pool(np.arange(6.0), (2,), "max", chunks=4).compute()
    array([2., 5.])
    """
    axes = _output_axes(output_size)
    array = as_dask(x, chunks, axes=axes)
    sample = adaptive.adaptive_pool(np.zeros((1,) * axes, array.dtype), (1,) * axes, op)
    out = adaptive.adaptive_output_size(output_size, array.shape[-axes:])
    spatial_chunks = array.chunks[-axes:]
    along = [
        _adaptive_chunks(length, count, chunks_of)
        for length, count, chunks_of in zip(array.shape[-axes:], out, spatial_chunks, strict=True)
    ]
    edges = [_edges(chunks_of) for chunks_of in spatial_chunks]
    name = "poolcli-adaptive-" + tokenize(array, op, out)
    graph: dict[tuple[Any, ...], Any] = {}
    lead_blocks = [range(len(c)) for c in array.chunks[:-axes]]
    spatial_blocks = [range(len(windows)) for windows in along]
    for lead in itertools.product(*lead_blocks):
        for index in itertools.product(*spatial_blocks):
            chosen = [along[axis][i] for axis, i in enumerate(index)]
            read = [
                _blocks(edges[axis], (int(starts[0]), int(stops[-1])))
                for axis, (starts, stops) in enumerate(chosen)
            ]
            keys = _keys((array.name, *lead), read)
            windows = []
            for axis, (starts, stops) in enumerate(chosen):
                origin = edges[axis][read[axis][0]]
                windows.append((starts - origin, stops - origin))
            graph[(name, *lead, *index)] = (_adaptive_task, keys, tuple(windows), op)
    out_chunks = (
        *array.chunks[:-axes],
        *(tuple(len(starts) for starts, _ in windows) for windows in along),
    )
    layers = _graphs.from_collections(name, graph, dependencies=[array])
    meta = np.empty((0,) * array.ndim, sample.dtype)
    result: da.Array = _dask.Array(layers, name, out_chunks, meta=meta)
    return result


def _output_axes(output_size: object) -> int:
    """How many trailing axes an adaptive ``output_size`` pools: two for an int, else its
    length (1, 2 or 3)."""
    if not isinstance(output_size, (tuple, list)):
        return 2
    if len(output_size) not in DEFAULT_SIDES:
        raise ValueError(
            f"output_size takes one int or a pair (height, width), or 1 or 3 values (length,) or "
            f"(depth, height, width) for signals or volumes; got {output_size!r}"
        )
    return len(output_size)


def _adaptive_chunks(
    length: int, out: int, input_chunks: tuple[int, ...]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Starts and stops of the adaptive windows of each output chunk: those starting in one
    input chunk (empty chunks left out)."""
    starts, stops = adaptive.adaptive_windows(length, out)
    bounds = [0, *np.searchsorted(starts, _edges(input_chunks)[1:-1], side="left").tolist(), out]
    return [(starts[lo:hi], stops[lo:hi]) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def _adaptive_task(
    blocks: list[Any],
    windows: tuple[tuple[np.ndarray, np.ndarray], ...],
    op: str,
) -> np.ndarray:
    local = _assemble(blocks)
    cut: tuple[Any, ...] = (
        Ellipsis,
        *(slice(int(starts[0]), int(stops[-1])) for starts, stops in windows),
    )
    region = local[cut]
    shifted = tuple((starts - starts[0], stops - starts[0]) for starts, stops in windows)
    return adaptive_region(region, shifted, op)
