"""Pool a loaded image as it should look: alpha-aware, every frame, laid out for saving.

What the command line calls between :func:`~poolcli.imageio.load_image` and
:func:`~poolcli.imageio.save_image`. The loaded array is usually a read-only channel-last view;
nothing is written into it. The result is channel-last too ((N, C, oh, ow) as a view of an
(N, oh, ow, C) buffer), which is what the encoder wants, so saving copies nothing more.

Alpha (DESIGN.md §4): averaging ops work on premultiplied colour, so a fully transparent pixel,
whatever colour it stores, adds nothing to its neighbours' colour. A red pixel beside a fully
transparent green one averages to half-transparent red, not to a muddy olive:

>>> import numpy as np
>>> from poolcli.imageio import ImageInfo
>>> info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
>>> pixels = np.array([[[255, 0, 0, 255], [0, 255, 0, 0]]], dtype=np.uint8)  # (H, W, C)
>>> x = pixels.transpose(2, 0, 1)[np.newaxis]                                # (N, C, H, W)
>>> pool_image(x, info, "avg", size=(1, 2))[0, :, 0, 0]
array([255. ,   0. ,   0. , 127.5], dtype=float32)
>>> pool_image(x, info, "avg", alpha="straight", size=(1, 2))[0, :, 0, 0]
array([127.5, 127.5,   0. , 127.5], dtype=float32)

Max, min and median pool every channel on its own, alpha included: the result can combine the
colour of one pixel with the alpha of another.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from . import engine
from .geometry import output_shape
from .imageio import ImageInfo

__all__ = ["ALPHA_MODES", "AVERAGING_OPS", "has_alpha", "pool_image"]

#: Ops whose value is a weighted sum of the window's cells: with alpha they pool premultiplied
#: colour. Names not (yet) known to the engine are listed so that adding them needs no change here.
AVERAGING_OPS = frozenset({"avg", "sum", "lp", "adaptive_avg", "global_avg"})
#: Values of ``pool_image``'s ``alpha`` argument.
ALPHA_MODES = ("premultiply", "straight")

_ALPHA_SAVE_MODES = frozenset({"LA", "RGBA", "LA;16", "RGBA;16"})
_GEOMETRY_KEYS = ("size", "stride", "padding", "dilation", "ceil_mode", "pad_mode")


def has_alpha(info: ImageInfo) -> bool:
    """True when the image's last channel is alpha (LA, RGBA, a palette with transparency).

    >>> has_alpha(ImageInfo("image", "GIF", "P", "RGBA", "uint8", 3))
    True
    >>> has_alpha(ImageInfo("array", None, None, None, "uint8", 1))
    False
    """
    return info.kind == "image" and info.save_mode in _ALPHA_SAVE_MODES


def pool_image(
    array: np.ndarray,
    info: ImageInfo,
    op: str,
    *,
    alpha: str = "premultiply",
    **geometry: Any,
) -> np.ndarray:
    """Pool every frame of a loaded image (or array) for saving.

    Parameters
    ----------
    array : numpy.ndarray
        (N, C, H, W), as :func:`~poolcli.imageio.load_image` returns it; never written to.
    info : ImageInfo
        What was loaded: tells whether the last channel is alpha.
    op : str
        An op of :func:`poolcli.engine.pool`, e.g. ``"max"`` or ``"avg"``.
    alpha : {"premultiply", "straight"}
        For images with alpha and an op in :data:`AVERAGING_OPS`: "premultiply" (default)
        weights each pixel's colour by its alpha, then divides by the alpha stored; "straight"
        pools every channel on its own (for images whose alpha channel holds data).
    **geometry
        size, stride, padding, dilation, ceil_mode, pad_mode and any other keyword of
        :func:`poolcli.engine.pool`.

    Returns
    -------
    numpy.ndarray
        (N, C, oh, ow) of ``engine.result_dtype(op, array.dtype)``; for images a channel-last
        view of an (N, oh, ow, C) buffer. Where the pooled alpha is 0 the colour is 0.

    Notes
    -----
    Premultiplied pooling makes one float copy of one frame at a time (float32, 16 bytes a pixel
    for RGBA), as planes: colour times alpha / alpha_max, and alpha. The colour of each output
    pixel is then divided by its alpha as stored (clipped to alpha_max, so that ``sum`` and
    ``lp`` of opaque pixels equal their straight result). A numeric ``pad_mode`` v pads with a
    pixel of colour v and alpha v.
    """
    if alpha not in ALPHA_MODES:
        raise ValueError(f"alpha must be one of {', '.join(ALPHA_MODES)}, got {alpha!r}")
    x = np.asarray(array)
    if x.ndim != 4:
        raise ValueError(f"array must have 4 dimensions (N, C, H, W), got shape {x.shape}")
    premultiply = (
        alpha == "premultiply"
        and op in AVERAGING_OPS
        and has_alpha(info)
        and x.shape[1] in (2, 4)
        and x.dtype.kind in "uf"
    )
    if info.kind != "image" and not premultiply:
        return engine.pool(x, op, **geometry)
    n, c, out_h, out_w = output_shape(
        x.shape, **{key: geometry[key] for key in _GEOMETRY_KEYS if key in geometry}
    )
    dtype = engine.result_dtype(op, x.dtype)
    out = np.empty((n, out_h, out_w, c), dtype).transpose(0, 3, 1, 2)
    if not premultiply:
        return engine.pool(x, op, out=out, **geometry)
    _pool_premultiplied(x, op, out, geometry)
    return out


def _pool_premultiplied(x: np.ndarray, op: str, out: np.ndarray, geometry: dict) -> None:
    """Pool (colour * alpha / alpha_max, alpha) frame by frame, then divide by the alpha stored.

    The premultiplied frame is held as contiguous planes: numpy's element-wise loops over a
    channel-last array with a broadcast alpha run several times slower than plane by plane.
    """
    highest = float(np.iinfo(x.dtype).max) if x.dtype.kind == "u" else 1.0
    channels, height, width = x.shape[1:]
    work = np.empty((1, channels, height, width), out.dtype)  # the op's float type
    colour, alpha = work[:, :-1], work[:, -1:]
    pad_mode = geometry.get("pad_mode", "ignore")
    colour_geometry = None
    if isinstance(pad_mode, Real) and not isinstance(pad_mode, bool):
        # A padded cell is a pixel of colour v and alpha v: premultiplied, v * v / max.
        coverage = min(max(float(pad_mode), 0.0), highest) / highest
        colour_geometry = {**geometry, "pad_mode": float(pad_mode) * coverage}
    inverse = np.empty(out.shape[2:], out.dtype)
    for index in range(x.shape[0]):
        frame = x[index]
        weight = work[0, -1]
        np.divide(frame[-1], highest, out=weight, dtype=out.dtype)  # exact 1 where opaque
        for channel in range(channels - 1):
            np.multiply(frame[channel], weight, out=work[0, channel], dtype=out.dtype)
        np.copyto(weight, frame[-1], casting="unsafe")  # the alpha plane itself
        target = out[index : index + 1]
        if colour_geometry is None:
            engine.pool(work, op, out=target, **geometry)
        else:
            engine.pool(colour, op, out=target[:, :-1], **colour_geometry)
            engine.pool(alpha, op, out=target[:, -1:], **geometry)
        # Divide by the coverage stored, min(alpha, max) / max; none stored: colour 0.
        np.minimum(target[0, -1], highest, out=inverse)
        with np.errstate(divide="ignore"):
            np.divide(highest, inverse, out=inverse)
        inverse[np.isinf(inverse)] = 0
        for channel in range(channels - 1):
            np.multiply(target[0, channel], inverse, out=target[0, channel])
