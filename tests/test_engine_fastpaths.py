"""The engine's special paths: 2×2 uint8 kernels, tiles for every worker, remembered geometry."""

from __future__ import annotations

import numpy as np
import pytest

import poolcli
from poolcli.core import adaptive, engine
from poolcli.core.engine import pool


def two_by_two(x: np.ndarray, op: str) -> np.ndarray:
    """2×2 windows with stride 2 by reshaping: the reference for the uint8 kernels."""
    oh, ow = x.shape[-2] // 2, x.shape[-1] // 2
    windows = x[..., : 2 * oh, : 2 * ow].reshape(*x.shape[:-2], oh, 2, ow, 2)
    if op in ("max", "min"):
        return getattr(windows, op)(axis=(-3, -1))
    sums = windows.sum(axis=(-3, -1), dtype=np.int64)
    return (sums / 4 if op == "avg" else sums).astype(np.float32)


def layouts(x: np.ndarray) -> dict[str, np.ndarray]:
    """``x`` as planar, channel-last, reversed-channel and odd-offset views of the same values."""
    padded = np.zeros((*x.shape[:-1], x.shape[-1] + 1), x.dtype)
    padded[..., 1:] = x
    return {
        "planar": x,
        "channel-last": np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
        "reversed channels": np.ascontiguousarray(x[:, ::-1])[:, ::-1],
        "odd offset": padded[..., 1:],  # rows start at odd addresses: no uint16 words
    }


@pytest.mark.parametrize("op", ["max", "min", "avg", "sum"])
@pytest.mark.parametrize("seed", range(12))
def test_uint8_two_by_two_equals_reference(op, seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), *rng.integers(2, 41, 2))
    x = rng.integers(0, 256, shape, dtype=np.uint8)
    expected = two_by_two(x, op)
    for name, view in layouts(x).items():
        got = pool(view, op, size=2)
        assert got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("op", ["max", "avg", "sum"])
def test_uint8_two_by_two_into_a_channel_last_out(op):
    x = np.random.default_rng(1).integers(0, 256, (2, 3, 12, 18), dtype=np.uint8)
    dtype = engine.result_dtype(op, x.dtype)
    out = np.zeros((2, 6, 9, 3), dtype).transpose(0, 3, 1, 2)
    assert pool(x, op, size=2, out=out) is out
    np.testing.assert_array_equal(out, two_by_two(x, op))


