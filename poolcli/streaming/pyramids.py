"""Pyramids written in one pass as the base streams by: OME-Zarr and tiled pyramidal TIFF.

The base is read a band of rows at a time (a :class:`Rows` source: a TIFF's tiles decoded
directly, or an array in memory or memory-mapped); each band goes to a
:class:`poolcli.core.bands.PyramidStream`, and every level's rows are written as soon as they
fill a row of chunks or tiles. Memory holds a few bands, whatever the image's size; the input is
read once. The levels are those of :func:`poolcli.pyramid` for avg, max, min and nearest, and the
files those of :mod:`poolcli.chunked.multiscale`'s writers (the same layout and metadata).

- :func:`write_ome_zarr`: each level's chunks encoded and written in threads as they fill
  (:mod:`poolcli.streaming.zarrchunks`).
- :func:`write_tiff`: level 0's tiles go to the file as they fill; the other levels wait in a
  raw scratch file beside it (a third of the base's size at factor 2) until level 0 is done, as
  the SubIFD layout wants them after it.

Both write under a temporary name (:func:`poolcli.io.atomic.output_folder`) and rename it into
place when complete.

>>> import os, tempfile
>>> import numpy as np, zarr
>>> folder = tempfile.mkdtemp()
>>> base = np.arange(64, dtype=np.uint8).reshape(1, 8, 8)
>>> write_ome_zarr(os.path.join(folder, "a.ome.zarr"), ArrayRows(base), op="max", levels=3)
[(1, 8, 8), (1, 4, 4), (1, 2, 2)]
>>> zarr.open_group(os.path.join(folder, "a.ome.zarr"), mode="r")["2"][0].tolist()
[[27, 31], [59, 63]]
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from poolcli.core.bands import PyramidStream, RowBlocks
from poolcli.core.pyramid import DEFAULT_CHUNK, FactorLike
from poolcli.errors import OutputError
from poolcli.io import atomic

__all__ = ["ArrayRows", "Rows", "write_ome_zarr", "write_tiff"]


class Rows(Protocol):
    """A base read in bands of rows: (C, H, W) of ``dtype``."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def bands(self, rows: int = 512, threads: int = 2) -> Iterator[np.ndarray]:
        """Every row in order, in bands of about ``rows``, each (C, rows, W)."""
        ...


class ArrayRows:
    """An array (C, H, W) in memory, or memory-mapped, as :class:`Rows`.

    >>> [band.shape for band in ArrayRows(np.zeros((2, 5, 3))).bands(2)]
    [(2, 2, 3), (2, 2, 3), (2, 1, 3)]
    """

    def __init__(self, array: np.ndarray) -> None:
        if array.ndim != 3:
            raise ValueError(f"rows are read from (C, H, W) arrays, got shape {array.shape}")
        self.array = array
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)

    def bands(self, rows: int = 512, threads: int = 2) -> Iterator[np.ndarray]:
        """Every row in order, ``rows`` at a time (read from a memory map as they are asked for)."""
        for top in range(0, self.shape[1], rows):
            yield np.asarray(self.array[:, top : top + rows, :])


def _workers(threads: int | None) -> int:
    return max(1, threads or os.cpu_count() or 1)


def write_ome_zarr(
    path: str,
    rows: Rows,
    *,
    op: str = "avg",
    levels: int | str | None = None,
    factor: FactorLike = 2,
    chunk: int = DEFAULT_CHUNK,
    zarr_format: int = 3,
    pixel_size: tuple[float, float] | None = None,
    unit: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    threads: int | None = None,
) -> list[tuple[int, ...]]:
    """Write the pyramid of ``rows`` (levels as :func:`poolcli.pyramid` makes them, op one of
    avg, max, min, nearest) as OME-Zarr at ``path``: 0.5 on Zarr format 3, 0.4 on 2, arrays
    (c, y, x) in ``chunk``-sided chunks, metadata as
    :func:`poolcli.chunked.multiscale.write_ome_zarr` writes it. Returns the levels' shapes."""
    import zarr

    from poolcli.chunked.multiscale import axes_of, multiscales_metadata
    from poolcli.streaming.zarrchunks import ChunkWriter, create_array

    if zarr_format not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    stream = PyramidStream(rows.shape, rows.dtype, op, levels, factor, chunk)
    axes = axes_of(rows.shape)
    name = os.path.basename(os.path.normpath(path)).removesuffix(".zarr").removesuffix(".ome")
    entry = multiscales_metadata(
        name, axes, stream.count, op, stream.factor, pixel_size, unit, arguments
    )
    workers = _workers(threads)
    with atomic.output_folder(path, overwrite) as temporary:
        with atomic.held_signals():
            root = zarr.open_group(temporary, mode="w", zarr_format=zarr_format)  # type: ignore[arg-type]
            if zarr_format == 3:
                root.attrs["ome"] = {"version": "0.5", "multiscales": [entry]}
            else:
                root.attrs["multiscales"] = [{"version": "0.4", **entry}]
        with ThreadPoolExecutor(workers, thread_name_prefix="poolcli-encode") as encoders:
            writers = []
            for level, shape in enumerate(stream.shapes):
                chunks = (*(1 for _ in shape[:-2]), *(min(chunk, n) for n in shape[-2:]))
                array = create_array(
                    temporary, str(level), shape, rows.dtype, chunks,
                    zarr_format=zarr_format, dimension_names=axes,
                )  # fmt: skip
                writers.append(_LevelWriter(ChunkWriter(array, temporary), chunk, encoders))
            for band in rows.bands(chunk, workers):
                writers[0].add(band)
                for level, part in stream.push(band):
                    writers[level].add(part)
            for writer in writers:
                writer.finish()
        atomic.move_into_place(temporary, path)
    return stream.shapes


