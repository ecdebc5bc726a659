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
from poolcli.core.geometry import Geometry, PaddingLike, PadMode, PairLike, resolve

#: Dask's functions, called untyped (Dask's annotations are partial): the results are typed here.
_dask: Any = da
_graphs: Any = HighLevelGraph

#: Spatial chunk of arrays that have no chunks of their own (a memory map, an array in memory).
DEFAULT_CHUNK = 512


class Sliceable(Protocol):
    """An array that is read in parts: a zarr array, a memory map, an h5py dataset."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> Any: ...

    def __getitem__(self, key: Any, /) -> Any: ...


def as_dask(x: da.Array | Sliceable, chunks: Any = None) -> da.Array:
    """``x`` as a Dask array, read lazily chunk by chunk; checked as ``pool`` checks inputs.

    ``chunks`` as :func:`dask.array.from_array` takes them; by default the array's own chunks
    (a zarr array's), else one plane of leading axes by ``DEFAULT_CHUNK`` squared.

    >>> import numpy as np
    >>> as_dask(np.zeros((3, 1000, 600), np.uint8)).chunks
    ((1, 1, 1), (512, 488), (512, 88))
    """
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
            chunks = _own_chunks(x)
        array = _dask.from_array(x, chunks=chunks, asarray=True)
    if array.ndim not in (2, 3, 4):
        raise ValueError(
            f"input must have 2, 3 or 4 dimensions (H, W / C, H, W / N, C, H, W), "
            f"got shape {array.shape}"
        )
    if array.dtype.kind not in "iuf":
        raise ValueError(f"input must hold integers or floats, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"input is empty (shape {array.shape})")
    return array


def _own_chunks(x: Sliceable) -> tuple[int, ...]:
    shape = tuple(int(n) for n in x.shape)
    own = getattr(x, "chunks", None)
    if isinstance(own, tuple) and len(own) == len(shape) and all(isinstance(n, int) for n in own):
        return own
    return (*(1 for _ in shape[:-2]), *(DEFAULT_CHUNK for _ in shape[-2:]))


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
    may also be "mode" (:mod:`poolcli.core.mode`). The computed result equals the in-memory
    ``pool`` of the whole array: bit for bit for max, min, median and mode, to the rounding of
    the sums for avg, sum and lp. Each output chunk holds the windows that start in one input
    chunk. ``return_indices`` is refused (ValueError): indices are for in-memory arrays.

    >>> import numpy as np
    >>> pool(np.arange(16).reshape(4, 4), "sum", size=2, chunks=3).compute()
    array([[10., 18.],
           [42., 50.]], dtype=float32)
    """
    if return_indices:
        raise ValueError("return_indices is for arrays in memory; chunked pooling gives values")
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    array = as_dask(x, chunks)
    geometry = resolve(array.shape[-2:], size, stride, padding, dilation, ceil_mode, pad_mode)
    p = float(p) if isinstance(p, (int, float)) else p
    # Fails now, not at compute time, on a bad p or a pad value outside the dtype; gives the dtype.
    sample = pool_array(
        np.zeros((2, 2), array.dtype), op, (2, 2), (1, 1), (1, 1, 1, 1), (1, 1), False, pad_mode, p
    )
    rows = axis_regions(geometry.height, array.chunks[-2], geometry.pad_mode)
    cols = axis_regions(geometry.width, array.chunks[-1], geometry.pad_mode)
    name = "poolcli-pool-" + tokenize(array, op, geometry, p)
    row_edges, col_edges = _edges(array.chunks[-2]), _edges(array.chunks[-1])
    graph: dict[tuple[Any, ...], Any] = {}
    for lead in itertools.product(*(range(len(c)) for c in array.chunks[:-2])):
        for i, row in enumerate(rows):
            row_blocks = _blocks(row_edges, row.span)
            for j, col in enumerate(cols):
                col_blocks = _blocks(col_edges, col.span)
                keys = [[(array.name, *lead, a, b) for b in col_blocks] for a in row_blocks]
                origin = (int(row_edges[row_blocks[0]]), int(col_edges[col_blocks[0]]))
                graph[(name, *lead, i, j)] = (_pool_task, keys, origin, row, col, op, geometry, p)
    out_chunks = (
        *array.chunks[:-2],
        tuple(row.count for row in rows),
        tuple(col.count for col in cols),
    )
    layers = _graphs.from_collections(name, graph, dependencies=[array])
    meta = np.empty((0,) * array.ndim, sample.dtype)
    result: da.Array = _dask.Array(layers, name, out_chunks, meta=meta)
    return result


def _edges(chunks: tuple[int, ...]) -> np.ndarray:
    edges: np.ndarray = np.cumsum((0, *chunks))
    return edges


def _blocks(edges: np.ndarray, span: tuple[int, int]) -> range:
    """The chunks (by index) that cells ``span[0]:span[1]`` fall in."""
    first = int(np.searchsorted(edges, span[0], side="right")) - 1
    last = int(np.searchsorted(edges, span[1] - 1, side="right")) - 1
    return range(first, last + 1)


def _assemble(blocks: list[list[np.ndarray]]) -> np.ndarray:
    if len(blocks) == 1 and len(blocks[0]) == 1:
        return blocks[0][0]
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
    blocks: list[list[np.ndarray]],
    origin: tuple[int, int],
    rows: AxisRegion,
    cols: AxisRegion,
    op: str,
    geometry: Geometry,
    p: float,
) -> np.ndarray:
    local = _assemble(blocks)
    region = _pick(_pick(local, rows.sources - origin[0], -2), cols.sources - origin[1], -1)
    return pool_region(region, op, rows, cols, geometry, p)


