"""Pooling volumes (three spatial axes) and signals (one): every op against a plain loop over
windows, the option rules (one value or one per axis, mismatches named), layouts, ``out``,
tiling, and the functions around ``pool`` (output_shape, Window, unpooling)."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli.core import engine
from poolcli.core.geometry import Window, output_shape, resolve

OPS = ("max", "min", "avg", "sum", "median", "lp", "mode")
PAD_MODES = ("ignore", "zero", "edge", "reflect", -3)
MAX_EXAMPLES = 120


# --- a plain loop over windows ----------------------------------------------------------------


def loop_pool(x, op, size, stride, pads, dilation, ceil_mode=False, pad_mode="ignore", p=2.0):
    """Pool the last len(size) axes of x window by window; pads is one (before, after) per axis.

    Cells of a window count when they are real, or padding whose pad_mode gives them a value;
    cells past the padded border (ceil mode) never count. float64 out (the mode: x's dtype).
    """
    axes = len(size)
    lengths = x.shape[-axes:]
    outs = []
    for length, k, s, d, (before, after) in zip(lengths, size, stride, dilation, pads, strict=True):
        span = length + before + after - (d * (k - 1) + 1)
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= length + before:
            out -= 1
        outs.append(out)
    widths = [(0, 0)] * (x.ndim - axes) + list(pads)
    values = x.astype(np.float64)  # a pad value need not fit x's dtype (sums, means)
    if pad_mode in ("edge", "reflect"):
        padded = np.pad(values, widths, mode=pad_mode)
        counts = np.ones(padded.shape, bool)
    else:
        fill = 0 if pad_mode in ("ignore", "zero") else pad_mode
        padded = np.pad(values, widths, constant_values=fill)
        counts = np.pad(np.ones(x.shape, bool), widths, constant_values=pad_mode != "ignore")
    result = np.empty(x.shape[:-axes] + tuple(outs), x.dtype if op == "mode" else np.float64)
    for lead in np.ndindex(*x.shape[:-axes]):
        for where in np.ndindex(*outs):
            cells = []
            for taps in itertools.product(*(range(k) for k in size)):
                at = tuple(
                    w * s + t * d for w, s, t, d in zip(where, stride, taps, dilation, strict=True)
                )
                if (
                    all(a < n for a, n in zip(at, padded.shape[-axes:], strict=True))
                    and counts[lead + at]
                ):
                    cells.append(padded[lead + at])
            if not cells:
                raise ValueError(f"window {where} holds no cell that counts")
            result[lead + where] = reduce_cells(np.array(cells), op, p)
    return result


def reduce_cells(cells, op, p):
    if op == "mode":
        real = cells[~np.isnan(cells)] if cells.dtype.kind == "f" else cells
        if real.size == 0:
            return np.nan
        counts = Counter(real.tolist())
        best = max(counts.values())
        return min(value for value, count in counts.items() if count == best)
    cells = cells.astype(np.float64)
    if op == "max":
        return np.nan if np.isnan(cells).any() else cells.max()
    if op == "min":
        return np.nan if np.isnan(cells).any() else cells.min()
    if op == "sum":
        return cells.sum()
    if op == "avg":
        return cells.mean()
    if op == "median":
        return np.median(cells)
    return (np.abs(cells) ** p).sum() ** (1 / p)


@st.composite
def volume_cases(draw, axes=3):
    """(x, params, pads): a small input, pool's keyword arguments, the padding per axis."""
    size = tuple(draw(st.integers(1, 3)) for _ in range(axes))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(axes))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(axes))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(axes))
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, size, strict=True)]
    # Real cells in every window: lengths of at least the window and the padding.
    lengths = tuple(
        draw(st.integers(max(span, before + after + 1, 2 * max(before, after) + 1), 7))
        for span, (before, after) in zip(spans, pads, strict=True)
    )
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *lengths)
    dtype = draw(st.sampled_from([np.uint8, np.int32, np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 4, shape).astype(dtype)
    if dtype in (np.float32, np.float64) and draw(st.booleans()):
        x.flat[rng.integers(0, x.size)] = np.nan
    params = {
        "size": size,
        "stride": stride,
        "dilation": dilation,
        "padding": tuple(side for pair in pads for side in pair),
        "ceil_mode": draw(st.booleans()),
        "pad_mode": draw(st.sampled_from(PAD_MODES)),
    }
    return x, params, pads


def check_against_loop(x, op, params, pads, p=2.0):
    try:
        expected = loop_pool(
            x,
            op,
            params["size"],
            params["stride"],
            pads,
            params["dilation"],
            params["ceil_mode"],
            params["pad_mode"],
            p,
        )
    except ValueError:
        with pytest.raises(ValueError, match="holds only padding"):
            poolcli.pool(x, op, **params, p=p)
        return
    got = poolcli.pool(x, op, **params, p=p)
    assert got.shape == expected.shape
    if op in ("max", "min", "mode"):
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, expected.astype(x.dtype))
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=MAX_EXAMPLES, deadline=None)
@given(volume_cases(), st.sampled_from(OPS))
def test_volume_ops_equal_a_loop_over_windows(case, op):
    x, params, pads = case
    if params["pad_mode"] == -3 and x.dtype == np.uint8 and op in ("max", "min", "mode"):
        with pytest.raises(ValueError, match="does not fit the input dtype"):
            poolcli.pool(x, op, **params)
        return
    check_against_loop(x, op, params, pads, p=3.0)


