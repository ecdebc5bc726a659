"""Global, adaptive and fractional max pooling, and max_unpool: PyTorch as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli.core.adaptive import adaptive_pool, adaptive_windows, fractional_max_pool, global_pool
from poolcli.core.unpooling import max_unpool

torch = pytest.importorskip("torch")
F = torch.nn.functional

GLOBAL_EXAMPLES = 60
ADAPTIVE_EXAMPLES = 150
FRACTIONAL_EXAMPLES = 300
UNPOOL_EXAMPLES = 100

DTYPES = [np.uint8, np.int32, np.float32, np.float64]


def random_array(seed: int, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Random values of ``dtype``: small integers (many ties) or floats with a few repeats."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        x = rng.standard_normal(shape)
        x[rng.random(shape) < 0.1] = 0.5  # ties
        return x.astype(dtype)
    high = 256 if dtype == np.uint8 else 1000
    return rng.integers(0, high, size=shape).astype(dtype)


shapes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 20), st.integers(1, 20))


def tolerance(dtype: np.dtype) -> dict[str, float]:
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-7, "atol": 1e-6}


# ---------------------------------------------------------------------------------------------
# Global


@settings(max_examples=GLOBAL_EXAMPLES, deadline=None)
@given(shapes, st.sampled_from(DTYPES), st.integers(0, 2**32 - 1))
def test_global_pool_equals_torch(shape, dtype, seed):
    x = random_array(seed, shape, dtype)
    t = torch.from_numpy(x.astype(np.float64))
    avg = global_pool(x, "avg")
    assert avg.shape == (*shape[:2], 1, 1)
    assert avg.dtype == (np.float64 if dtype == np.float64 else np.float32)
    np.testing.assert_allclose(avg, F.adaptive_avg_pool2d(t, 1).numpy(), **tolerance(avg.dtype))
    high = global_pool(x, "max")
    assert high.dtype == x.dtype
    np.testing.assert_array_equal(high, F.adaptive_max_pool2d(t, 1).numpy().astype(dtype))


def test_global_avg_of_uint8_does_not_overflow_or_drift():
    x = np.full((1, 1, 1000, 1000), 255, dtype=np.uint8)
    x[0, 0, 0, 0] = 0
    got = global_pool(x)
    assert got.dtype == np.float32
    assert got[0, 0, 0, 0] == np.float32(255 * (10**6 - 1) / 10**6)


@pytest.mark.parametrize(
    ("shape", "expected"), [((4, 5), (1, 1)), ((3, 4, 5), (3, 1, 1)), ((2, 3, 4, 5), (2, 3, 1, 1))]
)
def test_global_pool_keeps_the_rank(shape, expected):
    assert global_pool(np.ones(shape)).shape == expected
    assert global_pool(np.ones(shape), "max").shape == expected


def test_global_pool_of_a_channel_last_view():
    hwc = random_array(3, (7, 9, 3), np.uint8)
    got = global_pool(hwc.transpose(2, 0, 1))
    np.testing.assert_allclose(got.ravel(), hwc.reshape(-1, 3).mean(axis=0), rtol=1e-6)


def test_global_pool_exported():
    # Exported through poolcli.api (which hands Dask arrays to poolcli.chunked), documented as
    # the core's.
    assert poolcli.global_pool is poolcli.api.global_pool
    assert poolcli.adaptive_pool is poolcli.api.adaptive_pool
    assert poolcli.global_pool.__doc__.startswith(global_pool.__doc__)
    assert poolcli.adaptive_pool.__doc__.startswith(adaptive_pool.__doc__)
    assert poolcli.fractional_max_pool is fractional_max_pool
    assert poolcli.max_unpool is max_unpool


# ---------------------------------------------------------------------------------------------
# Adaptive


@st.composite
def adaptive_cases(draw):
    shape = draw(shapes)
    out = (draw(st.integers(1, shape[2])), draw(st.integers(1, shape[3])))
    return shape, out, draw(st.sampled_from(DTYPES)), draw(st.integers(0, 2**32 - 1))


@settings(max_examples=ADAPTIVE_EXAMPLES, deadline=None)
@given(adaptive_cases())
def test_adaptive_pool_equals_torch(case):
    shape, out, dtype, seed = case
    x = random_array(seed, shape, dtype)
    t = torch.from_numpy(x.astype(np.float64))
    avg = adaptive_pool(x, out, "avg")
    assert avg.shape == (*shape[:2], *out)
    assert avg.dtype == (np.float64 if dtype == np.float64 else np.float32)
    np.testing.assert_allclose(avg, F.adaptive_avg_pool2d(t, out).numpy(), **tolerance(avg.dtype))
    high = adaptive_pool(x, out, "max")
    assert high.dtype == x.dtype
    np.testing.assert_array_equal(high, F.adaptive_max_pool2d(t, out).numpy().astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_pool_equals_torch_in_its_own_dtype(dtype):
    x = random_array(5, (2, 3, 31, 17), dtype)
    t = torch.from_numpy(x)
    for out in [(1, 1), (5, 4), (30, 16), (31, 17), (16, 9)]:
        np.testing.assert_allclose(
            adaptive_pool(x, out), F.adaptive_avg_pool2d(t, out).numpy(), **tolerance(dtype)
        )
        np.testing.assert_array_equal(
            adaptive_pool(x, out, "max"), F.adaptive_max_pool2d(t, out).numpy()
        )


@pytest.mark.parametrize("out", [(1, 1), (1, 90), (7, 13), (50, 45), (99, 89), (100, 1)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64, np.float64])
def test_adaptive_pool_long_and_short_windows(out, dtype):
    # Long windows go through reduceat, short ones (at most FEW_TAPS cells) one tap at a time;
    # integer sums accumulate in float32, int64 or float64 by what stays exact.
    x = random_array(15, (1, 2, 100, 90), dtype)
    if dtype == np.uint16:
        x = x * 65  # sums past 2**24: int64
    t = torch.from_numpy(x.astype(np.float64))
    avg = adaptive_pool(x, out)
    np.testing.assert_allclose(avg, F.adaptive_avg_pool2d(t, out).numpy(), **tolerance(avg.dtype))
    np.testing.assert_array_equal(
        adaptive_pool(x, out, "max"), F.adaptive_max_pool2d(t, out).numpy().astype(dtype)
    )


@settings(max_examples=ADAPTIVE_EXAMPLES, deadline=None)
@given(st.integers(1, 300), st.data())
def test_adaptive_windows_follow_the_rule(length, data):
    out = data.draw(st.integers(1, length))
    starts, stops = adaptive_windows(length, out)
    for i in range(out):
        assert starts[i] == (i * length) // out  # floor(i * H / out)
        assert stops[i] == -((-(i + 1) * length) // out)  # ceil((i + 1) * H / out)
    sizes = stops - starts
    assert sizes.min() >= 1 and sizes.max() - sizes.min() <= 1
    assert starts[0] == 0 and stops[-1] == length
    assert np.all(starts[1:] <= stops[:-1])  # the windows cover the axis


def test_adaptive_pool_lecture_example():
    x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
    np.testing.assert_array_equal(adaptive_pool(x, 2, "max"), [[2, 3], [4, 2]])
    np.testing.assert_array_equal(adaptive_pool(x, 2), [[1, 1.5], [2.25, 1]])


def test_adaptive_pool_to_the_input_size_is_the_identity():
    x = random_array(6, (2, 3, 5, 7), np.uint8)
    np.testing.assert_array_equal(adaptive_pool(x, (5, 7), "max"), x)
    np.testing.assert_array_equal(adaptive_pool(x, (5, 7)), x.astype(np.float32))


def test_adaptive_pool_none_keeps_an_axis():
    x = random_array(7, (3, 6, 8), np.float64)
    np.testing.assert_array_equal(adaptive_pool(x, (2, None)), adaptive_pool(x, (2, 8)))
    assert adaptive_pool(x, (None, 3), "max").shape == (3, 6, 3)


def test_adaptive_pool_propagates_nan_in_max():
    x = np.zeros((4, 4))
    x[0, 0] = np.nan
    got = adaptive_pool(x, 2, "max")
    assert np.isnan(got[0, 0]) and not np.isnan(got[1:, 1:]).any()


# ---------------------------------------------------------------------------------------------
# Fractional


@st.composite
def fractional_cases(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(kh, 25)), draw(st.integers(kw, 25))
    out = (draw(st.integers(1, h - kh + 1)), draw(st.integers(1, w - kw + 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return (n, c, h, w), (kh, kw), out, dtype, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=FRACTIONAL_EXAMPLES, deadline=None)
@given(fractional_cases())
def test_fractional_max_pool_equals_torch_to_the_bit(case):
    shape, size, out, dtype, seed = case
    x = random_array(seed, shape, dtype)
    samples = np.random.default_rng(seed + 1).random((*shape[:2], 2)).astype(dtype)
    values, indices = fractional_max_pool(x, size, out, samples=samples, return_indices=True)
    expected, expected_indices = F.fractional_max_pool2d(
        torch.from_numpy(x),
        size,
        output_size=out,
        _random_samples=torch.from_numpy(samples),
        return_indices=True,
    )
    assert values.dtype == x.dtype
    np.testing.assert_array_equal(values, expected.numpy())
    np.testing.assert_array_equal(indices, expected_indices.numpy())
    np.testing.assert_array_equal(fractional_max_pool(x, size, out, samples=samples), values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fractional_samples_at_the_edges_of_their_range(dtype):
    x = random_array(8, (1, 4, 40, 33), dtype)
    samples = np.array([[[0, 0], [np.nextafter(dtype(1), dtype(0)), 0.5], [0.5, 0.999], [0.3, 0]]])
    samples = samples.astype(dtype)
    for out in [(1, 1), (2, 2), (13, 20), (39, 32)]:
        values, indices = fractional_max_pool(x, 2, out, samples=samples, return_indices=True)
        expected, expected_indices = F.fractional_max_pool2d(
            torch.from_numpy(x), 2, output_size=out, _random_samples=torch.from_numpy(samples),
            return_indices=True,
        )  # fmt: skip
        np.testing.assert_array_equal(values, expected.numpy())
        np.testing.assert_array_equal(indices, expected_indices.numpy())


def test_fractional_max_pool_of_integers_equals_torch_on_floats():
    x = random_array(9, (2, 3, 17, 23), np.uint8)
    samples = np.random.default_rng(9).random((2, 3, 2))
    values, indices = fractional_max_pool(x, 3, (9, 11), samples=samples, return_indices=True)
    assert values.dtype == np.uint8
    expected, expected_indices = F.fractional_max_pool2d(
        torch.from_numpy(x.astype(np.float32)),
        3,
        output_size=(9, 11),
        _random_samples=torch.from_numpy(samples.astype(np.float32)),
        return_indices=True,
    )
    np.testing.assert_array_equal(values, expected.numpy())
    np.testing.assert_array_equal(indices, expected_indices.numpy())


@pytest.mark.parametrize("ratio", [0.5, 0.7, (0.3, 0.9), 0.999])
def test_fractional_ratio_gives_torch_output_size(ratio):
    x = random_array(10, (1, 2, 21, 34), np.float32)
    samples = np.random.default_rng(10).random((1, 2, 2)).astype(np.float32)
    got = fractional_max_pool(x, 2, ratio=ratio, samples=samples)
    ratios = ratio if isinstance(ratio, tuple) else (ratio, ratio)
    expected = F.fractional_max_pool2d(
        torch.from_numpy(x), 2, output_ratio=ratios, _random_samples=torch.from_numpy(samples)
    )
    assert got.shape == (1, 2, int(21 * ratios[0]), int(34 * ratios[1]))
    np.testing.assert_array_equal(got, expected.numpy())


def test_fractional_nan_follows_torch():
    x = random_array(11, (1, 2, 12, 12), np.float64)
    x[0, 0, 3, 4] = x[0, 0, 3, 6] = x[0, 1, 7, 7] = np.nan
    samples = np.random.default_rng(11).random((1, 2, 2))
    values, indices = fractional_max_pool(x, 3, 7, samples=samples, return_indices=True)
    expected, expected_indices = F.fractional_max_pool2d(
        torch.from_numpy(x), 3, output_size=7, _random_samples=torch.from_numpy(samples),
        return_indices=True,
    )  # fmt: skip
    np.testing.assert_array_equal(values, expected.numpy())  # NaN equals NaN here
    np.testing.assert_array_equal(indices, expected_indices.numpy())


def test_fractional_seed_is_reproducible():
    x = random_array(12, (2, 3, 30, 30), np.float32)
    first = fractional_max_pool(x, 2, ratio=0.7, seed=1)
    np.testing.assert_array_equal(fractional_max_pool(x, 2, ratio=0.7, seed=1), first)
    assert not np.array_equal(fractional_max_pool(x, 2, ratio=0.7, seed=2), first)
    drawn = np.random.default_rng(1).random((2, 3, 2))
    np.testing.assert_array_equal(fractional_max_pool(x, 2, ratio=0.7, samples=drawn), first)


def test_fractional_keeps_the_rank():
    x = random_array(13, (3, 10, 10), np.float64)
    got = fractional_max_pool(x, 2, 6, samples=np.full((1, 3, 2), 0.5))
    assert got.shape == (3, 6, 6)
    assert fractional_max_pool(x[0], 2, 6, samples=[[[0.5, 0.5]]]).shape == (6, 6)


def test_fractional_windows_reach_both_ends():
    x = np.zeros((1, 1, 10, 10))
    x[0, 0, 0, 0] = x[0, 0, 9, 9] = 1
    got = fractional_max_pool(x, 2, 4, seed=0)
    assert got[0, 0, 0, 0] == 1 and got[0, 0, -1, -1] == 1


# ---------------------------------------------------------------------------------------------
# max_unpool


@st.composite
def unpool_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 14))
    w = draw(st.integers(max(1, kw - 2 * pw), 14))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, (kh, kw), (sh, sw), (ph, pw), draw(st.integers(0, 2**32 - 1))


@settings(max_examples=UNPOOL_EXAMPLES, deadline=None)
@given(unpool_cases())
def test_max_unpool_equals_torch(case):
    shape, size, stride, padding, seed = case
    x = random_array(seed, shape, np.float64)
    values, indices = poolcli.pool(x, "max", size, stride, padding, return_indices=True)
    t_values, t_indices = F.max_pool2d(
        torch.from_numpy(x), size, stride, padding, return_indices=True
    )
    np.testing.assert_array_equal(values, t_values.numpy())
    np.testing.assert_array_equal(indices, t_indices.numpy())
    got = max_unpool(values, indices, shape[-2:])
    expected = F.max_unpool2d(t_values, t_indices, size, stride, padding, output_size=shape[-2:])
    np.testing.assert_array_equal(got, expected.numpy())
    np.testing.assert_array_equal(max_unpool(values, indices, shape), got)


def test_max_unpool_after_fractional_pooling():
    x = random_array(14, (1, 2, 11, 9), np.float32)
    values, indices = fractional_max_pool(x, 2, (6, 5), seed=3, return_indices=True)
    expected = np.zeros_like(x)
    for c in range(2):
        flat_x, flat_expected = x[0, c].ravel(), expected[0, c].reshape(-1)
        np.testing.assert_array_equal(flat_x[indices[0, c].ravel()], values[0, c].ravel())
        flat_expected[indices[0, c].ravel()] = values[0, c].ravel()
    np.testing.assert_array_equal(max_unpool(values, indices, x.shape), expected)


def test_max_unpool_keeps_rank_and_dtype():
    values = np.array([[[2, 3]]], dtype=np.uint8)
    got = max_unpool(values, np.array([[[1, 3]]]), (2, 2))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, [[[0, 2], [0, 3]]])


# ---------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize("function", [global_pool, lambda x, op: adaptive_pool(x, 2, op)])
def test_unknown_op(function):
    with pytest.raises(ValueError, match=r"op must be one of avg, max, got 'min'"):
        function(np.ones((4, 4)), "min")


@pytest.mark.parametrize(
    "x",
    [np.ones(4), np.ones((1, 1, 1, 2, 2)), np.array([["a"]]), np.ones((0, 3))],
    ids=["1-D", "5-D", "strings", "empty"],
)
def test_bad_input(x):
    with pytest.raises(ValueError, match="input"):
        global_pool(x)
    with pytest.raises(ValueError, match="input"):
        adaptive_pool(x, 1)
    with pytest.raises(ValueError, match="input"):
        fractional_max_pool(x, 1, 1, seed=0)


@pytest.mark.parametrize(
    ("output_size", "message"),
    [
        (0, "output_size must be at least 1, got 0"),
        ((2, -1), r"output_size must be at least 1, got -1 \(in \(2, -1\)\)"),
        ((5, 9), r"output_size 5x9 is larger than the input 4x8 \(height x width\)"),
        ((4, 9), "output_size 4x9 is larger than the input 4x8"),
        (2.5, "output_size must be whole numbers, got 2.5"),
        ((1, 2, 3), r"output_size takes one int or a pair \(height, width\)"),
    ],
)
def test_adaptive_bad_output_size(output_size, message):
    with pytest.raises(ValueError, match=message):
        adaptive_pool(np.ones((4, 8)), output_size)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give exactly one of output_size and ratio"),
        ({"output_size": 3, "ratio": 0.5}, "give exactly one of output_size and ratio"),
        ({"ratio": 0}, r"ratio must be between 0 and 1 \(exclusive\), got 0"),
        ({"ratio": 1.0}, r"ratio must be between 0 and 1 \(exclusive\), got 1.0"),
        ({"ratio": (0.5, 1.5)}, r"ratio must be between 0 and 1 \(exclusive\), got 1.5"),
        ({"ratio": -0.2}, "ratio must be between 0 and 1"),
        ({"ratio": float("nan")}, "ratio must be between 0 and 1"),
        ({"ratio": "0.5"}, "ratio must be a number between 0 and 1, got '0.5'"),
        ({"ratio": (0.5, 0.5, 0.5)}, r"ratio takes one number or a pair \(height, width\)"),
        ({"ratio": 0.1}, r"ratio 0.1 leaves no output height: int\(8 \* 0.1\) = 0"),
        ({"output_size": 0}, "output_size must be at least 1, got 0"),
        (
            {"output_size": 8},
            r"output height 8 with a window of 2 needs an input height of at least 9 "
            r"\(output \+ size - 1\), got 8",
        ),
        (
            {"output_size": (2, 10)},
            "output width 10 with a window of 2 needs an input width of at least 11",
        ),
        ({"output_size": 2, "size": 0}, "size must be at least 1, got 0"),
    ],
)
def test_fractional_bad_sizes(kwargs, message):
    kwargs = {"size": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        fractional_max_pool(np.ones((1, 1, 8, 10)), **kwargs)


def test_fractional_window_too_large_for_the_output():
    message = (
        r"output height 7 with a window of 3 needs an input height of at least 9 "
        r"\(output \+ size - 1\), got 8"
    )
    with pytest.raises(ValueError, match=message):
        fractional_max_pool(np.ones((1, 1, 8, 10)), 3, (7, 3), seed=0)


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (
            np.full((1, 1, 2), 0.5),
            r"samples must have shape \(2, 3, 2\) \(N, C, 2\) for this input",
        ),
        (np.full((2, 3), 0.5), r"samples must have shape \(2, 3, 2\)"),
        (np.full((2, 3, 2), 1.0), r"samples must lie in \[0, 1\), got 1.0"),
        (np.full((2, 3, 2), -0.1), r"samples must lie in \[0, 1\), got -0.1"),
        (np.full((2, 3, 2), np.nan), r"samples must lie in \[0, 1\), got nan"),
        (np.zeros((2, 3, 2), dtype=int), r"samples must hold floats in \[0, 1\), got dtype int"),
    ],
)
def test_fractional_bad_samples(samples, message):
    with pytest.raises(ValueError, match=message):
        fractional_max_pool(np.ones((2, 3, 8, 8)), 2, 4, samples=samples)


def test_fractional_seed_and_samples_together():
    with pytest.raises(ValueError, match="give seed or samples, not both"):
        fractional_max_pool(np.ones((8, 8)), 2, 4, seed=1, samples=[[[0.5, 0.5]]])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (np.ones((2, 2)), np.zeros((2, 3), int), (4, 4)),
            r"indices must have the shape of values",
        ),
        (
            (np.ones((2, 2)), np.zeros((2, 2)), (4, 4)),
            "indices must be integers, got dtype float64",
        ),
        (
            (np.ones((2, 2)), np.array([[0, 1], [2, 16]]), (4, 4)),
            r"indices must lie in \[0, 16\) for an output plane of 4x4, got 16",
        ),
        ((np.ones((2, 2)), np.array([[0, -1], [2, 3]]), 4), r"indices must lie in \[0, 16\)"),
        ((np.ones((1, 2, 2)), np.zeros((1, 2, 2), int), 0), "output_size must be at least 1"),
        (
            (np.ones((3, 2, 2)), np.zeros((3, 2, 2), int), (2, 4, 4)),
            r"output_size \(2, 4, 4\) does not match values of shape \(3, 2, 2\)",
        ),
        ((np.ones(4), np.zeros(4, int), (4, 4)), "values must have 2, 3 or 4 dimensions"),
    ],
)
def test_max_unpool_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        max_unpool(*args)


@pytest.mark.parametrize("layout", ["planar", "channel-last"])
def test_global_average_of_large_float_planes_is_accurate(layout):
    """Large planes are summed in halves in two threads; strided ones in one call."""
    shape = (2, 3, 700, 800)
    x = np.random.default_rng(7).random(shape, dtype=np.float32) * 255
    if layout == "channel-last":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    expected = x.astype(np.float64).mean(axis=(-2, -1), keepdims=True)
    got = poolcli.global_pool(x)
    assert got.dtype == np.float32 and got.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "shape",
    [
        (2, 7, 5000),  # rows wider than a run: whole planes pairwise
        (3, 97, 300),  # a prime height: runs of one row
        (1, 224, 224),  # runs of 14 rows
        (5, 1, 1),
    ],
)
def test_plane_sums_of_every_run_shape_are_accurate(shape):
    from poolcli.core.adaptive import _plane_sums

    planes = np.random.default_rng(len(shape) + shape[-1]).random(shape, np.float32)
    exact = planes.astype(np.float64).sum(axis=(1, 2))
    sums = _plane_sums(planes)
    assert sums.dtype == np.float32
    np.testing.assert_allclose(sums, exact, rtol=1e-6)
