"""PyTorch as the oracle: poolcli.pool and the slow reference against torch.nn.functional.

Hypothesis sweeps window size, stride, dilation, padding, ceil mode, shapes, dtypes, memory
layouts and values with many ties. Padding PyTorch cannot express (wider than half the window,
asymmetric, edge/reflect/constant) is checked by padding the input with torch's own F.pad first
and pooling without padding. "same" padding follows TensorFlow's rule, written out below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import output_length, reference_pool

import poolcli

torch = pytest.importorskip("torch")
F = torch.nn.functional

# Hypothesis examples per test, named so the numbers checked can be reported.
MAX_EXAMPLES_MAX = 800
MAX_EXAMPLES_MIN = 400
MAX_EXAMPLES_AVG = 800
MAX_EXAMPLES_LARGE = 25
MAX_EXAMPLES_PREPADDED = 800
MAX_EXAMPLES_SAME = 400
MAX_EXAMPLES_REFERENCE = 300
MAX_EXAMPLES_REFERENCE_PREPADDED = 200
MAX_EXAMPLES_REFERENCE_OTHER_OPS = 150

INTEGER_TYPES = (np.uint8, np.int32)
FLOAT_TYPES = (np.float32, np.float64)


# --- strategies -------------------------------------------------------------------------------


@st.composite
def geometries(
    draw,
    dilation=True,
    torch_padding=True,
    large_windows=False,
    min_side=1,
    max_side=20,
    max_images=2,
    max_stride=4,
):
    """(shape, params): an input shape, and window, stride, dilation, padding and ceil mode
    (the keyword arguments of pool) such that the window fits the padded input.

    Window sides are 1 to 5, or with large_windows half the time 6 to 12 (the engine reduces
    windows of many taps differently). With torch_padding, padding is symmetric and at most half
    the window (PyTorch's limit), given as (ph, pw); otherwise any (top, bottom, left, right) up
    to 4 cells.
    """
    sides = st.integers(1, 5) | st.integers(6, 12) if large_windows else st.integers(1, 5)
    size = (draw(sides), draw(sides))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dil = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    if torch_padding:
        padding = (draw(st.integers(0, size[0] // 2)), draw(st.integers(0, size[1] // 2)))
        pads = (padding[0], padding[0], padding[1], padding[1])
    else:
        pads = tuple(draw(st.integers(0, 4)) for _ in range(4))
        padding = pads
    windows = [d * (k - 1) + 1 for d, k in zip(dil, size, strict=True)]
    least = [max(min_side, windows[0] - pads[0] - pads[1]), max(1, windows[1] - pads[2] - pads[3])]
    least[1] = max(least[1], min_side)
    h = draw(st.integers(least[0], max(least[0], max_side)))
    w = draw(st.integers(least[1], max(least[1], max_side)))
    shape = (draw(st.integers(1, max_images)), draw(st.integers(1, 3)), h, w)
    return shape, {
        "size": size,
        "stride": stride,
        "dilation": dil,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }


@st.composite
def arrays(draw, shape, dtype, exact_sums=False):
    """Values with negatives (where the dtype has them) and, half the time, many ties.

    exact_sums keeps values small (dyadic for floats) so that any summation order gives the
    same sum, leaving only the final division to round.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = np.dtype(dtype)
    if draw(st.booleans()):  # ties
        low = 0 if dtype.kind == "u" else -2
        return rng.integers(low, low + 4, size=shape).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        low, high = (info.min, info.max) if not exact_sums or dtype == np.uint8 else (-9999, 9999)
        return rng.integers(low, high, size=shape, endpoint=True).astype(dtype)
    if exact_sums:
        return (rng.integers(-4096, 4096, size=shape) / 64).astype(dtype)
    scale = 10.0 ** draw(st.integers(-3, 30))
    return (rng.standard_normal(shape) * scale).astype(dtype)


@st.composite
def layouts(draw, x):
    """The same values in another memory layout: channel-last, reversed, or as drawn."""
    kind = draw(st.sampled_from(["c", "channel-last", "reversed"]))
    if kind == "channel-last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if kind == "reversed":
        return np.ascontiguousarray(x[:, :, ::-1, ::-1])[:, :, ::-1, ::-1]
    return x


def lower_rank(draw, x):
    """x as drawn, or as (C, H, W) / (H, W) when its leading dimensions are 1."""
    rank = draw(st.sampled_from([r for r in (2, 3, 4) if math.prod(x.shape[: 4 - r]) == 1]))
    return x.reshape(x.shape[4 - rank :])


# --- helpers ----------------------------------------------------------------------------------


def as_torch(x):
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))


