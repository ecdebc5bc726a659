"""Pooling explained step by step on a small matrix, as a lecture walks through it.

:func:`explain` pools one small matrix and writes out what happens: the geometry and the output
size formula, then every window position in turn (the window drawn on the matrix, its cells, the
value it gives and how), the im2col matrix that gathers the windows as rows, and the output. It
works for every op and every geometry :func:`poolcli.pool` accepts; the values it prints are the
engine's.

Examples
--------
>>> print(explain(op="max").split("\\n\\n")[-1])
output 2x2
2 3
4 2
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from poolcli.core.engine import pool
from poolcli.core.geometry import (
    AxisGeometry,
    Geometry,
    PaddingLike,
    PadMode,
    PairLike,
    Window,
    resolve,
    window_axes,
    window_rows,
)

__all__ = ["LECTURE", "MAX_DEPTH", "MAX_SIDE", "explain"]

#: The lectures' 4×4 example, the default input.
LECTURE = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
#: Largest height and width explained: beyond it the text is too long to read.
MAX_SIDE = 16
#: Largest depth of a block explained (each window draws every slice it reaches).
MAX_DEPTH = 8

_IGNORED = "·"


def explain(
    matrix: npt.ArrayLike | None = None,
    op: str = "max",
    *,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
) -> str:
    """Pool a small matrix and explain every step, as text.

    Parameters
    ----------
    matrix : 2-D array, optional
        At most 16×16, integers or floats; leading axes of length 1 are dropped, so a (1, 1, H,
        W) array loaded from a file works. By default the lectures' 4×4 example. With a window
        of three values (``size=(kd, kh, kw)``), a 3-D block of at most 8×16×16 (by default the
        4×4 example stacked with its transpose and two flips, 4×4×4): each window is drawn
        slice by slice, and for max, min and sum the depth pass is shown on its own, the planes
        whose 2-D pooling gives the output.
    op : {"max", "min", "avg", "sum", "median", "lp", "mode"}
    size, stride, padding, dilation, ceil_mode, pad_mode, p
        As :func:`poolcli.pool` takes them.

    Returns
    -------
    str
        Paragraphs separated by blank lines, without a trailing newline: the geometry and the
        size formula; the input; one paragraph per window (the matrix with the window's cells in
        brackets, the cells, the value and how it is computed); the im2col matrix, one row per
        window; the output. Padding cells show as ``(v)`` when they hold a value that counts and
        as ``·`` when they count in no window.

    Raises
    ------
    ValueError
        If the matrix is larger than 16×16 or not 2-D, or for any argument :func:`poolcli.pool`
        refuses.

    Examples
    --------
    The lectures' 2×2 max pooling with stride 2, its first window:

    >>> def paragraph(text, start):
    ...     return next(part for part in text.split("\\n\\n") if part.startswith(start))
    >>> print(paragraph(explain(), "step 1 "))
    step 1 of 4: output (0, 0) takes rows 0..1, columns 0..1
    [1][2] 1  0
    [0][1] 2  3
     3  0  1  2
     2  4  0  1
    cells 1 2 0 1
    max = 2, at row 0, column 1

    Zero padding: the padded cells count, shown in parentheses.

    >>> text = explain([[1, 2], [3, 4]], "avg", stride=1, padding=1, pad_mode="zero")
    >>> print(paragraph(text, "step 1 "))
    step 1 of 9: output (0, 0) takes rows -1..0, columns -1..0
    [(0)][(0)] (0)  (0)
    [(0)][  1]   2  (0)
     (0)    3    4  (0)
     (0)  (0)  (0)  (0)
    cells (0) (0) (0) 1
    avg = (0 + 0 + 0 + 1) / 4 = 0.25
    >>> print("\\n".join(paragraph(text, "im2col").splitlines()[1:4]))
    window  cells             avg
    (0, 0)  (0) (0) (0)   1  0.25
    (0, 1)  (0) (0)   1   2  0.75

    A 2×2×2 block pooled whole, its one window over both slices:

    >>> block = [[[1, 2], [3, 4]], [[5, 6], [7, 0]]]
    >>> print(paragraph(explain(block, "max", size=(2, 2, 2)), "step 1 "))
    step 1 of 1: output (0, 0, 0) takes slices 0..1, rows 0..1, columns 0..1
    slice 0
    [1][2]
    [3][4]
    slice 1
    [5][6]
    [7][0]
    cells 1 2 3 4 5 6 7 0
    max = 7, at slice 1, row 1, column 0
    """
    geometry_args = (size, stride, padding, dilation, ceil_mode, pad_mode)
    if window_axes(size) == 3:
        return _explain_block(_block(matrix), op, Window.of(*geometry_args), p)
    if window_axes(size) == 1:
        raise ValueError(
            f"explain takes a window of two values (a matrix) or three (a block), got size "
            f"{size!r}; explain a signal as a matrix of one row, with size (1, k)"
        )
    plane = _plane(LECTURE if matrix is None else matrix)
    result = np.asarray(pool(plane, op, *geometry_args, p=p))
    geometry = resolve(plane.shape, *geometry_args)
    cells = _Cells(plane, geometry)
    out_h, out_w = geometry.out_shape
    windows = [(i, j) for i in range(out_h) for j in range(out_w)]

    paragraphs = [
        _heading(op, plane.shape, geometry, p),
        _legend(cells, geometry.pad_mode),
        "input\n" + _matrix(plane),
    ]
    rows = []
    for step, (i, j) in enumerate(windows, start=1):
        taps = cells.window(i, j)
        value = result[i, j]
        lines = [
            f"step {step} of {len(windows)}: output ({i}, {j}) takes "
            f"{_span('rows', geometry.height, i)}, {_span('columns', geometry.width, j)}",
            cells.drawing(set(taps)),
            "cells " + " ".join(cells.token(tap) for tap in taps),
            _how(op, cells, taps, value, p),
        ]
        paragraphs.append("\n".join(lines))
        rows.append([f"({i}, {j})", *(cells.token(tap) for tap in taps), _number(value)])
    paragraphs.append(_im2col(rows, op, geometry, cells))
    paragraphs.append(f"output {out_h}x{out_w}\n" + _matrix(result))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def _block(matrix: npt.ArrayLike | None) -> np.ndarray:
    """``matrix`` as a 3-D block of numbers, at most MAX_DEPTH deep and MAX_SIDE on a side;
    by default the lectures' 4×4 matrix stacked with its transpose, turned and flipped."""
    if matrix is None:
        return np.stack([LECTURE, LECTURE.T, LECTURE[::-1], LECTURE[:, ::-1]])
    given = np.asarray(matrix)
    array = given
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise ValueError(
            f"explain takes one 3-D block for a window of three values; got shape {given.shape}"
        )
    depth, height, width = array.shape
    if depth > MAX_DEPTH or height > MAX_SIDE or width > MAX_SIDE:
        raise ValueError(
            f"explain takes blocks up to {MAX_DEPTH}×{MAX_SIDE}×{MAX_SIDE}; got "
            f"{depth}×{height}×{width}"
        )
    if array.dtype.kind == "b":
        array = array.astype(np.uint8)
    return array


