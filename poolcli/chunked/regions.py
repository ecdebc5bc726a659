"""Which input cells each output chunk reads, and pooling one such region: numpy only.

The output chunks are the unit of work. Along one axis, output chunk ``[i0, i1)`` reads the
padded cells ``[i0 * s, (i1 - 1) * s + e)`` (``s`` the stride, ``e`` the dilated window), cut at
the padded border. Its region is those cells: the real ones read from the input, the padded
ones given to the engine as explicit padding of the region, so the engine pools the region
exactly as it pools the whole axis (the same cells count, the same ceil-mode overhang):

- "ignore", "zero" and a number: real cells ``r0:r1`` plus ``before``/``after`` padded cells.
  A chunk whose windows hold only padding reaches on to the nearest real cell (and pools the
  windows up to it too, then drops them): the engine needs a real cell to pool. In ceil mode the
  region reaches one stride further, for the same windows as the whole axis at its end.
- "edge" and "reflect": padded cells copy real ones of the whole axis (``numpy.pad`` of the
  indices, as the engine maps them), so the region is read through that map and pooled with no
  padding at all.

>>> from poolcli.core.geometry import resolve
>>> axis = resolve((10, 10), size=3, stride=2, padding=1).height
>>> regions = axis_regions(axis, (4, 6), "zero")
>>> [(r.windows, r.sources.tolist(), r.before, r.after) for r in regions]
[((0, 3), [0, 1, 2, 3, 4, 5], 1, 0), ((3, 5), [5, 6, 7, 8, 9], 0, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from poolcli.core import engine
from poolcli.core.geometry import AxisGeometry, Geometry, PadMode

#: Ops that ``pool`` on a region knows: the engine's and mode.
OPS = engine.OPS


@dataclass(frozen=True)
class AxisRegion:
    """One output chunk along one axis and the input it reads.

    ``windows`` are the chunk's output cells ``[i0, i1)``. The engine pools the region from
    window ``first`` (at most ``i0``) on; ``sources`` are the input indices of the region's real
    cells, in order, after ``before`` padded cells and followed by ``after`` of them.
    """

    windows: tuple[int, int]
    first: int
    sources: np.ndarray
    before: int
    after: int

    @property
    def count(self) -> int:
        return self.windows[1] - self.windows[0]

    @property
    def skip(self) -> int:
        """Windows the region pools before the chunk's first."""
        return self.windows[0] - self.first

    @property
    def span(self) -> tuple[int, int]:
        """The lowest and highest input index read, plus one."""
        return int(self.sources.min()), int(self.sources.max()) + 1


def copies_borders(pad_mode: PadMode) -> bool:
    """True for pad modes whose padded cells copy real cells (edge, reflect)."""
    return pad_mode in ("edge", "reflect")


def output_bounds(axis: AxisGeometry, input_chunks: tuple[int, ...]) -> list[tuple[int, int]]:
    """Output chunks along an axis: the windows whose start falls in each input chunk.

    A window starts at padded cell ``i * s``; the ones before the first real cell go with the
    first chunk, those past the last with the last. Empty chunks (an input chunk narrower than
    the stride) are left out.

    >>> from poolcli.core.geometry import axis_geometry
    >>> output_bounds(axis_geometry(10, 2, 2, 1, 0, 0), (3, 3, 4))
    [(0, 2), (2, 3), (3, 5)]
    """
    edges = np.cumsum((0, *input_chunks))[1:-1]
    starts = -(-(edges + axis.before) // axis.stride)
    bounds = [0, *(int(min(max(i, 0), axis.out)) for i in starts), axis.out]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True) if hi > lo]


def axis_regions(
    axis: AxisGeometry, input_chunks: tuple[int, ...], pad_mode: PadMode
) -> list[AxisRegion]:
    """The region of every output chunk along one axis (see the module's notes)."""
    padded = axis.padded_length
    first_real, end_real = axis.before, axis.before + axis.length
    index_map = np.arange(axis.length)
    if pad_mode == "edge":
        index_map = np.pad(index_map, (axis.before, axis.after), mode="edge")
    elif pad_mode == "reflect":
        index_map = np.pad(index_map, (axis.before, axis.after), mode="reflect")
    regions = []
    for i0, i1 in output_bounds(axis, input_chunks):
        first = i0
        start, stop = i0 * axis.stride, min((i1 - 1) * axis.stride + axis.window, padded)
        if copies_borders(pad_mode):
            regions.append(AxisRegion((i0, i1), first, index_map[start:stop], 0, 0))
            continue
        if axis.ceil_mode:
            # One stride more: the region then keeps a last window that starts in the trailing
            # padding where the whole axis keeps it (ceil mode drops such a window only at the
            # very end); the extra windows are pooled and dropped.
            stop = min(stop + axis.stride, padded)
        if stop <= first_real:  # only leading padding: reach on to the first real cell
            stop = first_real + 1
        if start >= end_real:  # only trailing padding: start at a window holding the last one
            first = (end_real - 1) // axis.stride
            start = first * axis.stride
        sources = np.arange(max(start, first_real), min(stop, end_real)) - axis.before
        before, after = max(0, first_real - start), max(0, stop - end_real)
        regions.append(AxisRegion((i0, i1), first, sources, before, after))
    return regions