def torch_max(x, g):
    """max_pool2d in float64 (exact for every dtype drawn here) of a 4-D array."""
    return F.max_pool2d(
        as_torch(x), g["size"], g["stride"], g["padding"], g["dilation"], g["ceil_mode"]
    ).numpy()


def torch_avg(x, g, count_include_pad, divisor_override=None):
    return F.avg_pool2d(
        as_torch(x),
        g["size"],
        g["stride"],
        g["padding"],
        g["ceil_mode"],
        count_include_pad,
        divisor_override,
    ).numpy()


def call_torch(fn):
    """Run a torch call; a geometry torch rejects is not an example."""
    try:
        return fn()
    except RuntimeError:
        assume(False)


def check_shape(got, expected, x):
    """got (of x's rank) has the shape of the 4-D expected; expected reshaped to got's rank."""
    assert got.shape == expected.shape[4 - x.ndim :]
    return expected.reshape(got.shape)


def float_tolerance(dtype):
    return {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


def assert_allclose_strict(actual, desired, **tolerance):
    """np.testing.assert_allclose(..., strict=True), which needs numpy 2.0; the floor is 1.24."""
    assert (actual.shape, actual.dtype) == (desired.shape, desired.dtype)
    np.testing.assert_allclose(actual, desired, **tolerance)


ONLY_PADDING = "holds only padding"  # poolcli's error for a window without a real cell


# --- poolcli.pool against torch ---------------------------------------------------------------


@settings(max_examples=MAX_EXAMPLES_MAX, deadline=None)
@given(st.data(), geometries(large_windows=True), st.sampled_from(FLOAT_TYPES + INTEGER_TYPES))
def test_max_equals_max_pool2d(data, geometry, dtype):
    shape, g = geometry
    x = data.draw(arrays(shape, dtype))
    expected = call_torch(lambda: torch_max(x, g))
    x = lower_rank(data.draw, data.draw(layouts(x)))
    if np.isneginf(expected).any():
        # torch gives -inf for a window that holds only padding; poolcli refuses the geometry.
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, "max", **g)
        return
    got = poolcli.pool(x, "max", **g)
    expected = check_shape(got, expected, x).astype(dtype)
    np.testing.assert_array_equal(got, expected, strict=True)


@settings(max_examples=MAX_EXAMPLES_MIN, deadline=None)
@given(st.data(), geometries(large_windows=True), st.sampled_from(FLOAT_TYPES + INTEGER_TYPES))
def test_min_equals_negated_max_pool2d_of_negated_input(data, geometry, dtype):
    shape, g = geometry
    x = data.draw(arrays(shape, dtype))
    expected = -call_torch(lambda: torch_max(-x.astype(np.float64), g))
    x = lower_rank(data.draw, data.draw(layouts(x)))
    if np.isposinf(expected).any():
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, "min", **g)
        return
    got = poolcli.pool(x, "min", **g)
    expected = check_shape(got, expected, x).astype(dtype)
    np.testing.assert_array_equal(got, expected, strict=True)


