"""Pool a loaded image as it should look: alpha-aware, every frame, laid out for saving.

What the command line calls between :func:`~poolcli.io.images.load_image` and
:func:`~poolcli.io.images.save_image`. The loaded array is usually a read-only channel-last view;
nothing is written into it. The result is channel-last too ((N, C, oh, ow) as a view of an
(N, oh, ow, C) buffer), which is what the encoder wants, so saving copies nothing more.

Alpha: averaging ops work on premultiplied colour, so a fully transparent pixel,
whatever colour it stores, adds nothing to its neighbours' colour. A red pixel beside a fully
transparent green one averages to half-transparent red, not to a muddy olive:

>>> import numpy as np
>>> from poolcli.io.images import ImageInfo
>>> info = ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1)
>>> pixels = np.array([[[255, 0, 0, 255], [0, 255, 0, 0]]], dtype=np.uint8)  # (H, W, C)
>>> x = pixels.transpose(2, 0, 1)[np.newaxis]                                # (N, C, H, W)
>>> pool_image(x, info, "avg", size=(1, 2))[0, :, 0, 0]
array([255. ,   0. ,   0. , 127.5], dtype=float32)
>>> pool_image(x, info, "avg", alpha="straight", size=(1, 2))[0, :, 0, 0]
array([127.5, 127.5,   0. , 127.5], dtype=float32)

Max, min and median pool every channel on its own, alpha included: the result can combine the
colour of one pixel with the alpha of another.

Besides the engine's ops, :func:`pool_image` runs those of :mod:`poolcli.core.adaptive` by the names
``"adaptive_avg"`` and ``"adaptive_max"`` (option ``output_size``), ``"global_avg"`` and
``"global_max"``, with the same alpha handling:

>>> pool_image(x, info, "adaptive_avg", output_size=1)[0, :, 0, 0]
array([255. ,   0. ,   0. , 127.5], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

from poolcli.core import adaptive, engine
from poolcli.core.geometry import output_shape
from poolcli.io.images import ImageInfo

__all__ = [
    "ALPHA_MODES",
    "AVERAGING_OPS",
    "alpha_highest",
    "colour_padding",
    "divide_by_alpha",
    "has_alpha",
    "pool_image",
    "premultiplies",
    "premultiply_into",
]

#: Ops whose value is a weighted sum of the window's cells: with alpha they pool premultiplied
#: colour.
AVERAGING_OPS = frozenset({"avg", "sum", "lp", "adaptive_avg", "global_avg"})
#: Values of ``pool_image``'s ``alpha`` argument.
ALPHA_MODES = ("premultiply", "straight")

# pool_image's names for the ops of poolcli.core.adaptive -> the op they take
_ADAPTIVE_OPS = {
    "adaptive_avg": "avg",
    "adaptive_max": "max",
    "global_avg": "avg",
    "global_max": "max",
}
_ALPHA_SAVE_MODES = frozenset({"LA", "RGBA", "LA;16", "RGBA;16"})
_SHAPE_KEYS = ("size", "stride", "padding", "dilation", "ceil_mode", "pad_mode", "max_pixels")

# pool(x, out=None) -> the pooled x, written into out when given
_Pool = Callable[..., np.ndarray]


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
    **options: Any,
) -> np.ndarray:
    """Pool every frame of a loaded image (or array) for saving.

    Parameters
    ----------
    array : numpy.ndarray
        (N, C, H, W), as :func:`~poolcli.io.images.load_image` returns it; never written to.
    info : ImageInfo
        What was loaded: tells whether the last channel is alpha.
    op : str
        An op of :func:`~poolcli.core.engine.pool`, e.g. ``"max"`` or ``"avg"``; or
        ``"adaptive_avg"``,
        ``"adaptive_max"`` (:func:`poolcli.core.adaptive.adaptive_pool`), ``"global_avg"`` or
        ``"global_max"`` (:func:`poolcli.core.adaptive.global_pool`).
    alpha : {"premultiply", "straight"}
        For images with alpha and an op in :data:`AVERAGING_OPS`: "premultiply" (default)
        weights each pixel's colour by its alpha, then divides by the alpha stored; "straight"
        pools every channel on its own (for images whose alpha channel holds data).
    **options
        For the engine's ops: size, stride, padding, dilation, ceil_mode, pad_mode and any other
        keyword of :func:`poolcli.core.engine.pool`, ``max_pixels`` included (the most pixels the
        padded plane and the output, its plane times its frames, may hold: checked before the
        result is allocated). For the adaptive ops: output_size. The global ops take none but
        ``max_pixels``, which the adaptive and global ops accept and need not apply (their output
        is never larger than the input).

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
    premultiply = premultiplies(op, info, x.shape[1], x.dtype, alpha)
    pool, out_hw = _pooling(op, x.shape, options)
    if info.kind != "image" and not premultiply:
        return pool(x)
    n, c = x.shape[:2]
    dtype = engine.result_dtype(_ADAPTIVE_OPS.get(op, op), x.dtype)
    out = np.empty((n, *out_hw, c), dtype).transpose(0, 3, 1, 2)
    if not premultiply:
        return pool(x, out=out)
    highest = alpha_highest(x.dtype)
    pool_colour = pool
    colour_pad = colour_padding(options.get("pad_mode", "ignore"), highest)
    if colour_pad is not None:
        pool_colour = _pooling(op, x.shape, {**options, "pad_mode": colour_pad})[0]
    _pool_premultiplied(x, highest, out, pool_colour, pool)
    return out


