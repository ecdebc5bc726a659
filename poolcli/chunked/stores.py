"""Outputs written in parts: Zarr, OME-Zarr, tiled (Big)TIFF and .npy, from a Dask array.

:func:`write` computes a lazy (N, C, H, W) result chunk by chunk and writes each part as it is
done, so memory holds a few chunks per thread, never the image. Everything is written under a
temporary name beside the output (:func:`poolcli.io.atomic.reserve`) and renamed into place
once complete: a failed or stopped write leaves neither a partial output nor its temporary.

- ``zarr``: a Zarr array (format 3, or 2), chunks of ``tile`` squared, zstd-compressed (format
  3: ``dimension_names``, and chunks in shards of about 2048 squared), of the rank the input
  had (leading axes of length 1 dropped).
- ``ome-zarr``: an OME-Zarr image of one level (0.5 on Zarr 3, 0.4 on Zarr 2), axes ``c, y, x``
  (``t, c, y, x`` for several frames; ``z`` before ``y`` for a volume), with its scale and
  translation in the input's pixels.
- ``tiff``: tiled, BigTIFF when past 4 GiB, written band by band of tiles; frames as pages.
- ``npy``: the header, then the planes band by band.

>>> import os, tempfile
>>> import dask.array as da
>>> import numpy as np
>>> result = da.from_array(np.arange(24, dtype=np.uint8).reshape(1, 1, 4, 6), chunks=2)
>>> path = os.path.join(tempfile.mkdtemp(), "out.npy")
>>> write(result, path, "npy", ndim=2)
>>> np.load(path).shape
(4, 6)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import dask.array as da
import numpy as np
from dask import base as dask_base
from dask import threaded
from dask.callbacks import Callback

from poolcli.errors import OutputError
from poolcli.io import atomic
from poolcli.io.omezarr import ome_attributes
from poolcli.io.streams import os_reason
from poolcli.streaming import tiffrows

__all__ = ["DEFAULT_TILE", "Placement", "Stopped", "compute", "write"]

#: The spatial chunk (Zarr) or tile (TIFF) side of outputs whose input has none to follow.
DEFAULT_TILE = 512
#: About how many bytes of the result a band of a TIFF or .npy output holds: one band is
#: computed while the one before is written.
BAND_BYTES = 2**24
#: Zarr format 3 outputs: the side of a shard (one file of chunks).
SHARD_SIDE = 2048
#: Past this many bytes a TIFF is written as BigTIFF (classic TIFF's offsets end at 4 GiB).
BIGTIFF_FROM = 2**32 - 2**25

#: Dask's functions, called untyped (Dask's annotations are partial): the results are typed here.
_dask: Any = da
_compute: Any = dask_base.compute
_callback: Any = Callback

#: (tasks done, tasks in all), called as chunks are written.
ProgressHook = Callable[[int, int], None]


class Stopped(Exception):
    """A write stopped by its ``stop`` event before it was complete."""


@dataclass(frozen=True)
class Placement:
    """Where an output's pixels sit in its input's pixels, for OME-Zarr's coordinate transforms.

    ``scale`` and ``translation`` are (y, x), or (z, y, x) for a volume: the size of an output
    pixel and the position of the centre of output pixel 0, in the input's pixel units (times its
    own pixel size, if known).
    """

    scale: tuple[float, ...] = (1.0, 1.0)
    translation: tuple[float, ...] = (0.0, 0.0)
    name: str | None = None
    op: str | None = None
    metadata: tuple[tuple[str, Any], ...] = ()


class _Watch(Callback):
    """Stops a computation between tasks once ``stop`` is set; reports tasks done."""

    def __init__(self, stop: threading.Event | None, progress: ProgressHook | None) -> None:
        _callback.__init__(self)
        self.stop = stop
        self.progress = progress
        self.total = 0
        self.done = 0

    def _start_state(self, dsk: Any, state: Any) -> None:
        self.total = sum(len(state[key]) for key in ("ready", "waiting", "running"))
        self.done = 0

    def _pretask(self, key: Any, dsk: Any, state: Any) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Stopped

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def compute(
    *collections: Any,
    threads: int | None = None,
    stop: threading.Event | None = None,
    progress: ProgressHook | None = None,
    client: Any = None,
) -> tuple[Any, ...]:
    """``dask.compute`` on ``threads`` local threads (the threaded scheduler), stopped between
    tasks by ``stop`` (raising :class:`Stopped`), reporting tasks done to ``progress``; or,
    given a ``distributed.Client``, on its cluster (``stop`` cancels what is under way there).

    >>> import dask.array as da
    >>> compute(da.ones(4, chunks=2).sum(), threads=1)
    (np.float64(4.0),)
    """
    if client is not None:
        computed: tuple[Any, ...] = _compute_on(client, collections, stop)
        return computed
    with _Watch(stop, progress):
        # The threaded scheduler's function, not its name: a name makes Dask look for a
        # distributed client (importing distributed takes 0.3 s).
        results: tuple[Any, ...] = _compute(
            *collections, scheduler=threaded.get, num_workers=threads
        )
    return results


def _compute_on(client: Any, collections: tuple[Any, ...], stop: threading.Event | None) -> Any:
    """The collections computed by ``client``'s workers, checking ``stop`` four times a second."""
    import distributed

    wait: Any = distributed.wait
    futures = client.compute(list(collections))
    try:
        while True:
            try:
                wait(futures, timeout=0.25)
                break
            except TimeoutError:  # not done yet
                if stop is not None and stop.is_set():
                    raise Stopped from None
        return tuple(client.gather(futures))
    except BaseException:
        client.cancel(futures)
        raise