@settings(max_examples=MAX_EXAMPLES_AVG, deadline=None)
@given(
    st.data(),
    geometries(dilation=False, large_windows=True),
    st.sampled_from(FLOAT_TYPES + INTEGER_TYPES),
    st.sampled_from(["ignore", "zero"]),
)
def test_avg_equals_avg_pool2d(data, geometry, dtype, pad_mode):
    shape, g = geometry
    x = data.draw(arrays(shape, dtype, exact_sums=True))
    expected = call_torch(lambda: torch_avg(x, g, count_include_pad=pad_mode == "zero"))
    x = lower_rank(data.draw, data.draw(layouts(x)))
    got = poolcli.pool(x, "avg", **g, pad_mode=pad_mode)
    out_type = np.float64 if dtype == np.float64 else np.float32
    assert got.dtype == out_type
    expected = check_shape(got, expected, x)
    np.testing.assert_allclose(got, expected, **float_tolerance(out_type))


@settings(max_examples=MAX_EXAMPLES_LARGE, deadline=None)
@given(
    st.data(),
    st.sampled_from(["max", "min", "avg-ignore", "avg-zero"]),
    st.sampled_from([np.uint8, np.float32, np.float64]),
)
def test_large_planes_equal_torch(data, which, dtype):
    """Planes large enough for the engine's tiles and worker threads."""
    op, _, pad_mode = which.partition("-")
    shape, g = data.draw(
        geometries(dilation=op != "avg", min_side=400, max_side=1200, max_images=2, max_stride=2)
    )
    x = data.draw(layouts(data.draw(arrays(shape, dtype, exact_sums=True))))
    if op == "avg":
        expected = call_torch(lambda: torch_avg(x, g, count_include_pad=pad_mode == "zero"))
        got = poolcli.pool(x, "avg", **g, pad_mode=pad_mode)
        np.testing.assert_allclose(got, expected, **float_tolerance(got.dtype))
        return
    sign = 1 if op == "max" else -1
    expected = (sign * call_torch(lambda: torch_max(sign * x.astype(np.float64), g))).astype(dtype)
    np.testing.assert_array_equal(poolcli.pool(x, op, **g), expected, strict=True)


# --- any padding, every pad mode: torch pads first, then pools --------------------------------


def prepadded_oracle(x, op, g, pad_mode):
    """Pad with torch's F.pad as pad_mode says, then pool without padding; 4-D float64.

    "ignore" pads max with -inf and min with +inf, and divides avg by the count of real cells.
    """
    top, bottom, left, right = g["padding"]
    t = as_torch(x)
    pads = (left, right, top, bottom)  # F.pad takes the last axis first
    if pad_mode == "edge":
        padded = F.pad(t, pads, mode="replicate")
    elif pad_mode == "reflect":
        padded = F.pad(t, pads, mode="reflect")
    elif pad_mode == "ignore":
        padded = F.pad(t, pads, value={"max": -math.inf, "min": math.inf, "avg": 0.0}[op])
    else:
        padded = F.pad(t, pads, value=0.0 if pad_mode == "zero" else float(pad_mode))
    common = {"kernel_size": g["size"], "stride": g["stride"], "ceil_mode": g["ceil_mode"]}
    if op == "max":
        return F.max_pool2d(padded, dilation=g["dilation"], **common).numpy()
    if op == "min":
        return -F.max_pool2d(-padded, dilation=g["dilation"], **common).numpy()
    # Windows are clipped to the padded border (ceil mode): sum and count over what remains.
    real = F.pad(torch.ones_like(t), pads) if pad_mode == "ignore" else torch.ones_like(padded)
    sums = F.avg_pool2d(padded, divisor_override=1, **common)
    counts = F.avg_pool2d(real, divisor_override=1, **common)
    return (sums / counts).numpy()  # 0 / 0 = nan marks a window of padding alone


def reference_shape(shape, g):
    """(out_h, out_w) by the reference's own formula."""
    top, bottom, left, right = g["padding"]
    k, s, d = g["size"], g["stride"], g["dilation"]
    return (
        output_length(shape[2], k[0], s[0], d[0], top, bottom, g["ceil_mode"]),
        output_length(shape[3], k[1], s[1], d[1], left, right, g["ceil_mode"]),
    )


