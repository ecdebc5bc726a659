"""Deep Zoom as libvips ``dzsave`` writes it: ``NAME.dzi`` (the XML) and ``NAME_files/LEVEL/
COL_ROW.jpeg`` (or ``.png``), tiles of 254 pixels with an overlap of 1 on each inner side,
level 0 one pixel, the last level the image. Plain data and Pillow; the writers are
:func:`poolcli.chunked.multiscale.write_dzi` and :func:`poolcli.streaming.pyramids.write_dzi`.

>>> dzi_levels((300, 517)), tile_spans(600)
(11, [(0, 255), (253, 509), (507, 600)])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "DZI_OVERLAP",
    "DZI_TILE",
    "check_picture",
    "dzi_levels",
    "dzi_xml",
    "save_tile",
    "tile_spans",
]

#: Deep Zoom tiles as libvips writes them by default.
DZI_TILE, DZI_OVERLAP = 254, 1


def dzi_levels(shape: Sequence[int]) -> int:
    """How many levels Deep Zoom has for an image of ``shape``: down to one pixel.

    >>> dzi_levels((300, 517))
    11
    """
    return math.ceil(math.log2(max(int(shape[-2]), int(shape[-1])))) + 1


def dzi_xml(height: int, width: int, extension: str) -> str:
    """The ``NAME.dzi`` file of an image of ``height`` by ``width`` in tiles of ``extension``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Image xmlns="http://schemas.microsoft.com/deepzoom/2008"\n'
        f'  Format="{extension}"\n'
        f'  Overlap="{DZI_OVERLAP}"\n'
        f'  TileSize="{DZI_TILE}"\n'
        "  >\n"
        "  <Size \n"
        f'    Height="{height}"\n'
        f'    Width="{width}"\n'
        "  />\n"
        "</Image>\n"
    )


def tile_spans(length: int) -> list[tuple[int, int]]:
    """Where each tile along an axis starts and stops: 254 cells plus the overlap each side."""
    spans = []
    for start in range(0, length, DZI_TILE):
        spans.append((max(0, start - DZI_OVERLAP), min(length, start + DZI_TILE + DZI_OVERLAP)))
    return spans


def check_picture(path: str, dtype: Any, channels: int, frames: int, tile_format: str) -> None:
    """An OutputError unless Deep Zoom ``tile_format`` tiles hold one frame of this image."""
    from poolcli.errors import OutputError

    if tile_format not in ("jpeg", "png"):
        raise ValueError(f'tile_format must be "jpeg" or "png", got {tile_format!r}')
    if frames != 1:
        raise OutputError(path, f"Deep Zoom holds one frame, not {frames}")
    allowed = (1, 3) if tile_format == "jpeg" else (1, 3, 4)
    if str(dtype) != "uint8" or channels not in allowed:
        raise OutputError(
            path,
            f"Deep Zoom {tile_format} tiles hold 8-bit images of "
            f"{' or '.join(map(str, allowed))} channels, not {channels} of {dtype}",
        )
    if not path.lower().endswith(".dzi"):
        raise OutputError(path, "a Deep Zoom output is named NAME.dzi")


def save_tile(part: Any, name: str, tile_format: str, quality: int) -> None:
    """Save one tile, (C, rows, columns) or (rows, columns) of uint8, as ``name``."""
    import numpy as np
    from PIL import Image

    picture = part if part.ndim == 2 else np.moveaxis(part, 0, -1)
    if picture.ndim == 3 and picture.shape[-1] == 1:
        picture = picture[..., 0]
    options = {"quality": quality} if tile_format == "jpeg" else {}
    Image.fromarray(np.ascontiguousarray(picture)).save(name, format=tile_format.upper(), **options)
