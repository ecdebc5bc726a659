"""The textbook pooling layers, built on :func:`~poolcli.teaching.textbook.im2col`.

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

The backward pass sends each output gradient back to the cells of its window: max to the
window's largest cell, avg evenly to all of them.

>>> layer = MaxPooling(2, 2, stride=2)
>>> _ = layer.forward(x)
>>> layer.backward(np.ones((1, 1, 2, 2)))[0, 0]
array([[0., 1., 0., 0.],
       [0., 0., 0., 1.],
       [0., 0., 0., 1.],
       [0., 1., 0., 0.]])
"""

from __future__ import annotations

import numpy as np

from poolcli.teaching.textbook import col2im, im2col, int_at_least, work_dtype

__all__ = ["AveragePooling", "MaxPooling"]


class _Pooling:
    """What both layers share: the arguments, their checks and the unfolding."""

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0) -> None:
        self.pool_h = int_at_least(pool_h, "pool_h", 1)
        self.pool_w = int_at_least(pool_w, "pool_w", 1)
        self.stride = int_at_least(stride, "stride", 1)
        self.pad = int_at_least(pad, "pad", 0)
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

    def _unfolded_gradient(self, dout: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        """``dout`` as one value per (n, i, j, c) window, the order of the forward's rows."""
        if self.x_shape is None:
            raise RuntimeError(f"{type(self).__name__}.backward needs a forward pass first")
        dout = np.asarray(dout)
        n, c, h, w = self.x_shape
        expected = (
            n,
            c,
            (h + 2 * self.pad - self.pool_h) // self.stride + 1,
            (w + 2 * self.pad - self.pool_w) // self.stride + 1,
        )
        if dout.shape != expected:
            raise ValueError(
                f"dout must have the forward output's shape {expected}, got {dout.shape}"
            )
        flat = dout.transpose(0, 2, 3, 1).reshape(-1)
        return flat.astype(work_dtype(flat.dtype), copy=False), expected

    def _fold_back(self, windows: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
        """(windows, pool_h * pool_w) gradients, rows in (n, i, j, c) order, to the input."""
        n, c, out_h, out_w = out_shape
        col = windows.reshape(n * out_h * out_w, c * self.pool_h * self.pool_w)
        assert self.x_shape is not None
        return col2im(col, self.x_shape, self.pool_h, self.pool_w, self.stride, self.pad)


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

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The gradient of the input from ``dout``, the gradient of the last forward's output.

        Each output gradient goes to the cell its window took the maximum from (the first one
        on ties, as :attr:`arg_max` holds it, and as PyTorch routes it); the other cells of the
        window get nothing. Where windows overlap, a cell adds up the gradients of every window
        that chose it; a gradient routed to a padding cell is dropped.

        Parameters
        ----------
        dout : ndarray, shape (N, C, out_h, out_w)
            Same shape as the forward's output.

        Returns
        -------
        dx : ndarray, shape (N, C, H, W) of the forward's input
            Floating ``dout`` keeps its dtype; other dtypes give float64.

        Raises
        ------
        RuntimeError
            Before any :meth:`forward`.
        ValueError
            If ``dout`` does not have the forward output's shape.

        Notes
        -----
        The gradients are laid out as the forward's im2col matrix (one row per window, zeros
        except at the arg-max) and folded back by :func:`~.textbook.col2im`, which adds
        the rows of overlapping windows onto the pixels they share. The matrix is as large as the
        forward's, which the forward has already built.

        Examples
        --------
        Stride 1 makes 2×2 windows overlap: the 4 at the bottom left is the maximum of two
        windows and gets both gradients.

        >>> import numpy as np
        >>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
        >>> layer = MaxPooling(2, 2, stride=1)
        >>> layer.forward(x.reshape(1, 1, 4, 4))[0, 0]
        array([[2., 2., 3.],
               [3., 2., 3.],
               [4., 4., 2.]])
        >>> layer.backward(np.ones((1, 1, 3, 3)))[0, 0]
        array([[0., 2., 0., 0.],
               [0., 0., 1., 2.],
               [1., 0., 0., 1.],
               [0., 2., 0., 0.]])
        """
        flat, out_shape = self._unfolded_gradient(dout)
        assert self.arg_max is not None
        windows = np.zeros((flat.size, self.pool_h * self.pool_w), dtype=flat.dtype)
        windows[np.arange(flat.size), self.arg_max] = flat
        return self._fold_back(windows, out_shape)


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

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """The gradient of the input from ``dout``, the gradient of the last forward's output.

        Each output gradient is spread evenly over its window: every cell gets
        ``dout / (pool_h * pool_w)``, padding cells included (their share is dropped, as the
        forward divides by the full window). Overlapping windows add up.

        Parameters
        ----------
        dout : ndarray, shape (N, C, out_h, out_w)
            Same shape as the forward's output.

        Returns
        -------
        dx : ndarray, shape (N, C, H, W) of the forward's input
            Floating ``dout`` keeps its dtype; other dtypes give float64.

        Raises
        ------
        RuntimeError
            Before any :meth:`forward`.
        ValueError
            If ``dout`` does not have the forward output's shape.

        Examples
        --------
        >>> import numpy as np
        >>> layer = AveragePooling(2, 2, stride=1)
        >>> _ = layer.forward(np.zeros((1, 1, 3, 3)))
        >>> layer.backward(np.ones((1, 1, 2, 2)))[0, 0]
        array([[0.25, 0.5 , 0.25],
               [0.5 , 1.  , 0.5 ],
               [0.25, 0.5 , 0.25]])
        """
        flat, out_shape = self._unfolded_gradient(dout)
        cells = self.pool_h * self.pool_w
        share = flat / flat.dtype.type(cells)
        windows = np.broadcast_to(share[:, None], (flat.size, cells))
        return self._fold_back(windows, out_shape)
