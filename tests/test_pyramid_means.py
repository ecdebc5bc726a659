"""core.pyramid.average divides integer sums in integers where that is exact: every sum k of
windows of n cells gives what the engine's float division and rounding give."""

from __future__ import annotations

import numpy as np
import pytest

from poolcli.core import engine
from poolcli.core.pyramid import average


def engine_rounding(sums: np.ndarray, cells: int, base: np.dtype) -> np.ndarray:
    """The engine's mean of windows of ``cells`` cells (float32 division for 8-bit windows of at
    most 257 cells, else float64), stored in its float result type, rounded half up."""
    small = base == np.uint8 and cells <= 257
    division = np.float32 if small else np.float64
    means = (sums.astype(division) / division(cells)).astype(engine.result_dtype("avg", base))
    return np.floor(means.astype(np.float64) + 0.5).astype(base)


@pytest.mark.parametrize(
    ("base", "cells"),
    [(np.uint8, n) for n in (2, 3, 4, 9, 16, 64, 255, 256, 257, 1024, 4096, 16384)]
    + [(np.uint16, n) for n in (2, 4, 9, 16, 32, 64, 256, 4096)]
    + [(np.int16, n) for n in (4, 16, 32)],
)
def test_every_mean_of_the_integer_path_is_the_engines(base, cells) -> None:
    info = np.iinfo(base)
    dtype = np.int64
    sums = np.arange(int(info.min) * cells, int(info.max) * cells + 1, dtype=dtype)
    if sums.size > 3_000_000:  # every sum near each half and each end, a sample between
        rng = np.random.default_rng(cells)
        near = (np.arange(int(info.min), int(info.max) + 1)[:, None] * cells
                + cells // 2 + np.arange(-2, 3)[None, :]).ravel()  # fmt: skip
        sums = np.unique(np.clip(np.concatenate([near, rng.choice(sums, 500_000)]),
                                 sums[0], sums[-1]))  # fmt: skip
    got = average(sums[None, :], np.array([1]), np.full(sums.size, cells), base, cells)
    np.testing.assert_array_equal(got[0], engine_rounding(sums, cells, np.dtype(base)))


def test_edge_windows_are_divided_by_the_cells_they_hold() -> None:
    sums = np.array([[40, 40, 10], [40, 40, 10], [20, 20, 5]], np.uint16)
    rows, cols = np.array([4, 4, 2]), np.array([4, 4, 1])  # last row 2x4, last column 4x1
    got = average(sums, rows, cols, np.uint8, 16)
    assert got.tolist() == [[3, 3, 3], [3, 3, 3], [3, 3, 3]]  # 40/16, 10/4, 20/8, 5/2 rounded


def test_wide_means_keep_the_engines_float_rounding() -> None:
    """int32 means are float32 in the engine: a large one keeps float32's rounding, not the
    exact integer mean (levels equal the direct pool)."""
    base = np.array([[1505919583]], np.int64)
    got = average(base, np.array([1]), np.array([1]), np.int32, 4)
    assert int(got[0, 0]) == int(np.float32(1505919583))
