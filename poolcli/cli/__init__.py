"""The poolcli command line: parse the options, call the library, print.

Pooling, loading, naming and saving live in the library; the commands turn options into a
recipe and run it on their inputs through one path (:mod:`poolcli.cli.run`), and library errors
into one-line messages:

- a bad option is a usage error, exit status 2, reported before any file is read;
- a bad input (missing, not an image, a window larger than it, an output that cannot be
  written) is one line ``poolcli: INPUT: reason`` on standard error, exit status 1.

numpy and Pillow are imported only once there is work to do, so ``poolcli --help`` starts fast.
"""

from __future__ import annotations

from poolcli.cli import interrupts

# First of all: a Ctrl-C while the rest loads ends the poolcli program with 130, no traceback.
interrupts.guard_import()

import functools  # noqa: E402

import click  # noqa: E402

from poolcli import __version__  # noqa: E402
from poolcli.cli.group import PoolcliGroup  # noqa: E402
from poolcli.cli.texts import POOL_OPS  # noqa: E402

FAMILY = ("global", "adaptive", "fractional", "compare", "info", "explain")


def _pool_command(op: str, summary: str) -> click.Command:
    from poolcli.cli import commands

    return commands.pool_command(op, summary)


def _family_command(name: str) -> click.Command:
    from poolcli.cli import family

    return family.COMMANDS[name]


def _pyramid_command() -> click.Command:
    from poolcli.cli import pyramid

    return pyramid.pyramid_command


#: Every command, built when first asked for.
COMMANDS = {
    **{op: functools.partial(_pool_command, op, summary) for op, summary in POOL_OPS.items()},
    **{name: functools.partial(_family_command, name) for name in FAMILY},
    "pyramid": _pyramid_command,
}

__all__ = ["POOL_OPS", "main"]


@click.group(
    "poolcli",
    cls=PoolcliGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="poolcli", message="%(prog)s %(version)s")
def main() -> None:
    """Downsample images by pooling: each window of pixels becomes one output pixel.

    Run 'poolcli OP --help' (or 'poolcli help OP') for an operation's options and examples.
    Sizes are height x width, read and printed: -k 2x3 is a window 2 rows high and 3 columns
    wide, and "400x600 -> 200x300" an image 400 rows high and 600 wide pooled to half.

    Examples:

    \b
      poolcli max photo.jpg                # writes photo.max.jpg, half as wide and high
      poolcli avg photo.jpg -k 4 -o small.png
    """
