"""Pool the commonest pictures with Pillow's own operations: the engine's pixels, without numpy.

Importing numpy costs a command 80–110 ms here, more than Pillow takes to pool a 4K photo (about
15 ms for avg, 30 ms for max), so for one 8-bit picture (a JPEG, PNG, WebP, TIFF or BMP of one
frame) pooled by max, min or avg over windows that tile it (stride equal to the window, no
padding, no dilation) the command line asks Pillow:

- max and min: for each cell (dy, dx) of a window, the picture of that cell of every window,
  taken by nearest-neighbour affine sampling, combined by ``ImageChops.lighter`` / ``darker``;
- avg: ``Image.reduce``, which rounds ``(sum + count // 2) // count``: the engine's average
  written back as ``floor(v + 0.5)`` — when the window's cell count is a power of two (Pillow
  divides with a fixed-point multiplier, exact only then) and the picture has no alpha (Pillow
  premultiplies alpha in 8 bits; poolcli in float).

Everything else — other ops, modes, formats, geometries, several frames, 16-bit colour, an output
that is an array or a matrix — goes the numpy way. tests/test_quick.py checks that both ways
write the same bytes.

>>> from PIL import Image
>>> from poolcli.core.geometry import resolve
>>> picture = Image.frombytes("L", (4, 2), bytes([0, 9, 1, 2, 3, 4, 250, 5]))
>>> pooling = QuickPooling("max")
>>> geometry = resolve((2, 4), size=2)
>>> pooling.pools(picture.mode, geometry)
True
>>> list(pooling.pool(picture, geometry).tobytes())
[9, 250]
>>> list(QuickPooling("avg").pool(picture, geometry).tobytes())
[4, 65]
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageChops

from poolcli.core.geometry import Geometry
from poolcli.errors import InputError
from poolcli.io import formats
from poolcli.io.metadata import PILLOW_TRANSPOSE, FileMetadata, ImageInfo
from poolcli.io.pictures import opened, wide_colour

__all__ = ["QUICK_OPS", "QuickPooling"]

#: The ops Pillow can pool exactly as the engine does.
QUICK_OPS = frozenset({"max", "min", "avg"})

_MODES = frozenset({"L", "RGB", "RGBA"})
_ALPHA_MODES = frozenset({"RGBA"})
# Window sides for which Image.reduce's fixed-point division is exact (tested up to 16).
_EXACT_REDUCE_SIDES = frozenset({1, 2, 4, 8, 16})
# Bytes of each picture combined by max and min: 128 KiB strips were fastest for a 4K photo.
_STRIP_BYTES = 1 << 17


@dataclass(frozen=True)
class QuickPooling:
    """Pooling by ``op`` ("max", "min" or "avg") done by Pillow where it gives the engine's
    result: :meth:`load` a picture it can pool, check the geometry with :meth:`pools`, then
    :meth:`pool` it."""

    op: str

    def __post_init__(self) -> None:
        if self.op not in QUICK_OPS:
            raise ValueError(f"op must be one of {', '.join(sorted(QUICK_OPS))}, got {self.op!r}")

    def load(
        self,
        source: str | BinaryIO,
        geometry_for: Callable[[tuple[int, int]], Geometry],
        *,
        max_pixels: int | None = None,
        frame: int | None = None,
        auto_orient: bool = True,
    ) -> tuple[Image.Image, ImageInfo, Geometry] | None:
        """The picture in ``source`` decoded and upright, what
        :func:`poolcli.io.images.load_image` would say of it, and its geometry,
        ``geometry_for((H, W))``; None, before anything is decoded, when this pooling does not
        take it (the numpy way then reads it, and tells its errors).

        ``source`` is a path or a seekable binary stream (standard input, read into memory);
        the options are load_image's. A picture file that is too large or corrupt raises the
        same :class:`~poolcli.errors.InputError` as there; a stream that is not a picture this
        pooling takes, whatever else it may be (an array, a matrix, corrupt), gives None.
        """
        if frame is not None:
            return None
        if not isinstance(source, str):
            try:
                return self._load(source, "<stdin>", geometry_for, max_pixels, auto_orient)
            except InputError:
                return None
        by_extension = formats.for_path(source)
        if by_extension is not None and by_extension.kind != "image":
            return None
        try:
            st = os.stat(source)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return None
        return self._load(source, source, geometry_for, max_pixels, auto_orient)

    def _load(
        self,
        fp: str | BinaryIO,
        name: str,
        geometry_for: Callable[[tuple[int, int]], Geometry],
        max_pixels: int | None,
        auto_orient: bool,
    ) -> tuple[Image.Image, ImageInfo, Geometry] | None:
        with opened(fp, name, max_pixels) as img_file:
            mode = img_file.mode
            if (
                not _reads(img_file.format)
                or getattr(img_file, "n_frames", 1) != 1
                or wide_colour(img_file) is not None
            ):
                return None
            # Upright either way: a PNG's EXIF orientation may come after its pixels.
            width, height = img_file.size
            if not all(
                self._fits(mode, geometry_for, size) for size in ((height, width), (width, height))
            ):
                return None
            img_file.load()
            meta = FileMetadata.of(img_file, auto_orient)
            picture: Image.Image = img_file
            if meta.orientation in PILLOW_TRANSPOSE:
                picture = img_file.transpose(PILLOW_TRANSPOSE[meta.orientation])
            info = ImageInfo(
                kind="image",
                format=img_file.format,
                mode=mode,
                save_mode=mode,
                dtype="uint8",
                frames=1,
                ndim=4,
                icc_profile=meta.icc_profile,
                exif=meta.exif,
                dpi=meta.dpi,
                loop=meta.loop,
                size=(picture.height, picture.width),
            )
        return picture, info, geometry_for((picture.height, picture.width))

    def _fits(
        self, mode: str, geometry_for: Callable[[tuple[int, int]], Geometry], size: tuple[int, int]
    ) -> bool:
        try:
            geometry = geometry_for(size)
        except ValueError:  # e.g. a window larger than the picture: the numpy way says so
            return False
        return self.pools(mode, geometry)

    def pools(self, mode: str, geometry: Geometry) -> bool:
        """Whether :meth:`pool` gives exactly the engine's result for a picture of ``mode``."""
        if mode not in _MODES or (self.op == "avg" and mode in _ALPHA_MODES):
            return False
        for axis in (geometry.height, geometry.width):
            if (
                axis.stride != axis.size
                or axis.dilation != 1
                or axis.before
                or axis.after
                or axis.out != axis.length // axis.size
            ):
                return False
        return self.op != "avg" or set(geometry.size) <= _EXACT_REDUCE_SIDES

    def pool(self, picture: Image.Image, geometry: Geometry) -> Image.Image:
        """``picture`` pooled over ``geometry``'s windows (:meth:`pools` must have said yes),
        without the metadata of ``picture.info``."""
        result = self._pooled(picture, geometry)
        result.info = {}  # Pillow's encoders would write an ICC profile found there
        return result

    def _pooled(self, picture: Image.Image, geometry: Geometry) -> Image.Image:
        (height, width), (out_h, out_w) = geometry.size, geometry.out_shape
        if self.op == "avg":
            return picture.reduce((width, height), (0, 0, out_w * width, out_h * height))
        combine = ImageChops.lighter if self.op == "max" else ImageChops.darker
        result = Image.new(picture.mode, (out_w, out_h))
        # In strips of output rows: the pictures combined stay small enough to be in cache.
        pixel_bytes = 1 if picture.mode == "L" else 4  # Pillow keeps RGB as RGBX
        rows = max(1, _STRIP_BYTES // (out_w * pixel_bytes))
        for top in range(0, out_h, rows):
            strip_rows = min(rows, out_h - top)
            strip = None
            for dy in range(height):
                for dx in range(width):
                    # Output pixel (x, y) samples floor(width * (x + 0.5) + c) = width * x + dx.
                    cell = picture.transform(
                        (out_w, strip_rows),
                        Image.Transform.AFFINE,
                        (
                            *(width, 0, dx + 0.5 - width / 2),
                            *(0, height, top * height + dy + 0.5 - height / 2),
                        ),
                        Image.Resampling.NEAREST,
                    )
                    strip = cell if strip is None else combine(strip, cell)
            assert strip is not None  # a window has at least one cell
            result.paste(strip, (0, top))
        return result

    @staticmethod
    def writes(fmt: str, mode: str) -> bool:
        """Whether a pooled picture of ``mode`` can be written as ``fmt`` without numpy."""
        found = formats.by_pillow(fmt)
        return found is not None and found.kind == "image" and formats.format_holds(fmt, mode)


def _reads(pillow_format: str | None) -> bool:
    """Whether a picture file in ``pillow_format`` may be pooled here (when of one frame)."""
    found = formats.by_pillow(pillow_format)
    return found is not None and found.quick_reads and found.pillow == pillow_format
