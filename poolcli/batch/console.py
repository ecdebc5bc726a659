"""Printing a run: outcomes in input order, the progress bar, the summary.

>>> from poolcli.batch.jobs import Job
>>> from poolcli.imaging.tasks import Pooling
>>> lines = []
>>> console = Console(echo=lambda text, err: lines.append((text, err)))
>>> plan = Plan((Job(0, "a.png", "a.png"),), batch=False)
>>> printer = Printer(console, plan, Recipe(Pooling("max")))
>>> summary = Summary()
>>> printer.add(Outcome(0, "a.png", Status.DONE, "a.max.png", "a.max.png (4x4 -> 2x2)"), summary)
>>> lines
[('poolcli: wrote a.max.png (4x4 -> 2x2)', True)]

File names may hold anything but NUL and ``/``; they are printed through :func:`printable`:

>>> printable("bad\\nname\\x1b[2J.png")
'bad\\\\nname\\\\x1b[2J.png'
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from poolcli.batch.jobs import STDOUT_NAME, Outcome, Plan, Status, Summary
from poolcli.batch.recipe import Recipe
from poolcli.batch.text import printable

__all__ = ["Console", "Printer", "Progress"]


@dataclass
class Console:
    """Where a run prints.

    ``echo(text, err)`` prints one line (without its newline) to standard output, or to standard
    error when ``err``; ``progress`` is the terminal to draw a progress bar on, or None.
    """

    echo: Callable[[str, bool], None]
    progress: TextIO | None = None
    quiet: bool = False
    reports_to_stderr: bool = False  # standard output carries the image
    summary: bool = True  # end a batch with "D done, S skipped, F failed" (if only when failed)


class Printer:
    """Prints outcomes in input order, counts them, and keeps the progress bar up to date."""

    def __init__(self, console: Console, planned: Plan, recipe: Recipe) -> None:
        self.console = console
        self.batch = planned.batch
        self.found = planned.found
        self.recipe = recipe
        total = len(planned.jobs)
        self.waiting: dict[int, Outcome] = {}
        self.next = 0
        self.counted: set[int] = set()
        self.reports = 0
        self.progress = (
            Progress(console.progress, total)
            if console.progress is not None and total > 1 and not console.quiet
            else None
        )

    def add(self, outcome: Outcome, summary: Summary) -> None:
        """Count ``outcome`` and print what is next in input order; an outcome already added
        (handed over again by a stopping runner) is passed over."""
        if outcome.index in self.counted:
            return
        self.counted.add(outcome.index)
        if outcome.status is Status.DONE:
            summary.done += 1
            summary.replaced += outcome.replaced
        elif outcome.status is Status.SKIPPED:
            summary.skipped += 1
        elif outcome.status is Status.FAILED:
            summary.failed += 1
        if self.progress is not None and outcome.status is not Status.CANCELLED:
            self.progress.update(summary.done + summary.skipped + summary.failed)
        self.waiting[outcome.index] = outcome
        while self.next in self.waiting:
            self._print(self.waiting.pop(self.next))
            self.next += 1

    def drain(self, summary: Summary) -> None:
        """Print what finished, in order, past the gaps a stop leaves."""
        for index in sorted(self.waiting):
            self._print(self.waiting.pop(index))

    def finish(self, summary: Summary) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress = None
        dry = " (dry run: nothing written)" if self.recipe.dry_run else ""
        if summary.signal is not None:
            name = signal.Signals(summary.signal).name
            self._echo(
                f"poolcli: interrupted by {name}: {summary.counts()}, "
                f"{summary.not_started} left{dry}",
                True,
            )
        elif (
            self.batch
            and self.found
            and self.console.summary
            and (not self.console.quiet or summary.failed)
        ):
            self._echo(f"poolcli: {summary.counts()}{dry}", True)

    def _print(self, outcome: Outcome) -> None:
        if outcome.status is Status.CANCELLED:
            return
        console = self.console
        if outcome.error is not None:
            self._echo(f"poolcli: {printable(outcome.error)}", True)
        if outcome.report is not None:
            if self.batch and self.recipe.report == "text" and self.reports:
                self._echo("", console.reports_to_stderr)
            self._echo(outcome.report, console.reports_to_stderr)
            self.reports += 1
        if outcome.printed is not None:
            self._echo(outcome.printed, console.reports_to_stderr)
        if outcome.matrix is not None:
            if self.recipe.report == "text" and not console.reports_to_stderr:
                self._echo("", False)
            self._echo(outcome.matrix, False)
        if console.quiet:
            return
        change = None if outcome.change is None else printable(outcome.change)
        if outcome.status is Status.DONE and self.recipe.dry_run:
            verb = "would replace" if outcome.replaced else "would write"
            self._echo(f"poolcli: {verb} {change}", True)
        elif self.batch:
            return  # a batch prints its summary, not a line an image
        elif outcome.status is Status.SKIPPED:
            self._echo(f"poolcli: skipped {printable(outcome.output or '')}: it exists", True)
        elif outcome.status is Status.DONE:
            note = self.recipe.note
            if outcome.matrix is not None:
                if note:
                    self._echo(f"poolcli: {note}", True)
            elif change is not None and outcome.output != STDOUT_NAME:
                verb = "replaced" if outcome.replaced else "wrote"
                self._echo(f"poolcli: {verb} {change}{', ' + note if note else ''}", True)

    def _echo(self, text: str, err: bool) -> None:
        if self.progress is not None:
            self.progress.clear()
        self.console.echo(text, err)
        if self.progress is not None:
            self.progress.draw()


class Progress:
    """`` 57/200 [######------------------]  41.2 images/s  0:03 left`` on one terminal line."""

    def __init__(self, stream: TextIO, total: int, unit: str = "images") -> None:
        self.stream = stream
        self.total = total
        self.unit = unit
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = 0
        self.draw()

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last >= 0.1 or done == self.total:
            self.draw()

    def draw(self) -> None:
        self.last = time.monotonic()
        elapsed = self.last - self.start
        width = 24
        filled = width * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.done:>{len(str(self.total))}}/{self.total} [{bar}]"
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            left = (self.total - self.done) / rate
            line += f"  {rate:.1f} {self.unit}/s  {_duration(left)} left"
        columns = shutil.get_terminal_size((80, 24)).columns
        line = line[: max(10, columns - 1)]
        self._write("\r" + line + " " * max(0, self.shown - len(line)))
        self.shown = len(line)

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * self.shown + "\r")
            self.shown = 0

    def close(self) -> None:
        self.clear()

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text)
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"
