"""Tests of poolcli.batch.report: the shape report as text and as a JSON object."""

from __future__ import annotations

import json

import pytest

from poolcli.batch.report import error_report, json_report, text_report
from poolcli.core.geometry import resolve


def test_text_report_of_the_lecture_case() -> None:
    """A 7x7 input, window 3, stride 2: 3x3 out, both formulas filled in."""
    geometry = resolve((7, 7), size=3, stride=2)
    report = text_report(
        "lecture-7x7.csv",
        (1, 1, 7, 7),
        "max",
        geometry,
        output_name="lecture-7x7.max.csv",
        dtype="int64",
    )
    assert report == (
        "input         lecture-7x7.csv\n"
        "input shape   (1, 1, 7, 7)  (N, C, H, W)\n"
        "dtype         int64\n"
        "op            max\n"
        "window        3x3\n"
        "stride        2x2\n"
        "padding       0, 0, 0, 0  (top, bottom, left, right)\n"
        "dilation      1x1\n"
        "rounding      floor\n"
        "pad mode      ignore\n"
        "output        lecture-7x7.max.csv\n"
        "output shape  (1, 1, 3, 3)  (N, C, H, W)\n"
        "out_h = floor((H + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3\n"
        "out_w = floor((W + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3"
    )


def test_text_report_ceil_mode_drops_a_window_that_starts_in_the_padding() -> None:
    """Ceil mode on 5 cells padded 1 a side: 4 windows by the formula, the 4th dropped."""
    geometry = resolve((5, 5), size=2, padding=1, ceil_mode=True)
    report = text_report(
        "photo.png", (1, 3, 5, 5), "avg", geometry, output_name="photo.avg.png", mode="RGB"
    )
    lines = report.splitlines()
    assert lines[2] == "mode          RGB"
    assert "padding       1, 1, 1, 1  (top, bottom, left, right)" in lines
    assert "rounding      ceil" in lines
    assert "output shape  (1, 3, 3, 3)  (N, C, H, W)" in lines
    assert lines[-2:] == [
        "out_h = ceil((H + P - e) / s) + 1 = ceil((5 + 2 - 2) / 2) + 1 = 4, "
        "less the last window that starts in the padding = 3",
        "out_w = ceil((W + P - e) / s) + 1 = ceil((5 + 2 - 2) / 2) + 1 = 4, "
        "less the last window that starts in the padding = 3",
    ]


def test_text_report_ceil_mode_keeps_the_window_over_the_last_row() -> None:
    """The lecture's 7 cells, window 3, stride 3: ceil mode covers the last row."""
    report = text_report("x.npy", (1, 1, 7, 7), "max", resolve((7, 7), size=3, ceil_mode=True))
    assert report.splitlines()[-1] == (
        "out_w = ceil((W + P - e) / s) + 1 = ceil((7 + 0 - 3) / 3) + 1 = 3"
    )


def test_text_report_same_padding_puts_the_odd_cell_after() -> None:
    """ "same" on 5x7 with window 2: padding (0, 1, 0, 1), out = ceil(in / stride)."""
    geometry = resolve((5, 7), size=2, padding="same")
    lines = text_report("x.png", (1, 1, 5, 7), "max", geometry).splitlines()
    assert "padding       0, 1, 0, 1  (top, bottom, left, right)" in lines
    assert "output        -" in lines
    assert "output shape  (1, 1, 3, 4)  (N, C, H, W)" in lines
    assert lines[-2:] == [
        "out_h = floor((H + P - e) / s) + 1 = floor((5 + 1 - 2) / 2) + 1 = 3",
        "out_w = floor((W + P - e) / s) + 1 = floor((7 + 1 - 2) / 2) + 1 = 4",
    ]


def test_text_report_numeric_pad_mode_and_dilation() -> None:
    """A number as pad mode is spelled out; dilation adds the effective window to the formula."""
    geometry = resolve((9, 9), size=2, stride=1, dilation=(1, 3), pad_mode=0.5)
    lines = text_report("x.npy", (2, 1, 9, 9), "max", geometry).splitlines()
    assert "dilation      1x3" in lines
    assert "pad mode      0.5 (padded cells hold this value)" in lines
    assert "output shape  (2, 1, 8, 6)  (N, C, H, W)" in lines
    assert lines[-1] == (
        "out_w = floor((W + P - e) / s) + 1 = floor((9 + 0 - 4) / 1) + 1 = 6"
        "   (e = d*(k-1)+1 = 3*(2-1)+1 = 4)"
    )