def _explain_block(block: np.ndarray, op: str, window: Window, p: float) -> str:
    """:func:`explain` of a 3-D block: every window drawn slice by slice, and the separable
    view that makes 3-D pooling 2-D pooling of depth-pooled planes."""
    result = np.asarray(pool(block, op, **window.kwargs(), p=p))
    geometry = window.resolve(block.shape)
    cells = _Cells(block, geometry)
    windows = list(np.ndindex(*geometry.out_shape))
    paragraphs = [
        _heading(op, block.shape, geometry, p),
        _legend(cells, geometry.pad_mode),
        "input, slice by slice\n" + _slices(block),
    ]
    rows = []
    names = ("slices", "rows", "columns")
    for step, index in enumerate(windows, start=1):
        taps = cells.window(*index)
        value = result.dtype.type(result[index])
        spans = ", ".join(
            _span(name, axis, i) for name, axis, i in zip(names, geometry.axes, index, strict=True)
        )
        lines = [f"step {step} of {len(windows)}: output {index} takes {spans}"]
        marked = set(taps)
        for depth in sorted({tap[0] for tap in taps}):
            lines.append(f"slice {depth}" + ("" if 0 <= depth < len(block) else " (padding)"))
            lines.append(cells.drawing(marked, depth))
        lines.append("cells " + " ".join(cells.token(tap) for tap in taps))
        lines.append(_how(op, cells, taps, value, p))
        paragraphs.append("\n".join(lines))
        rows.append([str(index), *(cells.token(tap) for tap in taps), _number(value)])
    paragraphs.append(_im2col(rows, op, geometry, cells))
    if op in ("max", "min", "sum"):
        paragraphs.append(_separably(block, op, geometry))
    out_d, out_h, out_w = geometry.out_shape
    paragraphs.append(f"output {out_d}x{out_h}x{out_w}, slice by slice\n" + _slices(result))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def _separably(block: np.ndarray, op: str, geometry: Geometry) -> str:
    """The depth pass alone: pooling its planes in 2-D with the window's height and width gives
    the output (max, min and sum are separable)."""
    depth, height, width = geometry.axes
    planes = pool(
        block,
        op,
        size=(depth.size, 1, 1),
        stride=(depth.stride, 1, 1),
        dilation=(depth.dilation, 1, 1),
        padding=(depth.before, depth.after, 0, 0, 0, 0),
        ceil_mode=geometry.ceil_mode,
        pad_mode=geometry.pad_mode,
    )
    return (
        f"separably: {op} over the {depth.size} slices of each window's depth first, one plane "
        f"per output slice, then {op} pooling of those planes in 2-D with the "
        f"{height.size}x{width.size} window gives the same output\n"
        f"the depth pass, slice by slice\n" + _slices(planes)
    )


