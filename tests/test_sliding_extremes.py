"""Max and min of strided float windows along a row, by sliding extremes, against a loop.

Signals (and planes pooled by windows one row high) whose windows touch or overlap take the
engine's sliding-extremes path; it must give what a loop over the windows gives, NaN, infinities
and signed zeros included, however the row is cut into blocks.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli.core import engine

SPECIAL = np.array([0.0, -0.0, 1.5, -2.0, np.nan, np.inf, -np.inf])


def windows_by_loop(x, op, size, stride, before, after, ceil_mode, pad_mode):
    """Each window's max (min) from the padded row, cell by cell: the definition."""
    reduce = np.max if op == "max" else np.min
    widths = [(0, 0)] * (x.ndim - 1) + [(before, after)]
    if pad_mode in ("edge", "reflect"):
        padded = np.pad(x, widths, mode=pad_mode)
    else:
        ignored = -np.inf if op == "max" else np.inf
        fill = ignored if pad_mode == "ignore" else 0.0 if pad_mode == "zero" else pad_mode
        padded = np.pad(x, widths, constant_values=fill)
    count = poolcli.output_shape(
        x.shape, (size,), (stride,), (before, after), 1, ceil_mode, pad_mode
    )[-1]
    cells = [padded[..., i * stride : i * stride + size] for i in range(count)]
    return np.stack([reduce(c, axis=-1) for c in cells], axis=-1).astype(x.dtype)


@st.composite
def signals(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    lead = draw(st.sampled_from([(), (3,), (2, 3)]))
    length = draw(st.integers(4, 300))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, length)).round(1)
    special = rng.random(x.shape) < draw(st.sampled_from([0.0, 0.1, 0.5]))
    x[special] = rng.choice(SPECIAL, int(special.sum()))
    return x.astype(dtype)


@settings(max_examples=200, deadline=None)
@given(
    x=signals(),
    op=st.sampled_from(["max", "min"]),
    size=st.integers(4, 12),
    data=st.data(),
    before=st.integers(0, 3),
    after=st.integers(0, 3),
    ceil_mode=st.booleans(),
    pad_mode=st.sampled_from(["ignore", "zero", "edge", "reflect", -7.5]),
    block=st.sampled_from([None, 1, 8]),
)
def test_strided_extremes_of_float_signals_equal_a_loop(
    x, op, size, data, before, after, ceil_mode, pad_mode, block
):
    stride = data.draw(st.integers(2, size))
    params = dict(
        size=(size,),
        stride=(stride,),
        padding=(before, after),
        ceil_mode=ceil_mode,
        pad_mode=pad_mode,
    )
    try:
        expected = windows_by_loop(x, op, size, stride, before, after, ceil_mode, pad_mode)
    except ValueError:
        return  # a geometry without meaning (too short a row, padding-only windows)
    try:
        with pytest.MonkeyPatch.context() as patch:
            if block is not None:  # blocks of a few windows: every block edge inside the row
                patch.setattr(engine, "SLIDING_BYTES", 1)
                patch.setattr(engine, "SLIDING_RUN", block)
            got = poolcli.pool(x, op, **params)
    except ValueError as error:
        assert pad_mode == "ignore" and "holds only padding" in str(error)
        return
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("size", "stride"), [(4, 4), (5, 2), (8, 8), (7, 3), (16, 16)])
def test_windows_one_row_high_slide_along_the_rows_of_planes(size, stride):
    rng = np.random.default_rng(size * stride)
    image = rng.standard_normal((2, 3, 7, 257)).astype(np.float32)
    image[0, 1, 2, 5:40] = np.nan
    got = poolcli.pool(image, "max", size=(1, size), stride=(1, stride))
    rows = windows_by_loop(image.reshape(-1, 257), "max", size, stride, 0, 0, False, "ignore")
    np.testing.assert_array_equal(got, rows.reshape(got.shape))


def test_a_large_signal_batch_pooled_in_threads_equals_a_loop(monkeypatch):
    """Tiles in both threads, each cut into several blocks."""
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "SLIDING_BYTES", 4096)
    x = np.random.default_rng(5).standard_normal((6, 4, 5000)).astype(np.float32)
    for op in ("max", "min"):
        got = poolcli.pool(x, op, size=(4,), stride=(4,))
        np.testing.assert_array_equal(got, windows_by_loop(x, op, 4, 4, 0, 0, False, "ignore"))