def write(
    result: da.Array,
    path: str,
    fmt: str,
    *,
    ndim: int = 4,
    tile: int = DEFAULT_TILE,
    zarr_format: int = 3,
    compression: str | None = None,
    placement: Placement = Placement(),
    threads: int | None = None,
    stop: threading.Event | None = None,
    progress: ProgressHook | None = None,
    volume: bool = False,
    client: Any = None,
    dpi: tuple[float, float] | None = None,
    icc_profile: bytes | None = None,
) -> None:
    """Compute the (N, C, H, W) ``result`` and write it to ``path`` as ``fmt``.

    Parameters
    ----------
    fmt : {"zarr", "ome-zarr", "tiff", "npy"}
    ndim : int
        The rank to write for ``zarr`` and ``npy`` (2 to 4): the input's, when the leading axes
        of the result have length 1.
    tile : int
        Chunk (Zarr) or tile (TIFF) side.
    zarr_format : {3, 2}
    compression : str, optional
        ``"zstd"``, ``"zlib"`` or ``"none"``; by default none for TIFF, zstd for Zarr.
    placement : Placement
        OME-Zarr's scale and translation, and what its metadata names.
    threads, stop, progress
        As :func:`compute` takes them.
    volume : bool
        The last three axes of ``result`` are (D, H, W): Zarr's ``dimension_names`` say
        ``z, y, x``, OME-Zarr's axes ``c, z, y, x`` (``t`` first for several frames);
        ``result`` may then have 5 axes, (N, C, D, H, W), for zarr, ome-zarr and npy.
    client : distributed.Client, optional
        Compute on its cluster instead of local threads: its workers read the input and write
        Zarr chunks into the temporary folder themselves (the same paths on every machine).
    dpi, icc_profile : optional
        A TIFF output's resolution (horizontal, vertical dots per inch) and ICC profile.

    Raises
    ------
    OutputError
        Naming ``path``, when it cannot be written; nothing is left of it then.
    Stopped
        When ``stop`` was set before the write was complete; nothing is left of it either.
    """
    if result.ndim != 4 and not (result.ndim == 5 and fmt in ("zarr", "ome-zarr", "npy")):
        raise ValueError(
            f"result must be (N, C, H, W) (or (N, C, D, H, W) for zarr, ome-zarr and npy), "
            f"got shape {result.shape}"
        )
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"fmt must be one of {', '.join(_WRITERS)}, got {fmt!r}")
    folder = fmt in ("zarr", "ome-zarr")
    temporary = atomic.reserve(path, folder=folder)
    options = _Options(
        ndim, tile, zarr_format, compression, placement, threads, stop, progress, volume, client,
        dpi, icc_profile,
    )  # fmt: skip
    try:
        writer(result, temporary, options)
    except BaseException as exc:
        atomic.discard(temporary)
        if isinstance(exc, OSError):
            raise OutputError(path, os_reason(exc)) from None
        raise
    atomic.commit(temporary, path)


@dataclass(frozen=True)
class _Options:
    ndim: int
    tile: int
    zarr_format: int
    compression: str | None
    placement: Placement
    threads: int | None
    stop: threading.Event | None
    progress: ProgressHook | None
    volume: bool = False
    client: Any = None
    dpi: tuple[float, float] | None = None
    icc_profile: bytes | None = None

    def compute(self, *collections: Any) -> tuple[Any, ...]:
        return compute(
            *collections,
            threads=self.threads,
            stop=self.stop,
            progress=self.progress,
            client=self.client,
        )