def premultiplies(op: str, info: ImageInfo, channels: int, dtype: Any, alpha: str) -> bool:
    """Whether ``op`` pools premultiplied colour for an image of ``info`` (``channels``
    channels of ``dtype``) with ``alpha`` ("premultiply" or "straight").

    >>> premultiplies("avg", ImageInfo("image", "PNG", "RGBA", "RGBA", "uint8", 1), 4, np.uint8,
    ...               "premultiply")
    True
    """
    return (
        alpha == "premultiply"
        and op in AVERAGING_OPS
        and has_alpha(info)
        and channels in (2, 4)
        and np.dtype(dtype).kind in "uf"
    )


def alpha_highest(dtype: Any) -> float:
    """The alpha of an opaque pixel: the largest value of an unsigned dtype, 1.0 for floats.

    >>> alpha_highest(np.uint16), alpha_highest(np.float32)
    (65535.0, 1.0)
    """
    kind = np.dtype(dtype)
    return float(np.iinfo(kind).max) if kind.kind == "u" else 1.0


def colour_padding(pad_mode: Any, highest: float) -> float | None:
    """The padding of premultiplied colour for a numeric ``pad_mode`` v: a padded cell is a
    pixel of colour v and alpha v, so its premultiplied colour is v * v / highest (alpha
    clipped to [0, highest]); None for other pad modes, which pad colour as alpha.

    >>> colour_padding(255, 255.0), colour_padding(0.5, 1.0), colour_padding("zero", 255.0)
    (255.0, 0.25, None)
    """
    if not isinstance(pad_mode, Real) or isinstance(pad_mode, bool):
        return None
    coverage = min(max(float(pad_mode), 0.0), highest) / highest
    return float(pad_mode) * coverage


