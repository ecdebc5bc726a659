"""Images, .npy arrays and .csv/.txt matrices in and out as (N, C, H, W) arrays.

Pillow reads and writes the pictures (DESIGN.md section 4). A loaded image comes back as a
read-only view of the pixels Pillow decoded, laid out (1, C, H, W) by a transpose: nothing is copied
into planar layout. Saving takes any (N, C, H, W) array, contiguous or not, and hands Pillow one
contiguous (H, W, C) buffer.

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
======================  ===  =======  ================

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

import contextlib
import functools
import io
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InputError, OutputError

__all__ = ["ImageInfo", "format_matrix", "image_format_for", "load_image", "save_image"]

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

# Modes each output format holds without losing data or channels. WebP stores L and LA as RGB
# and RGBA (the grey values survive); GIF keeps at most 256 colours, as its users expect.
_FORMAT_MODES: dict[str, frozenset[str]] = {
    "PNG": frozenset({"L", "LA", "RGB", "RGBA", "I;16"}),
    "JPEG": frozenset({"L", "RGB", "CMYK", "YCbCr"}),
    "WEBP": frozenset({"L", "LA", "RGB", "RGBA"}),
    "TIFF": frozenset(_SAVE_MODES),
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

# PNG zlib level. Measured on scikit-image's photos (astronaut, chelsea, coffee) with Pillow 13:
# level 1 is ~2x faster than 4 but 5-16 % larger; level 6 (Pillow's default) is within 1-4 % of
# level 4 in size but 1.5-3x slower; 9 is slower still for <5 % gain. 4 is the knee.
_PNG_COMPRESS_LEVEL = 4
_DEFAULT_QUALITY = 90
_NPY_MAGIC = b"\x93NUMPY"
_ORIENTATION_TAG = 0x0112
_INT_LITERAL = re.compile(r"[+-]?\d+\Z")
_FIELD_SPLIT = re.compile(r"\s*,\s*|\s+")


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
        Pillow mode as loaded, e.g. ``"P"``; None for arrays and matrices.
    save_mode : str or None
        Mode written back (see the module's table); None for arrays and matrices, whose
        image mode, if one is written, follows the result's dtype and channel count.
    dtype : str
        numpy dtype name of the loaded array, e.g. ``"uint8"``.
    frames : int
        Number of frames (N) in the input; only frame 0 is loaded for now.
    ndim : int
        Rank of the input: 4 for images, 2 for matrices, 2, 3 or 4 for .npy arrays. A .npy
        result is saved with this rank when its leading axes have length 1.
    icc_profile : bytes or None
        The input's ICC colour profile, written to outputs that hold one.
    """

    kind: str
    format: str | None
    mode: str | None
    save_mode: str | None
    dtype: str
    frames: int
    ndim: int = 4
    icc_profile: bytes | None = field(default=None, repr=False)


# ---------------------------------------------------------------------------------------------
# Loading


