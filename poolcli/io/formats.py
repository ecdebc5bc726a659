"""The file formats poolcli knows: one :class:`Format` record each, and the lookups built on them.

This registry is the single source of what a format is called (its ``--format`` name and
extensions), whether poolcli writes it, what it holds (modes, frames, one plane), which metadata
it carries, and the options its encoder is given. Output names, the ``--format`` choices, the
formats standard output takes and the formats errors suggest are all read from it; adding a
format is adding a record to :data:`FORMATS`. numpy-free and Pillow-free.

>>> by_name("jpeg").extension
'.jpg'
>>> [f.name for f in FORMATS if f.writes][:8]
['png', 'jpeg', 'webp', 'tiff', 'gif', 'npy', 'csv', 'bmp']
>>> [f.name for f in FORMATS if f.chunked]
['zarr', 'ome-zarr']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from poolcli.errors import OutputError
from poolcli.io.modes import SAVE_MODES, WIDE_MODES

__all__ = [
    "FORMATS",
    "ZARR_MARKERS",
    "PNG_COMPRESS_LEVEL",
    "Format",
    "by_name",
    "by_pillow",
    "check_output_name",
    "choices",
    "extension",
    "for_path",
    "is_store",
    "split_extension",
    "format_holds",
    "frame_formats",
    "image_format_for",
    "picture_choices",
    "result_choices",
    "written_back_as",
]

# PNG zlib level. Measured on scikit-image's photos (astronaut, chelsea, coffee) with Pillow 13:
# level 1 is ~2x faster than 4 but 5-16 % larger; level 6 (Pillow's default) is within 1-4 % of
# level 4 in size but 1.5-3x slower; 9 is slower still for <5 % gain. 4 is the knee.
#: zlib level of every PNG written (by Pillow, and by imagecodecs for 16-bit colour).
PNG_COMPRESS_LEVEL = 4


@dataclass(frozen=True)
class Format:
    """One file format: its names, what it holds, and how poolcli writes it.

    >>> tiff = by_name("tif")
    >>> tiff.name, tiff.pillow, tiff.extensions, tiff.frames
    ('tiff', 'TIFF', ('tiff', 'tif'), 'pages')
    """

    #: The ``--format`` value, e.g. ``"jpeg"``.
    name: str
    #: Upper-case name: Pillow's format name for an image format (the one Pillow writes and
    #: reports on reading), ``"NPY"`` or ``"CSV"`` for the others.
    pillow: str
    #: File extensions without the dot, lower case; the first is the one written.
    extensions: tuple[str, ...]
    #: ``"image"`` (through Pillow), ``"array"`` (.npy) or ``"matrix"`` (text).
    kind: Literal["image", "array", "matrix"] = "image"
    #: Other values ``format=`` takes for it (not offered as ``--format`` choices).
    aliases: tuple[str, ...] = ()
    #: Other Pillow formats of inputs read as this one and written back in it (MPO: a phone's
    #: JPEG with extra pictures).
    read_from: tuple[str, ...] = ()
    reads: bool = True
    writes: bool = True
    #: Pillow modes it holds without losing data or channels (written formats only). WebP
    #: stores L and LA as RGB and RGBA (the grey values survive); GIF keeps at most 256 colours,
    #: as its users expect.
    modes: frozenset[str] = frozenset()
    #: What several frames of one file are: an animation (all loaded, with durations and loop
    #: count), pages (all loaded), or None: one frame is loaded, written and suggested.
    frames: Literal["animation", "pages"] | None = None
    #: Where it comes in the formats errors suggest for several frames (1 first).
    frames_rank: int = 0
    #: Holds one plane (a matrix), not a whole (N, C, H, W) result.
    one_plane: bool = False
    #: Keeps every value it holds exactly (suggested when another format cannot hold a mode).
    lossless: bool = False
    icc: bool = False
    exif: bool = False
    dpi: bool = False
    #: Pooled by Pillow without numpy (:mod:`poolcli.imaging.quick`) when it has one frame.
    quick_reads: bool = False
    #: Options of Pillow's ``save`` whatever the quality.
    save_options: tuple[tuple[str, int], ...] = ()
    #: The quality written when none is given; None: the format takes no quality.
    default_quality: int | None = None
    #: JPEG: from this quality up, chroma is not subsampled (4:4:4).
    full_chroma_from: int | None = None
    #: The longest side it holds, in pixels (ICO: 256); None: any.
    max_side: int | None = None
    #: Offered in messages: for standard output, and where no format can be told. The formats
    #: written only when named or when an input is in them are not.
    suggested: bool = True
    #: A folder of chunks (Zarr), read and written in parts by :mod:`poolcli.chunked` (the
    #: ``chunked`` extra), never whole and never to a stream.
    chunked: bool = False

    @property
    def extension(self) -> str:
        """The extension written, with its dot.

        >>> by_name("tiff").extension
        '.tiff'
        """
        return "." + self.extensions[0]

    def holds(self, mode: str) -> bool:
        """Whether it holds images of ``mode`` without losing data or channels.

        >>> by_name("jpeg").holds("RGB"), by_name("jpeg").holds("RGBA")
        (True, False)
        """
        return mode in self.modes

    def pillow_options(self, quality: int | None = None) -> dict[str, object]:
        """The encoder options of Pillow's ``save`` for ``quality`` (None: the default).

        >>> by_name("jpeg").pillow_options()
        {'quality': 90, 'subsampling': 0}
        >>> by_name("jpeg").pillow_options(75), by_name("png").pillow_options()
        ({'quality': 75}, {'compress_level': 4})
        """
        options: dict[str, object] = dict(self.save_options)
        if self.default_quality is not None:
            value = self.default_quality if quality is None else quality
            options["quality"] = value
            if self.full_chroma_from is not None and value >= self.full_chroma_from:
                options["subsampling"] = 0  # 4:4:4
        return options


_ALL_MODES = frozenset({*SAVE_MODES, *WIDE_MODES})
_QUALITY = 90

#: Every format, in the order the ``--format`` choices list them.
FORMATS: tuple[Format, ...] = (
    Format(
        "png",
        "PNG",
        ("png",),
        modes=frozenset({"L", "LA", "RGB", "RGBA", "I;16", *WIDE_MODES}),
        frames="animation",
        frames_rank=3,
        lossless=True,
        icc=True,
        exif=True,
        dpi=True,
        quick_reads=True,
        save_options=(("compress_level", PNG_COMPRESS_LEVEL),),
    ),
    Format(
        "jpeg",
        "JPEG",
        ("jpg", "jpeg", "jpe"),
        aliases=("jpg", "jpe"),
        read_from=("MPO",),
        modes=frozenset({"L", "RGB", "CMYK", "YCbCr"}),
        icc=True,
        exif=True,
        dpi=True,
        quick_reads=True,
        default_quality=_QUALITY,
        full_chroma_from=90,
    ),
    Format(
        "webp",
        "WEBP",
        ("webp",),
        modes=frozenset({"L", "LA", "RGB", "RGBA"}),
        frames="animation",
        frames_rank=2,
        icc=True,
        exif=True,
        quick_reads=True,
        default_quality=_QUALITY,
    ),
    Format(
        "tiff",
        "TIFF",
        ("tiff", "tif"),
        aliases=("tif",),
        modes=_ALL_MODES,
        frames="pages",
        frames_rank=4,
        lossless=True,
        icc=True,
        exif=True,
        dpi=True,
        quick_reads=True,
    ),
    Format(
        "gif",
        "GIF",
        ("gif",),
        modes=frozenset({"L", "RGB", "RGBA"}),
        frames="animation",
        frames_rank=1,
    ),
    Format("npy", "NPY", ("npy",), kind="array", lossless=True),
    Format("csv", "CSV", ("csv", "txt"), kind="matrix", one_plane=True, lossless=True),
    # Written when asked for by name or by an input in them; Pillow's modes for each.
    Format(
        "bmp",
        "BMP",
        ("bmp",),
        modes=frozenset({"L", "RGB"}),  # Pillow writes RGBA as 32-bit RGB: alpha is lost
        lossless=True,
        dpi=True,
        quick_reads=True,
        suggested=False,
    ),
    Format(
        "ppm",
        "PPM",
        ("ppm", "pgm", "pnm", "pbm"),
        aliases=("pgm", "pnm", "pbm"),
        modes=frozenset({"L", "RGB", "I;16"}),
        lossless=True,
        suggested=False,
    ),
    Format(
        "tga",
        "TGA",
        ("tga",),
        modes=frozenset({"L", "LA", "RGB", "RGBA"}),
        lossless=True,
        suggested=False,
    ),
    Format(
        "ico",
        "ICO",
        ("ico",),
        modes=frozenset({"L", "LA", "RGB", "RGBA"}),
        lossless=True,
        max_side=256,
        suggested=False,
    ),
    Format("pcx", "PCX", ("pcx",), modes=frozenset({"L", "RGB"}), lossless=True, suggested=False),
    # Folders of chunks, for images larger than memory.
    Format("zarr", "ZARR", ("zarr",), kind="array", lossless=True, suggested=False, chunked=True),
    Format(
        "ome-zarr",
        "OME-ZARR",
        ("ome.zarr",),
        kind="array",
        aliases=("omezarr",),
        lossless=True,
        suggested=False,
        chunked=True,
    ),
)

_BY_NAME = {name: f for f in FORMATS for name in (f.name, *f.aliases)}
_BY_EXTENSION = {ext: f for f in FORMATS for ext in f.extensions}
_BY_PILLOW = {pillow: f for f in FORMATS for pillow in (f.pillow, *f.read_from)}
_LONG_EXTENSIONS = tuple(ext for ext in _BY_EXTENSION if "." in ext)


def by_name(name: str) -> Format | None:
    """The format a ``--format`` value or ``format=`` argument names (any case, a leading dot
    allowed), or None.

    >>> by_name("JPG").name, by_name(".tif").name, by_name("txt")
    ('jpeg', 'tiff', None)
    """
    return _BY_NAME.get(name.lower().lstrip("."))


def for_path(path: str | os.PathLike[str]) -> Format | None:
    """The format a file name's extension names (any case), or None.

    >>> for_path("photos/a.max.JPEG").name, for_path("m.txt").name, for_path("notes")
    ('jpeg', 'csv', None)
    >>> for_path("slide.OME.zarr/").name, for_path("labels.zarr").name
    ('ome-zarr', 'zarr')
    """
    name = os.fspath(path).rstrip("/" + os.sep).lower()
    for ext in _LONG_EXTENSIONS:
        if name.endswith("." + ext):
            return _BY_EXTENSION[ext]
    return _BY_EXTENSION.get(os.path.splitext(name)[1].lstrip("."))


#: The files at the top of a Zarr store: format 3, and format 2's array and group.
ZARR_MARKERS = ("zarr.json", ".zarray", ".zgroup")


def is_store(path: str | os.PathLike[str], *, by_name: bool = True) -> bool:
    """Whether ``path`` is a Zarr store, one input though a folder: named .zarr (or .ome.zarr),
    or a folder holding Zarr's own metadata at its top (only that, with ``by_name`` False).

    >>> is_store("scan.ome.zarr"), is_store(".")
    (True, False)
    >>> is_store("scan.ome.zarr", by_name=False)
    False
    """
    found = for_path(path)
    if by_name and found is not None and found.chunked:
        return True
    folder = os.fspath(path)
    return any(os.path.isfile(os.path.join(folder, marker)) for marker in ZARR_MARKERS)


def split_extension(path: str) -> tuple[str, str]:
    """``path`` as (root, extension), as :func:`os.path.splitext` but knowing the extensions of
    two parts (``.ome.zarr``) and a folder store's trailing slash.

    >>> split_extension("scans/slide.ome.zarr/"), split_extension("a.b.png")
    (('scans/slide', '.ome.zarr'), ('a.b', '.png'))
    """
    stripped = path.rstrip("/" + os.sep) or path
    lower = stripped.lower()
    for ext in _LONG_EXTENSIONS:
        if lower.endswith("." + ext):
            cut = len(stripped) - len(ext) - 1
            return stripped[:cut], stripped[cut:]
    return os.path.splitext(stripped)


def by_pillow(pillow_format: str | None) -> Format | None:
    """The format of a file Pillow reports as ``pillow_format`` (``Image.format``), or None.

    >>> by_pillow("MPO").name, by_pillow("ICNS")
    ('jpeg', None)
    """
    return None if pillow_format is None else _BY_PILLOW.get(pillow_format)


def extension(name: str) -> str:
    """The extension, with its dot, of the files ``--format name`` writes; KeyError for a name
    that is no written format.

    >>> extension("jpeg"), extension("JPG"), extension("npy")
    ('.jpg', '.jpg', '.npy')
    """
    found = by_name(name)
    if found is None or not found.writes:
        raise KeyError(name)
    return found.extension


def choices() -> tuple[str, ...]:
    """The ``--format`` values: every format poolcli writes, by its name. Its aliases (jpg,
    tif, ...) and any case name the same format: :func:`by_name` tells.

    >>> choices()[:6], choices()[-2:]
    (('png', 'jpeg', 'webp', 'tiff', 'gif', 'npy'), ('zarr', 'ome-zarr'))
    """
    return tuple(f.name for f in FORMATS if f.writes)


def picture_choices() -> tuple[str, ...]:
    """The formats of a full-colour picture (the compare picture): images written in full
    colour, losslessly or at a quality.

    >>> picture_choices()
    ('png', 'jpeg', 'webp', 'tiff')
    """
    return tuple(
        f.name
        for f in FORMATS
        if f.writes
        and f.suggested
        and f.kind == "image"
        and f.holds("RGB")
        and (f.lossless or f.default_quality)
    )


def result_choices() -> tuple[str, ...]:
    """The ``--format`` values that hold any (N, C, H, W) result: what standard output is
    offered, and what errors suggest when no format can be told.

    >>> "|".join(result_choices())
    'png|jpeg|webp|tiff|gif|npy'
    """
    return tuple(f.name for f in FORMATS if f.writes and f.suggested and not f.one_plane)


def frame_formats() -> tuple[Format, ...]:
    """The written formats that hold several frames, in the order errors suggest them.

    >>> [f.extension for f in frame_formats()]
    ['.gif', '.webp', '.png', '.tiff']
    """
    holding = [f for f in FORMATS if f.writes and f.frames is not None]
    return tuple(sorted(holding, key=lambda f: f.frames_rank))


def written_back_as(pillow_format: str | None) -> str | None:
    """The ``--format`` an input Pillow reports as ``pillow_format`` is written back as by
    default; None when poolcli does not write that format.

    >>> [written_back_as(name) for name in ("MPO", "PNG", "BMP", "XBM")]
    ['jpeg', 'png', 'bmp', None]
    """
    found = by_pillow(pillow_format)
    return found.name if found is not None and found.writes and found.kind == "image" else None


def image_format_for(path_or_name: str, format: str | None = None) -> str:
    """The output format's upper-case name (:attr:`Format.pillow`): from ``format`` if given,
    else from the file extension.

    Parameters
    ----------
    path_or_name : str
        The output path or file name (named in the error).
    format : str, optional
        A name from :func:`choices` or one of its aliases (jpg, jpe, tif, pgm, ...), any case.
        When the name's extension names another format, the output is refused
        (:func:`check_output_name`): no PNG bytes are written under a .jpg name.

    Returns
    -------
    str
        ``"PNG"``, ``"JPEG"``, ``"WEBP"``, ``"TIFF"``, ``"GIF"``, ``"NPY"``, ``"CSV"`` (.txt
        names are written as CSV), ``"BMP"``, ``"PPM"``, ``"TGA"``, ``"ICO"`` or ``"PCX"``.

    Raises
    ------
    OutputError
        When neither says, ``format`` is no format poolcli writes, or the two disagree.

    Examples
    --------
    >>> image_format_for("small/photo.max.JPG")
    'JPEG'
    >>> image_format_for("-", "png"), image_format_for("photo.max.bmp")
    ('PNG', 'BMP')
    >>> image_format_for("out.xyz")
    Traceback (most recent call last):
    ...
    poolcli.errors.OutputError: out.xyz: cannot tell the output format from the name; \
