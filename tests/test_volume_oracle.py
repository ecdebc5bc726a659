"""PyTorch as the oracle for volumes (three spatial axes) and signals (one).

poolcli.pool with a window of three values against torch's max_pool3d (values and indices),
avg_pool3d (count_include_pad both ways, ceil_mode), lp_pool3d; one value against max_pool1d,
avg_pool1d, lp_pool1d; adaptive_pool against adaptive_max/avg_pool3d, fractional_max_pool
against fractional_max_pool3d with the same ``_random_samples``, max_unpool against
max_unpool3d. Hypothesis draws the geometries; max is compared bit for bit, averages to float32
rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import poolcli

torch = pytest.importorskip("torch")
F = torch.nn.functional

# Hypothesis examples per test: enough to reach ceil mode, dilation and padding together, few
# enough that the file runs in seconds.
MAX_EXAMPLES_MAX = 100
MAX_EXAMPLES_AVG = 100
MAX_EXAMPLES_OTHER = 40


@st.composite
def geometries(draw, axes=3, dilation=True, padding=True, max_side=8, max_images=2):
    """(shape, params) of an (N, C, *spatial) input and a window torch can express: padding at
    most half the window on each axis, symmetric."""
    size = tuple(draw(st.integers(1, 3)) for _ in range(axes))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(axes))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(axes)) if dilation else (1,) * axes
    pads = tuple(draw(st.integers(0, k // 2)) for k in size) if padding else (0,) * axes
    spans = [d * (k - 1) + 1 for d, k in zip(dil, size, strict=True)]
    least = [max(1, span - 2 * pad) for span, pad in zip(spans, pads, strict=True)]
    sides = tuple(draw(st.integers(low, max(low, max_side))) for low in least)
    shape = (draw(st.integers(1, max_images)), draw(st.integers(1, 2)), *sides)
    params = {
        "size": size,
        "stride": stride,
        "dilation": dil,
        "padding": pads,
        "ceil_mode": draw(st.booleans()),
    }
    return shape, params


@st.composite
def values(draw, shape, dtype=np.float32):
    """Small integers half the time (many ties), else normal values."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        return rng.integers(-2, 2, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def call_torch(fn):
    """Run a torch call; a geometry torch rejects is not an example."""
    try:
        return fn()
    except RuntimeError:
        assume(False)


ONLY_PADDING = "holds only padding"  # poolcli's error for a window without a real cell


def torch_args(params):
    return (params["size"], params["stride"], params["padding"])


# --- max -------------------------------------------------------------------------------------


@settings(max_examples=MAX_EXAMPLES_MAX, deadline=None)
@given(st.data(), geometries(), st.sampled_from([np.float32, np.float64]))
def test_max_pool3d_values_and_indices_equal_torch(data, geometry, dtype):
    shape, params = geometry
    x = data.draw(values(shape, dtype))
    t = torch.from_numpy(x)
    expected, where = call_torch(
        lambda: F.max_pool3d(
            t,
            *torch_args(params),
            dilation=params["dilation"],
            ceil_mode=params["ceil_mode"],
            return_indices=True,
        )
    )
    if np.isneginf(expected.numpy()).any():
        # torch gives -inf for a window that holds only padding; poolcli refuses the geometry.
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, "max", **params)
        return
    got, indices = poolcli.pool(x, "max", **params, return_indices=True)
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(indices, where.numpy())


@settings(max_examples=MAX_EXAMPLES_MAX, deadline=None)
@given(st.data(), geometries(axes=1, max_side=12))
def test_max_pool1d_values_and_indices_equal_torch(data, geometry):
    shape, params = geometry
    x = data.draw(values(shape))
    expected, where = call_torch(
        lambda: F.max_pool1d(
            torch.from_numpy(x),
            *torch_args(params),
            dilation=params["dilation"],
            ceil_mode=params["ceil_mode"],
            return_indices=True,
        )
    )
    if np.isneginf(expected.numpy()).any():
        # torch gives -inf for a window that holds only padding; poolcli refuses the geometry.
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, "max", **params)
        return
    got, indices = poolcli.pool(x, "max", **params, return_indices=True)
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(indices, where.numpy())


