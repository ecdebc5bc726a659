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
from poolcli.io.streams import os_reason, stream_name

__all__ = [
    "opened",
    "output_format",
    "pillow_params",
    "pixel_limit",
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

    def __init__(self, pixels: int, limit: int) -> None:
        self.reason = (
            f"image has {pixels} pixels, more than the limit of {limit}; "
            "raise it with {max_pixels}"
        )
        super().__init__(self.reason)


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
    with pixel_limit(limit):
        try:
            img_file = Image.open(fp)
        except _OverLimit as exc:
            raise InputError(name, exc.reason, ("max_pixels",)) from None
        except UnidentifiedImageError:
            raise InputError(name, "cannot identify image file") from None
        except MemoryError:
            raise
        except OSError as exc:
            reason = os_reason(exc) if exc.errno else f"cannot identify image file: {exc}"
            raise InputError(name, reason) from None
        except Exception as exc:  # a plugin's parse error, or a warning turned into an error
            raise InputError(name, f"cannot identify image file: {exc}") from None
        with img_file:
            width, height = img_file.size
            if limit is not None and width * height > limit:
                raise InputError(name, _OverLimit(width * height, limit).reason, ("max_pixels",))
            try:
                yield img_file
            except (MemoryError, PoolcliError):
                raise
            except _OverLimit as exc:  # a frame larger than the canvas
                raise InputError(name, exc.reason, ("max_pixels",)) from None
            except Exception as exc:
                raise InputError(name, f"truncated or corrupt image data: {exc}") from None


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
    meta = output_metadata(
        fmt, picture.mode, picture.height, picture.width, info, strip=strip, scale=scale
    )
    params = pillow_params(fmt, meta, info, 1, quality)

    def encode(stream: IO[bytes], path: str) -> None:
        save_with_pillow(stream, path, fmt, [picture], params)

    write_output(name if isinstance(target, str | os.PathLike) else target, name, encode)


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
    try:
        images[0].save(stream, format=fmt, **params)
    except OSError as exc:
        if exc.errno:
            raise
        raise OutputError(path, f"cannot write {fmt}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(path, f"cannot write {fmt}: {exc}") from None
