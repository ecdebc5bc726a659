"""The mode op: the most frequent value of each window, for label and class images.

Ties go to the smallest value; the dtype is kept. Which cells count:

- real cells count, except NaN: a float window's NaN cells never count, unless every counted cell
  of the window is NaN (then the mode is NaN). ``-0.0`` and ``0.0`` are one value.
- padded cells follow ``pad_mode`` as for every other op: with "ignore" (the default) they never
  count; "zero", a number, "edge" and "reflect" give them that value, and then they count like
  real cells (a number must be exact in the dtype, as for max and min).
- the cells a ceil-mode window reaches past the padded border never count.

The windows are gathered a tile of output cells at a time (never an im2col of the whole plane),
sorted along the window axis, and the longest run of equal values wins: no Python loop runs over
windows.

>>> import numpy as np
>>> from poolcli.core.geometry import resolve
>>> labels = np.array([[1, 1, 2, 2], [3, 1, 2, 5], [4, 4, 0, 0], [4, 6, 7, 0]], np.uint8)
>>> mode_pool(labels[None, None], resolve((4, 4), size=2))[0, 0]
array([[1, 2],
       [4, 0]], dtype=uint8)
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from poolcli.core.geometry import AxisGeometry, Geometry

#: Bytes of gathered window cells per tile (the sort's working set is a few times this).
TILE_BYTES = 4 << 20

#: Index-map markers: a padded cell that does not count, and a ceil-mode overhang cell.
_PAD, _OVERHANG = -1, -2


def mode_pool(x4: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The mode of every window of ``geometry`` over each plane of an (N, C, H, W) array.

    ``geometry`` is :func:`~poolcli.core.geometry.resolve` of ``x4.shape[-2:]``. Returns an
    (N, C, out_h, out_w) array of ``x4``'s dtype. A geometry of three axes takes an
    (N, C, D, H, W) array, of one axis an (N, C, L) one.

    >>> import numpy as np
    >>> from poolcli.core.geometry import resolve
    >>> x = np.array([[[[1.0, np.nan, 2.0], [2.0, np.nan, 1.0]]]])
    >>> mode_pool(x, resolve((2, 3), size=2, stride=1))
    array([[[[1., 1.]]]])
    >>> mode_pool(np.array([[[[3, 3, 1]]]]), resolve((1, 3), size=(1, 2), padding=(0, 1)))
    array([[[[3, 1]]]])
    >>> mode_pool(np.array([[[1, 2, 2, 3, 3, 3]]]), resolve((6,), size=(3,)))
    array([[[2, 3]]])
    """
    x4 = np.asarray(x4)
    axes = geometry.axes
    if x4.ndim != len(axes) + 2:
        letters = {1: "L", 2: "H, W", 3: "D, H, W"}[len(axes)]
        raise ValueError(f"mode_pool takes an (N, C, {letters}) array, got shape {x4.shape}")
    lengths = tuple(axis.length for axis in axes)
    if x4.shape[2:] != lengths:
        raise ValueError(
            f"the geometry is for planes of {'x'.join(map(str, lengths))}, "
            f"got {'x'.join(map(str, x4.shape[2:]))}"
        )
    fill = _fill(geometry, x4.dtype)
    maps = [_index_map(axis, geometry.pad_mode) for axis in axes]
    planes = x4.reshape(-1, *x4.shape[2:])
    out = np.empty((len(planes), *geometry.out_shape), x4.dtype)
    cells = math.prod(geometry.sizes)
    # Tiles of output cells: whole runs of the last axis, as many of the others as fit.
    budget = max(1, TILE_BYTES // (cells * x4.dtype.itemsize))
    steps = []
    for axis in reversed(axes):
        steps.append(max(1, min(axis.out, budget)))
        budget = max(1, budget // steps[-1])
    steps.reverse()
    for plane in range(len(planes)):
        starts = itertools.product(
            *(range(0, axis.out, step) for axis, step in zip(axes, steps, strict=True))
        )
        for corner in starts:
            spans = [
                (start, min(start + step, axis.out))
                for start, step, axis in zip(corner, steps, axes, strict=True)
            ]
            values, counted = _windows(planes[plane], maps, geometry, spans, fill)
            window_cells: tuple[int | slice, ...] = (plane, *(slice(*span) for span in spans))
            out[window_cells] = _modes(values, counted)
    return out.reshape(*x4.shape[:2], *geometry.out_shape)


def _fill(geometry: Geometry, dtype: np.dtype) -> int | float | None:
    """The value padded cells hold, or None where they do not count (or copy real cells)."""
    pad_mode = geometry.pad_mode
    if pad_mode == "zero":
        return 0
    if isinstance(pad_mode, str):
        return None
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not (float(pad_mode).is_integer() and info.min <= pad_mode <= info.max):
            raise ValueError(
                f"pad_mode {pad_mode!r} does not fit the input dtype {dtype}; "
                f"use a value in the dtype's range"
            )
        return int(pad_mode)
    return float(pad_mode)


def _index_map(axis: AxisGeometry, pad_mode: object) -> np.ndarray:
    """Source index of every cell of an axis, padding and overhang included.

    Padded cells copy a real index for "edge" and "reflect" (as ``numpy.pad`` maps them), else
    they are ``_PAD``; overhang cells are ``_OVERHANG``.
    """
    inner = np.arange(axis.length)
    if pad_mode == "edge":
        mapped = np.pad(inner, (axis.before, axis.after), mode="edge")
    elif pad_mode == "reflect":
        mapped = np.pad(inner, (axis.before, axis.after), mode="reflect")
    else:
        mapped = np.pad(inner, (axis.before, axis.after), constant_values=_PAD)
    return np.concatenate([mapped, np.full(axis.overhang, _OVERHANG)])


def _windows(
    plane: np.ndarray,
    maps: list[np.ndarray],
    geometry: Geometry,
    spans: list[tuple[int, int]],
    fill: int | float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The cells of the output cells ``spans`` (one (first, stop) per axis), as (r, c, k)
    values and counted flags in 2-D ((d, r, c, k) in 3-D)."""
    axes = geometry.axes
    count = len(axes)
    sources = [m[_taps(axis, *span)] for m, axis, span in zip(maps, axes, spans, strict=True)]

    def spread(ids: np.ndarray, position: int) -> np.ndarray:
        # (windows, size) of axis ``position`` -> windows at ``position``, size at count + it.
        shape = [1] * (2 * count)
        shape[position], shape[count + position] = ids.shape
        return ids.reshape(shape)

    values = plane[tuple(spread(np.maximum(ids, 0), i) for i, ids in enumerate(sources))]
    counted = np.ones((1,) * (2 * count), bool)
    for i, ids in enumerate(sources):
        counted = counted & spread(ids >= 0, i)
    if fill is not None:
        inside = np.ones((1,) * (2 * count), bool)
        for i, ids in enumerate(sources):
            inside = inside & spread(ids != _OVERHANG, i)
        values = np.where(inside & ~counted, values.dtype.type(fill), values)
        counted = inside
    shape = (*values.shape[:count], -1)
    counted = np.broadcast_to(counted, values.shape).reshape(shape)
    return values.reshape(shape), counted


def _taps(axis: AxisGeometry, first: int, stop: int) -> np.ndarray:
    """Padded coordinates of the cells of windows ``first:stop``, as (windows, size)."""
    starts = np.arange(first, stop) * axis.stride
    taps: np.ndarray = starts[:, None] + np.arange(axis.size) * axis.dilation
    return taps


def _modes(values: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """The mode along the last axis of ``values`` among the ``counted`` cells.

    Cells that do not count are set to the largest value of the dtype, so they sort into the
    last run, whose length then leaves them out. Each sorted cell's run length is its run's end
    minus its run's start; the first longest run is the smallest of the most frequent values.
    """
    if values.dtype.kind == "f":
        nan = np.isnan(values)
        counted = counted & ~nan
        largest = values.dtype.type(np.inf)
    else:
        nan = None
        largest = values.dtype.type(np.iinfo(values.dtype).max)
    ordered = np.sort(np.where(counted, values, largest), axis=-1)
    cells = ordered.shape[-1]
    position = np.arange(cells)
    new_run = np.ones(ordered.shape, bool)
    new_run[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    run_start = np.maximum.accumulate(np.where(new_run, position, 0), axis=-1)
    ends_run = np.ones(ordered.shape, bool)
    ends_run[..., :-1] = new_run[..., 1:]
    reversed_ends = np.where(ends_run, position, cells)[..., ::-1]
    run_end = np.minimum.accumulate(reversed_ends, axis=-1)[..., ::-1]
    lengths = run_end - run_start + 1
    left_out = cells - counted.sum(axis=-1)
    lengths -= np.where(run_end == cells - 1, left_out[..., None], 0)
    best = np.argmax(lengths, axis=-1)
    modes: np.ndarray = np.take_along_axis(ordered, best[..., None], axis=-1)[..., 0]
    if nan is not None:
        modes[left_out == cells] = np.nan
    return modes