def load_image(
    source: str | os.PathLike | BinaryIO, *, max_pixels: int | None = None
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
        Largest width x height accepted; by default Pillow's ``Image.MAX_IMAGE_PIXELS``.

    Returns
    -------
    array : numpy.ndarray
        (N, C, H, W). For an image, N = 1 (frame 0) and the array is a read-only view (a
        transpose) of the (H, W, C) pixels Pillow decoded: copy it before writing into it. A
        .npy array of rank 2 or 3 gains leading axes of length 1. A matrix is int64 when every
        value is an integer literal, else float64.
    info : ImageInfo
        What was loaded, for :func:`save_image`.

    Raises
    ------
    InputError
        For any file that cannot be used: missing, a folder, empty, not an image, truncated or
        corrupt, larger than ``max_pixels``, or a .npy/.csv of the wrong shape or content.

    Examples
    --------
    >>> import io
    >>> x, info = load_image(io.BytesIO(b"1, 2, 1, 0\\n0, 1, 2, 3\\n"))
    >>> x.shape, info.kind, info.dtype
    ((1, 1, 2, 4), 'matrix', 'int64')
    """
    if max_pixels is not None and max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, got {max_pixels}")
    if hasattr(source, "read"):
        name = _stream_name(source, "<stdin>")
        try:
            data = source.read()
        except OSError as exc:
            raise InputError(name, _os_reason(exc)) from None
        if not data:
            raise InputError(name, "empty input")
        return _load_bytes(data, name, max_pixels, ext=None)

    path = os.fsdecode(os.fspath(source))
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, _os_reason(exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        # A pipe or device (e.g. a shell's <(...)): read it once, as a stream.
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            raise InputError(path, _os_reason(exc)) from None
        if not data:
            raise InputError(path, "empty file")
        return _load_bytes(data, path, max_pixels, ext=ext)
    if st.st_size == 0:
        raise InputError(path, "empty file")
    if ext == "npy":
        return _load_npy(path, path)
    if ext in ("csv", "txt"):
        try:
            with open(path, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            raise InputError(path, _os_reason(exc)) from None
        return _load_matrix(data, path)
    return _load_picture(path, path, max_pixels)


def _load_bytes(
    data: bytes, name: str, max_pixels: int | None, ext: str | None
) -> tuple[np.ndarray, ImageInfo]:
    if ext == "npy" or (ext is None and data.startswith(_NPY_MAGIC)):
        return _load_npy(io.BytesIO(data), name)
    if ext in ("csv", "txt"):
        return _load_matrix(data, name)
    try:
        return _load_picture(io.BytesIO(data), name, max_pixels)
    except InputError as exc:
        if ext is not None or exc.reason != "cannot identify image file":
            raise
        try:
            return _load_matrix(data, name)
        except InputError:
            raise exc from None


def _load_picture(
    fp: str | BinaryIO, name: str, max_pixels: int | None
) -> tuple[np.ndarray, ImageInfo]:
    with _pillow_limit_off() as pillow_limit:
        limit = pillow_limit if max_pixels is None else max_pixels
        try:
            img_file = Image.open(fp)
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
                raise InputError(
                    name,
                    f"image has {width * height} pixels, more than the limit of {limit}; "
                    "raise it with --max-pixels",
                )
            try:
                img_file.load()
                array, save_mode = _pixels(_apply_orientation(img_file), name)
                frames = getattr(img_file, "n_frames", 1)  # after the pixels: it seeks
            except MemoryError:
                raise
            except InputError:
                raise
            except Exception as exc:
                raise InputError(name, f"truncated or corrupt image data: {exc}") from None
            info = ImageInfo(
                kind="image",
                format=img_file.format,
                mode=img_file.mode,
                save_mode=save_mode,
                dtype=array.dtype.name,
                frames=frames,
                ndim=4,
                icc_profile=img_file.info.get("icc_profile") or None,
            )
    return array, info


def _apply_orientation(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag; the image itself (no copy) when it is absent or 1."""
    orientation = img.getexif().get(_ORIENTATION_TAG, 1)
    if orientation not in (2, 3, 4, 5, 6, 7, 8):
        return img
    return ImageOps.exif_transpose(img)


def _pixels(img: Image.Image, name: str) -> tuple[np.ndarray, str]:
    """(1, C, H, W) read-only view of the image's pixels, and the mode to write back."""
    mode = img.mode
    if mode == "P":
        convert, dtype, save_mode = ("RGBA", "u1", "RGBA")
        if not img.has_transparency_data:
            convert, save_mode = "RGB", "RGB"
    elif mode in _LOAD_MODES:
        convert, dtype, save_mode = _LOAD_MODES[mode]
    elif mode.startswith("I;"):  # signed or 32-bit raw integer modes
        convert, dtype, save_mode = "I", "=i4", "I"
    else:  # LAB, HSV and other rare modes: as RGB
        convert, dtype, save_mode = "RGB", "u1", "RGB"
    if convert is not None:
        try:
            img = img.convert(convert)
        except ValueError:
            raise InputError(name, f"unsupported image mode {mode}") from None
    width, height = img.size
    channels = _SAVE_MODES[save_mode][0]
    # frombuffer(tobytes()) measured as fast as np.asarray(img) or a little faster (both go
    # through tobytes); it lets the dtype and byte order be named exactly.
    hwc = np.frombuffer(img.tobytes(), dtype=np.dtype(dtype))
    if not hwc.dtype.isnative:
        hwc = hwc.astype(hwc.dtype.newbyteorder("="))
        hwc.flags.writeable = False
    if channels == 1:
        array = hwc.reshape(1, 1, height, width)
    else:
        array = hwc.reshape(1, height, width, channels).transpose(0, 3, 1, 2)
    return array, save_mode


def _load_npy(fp: str | BinaryIO, name: str) -> tuple[np.ndarray, ImageInfo]:
    try:
        if isinstance(fp, str):
            with open(fp, "rb") as stream:
                magic = stream.read(len(_NPY_MAGIC))
        else:
            magic = fp.read(len(_NPY_MAGIC))
            fp.seek(0)
        if magic != _NPY_MAGIC:
            raise InputError(name, "not a .npy file")
        array = np.load(fp, allow_pickle=False)
    except InputError:
        raise
    except OSError as exc:
        reason = _os_reason(exc) if exc.errno else f"corrupt .npy file: {exc}"
        raise InputError(name, reason) from None
    except (ValueError, EOFError) as exc:
        raise InputError(name, f"corrupt .npy file: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise InputError(name, f"array of {array.dtype} values; expected numbers")
    if array.ndim not in (2, 3, 4):
        raise InputError(
            name,
            f"array has {array.ndim} dimensions; expected 2 (H, W), 3 (C, H, W) or 4 (N, C, H, W)",
        )
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


# Pillow's decompression-bomb guard reads the global Image.MAX_IMAGE_PIXELS, warns above it and
# raises above twice it, during open and again in some plugins' load or seek. poolcli applies its
# own limit (one InputError, never a warning) and must be able to raise it past Pillow's, so the
# global is set to None while any load is in flight and restored when the last one ends.
_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved: int | None = None


@contextlib.contextmanager
def _pillow_limit_off() -> Iterator[int | None]:
    """Disable Pillow's global pixel limit for the duration; yield the limit it had."""
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            _limit_saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _limit_users += 1
        saved = _limit_saved
    try:
        yield saved
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                Image.MAX_IMAGE_PIXELS = _limit_saved


# ---------------------------------------------------------------------------------------------
# Saving


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


def save_image(
    target: str | os.PathLike | BinaryIO,
    array: np.ndarray,
    info: ImageInfo,
    *,
    format: str | None = None,
    quality: int | None = None,
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
    info : ImageInfo
        From :func:`load_image`: the mode written back (``info.save_mode``), the ICC profile,
        and for .npy the rank to write. Without a save mode (an array or matrix input written
        as an image), C = 1 is L for uint8, I;16 for uint16, I for other integers and F for
        floats; C = 2, 3, 4 are LA, RGB, RGBA (uint8).
    format : str, optional
        png, jpeg, webp, tiff, gif, npy or csv; by default from the extension of ``target``.
        Required for a stream.
    quality : int, optional
        JPEG and WebP quality, 1 to 100 (default 90). JPEG uses 4:4:4 chroma at 90 and above.

    Raises
    ------
    OutputError
        When the format cannot be told, cannot hold the mode (e.g. RGBA as JPEG) or the frame
        count, the folder is missing or not writable, or the write fails.

    Notes
    -----
    Float values written to an integer mode are rounded half up, ``floor(v + 0.5)``, and clipped
    to the dtype's range (NaN becomes 0); other integer dtypes are clipped. A bool array is
    written as 0/255 in 8-bit modes. CSV writes integers without ".0" and floats in their
    shortest exact form.

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
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    is_stream = hasattr(target, "write")
    name = _stream_name(target, "<stdout>") if is_stream else os.fsdecode(os.fspath(target))
    fmt = image_format_for(name, format)
    array = np.asarray(array)
    if array.ndim != 4:
        raise ValueError(f"array must have 4 dimensions (N, C, H, W), got shape {array.shape}")
    encode = _encoder(name, fmt, array, info, quality)

    if is_stream:
        buffer = io.BytesIO()
        encode(buffer, name)
        try:
            target.write(buffer.getvalue())
            flush = getattr(target, "flush", None)
            if flush is not None:
                flush()
        except OSError as exc:
            raise OutputError(name, _os_reason(exc)) from None
        return
    _write_atomically(name, encode)


def _encoder(
    name: str, fmt: str, array: np.ndarray, info: ImageInfo, quality: int | None
) -> Callable[[BinaryIO, str], None]:
    """Check that ``fmt`` can hold ``array``; return a function that encodes it to a file."""
    if fmt == "NPY":
        out = array
        if info.ndim < 4 and array.shape[: 4 - info.ndim] == (1,) * (4 - info.ndim):
            out = array.reshape(array.shape[4 - info.ndim :])

        def encode_npy(stream: BinaryIO, _name: str) -> None:
            np.save(stream, out, allow_pickle=False)

        return encode_npy

    if fmt == "CSV":
        if array.shape[:2] != (1, 1):
            raise OutputError(
                name, f"CSV holds one plane, not shape {array.shape}; write .npy or an image"
            )

        def encode_csv(stream: BinaryIO, _name: str) -> None:
            rows = (",".join(_format_values(row)) for row in array[0, 0])
            stream.write(("\n".join(rows) + "\n").encode("ascii"))

        return encode_csv

    frames, channels = array.shape[:2]
    if frames != 1:
        raise OutputError(name, f"cannot write {frames} frames to {fmt} yet; write .npy")
    mode = info.save_mode
    if mode not in _SAVE_MODES or _SAVE_MODES[mode][0] != channels:
        mode = _mode_for_array(name, array)
    if mode not in _FORMAT_MODES[fmt]:
        raise OutputError(name, f"{fmt} cannot hold {mode} images; write {_suggest(mode, fmt)}")
    params: dict[str, object] = {}
    if fmt == "PNG":
        params["compress_level"] = _PNG_COMPRESS_LEVEL
    elif fmt in ("JPEG", "WEBP"):
        params["quality"] = _DEFAULT_QUALITY if quality is None else quality
        if fmt == "JPEG" and params["quality"] >= 90:
            params["subsampling"] = 0  # 4:4:4
    if info.icc_profile and fmt in _ICC_FORMATS and mode == info.save_mode:
        params["icc_profile"] = info.icc_profile

    def encode_image(stream: BinaryIO, path: str) -> None:
        img = _to_pillow(array[0], mode)
        try:
            img.save(stream, format=fmt, **params)
        except OSError as exc:
            if exc.errno:
                raise
            raise OutputError(path, f"cannot write {fmt}: {exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise OutputError(path, f"cannot write {fmt}: {exc}") from None

    return encode_image


def _mode_for_array(name: str, array: np.ndarray) -> str:
    """The image mode for an array with no save mode of its own (from .npy or .csv)."""
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
    modes = {2: "LA", 3: "RGB", 4: "RGBA"}
    if channels not in modes:
        raise OutputError(name, f"an image cannot hold {channels} channels; write .npy")
    return modes[channels]


def _suggest(mode: str, fmt: str) -> str:
    """The lossless outputs that hold ``mode``, other than ``fmt``, for an error message."""
    lossless = ((".png", "PNG"), (".tiff", "TIFF"))
    names = [ext for ext, other in lossless if other != fmt and mode in _FORMAT_MODES[other]]
    return " or ".join(names) or ".npy"


def _to_pillow(chw: np.ndarray, mode: str) -> Image.Image:
    """A Pillow image of ``mode`` from a (C, H, W) array: one contiguous (H, W, C) buffer."""
    _, dtype, rawmode = _SAVE_MODES[mode]
    hwc = chw.transpose(1, 2, 0)
    if hwc.shape[2] == 1:
        hwc = hwc[:, :, 0]
    data = _convert(hwc, np.dtype(dtype))
    height, width = data.shape[:2]
    return Image.frombuffer(mode, (width, height), data, "raw", rawmode, 0, 1)


def _convert(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` as a C-contiguous array of ``dtype``: floats rounded half up, all clipped."""
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
    return np.clip(values, info.min, info.max).astype(dtype, order="C")


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


# ---------------------------------------------------------------------------------------------
# Helpers


def _stream_name(stream: object, default: str) -> str:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) and name and not name.startswith("<") else default


def _os_reason(exc: OSError) -> str:
    """An OSError's reason in lower case, e.g. "permission denied"."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        reason = "no such file"
    return reason[:1].lower() + reason[1:]