def _pooling(
    op: str, shape: tuple[int, ...], options: dict[str, Any]
) -> tuple[_Pool, tuple[int, int]]:
    """``pool(x, out=None)`` doing ``op`` with ``options``, and the (oh, ow) it gives over
    ``shape``."""
    if op not in _ADAPTIVE_OPS:

        def pool_engine(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
            result: np.ndarray = engine.pool(x, op, out=out, **options)
            return result

        geometry = {key: options[key] for key in _SHAPE_KEYS if key in options}
        out_h, out_w = output_shape(shape, **geometry)[-2:]
        return pool_engine, (out_h, out_w)

    reduce = _ADAPTIVE_OPS[op]
    options = {key: value for key, value in options.items() if key != "max_pixels"}
    if op.startswith("global"):
        if options:
            raise ValueError(f"{op} takes no options, got {', '.join(options)}")
        out_hw: tuple[int, int] = (1, 1)

        def pooled(x: np.ndarray) -> np.ndarray:
            return adaptive.global_pool(x, reduce)
    else:
        height, width = shape[-2:]
        out_hw = adaptive.adaptive_output_size(options["output_size"], (height, width))

        def pooled(x: np.ndarray) -> np.ndarray:
            return adaptive.adaptive_pool(x, out_hw, reduce)

    def pool_adaptive(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return pooled(x)
        np.copyto(out, pooled(x), casting="unsafe")
        return out

    return pool_adaptive, out_hw


def _pool_premultiplied(
    x: np.ndarray, highest: float, out: np.ndarray, pool_colour: _Pool, pool_alpha: _Pool
) -> None:
    """Pool (colour * alpha / highest, alpha) frame by frame, then divide by the alpha stored.

    ``pool_colour`` pools the colour planes, ``pool_alpha`` the alpha plane; when they are the
    same, all planes are pooled in one call. The premultiplied frame is held as contiguous
    planes: numpy's element-wise loops over a channel-last array with a broadcast alpha run
    several times slower than plane by plane.
    """
    channels, height, width = x.shape[1:]
    work = np.empty((1, channels, height, width), out.dtype)  # the op's float type
    colour, alpha = work[:, :-1], work[:, -1:]
    inverse = np.empty(out.shape[2:], out.dtype)
    for index in range(x.shape[0]):
        premultiply_into(x[index], highest, work[0])
        target = out[index : index + 1]
        if pool_colour is pool_alpha:
            pool_alpha(work, out=target)
        else:
            pool_colour(colour, out=target[:, :-1])
            pool_alpha(alpha, out=target[:, -1:])
        divide_by_alpha(target[0], highest, inverse)


def premultiply_into(frame: np.ndarray, highest: float, work: np.ndarray) -> None:
    """Write one (C, H, W) frame with alpha last into ``work`` (same shape, the op's float type)
    as premultiplied colour, colour * alpha / highest, and its alpha.

    >>> work = np.empty((2, 1, 2), np.float32)
    >>> premultiply_into(np.array([[[200, 200]], [[255, 51]]], np.uint8), 255.0, work)
    >>> work[:, 0]
    array([[200.,  40.],
           [255.,  51.]], dtype=float32)
    """
    weight = work[-1]
    np.divide(frame[-1], highest, out=weight, dtype=work.dtype)  # exact 1 where opaque
    for channel in range(frame.shape[0] - 1):
        np.multiply(frame[channel], weight, out=work[channel], dtype=work.dtype)
    np.copyto(weight, frame[-1], casting="unsafe")  # the alpha plane itself


def divide_by_alpha(pooled: np.ndarray, highest: float, inverse: np.ndarray) -> None:
    """Turn one pooled (C, h, w) frame of premultiplied colour and alpha back into colour, in
    place: divided by the coverage stored, min(alpha, highest) / highest; where none is stored,
    colour 0. ``inverse`` is (h, w) scratch of the frame's type.

    >>> pooled = np.array([[[40.0, 9.0]], [[51.0, 0.0]]], np.float32)
    >>> divide_by_alpha(pooled, 255.0, np.empty((1, 2), np.float32)); pooled[0]
    array([[200.,   0.]], dtype=float32)
    """
    np.minimum(pooled[-1], highest, out=inverse)
    with np.errstate(divide="ignore"):
        np.divide(highest, inverse, out=inverse)
    inverse[np.isinf(inverse)] = 0
    for channel in range(pooled.shape[0] - 1):
        np.multiply(pooled[channel], inverse, out=pooled[channel])