def global_pool(x: da.Array | Sliceable, op: str = "avg", *, chunks: Any = None) -> da.Array:
    """:func:`poolcli.global_pool` of a Dask (or sliceable) array, lazily.

    max is exact; avg sums each chunk as the in-memory path sums the whole plane (integers
    exactly in float64, floats in their own type), then adds the chunks' sums and divides once.

    >>> import numpy as np
    >>> global_pool(np.arange(16, dtype=np.uint8).reshape(4, 4), chunks=3).compute()
    array([[7.5]], dtype=float32)
    """
    array = as_dask(x, chunks)
    sample = adaptive.global_pool(np.zeros((1, 1), array.dtype), op)  # checks op; the dtype
    if op == "max":
        largest: da.Array = cast(Any, array).max(axis=(-2, -1), keepdims=True)
        return largest
    accumulator = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    total = cast(Any, array).sum(axis=(-2, -1), keepdims=True, dtype=accumulator)
    mean: da.Array = (total / (array.shape[-2] * array.shape[-1])).astype(sample.dtype)
    return mean


def adaptive_pool(
    x: da.Array | Sliceable,
    output_size: adaptive.OutputSize,
    op: str = "avg",
    *,
    chunks: Any = None,
) -> da.Array:
    """:func:`poolcli.adaptive_pool` of a Dask (or sliceable) array, lazily.

    Each output chunk holds the windows that start in one input chunk and reads their cells.
    max is exact; avg to the rounding of float sums (integer sums are exact).

    >>> import numpy as np
    >>> adaptive_pool(np.arange(25.0).reshape(5, 5), (2, 3), chunks=2).compute()
    array([[ 5.5,  7. ,  8.5],
           [15.5, 17. , 18.5]])
    """
    array = as_dask(x, chunks)
    sample = adaptive.adaptive_pool(np.zeros((1, 1), array.dtype), 1, op)  # checks op
    out_h, out_w = adaptive.adaptive_output_size(output_size, array.shape[-2:])
    rows = _adaptive_chunks(array.shape[-2], out_h, array.chunks[-2])
    cols = _adaptive_chunks(array.shape[-1], out_w, array.chunks[-1])
    name = "poolcli-adaptive-" + tokenize(array, op, out_h, out_w)
    row_edges, col_edges = _edges(array.chunks[-2]), _edges(array.chunks[-1])
    graph: dict[tuple[Any, ...], Any] = {}
    for lead in itertools.product(*(range(len(c)) for c in array.chunks[:-2])):
        for i, (row_start, row_stop) in enumerate(rows):
            row_blocks = _blocks(row_edges, (int(row_start[0]), int(row_stop[-1])))
            for j, (col_start, col_stop) in enumerate(cols):
                col_blocks = _blocks(col_edges, (int(col_start[0]), int(col_stop[-1])))
                keys = [[(array.name, *lead, a, b) for b in col_blocks] for a in row_blocks]
                row_origin, col_origin = row_edges[row_blocks[0]], col_edges[col_blocks[0]]
                row_windows = (row_start - row_origin, row_stop - row_origin)
                col_windows = (col_start - col_origin, col_stop - col_origin)
                graph[(name, *lead, i, j)] = (_adaptive_task, keys, row_windows, col_windows, op)
    out_chunks = (
        *array.chunks[:-2],
        tuple(len(start) for start, _ in rows),
        tuple(len(start) for start, _ in cols),
    )
    layers = _graphs.from_collections(name, graph, dependencies=[array])
    meta = np.empty((0,) * array.ndim, sample.dtype)
    result: da.Array = _dask.Array(layers, name, out_chunks, meta=meta)
    return result


def _adaptive_chunks(
    length: int, out: int, input_chunks: tuple[int, ...]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Starts and stops of the adaptive windows of each output chunk: those starting in one
    input chunk (empty chunks left out)."""
    starts, stops = adaptive.adaptive_windows(length, out)
    bounds = [0, *np.searchsorted(starts, _edges(input_chunks)[1:-1], side="left").tolist(), out]
    return [(starts[lo:hi], stops[lo:hi]) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def _adaptive_task(
    blocks: list[list[np.ndarray]],
    rows: tuple[np.ndarray, np.ndarray],
    cols: tuple[np.ndarray, np.ndarray],
    op: str,
) -> np.ndarray:
    local = _assemble(blocks)
    region = local[..., rows[0][0] : rows[1][-1], cols[0][0] : cols[1][-1]]
    shifted_rows = (rows[0] - rows[0][0], rows[1] - rows[0][0])
    shifted_cols = (cols[0] - cols[0][0], cols[1] - cols[0][0])
    return adaptive_region(region, shifted_rows, shifted_cols, op)
