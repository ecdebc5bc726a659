"""The one path every per-input command takes: plan the inputs, run the recipe, print.

The commands parse their options into a :class:`~poolcli.batch.recipe.Recipe` and an
:class:`Inputs`; :func:`run_inputs` hands both to the batch layer and turns what goes wrong into
the command line's exit statuses: a usage error (2) before any work, one line per bad input (1),
130/143 when stopped by a signal.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from poolcli import errors
from poolcli.batch.text import printable
from poolcli.cli.group import CommandLineError
from poolcli.errors import PoolcliError

if TYPE_CHECKING:
    from poolcli.batch.recipe import Recipe
    from poolcli.batch.runner import Runner

__all__ = [
    "FLAGS",
    "Inputs",
    "refuse_terminal",
    "run_inputs",
    "runner_of",
    "runs_address",
    "stdout_is_terminal",
    "worded",
]

#: The library's parameter names as the command line spells them, for its messages.
FLAGS: Mapping[str, str] = {
    "max_pixels": "--max-pixels",
    "frame": "--frame",
    "format": "--format",
    "output_size": "--to",
    "pad_mode": "--pad-mode",
    "ceil_mode": "--ceil",
    "quality": "--quality",
    "overwrite": "--overwrite",
    "skip_existing": "--skip-existing",
    "alpha": "--alpha",
    "level": "--level",
    "memory_limit": "--memory-limit",
    "volume": "--volume",
}


class Inputs(NamedTuple):
    """What the user named and where the results go, as parsed."""

    names: tuple[str, ...]
    output: str | None = None
    format: str | None = None
    recursive: bool = False
    files_from: str | None = None
    null: bool = False
    jobs: int | None = None
    quiet: bool = False
    scheduler: str | None = None  # a Dask scheduler's address, or local:N

    @classmethod
    def of(cls, names: tuple[str, ...], options: dict[str, Any]) -> Inputs:
        """The inputs of a command's parsed ``options`` (those it lacks keep their defaults)."""
        fields = set(cls._fields) - {"names"}
        return cls(names=names, **{key: options[key] for key in fields if key in options})


def run_inputs(
    inputs: Inputs,
    recipe: Recipe,
    *,
    writes: bool = True,
    op_in_folder: bool = False,
    summary: bool = True,
) -> int:
    """Do ``recipe`` to every input, print reports and messages; the exit status.

    ``writes`` False: the task only prints (info; global without -o). ``op_in_folder``: results
    in an output folder are named STEM.OP.EXT. ``summary`` False: a batch ends without the
    "D done, S skipped, F failed" line (commands whose output is one line per input).
    """
    if not inputs.names and inputs.files_from is None:
        raise click.UsageError("Missing argument 'INPUT'.", click.get_current_context())
    # Imported once there is work to do, so that --help and usage errors start fast.
    from poolcli.batch import plan as planning
    from poolcli.batch import runner
    from poolcli.batch.console import Console
    from poolcli.batch.jobs import PlanError

    runs = runner_of(inputs)
    try:
        planned = planning.plan(
            inputs.names,
            op=recipe.name,
            output=inputs.output,
            format=inputs.format,
            recursive=inputs.recursive,
            files_from=inputs.files_from,
            null=inputs.null,
            stdin=sys.stdin.buffer,
            writes=writes,
            op_in_folder=op_in_folder,
        )
    except PlanError as error:
        raise CommandLineError(worded(error)) from None
    # Ctrl-C while a large tree is searched: the group says so (nothing is done yet).
    one = not planned.batch
    job = planned.jobs[0]
    bytes_out = job.writes and (
        inputs.output == "-" or (job.source == "-" and inputs.output is None)
    )
    if one and inputs.output == "-" and job.writes and not recipe.dry_run:
        refuse_terminal()
    recipe = dataclasses.replace(
        recipe,
        flags=tuple(FLAGS.items()),
        terminal=stdout_is_terminal(),
        scheduler=None if inputs.scheduler is None else runs_address(runs),
    )
    console = Console(
        echo=lambda text, err: click.echo(text, err=err),
        progress=sys.stderr if sys.stderr.isatty() else None,
        quiet=inputs.quiet,
        # Standard output may carry the result's bytes: every message then goes to standard error.
        reports_to_stderr=one and bytes_out,
        summary=summary,
    )
    if isinstance(runs, runner.ThreadRunner) and one and console.progress is not None:
        runs.progress = chunk_progress()
    try:
        done = runner.run(planned, recipe, console, runner=runs)
    except PlanError as error:  # the one input's output, decided once it was loaded
        raise CommandLineError(worded(error)) from None
    except PoolcliError as error:  # the output folder cannot be created
        click.echo(f"poolcli: {printable(worded(error))}", err=True)
        return 1
    return done.exit_status


def runs_address(runs: Runner) -> str | None:
    """The scheduler address the runner uses, for images pooled in chunks on its cluster."""
    address = getattr(runs, "address", None)
    return address if isinstance(address, str) else None


def chunk_progress() -> Callable[[int, int], None]:
    """A progress bar over the chunks of one input pooled in chunks, on standard error."""
    from poolcli.batch.console import Progress

    bar: list[Progress] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(Progress(sys.stderr, total, unit="chunks"))
        bar[0].total = total
        bar[0].update(done)
        if done >= total:
            bar.pop().close()

    return update


def runner_of(inputs: Inputs) -> Runner:
    """Where the jobs run: threads here (``-j``), or the Dask cluster of ``--scheduler``; a
    usage error for an address that is none, or without the ``cluster`` extra installed."""
    from poolcli.batch import runner

    if inputs.scheduler is None:
        return runner.ThreadRunner(inputs.jobs, stdin=sys.stdin.buffer, stdout=sys.stdout.buffer)
    from poolcli.batch import cluster

    try:
        address = cluster.scheduler_address(inputs.scheduler)
    except ValueError as error:
        raise CommandLineError(f"--scheduler: {error}") from None
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise CommandLineError(f"--scheduler needs the cluster extra: {cluster.EXTRA}") from None
    return cluster.DaskRunner(
        address, workers=inputs.jobs, stdin=sys.stdin.buffer, stdout=sys.stdout.buffer
    )


def worded(error: BaseException) -> str:
    """An error's message in the command line's words: the library's parameter names as
    :data:`FLAGS` spells them (``--pad-mode``, not ``pad_mode``), also of the library error a
    :class:`~poolcli.batch.jobs.PlanError` or ValueError was raised from.

    >>> worded(ValueError("use a pad_mode other than 'ignore'"))
    "use a --pad-mode other than 'ignore'"
    """
    return errors.worded(error, FLAGS)


def stdout_is_terminal() -> bool:
    return sys.stdout.buffer.isatty()


def refuse_terminal() -> None:
    """A usage error when standard output, about to carry image bytes, is a terminal."""
    if stdout_is_terminal():
        raise CommandLineError(
            "refusing to write image data to a terminal; redirect standard output or give -o FILE"
        )