def test_max_pool3d_of_integers_and_of_a_single_volume_equal_torch():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (9, 10, 11), dtype=np.uint8)
    t = torch.from_numpy(x.astype(np.float32))[None, None]
    got = poolcli.pool(x, "max", size=(3, 2, 3), stride=(2, 2, 1), padding=1)
    expected = F.max_pool3d(t, (3, 2, 3), (2, 2, 1), 1)[0, 0].numpy()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected.astype(np.uint8))


def test_max_pool3d_nan_as_torch():
    x = np.arange(64, dtype=np.float32).reshape(1, 1, 4, 4, 4)
    x[0, 0, 1, 1, 1] = x[0, 0, 0, 0, 1] = np.nan
    got, indices = poolcli.pool(x, "max", size=(2, 2, 2), return_indices=True)
    expected, where = F.max_pool3d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(indices, where.numpy())


# --- avg and lp ------------------------------------------------------------------------------


@settings(max_examples=MAX_EXAMPLES_AVG, deadline=None)
@given(st.data(), geometries(dilation=False), st.booleans())
def test_avg_pool3d_equals_torch(data, geometry, count_include_pad):
    shape, params = geometry
    params.pop("dilation")
    x = data.draw(values(shape))
    expected = call_torch(
        lambda: F.avg_pool3d(
            torch.from_numpy(x),
            *torch_args(params),
            ceil_mode=params["ceil_mode"],
            count_include_pad=count_include_pad,
        )
    ).numpy()
    pad_mode = "zero" if count_include_pad else "ignore"
    if not count_include_pad and np.isnan(expected).any():
        # torch divides a window of only padding by 0; poolcli refuses the geometry.
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, "avg", **params, pad_mode=pad_mode)
        return
    got = poolcli.pool(x, "avg", **params, pad_mode=pad_mode)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-6)


@settings(max_examples=MAX_EXAMPLES_AVG, deadline=None)
@given(st.data(), geometries(axes=1, dilation=False, max_side=12), st.booleans())
def test_avg_pool1d_equals_torch(data, geometry, count_include_pad):
    shape, params = geometry
    params.pop("dilation")
    x = data.draw(values(shape))
    expected = call_torch(
        lambda: F.avg_pool1d(
            torch.from_numpy(x),
            *torch_args(params),
            ceil_mode=params["ceil_mode"],
            count_include_pad=count_include_pad,
        )
    ).numpy()
    pad_mode = "zero" if count_include_pad else "ignore"
    if not count_include_pad and np.isnan(expected).any():
        # torch divides a window of only padding by 0; poolcli refuses the geometry.
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, "avg", **params, pad_mode=pad_mode)
        return
    got = poolcli.pool(x, "avg", **params, pad_mode=pad_mode)
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=2e-6)


@settings(max_examples=MAX_EXAMPLES_OTHER, deadline=None)
@given(
    st.data(),
    geometries(dilation=False, padding=False),
    st.sampled_from([1.0, 2.0, 3.0, 4.5]),
    st.sampled_from([1, 3]),
)
def test_lp_pool_equals_torch(data, geometry, p, axes):
    """lp_pool1d/3d have no padding, and in ceil mode they rescale clipped windows: floor only."""
    shape, params = geometry
    if axes == 1:
        shape = shape[:3]
        params = {key: value[:1] if key != "ceil_mode" else value for key, value in params.items()}
        assume(all(length >= k for length, k in zip(shape[2:], params["size"], strict=True)))
    x = np.abs(data.draw(values(shape)))  # torch takes x**p, not |x|**p
    function = F.lp_pool3d if axes == 3 else F.lp_pool1d
    t = torch.from_numpy(x)
    size, stride = (
        (params["size"], params["stride"])
        if axes == 3
        else (params["size"][0], params["stride"][0])
    )
    expected = call_torch(lambda: function(t, p, size, stride)).numpy()
    got = poolcli.pool(x, "lp", size=params["size"], stride=params["stride"], p=p)
    np.testing.assert_allclose(got, expected, rtol=3e-5, atol=1e-6)


