"""pool()'s sum, lp, median and max indices against their oracles: PyTorch where it has the op,
the slow loop reference (tests/reference.py) where it does not (median)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_pool

from poolcli import pool

torch = pytest.importorskip("torch")
F = torch.nn.functional

SUM_EXAMPLES = 150
LP_EXAMPLES = 150
MEDIAN_EXAMPLES = 150
INDEX_EXAMPLES = 150


@st.composite
def torch_geometries(draw, dilation=False, padding=True):
    """(shape, size, stride, padding, dilation, ceil_mode) that PyTorch accepts too."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ph = draw(st.integers(0, kh // 2)) if padding else 0
    pw = draw(st.integers(0, kw // 2)) if padding else 0
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 12))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 12))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, (kh, kw), (sh, sw), (ph, pw), (dh, dw), draw(st.booleans())


def values(seed: int, shape: tuple[int, ...], low: float = -3, high: float = 4) -> np.ndarray:
    """Small integers as float64: many ties, exact sums."""
    return np.random.default_rng(seed).integers(low, high, size=shape).astype(np.float64)


@settings(max_examples=SUM_EXAMPLES, deadline=None)
@given(torch_geometries(), st.sampled_from(["zero", "ignore"]), st.integers(0, 2**32 - 1))
def test_sum_equals_torch_avg_pool_with_divisor_one(geometry, pad_mode, seed):
    shape, size, stride, padding, _, ceil_mode = geometry
    x = values(seed, shape)
    got = pool(x, "sum", size, stride, padding, 1, ceil_mode, pad_mode)
    # Zero padding adds nothing to a sum: count_include_pad only changes the divisor, fixed at 1.
    expected = F.avg_pool2d(
        torch.from_numpy(x),
        size,
        stride,
        padding,
        ceil_mode=ceil_mode,
        count_include_pad=pad_mode == "zero",
        divisor_override=1,
    )
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=SUM_EXAMPLES, deadline=None)
@given(torch_geometries(padding=False), st.integers(0, 2**32 - 1))
def test_sum_of_uint8_does_not_overflow(geometry, seed):
    shape, size, stride, _, _, ceil_mode = geometry
    x = np.random.default_rng(seed).integers(200, 256, size=shape).astype(np.uint8)
    got = pool(x, "sum", size, stride, ceil_mode=ceil_mode)
    expected = F.avg_pool2d(
        torch.from_numpy(x.astype(np.float64)),
        size,
        stride,
        ceil_mode=ceil_mode,
        divisor_override=1,
    )
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected.numpy().astype(np.float32))


@settings(max_examples=LP_EXAMPLES, deadline=None)
@given(
    torch_geometries(padding=False),
    st.sampled_from([1.0, 2.0, 3.0, 0.5, 1.7]),
    st.integers(0, 2**32 - 1),
)
def test_lp_equals_torch_lp_pool_on_non_negative_input(geometry, p, seed):
    # Floor mode and no padding: in ceil mode torch rescales a cut window by k²/count (a quirk).
    shape, size, stride, _, _, _ = geometry
    x = np.random.default_rng(seed).random(shape) * 5
    got = pool(x, "lp", size, stride, p=p)
    expected = F.lp_pool2d(torch.from_numpy(x), p, size, stride)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12)


@st.composite
def any_geometries(draw):
    """Every geometry pool accepts: padding past half the window, any pad mode, dilation."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    top, bottom, left, right = (draw(st.integers(0, 2)) for _ in range(4))
    pad_mode = draw(st.sampled_from(["ignore", "zero", "edge", "reflect", -1.5]))
    h = draw(st.integers(1, 9))
    w = draw(st.integers(1, 9))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    padding = (top, bottom, left, right)
    return shape, (kh, kw), (sh, sw), padding, (dh, dw), draw(st.booleans()), pad_mode


@settings(max_examples=MEDIAN_EXAMPLES, deadline=None)
@given(any_geometries(), st.integers(0, 2**32 - 1))
def test_median_equals_the_loop_reference(geometry, seed):
    shape, size, stride, padding, dilation, ceil_mode, pad_mode = geometry
    x = values(seed, shape)
    args = (size, stride, padding, dilation, ceil_mode, pad_mode)
    try:
        expected = reference_pool(x, "median", *args)
    except ValueError:
        with pytest.raises(ValueError):
            pool(x, "median", *args)
        return
    got = pool(x, "median", *args)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=INDEX_EXAMPLES, deadline=None)
@given(torch_geometries(dilation=True), st.booleans(), st.integers(0, 2**32 - 1))
def test_max_indices_equal_torch(geometry, with_nan, seed):
    shape, size, stride, padding, dilation, ceil_mode = geometry
    x = values(seed, shape)
    if with_nan:
        x[0, 0, 0, 0] = np.nan
    try:
        expected, expected_indices = F.max_pool2d(
            torch.from_numpy(x), size, stride, padding, dilation, ceil_mode, return_indices=True
        )
    except RuntimeError:
        return  # a geometry PyTorch refuses
    try:
        got, indices = pool(
            x, "max", size, stride, padding, dilation, ceil_mode, return_indices=True
        )
    except ValueError as error:
        # poolcli refuses windows of padding only, where PyTorch gives -inf.
        assert "holds only padding" in str(error)
        assert np.isneginf(expected.numpy()).any()
        return
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(indices, expected_indices.numpy())


@pytest.mark.parametrize("p", [0, -1, float("inf"), float("nan"), "2"])
def test_lp_power_must_be_above_zero(p):
    with pytest.raises(ValueError, match="p must be a number above 0"):
        pool(np.ones((4, 4)), "lp", p=p)


@pytest.mark.parametrize("op", ["min", "avg", "sum", "median", "lp"])
def test_indices_are_for_max_only(op):
    with pytest.raises(ValueError, match='return_indices needs op "max"'):
        pool(np.ones((4, 4)), op, return_indices=True)
