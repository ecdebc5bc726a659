"""Batches on a Dask cluster: the jobs of a run done by the workers of a Dask scheduler.

:class:`DaskRunner` is a :class:`~poolcli.batch.runner.Runner`: it hands the planned jobs, a
few to a task, to an existing Dask scheduler (``distributed.Client``; poolcli has no scheduler of
its own) or to a ``LocalCluster`` it starts itself for ``local:N``, and yields their outcomes in
input order as the tasks finish, so the console prints exactly what the thread runner's run
prints. Jobs and the recipe are plain frozen data; each worker calls
:func:`poolcli.batch.process.process` and writes its outputs atomically beside them, on the
storage the workers share with this machine. Paths are made absolute before they travel (the
workers may run in other folders or on other machines with the same mount) and the messages
that come back name them as the user did.

Faults: a worker that dies mid-task has its task run again elsewhere (Dask's
``allowed-failures``); an output that this run had already written is then reported, not
written again. A task whose workers all died (Dask's ``KilledWorker``) is tried again one file
to a task, so that only the file that kills its workers fails, with its own line. Temporary
files left by a killed worker are removed at the end of the run. A lost scheduler ends the run
with one line (:class:`ClusterError`); a signal cancels the queued tasks and lets those in
flight end at their next step.

numpy-free; ``distributed`` (the ``cluster`` extra) is imported only once a run starts:

>>> scheduler_address("local:2"), local_workers("local:2"), local_workers("tcp://10.0.0.5:8786")
('local:2', 2, None)
>>> jobs_per_task(400, threads=2), jobs_per_task(3, threads=8), jobs_per_task(10**6, threads=800)
(25, 1, 64)
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import logging
import math
import os
import re
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO

from poolcli.batch.jobs import Job, Outcome, Status
from poolcli.batch.process import process
from poolcli.batch.recipe import Recipe
from poolcli.batch.report import error_report, json_line
from poolcli.batch.runner import ThreadRunner
from poolcli.errors import PoolcliError
from poolcli.imaging.tasks import Inspection
from poolcli.io import atomic

__all__ = [
    "ENVIRONMENT",
    "EXTRA",
    "ClusterError",
    "DaskRunner",
    "jobs_per_task",
    "local_workers",
    "connected",
    "inside_worker",
    "scheduler_address",
    "work",
]

#: Where Dask's own tools find the scheduler when no address is given.
ENVIRONMENT = "DASK_SCHEDULER_ADDRESS"
#: What installs ``distributed``.
EXTRA = "pip install 'poolcli-image[cluster]'"

# Tasks per worker thread a batch is cut into: enough that the threads finish together (the last
# task is short against the run), few enough that Dask's ~1 ms a task stays small.
TASKS_PER_THREAD = 8
MOST_JOBS_PER_TASK = 64
# Tasks handed to the scheduler and not yet finished, per worker thread: every thread has the
# next task waiting, and a stop has little to cancel.
AHEAD = 8
# How long a stop waits for the tasks in flight to reach their next step.
STOP_WAIT = 30.0
# How far ahead of a worker's clock the shared storage's may run, in nanoseconds.
CLOCK_SLACK = 2 * 10**9
#: The Dask settings of a ``local:N`` cluster (the README advises them for any cluster):
#: one task a worker thread at a time, so that a worker that dies takes only the task it was
#: running with it (the scheduler counts every task a worker held as suspect); and glibc's
#: malloc left to its own thresholds: Dask's MALLOC_TRIM_THRESHOLD_ for its workers makes every
#: image buffer a fresh mmap, and a worker then spends about half as long again on each photo.
LOCAL_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}

_LOCAL = re.compile(r"local:([1-9][0-9]*)")
_REMOTE = re.compile(r"([a-z][a-z0-9+.-]*://)?[^\s/:]+(:[0-9]+)?/?")
_TEMPORARY_TAIL = re.compile(r"[a-z0-9_]{8}\.tmp")


def _distributed(module: str = "distributed") -> Any:
    """``distributed`` (or one of its modules), imported now; as Any, for much of its API is
    untyped."""
    return importlib.import_module(module)


class ClusterError(PoolcliError):
    """The scheduler cannot be reached, or went away during the run: one line, exit status 1."""


def scheduler_address(text: str) -> str:
    """``text`` if it is a scheduler address: ``tcp://HOST:PORT`` (any Dask protocol, or
    ``HOST:PORT``), or ``local:N`` for N worker processes started here; else ValueError.

    >>> scheduler_address("tcp://127.0.0.1:8786")
    'tcp://127.0.0.1:8786'
    >>> scheduler_address("local:0")
    Traceback (most recent call last):
    ...
    ValueError: 'local:0' is no scheduler address: give tcp://HOST:PORT or local:N (N >= 1)
    """
    if _LOCAL.fullmatch(text) or (not text.startswith("local:") and _REMOTE.fullmatch(text)):
        return text
    raise ValueError(f"{text!r} is no scheduler address: give tcp://HOST:PORT or local:N (N >= 1)")


def local_workers(address: str) -> int | None:
    """N of ``local:N``; None for the address of a running scheduler."""
    match = _LOCAL.fullmatch(address)
    return None if match is None else int(match.group(1))


def jobs_per_task(jobs: int, threads: int) -> int:
    """How many jobs one task does: about :data:`TASKS_PER_THREAD` tasks for each worker thread,
    at most :data:`MOST_JOBS_PER_TASK` jobs to a task."""
    wanted = math.ceil(jobs / (TASKS_PER_THREAD * max(1, threads)))
    return max(1, min(MOST_JOBS_PER_TASK, wanted))


class DaskRunner:
    """The jobs done by the workers of the Dask scheduler at ``address`` (or ``local:N``).

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` of a running scheduler, or ``local:N``: a ``LocalCluster`` of N
        single-threaded worker processes on 127.0.0.1, started by the run and stopped with it.
    per_task : int, optional
        Jobs a task does; default :func:`jobs_per_task` of the batch and the workers' threads.
    workers : int, optional
        The threads of a run done here (see ``stdin``); default one per CPU.
    stdin, stdout : binary streams, optional
        For a run that reads standard input or writes standard output: such a run, and a run
        of one input, is done here by a :class:`~poolcli.batch.runner.ThreadRunner` (nothing of
        it could travel, or nothing would be gained).
    base : str, optional
        The folder relative paths are relative to; default the current folder.

    The connection (and a local cluster) is made when :meth:`outcomes` starts and closed by
    :meth:`stop`, which :func:`~poolcli.batch.runner.run` always calls:

    >>> from poolcli.batch.console import Console
    >>> from poolcli.batch.plan import plan
    >>> from poolcli.batch.runner import run
    >>> from poolcli.imaging.tasks import Pooling
    >>> summary = run(plan(["photos/"], op="max", output="small/"), Recipe(Pooling("max")),
    ...               Console(echo=print), runner=DaskRunner("local:2"))  # doctest: +SKIP
    poolcli: 2 done, 0 skipped, 0 failed
    """

    def __init__(
        self,
        address: str,
        *,
        per_task: int | None = None,
        workers: int | None = None,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None,
        base: str | None = None,
    ) -> None:
        self.address = scheduler_address(address)
        self.per_task = per_task
        self.workers = workers
        self.stdin = stdin
        self.stdout = stdout
        self.base = os.getcwd() if base is None else base
        self.here: ThreadRunner | None = None
        self.client: Any = None  # distributed.Client
        self.cluster: Any = None  # distributed.LocalCluster
        self.started = 0  # time.time_ns() when the run started: outputs newer are this run's
        self.jobs: Sequence[Job] = ()
        self.recipe: Recipe | None = None
        self.pending: dict[Any, tuple[int, ...]] = {}  # submitted, not finished: positions
        self.finished: dict[int, Outcome] = {}  # by position, not yet yielded
        self.yielded = 0
        self.workers_at_start: set[str] = set()
        self.workers_died = False
        self.lost = False  # the scheduler went away: nothing more to ask it
        self.logs = _QuietLogs()

    def outcomes(self, jobs: Sequence[Job], recipe: Recipe) -> Iterator[Outcome]:
        if len(jobs) < 2 or not all(_travels(job) for job in jobs):
            self.here = ThreadRunner(self.workers, stdin=self.stdin, stdout=self.stdout)
            yield from self.here.outcomes(jobs, recipe)
            return
        self.jobs, self.recipe = jobs, recipe
        self.started = time.time_ns()
        client = self._connect()
        threads = max(1, sum(self._call(client.nthreads).values()))
        per_task = self.per_task or jobs_per_task(len(jobs), threads)
        groups = iter(_groups(len(jobs), per_task))
        retried: list[tuple[int, ...]] = []  # a task's jobs to do again one a task
        window = AHEAD * threads
        running = _distributed().as_completed()

        def submit(positions: tuple[int, ...]) -> None:
            # Made as they go (and again for the names as they come back), not all at once:
            # a batch of millions keeps one copy of its jobs.
            batch = tuple(_travelling(jobs[p], self.base)[0] for p in positions)
            future = self._call(client.submit, work, batch, recipe, self.started, pure=False)
            self.pending[future] = positions
            running.add(future)

        def fill(finishing: int = 0) -> None:
            while len(self.pending) - finishing < window:
                positions = retried.pop(0) if retried else next(groups, None)
                if positions is None:
                    return
                submit(positions)

        fill()
        while self.pending:
            done = [f for f in self._call(running.next_batch, True) if f in self.pending]
            fill(len(done))  # the workers' next tasks before the results come over
            for future, outcomes in self._collect(done):
                positions = self.pending[future]
                for position, outcome in zip(positions, outcomes, strict=True):
                    if outcome is None:
                        retried.append((position,))
                    else:
                        self.finished[position] = self._homecoming(position, outcome)
                # Forgotten only once its outcomes are kept: a stop meanwhile collects it.
                del self.pending[future]
            fill()
            while self.yielded in self.finished:
                yield self.finished[self.yielded]
                # Forgotten only once handed over: a stop meanwhile hands it over again.
                del self.finished[self.yielded]
                self.yielded += 1

    def stop(self) -> list[Outcome]:
        if self.here is not None:
            return self.here.stop()
        client = self.client
        if client is None:
            return []
        handed: list[Outcome] = []
        try:
            stopping = bool(self.pending)
            if not self.lost:
                finished = [f for f in self.pending if f.status == "finished"]
                with contextlib.suppress(ClusterError):
                    for future, outcomes in self._collect(finished):
                        positions = self.pending.pop(future)
                        for position, outcome in zip(positions, outcomes, strict=True):
                            if outcome is not None:
                                self.finished[position] = self._homecoming(position, outcome)
            keys = {future.key for future in self.pending}
            if not self.lost:
                with contextlib.suppress(Exception):
                    client.cancel(list(self.pending), force=True)
                if keys:
                    _wait_for_tasks(client, keys)
                with contextlib.suppress(Exception):
                    now = set(client.scheduler_info(n_workers=-1)["workers"])
                    self.workers_died |= not self.workers_at_start <= now
            self.pending.clear()
            if stopping or self.workers_died:
                _remove_left_temporaries(self.jobs, self.base, self.started)
            handed = [self.finished.pop(p) for p in sorted(self.finished) if p >= self.yielded]
            self.finished.clear()
        finally:
            self.client = None
            self._close(client)
        return handed

    def _homecoming(self, position: int, outcome: Outcome) -> Outcome:
        """The outcome of the job at ``position`` naming its paths as the user gave them."""
        return _homecoming(outcome, _travelling(self.jobs[position], self.base)[1])

    def _connect(self) -> Any:
        distributed = _distributed()
        self.logs.enter()
        workers = local_workers(self.address)
        try:
            if workers is not None:
                with _distributed("dask").config.set(LOCAL_CONFIG):
                    self.cluster = self._local_cluster(distributed, workers)
                self.client = distributed.Client(self.cluster)
            else:
                self.client = distributed.Client(self.address)
        except OSError as error:
            self._close(self.client)
            reason = f"cannot reach the Dask scheduler at {self.address}: {error}"
            raise ClusterError(reason) from None
        self.workers_at_start = set(self.client.scheduler_info(n_workers=-1)["workers"])
        return self.client

    @staticmethod
    def _local_cluster(distributed: Any, workers: int) -> Any:
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # no dashboard; its HTTP server (health checks) on a free port, not 8787
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,
        )

    def _close(self, client: Any) -> None:
        with contextlib.suppress(Exception):
            if client is not None:
                client.close(timeout=1 if self.lost else 10)
        with contextlib.suppress(Exception):
            if self.cluster is not None:
                self.cluster.close(timeout=10)
        self.cluster = None
        self.logs.leave()

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``, a lost scheduler turned into :class:`ClusterError`."""
        closed = _distributed("distributed.comm.core").CommClosedError
        try:
            return function(*args, **kwargs)
        except (closed, OSError, TimeoutError) as error:
            raise self._lost(error) from None

    def _lost(self, error: BaseException) -> ClusterError:
        self.lost = True
        del error  # how it went (a closed connection, cancelled futures) says nothing more
        return ClusterError(
            f"lost the Dask scheduler at {self.address}; the outputs written so far are kept"
        )

    def _collect(self, futures: list[Any]) -> list[tuple[Any, list[Outcome | None]]]:
        """Each of ``futures`` (done) with its outcomes (see :meth:`_results`); the results of
        those that finished fetched in one go."""
        finished = [future for future in futures if future.status == "finished"]
        fetched: dict[str, list[Outcome]] = {}
        if finished:
            try:
                values = self._call(self.client.gather, finished)
                fetched = {f.key: value for f, value in zip(finished, values, strict=True)}
            except ClusterError:
                raise
            except Exception:  # one of them went missing: each asked for on its own below
                fetched = {}
        collected: list[tuple[Any, list[Outcome | None]]] = []
        for future in futures:
            positions = self.pending[future]
            outcomes = fetched.get(future.key)
            if outcomes is None:
                collected.append((future, self._results(future, positions)))
            else:
                collected.append((future, list(outcomes)))
        return collected

    def _results(self, future: Any, positions: tuple[int, ...]) -> list[Outcome | None]:
        """The outcomes of a finished task, in its jobs' order; None for a job to try again
        alone (its task's workers all died); a lost scheduler is :class:`ClusterError`."""
        cancelled = _distributed().CancelledError
        killed_worker = _distributed("distributed.scheduler").KilledWorker
        try:
            outcomes: list[Outcome] = future.result()
            return list(outcomes)
        except killed_worker as killed:
            self.workers_died = True
            if len(positions) > 1:
                return [None] * len(positions)
            assert self.recipe is not None
            return [_killed(self.jobs[positions[0]], self.recipe, killed.allowed_failures + 1)]
        except (cancelled, _distributed("distributed.comm.core").CommClosedError, OSError) as error:
            raise self._lost(error) from None
        except Exception as error:  # poolcli missing on a worker, or another of the same
            raise ClusterError(
                f"a task failed on the workers of {self.address}: {type(error).__name__}: {error}"
            ) from None

    def __repr__(self) -> str:
        return f"DaskRunner({self.address!r})"


@contextlib.contextmanager
def connected(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address`` (``local:N``: a LocalCluster
    started for the block, and stopped after it), connected as :class:`DaskRunner` connects:
    for a computation the client runs itself, such as an image pooled in chunks on the
    cluster. :class:`ClusterError` when the scheduler cannot be reached."""
    runner = DaskRunner(address)
    client = runner._connect()
    try:
        yield client
    finally:
        runner._close(client)


def inside_worker() -> bool:
    """Whether this code runs in a task on a Dask worker (where a job computes locally)."""
    try:
        _distributed().get_worker()
    except (ImportError, ValueError):
        return False
    return True


def work(jobs: tuple[Job, ...], recipe: Recipe, started: int) -> list[Outcome]:
    """What a worker does with one task: each job's outcome, in order (a task the client has
    cancelled ends at its next step, its remaining jobs CANCELLED).

    ``started`` is the run's start (``time.time_ns()``): an output that exists and is newer was
    written by this run, by a worker that died before it could say so: it is reported, not
    written again.
    """
    from poolcli.core import engine

    stop = _TaskCancelled()
    outcomes = []
    with engine.in_calling_thread():  # one thread a task: Dask has one task for each CPU
        for job in jobs:
            if stop.is_set():
                outcomes.append(Outcome(job.index, job.name, Status.CANCELLED))
            else:
                outcomes.append(_one(job, recipe, started, stop))
    return outcomes


def _one(job: Job, recipe: Recipe, started: int, stop: threading.Event) -> Outcome:
    target = job.target
    if (
        target is None
        or target.path is None
        or recipe.dry_run
        or not _written_since(target.path, started)
    ):
        return process(job, recipe, stop=stop)
    # Written by this run: its outcome again, as a dry run of a run that writes over it.
    again = dataclasses.replace(recipe, dry_run=True, skip_existing=False, overwrite=True)
    outcome = process(job, again, stop=stop)
    if outcome.status is not Status.DONE:
        return outcome
    report = outcome.report
    if report is not None and recipe.report == "json":
        facts = json.loads(report)
        facts.pop("replaced", None)
        if "output_shape" not in facts:  # global's report names its output only when replaced
            facts.pop("output", None)
        report = json_line(facts)
    return dataclasses.replace(outcome, replaced=False, report=report)


def _written_since(path: str, started: int) -> bool:
    """Whether ``path`` is a file modified since ``started`` and not after now (a file dated in
    the future, copied from a machine whose clock runs ahead, is no output of this run)."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    now = time.time_ns() + CLOCK_SLACK
    return stat.S_ISREG(info.st_mode) and started <= info.st_mtime_ns <= now


class _TaskCancelled(threading.Event):
    """Set once the client has cancelled the task this worker thread runs (checked, not
    waited for: :func:`~poolcli.batch.process.process` asks between its steps)."""

    def __init__(self) -> None:
        super().__init__()
        try:
            from distributed import get_worker

            self.worker: Any = get_worker()
            self.key: Any = self.worker.get_current_task()
        except (ImportError, ValueError, KeyError):
            self.worker = None

    def is_set(self) -> bool:
        if self.worker is None:
            return super().is_set()
        try:
            task = self.worker.state.tasks.get(self.key)
        except Exception:
            return False
        return task is None or task.state == "cancelled"


def _travels(job: Job) -> bool:
    """Whether a job can be done on another machine: it reads a file, and writes a file or
    nothing (not standard input or output, nor an output decided once the input is loaded)."""
    if job.source == "-":
        return False
    if job.target is None:
        return not job.writes
    return job.target.path is not None


def _groups(count: int, size: int) -> Iterator[tuple[int, ...]]:
    for start in range(0, count, size):
        yield tuple(range(start, min(count, start + size)))


def _travelling(job: Job, base: str) -> tuple[Job, tuple[tuple[str, str], ...]]:
    """``job`` with its paths absolute, and (absolute, as given) pairs to name them back."""
    pairs: list[tuple[str, str]] = []

    def absolute(path: str) -> str:
        if os.path.isabs(path):
            return path
        made = os.path.join(base, path)
        pairs.append((made, path))
        if os.path.dirname(path):
            pairs.append((os.path.dirname(made), os.path.dirname(path)))
        return made

    source = absolute(job.source)
    target = job.target
    if target is not None and target.path is not None:
        target = dataclasses.replace(target, path=absolute(target.path))
    pairs.sort(key=lambda pair: -len(pair[0]))
    return dataclasses.replace(job, source=source, target=target), tuple(pairs)


def _homecoming(outcome: Outcome, pairs: Iterable[tuple[str, str]]) -> Outcome:
    """``outcome`` naming the paths as the user gave them: the messages of the local run."""
    pairs = tuple(pairs)
    if not pairs:
        return outcome

    def back(text: str | None) -> str | None:
        return None if text is None else _named_back(text, pairs)

    return dataclasses.replace(
        outcome,
        output=back(outcome.output),
        change=back(outcome.change),
        report=back(outcome.report),
        error=back(outcome.error),
    )


def _named_back(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """Each absolute path in ``text`` (plain, in JSON or in a repr) as the user gave it."""
    for made, given in pairs:
        text = text.replace(made, given)
        for quoted in (json.dumps, repr):
            made_quoted, given_quoted = quoted(made)[1:-1], quoted(given)[1:-1]
            if made_quoted != made:
                text = text.replace(made_quoted, given_quoted)
    return text


def _killed(job: Job, recipe: Recipe, tries: int) -> Outcome:
    """The failure of a job whose workers all died running it."""
    message = f"{job.name}: its worker died {tries} times running it (a crash, or out of memory)"
    report = None
    if recipe.report == "json":
        op = None if isinstance(recipe.task, Inspection) else recipe.op_name
        report = json_line(error_report(job.name, message, op=op))
    return Outcome(job.index, job.name, Status.FAILED, report=report, error=message)


def _wait_for_tasks(client: Any, keys: set[Any], timeout: float = STOP_WAIT) -> None:
    """Until none of ``keys`` runs on any worker any more (a cancelled task ends at its next
    step), or ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stacks = client.call_stack()
        except Exception:
            return
        if not any(keys & set(running) for running in stacks.values()):
            return
        time.sleep(0.05)


def _remove_left_temporaries(jobs: Sequence[Job], base: str, started: int) -> list[str]:
    """Remove the temporary files of this run's outputs that a killed worker left: the names
    :mod:`poolcli.io.atomic` gives them (``.NAME.XXXXXXXX.tmp`` beside the output), regular
    files, created since the run started. Returns the paths removed."""
    wanted: dict[str, set[str]] = {}
    for job in jobs:
        if job.target is not None and job.target.path is not None:
            path = os.path.join(base, job.target.path)
            wanted.setdefault(os.path.dirname(path), set()).add(os.path.basename(path))
    removed = []
    for folder, names in wanted.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        prefixes = {atomic.temporary_prefix(name, _name_max(folder)) for name in names}
        for entry in entries:
            if not entry.name.endswith(".tmp"):
                continue
            head, tail = entry.name[: -len("XXXXXXXX.tmp")], entry.name[-len("XXXXXXXX.tmp") :]
            if head not in prefixes or not _TEMPORARY_TAIL.fullmatch(tail):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime_ns >= started:
                    os.unlink(entry.path)
                    removed.append(entry.path)
    return removed


def _name_max(folder: str) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


class _QuietLogs:
    """Dask's own log lines kept off standard error while a run uses it: what goes wrong is
    said in poolcli's one line."""

    def __init__(self) -> None:
        self.saved: dict[str, int] = {}

    def enter(self) -> None:
        manager = logging.Logger.manager
        names = ["distributed", *(n for n in manager.loggerDict if n.startswith("distributed."))]
        for name in names:
            logger = logging.getLogger(name)
            self.saved[name] = logger.level
            logger.setLevel(logging.CRITICAL + 1)

    def leave(self) -> None:
        for name, level in self.saved.items():
            logging.getLogger(name).setLevel(level)
        self.saved.clear()
