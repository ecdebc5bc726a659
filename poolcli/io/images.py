"""Images, .npy arrays and .csv/.txt matrices in and out as (N, C, H, W) arrays.

Pillow reads and writes the pictures, in the modes of the table below. A loaded one-frame image
comes back as a read-only view of the pixels Pillow decoded, laid out (1, C, H, W) by a transpose:
nothing is copied into planar layout. An animated GIF, WebP or PNG, or a multi-page TIFF, loads
every frame into one (N, H, W, C) buffer, returned the same way as an (N, C, H, W) view. Saving
takes any (N, C, H, W) array, contiguous or not, and hands the encoder one contiguous (H, W, C)
buffer per frame. :func:`read_header` tells the shape, mode and dtype load_image would give from
the file's header alone, where the format allows.

Modes as loaded, and as written back:

======================  ===  =======  ================
Pillow mode             C    dtype    written back as
======================  ===  =======  ================
1                       1    uint8    L (values 0/255)
L                       1    uint8    L
P                       3    uint8    RGB
P with transparency     4    uint8    RGBA
LA                      2    uint8    LA
PA                      4    uint8    RGBA
RGB, YCbCr              3    uint8    same mode
RGBA, CMYK              4    uint8    same mode
I;16, I;16L, I;16B      1    uint16   I;16
I                       1    int32    I
F                       1    float32  F
16-bit LA PNG           2    uint16   LA;16
16-bit RGB PNG/TIFF     3    uint16   RGB;16
16-bit RGBA PNG/TIFF    4    uint16   RGBA;16
======================  ===  =======  ================

Pillow reads 16-bit colour PNG and TIFF files as 8-bit; the last three rows are read and written
by imagecodecs (PNG) and tifffile (TIFF), the optional ``full-depth`` extra. Without it such a
file is refused (:class:`~poolcli.errors.InputError` naming the extra), never cut to 8 bits.

Metadata: the ICC profile, EXIF (less the orientation tag once it has been applied, with its pixel
dimensions updated) and the resolution (DPI, divided by the pooling stride) are carried to the
output formats that hold them; ``save_image(..., strip=True)`` drops them all.

Examples
--------
>>> import numpy as np
>>> print(format_matrix(np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 10]])))
1 2 1  0
0 1 2  3
3 0 1  2
2 4 0 10
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import math
import os
import re
import stat
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

import numpy as np
from PIL import Image

from poolcli.errors import InputError, OutputError
from poolcli.io import formats
from poolcli.io.atomic import Encoder, write_output
from poolcli.io.formats import image_format_for
from poolcli.io.metadata import (
    PILLOW_TRANSPOSE,
    FileMetadata,
    ImageInfo,
    OutputMetadata,
    output_metadata,
)
from poolcli.io.modes import SAVE_MODES, WIDE_BY_CHANNELS, WIDE_MODES
from poolcli.io.pictures import (
    check_size,
    opened,
    output_format,
    pillow_params,
    pixel_limit,
    read_input,
    save_with_pillow,
    wide_colour,
)
from poolcli.io.quiet import quiet
from poolcli.io.streams import os_reason, stream_name

__all__ = [
    "FULL_DEPTH_INSTALL",
    "Header",
    "ImageInfo",
    "channel_names",
    "format_matrix",
    "image_format_for",
    "load_image",
    "mode_for_array",
    "read_header",
    "save_image",
    "to_dtype",
    "to_pillow",
]

#: How to install what 16-bit colour needs; named in the errors that need it.
FULL_DEPTH_INSTALL = "pip install 'poolcli-image[full-depth]'"

# Pillow mode as loaded -> (mode to convert to first or None, numpy dtype of its bytes, save mode)
_LOAD_MODES: dict[str, tuple[str | None, str, str]] = {
    "1": ("L", "u1", "L"),
    "L": (None, "u1", "L"),
    "LA": (None, "u1", "LA"),
    "La": ("LA", "u1", "LA"),
    "PA": ("RGBA", "u1", "RGBA"),
    "RGB": (None, "u1", "RGB"),
    "RGBX": ("RGB", "u1", "RGB"),
    "RGBA": (None, "u1", "RGBA"),
    "RGBa": ("RGBA", "u1", "RGBA"),
    "CMYK": (None, "u1", "CMYK"),
    "YCbCr": (None, "u1", "YCbCr"),
    "I;16": (None, "<u2", "I;16"),
    "I;16L": (None, "<u2", "I;16"),
    "I;16B": (None, ">u2", "I;16"),
    "I;16N": (None, "=u2", "I;16"),
    "I": (None, "=i4", "I"),
    "F": (None, "=f4", "F"),
}

_NPY_MAGIC = b"\x93NUMPY"
_INT_LITERAL = re.compile(r"[+-]?\d+\Z")
_FIELD_SPLIT = re.compile(r"\s*,\s*|\s+")


# EXIF orientation -> the numpy view of an (H, W, C) array that displays it upright
_ORIENT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: a[::-1].transpose(1, 0, 2),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: a[:, ::-1].transpose(1, 0, 2),
}


# ---------------------------------------------------------------------------------------------
# Loading


def load_image(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    max_pixels: int | None = None,
    frame: int | None = None,
    auto_orient: bool = True,
    volumes: bool = False,
) -> tuple[np.ndarray, ImageInfo]:
    """Load an image, a .npy array or a .csv/.txt matrix as an (N, C, H, W) array.

    Parameters
    ----------
    source : str, os.PathLike or binary stream
        A file path, or a readable binary stream such as ``sys.stdin.buffer`` (read fully; named
        ``<stdin>`` in errors). A path ending in .npy is an array, .csv or .txt a matrix, anything
        else an image Pillow can open. A stream is an array if it starts with the .npy magic, an
        image if Pillow recognises it, else a matrix if it parses as one.
    max_pixels : int, optional
        Largest width x height accepted, for the image and each of its frames; by default
        Pillow's ``Image.MAX_IMAGE_PIXELS`` (None there means no limit).
    frame : int, optional
        Load only this frame (0 for the first) of an animation or multi-page file, or of the
        N axis of a .npy array. By default every frame is loaded.
    auto_orient : bool, default True
        Apply the EXIF orientation, so the array looks as the image is displayed; the orientation
        tag is then not carried to the output. False keeps the stored pixel order and the tag.
    volumes : bool, default False
        Also take a .npy array of 5 dimensions, (N, C, D, H, W), returned as it is: for
        windows that pool volumes.

    Returns
    -------
    array : numpy.ndarray
        (N, C, H, W). For an image the array is a read-only view (a transpose) of (N, H, W, C)
        pixels: copy it before writing into it. A .npy array of rank 2 or 3 gains leading axes
        of length 1. A matrix is int64 when every value is an integer literal, else float64.
    info : ImageInfo
        What was loaded, for :func:`save_image`.

    Raises
    ------
    InputError
        For any file that cannot be used: missing, a folder, empty, not an image, truncated or
        corrupt, larger than ``max_pixels``, without the frame asked for, 16-bit colour without
        the full-depth extra, or a .npy/.csv of the wrong shape or content.

    Examples
    --------
    >>> import io
    >>> x, info = load_image(io.BytesIO(b"1, 2, 1, 0\\n0, 1, 2, 3\\n"))
    >>> x.shape, info.kind, info.dtype
    ((1, 1, 2, 4), 'matrix', 'int64')
    """
    if max_pixels is not None and max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, got {max_pixels}")
    if frame is not None and frame < 0:
        raise ValueError(f"frame must be at least 0, got {frame}")
    options = _LoadOptions(max_pixels, frame, auto_orient, volumes)
    if not isinstance(source, str | os.PathLike):
        name = stream_name(source, "<stdin>")
    else:
        name = os.fsdecode(os.fspath(source))
    try:
        return _load(source, name, options)
    except MemoryError:
        raise InputError(name, "not enough memory to load it") from None


def _load(
    source: str | os.PathLike[str] | BinaryIO, name: str, options: _LoadOptions
) -> tuple[np.ndarray, ImageInfo]:
    frame = options.frame
    if not isinstance(source, str | os.PathLike):
        data = read_input(source, name, options.max_pixels, "empty input")
        return _load_bytes(data, name, options, kind=None)

    path = name
    kind = _kind_for(path)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, os_reason(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        # A pipe or device (e.g. a shell's <(...)): read it once, as a stream, and no further
        # than an image under the limit takes (/dev/zero is endless).
        try:
            with open(path, "rb") as stream:
                data = read_input(stream, path, options.max_pixels, "empty file")
        except OSError as exc:
            raise InputError(path, os_reason(exc)) from None
        return _load_bytes(data, path, options, kind=kind)
    if st.st_size == 0:
        raise InputError(path, "empty file")
    if kind == "array":
        return _pick_frame(*_load_npy(path, path, options.volumes), path, frame)
    if kind == "matrix":
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            raise InputError(path, os_reason(exc)) from None
        return _pick_frame(*_load_matrix(data, path), path, frame)
    return _load_picture(path, path, options)


@dataclass(frozen=True)
class _LoadOptions:
    max_pixels: int | None
    frame: int | None
    auto_orient: bool
    volumes: bool = False


@dataclass(frozen=True)
class _SaveOptions:
    quality: int | None
    strip: bool
    scale: tuple[float, float] | None


def _kind_for(path: str) -> str:
    """What the file at ``path`` is read as, by its extension: "image", "array" or "matrix"."""
    found = formats.for_path(path)
    return "image" if found is None else found.kind


def _holds_frames(pillow_format: str | None) -> bool:
    """Whether every frame of a file in ``pillow_format`` is loaded (others load frame 0)."""
    found = formats.by_pillow(pillow_format)
    return found is not None and found.frames is not None


def _load_bytes(
    data: bytes, name: str, options: _LoadOptions, kind: str | None
) -> tuple[np.ndarray, ImageInfo]:
    """Load ``data`` as ``kind`` says, or (None: a stream) as its first bytes tell."""
    if kind == "array" or (kind is None and data.startswith(_NPY_MAGIC)):
        loaded = _load_npy(io.BytesIO(data), name, options.volumes)
        return _pick_frame(*loaded, name, options.frame)
    if kind == "matrix":
        return _pick_frame(*_load_matrix(data, name), name, options.frame)
    try:
        return _load_picture(io.BytesIO(data), name, options)
    except InputError as exc:
        if kind is not None or exc.reason != "cannot identify image file":
            raise
        try:
            return _pick_frame(*_load_matrix(data, name), name, options.frame)
        except InputError:
            raise exc from None


def _pick_frame(
    array: np.ndarray, info: ImageInfo, name: str, frame: int | None
) -> tuple[np.ndarray, ImageInfo]:
    """Frame ``frame`` of a .npy array or matrix (its N axis), or all of it."""
    if frame is None:
        return array, info
    _check_frame(name, frame, array.shape[0])
    return array[frame : frame + 1], dataclasses.replace(info, frame=frame)


def _check_frame(name: str, frame: int, count: int) -> None:
    if frame >= count:
        frames = "1 frame (0)" if count == 1 else f"{count} frames (0 to {count - 1})"
        raise InputError(name, f"has no frame {frame}: it has {frames}")


def _load_picture(
    fp: str | io.BytesIO, name: str, options: _LoadOptions
) -> tuple[np.ndarray, ImageInfo]:
    with opened(fp, name, options.max_pixels, every_frame=options.frame is None) as img_file:
        return _decode(img_file, fp, name, options)


def _decode(
    img_file: Image.Image, fp: str | io.BytesIO, name: str, options: _LoadOptions
) -> tuple[np.ndarray, ImageInfo]:
    """Every frame asked for, and what was loaded; ``img_file`` is open and on frame 0."""
    count = getattr(img_file, "n_frames", 1)
    if options.frame is not None:
        _check_frame(name, options.frame, count)
        indices: Sequence[int] = [options.frame]
    elif _holds_frames(img_file.format):
        indices = range(count)
    else:
        indices = [0]
    mode = img_file.mode
    wide = wide_colour(img_file)
    if wide is not None:
        if img_file.format == "PNG" and count > 1:
            raise InputError(
                name, "cannot read a 16-bit colour animated PNG; write its frames as 16-bit TIFF"
            )
        meta = FileMetadata.of(img_file, options.auto_orient, decoded=False)
        hwc_frames = _read_wide(fp, name, wide, indices, _limit(options))
        array, save_mode = _stack_frames(name, hwc_frames, meta.orientation, len(indices))
        mode = save_mode
        durations = None
    else:
        meta = None
        durations_seen: list[Any] = []

        def frames() -> Iterator[tuple[np.ndarray, str]]:
            nonlocal meta
            for index in indices:
                if index != img_file.tell():
                    img_file.seek(index)
                    _check_pixels(name, img_file.size, _limit(options))  # a page's own size
                img_file.load()
                if meta is None:
                    meta = FileMetadata.of(img_file, options.auto_orient)
                durations_seen.append(img_file.info.get("duration"))
                img = img_file
                if meta.orientation in PILLOW_TRANSPOSE:
                    img = img_file.transpose(PILLOW_TRANSPOSE[meta.orientation])
                yield _pixels(img, name)

        array, save_mode = _stack_frames(name, frames(), None, len(indices))
        durations = _durations(durations_seen, img_file.format)
    assert meta is not None  # read with the first frame
    info = ImageInfo(
        kind="image",
        format=img_file.format,
        mode=mode,
        save_mode=save_mode,
        dtype=array.dtype.name,
        frames=count,
        ndim=4,
        icc_profile=meta.icc_profile,
        exif=meta.exif,
        dpi=meta.dpi,
        durations=durations,
        loop=meta.loop,
        size=(array.shape[2], array.shape[3]),
        frame=options.frame,
    )
    return array, info


def _limit(options: _LoadOptions) -> int | None:
    """The pixel limit of a load: ``max_pixels``, else Pillow's."""
    limit = Image.MAX_IMAGE_PIXELS if options.max_pixels is None else options.max_pixels
    return None if limit is None else int(limit)