@settings(max_examples=MAX_EXAMPLES // 2, deadline=None)
@given(volume_cases(axes=1), st.sampled_from(OPS))
def test_signal_ops_equal_a_loop_over_windows(case, op):
    x, params, pads = case
    if params["pad_mode"] == -3 and x.dtype == np.uint8 and op in ("max", "min", "mode"):
        return  # refused, as for volumes
    check_against_loop(x, op, params, pads, p=3.0)


def test_long_windows_and_uint8_sums_in_volumes():
    """Windows of many taps along every axis take the window-view reduction; uint8 sums of
    more cells than uint16 holds exactly widen."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (1, 2, 12, 11, 13), dtype=np.uint8)
    pads = ((0, 0),) * 3
    for op in ("max", "avg", "sum"):
        params = dict(
            size=(5, 6, 10),
            stride=(2, 1, 3),
            dilation=1,
            padding=0,
            ceil_mode=False,
            pad_mode="ignore",
        )
        params["dilation"] = (1, 1, 1)
        check_against_loop(x, op, params, pads)
    total = poolcli.pool(x, "sum", size=(8, 8, 8))
    np.testing.assert_array_equal(total, x[..., :8, :8, :8].sum(axis=(2, 3, 4), keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_strided_signal_windows_equal_a_loop(dtype):
    """Max and min of four taps and more, strided: by sliding extremes (engine._slides)."""
    rng = np.random.default_rng(4)
    x = rng.integers(-5, 5, (2, 3, 41)).astype(dtype)
    x[0, 1, 7] = np.nan
    for op, size, stride in (("max", 4, 4), ("min", 5, 3), ("max", 6, 2), ("max", 4, 1)):
        params = dict(
            size=(size,),
            stride=(stride,),
            dilation=(1,),
            padding=(0, 2),
            ceil_mode=True,
            pad_mode="ignore",
        )
        check_against_loop(x, op, params, ((0, 2),))


def test_tiles_and_threads_give_the_one_result(monkeypatch):
    """Tiny tiles and every call parallel: volumes cut into rows of single depth slices."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 9, 10, 11)).astype(np.float32)
    calls = [
        ("max", dict(size=(3, 2, 3), stride=(1, 2, 2), padding=1, return_indices=True)),
        ("avg", dict(size=(2, 3, 2), stride=1, padding=(1, 0, 1), pad_mode="zero")),
        ("median", dict(size=(2, 2, 3), stride=(2, 1, 1), padding=1, ceil_mode=True)),
        ("lp", dict(size=(2, 2, 2), stride=1, p=40.0)),
    ]
    whole = [poolcli.pool(x, op, **kwargs) for op, kwargs in calls]
    monkeypatch.setattr(engine, "TILE_BYTES", 64)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    for (op, kwargs), expected in zip(calls, whole, strict=True):
        got = poolcli.pool(x, op, **kwargs)
        for a, b in zip(
            got if isinstance(got, tuple) else (got,),
            expected if isinstance(expected, tuple) else (expected,),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)


def test_channel_last_volumes_keep_their_layout():
    rng = np.random.default_rng(8)
    dhwc = rng.integers(0, 9, (5, 6, 7, 3)).astype(np.float32)
    x = dhwc.transpose(3, 0, 1, 2)[None]  # (1, C, D, H, W), channels fastest
    contiguous = np.ascontiguousarray(x)
    for op in ("max", "avg", "median"):
        got = poolcli.pool(x, op, size=(2, 3, 2), stride=(1, 2, 1), padding=1)
        np.testing.assert_array_equal(
            got, poolcli.pool(contiguous, op, size=(2, 3, 2), stride=(1, 2, 1), padding=1)
        )
        assert got.strides[1] < got.strides[-1]  # channel-last out
    values, indices = poolcli.pool(x, "max", size=(2, 2, 2), return_indices=True)
    expected = poolcli.pool(contiguous, "max", size=(2, 2, 2), return_indices=True)
    np.testing.assert_array_equal(indices, expected[1])


def test_out_receives_volumes_and_signals():
    x = np.arange(2 * 4 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 4)
    out = np.zeros((2, 2, 2, 2), np.float32)
    result = poolcli.pool(x, "avg", size=(2, 2, 2), out=out)
    assert result.base is out or result is out
    np.testing.assert_array_equal(out, poolcli.pool(x, "avg", size=(2, 2, 2)))
    signal = np.arange(12.0)
    out1 = np.zeros(4)
    poolcli.pool(signal, "max", size=(3,), out=out1)
    np.testing.assert_array_equal(out1, [2.0, 5.0, 8.0, 11.0])


def test_signals_pool_the_last_axis_of_every_rank():
    x = np.array([[3, 1, 4, 1, 5, 9, 2, 6]])
    np.testing.assert_array_equal(poolcli.pool(x[0], "max", size=(2,)), [3, 4, 9, 6])
    assert poolcli.pool(x, "sum", size=(2,), stride=(2,)).tolist() == [[4.0, 5.0, 14.0, 8.0]]
    assert poolcli.pool(x[None], "min", size=[4]).shape == (1, 1, 2)
    values, indices = poolcli.pool(x, "max", size=(3,), stride=2, return_indices=True)
    assert values.tolist() == [[4, 5, 9]] and indices.tolist() == [[2, 4, 5]]
    np.testing.assert_array_equal(
        poolcli.max_unpool(values, indices, x.shape, axes=1), [[0, 0, 4, 0, 5, 9, 0, 0]]
    )


def test_the_window_decides_how_many_axes_are_pooled():
    x = np.ones((2, 3, 8, 8), np.float32)
    assert poolcli.pool(x, "max", size=2).shape == (2, 3, 4, 4)  # a plane: the last two
    assert poolcli.pool(x, "max", size=(2, 2, 2)).shape == (2, 1, 4, 4)  # (C, D, H, W) volume
    assert poolcli.pool(x[0], "max", size=(2,)).shape == (3, 8, 4)  # (N, C, L) signals
    assert output_shape((4, 16, 64, 128, 128), size=(2, 2, 2)) == (4, 16, 32, 64, 64)
    assert output_shape((8, 1000), size=(5,), stride=1, padding="same") == (8, 1000)
    window = Window.of(size=(3, 3, 3), stride=2, padding=1)
    assert window.stride == (2, 2, 2) and window.axes == 3
    assert window.out_shape((1, 1, 9, 9, 9)) == (1, 1, 5, 5, 5)
    geometry = resolve((9, 9, 9), size=(3, 3, 3), padding=(1, 0, 2, 2, 0, 1))
    assert geometry.padding == (1, 0, 2, 2, 0, 1)
    assert geometry.sizes == (3, 3, 3) and geometry.depth.before == 1
    assert "out_d = floor" in geometry.depth.formula("D")


def test_rank_four_with_a_signal_window_is_refused():
    with pytest.raises(ValueError, match=r"input must have 1, 2 or 3 dimensions \(L / C, L"):
        poolcli.pool(np.ones((2, 3, 8, 8)), "max", size=(2,))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(size=(2, 2, 2), stride=(1, 1)),
            r"stride \(1, 1\) has 2 values but size \(2, 2, 2\) pools 3 axes \(depth, height, "
            r"width\); give one int or 3 values",
        ),
        (
            dict(size=2, stride=(1, 1, 1)),
            r"stride \(1, 1, 1\) has 3 values but size 2 pools 2 axes \(height, width\)",
        ),
        (
            dict(size=(3,), dilation=(1, 2)),
            r"dilation \(1, 2\) has 2 values but size \(3,\) pools 1 axis \(length\)",
        ),
        (
            dict(size=(2, 2, 2), padding=(1, 1)),
            r"padding takes 1, 3 \(depth, height, width\) or 6 \(front, back, top, bottom, left, "
            r"right\) ints for a window of 3 axes, got 2",
        ),
        (dict(size=(2, 2, 2, 2)), r"size takes one int or a pair \(height, width\), or"),
        (dict(size=(2, 2, 2), padding="full"), r"padding must be an int, 3 ints, 6 ints"),
        (dict(size=(2, 0, 2)), r"size must be at least 1, got 0 \(in \(2, 0, 2\)\)"),
    ],
)
def test_mismatched_options_are_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        poolcli.pool(np.ones((4, 4, 4)), "max", **kwargs)
    with pytest.raises(ValueError, match=message):
        Window.of(**kwargs)


