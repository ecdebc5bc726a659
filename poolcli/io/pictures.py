"""Pictures in and out with Pillow: opening under a pixel limit, and encoding (numpy-free).

The part of reading and writing images that needs Pillow but no numpy, shared by
:mod:`poolcli.io.images` (pictures as arrays) and :mod:`poolcli.imaging.quick` (pictures pooled
by Pillow itself, for a command that must not pay for importing numpy):

- :func:`opened`: an image file open, its header read, under the pixel limit, every failure a
  one-line :class:`~poolcli.errors.InputError`; :func:`pixel_limit` for other uses of Pillow;
- :func:`wide_colour`: whether a file holds colour at more than the 8 bits Pillow reads;
- :func:`output_format`, :func:`pillow_params` and :func:`save_with_pillow`: the output's
  format, the encoder's options, and the encoding; :func:`save_picture` writes a Pillow picture
  as :func:`poolcli.io.images.save_image` writes an array.

Pixel limit. Pillow's decompression-bomb guard reads the global ``Image.MAX_IMAGE_PIXELS``, warns
above it and raises above twice it, in ``Image.open`` and again where some plugins load or seek
(a GIF frame larger than its canvas, a TIFF tile). poolcli applies its own limit instead, as one
InputError and never a warning, and may raise it past Pillow's. Rather than change the global
(which every thread and every other user of Pillow in the process reads), Pillow's check
function is wrapped once: inside a poolcli load (a thread-local flag) it applies that load's
limit; everywhere else it is Pillow's own check, unchanged.

>>> import io
>>> with opened(io.BytesIO(b"not an image"), "notes.txt", None):
...     pass
Traceback (most recent call last):
...
poolcli.errors.InputError: notes.txt: cannot identify image file
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

from PIL import Image, ImageFile, UnidentifiedImageError

from poolcli.errors import InputError, OutputError, PoolcliError
from poolcli.io import formats
from poolcli.io.atomic import write_output
from poolcli.io.metadata import ImageInfo, OutputMetadata, output_metadata
from poolcli.io.quiet import quiet, reasons
from poolcli.io.streams import os_reason, read_stream, stream_name

__all__ = [
    "BYTES_PER_PIXEL",
    "byte_limit",
    "check_size",
    "opened",
    "output_format",
    "pillow_params",
    "pixel_limit",
    "read_input",
    "save_picture",
    "save_with_pillow",
    "wide_colour",
]

_BITS_PER_SAMPLE = 258  # TIFF tag


# ---------------------------------------------------------------------------------------------
# Reading


def wide_colour(img: Image.Image) -> str | None:
    """``"PNG"`` or ``"TIFF"`` when the open file ``img`` holds colour at more than 8 bits,
    which Pillow reads reduced to 8; None otherwise.

    >>> wide_colour(Image.new("RGB", (1, 1))) is None
    True
    """
    if img.mode not in ("RGB", "RGBA", "LA"):
        return None
    if img.format == "PNG":
        # By index: tiles are plain tuples before Pillow 11 (ImageFile._Tile, with .args, after).
        tile = img.tile if isinstance(img, ImageFile.ImageFile) else None
        args = tile[0][3] if tile else None
        rawmode = args if isinstance(args, str) else None
        return "PNG" if rawmode is not None and ";16" in rawmode else None
    if img.format == "TIFF":
        bits = getattr(img, "tag_v2", {}).get(_BITS_PER_SAMPLE)
        bits = bits if isinstance(bits, tuple) else (bits,)
        return "TIFF" if any(isinstance(b, int) and b > 8 for b in bits) else None
    return None


class _OverLimit(Exception):
    """Raised from Pillow's size checks; :func:`opened` turns it into an InputError."""

    def __init__(self, pixels: int, limit: int, frames: str = "") -> None:
        if frames:
            self.reason = (
                f"image has {frames}, {pixels} pixels in all, more than the limit of {limit}; "
                "pick one with {frame=K} or raise it with {max_pixels}"
            )
            self.parameters: tuple[str, ...] = ("frame", "max_pixels")
        else:
            self.reason = (
                f"image has {pixels} pixels, more than the limit of {limit}; "
                "raise it with {max_pixels}"
            )
            self.parameters = ("max_pixels",)
        super().__init__(self.reason)