# --- adaptive, fractional, unpooling ---------------------------------------------------------


@settings(max_examples=MAX_EXAMPLES_OTHER, deadline=None)
@given(st.data(), st.sampled_from(["max", "avg"]))
def test_adaptive_pool3d_equals_torch(data, op):
    shape = tuple(data.draw(st.integers(1, 9)) for _ in range(3))
    out = tuple(data.draw(st.integers(1, length)) for length in shape)
    x = data.draw(values((2, 2, *shape)))
    t = torch.from_numpy(x)
    got = poolcli.adaptive_pool(x, out, op)
    if op == "max":
        np.testing.assert_array_equal(got, F.adaptive_max_pool3d(t, out).numpy())
    else:
        np.testing.assert_allclose(got, F.adaptive_avg_pool3d(t, out).numpy(), rtol=2e-6, atol=2e-6)


def test_global_pool_of_volumes_and_signals_equals_torch():
    rng = np.random.default_rng(3)
    volume = rng.standard_normal((2, 3, 5, 6, 7)).astype(np.float32)
    signal = rng.standard_normal((2, 3, 50)).astype(np.float32)
    for x, axes, function in (
        (volume, 3, F.adaptive_avg_pool3d),
        (signal, 1, F.adaptive_avg_pool1d),
    ):
        expected = function(torch.from_numpy(x), 1).numpy()
        np.testing.assert_allclose(poolcli.global_pool(x, axes=axes), expected, rtol=2e-6)
        assert poolcli.global_pool(x, "max", axes=axes).shape == expected.shape
        np.testing.assert_array_equal(
            poolcli.global_pool(x, "max", axes=axes).ravel(), x.reshape(6, -1).max(axis=1)
        )


@settings(max_examples=MAX_EXAMPLES_OTHER, deadline=None)
@given(st.data(), st.sampled_from([np.float32, np.float64]))
def test_fractional_max_pool3d_equals_torch_with_its_samples(data, dtype):
    size = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    shape = tuple(data.draw(st.integers(k + 1, 9)) for k in size)
    out = tuple(  # torch takes out + k - 1 < length only
        data.draw(st.integers(1, length - k)) for length, k in zip(shape, size, strict=True)
    )
    x = data.draw(values((2, 2, *shape), dtype))
    samples = np.random.default_rng(data.draw(st.integers(0, 99))).random((2, 2, 3)).astype(dtype)
    expected, where = call_torch(
        lambda: F.fractional_max_pool3d(
            torch.from_numpy(x),
            size,
            output_size=out,
            return_indices=True,
            _random_samples=torch.from_numpy(samples),
        )
    )
    got, indices = poolcli.fractional_max_pool(
        x, size, output_size=out, samples=samples, return_indices=True
    )
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(indices, where.numpy())


@settings(max_examples=MAX_EXAMPLES_OTHER, deadline=None)
@given(st.data(), geometries(dilation=False))
def test_max_unpool3d_equals_torch(data, geometry):
    shape, params = geometry
    params.pop("dilation")
    x = data.draw(values(shape))
    pooled, where = call_torch(
        lambda: F.max_pool3d(
            torch.from_numpy(x),
            *torch_args(params),
            ceil_mode=params["ceil_mode"],
            return_indices=True,
        )
    )
    assume(not np.isneginf(pooled.numpy()).any())  # a window of only padding: refused
    expected = F.max_unpool3d(
        pooled, where, params["size"], params["stride"], params["padding"], x.shape[2:]
    )
    values_, indices = poolcli.pool(x, "max", **params, return_indices=True)
    got = poolcli.max_unpool(values_, indices, x.shape, axes=3)
    np.testing.assert_array_equal(got, expected.numpy())
