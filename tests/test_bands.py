"""PyramidStream: levels built from bands of rows equal the whole-array pyramid, however the rows
are cut; RowBlocks regroups rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolcli.core import pyramid as whole
from poolcli.core.bands import PyramidStream, RowBlocks

DTYPES = (np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64)


def streamed(base: np.ndarray, op: str, levels: int, factor: tuple[int, int], cuts: list[int]):
    """Every level of ``base`` from a stream fed the rows between ``cuts``."""
    stream = PyramidStream(base.shape, base.dtype, op, levels, factor)
    parts: dict[int, list[np.ndarray]] = {level: [] for level in range(1, stream.count)}
    edges = [0, *sorted(c for c in cuts if 0 < c < base.shape[-2]), base.shape[-2]]
    for start, stop in zip(edges, edges[1:], strict=False):
        for level, rows in stream.push(base[..., start:stop, :]):
            assert rows.dtype == base.dtype
            parts[level].append(rows)
    assert stream.complete
    return [base] + [np.concatenate(parts[level], axis=-2) for level in sorted(parts)]


def image(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 100, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape, dtype=dtype)


@settings(max_examples=250, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    lead=st.sampled_from([(), (3,), (2, 1)]),
    op=st.sampled_from(["avg", "max", "min", "nearest"]),
    factor=st.sampled_from([(2, 2), (3, 3), (2, 3), (4, 2)]),
    dtype=st.sampled_from(DTYPES),
    cuts=st.lists(st.integers(0, 70), max_size=8),
    seed=st.integers(0, 2**16),
    interleaved=st.booleans(),
)
def test_every_level_equals_the_whole_pyramid(
    height, width, lead, op, factor, dtype, cuts, seed, interleaved
):
    base = image(np.random.default_rng(seed), (*lead, height, width), dtype)
    if interleaved and base.ndim >= 3:  # samples stored together: a view of (..., H, W, C)
        base = np.moveaxis(np.ascontiguousarray(np.moveaxis(base, -3, -1)), -1, -3)
    levels = whole.level_count(base.shape, factor, None, 4)
    expected = whole.pyramid(base, op, levels, factor)
    got = streamed(base, op, levels, factor, cuts)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine, theirs)


def test_avg_levels_match_direct_pooling_of_the_base():
    """Independent of core.pyramid: level L is poolcli.pool of the base over 2**L, ceil, rounded."""
    from poolcli import pool

    base = image(np.random.default_rng(7), (37, 53), np.uint8)
    got = streamed(base, "avg", 4, (2, 2), [5, 6, 17, 30])
    for level in range(1, 4):
        direct = pool(base, "avg", size=2**level, ceil_mode=True)  # float32 means
        rounded = np.floor(direct.astype(np.float64) + 0.5).astype(np.uint8)
        # ceil windows of pool count padding as cells ignored: the means are of real cells only
        np.testing.assert_array_equal(got[level], rounded)


def test_rows_pushed_past_the_base_or_of_the_wrong_shape_are_refused():
    stream = PyramidStream((4, 6), np.uint8, "max", levels=2)
    with pytest.raises(ValueError, match="rows of the base"):
        stream.push(np.zeros((2, 5), np.uint8))
    with pytest.raises(ValueError, match="rows of the base"):
        stream.push(np.zeros((2, 6), np.int16))
    stream.push(np.zeros((4, 6), np.uint8))
    with pytest.raises(ValueError, match="more were pushed"):
        stream.push(np.zeros((1, 6), np.uint8))


def test_median_and_mode_are_not_streamed():
    with pytest.raises(ValueError, match="not 'median'"):
        PyramidStream((4, 4), np.uint8, "median")


def test_memory_holds_rows_not_levels():
    """What waits inside the stream after each push is a few rows of each level."""
    base = np.ones((4096, 64), np.uint8)
    stream = PyramidStream(base.shape, base.dtype, "avg", levels=6)
    for top in range(0, 4096, 96):
        stream.push(base[top : top + 96])
        assert max(stream.waiting) < 2  # factor 2: at most one row short of a window
    assert stream.complete


@settings(max_examples=60, deadline=None)
@given(total=st.integers(1, 50), rows=st.integers(1, 9), cuts=st.lists(st.integers(0, 50)))
def test_row_blocks_regroup_rows_in_order(total, rows, cuts):
    data = np.arange(total * 2).reshape(total, 2)
    blocks = RowBlocks(rows, total)
    edges = [0, *sorted(c for c in cuts if 0 < c < total), total]
    out = []
    for start, stop in zip(edges, edges[1:], strict=False):
        out += blocks.add(data[start:stop])
    assert [b.shape[0] for b in out[:-1]] == [rows] * (len(out) - 1)
    assert 1 <= out[-1].shape[0] <= rows
    np.testing.assert_array_equal(np.concatenate(out), data)
