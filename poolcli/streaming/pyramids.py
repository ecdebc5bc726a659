"""Pyramids written in one pass as the base streams by: OME-Zarr, tiled pyramidal TIFF, Deep Zoom.

The base is read a band of rows at a time (a :class:`Rows` source: a TIFF's tiles decoded
directly, or an array in memory or memory-mapped); each band goes to a
:class:`poolcli.core.bands.PyramidStream`, and every level's rows are written as soon as they
fill a row of chunks or tiles. Memory holds a few bands, whatever the image's size; the input is
read once. The levels are those of :func:`poolcli.pyramid` for avg, max, min and nearest, and the
files those of :mod:`poolcli.chunked.multiscale`'s writers (the same layout and metadata).

- :func:`write_ome_zarr`: each level's chunks encoded and written in threads as they fill
  (:mod:`poolcli.streaming.zarrchunks`).
- :func:`write_dzi`: Deep Zoom, each level's tiles (254 pixels and their overlap) encoded by
  Pillow in threads as a row of them fills.
- :func:`write_tiff`: level 0's tiles go to the file as they fill; the other levels (a third of
  the base's size at factor 2) wait until level 0 is done, as the SubIFD layout wants them
  after it: in memory up to :data:`HELD_LEVELS`, else in a raw scratch file beside it.

Each writes under a temporary name (:func:`poolcli.io.atomic.output_folder`) and renames it into
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from poolcli.core.bands import PyramidStream, RowBlocks
from poolcli.core.pyramid import DEFAULT_CHUNK, FactorLike
from poolcli.errors import InputError, OutputError
from poolcli.io import atomic
from poolcli.io.omezarr import axes_of, multiscales_metadata, ome_attributes

__all__ = [
    "ArrayRows",
    "Opened",
    "Rows",
    "open_base",
    "write_dzi",
    "write_ome_zarr",
    "write_tiff",
]


class Rows(Protocol):
    """A base read in bands of rows: (C, H, W) of ``dtype``."""

    @property
    def shape(self) -> tuple[int, ...]:
        """(C, H, W)."""
        ...

    @property
    def dtype(self) -> np.dtype:
        """The pixels' type."""
        ...

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


@dataclass(frozen=True)
class Opened:
    """A base opened for streaming: its rows, its resolution (dpi) where known, and what closes
    the file it reads."""

    rows: Rows
    dpi: tuple[float, float] | None
    close: Callable[[], None]


def open_base(path: str, *, max_pixels: int | None = None) -> Opened | None:
    """The image at ``path`` opened for a streamed pyramid, or None when it is not one image of
    (C, H, W) read this way (frames, a z-stack, a Zarr store: the caller reads those in chunks).

    A one-page TIFF is decoded a band at a time (:mod:`poolcli.streaming.tiffrows`), a .npy
    memory-mapped; other images are decoded whole by :func:`poolcli.io.images.load_image`,
    under its pixel limit ``max_pixels``.
    """
    from poolcli.io import formats

    found = formats.for_path(path)
    name = None if found is None else found.name
    if name == "zarr" or formats.is_store(path):
        return None
    if name == "tiff":
        from poolcli.streaming.tiffrows import open_rows

        tiff = open_rows(path)
        return None if tiff is None else Opened(tiff, tiff.dpi, tiff.close)
    if name == "npy":
        try:
            array = np.load(path, mmap_mode="r")
        except OSError as exc:
            from poolcli.io.streams import os_reason

            raise InputError(path, os_reason(exc)) from None
        except ValueError as exc:
            raise InputError(path, f"corrupt or truncated .npy file: {exc}") from None
        plane = _one_image(array)
        return None if plane is None else Opened(ArrayRows(plane), None, lambda: None)
    from poolcli.io import images

    array, info = images.load_image(path, max_pixels=max_pixels)
    plane = _one_image(array)
    return None if plane is None else Opened(ArrayRows(plane), info.dpi, lambda: None)


def _one_image(array: np.ndarray) -> np.ndarray | None:
    """(H, W), (C, H, W) or (1, C, H, W) numbers as (C, H, W); None for anything else."""
    if array.dtype.kind not in "iuf" or array.size == 0:
        return None
    planes: np.ndarray | None = None
    if array.ndim == 2:
        planes = array[None]
    elif array.ndim == 3:
        planes = array
    elif array.ndim == 4 and array.shape[0] == 1:
        planes = array[0]
    return planes