#: Bytes one pixel may take in a file, at most: 16-bit RGBA uncompressed. A stream or another
#: file that is not regular (a pipe, a device) is read no further than this many bytes for
#: each pixel the limit allows, and never less than :data:`MIN_INPUT_BYTES`.
BYTES_PER_PIXEL = 8
#: Bytes always allowed (headers, metadata, a small array), whatever the pixel limit.
MIN_INPUT_BYTES = 16 << 20


def byte_limit(max_pixels: int | None) -> int | None:
    """The most bytes an input read from a stream may have under ``max_pixels`` (None: Pillow's
    ``Image.MAX_IMAGE_PIXELS``); None when there is no limit.

    >>> byte_limit(10_000_000)
    80000000
    >>> byte_limit(1) == MIN_INPUT_BYTES
    True
    """
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    return None if limit is None else max(int(limit) * BYTES_PER_PIXEL, MIN_INPUT_BYTES)


def read_input(stream: BinaryIO, name: str, max_pixels: int | None, empty: str) -> bytes:
    """Everything a stream (or a pipe, a device) holds, refused as an
    :class:`~poolcli.errors.InputError` once it passes :func:`byte_limit` of ``max_pixels``
    (an endless ``/dev/zero`` is not read until memory runs out), or when it holds nothing
    (the reason then is ``empty``).

    >>> import io
    >>> read_input(io.BytesIO(b"x" * 20), "<stdin>", 1, "empty input")
    b'xxxxxxxxxxxxxxxxxxxx'
    """
    limit = byte_limit(max_pixels)
    return read_stream(
        stream,
        name,
        empty,
        limit,
        too_long=f"more than {limit} bytes, more than an image under the pixel limit holds; "
        "raise it with {max_pixels}",
        parameters=("max_pixels",),
    )


_load_limit = threading.local()
_pillow_bomb_check = getattr(Image, "_decompression_bomb_check", None)


def _bomb_check(size: tuple[int, int], *args: Any, **kwargs: Any) -> None:
    if not getattr(_load_limit, "active", False):
        assert _pillow_bomb_check is not None
        _pillow_bomb_check(size, *args, **kwargs)
        return None
    limit = _load_limit.value
    pixels = max(1, size[0]) * max(1, size[1])
    if limit is not None and pixels > limit:
        raise _OverLimit(pixels, limit)
    return None


if _pillow_bomb_check is not None:
    _bomb_check.__wrapped__ = _pillow_bomb_check  # type: ignore[attr-defined]
    Image._decompression_bomb_check = _bomb_check


@contextlib.contextmanager
def pixel_limit(limit: int | None) -> Iterator[None]:
    """Apply ``limit`` (None: no limit) to Pillow's size checks in this thread for the duration.

    >>> with pixel_limit(None):  # describe a header of any size
    ...     Image.new("L", (1, 1)).size
    (1, 1)
    """
    saved = (getattr(_load_limit, "active", False), getattr(_load_limit, "value", None))
    _load_limit.active, _load_limit.value = True, limit
    try:
        yield
    finally:
        _load_limit.active, _load_limit.value = saved