def _slices(block: np.ndarray) -> str:
    return "\n".join(f"slice {d}\n{_matrix(plane)}" for d, plane in enumerate(block))


def _plane(matrix: npt.ArrayLike) -> np.ndarray:
    """``matrix`` as a 2-D array of numbers, at most MAX_SIDE on a side."""
    given = np.asarray(matrix)
    array = given
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f"explain takes one 2-D matrix; got shape {given.shape}")
    height, width = array.shape
    if height > MAX_SIDE or width > MAX_SIDE:
        raise ValueError(
            f"explain takes matrices up to {MAX_SIDE}×{MAX_SIDE}; got {height}×{width}"
        )
    if array.dtype.kind == "b":
        array = array.astype(np.uint8)
    return array


class _Cells:
    """Every cell a window can reach, in padded coordinates: what it holds and how it shows.

    Cells are (row, column) in a matrix, (slice, row, column) in a block.
    """

    def __init__(self, plane: np.ndarray, geometry: Geometry) -> None:
        self.plane = plane
        self.geometry = geometry
        axes = geometry.axes
        self.ranges = [range(-a.before, a.length + a.after + a.overhang) for a in axes]
        self.rows, self.cols = self.ranges[-2:]
        pads = tuple((a.before, a.after) for a in axes)
        mode = geometry.pad_mode
        self.padded: np.ndarray | None
        if mode == "edge":
            self.padded = np.pad(plane, pads, mode="edge")
        elif mode == "reflect":
            self.padded = np.pad(plane, pads, mode="reflect")
        elif mode == "ignore":
            self.padded = None
        else:
            fill = 0 if mode == "zero" else mode
            self.padded = np.pad(
                plane.astype(np.result_type(plane, fill)), pads, constant_values=fill
            )
        self.width = max(len(self.token(cell)) for cell in itertools.product(*self.ranges))

    def kind(self, cell: tuple[int, ...]) -> str:
        """real, pad (padding that counts), ignored (padding that does not) or outside.

        Outside cells lie past the padded border, where a ceil-mode window may reach.
        """
        axes = self.geometry.axes
        if all(0 <= at < axis.length for at, axis in zip(cell, axes, strict=True)):
            return "real"
        inside = all(
            -axis.before <= at < axis.length + axis.after
            for at, axis in zip(cell, axes, strict=True)
        )
        if not inside:
            return "outside"
        return "ignored" if self.padded is None else "pad"

    def value(self, cell: tuple[int, ...]) -> float | int | None:
        """What the cell holds, or None when it counts in no window."""
        kind = self.kind(cell)
        held: float | int
        if kind == "real":
            held = self.plane[cell].item()
            return held
        if kind == "pad":
            assert self.padded is not None
            axes = self.geometry.axes
            held = self.padded[tuple(at + a.before for at, a in zip(cell, axes, strict=True))]
            return held.item() if isinstance(held, np.generic) else held
        return None

    def token(self, cell: tuple[int, ...]) -> str:
        value = self.value(cell)
        if value is None:
            return _IGNORED
        return _number(value) if self.kind(cell) == "real" else f"({_number(value)})"

    def window(self, *index: int) -> list[tuple[int, ...]]:
        """The cells of window ``index``, row by row (slice by slice in a block)."""
        axes = self.geometry.axes
        return [
            tuple(
                axis.window_start(i) + tap * axis.dilation
                for i, tap, axis in zip(index, taps, axes, strict=True)
            )
            for taps in itertools.product(*(range(axis.size) for axis in axes))
        ]

    def drawing(self, marked: set[tuple[int, ...]], *slice_: int) -> str:
        """The padded matrix (of a block: its ``slice_``), one line a row, the ``marked`` cells
        in brackets."""
        lines = []
        for row in self.rows:
            line = ""
            for col in self.cols:
                cell = (*slice_, row, col)
                text = self.token(cell).rjust(self.width)
                line += f"[{text}]" if cell in marked else f" {text} "
            lines.append(line.rstrip())
        return "\n".join(lines)

    def has(self, kind: str) -> bool:
        return any(self.kind(cell) == kind for cell in itertools.product(*self.ranges))