PAD_MODES = st.sampled_from(["ignore", "zero", "edge", "reflect", -2.5, 7])


@st.composite
def prepadded_cases(draw, large_windows=True, max_side=20):
    """(shape, params, op, pad_mode, dtype): any padding, every pad mode; avg without dilation."""
    op = draw(st.sampled_from(["max", "min", "avg"]))
    shape, g = draw(
        geometries(
            dilation=op != "avg",
            torch_padding=False,
            large_windows=large_windows,
            max_side=max_side,
        )
    )
    pad_mode = draw(PAD_MODES)
    if pad_mode == "reflect":  # torch reflects at most size - 1 cells
        top, bottom, left, right = g["padding"]
        assume(max(top, bottom) < shape[2] and max(left, right) < shape[3])
    return shape, g, op, pad_mode, draw(st.sampled_from(FLOAT_TYPES))


def expected_from_prepadded(x, op, g, pad_mode):
    """The oracle cut to the size poolcli's rule gives, or None if a window holds only padding."""
    full = prepadded_oracle(x, op, g, pad_mode)
    out_h, out_w = reference_shape(x.shape, g)
    # On the pre-padded input torch keeps a last ceil-mode window that starts in the trailing
    # padding; poolcli's rule (and torch on unpadded input) drops it.
    assert full.shape[2] - out_h in (0, 1) and full.shape[3] - out_w in (0, 1)
    expected = full[:, :, :out_h, :out_w]
    if not np.isfinite(expected).all():
        assert pad_mode == "ignore"
        return None
    return expected


@settings(max_examples=MAX_EXAMPLES_PREPADDED, deadline=None)
@given(st.data(), prepadded_cases())
def test_every_pad_mode_equals_torch_on_prepadded_input(data, case):
    shape, g, op, pad_mode, dtype = case
    x = data.draw(arrays(shape, dtype, exact_sums=op == "avg"))
    expected = expected_from_prepadded(x, op, g, pad_mode)
    x = data.draw(layouts(x))
    if expected is None:
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, op, **g, pad_mode=pad_mode)
        return
    got = poolcli.pool(x, op, **g, pad_mode=pad_mode)
    assert got.shape == expected.shape
    if op == "avg":
        np.testing.assert_allclose(got, expected, **float_tolerance(dtype))
    else:
        np.testing.assert_array_equal(got, expected.astype(dtype), strict=True)


# --- "same" padding ---------------------------------------------------------------------------


def tf_same(length, size, stride, dilation):
    """TensorFlow's "same" for one axis, from its definition: (out, before, after)."""
    effective = dilation * (size - 1) + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + effective - length, 0)
    return out, total // 2, total - total // 2


@settings(max_examples=MAX_EXAMPLES_SAME, deadline=None)
@given(
    st.data(),
    geometries(max_side=14),
    st.sampled_from(["max", "min", "avg"]),
    st.sampled_from(["ignore", "zero", "edge", "reflect", 1.5]),
)
def test_same_padding_follows_tensorflow(data, geometry, op, pad_mode):
    shape, g = geometry
    x = data.draw(arrays(shape, np.float64, exact_sums=True))
    out_h, top, bottom = tf_same(shape[2], g["size"][0], g["stride"][0], g["dilation"][0])
    out_w, left, right = tf_same(shape[3], g["size"][1], g["stride"][1], g["dilation"][1])
    same = {**g, "padding": "same", "pad_mode": pad_mode}
    explicit = {**same, "padding": (top, bottom, left, right)}
    try:
        expected = reference_pool(x, op, **explicit)
    except ValueError:
        # With dilation, "same" can leave a window on padding alone; "ignore" refuses it.
        assert pad_mode == "ignore"
        with pytest.raises(ValueError, match=ONLY_PADDING):
            poolcli.pool(x, op, **same)
        return
    assert expected.shape == (*shape[:2], out_h, out_w)
    assert poolcli.output_shape(shape, **same) == expected.shape
    np.testing.assert_array_equal(reference_pool(x, op, **same), expected)
    assert_allclose_strict(poolcli.pool(x, op, **same), expected, rtol=1e-12)


