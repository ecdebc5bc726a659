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

Every geometry is bounded before any pixel is touched. Padding may add at most as many pixels
as the plane has, or :data:`PADDING_PIXELS` (16 Mi) to a smaller plane: a window or padding past
that belongs to no input. The padded plane and the output (its plane's pixels times its frames,
N of an (N, C, H, W) input) hold at most ``max_pixels`` pixels (default :data:`MAX_PIXELS`,
about a billion; None lifts this limit, not the first):

>>> resolve((1, 1), size=2**31, padding="same")
Traceback (most recent call last):
...
ValueError: size 2147483648x2147483648 with padding "same" pads the 1x1 plane to \
2147483648x2147483648 (height x width), adding 4611686018427387903 pixels where padding may \
add 16777216 (as many as the plane has, and at least 2**24); use a smaller window or padding
"""

from __future__ import annotations

import functools
import math
import operator
import sys
from dataclasses import dataclass
from numbers import Real
from typing import SupportsIndex, SupportsInt, TypedDict, cast

PAD_MODES = ("ignore", "zero", "edge", "reflect")

#: The default of every ``max_pixels``: no padded plane, and no output (its plane's pixels times
#: its frames), may hold more pixels than this. Real inputs stay far below it (a 4K frame has
#: 8.3 million pixels); an absurd window or padding is refused before anything is allocated.
MAX_PIXELS = 2**30
#: Padding may add this many pixels to a plane, or as many as the plane has where that is more:
#: the engine holds a padded band of a plane (a window's rows by the padded width) at a time, so
#: a padding beyond the plane's own size costs memory no input asked for.
PADDING_PIXELS = 2**24

#: The spatial axes by how many a window pools: a signal's, a plane's or a volume's.
AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
#: The sides of an explicit padding, in order, by how many axes the window pools.
PAD_SIDES = {
    1: ("before", "after"),
    2: ("top", "bottom", "left", "right"),
    3: ("front", "back", "top", "bottom", "left", "right"),
}
#: What the spatial axes of one frame make, by their number.
_EXTENT = {1: "signal", 2: "plane", 3: "volume"}

#: One int for every axis, or one per axis ((height, width) in 2-D); the length is checked
#: when the call runs.
PairLike = int | tuple[int, ...] | list[int]
#: An int, one int per axis, a (before, after) pair per axis ((top, bottom, left, right) in
#: 2-D), "valid" or "same".
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
    """Pooling geometry of a whole plane (or volume, or signal): one :class:`AxisGeometry` per
    spatial axis, outermost first, and the pad mode.

    ``axes`` holds one, two or three axes: (length,), (height, width) or (depth, height, width).
    ``height`` and ``width`` are the last two of two or three axes.

    >>> volume = resolve((4, 6, 6), size=(2, 3, 3))
    >>> volume.out_shape, volume.depth.out, volume.width.out
    ((2, 2, 2), 2, 2)
    """

    axes: tuple[AxisGeometry, ...]
    pad_mode: PadMode

    @property
    def height(self) -> AxisGeometry:
        """The height axis: the next-to-last of two or three axes."""
        if len(self.axes) < 2:
            raise AttributeError("a geometry of one axis has no height")
        return self.axes[-2]

    @property
    def width(self) -> AxisGeometry:
        """The last axis (the only one of a signal)."""
        return self.axes[-1]

    @property
    def depth(self) -> AxisGeometry:
        """The depth axis of a volume's geometry (three axes)."""
        if len(self.axes) != 3:
            raise AttributeError(f"a geometry of {len(self.axes)} axes has no depth")
        return self.axes[0]

    @property
    def names(self) -> tuple[str, ...]:
        """The axes' names: ("length",), ("height", "width") or ("depth", "height", "width")."""
        return AXIS_NAMES[len(self.axes)]

    @functools.cached_property
    def out_shape(self) -> tuple[int, ...]:
        return tuple(axis.out for axis in self.axes)

    @functools.cached_property
    def padding(self) -> tuple[int, ...]:
        """Padding as (before, after) per axis: (top, bottom, left, right) in 2-D."""
        return tuple(side for axis in self.axes for side in (axis.before, axis.after))

    @functools.cached_property
    def sizes(self) -> tuple[int, ...]:
        """The window's size along every axis."""
        return tuple(axis.size for axis in self.axes)

    @functools.cached_property
    def strides(self) -> tuple[int, ...]:
        """The stride along every axis."""
        return tuple(axis.stride for axis in self.axes)

    @functools.cached_property
    def dilations(self) -> tuple[int, ...]:
        """The dilation along every axis."""
        return tuple(axis.dilation for axis in self.axes)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of a plane's window; :attr:`sizes` for any number of axes."""
        return self._pair(self.sizes, "size")

    @property
    def stride(self) -> tuple[int, int]:
        """(height, width) of a plane's stride; :attr:`strides` for any number of axes."""
        return self._pair(self.strides, "stride")

    @property
    def dilation(self) -> tuple[int, int]:
        """(height, width) of a plane's dilation; :attr:`dilations` for any number of axes."""
        return self._pair(self.dilations, "dilation")

    def _pair(self, values: tuple[int, ...], name: str) -> tuple[int, int]:
        if len(values) != 2:
            raise AttributeError(
                f"a geometry of {len(values)} ax{'es' if len(values) > 1 else 'is'} has no "
                f"(height, width) {name}; use {name}s"
            )
        return (values[0], values[1])

    @property
    def ceil_mode(self) -> bool:
        return self.axes[0].ceil_mode


