"""Pyramids of Dask (and zarr, memory-mapped) arrays: every level in one lazy graph.

The levels are those of :func:`poolcli.core.pyramid.pyramid` (the rules of each op are there),
as Dask arrays that share one graph: the base's chunks are read once however many levels there
are, and computing all levels together (``dask.compute(*levels)``, or ``dask.array.store`` of
them all) runs that graph once. Each task holds a few chunks, so memory follows the chunk size,
never the image:

- avg, max, min, nearest: each level's chunk is reduced from one chunk of the level above (sums
  for avg, cast to the base's dtype in a task of their own). Chunks are kept multiples of the
  factor, and merged back to about ``chunk`` cells a side once they have shrunk below
  ``chunk / factor``.
- median, mode: each level is :func:`poolcli.chunked.pool` of the base with windows of
  ``factor**L``.

>>> import dask.array as da
>>> import numpy as np
>>> x = da.from_array(np.arange(49, dtype=np.uint8).reshape(7, 7), chunks=3)
>>> levels = pyramid(x, "avg", levels=3, chunk=4)
>>> [level.shape for level in levels]
[(7, 7), (4, 4), (2, 2)]
>>> levels[2].compute()
array([[12, 16],
       [37, 40]], dtype=uint8)
"""

from __future__ import annotations

import math
from typing import Any

import dask.array as da
import numpy as np

from poolcli.chunked.arrays import Sliceable, as_dask
from poolcli.chunked.arrays import pool as chunked_pool
from poolcli.core import pyramid as core
from poolcli.core.pyramid import DEFAULT_CHUNK, OPS, FactorLike

__all__ = ["pyramid", "store_chunks"]

_dask: Any = da


def store_chunks(chunk: int, factor: tuple[int, int]) -> tuple[int, int]:
    """The chunk side of each axis the levels are cut in: ``chunk`` rounded up to a multiple
    of the factor, so that every window of the next level lies in one chunk.

    >>> store_chunks(512, (2, 3))
    (512, 513)
    """
    return -(-chunk // factor[0]) * factor[0], -(-chunk // factor[1]) * factor[1]


def pyramid(
    x: da.Array | Sliceable,
    op: str = "avg",
    levels: int | str | None = None,
    factor: FactorLike = 2,
    chunk: int = DEFAULT_CHUNK,
    *,
    chunks: Any = None,
) -> list[da.Array]:
    """:func:`poolcli.pyramid` of a Dask array (or any sliceable array) as lazy Dask arrays.

    The parameters are those of :func:`poolcli.core.pyramid.pyramid`, plus ``chunks``, the
    input's chunks (see :func:`poolcli.chunked.as_dask`). Level 0 is the input as a Dask array.

    >>> import numpy as np
    >>> labels = np.array([[1, 1, 2], [3, 3, 2], [3, 3, 7]], np.uint8)
    >>> [level.compute().tolist() for level in pyramid(labels, "mode", levels=3, chunks=2)][1:]
    [[[1, 2], [3, 7]], [[3]]]
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    base = as_dask(x, chunks)
    pair = core.check_factor(factor)
    count = core.level_count(base.shape, pair, levels, chunk)
    sides = store_chunks(int(chunk), pair)
    result = [base]
    if op in ("median", "mode"):
        for level in range(1, count):
            window = (pair[0] ** level, pair[1] ** level)
            pooled: Any = chunked_pool(base, op, size=window, ceil_mode=True)
            if pooled.dtype != base.dtype:  # median: float, rounded once
                pooled = pooled.map_blocks(core.cast_to, base.dtype, dtype=base.dtype)
            result.append(_rechunked(pooled, sides))
        return result
    height, width = base.shape[-2:]
    current = base
    for level in range(1, count):
        window = (pair[0] ** level, pair[1] ** level)
        accumulator = None
        if op == "avg":
            accumulator = core.sum_dtype(base.dtype, min(math.prod(window), height * width))
        current = _reduced(_aligned(current, pair, sides), op, pair, accumulator)
        if op != "avg":
            result.append(current)
            continue
        averages: da.Array = _dask.map_blocks(
            _average_block,
            current,
            (height, width),
            window,
            base.dtype,
            dtype=base.dtype,
            meta=np.empty((0,) * base.ndim, base.dtype),
        )
        result.append(averages)
    return result


def _aligned(array: da.Array, factor: tuple[int, int], sides: tuple[int, int]) -> da.Array:
    """``array`` with every chunk but the last of each axis a multiple of its factor (so each
    window of the next level lies in one chunk), rechunked to ``sides`` when it is not, or when
    its chunks have shrunk below ``side / factor``."""
    ndim = array.ndim
    for axis, f, side in ((ndim - 2, factor[0], sides[0]), (ndim - 1, factor[1], sides[1])):
        chunks = array.chunks[axis]
        misaligned = any(c % f for c in chunks[:-1]) or 0 in chunks
        if misaligned or (len(chunks) > 1 and max(chunks) < side // f):
            return _rechunked(array, sides)
    return array


def _rechunked(array: da.Array, sides: tuple[int, int]) -> da.Array:
    ndim = array.ndim
    target = {ndim - 2: sides[0], ndim - 1: sides[1]}
    rechunked: da.Array = _dask.rechunk(array, target)
    return rechunked


def _reduced(
    array: da.Array, op: str, factor: tuple[int, int], accumulator: np.dtype | None
) -> da.Array:
    """One level down from ``array`` (aligned), chunk by chunk: sums for avg, else ``op``."""
    chunks = (
        *array.chunks[:-2],
        tuple(-(-c // factor[0]) for c in array.chunks[-2]),
        tuple(-(-c // factor[1]) for c in array.chunks[-1]),
    )
    dtype = array.dtype if accumulator is None else accumulator
    reduced: da.Array = _dask.map_blocks(
        _reduce_block,
        array,
        "sum" if accumulator is not None else op,
        factor,
        accumulator,
        chunks=chunks,
        dtype=dtype,
        meta=np.empty((0,) * array.ndim, dtype),
    )
    return reduced


def _reduce_block(
    block: np.ndarray, op: str, factor: tuple[int, int], accumulator: np.dtype | None
) -> np.ndarray:
    return np.ascontiguousarray(core.block_reduce(block, op, factor, accumulator))


def _average_block(
    sums: np.ndarray,
    base_shape: tuple[int, int],
    window: tuple[int, int],
    base_dtype: np.dtype,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    """The averages of one chunk of sums: the cells of its windows follow from where it lies."""
    assert block_info is not None  # Dask passes it to functions that take it
    (row_start, row_stop), (col_start, col_stop) = block_info[None]["array-location"][-2:]
    rows = core.counts(base_shape[0], window[0], row_start, row_stop)
    cols = core.counts(base_shape[1], window[1], col_start, col_stop)
    return core.average(sums, rows, cols, base_dtype, math.prod(window))
