"""Pyramid levels built band by band: the base's rows go in, in order, and each level's rows come
out as soon as they are complete, so memory holds a few rows of each level, never a level.

This is :func:`poolcli.core.pyramid.pyramid` for the ops whose levels follow from the level
above (avg, max, min, nearest), computed as an image streams by: a huge TIFF read a row of tiles
at a time, every level written as it fills. The levels are exactly those of ``pyramid``: avg
carries exact sums from level to level and divides each level's once, with the same counts at
the edges; max, min and nearest cascade.

>>> import numpy as np
>>> base = np.arange(35, dtype=np.uint8).reshape(5, 7)
>>> stream = PyramidStream(base.shape, base.dtype, "avg", levels=3)
>>> rows = stream.push(base[:3]) + stream.push(base[3:])
>>> [(level, part.shape) for level, part in rows]
[(1, (1, 4)), (1, (2, 4)), (2, (2, 2))]
>>> np.concatenate([part for level, part in rows if level == 2]).tolist()
[[12, 16], [30, 33]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from poolcli.core import pyramid as levels_of

__all__ = ["STREAMED_OPS", "PyramidStream", "RowBlocks"]

#: The ops whose levels a stream builds: those that cascade.
STREAMED_OPS = levels_of.CASCADING


class PyramidStream:
    """Levels 1 and below of a pyramid of a base of ``shape`` (…, H, W), fed the base's rows.

    Parameters are those of :func:`poolcli.core.pyramid.pyramid`, with the base's ``shape`` and
    ``dtype`` instead of the base; ``op`` one of :data:`STREAMED_OPS`. :meth:`push` takes the
    next rows of the base (…, rows, W) and returns the rows of levels 1… that it completes, as
    ``(level, rows)`` pairs in the base's dtype, each level's rows in order and each pair's rows
    following that level's previous ones. Once all H rows are in, every level is complete.
    """

    def __init__(
        self,
        shape: Sequence[int],
        dtype: npt.DTypeLike,
        op: str = "avg",
        levels: int | str | None = None,
        factor: levels_of.FactorLike = 2,
        chunk: int = levels_of.DEFAULT_CHUNK,
    ) -> None:
        if op not in STREAMED_OPS:
            raise ValueError(f"a stream builds levels by {', '.join(STREAMED_OPS)}, not {op!r}")
        self.shape = tuple(int(n) for n in shape)
        if len(self.shape) < 2 or 0 in self.shape:
            raise ValueError(f"a pyramid's base has rows and columns, got shape {self.shape}")
        self.dtype = np.dtype(dtype)
        self.op = op
        self.factor = levels_of.check_factor(factor)
        self.count = levels_of.level_count(self.shape, self.factor, levels, chunk)
        self.shapes = [
            (*self.shape[:-2], *levels_of.level_shape(self.shape, self.factor, level))
            for level in range(self.count)
        ]
        height, width = self.shape[-2:]
        windows = [
            (self.factor[0] ** level, self.factor[1] ** level) for level in range(self.count)
        ]
        cells = [min(math.prod(window), height * width) for window in windows]
        # What each level carries to the next: its sums (avg) or its values.
        self._carried = [
            levels_of.sum_dtype(self.dtype, n) if op == "avg" and level else self.dtype
            for level, n in enumerate(cells)
        ]
        self._column_counts = [levels_of.counts(width, window[1]) for window in windows]
        self._windows = windows
        self._waiting: list[list[np.ndarray]] = [[] for _ in range(self.count)]
        self._done = [0] * self.count  # rows of each level given out (level 0: taken in)

    def push(self, rows: npt.ArrayLike) -> list[tuple[int, np.ndarray]]:
        """Take the base's next rows; return the rows of levels 1… completed by them."""
        band = np.asarray(rows)
        expected = (*self.shape[:-2], self.shape[-1])
        if band.shape[:-2] + band.shape[-1:] != expected or band.dtype != self.dtype:
            raise ValueError(
                f"rows of the base are (…, rows, W) = {expected[:-1]} + (rows, {expected[-1]}) "
                f"of {self.dtype}, got shape {band.shape} of {band.dtype}"
            )
        if self._done[0] + band.shape[-2] > self.shape[-2]:
            raise ValueError(f"the base has {self.shape[-2]} rows; more were pushed")
        self._done[0] += band.shape[-2]
        out: list[tuple[int, np.ndarray]] = []
        carried = band
        for level in range(1, self.count):
            if carried.shape[-2]:
                self._waiting[level].append(carried)
            reduced = self._reduce(level)
            if reduced is None:
                break
            carried = reduced
            first = self._done[level]
            self._done[level] += reduced.shape[-2]
            out.append((level, self._finished(level, reduced, first)))
        return out

    @property
    def complete(self) -> bool:
        """Whether all the base's rows are in (and so every level's rows out)."""
        return self._done[0] == self.shape[-2]

    @property
    def waiting(self) -> list[int]:
        """How many rows wait at each level for the rest of their windows (level 0: none)."""
        return [sum(part.shape[-2] for part in parts) for parts in self._waiting]

    def _reduce(self, level: int) -> np.ndarray | None:
        """The rows of ``level`` (carried form) whose windows the rows waiting above complete."""
        waiting = self._waiting[level]
        held = sum(part.shape[-2] for part in waiting)
        above_done = self._done[level - 1] == self.shapes[level - 1][-2]
        take = held if above_done else held - held % self.factor[0]
        if take == 0:
            return None
        block = waiting[0] if len(waiting) == 1 else np.concatenate(waiting, axis=-2)
        rest = block[..., take:, :]
        self._waiting[level] = [np.ascontiguousarray(rest)] if rest.shape[-2] else []
        op = "sum" if self.op == "avg" else self.op
        rows = block[..., :take, :]
        interleaved = np.moveaxis(rows, -3, -1) if rows.ndim >= 3 else rows
        if op != "nearest" and not rows.flags.c_contiguous and interleaved.flags.c_contiguous:
            # Samples stored together, a view of (..., rows, W, C): numpy reduces across them
            # several times slower than along rows. The row pass runs on the rows as they are
            # (contiguous runs of W * C), and only its result, half as many rows, is copied
            # into planes for the column pass.
            flat = interleaved.reshape(*interleaved.shape[:-2], -1)
            down = levels_of.block_reduce(flat, op, (self.factor[0], 1), self._carried[level])
            planes = np.moveaxis(down.reshape(*down.shape[:-1], *interleaved.shape[-2:]), -1, -3)
            reduced = levels_of.block_reduce(
                np.ascontiguousarray(planes), op, (1, self.factor[1]), self._carried[level]
            )
        else:
            reduced = levels_of.block_reduce(rows, op, self.factor, self._carried[level])
        return np.ascontiguousarray(reduced)

    def _finished(self, level: int, carried: np.ndarray, first: int) -> np.ndarray:
        """A level's rows as given out: averages from sums, else the values themselves."""
        if self.op != "avg":
            return carried
        window = self._windows[level]
        rows = levels_of.counts(self.shape[-2], window[0], first, first + carried.shape[-2])
        cells = min(math.prod(window), self.shape[-2] * self.shape[-1])
        return levels_of.average(carried, rows, self._column_counts[level], self.dtype, cells)


class RowBlocks:
    """Rows regrouped into blocks of ``rows`` (the last block of an image may hold fewer): what a
    writer of tiles or chunks of that height takes.

    >>> blocks = RowBlocks(4, total=10)
    >>> [b.shape[0] for b in blocks.add(np.zeros((3, 2))) + blocks.add(np.zeros((7, 2)))]
    [4, 4, 2]
    """

    def __init__(self, rows: int, total: int) -> None:
        self.rows = int(rows)
        self.total = int(total)
        self._waiting: list[np.ndarray] = []
        self._held = 0
        self._given = 0

    def add(self, part: np.ndarray) -> list[np.ndarray]:
        """Add the next rows (axis -2); return the blocks now complete."""
        if part.shape[-2]:
            self._waiting.append(part)
            self._held += part.shape[-2]
        blocks = []
        while self._held >= self.rows or (self._held and self._given + self._held == self.total):
            block = (
                self._waiting[0]
                if len(self._waiting) == 1
                else np.concatenate(self._waiting, axis=-2)
            )
            size = min(self.rows, self._held)
            blocks.append(block[..., :size, :])
            rest = block[..., size:, :]
            self._waiting = [rest] if rest.shape[-2] else []
            self._held -= size
            self._given += size
        return blocks