#: A TIFF pyramid's levels below the first wait in memory up to this size, else in a file.
HELD_LEVELS = 512 * 2**20


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

    from poolcli.streaming.zarrchunks import ChunkWriter, create_array

    if zarr_format not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    stream = PyramidStream(rows.shape, rows.dtype, op, levels, factor, chunk)
    axes = axes_of(rows.shape)
    name = os.path.basename(os.path.normpath(path)).removesuffix(".zarr").removesuffix(".ome")
    recorded = {"levels": stream.count, **(arguments or {})}
    entry = multiscales_metadata(
        name, axes, stream.count, op, stream.factor, pixel_size, unit, recorded
    )
    workers = _workers(threads)
    with atomic.output_folder(path, overwrite) as temporary:
        # No stop inside zarr's calls (its I/O runs in a thread of its own); the chunks are
        # plain files, written after.
        with atomic.held_signals():
            root = zarr.open_group(temporary, mode="w", zarr_format=zarr_format)  # type: ignore[arg-type]
            root.attrs.update(ome_attributes(entry, zarr_format))
            arrays = []
            for level, shape in enumerate(stream.shapes):
                chunks = (*(1 for _ in shape[:-2]), *(min(chunk, n) for n in shape[-2:]))
                arrays.append(
                    create_array(
                        temporary,
                        str(level),
                        shape,
                        rows.dtype,
                        chunks,
                        zarr_format=zarr_format,
                        dimension_names=axes,
                    )  # fmt: skip
                )
        with ThreadPoolExecutor(workers, thread_name_prefix="poolcli-encode") as encoders:
            writers = [
                _LevelWriter(ChunkWriter(array, temporary), chunk, encoders) for array in arrays
            ]
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
    threads; up to :data:`AHEAD` rows of chunks are encoded while the next are computed."""

    #: Rows of chunks of a level in the encoders' hands at a time.
    AHEAD = 2

    def __init__(self, chunks: Any, side: int, encoders: ThreadPoolExecutor) -> None:
        self._chunks = chunks
        self._blocks = RowBlocks(min(side, chunks.shape[-2]), chunks.shape[-2])
        self._top = 0
        self._encoders = encoders
        self._pending: list[list[Future[None]]] = []

    def add(self, part: np.ndarray) -> None:
        for block in self._blocks.add(part):
            while len(self._pending) >= self.AHEAD:
                for done in self._pending.pop(0):
                    done.result()
            self._pending.append(self._chunks.submit_rows(block, self._top, self._encoders))
            self._top += block.shape[-2]

    def finish(self) -> None:
        for row in self._pending:
            for done in row:
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

    from poolcli.streaming.tiffrows import resolution_arguments

    channels = rows.shape[0]
    if channels not in (1, 3, 4):
        raise OutputError(path, f"streamed TIFF pyramids hold 1, 3 or 4 channels, not {channels}")
    stream = PyramidStream(rows.shape, rows.dtype, op, levels, factor, tile)
    side = -(-int(tile) // 16) * 16
    total = sum(math.prod(shape) for shape in stream.shapes) * rows.dtype.itemsize
    workers = _workers(threads)
    with atomic.output_folder(path, overwrite) as temporary:
        output = os.path.join(temporary, "image.tif")
        below = total - math.prod(rows.shape) * rows.dtype.itemsize
        on_disk = below > HELD_LEVELS
        spills = [
            _Spill(os.path.join(temporary, f"level{n}.raw"), rows.dtype, on_disk)
            for n in range(stream.count)
        ]
        try:
            base = RowBlocks(side, rows.shape[1])
            pusher = ThreadPoolExecutor(1, thread_name_prefix="poolcli-levels")
            pushed: list[Future[list[tuple[int, np.ndarray]]]] = []

            def keep_pushed() -> None:
                """The levels' rows of the band pushed before, kept for their own pages."""
                for level, part in pushed.pop().result() if pushed else ():
                    spills[level].add(part)

            def base_tiles() -> Iterator[np.ndarray]:
                # A band's levels are pooled in their own thread while its tiles are written.
                for band in rows.bands(side, workers):
                    keep_pushed()
                    pushed.append(pusher.submit(stream.push, band))
                    for block in base.add(band):
                        yield from _tiles(block, side)

            with pusher, tifffile.TiffWriter(output, bigtiff=total > 2**31) as tiff:
                for level, shape in enumerate(stream.shapes):
                    keep_pushed()  # the last band's, once level 0 is written
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
                        **resolution_arguments(dpi, _shrink(stream.factor, level)),
                    )
        finally:
            for spill in spills:
                spill.close()
        atomic.move_into_place(output, path)
    return stream.shapes


class _Spill:
    """A level's rows kept until they are written: in memory, or in a raw file, (rows, W, C)
    in order, when ``on_disk``."""

    def __init__(self, path: str, dtype: np.dtype, on_disk: bool) -> None:
        self._path = path
        self._dtype = dtype
        self._on_disk = on_disk
        self._parts: list[np.ndarray] = []
        self._file: Any = None

    def add(self, part: np.ndarray) -> None:
        if not self._on_disk:
            self._parts.append(part)
            return
        if self._file is None:
            self._file = open(self._path, "w+b")  # noqa: SIM115 - closed by close()
        np.ascontiguousarray(np.moveaxis(part, 0, -1)).tofile(self._file)

    def tiles(self, shape: tuple[int, ...], side: int) -> Iterator[np.ndarray]:
        """The level's tiles in order, a row of tiles at a time."""
        channels, height, width = shape
        if not self._on_disk:
            blocks = RowBlocks(side, height)
            while self._parts:
                for block in blocks.add(self._parts.pop(0)):
                    yield from _tiles(block, side)
            return
        assert self._file is not None
        self._file.seek(0)
        for top in range(0, height, side):
            count = min(side, height - top)
            block = np.fromfile(self._file, dtype=self._dtype, count=count * width * channels)
            yield from _tiles(np.moveaxis(block.reshape(count, width, channels), -1, 0), side)

    def close(self) -> None:
        self._parts = []
        if self._file is not None:
            self._file.close()
            self._file = None


