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


def read_stream(
    stream: BinaryIO,
    name: str,
    empty: str,
    max_bytes: int | None = None,
    *,
    too_long: str = "",
    parameters: tuple[str, ...] = (),
) -> bytes:
    """Everything ``stream`` holds; InputError naming ``name`` when it fails or holds nothing
    (the reason then is ``empty``), or holds more than ``max_bytes`` (None: any length; the
    reason then is ``too_long``, naming ``parameters``, or one naming the count). An endless
    stream (``/dev/zero``) is read only that far.

    >>> import io
    >>> read_stream(io.BytesIO(b""), "<stdin>", "empty input")
    Traceback (most recent call last):
    ...
    poolcli.errors.InputError: <stdin>: empty input
    >>> read_stream(io.BytesIO(b"12345"), "<stdin>", "empty input", max_bytes=4)
    Traceback (most recent call last):
    ...
    poolcli.errors.InputError: <stdin>: more than 4 bytes
    """
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            wanted = _CHUNK if max_bytes is None else min(_CHUNK, max_bytes + 1 - total)
            chunk = stream.read(wanted)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if max_bytes is not None and total > max_bytes:
                raise InputError(name, too_long or f"more than {max_bytes} bytes", parameters)
    except OSError as exc:
        raise InputError(name, os_reason(exc)) from None
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not data:
        raise InputError(name, empty)
    return data


_CHUNK = 1 << 20