@contextlib.contextmanager
def opened(
    fp: str | BinaryIO, name: str, max_pixels: int | None, every_frame: bool = True
) -> Iterator[Image.Image]:
    """The image file ``fp`` open with its header read, for the duration of the block.

    Pillow's size checks apply ``max_pixels`` (None: ``Image.MAX_IMAGE_PIXELS``) in this
    thread meanwhile. Before the block, the limit is applied to what will be decoded: with
    ``every_frame``, the pixels of every frame of a format whose frames are all loaded
    (:attr:`~poolcli.io.formats.Format.frames`: an animation's frames at its canvas size, a
    TIFF's pages each at its own), else of one frame. Any failure to open it, and any error but
    a :class:`PoolcliError` while it is decoded in the block (a truncated file, memory running
    out), is an :class:`~poolcli.errors.InputError` naming ``name``. Warnings of Pillow and
    tifffile in the block are not printed; those heard before a failure end its reason.

    >>> import io
    >>> with opened(io.BytesIO(b"not an image"), "notes.txt", None):
    ...     pass
    Traceback (most recent call last):
    ...
    poolcli.errors.InputError: notes.txt: cannot identify image file
    """
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    with pixel_limit(limit), quiet() as heard:
        try:
            img_file = Image.open(fp)
        except _OverLimit as exc:
            raise InputError(name, exc.reason, exc.parameters) from None
        except UnidentifiedImageError:
            raise InputError(name, "cannot identify image file" + reasons(heard)) from None
        except MemoryError:
            raise InputError(name, "not enough memory to read its header") from None
        except OSError as exc:
            reason = os_reason(exc) if exc.errno else f"cannot identify image file: {exc}"
            raise InputError(name, reason + reasons(heard)) from None
        except Exception as exc:  # a plugin's parse error, or a warning turned into an error
            raise InputError(name, f"cannot identify image file: {exc}{reasons(heard)}") from None
        with img_file:
            try:
                if limit is not None:
                    _check_limit(img_file, limit, every_frame)
                yield img_file
            except PoolcliError:
                raise
            except _OverLimit as exc:  # a frame larger than the canvas
                raise InputError(name, exc.reason, exc.parameters) from None
            except MemoryError:
                width, height = img_file.size
                raise InputError(
                    name, f"not enough memory to load its {width}x{height} pixels"
                ) from None
            except Exception as exc:
                raise InputError(
                    name, f"truncated or corrupt image data: {exc}{reasons(heard)}"
                ) from None


def _check_limit(img_file: Image.Image, limit: int, every_frame: bool) -> None:
    """Raise :class:`_OverLimit` when what :func:`opened` promises to decode passes ``limit``."""
    width, height = img_file.size
    if width * height > limit:
        raise _OverLimit(width * height, limit)
    found = formats.by_pillow(img_file.format)
    if not every_frame or found is None or found.frames is None:
        return
    count = getattr(img_file, "n_frames", 1)
    if count <= 1:
        return
    if found.frames == "animation":  # every frame is decoded at the canvas size
        total = count * width * height
        if total > limit:
            raise _OverLimit(total, limit, f"{count} frames of {width}x{height}")
        return
    total = 0
    for index in range(count):  # pages: each its own size, read from its header
        img_file.seek(index)
        total += img_file.size[0] * img_file.size[1]
    img_file.seek(0)
    if total > limit:
        raise _OverLimit(total, limit, f"{count} pages")


# ---------------------------------------------------------------------------------------------
# Writing


def output_format(
    target: str | os.PathLike[str] | BinaryIO,
    format: str | None,
    quality: int | None,
    scale: tuple[float, float] | None,
) -> tuple[str, str]:
    """The output's name (a stream's, or ``<stdout>``) and format (as
    :func:`~poolcli.io.formats.image_format_for` names it); ValueError for a quality or scale out
    of range, :class:`~poolcli.errors.OutputError` when the format cannot be told.

    >>> output_format("small/a.max.jpg", None, 75, (2.0, 2.0))
    ('small/a.max.jpg', 'JPEG')
    """
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    if scale is not None and not all(s > 0 for s in scale):
        raise ValueError(f"scale must be positive, got {scale}")
    if isinstance(target, str | os.PathLike):
        name = os.fsdecode(os.fspath(target))
    else:
        name = stream_name(target, "<stdout>")
    return name, formats.image_format_for(name, format)


