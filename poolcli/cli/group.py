"""The command group and command classes: usage errors as one line, ``--report`` before INPUT.

>>> import click
>>> usage_message(click.UsageError("Missing argument 'INPUT'."))
"poolcli: missing argument 'INPUT'"
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from poolcli.batch.text import printable
from poolcli.cli import interrupts

__all__ = ["REPORTS", "CommandLineError", "PoolCommand", "PoolcliGroup", "usage_message"]

REPORTS = ("text", "json")

#: Options of other commands, and where a user who gives them to a command without them goes.
ELSEWHERE = {
    "--to": "pooling to a size is 'poolcli adaptive --to HxW' (or 'poolcli fractional')",
    "--ratio": "shrinking by a ratio is 'poolcli fractional --ratio R'",
    "--seed": "a seed is for 'poolcli fractional'",
}


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
    elsewhere = ELSEWHERE.get(getattr(error, "option_name", None) or "")
    if isinstance(error, click.NoSuchOption) and elsewhere is not None:
        return printable(f"poolcli: no such option {error.option_name!r}; {elsewhere}")
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
    return printable(f"poolcli: {message}")


class PoolcliGroup(click.Group):
    """A click group whose usage errors are one line on standard error, exit status 2.

    Ctrl-C or SIGTERM before the run's own handlers are set (while Click parses, while the
    inputs are planned) is one line and exit status 130 or 143, nothing written; ``poolcli help
    [COMMAND]`` is ``poolcli [COMMAND] --help``.
    """

    def __init__(
        self,
        *args: Any,
        lazy: Mapping[str, Callable[[], click.Command]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        #: Commands built when first asked for: ``poolcli max`` builds no other command's options.
        self.lazy = dict(lazy or {})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name](), cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name == "help":
            return _help_command(self)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else None
        if name is not None and name != "help" and name not in {*self.commands, *self.lazy}:
            for other in self.lazy:  # a mistyped command: suggest from all of them
                self.get_command(ctx, other)
        return super().resolve_command(ctx, args)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt:  # not a signal: one raised by code, e.g. an option's type
            raise interrupts.Interrupted(signal.SIGINT) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise interrupts.Interrupted(signal.SIGINT) from None

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
            with interrupts.raising():
                code = super().main(args, standalone_mode=False, **options)
        except interrupts.Interrupted as stop:
            click.echo(interrupts.message(stop.signum), err=True)
            sys.exit(interrupts.exit_status(stop))
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
    would read ``photo.png`` as the report format; a word that is an input (:func:`_an_input`)
    is left to be one.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rewritten: list[str] = []
        for index, arg in enumerate(args):
            if arg == "--":
                rewritten.extend(args[index:])
                break
            following = args[index + 1] if index + 1 < len(args) else None
            if arg == "--report" and following is not None and _an_input(following):
                arg = "--report=text"
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


def _an_input(word: str) -> bool:
    """Whether the word after a bare ``--report`` is an INPUT rather than the report's value:
    ``-``, a file or folder that exists, or a name with an extension, a folder or a glob in it.
    A plain word (``xml``) is the value, refused if it is no report: ``--report xml`` is a
    usage error, not an input named xml.

    >>> _an_input("photo.jpg"), _an_input("shots/*"), _an_input("xml"), _an_input("json")
    (True, True, False, False)
    """
    if word in REPORTS or (word.startswith("-") and word != "-"):
        return False
    return word == "-" or os.path.lexists(word) or any(c in word for c in "./\\*?[")


def _help_command(group: click.Group) -> click.Command:
    """``poolcli help [COMMAND]``: the help of the group, or of COMMAND."""

    @click.command("help", help="Show the help of poolcli, or of COMMAND.")
    @click.argument("command", required=False, metavar="[COMMAND]")
    @click.pass_context
    def show_help(ctx: click.Context, /, command: str | None) -> None:
        parent = ctx.parent if ctx.parent is not None else ctx
        if command is None:
            click.echo(parent.get_help())
            return
        found = group.get_command(parent, command)
        if found is None or command == "help":
            raise click.UsageError(f"No such command {command!r}.", parent)
        click.echo(found.get_help(click.Context(found, info_name=command, parent=parent)))

    return show_help
