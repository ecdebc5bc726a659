"""Inputs and outputs too large for memory: which jobs go chunked, and the pooling of one.

A job goes chunked (:func:`goes_chunked`) when its input is a Zarr store, when its output is
one (``.zarr``, ``.ome.zarr``), or when its input is a TIFF or .npy whose decoded size passes
the recipe's ``memory_limit`` (by default a quarter of this machine's memory) or whose pixels
pass the pixel limit. It is then read in parts, pooled by :mod:`poolcli.chunked` on Dask's
local threads, and written in parts under a temporary name (:mod:`poolcli.chunked.stores`).
Only one chunked job computes at a time in a process: it has all the threads.

The values written are those of the in-memory path: arrays (Zarr, .npy) hold the pooled values
(float32 for the averages of integers), images (TIFF) are written back in the input's type,
rounded half up, except sums and power means, written as float32. numpy-free at import.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from poolcli.errors import InputError, OutputError, PoolcliError
from poolcli.io import formats

__all__ = [
    "Large",
    "decoded_size",
    "default_memory_limit",
    "goes_chunked",
    "open_large",
    "round_means",
    "write_large",
]

#: Ops whose values stay in the input's range: written back to an image in its own type.
IN_RANGE_OPS = frozenset({"max", "min", "avg", "median", "mode"})

#: Formats read in parts (the others are decoded whole, under the pixel limit).
READ_IN_PARTS = ("zarr", "ome-zarr", "tiff", "npy")

_turn = threading.Lock()  # one chunked computation at a time


def default_memory_limit() -> int:
    """A quarter of this machine's memory, in bytes (4 GiB where it cannot be told).

    >>> default_memory_limit() > 0
    True
    """
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def goes_chunked(
    source: str,
    output_format: str | None,
    memory_limit: int | None,
    max_pixels: int | None,
) -> bool:
    """Whether the job of ``source`` (a path, or ``-``) goes the chunked way.

    ``output_format`` is the output's format name when known (``"zarr"``); ``memory_limit`` in
    bytes (None: :func:`default_memory_limit`); ``max_pixels`` the pixel limit of the in-memory
    path (None: none).

    >>> goes_chunked("photo.jpg", None, None, None), goes_chunked("-", "zarr", None, None)
    (False, True)
    """
    found = formats.by_name(output_format) if output_format is not None else None
    if found is not None and found.chunked:
        return True
    if source == "-":
        return False
    if formats.is_store(source):
        return True
    read = formats.for_path(source)
    if read is None or read.name not in READ_IN_PARTS or not os.path.isfile(source):
        return False
    found_size = decoded_size(source)
    if found_size is None:
        return False  # the in-memory path says what is wrong with it
    size, pixels = found_size
    if size > (default_memory_limit() if memory_limit is None else memory_limit):
        return True
    return max_pixels is not None and pixels > max_pixels


def decoded_size(path: str) -> tuple[int, int] | None:
    """(bytes, pixels) of a TIFF or .npy at ``path`` decoded (every frame), from its header:
    Pillow's for a TIFF, numpy's for a .npy (neither decodes a pixel, nor imports Dask); None
    when neither can tell.

    >>> import os, tempfile
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "a.tif")
    >>> Image.new("RGB", (30, 20)).save(path)
    >>> decoded_size(path)
    (1800, 600)
    """
    found = formats.for_path(path)
    try:
        if found is not None and found.name == "npy":
            from poolcli.io import images

            header = images.read_header(path)
            n, c, h, w = header.shape
            return n * c * h * w * _itemsize(header.dtype), n * h * w
        from PIL import Image

        from poolcli.io import pictures

        with pictures.pixel_limit(None), Image.open(path) as img:
            frames = int(getattr(img, "n_frames", 1))
            width, height = img.size
            bands = len(img.getbands())
            wide = pictures.wide_colour(img) is not None or img.mode.startswith("I;16")
            sample = 2 if wide else 4 if img.mode in ("I", "F") else 1
    except Exception:  # no header Pillow or numpy reads: tifffile's may (a float RGB TIFF)
        return _tiff_size(path)
    return frames * width * height * bands * sample, frames * width * height


def _tiff_size(path: str) -> tuple[int, int] | None:
    """As :func:`decoded_size`, by tifffile (the chunked extra); None without it."""
    try:
        from poolcli.chunked import sources
    except ImportError:
        return None
    size, pixels = sources.decoded_bytes(path), sources.pixel_count(path)
    return None if size is None or pixels is None else (size, pixels)


def _itemsize(dtype: str) -> int:
    import numpy as np

    return int(np.dtype(dtype).itemsize)


@dataclass(frozen=True)
class Large:
    """An input opened for chunked pooling: its lazy (N, C, H, W) array and what it is."""

    array: Any  # dask.array.Array
    info: Any  # ImageInfo
    tile: tuple[int, int]
    compression: str | None
    scale: tuple[float, float] | None
    resources: tuple[Any, ...] = ()  # open files to close once written
    depth_scale: float | None = None  # a volume's pixel size on D, where the input gives it

    def close(self) -> None:
        for resource in self.resources:
            resource.close()

    @property
    def shape(self) -> tuple[int, ...]:
        """(N, C, H, W), or (N, C, D, H, W) for a volume of 5 axes."""
        return tuple(int(d) for d in self.array.shape)


def open_large(
    source: str | BinaryIO,
    level: int | None,
    frame: int | None,
    max_pixels: int | None,
    volumes: bool = False,
) -> Large:
    """``source`` (a path, or standard input) opened in parts when it is a format read so
    (Zarr, TIFF, .npy), else loaded whole under ``max_pixels`` and seen as one chunk: a PNG
    pooled to a Zarr output. ``volumes``: an OME-Zarr's (or a named Zarr's) z axis read as the
    depth of (N, C, D, H, W), for a window of three axes (else as N, planes pooled one by one)."""
    from poolcli.chunked import sources

    if isinstance(source, str) and sources.kind_of(source) is not None:
        opened = sources.open_source(source, level=level, frame=frame, volumes=volumes)
        return Large(
            opened.array,
            opened.info,
            opened.tile,
            opened.compression,
            opened.scale,
            opened.resources,
            opened.depth_scale,
        )
    name = source if isinstance(source, str) else "<stdin>"
    if level is not None:
        raise InputError(name, "{level} is for OME-Zarr inputs", ("level",))
    import dask.array as da

    from poolcli.io import images

    array, info = images.load_image(source, max_pixels=max_pixels, frame=frame)
    lazy = cast(Any, da).from_array(array, chunks=(1, array.shape[1], 2048, 2048))
    return Large(lazy, info, (512, 512), None, None)


def write_large(
    large: Large,
    task: Any,
    geometry: Any,
    path: str,
    fmt: str,
    *,
    name: str,
    memory_limit: int | None = None,
    scheduler: str | None = None,
    zarr_format: int = 3,
    threads: int | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    strip: bool = False,
) -> None:
    """Pool ``large`` by ``task`` (a :class:`~poolcli.imaging.tasks.Pooling`) over ``geometry``
    and write the result to ``path`` in the format named ``fmt`` (``"zarr"``, ``"ome-zarr"``,
    ``"tiff"`` or ``"npy"``).

    ``scheduler``: the address of a Dask scheduler (or ``local:N``) whose workers compute the
    chunks, reading the input and writing Zarr chunks at the same paths (shared storage); a job
    already running on a worker computes on its own threads.

    Raises :class:`poolcli.chunked.stores.Stopped` once ``stop`` is set, having written
    nothing; :class:`~poolcli.errors.OutputError` for an output that cannot be written;
    :class:`~poolcli.errors.InputError` naming the input ``name`` for a part of it that cannot
    be read (a truncated or corrupt tile).
    """
    import numpy as np

    from poolcli import __version__, chunked
    from poolcli.chunked import stores
    from poolcli.imaging import alpha

    array = large.array
    kwargs = {**task.window.kwargs(), "p": task.p}
    result: Any
    if task.window.axes == 1:
        result = _pooled_in_memory(large, task, name, fmt, memory_limit)
    elif task.window.axes == 3:
        if fmt not in ("zarr", "ome-zarr", "npy"):
            raise OutputError(
                name, "a window of 3 axes over a chunked input writes .zarr, .ome.zarr or .npy"
            )
        result = chunked.pool(array, task.op, **kwargs)
    elif alpha.premultiplies(task.op, large.info, array.shape[1], array.dtype, task.alpha):
        result = pool_premultiplied(array, task.op, kwargs)
    else:
        result = chunked.pool(array, task.op, **kwargs)
    if fmt == "tiff" and large.info.kind == "image":
        source_dtype = np.dtype(large.info.dtype)
        if task.op in IN_RANGE_OPS and result.dtype != source_dtype:
            from poolcli.io import images

            rounding = round_means if _means_of_bytes(task, source_dtype) else images.to_dtype
            result = result.map_blocks(rounding, source_dtype, dtype=source_dtype)
        elif result.dtype.kind == "f" and result.dtype != np.float32:
            result = result.astype(np.float32)
    tile = max(64, min(2048, max(large.tile) if min(large.tile) >= 64 else 512))
    scale, translation = _placement(geometry, large)
    placement = stores.Placement(
        scale=scale,
        translation=translation,
        name=os.path.basename(formats.split_extension(path)[0]),
        op=task.op,
        metadata=(("producer", "poolcli"), ("version", __version__), ("op", task.op),
                  ("window", dict(task.window.kwargs()))),
    )  # fmt: skip
    kept = _kept_metadata(large.info, result.shape, fmt, strip)
    with _turn, _client(scheduler) as client:
        try:
            stores.write(
                result,
                path,
                fmt,
                ndim=large.info.ndim,
                tile=tile if fmt == "tiff" else min(tile, 1024),
                zarr_format=zarr_format,
                compression=large.compression if large.compression in ("zlib", "zstd") else None,
                placement=placement,
                threads=threads,
                stop=stop,
                progress=progress,
                volume=task.window.axes == 3,
                client=client,
                dpi=kept.dpi,
                icc_profile=kept.icc_profile,
            )
        except (stores.Stopped, OutputError, MemoryError, PoolcliError):
            raise
        except Exception as exc:  # the codecs' many ways of saying a part is corrupt
            raise InputError(name, f"cannot be read: {exc}") from None


def _kept_metadata(info: Any, shape: tuple[int, ...], fmt: str, strip: bool) -> Any:
    """What a chunked output keeps of the input's ICC profile and resolution, as the in-memory
    path keeps them (:func:`poolcli.io.metadata.output_metadata`): TIFF outputs only, the
    resolution divided by how much the pooling shrank each axis."""
    from poolcli.io.metadata import OutputMetadata, output_metadata

    if fmt != "tiff":
        return OutputMetadata()
    mode = info.save_mode or "L"
    return output_metadata("TIFF", mode, int(shape[-2]), int(shape[-1]), info, strip=strip)


@contextlib.contextmanager
def _client(scheduler: str | None) -> Iterator[Any]:
    """The client of ``scheduler`` for the block; None without one, or on a worker already."""
    if scheduler is None:
        yield None
        return
    from poolcli.batch import cluster

    if cluster.inside_worker():
        yield None
        return
    with cluster.connected(scheduler) as client:
        yield client


def _pooled_in_memory(
    large: Large, task: Any, name: str, fmt: str, memory_limit: int | None
) -> Any:
    """A signal's pooling, in memory: the input read whole, if it fits ``memory_limit``, and
    pooled by the engine; the result a Dask array of one chunk, for the writers."""
    import dask.array as da

    if fmt not in ("zarr", "npy"):
        raise OutputError(
            name, f"a window of {task.window.axes} axes over a chunked input writes .zarr or .npy"
        )
    limit = default_memory_limit() if memory_limit is None else memory_limit
    if large.array.nbytes > limit:
        raise InputError(
            name,
            f"windows of 1 axis are pooled in memory, and it holds {large.array.nbytes} "
            f"bytes, more than the {{memory_limit}} of {limit}",
            ("memory_limit",),
        )
    values = large.array.compute(scheduler="sync")
    result = task.apply(values, large.info, None)
    return cast(Any, da).from_array(result, chunks=result.shape)


def pool_premultiplied(array: Any, op: str, kwargs: dict[str, Any]) -> Any:
    """The lazy pooling of an (N, C, H, W) Dask image whose last channel is alpha, by an
    averaging ``op``, as :func:`poolcli.imaging.alpha.pool_image` pools it in memory:
    premultiplied colour and alpha pooled, then the colour divided by the alpha stored."""
    import numpy as np

    from poolcli import chunked
    from poolcli.core import engine
    from poolcli.imaging import alpha

    dtype = engine.result_dtype(op, array.dtype)
    highest = alpha.alpha_highest(array.dtype)

    def premultiplied(block: np.ndarray) -> np.ndarray:
        work = np.empty(block.shape, dtype)
        for frame in range(block.shape[0]):
            alpha.premultiply_into(block[frame], highest, work[frame])
        return work

    def divided(block: np.ndarray) -> np.ndarray:
        colour = block.copy()
        inverse = np.empty(block.shape[2:], block.dtype)
        for frame in range(block.shape[0]):
            alpha.divide_by_alpha(colour[frame], highest, inverse)
        return colour

    whole = array.rechunk({1: -1}, method="tasks")  # each block holds every channel of its pixels
    work = whole.map_blocks(premultiplied, dtype=dtype)
    colour_pad = alpha.colour_padding(kwargs.get("pad_mode", "ignore"), highest)
    pooled: Any
    if colour_pad is None:
        pooled = chunked.pool(work, op, **kwargs)
    else:
        import dask.array as da

        colour = chunked.pool(work[:, :-1], op, **{**kwargs, "pad_mode": colour_pad})
        coverage = chunked.pool(work[:, -1:], op, **kwargs)
        pooled = (
            cast(Any, da).concatenate([colour, coverage], axis=1).rechunk({1: -1}, method="tasks")
        )
    return pooled.map_blocks(divided, dtype=pooled.dtype)


#: The most cells a window of 8-bit pixels may have for :func:`round_means`.
MEAN_CELLS = 4096


def _means_of_bytes(task: Any, source_dtype: Any) -> bool:
    """Whether every value pooled is a mean k/n of 8-bit integers over n <= MEAN_CELLS cells (or
    a median, a mean of two): padding counts no cell, or cells of an integer value."""
    import math

    pad = task.window.pad_mode
    whole_pad = isinstance(pad, str) or (float(pad).is_integer() and 0 <= pad <= 255)
    cells = math.prod(task.window.size)
    return str(source_dtype) == "uint8" and whole_pad and cells <= MEAN_CELLS


def round_means(values: Any, dtype: Any) -> Any:
    """Means of 8-bit pixels over at most :data:`MEAN_CELLS` cells, rounded half up to uint8 as
    :func:`poolcli.io.images.to_dtype` rounds them, in float32 at a twelfth of its time: such a
    mean is k/n, at least 1/(2n) from a half, far more than float32 can err at 255.

    >>> import numpy as np
    >>> round_means(np.array([0.25, 0.5, 127.49998, 254.5], np.float32), np.uint8)
    array([  0,   1, 127, 255], dtype=uint8)
    """
    import numpy as np

    rounded = np.add(values, np.float32(0.5), dtype=np.float32)
    np.floor(rounded, out=rounded)
    np.clip(rounded, 0, 255, out=rounded)
    return rounded.astype(dtype)


def _placement(geometry: Any, large: Large) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The output's pixel size and the centre of its pixel 0 in the input's units: on (y, x),
    and on z first for a volume's window (z in slices where the input gives no depth scale)."""
    scale = _times(_plane_strides(geometry), large.scale)
    translation = _times(_centre(geometry), large.scale)
    if len(geometry.axes) != 3:
        return scale, translation
    depth = geometry.axes[0]
    size = 1.0 if large.depth_scale is None else large.depth_scale
    centre = ((depth.size - 1) * depth.dilation) / 2 - depth.before
    return (float(depth.stride) * size, *scale), (centre * size, *translation)


def _centre(geometry: Any) -> tuple[float, float]:
    """Where the centre of output pixel 0 lies, in input pixels (y, x): its window's centre."""
    centres = [((axis.size - 1) * axis.dilation) / 2 - axis.before for axis in geometry.axes]
    return (0.0, *centres)[-2:] if len(centres) == 1 else (centres[-2], centres[-1])


def _plane_strides(geometry: Any) -> tuple[float, float]:
    """The stride on (y, x): the last two axes' (1 on y for a signal)."""
    strides = [float(axis.stride) for axis in geometry.axes]
    return (1.0, strides[0]) if len(strides) == 1 else (strides[-2], strides[-1])


def _times(values: tuple[float, float], scale: tuple[float, float] | None) -> tuple[float, float]:
    if scale is None:
        return float(values[0]), float(values[1])
    return float(values[0]) * scale[0], float(values[1]) * scale[1]
