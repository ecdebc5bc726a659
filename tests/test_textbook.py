"""im2col and col2im: the lectures' layout, the adjoint identity, coverage counts, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolcli.teaching.textbook import col2im, im2col

MAX_EXAMPLES = 300


def loop_im2col(x, fh, fw, stride, pad):
    """The layout the textbook's im2col has, one entry at a time."""
    n_, c_, h, w = x.shape
    padded = np.zeros((n_, c_, h + 2 * pad, w + 2 * pad))
    padded[:, :, pad : pad + h, pad : pad + w] = x
    out_h = (h + 2 * pad - fh) // stride + 1
    out_w = (w + 2 * pad - fw) // stride + 1
    rows = []
    for n in range(n_):
        for i in range(out_h):
            for j in range(out_w):
                row = []
                for c in range(c_):
                    for y in range(fh):
                        for x_ in range(fw):
                            row.append(padded[n, c, i * stride + y, j * stride + x_])
                rows.append(row)
    return np.array(rows).reshape(n_ * out_h * out_w, c_ * fh * fw)


def loop_col2im(col, shape, fh, fw, stride, pad):
    """Every entry of col added back to the pixel it came from; padding dropped."""
    n_, c_, h, w = shape
    out_h = (h + 2 * pad - fh) // stride + 1
    out_w = (w + 2 * pad - fw) // stride + 1
    img = np.zeros(shape)
    for n in range(n_):
        for i in range(out_h):
            for j in range(out_w):
                r = (n * out_h + i) * out_w + j
                for c in range(c_):
                    for y in range(fh):
                        for x_ in range(fw):
                            yy, xx = i * stride + y - pad, j * stride + x_ - pad
                            if 0 <= yy < h and 0 <= xx < w:
                                img[n, c, yy, xx] += col[r, (c * fh + y) * fw + x_]
    return img


def coverage(h, w, fh, fw, stride, pad):
    """How many windows cover each pixel, counted window by window."""
    count = np.zeros((h, w))
    for i in range((h + 2 * pad - fh) // stride + 1):
        for j in range((w + 2 * pad - fw) // stride + 1):
            for y in range(i * stride - pad, i * stride - pad + fh):
                for x_ in range(j * stride - pad, j * stride - pad + fw):
                    if 0 <= y < h and 0 <= x_ < w:
                        count[y, x_] += 1
    return count


@st.composite
def geometries(draw):
    """(shape, filter_h, filter_w, stride, pad) with at least one window."""
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, fh - 2 * pad), 8))
    w = draw(st.integers(max(1, fw - 2 * pad), 8))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, fh, fw, stride, pad


def random_array(seed, shape):
    return np.random.default_rng(seed).integers(-9, 10, size=shape).astype(np.float64)


SEEDS = st.integers(0, 2**32 - 1)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(geometries(), SEEDS)
def test_im2col_matches_the_layout(geometry, seed):
    shape, fh, fw, stride, pad = geometry
    x = random_array(seed, shape)
    np.testing.assert_array_equal(
        im2col(x, fh, fw, stride, pad), loop_im2col(x, fh, fw, stride, pad)
    )


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(geometries(), SEEDS)
def test_col2im_matches_the_layout(geometry, seed):
    shape, fh, fw, stride, pad = geometry
    rows = im2col(np.zeros(shape), fh, fw, stride, pad).shape[0]
    col = random_array(seed, (rows, shape[1] * fh * fw))
    np.testing.assert_array_equal(
        col2im(col, shape, fh, fw, stride, pad), loop_col2im(col, shape, fh, fw, stride, pad)
    )


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(geometries(), SEEDS)
def test_col2im_is_the_adjoint_of_im2col(geometry, seed):
    shape, fh, fw, stride, pad = geometry
    x = random_array(seed, shape)
    col = im2col(x, fh, fw, stride, pad)
    y = random_array(seed + 1, col.shape)
    # Small integers: both sums are exact, so the identity holds bit for bit.
    assert np.sum(col * y) == np.sum(x * col2im(y, shape, fh, fw, stride, pad))


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(geometries(), SEEDS)
def test_round_trip_multiplies_by_coverage(geometry, seed):
    shape, fh, fw, stride, pad = geometry
    x = random_array(seed, shape)
    back = col2im(im2col(x, fh, fw, stride, pad), shape, fh, fw, stride, pad)
    np.testing.assert_array_equal(back, x * coverage(*shape[2:], fh, fw, stride, pad))


@pytest.mark.parametrize(("n", "rows"), [(1, 9), (10, 90)])
def test_lecture_shapes(n, rows):
    x = np.random.default_rng(n).random((n, 3, 7, 7))
    col = im2col(x, 5, 5, stride=1, pad=0)
    assert col.shape == (rows, 75)
    assert col2im(col, x.shape, 5, 5, stride=1, pad=0).shape == x.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floating_dtype_is_kept(dtype):
    x = np.ones((1, 1, 3, 3), dtype=dtype)
    col = im2col(x, 2, 2)
    assert col.dtype == dtype
    assert col2im(col, x.shape, 2, 2).dtype == dtype


def test_integers_become_float64_without_overflow():
    x = np.full((1, 1, 3, 3), 255, dtype=np.uint8)
    col = im2col(x, 2, 2)
    assert col.dtype == np.float64
    assert col2im(col, x.shape, 2, 2)[0, 0, 1, 1] == 4 * 255


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: im2col(np.zeros((3, 7, 7)), 2, 2), r"input must be 4-D \(N, C, H, W\)"),
        (lambda: im2col(np.zeros((1, 1, 4, 4)), 0, 2), "filter_h must be at least 1, got 0"),
        (lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 2, stride=0), "stride must be at least 1"),
        (lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 2, pad=-1), "pad must be at least 0, got -1"),
        (lambda: im2col(np.zeros((1, 1, 4, 4)), 2.5, 2), "filter_h must be an int"),
        (
            lambda: im2col(np.zeros((1, 1, 4, 4)), 2, 7, pad=1),
            r"filter width 7 is larger than the padded input width 6 \(width 4 \+ 2 \* pad 1\)",
        ),
        (
            lambda: col2im(np.zeros((9, 74)), (1, 3, 7, 7), 5, 5),
            r"col must have shape \(9, 75\) .* got \(9, 74\)",
        ),
    ],
    ids=["rank", "filter", "stride", "pad", "float-filter", "too-large", "col-shape"],
)
def test_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
