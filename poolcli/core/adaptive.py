"""Pooling to a size rather than by a window: global, adaptive and fractional max pooling.

:func:`poolcli.pool` slides a window of a given size; these choose the windows from the output
size instead:

- :func:`global_pool`: one window, the whole plane; (…, 1, 1) out.

Each pools the last two axes by default; an ``output_size`` or window of three values (depth,
height, width) pools a volume's three, PyTorch's 3-D pooling (``axes=3`` for global_pool), and
adaptive and global pooling take signals too (one value, ``axes=1``).
- :func:`adaptive_pool`: window ``i`` of an axis covers ``[floor(i·H/out), ceil((i+1)·H/out))``,
  PyTorch's AdaptiveAvgPool2d / AdaptiveMaxPool2d rule. Neighbouring windows differ in length by
  at most one and may overlap by one cell.
- :func:`fractional_max_pool`: Graham's fractional max pooling, windows of a fixed size whose
  pseudo-random starts shrink the plane by a non-integer ratio; PyTorch's FractionalMaxPool2d
  start sequence, so the same samples give the same result to the bit.

Like the engine, this module imports numpy only.

Examples
--------
The lectures' 4×4 matrix:

>>> import numpy as np
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
>>> global_pool(x, "max")
array([[4]])
>>> global_pool(x)
array([[1.4375]], dtype=float32)
>>> adaptive_pool(x, 3, "max")
array([[2, 2, 3],
       [3, 2, 3],
       [4, 4, 2]])
"""

from __future__ import annotations

import math
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from poolcli.core.engine import check_input, parallel_workers, shared_executor
from poolcli.core.geometry import AXIS_NAMES, PairLike, as_axes, window_axes

__all__ = ["adaptive_pool", "fractional_max_pool", "global_pool"]

OPS = ("avg", "max")

#: The output size of adaptive pooling: one int, or (height, width) where None keeps the input's
#: (one value per axis: (length,) or (depth, height, width) for 1 or 3 axes).
OutputSize = int | tuple[int | None, ...] | list[int | None]


def _check_op(op: str) -> str:
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    return op