def save_picture(
    target: str | os.PathLike[str] | BinaryIO,
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
    ``format`` holds (:func:`~poolcli.io.formats.format_holds`). The metadata written is
    ``info``'s: give a picture whose own ``picture.info`` is empty, as Pillow's encoders write an
    ICC profile found there.

    >>> import io
    >>> info = ImageInfo("image", "PNG", "L", "L", "uint8", 1, size=(4, 4))
    >>> stream = io.BytesIO()
    >>> save_picture(stream, Image.new("L", (2, 2)), info, format="png")
    >>> Image.open(stream).size
    (2, 2)
    """
    name, fmt = output_format(target, format, quality, scale)
    if not formats.format_holds(fmt, picture.mode):
        raise OutputError(name, f"{fmt} cannot hold {picture.mode} images")
    check_size(name, fmt, picture.height, picture.width)
    meta = output_metadata(
        fmt, picture.mode, picture.height, picture.width, info, strip=strip, scale=scale
    )
    params = pillow_params(fmt, meta, info, 1, quality)

    def encode(stream: IO[bytes], path: str) -> None:
        save_with_pillow(stream, path, fmt, [picture], params)

    write_output(name if isinstance(target, str | os.PathLike) else target, name, encode)


def check_size(name: str, fmt: str, height: int, width: int) -> None:
    """Refuse (:class:`~poolcli.errors.OutputError`) a picture larger than ``fmt`` holds
    (:attr:`~poolcli.io.formats.Format.max_side`: ICO's 256).

    >>> check_size("icon.ico", "ICO", 256, 256)
    >>> check_size("icon.ico", "ICO", 300, 200)
    Traceback (most recent call last):
    ...
    poolcli.errors.OutputError: icon.ico: ICO holds at most 256x256 pixels, not 300x200 \
(height x width); write .png or pool it smaller
    """
    found = formats.by_pillow(fmt)
    side = None if found is None else found.max_side
    if side is not None and max(height, width) > side:
        raise OutputError(
            name,
            f"{fmt} holds at most {side}x{side} pixels, not {height}x{width} (height x width); "
            "write .png or pool it smaller",
        )


def pillow_params(
    fmt: str, meta: OutputMetadata, info: ImageInfo, frames: int, quality: int | None
) -> dict[str, Any]:
    """The options of Pillow's ``save`` for ``frames`` frames in ``fmt``: the format's encoder
    options (:meth:`~poolcli.io.formats.Format.pillow_options`), the metadata ``meta``, and an
    animation's timing from ``info``.

    >>> info = ImageInfo("image", "GIF", "P", "RGB", "uint8", 2, durations=(50.0, 60.0), loop=0)
    >>> pillow_params("GIF", OutputMetadata(), info, 2, None)
    {'duration': [50.0, 60.0], 'loop': 0}
    >>> pillow_params("JPEG", OutputMetadata(dpi=(72.0, 72.0)), info, 1, 80)
    {'quality': 80, 'dpi': (72.0, 72.0)}
    """
    found = formats.by_pillow(fmt)
    params: dict[str, Any] = {} if found is None else found.pillow_options(quality)
    if meta.icc_profile is not None:
        params["icc_profile"] = meta.icc_profile
    if meta.exif is not None:
        params["exif"] = meta.exif
    if meta.dpi is not None:
        params["dpi"] = meta.dpi
    if frames > 1 and found is not None and found.frames == "animation":
        if info.durations is not None and len(info.durations) == frames:
            params["duration"] = list(info.durations)
        if info.loop is not None:
            params["loop"] = info.loop
    return params


def save_with_pillow(
    stream: IO[bytes], path: str, fmt: str, images: list[Image.Image], params: dict[str, Any]
) -> None:
    """Encode ``images`` (several: an animation or pages) to ``stream``; an encoder's refusal
    is an :class:`~poolcli.errors.OutputError` naming ``path``."""
    if len(images) > 1:
        params = {**params, "save_all": True, "append_images": images[1:]}
    if fmt == "ICO":  # one icon of the picture's own size, not Pillow's set of smaller ones
        params = {**params, "sizes": [images[0].size]}
    try:
        with quiet():
            images[0].save(stream, format=fmt, **params)
    except OSError as exc:
        if exc.errno:
            raise
        raise OutputError(path, f"cannot write {fmt}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(path, f"cannot write {fmt}: {exc}") from None
