"""The textbook im2col and col2im: every window of a batch of images laid out as one matrix row.

These are the teaching functions of the lectures, kept with their signatures, layout and values so
that code written against the lectures runs unchanged. The pooling engine does not use them (see
the Notes of :func:`im2col`).

Examples
--------
>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> im2col(x, 2, 2, stride=2)
array([[ 0.,  1.,  4.,  5.],
       [ 2.,  3.,  6.,  7.],
       [ 8.,  9., 12., 13.],
       [10., 11., 14., 15.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["col2im", "im2col", "int_at_least", "work_dtype"]


def int_at_least(value: object, name: str, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``: the check of every size, stride and pad here.

    Python and numpy integers pass; bools, floats and anything else are a ValueError naming
    ``name``. The pooling layers check their arguments with it too.

    >>> int_at_least(np.int64(3), "stride", 1)
    3
    >>> int_at_least(2.0, "pad", 0)
    Traceback (most recent call last):
    ...
    ValueError: pad must be an int, got 2.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _out_size(length: int, window: int, stride: int, pad: int, name: str) -> int:
    """Window positions along an axis of ``length`` cells padded by ``pad`` on each side."""
    padded = length + 2 * pad
    if window > padded:
        raise ValueError(
            f"filter {name} {window} is larger than the padded input {name} {padded} "
            f"({name} {length} + 2 * pad {pad})"
        )
    return (padded - window) // stride + 1


def _checked_geometry(
    shape: tuple[int, ...], filter_h: int, filter_w: int, stride: int, pad: int
) -> tuple[int, int, int, int, int, int]:
    """Validate the arguments; return (N, C, H, W, out_h, out_w)."""
    if len(shape) != 4:
        raise ValueError(f"input must be 4-D (N, C, H, W), got shape {tuple(shape)}")
    filter_h = int_at_least(filter_h, "filter_h", 1)
    filter_w = int_at_least(filter_w, "filter_w", 1)
    stride = int_at_least(stride, "stride", 1)
    pad = int_at_least(pad, "pad", 0)
    n, c, h, w = (int(d) for d in shape)
    out_h = _out_size(h, filter_h, stride, pad, "height")
    out_w = _out_size(w, filter_w, stride, pad, "width")
    return n, c, h, w, out_h, out_w


def work_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype im2col, col2im and the layers compute in for values of ``dtype``.

    Floating inputs keep their dtype; anything else becomes float64, as in the lectures.

    >>> work_dtype(np.dtype(np.float32)), work_dtype(np.dtype(np.uint8))
    (dtype('float32'), dtype('float64'))
    """
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def im2col(
    input_data: npt.ArrayLike, filter_h: int, filter_w: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """Unfold every filter window of a batch of images into one row of a matrix.

    Parameters
    ----------
    input_data : ndarray, shape (N, C, H, W)
        The images.
    filter_h, filter_w : int
        Window height and width, at least 1.
    stride : int, default 1
        Step between windows, the same on both axes.
    pad : int, default 0
        Zero cells added on every side before the windows are taken.

    Returns
    -------
    col : ndarray, shape (N * out_h * out_w, C * filter_h * filter_w)
        One row per window position ``(n, i, j)``, in that order (``j`` fastest). A row holds the
        window's values channel by channel, and within a channel row by row.
        ``out_h = (H + 2 * pad - filter_h) // stride + 1``, likewise ``out_w``. Floating inputs keep
        their dtype; other inputs give float64.

    Raises
    ------
    ValueError
        If the input is not 4-D, a filter size or the stride is below 1, pad is negative, or the
        filter is larger than the padded input.

    See Also
    --------
    col2im : adds the rows back into images (the transpose of this map).

    Notes
    -----
    The matrix copies every pixel once for each window that covers it: about
    ``filter_h * filter_w / stride**2`` times the input. For stride 1 that is k² times the input —
    a 3×3 window turns a 4000×3000 RGB photo (36 million values) into 324 million, 2.6 GB as
    float64. That is why :func:`poolcli.pool` never builds it: it reduces strided views of each
    padded plane one window offset at a time, keeping its extra memory to a few output planes.

    The copy here loops over the ``filter_h * filter_w`` window offsets, not over the windows: each
    offset ``(y, x)`` fills one column of every row at once from a strided slice of the input.

    Examples
    --------
    The lectures' example: a 5×5 filter over one 3-channel 7×7 image has 3×3 positions, each with
    3 * 5 * 5 = 75 values.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((1, 3, 7, 7))
    >>> col = im2col(x, 5, 5, stride=1, pad=0)
    >>> col.shape
    (9, 75)
    >>> bool(np.array_equal(col[1, :25], x[0, 0, 0:5, 1:6].ravel()))
    True
    >>> im2col(np.zeros((10, 3, 7, 7)), 5, 5).shape
    (90, 75)
    """
    x = np.asarray(input_data)
    n, c, _, _, out_h, out_w = _checked_geometry(x.shape, filter_h, filter_w, stride, pad)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    # Laid out as (n, i, j, channel, y, x) from the start, so the final reshape is free.
    col = np.empty((n, out_h, out_w, c, filter_h, filter_w), dtype=work_dtype(x.dtype))
    for dy in range(filter_h):
        rows = slice(dy, dy + stride * (out_h - 1) + 1, stride)
        for dx in range(filter_w):
            cols = slice(dx, dx + stride * (out_w - 1) + 1, stride)
            # Offset (dy, dx) of every window at once: an (N, C, out_h, out_w) strided slice.
            col[:, :, :, :, dy, dx] = x[:, :, rows, cols].transpose(0, 2, 3, 1)
    return col.reshape(n * out_h * out_w, c * filter_h * filter_w)


def col2im(
    col: npt.ArrayLike,
    input_shape: Sequence[int],
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
) -> np.ndarray:
    """Fold an im2col matrix back into images, adding up values that land on the same pixel.

    Parameters
    ----------
    col : ndarray, shape (N * out_h * out_w, C * filter_h * filter_w)
        Rows laid out as :func:`im2col` makes them.
    input_shape : tuple of 4 ints
        ``(N, C, H, W)`` of the images im2col was applied to.
    filter_h, filter_w, stride, pad : int
        As given to :func:`im2col`.

    Returns
    -------
    img : ndarray, shape input_shape
        Each pixel holds the sum of every entry of ``col`` that im2col would have copied from it;
        entries that fall in the padding are dropped. Floating ``col`` keeps its dtype; other
        dtypes give float64.

    Raises
    ------
    ValueError
        For the geometry errors of :func:`im2col`, or if ``col`` does not have the shape that
        geometry gives.

    Notes
    -----
    col2im is the transpose (adjoint) of im2col, not its inverse: for any ``x`` and ``y``,
    ``sum(im2col(x) * y) == sum(x * col2im(y))``, and ``col2im(im2col(x))`` is ``x`` with each
    pixel multiplied by the number of windows that cover it. That is exactly what a backward pass
    needs: the gradient of every window entry flows back to the pixel it came from.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((1, 3, 7, 7))
    >>> col = im2col(x, 5, 5)
    >>> img = col2im(col, x.shape, 5, 5)
    >>> img.shape
    (1, 3, 7, 7)
    >>> img[0, 0, 0, :4]  # a corner is in one window, the next pixels in 2 and 3
    array([1., 2., 3., 3.])
    """
    matrix = np.asarray(col)
    shape = tuple(input_shape)
    n, c, h, w, out_h, out_w = _checked_geometry(shape, filter_h, filter_w, stride, pad)
    expected = (n * out_h * out_w, c * filter_h * filter_w)
    if matrix.shape != expected:
        raise ValueError(
            f"col must have shape {expected} for input_shape {shape}, filter "
            f"{filter_h}x{filter_w}, stride {stride} and pad {pad}; got {matrix.shape}"
        )
    windows = matrix.reshape(n, out_h, out_w, c, filter_h, filter_w)
    img = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=work_dtype(matrix.dtype))
    for dy in range(filter_h):
        rows = slice(dy, dy + stride * (out_h - 1) + 1, stride)
        for dx in range(filter_w):
            cols = slice(dx, dx + stride * (out_w - 1) + 1, stride)
            img[:, :, rows, cols] += windows[:, :, :, :, dy, dx].transpose(0, 3, 1, 2)
    if pad:
        img = img[:, :, pad : pad + h, pad : pad + w].copy()
    return img
