"""explain of a small 3-D block: every window slice by slice, the values pool gives, and the
separable view (depth pass, then 2-D pooling) that takes learners from 2-D to 3-D."""

from __future__ import annotations

import re

import numpy as np
import pytest

import poolcli
from poolcli.teaching.explain import LECTURE, explain

OPS = ("max", "min", "avg", "sum", "median", "lp", "mode")


def paragraphs(text):
    return text.split("\n\n")


def slices(paragraph):
    """The matrices of a 'slice by slice' paragraph, as arrays."""
    found = []
    for part in re.split(r"^slice \d+\n", paragraph, flags=re.M)[1:]:
        found.append(np.array([[float(v) for v in line.split()] for line in part.splitlines()]))
    return np.array(found)


def test_the_default_block_is_the_lecture_matrix_four_ways():
    text = explain(size=(2, 2, 2))
    first = paragraphs(text)[0].splitlines()
    assert first[0] == "max pooling of a 4x4x4 block, step by step"
    assert "padding   0, 0, 0, 0, 0, 0  (front, back, top, bottom, left, right)" in first
    assert first[7].startswith("out_d = floor((D + P - e) / s) + 1")
    assert first[-1] == "2x2x2 = 8 windows of 8 cells each"
    block = slices(next(p for p in paragraphs(text) if p.startswith("input")))
    np.testing.assert_array_equal(block[0], LECTURE)
    np.testing.assert_array_equal(block[1], LECTURE.T)


@pytest.mark.parametrize("op", OPS)
def test_every_op_shows_what_pool_gives(op):
    rng = np.random.default_rng(2)
    block = rng.integers(0, 5, (3, 4, 5))
    kwargs = dict(size=(2, 2, 3), stride=(1, 2, 1), padding=(1, 0, 1), pad_mode="edge")
    text = explain(block, op, **kwargs)
    expected = poolcli.pool(block, op, **kwargs)
    out = slices(paragraphs(text)[-1])
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    steps = [p for p in paragraphs(text) if p.startswith("step ")]
    assert len(steps) == expected.size
    for step in steps:
        cells = next(line for line in step.splitlines() if line.startswith("cells "))
        assert len(cells.split()) == 1 + 2 * 2 * 3


@pytest.mark.parametrize("op", ["max", "min", "sum"])
def test_the_depth_pass_pooled_in_2d_gives_the_output(op):
    rng = np.random.default_rng(3)
    block = rng.integers(-4, 9, (5, 4, 4))
    text = explain(block, op, size=(3, 2, 2), stride=(2, 1, 2), ceil_mode=True)
    separably = next(p for p in paragraphs(text) if p.startswith("separably"))
    planes = slices(separably)
    assert planes.shape == (2, 4, 4)
    second = poolcli.pool(planes, op, size=(2, 2), stride=(1, 2), ceil_mode=True)
    np.testing.assert_array_equal(second, slices(paragraphs(text)[-1]))


def test_padded_slices_are_drawn_and_named():
    text = explain([[[1, 2], [3, 4]]], "avg", size=(2, 1, 1), padding=(1, 0, 0), pad_mode=7)
    first = next(p for p in paragraphs(text) if p.startswith("step 1 "))
    assert first.splitlines()[1] == "slice -1 (padding)"
    assert "[(7)]" in first
    assert first.splitlines()[-1] == "avg = (7 + 1) / 2 = 4"


def test_blocks_are_refused_beyond_their_limits():
    with pytest.raises(ValueError, match="explain takes blocks up to 8×16×16; got 9×2×2"):
        explain(np.zeros((9, 2, 2)), size=(1, 1, 1))
    with pytest.raises(ValueError, match=r"one 3-D block for a window of three values"):
        explain(np.zeros((4, 4)), size=(2, 2, 2))
    with pytest.raises(ValueError, match=r"explain takes one 2-D matrix; got shape \(3, 4, 4\)"):
        explain(np.zeros((3, 4, 4)), size=2)
    with pytest.raises(ValueError, match=r"a window of two values \(a matrix\) or three"):
        explain(np.zeros((1, 4)), size=(2,))
