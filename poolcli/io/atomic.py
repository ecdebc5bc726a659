"""Writes that leave nothing half-done: a temporary file beside the target, renamed into place.

:func:`write_output` writes an output to a path or a stream. A path that is (or will be) a
regular file is written to a temporary file in its folder, ``.NAME.XXXXXXXX.tmp``, and renamed
over it once complete; a path that exists and is no regular file (a FIFO, ``/dev/null``) is
written into directly, never replaced. This process records each temporary file it has created
and not yet renamed or removed, so that :func:`remove_unfinished` can remove those after a stop
(a signal), and nothing else. numpy-free and Pillow-free.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> target = os.path.join(folder, "out.txt")
>>> write_output(target, target, lambda stream, name: stream.write(b"done"))
>>> os.listdir(folder), unfinished()
(['out.txt'], [])
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, BinaryIO

from poolcli.errors import OutputError
from poolcli.io.streams import os_reason

__all__ = [
    "Encoder",
    "commit",
    "discard",
    "held_signals",
    "move_into_place",
    "output_folder",
    "remove_unfinished",
    "replace",
    "reserve",
    "temporary_prefix",
    "unfinished",
    "write_output",
]

#: Writes an output's bytes to the stream; the second argument is the output's name, for errors.
Encoder = Callable[[IO[bytes], str], object]

_SUFFIX = ".tmp"
_RANDOM_CHARACTERS = 8  # as tempfile names them

# Temporary files created and not yet renamed into place or removed: absolute temporary path ->
# absolute target path. The lock also spans each rename, so that a temporary file that
# remove_unfinished took is never renamed into place afterwards.
_unfinished: dict[str, str] = {}
_lock = threading.Lock()


def write_output(target: str | BinaryIO, name: str, encode: Encoder) -> None:
    """Run ``encode(stream, name)`` for the output ``target``, a path or a writable stream.

    A path is written atomically (see the module), or straight into it when it is no regular
    file; a stream receives the bytes once they are fully encoded. Failures to write are
    :class:`~poolcli.errors.OutputError` naming ``name``; nothing of a path is left behind.

    >>> import io
    >>> stream = io.BytesIO()
    >>> write_output(stream, "<stdout>", lambda out, name: out.write(b"bytes"))
    >>> stream.getvalue()
    b'bytes'
    """
    if isinstance(target, str):
        _write_path(target, encode)
        return
    _write_encoded(target, name, encode)


def unfinished() -> list[str]:
    """The temporary files this process has created and not yet renamed into place or removed
    (absolute paths): while a write is under way, its temporary file.

    >>> unfinished()
    []
    """
    with _lock:
        return list(_unfinished)


def remove_unfinished(targets: Iterable[str | os.PathLike[str]] | None = None) -> list[str]:
    """Remove this process's unfinished temporary files: those of writes to ``targets`` (paths
    as given to :func:`write_output`), or all of them for None. Returns the paths removed.

    Only files this process created are removed: never a file that merely looks like one. A
    write whose temporary file was removed fails instead of renaming it into place.

    >>> remove_unfinished(["out.png"])
    []
    """
    wanted = None if targets is None else {os.path.abspath(os.fspath(t)) for t in targets}
    removed = []
    with _lock:
        for temporary, target in list(_unfinished.items()):
            if wanted is not None and target not in wanted:
                continue
            del _unfinished[temporary]
            if _remove(temporary):
                removed.append(temporary)
    return removed


def reserve(path: str, *, folder: bool = False) -> str:
    """A new empty temporary file (or folder) beside ``path``, recorded as unfinished, for a
    writer that writes in parts: it writes there, then :func:`commit` renames it into place, or
    :func:`discard` (or :func:`remove_unfinished`, after a stop) removes it.

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.zarr")
    >>> temporary = reserve(target, folder=True)
    >>> os.path.basename(temporary).startswith(".out.zarr."), unfinished() == [temporary]
    (True, True)
    >>> commit(temporary, target); os.path.isdir(target), unfinished()
    (True, [])
    """
    where = os.path.dirname(path) or "."
    if not os.path.isdir(where):
        raise OutputError(path, f"folder {where} does not exist")
    prefix = temporary_prefix(path, _name_max(where))
    try:
        if folder:
            temporary = tempfile.mkdtemp(dir=where, prefix=prefix, suffix=_SUFFIX)
        else:
            handle, temporary = tempfile.mkstemp(dir=where, prefix=prefix, suffix=_SUFFIX)
            os.close(handle)
    except OSError as exc:
        raise OutputError(path, os_reason(exc)) from None
    temporary = os.path.abspath(temporary)
    with _lock:
        _unfinished[temporary] = os.path.abspath(path)
    return temporary


def commit(temporary: str, path: str) -> None:
    """Rename the finished ``temporary`` (from :func:`reserve`) to ``path``.

    A file replaces what is there. A folder takes the place of nothing, or of a folder that
    :func:`commit` may replace (the caller checked it is one it was asked to replace): the old
    folder is moved aside, the new one renamed in, and then the old one removed.
    """
    with _lock:
        if _unfinished.pop(temporary, None) is None:
            raise OutputError(path, "stopped before it was written")
        try:
            folder = os.path.isdir(temporary)
            os.chmod(temporary, (0o777 if folder else 0o666) & ~_umask())
            replace(temporary, path)
        except OSError as exc:
            _remove(temporary)
            raise OutputError(path, os_reason(exc)) from None


def replace(source: str, target: str) -> None:
    """Rename ``source`` to ``target``, replacing what is there: a file, or a folder. A folder
    is moved aside, ``source`` renamed in (the old folder put back if that fails), and the old
    one removed.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> new, old = os.path.join(folder, "new"), os.path.join(folder, "out.zarr")
    >>> os.mkdir(new); os.mkdir(old); open(os.path.join(new, "zarr.json"), "w").close()
    >>> replace(new, old); os.listdir(folder), os.listdir(old)
    (['out.zarr'], ['zarr.json'])
    """
    if os.path.isdir(target) and not os.path.islink(target):
        parked = tempfile.mkdtemp(
            dir=os.path.dirname(os.path.abspath(target)), prefix=temporary_prefix(target)
        )
        old = os.path.join(parked, "old")
        os.rename(target, old)
        try:
            os.rename(source, target)
        except BaseException:
            os.rename(old, target)  # the output as it was
            raise
        finally:
            shutil.rmtree(parked, ignore_errors=True)
    else:
        os.replace(source, target)


def discard(temporary: str) -> None:
    """Remove ``temporary`` (from :func:`reserve`) if it is still this process's unfinished
    file or folder; nothing else is ever removed."""
    _discard(temporary)


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM held back inside (in the main thread) and delivered on leaving.

    Zarr runs its I/O in a thread of its own: a stop that lands inside one of its calls would
    leave that write going on after the temporary folder was removed, creating it again.
    """
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in signals}
    if threading.current_thread() is not threading.main_thread() or None in previous.values():
        yield
        return
    held: list[int] = []
    for signum in signals:
        signal.signal(signum, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])


