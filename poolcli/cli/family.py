"""The commands besides the pooling ops: compare, global, adaptive, fractional, info, explain.

Built only when one of them is asked for (``poolcli.cli`` names them lazily): the commonest
command, one pooling op, does not pay for their options.
"""

from __future__ import annotations

from typing import Any

import click

from poolcli.batch.text import printable
from poolcli.cli import texts
from poolcli.cli.commands import recipe_of
from poolcli.cli.group import CommandLineError, PoolCommand
from poolcli.cli.options import (
    GEOMETRY_KEYS,
    SHORT_ALPHA_HELP,
    all_of,
    alpha_option,
    batch_options,
    format_option,
    geometry_options,
    image_options,
    max_pixels_option,
    op_option,
    output_option,
    p_option,
    quiet_option,
    report_option,
    resize_options,
    size_option,
    window_of,
)
from poolcli.cli.run import Inputs, run_inputs, worded
from poolcli.cli.types import NumberType, PairType
from poolcli.errors import PoolcliError
from poolcli.io import formats

OUTPUT_SIZE = PairType("the output size", "N or HxW, e.g. 64 or 48x64")


@click.command(
    "compare", cls=PoolCommand, help=texts.COMPARE_HELP, short_help=texts.COMPARE_SUMMARY
)
@click.argument("inputs", nargs=-1, metavar="INPUT")
@all_of(geometry_options())
@output_option(
    "FILE|DIR|-", "Output picture, a folder, or - for standard output.  [default: STEM.compare.png]"
)
@format_option(
    "Picture format.  [default: from the output name; png on standard output]",
    formats.picture_choices(),
)
@quiet_option("Print nothing but errors.")
@all_of(batch_options())
@all_of(image_options(frames="frame 0"))
@click.pass_context
def compare_command(ctx: click.Context, /, inputs: tuple[str, ...], **options: Any) -> None:
    if inputs == ("-",) and options["output"] is None:
        raise CommandLineError("standard input needs -o FILE or -o - for the picture")
    from poolcli.imaging.tasks import Comparison

    task = Comparison(window_of(options), alpha=options["alpha"])
    recipe = recipe_of(task, options, default_format="png")
    ctx.exit(run_inputs(Inputs.of(inputs, options), recipe, op_in_folder=True))


@click.command("global", help=texts.GLOBAL_HELP, short_help=texts.GLOBAL_SUMMARY)
@click.argument("inputs", nargs=-1, metavar="INPUT")
@op_option()
@alpha_option(SHORT_ALPHA_HELP)
@output_option("FILE|DIR|-", "Also write the 1x1 result here.")
@format_option("Format of the 1x1 result.  [default: from the output name, else the input's]")
@report_option("text: one line per input; json: one object per line.", default="text")
@quiet_option("Print no 'wrote' messages.")
@all_of(batch_options())
@max_pixels_option()
@click.pass_context
def global_command(ctx: click.Context, /, inputs: tuple[str, ...], **options: Any) -> None:
    from poolcli.imaging.tasks import GlobalPooling

    task = GlobalPooling(options["op"], alpha=options["alpha"])
    writes = options["output"] is not None
    status = run_inputs(
        Inputs.of(inputs, options),
        recipe_of(task, options),
        writes=writes,
        op_in_folder=True,
        summary=False,
    )
    ctx.exit(status)


@click.command(
    "adaptive", cls=PoolCommand, help=texts.ADAPTIVE_HELP, short_help=texts.ADAPTIVE_SUMMARY
)
@click.argument("inputs", nargs=-1, metavar="INPUT")
@click.option(
    "--to",
    "size",
    type=OUTPUT_SIZE,
    required=True,
    metavar="N|HxW",
    help="Output height x width, at most the input's.",
)
@op_option()
@alpha_option(SHORT_ALPHA_HELP)
@all_of(resize_options())
@click.pass_context
def adaptive_command(
    ctx: click.Context, /, inputs: tuple[str, ...], size: tuple[int, int], op: str, **options: Any
) -> None:
    from poolcli.imaging.tasks import AdaptivePooling

    task = AdaptivePooling(op, size, alpha=options["alpha"])
    ctx.exit(run_inputs(Inputs.of(inputs, options), recipe_of(task, options)))


