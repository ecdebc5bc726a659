"""The shape report: what went in, which window slid over it, and why the output has its size.

Pure functions over plain values and a :class:`~poolcli.core.geometry.Geometry`; the command line
prints :func:`text_report` for ``--report text`` (names in it through
:func:`~poolcli.batch.text.printable`: one line each, no terminal controls) and one
``json.dumps`` of :func:`json_report` a line for ``--report json``. :func:`info_text` and
:func:`info_report` lay out what ``poolcli info`` prints: an input's
:class:`~poolcli.io.images.Header`, and with a geometry the shape pooling would give.
Nothing here reads pixels, so this module imports no numpy.

Examples
--------
>>> from poolcli.core.geometry import resolve
>>> geometry = resolve((4, 4), size=2)
>>> print(text_report("lecture-4x4.csv", (1, 1, 4, 4), "max", geometry, dtype="int64"))
input         lecture-4x4.csv
input shape   (1, 1, 4, 4)  (N, C, H, W)
dtype         int64
op            max
window        2x2
stride        2x2
padding       0, 0, 0, 0  (top, bottom, left, right)
dilation      1x1
rounding      floor
pad mode      ignore
output        -
output shape  (1, 1, 2, 2)  (N, C, H, W)
out_h = floor((H + P - e) / s) + 1 = floor((4 + 0 - 2) / 2) + 1 = 2
out_w = floor((W + P - e) / s) + 1 = floor((4 + 0 - 2) / 2) + 1 = 2
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from poolcli.batch.text import printable
from poolcli.core.geometry import Geometry, PadMode, window_rows

if TYPE_CHECKING:
    from poolcli.io.images import Header

__all__ = [
    "error_report",
    "info_report",
    "info_text",
    "json_line",
    "json_report",
    "size_change",
    "text_report",
]

_LABEL_WIDTH = 14


def text_report(
    input_name: str,
    input_shape: Sequence[int],
    op: str,
    geometry: Geometry | None,
    *,
    output_name: str | None = None,
    output_shape: Sequence[int] | None = None,
    mode: str | None = None,
    dtype: str | None = None,
) -> str:
    """The human shape report of one input, one fact a line (no trailing newline).

    Parameters
    ----------
    input_name : str
        The input as the user named it.
    input_shape : sequence of int
        The loaded array's shape, (N, C, H, W).
    op : str
        The pooling operation, e.g. ``"max"``.
    geometry : Geometry or None
        The resolved window, stride, padding and dilation for the input's (H, W); None for an
        op that pools to a size (adaptive, fractional), whose report has no window lines.
    output_name : str, optional
        Where the result goes; ``"-"`` when not given.
    output_shape : sequence of int, optional
        The result's shape; by default the input's leading axes and ``geometry.out_shape``.
        Required without a geometry.
    mode, dtype : str, optional
        The Pillow mode and numpy dtype as loaded; a line each when given.

    Returns
    -------
    str
        Labelled lines, then the output-size formula of each axis with its numbers filled in
        (when there is a geometry).

    Examples
    --------
    The lecture's 7x7 input, a 3x3 window in ceil mode with stride 3: the formula gives 3 windows,
    and the third starts on the last row, so it is kept.

    >>> from poolcli.core.geometry import resolve
    >>> geometry = resolve((7, 7), size=3, ceil_mode=True)
    >>> report = text_report("x.npy", (1, 1, 7, 7), "avg", geometry, output_name="x.avg.npy")
    >>> print(report.splitlines()[-1])
    out_w = ceil((W + P - e) / s) + 1 = ceil((7 + 0 - 3) / 3) + 1 = 3
    """
    out_shape = _output_shape(input_shape, geometry, output_shape)
    rows = [
        ("input", printable(input_name)),
        ("input shape", f"{_shape(input_shape)}  {_axes_label(input_shape)}"),
    ]
    if mode is not None:
        rows.append(("mode", mode))
    if dtype is not None:
        rows.append(("dtype", dtype))
    rows.append(("op", op))
    if geometry is not None:
        rows += [*window_rows(geometry), ("pad mode", _pad_mode_text(geometry.pad_mode))]
    rows += [
        ("output", "-" if output_name is None else printable(output_name)),
        ("output shape", f"{_shape(out_shape)}  {_axes_label(out_shape)}"),
    ]
    return _lines(rows, geometry)


def json_report(
    input_name: str,
    input_shape: Sequence[int],
    op: str,
    geometry: Geometry | None,
    *,
    output_name: str | None = None,
    output_shape: Sequence[int] | None = None,
    mode: str | None = None,
    dtype: str | None = None,
) -> dict[str, Any]:
    """The shape report of one input as a JSON-ready dict (one NDJSON line once dumped).

    Takes the arguments of :func:`text_report`. Shapes and pairs become lists, the rounding
    ``ceil_mode`` (a bool), and the formulas the strings of the text report. Without a geometry
    there are no window keys (size, stride, ..., formula_w).

    Examples
    --------
    >>> from poolcli.core.geometry import resolve
    >>> report = json_report("a.png", (1, 3, 5, 5), "max", resolve((5, 5), 2, padding="same"))
    >>> report["padding"], report["output_shape"], report["output"]
    ([0, 1, 0, 1], [1, 3, 3, 3], None)
    """
    report = {
        "input": input_name,
        "output": output_name,
        "op": op,
        "input_shape": [int(n) for n in input_shape],
        "output_shape": list(_output_shape(input_shape, geometry, output_shape)),
        "mode": mode,
        "dtype": dtype,
    }
    if geometry is not None:
        report.update(_window_json(geometry))
    return report


def error_report(
    input_name: str,
    error: str,
    *,
    op: str | None = None,
    input_shape: Sequence[int] | None = None,
    mode: str | None = None,
    dtype: str | None = None,
) -> dict[str, Any]:
    """The JSON report of an input that failed: what is known of it, and the error.

    Examples
    --------
    >>> error_report("a.png", "a.png: no such file", op="max")
    {'input': 'a.png', 'op': 'max', 'error': 'a.png: no such file'}
    """
    report: dict[str, Any] = {"input": input_name}
    if op is not None:
        report["op"] = op
    if input_shape is not None:
        report["input_shape"] = [int(n) for n in input_shape]
        report["mode"] = mode
        report["dtype"] = dtype
    report["error"] = error
    return report


def info_report(name: str, header: Header, geometry: Geometry | None = None) -> dict[str, Any]:
    """What ``poolcli info --report json`` prints of one input, as a JSON-ready dict.

    With ``geometry``, also the pooling parameters, the pooled shape and its formulas.

    Examples
    --------
    >>> from poolcli.core.geometry import resolve
    >>> from poolcli.io.images import Header
    >>> header = Header("image", "PNG", "RGB", "uint8", 1, (1, 3, 5, 5), False)
    >>> report = info_report("a.png", header, resolve((5, 5), 2))
    >>> report["shape"], report["output_shape"], report["padding"]
    ([1, 3, 5, 5], [1, 3, 2, 2], [0, 0, 0, 0])
    """
    report: dict[str, Any] = {
        "input": name,
        "kind": header.kind,
        "format": header.format,
        "mode": header.mode,
        "dtype": header.dtype,
        "frames": header.frames,
        "shape": list(header.shape),
        "decoded": header.decoded,
    }
    if geometry is not None:
        out_shape = _output_shape(header.shape, geometry, None)
        report.update(_window_json(geometry, output_shape=list(out_shape)))
    return report


def info_text(name: str, header: Header, geometry: Geometry | None = None) -> str:
    """What ``poolcli info`` prints of one input, one fact a line (no trailing newline).

    With ``geometry``, also the pooling parameters, the pooled shape and its formulas.

    Examples
    --------
    >>> from poolcli.core.geometry import resolve
    >>> from poolcli.io.images import Header
    >>> header = Header("image", "PNG", "RGB", "uint8", 1, (1, 3, 7, 7), False)
    >>> print(info_text("a.png", header, resolve((7, 7), 3, stride=2)))
    input         a.png
    shape         (1, 3, 7, 7)  (N, C, H, W)
    format        PNG image
    mode          RGB
    dtype         uint8
    frames        1
    window        3x3
    stride        2x2
    padding       0, 0, 0, 0  (top, bottom, left, right)
    dilation      1x1
    rounding      floor
    pad mode      ignore
    output shape  (1, 3, 3, 3)  (N, C, H, W)
    out_h = floor((H + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3
    out_w = floor((W + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3
    """
    kind = {"image": f"{header.format} image", "array": "NPY array", "matrix": "CSV matrix"}
    rows = [
        ("input", printable(name)),
        ("shape", f"{_shape(header.shape)}  (N, C, H, W)"),
        ("format", kind.get(header.kind, header.kind)),
    ]
    if header.mode is not None:
        rows.append(("mode", header.mode))
    rows += [("dtype", header.dtype), ("frames", str(header.frames))]
    if geometry is None:
        return _lines(rows)
    pad_mode = geometry.pad_mode
    rows += [
        *window_rows(geometry),
        ("pad mode", pad_mode if isinstance(pad_mode, str) else f"{pad_mode:g}"),
        ("output shape", f"{_shape(_output_shape(header.shape, geometry, None))}  (N, C, H, W)"),
    ]
    return _lines(rows, geometry)


def json_line(report: dict[str, Any]) -> str:
    """A report as one compact line of JSON, as ``--report json`` prints each (NDJSON).

    >>> json_line({"input": "a.png", "shape": [1, 3, 4, 4]})
    '{"input":"a.png","shape":[1,3,4,4]}'
    """
    return json.dumps(report, separators=(",", ":"))


def size_change(name: str, before: Sequence[int], after: Sequence[int], axes: int = 2) -> str:
    """``photo.max.jpg (700x1024 -> 350x512)``: height x width, as every size poolcli reads
    (``-k 2x3``) and prints; depth x height x width for ``axes`` 3.

    >>> size_change("photo.max.jpg", (1, 3, 700, 1024), (1, 3, 350, 512))
    'photo.max.jpg (700x1024 -> 350x512)'
    >>> size_change("stack.max.tif", (1, 1, 40, 64, 64), (1, 1, 20, 32, 32), axes=3)
    'stack.max.tif (40x64x64 -> 20x32x32)'
    """
    shown = 3 if axes == 3 else 2
    return f"{name} ({_by(tuple(before[-shown:]))} -> {_by(tuple(after[-shown:]))})"


def _window_json(geometry: Geometry, **before_formulas: Any) -> dict[str, Any]:
    return {
        "size": list(geometry.sizes),
        "stride": list(geometry.strides),
        "padding": list(geometry.padding),
        "dilation": list(geometry.dilations),
        "ceil_mode": geometry.ceil_mode,
        "pad_mode": geometry.pad_mode,
        **before_formulas,
        **{f"formula_{letter.lower()}": formula for letter, formula in _formulas(geometry)},
    }


def _formulas(geometry: Geometry) -> list[tuple[str, str]]:
    """(axis letter, its output-size formula) for each axis: D, H, W; H, W; or L."""
    letters = {1: "L", 2: "HW", 3: "DHW"}[len(geometry.axes)]
    return [
        (letter, axis.formula(letter)) for letter, axis in zip(letters, geometry.axes, strict=True)
    ]


def _lines(rows: list[tuple[str, str]], geometry: Geometry | None = None) -> str:
    """The rows, labels aligned; then the size formula of each axis of ``geometry``."""
    lines = [f"{label:<{_LABEL_WIDTH}}{value}" for label, value in rows]
    if geometry is not None:
        lines += [formula for _, formula in _formulas(geometry)]
    return "\n".join(lines)


def _output_shape(
    input_shape: Sequence[int], geometry: Geometry | None, output_shape: Sequence[int] | None
) -> tuple[int, ...]:
    if output_shape is not None:
        return tuple(int(n) for n in output_shape)
    if geometry is None:
        raise ValueError("a report without a geometry needs the output shape")
    kept = len(input_shape) - len(geometry.out_shape)
    return (*(int(n) for n in input_shape[:kept]), *geometry.out_shape)


def _axes_label(shape: Sequence[int]) -> str:
    """What the axes of a loaded shape are: (N, C, H, W), or (N, C, D, H, W) for a volume."""
    return "(N, C, D, H, W)" if len(shape) == 5 else "(N, C, H, W)"


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def _by(values: tuple[int, ...]) -> str:
    return "x".join(str(int(value)) for value in values)


def _pad_mode_text(pad_mode: PadMode) -> str:
    if isinstance(pad_mode, str):
        return pad_mode
    return f"{pad_mode:g} (padded cells hold this value)"