def pool_region(
    region: np.ndarray,
    op: str,
    axes: tuple[AxisRegion, ...],
    geometry: Geometry,
    p: float,
) -> np.ndarray:
    """Pool one region (an (..., rows, cols) array of its real cells; (..., depth, rows, cols)
    for a volume, (..., length) for a signal) into its output chunk; ``axes`` holds the region
    of each spatial axis, outermost first.

    Runs in the calling thread only: the scheduler's workers are the parallelism.
    """
    padding = tuple(side for axis in axes for side in (axis.before, axis.after))
    pad_mode = "ignore" if copies_borders(geometry.pad_mode) else geometry.pad_mode
    with engine.in_calling_thread():
        pooled = pool_array(
            region,
            op,
            size=geometry.sizes,
            stride=geometry.strides,
            padding=padding,
            dilation=geometry.dilations,
            ceil_mode=geometry.ceil_mode,
            pad_mode=pad_mode,
            p=p,
        )
    kept: tuple[Any, ...] = (Ellipsis, *(slice(a.skip, a.skip + a.count) for a in axes))
    chunk: np.ndarray = pooled[kept]
    return chunk


def pool_array(
    x: np.ndarray,
    op: str,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil_mode: bool,
    pad_mode: PadMode,
    p: float,
) -> np.ndarray:
    """The in-memory pooling of one array by the engine, for every op of :data:`OPS`; as many
    spatial axes as ``size`` has values, ``padding`` a (before, after) pair per axis.

    >>> pool_array(np.array([[1, 1], [2, 3]]), "mode", (2, 2), (2, 2), (0, 0, 0, 0), (1, 1),
    ...            False, "ignore", 2.0)
    array([[1]])
    >>> pool_array(np.array([4, 1, 5, 2]), "max", (2,), (2,), (1, 0), (1,), False, "ignore", 2.0)
    array([4, 5])
    """
    return engine.pool(x, op, size, stride, padding, dilation, ceil_mode, pad_mode, p)


def adaptive_region(
    region: np.ndarray,
    windows: tuple[tuple[np.ndarray, np.ndarray], ...],
    op: str,
) -> np.ndarray:
    """Adaptive pooling of one region: windows ``[start, stop)`` along each of its last
    ``len(windows)`` axes, outermost first ((rows, columns) of a plane).

    The windows are given in the region's own coordinates; the last of each axis ends at the
    region's end. max is exact; avg sums integers exactly (in int64, float64 for 64-bit
    integers) and floats in their own type, and divides once, as
    :func:`poolcli.core.adaptive.adaptive_pool` does.

    >>> x = np.arange(12).reshape(3, 4)
    >>> rows, cols = (np.array([0, 1]), np.array([2, 3])), (np.array([0]), np.array([4]))
    >>> adaptive_region(x, (rows, cols), "max")
    array([[ 7],
           [11]])
    >>> adaptive_region(np.arange(5), ((np.array([0, 2]), np.array([3, 5])),), "avg")
    array([1., 3.], dtype=float32)
    """
    # The last axis first, then outwards, as the in-memory path reduces.
    passes = [(axis - len(windows), windows[axis]) for axis in reversed(range(len(windows)))]
    if op == "max":
        largest = region
        for axis, along in passes:
            largest = _reduce_windows(np.maximum, largest, along, axis, None)
        return largest
    dtype = region.dtype
    if dtype.kind in "iu":
        accumulator = np.dtype(np.int64) if dtype.itemsize <= 4 else np.dtype(np.float64)
    else:
        accumulator = dtype
    sums = region
    for axis, along in passes:
        sums = _reduce_windows(np.add, sums, along, axis, accumulator)
    counts: np.ndarray = np.ones((), np.int64)
    for starts, stops in windows:
        counts = np.multiply.outer(counts, stops - starts)
    division = np.float64 if accumulator.kind in "iu" else accumulator
    means: np.ndarray = np.divide(sums, counts, dtype=division)
    mean_dtype = np.float64 if dtype == np.float64 else np.float32
    return means.astype(mean_dtype, copy=False)


def _reduce_windows(
    ufunc: np.ufunc,
    a: np.ndarray,
    windows: tuple[np.ndarray, np.ndarray],
    axis: int,
    dtype: np.dtype | None,
) -> np.ndarray:
    """Reduce windows ``[start, stop)`` along ``axis``: starts and stops interleaved for
    ``reduceat`` (the gaps, or the one cell where windows overlap, dropped after)."""
    starts, stops = windows
    index = np.empty(2 * len(starts) - 1, dtype=np.intp)
    index[0::2] = starts
    index[1::2] = stops[:-1]
    reduced: np.ndarray = ufunc.reduceat(a, index, axis=axis, dtype=dtype)
    keep: list[slice] = [slice(None)] * a.ndim
    keep[axis] = slice(0, None, 2)
    return reduced[tuple(keep)]