@contextlib.contextmanager
def output_folder(path: str, overwrite: bool) -> Iterator[str]:
    """A new folder beside ``path`` (:func:`reserve`) for the parts of an output written in
    many files; removed on any failure, and once the parts were moved out
    (:func:`move_into_place`). An existing ``path`` is an OutputError unless ``overwrite``.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with output_folder(os.path.join(folder, "a.zarr"), overwrite=False) as parts:
    ...     os.mkdir(os.path.join(parts, "a.zarr"))
    ...     move_into_place(os.path.join(parts, "a.zarr"), os.path.join(folder, "a.zarr"))
    >>> os.listdir(folder)
    ['a.zarr']
    """
    if os.path.lexists(path) and not overwrite:
        raise OutputError(path, "exists; replace it with {overwrite}", ("overwrite",))
    temporary: str | None = None
    try:
        with held_signals():  # a stop right after the folder is made still removes it
            temporary = reserve(path, folder=True)
        yield temporary
    except BaseException as error:
        if temporary is not None:
            discard(temporary)
        if isinstance(error, OSError):
            raise OutputError(path, os_reason(error)) from None
        raise
    discard(temporary)  # what is left once the parts were moved out


def move_into_place(source: str, target: str) -> None:
    """Rename ``source`` to ``target``, replacing what is there (a file or a folder), with
    SIGINT and SIGTERM held back (:func:`replace`)."""
    with held_signals():
        replace(source, target)