@click.command(
    "fractional",
    cls=PoolCommand,
    help=texts.FRACTIONAL_HELP,
    short_help=texts.FRACTIONAL_SUMMARY,
)
@click.argument("inputs", nargs=-1, metavar="INPUT")
@click.option(
    "--ratio",
    type=NumberType(1, "a number between 0 and 1 (exclusive)"),
    metavar="R",
    help="Output size / input size, in (0, 1).",
)
@click.option(
    "--to", "to", type=OUTPUT_SIZE, metavar="N|HxW", help="Output height x width instead."
)
@click.option("--seed", type=click.IntRange(min=0), metavar="N", help="Seed of the window starts.")
@size_option()
@all_of(resize_options())
@click.pass_context
def fractional_command(
    ctx: click.Context,
    /,
    inputs: tuple[str, ...],
    ratio: float | None,
    to: tuple[int, int] | None,
    seed: int | None,
    size: tuple[int, int],
    **options: Any,
) -> None:
    if (ratio is None) == (to is None):
        raise CommandLineError("give exactly one of --ratio and --to")
    note = None
    if seed is None:
        import secrets

        seed = secrets.randbelow(2**31)
        note = f"seed {seed}"
    from poolcli.imaging.tasks import FractionalPooling

    task = FractionalPooling(size, to, ratio, seed)
    ctx.exit(run_inputs(Inputs.of(inputs, options), recipe_of(task, options, note=note)))


@click.command("info", help=texts.INFO_HELP, short_help=texts.INFO_SUMMARY)
@click.argument("inputs", nargs=-1, metavar="INPUT")
@all_of(geometry_options())
@report_option("text: a block per input; json: one object per line.", default="text")
@all_of(batch_options())
@max_pixels_option()
@click.pass_context
def info_command(ctx: click.Context, /, inputs: tuple[str, ...], **options: Any) -> None:
    from click.core import ParameterSource

    pooled = any(
        ctx.get_parameter_source(key) not in (None, ParameterSource.DEFAULT)
        for key in GEOMETRY_KEYS
    )
    from poolcli.imaging.tasks import Inspection

    task = Inspection(window_of(options) if pooled else None)
    status = run_inputs(
        Inputs.of(inputs, options), recipe_of(task, options), writes=False, summary=False
    )
    ctx.exit(status)


@click.command("explain", help=texts.EXPLAIN_HELP, short_help=texts.EXPLAIN_SUMMARY)
@click.argument("source", required=False, metavar="[INPUT]")
@click.option(
    "--op",
    type=click.Choice(("max", "min", "avg", "sum", "median", "lp", "mode")),
    default="max",
    show_default=True,
    help="The pooling op.",
)
@all_of(geometry_options())
@p_option("The power of lp.")
@click.pass_context
def explain_command(
    ctx: click.Context, /, source: str | None, op: str, p: float, **geometry: Any
) -> None:
    import sys

    from poolcli.teaching.explain import explain  # numpy: only once there is work to do

    name = None if source is None else ("<stdin>" if source == "-" else source)
    matrix = None
    if source is not None:
        from poolcli.io import images

        try:
            matrix, _ = images.load_image(sys.stdin.buffer if source == "-" else source)
        except (PoolcliError, ValueError) as error:
            message = worded(error) if isinstance(error, PoolcliError) else f"{name}: {error}"
            click.echo(printable(f"poolcli: {message}"), err=True)
            ctx.exit(1)
    try:
        text = explain(matrix, op, **window_of(geometry).kwargs(), p=p)
    except ValueError as error:
        message = worded(error)
        raise CommandLineError(message if name is None else f"{name}: {message}") from None
    click.echo(text)


#: The commands of this module, by name.
COMMANDS: dict[str, click.Command] = {
    command.name: command
    for command in (
        global_command,
        adaptive_command,
        fractional_command,
        compare_command,
        info_command,
        explain_command,
    )
    if command.name is not None
}
