"""poolcli.pyramid of arrays in memory: every level equals direct pooling of the base.

The Dask path, the writers and the command line: tests/test_pyramid_chunked.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from pyramid_helpers import BAD_ARGUMENTS, DTYPES, OPS, cases, check_levels, direct

import poolcli
from poolcli.core import pyramid as core
from poolcli.io.images import to_dtype


@settings(max_examples=150, deadline=None)
@given(cases())
def test_numpy_levels_equal_direct_pooling(case: tuple[np.ndarray, str, tuple[int, int], int]):
    base, op, factor, levels = case
    got = poolcli.pyramid(base, op, levels=levels, factor=factor)
    assert len(got) == levels
    assert all(isinstance(level, np.ndarray) for level in got)
    check_levels(got, base, op, factor)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (31, 17), (64, 64), (3, 33, 65)])
def test_odd_sizes_every_op(op: str, shape: tuple[int, ...]):
    rng = np.random.default_rng(sum(shape))
    base = rng.integers(0, 256, shape).astype(np.uint8)
    check_levels(poolcli.pyramid(base, op, levels=7), base, op, (2, 2))


@pytest.mark.parametrize("op", ["mode", "max", "min", "nearest"])
def test_labels_stay_labels(op: str):
    rng = np.random.default_rng(5)
    labels = rng.choice(np.array([0, 3, 17, 200, 60000], np.uint16), size=(45, 51))
    for level in poolcli.pyramid(labels, op, levels=6):
        assert set(np.unique(level)) <= {0, 3, 17, 200, 60000}


def test_avg_does_not_drift_on_uint8():
    """Rounding each level from the rounded one above drifts; rounding once from sums does not."""
    # 2x2 blocks of mean 0.5 in the left half of every 4x4 block: a recursive pyramid rounds
    # them to 1, then averages 1, 0, 1, 0 to 0.5 and rounds to 1 again; the true mean is 0.25.
    block = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]], np.uint8)
    base = np.tile(block, (16, 16))
    recursive = to_dtype(poolcli.pool(base, "avg", size=2), base.dtype)
    recursive = to_dtype(poolcli.pool(recursive, "avg", size=2), base.dtype)
    assert recursive.mean() == 1  # the drift this test guards against
    for op_levels in (poolcli.pyramid(base, "avg", levels=7),):
        assert op_levels[2].mean() == 0 and op_levels[-1].shape == (1, 1)
        check_levels(list(op_levels), base, "avg", (2, 2))
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (256, 256)).astype(np.uint8)
    last = poolcli.pyramid(noise, "avg", levels=9)[-1]
    assert last.shape == (1, 1)
    assert int(last[0, 0]) == int(np.floor(noise.mean(dtype=np.float64) + 0.5))


def test_auto_levels_stop_at_one_chunk():
    base = np.zeros((1000, 300), np.uint8)
    shapes = [level.shape for level in poolcli.pyramid(base, "max", chunk=256)]
    assert shapes == [(1000, 300), (500, 150), (250, 75)]
    assert [lv.shape for lv in poolcli.pyramid(base, "max", "auto", chunk=1000)] == [(1000, 300)]
    assert len(poolcli.pyramid(base, "max", chunk=1)) == 11  # 1000 -> 1 in ten halvings


def test_factor_pair_and_dtype_kept():
    base = np.arange(6 * 12, dtype=np.int16).reshape(6, 12) - 30
    levels = poolcli.pyramid(base, "avg", levels=3, factor=(2, 3))
    assert [level.shape for level in levels] == [(6, 12), (3, 4), (2, 2)]
    check_levels(levels, base, "avg", (2, 3))


@pytest.mark.parametrize(("arguments", "message"), BAD_ARGUMENTS)
def test_bad_arguments(arguments: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        poolcli.pyramid(np.zeros((4, 4)), **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", DTYPES)
def test_cast_rounds_as_poolcli_writes(dtype: type):
    values = np.array([-300.5, -2.5, -0.5, 0.49999997, 0.5, 1.5, 2.5, 254.5, 70000.0, np.nan])
    for source in (values, values.astype(np.float32)):
        np.testing.assert_array_equal(
            core.cast_to(source, dtype), to_dtype(source, np.dtype(dtype))
        )


def test_direct_is_the_definition():
    base = np.arange(35, dtype=np.uint8).reshape(5, 7)
    assert direct(base, "avg", 1, (2, 2))[-1, -1] == 34  # the corner window holds one pixel


@pytest.mark.parametrize(("dtype", "value"), [(np.uint8, 255), (np.int8, -128), (np.uint16, 65535)])
def test_sums_never_overflow_their_narrow_types(dtype: type, value: int):
    """Sums are carried in the narrowest type that holds them: the extremes stay exact."""
    base = np.full((1000, 1000), value, dtype)
    for level in poolcli.pyramid(base, "avg", levels=11):
        assert level.dtype == dtype and (level == value).all()
    assert [core.sum_dtype(dtype, 4**k) for k in (1, 4, 5)] == {
        np.uint8: [np.uint16, np.uint16, np.uint32],
        np.int8: [np.int16, np.int16, np.int32],
        np.uint16: [np.uint32, np.uint32, np.uint32],
    }[dtype]