def _check_pixels(
    name: str, size: tuple[int, int], limit: int | None, what: str = "a frame has"
) -> None:
    """InputError when a frame of ``size`` (width, height) passes the pixel ``limit``."""
    pixels = size[0] * size[1]
    if limit is not None and pixels > limit:
        raise InputError(
            name,
            f"{what} {pixels} pixels, more than the limit of {limit}; raise it with {{max_pixels}}",
            ("max_pixels",),
        )


def _durations(seen: list[Any], fmt: str | None) -> tuple[float, ...] | None:
    found = formats.by_pillow(fmt)
    if found is None or found.frames != "animation" or not seen:
        return None
    if any(not isinstance(d, int | float) or isinstance(d, bool) for d in seen):
        return None
    return tuple(seen)


def _full_depth_module(
    module: str, what: str, error: type[InputError | OutputError], name: str
) -> Any:
    """Import imagecodecs or tifffile, or raise ``error`` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise error(name, f"{what} needs the full-depth extra: {FULL_DEPTH_INSTALL}") from None


def _read_wide(
    fp: str | io.BytesIO, name: str, fmt: str, indices: Sequence[int], limit: int | None
) -> Iterator[tuple[np.ndarray, str]]:
    """16-bit colour frames as (H, W, C) uint16 arrays, read by the full-depth extra; the pixels
    of the pages asked for, as tifffile reads their headers, are held to ``limit`` before any
    is decoded."""
    if fmt == "PNG":
        imagecodecs = _full_depth_module("imagecodecs", "16-bit colour PNG", InputError, name)
        if isinstance(fp, str):
            with open(fp, "rb") as stream:
                data = stream.read()
        else:
            data = fp.getvalue()
        pages: Iterator[np.ndarray] = iter([imagecodecs.png_decode(data)])
    else:
        tifffile = _full_depth_module("tifffile", "16-bit colour TIFF", InputError, name)

        def tiff_pages() -> Iterator[np.ndarray]:
            if not isinstance(fp, str):
                fp.seek(0)
            with quiet(), tifffile.TiffFile(fp) as tif:
                chosen = [tif.pages[index] for index in indices]
                total = sum(int(page.imagewidth) * int(page.imagelength) for page in chosen)
                _check_pixels(name, (total, 1), limit, "its pages have")
                for page in chosen:
                    values = page.asarray()
                    if page.axes == "SYX":  # planar storage
                        values = values.transpose(1, 2, 0)
                    elif page.axes != "YXS":
                        raise InputError(name, f"unsupported TIFF layout {page.axes}")
                    yield values

        pages = tiff_pages()
    for values in pages:
        if values.ndim != 3 or values.shape[2] not in WIDE_BY_CHANNELS:
            raise InputError(name, f"unsupported 16-bit image of shape {values.shape}")
        if values.dtype != np.uint16:
            raise InputError(name, f"unsupported 16-bit image of {values.dtype} samples")
        yield values, WIDE_BY_CHANNELS[values.shape[2]]


def _layout(img: Image.Image) -> tuple[str | None, str, str]:
    """How an open image loads, from its header: (mode to convert to first or None, numpy dtype
    of its bytes, save mode), as in :data:`_LOAD_MODES`."""
    mode = img.mode
    if mode == "P":
        if img.has_transparency_data:
            return "RGBA", "u1", "RGBA"
        return "RGB", "u1", "RGB"
    if mode in _LOAD_MODES:
        return _LOAD_MODES[mode]
    if mode.startswith("I;"):  # signed or 32-bit raw integer modes
        return "I", "=i4", "I"
    return "RGB", "u1", "RGB"  # LAB, HSV and other rare modes: as RGB


def _pixels(img: Image.Image, name: str) -> tuple[np.ndarray, str]:
    """(H, W, C) read-only view of the image's pixels, and the mode to write back."""
    mode = img.mode
    convert, dtype, save_mode = _layout(img)
    if convert is not None:
        try:
            img = img.convert(convert)
        except ValueError:
            raise InputError(name, f"unsupported image mode {mode}") from None
    width, height = img.size
    channels = SAVE_MODES[save_mode][0]
    hwc = np.frombuffer(
        _raw_bytes(img, width * height * channels * np.dtype(dtype).itemsize), dtype
    )
    if not hwc.dtype.isnative:
        hwc = hwc.astype(hwc.dtype.newbyteorder("="))
        hwc.flags.writeable = False
    return hwc.reshape(height, width, channels), save_mode