@dataclass(frozen=True)
class Window:
    """The pooling window as given, before it meets an input: one value for every call.

    Holds the six parameters of :func:`resolve` (and of :func:`poolcli.pool`) as plain, hashable,
    picklable data. The number of spatial axes is ``len(size)``: one int or a pair pools the last
    two axes, three values (depth, height, width) the last three, one value the last one.

    >>> window = Window.of(size=3, stride=2, padding="same")
    >>> window
    Window(size=(3, 3), stride=(2, 2), padding='same', dilation=(1, 1), ceil_mode=False, \
pad_mode='ignore')
    >>> window.resolve((7, 7)).out_shape
    (4, 4)
    >>> window.kwargs()["padding"]
    'same'
    >>> Window.of(size=(2, 2, 2)).out_shape((1, 1, 8, 8, 8))
    (1, 1, 4, 4, 4)
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
        count = window_axes(size)
        check_lengths(count, size, stride=stride, dilation=dilation, padding=padding)
        window = cls(
            size=as_axes(size, "size", count),
            stride=None if stride is None else as_axes(stride, "stride", count),
            padding=padding,
            dilation=as_axes(dilation, "dilation", count),
            ceil_mode=bool(ceil_mode),
            pad_mode=check_pad_mode(pad_mode),
        )
        _explicit_padding(padding, count)  # a bad padding fails here, before any input is seen
        return window

    @property
    def strides(self) -> tuple[int, ...]:
        """The stride, the size where none was given."""
        return self.size if self.stride is None else self.stride

    @property
    def axes(self) -> int:
        """How many trailing axes of an input the window pools: 1, 2 or 3."""
        return len(self.size)

    def resolve(self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS) -> Geometry:
        """The geometry over an input whose last axes are ``shape``[-axes:] ((H, W) in 2-D).

        ``max_pixels`` bounds the padded plane and the output plane (:func:`resolve`).
        """
        spatial = tuple(shape[-self.axes :])
        if len(spatial) < self.axes:
            raise ValueError(
                f"a window of {self.axes} axes needs an input of at least {self.axes} dimensions, "
                f"got shape {tuple(shape)}"
            )
        return resolve(spatial, **self.kwargs(), max_pixels=max_pixels)

    def out_shape(
        self, shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS
    ) -> tuple[int, ...]:
        """The shape pooling an input of ``shape`` gives: leading axes kept.

        ``max_pixels`` bounds the output's pixels times its frames (:func:`check_output_pixels`).
        """
        result = (*shape[: -self.axes], *self.resolve(shape, max_pixels).out_shape)
        check_output_pixels(result, max_pixels, self.axes)
        return result

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


def window_axes(size: object) -> int:
    """How many trailing axes a window of ``size`` pools: the length of a tuple, 2 for an int.

    >>> window_axes(3), window_axes((2, 2, 2)), window_axes([4])
    (2, 3, 1)
    """
    if isinstance(size, (tuple, list)):
        if len(size) not in AXIS_NAMES:
            raise ValueError(
                f"size takes one int or a pair (height, width), or (length,) or (depth, height, "
                f"width) for 1 or 3 axes; got {size!r}"
            )
        return len(size)
    return 2


def check_lengths(count: int, size: object, **options: object) -> None:
    """ValueError naming ``size`` and the option when a tuple option has not ``count`` values.

    Checks options given per axis (stride, dilation); padding has its own forms
    (:func:`resolve`).

    >>> check_lengths(3, (2, 2, 2), stride=(1, 1))
    Traceback (most recent call last):
    ...
    ValueError: stride (1, 1) has 2 values but size (2, 2, 2) pools 3 axes (depth, height, \
width); give one int or 3 values
    """
    names = ", ".join(AXIS_NAMES[count])
    for name, value in options.items():
        if name == "padding" or not isinstance(value, (tuple, list)) or len(value) == count:
            continue
        raise ValueError(
            f"{name} {value!r} has {len(value)} value{'s' * (len(value) != 1)} but size "
            f"{size!r} pools {count} ax{'es' if count > 1 else 'is'} ({names}); give one int or "
            f"{count} value{'s' * (count != 1)}"
        )


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
    height, width = as_axes(value, name, 2, minimum)
    return (height, width)


def as_axes(value: object, name: str, count: int, minimum: int = 1) -> tuple[int, ...]:
    """An int or ``count`` ints as one int per axis, each at least ``minimum``.

    >>> as_axes(2, "stride", 3)
    (2, 2, 2)
    >>> as_axes((1, 2), "stride", 3)
    Traceback (most recent call last):
    ...
    ValueError: stride takes one int or 3 (depth, height, width), got (1, 2)
    """
    if isinstance(value, (tuple, list)):
        if len(value) != count:
            if count == 2:
                raise ValueError(f"{name} takes one int or a pair (height, width), got {value!r}")
            raise ValueError(
                f"{name} takes one int or {count} ({', '.join(AXIS_NAMES[count])}), got {value!r}"
            )
        items = tuple(value)
    else:
        items = (value,) * count
    whole = tuple(_whole(item, name, value) for item in items)
    for item in whole:
        where = "" if len(set(whole)) == 1 else f" (in {value!r})"
        if item < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {item}{where}")
        if item > sys.maxsize:
            raise ValueError(
                f"{name} must be at most {sys.maxsize} (no array axis is longer), got {item}{where}"
            )
    return whole


def _whole(item: object, name: str, value: object) -> int:
    """``item`` as an int when it is a whole number (numpy integers and 2.0 included)."""
    if not isinstance(item, bool):
        if isinstance(item, int):  # the common case, before the slower checks
            return item
        try:
            return operator.index(cast(SupportsIndex, item))  # TypeError: not an integer type
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


def _explicit_padding(padding: PaddingLike, count: int = 2) -> tuple[int, ...] | None:
    """(before, after) per axis for explicit padding ((top, bottom, left, right) in 2-D), None
    for "same"; ``count`` is the number of axes."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * count)
        if padding == "same":
            return None
        if count == 2:
            forms = 'an int, a pair, 4 ints, "valid" or "same"'
        else:
            forms = f'an int, {count} ints, {2 * count} ints, "valid" or "same"'
        raise ValueError(f"padding must be {forms}; got {padding!r}")
    if isinstance(padding, (tuple, list)):
        if len(padding) == count:
            given = [item for item in padding for _ in (0, 1)]
        elif len(padding) == 2 * count:
            given = list(padding)
        elif count == 2:
            raise ValueError(
                f"padding takes 1, 2 (height, width) or 4 (top, bottom, left, right) ints, "
                f"got {len(padding)}: {padding!r}"
            )
        else:
            per_axis = f"{count} ({', '.join(AXIS_NAMES[count])}) or " if count > 1 else ""
            raise ValueError(
                f"padding takes 1, {per_axis}{2 * count} ({', '.join(PAD_SIDES[count])}) ints "
                f"for a window of {count} ax{'es' if count > 1 else 'is'}, got {len(padding)}: "
                f"{padding!r}"
            )
    else:
        given = [padding] * (2 * count)
    sides = tuple(_whole(item, "padding", padding) for item in given)
    for item in sides:
        if item < 0:
            raise ValueError(f"padding must not be negative, got {item} (in {padding!r})")
        if item > sys.maxsize:
            raise ValueError(
                f"padding must be at most {sys.maxsize} (no array axis is longer), "
                f"got {item} (in {padding!r})"
            )
    return sides


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
    shape_hw: tuple[int, ...],
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    max_pixels: int | None = MAX_PIXELS,
) -> Geometry:
    """Resolve pooling parameters for a plane of ``shape_hw = (H, W)``, a volume of (D, H, W) or
    a signal of (L,): one window axis per axis of the shape.

    Raises ValueError naming the argument and the numbers for every geometry without a meaning,
    for a padding that adds more pixels than the plane has (or than :data:`PADDING_PIXELS`, for a
    small plane), and for one past ``max_pixels`` (None: no limit): a padded plane, or an output
    plane, of more pixels than that. Nothing is allocated before these checks, whatever the
    numbers.

    >>> resolve((5, 5), size=2, padding="same").padding
    (0, 1, 0, 1)
    >>> resolve((400, 300), size=1, padding=200, pad_mode="zero", max_pixels=10**5)
    Traceback (most recent call last):
    ...
    ValueError: padding 200 pads the 400x300 plane to 800x700 = 560000 pixels (height x width), \
more than max_pixels (100000); use a smaller window or padding, or raise max_pixels
    >>> resolve((8, 9, 9), size=(2, 3, 3), stride=(2, 3, 3)).out_shape
    (4, 3, 3)
    """
    shape = tuple(shape_hw)
    count = len(shape)
    if count not in AXIS_NAMES:
        raise ValueError(f"a window pools 1, 2 or 3 axes, got the shape {shape}")
    if isinstance(size, (tuple, list)) and len(size) != count:
        raise ValueError(
            f"size {size!r} has {len(size)} values but the shape {shape} has {count} axes"
        )
    check_lengths(count, size, stride=stride, dilation=dilation)
    sizes = as_axes(size, "size", count)
    strides = as_axes(size if stride is None else stride, "stride", count)
    dilations = as_axes(dilation, "dilation", count)
    pad_mode = check_pad_mode(pad_mode)
    limit = _check_limit(max_pixels)
    pads = _explicit_padding(padding, count)
    if pads is None:
        pads = tuple(
            side
            for axis in zip(shape, sizes, strides, dilations, strict=True)
            for side in _same_padding(*axis)
        )
        given = f'size {_by(sizes)} with padding "same"'
        if any(item != 1 for item in dilations):
            given = f'size {_by(sizes)}, dilation {_by(dilations)} with padding "same"'
    else:
        given = f"padding {padding!r}"
    names = AXIS_NAMES[count]
    padded = tuple(length + pads[2 * i] + pads[2 * i + 1] for i, length in enumerate(shape))
    cells, padded_cells = math.prod(shape), math.prod(padded)
    added = padded_cells - cells
    extent = f"{_by(shape)} {_EXTENT[count]}"
    if added > max(cells, PADDING_PIXELS):
        raise ValueError(
            f"{given} pads the {extent} to {_by(padded)} ({' x '.join(names)}), "
            f"adding {added} pixels where padding may add "
            f"{max(cells, PADDING_PIXELS)} (as many as the {_EXTENT[count]} has, and at least "
            f"2**24); use a smaller window or padding"
        )
    if limit is not None and added and padded_cells > limit:
        raise ValueError(
            f"{given} pads the {extent} to {_by(padded)} = "
            f"{padded_cells} pixels ({' x '.join(names)}), more than max_pixels ({limit}); "
            f"use a smaller window or padding, or raise max_pixels"
        )
    geometry = Geometry(
        tuple(
            axis_geometry(
                shape[i],
                sizes[i],
                strides[i],
                dilations[i],
                pads[2 * i],
                pads[2 * i + 1],
                bool(ceil_mode),
                pad_mode,
                names[i],
            )
            for i in range(count)
        ),
        pad_mode,
    )
    check_output_pixels(geometry.out_shape, limit, count)
    return geometry


