"""Running the jobs of a plan: the runner interface, the thread runner, signals.

A runner takes planned jobs and a recipe (plain data) and yields one
:class:`~poolcli.batch.jobs.Outcome` per job in input order; :func:`run` prints them, counts
them and stops the runner cleanly on SIGINT or SIGTERM. Planning, naming and printing do not
depend on the runner: a process pool or a cluster runner implements :class:`Runner` and drops in.

>>> import os, tempfile
>>> from PIL import Image
>>> from poolcli.batch.console import Console
>>> from poolcli.batch.plan import plan
>>> from poolcli.batch.recipe import Recipe
>>> from poolcli.imaging.tasks import Pooling
>>> folder = tempfile.mkdtemp()
>>> for name in ("a.png", "b.png"):
...     Image.new("L", (4, 4)).save(os.path.join(folder, name))
>>> lines = []
>>> summary = run(plan([folder], op="max"), Recipe(Pooling("max")),
...               Console(echo=lambda text, err: lines.append(text)), runner=ThreadRunner(2))
>>> summary.counts(), lines
('2 done, 0 skipped, 0 failed', ['poolcli: 2 done, 0 skipped, 0 failed'])
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import FrameType
from typing import Any, BinaryIO, Protocol

from poolcli.batch.console import Console, Printer
from poolcli.batch.discovery import os_reason
from poolcli.batch.jobs import Job, Outcome, Plan, Summary
from poolcli.batch.process import process
from poolcli.batch.recipe import Recipe
from poolcli.errors import OutputError
from poolcli.io import atomic

__all__ = ["Runner", "Signalled", "SignalHandlers", "ThreadRunner", "default_workers", "run"]

# Jobs in flight per worker: enough to keep every worker busy, few enough that a stop is quick.
AHEAD = 2


class Runner(Protocol):
    """Does the jobs of a run somewhere: threads here, processes or a cluster elsewhere."""

    def outcomes(self, jobs: Sequence[Job], recipe: Recipe) -> Iterator[Outcome]:
        """Do ``jobs`` with ``recipe``; yield the outcome of each, in input order.

        Called once per runner. An exception a job raises (a
        :class:`~poolcli.batch.jobs.PlanError`) comes out of the iteration.
        """
        ...

    def stop(self) -> list[Outcome]:
        """Stop the run from the thread that iterates :meth:`outcomes`.

        Jobs not started are dropped; jobs in flight end at their next step; the outcomes that
        finished and were not yielded come back in input order (some may have been yielded
        already: the caller passes over those). Nothing a stopped job began writing is left
        behind. Calling it again, or after the run ended, does nothing and returns [].
        """
        ...


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class ThreadRunner:
    """The jobs on ``workers`` threads of this process, at most ``AHEAD`` times as many unfinished.

    Pillow and numpy release the GIL while they decode, pool and encode. Each worker writes its
    own output, so memory stays bounded; with several workers each pools in its own thread only
    (the engine's threads would add hand-offs between busy CPUs). Even one worker is a thread:
    the calling thread only waits and counts, so a signal never lands between an output's
    rename and its count.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.workers = default_workers() if workers is None else max(1, workers)
        self.stdin = stdin
        self.stdout = stdout
        self.progress = progress  # of the chunks of a job pooled in chunks
        self.halt = threading.Event()
        self.pool: ThreadPoolExecutor | None = None
        self.pending: dict[int, tuple[Job, Future[Outcome]]] = {}  # by position, not yielded
        # Outcomes by position, recorded by the worker itself: a signal between a submission
        # and its bookkeeping cannot lose a job that went on to write its output.
        self.finished: dict[int, Outcome] = {}
        self.yielded = 0
        self.lock = threading.Lock()

    def outcomes(self, jobs: Sequence[Job], recipe: Recipe) -> Iterator[Outcome]:
        workers = min(self.workers, max(1, len(jobs)))
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="poolcli-batch")
        task = _process_alone if workers > 1 else process

        def work(position: int, job: Job) -> Outcome:
            outcome = task(
                job,
                recipe,
                stdin=self.stdin,
                stdout=self.stdout,
                stop=self.halt,
                progress=self.progress,
            )
            with self.lock:
                self.finished[position] = outcome
            return outcome

        upcoming = iter(enumerate(jobs))
        exhausted = False
        following = 0  # the position to yield next
        try:
            while True:
                unfinished = [future for _, future in self.pending.values() if not future.done()]
                while not exhausted and len(unfinished) < AHEAD * workers:
                    item = next(upcoming, None)
                    if item is None:
                        exhausted = True
                        break
                    position, job = item
                    future = self.pool.submit(work, position, job)
                    self.pending[position] = (job, future)
                    unfinished.append(future)
                head = self.pending.get(following)
                if head is None:
                    break
                if not head[1].done():
                    wait([head[1], *unfinished], return_when=FIRST_COMPLETED)
                    continue
                outcome = head[1].result()
                yield outcome
                # Forgotten only once handed over: a stop meanwhile hands it over again.
                del self.pending[following]
                with self.lock:
                    self.finished.pop(following, None)
                following += 1
                self.yielded = following
        finally:
            # Normal end: all done. A signal or an error: the jobs in flight end at their next
            # step rather than being waited for whole.
            self.halt.set()
            self.pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> list[Outcome]:
        self.halt.set()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        atomic.remove_unfinished(
            job.target.path
            for job, _ in self.pending.values()
            if job.target is not None and job.target.path is not None
        )
        self.pending.clear()
        with self.lock:
            finished = [self.finished.pop(p) for p in sorted(self.finished) if p >= self.yielded]
            self.finished.clear()
        return finished


