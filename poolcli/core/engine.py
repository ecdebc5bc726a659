"""The pooling engine: window reductions over strided views, tile by tile, in threads.

The engine is im2col-backed in the sense of the lectures: every output cell reduces one column of
the im2col matrix of its plane. It never builds that matrix. A plane is reduced in two separable
passes over strided views of the (padded) input, first down the rows, then across the columns, one
tile of output rows at a time, so the only temporaries are a tile of the row pass. A volume
(a window of three values) gets one more pass, down its depth, before the other two, its tiles
output rows of a few depth slices; a signal (a window of one value) pools as a plane of one row.

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

import contextlib
import functools
import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from poolcli.core.geometry import (
    MAX_PIXELS,
    AxisGeometry,
    Geometry,
    PaddingLike,
    PadMode,
    PairLike,
    check_output_pixels,
    check_rank,
    resolve,
    window_axes,
)
from poolcli.core.mode import mode_pool

OPS = ("max", "min", "avg", "sum", "median", "lp", "mode")

#: Bytes of row-pass temporaries per tile: small enough to stay in cache, large enough that
#: numpy's per-call overhead does not dominate.
TILE_BYTES = 2 << 20
#: Below this many bytes of input and output the work runs in the calling thread: handing work
#: to a pool thread costs tens of microseconds, more when its CPU has gone idle.
PARALLEL_MIN_BYTES = 4 << 20


@dataclass(frozen=True)
class _Reduction:
    """How one op combines window cells.

    kind: "extreme" keeps the dtype (max, min); "sum", "mean" and "power" accumulate (power sums
    |x|^p); "median" sorts each window instead of folding it.
    """

    combine: np.ufunc
    neutral: Callable[[np.dtype], float | int]
    kind: str

    @property
    def accumulates(self) -> bool:
        return self.kind in ("sum", "mean", "power")


def _lowest(dtype: np.dtype) -> float | int:
    return -np.inf if dtype.kind == "f" else int(np.iinfo(dtype).min)


def _highest(dtype: np.dtype) -> float | int:
    return np.inf if dtype.kind == "f" else int(np.iinfo(dtype).max)


def _zero(dtype: np.dtype) -> int:
    return 0


def _missing(dtype: np.dtype) -> float:
    return np.nan


_REDUCTIONS = {
    "max": _Reduction(np.maximum, _lowest, "extreme"),
    "min": _Reduction(np.minimum, _highest, "extreme"),
    "avg": _Reduction(np.add, _zero, "mean"),
    "sum": _Reduction(np.add, _zero, "sum"),
    "lp": _Reduction(np.add, _zero, "power"),
    "median": _Reduction(np.add, _missing, "median"),
}


def result_dtype(op: str, dtype: np.dtype) -> np.dtype:
    """The dtype ``pool`` returns for ``op`` on input of ``dtype``.

    >>> result_dtype("max", np.dtype("uint8")), result_dtype("avg", np.dtype("uint8"))
    (dtype('uint8'), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if op in ("max", "min", "mode"):
        return dtype
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def _accumulator_dtype(dtype: np.dtype, cells: int) -> np.dtype:
    """Narrowest type that sums ``cells`` values of ``dtype`` exactly (or as float32 does)."""
    if dtype == np.uint8 and cells <= 257:
        return np.dtype(np.uint16)
    if dtype.kind in "iu":
        return np.dtype(np.float64)
    return result_dtype("avg", dtype)


def check_input(x: object, axes: int = 2) -> np.ndarray:
    """``x`` as an array of ``axes`` spatial axes (2: rank 2, 3 or 4) holding integers or floats,
    or a ValueError.

    An empty batch, (0, C, H, W), is an input (pooling gives an empty batch, as PyTorch's does);
    an empty plane or no channels is not.

    >>> check_input([[1, 2], [3, 4]]).shape
    (2, 2)
    >>> check_input(np.zeros((0, 3, 4, 4))).shape
    (0, 3, 4, 4)
    >>> check_input(np.zeros((2, 1, 8, 8, 8)), axes=3).shape
    (2, 1, 8, 8, 8)
    """
    x = np.asarray(x)
    check_rank(x.shape, axes)
    if x.dtype.kind not in "iuf":
        raise ValueError(f"input must hold integers or floats, got dtype {x.dtype}")
    if 0 in (x.shape[1:] if x.ndim == axes + 2 else x.shape):
        raise ValueError(f"input is empty (shape {x.shape})")
    return x


@overload
def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: Literal[False] = False,
    max_pixels: int | None = MAX_PIXELS,
) -> np.ndarray: ...


@overload
def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: Literal[True],
    max_pixels: int | None = MAX_PIXELS,
) -> tuple[np.ndarray, npt.NDArray[np.int64]]: ...


@overload
def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: bool,
    max_pixels: int | None = MAX_PIXELS,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]: ...