def _check_limit(max_pixels: object) -> int | None:
    if max_pixels is None:
        return None
    if isinstance(max_pixels, bool):
        raise ValueError(f"max_pixels must be a whole number or None, got {max_pixels!r}")
    try:
        limit = operator.index(cast(SupportsIndex, max_pixels))
    except TypeError:
        raise ValueError(f"max_pixels must be a whole number or None, got {max_pixels!r}") from None
    if limit < 1:
        raise ValueError(f"max_pixels must be at least 1, got {limit}")
    return limit


def check_output_pixels(
    shape: tuple[int, ...], max_pixels: int | None = MAX_PIXELS, axes: int = 2
) -> None:
    """ValueError when an output of ``shape`` holds more than ``max_pixels`` pixels.

    The pixels are the plane's (the last ``axes`` axes: two, or three of a volume, one of a
    signal) times the frames: N of an (N, C, H, W) shape, 1 for fewer axes. Channels do not
    count, as they do not in an image's pixel count. None: no limit.

    >>> check_output_pixels((2, 3, 40, 30), max_pixels=2400)
    >>> check_output_pixels((3, 3, 40, 30), max_pixels=2400)
    Traceback (most recent call last):
    ...
    ValueError: the output would hold 3 frames of 40x30 = 3600 pixels (height x width), more \
than max_pixels (2400)
    """
    limit = _check_limit(max_pixels)
    if limit is None or len(shape) < axes:
        return
    frames = shape[0] if len(shape) == axes + 2 else 1
    spatial = tuple(shape[len(shape) - axes :])
    pixels = frames * math.prod(spatial)
    if pixels > limit:
        extent = _EXTENT[axes]
        whole = (
            f"a {extent} of "
            if len(shape) < axes + 2
            else f"{frames} frame{'s' * (frames != 1)} of "
        )
        raise ValueError(
            f"the output would hold {whole}{_by(spatial)} = {pixels} pixels "
            f"({' x '.join(AXIS_NAMES[axes])}), more than max_pixels ({limit})"
        )