def _process_alone(job: Job, recipe: Recipe, **options: Any) -> Outcome:
    """:func:`~poolcli.batch.process.process` pooling in this worker thread only."""
    from poolcli.core import engine

    with engine.in_calling_thread():
        return process(job, recipe, **options)


def run(
    planned: Plan,
    recipe: Recipe,
    console: Console,
    *,
    runner: Runner | None = None,
) -> Summary:
    """Do the jobs of ``planned``; print every outcome in input order; return the counts.

    Parameters
    ----------
    planned : Plan
        From :func:`poolcli.batch.plan.plan`.
    recipe : Recipe
        What to do to each input.
    console : Console
        Where to print.
    runner : Runner, optional
        Where the jobs run; default a :class:`ThreadRunner` with a worker per CPU.

    Returns
    -------
    Summary
        With ``signal`` set when SIGINT or SIGTERM stopped the run (handled only when called
        from the main thread): the jobs in flight were let finish their current step, every
        output written is whole, and no temporary file is left.

    Raises
    ------
    OutputError
        When the output folder cannot be created; no job has started.
    PlanError
        When the one input's output turns out not to be writable once it is loaded.

    Notes
    -----
    Printed, in input order: each failure as ``poolcli: MESSAGE`` on standard error, and each
    report. For one input also ``poolcli: wrote NAME (HxW -> hxw)`` (``replaced`` over a file
    that was there, ``would write`` for a dry run, ``skipped NAME: it exists``); for a batch a
    dry run's ``would write`` lines, and at the end ``poolcli: D done, S skipped, F failed``
    (``D done (R replaced)`` when files were written over; with --quiet only when something
    failed). A stopped run always ends with ``poolcli: interrupted by SIGINT: ..., N left``.
    Names are printed through :func:`~poolcli.batch.text.printable`.
    """
    runner = ThreadRunner() if runner is None else runner
    jobs = planned.jobs
    if planned.output_folder is not None and not recipe.dry_run:
        _make_output_folder(planned.output_folder)
    printer = Printer(console, planned, recipe)
    summary = Summary()
    with signals_raise() as signals:
        try:
            for outcome in runner.outcomes(jobs, recipe):
                with signals.held():
                    printer.add(outcome, summary)
        except Signalled as signalled:
            signals.ignore()
            summary.signal = signalled.signum
            for outcome in runner.stop():
                printer.add(outcome, summary)
            printer.drain(summary)
        finally:
            signals.ignore()
            runner.stop()
    summary.not_started = len(jobs) - summary.done - summary.skipped - summary.failed
    printer.finish(summary)
    return summary


def _make_output_folder(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"cannot create folder: {os_reason(exc)}") from None
    if not os.path.isdir(folder):
        raise OutputError(folder, "cannot create folder: a file is in the way")


class Signalled(BaseException):
    """SIGINT or SIGTERM arrived: raised in the main thread by the handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class SignalHandlers:
    """SIGINT and SIGTERM raise :class:`Signalled` in the main thread, once: a second signal
    during the stop is noted and ignored, so the stop itself is not cut short."""

    def __init__(self) -> None:
        self.saved: dict[int, Any] = {}
        self.holding = False
        self.pending: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A signal arriving inside is raised on leaving, so bookkeeping is never cut in half."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.pending is not None:
                signum, self.pending = self.pending, None
                raise Signalled(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals: the caller's own handling stays
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.saved[signum] = signal.signal(signum, self._raise)

    def ignore(self) -> None:
        for signum in self.saved:
            signal.signal(signum, self._note)

    def restore(self) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        self.ignore()
        if self.holding:
            self.pending = signum
            return
        raise Signalled(signum)

    @staticmethod
    def _note(signum: int, frame: FrameType | None) -> None:
        pass


@contextlib.contextmanager
def signals_raise() -> Iterator[SignalHandlers]:
    """:class:`SignalHandlers` installed for the duration."""
    handlers = SignalHandlers()
    handlers.install()
    try:
        yield handlers
    finally:
        handlers.restore()
