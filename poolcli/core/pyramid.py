"""Multiscale pyramids of arrays in memory: every level exact, from one pass over the base.

Level 0 is the input; level L holds, for any op, what ``pool(base, op, size=factor**L,
ceil_mode=True)`` holds with padded cells ignored (each edge window pools the cells it has),
cast once to the base's dtype: integers rounded half up, ``floor(v + 0.5)``, as poolcli writes
every integer result. How each op gets there:

- avg: from exact sums and counts carried level to level, never from a rounded level. Integer
  sums are exact (in the narrowest integer type that holds them, float64 for the widest
  dtypes: :func:`sum_dtype`); float sums are kept in the engine's
  accumulator type, so a level equals the direct pool to float rounding. The division is the
  engine's (float32 for uint8 windows of at most 257 cells, else float64 cast to float32).
- max, min: level by level (the max of maxes is the max: exact).
- nearest: the top-left cell of each window, ``base[..., ::factor**L, ::factor**L]``.
- median, mode: from the base, with windows of ``factor**L``.

Labels stay labels under mode, max, min and nearest: no level holds a value the base lacks.

>>> import numpy as np
>>> x = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10]], np.uint8)
>>> [level.tolist() for level in pyramid(x, "avg", levels=3)]
[[[1, 2, 3], [4, 5, 6], [7, 8, 10]], [[3, 5], [8, 10]], [[5]]]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from poolcli.core import engine

__all__ = [
    "OPS",
    "average",
    "block_reduce",
    "cast_to",
    "check_factor",
    "counts",
    "level_count",
    "level_shape",
    "pyramid",
    "sum_dtype",
]

#: The ops a pyramid pools with.
OPS = ("avg", "max", "min", "mode", "median", "nearest")

#: Ops whose levels follow from the level above (the others pool the base at every level).
CASCADING = ("avg", "max", "min", "nearest")

#: A level's chunk side when ``levels`` is "auto": the levels stop at the first that fits.
DEFAULT_CHUNK = 512

FactorLike = int | Sequence[int]


def check_factor(factor: object) -> tuple[int, ...]:
    """``factor`` per pooled axis: (rows, columns) for a whole number of at least 2 or a pair of
    them, (depth, rows, columns) for a triple, whose depth may be 1 (z kept).

    >>> check_factor(2), check_factor((2, 3)), check_factor((1, 2, 2))
    ((2, 2), (2, 3), (1, 2, 2))
    """
    axes = factor if isinstance(factor, (tuple, list)) else (factor, factor)
    least = (1, 2, 2) if len(axes) == 3 else (2, 2)
    if len(axes) != len(least) or not all(
        _whole(f) and int(f) >= low for f, low in zip(axes, least, strict=True)
    ):
        raise ValueError(
            "factor must be a whole number of at least 2, a pair of them, or (depth, rows, "
            f"columns) whose depth may be 1, got {factor!r}"
        )
    return tuple(int(f) for f in axes)


def _whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def level_shape(shape: Sequence[int], factor: Sequence[int], level: int) -> tuple[int, ...]:
    """The pooled axes' lengths at ``level``: ``ceil(length / f**level)`` for each factor ``f``
    of the trailing axes (height and width; depth first for a factor of three).

    >>> level_shape((1000, 601), (2, 2), 3), level_shape((9, 1000, 601), (1, 2, 2), 3)
    ((125, 76), (9, 125, 76))
    """
    lengths = [int(n) for n in shape[len(shape) - len(factor) :]]
    return tuple(-(-n // f**level) for n, f in zip(lengths, factor, strict=True))


def level_count(
    shape: Sequence[int],
    factor: Sequence[int],
    levels: int | str | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> int:
    """How many levels a pyramid has, level 0 (the base) included.

    ``levels`` a whole number N of at least 1: N. None or "auto": up to the first level whose
    height and width are both at most ``chunk`` (a base that fits gives one level, itself). A
    volume's depth does not count: its levels are stored a slice deep, whatever the depth.

    >>> level_count((5000, 3000), (2, 2)), level_count((5000, 3000), (2, 2), 3)
    (5, 3)
    >>> level_count((512, 100), (2, 2)), level_count((4000, 512, 100), (2, 2, 2))
    (1, 1)
    """
    if levels is None or levels == "auto":
        if not (_whole(chunk) and int(chunk) >= 1):
            raise ValueError(f"chunk must be a whole number of at least 1, got {chunk!r}")
        level = 0
        while max(level_shape(shape, factor, level)[-2:]) > chunk:
            level += 1
        return level + 1
    if not (_whole(levels) and int(levels) >= 1):
        raise ValueError(f'levels must be a whole number of at least 1 or "auto", got {levels!r}')
    return int(levels)


def counts(length: int, window: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """How many base cells windows ``start:stop`` of ``window`` cells hold along an axis of
    ``length`` (the last one may hold fewer).

    >>> counts(10, 4)
    array([4, 4, 2])
    """
    out = -(-length // window)
    stop = out if stop is None else stop
    first = np.arange(start, stop, dtype=np.int64) * window
    held: np.ndarray = np.minimum(first + window, length) - first
    return held


def sum_dtype(dtype: npt.DTypeLike, cells: int) -> np.dtype:
    """The type the sums of windows of ``cells`` cells of a base of ``dtype`` are carried in:
    for integers the narrowest of (u)int16, (u)int32 and int64 that holds every such sum
    exactly (float64 past int64), for floats the engine's accumulator (float32, or float64 for
    float64).

    >>> sum_dtype(np.uint8, 4), sum_dtype(np.uint8, 1024), sum_dtype(np.uint8, 40000 * 40000)
    (dtype('uint16'), dtype('uint32'), dtype('int64'))
    >>> sum_dtype(np.int16, 4), sum_dtype(np.float16, 4)
    (dtype('int32'), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        return engine.result_dtype("avg", dtype)
    info = np.iinfo(dtype)
    low, high = int(info.min) * cells, int(info.max) * cells
    narrow = ("uint16", "uint32") if dtype.kind == "u" else ("int16", "int32")
    for candidate in (*narrow, "int64"):
        bounds = np.iinfo(candidate)
        if bounds.min <= low and high <= bounds.max:
            return np.dtype(candidate)
    return np.dtype(np.float64)


def block_reduce(
    x: np.ndarray, op: str, factor: Sequence[int], dtype: npt.DTypeLike | None = None
) -> np.ndarray:
    """One level down: each ``factor`` block of the trailing axes (the last two, or three for a
    factor of three) reduced ("sum", "max", "min" or "nearest"); the last blocks of an axis hold
    what is left (ceil).

    >>> block_reduce(np.arange(15).reshape(3, 5), "sum", (2, 2), np.int64)
    array([[12, 20, 13],
           [21, 25, 14]])
    >>> block_reduce(np.arange(8).reshape(2, 2, 2), "max", (2, 2, 2)).tolist()
    [[[7]]]
    """
    lead = x.ndim - len(factor)
    if op == "nearest":
        picked: np.ndarray = x[(*(slice(None),) * lead, *(slice(None, None, f) for f in factor))]
        return picked
    combine = {"sum": np.add, "max": np.maximum, "min": np.minimum}[op]
    kind = x.dtype if dtype is None else np.dtype(dtype)
    # Separable: the blocks reduced along one axis at a time, the rows (or slices) first, each
    # pass a few whole-array operations on strided views that shrink the array by its factor.
    reduced = x
    for axis, f in sorted(enumerate(factor, lead), key=lambda pair: pair[0] == x.ndim - 1):
        reduced = _reduce_axis(reduced, axis, f, combine, kind)
    if reduced is x:  # every factor 1
        reduced = x.astype(kind, copy=True)
    return reduced


def _reduce_axis(
    x: np.ndarray, axis: int, factor: int, combine: np.ufunc, kind: np.dtype
) -> np.ndarray:
    """``x`` with every ``factor`` cells along ``axis`` combined (the last ones: what is left)."""
    if factor == 1:
        return x

    def tap(offset: int, stop: int | None = None) -> np.ndarray:
        key = [slice(None)] * x.ndim
        key[axis] = slice(offset, stop, factor)
        return x[tuple(key)]

    first, second = tap(0), tap(1)
    if first.shape == second.shape:
        reduced: np.ndarray = combine(first, second, dtype=kind)
    else:  # the last block holds one cell
        reduced = first.astype(kind, copy=True)
        head = [slice(None)] * x.ndim
        head[axis] = slice(0, second.shape[axis])
        part = reduced[tuple(head)]
        combine(part, second, out=part, casting="unsafe")
    for offset in range(2, factor):
        more = tap(offset)
        head = [slice(None)] * x.ndim
        head[axis] = slice(0, more.shape[axis])
        part = reduced[tuple(head)]
        combine(part, more, out=part, casting="unsafe")
    return reduced


def cast_to(values: np.ndarray, dtype: npt.DTypeLike) -> np.ndarray:
    """``values`` in ``dtype``, as poolcli writes a result: to integers rounded half up
    (``floor(v + 0.5)`` in float64) and clipped to the dtype's range, NaN to 0.

    >>> cast_to(np.array([0.5, 2.4999, -1.5, 300.0, np.nan], np.float32), np.uint8)
    array([  1,   2,   0, 255,   0], dtype=uint8)
    """
    dtype = np.dtype(dtype)
    if values.dtype == dtype:
        return values
    if dtype.kind == "f" or values.dtype.kind != "f":
        cast: np.ndarray = values.astype(dtype)
        return cast
    info = np.iinfo(dtype)
    rounded: np.ndarray = np.floor(np.add(values, 0.5, dtype=np.float64))
    np.clip(rounded, info.min, info.max, out=rounded)
    np.nan_to_num(rounded, copy=False, nan=0.0)
    integers: np.ndarray = rounded.astype(dtype)
    return integers


def average(
    sums: np.ndarray,
    row_counts: np.ndarray,
    col_counts: np.ndarray,
    base_dtype: npt.DTypeLike,
    cells: int,
    depth_counts: np.ndarray | None = None,
) -> np.ndarray:
    """A level's averages in the base's dtype from its sums and the cells of each window (per
    row and column, and per slice for a volume's ``depth_counts``), divided as the engine
    divides windows of ``cells`` cells, then :func:`cast_to`.

    >>> average(np.array([[10, 3]]), np.array([4]), np.array([4, 2]), np.uint8, 16)
    array([[1, 0]], dtype=uint8)
    >>> average(np.array([[[10, 3]]]), np.array([1]), np.array([2, 1]), np.uint8, 8, np.array([4]))
    array([[[1, 1]]], dtype=uint8)
    """
    base_dtype = np.dtype(base_dtype)
    axes = [row_counts, col_counts] if depth_counts is None else [depth_counts, row_counts,
                                                                  col_counts]  # fmt: skip
    divide = functools.partial(_means, base_dtype=base_dtype, cells=cells)
    if not all((c[:-1] == c[0]).all() for c in axes):
        return divide(sums, functools.reduce(np.multiply.outer, axes))
    # Every window but the last of an axis holds the same cells: the bulk is divided by one
    # count, and the last slab of each axis whose last window holds fewer on its own.
    out = divide(sums, math.prod(int(c[0]) for c in axes))
    lead = sums.ndim - len(axes)
    for axis, held in enumerate(axes):
        if held[-1] != held[0]:
            edge: list[Any] = [slice(None)] * sums.ndim
            edge[lead + axis] = slice(-1, None)
            slab = [c[-1:] if i == axis else c for i, c in enumerate(axes)]
            out[tuple(edge)] = divide(sums[tuple(edge)], functools.reduce(np.multiply.outer, slab))
    return out


def _means(
    sums: np.ndarray, held: np.ndarray | int, base_dtype: np.dtype, cells: int
) -> np.ndarray:
    """``sums / held`` as the engine divides windows of ``cells`` cells, in the base's dtype
    (integers rounded half up)."""
    means_dtype = engine.result_dtype("avg", base_dtype)
    if base_dtype.kind in "iu" and sums.dtype.kind in "iu":
        info = np.iinfo(base_dtype)
        low, high = int(info.min) * cells, int(info.max) * cells
        if max(-low, high) * np.finfo(means_dtype).eps < 0.5:
            # floor(s / n + 1/2) in integers, (s + n // 2) // n: what the engine's division
            # and rounding give, as a mean k/n lies at least 1/(2n) from a half, more than
            # twice the error of the means' float type at these sizes.
            room = np.iinfo(sums.dtype)
            fits = room.min <= low and high + cells <= room.max
            numerators = np.add(sums, np.asarray(held) // 2, dtype=sums.dtype if fits else np.int64,
                                casting="unsafe")  # fmt: skip
            np.floor_divide(numerators, held, out=numerators, casting="unsafe")
            integers: np.ndarray = numerators.astype(base_dtype)
            return integers
    # The engine sums these windows in uint16 and divides in float32; all others in float64,
    # except float inputs narrower than float64, which sum and divide in float32.
    small_bytes = base_dtype == np.uint8 and cells <= 257
    wide_float = base_dtype == np.float64 or (base_dtype.kind in "iu" and not small_bytes)
    division = np.float64 if wide_float else np.float32
    means = np.empty(sums.shape, means_dtype)
    np.divide(sums, held, out=means, dtype=division, casting="unsafe")
    if base_dtype.kind == "f":
        return cast_to(means, base_dtype)
    # A mean of integers lies in their range: rounding half up is all the cast has to do.
    rounded = np.add(means, 0.5, dtype=np.float64)
    np.floor(rounded, out=rounded)
    rounded_integers: np.ndarray = rounded.astype(base_dtype)
    return rounded_integers


def pyramid(
    x: npt.ArrayLike,
    op: str = "avg",
    levels: int | str | None = None,
    factor: FactorLike = 2,
    chunk: int = DEFAULT_CHUNK,
) -> list[np.ndarray]:
    """The levels of a multiscale pyramid of ``x``, level 0 (``x`` itself) first.

    Parameters
    ----------
    x : array of shape (H, W), (C, H, W) or (N, C, H, W); (D, H, W) to (N, C, D, H, W) for a
        factor of three
        Any integer or float dtype, as :func:`poolcli.pool` takes.
    op : {"avg", "max", "min", "mode", "median", "nearest"}
        Level L pools the base with windows of ``factor**L`` (see the module); nearest takes
        each window's top-left cell.
    levels : int, "auto" or None
        How many levels to return, level 0 included. None or "auto": down to the first level
        whose height and width are both at most ``chunk`` (a volume's depth does not count).
    factor : int, (int, int) or (int, int, int)
        How much each level shrinks the one above, on rows and columns, at least 2; three values
        (depth, rows, columns) pool a volume's last three axes, its depth by 1 (z kept) or more.
    chunk : int
        The size the "auto" levels stop at.

    Returns
    -------
    list of ndarray, each of ``x``'s dtype and rank; level L is ``ceil(H / fy**L)`` by
    ``ceil(W / fx**L)`` (by ``ceil(D / fz**L)`` deep).

    >>> levels = pyramid(np.arange(30, dtype=np.int16).reshape(5, 6), "max", levels=3)
    >>> [level.shape for level in levels], levels[2].tolist()
    ([(5, 6), (3, 3), (2, 2)], [[21, 23], [27, 29]])
    >>> [level.shape for level in pyramid(np.zeros((3, 8, 8)), "avg", 3, factor=(1, 2, 2))]
    [(3, 8, 8), (3, 4, 4), (3, 2, 2)]
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    axes = check_factor(factor)
    base = engine.check_input(x, len(axes))
    count = level_count(base.shape, axes, levels, chunk)
    result = [base]
    if op in ("median", "mode"):
        for level in range(1, count):
            window = tuple(f**level for f in axes)
            pooled = engine.pool(base, op, size=window, ceil_mode=True, max_pixels=None)
            result.append(cast_to(pooled, base.dtype))
        return result
    if op != "avg":
        for _ in range(1, count):
            result.append(np.ascontiguousarray(block_reduce(result[-1], op, axes)))
        return result
    lengths = base.shape[base.ndim - len(axes) :]
    sums: Any = base
    for level in range(1, count):
        window = tuple(f**level for f in axes)
        accumulator = sum_dtype(base.dtype, min(math.prod(window), math.prod(lengths)))
        sums = block_reduce(sums, "sum", axes, accumulator)
        held = [counts(n, w) for n, w in zip(lengths, window, strict=True)]
        depth = held[0] if len(axes) == 3 else None
        result.append(average(sums, held[-2], held[-1], base.dtype, math.prod(window), depth))
    return result
