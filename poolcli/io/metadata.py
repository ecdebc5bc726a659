"""What is carried from an input to an output besides the pixels: ICC profile, EXIF and DPI.

:class:`ImageInfo` describes what was loaded; :class:`FileMetadata` is what an image file says
besides its pixels, as read; :func:`output_metadata` what to write to an output, for the formats
that hold it (:mod:`poolcli.io.formats`). EXIF is carried less the orientation tag once it has
been applied and less the tags about the input's storage, with its pixel dimensions updated; the
resolution is divided by the pooling stride. numpy-free.

>>> info = ImageInfo("image", "JPEG", "RGB", "RGB", "uint8", 1, icc_profile=b"icc")
>>> output_metadata("PNG", "RGB", 2, 2, info).icc_profile
b'icc'
>>> output_metadata("PNG", "RGB", 2, 2, info, strip=True).icc_profile is None
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from PIL import Image

from poolcli.io import formats

__all__ = ["PILLOW_TRANSPOSE", "FileMetadata", "ImageInfo", "OutputMetadata", "output_metadata"]

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


#: EXIF orientation -> the Pillow transpose that displays the picture upright.
PILLOW_TRANSPOSE: Mapping[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ImageInfo:
    """What was loaded, and what :func:`~poolcli.io.images.save_image` needs to write a result
    back. Frozen: derive a changed one with :func:`dataclasses.replace`.

    >>> import dataclasses
    >>> info = ImageInfo("image", "PNG", "L", "L", "uint8", 3)
    >>> dataclasses.replace(info, frame=1).frame
    1

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
        (H, W) of the loaded array: ``save_image`` divides the DPI by the input-to-output
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
class FileMetadata:
    """What an image file says besides its pixels, read once from its first loaded frame:
    :meth:`of` an open Pillow image.

    >>> from PIL import Image
    >>> FileMetadata.of(Image.new("L", (2, 2)), auto_orient=True)
    FileMetadata(orientation=1, icc_profile=None, exif=None, dpi=None, loop=None)
    """

    orientation: int
    icc_profile: bytes | None
    exif: bytes | None
    dpi: tuple[float, float] | None
    loop: int | None

    @classmethod
    def of(cls, img: Image.Image, auto_orient: bool, decoded: bool = True) -> FileMetadata:
        """What ``img`` says; the orientation is 1 unless ``auto_orient`` (then the EXIF tag is
        carried). ``decoded`` False: read no pixel data for it (a PNG's EXIF after its pixels is
        then missed)."""
        exif = Image.Exif()
        try:
            if decoded or img.format != "PNG":
                exif = img.getexif()
            elif "exif" in img.info:
                exif.load(img.info["exif"])
        except Exception:  # unreadable EXIF is dropped, not fatal
            exif = Image.Exif()
        orientation = exif.get(_ORIENTATION_TAG, 1) if auto_orient else 1
        if orientation not in PILLOW_TRANSPOSE:
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
            loop=loop if isinstance(loop, int) and _animated(img.format) else None,
        )


def _dpi(value: object) -> tuple[float, float] | None:
    if not isinstance(value, Iterable):
        return None
    try:
        x, y = (float(v) for v in value)
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


def _animated(pillow_format: str | None) -> bool:
    found = formats.by_pillow(pillow_format)
    return found is not None and found.frames == "animation"


@dataclass(frozen=True)
class OutputMetadata:
    """The metadata to write to one output; None for what it gets none of."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None


def output_metadata(
    fmt: str,
    mode: str,
    height: int,
    width: int,
    info: ImageInfo,
    *,
    strip: bool = False,
    scale: tuple[float, float] | None = None,
) -> OutputMetadata:
    """The ICC profile, EXIF and DPI to write for an output of ``mode``, ``height`` x ``width``,
    in the format ``fmt`` (as :func:`~poolcli.io.formats.image_format_for` names it), of an
    input described by ``info``; none of them for ``strip``. ``scale`` is as for ``save_image``.

    >>> info = ImageInfo("image", "PNG", "L", "L", "uint8", 1, dpi=(300.0, 300.0), size=(8, 8))
    >>> output_metadata("PNG", "L", 4, 4, info).dpi, output_metadata("GIF", "L", 4, 4, info).dpi
    ((150.0, 150.0), None)
    """
    found = formats.by_pillow(fmt)
    if strip or found is None:
        return OutputMetadata()
    icc = None
    if info.icc_profile and found.icc and mode == info.save_mode:
        icc = info.icc_profile
    exif = None
    if info.exif and found.exif:
        exif = _updated_exif(info.exif, width, height)
    dpi = None
    if info.dpi is not None and found.dpi:
        if scale is not None:
            scale_y, scale_x = scale
        elif info.size is not None:
            scale_y, scale_x = info.size[0] / height, info.size[1] / width
        else:
            scale_y = scale_x = 1.0
        dpi = (info.dpi[0] / scale_x, info.dpi[1] / scale_y)
    return OutputMetadata(icc, exif, dpi)


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
