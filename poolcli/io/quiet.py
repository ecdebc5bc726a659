"""Warnings of the libraries poolcli reads and writes with, kept off standard error.

Pillow warns through :mod:`warnings` (``Corrupt EXIF data``, ``Truncated File Read``, a palette
with bytes of transparency), tifffile logs through :mod:`logging` (its ``tifffile`` logger), and
numpy warns of overflow or invalid values in a cast. None of them is poolcli's line: inside
:func:`quiet` they are collected for the block, in this thread only, never printed; the caller
words what matters (:func:`reasons`) in its own error, and drops the rest.

``warnings.catch_warnings`` cannot do this: it swaps process-wide state, which another thread
loading another file at the same time would see. Instead ``warnings.showwarning`` and the
tifffile logger gain, once, a hook that keeps a warning raised in a thread inside :func:`quiet`
and passes every other warning on unchanged. numpy's warnings are kept off with ``np.errstate``
by the code that casts (it is thread-local). numpy-free and Pillow-free.

>>> import warnings
>>> with warnings.catch_warnings(), quiet() as heard:
...     warnings.simplefilter("always")  # as Python shows a warning first raised at a place
...     warnings.warn("Corrupt EXIF data", UserWarning)
>>> heard
['Corrupt EXIF data']
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["quiet", "reasons"]

_local = threading.local()
_install_lock = threading.Lock()
_passed_on: Any = None


def _collecting() -> list[str] | None:
    heard: list[str] | None = getattr(_local, "heard", None)
    return heard


def _show(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    heard = _collecting()
    if heard is not None:
        heard.append(str(message).strip())
        return
    _passed_on(message, category, filename, lineno, file, line)


class _KeepInThread(logging.Filter):
    """Keeps a tifffile log record raised inside :func:`quiet` off every handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        heard = _collecting()
        if heard is None:
            return True
        heard.append(record.getMessage().strip())
        return False


_KEEP = _KeepInThread()


def _install() -> None:
    global _passed_on
    with _install_lock:
        if warnings.showwarning is not _show:
            _passed_on = warnings.showwarning
            warnings.showwarning = _show
        tifffile_log = logging.getLogger("tifffile")
        if _KEEP not in tifffile_log.filters:
            tifffile_log.addFilter(_KEEP)


@contextlib.contextmanager
def quiet() -> Iterator[list[str]]:
    """Collect the warnings raised in this thread during the block, instead of printing them;
    yields the list they are added to (their messages). Nested blocks share the outer list.
    A warning Python has shown once already from the same place is not raised again (its
    filters' registry), so it may be missing: these are clues for an error, not a log.

    >>> import logging
    >>> with quiet() as heard:
    ...     logging.getLogger("tifffile").warning("TiffPage 0: truncated")
    >>> heard
    ['TiffPage 0: truncated']
    """
    outer = _collecting()
    if outer is not None:
        yield outer
        return
    _install()
    heard: list[str] = []
    _local.heard = heard
    try:
        yield heard
    finally:
        _local.heard = None


def reasons(heard: list[str]) -> str:
    """The warnings heard, as the end of an error's reason: ``""``, or ``" (warned: ...)"``
    with the distinct messages in order.

    >>> reasons(["Truncated File Read", "Truncated File Read"])
    ' (warned: Truncated File Read)'
    >>> reasons([])
    ''
    """
    distinct = list(dict.fromkeys(message for message in heard if message))
    return f" (warned: {'; '.join(distinct)})" if distinct else ""
