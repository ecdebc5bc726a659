"""The poolcli command line: parse the options, call the library, print.

Pooling, loading and saving live in the library (:mod:`poolcli.engine`, :mod:`poolcli.imageio`);
this module turns options into library calls, and library errors into one-line messages:

- a bad option is a usage error, exit status 2, reported before any file is read;
- a bad input (missing, not an image, a window larger than it, an output that cannot be
  written) is one line ``poolcli: INPUT: reason`` on standard error, exit status 1.

numpy and Pillow are imported inside the commands, so ``poolcli --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from . import __version__
from .errors import PoolcliError
from .geometry import PAD_MODES, Geometry, as_pair, check_pad_mode, resolve
from .report import error_report, json_report, text_report

# The pooling commands, op -> one-line description. A new op is one more line here.
POOL_OPS = {
    "max": "Keep the largest value of each window: bright details survive.",
    "min": "Keep the smallest value of each window: dark details survive.",
    "avg": "Average each window: a smooth, antialiased downscale.",
}

FORMATS = ("png", "jpeg", "webp", "tiff", "gif", "npy", "csv")
STDIN_NAME = "<stdin>"
STDOUT_NAME = "<stdout>"

# --format value -> the extension of a default output name
_FORMAT_EXTENSIONS = {
    "png": ".png",
    "jpeg": ".jpg",
    "webp": ".webp",
    "tiff": ".tiff",
    "gif": ".gif",
    "npy": ".npy",
    "csv": ".csv",
}
# Pillow format of an input -> the --format it is written back as (MPO: a phone's JPEG)
_OWN_FORMATS = {
    "PNG": "png",
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "WEBP": "webp",
    "TIFF": "tiff",
    "GIF": "gif",
}
_STDOUT_FORMATS = "png, jpeg, webp, tiff, gif, npy"
_REPORTS = ("text", "json")


# ---------------------------------------------------------------------------------------------
# Option values


_INT = r"\s*([+-]?\d+)\s*"
_PAIR = re.compile(rf"{_INT}(?:[xX]{_INT})?")
_FOUR = re.compile(",".join([_INT] * 4))


class PairType(click.ParamType):
    """``K`` or ``KHxKW``, each at least 1: the values of --size, --stride and --dilation.

    Converts to a ``(height, width)`` tuple.
    """

    name = "pair"

    def __init__(self, what: str, letter: str) -> None:
        self.what = what
        self.letter = letter

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        match = _PAIR.fullmatch(str(value))
        if match is None:
            letter = self.letter
            self.fail(
                f"{value!r}; expected {letter} or {letter}Hx{letter}W, e.g. 3 or 3x2", param, ctx
            )
        height = int(match[1])
        width = height if match[2] is None else int(match[2])
        try:
            return as_pair((height, width), self.what)
        except ValueError:
            self.fail(f"{value!r}; {self.what} must be at least 1", param, ctx)


class PaddingType(click.ParamType):
    """``P``, ``PHxPW``, ``T,B,L,R``, ``same`` or ``valid``; numbers at least 0.

    Converts to an int, a ``(height, width)`` or ``(top, bottom, left, right)`` tuple, or the
    word, as :func:`poolcli.geometry.resolve` takes them.
    """

    name = "padding"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, tuple)):
            return value
        text = str(value).strip().lower()
        if text in ("same", "valid"):
            return text
        match = _PAIR.fullmatch(text) or _FOUR.fullmatch(text)
        if match is None:
            self.fail(f"{value!r}; expected P, PHxPW, T,B,L,R, same or valid", param, ctx)
        numbers = tuple(int(group) for group in match.groups() if group is not None)
        if min(numbers) < 0:
            self.fail(f"{value!r}; padding must not be negative", param, ctx)
        return numbers[0] if len(numbers) == 1 else numbers


class PadModeType(click.ParamType):
    """``ignore``, ``zero``, ``edge``, ``reflect``, or the number that padded cells hold."""

    name = "pad_mode"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        if text in PAD_MODES:
            return text
        try:
            number = check_pad_mode(float(text))
        except ValueError:
            self.fail(f"{value!r}; expected {', '.join(PAD_MODES)} or a number", param, ctx)
        return int(number) if float(number).is_integer() else number


# ---------------------------------------------------------------------------------------------
# Errors


class CommandLineError(click.UsageError):
    """A usage error poolcli raises itself: its message says all there is to say."""


def _usage_message(error: click.UsageError) -> str:
    """A usage error as one line: ``--size`` rather than ``'--size' / '-k'``, no "Usage:"."""
    if (
        isinstance(error, click.BadParameter)
        and not isinstance(error, click.MissingParameter)
        and error.param is not None
        and error.param_hint is None
        and error.param.opts
    ):
        error.param_hint = error.param.opts[0]
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

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()
            sys.exit(error.exit_code)
        except click.UsageError as error:
            click.echo(_usage_message(error), err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


class PoolCommand(click.Command):
    """A pooling command: a bare ``--report`` before INPUT means ``--report text``.

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
                and following not in _REPORTS
                and (following == "-" or not following.startswith("-"))
            ):
                arg = "--report=text"
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