def _heading(op: str, shape: tuple[int, ...], geometry: Geometry, p: float) -> str:
    name = f"lp (p = {_number(p)})" if op == "lp" else op
    rows = [*window_rows(geometry), ("pad mode", str(geometry.pad_mode))]
    what = "matrix" if len(shape) == 2 else "block"
    lines = [f"{name} pooling of a {'x'.join(map(str, shape))} {what}, step by step"]
    lines += [f"{label:<10}{value}" for label, value in rows]
    letters = "HW" if len(shape) == 2 else "DHW"
    lines += [axis.formula(letter) for axis, letter in zip(geometry.axes, letters, strict=True)]
    outs = geometry.out_shape
    cells = math.prod(geometry.sizes)
    windows = math.prod(outs)
    lines.append(f"{'x'.join(map(str, outs))} = {windows} windows of {cells} cells each")
    return "\n".join(lines)


def _legend(cells: _Cells, pad_mode: PadMode) -> str:
    lines = []
    if cells.has("pad"):
        if pad_mode in ("edge", "reflect"):
            copy = (
                "the nearest edge cell" if pad_mode == "edge" else "the cell mirrored at the edge"
            )
            lines.append(f"(v)  a padded cell holding v, a copy of {copy}; it counts")
        else:
            lines.append("(v)  a padded cell holding v; it counts")
    where = []
    if cells.has("ignored"):
        where.append("a padded cell")
    if cells.has("outside"):
        where.append("a cell past the padded border (ceil mode)")
    if where:
        lines.append(f"{_IGNORED}    {' or '.join(where)}; it counts in no window")
    return "\n".join(lines)