def check_rank(shape: tuple[int, ...], axes: int = 2, what: str = "input") -> None:
    """ValueError unless ``shape`` has ``axes`` spatial axes and at most N and C before them.

    >>> check_rank((3, 4, 4, 4), axes=3)
    >>> check_rank((4,))
    Traceback (most recent call last):
    ...
    ValueError: input must have 2, 3 or 4 dimensions (H, W / C, H, W / N, C, H, W), got shape (4,)
    """
    if len(shape) in (axes, axes + 1, axes + 2):
        return
    letters = {1: "L", 2: "H, W", 3: "D, H, W"}[axes]
    forms = f"{letters} / C, {letters} / N, C, {letters}"
    ranks = f"{axes}, {axes + 1} or {axes + 2}"
    window = "" if axes == 2 else f" for a window of {axes} ax{'es' if axes > 1 else 'is'}"
    raise ValueError(
        f"{what} must have {ranks} dimensions ({forms}){window}, got shape {tuple(shape)}"
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
    max_pixels: int | None = MAX_PIXELS,
) -> tuple[int, ...]:
    """The shape ``pool`` would return for an input of ``shape``, without any data.

    ValueError where ``pool`` refuses the geometry, ``max_pixels`` included (:func:`resolve`,
    :func:`check_output_pixels`). A window of three values pools the last three axes, of one
    value the last one.

    >>> output_shape((700, 1024), size=2)
    (350, 512)
    >>> output_shape((10, 3, 7, 7), size=3, stride=3, ceil_mode=True)
    (10, 3, 3, 3)
    >>> output_shape((2, 1, 64, 128, 128), size=(2, 2, 2))
    (2, 1, 32, 64, 64)
    >>> output_shape((8, 48000), size=(4,))
    (8, 12000)
    """
    shape = tuple(int(n) for n in shape)
    count = window_axes(size)
    check_rank(shape, count)
    geometry = resolve(
        shape[-count:], size, stride, padding, dilation, ceil_mode, pad_mode, max_pixels
    )
    result = (*shape[:-count], *geometry.out_shape)
    check_output_pixels(result, max_pixels, count)
    return result


def window_rows(geometry: Geometry) -> list[tuple[str, str]]:
    """(label, value) rows of the window: its size, stride, padding, dilation and rounding."""
    sides = PAD_SIDES[len(geometry.axes)]
    return [
        ("window", _by(geometry.sizes)),
        ("stride", _by(geometry.strides)),
        ("padding", f"{', '.join(map(str, geometry.padding))}  ({', '.join(sides)})"),
        ("dilation", _by(geometry.dilations)),
        ("rounding", "ceil" if geometry.ceil_mode else "floor"),
    ]


def _by(values: tuple[int, ...]) -> str:
    return "x".join(str(value) for value in values)
