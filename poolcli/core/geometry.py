"""Pooling geometry: window, stride, padding and dilation resolved per axis.

Nothing here touches pixel data, so this module imports nothing beyond the standard library.

Examples
--------
>>> geom = resolve((7, 7), size=3, stride=2)
>>> geom.out_shape
(3, 3)
>>> print(geom.height.formula("H"))
out_h = floor((H + P - e) / s) + 1 = floor((7 + 0 - 3) / 2) + 1 = 3
>>> output_shape((1, 3, 7, 7), size=2)
(1, 3, 3, 3)
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from numbers import Real
from typing import SupportsIndex, SupportsInt, TypedDict, cast

PAD_MODES = ("ignore", "zero", "edge", "reflect")

#: One int for both axes, or (height, width); the length is checked when the call runs.
PairLike = int | tuple[int, ...] | list[int]
#: An int, (height, width), (top, bottom, left, right), "valid" or "same".
PaddingLike = int | str | tuple[int, ...] | list[int]
#: One of PAD_MODES, or the number that padded cells hold.
PadMode = str | float | int


class WindowKwargs(TypedDict):
    """The keyword arguments :meth:`Window.kwargs` gives, as :func:`resolve` takes them."""

    size: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: int | str | tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    pad_mode: PadMode


@dataclass(frozen=True)
class AxisGeometry:
    """How windows tile one axis of a plane.

    Window ``i`` covers the input cells ``i * stride - before + j * dilation`` for ``j`` in
    ``range(size)``. Cells below 0 or at ``length`` and beyond are padding; cells past
    ``length + after`` exist only in ceil mode (``overhang``) and never count.
    """

    length: int
    size: int
    stride: int
    dilation: int
    before: int
    after: int
    ceil_mode: bool
    out: int

    @property
    def window(self) -> int:
        """Effective window extent, ``dilation * (size - 1) + 1``."""
        return self.dilation * (self.size - 1) + 1

    @property
    def padded_length(self) -> int:
        return self.length + self.before + self.after

    @property
    def overhang(self) -> int:
        """Cells the last ceil-mode window reaches past the padded border."""
        return max(0, (self.out - 1) * self.stride + self.window - self.padded_length)

    def window_start(self, index: int) -> int:
        """Input coordinate of the first cell of window ``index`` (negative inside padding)."""
        return index * self.stride - self.before

    def formula(self, name: str = "H") -> str:
        """The output-size formula with this axis's numbers filled in.

        >>> print(axis_geometry(7, 3, 3, 1, 0, 0, ceil_mode=True).formula("W"))
        out_w = ceil((W + P - e) / s) + 1 = ceil((7 + 0 - 3) / 3) + 1 = 3
        """
        rounding = "ceil" if self.ceil_mode else "floor"
        total_pad = self.before + self.after
        text = (
            f"out_{name.lower()} = {rounding}(({name} + P - e) / s) + 1 = "
            f"{rounding}(({self.length} + {total_pad} - {self.window}) / {self.stride}) + 1"
        )
        raw = _windows(self.length + total_pad - self.window, self.stride, self.ceil_mode)
        text += f" = {raw}"
        if raw != self.out:
            text += f", less the last window that starts in the padding = {self.out}"
        if self.dilation > 1:
            text += f"   (e = d*(k-1)+1 = {self.dilation}*({self.size}-1)+1 = {self.window})"
        return text


@dataclass(frozen=True)
class Geometry:
    """Pooling geometry of a whole plane: one :class:`AxisGeometry` per axis and the pad mode."""

    height: AxisGeometry
    width: AxisGeometry
    pad_mode: PadMode

    @property
    def out_shape(self) -> tuple[int, int]:
        return (self.height.out, self.width.out)

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """Padding as (top, bottom, left, right)."""
        return (self.height.before, self.height.after, self.width.before, self.width.after)

    @property
    def size(self) -> tuple[int, int]:
        return (self.height.size, self.width.size)

    @property
    def stride(self) -> tuple[int, int]:
        return (self.height.stride, self.width.stride)

    @property
    def dilation(self) -> tuple[int, int]:
        return (self.height.dilation, self.width.dilation)

    @property
    def ceil_mode(self) -> bool:
        return self.height.ceil_mode


@dataclass(frozen=True)
class Window:
    """The pooling window as given, before it meets an input: one value for every call.

    Holds the six parameters of :func:`resolve` (and of :func:`poolcli.pool`) as plain, hashable,
    picklable data. The number of spatial axes is ``len(size)``; today's ops pool two.

    >>> window = Window.of(size=3, stride=2, padding="same")
    >>> window
    Window(size=(3, 3), stride=(2, 2), padding='same', dilation=(1, 1), ceil_mode=False, \
pad_mode='ignore')
    >>> window.resolve((7, 7)).out_shape
    (4, 4)
    >>> window.kwargs()["padding"]
    'same'
    """

    size: tuple[int, ...] = (2, 2)
    stride: tuple[int, ...] | None = None  # None: the size
    padding: int | str | tuple[int, ...] = 0
    dilation: tuple[int, ...] = (1, 1)
    ceil_mode: bool = False
    pad_mode: PadMode = "ignore"

    @classmethod
    def of(
        cls,
        size: PairLike = 2,
        stride: PairLike | None = None,
        padding: PaddingLike = 0,
        dilation: PairLike = 1,
        ceil_mode: bool = False,
        pad_mode: PadMode = "ignore",
    ) -> Window:
        """A window from :func:`resolve`'s arguments, checked; ValueError naming a bad one."""
        if isinstance(padding, list):
            padding = tuple(padding)
        if isinstance(padding, str):
            padding = padding.lower()
        window = cls(
            size=as_pair(size, "size"),
            stride=None if stride is None else as_pair(stride, "stride"),
            padding=padding,
            dilation=as_pair(dilation, "dilation"),
            ceil_mode=bool(ceil_mode),
            pad_mode=check_pad_mode(pad_mode),
        )
        _explicit_padding(padding)  # a bad padding fails here, before any input is seen
        return window

    @property
    def strides(self) -> tuple[int, ...]:
        """The stride, the size where none was given."""
        return self.size if self.stride is None else self.stride

    def resolve(self, shape: tuple[int, ...]) -> Geometry:
        """The geometry over an input whose last axes are ``shape``[-2:] (H, W)."""
        height, width = shape[-2:]
        return resolve((height, width), **self.kwargs())

    def out_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape pooling an input of ``shape`` gives: leading axes kept."""
        return (*shape[:-2], *self.resolve(shape).out_shape)

    def kwargs(self) -> WindowKwargs:
        """The keyword arguments of :func:`resolve` and :func:`poolcli.pool`."""
        return {
            "size": self.size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
            "pad_mode": self.pad_mode,
        }


def _windows(span: int, stride: int, ceil_mode: bool) -> int:
    """Number of window positions over ``span`` cells beyond the first window."""
    return (-(-span // stride) if ceil_mode else span // stride) + 1


def as_pair(value: object, name: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as ``(height, width)``, each at least ``minimum``.

    Anything else is a ValueError naming ``name``, so ``value`` may be whatever a caller got.

    >>> as_pair(3, "size")
    (3, 3)
    >>> as_pair((2, 0), "size")
    Traceback (most recent call last):
    ...
    ValueError: size must be at least 1, got 0 (in (2, 0))
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} takes one int or a pair (height, width), got {value!r}")
        items = tuple(value)
    else:
        items = (value, value)
    pair = (_whole(items[0], name, value), _whole(items[1], name, value))
    for item in pair:
        if item < minimum:
            where = "" if pair[0] == pair[1] else f" (in {value!r})"
            raise ValueError(f"{name} must be at least {minimum}, got {item}{where}")
    return pair


def _whole(item: object, name: str, value: object) -> int:
    """``item`` as an int when it is a whole number (numpy integers and 2.0 included)."""
    if not isinstance(item, bool):
        try:
            if isinstance(item, SupportsIndex):
                return operator.index(item)
        except TypeError:
            pass
        if isinstance(item, Real) and float(item).is_integer():
            return int(cast(SupportsInt, item))  # int() takes any Real; its stub does not say so
    raise ValueError(f"{name} must be whole numbers, got {value!r}")


def check_pad_mode(pad_mode: PadMode) -> PadMode:
    """Validate a pad mode: one of PAD_MODES, or a number that padded cells hold."""
    if isinstance(pad_mode, str):
        if pad_mode not in PAD_MODES:
            raise ValueError(
                f"pad_mode must be one of {', '.join(PAD_MODES)} or a number, got {pad_mode!r}"
            )
        return pad_mode
    if isinstance(pad_mode, bool) or not isinstance(pad_mode, Real) or math.isnan(pad_mode):
        raise ValueError(
            f"pad_mode must be one of {', '.join(PAD_MODES)} or a number, got {pad_mode!r}"
        )
    return pad_mode


def _explicit_padding(padding: PaddingLike) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) for explicit padding, None for "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            return None
        raise ValueError(
            f'padding must be an int, a pair, 4 ints, "valid" or "same"; got {padding!r}'
        )
    if isinstance(padding, (tuple, list)):
        if len(padding) == 2:
            given = [padding[0], padding[0], padding[1], padding[1]]
        elif len(padding) == 4:
            given = list(padding)
        else:
            raise ValueError(
                f"padding takes 1, 2 (height, width) or 4 (top, bottom, left, right) ints, "
                f"got {len(padding)}: {padding!r}"
            )
    else:
        given = [padding] * 4
    top, bottom, left, right = (_whole(item, "padding", padding) for item in given)
    for item in (top, bottom, left, right):
        if item < 0:
            raise ValueError(f"padding must not be negative, got {item} (in {padding!r})")
    return (top, bottom, left, right)


def axis_geometry(
    length: int,
    size: int,
    stride: int,
    dilation: int,
    before: int,
    after: int,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    name: str = "height",
) -> AxisGeometry:
    """Resolve one axis and check that every window has a meaning.

    >>> axis_geometry(7, 3, 2, 1, 0, 0).out
    3
    >>> axis_geometry(2, 3, 1, 1, 0, 0)
    Traceback (most recent call last):
    ...
    ValueError: window 3 is larger than the padded height 2 (height 2 + padding 0)
    """
    if length < 1:
        raise ValueError(f"the input {name} must be at least 1, got {length}")
    window = dilation * (size - 1) + 1
    padded = length + before + after
    out = _windows(padded - window, stride, ceil_mode)
    if ceil_mode and (out - 1) * stride >= length + before:
        out -= 1
    if out < 1:
        # In ceil mode a window may hang past the padded border by less than a stride.
        dilated = f" (size {size}, dilation {dilation})" if dilation > 1 else ""
        raise ValueError(
            f"window {window}{dilated} is larger than the padded {name} {padded} "
            f"({name} {length} + padding {before + after})"
        )
    geometry = AxisGeometry(length, size, stride, dilation, before, after, ceil_mode, out)
    if pad_mode == "ignore":
        _check_every_window_has_a_real_cell(geometry, name)
    return geometry


def _check_every_window_has_a_real_cell(axis: AxisGeometry, name: str) -> None:
    # Only windows that reach into the padding can be empty; they sit at either end.
    leading = min(axis.out, -(-axis.before // axis.stride))
    first_trailing = max(leading, (axis.length - axis.window + axis.before) // axis.stride + 1)
    for index in [*range(leading), *range(first_trailing, axis.out)]:
        start = axis.window_start(index)
        first_tap = max(0, -(start // axis.dilation))
        if first_tap >= axis.size or start + first_tap * axis.dilation >= axis.length:
            raise ValueError(
                f"padding ({axis.before}, {axis.after}) is too wide for window {axis.size} "
                f"(dilation {axis.dilation}) on {name} {axis.length}: window {index} holds "
                f'only padding; use less padding or a pad_mode other than "ignore"'
            )


def resolve(
    shape_hw: tuple[int, int],
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
) -> Geometry:
    """Resolve pooling parameters for a plane of ``shape_hw = (H, W)``.

    Raises ValueError naming the argument and the numbers for every geometry without a meaning.

    >>> resolve((5, 5), size=2, padding="same").padding
    (0, 1, 0, 1)
    """
    kh, kw = as_pair(size, "size")
    sh, sw = as_pair(size if stride is None else stride, "stride")
    dh, dw = as_pair(dilation, "dilation")
    pad_mode = check_pad_mode(pad_mode)
    height, width = shape_hw
    pads = _explicit_padding(padding)
    if pads is None:
        pads = (*_same_padding(height, kh, sh, dh), *_same_padding(width, kw, sw, dw))
    top, bottom, left, right = pads
    return Geometry(
        axis_geometry(height, kh, sh, dh, top, bottom, bool(ceil_mode), pad_mode, "height"),
        axis_geometry(width, kw, sw, dw, left, right, bool(ceil_mode), pad_mode, "width"),
        pad_mode,
    )


def _same_padding(length: int, size: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's "same": out = ceil(length / stride), the odd cell of padding goes after."""
    out = -(-length // stride)
    total = max((out - 1) * stride + dilation * (size - 1) + 1 - length, 0)
    return (total // 2, total - total // 2)


def output_shape(
    shape: tuple[int, ...],
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
) -> tuple[int, ...]:
    """The shape ``pool`` would return for an input of ``shape``, without any data.

    >>> output_shape((700, 1024), size=2)
    (350, 512)
    >>> output_shape((10, 3, 7, 7), size=3, stride=3, ceil_mode=True)
    (10, 3, 3, 3)
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) not in (2, 3, 4):
        raise ValueError(
            f"input must have 2, 3 or 4 dimensions (H, W / C, H, W / N, C, H, W), got shape {shape}"
        )
    height, width = shape[-2:]
    geometry = resolve((height, width), size, stride, padding, dilation, ceil_mode, pad_mode)
    return (*shape[:-2], *geometry.out_shape)


def window_rows(geometry: Geometry) -> list[tuple[str, str]]:
    """(label, value) rows of the window: its size, stride, padding, dilation and rounding."""
    top, bottom, left, right = geometry.padding
    return [
        ("window", _by(geometry.size)),
        ("stride", _by(geometry.stride)),
        ("padding", f"{top}, {bottom}, {left}, {right}  (top, bottom, left, right)"),
        ("dilation", _by(geometry.dilation)),
        ("rounding", "ceil" if geometry.ceil_mode else "floor"),
    ]


def _by(pair: tuple[int, int]) -> str:
    return f"{pair[0]}x{pair[1]}"
