"""The textbook MaxPooling / AveragePooling layers: against the reference, PyTorch, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import reference_pool

from poolcli.teaching.layers import AveragePooling, MaxPooling

MAX_EXAMPLES = 300
LAYERS = {"max": MaxPooling, "avg": AveragePooling}


@st.composite
def cases(draw):
    """(op, pool_h, pool_w, stride, pad, x) with at least one window."""
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, ph - 2 * pad), 9))
    w = draw(st.integers(max(1, pw - 2 * pad), 9))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    seed = draw(st.integers(0, 2**32 - 1))
    # Small integers, negatives included: many ties, and zero padding can win a max.
    x = np.random.default_rng(seed).integers(-4, 5, size=shape).astype(np.float64)
    return draw(st.sampled_from(sorted(LAYERS))), ph, pw, stride, pad, x


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(cases())
def test_forward_equals_pooling_over_zero_padding(case):
    op, ph, pw, stride, pad, x = case
    got = LAYERS[op](ph, pw, stride=stride, pad=pad).forward(x)
    expected = reference_pool(x, op, (ph, pw), stride, pad, pad_mode="zero")
    assert got.shape == expected.shape
    if op == "max":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(cases())
def test_forward_equals_torch(case):
    torch = pytest.importorskip("torch")
    op, ph, pw, stride, pad, x = case
    # max_pool2d pads with -inf, so only unpadded max compares; avg_pool2d pads with counted zeros.
    if op == "max":
        pad = 0
    assume(pad <= ph // 2 and pad <= pw // 2)  # PyTorch's limit
    assume(x.shape[2] + 2 * pad >= ph and x.shape[3] + 2 * pad >= pw)
    got = LAYERS[op](ph, pw, stride=stride, pad=pad).forward(x)
    t = torch.from_numpy(x)
    if op == "max":
        expected = torch.nn.functional.max_pool2d(t, (ph, pw), stride=stride)
    else:
        expected = torch.nn.functional.avg_pool2d(
            t, (ph, pw), stride=stride, padding=pad, count_include_pad=True
        )
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-14, atol=1e-14)


def test_lecture_shapes():
    x = np.random.default_rng(1).random((10, 3, 7, 7))
    for layer in (MaxPooling(pool_h=2, pool_w=2, stride=2), AveragePooling(2, 2, stride=2)):
        assert layer.forward(x[:1]).shape == (1, 3, 3, 3)
        assert layer.forward(x).shape == (10, 3, 3, 3)


def test_padding_is_part_of_the_output_size():
    # The lectures' layer left pad out of out_h and could not reshape; this one pads properly.
    x = np.ones((2, 3, 7, 7))
    side = (7 + 2 * 1 - 3) // 2 + 1
    assert MaxPooling(3, 3, stride=2, pad=1).forward(x).shape == (2, 3, side, side)
    out_h, out_w = (7 + 2 * 2 - 2) + 1, (7 + 2 * 2 - 3) + 1
    assert AveragePooling(2, 3, stride=1, pad=2).forward(x).shape == (2, 3, out_h, out_w)


def test_max_pooling_keeps_what_backward_needs():
    x = np.random.default_rng(2).random((2, 3, 6, 5))
    layer = MaxPooling(2, 3, stride=2, pad=1)
    out = layer.forward(x)
    assert layer.x_shape == x.shape
    assert layer.arg_max.shape == (out.size,)
    # arg_max indexes, within each (n, i, j, c) window row, a cell holding the window's max.
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    n, i, j, c = np.unravel_index(np.arange(out.size), (2, out.shape[2], out.shape[3], 3))
    a, b = np.divmod(layer.arg_max, 3)
    np.testing.assert_array_equal(padded[n, c, 2 * i + a, 2 * j + b], out[n, c, i, j])


def test_arg_max_takes_the_first_of_ties():
    layer = MaxPooling(2, 2, stride=2)
    layer.forward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(layer.arg_max, [0])


def test_average_pooling_keeps_the_input_shape():
    layer = AveragePooling(2, 2)
    layer.forward(np.zeros((1, 2, 3, 4)))
    assert layer.x_shape == (1, 2, 3, 4)


@pytest.mark.parametrize("layer", [MaxPooling, AveragePooling])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 2), "pool_h must be at least 1, got 0"),
        ((2, -1), "pool_w must be at least 1, got -1"),
        ((2, 2, 0), "stride must be at least 1, got 0"),
        ((2, 2, 1, -1), "pad must be at least 0, got -1"),
        ((2.0, 2), r"pool_h must be an int, got 2\.0"),
    ],
)
def test_constructor_errors(layer, args, message):
    with pytest.raises(ValueError, match=message):
        layer(*args)


@pytest.mark.parametrize("layer", [MaxPooling, AveragePooling])
def test_window_larger_than_padded_input(layer):
    message = r"pool_w 6 is larger than the padded input width 5 \(width 3 \+ 2 \* pad 1\)"
    with pytest.raises(ValueError, match=message):
        layer(2, 6, pad=1).forward(np.zeros((1, 1, 4, 3)))


@pytest.mark.parametrize("layer", [MaxPooling, AveragePooling])
def test_input_must_be_4d(layer):
    with pytest.raises(ValueError, match=r"x must be 4-D \(N, C, H, W\), got 3-D with shape"):
        layer(2, 2).forward(np.zeros((3, 4, 4)))