def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: bool = False,
    max_pixels: int | None = MAX_PIXELS,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]:
    """Pool every (n, c) plane of ``x`` with a sliding window (or volume, or signal).

    The number of spatial axes follows the window: ``size`` as one int or a pair pools the last
    two axes, three values (depth, height, width) the last three, one value ``(k,)`` the last one.

    Parameters
    ----------
    x : array of shape (H, W), (C, H, W) or (N, C, H, W)
        Any integer or floating dtype, any memory layout (a transposed (H, W, C) image works
        without a copy). With a window of three axes, (D, H, W) up to (N, C, D, H, W); of one
        axis, (L,) up to (N, C, L).
    op : {"max", "min", "avg", "sum", "median", "lp"}
        lp is (sum of |x|^p)^(1/p), computed as m * (sum of (|x|/m)^p)^(1/p) with m the window's
        largest magnitude where |x|^p could leave the float range, so it stays finite and tends
        to max as p grows; median of an even count is the mean of the middle two. NaN in a
        window gives NaN (max and min: as PyTorch's, the NaN itself).
    size, stride, padding, dilation, ceil_mode, pad_mode
        The window's geometry; see :func:`poolcli.core.geometry.resolve`.
    p : float
        The power of lp, above 0.
    out : array, optional
        Where to write the result: shape ``output_shape(x.shape, ...)`` and dtype
        ``result_dtype(op, x.dtype)``, any layout.
    return_indices : bool
        With op "max": also return, for every output cell, the flat index (h * W + w) of its
        window's maximum in the input plane — the first one on ties, as PyTorch's. Needs
        pad_mode "ignore". In 3-D the index is (d * H + h) * W + w, in 1-D the position.
    max_pixels : int or None
        The most pixels the padded plane (with padding) and the output may hold, the output's
        counted as its plane's pixels times its frames (N of an (N, C, H, W) input); past it the
        call is a ValueError before anything is allocated. Default
        :data:`~poolcli.core.geometry.MAX_PIXELS` (2**30); None: no limit.

    Returns
    -------
    ndarray of the input's rank (and the int64 indices with ``return_indices``). max and min keep
    the dtype; the other ops give float32, or float64 for float64 input. A channel-last input
    gives a channel-last result.

    Examples
    --------
    >>> pool(np.arange(16.0).reshape(4, 4), "max", size=3, stride=1)
    array([[10., 11.],
           [14., 15.]])
    >>> pool(np.ones((1, 1, 3, 3)), "avg", size=2, padding=1, pad_mode="zero").shape
    (1, 1, 2, 2)
    >>> pool(np.arange(8.0).reshape(2, 2, 2), "max", size=(2, 2, 2))
    array([[[7.]]])
    >>> pool(np.array([1, 5, 2, 0, 3, 4]), "max", size=(3,))
    array([5, 4])
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    if op == "lp" and not (isinstance(p, (int, float)) and 0 < p < np.inf):
        raise ValueError(f"p must be a number above 0, got {p!r}")
    axes = window_axes(size)
    array = check_input(x, axes)
    geometry = _resolve(
        array.shape[-axes:], size, stride, padding, dilation, ceil_mode, pad_mode, max_pixels
    )
    check_output_pixels((*array.shape[:-axes], *geometry.out_shape), max_pixels, axes)
    if return_indices and (op != "max" or geometry.pad_mode != "ignore"):
        raise ValueError(
            f'return_indices needs op "max" and pad_mode "ignore", '
            f"got op {op!r} and pad_mode {geometry.pad_mode!r}"
        )
    if axes == 1:  # a signal pools as a plane of one row
        if out is not None and out.ndim:
            out = out[..., None, :]
        pooled = _pool(array[..., None, :], op, _as_plane(geometry), p, out, return_indices)
        if isinstance(pooled, tuple):
            return pooled[0][..., 0, :], pooled[1][..., 0, :]
        return pooled[..., 0, :]
    return _pool(array, op, geometry, p, out, return_indices)


def _pool(
    array: np.ndarray,
    op: str,
    geometry: Geometry,
    p: float,
    out: np.ndarray | None,
    return_indices: bool,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]:
    """Pool a checked input of two or three spatial axes with its resolved geometry."""
    rank = len(geometry.axes) + 2
    x4 = array.reshape((1,) * (rank - array.ndim) + array.shape) if array.ndim < rank else array
    out4 = _prepare_output(x4, op, geometry, out)
    if op == "mode":  # no separable reduction: windows gathered tile by tile (core.mode)
        if x4.size:
            out4[...] = mode_pool(x4, geometry)
        return _as_rank(out4, array.ndim)
    plan = _plan(x4.dtype, out4.dtype, op, geometry, float(p))
    size = x4.nbytes + out4.nbytes
    if return_indices:
        indices4 = np.empty_like(out4, dtype=np.int64)
        if x4.size == 0:
            return _as_rank(out4, array.ndim), _as_rank(indices4, array.ndim)
        argmax = plan.argmax_tile if plan.depth is None else plan.argmax_volume_tile
        _run(argmax, _blocks(x4, out4, indices4), plan, size)
        return _as_rank(out4, array.ndim), _as_rank(indices4, array.ndim)
    if x4.size:
        reduce = plan.reduce_tile if plan.depth is None else plan.reduce_volume_tile
        _run(reduce, _blocks(x4, out4), plan, size)
    return _as_rank(out4, array.ndim)


@functools.lru_cache(maxsize=64)
def _as_plane(geometry: Geometry) -> Geometry:
    """A signal's geometry as that of a plane of one row: a height axis of one cell, window 1."""
    row = AxisGeometry(1, 1, 1, 1, 0, 0, geometry.ceil_mode, 1)
    return Geometry((row, *geometry.axes), geometry.pad_mode)


#: Resolved geometries of recent calls, keyed by their arguments (and the arguments' types, so
#: that ``2``, ``2.0`` and ``True`` stay apart: resolve accepts or rejects them differently).
_geometries: dict[tuple[object, ...], Geometry] = {}


def _resolve(
    shape_hw: tuple[int, ...],
    size: PairLike,
    stride: PairLike | None,
    padding: PaddingLike,
    dilation: PairLike,
    ceil_mode: bool,
    pad_mode: PadMode,
    max_pixels: int | None = MAX_PIXELS,
) -> Geometry:
    """:func:`~poolcli.core.geometry.resolve`, remembered for plain arguments: most calls repeat."""
    arguments = (size, stride, padding, dilation, ceil_mode, pad_mode, max_pixels)
    try:
        key = (tuple(shape_hw), *(_typed(argument) for argument in arguments))
        cached = _geometries.get(key)
    except TypeError:  # an argument that cannot be a key (a list, an array)
        return resolve(shape_hw, *arguments)
    if cached is None:
        cached = resolve(shape_hw, *arguments)
        if len(_geometries) >= 256:
            _geometries.clear()
        _geometries[key] = cached
    return cached


def _typed(value: object) -> tuple[object, ...]:
    """``value`` with its type, or with the types of its items for a tuple; TypeError for others."""
    if type(value) is tuple:
        return (tuple, *(_typed(item) for item in value))
    if type(value) in (int, float, str, bool, type(None)):
        return (type(value), value)
    raise TypeError(type(value))


@functools.lru_cache(maxsize=128)
def _plan(dtype: np.dtype, out_dtype: np.dtype, op: str, geometry: Geometry, p: float) -> _Plan:
    """The plan of a call; plans are never changed, so calls with the same arguments share one."""
    return _Plan(dtype, out_dtype, _REDUCTIONS[op], geometry, p)


def _as_rank(a4: np.ndarray, ndim: int) -> np.ndarray:
    return a4.reshape(a4.shape[a4.ndim - ndim :]) if ndim < a4.ndim else a4


def _prepare_output(
    x4: np.ndarray, op: str, geometry: Geometry, out: np.ndarray | None
) -> np.ndarray:
    shape = (*x4.shape[:2], *geometry.out_shape)
    dtype = result_dtype(op, x4.dtype)
    if out is None:
        if _channel_last(x4):
            last = np.empty((shape[0], *shape[2:], shape[1]), dtype)
            return last.transpose(0, len(shape) - 1, *range(1, len(shape) - 1))
        return np.empty(shape, dtype)
    if out.dtype != dtype:
        raise ValueError(f"out must have dtype {dtype} for {op} of {x4.dtype}, got {out.dtype}")
    if out.ndim != len(shape):
        out = out.reshape(shape)
    if out.shape != shape:
        raise ValueError(f"out must have shape {shape}, got {out.shape}")
    return out


def _channel_last(a: np.ndarray) -> bool:
    """True when channels are the fastest-varying axis, as in an (H, W, C) image."""
    return a.shape[1] > 1 and abs(a.strides[1]) < abs(a.strides[-1])