def test_text_report_takes_an_explicit_output_shape() -> None:
    """An output shape given by the caller wins over the one the geometry implies."""
    geometry = resolve((4, 4), size=2)
    report = text_report("a.png", (1, 1, 4, 4), "max", geometry, output_shape=(1, 1, 9, 9))
    assert "output shape  (1, 1, 9, 9)  (N, C, H, W)" in report.splitlines()


def test_json_report_keys_and_values() -> None:
    """Every fact of the text report, as JSON types, in one dumpable dict."""
    geometry = resolve((7, 6), size=(3, 2), stride=2, padding=(1, 0, 0, 1), ceil_mode=True)
    report = json_report(
        "photo.png",
        (1, 3, 7, 6),
        "max",
        geometry,
        output_name="photo.max.png",
        mode="RGB",
        dtype="uint8",
    )
    assert report == {
        "input": "photo.png",
        "output": "photo.max.png",
        "op": "max",
        "input_shape": [1, 3, 7, 6],
        "output_shape": [1, 3, 4, 3],
        "mode": "RGB",
        "dtype": "uint8",
        "size": [3, 2],
        "stride": [2, 2],
        "padding": [1, 0, 0, 1],
        "dilation": [1, 1],
        "ceil_mode": True,
        "pad_mode": "ignore",
        "formula_h": "out_h = ceil((H + P - e) / s) + 1 = ceil((7 + 1 - 3) / 2) + 1 = 4",
        "formula_w": "out_w = ceil((W + P - e) / s) + 1 = ceil((6 + 1 - 2) / 2) + 1 = 4, "
        "less the last window that starts in the padding = 3",
    }
    line = json.dumps(report)
    assert "\n" not in line
    assert json.loads(line) == report


def test_json_report_numeric_pad_mode_stays_a_number() -> None:
    """pad_mode 0 is the number 0 in JSON, not the string "0"."""
    report = json_report("a.npy", (1, 1, 4, 4), "avg", resolve((4, 4), 2, pad_mode=0))
    assert report["pad_mode"] == 0
    assert report["output"] is None
    assert report["mode"] is None


def test_report_without_a_geometry_has_no_window_lines() -> None:
    """An op that pools to a size (adaptive, fractional): the shapes, no window, no formula."""
    text = text_report(
        "a.png", (1, 3, 7, 6), "adaptive_avg", None, output_name="b.png", output_shape=(1, 3, 2, 3)
    )
    assert text == (
        "input         a.png\n"
        "input shape   (1, 3, 7, 6)  (N, C, H, W)\n"
        "op            adaptive_avg\n"
        "output        b.png\n"
        "output shape  (1, 3, 2, 3)  (N, C, H, W)"
    )
    report = json_report("a.png", (1, 3, 7, 6), "adaptive_avg", None, output_shape=(1, 3, 2, 3))
    assert report == {
        "input": "a.png",
        "output": None,
        "op": "adaptive_avg",
        "input_shape": [1, 3, 7, 6],
        "output_shape": [1, 3, 2, 3],
        "mode": None,
        "dtype": None,
    }
    with pytest.raises(ValueError, match="needs the output shape"):
        text_report("a.png", (1, 3, 7, 6), "adaptive_avg", None)


def test_error_report_holds_what_is_known() -> None:
    """A failed input: its name, the op, the shape if it loaded, and the error."""
    assert error_report("a.png", "a.png: no such file", op="max") == {
        "input": "a.png",
        "op": "max",
        "error": "a.png: no such file",
    }
    report = error_report(
        "b.png", "b.png: window 5 ...", op="avg", input_shape=(1, 1, 4, 4), mode="L", dtype="uint8"
    )
    assert report == {
        "input": "b.png",
        "op": "avg",
        "input_shape": [1, 1, 4, 4],
        "mode": "L",
        "dtype": "uint8",
        "error": "b.png: window 5 ...",
    }