def _raw_bytes(img: Image.Image, size: int) -> bytes:
    """The pixels as packed bytes, as ``img.tobytes()`` gives them, in one piece.

    ``tobytes()`` (and ``np.asarray(img)``, which calls it) encodes in 64 KiB chunks and joins
    them: 42 ms for a 3840×2160 RGB photo, against 22 ms for one chunk of the whole size here.
    Pillow's raw encoder is internal API, so anything unexpected falls back to ``tobytes()``.
    """
    try:
        encoder = Image._getencoder(img.mode, "raw", img.mode)
        try:
            encoder.setimage(img.im, (0, 0, *img.size))
            _, status, data = encoder.encode(size + img.width * 4)
        finally:
            encoder.cleanup()
        if status == 1 and len(data) == size:
            return data
    except (AttributeError, TypeError, ValueError, OSError):
        pass
    return img.tobytes()


# The modes of frames that can be stacked by widening: (has colour, has alpha).
_FAMILY = {"L": (False, False), "LA": (False, True), "RGB": (True, False), "RGBA": (True, True)}
_FAMILY_MODE = {value: mode for mode, value in _FAMILY.items()}


def _stack_frames(
    name: str, frames: Iterator[tuple[np.ndarray, str]], orientation: int | None, count: int
) -> tuple[np.ndarray, str]:
    """One read-only (N, C, H, W) view of the frames' pixels, and their common save mode.

    A single frame stays a view of its decoded bytes; several are copied into one (N, H, W, C)
    buffer. Frames of a GIF may differ in mode (a palette first, RGB or RGBA after): greys
    widen to colour and alpha is added (opaque) so that every frame has the widest mode.
    """
    buffer: np.ndarray | None = None
    mode = ""
    for index, (hwc, frame_mode) in enumerate(frames):
        if orientation in _ORIENT:
            hwc = _ORIENT[orientation](hwc)
        if buffer is None:
            mode = frame_mode
            if count == 1:
                buffer = hwc.reshape(1, *hwc.shape)
                break
            buffer = np.empty((count, *hwc.shape), hwc.dtype)
        elif hwc.shape[:2] != buffer.shape[1:3]:
            raise InputError(
                name,
                f"frame {index} is {hwc.shape[0]}x{hwc.shape[1]}, frame 0 "
                f"{buffer.shape[1]}x{buffer.shape[2]} (height x width); pick one with {{frame=K}}",
                ("frame",),
            )
        elif frame_mode != mode:
            if frame_mode not in _FAMILY or mode not in _FAMILY:
                raise InputError(
                    name,
                    f"frame {index} is {frame_mode}, frame 0 {mode}; pick one with {{frame=K}}",
                    ("frame",),
                )
            (colour, alpha), (frame_colour, frame_alpha) = _FAMILY[mode], _FAMILY[frame_mode]
            joined = _FAMILY_MODE[(colour or frame_colour, alpha or frame_alpha)]
            if joined != mode:
                wider = np.empty((count, *hwc.shape[:2], SAVE_MODES[joined][0]), hwc.dtype)
                _widen(buffer[:index], mode, wider[:index], joined)
                buffer, mode = wider, joined
            if frame_mode != mode:
                _widen(hwc, frame_mode, buffer[index], mode)
                continue
        buffer[index] = hwc
    assert buffer is not None
    if not buffer.flags.c_contiguous:  # an oriented view of one frame
        buffer = np.ascontiguousarray(buffer)
    buffer.flags.writeable = False
    if buffer.shape[3] == 1:
        return buffer.reshape(buffer.shape[0], 1, *buffer.shape[1:3]), mode
    return buffer.transpose(0, 3, 1, 2), mode