def test_other_functions_name_their_axes():
    volume = np.ones((4, 5, 6))
    with pytest.raises(
        ValueError,
        match=r"output_size 5x5x6 is larger than the input 4x5x6 "
        r"\(depth x height x width\)",
    ):
        poolcli.adaptive_pool(volume, (5, None, None))
    with pytest.raises(ValueError, match=r"samples must have shape \(1, 1, 3\) \(N, C, 3\)"):
        poolcli.fractional_max_pool(volume, (2, 2, 2), output_size=2, samples=[[[0.5, 0.5]]])
    with pytest.raises(ValueError, match="ratio takes one number or 3 \\(depth, height, width\\)"):
        poolcli.fractional_max_pool(volume, (2, 2, 2), ratio=(0.5, 0.5))
    with pytest.raises(ValueError, match="fractional max pooling takes 2 or 3 axes"):
        poolcli.fractional_max_pool(np.ones(9), (2,), output_size=3)
    with pytest.raises(ValueError, match="axes must be 1, 2 or 3"):
        poolcli.global_pool(volume, axes=4)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 8\) for an output volume"):
        poolcli.max_unpool(np.ones((1, 1, 1)), np.array([[[8]]]), (2, 2, 2), axes=3)
    with pytest.raises(
        ValueError,
        match=r"the output would hold 2 frames of 4x5x6 = 240 pixels "
        r"\(depth x height x width\), more than max_pixels \(200\)",
    ):
        engine.pool(np.ones((2, 1, 4, 5, 6)), "max", size=(1, 1, 1), max_pixels=200)


