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
  ``factor**L`` (of three axes for a volume).

A factor of three, (depth, rows, columns), pools a volume's last three axes, (D, H, W) to
(N, C, D, H, W); its chunks are about :data:`DEPTH` slices deep.

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

__all__ = ["DEPTH", "pyramid", "store_chunks"]

_dask: Any = da

#: About how many slices deep a volume's chunks are cut (rounded up to a multiple of the depth
#: factor): with ``chunk`` squared slices, a task's block stays a few million cells.
DEPTH = 16


def store_chunks(chunk: int, factor: tuple[int, ...]) -> tuple[int, ...]:
    """The chunk side of each axis the levels are cut in: ``chunk`` rounded up to a multiple
    of the factor, so that every window of the next level lies in one chunk (a volume's depth:
    :data:`DEPTH` so rounded).

    >>> store_chunks(512, (2, 3)), store_chunks(512, (3, 2, 2))
    ((512, 513), (18, 512, 512))
    """
    sides = (DEPTH, chunk, chunk)[-len(factor) :]
    return tuple(-(-side // f) * f for side, f in zip(sides, factor, strict=True))


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
    >>> volume = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
    >>> pyramid(volume, "max", levels=2, factor=(2, 2, 2), chunks=2)[1].compute().tolist()
    [[[13, 14], [16, 17]], [[22, 23], [25, 26]]]
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    axes = core.check_factor(factor)
    base = as_dask(x, chunks, axes=len(axes))
    count = core.level_count(base.shape, axes, levels, chunk)
    sides = store_chunks(int(chunk), axes)
    result = [base]
    if op in ("median", "mode"):
        for level in range(1, count):
            window = tuple(f**level for f in axes)
            pooled: Any = chunked_pool(base, op, size=window, ceil_mode=True)
            if pooled.dtype != base.dtype:  # median: float, rounded once
                pooled = pooled.map_blocks(core.cast_to, base.dtype, dtype=base.dtype)
            result.append(_rechunked(pooled, sides))
        return result
    lengths = base.shape[base.ndim - len(axes) :]
    current = base
    for level in range(1, count):
        window = tuple(f**level for f in axes)
        accumulator = None
        if op == "avg":
            accumulator = core.sum_dtype(base.dtype, min(math.prod(window), math.prod(lengths)))
        current = _reduced(_aligned(current, axes, sides), op, axes, accumulator)
        if op != "avg":
            result.append(current)
            continue
        averages: da.Array = _dask.map_blocks(
            _average_block,
            current,
            lengths,
            window,
            base.dtype,
            dtype=base.dtype,
            meta=np.empty((0,) * base.ndim, base.dtype),
        )
        result.append(averages)
    return result


def _aligned(array: da.Array, factor: tuple[int, ...], sides: tuple[int, ...]) -> da.Array:
    """``array`` with every chunk but the last of each axis a multiple of its factor (so each
    window of the next level lies in one chunk), rechunked to ``sides`` when it is not, or when
    its chunks have shrunk below ``side / factor``."""
    first = array.ndim - len(factor)
    for axis, f, side in zip(range(first, array.ndim), factor, sides, strict=True):
        if f == 1:
            continue  # a depth kept: its chunks never need merging
        chunks = array.chunks[axis]
        misaligned = any(c % f for c in chunks[:-1]) or 0 in chunks
        if misaligned or (len(chunks) > 1 and max(chunks) < side // f):
            return _rechunked(array, sides)
    return array


def _rechunked(array: da.Array, sides: tuple[int, ...]) -> da.Array:
    first = array.ndim - len(sides)
    target = {first + axis: side for axis, side in enumerate(sides)}
    rechunked: da.Array = _dask.rechunk(array, target)
    return rechunked


def _reduced(
    array: da.Array, op: str, factor: tuple[int, ...], accumulator: np.dtype | None
) -> da.Array:
    """One level down from ``array`` (aligned), chunk by chunk: sums for avg, else ``op``."""
    first = array.ndim - len(factor)
    chunks = (
        *array.chunks[:first],
        *(tuple(-(-c // f) for c in cs) for cs, f in zip(array.chunks[first:], factor,
                                                         strict=True)),
    )  # fmt: skip
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
    block: np.ndarray, op: str, factor: tuple[int, ...], accumulator: np.dtype | None
) -> np.ndarray:
    return np.ascontiguousarray(core.block_reduce(block, op, factor, accumulator))


def _average_block(
    sums: np.ndarray,
    base_shape: tuple[int, ...],
    window: tuple[int, ...],
    base_dtype: np.dtype,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray:
    """The averages of one chunk of sums: the cells of its windows follow from where it lies."""
    assert block_info is not None  # Dask passes it to functions that take it
    where = block_info[None]["array-location"][-len(window) :]
    held = [
        core.counts(length, w, start, stop)
        for length, w, (start, stop) in zip(base_shape, window, where, strict=True)
    ]
    depth = held[0] if len(window) == 3 else None
    return core.average(sums, held[-2], held[-1], base_dtype, math.prod(window), depth)