def _widen(source: np.ndarray, source_mode: str, target: np.ndarray, target_mode: str) -> None:
    """Write L/LA/RGB pixels into a wider L/LA/RGB/RGBA buffer (grey to colour, opaque alpha)."""
    colour, alpha = _FAMILY[source_mode]
    target_alpha = _FAMILY[target_mode][1]
    values = source[..., :-1] if alpha else source
    colours = target.shape[-1] - (1 if target_alpha else 0)
    target[..., :colours] = values  # a grey channel broadcasts over R, G and B
    if target_alpha:
        target[..., -1] = source[..., -1] if alpha else np.iinfo(target.dtype).max


def _load_npy(fp: str | BinaryIO, name: str, volumes: bool = False) -> tuple[np.ndarray, ImageInfo]:
    try:
        if isinstance(fp, str):
            with open(fp, "rb") as stream:
                _check_npy_length(stream, name)
                array = np.load(stream, allow_pickle=False)
        else:
            _check_npy_length(fp, name)
            array = np.load(fp, allow_pickle=False)
    except InputError:
        raise
    except OSError as exc:
        reason = os_reason(exc) if exc.errno else f"corrupt .npy file: {exc}"
        raise InputError(name, reason) from None
    except (ValueError, EOFError, SyntaxError) as exc:
        raise InputError(name, f"corrupt .npy file: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise InputError(name, f"array of {array.dtype} values; expected numbers")
    if array.ndim not in ((2, 3, 4, 5) if volumes else (2, 3, 4)):
        expected = "2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)"
        if volumes:
            expected = "2 (H, W), 3 (C, H, W or D, H, W), 4 (N, C, H, W) or 5 (N, C, D, H, W)"
        raise InputError(name, f"array has {array.ndim} dimensions; expected {expected}")
    if array.size == 0:
        raise InputError(name, f"array is empty (shape {array.shape})")
    ndim = array.ndim
    array = array.reshape((1,) * (4 - ndim) + array.shape)
    info = ImageInfo(
        kind="array",
        format=None,
        mode=None,
        save_mode=None,
        dtype=array.dtype.name,
        frames=array.shape[0],
        ndim=ndim,
    )
    return array, info


def _check_npy_length(stream: BinaryIO, name: str) -> None:
    """Refuse a .npy whose header promises more (or fewer) bytes than the file has, before
    anything is allocated; leaves ``stream`` at its start."""
    magic = stream.read(len(_NPY_MAGIC))
    stream.seek(0)
    if magic != _NPY_MAGIC:
        raise InputError(name, "not a .npy file")
    shape, dtype = _npy_shape(stream)
    offset = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    if dtype.hasobject:
        return  # refused by np.load: pickled objects are not allowed
    promised = math.prod(shape) * dtype.itemsize
    held = end - offset
    if held < promised:
        raise InputError(
            name, f"truncated: the header promises {promised} bytes, the file has {held}"
        )


def _npy_shape(stream: BinaryIO) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype a .npy header declares; leaves ``stream`` at the data."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    return tuple(int(d) for d in shape), dtype


def _load_matrix(data: bytes, name: str) -> tuple[np.ndarray, ImageInfo]:
    """Numbers separated by commas and/or whitespace, one row a line; # starts a comment."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(name, "not a text file of numbers") from None
    rows: list[list[str]] = []
    first_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = _FIELD_SPLIT.split(line)
        if "" in tokens:
            raise InputError(name, f"line {number}: empty value")
        for token in tokens:
            if "_" in token or not _is_number(token):
                raise InputError(name, f"line {number}: not a number: {token!r}")
        if rows and len(tokens) != len(rows[0]):
            raise InputError(
                name,
                f"line {number}: {len(tokens)} values, expected {len(rows[0])} "
                f"as on line {first_line}",
            )
        if not rows:
            first_line = number
        rows.append(tokens)
    if not rows:
        raise InputError(name, "no numbers")
    if all(_INT_LITERAL.match(token) for row in rows for token in row):
        try:
            plane = np.array([[int(t) for t in row] for row in rows], dtype=np.int64)
        except OverflowError:
            plane = np.array([[float(t) for t in row] for row in rows], dtype=np.float64)
    else:
        plane = np.array([[float(t) for t in row] for row in rows], dtype=np.float64)
    array = plane.reshape(1, 1, *plane.shape)
    info = ImageInfo(
        kind="matrix",
        format=None,
        mode=None,
        save_mode=None,
        dtype=array.dtype.name,
        frames=1,
        ndim=2,
    )
    return array, info


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Headers


@dataclass(frozen=True)
class Header:
    """What :func:`load_image` would give for one input, as :func:`read_header` finds it.

    Attributes
    ----------
    kind, format, mode, dtype, frames
        As in :class:`ImageInfo`.
    shape : tuple of 4 ints
        (N, C, H, W) of the array load_image returns (after the EXIF orientation).
    decoded : bool
        True when the pixels had to be read to find this out.
    """

    kind: str
    format: str | None
    mode: str | None
    dtype: str
    frames: int
    shape: tuple[int, int, int, int]
    decoded: bool


def read_header(
    source: str | os.PathLike[str] | BinaryIO, *, max_pixels: int | None = None
) -> Header:
    """The shape, mode, dtype and frame count of an input, from its header where possible.

    Pillow opens an image lazily and reads only its header (size, mode, frames, EXIF
    orientation), and a .npy file's header gives its shape and dtype, so any size may be
    described. Animations and multi-page files in formats whose frames are all loaded, .csv/.txt
    matrices, streams and anything but a regular file are loaded in full: their shape is only
    known then.

    Parameters
    ----------
    source : str, os.PathLike or binary stream
        As :func:`load_image` takes it. A stream is read in full.
    max_pixels : int, optional
        As for load_image, for an input that is loaded in full.

    Raises
    ------
    InputError
        For an input load_image would refuse for what its header says (missing, not an image,
        a .npy of the wrong rank or dtype, ...). Corrupt pixel data past a good header goes
        unnoticed.

    Examples
    --------
    >>> import io
    >>> header = read_header(io.BytesIO(b"1, 2, 1, 0\\n0, 1, 2, 3\\n"))
    >>> header.shape, header.dtype, header.decoded
    ((1, 1, 2, 4), 'int64', True)
    """
    if hasattr(source, "read"):
        return _loaded_header(source, max_pixels)
    path = os.fsdecode(os.fspath(source))
    kind = _kind_for(path)
    try:
        st: os.stat_result | None = os.stat(path)
    except OSError:
        st = None  # load_image says why, in its words
    header = None
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > 0:
        if kind == "array":
            header = _npy_header(path)
        elif kind == "image":
            header = _image_header(path)
    return header or _loaded_header(path, max_pixels)


def _loaded_header(source: Any, max_pixels: int | None) -> Header:
    """Load the input in full: the only way to know its shape (or why it cannot be loaded)."""
    array, info = load_image(source, max_pixels=max_pixels)
    n, c, h, w = (int(d) for d in array.shape)
    return Header(info.kind, info.format, info.mode, info.dtype, info.frames, (n, c, h, w), True)


def _npy_header(path: str) -> Header | None:
    """From a .npy file's header; None when load_image would refuse the file (then it says
    why: a wrong rank or dtype, or fewer bytes than the header promises)."""
    try:
        with open(path, "rb") as stream:
            shape, dtype = _npy_shape(stream)
            held = os.fstat(stream.fileno()).st_size - stream.tell()
    except (ValueError, OSError, SyntaxError):
        return None
    if dtype.kind not in "biuf" or len(shape) not in (2, 3, 4) or 0 in shape:
        return None
    if held < math.prod(shape) * dtype.itemsize:
        return None
    n, c, h, w = (1,) * (4 - len(shape)) + shape
    return Header("array", None, None, dtype.name, n, (n, c, h, w), decoded=False)


def _image_header(path: str) -> Header | None:
    """From an image file's header; None when load_image would refuse the file (it then says
    why: a truncated or corrupt header is never an IndexError or struct.error here), or when
    every frame loads (they may differ in mode and widen the array: only loading tells)."""
    with pixel_limit(None), quiet():  # nothing is decoded: any size may be described
        try:
            return _described(path)
        except Exception:  # a plugin's parse error of a truncated or corrupt header
            return None


def _described(path: str) -> Header | None:
    with Image.open(path) as img:
        fmt, frames = img.format, getattr(img, "n_frames", 1)
        if frames > 1 and _holds_frames(fmt):
            return None
        if wide_colour(img) is not None:
            mode = f"{img.mode};16"
            channels, dtype = WIDE_MODES[mode], "uint16"
        else:
            mode = img.mode
            _, code, save_mode = _layout(img)
            channels, dtype = SAVE_MODES[save_mode][0], np.dtype(code).name
        orientation = FileMetadata.of(img, auto_orient=True, decoded=False).orientation
        width, height = img.size
    if orientation >= 5:  # turned a quarter: the axes swap
        width, height = height, width
    return Header("image", fmt, mode, dtype, frames, (1, channels, height, width), False)


# ---------------------------------------------------------------------------------------------
# Saving


def save_image(
    target: str | os.PathLike[str] | BinaryIO,
    array: np.ndarray,
    info: ImageInfo,
    *,
    format: str | None = None,
    quality: int | None = None,
    strip: bool = False,
    scale: tuple[float, float] | None = None,
) -> None:
    """Write an (N, C, H, W) array as an image, a .npy array or a .csv matrix.

    Parameters
    ----------
    target : str, os.PathLike or binary stream
        Output path, or a writable binary stream such as ``sys.stdout.buffer``. A path is
        written to a temporary file in its folder and renamed into place, so a failure leaves
        nothing behind. A stream receives the bytes only once they are fully encoded.
    array : numpy.ndarray
        (N, C, H, W), any dtype and memory layout (a transposed view costs no extra copy).
        N > 1 frames are written as an animation (GIF, WebP, PNG) or pages (TIFF), with the
        input's frame durations and loop count.
    info : ImageInfo
        From :func:`load_image`: the mode written back (``info.save_mode``), the metadata,
        and for .npy the rank to write. Without a save mode (an array or matrix input written
        as an image), C = 1 is L for uint8, I;16 for uint16, I for other integers and F for
        floats; C = 2, 3, 4 are LA, RGB, RGBA (uint8), or 16-bit colour for uint16.
    format : str, optional
        png, jpeg, webp, tiff, gif, npy or csv; by default from the extension of ``target``.
        Required for a stream.
    quality : int, optional
        JPEG and WebP quality, 1 to 100 (default 90). JPEG uses 4:4:4 chroma at 90 and above.
    strip : bool, default False
        Write no metadata: no ICC profile, EXIF or resolution.
    scale : (float, float), optional
        How many input pixels one output pixel spans, (vertical, horizontal): the pooling
        stride. The resolution (DPI) is divided by it so the physical size stays the same. By
        default the ratio of ``info.size`` to the array's size.

    Raises
    ------
    OutputError
        When the format cannot be told, cannot hold the mode (e.g. RGBA as JPEG) or the frames,
        16-bit colour is written without the full-depth extra, the folder is missing or not
        writable, or the write fails.

    Notes
    -----
    Float values written to an integer mode are rounded half up, ``floor(v + 0.5)``, and clipped
    to the dtype's range (NaN becomes 0); other integer dtypes are clipped. A bool array is
    written as 0/255 in 8-bit modes. CSV writes integers without ".0" and floats in their
    shortest exact form. EXIF is not written to 16-bit colour TIFF.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "out.png")
    >>> x = np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4)
    >>> info = ImageInfo("image", "PNG", "L", "L", "uint8", 1)
    >>> save_image(path, x * 20.25, info)
    >>> y, info = load_image(path)
    >>> y[0, 0]
    array([[  0,  20,  41,  61],
           [ 81, 101, 122, 142],
           [162, 182, 203, 223]], dtype=uint8)
    >>> os.listdir(folder)
    ['out.png']
    >>> import shutil; shutil.rmtree(folder)
    """
    name, fmt = output_format(target, format, quality, scale)
    array = np.asarray(array)
    if array.ndim != 4 and not (array.ndim == 5 and fmt == "NPY"):
        raise ValueError(
            f"array must have 4 dimensions (N, C, H, W) (5, (N, C, D, H, W), for .npy), "
            f"got shape {array.shape}"
        )
    encode = _encoder(name, fmt, array, info, _SaveOptions(quality, strip, scale))

    write_output(name if isinstance(target, str | os.PathLike) else target, name, encode)


def _encoder(
    name: str, fmt: str, array: np.ndarray, info: ImageInfo, options: _SaveOptions
) -> Encoder:
    """Check that ``fmt`` can hold ``array``; return a function that encodes it to a file."""
    if fmt == "NPY":
        out = array
        if info.ndim < 4 and array.shape[: 4 - info.ndim] == (1,) * (4 - info.ndim):
            out = array.reshape(array.shape[4 - info.ndim :])

        def encode_npy(stream: IO[bytes], _name: str) -> None:
            np.save(stream, out, allow_pickle=False)

        return encode_npy

    if fmt == "CSV":
        if array.shape[:2] != (1, 1):
            raise OutputError(
                name, f"CSV holds one plane, not shape {array.shape}; write .npy or an image"
            )

        def encode_csv(stream: IO[bytes], _name: str) -> None:
            rows = (",".join(_format_values(row)) for row in array[0, 0])
            stream.write(("\n".join(rows) + "\n").encode("ascii"))

        return encode_csv

    frames, channels = array.shape[:2]
    if frames > 1 and not _holds_frames(fmt):
        holding = ", ".join(other.extension for other in formats.frame_formats())
        raise OutputError(
            name,
            f"{fmt} holds one frame, not {frames}; pick one with {{frame=K}} or write a format "
            f"that holds frames ({holding})",
            ("frame",),
        )
    mode = info.save_mode
    if mode is None or _channels(mode) != channels:
        mode = mode_for_array(name, array)
    if not formats.format_holds(fmt, mode):
        raise OutputError(name, f"{fmt} cannot hold {mode} images; write {_suggest(mode, fmt)}")
    mode = _mode_holding(name, fmt, mode, array)
    height, width = array.shape[2:]
    check_size(name, fmt, height, width)
    meta = output_metadata(fmt, mode, height, width, info, strip=options.strip, scale=options.scale)
    if mode in WIDE_MODES:
        return _wide_encoder(name, fmt, mode, array, meta)

    params = pillow_params(fmt, meta, info, frames, options.quality)
    if frames > 1 and fmt == "GIF" and mode == "RGBA":
        params["disposal"] = 2  # clear to transparent before each frame

    def encode_image(stream: IO[bytes], path: str) -> None:
        with np.errstate(all="ignore"):  # a cast's overflow is checked above, never printed
            images = [to_pillow(array[index], mode) for index in range(frames)]
        save_with_pillow(stream, path, fmt, images, params)

    return encode_image


# A mode's values -> the wider modes of as many channels that may hold a result it cannot, in
# the order tried: integers first (rounded as always), then float for a float result.
_WIDER: dict[str, tuple[str, ...]] = {
    "L": ("I;16", "I", "F"),
    "I;16": ("I", "F"),
    "I": ("F",),
    "LA": ("LA;16",),
    "RGB": ("RGB;16",),
    "RGBA": ("RGBA;16",),
}


def _value_range(mode: str) -> tuple[float, float]:
    """The lowest and highest value an image of ``mode`` holds."""
    code = "<u2" if mode in WIDE_MODES else SAVE_MODES[mode].dtype
    dtype = np.dtype(code)
    if dtype.kind == "f":
        finfo = np.finfo(dtype)
        return float(finfo.min), float(finfo.max)
    iinfo = np.iinfo(dtype)
    return float(iinfo.min), float(iinfo.max)


def _written_range(array: np.ndarray) -> tuple[float, float] | None:
    """The lowest and highest value ``array`` is written as in an integer mode (floats rounded
    half up), NaN left out; None when it is empty or all NaN."""
    if array.size == 0:
        return None
    if array.dtype.kind == "b":
        return 0.0, 255.0
    if array.dtype.kind == "f":
        low, high = np.fmin.reduce(array, axis=None), np.fmax.reduce(array, axis=None)
        if np.isnan(low):
            return None
        return float(np.floor(float(low) + 0.5)), float(np.floor(float(high) + 0.5))
    return float(array.min()), float(array.max())


def _holds(mode: str, span: tuple[float, float], array: np.ndarray) -> bool:
    low, high = _value_range(mode)
    if mode == "F":
        if array.dtype.kind not in "fb" and array.dtype.itemsize > 2:
            return False  # wide integers are not all exact in float32
        # Infinities stay infinite; only finite values past float32's range would change.
        return not any(np.isfinite(v) and not low <= v <= high for v in span)
    return low <= span[0] and span[1] <= high


def _mode_holding(name: str, fmt: str, mode: str, array: np.ndarray) -> str:
    """``mode``, or when the values of ``array`` pass its range, the first wider mode of as many
    channels that ``fmt`` holds and that holds them (a sum of 8-bit values in 16 bits, an lp
    result as float TIFF). Nothing is clipped without a word: when no such mode is in ``fmt``,
    an OutputError names the formats that hold the values."""
    source = array.dtype
    low, high = _value_range(mode)
    if source.kind in "iu" and np.iinfo(source).min >= low and np.iinfo(source).max <= high:
        return mode  # every value of the dtype fits: nothing to look at
    if source.kind == "b" or (source.kind == "f" and mode == "F" and source.itemsize <= 4):
        return mode
    span = _written_range(array)
    if span is None or _holds(mode, span, array):
        return mode
    wider = [other for other in _WIDER.get(mode, ()) if _holds(other, span, array)]
    if array.dtype.kind != "f":
        wider = [other for other in wider if other != "F"]
    for other in wider:
        if formats.format_holds(fmt, other):
            return other
    frames = array.shape[0]
    holding = [
        found.name
        for found in formats.FORMATS
        if found.kind == "image"
        and found.suggested
        and found.lossless
        and any(
            found.holds(other) and not (other in WIDE_MODES and frames > 1 and found.name == "png")
            for other in wider
        )
    ]
    fixes = " or ".join(f"{{format={fix}}}" for fix in [*holding, "npy"])
    low_text, high_text = (f"{v:g}" for v in span)
    raise OutputError(
        name,
        f"values from {low_text} to {high_text} do not fit in {fmt} {mode} "
        f"({_value_range(mode)[0]:g} to {_value_range(mode)[1]:g}) and would be clipped; "
        f"use {fixes}",
        ("format",),
    )


def _wide_encoder(
    name: str, fmt: str, mode: str, array: np.ndarray, meta: OutputMetadata
) -> Encoder:
    """Encode 16-bit colour with the full-depth extra: imagecodecs for PNG, tifffile for TIFF."""
    frames = array.shape[0]
    if fmt == "PNG":
        if frames > 1:
            raise OutputError(name, "cannot write 16-bit colour frames to PNG; write .tiff")
        imagecodecs = _full_depth_module("imagecodecs", "16-bit colour PNG", OutputError, name)

        def encode_png(stream: IO[bytes], _path: str) -> None:
            hwc = to_dtype(array[0].transpose(1, 2, 0), np.dtype(np.uint16))
            data = imagecodecs.png_encode(hwc, level=formats.PNG_COMPRESS_LEVEL)
            stream.write(_with_png_chunks(bytes(data), meta))

        return encode_png

    tifffile = _full_depth_module("tifffile", "16-bit colour TIFF", OutputError, name)
    alpha = mode in ("LA;16", "RGBA;16")
    params: dict[str, object] = {
        "photometric": "minisblack" if mode == "LA;16" else "rgb",
        "planarconfig": "contig",
        "metadata": None,
    }
    if alpha:
        params["extrasamples"] = ("unassalpha",)
    if meta.icc_profile is not None:
        params["iccprofile"] = meta.icc_profile
    if meta.dpi is not None:
        params["resolution"] = meta.dpi
        params["resolutionunit"] = "INCH"

    def encode_tiff(stream: IO[bytes], _path: str) -> None:
        with quiet(), tifffile.TiffWriter(stream) as tiff:
            for index in range(frames):
                hwc = to_dtype(array[index].transpose(1, 2, 0), np.dtype(np.uint16))
                tiff.write(hwc, **params)

    return encode_tiff


def _with_png_chunks(png: bytes, meta: OutputMetadata) -> bytes:
    """``png`` with iCCP, pHYs and eXIf chunks added after its IHDR chunk."""
    chunks = []
    if meta.icc_profile is not None:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(meta.icc_profile)))
    if meta.dpi is not None:
        per_metre = (round(meta.dpi[0] / 0.0254), round(meta.dpi[1] / 0.0254))
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1)))
    if meta.exif is not None:
        exif = meta.exif[6:] if meta.exif.startswith(b"Exif\0\0") else meta.exif
        chunks.append(_png_chunk(b"eXIf", exif))
    end_of_ihdr = 8 + 8 + 13 + 4  # signature, then IHDR's length and type, data and CRC
    return png[:end_of_ihdr] + b"".join(chunks) + png[end_of_ihdr:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def mode_for_array(name: str, array: np.ndarray) -> str:
    """The image mode an (N, C, H, W) array with no save mode of its own (from .npy or .csv)
    is written as, by its channels and dtype (see :func:`save_image`); OutputError naming
    ``name`` for more than 4 channels.

    >>> mode_for_array("out.png", np.zeros((1, 1, 2, 2), np.float32))
    'F'
    >>> mode_for_array("out.png", np.zeros((1, 3, 2, 2), np.uint16))
    'RGB;16'
    """
    channels = array.shape[1]
    kind = array.dtype.kind
    if channels == 1:
        if array.dtype == np.uint16:
            return "I;16"
        if kind == "f":
            return "F"
        if kind in "iu" and array.dtype != np.uint8:
            return "I"
        return "L"
    if array.dtype == np.uint16 and channels in WIDE_BY_CHANNELS:
        return WIDE_BY_CHANNELS[channels]
    modes = {2: "LA", 3: "RGB", 4: "RGBA"}
    if channels not in modes:
        raise OutputError(name, f"an image cannot hold {channels} channels; write .npy")
    return modes[channels]


def _channels(mode: str) -> int | None:
    """How many channels a mode poolcli writes has; None for a mode it does not write."""
    if mode in WIDE_MODES:
        return WIDE_MODES[mode]
    return SAVE_MODES[mode].channels if mode in SAVE_MODES else None


def _suggest(mode: str, fmt: str) -> str:
    """The lossless outputs that hold ``mode``, other than ``fmt``, for an error message."""
    names = [
        other.extension
        for other in formats.FORMATS
        if other.kind == "image"
        and other.suggested
        and other.lossless
        and other.pillow != fmt
        and other.holds(mode)
    ]
    return " or ".join(names) or ".npy"


def to_pillow(chw: np.ndarray, mode: str) -> Image.Image:
    """A Pillow image of ``mode`` (one of :data:`~poolcli.io.modes.SAVE_MODES`) from a
    (C, H, W) array of any dtype, converted as :func:`to_dtype` does: one contiguous (H, W, C)
    buffer.

    >>> to_pillow(np.full((3, 2, 4), 7.4), "RGB").getpixel((0, 0))
    (7, 7, 7)
    """
    _, dtype, rawmode = SAVE_MODES[mode]
    hwc = chw.transpose(1, 2, 0)
    if hwc.shape[2] == 1:
        hwc = hwc[:, :, 0]
    data = to_dtype(hwc, np.dtype(dtype))
    height, width = data.shape[:2]
    return Image.frombuffer(mode, (width, height), data, "raw", rawmode, 0, 1)


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` as a C-contiguous array of ``dtype``: floats rounded half up to integers, all
    clipped to the integer dtype's range (NaN to 0), bools 0/255 in 8 bits.

    >>> to_dtype(np.array([-3.0, 0.5, 2.49, 300.0, np.nan]), np.dtype(np.uint8))
    array([  0,   1,   2, 255,   0], dtype=uint8)
    """
    source = values.dtype
    if source == dtype:
        return np.ascontiguousarray(values)
    if dtype.kind == "f":
        return values.astype(dtype, order="C")
    info = np.iinfo(dtype)
    if source.kind == "b":
        out = values.astype(dtype, order="C")
        if dtype.itemsize == 1:
            out *= 255  # a mask, as Pillow's mode 1: 0 or 255
        return out
    if source.kind == "f":
        # float64 even for float32 input: 0.49999997 + 0.5 rounds up to 1 in float32 arithmetic
        out = np.empty(values.shape, dtype=np.float64)
        np.add(values, 0.5, out=out, dtype=np.float64)
        np.floor(out, out=out)
        np.clip(out, info.min, info.max, out=out)
        np.nan_to_num(out, copy=False, nan=0.0)
        return out.astype(dtype)
    source_info = np.iinfo(source)
    if source_info.min >= info.min and source_info.max <= info.max:
        return values.astype(dtype, order="C")
    clipped: np.ndarray = np.clip(values, info.min, info.max)
    return clipped.astype(dtype, order="C")