class _LevelWriter:
    """One level's rows, regrouped into whole rows of chunks and written in the encoders'
    threads; a row of chunks is encoded while the next is computed."""

    def __init__(self, chunks: Any, side: int, encoders: ThreadPoolExecutor) -> None:
        self._chunks = chunks
        self._blocks = RowBlocks(min(side, chunks.shape[-2]), chunks.shape[-2])
        self._top = 0
        self._encoders = encoders
        self._pending: list[Future[None]] = []

    def add(self, part: np.ndarray) -> None:
        for block in self._blocks.add(part):
            for done in self._pending:
                done.result()
            self._pending = [self._encoders.submit(self._chunks.write_rows, block, self._top)]
            self._top += block.shape[-2]

    def finish(self) -> None:
        for done in self._pending:
            done.result()
        if self._top != self._chunks.shape[-2]:
            raise RuntimeError(f"a level got {self._top} of its {self._chunks.shape[-2]} rows")


def write_tiff(
    path: str,
    rows: Rows,
    *,
    op: str = "avg",
    levels: int | str | None = None,
    factor: FactorLike = 2,
    tile: int = DEFAULT_CHUNK,
    compression: str | None = None,
    dpi: tuple[float, float] | None = None,
    overwrite: bool = False,
    threads: int | None = None,
) -> list[tuple[int, ...]]:
    """Write the pyramid of ``rows`` (1, 3 or 4 channels) as a tiled pyramidal TIFF at
    ``path``: level 0 the first page, the others its SubIFDs, as
    :func:`poolcli.chunked.multiscale.write_tiff` writes them. Returns the levels' shapes."""
    import tifffile

    channels = rows.shape[0]
    if channels not in (1, 3, 4):
        raise OutputError(path, f"streamed TIFF pyramids hold 1, 3 or 4 channels, not {channels}")
    stream = PyramidStream(rows.shape, rows.dtype, op, levels, factor, tile)
    side = -(-int(tile) // 16) * 16
    total = sum(math.prod(shape) for shape in stream.shapes) * rows.dtype.itemsize
    workers = _workers(threads)
    with atomic.output_folder(path, overwrite) as temporary:
        output = os.path.join(temporary, "image.tif")
        spills = [
            _Spill(os.path.join(temporary, f"level{n}.raw"), rows.dtype)
            for n in range(stream.count)
        ]
        try:
            base = RowBlocks(side, rows.shape[1])

            def base_tiles() -> Iterator[np.ndarray]:
                for band in rows.bands(side, workers):
                    for level, part in stream.push(band):
                        spills[level].add(part)
                    for block in base.add(band):
                        yield from _tiles(block, side)

            with tifffile.TiffWriter(output, bigtiff=total > 2**31) as tiff:
                for level, shape in enumerate(stream.shapes):
                    tiles = base_tiles() if level == 0 else spills[level].tiles(shape, side)
                    tiff.write(
                        tiles,
                        shape=(shape[1], shape[2], channels) if channels > 1 else shape[1:],
                        dtype=rows.dtype,
                        tile=(side, side),
                        photometric="rgb" if channels > 1 else "minisblack",
                        planarconfig="contig" if channels > 1 else None,
                        compression=compression,
                        subifds=stream.count - 1 if level == 0 else None,
                        subfiletype=1 if level else 0,
                        metadata=None,
                        maxworkers=workers,
                        **_resolution(dpi, stream.factor, level),
                    )
        finally:
            for spill in spills:
                spill.close()
        atomic.move_into_place(output, path)
    return stream.shapes


class _Spill:
    """A level's rows kept in a raw file, (rows, W, C) in order, until they are written."""

    def __init__(self, path: str, dtype: np.dtype) -> None:
        self._path = path
        self._dtype = dtype
        self._file: Any = None

    def add(self, part: np.ndarray) -> None:
        if self._file is None:
            self._file = open(self._path, "w+b")  # noqa: SIM115 - closed by close()
        np.ascontiguousarray(np.moveaxis(part, 0, -1)).tofile(self._file)

    def tiles(self, shape: tuple[int, ...], side: int) -> Iterator[np.ndarray]:
        """The level's tiles in order, read back a row of tiles at a time."""
        channels, height, width = shape
        assert self._file is not None
        self._file.seek(0)
        for top in range(0, height, side):
            count = min(side, height - top)
            block = np.fromfile(self._file, dtype=self._dtype, count=count * width * channels)
            yield from _tiles(np.moveaxis(block.reshape(count, width, channels), -1, 0), side)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _tiles(block: np.ndarray, side: int) -> Iterator[np.ndarray]:
    """The tiles of a row of tiles (C, rows, W), left to right, as (rows, cols[, C])."""
    interleaved = np.moveaxis(block, 0, -1)
    if interleaved.shape[-1] == 1:
        interleaved = interleaved[..., 0]
    for left in range(0, interleaved.shape[1], side):
        yield interleaved[:, left : left + side]


def _resolution(
    dpi: tuple[float, float] | None, factor: Sequence[int], level: int
) -> dict[str, Any]:
    if dpi is None:
        return {}
    x_dpi, y_dpi = dpi[0] / factor[1] ** level, dpi[1] / factor[0] ** level
    return {"resolution": (x_dpi, y_dpi), "resolutionunit": "INCH"}