def _blocks(x4: np.ndarray, *targets: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """The work as (B, H, W) blocks of B planes, or (1, H, W, C) blocks for channel-last input
    ((B, D, H, W) and (1, D, H, W, C) for volumes).

    Each block is the input's part followed by the matching parts of every target array.
    """
    arrays = (x4, *targets)
    if all(_channel_last(a) for a in arrays):
        order = (0, *range(2, x4.ndim), 1)
        return [tuple(a[n : n + 1].transpose(order) for a in arrays) for n in range(len(x4))]
    merged = [plane for plane in (_merge_planes(a) for a in arrays) if plane is not None]
    if len(merged) == len(arrays):
        return [tuple(merged)]
    return [tuple(a[n] for a in arrays) for n in range(len(x4))]


def _merge_planes(a: np.ndarray) -> np.ndarray | None:
    """(N, C, H, W) as a (N*C, H, W) view, or None when the layout does not allow it."""
    if a.shape[0] == 1 or a.strides[0] == a.shape[1] * a.strides[1]:
        return a.reshape(-1, *a.shape[2:]) if a.shape[0] > 1 else a[0]
    return None


def _run(
    reduce_tile: Callable[..., None],
    blocks: list[tuple[np.ndarray, ...]],
    plan: _Plan,
    size: int,
) -> None:
    """Cut blocks into tiles of output rows (or of whole planes) and reduce them in threads.

    ``size`` is the bytes of input and output of the call.
    """
    workers = parallel_workers()
    parallel = workers > 1 and size >= PARALLEL_MIN_BYTES
    if plan.depth is not None:
        tasks = _volume_tasks(blocks, plan, workers if parallel else 1)
    else:
        tasks = _plane_tasks(blocks, plan, workers if parallel else 1)
    if not parallel or len(tasks) < 2:
        for task in tasks:
            reduce_tile(*task)
        return
    # The calling thread and workers - 1 pool threads take tiles in turn until none is left: one
    # hand-off per helper, and a thread that the system holds back takes fewer tiles.
    turns = itertools.count()  # next() on a count is atomic under the GIL

    def take_tiles() -> None:
        for turn in turns:
            if turn >= len(tasks):
                return
            reduce_tile(*tasks[turn])

    executor = shared_executor()
    helpers = [executor.submit(take_tiles) for _ in range(min(workers, len(tasks)) - 1)]
    try:
        take_tiles()
    finally:
        for helper in helpers:
            helper.result()


def _plane_tasks(
    blocks: list[tuple[np.ndarray, ...]], plan: _Plan, workers: int
) -> list[tuple[object, ...]]:
    """Tiles of output rows (or of whole planes) of 2-D blocks: (*arrays, first, stop)."""
    out_h = plan.geometry.height.out
    planes = sum(len(block[0]) for block in blocks)
    tasks: list[tuple[object, ...]] = []
    for block in blocks:
        rows = plan.rows_per_tile(block[0])
        if workers > 1:  # at least one tile per worker
            rows = min(rows, -(-out_h * planes // workers))
        group = max(1, rows // out_h)
        for plane in range(0, len(block[0]), group):
            selected = tuple(a[plane : plane + group] for a in block)
            for first in range(0, out_h, rows):
                tasks.append((*selected, first, min(first + rows, out_h)))
    return tasks


def _volume_tasks(
    blocks: list[tuple[np.ndarray, ...]], plan: _Plan, workers: int
) -> list[tuple[object, ...]]:
    """Tiles of volume blocks: output rows of one output depth slice, or whole slices, or whole
    volumes, as (*arrays, front, back, first, stop)."""
    assert plan.depth is not None
    out_d, out_h = plan.depth.out, plan.geometry.height.out
    volumes = sum(len(block[0]) for block in blocks)
    tasks: list[tuple[object, ...]] = []
    for block in blocks:
        rows = plan.rows_per_tile(block[0])
        if workers > 1:  # at least one tile per worker
            rows = min(rows, -(-out_h * out_d * volumes // workers))
        slices = min(out_d, max(1, rows // out_h))
        group = max(1, rows // (out_h * out_d))
        rows = min(rows, out_h)
        for volume in range(0, len(block[0]), group):
            selected = tuple(a[volume : volume + group] for a in block)
            for front in range(0, out_d, slices):
                back = min(front + slices, out_d)
                for first in range(0, out_h, rows):
                    tasks.append((*selected, front, back, first, min(first + rows, out_h)))
    return tasks


_thread_state = threading.local()


@contextlib.contextmanager
def in_calling_thread() -> Iterator[None]:
    """Within the block, pooling in this thread does all its work itself, in no worker thread.

    For callers that already keep every CPU busy, such as a batch running one image per CPU.
    Other threads are not affected.
    """
    previous = getattr(_thread_state, "serial", False)
    _thread_state.serial = True
    try:
        yield
    finally:
        _thread_state.serial = previous


#: The CPUs, counted once: ``os.cpu_count()`` reads /sys on every call (microseconds).
CPUS = os.cpu_count() or 1


def parallel_workers() -> int:
    """Threads this thread's pooling may use: the CPUs, or 1 inside :func:`in_calling_thread`."""
    return 1 if getattr(_thread_state, "serial", False) else CPUS


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def shared_executor() -> ThreadPoolExecutor:
    """One pool of worker threads for the process: starting threads per call costs milliseconds."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(CPUS, thread_name_prefix="poolcli")
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
    if pad_mode == "edge":
        mapped = np.pad(inner, (axis.before, axis.after), mode="edge")
    elif pad_mode == "reflect":
        mapped = np.pad(inner, (axis.before, axis.after), mode="reflect")
    else:
        mapped = np.pad(inner, (axis.before, axis.after), constant_values=-1)
    return np.concatenate([mapped, np.full(axis.overhang, -2)])


def _taps_from(axis: AxisGeometry, coordinate: int) -> np.ndarray:
    """For each window along one axis, its first tap at ``coordinate`` or beyond (may be
    ``axis.size``, past the last tap). Arithmetic per window, whatever the window's size."""
    starts = np.arange(axis.out, dtype=np.int64) * axis.stride - axis.before
    taps: np.ndarray = np.clip(-((starts - coordinate) // axis.dilation), 0, axis.size)
    return taps


def _counted_cells(axis: AxisGeometry, ignore_padding: bool) -> np.ndarray:
    """How many cells of each window count towards a mean, along one axis.

    >>> from poolcli.core.geometry import axis_geometry
    >>> _counted_cells(axis_geometry(5, 3, 2, 1, 1, 1), ignore_padding=True)
    array([2, 3, 2])
    """
    low, high = (0, axis.length) if ignore_padding else (-axis.before, axis.length + axis.after)
    counts: np.ndarray = np.maximum(_taps_from(axis, high) - _taps_from(axis, low), 0)
    return counts


def _first_real_tap(axis: AxisGeometry) -> np.ndarray:
    """Input coordinate of the first real cell of each window along one axis.

    >>> from poolcli.core.geometry import axis_geometry
    >>> _first_real_tap(axis_geometry(5, 3, 2, 1, 1, 1))
    array([0, 1, 3])
    """
    starts = np.arange(axis.out, dtype=np.int64) * axis.stride - axis.before
    first: np.ndarray = starts + _taps_from(axis, 0) * axis.dilation
    return first


class _Plan:
    """Everything a tile needs, decided once per call."""

    def __init__(
        self,
        dtype: np.dtype,
        out_dtype: np.dtype,
        reduction: _Reduction,
        geometry: Geometry,
        power: float = 2.0,
    ) -> None:
        self.reduction = reduction
        self.geometry = geometry
        self.power = power
        self.out_dtype = out_dtype
        height, width = geometry.height, geometry.width
        self.row_map = _index_map(height, geometry.pad_mode)
        self.col_map = _index_map(width, geometry.pad_mode)
        #: The depth axis of a volume's geometry, None for a plane's.
        self.depth = geometry.axes[0] if len(geometry.axes) == 3 else None
        self.depth_map = None if self.depth is None else _index_map(self.depth, geometry.pad_mode)
        pad_mode = geometry.pad_mode
        # Ops that do not keep the dtype read the input as the float type of their result
        # (powers and medians need it), except sums, which accumulate integers exactly.
        self.source_dtype = dtype
        if reduction.kind in ("power", "median"):
            self.source_dtype = np.dtype(np.float64) if dtype.kind in "iu" else out_dtype
        self.neutral = reduction.neutral(self.source_dtype)
        if pad_mode == "zero":
            self.fill: float | int = 0
        elif isinstance(pad_mode, str):
            self.fill = self.neutral
        else:
            self.fill = pad_mode
        if not _fits(self.fill, self.source_dtype):
            if reduction.kind == "extreme":
                raise ValueError(
                    f"pad_mode {pad_mode!r} does not fit the input dtype {dtype}; "
                    f"use a value in the dtype's range"
                )
            self.source_dtype = np.dtype(np.float64)
        self.accumulator = self.source_dtype
        cells = math.prod(geometry.sizes)
        if reduction.accumulates:
            self.accumulator = _accumulator_dtype(self.source_dtype, cells)
        if reduction.kind in ("mean", "median"):
            ignore = pad_mode == "ignore"
            self.count_rows = _counted_cells(height, ignore)
            self.count_cols = _counted_cells(width, ignore)
            uniform = self.count_rows.min() == self.count_rows.max() == height.size
            uniform = uniform and self.count_cols.min() == self.count_cols.max() == width.size
            if self.depth is not None:
                self.count_depth = _counted_cells(self.depth, ignore)
                counts = self.count_depth
                uniform = uniform and counts.min() == counts.max() == self.depth.size
            self.uniform_count = cells if uniform else None
        self.byte_pairs = _byte_pairs_kind(dtype, reduction, geometry)
        self.input_holds_nan = dtype.kind == "f"  # may hold: only float inputs can
        #: lp: "scaled" divides each window by its largest magnitude before the powers;
        #: "checked" takes the powers directly and redoes a tile scaled if it overflowed; "direct"
        #: takes them directly, the dtype's range being too small to overflow.
        self.lp_way = "direct"
        if reduction.kind == "power":
            self.lp_way = _lp_way(dtype, self.accumulator, power, self.fill, cells)

    def rows_per_tile(self, source: np.ndarray) -> int:
        """Output rows per tile, so that a tile's temporaries stay near TILE_BYTES."""
        height, width = self.geometry.height, self.geometry.width
        spatial = len(self.geometry.axes)
        cells = math.prod(source.shape[1 + spatial :])
        if self.reduction.kind == "median":
            per_row = width.out * math.prod(self.geometry.sizes)
        else:
            per_row = (width.padded_length + width.overhang) * height.stride
            if self.depth is not None and self._pads_volume:
                per_row *= self.depth.window  # the padded copy holds every depth tap
        row_bytes = per_row * cells * max(self.accumulator.itemsize, self.source_dtype.itemsize)
        return max(1, TILE_BYTES // max(1, row_bytes))

    def _padded_rows(self, source: np.ndarray, first: int, stop: int) -> np.ndarray:
        """Output rows ``first:stop`` as the rows of the padded planes they read."""
        height = self.geometry.height
        first, stop = first * height.stride, (stop - 1) * height.stride + height.window
        if self.row_map is None and self.col_map is None:
            tile = source[:, first:stop]
            return tile if tile.dtype == self.source_dtype else tile.astype(self.source_dtype)
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

    def _counts(self, first: int, stop: int, ndim: int) -> int | np.ndarray:
        """Cells that count in each window of output rows ``first:stop``."""
        if self.uniform_count is not None:
            return self.uniform_count
        counts: np.ndarray = np.multiply.outer(self.count_rows[first:stop], self.count_cols)
        return counts.reshape(counts.shape + (1,) * (ndim - 3))

    def reduce_tile(self, source: np.ndarray, target: np.ndarray, first: int, stop: int) -> None:
        """Compute output rows ``first:stop`` of one block."""
        height, width = self.geometry.height, self.geometry.width
        kind = self.reduction.kind
        if self.byte_pairs and source.ndim == 3:
            self._byte_pairs(source, target, first, stop)
            return
        padded = self._padded_rows(source, first, stop)
        destination = target[:, first:stop]
        if kind == "median":
            with np.errstate(over="ignore", invalid="ignore"):  # NaN in, NaN out: no warning
                self._median(padded, destination, self._counts(first, stop, destination.ndim))
            return
        if kind == "power":
            passes = [(1, height, stop - first, MANY_TAPS[1]), (2, width, width.out, MANY_TAPS[2])]
            self._lp(padded, destination, passes)
            return
        combine = self.reduction.combine
        # A signal's row, or windows one row high: nothing to fold down the rows, and the
        # column pass reads the input itself, where gathering strided taps pays.
        gather = height.size == 1
        if gather:
            rows = _taps(padded, 1, height, stop - first)[0]
        else:
            rows = _reduce_windows(combine, padded, 1, height, stop - first, self.accumulator)
        in_place = self.accumulator == self.out_dtype
        sums = _reduce_windows(
            combine,
            rows,
            2,
            width,
            width.out,
            self.accumulator,
            destination if in_place else None,
            gather=gather,
        )
        if kind == "mean":
            self._divide(sums, destination, self._counts(first, stop, destination.ndim))
        elif not in_place:
            np.copyto(destination, sums, casting="unsafe")

    def _divide(self, sums: np.ndarray, destination: np.ndarray, counts: int | np.ndarray) -> None:
        """Means of a tile from its window sums."""
        # One rounding: uint8 sums are exact in float32 and divide there, as PyTorch's do;
        # wider integer sums divide in float64 before the cast.
        division = np.float64 if self.accumulator == np.float64 else self.out_dtype.type
        np.divide(sums, counts, out=destination, dtype=division, casting="unsafe")

    def _lp(self, padded: np.ndarray, destination: np.ndarray, passes: list[_Pass]) -> None:
        """lp of a tile, directly or scaled (:attr:`lp_way`), one reduction per pass."""
        # An overflow is the direct way's signal to scale, never a warning to the caller.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.lp_way != "scaled":
                self._direct_lp(padded, destination, passes)
            if self.lp_way == "scaled" or (
                self.lp_way == "checked" and np.isinf(destination).any()
            ):
                self._scaled_lp(padded, destination, passes)

    def _direct_lp(self, padded: np.ndarray, destination: np.ndarray, passes: list[_Pass]) -> None:
        """lp of a tile as (sum of |x|^p)^(1/p): PyTorch's way, for powers that stay in range."""
        sums = np.power(np.abs(padded), self.power, dtype=self.accumulator.type)
        for axis, geometry, count, many in passes[:-1]:
            sums = _reduce_windows(np.add, sums, axis, geometry, count, self.accumulator, many=many)
        axis, geometry, count, many = passes[-1]
        in_place = destination if self.accumulator == self.out_dtype else None
        sums = _reduce_windows(
            np.add, sums, axis, geometry, count, self.accumulator, in_place, many=many
        )
        np.power(sums, 1.0 / self.power, out=destination, casting="unsafe")

    def _scaled_lp(self, padded: np.ndarray, destination: np.ndarray, passes: list[_Pass]) -> None:
        """lp of a tile as m * (sum of (|x|/m)^p)^(1/p), m the largest |x| of each window.

        Separable like the other ops: down the rows, each column of a window gives its largest
        magnitude m and the sum s of (|x|/m)^p; across, the window's m is the largest of its
        columns' and its sum adds each column's s * (m_column/m)^p (and so on for a third
        axis). No term exceeds 1, so nothing overflows, and the largest term is 1, so nothing
        vanishes: the result tends to the max. NaN propagates; an infinity gives infinity.
        """
        magnitudes = np.abs(padded, dtype=self.accumulator.type)
        axis, geometry, count, _ = passes[0]
        taps = _taps(magnitudes, axis, geometry, count)
        largest = _combine_all(np.maximum, taps, self.accumulator)
        sums = self._scaled_sums(taps, largest, None)
        for axis, geometry, count, _ in passes[1:]:
            taps = _taps(largest, axis, geometry, count)
            largest = _combine_all(np.maximum, taps, self.accumulator)
            sums = self._scaled_sums(taps, largest, _taps(sums, axis, geometry, count))
        np.power(sums, 1.0 / self.power, out=sums)
        np.multiply(largest, sums, out=destination, casting="unsafe")

    def _scaled_sums(
        self, taps: list[np.ndarray], largest: np.ndarray, weights: list[np.ndarray] | None
    ) -> np.ndarray:
        """Sum over ``taps`` of (tap / largest)^p, each term times its weight when given."""
        # Where the largest is 0 every term is 0; where it is infinite, dividing by 1 keeps it.
        scale = np.where((largest == 0) | np.isinf(largest), 1, largest)
        total = np.zeros_like(largest)
        term = np.empty_like(largest)
        for index, tap in enumerate(taps):
            np.divide(tap, scale, out=term)
            np.power(term, self.power, out=term)
            if weights is not None:
                np.multiply(term, weights[index], out=term)
            total += term
        return total

    def _byte_pairs(self, source: np.ndarray, target: np.ndarray, first: int, stop: int) -> None:
        """Output rows ``first:stop`` of 2×2 windows, stride 2, over (B, H, W) uint8 planes."""
        tile = source[:, 2 * first : 2 * stop, : 2 * self.geometry.width.out]
        destination = target[:, first:stop]
        if self.byte_pairs == "extreme":
            _extreme_of_byte_pairs(self.reduction.combine, tile, destination)
        else:
            _sum_byte_pairs(tile, destination, 0.25 if self.reduction.kind == "mean" else 1.0)

    def _median(
        self, padded: np.ndarray, destination: np.ndarray, counts: int | np.ndarray
    ) -> None:
        """Medians of a tile's windows, from a copy of the windows (a tile's im2col).

        ``counts`` are the cells that count in each window (:meth:`_counts`).
        """
        axes = self.geometry.axes
        spatial = len(axes)
        block, rest = padded.shape[0], padded.shape[1 + spatial :]
        steps, channel = padded.strides[1 : 1 + spatial], padded.strides[1 + spatial :]
        shape = (block, *destination.shape[1 : 1 + spatial], *rest, *self.geometry.sizes)
        strides = (
            padded.strides[0],
            *(step * axis.stride for step, axis in zip(steps, axes, strict=True)),
        )
        strides += (
            *channel,
            *(step * axis.dilation for step, axis in zip(steps, axes, strict=True)),
        )
        view = np.lib.stride_tricks.as_strided(padded, shape, strides, writeable=False)
        windows = view.reshape(*shape[:-spatial], -1)
        if self.uniform_count is not None:
            np.median(windows, axis=-1, out=destination)
            return
        # Cells that do not count hold NaN, which sorts last; pick the middle of the rest.
        ordered = np.sort(windows, axis=-1)
        counts = np.broadcast_to(counts, ordered.shape[:-1])
        low = np.take_along_axis(ordered, ((counts - 1) // 2)[..., None], axis=-1)[..., 0]
        high = np.take_along_axis(ordered, (counts // 2)[..., None], axis=-1)[..., 0]
        np.multiply(low, 0.5, out=low)  # halves first: the sum of two large floats overflows
        np.multiply(high, 0.5, out=high)
        np.add(low, high, out=destination, casting="unsafe")
        if self.input_holds_nan:
            # A NaN of the input's own sorts among those of the padding: more NaN than padded
            # cells means the window holds one, and its median is NaN, as np.median's.
            last_counted = np.take_along_axis(ordered, (counts - 1)[..., None], axis=-1)[..., 0]
            destination[np.isnan(last_counted)] = np.nan

    def argmax_tile(
        self, source: np.ndarray, target: np.ndarray, indices: np.ndarray, first: int, stop: int
    ) -> None:
        """Output rows ``first:stop`` of max with flat input indices of the arg-max (PyTorch's)."""
        height, width = self.geometry.height, self.geometry.width
        padded = self._padded_rows(source, first, stop)
        values, where = target[:, first:stop], indices[:, first:stop]
        trailing = (1,) * (values.ndim - 3)
        row_starts = (np.arange(first, stop) * height.stride - height.before).reshape(-1, 1)
        col_starts = np.arange(width.out) * width.stride - width.before
        first_rows = _first_real_tap(height)[first:stop].reshape(-1, 1)
        first_cols = _first_real_tap(width)
        values[...] = self.neutral
        where[...] = (first_rows * width.length + first_cols).reshape(values.shape[1:3] + trailing)
        row_span = (stop - first - 1) * height.stride + 1
        col_span = (width.out - 1) * width.stride + 1
        for i in range(height.size):
            rows = slice(i * height.dilation, i * height.dilation + row_span, height.stride)
            for j in range(width.size):
                cols = slice(j * width.dilation, j * width.dilation + col_span, width.stride)
                tap = padded[:, rows, cols]
                better = tap > values
                if tap.dtype.kind == "f":
                    better |= np.isnan(tap)
                flat = (row_starts + i * height.dilation) * width.length
                flat = (flat + col_starts + j * width.dilation).reshape(flat.shape[:1] + (-1,))
                np.copyto(values, tap, where=better)
                np.copyto(where, flat.reshape(flat.shape + trailing), where=better)

    # -----------------------------------------------------------------------------------------
    # Volumes: (B, D, H, W) blocks, a depth pass before the rows and the columns.

    @property
    def _pads_volume(self) -> bool:
        """True when a volume's tiles are copies: some axis has padding or an overhang."""
        return not (self.depth_map is None and self.row_map is None and self.col_map is None)

    def _padded_volume(
        self, source: np.ndarray, front: int, back: int, first: int, stop: int
    ) -> np.ndarray:
        """The cells of the padded volumes that output slices ``front:back``, rows
        ``first:stop`` read: a view where nothing is padded, else a copy of that band."""
        assert self.depth is not None
        depth, height = self.depth, self.geometry.height
        low, high = front * depth.stride, (back - 1) * depth.stride + depth.window
        top, bottom = first * height.stride, (stop - 1) * height.stride + height.window
        if not self._pads_volume:
            tile = source[:, low:high, top:bottom]
            return tile if tile.dtype == self.source_dtype else tile.astype(self.source_dtype)
        depths = self.depth_map[low:high] if self.depth_map is not None else np.arange(low, high)
        rows = self.row_map[top:bottom] if self.row_map is not None else np.arange(top, bottom)
        tile = source[:, np.maximum(depths, 0)[:, None], np.maximum(rows, 0)]
        if self.col_map is not None:
            tile = np.take(tile, np.maximum(self.col_map, 0), axis=3)
        if tile.dtype != self.source_dtype:
            tile = tile.astype(self.source_dtype)
        for marker, value in ((-1, self.fill), (-2, self.neutral)):
            tile[:, depths == marker] = value
            tile[:, :, rows == marker] = value
            if self.col_map is not None:
                tile[:, :, :, self.col_map == marker] = value
        return tile

    def _volume_counts(
        self, front: int, back: int, first: int, stop: int, ndim: int
    ) -> int | np.ndarray:
        """Cells that count in each window of output slices ``front:back``, rows ``first:stop``."""
        if self.uniform_count is not None:
            return self.uniform_count
        planes = np.multiply.outer(self.count_rows[first:stop], self.count_cols)
        counts: np.ndarray = np.multiply.outer(self.count_depth[front:back], planes)
        return counts.reshape(counts.shape + (1,) * (ndim - 4))

    def _volume_passes(self, slices: int, rows: int) -> list[_Pass]:
        assert self.depth is not None
        height, width = self.geometry.height, self.geometry.width
        return [
            (1, self.depth, slices, MANY_TAPS[1]),
            (2, height, rows, MANY_TAPS[1]),
            (3, width, width.out, MANY_TAPS[2]),
        ]

    def reduce_volume_tile(
        self, source: np.ndarray, target: np.ndarray, front: int, back: int, first: int, stop: int
    ) -> None:
        """Compute output rows ``first:stop`` of output slices ``front:back`` of one block."""
        kind = self.reduction.kind
        padded = self._padded_volume(source, front, back, first, stop)
        destination = target[:, front:back, first:stop]
        passes = self._volume_passes(back - front, stop - first)
        if kind == "median":
            counts = self._volume_counts(front, back, first, stop, destination.ndim)
            with np.errstate(over="ignore", invalid="ignore"):  # NaN in, NaN out: no warning
                self._median(padded, destination, counts)
            return
        if kind == "power":
            self._lp(padded, destination, passes)
            return
        combine = self.reduction.combine
        folded = padded
        for axis, geometry, count, many in passes[:-1]:
            if geometry.size == 1:  # nothing to fold along this axis
                folded = _taps(folded, axis, geometry, count)[0]
            else:
                folded = _reduce_windows(
                    combine, folded, axis, geometry, count, self.accumulator, many=many
                )
        axis, geometry, count, many = passes[-1]
        in_place = self.accumulator == self.out_dtype
        sums = _reduce_windows(
            combine,
            folded,
            axis,
            geometry,
            count,
            self.accumulator,
            destination if in_place else None,
            many=many,
        )
        if kind == "mean":
            self._divide(
                sums, destination, self._volume_counts(front, back, first, stop, sums.ndim)
            )
        elif not in_place:
            np.copyto(destination, sums, casting="unsafe")

    def argmax_volume_tile(
        self,
        source: np.ndarray,
        target: np.ndarray,
        indices: np.ndarray,
        front: int,
        back: int,
        first: int,
        stop: int,
    ) -> None:
        """Max of a volume tile with the flat input indices (d * H + h) * W + w of the arg-max:
        the first in (d, h, w) order on ties, the last NaN where there are NaN (PyTorch's)."""
        assert self.depth is not None
        depth, height, width = self.depth, self.geometry.height, self.geometry.width
        padded = self._padded_volume(source, front, back, first, stop)
        values, where = target[:, front:back, first:stop], indices[:, front:back, first:stop]
        trailing = (1,) * (values.ndim - 4)
        starts = [
            (np.arange(front, back) * depth.stride - depth.before).reshape(-1, 1, 1),
            (np.arange(first, stop) * height.stride - height.before).reshape(-1, 1),
            np.arange(width.out) * width.stride - width.before,
        ]
        first_real = [
            _first_real_tap(depth)[front:back].reshape(-1, 1, 1),
            _first_real_tap(height)[first:stop].reshape(-1, 1),
            _first_real_tap(width),
        ]
        grid = values.shape[1:4]
        values[...] = self.neutral
        initial = (first_real[0] * height.length + first_real[1]) * width.length + first_real[2]
        where[...] = initial.reshape(grid + trailing)
        spans = [
            (back - front - 1) * depth.stride + 1,
            (stop - first - 1) * height.stride + 1,
            (width.out - 1) * width.stride + 1,
        ]
        axes = (depth, height, width)
        for taps in itertools.product(*(range(axis.size) for axis in axes)):
            index = tuple(
                slice(tap * axis.dilation, tap * axis.dilation + span, axis.stride)
                for tap, axis, span in zip(taps, axes, spans, strict=True)
            )
            tap_values = padded[(slice(None), *index)]
            better = tap_values > values
            if tap_values.dtype.kind == "f":
                better |= np.isnan(tap_values)
            d, h, w = (
                start + tap * axis.dilation
                for start, tap, axis in zip(starts, taps, axes, strict=True)
            )
            flat = np.broadcast_to((d * height.length + h) * width.length + w, grid)
            np.copyto(values, tap_values, where=better)
            np.copyto(where, flat.reshape(grid + trailing), where=better)


def _lp_way(
    dtype: np.dtype,
    accumulator: np.dtype,
    power: float,
    fill: float | int,
    cells: int,
) -> str:
    """How lp takes its powers (:attr:`_Plan.lp_way`): directly where no |x|^p of the dtype, summed
    over a window, can overflow the accumulator, or vanish; else scaled by each window's largest.

    Float inputs may hold any magnitude: up to p = 2 they take the powers directly and check for
    an overflow (a value below 1e-19 would have to be a window's largest to lose precision);
    beyond, their powers could vanish as well (0.5**1000 is 0 in float32), so they are scaled.
    """
    exponents = np.finfo(accumulator)
    if dtype.kind == "f":
        return "checked" if power <= 2 else "scaled"
    info = np.iinfo(dtype)
    largest = max(abs(int(info.min)), int(info.max), abs(float(fill)))
    smallest = abs(float(fill)) if fill else 1.0
    high = power * math.log2(largest) + math.log2(cells) < exponents.maxexp - 1
    low = power * math.log2(min(smallest, 1.0)) > exponents.minexp + 1
    return "direct" if high and low else "scaled"


def _taps(source: np.ndarray, axis: int, geometry: AxisGeometry, count: int) -> list[np.ndarray]:
    """The strided slices of ``source`` along ``axis`` that are each window's k-th cell."""
    step, spacing = geometry.stride, geometry.dilation
    span = (count - 1) * step + 1
    index = (slice(None),) * axis
    return [
        source[(*index, slice(k * spacing, k * spacing + span, step))] for k in range(geometry.size)
    ]


#: Windows of at least this many taps are reduced in one call over a window view: down the rows
#: (the view's inner axis is a contiguous row) and across the columns (an inner axis of a few
#: strided cells, slow per call, so only for long windows). A volume's depth goes as its rows.
MANY_TAPS = {1: 4, 2: 9}

#: One separable pass of a tile: (axis of the tile, the axis's geometry, windows, MANY_TAPS).
_Pass = tuple[int, AxisGeometry, int, int]


def _reduce_windows(
    combine: np.ufunc,
    source: np.ndarray,
    axis: int,
    geometry: AxisGeometry,
    count: int,
    dtype: np.dtype,
    out: np.ndarray | None = None,
    many: int | None = None,
    gather: bool = False,
) -> np.ndarray:
    """Reduce ``count`` windows along ``axis`` (1 for rows, 2 for columns) of a block.

    Few taps: one strided slice per tap, folded pairwise (each call streams contiguous memory;
    ``gather``: see :func:`_combine_all`). Many taps (``many``, by default ``MANY_TAPS[axis]``):
    a strided window view with the taps on an extra axis, reduced in one call.
    """
    step, spacing = geometry.stride, geometry.dilation
    if gather and _slides(combine, source, axis, geometry, dtype):
        return _sliding_extremes(combine, source, axis, geometry, count, out)
    if geometry.size < (MANY_TAPS[axis] if many is None else many):
        taps = _taps(source, axis, geometry, count)
        return _combine_all(combine, taps, dtype, out, gather)
    shape = (*source.shape[:axis], count, geometry.size, *source.shape[axis + 1 :])
    along = source.strides[axis]
    strides = (*source.strides[:axis], along * step, along * spacing, *source.strides[axis + 1 :])
    view = np.lib.stride_tricks.as_strided(source, shape, strides, writeable=False)
    reduced: np.ndarray = combine.reduce(view, axis=axis + 1, dtype=np.dtype(dtype).type, out=out)
    return reduced


def _combine_all(
    combine: Callable[..., np.ndarray],
    taps: list[np.ndarray],
    dtype: np.dtype,
    out: np.ndarray | None = None,
    gather: bool = False,
) -> np.ndarray:
    """Fold ``taps`` with ``combine`` into ``out`` (allocated in ``dtype`` when None).

    ``gather``: taps read from a large input rather than a tile's fresh temporaries, where
    copying strided float taps to contiguous scratch before max or min pays.
    """
    if out is None:
        out = np.empty(taps[0].shape, dtype)
    if len(taps) == 1:
        np.copyto(out, taps[0], casting="unsafe")
        return out
    # The scalar type, not the dtype instance: numpy picks a loop several times slower for the
    # latter (numpy 2.4, float32).
    loop = np.dtype(dtype).type
    if gather and _gathers(combine, taps, loop):
        # numpy's float max and min run cell by cell over strided cells, its copies do not:
        # taps of a stride along the inner axis are gathered into contiguous scratch first
        # (max of 4 taps of stride 4: 1.5 times faster).
        first, second = _gathered(taps[0], 2), _gathered(taps[1], 3)
        combine(first, second, out=out, dtype=loop, casting="unsafe")
        for tap in taps[2:]:
            combine(out, _gathered(tap, 3), out=out, dtype=loop, casting="unsafe")
        return out
    combine(taps[0], taps[1], out=out, dtype=loop, casting="unsafe")
    for tap in taps[2:]:
        combine(out, tap, out=out, dtype=loop, casting="unsafe")
    return out


#: Folds of at least this many float taps of max or min, strided along the inner axis, straight
#: from the input (a signal's), gather the taps first (:func:`_combine_all`); sums are faster
#: strided, and fewer taps, or taps of a row pass's fresh output (planes), gain nothing.
GATHER_TAPS = 4


def _gathers(combine: Callable[..., np.ndarray], taps: list[np.ndarray], loop: type) -> bool:
    first = taps[0]
    return (
        len(taps) >= GATHER_TAPS
        and combine in (np.maximum, np.minimum)
        and first.dtype == loop
        and first.dtype.kind == "f"
        and _strided_inner(first)
    )


#: Sliding extremes work on blocks of about this many bytes of input (a tile's, unless its rows
#: are long), in runs of at least SLIDING_RUN windows: each block costs a few numpy calls, and
#: the two scratch arrays are the size of a block.
SLIDING_BYTES = 4 << 20
SLIDING_RUN = 8192


def _slides(
    combine: Callable[..., np.ndarray],
    source: np.ndarray,
    axis: int,
    geometry: AxisGeometry,
    dtype: np.dtype,
) -> bool:
    """True where max or min of windows along the inner axis of a float tile goes by
    :func:`_sliding_extremes`: windows of at least GATHER_TAPS cells next to each other, that
    touch or overlap (a stride of 2 up to the size), over cells next to each other in memory."""
    return (
        combine in (np.maximum, np.minimum)
        and source.dtype == dtype
        and source.dtype.kind == "f"
        and axis == source.ndim - 1 >= 1
        and source.strides[axis] == source.itemsize
        and geometry.dilation == 1
        and 2 <= geometry.stride <= geometry.size
        and geometry.size >= GATHER_TAPS
    )


def _sliding_extremes(
    combine: Callable[..., np.ndarray],
    source: np.ndarray,
    axis: int,
    geometry: AxisGeometry,
    count: int,
    out: np.ndarray | None,
) -> np.ndarray:
    """Max (or min) of ``count`` windows along the inner axis of ``source``, by doubling.

    The extreme of every run of r cells, for r = 1, 2, 4, ... (up to the size, the last step
    overlapping), is the extreme of two runs of the step before: each pass is one call over
    two contiguous views, where numpy's max runs in SIMD; the windows are then every
    stride-th run, copied out once. The strided taps' way copies every cell of every window
    from a strided view, cell by cell (max 4/4 of a float signal: about 1.4 times slower in one
    thread). Exact: max and min pick one of their operands (of two zeros, either sign).

    >>> from poolcli.core.geometry import axis_geometry
    >>> x = np.array([[3.0, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]])
    >>> _sliding_extremes(np.maximum, x, 1, axis_geometry(11, 5, 3, 1, 0, 0), 3, None)
    array([[5., 9., 6.]])
    """
    size, step = geometry.size, geometry.stride
    if out is None:
        out = np.empty((*source.shape[:axis], count), source.dtype)
    # Blocks of whole rows of the first axis where they fit SLIDING_BYTES, else of one by runs
    # of windows.
    inner = math.prod(source.shape[1:axis]) * step * source.itemsize
    run = min(count, max(SLIDING_RUN, SLIDING_BYTES // max(1, inner)))
    group = max(1, SLIDING_BYTES // max(1, inner * count)) if run == count else 1
    group = min(group, len(source))
    cells = (run - 1) * step + size
    scratch = [
        _scratch((group, *source.shape[1:axis], cells), source.dtype, slot) for slot in (2, 3)
    ]
    for low in range(0, len(source), group):
        high = min(low + group, len(source))
        for first in range(0, count, run):
            stop = min(first + run, count)
            level = source[low:high, ..., first * step : (stop - 1) * step + size]
            reach, which = 1, 0
            while reach < size:
                shift = min(reach, size - reach)
                length = level.shape[-1] - shift
                target = scratch[which][: high - low, ..., :length]
                combine(level[..., :length], level[..., shift:], out=target)
                level, reach, which = target, reach + shift, 1 - which
            windows = level[..., : (stop - first - 1) * step + 1 : step]
            np.copyto(out[low:high, ..., first:stop], windows)
    return out


def _strided_inner(a: np.ndarray) -> bool:
    """True when the cells of ``a``'s inner axis are not next to each other in memory."""
    return a.ndim > 0 and a.shape[-1] > 1 and a.strides[-1] != a.itemsize


def _gathered(tap: np.ndarray, slot: int) -> np.ndarray:
    """``tap`` copied into this thread's scratch ``slot``, contiguous."""
    copy = _scratch(tap.shape, tap.dtype, slot)
    np.copyto(copy, tap)
    return copy


def _fits(value: float | int, dtype: np.dtype) -> bool:
    """True when ``value`` is exactly representable in ``dtype``."""
    if dtype.kind == "f":
        return True
    if isinstance(value, float) and not value.is_integer():
        return False
    info = np.iinfo(dtype)
    return info.min <= value <= info.max


def _byte_pairs_kind(dtype: np.dtype, reduction: _Reduction, geometry: Geometry) -> str | None:
    """ "sum" or "extreme" when the call pools uint8 planes by 2×2 windows with stride 2 and no
    padding (the commonest downsampling): these have a kernel of their own. Else None."""
    if dtype != np.uint8 or reduction.kind not in ("sum", "mean", "extreme"):
        return None
    if len(geometry.axes) != 2:
        return None
    for axis in (geometry.height, geometry.width):
        if (axis.size, axis.stride, axis.dilation, axis.before, axis.after) != (2, 2, 1, 0, 0):
            return None
        if axis.overhang:
            return None
    return "extreme" if reduction.kind == "extreme" else "sum"


def _sum_byte_pairs(tile: np.ndarray, destination: np.ndarray, scale: float) -> None:
    """Sums of the 2×2 windows of a (B, 2r, 2c) uint8 tile, times ``scale``, into ``destination``.

    The rows are read as uint16 words, each one horizontal pair: its low byte plus its high byte
    (shifted down) is the pair's sum, computed for whole rows in contiguous uint16 arrays rather
    than with numpy calls over every other byte; adding the pair sums of two rows gives the window
    sums (at most 4 × 255, exact). Rows that cannot be read as aligned words (an odd row length
    or offset in memory) are copied first.

    >>> tile = np.array([[[1, 2, 3, 4], [5, 6, 7, 8]]], dtype=np.uint8)
    >>> sums = np.empty((1, 1, 2), np.float32)
    >>> _sum_byte_pairs(tile, sums, 1.0)
    >>> sums
    array([[[14., 22.]]], dtype=float32)
    """
    words = tile.view(np.uint16) if tile.strides[-1] == 1 else None
    if words is None or not words.flags.aligned:
        words = np.ascontiguousarray(tile).view(np.uint16)
    pairs = np.bitwise_and(words, np.uint16(0xFF), out=_scratch(words.shape, words.dtype, 0))
    high = np.right_shift(words, np.uint16(8), out=_scratch(words.shape, words.dtype, 1))
    pairs += high
    sums = high[:, : len(high[0]) // 2]  # reuses the memory of high
    np.add(pairs[:, 0::2], pairs[:, 1::2], out=sums)
    np.copyto(destination, sums, casting="unsafe")
    if scale != 1:
        # The sums are exact in float32 and a quarter is a power of two: no rounding.
        np.multiply(destination, destination.dtype.type(scale), out=destination)


def _extreme_of_byte_pairs(combine: np.ufunc, tile: np.ndarray, destination: np.ndarray) -> None:
    """Max (or min) of the 2×2 windows of a (B, 2r, 2c) uint8 tile into ``destination``.

    Down the rows first, into a new contiguous (B, r, 2c) array; read as uint16, each word holds
    one horizontal pair, so its low byte and its high byte (shifted down) are the two candidates,
    combined in contiguous uint16 arrays rather than with a numpy call over every other byte.

    >>> tile = np.array([[[1, 9, 3, 4], [5, 6, 7, 2]]], dtype=np.uint8)
    >>> largest = np.empty((1, 1, 2), np.uint8)
    >>> _extreme_of_byte_pairs(np.maximum, tile, largest)
    >>> largest
    array([[[9, 7]]], dtype=uint8)
    """
    shape = (len(tile), tile.shape[1] // 2, tile.shape[2])
    rows = combine(tile[:, 0::2], tile[:, 1::2], out=_scratch(shape, tile.dtype, 0))
    pairs = rows.view(np.uint16)
    low = np.bitwise_and(pairs, np.uint16(0xFF), out=_scratch(pairs.shape, pairs.dtype, 1))
    pairs >>= 8
    combine(low, pairs, out=low)
    np.copyto(destination, low, casting="unsafe")


def _scratch(shape: tuple[int, ...], dtype: np.dtype, slot: int) -> np.ndarray:
    """Working memory of this thread for a kernel's temporaries, kept from call to call.

    Tiles are at most about ``TILE_BYTES``, so this holds a few MiB per thread. Allocating
    temporaries afresh instead can make malloc return and fault in the same pages on every call:
    ten times the kernel's own time on a 700 × 1024 image in a fresh process.
    """
    buffers = getattr(_thread_state, "scratch", None)
    if buffers is None:
        buffers = _thread_state.scratch = {}
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = buffers.get(slot)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[slot] = np.empty(nbytes, np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)
