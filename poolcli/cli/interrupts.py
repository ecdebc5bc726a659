"""Ctrl-C and SIGTERM before a run has its own handlers: exit 128 + the signal, nothing written.

Three moments, from the start of the process:

- while ``poolcli.cli`` is imported by the ``poolcli`` program (:func:`guard_import`): the
  signal ends the process at once, as nothing has been done;
- while Click parses the command line and the command plans its inputs (:func:`raising`): the
  signal raises :class:`Interrupted`, which neither Click nor a command catches, so the group
  turns it into one line and the exit status;
- while the jobs run: :func:`poolcli.batch.runner.run` has handlers of its own, which stop the
  run cleanly, and then puts these back.

Only the main thread handles signals; elsewhere (and for a program other than poolcli that
imports this package) nothing is changed. numpy-free, Click-free.

>>> import signal
>>> with raising():
...     try:
...         signal.raise_signal(signal.SIGTERM)
...     except Interrupted as stop:
...         print(stop.signum == signal.SIGTERM, exit_status(stop))
True 143
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = [
    "SIGNALS",
    "Interrupted",
    "exit_status",
    "guard_import",
    "message",
    "raising",
    "running_as_poolcli",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived before the run's own handlers were set (a BaseException that
    is no KeyboardInterrupt, so Click does not turn it into "Aborted!")."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_status(stop: Interrupted) -> int:
    """128 + the signal, as a shell reports a process the signal ended."""
    return 128 + stop.signum


def message(signum: int) -> str:
    """The one line printed when ``signum`` stops poolcli before any input was read.

    >>> message(signal.SIGINT)
    'poolcli: interrupted by SIGINT before any input was read'
    """
    return f"poolcli: interrupted by {signal.Signals(signum).name} before any input was read"


def running_as_poolcli() -> bool:
    """Whether this process is the ``poolcli`` program (the installed script, or
    ``python -m poolcli``), not another program importing the package."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name == "poolcli.__main__":
        return True
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return program.removesuffix(".exe").removesuffix("-script.py") == "poolcli"


def guard_import() -> None:
    """In the ``poolcli`` program, make SIGINT and SIGTERM end the process at once (a
    SystemExit out of the import), saying only :func:`message`, until :func:`raising` takes
    over: nothing has been done yet."""
    if not running_as_poolcli() or threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        signal.signal(signum, _exit_now)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    with contextlib.suppress(OSError):
        os.write(2, (message(signum) + "\n").encode())
    raise SystemExit(128 + signum)  # out of the import: no traceback, buffers flushed


@contextlib.contextmanager
def raising() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside; the handlers before are put back
    on leaving. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)
