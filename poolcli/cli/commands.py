"""The pooling commands, and the recipe every command builds from its options.

Pooling, naming and I/O live in the library; a command here only turns options into a
:class:`~poolcli.batch.recipe.Recipe` (with a task of :mod:`poolcli.imaging.tasks`) and an
:class:`~poolcli.cli.run.Inputs`, and hands both to :func:`~poolcli.cli.run.run_inputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from poolcli.cli import texts
from poolcli.cli.group import CommandLineError, PoolCommand
from poolcli.cli.options import (
    p_option,
    pooling_options,
    window_of,
)
from poolcli.cli.run import Inputs, run_inputs

if TYPE_CHECKING:
    from poolcli.batch.recipe import Recipe
    from poolcli.imaging.tasks import Task

__all__ = ["pool_command", "recipe_of"]


def recipe_of(task: Task, options: dict[str, Any], **extra: Any) -> Recipe:
    """The recipe of ``task`` with the load, save and report options a command has."""
    from poolcli.batch.recipe import LoadOptions, Recipe, SaveOptions

    if options.get("overwrite") and options.get("skip_existing"):
        raise CommandLineError("give one of --overwrite and --skip-existing")
    return Recipe(
        task=task,
        load=LoadOptions(
            max_pixels=options.get("max_pixels"),
            frame=options.get("frame"),
            auto_orient=options.get("auto_orient", True),
            level=options.get("level"),
            volume=options.get("volume", False),
        ),
        save=SaveOptions(
            quality=options.get("quality"),
            strip=options.get("strip", False),
            zarr_format=int(options.get("zarr_format") or 3),
        ),
        report=options.get("report"),
        dry_run=options.get("dry_run", False),
        skip_existing=options.get("skip_existing", False),
        overwrite=options.get("overwrite", False),
        memory_limit=options.get("memory_limit"),
        threads=options.get("jobs"),
        **extra,
    )


def pool_command(op: str, summary: str) -> click.Command:
    """The command ``poolcli OP INPUT [options]`` for one pooling op of the engine."""

    def command(ctx: click.Context, /, inputs: tuple[str, ...], **options: Any) -> None:
        from poolcli.imaging.tasks import Pooling

        task = Pooling(
            op,
            window_of(options),
            p=options.get("p", 2.0),
            alpha=options["alpha"],
        )
        ctx.exit(run_inputs(Inputs.of(inputs, options), recipe_of(task, options)))

    decorated: Callable[..., Any] = command
    if op == "lp":
        decorated = p_option(
            "The power: 1 sums magnitudes, 2 is the Euclidean norm, large p nears max."
        )(decorated)
    decorated = click.pass_context(decorated)
    decorated = pooling_options(decorated)
    decorated = click.argument("inputs", nargs=-1, metavar="INPUT")(decorated)
    return click.command(
        op,
        cls=PoolCommand,
        help=texts.POOL_HELP.format(op=op, summary=summary),
        short_help=summary,
    )(decorated)
