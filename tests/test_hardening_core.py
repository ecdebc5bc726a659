"""Issue 11, the core layer: absurd geometries refused before any allocation (items 4, 5), lp that
stays finite (11), no stray RuntimeWarning (7), empty batches (17), C-order results (18)."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import poolcli
from poolcli.core.adaptive import adaptive_pool, fractional_max_pool, global_pool
from poolcli.core.engine import OPS, pool
from poolcli.core.geometry import MAX_PIXELS, Window, output_shape, resolve

# ---------------------------------------------------------------------------------------------
# Items 4 and 5: absurd windows, paddings and outputs


def _peak_bytes_of(call) -> tuple[BaseException | None, int]:
    """Run ``call``; the exception it raised (or None) and the peak bytes it allocated."""
    tracemalloc.start()
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the caller looks at it
        raised: BaseException | None = error
    else:
        raised = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return raised, peak


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (dict(size=2**31, padding="same"), "size"),
        (dict(size=(1, 2**30), padding="same"), "size"),
        (dict(size=99999999999999999999, padding="same"), "size"),
        (dict(size=3, dilation=10**19, padding="same"), "dilation"),
        (dict(size=2, stride=10**30), "stride"),
        (dict(size=2, padding=10**20, pad_mode="zero"), "padding"),
        (dict(size=3, padding=(0, 2**40), pad_mode="edge"), "padding"),
    ],
)
@pytest.mark.parametrize("op", ["max", "avg", "lp"])
def test_an_absurd_window_is_a_value_error_naming_it_before_any_allocation(arguments, named, op):
    raised, peak = _peak_bytes_of(lambda: pool(np.ones((1, 1), np.uint8), op, **arguments))
    assert isinstance(raised, ValueError), raised
    assert named in str(raised)
    assert peak < 1 << 20


def test_output_shape_and_window_refuse_the_absurd_window_too():
    with pytest.raises(ValueError, match='size 2147483648x2147483648 with padding "same"'):
        output_shape((1, 1), size=2**31, padding="same")
    with pytest.raises(ValueError, match="size must be at most"):
        Window.of(size=99999999999999999999)
    with pytest.raises(ValueError, match="adding 1602800000 pixels"):
        resolve((40, 30), size=1, padding=20000, pad_mode="zero", max_pixels=None)


def test_an_output_past_the_default_limit_is_refused_before_it_is_allocated():
    # 40040 x 40030 pixels x 3 channels: the 4.8 GB output of the issue, as far as the padding
    # lets it come: refused by the padding's own bound, and by max_pixels.
    image = np.zeros((1, 3, 40, 30), np.uint8)
    raised, peak = _peak_bytes_of(lambda: pool(image, "max", 1, padding=20000, pad_mode="zero"))
    assert isinstance(raised, ValueError) and "padding 20000" in str(raised)
    assert peak < 1 << 20


def test_max_pixels_bounds_the_output_pixels_times_the_frames():
    frames = np.zeros((5, 3, 40, 30), np.uint8)
    # 5 frames of 50 x 40 = 10000 pixels (the channels do not count)
    arguments = dict(size=1, padding=5, pad_mode="zero")
    assert pool(frames, "max", **arguments, max_pixels=10_000).shape == (5, 3, 50, 40)
    assert pool(frames, "max", **arguments, max_pixels=None).shape == (5, 3, 50, 40)
    with pytest.raises(
        ValueError, match=r"5 frames of 50x40 = 10000 pixels .* max_pixels \(9999\)"
    ):
        pool(frames, "max", **arguments, max_pixels=9_999)
    with pytest.raises(ValueError, match=r"max_pixels \(9999\)"):
        output_shape(frames.shape, **arguments, max_pixels=9_999)
    with pytest.raises(ValueError, match=r"max_pixels \(9999\)"):
        Window.of(**arguments).out_shape(frames.shape, max_pixels=9_999)
    with pytest.raises(ValueError, match="max_pixels must be at least 1"):
        pool(frames, "max", max_pixels=0)


def test_max_pixels_bounds_the_padded_plane():
    plane = np.zeros((40, 30), np.uint8)
    with pytest.raises(
        ValueError, match=r"pads the 40x30 plane to 42x32 = 1344 pixels .* \(1000\)"
    ):
        pool(plane, "max", size=3, stride=100, padding=1, pad_mode="zero", max_pixels=1000)
    # Without padding only the output counts: the input is the caller's.
    assert pool(plane, "max", size=(40, 30), max_pixels=1).shape == (1, 1)


def test_real_inputs_stay_far_below_the_limits():
    assert MAX_PIXELS >= 2**30
    assert resolve((30000, 30000), size=3, stride=1, padding=1).out_shape == (30000, 30000)
    assert resolve((2160, 3840), size=64, stride=1, padding="same").out_shape == (2160, 3840)
    assert resolve((1, 1), size=5, padding="same", pad_mode="zero").out_shape == (1, 1)
    # A small matrix may take more padding than it has cells (the lectures' examples do).
    assert resolve((2, 2), size=3, padding=3, pad_mode="zero").out_shape == (2, 2)


def test_a_huge_window_over_the_whole_plane_allocates_no_window_sized_table():
    # Counting cells per window was a (windows x window size) table: 8 GB here.
    x = np.ones((1, 40_000), np.float32)
    raised, peak = _peak_bytes_of(
        lambda: pool(x, "avg", size=(1, 30_000), stride=1, padding=(0, 1))
    )
    assert raised is None
    assert peak < 200 << 20


# ---------------------------------------------------------------------------------------------
# Items 11 and 7: lp stays finite and tends to max; no RuntimeWarning escapes an op


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (1, 3, 40, 60), dtype=np.uint8)


@pytest.mark.parametrize("p", [130, 1000, 1e6])
@pytest.mark.usefixtures("no_warnings")
def test_lp_of_large_p_stays_finite_and_tends_to_max_on_an_8_bit_photo(p):
    photo = _photo()
    lp, largest = pool(photo, "lp", size=2, p=p), pool(photo, "max", size=2)
    assert np.isfinite(lp).all()
    # Between the max and the max times the number of cells to the 1/p.
    assert (lp >= largest * (1 - 1e-6)).all()
    assert (lp <= largest * 4 ** (1 / p) * (1 + 1e-6)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [1000.0, 50.0])
@pytest.mark.usefixtures("no_warnings")
def test_lp_of_large_p_does_not_vanish_on_a_float_image(dtype, p):
    image = np.random.default_rng(1).random((3, 20, 30)).astype(dtype) * 0.9
    lp, largest = pool(image, "lp", size=3, stride=2, p=p), pool(image, "max", size=3, stride=2)
    assert (lp >= largest * (1 - 1e-5)).all()
    assert (lp <= largest * 9 ** (1 / p) * (1 + 1e-5)).all()


@pytest.mark.usefixtures("no_warnings")
def test_lp_of_p_2_stays_finite_where_the_squares_overflow():
    x = np.full((1, 1, 4, 4), 3e30, np.float32)
    x[0, 0, 0, 0] = -4e30
    got = pool(x, "lp", size=2)
    expected = np.sqrt(np.array([[16e60 + 27e60, 36e60], [36e60, 36e60]]))
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-6)


@pytest.mark.usefixtures("no_warnings")
def test_lp_of_nan_is_nan_and_of_infinity_infinity():
    x = np.ones((4, 4), np.float32)
    x[0, 0], x[3, 3] = np.nan, -np.inf
    for p in (2.0, 1000.0):
        got = pool(x, "lp", size=2, p=p)
        assert np.isnan(got[0, 0]) and got[1, 1] == np.inf
        np.testing.assert_allclose(got[[0, 1], [1, 0]], 4 ** (1 / p), rtol=1e-6)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 4.5, 7.0])
@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 1), (3, 2)])
def test_lp_of_float32_equals_torch_to_float32_rounding(p, size, stride):
    x = (np.random.default_rng(int(p * 10) + size).random((2, 3, 17, 19)) * 5).astype(np.float32)
    expected = F.lp_pool2d(torch.from_numpy(x), p, size, stride).numpy()
    np.testing.assert_allclose(pool(x, "lp", size, stride, p=p), expected, rtol=1e-6)


@pytest.mark.usefixtures("no_warnings")
def test_median_of_a_window_holding_nan_is_nan_with_padding_too():
    x = np.arange(36, dtype=np.float32).reshape(6, 6)
    x[1, 1] = np.nan
    for arguments in (
        dict(size=2),
        dict(size=3, stride=2, padding=1),  # windows that hold padding
        dict(size=3, stride=2, ceil_mode=True),
    ):
        got = pool(x, "median", **arguments)
        holds_nan = pool(np.isnan(x).astype(np.uint8), "max", **arguments).astype(bool)
        np.testing.assert_array_equal(np.isnan(got), holds_nan)
        clean = np.where(np.isnan(x), 0, x)
        np.testing.assert_array_equal(
            got[~holds_nan], pool(clean, "median", **arguments)[~holds_nan]
        )


@pytest.mark.parametrize("op", OPS)
@pytest.mark.usefixtures("no_warnings")
def test_no_op_warns_on_nan_or_extreme_floats(op):
    x = np.array([[np.nan, 1e38, -1e38, 0], [3e38, np.inf, 1, 2]], np.float32)
    pool(x, op, size=2, stride=1, padding=1, p=1000.0)
    pool(x, op, size=2, p=2.0)


# ---------------------------------------------------------------------------------------------
# Item 17: an empty batch gives an empty batch, as PyTorch's pooling does


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_pool_of_an_empty_batch_is_an_empty_batch_of_torchs_shape(dtype):
    x = np.zeros((0, 3, 9, 8), dtype)
    t = torch.zeros(x.shape)
    assert pool(x, "max", 3, 2, padding=1).shape == F.max_pool2d(t, 3, 2, 1).shape
    assert pool(x, "avg", 2).shape == F.avg_pool2d(t, 2).shape
    assert pool(x, "lp", 3, 2, p=3.0).shape == F.lp_pool2d(t, 3.0, 3, 2).shape
    for op in OPS:
        result = pool(x, op, size=2, padding="same")
        assert result.shape == (0, 3, 5, 4)
        assert result.dtype == poolcli.result_dtype(op, x.dtype)
    values, indices = pool(x, "max", 2, return_indices=True)
    _, expected = F.max_pool2d(t, 2, return_indices=True)
    assert values.shape == indices.shape == expected.shape
    assert indices.dtype == np.int64
    out = np.empty((0, 3, 4, 4), np.float32)
    assert pool(x, "avg", 2, out=out) is out


def test_global_adaptive_and_fractional_pool_of_an_empty_batch():
    x = np.zeros((0, 3, 9, 8), np.float32)
    t = torch.zeros(x.shape)
    assert global_pool(x).shape == global_pool(x, "max").shape == (0, 3, 1, 1)
    assert adaptive_pool(x, (4, 3)).shape == F.adaptive_avg_pool2d(t, (4, 3)).shape
    assert adaptive_pool(x, (4, 3), "max").shape == F.adaptive_max_pool2d(t, (4, 3)).shape
    expected = F.fractional_max_pool2d(t, 2, output_size=(5, 4)).shape
    assert fractional_max_pool(x, 2, output_size=(5, 4), seed=0).shape == expected
    values, indices = fractional_max_pool(x, 2, output_size=(5, 4), seed=0, return_indices=True)
    assert values.shape == indices.shape == expected


@pytest.mark.parametrize("shape", [(1, 0, 4, 4), (2, 3, 0, 4), (0, 3, 4, 0), (3, 4, 0), (0, 4)])
def test_empty_planes_and_no_channels_stay_an_error(shape):
    x = np.zeros(shape)
    for call in (
        lambda: pool(x, "max"),
        lambda: global_pool(x),
        lambda: adaptive_pool(x, 1),
        lambda: fractional_max_pool(x, 1, 1, seed=0),
    ):
        with pytest.raises(ValueError, match="input is empty"):
            call()


# ---------------------------------------------------------------------------------------------
# Item 18: results in C order


def _layouts():
    x = np.random.default_rng(2).random((2, 3, 224, 224)).astype(np.float32)
    channel_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return [pytest.param(x, id="C"), pytest.param(channel_last, id="channel-last")]


@pytest.mark.parametrize("x", _layouts())
@pytest.mark.parametrize(
    "call",
    [
        lambda x: adaptive_pool(x, (7, 7), "max"),
        lambda x: adaptive_pool(x, (100, 100), "max"),
        lambda x: adaptive_pool(x, (224, 7), "max"),
        lambda x: adaptive_pool(x, (7, 7)),
        lambda x: adaptive_pool(x, (224, 7)),
        lambda x: global_pool(x),
        lambda x: global_pool(x, "max"),
        lambda x: fractional_max_pool(x, 2, output_size=100, seed=0),
        lambda x: fractional_max_pool(x, 2, output_size=100, seed=0, return_indices=True)[1],
    ],
    ids=["amax7", "amax100", "amax224x7", "aavg7", "aavg224x7", "gavg", "gmax", "frac", "idx"],
)
def test_adaptive_global_and_fractional_results_are_in_c_order(x, call):
    assert call(x).flags.c_contiguous


# ---------------------------------------------------------------------------------------------
# Item 4's output half, where the command line pools: pool_image checks before it allocates


def test_pool_image_refuses_an_output_past_max_pixels_before_allocating_it():
    from poolcli.imaging.alpha import pool_image
    from poolcli.io.images import ImageInfo

    info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
    image = np.zeros((1, 4, 40, 30), np.uint8)
    arguments = dict(size=1, padding=2000, pad_mode="zero")
    for op in ("max", "avg"):
        raised, peak = _peak_bytes_of(
            lambda op=op: pool_image(image, info, op, **arguments, max_pixels=10**6)
        )
        assert isinstance(raised, ValueError) and "max_pixels (1000000)" in str(raised)
        assert peak < 1 << 20
    assert pool_image(image, info, "avg", size=2, max_pixels=300).shape == (1, 4, 20, 15)
    assert pool_image(image, info, "adaptive_max", output_size=3, max_pixels=1).shape[-2:] == (3, 3)
    assert pool_image(image, info, "global_avg", max_pixels=1).shape[-2:] == (1, 1)
