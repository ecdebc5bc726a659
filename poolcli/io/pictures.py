"""Pictures in and out with Pillow alone: opening under a size limit, metadata, formats, writes.

The part of reading and writing images that needs no numpy, shared by :mod:`poolcli.io.images`
(pictures as arrays) and :mod:`poolcli.imaging.quick` (pictures pooled by Pillow itself, for a
command that must not pay for importing numpy):

- :func:`opened`: an image file open, its header read, under the pixel limit, every failure a
  one-line :class:`~poolcli.errors.InputError`;
- what is carried from input to output: :class:`ImageInfo`, the ICC profile, EXIF and DPI;
- :func:`image_format_for`, :func:`pillow_params` and :func:`write_output`: the output's format,
  the encoder's options, and a write that leaves nothing behind when it fails.

Its underscore names are shared with imageio and quick only, not part of the API.

>>> image_format_for("photo.max.JPG")
'JPEG'
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError

from poolcli.errors import InputError, OutputError, PoolcliError

# Mode written -> (channels, numpy dtype handed to Pillow, Pillow raw mode of those bytes)
_SAVE_MODES: dict[str, tuple[int, str, str]] = {
    "L": (1, "u1", "L"),
    "LA": (2, "u1", "LA"),
    "RGB": (3, "u1", "RGB"),
    "RGBA": (4, "u1", "RGBA"),
    "CMYK": (4, "u1", "CMYK"),
    "YCbCr": (3, "u1", "YCbCr"),
    "I;16": (1, "<u2", "I;16"),
    "I": (1, "<i4", "I;32S"),
    "F": (1, "<f4", "F;32F"),
}

# 16-bit colour, which Pillow has no mode for: mode -> channels. Written by the full-depth extra.
_WIDE_MODES: dict[str, int] = {"LA;16": 2, "RGB;16": 3, "RGBA;16": 4}
_WIDE_BY_CHANNELS = {channels: mode for mode, channels in _WIDE_MODES.items()}

# Modes each output format holds without losing data or channels. WebP stores L and LA as RGB
# and RGBA (the grey values survive); GIF keeps at most 256 colours, as its users expect.
_FORMAT_MODES: dict[str, frozenset[str]] = {
    "PNG": frozenset({"L", "LA", "RGB", "RGBA", "I;16", *_WIDE_MODES}),
    "JPEG": frozenset({"L", "RGB", "CMYK", "YCbCr"}),
    "WEBP": frozenset({"L", "LA", "RGB", "RGBA"}),
    "TIFF": frozenset({*_SAVE_MODES, *_WIDE_MODES}),
    "GIF": frozenset({"L", "RGB", "RGBA"}),
}

_FORMAT_NAMES = {
    "png": "PNG",
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "jpe": "JPEG",
    "webp": "WEBP",
    "tiff": "TIFF",
    "tif": "TIFF",
    "gif": "GIF",
    "npy": "NPY",
    "csv": "CSV",
}
_EXTENSIONS = {**_FORMAT_NAMES, "txt": "CSV"}
_UNKNOWN_FORMAT = (
    "cannot tell the output format from the name; use --format png|jpeg|webp|tiff|gif|npy"
)
_ICC_FORMATS = frozenset({"PNG", "JPEG", "TIFF", "WEBP"})
_EXIF_FORMATS = frozenset({"PNG", "JPEG", "TIFF", "WEBP"})
_DPI_FORMATS = frozenset({"PNG", "JPEG", "TIFF"})


_ANIMATION_FORMATS = frozenset({"GIF", "PNG", "WEBP"})


# PNG zlib level. Measured on scikit-image's photos (astronaut, chelsea, coffee) with Pillow 13:
# level 1 is ~2x faster than 4 but 5-16 % larger; level 6 (Pillow's default) is within 1-4 % of
# level 4 in size but 1.5-3x slower; 9 is slower still for <5 % gain. 4 is the knee.
_PNG_COMPRESS_LEVEL = 4
_DEFAULT_QUALITY = 90


# EXIF / TIFF tags
_ORIENTATION_TAG = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_PIXEL_X_DIMENSION = 0xA002  # ExifImageWidth
_PIXEL_Y_DIMENSION = 0xA003  # ExifImageHeight
_BITS_PER_SAMPLE = 258
# IFD0 tags that describe how a file stores its pixels, or repeat what is carried separately
# (resolution, ICC profile): never copied from an input's EXIF to an output's.
_STRUCTURAL_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 282, 283,
        284, 296, 317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514, 530,
        531, 532, 700, 34377, 34675, 37724,
    }
)  # fmt: skip
# A TIFF's IFD0 is its EXIF as Pillow reads it; only these descriptive tags (and the EXIF and
# GPS sub-IFDs) are carried from it: Make, Model, Software, DateTime, Artist, HostComputer,
# Copyright.
_TIFF_DESCRIPTIVE_TAGS = frozenset({271, 272, 305, 306, 315, 316, 33432})


_PILLOW_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class ImageInfo:
    """What was loaded, and what :func:`save_image` needs to write a result back.

    Attributes
    ----------
    kind : str
        ``"image"`` (read by Pillow), ``"array"`` (.npy) or ``"matrix"`` (.csv / .txt).
    format : str or None
        Pillow format name of the input, e.g. ``"PNG"``; None for arrays and matrices.
    mode : str or None
        Pillow mode as loaded (of frame 0), e.g. ``"P"``; ``"RGB;16"`` and the like for 16-bit
        colour; None for arrays and matrices.
    save_mode : str or None
        Mode written back (see the module's table); None for arrays and matrices, whose
        image mode, if one is written, follows the result's dtype and channel count.
    dtype : str
        numpy dtype name of the loaded array, e.g. ``"uint8"``.
    frames : int
        Number of frames in the input file. All of them are loaded (N = frames) unless one was
        picked with ``load_image(..., frame=K)``; formats whose extra frames are no animation
        (MPO, ICO) load frame 0.
    ndim : int
        Rank of the input: 4 for images, 2 for matrices, 2, 3 or 4 for .npy arrays. A .npy
        result is saved with this rank when its leading axes have length 1.
    icc_profile : bytes or None
        The input's ICC colour profile, written to outputs that hold one.
    exif : bytes or None
        EXIF to carry to the output: the input's, less the orientation tag when it was applied
        and less tags about the input's storage.
    dpi : (float, float) or None
        Resolution (horizontal, vertical) in pixels per inch, of the array as loaded.
    durations : tuple of float, or None
        Display time of each loaded frame in milliseconds, when the input gives them.
    loop : int or None
        Animation loop count (0 = forever); None when the input has none.
    size : (int, int) or None
        (H, W) of the loaded array: :func:`save_image` divides the DPI by the input-to-output
        size ratio unless given a ``scale``.
    frame : int or None
        The frame picked with ``load_image(..., frame=K)``.
    """

    kind: str
    format: str | None
    mode: str | None
    save_mode: str | None
    dtype: str
    frames: int
    ndim: int = 4
    icc_profile: bytes | None = field(default=None, repr=False)
    exif: bytes | None = field(default=None, repr=False)
    dpi: tuple[float, float] | None = None
    durations: tuple[float, ...] | None = None
    loop: int | None = None
    size: tuple[int, int] | None = None
    frame: int | None = None


@dataclass(frozen=True)
class _Metadata:
    """What an image file says besides its pixels, read once from its first loaded frame."""

    orientation: int
    icc_profile: bytes | None
    exif: bytes | None
    dpi: tuple[float, float] | None
    loop: int | None

    @classmethod
    def of(cls, img: Image.Image, auto_orient: bool, decoded: bool = True) -> _Metadata:
        """``decoded`` False: read no pixel data for it (a PNG's EXIF after its pixels is lost)."""
        exif = Image.Exif()
        try:
            if decoded or img.format != "PNG":
                exif = img.getexif()
            elif "exif" in img.info:
                exif.load(img.info["exif"])
        except Exception:  # unreadable EXIF is dropped, not fatal
            exif = Image.Exif()
        orientation = exif.get(_ORIENTATION_TAG, 1) if auto_orient else 1
        if orientation not in _PILLOW_ORIENT:
            orientation = 1
        dpi = _dpi(img.info.get("dpi"))
        if dpi is not None and orientation >= 5:  # the axes swap
            dpi = (dpi[1], dpi[0])
        loop = img.info.get("loop")
        return cls(
            orientation=orientation,
            icc_profile=img.info.get("icc_profile") or None,
            exif=_carried_exif(exif, img.format, keep_orientation=not auto_orient),
            dpi=dpi,
            loop=loop if isinstance(loop, int) and img.format in _ANIMATION_FORMATS else None,
        )


def _dpi(value: object) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    return (x, y) if x > 0 and y > 0 and math.isfinite(x) and math.isfinite(y) else None


def _carried_exif(exif: Image.Exif, fmt: str | None, keep_orientation: bool) -> bytes | None:
    """The EXIF to write to outputs: no storage tags, no orientation unless ``keep_orientation``.

    Unreadable or unwritable EXIF is dropped: it must not cost the user the image.
    """
    try:
        for pointer in (_EXIF_IFD, _GPS_IFD):
            if pointer in exif:
                exif.get_ifd(pointer)  # read the sub-IFD now; tobytes() writes it back
        for tag in list(exif):
            if tag in (_EXIF_IFD, _GPS_IFD):
                continue
            if tag == _ORIENTATION_TAG:
                keep = keep_orientation
            elif fmt == "TIFF":
                keep = tag in _TIFF_DESCRIPTIVE_TAGS
            else:
                keep = tag not in _STRUCTURAL_TAGS
            if not keep:
                del exif[tag]
        if len(exif) == 0:
            return None
        return exif.tobytes()
    except Exception:
        return None


def _wide_colour(img: Image.Image) -> str | None:
    """ "PNG" or "TIFF" when the file holds colour at more than 8 bits, which Pillow reduces."""
    if img.mode not in ("RGB", "RGBA", "LA"):
        return None
    if img.format == "PNG":
        args = img.tile[0].args if img.tile else None
        rawmode = args if isinstance(args, str) else None
        return "PNG" if rawmode is not None and ";16" in rawmode else None
    if img.format == "TIFF":
        bits = getattr(img, "tag_v2", {}).get(_BITS_PER_SAMPLE)
        bits = bits if isinstance(bits, tuple) else (bits,)
        return "TIFF" if any(isinstance(b, int) and b > 8 for b in bits) else None
    return None


class _OverLimit(Exception):
    def __init__(self, pixels: int, limit: int) -> None:
        super().__init__(
            f"image has {pixels} pixels, more than the limit of {limit}; raise it with --max-pixels"
        )


_load_limit = threading.local()
_pillow_bomb_check = getattr(Image, "_decompression_bomb_check", None)


def _bomb_check(size: tuple[int, int], *args: Any, **kwargs: Any) -> None:
    if not getattr(_load_limit, "active", False):
        assert _pillow_bomb_check is not None
        return _pillow_bomb_check(size, *args, **kwargs)
    limit = _load_limit.value
    pixels = max(1, size[0]) * max(1, size[1])
    if limit is not None and pixels > limit:
        raise _OverLimit(pixels, limit)
    return None


if _pillow_bomb_check is not None:
    _bomb_check.__wrapped__ = _pillow_bomb_check  # type: ignore[attr-defined]
    Image._decompression_bomb_check = _bomb_check


@contextlib.contextmanager
def _pixel_limit(limit: int | None) -> Iterator[None]:
    """Apply ``limit`` (None: no limit) to Pillow's size checks in this thread for the duration."""
    saved = (getattr(_load_limit, "active", False), getattr(_load_limit, "value", None))
    _load_limit.active, _load_limit.value = True, limit
    try:
        yield
    finally:
        _load_limit.active, _load_limit.value = saved


@contextlib.contextmanager
def opened(fp: str | BinaryIO, name: str, max_pixels: int | None) -> Iterator[Image.Image]:
    """The image file ``fp`` open with its header read, for the duration of the block.

    Pillow's size checks apply ``max_pixels`` (None: ``Image.MAX_IMAGE_PIXELS``) in this
    thread meanwhile. Any failure to open it, and any error but a :class:`PoolcliError` while it
    is decoded in the block, is an :class:`~poolcli.errors.InputError` naming ``name``.

    >>> import io
    >>> with opened(io.BytesIO(b"not an image"), "notes.txt", None):
    ...     pass
    Traceback (most recent call last):
    ...
    poolcli.errors.InputError: notes.txt: cannot identify image file
    """
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    with _pixel_limit(limit):
        try:
            img_file = Image.open(fp)
        except _OverLimit as exc:
            raise InputError(name, str(exc)) from None
        except UnidentifiedImageError:
            raise InputError(name, "cannot identify image file") from None
        except MemoryError:
            raise
        except OSError as exc:
            reason = _os_reason(exc) if exc.errno else f"cannot identify image file: {exc}"
            raise InputError(name, reason) from None
        except Exception as exc:  # a plugin's parse error, or a warning turned into an error
            raise InputError(name, f"cannot identify image file: {exc}") from None
        with img_file:
            width, height = img_file.size
            if limit is not None and width * height > limit:
                raise InputError(name, str(_OverLimit(width * height, limit)))
            try:
                yield img_file
            except (MemoryError, PoolcliError):
                raise
            except _OverLimit as exc:  # a frame larger than the canvas
                raise InputError(name, str(exc)) from None
            except Exception as exc:
                raise InputError(name, f"truncated or corrupt image data: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Writing


def image_format_for(path_or_name: str, format: str | None = None) -> str:
    """The output format name: from ``format`` if given, else from the file extension.

    Parameters
    ----------
    path_or_name : str
        The output path or file name (named in the error).
    format : str, optional
        A ``--format`` value: png, jpeg, jpg, webp, tiff, gif, npy or csv (any case).

    Returns
    -------
    str
        ``"PNG"``, ``"JPEG"``, ``"WEBP"``, ``"TIFF"``, ``"GIF"``, ``"NPY"`` or ``"CSV"``
        (.txt names are written as CSV).

    Raises
    ------
    OutputError
        When neither says, or ``format`` is not one of these.

    Examples
    --------
    >>> image_format_for("small/photo.max.JPG")
    'JPEG'
    >>> image_format_for("-", "png")
    'PNG'
    >>> image_format_for("out.bmp")
    Traceback (most recent call last):
    ...
    poolcli.errors.OutputError: out.bmp: cannot tell the output format from the name; \
use --format png|jpeg|webp|tiff|gif|npy
    """
    if format is not None:
        name = _FORMAT_NAMES.get(format.lower().lstrip("."))
        if name is None:
            raise OutputError(
                path_or_name,
                f"unknown format {format!r}; use --format png|jpeg|webp|tiff|gif|npy",
            )
        return name
    ext = os.path.splitext(os.fspath(path_or_name))[1].lower().lstrip(".")
    name = _EXTENSIONS.get(ext)
    if name is None:
        raise OutputError(path_or_name, _UNKNOWN_FORMAT)
    return name


def format_holds(fmt: str, mode: str) -> bool:
    """Whether the output format ``fmt`` (as :func:`image_format_for` names it) holds images of
    ``mode`` without losing data or channels.

    >>> format_holds("JPEG", "RGB"), format_holds("JPEG", "RGBA")
    (True, False)
    """
    return mode in _FORMAT_MODES.get(fmt, ())


def output_format(
    target: str | os.PathLike | BinaryIO,
    format: str | None,
    quality: int | None,
    scale: tuple[float, float] | None,
) -> tuple[str, str]:
    """The output's name (a stream's, or ``<stdout>``) and format; ValueError for a quality or
    scale out of range, :class:`~poolcli.errors.OutputError` when the format cannot be told."""
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    if scale is not None and not all(s > 0 for s in scale):
        raise ValueError(f"scale must be positive, got {scale}")
    if hasattr(target, "write"):
        name = _stream_name(target, "<stdout>")
    else:
        name = os.fsdecode(os.fspath(target))  # type: ignore[arg-type]
    return name, image_format_for(name, format)


def save_picture(
    target: str | os.PathLike | BinaryIO,
    picture: Image.Image,
    info: ImageInfo,
    *,
    format: str | None = None,
    quality: int | None = None,
    strip: bool = False,
    scale: tuple[float, float] | None = None,
) -> None:
    """Write a Pillow picture as :func:`poolcli.io.images.save_image` writes the same pixels as an
    array: same options, metadata and atomic write. ``picture.mode`` must be one that
    ``format`` holds (:func:`format_holds`). The metadata written is ``info``'s: give a picture
    whose own ``picture.info`` is empty, as Pillow's encoders write an ICC profile found there.

    >>> import io
    >>> info = ImageInfo("image", "PNG", "L", "L", "uint8", 1, size=(4, 4))
    >>> stream = io.BytesIO()
    >>> save_picture(stream, Image.new("L", (2, 2)), info, format="png")
    >>> Image.open(stream).size
    (2, 2)
    """
    name, fmt = output_format(target, format, quality, scale)
    if not format_holds(fmt, picture.mode):
        raise OutputError(name, f"{fmt} cannot hold {picture.mode} images")
    options = _SaveOptions(quality, strip, scale)
    meta = _output_metadata(fmt, picture.mode, picture.height, picture.width, info, options)
    params = pillow_params(fmt, meta, info, 1, quality)

    def encode(stream: BinaryIO, path: str) -> None:
        save_with_pillow(stream, path, fmt, [picture], params)

    write_output(target if hasattr(target, "write") else name, name, encode)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _OutputMetadata:
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None


@dataclass(frozen=True)
class _SaveOptions:
    quality: int | None
    strip: bool
    scale: tuple[float, float] | None


def _output_metadata(
    fmt: str, mode: str, height: int, width: int, info: ImageInfo, options: _SaveOptions
) -> _OutputMetadata:
    """The ICC profile, EXIF and DPI to write for an output of ``height`` x ``width``, or none
    of them for ``strip``."""
    if options.strip:
        return _OutputMetadata()
    icc = None
    if info.icc_profile and fmt in _ICC_FORMATS and mode == info.save_mode:
        icc = info.icc_profile
    exif = None
    if info.exif and fmt in _EXIF_FORMATS:
        exif = _updated_exif(info.exif, width, height)
    dpi = None
    if info.dpi is not None and fmt in _DPI_FORMATS:
        if options.scale is not None:
            scale_y, scale_x = options.scale
        elif info.size is not None:
            scale_y, scale_x = info.size[0] / height, info.size[1] / width
        else:
            scale_y = scale_x = 1.0
        dpi = (info.dpi[0] / scale_x, info.dpi[1] / scale_y)
    return _OutputMetadata(icc, exif, dpi)


def pillow_params(
    fmt: str, meta: _OutputMetadata, info: ImageInfo, frames: int, quality: int | None
) -> dict[str, Any]:
    """The options of Pillow's ``save`` for ``frames`` frames in ``fmt``: compression, quality,
    metadata, and an animation's timing."""
    params: dict[str, Any] = {}
    if fmt == "PNG":
        params["compress_level"] = _PNG_COMPRESS_LEVEL
    elif fmt in ("JPEG", "WEBP"):
        params["quality"] = _DEFAULT_QUALITY if quality is None else quality
        if fmt == "JPEG" and params["quality"] >= 90:
            params["subsampling"] = 0  # 4:4:4
    if meta.icc_profile is not None:
        params["icc_profile"] = meta.icc_profile
    if meta.exif is not None:
        params["exif"] = meta.exif
    if meta.dpi is not None:
        params["dpi"] = meta.dpi
    if frames > 1 and fmt != "TIFF":
        if info.durations is not None and len(info.durations) == frames:
            params["duration"] = list(info.durations)
        if info.loop is not None:
            params["loop"] = info.loop
    return params


def save_with_pillow(
    stream: BinaryIO, path: str, fmt: str, images: list[Image.Image], params: dict[str, Any]
) -> None:
    """Encode ``images`` (several: an animation or pages) to ``stream``; an encoder's refusal
    is an :class:`~poolcli.errors.OutputError` naming ``path``."""
    if len(images) > 1:
        params = {**params, "save_all": True, "append_images": images[1:]}
    try:
        images[0].save(stream, format=fmt, **params)
    except OSError as exc:
        if exc.errno:
            raise
        raise OutputError(path, f"cannot write {fmt}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(path, f"cannot write {fmt}: {exc}") from None


def _updated_exif(data: bytes, width: int, height: int) -> bytes | None:
    """EXIF ``data`` with its pixel dimensions (where given) set to ``width`` x ``height``."""
    try:
        exif = Image.Exif()
        exif.load(data)
        if _EXIF_IFD in exif:
            ifd = exif.get_ifd(_EXIF_IFD)
            for tag, value in ((_PIXEL_X_DIMENSION, width), (_PIXEL_Y_DIMENSION, height)):
                if tag in ifd:
                    ifd[tag] = value
        return exif.tobytes()
    except Exception:  # EXIF that cannot be rewritten is dropped, not fatal
        return None


def _write_atomically(path: str, encode: Callable[[BinaryIO, str], None]) -> None:
    """Encode into a temporary file beside ``path`` and rename it into place."""
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise OutputError(path, f"folder {folder} does not exist")
    if os.path.isdir(path):
        raise OutputError(path, "is a directory")
    try:
        tmp = tempfile.NamedTemporaryFile(
            dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp", delete=False
        )
    except OSError as exc:
        raise OutputError(path, _os_reason(exc)) from None
    try:
        with tmp:
            encode(tmp, path)
        os.chmod(tmp.name, 0o666 & ~_umask())
        os.replace(tmp.name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        if isinstance(exc, OSError):
            raise OutputError(path, _os_reason(exc)) from None
        raise


def write_output(
    target: str | BinaryIO, name: str, encode: Callable[[BinaryIO, str], None]
) -> None:
    """Run ``encode(stream, name)`` for the output ``target``: a path is written to a temporary
    file beside it and renamed into place, a stream receives the bytes once fully encoded."""
    if isinstance(target, str):
        _write_atomically(target, encode)
        return
    buffer = io.BytesIO()
    encode(buffer, name)
    try:
        target.write(buffer.getvalue())
        flush = getattr(target, "flush", None)
        if flush is not None:
            flush()
    except OSError as exc:
        raise OutputError(name, _os_reason(exc)) from None


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------------------------------------
# Helpers


def read_stream(stream: BinaryIO, name: str, empty: str) -> bytes:
    """Everything ``stream`` holds; InputError naming ``name`` when it fails or holds nothing."""
    try:
        data = stream.read()
    except OSError as exc:
        raise InputError(name, _os_reason(exc)) from None
    if not data:
        raise InputError(name, empty)
    return data


def _stream_name(stream: object, default: str) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) and name and not name.startswith("<") else default


def _os_reason(exc: OSError) -> str:
    """An OSError's reason in lower case, e.g. "permission denied"."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        reason = "no such file"
    return reason[:1].lower() + reason[1:]