def test_uint8_average_of_extremes_is_exact():
    x = np.array([[255, 255, 0, 255], [255, 255, 255, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(pool(x, "avg", size=2), [[255.0, 127.5]])
    np.testing.assert_array_equal(pool(x, "sum", size=2), [[1020.0, 510.0]])


@pytest.mark.parametrize("width", [10, 11])
@pytest.mark.parametrize("offset", [0, 1])
def test_word_kernel_on_odd_row_lengths_and_offsets(width, offset):
    """Rows that are not whole aligned uint16 words (copied first) give the same sums."""
    x = np.random.default_rng(2).integers(0, 256, (2, 8, width + offset), dtype=np.uint8)
    tile = x[:, :, offset : offset + 10]
    sums = np.zeros((2, 4, 5), np.float32)
    engine._sum_byte_pairs(tile, sums, 0.25)
    np.testing.assert_array_equal(sums, two_by_two(tile, "avg"))


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        ({}, "sum"),
        ({"padding": 1}, None),
        ({"stride": 1}, None),
        ({"dilation": 2}, None),
        ({"ceil_mode": True}, "sum"),  # even sides: ceil mode adds no window
    ],
)
def test_only_plain_two_by_two_windows_take_the_byte_kernels(options, kind):
    geometry = engine._resolve(
        (8, 8),
        2,
        options.get("stride"),
        options.get("padding", 0),
        options.get("dilation", 1),
        options.get("ceil_mode", False),
        "ignore",
    )
    reduction = engine._REDUCTIONS["avg"]
    assert engine._byte_pairs_kind(np.dtype(np.uint8), reduction, geometry) == kind
    assert engine._byte_pairs_kind(np.dtype(np.int8), reduction, geometry) is None


@pytest.mark.parametrize("op", ["max", "avg"])
def test_ceil_mode_on_odd_sides_matches_the_general_path(op):
    x = np.random.default_rng(3).integers(0, 256, (1, 2, 9, 11), dtype=np.uint8)
    got = pool(x, op, size=2, ceil_mode=True)
    expected = pool(x.astype(np.float64), op, size=2, ceil_mode=True).astype(got.dtype)
    np.testing.assert_array_equal(got, expected)


def test_one_plane_is_cut_into_a_tile_per_worker(monkeypatch):
    """A large single plane (one tile by size) still keeps every worker busy."""
    seen = []
    real = engine._Plan.reduce_tile

    def spy(self, source, target, first, stop):
        seen.append((first, stop))
        real(self, source, target, first, stop)

    monkeypatch.setattr(engine._Plan, "reduce_tile", spy)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    monkeypatch.setattr(engine, "CPUS", 2)
    x = np.random.default_rng(4).random((1, 1, 40, 30), np.float32)
    got = pool(x, "max", size=3, stride=1)
    assert sorted(seen) == [(0, 19), (19, 38)]
    np.testing.assert_array_equal(got, pool(x.astype(np.float64), "max", size=3, stride=1))


def test_small_inputs_stay_in_the_calling_thread(monkeypatch):
    def refuse():
        raise AssertionError("a small input reached the worker threads")

    monkeypatch.setattr(engine, "shared_executor", refuse)
    monkeypatch.setattr(engine, "CPUS", 2)
    pool(np.ones((1, 3, 300, 300), np.float32), "avg", size=3, stride=1)


def test_remembered_geometry_keeps_argument_types_apart():
    """size=2 resolved once does not make size=True or size=2.5 valid."""
    x = np.ones((4, 4))
    assert pool(x, "max", size=2).shape == (2, 2)
    assert pool(x, "max", size=2.0).shape == (2, 2)
    for bad in (True, 2.5):
        with pytest.raises(ValueError, match="size must be whole numbers"):
            pool(x, "max", size=bad)
    assert pool(x, "max", size=[2, 1]).shape == (2, 4)  # a list: resolved, not remembered


def test_plans_are_shared_between_calls():
    x = np.ones((6, 6), np.float32)
    pool(x, "avg", size=3)
    hits = engine._plan.cache_info().hits
    pool(x + 1, "avg", size=3)
    assert engine._plan.cache_info().hits == hits + 1


@pytest.mark.parametrize("planes", [(1, 1), (1, 3), (2, 3), (17, 1)])
def test_global_average_of_large_planes_in_both_threads(monkeypatch, planes):
    """Split by planes (an even count, or many) or by halves of every plane (a few)."""
    monkeypatch.setattr(engine, "CPUS", 2)
    monkeypatch.setattr(adaptive, "_PARALLEL_SUM_CELLS", 1)
    monkeypatch.setattr(adaptive, "shared_executor", counting_executor(submitted := []))
    rng = np.random.default_rng(5)
    x = (rng.random((*planes, 300, 301), dtype=np.float32) * 255).astype(np.float32)
    x[..., 0, 0] = 1e4  # one bright cell: a sum that does not start from zero
    expected = x.astype(np.float64).mean(axis=(-2, -1), keepdims=True)
    got = poolcli.global_pool(x)
    assert got.shape == (*planes, 1, 1) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert len(submitted) == 1


def counting_executor(submitted: list) -> object:
    """A stand-in for engine.shared_executor that records what it is given."""
    real = engine.shared_executor()

    class Counting:
        def submit(self, function, *args):
            submitted.append(function)
            return real.submit(function, *args)

    return lambda: Counting()