def _remove(temporary: str) -> bool:
    """Remove a temporary file or folder of this process; whether it was there."""
    try:
        mode = os.lstat(temporary).st_mode
    except OSError:
        return False
    if stat.S_ISDIR(mode):
        shutil.rmtree(temporary, ignore_errors=True)
        return True
    if stat.S_ISREG(mode):
        with contextlib.suppress(OSError):
            os.unlink(temporary)
            return True
    return False


def temporary_prefix(path: str, name_max: int = 255) -> str:
    """The prefix of ``path``'s temporary files, ``.NAME.``: NAME shortened when needed so that
    the temporary file's whole name fits in ``name_max`` bytes.

    >>> temporary_prefix("small/a.png")
    '.a.png.'
    >>> len(temporary_prefix("x" * 255) + "12345678.tmp")
    255
    """
    name = os.path.basename(path)
    room = name_max - len(".." + _SUFFIX) - _RANDOM_CHARACTERS
    while name and len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}."


def _write_path(path: str, encode: Encoder) -> None:
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise OutputError(path, f"folder {folder} does not exist")
    try:
        mode: int | None = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(path, "is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, encode)
    else:
        _write_atomically(path, folder, encode)


def _write_atomically(path: str, folder: str, encode: Encoder) -> None:
    """Encode into a temporary file beside ``path`` and rename it into place."""
    try:
        tmp = tempfile.NamedTemporaryFile(
            dir=folder,
            prefix=temporary_prefix(path, _name_max(folder)),
            suffix=_SUFFIX,
            delete=False,
        )
    except OSError as exc:
        raise OutputError(path, os_reason(exc)) from None
    temporary = os.path.abspath(tmp.name)
    with _lock:
        _unfinished[temporary] = os.path.abspath(path)
    try:
        with tmp:
            encode(tmp, path)
        os.chmod(temporary, 0o666 & ~_umask())
        with _lock:
            if _unfinished.pop(temporary, None) is None:
                raise OutputError(path, "stopped before it was written")
            os.replace(temporary, path)
    except BaseException as exc:
        _discard(temporary)
        if isinstance(exc, OSError):
            raise OutputError(path, os_reason(exc)) from None
        raise


def _discard(temporary: str) -> None:
    """Remove ``temporary`` if it is still this process's unfinished file."""
    with _lock:
        if _unfinished.pop(temporary, None) is not None:
            _remove(temporary)


def _write_in_place(path: str, encode: Encoder) -> None:
    """Write into a FIFO, a device or another file that is not regular: never replace it."""
    data = _encoded(path, encode)
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as exc:
        raise OutputError(path, os_reason(exc)) from None


def _write_encoded(stream: BinaryIO, name: str, encode: Encoder) -> None:
    """Encode into memory, then write the bytes to ``stream`` in one go."""
    data = _encoded(name, encode)
    try:
        stream.write(data)
        flush = getattr(stream, "flush", None)
        if flush is not None:
            flush()
    except OSError as exc:
        raise OutputError(name, os_reason(exc)) from None


def _encoded(name: str, encode: Encoder) -> bytes:
    buffer = io.BytesIO()
    encode(buffer, name)
    return buffer.getvalue()


def _name_max(folder: str) -> int:
    """The longest file name, in bytes, the file system of ``folder`` takes."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
