"""The textbook pooling layers, built on :func:`~poolcli.textbook.im2col`.

They give the lectures' results with the lectures' signatures: unfold the windows with im2col,
reduce each window's row, fold the result back to (N, C, out_h, out_w). They are for learning and
checking; :func:`poolcli.pool` computes the same numbers without building the im2col matrix.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]]).reshape(1, 1, 4, 4)
>>> MaxPooling(2, 2, stride=2).forward(x)[0, 0]
array([[2., 3.],
       [4., 2.]])
>>> AveragePooling(2, 2, stride=2).forward(x)[0, 0]
array([[1.  , 1.5 ],
       [2.25, 1.  ]])
"""

from __future__ import annotations

import numpy as np

from .textbook import _positive_int, im2col

__all__ = ["AveragePooling", "MaxPooling"]


class _Pooling:
    """What both layers share: the arguments, their checks and the unfolding."""

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0) -> None:
        self.pool_h = _positive_int(pool_h, "pool_h", 1)
        self.pool_w = _positive_int(pool_w, "pool_w", 1)
        self.stride = _positive_int(stride, "stride", 1)
        self.pad = _positive_int(pad, "pad", 0)
        self.x_shape: tuple[int, int, int, int] | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(pool_h={self.pool_h}, pool_w={self.pool_w}, "
            f"stride={self.stride}, pad={self.pad})"
        )

    def _out_size(self, length: int, window: int, name: str, size_name: str) -> int:
        padded = length + 2 * self.pad
        if window > padded:
            raise ValueError(
                f"{size_name} {window} is larger than the padded input {name} {padded} "
                f"({name} {length} + 2 * pad {self.pad})"
            )
        # Unlike the lectures' code, the padding is part of the output size.
        return (padded - window) // self.stride + 1

    def _windows(self, x: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """One row per (n, i, j, c) window, ``pool_h * pool_w`` values each; and (N, C, oh, ow)."""
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"x must be 4-D (N, C, H, W), got {x.ndim}-D with shape {x.shape}")
        n, c, h, w = x.shape
        out_h = self._out_size(h, self.pool_h, "height", "pool_h")
        out_w = self._out_size(w, self.pool_w, "width", "pool_w")
        self.x_shape = (n, c, h, w)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        # A row of col is (channel, y, x); splitting it per channel gives rows ordered (n, i, j, c).
        return col.reshape(-1, self.pool_h * self.pool_w), (n, c, out_h, out_w)

    @staticmethod
    def _fold(values: np.ndarray, shape: tuple[int, int, int, int]) -> np.ndarray:
        n, c, out_h, out_w = shape
        return values.reshape(n, out_h, out_w, c).transpose(0, 3, 1, 2)


class MaxPooling(_Pooling):
    """Max pooling as the lectures define it: im2col, then the maximum of each window.

    Parameters
    ----------
    pool_h, pool_w : int
        Window height and width, at least 1.
    stride : int, default 1
        Step between windows on both axes. Note the default: the lectures' layer slides by one,
        while :func:`poolcli.pool` steps by the window size.
    pad : int, default 0
        Cells added on every side. They hold **zeros**, as im2col pads, and take part in the
        maximum: with negative inputs a window touching the border gives 0. This equals
        ``poolcli.pool(x, "max", ..., pad_mode="zero")``, not PyTorch's max_pool2d (which pads with
        −inf, as poolcli's default ``pad_mode="ignore"`` does).

    Attributes
    ----------
    x_shape : tuple of 4 ints or None
        Shape of the last input to :meth:`forward`.
    arg_max : ndarray of int or None
        For each window, in (n, i, j, c) order, the index within the window's ``pool_h * pool_w``
        row of its maximum (the first one on ties). Kept for the backward pass.

    Examples
    --------
    The lectures' example: a 3-channel 7×7 image pooled 2×2 with stride 2.

    >>> import numpy as np
    >>> layer = MaxPooling(pool_h=2, pool_w=2, stride=2)
    >>> layer.forward(np.random.default_rng(0).random((1, 3, 7, 7))).shape
    (1, 3, 3, 3)
    >>> MaxPooling(2, 2, pad=1).forward(-np.ones((1, 1, 2, 2)))[0, 0]  # zero padding counts
    array([[ 0.,  0.,  0.],
           [ 0., -1.,  0.],
           [ 0.,  0.,  0.]])
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0) -> None:
        super().__init__(pool_h, pool_w, stride, pad)
        self.arg_max: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Max-pool ``x`` of shape (N, C, H, W) to (N, C, out_h, out_w).

        ``out_h = (H + 2 * pad - pool_h) // stride + 1``, likewise ``out_w``. Floating inputs keep
        their dtype; other inputs give float64 (im2col's rule).
        """
        windows, shape = self._windows(x)
        self.arg_max = np.argmax(windows, axis=1)
        values = np.take_along_axis(windows, self.arg_max[:, None], axis=1)
        return self._fold(values, shape)


class AveragePooling(_Pooling):
    """Average pooling as the lectures define it: im2col, then the mean of each window.

    Parameters
    ----------
    pool_h, pool_w : int
        Window height and width, at least 1.
    stride : int, default 1
        Step between windows on both axes.
    pad : int, default 0
        Cells added on every side. They hold **zeros**, as im2col pads, and count in the mean,
        which always divides by ``pool_h * pool_w``. This equals PyTorch's
        ``avg_pool2d(..., count_include_pad=True)`` and ``poolcli.pool(x, "avg", ...,
        pad_mode="zero")``.

    Attributes
    ----------
    x_shape : tuple of 4 ints or None
        Shape of the last input to :meth:`forward`, kept for the backward pass.

    Examples
    --------
    >>> import numpy as np
    >>> AveragePooling(2, 2, stride=2).forward(np.ones((10, 3, 7, 7))).shape
    (10, 3, 3, 3)
    >>> AveragePooling(2, 2, stride=2, pad=1).forward(np.ones((1, 1, 2, 2)))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Average-pool ``x`` of shape (N, C, H, W) to (N, C, out_h, out_w).

        ``out_h = (H + 2 * pad - pool_h) // stride + 1``, likewise ``out_w``. Floating inputs keep
        their dtype; other inputs give float64.
        """
        windows, shape = self._windows(x)
        return self._fold(windows.mean(axis=1), shape)