# ---------------------------------------------------------------------------------------------
# Commands


@click.group(
    "poolcli",
    cls=PoolcliGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="poolcli", message="%(prog)s %(version)s")
def main() -> None:
    """Downsample images by pooling: each window of pixels becomes one output pixel.

    Run 'poolcli OP --help' for an operation's options and examples.

    Examples:

    \b
      poolcli max photo.jpg                # writes photo.max.jpg, half as wide and high
      poolcli avg photo.jpg -k 4 -o small.png
    """


@dataclass(frozen=True)
class PoolOptions:
    """The options of a pooling command, as parsed."""

    size: tuple[int, int]
    stride: tuple[int, int] | None
    padding: int | str | tuple[int, ...]
    dilation: tuple[int, int]
    ceil: bool
    pad_mode: str | float | int
    output: str | None
    format: str | None
    quality: int | None
    report: str | None
    dry_run: bool
    quiet: bool
    max_pixels: int | None

    def geometry(self, shape_hw: tuple[int, int]) -> Geometry:
        return resolve(
            shape_hw,
            self.size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil,
            self.pad_mode,
        )

    def pool_kwargs(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil,
            "pad_mode": self.pad_mode,
        }


def pooling_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every pooling command shares (DESIGN.md section 5)."""
    options = [
        click.option(
            "--size",
            "-k",
            type=PairType("size", "K"),
            default="2",
            show_default=True,
            metavar="K|KHxKW",
            help="Window height x width.",
        ),
        click.option(
            "--stride",
            "-s",
            type=PairType("stride", "S"),
            metavar="S|SHxSW",
            help="Step between windows.  [default: the size]",
        ),
        click.option(
            "--padding",
            "-p",
            type=PaddingType(),
            default="0",
            show_default=True,
            metavar="P|PHxPW|T,B,L,R|same|valid",
            help="Cells added around the image; same: as TensorFlow, out = ceil(in / stride).",
        ),
        click.option(
            "--dilation",
            type=PairType("dilation", "D"),
            default="1",
            show_default=True,
            metavar="D|DHxDW",
            help="Spacing between window cells.",
        ),
        click.option(
            "--ceil",
            is_flag=True,
            help="Round the output size up: a last window covers the cells left over.",
        ),
        click.option(
            "--pad-mode",
            type=PadModeType(),
            default="ignore",
            show_default=True,
            metavar="ignore|zero|edge|reflect|NUMBER",
            help="What padded cells hold; ignore: they count in no window.",
        ),
        click.option(
            "--output",
            "-o",
            metavar="FILE|DIR|-",
            help="Output file, a folder to write STEM.OP.EXT in, or - for standard output.",
        ),
        click.option(
            "--format",
            type=click.Choice(FORMATS, case_sensitive=False),
            help="Output format.  [default: from the output name, else the input's]",
        ),
        click.option(
            "--quality",
            type=click.IntRange(1, 100),
            metavar="Q",
            help="JPEG and WebP quality.  [default: 90]",
        ),
        click.option(
            "--report",
            type=click.Choice(_REPORTS),
            is_flag=False,
            flag_value="text",
            help="Print the shape report; json: one object a line.  [bare: text]",
        ),
        click.option("--dry-run", is_flag=True, help="Load and report; write nothing."),
        click.option(
            "--quiet",
            "-q",
            is_flag=True,
            help="Print nothing but errors and what is asked for (--report, a matrix).",
        ),
        click.option(
            "--max-pixels",
            type=click.IntRange(min=1),
            metavar="N",
            help="Accept images of up to N pixels (Pillow's default guard: about 89 million).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


_POOL_HELP = """{summary}

