"""The engine against the slow reference, path by path, plus dtypes, layouts and memory."""

import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_pool

from poolcli.core import engine
from poolcli.core.engine import pool, result_dtype

LECTURE_4X4 = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])


def random_planes(shape, dtype=np.float32, seed=0, low=-4, high=5):
    """Small integers as ``dtype``: many ties, negatives, exact sums."""
    return np.random.default_rng(seed).integers(low, high, shape).astype(dtype)


def assert_matches_reference(x, op, **geometry):
    expected = reference_pool(x, op, **geometry)
    got = pool(x, op, **geometry)
    assert got.shape == expected.shape
    if op in ("max", "min"):
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


ALL_OPS = ["max", "min", "avg", "sum", "median", "lp"]


# One case per engine path: separable strided views, overlapping windows, dilation, each kind
# of padding, ceil-mode overhang, rectangular windows.
ENGINE_PATHS = {
    "non-overlapping": dict(size=2),
    "overlapping": dict(size=3, stride=2),
    "stride-1": dict(size=3, stride=1),
    "rectangular": dict(size=(2, 3), stride=(1, 2)),
    "dilated": dict(size=2, stride=1, dilation=2),
    "dilated-rectangular": dict(size=(3, 2), stride=(2, 1), dilation=(1, 3)),
    "padded-ignore": dict(size=3, stride=2, padding=1),
    "padded-zero": dict(size=3, stride=2, padding=1, pad_mode="zero"),
    "padded-number": dict(size=3, stride=2, padding=(2, 1), pad_mode=7.5),
    "padded-edge": dict(size=3, stride=1, padding=(1, 2, 0, 1), pad_mode="edge"),
    "padded-reflect": dict(size=3, stride=2, padding=2, pad_mode="reflect"),
    "same": dict(size=3, stride=2, padding="same"),
    "ceil": dict(size=3, stride=2, ceil_mode=True),
    "ceil-padded-zero": dict(size=3, stride=2, padding=1, ceil_mode=True, pad_mode="zero"),
    "ceil-padded-edge": dict(size=2, stride=3, padding=1, ceil_mode=True, pad_mode="edge"),
    "window-is-plane": dict(size=(7, 9)),
    "many-taps": dict(size=(9, 10), stride=(1, 3), padding=(4, 3), ceil_mode=True),
    "many-taps-dilated": dict(size=(3, 9), stride=2, dilation=(3, 1), padding=(2, 4)),
}


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("path", ENGINE_PATHS, ids=list(ENGINE_PATHS))
def test_engine_path_matches_reference(path, op):
    x = random_planes((2, 3, 7, 9))
    assert_matches_reference(x, op, **ENGINE_PATHS[path])


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("path", ["overlapping", "padded-edge", "ceil-padded-zero"])
def test_tiled_path_matches_reference(monkeypatch, path, op):
    """Tiles of one output row each, and several threads, give the same result."""
    monkeypatch.setattr(engine, "TILE_BYTES", 1)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    x = random_planes((1, 2, 13, 11), seed=3)
    assert_matches_reference(x, op, **ENGINE_PATHS[path])


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("path", ["non-overlapping", "padded-reflect", "ceil"])
def test_channel_last_view_matches_reference(path, op):
    """An (N, H, W, C) buffer seen as (N, C, H, W) is pooled without a planar copy."""
    buffer = random_planes((2, 8, 10, 3), seed=5)
    x = buffer.transpose(0, 3, 1, 2)
    assert not x.flags.c_contiguous
    assert_matches_reference(x, op, **ENGINE_PATHS[path])


def test_channel_last_input_gives_channel_last_output():
    x = random_planes((1, 16, 16, 3)).transpose(0, 3, 1, 2)
    y = pool(x, "max", size=2)
    assert y.shape == (1, 3, 8, 8)
    assert y.transpose(0, 2, 3, 1).flags.c_contiguous


def test_writes_into_a_given_output_in_any_layout():
    x = random_planes((1, 3, 8, 8))
    saved = np.zeros((1, 4, 4, 3), np.float32)
    result = pool(x, "avg", size=2, out=saved.transpose(0, 3, 1, 2))
    assert np.shares_memory(result, saved)
    np.testing.assert_allclose(saved.transpose(0, 3, 1, 2), reference_pool(x, "avg", size=2))


