"""Writing pyramids: OME-Zarr, tiled pyramidal TIFF and Deep Zoom, all levels from one compute.

The levels come from :func:`poolcli.chunked.pyramid` (or any list of arrays, each level a
``factor`` smaller than the one above, level 0 first). Each writer computes them all in one
Dask computation, so the base is read once, and writes atomically: everything goes into a
temporary sibling, ``.NAME.XXXXXXXX.tmp`` (a folder), which is renamed into place when complete.
A failure, Ctrl-C or SIGTERM leaves no output and, once :func:`remove_unfinished` has run (the
writers call it themselves on any failure), no temporary.

- :func:`write_ome_zarr`: OME-Zarr 0.5 on Zarr format 3 (``zarr_format=3``, the default) or 0.4
  on Zarr format 2. Axes ``y, x`` for 2-D levels, ``c, y, x`` for 3-D and for (N, C, H, W) with
  one frame, ``t, c, y, x`` for several frames; every array has ``dimension_names`` (format 3).
  Each dataset's ``scale`` is the cumulative factor times the pixel size (1 when unknown) and
  its ``translation`` puts its pixel centres on those of the base: ``(factor**L - 1) / 2`` base
  pixels on y and x. ``type`` is the op; ``metadata`` names poolcli, its version and arguments.
  Volumes (a factor of three, z, y, x): axes ``z, y, x`` after ``c`` (and ``t``), scaled and
  translated on z as on y and x, chunks one slice deep.
- :func:`write_tiff`: the levels as SubIFDs of the first page (``subfiletype=1``), tiled, as
  tifffile writes pyramids; ``tifffile.TiffFile(path).series[0].levels`` reads them back. The
  levels are computed into temporary Zarr arrays first (one compute), then copied tile by tile.
- :func:`write_dzi`: Deep Zoom as libvips ``dzsave`` writes it: ``NAME.dzi`` and
  ``NAME_files/LEVEL/COL_ROW.jpeg`` (or ``.png``), tiles of 254 pixels with an overlap of 1,
  level 0 one pixel, the last the image; the levels are factor-2 levels down to 1x1.

>>> import os, tempfile
>>> import numpy as np
>>> from poolcli import chunked
>>> folder = tempfile.mkdtemp()
>>> levels = chunked.pyramid(np.arange(64, dtype=np.uint8).reshape(8, 8), "max", levels=3)
>>> write_ome_zarr(os.path.join(folder, "a.ome.zarr"), levels, op="max", factor=(2, 2))
>>> import zarr
>>> zarr.open_group(os.path.join(folder, "a.ome.zarr"), mode="r")["2"][:]
array([[27, 31],
       [59, 63]], dtype=uint8)
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dask.array as da
import numpy as np

from poolcli.errors import OutputError
from poolcli.io import atomic
from poolcli.io.deepzoom import (
    DZI_OVERLAP,
    DZI_TILE,
    check_picture,
    dzi_levels,
    dzi_xml,
    save_tile,
    tile_spans,
)
from poolcli.io.omezarr import axes_of, multiscales_metadata, ome_attributes
from poolcli.streaming import zarrchunks
from poolcli.streaming.tiffrows import resolution_arguments

__all__ = [
    "DZI_OVERLAP",
    "DZI_TILE",
    "axes_of",
    "dzi_levels",
    "multiscales_metadata",
    "remove_unfinished",
    "unfinished",
    "write_dzi",
    "write_ome_zarr",
    "write_tiff",
]

_dask: Any = da


def unfinished() -> list[str]:
    """The temporary files and folders of this process's writes under way (absolute paths):
    :func:`poolcli.io.atomic.unfinished`, which records these writers' folders too.

    >>> unfinished()
    []
    """
    return atomic.unfinished()


def remove_unfinished() -> list[str]:
    """Remove the temporary folders of writes that did not finish (after a stop); only those
    this process created (:func:`poolcli.io.atomic.remove_unfinished`). Returns the paths
    removed.

    >>> remove_unfinished()
    []
    """
    return atomic.remove_unfinished()


def _as_written(level: Any, volume: bool = False) -> da.Array:
    """A level as a Dask array of the written rank (N of one frame dropped)."""
    array: Any = level if isinstance(level, da.Array) else _dask.from_array(level)
    if array.ndim == (5 if volume else 4) and array.shape[0] == 1:
        array = array[0]
    written: da.Array = array
    return written


def _chunks_of(shape: Sequence[int], chunk: int) -> tuple[int, ...]:
    return (*(1 for _ in shape[:-2]), *(min(chunk, int(n)) for n in shape[-2:]))


def _store(levels: Sequence[da.Array], targets: Sequence[Any], workers: int | None) -> None:
    """Compute every level into its target, all in one computation, in ``workers`` threads
    (default: one per CPU). On any failure or stop, the tasks under way finish before this
    returns (none writes into a temporary folder once it is being removed)."""
    sources = [
        _aligned_to(level, target.chunks) for level, target in zip(levels, targets, strict=True)
    ]
    threads = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(threads, thread_name_prefix="poolcli-pyramid") as pool:
        try:
            _dask.store(
                sources,
                list(targets),
                lock=False,
                scheduler="threads",
                pool=pool,
                num_workers=threads,
            )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _aligned_to(level: da.Array, chunks: Sequence[int]) -> da.Array:
    """``level`` in Dask chunks that each cover whole chunks of the store (``chunks``), so that
    no two tasks write one stored chunk: its own where they already do (fewer, larger tasks),
    else the store's chunks times the whole number nearest its own.

    >>> _aligned_to(da.zeros((10, 3000), chunks=(5, 1024)), (5, 512)).chunks[1]
    (1024, 1024, 952)
    >>> _aligned_to(da.zeros((10, 3000), chunks=(5, 1000)), (5, 512)).chunks[1]
    (1024, 1024, 952)
    """
    target = []
    for own, side in zip(level.chunks, chunks, strict=True):
        if all(size % side == 0 for size in own[:-1]):
            target.append(own)
        else:
            target.append(side * max(1, round(max(own) / side)))
    aligned: da.Array = _dask.rechunk(level, tuple(target))
    return aligned


def write_ome_zarr(
    path: str,
    levels: Sequence[Any],
    *,
    op: str,
    factor: tuple[int, ...],
    zarr_format: int = 3,
    chunk: int = 512,
    pixel_size: tuple[float, ...] | None = None,
    unit: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    workers: int | None = None,
) -> None:
    """Write ``levels`` as an OME-Zarr image at ``path`` (0.5 on Zarr format 3, 0.4 on 2).

    ``chunk``: the arrays' chunk side on y and x (one plane of the other axes: a volume's chunks
    are one slice deep). ``factor`` of three values, (z, y, x), writes levels (D, H, W) to
    (N, C, D, H, W) as a volume: axes ``z, y, x`` after ``t`` and ``c``, scaled and translated
    on z as on y and x. ``pixel_size`` (y, x), or (z, y, x), in ``unit`` (an OME-Zarr unit, e.g.
    "micrometer") scales every level. ``arguments``:
    more of the call to record in the metadata. An existing ``path`` is an OutputError unless
    ``overwrite``. ``workers``: Dask's threads (default: one per CPU).
    """
    import zarr

    if zarr_format not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    volume = len(factor) == 3
    written = [_as_written(level, volume) for level in levels]
    axes = axes_of(levels[0].shape, volume)
    name = os.path.basename(os.path.normpath(path)).removesuffix(".zarr").removesuffix(".ome")
    entry = multiscales_metadata(name, axes, len(written), op, factor, pixel_size, unit, arguments)
    with atomic.output_folder(path, overwrite) as temporary:
        with atomic.held_signals():  # no stop inside a call whose I/O Zarr would carry on
            root = zarr.open_group(temporary, mode="w", zarr_format=zarr_format)  # type: ignore[arg-type]
            targets = []
            for level, array in enumerate(written):
                options: dict[str, Any] = {"compressors": zarrchunks.blosc(zarr_format)}
                if zarr_format == 3:
                    options["dimension_names"] = axes
                else:  # 0.4: chunk keys with "/" (the v2 default is ".")
                    options["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
                targets.append(
                    root.create_array(
                        str(level),
                        shape=array.shape,
                        chunks=_chunks_of(array.shape, chunk),
                        dtype=array.dtype,
                        **options,
                    )
                )
            root.attrs.update(ome_attributes(entry, zarr_format))
        _store(written, targets, workers)
        atomic.move_into_place(temporary, path)


def _tiff_layout(shape: Sequence[int]) -> tuple[tuple[int, ...], str, str | None]:
    """How an (N, C, H, W) (or lower-rank) level is stored: the shape tifffile is given, the
    photometric interpretation and the planar configuration."""
    lead = tuple(int(n) for n in shape[:-2])
    height, width = int(shape[-2]), int(shape[-1])
    frames = lead[0] if len(lead) == 2 else 1
    channels = lead[-1] if lead else 1
    pages = (frames,) if frames > 1 else ()
    if channels == 1:
        return (*pages, height, width), "minisblack", None
    if channels in (3, 4):
        return (*pages, height, width, channels), "rgb", "contig"
    return (*pages, channels, height, width), "minisblack", "separate"


def _tiles(array: Any, tile: int, planar: str | None) -> Iterator[np.ndarray]:
    """The tiles of a stored level in tifffile's order: frame, (separate) channel, row, column.

    Contiguous samples give (rows, columns, channels) tiles, the others (rows, columns).
    """
    lead = tuple(array.shape[:-2])
    height, width = array.shape[-2:]
    frames = lead[0] if len(lead) == 2 else 1
    channels = lead[-1] if lead else 1

    def read(frame: int, channel: int | slice, rows: slice, cols: slice) -> np.ndarray:
        key = ((frame,) if len(lead) == 2 else ()) + ((channel,) if lead else ())
        part = np.asarray(array[(*key, rows, cols)])
        return part if part.ndim == 3 or not lead or isinstance(channel, int) else part[None]

    groups: list[int | slice] = list(range(channels)) if planar == "separate" else [slice(None)]
    for frame in range(frames):
        for channel in groups:
            for top in range(0, height, tile):
                for left in range(0, width, tile):
                    part = read(frame, channel, slice(top, top + tile), slice(left, left + tile))
                    if part.ndim == 3:
                        part = np.moveaxis(part, 0, -1)
                    yield np.ascontiguousarray(part)


def write_tiff(
    path: str,
    levels: Sequence[Any],
    *,
    tile: int = 512,
    compression: str | None = "zlib",
    dpi: tuple[float, float] | None = None,
    factor: tuple[int, int] = (2, 2),
    overwrite: bool = False,
    workers: int | None = None,
) -> None:
    """Write ``levels`` as a tiled pyramidal TIFF at ``path``: level 0 the first page, the others
    its SubIFDs, tiles of ``tile`` pixels (rounded up to a multiple of 16). BigTIFF when the
    levels pass 2 GiB uncompressed. ``compression``: tifffile's name (None: none). ``dpi``
    (horizontal, vertical): the base's resolution, written on every level divided by its
    cumulative ``factor`` (rows, columns), so that each level keeps the physical size.

    >>> import os, tempfile, tifffile
    >>> import numpy as np
    >>> from poolcli import chunked
    >>> folder = tempfile.mkdtemp()
    >>> target = os.path.join(folder, "a.tif")
    >>> write_tiff(target, chunked.pyramid(np.ones((40, 50), np.uint16), levels=3), tile=16)
    >>> with tifffile.TiffFile(target) as tiff:
    ...     [level.shape for level in tiff.series[0].levels]
    [(40, 50), (20, 25), (10, 13)]
    >>> import shutil; shutil.rmtree(folder)
    """
    import tifffile
    import zarr

    side = -(-int(tile) // 16) * 16
    arrays = [level if isinstance(level, da.Array) else _dask.from_array(level) for level in levels]
    total = sum(array.nbytes for array in arrays)
    with atomic.output_folder(path, overwrite) as temporary:
        with atomic.held_signals():
            scratch = zarr.open_group(os.path.join(temporary, "levels.zarr"), mode="w")
            targets = [
                scratch.create_array(
                    str(level),
                    shape=array.shape,
                    chunks=_chunks_of(array.shape, side)
                    if array.ndim < 4
                    else (1, array.shape[1], *_chunks_of(array.shape, side)[-2:]),
                    dtype=array.dtype,
                    compressors=None,
                )
                for level, array in enumerate(arrays)
            ]
        _store(arrays, targets, workers)
        output = os.path.join(temporary, "image.tif")
        with tifffile.TiffWriter(output, bigtiff=total > 2**31) as tiff:
            for level, stored in enumerate(targets):
                shape, photometric, planar = _tiff_layout(stored.shape)
                tiff.write(
                    _tiles(stored, side, planar),
                    shape=shape,
                    dtype=stored.dtype,
                    tile=(side, side),
                    photometric=photometric,
                    planarconfig=planar,
                    compression=compression,
                    subifds=len(targets) - 1 if level == 0 else None,
                    subfiletype=1 if level else 0,
                    metadata=None,
                    **resolution_arguments(dpi, (factor[-2] ** level, factor[-1] ** level)),
                )
        atomic.move_into_place(output, path)


def write_dzi(
    path: str,
    levels: Sequence[Any],
    *,
    tile_format: str = "jpeg",
    quality: int = 75,
    overwrite: bool = False,
    workers: int | None = None,
) -> None:
    """Write factor-2 ``levels`` down to 1x1 (:func:`dzi_levels` of them) as Deep Zoom:
    ``path`` (``NAME.dzi``) and ``NAME_files/``. Levels of uint8 with 1 (grey), 3 (RGB) or, for
    PNG, 4 (RGBA) channels, one frame. ``tile_format``: "jpeg" (``quality``) or "png".

    >>> import os, tempfile
    >>> import numpy as np
    >>> from poolcli import chunked
    >>> folder = tempfile.mkdtemp()
    >>> target = os.path.join(folder, "a.dzi")
    >>> write_dzi(target, chunked.pyramid(np.zeros((3, 300, 517), np.uint8), levels=11))
    >>> sorted(os.listdir(os.path.join(folder, "a_files", "10")))
    ['0_0.jpeg', '0_1.jpeg', '1_0.jpeg', '1_1.jpeg', '2_0.jpeg', '2_1.jpeg']
    >>> import shutil; shutil.rmtree(folder)
    """
    arrays = [_as_written(level) for level in levels]
    base = arrays[0]
    channels = base.shape[-3] if base.ndim >= 3 else 1
    frames = base.shape[0] if base.ndim == 4 else 1
    check_picture(path, base.dtype, channels, frames, tile_format)
    expected = dzi_levels(base.shape)
    if len(arrays) != expected:
        raise ValueError(f"Deep Zoom of this image needs {expected} levels, got {len(arrays)}")
    stem = os.path.basename(path)[: -len(".dzi")]
    files = os.path.join(os.path.dirname(path), f"{stem}_files")
    if os.path.lexists(files) and not overwrite:
        raise OutputError(files, "exists; replace it with {overwrite}", ("overwrite",))
    import zarr

    with atomic.output_folder(path, overwrite) as temporary:
        scratch = os.path.join(temporary, "levels.zarr")
        with atomic.held_signals():
            group = zarr.open_group(scratch, mode="w")
            targets = [
                group.create_array(
                    str(level),
                    shape=array.shape,
                    chunks=_chunks_of(array.shape, 4 * DZI_TILE),
                    dtype=array.dtype,
                    compressors=None,
                )
                for level, array in enumerate(arrays)
            ]
        _store(arrays, targets, workers)
        tiles = os.path.join(temporary, f"{stem}_files")
        top = len(arrays) - 1

        def save(part: np.ndarray, name: str) -> None:
            save_tile(part, name, tile_format, quality)

        # Pillow encodes without the GIL: a band of tiles at a time, in threads.
        with ThreadPoolExecutor(workers or os.cpu_count() or 1) as encoders:
            for level, stored in enumerate(targets):
                folder = os.path.join(tiles, str(top - level))
                os.makedirs(folder)
                height, width = stored.shape[-2:]
                for row, (y0, y1) in enumerate(tile_spans(height)):
                    band = np.asarray(stored[..., y0:y1, :])
                    names = [
                        (band[..., x0:x1], os.path.join(folder, f"{col}_{row}.{tile_format}"))
                        for col, (x0, x1) in enumerate(tile_spans(width))
                    ]
                    for saved in [encoders.submit(save, *tile) for tile in names]:
                        saved.result()
        shutil.rmtree(scratch)
        with open(os.path.join(temporary, f"{stem}.dzi"), "w", encoding="utf-8") as xml:
            xml.write(dzi_xml(base.shape[-2], base.shape[-1], tile_format))
        atomic.move_into_place(tiles, files)
        atomic.move_into_place(os.path.join(temporary, f"{stem}.dzi"), path)  # last: marks it done