Pools INPUT, an image (PNG, JPEG, WebP, TIFF, GIF, ...), a .npy array or a .csv/.txt matrix of
numbers, or - for standard input. Each channel is pooled on its own.

Without --output, the result is written next to INPUT as STEM.{op}.EXT (photo.jpg ->
photo.{op}.jpg, or photo.{op}.png with --format png) and never over INPUT; a .csv/.txt matrix is
printed to standard output instead. Standard input goes to standard output, in its own format or
--format, as a pipeline stage would. When standard output carries the image (-o -, or INPUT -),
the report and all messages go to standard error.

Exit status: 0 done, 1 the input could not be used or written, 2 bad options.

Examples:

\b
  poolcli {op} photo.jpg                    # writes photo.{op}.jpg, half as wide and high
  poolcli {op} lecture-4x4.csv --report     # prints the pooled matrix and its shape report
  curl -s https://example.org/a.png | poolcli {op} - -k 4 --format webp > small.webp
"""


def pool_command(op: str, summary: str) -> click.Command:
    """The command ``poolcli OP INPUT [options]`` for one pooling op of the engine."""

    @click.command(
        op,
        cls=PoolCommand,
        help=_POOL_HELP.format(op=op, summary=summary),
        short_help=summary,
    )
    @click.argument("inputs", nargs=-1, required=True, metavar="INPUT")
    @pooling_options
    @click.pass_context
    def command(ctx: click.Context, inputs: tuple[str, ...], **options: Any) -> None:
        if len(inputs) > 1:
            raise CommandLineError(
                f"one INPUT at a time for now, got {len(inputs)}; run poolcli once for each"
            )
        if not _pool_one(op, inputs[0], PoolOptions(**options)):
            ctx.exit(1)

    return command


for _op, _summary in POOL_OPS.items():
    main.add_command(pool_command(_op, _summary))


# ---------------------------------------------------------------------------------------------
# One input


@dataclass(frozen=True)
class _Target:
    """Where a result goes: a file, standard output as bytes, or printed as a matrix."""

    path: str | None = None  # None: standard output
    format: str | None = None  # a --format value; None: from the path's extension
    matrix: bool = False

    @property
    def name(self) -> str:
        return STDOUT_NAME if self.path is None else self.path


def _pool_one(op: str, source: str, options: PoolOptions) -> bool:
    """Pool one input, write it, print its report and messages; False when the input failed."""
    from_stdin = source == "-"
    name = STDIN_NAME if from_stdin else source
    output = options.output
    if output not in (None, "-") and not from_stdin and _same_file(source, output):
        raise CommandLineError(
            f"refusing to write over the input {source}; choose another --output"
        )
    if output == "-" and not options.dry_run:
        _refuse_terminal()
    # Standard output may carry the result's bytes: every message then goes to standard error.
    report_err = output == "-" or (from_stdin and output is None)

    from . import engine, imageio  # numpy and Pillow: only once there is work to do

    loaded = None
    try:
        source_file = sys.stdin.buffer if from_stdin else source
        array, info = imageio.load_image(source_file, max_pixels=options.max_pixels)
        loaded = (array.shape, info)
        geometry = options.geometry(array.shape[-2:])
        target = _target(op, source, info, options)
        if target.path is None and not target.matrix and not options.dry_run:
            _refuse_terminal()
        out_shape = (*array.shape[:-2], *geometry.out_shape)
        facts = {
            "output_name": target.name,
            "output_shape": out_shape,
            "mode": info.mode,
            "dtype": info.dtype,
        }
        if options.dry_run:
            _print_report(options.report, name, array.shape, op, geometry, facts, report_err)
            if not options.quiet:
                click.echo(
                    f"poolcli: would write {_change(target.name, array.shape, out_shape)}", err=True
                )
            return True
        result = engine.pool(array, op, **options.pool_kwargs())
        if target.matrix:
            _print_report(options.report, name, array.shape, op, geometry, facts, report_err)
            if options.report == "text" and not report_err:
                click.echo()
            click.echo(imageio.format_matrix(result[0, 0]))
            return True
        destination = sys.stdout.buffer if target.path is None else target.path
        imageio.save_image(destination, result, info, format=target.format, quality=options.quality)
        _print_report(options.report, name, array.shape, op, geometry, facts, report_err)
        if target.path is not None and not options.quiet:
            click.echo(
                f"poolcli: wrote {_change(target.path, array.shape, result.shape)}", err=True
            )
        return True
    except (PoolcliError, ValueError) as error:
        message = str(error) if isinstance(error, PoolcliError) else f"{name}: {error}"
        click.echo(f"poolcli: {message}", err=True)
        if options.report == "json":
            shape, info = loaded if loaded is not None else (None, None)
            report = error_report(
                name,
                message,
                op=op,
                input_shape=shape,
                mode=None if info is None else info.mode,
                dtype=None if info is None else info.dtype,
            )
            click.echo(_dumps(report), err=report_err)
        return False


def _target(op: str, source: str, info: Any, options: PoolOptions) -> _Target:
    """Where the result of ``source`` goes, by the rules of the commands' help."""
    from . import imageio

    output = options.output
    from_stdin = source == "-"
    if output == "-" or (output is None and from_stdin):
        if info.kind == "matrix" and options.format is None and output is None:
            return _Target(matrix=True)
        fmt = options.format or _own_format(info)
        if fmt is None:
            if output == "-":
                raise CommandLineError(f"-o - needs --format ({_STDOUT_FORMATS})")
            raise CommandLineError(
                f"standard output needs --format ({_STDOUT_FORMATS}) for a {info.format} "
                "input, or give -o FILE"
            )
        return _Target(format=fmt)
    if output is None and info.kind == "matrix" and options.format is None:
        return _Target(matrix=True)
    if output is None or os.path.isdir(output):
        if from_stdin:
            raise CommandLineError(f"-o {output} is a folder; standard input needs -o FILE or -o -")
        path = _default_output(source, op, info, options.format)
        if output is not None:
            path = os.path.join(output, os.path.basename(path))
    else:
        path = output
    imageio.image_format_for(path, options.format)  # fail before pooling, not after
    return _Target(path=path, format=options.format)


