"""The pooling engine: window reductions over strided views, tile by tile, in threads.

The engine is im2col-backed in the sense of the lectures: every output cell reduces one column of
the im2col matrix of its plane. It never builds that matrix. A plane is reduced in two separable
passes over strided views of the (padded) input, first down the rows, then across the columns, one
tile of output rows at a time, so the only temporaries are a tile of the row pass.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]], dtype=np.uint8)
>>> pool(x, "max", size=2)
array([[2, 3],
       [4, 2]], dtype=uint8)
>>> pool(x, "avg", size=2)
array([[1.  , 1.5 ],
       [2.25, 1.  ]], dtype=float32)

Notes
-----
A textbook im2col of a 2160×3840 float32 plane with a 3×3 window and stride 1 holds
9 × 2158 × 3838 × 4 bytes ≈ 298 MB, nine times the plane. Here the extra memory is one output
plane (the result) plus a tile of the row pass, about ``TILE_BYTES`` per worker thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .geometry import AxisGeometry, Geometry, PaddingLike, PadMode, PairLike, resolve

OPS = ("max", "min", "avg")

#: Bytes of row-pass temporaries per tile: small enough to stay in cache, large enough that
#: numpy's per-call overhead does not dominate.
TILE_BYTES = 1 << 20
#: Below this many output cells the work runs in the calling thread.
PARALLEL_MIN_CELLS = 1 << 16


@dataclass(frozen=True)
class _Reduction:
    """How one op combines window cells."""

    combine: Callable[..., np.ndarray]
    neutral: Callable[[np.dtype], float | int]
    averages: bool


def _lowest(dtype: np.dtype) -> float | int:
    return -np.inf if dtype.kind == "f" else int(np.iinfo(dtype).min)


def _highest(dtype: np.dtype) -> float | int:
    return np.inf if dtype.kind == "f" else int(np.iinfo(dtype).max)


_REDUCTIONS = {
    "max": _Reduction(np.maximum, _lowest, averages=False),
    "min": _Reduction(np.minimum, _highest, averages=False),
    "avg": _Reduction(np.add, lambda dtype: 0, averages=True),
}


def result_dtype(op: str, dtype: np.dtype) -> np.dtype:
    """The dtype ``pool`` returns for ``op`` on input of ``dtype``.

    >>> result_dtype("max", np.dtype("uint8")), result_dtype("avg", np.dtype("uint8"))
    (dtype('uint8'), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if op in ("max", "min"):
        return dtype
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _accumulator_dtype(dtype: np.dtype, cells: int) -> np.dtype:
    """Narrowest type that sums ``cells`` values of ``dtype`` exactly (or as float32 does)."""
    if dtype == np.uint8 and cells <= 257:
        return np.dtype(np.uint16)
    if dtype.kind in "iu":
        return np.dtype(np.float64)
    return result_dtype("avg", dtype)


def pool(
    x: np.ndarray,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Pool every (n, c) plane of ``x`` with a sliding window.

    Parameters
    ----------
    x : array of shape (H, W), (C, H, W) or (N, C, H, W)
        Any integer or floating dtype, any memory layout (a transposed (H, W, C) image works
        without a copy).
    op : {"max", "min", "avg"}
    size, stride, padding, dilation, ceil_mode, pad_mode
        The geometry of DESIGN.md §1; see :func:`poolcli.geometry.resolve`.
    out : array, optional
        Where to write the result: shape ``output_shape(x.shape, ...)`` and dtype
        ``result_dtype(op, x.dtype)``, any layout.

    Returns
    -------
    ndarray of the input's rank. max and min keep the dtype; avg gives float32, or float64 for
    float64 input. A channel-last input gives a channel-last result.

    Examples
    --------
    >>> pool(np.arange(16.0).reshape(4, 4), "max", size=3, stride=1)
    array([[10., 11.],
           [14., 15.]])
    >>> pool(np.ones((1, 1, 3, 3)), "avg", size=2, padding=1, pad_mode="zero").shape
    (1, 1, 2, 2)
    """
    if op not in _REDUCTIONS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    x = np.asarray(x)
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            f"input must have 2, 3 or 4 dimensions (H, W / C, H, W / N, C, H, W), "
            f"got shape {x.shape}"
        )
    if x.dtype.kind not in "iuf":
        raise ValueError(f"input must hold integers or floats, got dtype {x.dtype}")
    geometry = resolve(x.shape[-2:], size, stride, padding, dilation, ceil_mode, pad_mode)
    x4 = x.reshape((1,) * (4 - x.ndim) + x.shape) if x.ndim < 4 else x
    out4 = _prepare_output(x4, op, geometry, out)
    _run(x4, out4, _REDUCTIONS[op], geometry)
    return out4.reshape(out4.shape[4 - x.ndim :]) if x.ndim < 4 else out4


def _prepare_output(
    x4: np.ndarray, op: str, geometry: Geometry, out: np.ndarray | None
) -> np.ndarray:
    shape = (*x4.shape[:2], *geometry.out_shape)
    dtype = result_dtype(op, x4.dtype)
    if out is None:
        if _channel_last(x4):
            return np.empty((shape[0], *shape[2:], shape[1]), dtype).transpose(0, 3, 1, 2)
        return np.empty(shape, dtype)
    if out.dtype != dtype:
        raise ValueError(f"out must have dtype {dtype} for {op} of {x4.dtype}, got {out.dtype}")
    if out.ndim != 4:
        out = out.reshape(shape)
    if out.shape != shape:
        raise ValueError(f"out must have shape {shape}, got {out.shape}")
    return out


def _channel_last(a: np.ndarray) -> bool:
    """True when channels are the fastest-varying axis, as in an (H, W, C) image."""
    return a.shape[1] > 1 and abs(a.strides[1]) < abs(a.strides[3])


def _blocks(x4: np.ndarray, out4: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The work as (B, H, W) blocks of B planes, or (1, H, W, C) blocks for channel-last input."""
    if _channel_last(x4) and _channel_last(out4):
        return [
            (x4[n : n + 1].transpose(0, 2, 3, 1), out4[n : n + 1].transpose(0, 2, 3, 1))
            for n in range(len(x4))
        ]
    merged = _merge_planes(x4), _merge_planes(out4)
    if merged[0] is not None and merged[1] is not None:
        return [merged]
    return [(x4[n], out4[n]) for n in range(len(x4))]


def _merge_planes(a: np.ndarray) -> np.ndarray | None:
    """(N, C, H, W) as a (N*C, H, W) view, or None when the layout does not allow it."""
    if a.shape[0] == 1 or a.strides[0] == a.shape[1] * a.strides[1]:
        return a.reshape(-1, *a.shape[2:]) if a.shape[0] > 1 else a[0]
    return None


def _run(x4: np.ndarray, out4: np.ndarray, reduction: _Reduction, geometry: Geometry) -> None:
    plan = _Plan(x4.dtype, out4.dtype, reduction, geometry)
    tasks = []
    out_h = geometry.height.out
    for source, target in _blocks(x4, out4):
        rows = plan.rows_per_tile(source)
        planes = max(1, rows // out_h)
        for plane in range(0, len(source), planes):
            selected = slice(plane, plane + planes)
            for first in range(0, out_h, rows):
                tasks.append((source[selected], target[selected], first, min(first + rows, out_h)))
    if len(tasks) < 2 or out4.size < PARALLEL_MIN_CELLS or (os.cpu_count() or 1) < 2:
        for task in tasks:
            plan.reduce_tile(*task)
        return
    executor = _shared_executor()
    for future in [executor.submit(plan.reduce_tile, *task) for task in tasks]:
        future.result()


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _shared_executor() -> ThreadPoolExecutor:
    """One pool of worker threads for the process: starting threads per call costs milliseconds."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="poolcli")
        return _executor


def _forget_executor_after_fork() -> None:
    # A forked child has none of the parent's threads: it must start its own.
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_executor_after_fork)


def _index_map(axis: AxisGeometry, pad_mode: PadMode) -> np.ndarray | None:
    """Source index of every padded cell of an axis: -1 marks a pad cell, -2 the overhang.

    None when the axis has neither padding nor overhang (windows only see real cells).
    """
    if axis.before == 0 and axis.after == 0 and axis.overhang == 0:
        return None
    inner = np.arange(axis.length)
    if pad_mode in ("edge", "reflect"):
        mapped = np.pad(inner, (axis.before, axis.after), mode=pad_mode)
    else:
        mapped = np.pad(inner, (axis.before, axis.after), constant_values=-1)
    return np.concatenate([mapped, np.full(axis.overhang, -2)])


def _counted_cells(axis: AxisGeometry, ignore_padding: bool) -> np.ndarray:
    """How many cells of each window count towards a mean, along one axis."""
    taps = (np.arange(axis.out) * axis.stride - axis.before)[:, None]
    taps = taps + np.arange(axis.size) * axis.dilation
    low, high = (0, axis.length) if ignore_padding else (-axis.before, axis.length + axis.after)
    return ((taps >= low) & (taps < high)).sum(axis=1)


class _Plan:
    """Everything a tile needs, decided once per call."""

    def __init__(
        self, dtype: np.dtype, out_dtype: np.dtype, reduction: _Reduction, geometry: Geometry
    ) -> None:
        self.reduction = reduction
        self.geometry = geometry
        height, width = geometry.height, geometry.width
        self.row_map = _index_map(height, geometry.pad_mode)
        self.col_map = _index_map(width, geometry.pad_mode)
        self.neutral = reduction.neutral(dtype)
        pad_mode = geometry.pad_mode
        if pad_mode == "zero":
            self.fill: float | int = 0
        elif isinstance(pad_mode, str):
            self.fill = self.neutral
        else:
            self.fill = pad_mode
        self.source_dtype = dtype
        if not _fits(self.fill, dtype):
            if not reduction.averages:
                raise ValueError(
                    f"pad_mode {pad_mode!r} does not fit the input dtype {dtype}; "
                    f"use a value in the dtype's range"
                )
            self.source_dtype = np.dtype(np.float64)
        if reduction.averages:
            cells = height.size * width.size
            self.accumulator = _accumulator_dtype(self.source_dtype, cells)
            ignore = pad_mode == "ignore"
            self.count_rows = _counted_cells(height, ignore)
            self.count_cols = _counted_cells(width, ignore)
            uniform = self.count_rows.min() == self.count_rows.max() == height.size
            uniform = uniform and self.count_cols.min() == self.count_cols.max() == width.size
            self.uniform_divisor = float(cells) if uniform else None
        else:
            self.accumulator = dtype
        self.out_dtype = out_dtype

    def rows_per_tile(self, source: np.ndarray) -> int:
        width = self.geometry.width.padded_length + self.geometry.width.overhang
        row_bytes = width * int(np.prod(source.shape[3:])) * self.accumulator.itemsize
        return max(1, TILE_BYTES // max(1, row_bytes))

    def _padded_rows(self, source: np.ndarray, first: int, stop: int) -> np.ndarray:
        """Rows ``first:stop`` of the padded planes of a block (padded coordinates)."""
        if self.row_map is None and self.col_map is None:
            return source[:, first:stop]
        rows = self.row_map[first:stop] if self.row_map is not None else np.arange(first, stop)
        tile = np.take(source, np.maximum(rows, 0), axis=1)
        if self.col_map is not None:
            tile = np.take(tile, np.maximum(self.col_map, 0), axis=2)
        if tile.dtype != self.source_dtype:
            tile = tile.astype(self.source_dtype)
        for marker, value in ((-1, self.fill), (-2, self.neutral)):
            tile[:, rows == marker] = value
            if self.col_map is not None:
                tile[:, :, self.col_map == marker] = value
        return tile

    def reduce_tile(self, source: np.ndarray, target: np.ndarray, first: int, stop: int) -> None:
        """Compute output rows ``first:stop`` of one block."""
        height, width = self.geometry.height, self.geometry.width
        combine = self.reduction.combine
        count = stop - first
        padded = self._padded_rows(
            source, first * height.stride, (stop - 1) * height.stride + height.window
        )
        rows = _reduce_windows(combine, padded, 1, height, count, self.accumulator)
        destination = target[:, first:stop]
        in_place = not self.reduction.averages or self.accumulator == self.out_dtype
        sums = _reduce_windows(
            combine, rows, 2, width, width.out, self.accumulator, destination if in_place else None
        )
        if not self.reduction.averages:
            return
        if self.uniform_divisor is not None:
            divisor: float | np.ndarray = self.out_dtype.type(self.uniform_divisor)
        else:
            divisor = np.multiply.outer(self.count_rows[first:stop], self.count_cols)
            divisor = divisor.reshape(divisor.shape + (1,) * (destination.ndim - 3))
        # One rounding: uint8 sums are exact in float32 and divide there, as PyTorch's do; wider
        # integer sums divide in float64 before the cast.
        division = np.float64 if self.accumulator == np.float64 else self.out_dtype
        np.divide(sums, divisor, out=destination, dtype=division, casting="unsafe")


#: Windows of more taps than this are reduced in one call over a window view.
MANY_TAPS = 8


def _reduce_windows(
    combine: np.ufunc,
    source: np.ndarray,
    axis: int,
    geometry: AxisGeometry,
    count: int,
    dtype: np.dtype,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Reduce ``count`` windows along ``axis`` (1 for rows, 2 for columns) of a block.

    Few taps: one strided slice per tap, folded pairwise (each call streams contiguous memory).
    Many taps: a strided window view with the taps on an extra axis, reduced in one call.
    """
    step, spacing = geometry.stride, geometry.dilation
    if geometry.size <= MANY_TAPS:
        span = (count - 1) * step + 1
        index = (slice(None),) * axis
        taps = [
            source[(*index, slice(k * spacing, k * spacing + span, step))]
            for k in range(geometry.size)
        ]
        return _combine_all(combine, taps, dtype, out)
    shape = (*source.shape[:axis], count, geometry.size, *source.shape[axis + 1 :])
    along = source.strides[axis]
    strides = (*source.strides[:axis], along * step, along * spacing, *source.strides[axis + 1 :])
    view = np.lib.stride_tricks.as_strided(source, shape, strides, writeable=False)
    return combine.reduce(view, axis=axis + 1, dtype=dtype, out=out)


def _combine_all(
    combine: Callable[..., np.ndarray],
    taps: list[np.ndarray],
    dtype: np.dtype,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Fold ``taps`` with ``combine`` into ``out`` (allocated in ``dtype`` when None)."""
    if out is None:
        out = np.empty(taps[0].shape, dtype)
    if len(taps) == 1:
        np.copyto(out, taps[0], casting="unsafe")
        return out
    combine(taps[0], taps[1], out=out, dtype=dtype, casting="unsafe")
    for tap in taps[2:]:
        combine(out, tap, out=out, dtype=dtype, casting="unsafe")
    return out


def _fits(value: float | int, dtype: np.dtype) -> bool:
    """True when ``value`` is exactly representable in ``dtype``."""
    if dtype.kind == "f":
        return True
    if isinstance(value, float) and not value.is_integer():
        return False
    info = np.iinfo(dtype)
    return info.min <= value <= info.max
