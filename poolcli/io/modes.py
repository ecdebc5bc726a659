"""The image modes poolcli writes, and how an array's values are laid out for each (numpy-free).

>>> SAVE_MODES["RGB"]
SaveMode(channels=3, dtype='u1', rawmode='RGB')
>>> WIDE_MODES["RGB;16"], WIDE_BY_CHANNELS[4]
(3, 'RGBA;16')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["SAVE_MODES", "WIDE_BY_CHANNELS", "WIDE_MODES", "SaveMode"]


class SaveMode(NamedTuple):
    """How the pixels of one Pillow mode are handed to Pillow."""

    channels: int
    #: numpy dtype code of the values handed to Pillow, e.g. ``"<u2"``.
    dtype: str
    #: Pillow raw mode of those bytes.
    rawmode: str


#: Pillow modes written from arrays, by name.
SAVE_MODES: Mapping[str, SaveMode] = {
    "L": SaveMode(1, "u1", "L"),
    "LA": SaveMode(2, "u1", "LA"),
    "RGB": SaveMode(3, "u1", "RGB"),
    "RGBA": SaveMode(4, "u1", "RGBA"),
    "CMYK": SaveMode(4, "u1", "CMYK"),
    "YCbCr": SaveMode(3, "u1", "YCbCr"),
    "I;16": SaveMode(1, "<u2", "I;16"),
    "I": SaveMode(1, "<i4", "I;32S"),
    "F": SaveMode(1, "<f4", "F;32F"),
}

#: 16-bit colour, which Pillow has no mode for: mode -> channels. Read and written by the
#: full-depth extra (imagecodecs, tifffile).
WIDE_MODES: Mapping[str, int] = {"LA;16": 2, "RGB;16": 3, "RGBA;16": 4}

#: Channels -> the 16-bit colour mode of that many channels.
WIDE_BY_CHANNELS: Mapping[int, str] = {channels: mode for mode, channels in WIDE_MODES.items()}