def test_rejects_an_output_of_the_wrong_shape_or_dtype():
    x = np.zeros((1, 1, 4, 4), np.uint8)
    with pytest.raises(ValueError, match=r"out must have shape \(1, 1, 2, 2\), got \(1, 1, 3, 3\)"):
        pool(x, "max", out=np.zeros((1, 1, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="out must have dtype float32 for avg of uint8"):
        pool(x, "avg", out=np.zeros((1, 1, 2, 2), np.uint8))


@pytest.mark.parametrize("shape", [(4, 4), (1, 4, 4), (2, 1, 4, 4)])
def test_keeps_the_input_rank(shape):
    x = np.broadcast_to(LECTURE_4X4, shape)
    assert pool(x, "max").shape == shape[:-2] + (2, 2)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("op", ["max", "min", "avg"])
def test_dtypes(dtype, op):
    x = LECTURE_4X4.astype(dtype)
    y = pool(x, op, size=2)
    assert y.dtype == result_dtype(op, np.dtype(dtype))
    np.testing.assert_array_equal(y, reference_pool(LECTURE_4X4, op, size=2))


def test_result_dtypes_follow_the_design():
    assert result_dtype("max", np.dtype(np.uint16)) == np.uint16
    assert result_dtype("avg", np.dtype(np.int32)) == np.float32
    assert result_dtype("avg", np.dtype(np.float32)) == np.float32
    assert result_dtype("avg", np.dtype(np.float64)) == np.float64


def test_uint8_average_does_not_overflow():
    x = np.full((1, 1, 16, 16), 255, np.uint8)
    np.testing.assert_array_equal(pool(x, "avg", size=16), np.full((1, 1, 1, 1), 255.0))


def test_uint8_average_of_a_large_window_accumulates_wider():
    x = np.full((20, 20), 255, np.uint8)
    np.testing.assert_array_equal(pool(x, "avg", size=20), [[255.0]])


def test_integer_extremes_survive_max_and_min():
    info = np.iinfo(np.int32)
    x = np.array([[info.min, info.max], [0, -1]], np.int32)
    padded = pool(x, "max", size=2, padding=1)
    assert padded[0, 0] == info.min and padded[1, 1] == -1
    assert pool(x, "min", size=2)[0, 0] == info.min
    assert pool(x, "max", size=2)[0, 0] == info.max


def test_nan_propagates_through_max():
    x = np.array([[1.0, np.nan], [0.0, 2.0]])
    assert np.isnan(pool(x, "max", size=2)[0, 0])


def test_a_pad_value_that_does_not_fit_the_dtype_is_an_error_for_max():
    x = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="pad_mode -1 does not fit the input dtype uint8"):
        pool(x, "max", padding=1, pad_mode=-1)


def test_a_fractional_pad_value_is_averaged_exactly():
    x = np.zeros((2, 2), np.uint8)
    got = pool(x, "avg", size=2, stride=2, padding=(1, 0), pad_mode=0.5, ceil_mode=False)
    np.testing.assert_allclose(got, reference_pool(x, "avg", size=2, padding=(1, 0), pad_mode=0.5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(op="mean"), "op must be one of max, min, avg, sum, median, lp, mode, got 'mean'"),
        (dict(op="lp", p=0), "p must be a number above 0, got 0"),
        (dict(op="lp", p=-1.5), "p must be a number above 0, got -1.5"),
        (dict(op="avg", return_indices=True), 'return_indices needs op "max" and pad_mode'),
        (dict(op="max", size=0), "size must be at least 1, got 0"),
        (dict(op="max", stride=(1, -2)), r"stride must be at least 1, got -2 \(in \(1, -2\)\)"),
        (dict(op="max", dilation=0), "dilation must be at least 1, got 0"),
        (dict(op="max", padding=-1), r"padding must not be negative, got -1 \(in -1\)"),
        (dict(op="max", size=5), r"window 5 is larger than the padded height 4 \(height 4 \+"),
        (dict(op="max", pad_mode="wrap"), "pad_mode must be one of ignore, zero, edge, reflect"),
        (dict(op="max", size=2, padding=2), "padding .2, 2. is too wide for window 2"),
    ],
)
def test_invalid_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pool(LECTURE_4X4, **kwargs)


def test_rejects_other_ranks_and_dtypes():
    with pytest.raises(ValueError, match=r"2, 3 or 4 dimensions .* got shape \(4,\)"):
        pool(np.zeros(4), "max")
    with pytest.raises(ValueError, match="integers or floats, got dtype bool"):
        pool(np.zeros((4, 4), bool), "max")


@settings(max_examples=150, deadline=None)
@given(
    op=st.sampled_from(ALL_OPS),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(*[st.integers(0, 3)] * 4),
    ceil_mode=st.booleans(),
    pad_mode=st.sampled_from(["ignore", "zero", "edge", "reflect", -2.5]),
    seed=st.integers(0, 2**16),
)
def test_any_geometry_matches_reference(
    op, height, width, size, stride, dilation, padding, ceil_mode, pad_mode, seed
):
    """Both agree on the result or both reject the geometry."""
    x = random_planes((1, 2, height, width), seed=seed)
    geometry = dict(
        size=size,
        stride=stride,
        dilation=dilation,
        padding=padding,
        ceil_mode=ceil_mode,
        pad_mode=pad_mode,
    )
    try:
        expected = reference_pool(x, op, **geometry)
    except ValueError:
        with pytest.raises(ValueError):
            pool(x, op, **geometry)
        return
    got = pool(x, op, **geometry)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(1, 12),
    width=st.integers(1, 12),
    dtype=st.sampled_from([np.uint8, np.int32, np.float64]),
)
def test_window_and_stride_of_one_is_the_identity(height, width, dtype):
    x = random_planes((2, height, width), dtype=dtype, low=0, high=200)
    np.testing.assert_array_equal(pool(x, "max", size=1), x)
    np.testing.assert_array_equal(pool(x, "avg", size=1), x)


