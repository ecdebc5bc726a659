"""Inputs read in parts: Zarr arrays and OME-Zarr images, TIFF and BigTIFF, .npy files.

:func:`open_source` gives an input as a lazy (N, C, H, W) Dask array read chunk by chunk from
the file, never whole, with the :class:`~poolcli.io.metadata.ImageInfo` that the in-memory path
would give it, and :func:`decoded_bytes` tells from the header alone how large it is decoded.
With ``volumes=True`` an input with a z axis is an (N, C, D, H, W) volume instead.

- Zarr (format 2 and 3): an array of 2 to 5 dimensions, mapped as a .npy array is (H, W; C, H,
  W; N, C, H, W; N, C, D, H, W). With ``volumes``, a Zarr 3 array whose ``dimension_names``
  name a ``z`` axis before ``y, x`` is read by its names as an OME-Zarr image is.
- OME-Zarr (a group with ``multiscales``): its level 0, or ``level``; its ``channel`` axis is
  C, its last two space axes H and W, the others (time, z) N; with ``volumes``, its z (the
  space axis before y) is D and the others N, the image's scale on z, y and x carried.
- TIFF and BigTIFF, tiled or striped, through tifffile's Zarr store: samples are C, pages and
  every other axis N, as the in-memory path maps them.
- .npy through a memory map.

>>> import os, tempfile
>>> import numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "a.npy")
>>> np.save(path, np.arange(24, dtype=np.uint8).reshape(4, 6))
>>> source = open_source(path)
>>> source.array.shape, source.info.kind, source.info.ndim
((1, 1, 4, 6), 'array', 2)
>>> decoded_bytes(path)
24
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import threading
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np

from poolcli.errors import InputError
from poolcli.io import formats
from poolcli.io.metadata import ImageInfo
from poolcli.io.streams import os_reason
from poolcli.streaming import tiffrows

__all__ = [
    "CHUNK_PIXELS",
    "FileArray",
    "Source",
    "decoded_bytes",
    "kind_of",
    "open_source",
    "pixel_count",
    "read_chunks",
]

#: About how many pixels of one plane a chunk read holds: storage tiles or strips are grouped
#: into chunks of about this size, large enough that the per-chunk costs of Zarr and Dask stay
#: small, small enough that a thread's chunks stay a few tens of MiB.
CHUNK_PIXELS = 2048 * 2048

_dask: Any = da

_TIFF_EXTENSIONS = (".tif", ".tiff", ".btf", ".tf8", ".ome.tif", ".ome.tiff")


@dataclass(frozen=True)
class Source:
    """One input opened for reading in parts.

    Attributes
    ----------
    array : dask.array.Array
        (N, C, H, W), read lazily; (N, C, D, H, W) for a volume (a z axis read with
        ``volumes=True``, a Zarr array or .npy of 5 axes).
    info : ImageInfo
        What the in-memory path would say of it: kind ``"image"`` for TIFF (its mode from the
        photometric interpretation and samples), ``"array"`` for Zarr and .npy.
    tile : (int, int)
        The input's own spatial chunk (tile, or strip rows by width), for outputs to follow.
    compression : str or None
        The input's compression as tifffile or Zarr names it (``"zlib"``, ``"zstd"``), if any.
    scale : tuple of float, or None
        Pixel size on (H, W) where the input says it (OME-Zarr's scale of the level read).
    resources : tuple
        What :meth:`close` closes once the array has been computed (a TIFF's open file).
    depth_scale : float or None
        A volume's pixel size on D where the input says it (OME-Zarr's scale on z).
    unit : str or None
        The unit of the space axes where the input names one (OME-Zarr's ``unit`` of x).
    """

    array: da.Array
    info: ImageInfo
    tile: tuple[int, int]
    compression: str | None = None
    scale: tuple[float, float] | None = None
    resources: tuple[Any, ...] = ()
    depth_scale: float | None = None
    unit: str | None = None

    def close(self) -> None:
        """Close the files the array reads; it cannot be computed afterwards."""
        for resource in self.resources:
            resource.close()


def kind_of(path: str) -> str | None:
    """``"zarr"``, ``"tiff"`` or ``"npy"``: how :func:`open_source` reads ``path``; None for a
    format it does not read in parts (JPEG, PNG, ...).

    >>> kind_of("scan.TIF"), kind_of("a.npy"), kind_of("photo.jpg")
    ('tiff', 'npy', None)
    """
    lower = path.rstrip("/" + os.sep).lower()
    if formats.is_store(path):
        return "zarr"
    if lower.endswith(_TIFF_EXTENSIONS):
        return "tiff"
    if lower.endswith(".npy"):
        return "npy"
    return None


def decoded_bytes(path: str) -> int | None:
    """How many bytes ``path`` holds decoded (all its samples, as loaded), from its header; None
    when it is no input :func:`open_source` reads, or its header cannot be read (opening it
    then says why)."""
    kind = kind_of(path)
    try:
        if kind == "npy":
            array = np.load(path, mmap_mode="r")
            return int(array.nbytes)
        if kind == "tiff":
            import tifffile

            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                return int(math.prod(series.shape) * np.dtype(series.dtype).itemsize)
        if kind == "zarr":
            source = open_source(path)
            return int(source.array.nbytes)
    except Exception:  # a corrupt or foreign header: opening it says what is wrong
        return None
    return None


def pixel_count(path: str) -> int | None:
    """How many pixels (frames times height times width) ``path`` holds, from its header; None
    as for :func:`decoded_bytes`."""
    try:
        if kind_of(path) == "tiff":
            import tifffile

            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                samples = series.shape[series.axes.index("S")] if "S" in series.axes else 1
                return int(math.prod(series.shape)) // samples
        size = decoded_bytes(path)
        if size is None:
            return None
        return int(size) // int(np.dtype(np.load(path, mmap_mode="r").dtype).itemsize)
    except Exception:  # as decoded_bytes
        return None


def open_source(
    path: str, *, level: int | None = None, frame: int | None = None, volumes: bool = False
) -> Source:
    """``path`` as a lazy (N, C, H, W) Dask array with what the in-memory path says of it.

    ``level``: the OME-Zarr resolution level (0, the full resolution, by default). ``frame``:
    only frame (N index) K, as ``load_image(..., frame=K)``. ``volumes``: an OME-Zarr image or
    named Zarr 3 array with a z axis as an (N, C, D, H, W) volume, z as D (else z is N: planes
    pooled one by one).

    Raises :class:`~poolcli.errors.InputError` naming ``path`` for anything that cannot be read
    as an image or array of 2 to 4 dimensions of numbers.
    """
    kind = kind_of(path)
    if level is not None and kind != "zarr":
        raise InputError(path, "{level} is for OME-Zarr inputs", ("level",))
    try:
        if kind == "zarr":
            source = _open_zarr(path, level, volumes)
        elif kind == "tiff":
            source = _open_tiff(path)
        elif kind == "npy":
            source = _open_npy(path)
        else:
            raise InputError(path, "is read whole, not in parts (only Zarr, TIFF and .npy are)")
    except InputError:
        raise
    except OSError as exc:
        raise InputError(path, os_reason(exc)) from None
    except Exception as exc:  # the readers' many ways of saying a file is corrupt
        raise InputError(path, f"cannot be read: {exc}") from None
    if source.array.dtype.kind not in "iuf":
        raise InputError(path, f"holds {source.array.dtype} values; expected numbers")
    if source.array.size == 0:
        raise InputError(path, f"is empty (shape {source.array.shape})")
    if frame is not None:
        count = source.array.shape[0]
        if not 0 <= frame < count:
            raise InputError(
                path, f"has {count} frame(s); {{frame={frame}}} is out of range", ("frame",)
            )
        array = source.array[frame : frame + 1]
        info = dataclasses.replace(source.info, frames=count, frame=frame)
        source = dataclasses.replace(source, array=array, info=info)
    return source


def read_chunks(
    shape: tuple[int, int], storage: tuple[int, int], depth: int = 1
) -> tuple[int, int]:
    """The spatial chunk to read: whole storage chunks (``storage``, rows by columns), grouped to
    about :data:`CHUNK_PIXELS` pixels (in all, over ``depth`` slices), squarish where the
    storage allows.

    >>> read_chunks((40000, 40000), (512, 512)), read_chunks((9000, 30000), (16, 30000))
    ((2048, 2048), (128, 30000))
    >>> read_chunks((40000, 40000), (512, 512), depth=16)
    (512, 512)
    """
    height, width = shape
    pixels = max(1, CHUNK_PIXELS // max(1, depth))
    rows, cols = (max(1, min(s, n)) for s, n in zip(storage, shape, strict=True))
    side = math.isqrt(pixels)
    across = max(1, min(side // cols, math.ceil(width / cols))) if cols < width else 1
    cols_read = min(width, cols * across)
    down = max(1, pixels // (cols_read * rows))
    rows_read = min(height, rows * max(1, min(down, math.ceil(height / rows))))
    return rows_read, cols_read


def _as_nchw(array: da.Array, ndim: int) -> da.Array:
    """A 2- to 4-dimensional array with leading axes of length 1 added to make it 4."""
    result: da.Array = array[(np.newaxis,) * (4 - ndim)]
    return result


def _from_sliceable(
    values: Any,
    storage: tuple[int, ...],
    y: int = -2,
    samples: int | None = None,
    depth: int | None = None,
) -> da.Array:
    """``values`` (a zarr array, a memory map) as a Dask array read in whole storage chunks
    grouped spatially (:func:`read_chunks`) on axes ``y`` and ``y + 1``, all ``samples`` (an
    axis) together, one index of every other axis each. A volume's ``depth`` axis is read a
    storage chunk deep (each stored chunk decoded once), its planes grouped to as many pixels
    in all."""
    shape = tuple(int(n) for n in values.shape)
    y %= len(shape)
    deep = 1 if depth is None else max(1, min(int(storage[depth]), shape[depth]))
    spatial = read_chunks((shape[y], shape[y + 1]), (storage[y], storage[y + 1]), deep)
    chunks = [1] * len(shape)
    chunks[y : y + 2] = spatial
    if depth is not None:
        chunks[depth] = deep
    if samples is not None:
        chunks[samples] = shape[samples]
    array: da.Array = _dask.from_array(values, chunks=tuple(chunks), asarray=True, lock=False)
    return array


class FileArray:
    """A TIFF (through tifffile's Zarr store) or a .npy (through a memory map), read by slicing
    and opened on its first read in each process: it pickles as its path, so that Dask's workers,
    in other processes or on other machines with the same files, open the file themselves
    (tifffile's store holds an open file, which does not pickle).

    >>> import os, pickle, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npy")
    >>> np.save(path, np.arange(6).reshape(2, 3))
    >>> values = pickle.loads(pickle.dumps(FileArray(path, "npy", (2, 3), np.dtype(int), (1, 3))))
    >>> values[1:, 1:].tolist()
    [[4, 5]]
    """

    def __init__(
        self,
        path: str,
        kind: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        chunks: tuple[int, ...],
    ) -> None:
        self.path = os.path.abspath(path)
        self.kind = kind
        self.shape = shape
        self.dtype = dtype
        self.chunks = chunks
        self.ndim = len(shape)
        self._opened: tuple[Any, Any] | None = None  # (the values, what to close)
        self._closed = False
        self._reading = 0  # reads under way
        self._lock = threading.Condition()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_opened"] = None
        state["_closed"] = False
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reading = 0
        self._lock = threading.Condition()

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        stat = os.stat(self.path)
        return ("poolcli-file", self.path, self.kind, stat.st_size, stat.st_mtime_ns)

    def __getitem__(self, key: Any) -> np.ndarray:
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.path} was closed")
            if self._opened is None:
                self._opened = _open_file(self.path, self.kind)
            values = self._opened[0]
            self._reading += 1
        try:
            return np.asarray(values[key])
        finally:
            with self._lock:
                self._reading -= 1
                self._lock.notify_all()

    def close(self) -> None:
        """Close the file for good, once the reads under way end (tifffile would reopen a file
        closed under a read): a task left running after a failed computation cannot open it
        again. A copy unpickled elsewhere opens its own."""
        with self._lock:
            self._closed = True
            self._lock.wait_for(lambda: self._reading == 0, timeout=60)
            if self._opened is not None and self._opened[1] is not None:
                _close_store(self._opened[1])
            self._opened = None


def _close_store(store: Any) -> None:
    """Close tifffile's Zarr store for good. A read that failed (a corrupt tile) leaves Zarr's
    other fetches of that read under way, and tifffile's file cache would reopen the file for
    them after the close, leaving it open: they find a cache that refuses instead."""
    store.close()
    with contextlib.suppress(AttributeError, TypeError):
        store._filecache = _ClosedCache()


class _ClosedCache:
    """What a closed store reads through: nothing."""

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        raise ValueError("the file was closed")

    def clear(self) -> None:
        pass


def _open_file(path: str, kind: str) -> tuple[Any, Any]:
    if kind == "npy":
        return np.load(path, mmap_mode="r", allow_pickle=False), None
    import tifffile
    import zarr

    store = tifffile.imread(path, aszarr=True, series=0, level=0)
    try:
        return zarr.open(store=store, mode="r"), store
    except BaseException:
        store.close()
        raise


def _open_npy(path: str) -> Source:
    try:
        values = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise InputError(path, f"corrupt or truncated .npy file: {exc}") from None
    if not isinstance(values, np.ndarray):
        raise InputError(path, "not a .npy file")
    if values.ndim not in (2, 3, 4, 5):
        raise InputError(
            path,
            f"array has {values.ndim} dimensions; expected 2 (H, W), 3 (C, H, W), "
            "4 (N, C, H, W) or 5 (N, C, D, H, W)",
        )
    rows = max(1, min(values.shape[-2], CHUNK_PIXELS // max(1, values.shape[-1])))
    storage = (*(1 for _ in values.shape[:-2]), rows, values.shape[-1])
    reader = FileArray(path, "npy", values.shape, values.dtype, storage)
    del values
    array = _as_nchw(_from_sliceable(reader, storage), reader.ndim)
    info = _array_info(array, None, reader.ndim)
    tile = (min(512, array.shape[-2]), min(512, array.shape[-1]))
    return Source(array, info, tile, resources=(reader,))


def _array_info(array: da.Array, fmt: str | None, ndim: int) -> ImageInfo:
    return ImageInfo(
        kind="array",
        format=fmt,
        mode=None,
        save_mode=None,
        dtype=np.dtype(array.dtype).name,
        frames=int(array.shape[0]),
        ndim=ndim,
    )


# ---------------------------------------------------------------------------------------------
# Zarr and OME-Zarr


def _open_zarr(path: str, level: int | None, volumes: bool = False) -> Source:
    import zarr

    if not os.path.exists(path):
        raise InputError(path, "no such file or folder")
    if not os.path.isdir(path):
        raise InputError(path, "is no Zarr store (a Zarr store is a folder)")
    try:
        node = zarr.open(store=os.path.abspath(path), mode="r")  # as workers elsewhere find it
    except (FileNotFoundError, zarr.errors.NodeNotFoundError):
        raise InputError(
            path, "holds no Zarr array or group (no zarr.json, .zarray or .zgroup)"
        ) from None
    if isinstance(node, zarr.Array):
        if level is not None:
            raise InputError(
                path, "is a Zarr array, not an OME-Zarr image with {level}s", ("level",)
            )
        named = _dimension_names(node) if volumes else None
        if named is not None:
            return _named_zarr(path, node, named)
        return _plain_zarr(path, node)
    return _ome_zarr(path, node, 0 if level is None else level, volumes)


def _plain_zarr(path: str, values: Any) -> Source:
    if values.ndim not in (2, 3, 4, 5):
        raise InputError(
            path,
            f"array has {values.ndim} dimensions; expected 2 (H, W), 3 (C, H, W), "
            "4 (N, C, H, W) or 5 (N, C, D, H, W)",
        )
    storage = tuple(int(n) for n in values.chunks)
    array = _as_nchw(_from_sliceable(values, storage), values.ndim)
    info = _array_info(array, "ZARR", values.ndim)
    return Source(array, info, (storage[-2], storage[-1]), _zarr_compression(values))


def _zarr_compression(values: Any) -> str | None:
    """The name of a zarr array's compressor (``"zstd"``, ``"zlib"``, ``"blosc"``), if any."""
    try:
        compressors = values.compressors
    except AttributeError:
        return None
    for compressor in compressors:
        name = str(getattr(compressor, "codec_id", type(compressor).__name__)).lower()
        for known in ("zstd", "zlib", "gzip", "blosc", "lz4"):
            if known in name:
                return "zlib" if known == "gzip" else known
    return None


def multiscales_of(attributes: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ``multiscales`` of a group's attributes: OME-Zarr 0.5's (under ``ome``) or 0.4's."""
    found = attributes.get("ome", {}).get("multiscales", attributes.get("multiscales"))
    return found if isinstance(found, list) and found else None


def _dimension_names(values: Any) -> list[str] | None:
    """A Zarr 3 array's ``dimension_names`` (lower case) when they name a z axis before y and x,
    every axis named; else None."""
    names = getattr(getattr(values, "metadata", None), "dimension_names", None)
    if not names or any(not isinstance(name, str) for name in names):
        return None
    lowered = [str(name).lower() for name in names]
    if lowered[-2:] != ["y", "x"] or "z" not in lowered[:-2]:
        return None
    return lowered


def _named_zarr(path: str, values: Any, names: list[str]) -> Source:
    """A Zarr array read by its dimension names as a volume (z as D, c as C, the others N)."""
    types: list[str | None] = [
        "channel" if name == "c" else "space" if name == "z" else None for name in names
    ]
    storage = tuple(int(n) for n in values.chunks)
    laid = _laid_out(path, values, names, types, storage, volumes=True)
    info = _array_info(laid.array, "ZARR", values.ndim)
    return Source(laid.array, info, (storage[-2], storage[-1]), _zarr_compression(values))


@dataclass(frozen=True)
class _Layout:
    """An array's axes put in poolcli's order: the array, and which axis was read as D."""

    array: da.Array
    depth: int | None


def _laid_out(
    path: str,
    values: Any,
    axes: list[str],
    types: list[str | None],
    storage: tuple[int, ...],
    volumes: bool,
) -> _Layout:
    """``values`` (axes named ``axes`` of ``types``) as (N, C, H, W), or (N, C, D, H, W) when
    ``volumes`` and it has a z axis: the channel axis is C, the last two axes H and W, the space
    axis before them D, the others N, in their order."""
    ndim = values.ndim
    channel = [i for i, (name, kind) in enumerate(zip(axes, types, strict=True))
               if kind == "channel" or name == "c"]  # fmt: skip
    if channel and channel[0] >= ndim - 2:
        raise InputError(path, f"its channel axis comes after y and x: axes {axes}")
    depth: int | None = None
    if volumes:
        spaces = [i for i in range(ndim - 2) if i not in channel[:1]
                  and (types[i] == "space" or axes[i] == "z")]  # fmt: skip
        depth = spaces[-1] if spaces else None
    leading = [i for i in range(ndim - 2) if i not in (*channel[:1], depth)]
    array = _from_sliceable(values, storage, depth=depth)
    inner = [*channel[:1], *([] if depth is None else [depth])]
    array = _dask.transpose(array, [*leading, *inner, ndim - 2, ndim - 1])
    n = math.prod(int(array.shape[i]) for i in range(len(leading)))
    c = int(values.shape[channel[0]]) if channel else 1
    middle = () if depth is None else (int(values.shape[depth]),)
    array = array.reshape((n, c, *middle, *array.shape[-2:]))
    return _Layout(array, depth)


def _ome_zarr(path: str, group: Any, level: int, volumes: bool = False) -> Source:
    multiscales = multiscales_of(dict(group.attrs))
    if multiscales is None:
        raise InputError(
            path, "is a Zarr group without OME-Zarr multiscales; name one of its arrays"
        )
    image = multiscales[0]
    datasets = image.get("datasets", [])
    if not 0 <= level < len(datasets):
        raise InputError(
            path, f"has {len(datasets)} level(s); {{level={level}}} is out of range", ("level",)
        )
    values = group[datasets[level]["path"]]
    entries = image.get("axes", [])
    axes = [a if isinstance(a, str) else a.get("name", "") for a in entries]
    types = [None if isinstance(a, str) else a.get("type") for a in entries]
    if len(axes) != values.ndim or values.ndim < 2:
        raise InputError(path, f"its axes {axes} do not match its array of shape {values.shape}")
    storage = tuple(int(n) for n in values.chunks)
    laid = _laid_out(path, values, axes, types, storage, volumes)
    scale = _level_scale(datasets[level], values.ndim)
    depth_scale = None
    if laid.depth is not None:
        depth_scale = _axis_scale(datasets[level], values.ndim, laid.depth)
    unit = None if isinstance(entries[-1], str) else entries[-1].get("unit")
    info = _array_info(laid.array, "OME-ZARR", laid.array.ndim)
    return Source(
        laid.array,
        info,
        (storage[-2], storage[-1]),
        _zarr_compression(values),
        scale,
        depth_scale=depth_scale,
        unit=unit if isinstance(unit, str) else None,
    )


def _level_scale(dataset: dict[str, Any], ndim: int) -> tuple[float, float] | None:
    y, x = _axis_scale(dataset, ndim, ndim - 2), _axis_scale(dataset, ndim, ndim - 1)
    return None if y is None or x is None else (y, x)


def _axis_scale(dataset: dict[str, Any], ndim: int, axis: int) -> float | None:
    """A level's scale on ``axis``, where its coordinate transformations give one."""
    for transform in dataset.get("coordinateTransformations", []):
        if transform.get("type") == "scale" and len(transform.get("scale", [])) == ndim:
            return float(transform["scale"][axis])
    return None


# ---------------------------------------------------------------------------------------------
# TIFF


def _open_tiff(path: str) -> Source:
    import tifffile

    with open(path, "rb"):  # a missing or unreadable file is an OSError, said plainly
        pass
    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise InputError(path, "holds no image")
        series = tif.series[0]
        page: Any = series.pages[0]
        axes, shape = series.axes, tuple(int(n) for n in series.shape)
        photometric = int(getattr(page, "photometric", 1))
        extrasamples = tuple(getattr(page, "extrasamples", ()) or ())
        tile = (
            (int(page.tilelength), int(page.tilewidth))
            if page.is_tiled
            else (int(page.rowsperstrip or shape[axes.index("Y")]), int(page.imagewidth))
        )
        compression = _tiff_compression(page)
        dpi, icc = tiffrows.page_dpi(page), tiffrows.page_icc(page)
    if "Y" not in axes or "X" not in axes or axes.index("X") != axes.index("Y") + 1:
        raise InputError(path, f"unsupported TIFF layout {axes}")
    opened, store = _open_file(path, "tiff")
    with contextlib.closing(store):
        values = FileArray(path, "tiff", tuple(opened.shape), opened.dtype, tuple(opened.chunks))
    storage = tuple(int(n) for n in values.chunks)
    samples = axes.index("S") if "S" in axes else None
    y = axes.index("Y")
    array = _from_sliceable(values, storage, y, samples)
    if samples is not None and samples not in (y - 1, y + 2):
        raise InputError(path, f"unsupported TIFF layout {axes}")
    leading = [i for i in range(len(axes)) if axes[i] not in "YXS"]
    order = [*leading, *([] if samples is None else [samples]), y, y + 1]
    array = _dask.transpose(array, order)
    n = math.prod(shape[i] for i in leading)
    c = 1 if samples is None else shape[samples]
    array = array.reshape((n, c, shape[y], shape[y + 1]))
    mode = _tiff_mode(photometric, c, np.dtype(array.dtype), bool(extrasamples))
    info = ImageInfo(
        kind="image",
        format="TIFF",
        mode=mode,
        save_mode=mode,
        dtype=np.dtype(array.dtype).name,
        frames=n,
        icc_profile=icc,
        dpi=dpi,
        size=(int(shape[y]), int(shape[y + 1])),
    )
    return Source(array, info, tile, compression, resources=(values,))


def _tiff_compression(page: Any) -> str | None:
    name = str(getattr(page.compression, "name", page.compression)).lower()
    if name in ("none", "1"):
        return None
    for known in ("zstd", "deflate", "adobe_deflate", "lzw", "jpeg", "webp", "lzma"):
        if known in name:
            return "zlib" if "deflate" in known else known
    return None


def _tiff_mode(photometric: int, channels: int, dtype: np.dtype, extra: bool) -> str | None:
    """The Pillow-like mode of a TIFF's pixels (``"L"``, ``"I;16"``, ``"RGB;16"``...), or None
    when no Pillow mode holds them."""
    wide = dtype == np.uint16
    if dtype not in (np.uint8, np.uint16):
        return "F" if channels == 1 and dtype == np.float32 else None
    if channels == 1:
        return "I;16" if wide else "L"
    if photometric == 5 and channels == 4:  # separated: CMYK
        return None if wide else "CMYK"
    named = {2: "LA", 3: "RGB", 4: "RGBA"}.get(channels)
    if named is None or (named in ("LA", "RGBA") and not extra):
        return None
    return f"{named};16" if wide else named
