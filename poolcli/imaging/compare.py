"""One picture that shows what pooling does: the input beside its max, avg and min pooled versions.

Each pooled version is scaled back up to the input's size with nearest-neighbour resampling, so
every output pixel shows as a block the size of its stride, and labelled with the op, the window
and its output size. The command line's ``poolcli compare`` writes it.

>>> import numpy as np
>>> from poolcli.io.images import ImageInfo
>>> x = np.arange(64 * 64, dtype=np.uint8).reshape(1, 1, 64, 64)
>>> picture = compare_picture(x, ImageInfo("image", "PNG", "L", "L", "uint8", 1), size=8)
>>> picture.mode, picture.width > 4 * 256
('L', True)
>>> labels(x.shape, size=8)
['input 64x64', 'max 8x8 -> 8x8', 'avg 8x8 -> 8x8', 'min 8x8 -> 8x8']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from poolcli.core.geometry import resolve
from poolcli.imaging.alpha import has_alpha, pool_image
from poolcli.io.images import ImageInfo, mode_for_array, to_dtype, to_pillow
from poolcli.io.modes import WIDE_MODES

__all__ = ["COMPARE_OPS", "compare_panels", "compare_picture", "labels", "picture_array"]

#: The pooled versions shown beside the input, left to right.
COMPARE_OPS = ("max", "avg", "min")

#: Panels are scaled up (nearest-neighbour) until the longer side reaches this many pixels, so
#: that a small sprite is not lost next to its labels ...
MIN_PANEL = 256
#: ... and shown at most this large (the input with a box filter, the pooled versions still
#: with nearest-neighbour), so that a 24-megapixel photo makes a picture of a sensible size.
MAX_PANEL = 1024

_BACKGROUND = 255
_INK = 0
_CHECKER = (255, 204)  # light and dark squares behind transparent pixels
_EIGHT_BIT_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK", "YCbCr"})
_GEOMETRY_KEYS = ("size", "stride", "padding", "dilation", "ceil_mode", "pad_mode")


def compare_picture(
    array: np.ndarray, info: ImageInfo, *, alpha: str = "premultiply", **geometry: Any
) -> Image.Image:
    """The input (frame 0) beside its max, avg and min pooled versions, labelled.

    Parameters
    ----------
    array : numpy.ndarray
        (N, C, H, W) as :func:`~poolcli.io.images.load_image` returns it; frame 0 is shown.
    info : ImageInfo
        What was loaded (its mode says how to show the pixels).
    alpha : {"premultiply", "straight"}
        As for :func:`~poolcli.imaging.alpha.pool_image`.
    **geometry
        size, stride, padding, dilation, ceil_mode, pad_mode, as for pooling.

    Returns
    -------
    PIL.Image.Image
        RGB (L for grey inputs without alpha) on a white background. 16-bit colour is shown
        at 8 bits; other single-channel data (16-bit, 32-bit, float) stretched from the input's
        minimum (black) to its maximum (white). Transparent pixels show a checkerboard.
    """
    x = np.asarray(array)
    if x.ndim != 4:
        raise ValueError(f"array must have 4 dimensions (N, C, H, W), got shape {x.shape}")
    texts = labels(x.shape, **{k: geometry[k] for k in _GEOMETRY_KEYS if k in geometry})
    panels = compare_panels(x, info, alpha=alpha, **geometry)
    mode = "L" if all(panel.mode == "L" for panel in panels) else "RGB"
    return _layout([panel.convert(mode) for panel in panels], texts, mode)


def compare_panels(
    array: np.ndarray, info: ImageInfo, *, alpha: str = "premultiply", **geometry: Any
) -> list[Image.Image]:
    """The four pictures of :func:`compare_picture`, unlabelled, all of one size.

    The input is scaled by a whole factor to at least :data:`MIN_PANEL` pixels on its longer
    side (nearest-neighbour), or down to :data:`MAX_PANEL` (box filter); each pooled version is
    scaled to the same size with nearest-neighbour.
    """
    frame = np.asarray(array)[:1]
    height, width = frame.shape[2:]
    pooled = [pool_image(frame, info, op, alpha=alpha, **geometry) for op in COMPARE_OPS]
    scale = max(1, math.ceil(MIN_PANEL / max(height, width)))
    shrink = min(1.0, MAX_PANEL / (max(height, width) * scale))
    size = (max(1, round(width * scale * shrink)), max(1, round(height * scale * shrink)))
    show = _Display(frame, info)
    first = Image.Resampling.BOX if shrink < 1 else Image.Resampling.NEAREST
    return [show(frame[0], size, first)] + [
        show(result[0], size, Image.Resampling.NEAREST) for result in pooled
    ]


def labels(shape: tuple[int, ...], **geometry: Any) -> list[str]:
    """The four panels' labels: the input's size, then each op, its window and output size.

    >>> labels((1, 3, 512, 512), size=8)
    ['input 512x512', 'max 8x8 -> 64x64', 'avg 8x8 -> 64x64', 'min 8x8 -> 64x64']
    >>> labels((3, 4, 16, 16), size=3, stride=2, dilation=2)[:2]
    ['input 16x16 (frame 0 of 3)', 'max 3x3 stride 2x2 dilation 2x2 -> 6x6']
    """
    frames, _, height, width = shape
    geom = resolve((height, width), **geometry)
    window = "{}x{}".format(*geom.size)
    if geom.stride != geom.size:
        window += " stride {}x{}".format(*geom.stride)
    if geom.dilation != (1, 1):
        window += " dilation {}x{}".format(*geom.dilation)
    out_h, out_w = geom.out_shape
    first = f"input {height}x{width}" + (f" (frame 0 of {frames})" if frames > 1 else "")
    return [first] + [f"{op} {window} -> {out_h}x{out_w}" for op in COMPARE_OPS]


def picture_array(picture: Image.Image) -> tuple[np.ndarray, ImageInfo]:
    """The picture as an (1, C, H, W) array and info, to write with ``save_image``.

    >>> x, info = picture_array(Image.new("RGB", (4, 2)))
    >>> x.shape, info.save_mode
    ((1, 3, 2, 4), 'RGB')
    """
    hwc = np.asarray(picture)
    if hwc.ndim == 2:
        hwc = hwc[:, :, np.newaxis]
    info = ImageInfo("image", "PNG", picture.mode, picture.mode, hwc.dtype.name, 1)
    return hwc.transpose(2, 0, 1)[np.newaxis], info


class _Display:
    """Turns (C, H, W) arrays of one image into 8-bit pictures, all with the same value scale."""

    def __init__(self, frame: np.ndarray, info: ImageInfo) -> None:
        self.alpha = has_alpha(info)
        if info.kind == "image" and info.save_mode is not None:
            mode = info.save_mode
        elif frame.shape[1] <= 4:
            mode = mode_for_array("<compare>", frame)
        else:
            raise ValueError(f"compare shows 1 to 4 channels, not {frame.shape[1]}")
        self.offset, self.factor = 0.0, 1.0
        if mode in WIDE_MODES:  # 16-bit colour, shown at 8 bits
            self.factor = 1 / 257
            mode = mode[:-3]
        elif mode not in _EIGHT_BIT_MODES:  # one channel of wide values: stretched
            low, high = float(np.nanmin(frame)), float(np.nanmax(frame))
            self.offset, self.factor = low, 255.0 / (high - low) if high > low else 0.0
            mode = "L"
        self.mode = mode

    def __call__(
        self, chw: np.ndarray, size: tuple[int, int], resample: Image.Resampling
    ) -> Image.Image:
        values = chw
        if self.factor != 1.0 or self.offset != 0.0:
            values = (chw.astype(np.float64) - self.offset) * self.factor
        values = to_dtype(values, np.dtype(np.uint8))
        img = to_pillow(values, self.mode)
        if img.size != size:
            img = img.resize(size, resample)
        if self.mode in ("CMYK", "YCbCr"):
            return img.convert("RGB")
        if self.alpha:
            return _over_checker(img.convert("RGBA"))
        return img


def _over_checker(img: Image.Image) -> Image.Image:
    """An RGBA picture composited over a light checkerboard (so transparency shows)."""
    square = max(4, min(img.size) // 32)
    rows = (np.arange(img.height) // square)[:, np.newaxis]
    cols = (np.arange(img.width) // square)[np.newaxis, :]
    checker = np.where((rows + cols) % 2 == 0, *_CHECKER).astype(np.uint8)
    background = Image.fromarray(checker).convert("RGBA")
    return Image.alpha_composite(background, img).convert("RGB")


def _layout(panels: list[Image.Image], texts: list[str], mode: str) -> Image.Image:
    """Panels in a row, each under its label, with small white margins."""
    panel_w, panel_h = panels[0].size
    font_size = max(12, min(32, round(panel_w / 20)))
    try:
        font: Any = ImageFont.load_default(size=font_size)
    except TypeError:  # Pillow before 10.1: one small bitmap font
        font = ImageFont.load_default()
    margin = max(8, font_size // 2)
    widths = [max(panel_w, math.ceil(font.getlength(text))) for text in texts]
    label_h = font_size + margin // 2
    width = sum(widths) + margin * (len(panels) + 1)
    height = margin + label_h + panel_h + margin
    picture = Image.new(mode, (width, height), _BACKGROUND if mode == "L" else (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    ink = _INK if mode == "L" else (0, 0, 0)
    left = margin
    for panel, text, column in zip(panels, texts, widths, strict=True):
        draw.text((left, margin), text, fill=ink, font=font)
        picture.paste(panel, (left, margin + label_h))
        left += column + margin
    return picture
