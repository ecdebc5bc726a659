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
    resolve,
    window_rows,
)

__all__ = ["LECTURE", "MAX_SIDE", "explain"]

#: The lectures' 4×4 example, the default input.
LECTURE = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
#: Largest height and width explained: beyond it the text is too long to read.
MAX_SIDE = 16

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
        W) array loaded from a file works. By default the lectures' 4×4 example.
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
    """
    plane = _plane(LECTURE if matrix is None else matrix)
    geometry_args = (size, stride, padding, dilation, ceil_mode, pad_mode)
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
    """Every cell a window can reach, in padded coordinates: what it holds and how it shows."""

    def __init__(self, plane: np.ndarray, geometry: Geometry) -> None:
        self.plane = plane
        self.geometry = geometry
        height, width = geometry.height, geometry.width
        self.rows = range(-height.before, height.length + height.after + height.overhang)
        self.cols = range(-width.before, width.length + width.after + width.overhang)
        pads = ((height.before, height.after), (width.before, width.after))
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
        self.width = max(len(self.token((r, c))) for r in self.rows for c in self.cols)

    def kind(self, cell: tuple[int, int]) -> str:
        """real, pad (padding that counts), ignored (padding that does not) or outside.

        Outside cells lie past the padded border, where a ceil-mode window may reach.
        """
        row, col = cell
        height, width = self.geometry.height, self.geometry.width
        if 0 <= row < height.length and 0 <= col < width.length:
            return "real"
        inside = -height.before <= row < height.length + height.after
        inside = inside and -width.before <= col < width.length + width.after
        if not inside:
            return "outside"
        return "ignored" if self.padded is None else "pad"

    def value(self, cell: tuple[int, int]) -> float | int | None:
        """What the cell holds, or None when it counts in no window."""
        kind = self.kind(cell)
        row, col = cell
        held: float | int
        if kind == "real":
            held = self.plane[row, col].item()
            return held
        if kind == "pad":
            assert self.padded is not None
            height, width = self.geometry.height, self.geometry.width
            held = self.padded[row + height.before, col + width.before].item()
            return held
        return None

    def token(self, cell: tuple[int, int]) -> str:
        value = self.value(cell)
        if value is None:
            return _IGNORED
        return _number(value) if self.kind(cell) == "real" else f"({_number(value)})"

    def window(self, i: int, j: int) -> list[tuple[int, int]]:
        """The cells of window (i, j), row by row."""
        height, width = self.geometry.height, self.geometry.width
        return [
            (
                height.window_start(i) + a * height.dilation,
                width.window_start(j) + b * width.dilation,
            )
            for a in range(height.size)
            for b in range(width.size)
        ]

    def drawing(self, marked: set[tuple[int, int]]) -> str:
        """The padded matrix, one line a row, the ``marked`` cells in brackets."""
        lines = []
        for row in self.rows:
            line = ""
            for col in self.cols:
                text = self.token((row, col)).rjust(self.width)
                line += f"[{text}]" if (row, col) in marked else f" {text} "
            lines.append(line.rstrip())
        return "\n".join(lines)

    def has(self, kind: str) -> bool:
        return any(self.kind((r, c)) == kind for r in self.rows for c in self.cols)


def _heading(op: str, shape: tuple[int, int], geometry: Geometry, p: float) -> str:
    name = f"lp (p = {_number(p)})" if op == "lp" else op
    rows = [*window_rows(geometry), ("pad mode", str(geometry.pad_mode))]
    lines = [f"{name} pooling of a {shape[0]}x{shape[1]} matrix, step by step"]
    lines += [f"{label:<10}{value}" for label, value in rows]
    lines.append(geometry.height.formula("H"))
    lines.append(geometry.width.formula("W"))
    out_h, out_w = geometry.out_shape
    cells = geometry.size[0] * geometry.size[1]
    lines.append(f"{out_h}x{out_w} = {out_h * out_w} windows of {cells} cells each")
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


def _how(op: str, cells: _Cells, taps: list[tuple[int, int]], result: np.generic, p: float) -> str:
    """How the window's counted cells give its value, ending in the engine's result."""
    counted = [v for v in (cells.value(tap) for tap in taps) if v is not None]
    answer = _number(result)
    terms = [_number(v) for v in counted]
    if op in ("max", "min"):
        for tap in taps:
            if cells.value(tap) is not None and cells.value(tap) == result.item():
                where = "a padded cell" if cells.kind(tap) == "pad" else "row {}, column {}"
                return f"{op} = {answer}, at " + where.format(*tap)
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


def _absolute(value: float | int) -> str:
    """lp raises magnitudes to the power: ``|-1|`` for a negative cell."""
    text = _number(value)
    return f"|{text}|" if text.startswith("-") else text


def _im2col(rows: list[list[str]], op: str, geometry: Geometry, cells: _Cells) -> str:
    kh, kw = geometry.size
    taps = kh * kw
    widths = [max(len(row[k]) for row in rows) for k in range(taps + 2)]
    middles = [
        " ".join(cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:-1], strict=True))
        for row in rows
    ]
    first = max(widths[0], len("window"))
    middle = max(len(middles[0]), len("cells"))
    last = max(widths[-1], len(op))
    lines = [
        f"im2col: one row per window, its {taps} cells row by row; the {op} of each row",
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