# --- the reference itself against torch -------------------------------------------------------

NO_CELL = "no cell that counts"  # the reference's error for a window without a counted cell


@settings(max_examples=MAX_EXAMPLES_REFERENCE, deadline=None)
@given(st.data(), st.sampled_from(["max", "min", "avg-ignore", "avg-zero"]))
def test_reference_equals_torch(data, which):
    op, _, pad_mode = which.partition("-")
    shape, g = data.draw(geometries(dilation=op != "avg", max_side=12))
    x = data.draw(arrays(shape, np.float64, exact_sums=op == "avg"))
    if op == "avg":
        expected = call_torch(lambda: torch_avg(x, g, count_include_pad=pad_mode == "zero"))
    else:
        sign = 1 if op == "max" else -1
        expected = sign * call_torch(lambda: torch_max(sign * x, g))
    pad_mode = pad_mode or "ignore"
    if not np.isfinite(expected).all():
        with pytest.raises(ValueError, match=NO_CELL):
            reference_pool(x, op, **g, pad_mode=pad_mode)
        return
    got = reference_pool(x, op, **g, pad_mode=pad_mode)
    assert_allclose_strict(got, expected, rtol=1e-12, atol=0)


@settings(max_examples=MAX_EXAMPLES_REFERENCE_PREPADDED, deadline=None)
@given(st.data(), prepadded_cases(large_windows=False, max_side=10))
def test_reference_pad_modes_equal_torch_on_prepadded_input(data, case):
    shape, g, op, pad_mode, _ = case
    x = data.draw(arrays(shape, np.float64, exact_sums=True))
    expected = expected_from_prepadded(x, op, g, pad_mode)
    if expected is None:
        with pytest.raises(ValueError, match=NO_CELL):
            reference_pool(x, op, **g, pad_mode=pad_mode)
        return
    got = reference_pool(x, op, **g, pad_mode=pad_mode)
    assert_allclose_strict(got, expected, rtol=1e-12, atol=0)


@settings(max_examples=MAX_EXAMPLES_REFERENCE_OTHER_OPS, deadline=None)
@given(st.data(), geometries(dilation=False, max_side=10), st.sampled_from(["sum", "lp", "median"]))
def test_reference_sum_lp_median_equal_torch(data, geometry, op):
    """The ops poolcli adds later (sum, lp, median), so the reference is ready for them."""
    shape, g = geometry
    x = data.draw(arrays(shape, np.float64, exact_sums=True))
    t = as_torch(x)
    k, s = g["size"], g["stride"]
    if op == "sum":
        expected = call_torch(lambda: torch_avg(x, g, True, divisor_override=1))
        got = reference_pool(x, "sum", **g, pad_mode="zero")
    elif op == "lp":
        # torch's lp_pool2d has no padding, and in ceil mode it rescales clipped windows.
        p = data.draw(st.sampled_from([1.0, 2.0, 3.0]))
        g = {**g, "padding": 0, "ceil_mode": False}
        expected = call_torch(lambda: F.lp_pool2d(t, p, k, s).numpy())
        got = reference_pool(x, "lp", **g, p=p)
    else:
        # Every window as an unfold column (zero padding, no ceil mode); the 0.5 quantile with
        # linear interpolation is the mean of the two middle values for an even count.
        g = {**g, "ceil_mode": False}
        got = reference_pool(x, "median", **g, pad_mode="zero")
        columns = F.unfold(t, k, padding=g["padding"], stride=s)
        columns = columns.reshape(shape[0], shape[1], k[0] * k[1], -1)
        expected = torch.quantile(columns, 0.5, dim=2).reshape(got.shape).numpy()
    assert_allclose_strict(got, expected, rtol=1e-12, atol=1e-12)
