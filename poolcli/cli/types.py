"""The command line's option values: window pairs, padding, pad modes, bounded numbers.

>>> PairType("size", "K or KHxKW").convert("3x2", None, None)
(3, 2)
>>> PaddingType().convert("1,2,3,4", None, None)
(1, 2, 3, 4)
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import click

__all__ = [
    "AxesType",
    "ByteSizeType",
    "FormatType",
    "NumberType",
    "PadModeType",
    "PaddingType",
    "PairType",
    "window_pair",
]

if TYPE_CHECKING:
    ParamType = click.ParamType[Any]  # generic to type checkers; plain at run time (click 8.2)
else:
    ParamType = click.ParamType

_INT = r"\s*([+-]?\d+)\s*"
_PAIR = re.compile(rf"{_INT}(?:[xX]{_INT})?")
_AXES = re.compile(rf"{_INT}(?:[xX]{_INT}){{0,2}}")
_SIDES = re.compile(rf"{_INT}(?:,{_INT}){{1,5}}")


class PairType(ParamType):
    """One number or two, ``N`` or ``HxW``, each at least 1: --size, --stride, --dilation, --to.

    Converts to a ``(height, width)`` tuple. ``what`` names the value in errors, ``forms`` says
    how it is written (``"K or KHxKW, e.g. 3 or 3x2"``).
    """

    name = "pair"

    def __init__(self, what: str, forms: str) -> None:
        self.what = what
        self.forms = forms

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from poolcli.core.geometry import as_pair

        if isinstance(value, tuple):
            return value
        match = _PAIR.fullmatch(str(value))
        if match is None:
            self.fail(f"{value!r}; expected {self.forms}", param, ctx)
        height = int(match[1])
        width = height if match[2] is None else int(match[2])
        try:
            return as_pair((height, width), self.what)
        except ValueError:
            self.fail(f"{value!r}; {self.what} must be at least 1", param, ctx)


def window_pair(what: str, letter: str) -> PairType:
    """The PairType of a window parameter: ``K`` or ``KHxKW``."""
    return PairType(what, f"{letter} or {letter}Hx{letter}W, e.g. 3 or 3x2")


class AxesType(ParamType):
    """A window value for one axis or each of two or three: ``K``, ``KHxKW`` or ``KDxKHxKW``,
    each at least 1: --size, --stride, --dilation of the pooling commands.

    Converts to an int (one value, for every axis the window pools) or a tuple of 2 or 3.

    >>> size = AxesType("size", "K")
    >>> size.convert("2x3x3", None, None), size.convert("4", None, None)
    ((2, 3, 3), 4)
    """

    name = "axes"

    def __init__(self, what: str, letter: str) -> None:
        self.what = what
        self.forms = (
            f"{letter}, {letter}Hx{letter}W or {letter}Dx{letter}Hx{letter}W, e.g. 3, 3x2 or 2x2x2"
        )

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, tuple)):
            return value
        text = str(value).strip()
        if _AXES.fullmatch(text) is None:
            self.fail(f"{value!r}; expected {self.forms}", param, ctx)
        numbers = tuple(int(part) for part in re.split("[xX]", text))
        if min(numbers) < 1:
            self.fail(f"{value!r}; {self.what} must be at least 1", param, ctx)
        return numbers[0] if len(numbers) == 1 else numbers


class PaddingType(ParamType):
    """``P``, ``PHxPW``, ``T,B,L,R``, ``same`` or ``valid``; numbers at least 0. For a volume
    also ``PDxPHxPW`` and six sides (front, back, top, bottom, left, right); for a signal
    ``B,A``.

    Converts to an int, a tuple (per axis, or before/after sides), or the word, as
    :func:`poolcli.geometry.resolve` takes them.
    """

    name = "padding"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, tuple)):
            return value
        text = str(value).strip().lower()
        if text in ("same", "valid"):
            return text
        if _AXES.fullmatch(text) is None and _SIDES.fullmatch(text) is None:
            self.fail(f"{value!r}; expected P, PHxPW, T,B,L,R, same or valid", param, ctx)
        numbers = tuple(int(part) for part in re.split("[xX,]", text))
        if "," in text and len(numbers) % 2:  # sides come in (before, after) pairs
            self.fail(f"{value!r}; expected P, PHxPW, T,B,L,R, same or valid", param, ctx)
        if min(numbers) < 0:
            self.fail(f"{value!r}; padding must not be negative", param, ctx)
        return numbers[0] if len(numbers) == 1 else numbers


class PadModeType(ParamType):
    """``ignore``, ``zero``, ``edge``, ``reflect``, or the number that padded cells hold."""

    name = "pad_mode"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from poolcli.core.geometry import PAD_MODES, check_pad_mode

        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        if text in PAD_MODES:
            return text
        try:
            number = check_pad_mode(float(text))
        except ValueError:
            self.fail(f"{value!r}; expected {', '.join(PAD_MODES)} or a number", param, ctx)
        return int(number) if float(number).is_integer() else number


class FormatType(ParamType):
    """A format poolcli writes, by its name or an alias, in any case: ``jpg`` and ``JPEG`` mean
    ``jpeg``. ``allowed`` narrows the choices (the compare picture's).

    >>> FormatType(("png", "jpeg")).convert("JPG", None, None)
    'jpeg'
    """

    name = "format"

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from poolcli.io import formats

        found = formats.by_name(str(value).strip())
        if found is None or found.name not in self.allowed:
            names = list(self.allowed)
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
            self.fail(f"{value!r}; expected {listed}", param, ctx)
        return found.name

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.allowed) + "]"


class NumberType(ParamType):
    """A number above 0 and below ``high``: lp's power --p, fractional pooling's --ratio."""

    name = "number"

    def __init__(self, high: float, expected: str) -> None:
        self.high = high
        self.expected = expected

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not 0 < number < self.high:
            self.fail(f"{value!r}; expected {self.expected}", param, ctx)
        return number


class ByteSizeType(ParamType):
    """A size in bytes: ``4G``, ``512M``, ``1.5GiB``, ``300k`` or plain bytes (powers of 1024).

    >>> ByteSizeType().convert("1.5G", None, None), ByteSizeType().convert("512", None, None)
    (1610612736, 512)
    """

    name = "size"
    UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower().removesuffix("ib").removesuffix("b")
        unit = text[-1:] if text[-1:] in self.UNITS else ""
        number = text[: len(text) - len(unit)].strip()
        try:
            size = float(number) * self.UNITS[unit]
        except ValueError:
            size = -1.0
        if not size >= 1 or size != size or size > 2**62:
            self.fail(f"{value!r} is no size; give bytes or a size such as 512M or 4G", param, ctx)
        return int(size)