def _shrink(factor: Sequence[int], level: int) -> tuple[int, int]:
    """How many times ``level`` is smaller than the base on rows and columns."""
    return factor[-2] ** level, factor[-1] ** level


def _tiles(block: np.ndarray, side: int) -> Iterator[np.ndarray]:
    """The tiles of a row of tiles (C, rows, W), left to right, as (rows, cols[, C])."""
    interleaved = np.moveaxis(block, 0, -1)
    if interleaved.shape[-1] == 1:
        interleaved = interleaved[..., 0]
    for left in range(0, interleaved.shape[1], side):
        yield interleaved[:, left : left + side]


def write_dzi(
    path: str,
    rows: Rows,
    *,
    op: str = "avg",
    tile_format: str = "jpeg",
    quality: int = 75,
    overwrite: bool = False,
    threads: int | None = None,
) -> list[tuple[int, ...]]:
    """Write the factor-2 pyramid of ``rows`` (uint8, 1 or 3 channels, 4 for PNG) down to one
    pixel as Deep Zoom: ``path`` (``NAME.dzi``) and ``NAME_files/``, as
    :func:`poolcli.chunked.multiscale.write_dzi` writes them. Returns the levels' shapes."""
    from poolcli.io import deepzoom

    deepzoom.check_picture(path, rows.dtype, rows.shape[0], 1, tile_format)
    stem = os.path.basename(path)[: -len(".dzi")]
    files = os.path.join(os.path.dirname(path), f"{stem}_files")
    if os.path.lexists(files) and not overwrite:
        raise OutputError(files, "exists; replace it with {overwrite}", ("overwrite",))
    stream = PyramidStream(rows.shape, rows.dtype, op, deepzoom.dzi_levels(rows.shape), 2)
    workers = _workers(threads)
    with atomic.output_folder(path, overwrite) as temporary:
        tiles = os.path.join(temporary, f"{stem}_files")
        top = stream.count - 1
        with ThreadPoolExecutor(workers, thread_name_prefix="poolcli-encode") as encoders:
            pending: list[Future[None]] = []

            def save(part: np.ndarray, name: str) -> None:
                pending.append(
                    encoders.submit(deepzoom.save_tile, part, name, tile_format, quality)
                )
                if len(pending) > 8 * workers:  # a few rows of tiles in memory, not a level
                    for done in pending[: 4 * workers]:
                        done.result()
                    del pending[: 4 * workers]

            levels = []
            for level, shape in enumerate(stream.shapes):
                folder = os.path.join(tiles, str(top - level))
                os.makedirs(folder)
                levels.append(_DziLevel(shape, folder, tile_format, save))
            for band in rows.bands(4 * deepzoom.DZI_TILE, workers):
                levels[0].add(band)
                for level, part in stream.push(band):
                    levels[level].add(part)
            for done in pending:
                done.result()
        with open(os.path.join(temporary, f"{stem}.dzi"), "w", encoding="utf-8") as xml:
            xml.write(deepzoom.dzi_xml(rows.shape[1], rows.shape[2], tile_format))
        atomic.move_into_place(tiles, files)
        atomic.move_into_place(os.path.join(temporary, f"{stem}.dzi"), path)  # last: marks it done
    return stream.shapes


class _DziLevel:
    """One Deep Zoom level's rows, cut into rows of tiles with their overlap as they come."""

    def __init__(
        self,
        shape: tuple[int, ...],
        folder: str,
        extension: str,
        save: Callable[[np.ndarray, str], None],
    ) -> None:
        from poolcli.io import deepzoom

        self._height = shape[-2]
        self._rows = deepzoom.tile_spans(shape[-2])
        self._columns = deepzoom.tile_spans(shape[-1])
        self._folder = folder
        self._extension = extension
        self._save = save
        self._held: list[np.ndarray] = []
        self._first = 0  # the row of the base of this level that _held starts at
        self._next = 0  # the next row of tiles to save

    def add(self, part: np.ndarray) -> None:
        self._held.append(part)
        held = sum(p.shape[-2] for p in self._held)
        while self._next < len(self._rows) and self._first + held >= self._rows[self._next][1]:
            band = self._held[0] if len(self._held) == 1 else np.concatenate(self._held, axis=-2)
            start, stop = self._rows[self._next]
            rows = band[..., start - self._first : stop - self._first, :]
            for column, (left, right) in enumerate(self._columns):
                name = os.path.join(self._folder, f"{column}_{self._next}.{self._extension}")
                self._save(rows[..., left:right], name)
            self._next += 1
            if self._next < len(self._rows):  # keep what the next row of tiles starts with
                keep = self._rows[self._next][0]
                self._held = [band[..., keep - self._first :, :]]
                self._first = keep
            else:
                self._held = []
            held = sum(p.shape[-2] for p in self._held)