def test_volume_adaptive_and_fractional_match_their_plane_rules():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 7, 8, 9))
    # A depth of one output keeps each plane's own adaptive result, maxed over depth.
    planes = np.stack([poolcli.adaptive_pool(x[:, d], (3, 4), "max") for d in range(7)])
    np.testing.assert_array_equal(poolcli.adaptive_pool(x, (1, 3, 4), "max")[:, 0], planes.max(0))
    assert poolcli.adaptive_pool(x, (None, 2, None)).shape == (2, 7, 2, 9)
    assert poolcli.adaptive_pool(x[0, 0, 0], (3,)).shape == (3,)
    assert poolcli.fractional_max_pool(x, (2, 2, 2), ratio=0.5, seed=1).shape == (2, 3, 4, 4)


def test_dask_arrays_pool_volumes_as_arrays_in_memory():
    da = pytest.importorskip("dask.array")
    x = np.random.default_rng(3).standard_normal((4, 8, 8))
    volume = da.from_array(x, chunks=3)
    pooled = poolcli.pool(volume, "max", size=(2, 2, 2))
    np.testing.assert_array_equal(pooled.compute(), poolcli.pool(x, "max", size=(2, 2, 2)))
    means = poolcli.global_pool(volume, axes=3).compute()
    np.testing.assert_allclose(means, poolcli.global_pool(x, axes=3), rtol=1e-12)
