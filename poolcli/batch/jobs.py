"""The plain data of a run: its jobs, where each result goes, and what became of each.

Every class here is a frozen dataclass of plain values (or an enum), so a planned job and its
outcome pickle and travel between processes and machines.

>>> import pickle
>>> job = Job(0, "photo.png", "photo.png", Target("photo.max.png"))
>>> pickle.loads(pickle.dumps(job)) == job
True
>>> Summary(done=3, failed=1).exit_status
1
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "STDIN_NAME",
    "STDOUT_NAME",
    "Job",
    "Outcome",
    "Plan",
    "PlanError",
    "Status",
    "Summary",
    "Target",
]

STDIN_NAME = "<stdin>"
STDOUT_NAME = "<stdout>"


class PlanError(ValueError):
    """A run that must not start, or an output that must not be written: a usage error.

    The message says why, naming the inputs and outputs.
    """


@dataclass(frozen=True)
class Target:
    """Where a result goes: a file, standard output as bytes, or printed as a matrix."""

    path: str | None = None  # None: standard output (or nowhere, for a task that only prints)
    format: str | None = None  # a --format value; None: from the path's extension
    matrix: bool = False
    named: bool = False  # the caller named this very file (-o FILE): it may be written over

    @property
    def name(self) -> str:
        return STDOUT_NAME if self.path is None else self.path


@dataclass(frozen=True)
class Job:
    """One input of a run, and where its result goes.

    ``target`` is None for the one input of a run whose output depends on what it holds (its
    format names the output, a matrix is printed): :func:`poolcli.batch.naming.target` decides
    it from ``output`` and ``format`` once the input is loaded.
    """

    index: int
    source: str  # a path, or "-" for standard input
    name: str  # as messages and reports name it
    target: Target | None = None
    error: str | None = None  # the reason it failed before any work, e.g. "no images found"
    make_folder: bool = False  # create the target's folder if missing (mirrored trees; the
    # one input's target, decided once loaded, always has its folders made)
    output: str | None = None  # the -o of a one-input run (target None)
    format: str | None = None  # the --format of a one-input run (target None)
    writes: bool = True  # False: the task prints its result and writes nothing (global, info)


@dataclass(frozen=True)
class Plan:
    """The jobs of a run, in input order."""

    jobs: tuple[Job, ...]
    batch: bool  # several inputs, a folder, a glob or a list: -o names a folder
    output_folder: str | None = None  # created before the first job

    @property
    def found(self) -> int:
        """How many inputs there are to work on (not counting arguments that found nothing)."""
        return sum(job.error is None for job in self.jobs)


class Status(str, enum.Enum):
    """What became of one input."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by a signal before its output was written


@dataclass(frozen=True)
class Outcome:
    """The result of one job, as the console prints it."""

    index: int
    name: str
    status: Status
    output: str | None = None  # the target's name
    change: str | None = None  # "out.png (640x480 -> 320x240)"
    report: str | None = None  # the text report (a block), or one JSON line
    matrix: str | None = None  # a pooled matrix to print
    printed: str | None = None  # lines the task prints to standard output (global's values)
    error: str | None = None  # the one-line message, "photos/x.jpg: cannot identify image file"
    parameters: tuple[str, ...] = ()  # library parameters the error names, e.g. "max_pixels"
    replaced: bool = False  # the output was written over a file that was there


@dataclass
class Summary:
    """How a run went: counts, and the signal that stopped it."""

    done: int = 0
    skipped: int = 0
    failed: int = 0
    not_started: int = 0
    signal: int | None = None
    replaced: int = 0  # of the done: outputs written over a file that was there

    @property
    def exit_status(self) -> int:
        """128 + the signal that stopped the run; else 1 if an input failed; else 0."""
        if self.signal is not None:
            return 128 + self.signal
        return 1 if self.failed else 0

    def counts(self) -> str:
        """``3 done, 0 skipped, 1 failed``; ``3 done (2 replaced), ...`` when outputs were
        written over files that were there.

        >>> Summary(done=3, replaced=2).counts()
        '3 done (2 replaced), 0 skipped, 0 failed'
        """
        replaced = f" ({self.replaced} replaced)" if self.replaced else ""
        return f"{self.done} done{replaced}, {self.skipped} skipped, {self.failed} failed"