def test_peak_memory_stays_near_the_output_size():
    """A 3×3 stride-1 max on a 2048×2048 float32 plane allocates about one output plane."""
    x = np.random.default_rng(0).random((1, 1, 2048, 2048), dtype=np.float32)
    output_bytes = 2046 * 2046 * 4
    tracemalloc.start()
    try:
        pool(x, "max", size=3, stride=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    im2col_bytes = 9 * output_bytes
    assert peak < output_bytes + 4 * engine.TILE_BYTES, (peak, output_bytes)
    assert peak < im2col_bytes / 5


def test_importing_the_engine_loads_neither_pillow_nor_click():
    code = "import sys, poolcli.core.engine; print(sorted({'PIL', 'click'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("op", ["sum", "median", "lp"])
def test_float_ops_of_any_dtype(dtype, op):
    x = LECTURE_4X4.astype(dtype)
    y = pool(x, op, size=3, stride=1)
    assert y.dtype == result_dtype(op, np.dtype(dtype))
    np.testing.assert_allclose(y, reference_pool(LECTURE_4X4, op, size=3, stride=1), rtol=1e-6)


def test_sum_of_uint8_does_not_overflow():
    x = np.full((16, 16), 255, np.uint8)
    np.testing.assert_array_equal(pool(x, "sum", size=16), [[255.0 * 256]])
    np.testing.assert_array_equal(pool(x, "sum", size=(16, 8)), [[255.0 * 128, 255.0 * 128]])


@pytest.mark.parametrize("p", [1, 1.5, 3, 7])
def test_lp_is_the_p_norm_of_each_window(p):
    x = random_planes((2, 6, 6), low=-5, high=6, seed=int(p * 10)).astype(np.float64)
    windows = np.abs(x).reshape(2, 3, 2, 3, 2).transpose(0, 1, 3, 2, 4).reshape(2, 3, 3, 4)
    expected = (windows**p).sum(axis=-1) ** (1 / p)
    np.testing.assert_allclose(pool(x, "lp", size=2, p=p), expected, rtol=1e-12)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    x = np.array([[1, 9], [3, 4]], np.uint8)
    assert pool(x, "median", size=2)[0, 0] == 3.5
    padded = pool(x, "median", size=2, stride=1, padding=1)
    np.testing.assert_array_equal(padded, [[1, 5, 9], [2, 3.5, 6.5], [3, 3.5, 4]])


def brute_force_argmax(plane, size, stride, padding, dilation, ceil_mode):
    """Flat indices of the first maximum of each window, from the reference's window walk."""
    values = reference_pool(plane, "max", size, stride, padding, dilation, ceil_mode)
    (kh, kw), (sh, sw), (dh, dw) = size, stride, dilation
    top, left = padding
    indices = np.empty(values.shape, np.int64)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            best = None
            for a in range(kh):
                for b in range(kw):
                    r, c = i * sh - top + a * dh, j * sw - left + b * dw
                    if 0 <= r < plane.shape[0] and 0 <= c < plane.shape[1]:
                        if best is None or plane[r, c] > plane[best]:
                            best = (r, c)
            indices[i, j] = best[0] * plane.shape[1] + best[1]
    return values, indices


@settings(max_examples=120, deadline=None)
@given(
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    ceil_mode=st.booleans(),
    channel_last=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_argmax_indices_point_at_the_first_maximum(
    height, width, size, stride, dilation, padding, ceil_mode, channel_last, seed
):
    x = random_planes((1, 2, height, width), seed=seed, low=0, high=3)
    if channel_last:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    geometry = (size, stride, padding, dilation, ceil_mode)
    try:
        expected = [brute_force_argmax(x[0, c], *geometry) for c in range(2)]
    except ValueError:
        with pytest.raises(ValueError):
            pool(x, "max", *geometry, return_indices=True)
        return
    values, indices = pool(x, "max", *geometry, return_indices=True)
    for c in range(2):
        np.testing.assert_array_equal(values[0, c], expected[c][0])
        np.testing.assert_array_equal(indices[0, c], expected[c][1])


def test_in_calling_thread_keeps_the_work_in_this_thread(monkeypatch):
    """Inside the block no task reaches the worker threads; outside, large inputs do."""
    submitted, real = [], engine.shared_executor()

    class Recording:
        def submit(self, function, *args):
            submitted.append(function)
            return real.submit(function, *args)

    monkeypatch.setattr(engine, "shared_executor", lambda: Recording())
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(engine, "TILE_BYTES", 1)
    monkeypatch.setattr(engine, "CPUS", 2)
    x = random_planes((1, 3, 64, 64))
    with engine.in_calling_thread():
        inside = pool(x, "max", size=2)
        assert engine.parallel_workers() == 1
    assert submitted == []
    outside = pool(x, "max", size=2)
    assert submitted and np.array_equal(inside, outside)
