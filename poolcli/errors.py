"""Exceptions the library raises and the command line turns into one-line messages."""

from __future__ import annotations


class PoolcliError(Exception):
    """Base class of poolcli's own errors."""


class InputError(PoolcliError):
    """An input file cannot be used: missing, unreadable, not an image, truncated, too large.

    >>> str(InputError("photo.png", "cannot identify image file"))
    'photo.png: cannot identify image file'
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OutputError(PoolcliError):
    """An output cannot be written: missing folder, no permission, disk full, format mismatch."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
