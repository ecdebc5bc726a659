"""A slow, independent reference for pooling, written from the README's rules and nothing else.

Every output value is computed by walking its window tap by tap in plain Python, deciding for each
tap whether it counts and what it holds. Nothing from poolcli is used, so the engine can be checked
against it path by path. It is meant to be obviously right, not fast: keep inputs small.

>>> import numpy as np
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
>>> reference_pool(x, "max", size=2)
array([[2., 3.],
       [4., 2.]])
>>> reference_pool(x, "avg", size=2)
array([[1.  , 1.5 ],
       [2.25, 1.  ]])
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Real

import numpy as np

OPS = ("max", "min", "avg", "sum", "median", "lp")


def pair(value, name):
    """An int or an (height, width) pair as a pair of ints, each at least 1."""
    pair_ = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair_) != 2 or any(int(v) != v or v < 1 for v in pair_):
        raise ValueError(f"{name} must be an int >= 1 or a pair of them, got {value!r}")
    return int(pair_[0]), int(pair_[1])


def same_padding(length, size, stride, dilation):
    """TensorFlow's "same" for one axis: (before, after)."""
    effective = dilation * (size - 1) + 1
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def explicit_padding(padding, shape_hw, size, stride, dilation):
    """Any accepted padding as (top, bottom, left, right)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        return same_padding(shape_hw[0], size[0], stride[0], dilation[0]) + same_padding(
            shape_hw[1], size[1], stride[1], dilation[1]
        )
    if isinstance(padding, (tuple, list)):
        if len(padding) == 2:
            pads = (padding[0], padding[0], padding[1], padding[1])
        elif len(padding) == 4:
            pads = tuple(padding)
        else:
            raise ValueError(f"bad padding {padding!r}")
    else:
        pads = (padding,) * 4
    if any(int(v) != v or v < 0 for v in pads):
        raise ValueError(f"bad padding {padding!r}")
    return tuple(int(v) for v in pads)


def output_length(length, size, stride, dilation, before, after, ceil_mode):
    """Output size of one axis, as the README states it."""
    effective = dilation * (size - 1) + 1
    padded = length + before + after
    ratio = Fraction(padded - effective, stride)
    out = (math.ceil(ratio) if ceil_mode else math.floor(ratio)) + 1
    if ceil_mode and (out - 1) * stride >= length + before:
        out -= 1  # the last window would start in the trailing padding
    if out < 1:  # in ceil mode a window may overhang the padded border by less than a stride
        raise ValueError(f"window {effective} is larger than the padded length {padded}")
    return out


def padded_grid(plane, pads, pad_mode):
    """The plane with its padding, as a list of rows; None marks a cell that never counts."""
    top, bottom, left, right = pads
    height, width = plane.shape
    if pad_mode in ("edge", "reflect"):
        filled = np.pad(plane, ((top, bottom), (left, right)), mode=pad_mode)
    elif pad_mode == "zero":
        filled = np.pad(plane, ((top, bottom), (left, right)), constant_values=0.0)
    elif pad_mode == "ignore":
        filled = None
    elif isinstance(pad_mode, Real) and not isinstance(pad_mode, bool):
        filled = np.pad(plane, ((top, bottom), (left, right)), constant_values=float(pad_mode))
    else:
        raise ValueError(f"bad pad_mode {pad_mode!r}")
    grid = []
    for padded_row in range(top + height + bottom):
        row = []
        for padded_col in range(left + width + right):
            r, c = padded_row - top, padded_col - left
            if 0 <= r < height and 0 <= c < width:
                row.append(float(plane[r, c]))
            elif filled is None:
                row.append(None)
            else:
                row.append(float(filled[padded_row, padded_col]))
        grid.append(row)
    return grid


def reduce_window(values, op, p=2.0):
    """The value of one window from the values of the cells that count."""
    if op == "max":
        return max(values)
    if op == "min":
        return min(values)
    if op == "sum":
        return math.fsum(values)
    if op == "avg":
        return math.fsum(values) / len(values)
    if op == "median":
        ordered = sorted(values)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2
    if op == "lp":
        # (sum of v**p) ** (1/p) where it is real, nan where not (as torch's pow gives).
        if any(v < 0 for v in values) and not float(p).is_integer():
            return math.nan
        total = math.fsum(v**p for v in values)
        root = 1.0 / p
        if total < 0 and not root.is_integer():
            return math.nan
        return total**root
    raise ValueError(f"bad op {op!r}")


def reference_pool(
    x,
    op,
    size=2,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    pad_mode="ignore",
    p=2.0,
):
    """Pool ``x`` ((H, W), (C, H, W) or (N, C, H, W)) tap by tap; float64 of the input's rank.

    padding: int, (ph, pw), (top, bottom, left, right), "valid" or "same". pad_mode: "ignore",
    "zero", "edge", "reflect" or a number. Raises ValueError for a window with no cell that counts.
    """
    x = np.asarray(x, dtype=np.float64)
    rank = x.ndim
    if rank not in (2, 3, 4):
        raise ValueError(f"x must be 2-, 3- or 4-D, got shape {x.shape}")
    x4 = x.reshape((1,) * (4 - rank) + x.shape)
    size = pair(size, "size")
    stride = pair(size if stride is None else stride, "stride")
    dilation = pair(dilation, "dilation")
    n_images, n_channels, height, width = x4.shape
    pads = explicit_padding(padding, (height, width), size, stride, dilation)
    top, bottom, left, right = pads
    out_h = output_length(height, size[0], stride[0], dilation[0], top, bottom, ceil_mode)
    out_w = output_length(width, size[1], stride[1], dilation[1], left, right, ceil_mode)
    padded_h, padded_w = top + height + bottom, left + width + right

    out = np.empty((n_images, n_channels, out_h, out_w))
    for n in range(n_images):
        for c in range(n_channels):
            grid = padded_grid(x4[n, c], pads, pad_mode)
            for i in range(out_h):
                for j in range(out_w):
                    values = []
                    for a in range(size[0]):
                        row = i * stride[0] + a * dilation[0]  # in padded coordinates
                        for b in range(size[1]):
                            col = j * stride[1] + b * dilation[1]
                            if row >= padded_h or col >= padded_w:
                                continue  # a ceil-mode window hanging past the padded border
                            if grid[row][col] is not None:
                                values.append(grid[row][col])
                    if not values:
                        raise ValueError(f"window ({i}, {j}) holds no cell that counts")
                    out[n, c, i, j] = reduce_window(values, op, p)
    return out.reshape(out.shape[4 - rank :])