def _default_output(source: str, op: str, info: Any, fmt: str | None) -> str:
    """``STEM.OP.EXT`` beside ``source``; EXT from ``fmt``, else the input's own extension."""
    from . import imageio

    root, ext = os.path.splitext(source)
    if fmt is not None:
        return f"{root}.{op}{_FORMAT_EXTENSIONS[fmt]}"
    try:
        imageio.image_format_for(source)
    except PoolcliError:
        # A name without a writable extension (photo.bmp, photo): the input's format if known.
        own = _own_format(info)
        if own is not None:
            ext = _FORMAT_EXTENSIONS[own]
    return f"{root}.{op}{ext}"


def _own_format(info: Any) -> str | None:
    """The --format an input is written back as, or None when it has none (a matrix, BMP)."""
    if info.kind == "array":
        return "npy"
    if info.kind == "image":
        return _OWN_FORMATS.get(info.format or "")
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _stdout_is_terminal() -> bool:
    return sys.stdout.buffer.isatty()


def _refuse_terminal() -> None:
    if _stdout_is_terminal():
        raise CommandLineError(
            "refusing to write image data to a terminal; redirect standard output or give -o FILE"
        )


def _change(name: str, before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """``photo.max.jpg (1024x700 -> 512x350)``: width x height, as image sizes are given."""
    return f"{name} ({before[-1]}x{before[-2]} -> {after[-1]}x{after[-2]})"


def _print_report(
    kind: str | None,
    name: str,
    shape: tuple[int, ...],
    op: str,
    geometry: Geometry,
    facts: dict[str, Any],
    err: bool,
) -> None:
    if kind == "text":
        click.echo(text_report(name, shape, op, geometry, **facts), err=err)
    elif kind == "json":
        click.echo(_dumps(json_report(name, shape, op, geometry, **facts)), err=err)


def _dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, separators=(",", ":"))