def _squeezed(result: da.Array, ndim: int) -> da.Array:
    """``result`` less leading axes of length 1, down to ``ndim`` axes."""
    drop = 0
    while result.ndim - drop > max(2, ndim) and result.shape[drop] == 1:
        drop += 1
    squeezed: da.Array = result[(0,) * drop] if drop else result
    return squeezed


def _aligned(array: da.Array, chunks: Sequence[int]) -> da.Array:
    """``array`` rechunked so that each of its chunks holds whole ``chunks`` of the store (the
    shards, where it has them), about 2048 cells a spatial side: parallel writes never share
    a chunk (or a shard) of the store."""
    target = tuple(
        min(int(size), chunk * (max(1, 2048 // chunk) if axis >= array.ndim - 2 else 1))
        for axis, (size, chunk) in enumerate(zip(array.shape, chunks, strict=True))
    )
    rechunked: da.Array = cast(Any, array).rechunk(target, method="tasks")
    return rechunked


def _zarr_array(
    store: Any, name: str | None, array: da.Array, options: _Options, dims: Sequence[str]
) -> Any:
    import zarr

    chunks = tuple(
        min(int(n), options.tile) if axis >= array.ndim - 2 else 1
        for axis, n in enumerate(array.shape)
    )
    # Format 3 groups chunks into shards of about 2048 squared, one file each: writing a file
    # per chunk costs more than computing it.
    shards = tuple(
        c * max(1, min(SHARD_SIDE // c, -(-int(n) // c))) if axis >= array.ndim - 2 else 1
        for axis, (n, c) in enumerate(zip(array.shape, chunks, strict=True))
    )
    # Zstandard level 1: on float32 results about twice level 3's speed for 3 % more bytes;
    # writing, not pooling, bounds the speed of a Zarr output.
    compression = options.compression or "zstd"
    compressors: Any
    if compression == "none":
        compressors = None
    elif options.zarr_format == 2:
        import numcodecs  # type: ignore[import-untyped]

        compressors = numcodecs.Zstd(level=1) if compression == "zstd" else numcodecs.Zlib(6)
    else:
        from zarr.codecs import GzipCodec, ZstdCodec

        compressors = ZstdCodec(level=1) if compression == "zstd" else GzipCodec(level=6)
    return zarr.create_array(
        store=store,
        name=name,
        shape=tuple(int(n) for n in array.shape),
        chunks=chunks,
        shards=shards if options.zarr_format == 3 and shards != chunks else None,
        dtype=array.dtype,
        compressors=compressors,
        zarr_format=options.zarr_format,  # type: ignore[arg-type]
        dimension_names=tuple(dims) if options.zarr_format == 3 else None,
        fill_value=0,
    )


def _store(array: da.Array, target: Any, options: _Options) -> None:
    aligned = _aligned(array, target.shards or target.chunks)
    stored = _dask.store(aligned, target, lock=False, compute=False)
    options.compute(stored)


def _write_zarr(result: da.Array, temporary: str, options: _Options) -> None:
    array = _squeezed(result, options.ndim)
    names = ("n", "c", "z", "y", "x") if options.volume else ("n", "c", "y", "x")
    dims = names[len(names) - array.ndim :]
    target = _zarr_array(temporary, None, array, options, dims)
    _store(array, target, options)


def _write_ome_zarr(result: da.Array, temporary: str, options: _Options) -> None:
    import zarr

    array = result if result.shape[0] > 1 or (result.ndim == 4 and options.volume) else result[0]
    spatial = 3 if options.volume else 2
    axes = [
        *([{"name": "t", "type": "time"}] if array.ndim == spatial + 2 else []),
        {"name": "c", "type": "channel"},
        *([{"name": "z", "type": "space"}] if options.volume else []),
        {"name": "y", "type": "space"},
        {"name": "x", "type": "space"},
    ]
    placement = options.placement
    lead = [1.0] * (array.ndim - len(placement.scale))
    multiscale: dict[str, Any] = {
        "axes": axes,
        "datasets": [
            {
                "path": "0",
                "coordinateTransformations": [
                    {"type": "scale", "scale": [*lead, *placement.scale]},
                    {"type": "translation", "translation": [*(0.0 for _ in lead),
                                                           *placement.translation]},
                ],
            }
        ],
    }  # fmt: skip
    if placement.name is not None:
        multiscale["name"] = placement.name
    if placement.op is not None:
        multiscale["type"] = placement.op
    if placement.metadata:
        multiscale["metadata"] = dict(placement.metadata)
    attributes = ome_attributes(multiscale, options.zarr_format)
    group = zarr.open_group(store=temporary, mode="w", zarr_format=options.zarr_format)  # type: ignore[arg-type]
    group.attrs.update(attributes)
    dims = [axis["name"] for axis in axes]
    target = _zarr_array(group.store, "0", array, options, dims)
    _store(array, target, options)


def _bands(result: da.Array, rows: int) -> Iterator[tuple[int, int, int]]:
    """(frame, first row, last row) of each band of ``rows`` rows, frame by frame."""
    for frame in range(result.shape[0]):
        for top in range(0, result.shape[2], rows):
            yield frame, top, min(result.shape[2], top + rows)


def _computed_bands(
    result: da.Array, rows: int, options: _Options
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Each band (:func:`_bands`) computed, (C, rows, W), the next one computed while the one
    before is written."""
    from concurrent.futures import ThreadPoolExecutor

    bands = list(_bands(result, rows))

    def band(index: int) -> np.ndarray:
        frame, top, bottom = bands[index]
        values: np.ndarray = compute(
            result[frame, :, top:bottom],
            threads=options.threads,
            stop=options.stop,
            client=options.client,
        )[0]
        return values

    with ThreadPoolExecutor(1, thread_name_prefix="poolcli-band") as ahead:
        future = ahead.submit(band, 0)
        for index, (frame, top, _) in enumerate(bands):
            values = future.result()
            if index + 1 < len(bands):
                future = ahead.submit(band, index + 1)
            if options.progress is not None:
                options.progress(index + 1, len(bands))
            yield frame, top, values


def _write_npy(result: da.Array, temporary: str, options: _Options) -> None:
    array = _squeezed(result, options.ndim)
    dtype = np.dtype(array.dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": tuple(int(n) for n in array.shape)}  # fmt: skip
    if result.ndim == 5:  # the same bytes as (N * C, D, H, W), written plane by plane
        result = cast(Any, result).reshape((-1, *result.shape[2:]))
    _, channels, height, width = (int(n) for n in result.shape)
    rows = _band_rows(result, 1)
    with open(temporary, "wb") as stream:
        np.lib.format.write_array_header_2_0(stream, header)
        start = stream.tell()
        plane = height * width * dtype.itemsize
        for frame, top, values in _computed_bands(result, rows, options):
            for channel in range(channels):
                stream.seek(
                    start + ((frame * channels + channel) * plane) + top * width * dtype.itemsize
                )
                stream.write(np.ascontiguousarray(values[channel], dtype).tobytes())
        stream.truncate(start + math.prod(result.shape) * dtype.itemsize)


def _band_rows(result: da.Array, multiple: int) -> int:
    """Rows per band: a multiple of ``multiple`` holding about :data:`BAND_BYTES` of it."""
    row_bytes = max(1, int(result.shape[1]) * int(result.shape[3]) * int(result.dtype.itemsize))
    rows = max(multiple, (BAND_BYTES // row_bytes) // multiple * multiple)
    return min(rows, -(-int(result.shape[2]) // multiple) * multiple)


def _write_tiff(result: da.Array, temporary: str, options: _Options) -> None:
    import tifffile

    frames, channels, height, width = (int(n) for n in result.shape)
    dtype = np.dtype(result.dtype)
    tile = max(16, options.tile // 16 * 16)
    rows = _band_rows(result, tile)
    compression = options.compression or "none"
    photometric = "rgb" if channels in (3, 4) else "minisblack"
    extrasamples = ("unassalpha",) if channels in (2, 4) else None

    def tiles() -> Iterator[np.ndarray]:
        for _, _, values in _computed_bands(result, rows, options):
            band = np.moveaxis(values, 0, -1)  # (rows, W, C)
            for top in range(0, band.shape[0], tile):
                for left in range(0, width, tile):
                    part = band[top : top + tile, left : left + tile]
                    if part.shape[:2] != (tile, tile):
                        padded = np.zeros((tile, tile, channels), dtype)
                        padded[: part.shape[0], : part.shape[1]] = part
                        part = padded
                    yield part if channels > 1 else part[..., 0]

    shape = (frames, height, width, channels) if channels > 1 else (frames, height, width)
    with tifffile.TiffWriter(temporary, bigtiff=result.nbytes > BIGTIFF_FROM) as tif:
        tif.write(
            tiles(),
            shape=shape,
            dtype=dtype,
            tile=(tile, tile),
            photometric=photometric,
            planarconfig="contig" if channels > 1 else None,
            extrasamples=extrasamples,
            compression=None if compression == "none" else compression,
            metadata=None,
            iccprofile=options.icc_profile,
            **tiffrows.resolution_arguments(options.dpi),
        )


_WRITERS: dict[str, Callable[[da.Array, str, _Options], None]] = {
    "zarr": _write_zarr,
    "ome-zarr": _write_ome_zarr,
    "tiff": _write_tiff,
    "npy": _write_npy,
}
