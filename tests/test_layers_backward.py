"""MaxPooling.backward and AveragePooling.backward: torch.autograd and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolcli.teaching.layers import AveragePooling, MaxPooling

torch = pytest.importorskip("torch")
F = torch.nn.functional

MAX_EXAMPLES = 200
LAYERS = {"max": MaxPooling, "avg": AveragePooling}


@st.composite
def cases(draw):
    """(op, pool_h, pool_w, stride, pad, x, dout); stride below the window makes overlaps."""
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, ph - 2 * pad), 9))
    w = draw(st.integers(max(1, pw - 2 * pad), 9))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        # Small integers, negatives included: ties, and zero padding that wins a max.
        x = rng.integers(-3, 4, size=shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    out_h, out_w = (h + 2 * pad - ph) // stride + 1, (w + 2 * pad - pw) // stride + 1
    dout = rng.standard_normal((shape[0], shape[1], out_h, out_w))
    return draw(st.sampled_from(sorted(LAYERS))), ph, pw, stride, pad, x, dout


def torch_gradient(op, ph, pw, stride, pad, x, dout):
    """The input gradient by autograd; the layers pad with zeros that count, so F.pad first."""
    t = torch.from_numpy(x).requires_grad_(True)
    padded = F.pad(t, (pad, pad, pad, pad))
    if op == "max":
        y = F.max_pool2d(padded, (ph, pw), stride=stride)
    else:
        y = F.avg_pool2d(padded, (ph, pw), stride=stride)
    y.backward(torch.from_numpy(dout))
    return y.detach().numpy(), t.grad.numpy()


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(cases())
def test_backward_equals_torch_autograd(case):
    op, ph, pw, stride, pad, x, dout = case
    layer = LAYERS[op](ph, pw, stride=stride, pad=pad)
    out = layer.forward(x)
    expected_out, expected = torch_gradient(op, ph, pw, stride, pad, x, dout)
    np.testing.assert_allclose(out, expected_out, rtol=1e-14, atol=1e-14)
    got = layer.backward(dout)
    assert got.shape == x.shape
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(cases())
def test_backward_is_the_adjoint_of_forward(case):
    # Both layers are linear in x once the arg-max is fixed: <forward(x), dout> = <x, backward>.
    op, ph, pw, stride, pad, x, dout = case
    layer = LAYERS[op](ph, pw, stride=stride, pad=pad)
    out = layer.forward(x)
    np.testing.assert_allclose(np.sum(out * dout), np.sum(x * layer.backward(dout)), atol=1e-10)


@pytest.mark.parametrize("op", sorted(LAYERS))
@pytest.mark.parametrize(("ph", "pw", "stride", "pad"), [(2, 2, 2, 0), (3, 2, 1, 1), (2, 3, 2, 2)])
def test_backward_equals_finite_differences(op, ph, pw, stride, pad):
    # Distinct values far apart (no ties, no zero to tie with the padding): max is smooth here.
    rng = np.random.default_rng(0)
    x = (rng.permutation(2 * 5 * 6) + 1.0).reshape(1, 2, 5, 6) / 7
    layer = LAYERS[op](ph, pw, stride=stride, pad=pad)
    dout = rng.standard_normal(layer.forward(x).shape)
    analytic = layer.backward(dout)

    def loss(values):
        return float(np.sum(LAYERS[op](ph, pw, stride=stride, pad=pad).forward(values) * dout))

    numeric = np.zeros_like(x)
    eps = 1e-6
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        numeric[index] = (loss(x + step) - loss(x - step)) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8)


def test_max_backward_overlapping_windows_add_up():
    x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]], float)
    layer = MaxPooling(2, 2, stride=1)
    layer.forward(x.reshape(1, 1, 4, 4))
    got = layer.backward(np.ones((1, 1, 3, 3)))[0, 0]
    np.testing.assert_array_equal(got, [[0, 2, 0, 0], [0, 0, 1, 2], [1, 0, 0, 1], [0, 2, 0, 0]])
    assert got.sum() == 9


def test_max_backward_goes_to_the_first_of_ties():
    layer = MaxPooling(2, 2, stride=2)
    layer.forward(np.ones((1, 1, 2, 4)))
    np.testing.assert_array_equal(
        layer.backward(np.array([[[[5.0, 7.0]]]])), [[[[5, 0, 7, 0], [0] * 4]]]
    )


def test_max_backward_into_the_padding_is_dropped():
    layer = MaxPooling(2, 2, stride=2, pad=1)
    layer.forward(-np.ones((1, 1, 2, 2)))  # every window's max is a padding zero
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 2, 2))), np.zeros((1, 1, 2, 2)))


def test_avg_backward_spreads_evenly():
    layer = AveragePooling(2, 2, stride=2, pad=1)
    layer.forward(np.zeros((1, 1, 2, 2)))
    got = layer.backward(np.array([[[[4.0, 8.0], [12.0, 16.0]]]]))
    np.testing.assert_array_equal(got, [[[[1, 2], [3, 4]]]])


@pytest.mark.parametrize("layer", [MaxPooling, AveragePooling])
def test_backward_keeps_a_float32_gradient(layer):
    pooling = layer(2, 2, stride=2)
    pooling.forward(np.random.default_rng(1).random((1, 2, 4, 4)).astype(np.float32))
    assert pooling.backward(np.ones((1, 2, 2, 2), np.float32)).dtype == np.float32
    assert pooling.backward(np.ones((1, 2, 2, 2), int)).dtype == np.float64


@pytest.mark.parametrize("layer", [MaxPooling, AveragePooling])
def test_backward_before_forward(layer):
    with pytest.raises(RuntimeError, match=rf"{layer.__name__}.backward needs a forward pass"):
        layer(2, 2).backward(np.ones((1, 1, 1, 1)))


@pytest.mark.parametrize("layer", [MaxPooling, AveragePooling])
def test_backward_needs_the_output_shape(layer):
    pooling = layer(2, 2, stride=2, pad=1)
    pooling.forward(np.ones((2, 3, 4, 4)))
    message = r"dout must have the forward output's shape \(2, 3, 3, 3\), got \(2, 3, 2, 2\)"
    with pytest.raises(ValueError, match=message):
        pooling.backward(np.ones((2, 3, 2, 2)))
