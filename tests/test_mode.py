"""The mode op (poolcli.core.mode.mode_pool) against a plain loop over windows."""

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import explicit_padding, output_length, padded_grid

from poolcli.core.geometry import resolve
from poolcli.core.mode import mode_pool

DTYPES = ("uint8", "int16", "int64", "float32", "float64")


def loop_mode(plane, size, stride, dilation, pads, ceil_mode, pad_mode):
    """The mode of every window, walked tap by tap: a Counter of the cells that count."""
    top, bottom, left, right = pads
    height, width = plane.shape
    out_h = output_length(height, size[0], stride[0], dilation[0], top, bottom, ceil_mode)
    out_w = output_length(width, size[1], stride[1], dilation[1], left, right, ceil_mode)
    grid = padded_grid(plane, pads, pad_mode)
    out = np.empty((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            counts = Counter()
            saw_nan = False
            for a in range(size[0]):
                for b in range(size[1]):
                    row, col = i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]
                    if row >= len(grid) or col >= len(grid[0]) or grid[row][col] is None:
                        continue
                    if math.isnan(grid[row][col]):
                        saw_nan = True
                    else:
                        counts[grid[row][col]] += 1
            if not counts:
                assert saw_nan, "a window without a cell that counts"
                out[i, j] = math.nan
                continue
            most = max(counts.values())
            out[i, j] = min(value for value, count in counts.items() if count == most)
    return out


def labels(shape, dtype, seed, classes=4, nan_share=0.0):
    """Few distinct values, so windows have ties and repeated labels."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, classes, size=shape).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        # Odd labels near the top of the dtype (exact in the loop's float64 too).
        top = min(int(np.iinfo(dtype).max), 2**40) - classes + 1
        x = x + np.asarray(top, dtype) * (x % 2).astype(dtype)
    elif nan_share:
        x[rng.random(shape) < nan_share] = np.nan
    return x


@settings(max_examples=120, deadline=None)
@given(
    height=st.integers(1, 8),
    width=st.integers(1, 8),
    size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(*[st.integers(0, 3)] * 4),
    ceil_mode=st.booleans(),
    pad_mode=st.sampled_from(["ignore", "zero", "edge", "reflect", 3]),
    dtype=st.sampled_from(DTYPES),
    nan_share=st.sampled_from([0.0, 0.3, 0.9]),
    seed=st.integers(0, 2**16),
)
def test_mode_matches_a_loop_over_windows(
    height, width, size, stride, dilation, padding, ceil_mode, pad_mode, dtype, nan_share, seed
):
    x = labels((2, 1, height, width), dtype, seed, nan_share=nan_share)
    kwargs = dict(size=size, stride=stride, dilation=dilation, padding=padding)
    try:
        geometry = resolve((height, width), **kwargs, ceil_mode=ceil_mode, pad_mode=pad_mode)
    except ValueError:
        return  # a geometry without a meaning: the engine's tests cover the message
    got = mode_pool(x, geometry)
    assert got.dtype == x.dtype and got.shape == (2, 1, *geometry.out_shape)
    pads = explicit_padding(padding, (height, width), size, stride, dilation)
    for n in range(2):
        # Compare in the dtype: the loop works in float64, exact for these values.
        expected = loop_mode(x[n, 0], size, stride, dilation, pads, ceil_mode, pad_mode)
        np.testing.assert_array_equal(got[n, 0], expected.astype(x.dtype))


def test_ties_go_to_the_smallest_value():
    x = np.array([[[[5, 2, 2, 5]]]], np.int16)
    assert mode_pool(x, resolve((1, 4), size=(1, 4))).item() == 2


def test_nan_counts_only_when_a_window_holds_nothing_else():
    x = np.array([[[[np.nan, np.nan, 7.0, np.nan], [np.nan, np.nan, np.nan, np.nan]]]])
    got = mode_pool(x, resolve((2, 4), size=(1, 4)))
    assert got[0, 0, 0, 0] == 7.0 and np.isnan(got[0, 0, 1, 0])


def test_ignored_padding_never_counts_and_zero_padding_does():
    x = np.array([[[[4, 4, 1]]]], np.uint8)
    ignore = resolve((1, 3), size=(1, 5), stride=1, padding=(0, 0, 2, 0))
    zero = resolve((1, 3), size=(1, 5), stride=1, padding=(0, 0, 2, 0), pad_mode="zero")
    assert mode_pool(x, ignore).item() == 4
    assert mode_pool(x, zero).item() == 0


def test_a_number_padding_must_fit_the_dtype():
    geometry = resolve((2, 2), size=2, padding=1, pad_mode=-1)
    with pytest.raises(ValueError, match="does not fit the input dtype uint8"):
        mode_pool(np.zeros((1, 1, 2, 2), np.uint8), geometry)


def test_large_planes_go_tile_by_tile_with_the_same_result(monkeypatch):
    x = labels((1, 2, 40, 30), "int16", 3)
    geometry = resolve((40, 30), size=3, stride=2, padding=1)
    whole = mode_pool(x, geometry)
    monkeypatch.setattr("poolcli.core.mode.TILE_BYTES", 9 * 2 * 5)  # five windows a tile
    np.testing.assert_array_equal(mode_pool(x, geometry), whole)


def test_rejects_a_geometry_of_another_shape():
    with pytest.raises(ValueError, match="planes of 3x3, got 4x4"):
        mode_pool(np.zeros((1, 1, 4, 4)), resolve((3, 3), size=2))
