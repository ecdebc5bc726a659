"""poolcli.teaching.explain: the lecture's walk-through, every op and geometry, against pool."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli.teaching.explain import LECTURE, explain
from poolcli.teaching.textbook import im2col

MAX_EXAMPLES = 120
OPS = ("max", "min", "avg", "sum", "median", "lp")

LECTURE_MAX = """\
max pooling of a 4x4 matrix, step by step
window    2x2
stride    2x2
padding   0, 0, 0, 0  (top, bottom, left, right)
dilation  1x1
rounding  floor
pad mode  ignore
out_h = floor((H + P - e) / s) + 1 = floor((4 + 0 - 2) / 2) + 1 = 2
out_w = floor((W + P - e) / s) + 1 = floor((4 + 0 - 2) / 2) + 1 = 2
2x2 = 4 windows of 4 cells each

input
1 2 1 0
0 1 2 3
3 0 1 2
2 4 0 1

step 1 of 4: output (0, 0) takes rows 0..1, columns 0..1
[1][2] 1  0
[0][1] 2  3
 3  0  1  2
 2  4  0  1
cells 1 2 0 1
max = 2, at row 0, column 1

step 2 of 4: output (0, 1) takes rows 0..1, columns 2..3
 1  2 [1][0]
 0  1 [2][3]
 3  0  1  2
 2  4  0  1
cells 1 0 2 3
max = 3, at row 1, column 3

step 3 of 4: output (1, 0) takes rows 2..3, columns 0..1
 1  2  1  0
 0  1  2  3
[3][0] 1  2
[2][4] 0  1
cells 3 0 2 4
max = 4, at row 3, column 1

step 4 of 4: output (1, 1) takes rows 2..3, columns 2..3
 1  2  1  0
 0  1  2  3
 3  0 [1][2]
 2  4 [0][1]
cells 1 2 0 1
max = 2, at row 2, column 3

im2col: one row per window, its 4 cells row by row; the max of each row
window  cells    max
(0, 0)  1 2 0 1    2
(0, 1)  1 0 2 3    3
(1, 0)  3 0 2 4    4
(1, 1)  1 2 0 1    2