def _mean_dtype(dtype: np.dtype) -> np.dtype:
    """float64 stays float64, everything else averages to float32 (as pool does)."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


# ---------------------------------------------------------------------------------------------
# Global


def global_pool(x: npt.ArrayLike, op: str = "avg", axes: int = 2) -> np.ndarray:
    """Pool each (n, c) plane of ``x`` to a single value: its mean or its maximum.

    Parameters
    ----------
    x : array of shape (H, W), (C, H, W) or (N, C, H, W)
        Any integer or floating dtype, any memory layout. With ``axes=3``, volumes (D, H, W) up
        to (N, C, D, H, W); with ``axes=1``, signals (L,) up to (N, C, L).
    op : {"avg", "max"}
    axes : {2, 3, 1}
        How many trailing axes are pooled.

    Returns
    -------
    ndarray of the input's rank, the last two axes of length 1, in C order
        (0, C, 1, 1) for an empty batch. max keeps the dtype; avg gives float32, or float64 for
        float64 input. Integer planes are summed exactly in float64, so a uint8 photo of any size
        neither overflows nor drifts; float planes pairwise in their own precision, as PyTorch
        does.

    Examples
    --------
    The average colour of a 2×2 RGB image, as (1, 3, 1, 1):

    >>> import numpy as np
    >>> rgb = np.array([[[255, 0, 0], [255, 0, 0]], [[0, 0, 255], [0, 255, 0]]], np.uint8)
    >>> global_pool(rgb.transpose(2, 0, 1)[None]).ravel()
    array([127.5 ,  63.75,  63.75], dtype=float32)
    >>> global_pool(np.ones((2, 3, 5, 4)), "max").shape
    (2, 3, 1, 1)
    >>> global_pool(np.ones((2, 1, 4, 5, 6)), axes=3).shape
    (2, 1, 1, 1, 1)
    """
    _check_op(op)
    if axes not in AXIS_NAMES:
        raise ValueError(f"axes must be 1, 2 or 3 (the spatial axes pooled), got {axes!r}")
    array = check_input(x, axes)
    spatial = tuple(range(-axes, 0))
    if op == "max":
        largest: np.ndarray = array.max(axis=spatial, keepdims=True)
        return largest
    if axes != 2:
        # A volume whose planes follow each other in memory sums as planes of D*H rows; a
        # signal as planes of one row.
        leading, lengths = array.shape[:-axes], array.shape[-axes:]
        if axes == 1:
            plane = array[..., None, :]
        elif lengths[0] == 1 or array.strides[-3] == lengths[1] * array.strides[-2]:
            plane = array.reshape(*leading, lengths[0] * lengths[1], lengths[2])
        else:
            plane = None
        if plane is not None:
            return global_pool(plane, op).reshape(*leading, *(1,) * axes)
    if array.dtype.kind == "f" and axes == 2:
        total = _float_sums(array)
    else:
        total = array.sum(axis=spatial, keepdims=True, dtype=np.float64)
    total /= math.prod(array.shape[-axes:])
    return total.astype(_mean_dtype(array.dtype), copy=False)


def _contiguous_planes(x: np.ndarray) -> bool:
    """True when each (H, W) plane is one contiguous run of memory."""
    item = x.itemsize
    return (x.shape[-1] == 1 or x.strides[-1] == item) and (
        x.shape[-2] == 1 or x.strides[-2] == x.shape[-1] * item
    )


#: Inputs of at least this many cells are summed in two threads.
_PARALLEL_SUM_CELLS = 1 << 18


def _float_sums(x: np.ndarray) -> np.ndarray:
    """Sum every plane of a float array in its own precision (:func:`_plane_sums`).

    These float32 sums of a 4K plane are within about 1e-7 of the exact mean (PyTorch also sums
    in float32). Large inputs are summed in two threads, each taking half of the planes (or, for
    an odd count below 16, half of the rows of every plane).
    """
    if not _contiguous_planes(x):
        # Channel-last or strided: numpy adds strided float32 cells one by one, drifting by
        # 1e-5 over a photo, so these sum in float64.
        wide: np.ndarray = x.sum(axis=(-2, -1), keepdims=True, dtype=np.float64)
        return wide
    height, width = x.shape[-2:]
    planes = x.reshape(-1, height, width)  # a view: each plane is contiguous
    if x.size < _PARALLEL_SUM_CELLS or parallel_workers() < 2:
        sums = _plane_sums(planes)
    elif len(planes) % 2 == 0 or len(planes) >= 16:
        # Half of the planes in a worker thread, the rest here: each thread reads one run of
        # memory (faster than both reading halves of every plane).
        half = len(planes) // 2
        first = shared_executor().submit(_plane_sums, planes[:half])
        last = _plane_sums(planes[half:])
        sums = np.concatenate([first.result(), last])
    else:  # a few planes: the first half of every plane in a worker thread, the second here
        half = height // 2
        first = shared_executor().submit(_plane_sums, planes[:, :half])
        sums = _plane_sums(planes[:, half:])
        sums += first.result()
    return sums.reshape(*x.shape[:-2], 1, 1)


#: Cells summed in one run by :func:`_plane_sums` (whole rows of a plane, up to this many).
_SUM_BLOCK = 4096


def _plane_sums(planes: np.ndarray) -> np.ndarray:
    """Sums of (P, H, W) float planes: runs of whole rows of up to ``_SUM_BLOCK`` cells summed
    by einsum's vectorised loop, then the P x runs partial sums pairwise.

    numpy's pairwise sum of a whole plane is slower than memory (1.75 against 1.35 ms for a
    64x3x224x224 batch here); runs this short keep its accuracy.

    >>> _plane_sums(np.ones((2, 3, 4), np.float32))
    array([12., 12.], dtype=float32)
    """
    count, height, width = planes.shape
    sums: np.ndarray
    if width > _SUM_BLOCK:
        sums = np.add.reduce(planes.reshape(count, -1), axis=-1)
        return sums
    rows = _SUM_BLOCK // width
    while height % rows:
        rows -= 1
    runs = planes.reshape(count, height // rows, rows * width)
    sums = np.add.reduce(np.einsum("prc->pr", runs), axis=-1)
    return sums


# ---------------------------------------------------------------------------------------------
# Adaptive


def adaptive_windows(length: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop of each of the ``out`` adaptive windows over ``length`` cells.

    Window ``i`` is ``[floor(i * length / out), ceil((i + 1) * length / out))``.

    >>> adaptive_windows(5, 3)
    (array([0, 1, 3]), array([2, 4, 5]))
    """
    index = np.arange(out)
    starts = index * length // out
    stops = -(-(index + 1) * length // out)
    return starts, stops


@overload
def adaptive_output_size(output_size: object, shape_hw: tuple[int, int]) -> tuple[int, int]: ...


@overload
def adaptive_output_size(output_size: object, shape_hw: tuple[int, ...]) -> tuple[int, ...]: ...


def adaptive_output_size(output_size: object, shape_hw: tuple[int, ...]) -> tuple[int, ...]:
    """The (height, width) :func:`adaptive_pool` gives over an input of ``shape_hw``, or the
    (depth, height, width) over a volume of (D, H, W), or the (length,) over a signal.

    ``output_size`` is an int, or one value per axis whose None entries keep the input's size.

    >>> adaptive_output_size((3, None), (5, 7))
    (3, 7)
    >>> adaptive_output_size(2, (4, 5, 6))
    (2, 2, 2)
    """
    shape = tuple(shape_hw)
    if isinstance(output_size, (tuple, list)) and len(output_size) == len(shape):
        output_size = tuple(
            size if item is None else item for item, size in zip(output_size, shape, strict=True)
        )
    out = as_axes(output_size, "output_size", len(shape))
    if any(item > length for item, length in zip(out, shape, strict=True)):
        names = " x ".join(AXIS_NAMES[len(shape)])
        raise ValueError(
            f"output_size {_by(out)} is larger than the input {_by(shape)} ({names}); "
            f"adaptive pooling only shrinks"
        )
    return out


def _by(values: tuple[int, ...]) -> str:
    return "x".join(str(value) for value in values)


#: Windows of at most this many cells are reduced one tap at a time (one gather per tap); longer
#: ones by ``reduceat``, whose cost grows with the number of windows rather than their length.
FEW_TAPS = 8


def _reduce_windows(
    ufunc: np.ufunc, a: np.ndarray, out: int, axis: int, dtype: np.dtype | None = None
) -> np.ndarray:
    """Reduce the ``out`` adaptive windows along ``axis`` of ``a``; accumulate in ``dtype``."""
    length = a.shape[axis]
    if out == length:
        return a if dtype is None else a.astype(dtype)
    if out == 1:
        whole: np.ndarray = ufunc.reduce(a, axis=axis, dtype=dtype, keepdims=True)
        return whole
    starts, stops = adaptive_windows(length, out)
    if int((stops - starts).max()) <= FEW_TAPS:
        return _reduce_taps(ufunc, a, starts, stops, axis, dtype)
    # reduceat reduces consecutive slices [index[k], index[k + 1]). Interleaving the starts and
    # stops (the last stop is the end of the axis and is left out) puts window i at position 2i;
    # the odd positions (the gaps between windows, or one cell where they overlap) are dropped.
    index = np.empty(2 * out - 1, dtype=np.intp)
    index[0::2] = starts
    index[1::2] = stops[:-1]
    reduced = ufunc.reduceat(a, index, axis=axis, dtype=dtype)
    keep = [slice(None)] * a.ndim
    keep[axis] = slice(0, None, 2)
    return reduced[tuple(keep)]


def _reduce_taps(
    ufunc: np.ufunc,
    a: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    axis: int,
    dtype: np.dtype | None,
) -> np.ndarray:
    """Short windows: gather the first cell of every window, then fold in one tap at a time."""
    source = np.moveaxis(a, axis, -1)
    result = np.take(source, starts, axis=-1)
    if dtype is not None:
        result = result.astype(dtype, copy=False)
    lengths = stops - starts
    for tap in range(1, int(lengths.max())):
        longer = np.flatnonzero(lengths > tap)  # windows differ in length by one at most
        if longer.size == starts.size:
            ufunc(result, np.take(source, starts + tap, axis=-1), out=result)
        else:
            cells = np.take(source, starts[longer] + tap, axis=-1)
            result[..., longer] = ufunc(result[..., longer], cells)
    return np.moveaxis(result, -1, axis)


def _output_axes(output_size: object, x: object) -> int:
    """How many trailing axes an adaptive ``output_size`` pools: two for an int, else its
    length; a ValueError when the input has fewer dimensions."""
    if not isinstance(output_size, (tuple, list)):
        return 2
    axes = len(output_size)
    ndim = np.ndim(x)  # type: ignore[arg-type]
    if axes not in AXIS_NAMES or ndim < axes:
        raise ValueError(
            f"output_size takes one int or a pair (height, width), or 1 or 3 values (length,) or "
            f"(depth, height, width) for signals or volumes; got {output_size!r} for an input "
            f"of {ndim} dimensions"
        )
    return axes


def _sum_dtype(dtype: np.dtype, cells: int) -> np.dtype:
    """Where sums of ``cells`` values accumulate: exactly for integers (in float32 while every
    sum stays below 2**24, else in int64 or, for 64-bit integers, float64), and in the input's
    own type for floats, as the engine sums."""
    if dtype.kind not in "iu":
        return dtype
    info = np.iinfo(dtype)
    if cells * max(abs(int(info.min)), int(info.max)) < 2**24:
        return np.dtype(np.float32)
    return np.dtype(np.int64) if dtype.itemsize <= 4 else np.dtype(np.float64)


def adaptive_pool(x: npt.ArrayLike, output_size: OutputSize, op: str = "avg") -> np.ndarray:
    """Pool each (n, c) plane of ``x`` to ``output_size``, as PyTorch's adaptive pooling does.

    Parameters
    ----------
    x : array of shape (H, W), (C, H, W) or (N, C, H, W)
        Any integer or floating dtype. Volumes (D, H, W) up to (N, C, D, H, W) with an
        ``output_size`` of three values, signals (L,) up to (N, C, L) with one.
    output_size : int or (int or None, int or None)
        Output height and width, each from 1 up to the input's; None keeps the input's size.
        Three values (depth, height, width) pool the last three axes, as PyTorch's
        adaptive_avg_pool3d / adaptive_max_pool3d; one value ``(length,)`` the last one.
    op : {"avg", "max"}

    Returns
    -------
    ndarray of the input's rank, in C order
        Output cell ``(i, j)`` reduces rows ``[floor(i·H/oh), ceil((i+1)·H/oh))`` and columns
        ``[floor(j·W/ow), ceil((j+1)·W/ow))``. max keeps the dtype (and propagates NaN); avg
        gives float32, or float64 for float64 input. Integer sums are exact and divided once;
        float sums accumulate in the input's type, as the engine's do. An empty batch
        (0, C, H, W) gives (0, C, oh, ow), as PyTorch's does.

    Raises
    ------
    ValueError
        If ``output_size`` is below 1 or larger than the input, or ``op`` is unknown.

    Notes
    -----
    Both ops are separable: the windows of each axis are reduced first along the width, then
    along the height, so the largest temporary is the width pass, (…, H, ow). Long windows go
    through one ``reduceat`` call per axis; short ones (many windows) one gather per cell of a
    window. No Python loop runs over output cells.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(25.0).reshape(5, 5)
    >>> adaptive_pool(x, (2, 3))
    array([[ 5.5,  7. ,  8.5],
           [15.5, 17. , 18.5]])
    >>> adaptive_pool(x, (2, None), "max").shape
    (2, 5)
    >>> adaptive_pool(np.ones((2, 4, 6, 8)), (1, 2, 2)).shape
    (2, 1, 2, 2)
    """
    _check_op(op)
    axes = _output_axes(output_size, x)
    array = check_input(x, axes)
    out = adaptive_output_size(output_size, array.shape[-axes:])
    # The last axis first, then outwards: for a plane, along the width, then the height.
    passes = [(-1 - i, out[-1 - i]) for i in range(axes)]
    if op == "max":
        largest = array
        for axis, length in passes:
            largest = _reduce_windows(np.maximum, largest, length, axis=axis)
        # The passes leave strided views (every other reduceat window, a moved axis); the result
        # is a new array in C order, like pool's.
        return np.ascontiguousarray(largest)
    counts: np.ndarray = np.ones((), dtype=np.int64)
    for length, out_length in zip(array.shape[-axes:], out, strict=True):
        starts, stops = adaptive_windows(length, out_length)
        counts = np.multiply.outer(counts, stops - starts)
    accumulator = _sum_dtype(array.dtype, int(counts.max()))
    sums = array
    for axis, length in passes:
        sums = _reduce_windows(np.add, sums, length, axis=axis, dtype=accumulator)
    # One rounding: an exact sum divides once, in float64 unless it fits float32 exactly.
    division = np.float64 if accumulator.kind in "iu" else accumulator
    means: np.ndarray = np.divide(sums, counts, dtype=division)
    return np.ascontiguousarray(means.astype(_mean_dtype(array.dtype), copy=False))


# ---------------------------------------------------------------------------------------------
# Fractional


def _fraction_size(
    output_size: PairLike | None,
    ratio: float | tuple[float, ...] | None,
    size: tuple[int, ...],
    shape_hw: tuple[int, ...],
) -> tuple[int, ...]:
    """The output (height, width) (or (depth, height, width)) from exactly one of
    ``output_size`` and ``ratio``, checked."""
    if output_size is not None and ratio is None:
        out = as_axes(output_size, "output_size", len(size))
    elif output_size is None and ratio is not None:
        out = _ratio_size(ratio, shape_hw)
    else:
        raise ValueError("give exactly one of output_size and ratio")
    names = AXIS_NAMES[len(size)]
    for name, length, window, result in zip(names, shape_hw, size, out, strict=True):
        if result + window - 1 > length:
            raise ValueError(
                f"output {name} {result} with a window of {window} needs an input {name} of at "
                f"least {result + window - 1} (output + size - 1), got {length}"
            )
    return out


def _ratio_size(ratio: float | tuple[float, ...], shape_hw: tuple[int, ...]) -> tuple[int, ...]:
    """The output (height, width) of ``ratio`` times the input's, checked."""
    count = len(shape_hw)
    ratios = tuple(ratio) if isinstance(ratio, (tuple, list)) else (ratio,) * count
    if len(ratios) != count:
        if count == 2:
            raise ValueError(f"ratio takes one number or a pair (height, width), got {ratio!r}")
        raise ValueError(
            f"ratio takes one number or {count} ({', '.join(AXIS_NAMES[count])}), got {ratio!r}"
        )
    for item in ratios:
        if isinstance(item, bool) or not isinstance(item, (int, float, np.number)):
            raise ValueError(f"ratio must be a number between 0 and 1, got {ratio!r}")
        if not 0 < item < 1:
            raise ValueError(f"ratio must be between 0 and 1 (exclusive), got {item!r}")
    # PyTorch's rule: int(input * ratio), in double precision.
    out = tuple(int(length * float(item)) for length, item in zip(shape_hw, ratios, strict=True))
    names = AXIS_NAMES[count]
    for name, length, item, result in zip(names, shape_hw, ratios, out, strict=True):
        if result < 1:
            raise ValueError(
                f"ratio {item!r} leaves no output {name}: int({length} * {item!r}) = 0"
            )
    return out


def _samples(
    samples: npt.ArrayLike | None,
    seed: int | None,
    planes: tuple[int, ...],
    dtype: np.dtype,
    axes: int = 2,
) -> np.ndarray:
    """The (N, C, axes) samples in ``dtype``: given (and checked) or drawn from ``seed``."""
    shape = (*planes, axes)
    if samples is None:
        return np.random.default_rng(seed).random(shape).astype(dtype)
    if seed is not None:
        raise ValueError("give seed or samples, not both")
    array = np.asarray(samples)
    if array.dtype.kind != "f":
        raise ValueError(f"samples must hold floats in [0, 1), got dtype {array.dtype}")
    if array.shape != shape:
        raise ValueError(
            f"samples must have shape {shape} (N, C, {axes}) for this input, got {array.shape}"
        )
    if not np.all((array >= 0) & (array < 1)):
        bad = array[~((array >= 0) & (array < 1))].flat[0].item()
        raise ValueError(f"samples must lie in [0, 1), got {bad!r}")
    return array.astype(dtype)


def fractional_starts(
    samples: np.ndarray, length: int, out: int, size: int, dtype: np.dtype
) -> np.ndarray:
    """Window starts along one axis for each sample, as PyTorch's ``generate_intervals``.

    With ``alpha = (length - size) / (out - 1)`` computed in ``dtype`` (the input's float type),
    start ``i < out - 1`` is ``int((i + u) * alpha) - int(u * alpha)`` and the last start is
    ``length - size``, so the windows always reach both ends.

    Parameters
    ----------
    samples : ndarray
        The samples ``u`` in [0, 1), any shape S.
    length, out, size : int
        Input length, output length and window size along the axis.
    dtype : numpy dtype
        float32 or float64: the precision of the arithmetic.

    Returns
    -------
    ndarray of int64, shape S + (out,)

    Examples
    --------
    >>> import numpy as np
    >>> fractional_starts(np.array([0.25, 0.75]), 10, 4, 2, np.dtype(np.float64))
    array([[0, 3, 6, 8],
           [0, 2, 5, 8]])
    """
    dtype = np.dtype(dtype)
    u = np.asarray(samples, dtype=dtype)[..., None]
    starts = np.empty((*u.shape[:-1], out), dtype=np.int64)
    starts[..., -1] = length - size
    if out > 1:
        alpha = dtype.type(length - size) / dtype.type(out - 1)
        steps = np.arange(out - 1, dtype=dtype)
        # Each operation in dtype, then truncation toward zero: C++'s static_cast<int>.
        starts[..., :-1] = ((steps + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    return starts


def _max_taps(
    x: np.ndarray, starts: np.ndarray, size: int, axis: int, nan_aware: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Max over ``size`` taps from ``starts`` along ``axis``, and the tap each max came from.

    PyTorch's rule, tap by tap: a tap replaces the best so far when it is larger or NaN. So the
    first maximum wins ties, and the last NaN wins when there is one.
    """
    best = np.take_along_axis(x, starts, axis=axis)
    tap = np.zeros(best.shape, dtype=np.int64)
    for offset in range(1, size):
        value = np.take_along_axis(x, starts + offset, axis=axis)
        better = value > best
        if nan_aware:
            better |= np.isnan(value)
        np.copyto(best, value, where=better)
        tap[better] = offset
    return best, tap


@overload
def fractional_max_pool(
    x: npt.ArrayLike,
    size: PairLike = 2,
    output_size: PairLike | None = None,
    ratio: float | tuple[float, ...] | None = None,
    seed: int | None = None,
    samples: npt.ArrayLike | None = None,
    *,
    return_indices: Literal[False] = False,
) -> np.ndarray: ...


@overload
def fractional_max_pool(
    x: npt.ArrayLike,
    size: PairLike = 2,
    output_size: PairLike | None = None,
    ratio: float | tuple[float, ...] | None = None,
    seed: int | None = None,
    samples: npt.ArrayLike | None = None,
    *,
    return_indices: Literal[True],
) -> tuple[np.ndarray, npt.NDArray[np.int64]]: ...


@overload
def fractional_max_pool(
    x: npt.ArrayLike,
    size: PairLike = 2,
    output_size: PairLike | None = None,
    ratio: float | tuple[float, ...] | None = None,
    seed: int | None = None,
    samples: npt.ArrayLike | None = None,
    *,
    return_indices: bool,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]: ...


def fractional_max_pool(
    x: npt.ArrayLike,
    size: PairLike = 2,
    output_size: PairLike | None = None,
    ratio: float | tuple[float, ...] | None = None,
    seed: int | None = None,
    samples: npt.ArrayLike | None = None,
    *,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]:
    """Fractional max pooling (Graham, 2014) with PyTorch's start sequence.

    Each plane gets two samples u in [0, 1), one for the width and one for the height; they place
    ``size``-cell windows at pseudo-random starts that run from the first cell to the last (see
    :func:`fractional_starts`), so the plane shrinks by a non-integer factor.

    Parameters
    ----------
    x : array of shape (H, W), (C, H, W) or (N, C, H, W)
        Any integer or floating dtype.
    size : int or (int, int), default 2
        Window height and width; three values (depth, height, width) pool the last three axes
        of a volume, (D, H, W) up to (N, C, D, H, W), as PyTorch's fractional_max_pool3d.
    output_size : int or (int, int), optional
        Output height and width.
    ratio : float or (float, float), optional
        Output size as a fraction of the input's, in (0, 1): ``int(H * ratio)``. Give exactly one
        of ``output_size`` and ``ratio``.
    seed : int, optional
        Seed of ``numpy.random.default_rng`` drawing the samples: the same seed gives the same
        result run to run. None draws fresh samples.
    samples : array of shape (N, C, 2), optional
        The samples themselves, floats in [0, 1): ``samples[n, c, 0]`` places the windows along
        the width, ``samples[n, c, 1]`` along the height, as PyTorch's ``_random_samples``. For
        a 2-D or 3-D input, N (and C) are 1. For volumes (N, C, 3): depth, height and width, in
        that order (PyTorch's 3-D layout).
    return_indices : bool, default False
        Also return each maximum's flat index ``h * W + w`` in its input plane (int64), as
        PyTorch's ``return_indices`` (``(d * H + h) * W + w`` in a volume).

    Returns
    -------
    ndarray of the input's rank, and the indices with ``return_indices``, in C order
        Same dtype as ``x``; an empty batch (0, C, H, W) gives (0, C, oh, ow). The start
        arithmetic runs in float64 for float64 input and in float32 for every other dtype, as
        PyTorch runs it for ``x.float()``; given the same samples (in that precision) the
        result equals ``F.fractional_max_pool2d(x, size,
        output_size, _random_samples=samples)`` to the bit.

    Raises
    ------
    ValueError
        If both or neither of ``output_size`` and ``ratio`` are given, ``ratio`` is outside
        (0, 1) or leaves no output, the window cannot fit the output in the input
        (``output + size - 1 > input``), both ``seed`` and ``samples`` are given, or ``samples``
        has the wrong shape or a value outside [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(49).reshape(7, 7)
    >>> fractional_max_pool(x, 2, output_size=4, samples=[[[0.5, 0.5]]])
    array([[ 8, 10, 12, 13],
           [22, 24, 26, 27],
           [36, 38, 40, 41],
           [43, 45, 47, 48]])
    >>> fractional_max_pool(np.ones((1, 3, 10, 10)), 2, ratio=0.7, seed=1).shape
    (1, 3, 7, 7)
    """
    axes = window_axes(size)
    if axes == 1:
        raise ValueError(f"fractional max pooling takes 2 or 3 axes, got size {size!r}")
    array = check_input(x, axes)
    window = as_axes(size, "size", axes)
    lengths = array.shape[-axes:]
    out = _fraction_size(output_size, ratio, window, lengths)
    full = array.reshape((1,) * (axes + 2 - array.ndim) + array.shape)
    dtype = np.dtype(np.float64) if array.dtype == np.float64 else np.dtype(np.float32)
    u = _samples(samples, seed, full.shape[:2], dtype, axes)
    # PyTorch's sample layout: (width, height) for planes, (depth, height, width) for volumes.
    order = (1, 0) if axes == 2 else (0, 1, 2)

    def spread(values: np.ndarray, axis: int) -> np.ndarray:
        # (N, C, out) starts of one axis, broadcast along the others.
        shape = [*values.shape[:2], *(1,) * axes]
        shape[2 + axis] = values.shape[2]
        return values.reshape(shape)

    starts = [
        spread(fractional_starts(u[:, :, order[i]], lengths[i], out[i], window[i], dtype), i)
        for i in range(axes)
    ]
    nan_aware = array.dtype.kind == "f"
    # The last axis first, then outwards: the first maximum in row-major window order wins ties
    # (the other order would find the first in column-major order).
    values, taps = full, {}
    for i in reversed(range(axes)):
        values, taps[i] = _max_taps(values, starts[i], window[i], axis=2 + i, nan_aware=nan_aware)
    values = values.reshape(array.shape[:-axes] + out)
    if not return_indices:
        return values
    # Each axis's best tap was taken where the axes before it were still whole: look it up at
    # the best cells of those axes.
    grid = np.indices(full.shape[:2] + out, sparse=True)
    best: list[np.ndarray] = []
    for i in range(axes):
        index = (*grid[:2], *best, *grid[2 + i :])
        best.append(starts[i] + taps[i][index])
    flat = best[0]
    for i in range(1, axes):
        flat = flat * lengths[i] + best[i]
    return values, flat.reshape(values.shape)