def _span(name: str, axis: AxisGeometry, index: int) -> str:
    start = axis.window_start(index)
    stop = start + (axis.size - 1) * axis.dilation
    if axis.size == 1:
        return f"{name[:-1]} {start}"
    every = f" (every {_ordinal(axis.dilation)})" if axis.dilation > 1 else ""
    return f"{name} {start}..{stop}{every}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _how(op: str, cells: _Cells, taps: list[tuple[int, ...]], result: np.generic, p: float) -> str:
    """How the window's counted cells give its value, ending in the engine's result."""
    counted = [v for v in (cells.value(tap) for tap in taps) if v is not None]
    answer = _number(result)
    terms = [_number(v) for v in counted]
    if op in ("max", "min"):
        for tap in taps:
            if cells.value(tap) is not None and cells.value(tap) == result.item():
                where = "a padded cell" if cells.kind(tap) == "pad" else _where(tap)
                return f"{op} = {answer}, at {where}"
        return f"{op} = {answer}"
    if op == "sum":
        return f"sum = {' + '.join(terms)} = {answer}"
    if op == "avg":
        return f"avg = ({' + '.join(terms)}) / {len(counted)} = {answer}"
    if op == "median":
        ordered = sorted(counted)
        listing = " ".join(_number(v) for v in ordered)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return f"median of {listing} = {answer}, the middle one"
        pair = f"({_number(ordered[middle - 1])} + {_number(ordered[middle])}) / 2"
        return f"median of {listing} = {pair} = {answer}"
    if op == "mode":
        listing = " ".join(_number(v) for v in sorted(counted))
        times = sum(v == result.item() for v in counted)
        return f"mode of {listing} = {answer}, {times} of {len(counted)} cells (ties: the smallest)"
    power = _number(p)
    powers = " + ".join(f"{_absolute(v)}^{power}" for v in counted)
    return f"lp = ({powers})^(1/{power}) = {answer}"


def _where(cell: tuple[int, ...]) -> str:
    """row r, column c (slice d, row r, column c in a block)."""
    *before, row, col = cell
    return "".join(f"slice {d}, " for d in before) + f"row {row}, column {col}"


def _absolute(value: float | int) -> str:
    """lp raises magnitudes to the power: ``|-1|`` for a negative cell."""
    text = _number(value)
    return f"|{text}|" if text.startswith("-") else text


def _im2col(rows: list[list[str]], op: str, geometry: Geometry, cells: _Cells) -> str:
    taps = math.prod(geometry.sizes)
    order = "row by row" if len(geometry.axes) == 2 else "slice by slice, row by row"
    widths = [max(len(row[k]) for row in rows) for k in range(taps + 2)]
    middles = [
        " ".join(cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:-1], strict=True))
        for row in rows
    ]
    first = max(widths[0], len("window"))
    middle = max(len(middles[0]), len("cells"))
    last = max(widths[-1], len(op))
    lines = [
        f"im2col: one row per window, its {taps} cells {order}; the {op} of each row",
        f"{'window'.ljust(first)}  {'cells'.ljust(middle)}  {op.rjust(last)}",
    ]
    for row, cells_text in zip(rows, middles, strict=True):
        lines.append(f"{row[0].ljust(first)}  {cells_text.ljust(middle)}  {row[-1].rjust(last)}")
    if cells.has("ignored") or cells.has("outside"):
        lines.append(f"(the textbook im2col holds 0 where {_IGNORED} shows: there it would count)")
    return "\n".join(lines)


def _matrix(plane: np.ndarray) -> str:
    cells = [[_number(v) for v in row] for row in np.asarray(plane)]
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    return "\n".join(
        " ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    )


def _number(value: float | np.generic) -> str:
    """Short text for a number: integers plainly, others to 6 significant digits."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int)):
        return str(int(value))
    number = float(value)
    if math.isfinite(number) and number.is_integer():
        return str(int(number)) if abs(number) < 1e15 else f"{number:.6g}"
    text = f"{number:.6g}"
    return "0" if text == "-0" else text