use format=png|jpeg|webp|tiff|gif|npy
    """
    suggestion = "{format=" + "|".join(result_choices()) + "}"
    if format is not None:
        found = by_name(format)
        if found is None or not found.writes:
            raise OutputError(
                path_or_name, f"unknown format {format!r}; use {suggestion}", ("format",)
            )
        check_output_name(path_or_name, found.name)
        return found.pillow
    found = for_path(path_or_name)
    if found is None or not found.writes:
        raise OutputError(
            path_or_name,
            f"cannot tell the output format from the name; use {suggestion}",
            ("format",),
        )
    return found.pillow


def check_output_name(path_or_name: str, format: str) -> None:
    """Refuse (:class:`~poolcli.errors.OutputError`) an output name whose extension names a
    format other than ``format``; a name without a known extension (``-``, ``out``) takes any.

    >>> check_output_name("small.JPEG", "jpg")
    >>> check_output_name("out", "png")
    >>> check_output_name("small.jpg", "png")
    Traceback (most recent call last):
    ...
    poolcli.errors.OutputError: small.jpg: the name says JPEG (.jpg) but format=png asks for \
PNG; name it small.png or drop format
    """
    wanted = by_name(format)
    named = for_path(path_or_name)
    if wanted is None or named is None or named is wanted:
        return
    root, ext = split_extension(path_or_name)
    raise OutputError(
        path_or_name,
        f"the name says {named.pillow} ({ext}) but {{format={format}}} asks for "
        f"{wanted.pillow}; name it {os.path.basename(root)}{wanted.extension} or drop "
        "{format}",
        ("format",),
    )


def format_holds(fmt: str, mode: str) -> bool:
    """Whether the output format ``fmt`` (as :func:`image_format_for` names it) holds images of
    ``mode`` without losing data or channels.

    >>> format_holds("JPEG", "RGB"), format_holds("JPEG", "RGBA"), format_holds("NPY", "L")
    (True, False, False)
    """
    found = by_pillow(fmt)
    return found is not None and found.writes and found.holds(mode)