# ---------------------------------------------------------------------------------------------
# Text


def format_matrix(plane: np.ndarray) -> str:
    """A 2-D array as text: one row a line, columns right-aligned, separated by one space.

    Integers print without ".0"; floats in their shortest exact form (2.25, not 2.2500000).

    Parameters
    ----------
    plane : numpy.ndarray
        A 2-D array of numbers.

    Returns
    -------
    str
        The rows, without a trailing newline.

    Examples
    --------
    >>> import numpy as np
    >>> print(format_matrix(np.array([[1.0, 2.25], [-10.0, 0.5]], dtype=np.float32)))
      1 2.25
    -10  0.5
    """
    plane = np.asarray(plane)
    if plane.ndim != 2:
        raise ValueError(f"format_matrix needs a 2-D array, got shape {plane.shape}")
    if plane.size == 0:
        return ""
    cells = [_format_values(row) for row in plane]
    widths = [max(len(row[j]) for row in cells) for j in range(plane.shape[1])]
    return "\n".join(
        " ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    )


def _format_values(row: np.ndarray) -> list[str]:
    """Each value as short text: integers plainly, floats shortest-exact with no trailing .0."""
    if row.dtype.kind in "biu":
        return [str(int(v)) for v in row]
    texts = []
    for value in row:
        text = str(value)  # numpy's shortest repr that reads back to the same value
        if text.endswith(".0"):
            text = text[:-2]
        if text == "-0":
            text = "0"
        texts.append(text)
    return texts


_CHANNEL_NAMES = {
    "L": ("L",),
    "I": ("L",),
    "F": ("L",),
    "LA": ("L", "A"),
    "RGB": ("R", "G", "B"),
    "RGBA": ("R", "G", "B", "A"),
    "CMYK": ("C", "M", "Y", "K"),
    "YCbCr": ("Y", "Cb", "Cr"),
}


def channel_names(info: ImageInfo, channels: int) -> tuple[str, ...]:
    """R, G, B, ... for an image's channels; c0, c1, ... for an array's.

    >>> channel_names(ImageInfo("image", "GIF", "P", "RGBA", "uint8", 1), 4)
    ('R', 'G', 'B', 'A')
    >>> channel_names(ImageInfo("array", None, None, None, "float32", 1), 2)
    ('c0', 'c1')
    """
    names = _CHANNEL_NAMES.get((info.save_mode or "").split(";")[0], ())
    if info.kind == "image" and len(names) == channels:
        return names
    return tuple(f"c{index}" for index in range(channels))