output 2x2
2 3
4 2"""


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def paragraph(text: str, start: str) -> str:
    return next(part for part in paragraphs(text) if part.startswith(start))


def steps(text: str) -> list[str]:
    return [part for part in paragraphs(text) if part.startswith("step ")]


def output_lines(text: str) -> list[str]:
    return paragraph(text, "output ").splitlines()[1:]


def formatted(matrix: np.ndarray) -> list[list[str]]:
    """What the explanation prints for each value: integers plainly, else 6 digits."""
    rows = []
    for row in np.asarray(matrix, dtype=np.float64):
        rows.append([str(int(v)) if v.is_integer() else f"{v:.6g}" for v in row])
    return rows


def test_the_lecture_example_step_by_step():
    assert explain() == LECTURE_MAX
    assert explain(LECTURE, "max", size=2) == LECTURE_MAX


@pytest.mark.parametrize(
    ("op", "how"),
    [
        ("min", "min = 0, at row 1, column 0"),
        ("avg", "avg = (1 + 2 + 0 + 1) / 4 = 1"),
        ("sum", "sum = 1 + 2 + 0 + 1 = 4"),
        ("median", "median of 0 1 1 2 = (1 + 1) / 2 = 1"),
        ("lp", "lp = (1^2 + 2^2 + 0^2 + 1^2)^(1/2) = 2.44949"),
    ],
)
def test_each_op_shows_how_a_window_gives_its_value(op, how):
    text = explain(op=op)
    assert steps(text)[0].splitlines()[-1] == how
    assert paragraphs(text)[0].startswith(f"{op} pooling of a 4x4 matrix" if op != "lp" else "lp")


def test_lp_names_its_power_and_takes_magnitudes():
    text = explain([[-1, 2], [3, 4]], "lp", p=3)
    assert paragraphs(text)[0].splitlines()[0] == "lp (p = 3) pooling of a 2x2 matrix, step by step"
    assert steps(text)[0].splitlines()[-1] == "lp = (|-1|^3 + 2^3 + 3^3 + 4^3)^(1/3) = 4.64159"


def test_median_of_an_odd_count():
    text = explain([[5, 1, 9]], "median", size=(1, 3))
    assert steps(text)[0].splitlines()[-1] == "median of 1 5 9 = 5, the middle one"


def test_ignored_padding_is_marked_and_left_out():
    text = explain([[1, 2], [3, 4]], "avg", size=2, stride=1, padding=1)
    assert "·    a padded cell; it counts in no window" in paragraphs(text)
    first = steps(text)[0].splitlines()
    assert first == [
        "step 1 of 9: output (0, 0) takes rows -1..0, columns -1..0",
        "[·][·] ·  ·",
        "[·][1] 2  ·",
        " ·  3  4  ·",
        " ·  ·  ·  ·",
        "cells · · · 1",
        "avg = (1) / 1 = 1",
    ]
    assert paragraph(text, "im2col").splitlines()[-1] == (
        "(the textbook im2col holds 0 where · shows: there it would count)"
    )


def test_a_padding_value_counts_and_shows_in_parentheses():
    text = explain([[1, 2], [3, 4]], "max", size=2, stride=2, padding=1, pad_mode=9)
    assert "(v)  a padded cell holding v; it counts" in paragraphs(text)
    assert steps(text)[0].splitlines()[-2:] == ["cells (9) (9) (9) 1", "max = 9, at a padded cell"]


@pytest.mark.parametrize(
    ("pad_mode", "legend"),
    [
        ("edge", "(v)  a padded cell holding v, a copy of the nearest edge cell; it counts"),
        (
            "reflect",
            "(v)  a padded cell holding v, a copy of the cell mirrored at the edge; it counts",
        ),
    ],
)
def test_edge_and_reflect_padding(pad_mode, legend):
    text = explain([[1, 2, 3]], "sum", size=(1, 2), stride=1, padding=(0, 1), pad_mode=pad_mode)
    assert legend in paragraphs(text)
    copied = {"edge": ("(1)", "(3)"), "reflect": ("(2)", "(2)")}[pad_mode]
    assert steps(text)[0].splitlines()[1].split() == [
        "[" + copied[0] + "][",
        "1]",
        "2",
        "3",
        copied[1],
    ]


def test_ceil_mode_cells_past_the_border():
    text = explain(op="max", size=3, stride=3, ceil_mode=True)
    assert "·    a cell past the padded border (ceil mode); it counts in no window" in paragraphs(
        text
    )
    assert steps(text)[-1].splitlines()[-2:] == [
        "cells 1 · · · · · · · ·",
        "max = 1, at row 3, column 3",
    ]


def test_dilation_is_spelled_out():
    text = explain(np.arange(25).reshape(5, 5), "max", size=2, stride=1, dilation=2)
    assert steps(text)[0].splitlines()[0] == (
        "step 1 of 9: output (0, 0) takes rows 0..2 (every 2nd), columns 0..2 (every 2nd)"
    )
    assert paragraphs(text)[0].splitlines()[-3].endswith("(e = d*(k-1)+1 = 2*(2-1)+1 = 3)")


def test_a_one_cell_window_names_its_row():
    assert steps(explain(op="sum", size=(1, 2)))[0].splitlines()[0] == (
        "step 1 of 8: output (0, 0) takes row 0, columns 0..1"
    )


def test_floats_and_a_plane_with_leading_axes():
    matrix = np.array([[[[0.5, 1.25], [2.0, -3.5]]]], dtype=np.float32)
    text = explain(matrix, "avg", size=2)
    assert output_lines(text) == ["0.0625"]
    assert paragraph(text, "input").splitlines()[1:] == ["0.5 1.25", "  2 -3.5"]


@st.composite
def cases(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    pad_mode = draw(st.sampled_from(["zero", "edge", "reflect", 2.5, "ignore"]))
    ceil_mode = draw(st.booleans())
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * padding[1]), 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    matrix = rng.integers(-5, 10, size=(h, w))
    geometry = {
        "size": (kh, kw),
        "stride": (sh, sw),
        "padding": padding,
        "dilation": (dh, dw),
        "ceil_mode": ceil_mode,
        "pad_mode": pad_mode,
    }
    return draw(st.sampled_from(OPS)), matrix, geometry


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(cases())
def test_every_op_and_geometry_agrees_with_pool(case):
    op, matrix, geometry = case
    try:
        expected = poolcli.pool(matrix, op, **geometry)
    except ValueError as error:
        with pytest.raises(ValueError, match=re.escape(str(error))):
            explain(matrix, op, **geometry)
        return
    text = explain(matrix, op, **geometry)
    out_h, out_w = expected.shape
    kh, kw = geometry["size"]
    assert [line.split() for line in output_lines(text)] == formatted(expected)
    assert len(steps(text)) == out_h * out_w
    table = paragraph(text, "im2col").splitlines()
    rows = [line.split() for line in table[2 : 2 + out_h * out_w]]
    for index, (step, row) in enumerate(zip(steps(text), rows, strict=True)):
        i, j = divmod(index, out_w)
        lines = step.splitlines()
        assert lines[0].startswith(f"step {index + 1} of {out_h * out_w}: output ({i}, {j}) takes")
        cells = lines[-2].split()[1:]
        assert len(cells) == kh * kw
        assert row == [f"({i},", f"{j})", *cells, formatted(expected)[i][j]]
        assert re.search(rf"= {re.escape(formatted(expected)[i][j])}(,|$)", lines[-1])
        assert sum(line.count("[") for line in lines[1:-2]) == kh * kw


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.data())
def test_im2col_table_is_the_textbook_im2col(kh, kw, stride, pad, data):
    # With zero padding the table's cells are exactly the textbook's rows.
    h = data.draw(st.integers(max(1, kh - 2 * pad), 6))
    w = data.draw(st.integers(max(1, kw - 2 * pad), 6))
    matrix = np.random.default_rng(data.draw(st.integers(0, 1000))).integers(0, 9, (h, w))
    text = explain(matrix, "sum", size=(kh, kw), stride=stride, padding=pad, pad_mode="zero")
    table = paragraph(text, "im2col").splitlines()[2:]
    cells = [[int(cell.strip("()")) for cell in line.split()[2:-1]] for line in table]
    np.testing.assert_array_equal(cells, im2col(matrix[None, None], kh, kw, stride, pad))


def test_max_names_a_cell_holding_the_max():
    rng = np.random.default_rng(4)
    matrix = rng.integers(0, 5, (6, 7))
    text = explain(matrix, "max", size=3, stride=2, padding=1)
    for step in steps(text):
        found = re.fullmatch(r"max = (\d+), at row (\d+), column (\d+)", step.splitlines()[-1])
        assert found is not None
        value, row, col = (int(group) for group in found.groups())
        assert matrix[row, col] == value


# ---------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((17, 16), "explain takes matrices up to 16×16; got 17×16"),
        ((4, 20), "explain takes matrices up to 16×16; got 4×20"),
        ((1, 1, 17, 17), "explain takes matrices up to 16×16; got 17×17"),
        ((3, 4, 4), r"explain takes one 2-D matrix; got shape \(3, 4, 4\)"),
        ((4,), r"explain takes one 2-D matrix; got shape \(4,\)"),
    ],
)
def test_refuses_what_it_cannot_explain(shape, message):
    with pytest.raises(ValueError, match=message):
        explain(np.zeros(shape))


def test_a_16_by_16_matrix_is_fine():
    text = explain(np.arange(256).reshape(16, 16), "avg", size=4)
    assert len(steps(text)) == 16


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"op": "mean"}, "op must be one of"),
        ({"op": "lp", "p": 0}, "p must be a number above 0, got 0"),
        ({"op": "lp", "p": -1.5}, "p must be a number above 0, got -1.5"),
        ({"size": 5}, "window 5 is larger than the padded height 4"),
        ({"stride": 0}, "stride must be at least 1, got 0"),
        ({"pad_mode": "wrap", "padding": 1}, "pad_mode must be one of"),
    ],
)
def test_bad_arguments_are_pool_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explain(**kwargs)


def test_mode_is_explained_window_by_window():
    """Each window of mode pooling says its sorted cells and how often the winner occurs."""
    x = np.array([[1, 1, 2, 2], [2, 3, 2, 4], [5, 5, 5, 6], [6, 7, 6, 6]])
    text = explain(x, "mode", size=2)
    assert "mode of 1 1 2 3 = 1, 2 of 4 cells (ties: the smallest)" in text
    assert "mode of 2 2 2 4 = 2, 3 of 4 cells (ties: the smallest)" in text
    assert "mode of 5 5 6 7 = 5, 2 of 4 cells (ties: the smallest)" in text
    assert "mode of 5 6 6 6 = 6, 3 of 4 cells (ties: the smallest)" in text
