"""Small helpers for files and streams: their names in messages, OS errors in words, reading.

numpy-free and Pillow-free.

>>> os_reason(FileNotFoundError(2, "No such file or directory"))
'no such file'
"""

from __future__ import annotations

from typing import BinaryIO

from poolcli.errors import InputError

__all__ = ["os_reason", "read_stream", "stream_name"]


def os_reason(exc: OSError) -> str:
    """An OSError's reason in lower case, e.g. "permission denied".

    >>> os_reason(PermissionError(13, "Permission denied"))
    'permission denied'
    """
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        reason = "no such file"
    return reason[:1].lower() + reason[1:]


def stream_name(stream: object, default: str) -> str:
    """The file name of an open ``stream``, or ``default`` when it has none (a pipe, a buffer).

    >>> import io, sys
    >>> stream_name(io.BytesIO(), "<stdin>"), stream_name(sys.stdin, "<stdin>")
    ('<stdin>', '<stdin>')
    """
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) and name and not name.startswith("<") else default


def read_stream(stream: BinaryIO, name: str, empty: str) -> bytes:
    """Everything ``stream`` holds; InputError naming ``name`` when it fails or holds nothing
    (the reason then is ``empty``).

    >>> import io
    >>> read_stream(io.BytesIO(b""), "<stdin>", "empty input")
    Traceback (most recent call last):
    ...
    poolcli.errors.InputError: <stdin>: empty input
    """
    try:
        data = stream.read()
    except OSError as exc:
        raise InputError(name, os_reason(exc)) from None
    if not data:
        raise InputError(name, empty)
    return data
