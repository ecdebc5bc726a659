"""Exceptions the library raises and the command line turns into one-line messages.

A message speaks of the library: where it names a parameter, it names it as a Python caller
passes it (``max_pixels``, ``frame=K``). The command line words the same message with its flags,
:meth:`PoolcliError.worded` with its flags:

>>> error = InputError("photo.png", "too large; raise it with {max_pixels}", ("max_pixels",))
>>> str(error)
'photo.png: too large; raise it with max_pixels'
>>> error.worded({"max_pixels": "--max-pixels"})
'photo.png: too large; raise it with --max-pixels'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["InputError", "OutputError", "PoolcliError", "worded"]


class PoolcliError(Exception):
    """Base class of poolcli's own errors.

    ``message`` may name the library parameters listed in ``parameters``, each written
    ``{name}`` or, with a placeholder for its value, ``{name=VALUE}``. ``str(error)`` shows them
    as a Python caller writes them (``name``, ``name=VALUE``); :meth:`worded` as the command
    line's flags. Braces around anything else are left as they are.

    >>> error = PoolcliError("pick one with {frame=K}; {x} stays", parameters=("frame",))
    >>> str(error), error.parameters
    ('pick one with frame=K; {x} stays', ('frame',))
    >>> error.worded({"frame": "--frame"})
    'pick one with --frame K; {x} stays'
    """

    def __init__(self, message: str = "", parameters: Iterable[str] = ()) -> None:
        #: The library parameters the message names.
        self.parameters: tuple[str, ...] = tuple(parameters)
        self._template = message
        super().__init__(self.worded({}))

    def worded(self, flags: Mapping[str, str]) -> str:
        """The message with each parameter in ``flags`` named by its flag (``--frame K``);
        parameters not in ``flags`` are named as in ``str(error)``.

        >>> OutputError("-", "use {format=png}", ("format",)).worded({"format": "--format"})
        '-: use --format png'
        """
        return _worded(self._template, self.parameters, flags)

    def __reduce__(self) -> tuple[type[PoolcliError], tuple[object, ...]]:
        return type(self), (self._template, self.parameters)


def worded(error: BaseException, flags: Mapping[str, str]) -> str:
    """The message of any ``error`` with the library's parameters named as ``flags`` names them.

    A poolcli error (or the one ``error`` was raised from) words the parameters it lists; any
    other message has those of its words that are parameter names with an underscore replaced,
    as no prose uses them (``pad_mode``, ``output_size``).

    >>> worded(ValueError("use a pad_mode other than 'ignore'"), {"pad_mode": "--pad-mode"})
    "use a --pad-mode other than 'ignore'"
    >>> worded(InputError("a.gif", "pick one with {frame=K}", ("frame",)), {"frame": "--frame"})
    'a.gif: pick one with --frame K'
    """
    source = error.__cause__ if isinstance(error.__cause__, PoolcliError) else error
    if isinstance(source, PoolcliError):
        return source.worded(flags)
    text = str(error)
    for parameter, word in flags.items():
        if "_" in parameter:
            text = re.sub(rf"\b{re.escape(parameter)}\b", word, text)
    return text


def _worded(template: str, parameters: tuple[str, ...], flags: Mapping[str, str]) -> str:
    if not parameters:
        return template
    names = "|".join(re.escape(name) for name in parameters)

    def word(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if name in flags:
            return flags[name] if value is None else f"{flags[name]} {value}"
        return name if value is None else f"{name}={value}"

    return re.sub(r"\{(" + names + r")(?:=([^{}]*))?\}", word, template)


class _PathError(PoolcliError):
    """An error about one file: ``path: reason``, the path never read for parameters."""

    def __init__(self, path: object, reason: str, parameters: Iterable[str] = ()) -> None:
        self.path = str(path)
        super().__init__(reason, parameters)
        #: The message without the path, worded for a Python caller.
        self.reason = _worded(reason, self.parameters, {})

    def worded(self, flags: Mapping[str, str]) -> str:
        return f"{self.path}: {super().worded(flags)}"

    def __reduce__(self) -> tuple[type[PoolcliError], tuple[object, ...]]:
        return type(self), (self.path, self._template, self.parameters)


class InputError(_PathError):
    """An input file cannot be used: missing, unreadable, not an image, truncated, too large.

    >>> str(InputError("photo.png", "cannot identify image file"))
    'photo.png: cannot identify image file'
    """


class OutputError(_PathError):
    """An output cannot be written: missing folder, no permission, disk full, format mismatch."""
