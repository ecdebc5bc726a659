"""Helpers shared by the pyramid tests: levels by definition, random bases, counting arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import strategies as st

import poolcli
from poolcli.io.images import to_dtype

OPS = ("avg", "max", "min", "mode", "median", "nearest")
DTYPES = (np.uint8, np.uint16, np.int8, np.int32, np.float32, np.float64)


#: Arguments poolcli.pyramid refuses (numpy and Dask alike), and what the error says.
BAD_ARGUMENTS = [
    ({"op": "lp"}, "op must be one of"),
    ({"levels": 0}, "levels must be"),
    ({"levels": "many"}, "levels must be"),
    ({"factor": 1}, "factor must be"),
    ({"factor": (2, 2, 2, 2)}, "factor must be"),
    ({"factor": (2, 1, 2)}, "factor must be"),
    ({"factor": 2.5}, "factor must be"),
    ({"chunk": 0}, "chunk must be"),
]


def direct(base: np.ndarray, op: str, level: int, factor: tuple[int, ...]) -> np.ndarray:
    """Level ``level`` by definition: the base pooled with windows of factor**level over the
    last two axes, or three for a volume's factor (ceil, the padded cells ignored), written in
    the base's dtype as poolcli writes any result."""
    if level == 0:
        return base
    window = tuple(f**level for f in factor)
    if op == "nearest":
        return base[(..., *(slice(None, None, w) for w in window))]
    pooled = poolcli.pool(base, op, size=window, ceil_mode=True)
    return to_dtype(pooled, base.dtype)


def check_levels(
    levels: list[np.ndarray], base: np.ndarray, op: str, factor: tuple[int, ...]
) -> None:
    assert len(levels) >= 1
    for level, got in enumerate(levels):
        want = direct(base, op, level, factor)
        assert got.dtype == base.dtype, (level, got.dtype)
        assert got.shape == want.shape, (level, got.shape, want.shape)
        if op == "avg" and base.dtype.kind == "f":
            # float sums are carried in float32 (float64 for float64): equal to float rounding
            rtol = 1e-5 if base.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(base).max())
        else:
            np.testing.assert_array_equal(got, want)


def random_base(draw: st.DrawFn, dtype: type) -> np.ndarray:
    height = draw(st.integers(1, 40))
    width = draw(st.integers(1, 40))
    lead = draw(st.sampled_from([(), (2,), (1, 3), (2, 1)]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if draw(st.booleans()):  # few distinct values: labels, ties, plateaus
        values = rng.integers(0, 4, (*lead, height, width))
    elif info is not None:
        high = min(int(info.max), 2**31 - 1)
        values = rng.integers(int(info.min), high, (*lead, height, width), endpoint=True)
    else:
        values = rng.normal(0, 1000, (*lead, height, width))
    return values.astype(dtype)


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, str, tuple[int, int], int]:
    dtype = draw(st.sampled_from(DTYPES))
    base = random_base(draw, dtype)
    op = draw(st.sampled_from(OPS))
    factor = draw(st.sampled_from([(2, 2), (3, 3), (2, 3), (4, 2)]))
    levels = draw(st.integers(1, 5))
    return base, op, factor, levels


@st.composite
def chunkings(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int | tuple[int, ...], ...]:
    """Random chunks along every axis, sizes that need not divide anything."""
    chunks = []
    for length in shape:
        sizes = []
        left = length
        while left:
            size = draw(st.integers(1, max(1, min(left, 13))))
            sizes.append(size)
            left -= size
        chunks.append(tuple(sizes))
    return tuple(chunks)


class CountingArray:
    """A sliceable array that counts how often its cells are read."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values
        self.shape = values.shape
        self.dtype = values.dtype
        self.ndim = values.ndim
        self.cells_read = 0

    def __getitem__(self, key: object) -> np.ndarray:
        part = self.values[key]  # type: ignore[index]
        self.cells_read += part.size
        return part


def rgb_image(height: int = 70, width: int = 90, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (3, height, width)).astype(np.uint8)


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())
