"""Unpooling: pooled values put back where they came from, the inverse step of max pooling.

Numpy only, like the rest of :mod:`poolcli.core`.

Examples
--------
>>> import numpy as np
>>> from poolcli.core.engine import pool
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
>>> values, indices = pool(x, "max", size=2, return_indices=True)
>>> max_unpool(values, indices, x.shape)
array([[0, 2, 0, 0],
       [0, 0, 0, 3],
       [0, 0, 0, 2],
       [0, 4, 0, 0]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from poolcli.core.geometry import AXIS_NAMES, as_axes, check_rank

__all__ = ["max_unpool"]


def max_unpool(
    values: npt.ArrayLike,
    indices: npt.ArrayLike,
    output_size: int | Sequence[int],
    *,
    axes: int = 2,
) -> np.ndarray:
    """Put pooled values back where they came from, zeros elsewhere: PyTorch's MaxUnpool2d
    (MaxUnpool3d with ``axes=3``, MaxUnpool1d with ``axes=1``).

    Parameters
    ----------
    values : array of shape (h, w), (C, h, w) or (N, C, h, w)
        The pooled values, e.g. the first result of ``poolcli.pool(x, "max",
        return_indices=True)``.
    indices : integer array, the shape of ``values``
        For each value, its flat index ``row * W + column`` in its output plane (the second
        result of ``pool(..., return_indices=True)``, or of :func:`fractional_max_pool`).
    output_size : int, (H, W), or a shape ending in (H, W)
        The plane size to restore, usually the pooled input's ``x.shape``. Leading axes, when
        given, must match those of ``values``.
    axes : {2, 3, 1}
        The spatial axes: 3 for volumes, values of (d, h, w) up to (N, C, d, h, w), indices
        ``(z * H + y) * W + x`` and an ``output_size`` of (D, H, W) or a shape ending in it;
        1 for signals.

    Returns
    -------
    ndarray of the rank and dtype of ``values``, planes of (H, W)
        Zero everywhere but at the indices. An index given twice gets one of its values (the
        same value, when the indices come from overlapping max-pool windows).

    Raises
    ------
    ValueError
        If the shapes of ``values`` and ``indices`` differ, ``indices`` are not integers or fall
        outside an (H, W) plane, or ``output_size`` does not match.

    Examples
    --------
    >>> import numpy as np
    >>> max_unpool(np.array([[2, 3], [4, 2]]), np.array([[1, 7], [13, 10]]), (4, 4))
    array([[0, 2, 0, 0],
           [0, 0, 0, 3],
           [0, 0, 2, 0],
           [0, 4, 0, 0]])
    >>> max_unpool(np.array([[[5]]]), np.array([[[7]]]), (2, 2, 2), axes=3)[1]
    array([[0, 0],
           [0, 5]])
    """
    values = np.asarray(values)
    indices = np.asarray(indices)
    if axes not in AXIS_NAMES:
        raise ValueError(f"axes must be 1, 2 or 3 (the spatial axes), got {axes!r}")
    if axes == 2 and values.ndim not in (2, 3, 4):
        raise ValueError(
            f"values must have 2, 3 or 4 dimensions (h, w / C, h, w / N, C, h, w), "
            f"got shape {values.shape}"
        )
    check_rank(values.shape, axes, "values")
    if indices.shape != values.shape:
        raise ValueError(
            f"indices must have the shape of values {values.shape}, got {indices.shape}"
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers, got dtype {indices.dtype}")
    leading = values.shape[:-axes]
    lengths = _plane_size(output_size, values.shape, axes)
    plane = math.prod(lengths)
    if indices.size and (indices.min() < 0 or indices.max() >= plane):
        bad = indices[(indices < 0) | (indices >= plane)].flat[0]
        extent = {1: "signal", 2: "plane", 3: "volume"}[axes]
        raise ValueError(
            f"indices must lie in [0, {plane}) for an output {extent} of "
            f"{'x'.join(map(str, lengths))}, got {bad}"
        )
    flat_values = values.reshape(*leading, -1)
    out = np.zeros((*leading, plane), dtype=values.dtype)
    np.put_along_axis(out, indices.reshape(*leading, -1).astype(np.intp), flat_values, axis=-1)
    return out.reshape(*leading, *lengths)


def _plane_size(
    output_size: int | Sequence[int], shape: tuple[int, ...], axes: int = 2
) -> tuple[int, ...]:
    """(H, W) from ``output_size``: an int, (H, W), or a shape ending in (H, W) whose leading
    axes end like those of ``shape``, the shape of the values ((D, H, W) for three axes)."""
    if isinstance(output_size, (tuple, list)) and len(output_size) > axes:
        size = tuple(output_size)
        leading = shape[:-axes]
        if len(size) > len(shape) or size[:-axes] != leading[len(leading) - len(size) + axes :]:
            letters = {1: "(L,)", 2: "(H, W)", 3: "(D, H, W)"}[axes]
            raise ValueError(
                f"output_size {size} does not match values of shape {shape}; "
                f"give {letters} or a shape ending in it"
            )
        return as_axes(size[-axes:], "output_size", axes)
    return as_axes(output_size, "output_size", axes)
