"""The command group and command classes: usage errors as one line, ``--report`` before INPUT.

>>> import click
>>> usage_message(click.UsageError("Missing argument 'INPUT'."))
"poolcli: missing argument 'INPUT'"
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["REPORTS", "CommandLineError", "PoolCommand", "PoolcliGroup", "usage_message"]

REPORTS = ("text", "json")


class CommandLineError(click.UsageError):
    """A usage error poolcli raises itself: its message says all there is to say."""


def usage_message(error: click.UsageError) -> str:
    """A usage error as one line: ``--size`` rather than ``'--size' / '-k'``, no "Usage:".

    Click's suggestions for a mistyped option or command ("Did you mean '--jobs'?") become a
    parenthesis: ``no such option '--bogus' (did you mean '--jobs'?)``.
    """
    if (
        isinstance(error, click.BadParameter)
        and not isinstance(error, click.MissingParameter)
        and error.param is not None
        and error.param_hint is None
        and error.param.opts
    ):
        error.param_hint = error.param.opts[0]
    possibilities = sorted(getattr(error, "possibilities", None) or ())
    if possibilities:  # NoSuchOption, NoSuchCommand
        message = error.message.rstrip(".")
        names = [repr(name) for name in possibilities]
        choices = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        message = f"{message} (did you mean {choices}?)"
    else:
        message = error.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    own_words = isinstance(error, CommandLineError) or (
        isinstance(error, click.BadParameter) and not isinstance(error, click.MissingParameter)
    )
    if not own_words and error.ctx is not None:
        message = f"{message}; see '{error.ctx.command_path} --help'"
    return f"poolcli: {message}"


class PoolcliGroup(click.Group):
    """A click group whose usage errors are one line on standard error, exit status 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        options: dict[str, Any] = {"prog_name": prog_name, "complete_var": complete_var, **extra}
        if not standalone_mode:
            return super().main(args, standalone_mode=False, **options)
        try:
            code = super().main(args, standalone_mode=False, **options)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            click.echo(usage_message(error), err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


class PoolCommand(click.Command):
    """A command that pools and writes: a bare ``--report`` before INPUT means ``--report text``.

    Click gives an option with an optional value the next word, so ``--report photo.png``
    would read ``photo.png`` as the report format.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rewritten: list[str] = []
        for index, arg in enumerate(args):
            if arg == "--":
                rewritten.extend(args[index:])
                break
            following = args[index + 1] if index + 1 < len(args) else None
            if (
                arg == "--report"
                and following is not None
                and following not in REPORTS
                and (following == "-" or not following.startswith("-"))
            ):
                arg = "--report=text"
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)
