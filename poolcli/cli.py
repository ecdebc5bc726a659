"""The poolcli command line: parse the options, call the library, print.

Pooling, loading and saving live in the library (:mod:`poolcli.engine`, :mod:`poolcli.imageio`);
this module turns options into library calls, and library errors into one-line messages:

- a bad option is a usage error, exit status 2, reported before any file is read;
- a bad input (missing, not an image, a window larger than it, an output that cannot be
  written) is one line ``poolcli: INPUT: reason`` on standard error, exit status 1.

numpy and Pillow are imported inside the commands, so ``poolcli --help`` starts fast.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from poolcli import __version__, batch
from poolcli.core.geometry import PAD_MODES, Geometry, as_pair, check_pad_mode, resolve
from poolcli.errors import CLI_FLAGS, PoolcliError
from poolcli.report import error_report, json_line, size_change

if TYPE_CHECKING:
    from poolcli.imaging.quick import QuickPooling

# The pooling commands, op -> one-line description. A new op is one more line here.
POOL_OPS = {
    "max": "Keep the largest value of each window: bright details survive.",
    "min": "Keep the smallest value of each window: dark details survive.",
    "avg": "Average each window: a smooth, antialiased downscale.",
    "sum": "Add up each window: a downscale that keeps the total.",
    "median": "Take the median of each window: no salt-and-pepper noise.",
    "lp": "Take the Lp norm of each window: between avg and max (--p).",
}

FORMATS = ("png", "jpeg", "webp", "tiff", "gif", "npy", "csv")
STDIN_NAME = batch.STDIN_NAME
_REPORTS = ("text", "json")


# ---------------------------------------------------------------------------------------------
# Option values


_INT = r"\s*([+-]?\d+)\s*"
_PAIR = re.compile(rf"{_INT}(?:[xX]{_INT})?")
_FOUR = re.compile(",".join([_INT] * 4))


class PairType(click.ParamType):
    """One number or two, ``N`` or ``HxW``, each at least 1: --size, --stride, --dilation, --to.

    Converts to a ``(height, width)`` tuple. ``what`` names the value in errors, ``forms`` says
    how it is written (``"K or KHxKW, e.g. 3 or 3x2"``).
    """

    name = "pair"

    def __init__(self, what: str, forms: str) -> None:
        self.what = what
        self.forms = forms

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        match = _PAIR.fullmatch(str(value))
        if match is None:
            self.fail(f"{value!r}; expected {self.forms}", param, ctx)
        height = int(match[1])
        width = height if match[2] is None else int(match[2])
        try:
            return as_pair((height, width), self.what)
        except ValueError:
            self.fail(f"{value!r}; {self.what} must be at least 1", param, ctx)


def _window_pair(what: str, letter: str) -> PairType:
    """The PairType of a window parameter: ``K`` or ``KHxKW``."""
    return PairType(what, f"{letter} or {letter}Hx{letter}W, e.g. 3 or 3x2")


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


class NumberType(click.ParamType):
    """A number above 0 and below ``high``: lp's power --p, fractional pooling's --ratio."""

    name = "number"

    def __init__(self, high: float, expected: str) -> None:
        self.high = high
        self.expected = expected

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not 0 < number < self.high:
            self.fail(f"{value!r}; expected {self.expected}", param, ctx)
        return number


# ---------------------------------------------------------------------------------------------
# Errors


class CommandLineError(click.UsageError):
    """A usage error poolcli raises itself: its message says all there is to say."""


def _usage_message(error: click.UsageError) -> str:
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
                and following not in _REPORTS
                and (following == "-" or not following.startswith("-"))
            ):
                arg = "--report=text"
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


# ---------------------------------------------------------------------------------------------
# Options


def _options(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    """One decorator that adds ``options`` in order."""

    def add(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return add


def _size_option() -> Callable[..., Any]:
    return click.option(
        "--size",
        "-k",
        type=_window_pair("size", "K"),
        default="2",
        show_default=True,
        metavar="K|KHxKW",
        help="Window height x width.",
    )


def _geometry_options() -> list[Callable[..., Any]]:
    """--size, --stride, --padding, --dilation, --ceil and --pad-mode."""
    return [
        _size_option(),
        click.option(
            "--stride",
            "-s",
            type=_window_pair("stride", "S"),
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
            type=_window_pair("dilation", "D"),
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
    ]


def _geometry_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """The values of :func:`_geometry_options` as keywords of poolcli.pool and resolve."""
    return {
        "size": options["size"],
        "stride": options["stride"],
        "padding": options["padding"],
        "dilation": options["dilation"],
        "ceil_mode": options["ceil"],
        "pad_mode": options["pad_mode"],
    }


def _p_option(help: str) -> Callable[..., Any]:
    return click.option(
        "--p",
        type=NumberType(math.inf, "a number above 0, e.g. 2 or 0.5"),
        default=2.0,
        show_default=True,
        metavar="P",
        help=help,
    )


def _op_option() -> Callable[..., Any]:
    return click.option(
        "--op",
        type=click.Choice(("avg", "max")),
        default="avg",
        show_default=True,
        help="The value.",
    )


def _alpha_option(help: str) -> Callable[..., Any]:
    return click.option(
        "--alpha",
        type=click.Choice(("premultiply", "straight")),
        default="premultiply",
        show_default=True,
        help=help,
    )


_SHORT_ALPHA_HELP = "avg of images with transparency: weigh each colour by its alpha, or not."


def _output_option(metavar: str, help: str) -> Callable[..., Any]:
    return click.option("--output", "-o", metavar=metavar, help=help)


def _format_option(
    help: str = "Output format.  [default: from the output name, else the input's]",
    formats: tuple[str, ...] = FORMATS,
) -> Callable[..., Any]:
    return click.option("--format", type=click.Choice(formats, case_sensitive=False), help=help)


def _quality_option() -> Callable[..., Any]:
    return click.option(
        "--quality",
        type=click.IntRange(1, 100),
        metavar="Q",
        help="JPEG and WebP quality.  [default: 90]",
    )


def _report_option(help: str, default: str | None = None) -> Callable[..., Any]:
    """--report text|json; without a default, a bare --report is text (see PoolCommand)."""
    if default is None:
        return click.option(
            "--report", type=click.Choice(_REPORTS), is_flag=False, flag_value="text", help=help
        )
    return click.option(
        "--report", type=click.Choice(_REPORTS), default=default, show_default=True, help=help
    )


_WRITE_REPORT_HELP = "Print the shape report; json: one object a line.  [bare: text]"
_WRITE_QUIET_HELP = "Print nothing but errors and what is asked for (--report, a matrix)."


def _quiet_option(help: str) -> Callable[..., Any]:
    return click.option("--quiet", "-q", is_flag=True, help=help)


def _max_pixels_option() -> Callable[..., Any]:
    return click.option(
        "--max-pixels",
        type=click.IntRange(min=1),
        metavar="N",
        help="Accept images of up to N pixels (Pillow's default guard: about 89 million).",
    )


def _image_options() -> list[Callable[..., Any]]:
    """How an image is read and pooled: --alpha, --frame, --no-auto-orient, --max-pixels."""
    return [
        _alpha_option(
            "avg of images with transparency: premultiply weighs each colour by its "
            "alpha (no dark fringes); straight pools alpha as data, like any channel."
        ),
        click.option(
            "--frame",
            type=click.IntRange(min=0),
            metavar="K",
            help="Pool only frame K (0 is the first) of an animation or multi-page TIFF.  "
            "[default: every frame]",
        ),
        click.option(
            "--auto-orient/--no-auto-orient",
            default=True,
            help="Turn the image as its EXIF orientation says (default), or keep the stored "
            "pixel order and the tag.",
        ),
        _max_pixels_option(),
    ]


def _batch_options() -> list[Callable[..., Any]]:
    """Many inputs: --recursive, --jobs, --skip-existing, --files-from, --null."""
    return [
        click.option(
            "--recursive", "-r", is_flag=True, help="Take the images in subfolders of a folder too."
        ),
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(min=1),
            metavar="N",
            help="Images pooled at once.  [default: the number of CPUs]",
        ),
        click.option(
            "--skip-existing",
            is_flag=True,
            help="Leave outputs that exist alone: resumes an interrupted batch.",
        ),
        click.option(
            "--files-from",
            metavar="FILE|-",
            help="Also pool the paths listed in FILE (-: standard input), one a line.",
        ),
        click.option(
            "--null", "-0", is_flag=True, help="--files-from paths end in NUL (find -print0)."
        ),
    ]


def pooling_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every pooling command shares (DESIGN.md section 5)."""
    return _options(
        [
            *_geometry_options(),
            _output_option(
                "FILE|DIR|-",
                "Output file; a folder (one input: STEM.OP.EXT in it; several: their own "
                "names, the tree mirrored); or - for standard output.",
            ),
            _format_option(),
            _quality_option(),
            click.option(
                "--strip",
                is_flag=True,
                help="Write no metadata: no ICC colour profile, EXIF or resolution.",
            ),
            _report_option(_WRITE_REPORT_HELP),
            click.option("--dry-run", is_flag=True, help="Load and report; write nothing."),
            _quiet_option(_WRITE_QUIET_HELP),
            *_batch_options(),
            *_image_options(),
        ]
    )(func)


def _resize_options() -> list[Callable[..., Any]]:
    """What adaptive and fractional share: where and how they write, and --max-pixels."""
    return [
        _output_option(
            "FILE|DIR|-",
            "Output file, a folder to write STEM.OP.EXT in, or - for standard output.",
        ),
        _format_option(),
        _quality_option(),
        _report_option(_WRITE_REPORT_HELP),
        _quiet_option(_WRITE_QUIET_HELP),
        _max_pixels_option(),
    ]


@dataclass(frozen=True, kw_only=True)
class WriteOptions:
    """The options of a command that pools its inputs and writes the results, as parsed.

    Those a command does not have keep their defaults.
    """

    output: str | None = None
    format: str | None = None
    quality: int | None = None
    strip: bool = False
    report: str | None = None
    dry_run: bool = False
    quiet: bool = False
    max_pixels: int | None = None
    alpha: str = "premultiply"
    frame: int | None = None
    auto_orient: bool = True
    recursive: bool = False
    jobs: int | None = None
    skip_existing: bool = False
    files_from: str | None = None
    null: bool = False


@dataclass(frozen=True, kw_only=True)
class PoolOptions(WriteOptions):
    """The options of a pooling command, as parsed."""

    size: tuple[int, int]
    stride: tuple[int, int] | None
    padding: int | str | tuple[int, ...]
    dilation: tuple[int, int]
    ceil: bool
    pad_mode: str | float | int
    p: float = 2.0  # lp's power; only the lp command has --p

    def geometry(self, shape_hw: tuple[int, int]) -> Geometry:
        return resolve(shape_hw, **_geometry_kwargs(vars(self)))

    def pool_kwargs(self) -> dict[str, Any]:
        return {**_geometry_kwargs(vars(self)), "p": self.p}


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


_POOL_HELP = """{summary}

Pools each INPUT: an image (PNG, JPEG, WebP, TIFF, GIF, ...), a .npy array, a .csv/.txt
matrix of numbers, a folder of images (with -r, its subfolders' too), a glob that poolcli expands
itself ('photos/**/*.jpg'), or - for standard input. Each channel is pooled on its own.

One input: without --output, the result is written next to INPUT as STEM.{op}.EXT (photo.jpg ->
photo.{op}.jpg, or photo.{op}.png with --format png) and never over INPUT; a .csv/.txt matrix is
printed to standard output instead. Standard input goes to standard output, in its own format or
--format, as a pipeline stage would. When standard output carries the image (-o -, or INPUT -),
the report and all messages go to standard error.

Several inputs, a folder, a glob or --files-from: without --output each result is written next
to its input as STEM.{op}.EXT; with -o FOLDER, in FOLDER under the input's own name (--format
changes the extension), mirroring the tree below the folder or glob it was found in. Hidden files
are left out. Up to --jobs images are pooled at once; a progress bar shows on a terminal. A bad
file is one line on standard error and the batch goes on; the end prints how many were done,
skipped and failed (with --quiet only if some failed). --skip-existing resumes a stopped batch;
Ctrl-C or SIGTERM stops it, leaving every written output whole.

Exit status: 0 done, 1 an input could not be used or written, 2 bad options, 130/143 stopped by
SIGINT/SIGTERM.

Examples:

\b
  poolcli {op} photo.jpg                    # writes photo.{op}.jpg, half as wide and high
  poolcli {op} lecture-4x4.csv --report     # prints the pooled matrix and its shape report
  poolcli {op} photos -r -o small --format png --skip-existing
  find scans -name '*.tif' -print0 | poolcli {op} --files-from - -0 -o small
  curl -s https://example.org/a.png | poolcli {op} - -k 4 --format webp > small.webp
"""


def pool_command(op: str, summary: str) -> click.Command:
    """The command ``poolcli OP INPUT [options]`` for one pooling op of the engine."""

    def command(ctx: click.Context, inputs: tuple[str, ...], **options: Any) -> None:
        pool_options = PoolOptions(**options)
        if not inputs and pool_options.files_from is None:
            raise click.UsageError("Missing argument 'INPUT'.", ctx)
        recipe = _recipe(
            op,
            pool_options,
            functools.partial(pool_input, op, pool_options),
            pool_options.geometry,
            quick=_quick_pooling(op),
        )
        ctx.exit(_pool_inputs(op, inputs, pool_options, recipe))

    if op == "lp":
        command = _p_option(
            "The power: 1 sums magnitudes, 2 is the Euclidean norm, large p nears max."
        )(command)
    command = click.pass_context(command)
    command = pooling_options(command)
    command = click.argument("inputs", nargs=-1, metavar="INPUT")(command)
    return click.command(
        op,
        cls=PoolCommand,
        help=_POOL_HELP.format(op=op, summary=summary),
        short_help=summary,
    )(command)


for _op, _summary in POOL_OPS.items():
    main.add_command(pool_command(_op, _summary))


COMPARE_SUMMARY = "One picture: the input beside its max, avg and min versions."

_COMPARE_HELP = f"""{COMPARE_SUMMARY}

Each pooled version is scaled back up with nearest-neighbour resampling, so every output pixel
shows as a block, and is labelled with the op, the window and its output size. Frame 0 of an
animation is shown (or --frame K).

Without --output the picture is written next to INPUT as STEM.compare.png; -o - writes it to
standard output (PNG, or --format).

Exit status: 0 done, 1 the input could not be used or written, 2 bad options.

Examples:

\b
  poolcli compare photo.jpg -k 8            # writes photo.compare.png
  poolcli compare sprite.png -k 2 -o docs/compare.png
"""


@main.command("compare", help=_COMPARE_HELP, short_help=COMPARE_SUMMARY)
@click.argument("source", metavar="INPUT")
@_options(_geometry_options())
@_output_option("FILE|-", "Output picture, or - for standard output.  [default: STEM.compare.png]")
@_format_option(
    "Picture format.  [default: from the output name; png on standard output]",
    ("png", "jpeg", "webp", "tiff"),
)
@_quiet_option("Print nothing but errors.")
@_options(_image_options())
@click.pass_context
def compare_command(ctx: click.Context, source: str, **options: Any) -> None:
    if not _compare_one(source, **options):
        ctx.exit(1)


def _compare_one(
    source: str,
    *,
    output: str | None,
    format: str | None,
    quiet: bool,
    alpha: str,
    frame: int | None,
    auto_orient: bool,
    max_pixels: int | None,
    **geometry: Any,
) -> bool:
    """Write the compare picture of one input; False when the input failed."""
    name = _input_name(source)
    if output is None:
        if source == "-":
            raise CommandLineError("standard input needs -o FILE or -o - for the picture")
        output = os.path.splitext(source)[0] + ".compare." + (format or "png")
    _check_output(source, output)
    if output == "-":
        _refuse_terminal()
        format = format or "png"

    from poolcli.imaging import compare
    from poolcli.io import images as imageio  # numpy and Pillow: only once there is work to do

    try:
        if output != "-":
            imageio.image_format_for(output, format)  # fail before reading, not after
        array, info = imageio.load_image(
            _input_file(source), max_pixels=max_pixels, frame=frame, auto_orient=auto_orient
        )
        picture = compare.compare_picture(array, info, alpha=alpha, **_geometry_kwargs(geometry))
        destination = sys.stdout.buffer if output == "-" else output
        imageio.save_image(destination, *compare.picture_array(picture), format=format)
    except (PoolcliError, ValueError) as error:
        click.echo(_error_line(name, error), err=True)
        return False
    if output != "-" and not quiet:
        click.echo(f"poolcli: wrote {output} ({picture.width}x{picture.height})", err=True)
    return True


# ---------------------------------------------------------------------------------------------
# Inputs: one, or a batch. poolcli.batch finds them, names the outputs, and does the work of
# each input (batch.process: load, pool, save, report) on --jobs threads.


def pool_input(op: str, options: PoolOptions, array: Any, info: Any) -> Any:
    """Pool one loaded input: the pooling step of every input of a pooling command."""
    from poolcli.imaging import alpha as pipeline

    return pipeline.pool_image(array, info, op, alpha=options.alpha, **options.pool_kwargs())


def _recipe(
    op: str,
    options: WriteOptions,
    pool: Callable[[Any, Any], Any],
    geometry: Callable[[tuple[int, int]], Geometry] | None = None,
    note: str | None = None,
    quick: QuickPooling | None = None,
) -> batch.Recipe:
    """What batch.process does to each input, from the command's options."""
    return batch.Recipe(
        op=op,
        pool=pool,
        geometry=geometry,
        load={
            "max_pixels": options.max_pixels,
            "frame": options.frame,
            "auto_orient": options.auto_orient,
        },
        save={"quality": options.quality, "strip": options.strip},
        report=options.report,
        dry_run=options.dry_run,
        skip_existing=options.skip_existing,
        note=note,
        quick=quick,
    )


def _quick_pooling(op: str) -> QuickPooling | None:
    """The pooling Pillow does without numpy for the pictures it can (poolcli.quick), or None."""
    from poolcli.imaging import quick  # Pillow: only once there is work to do

    return quick.QuickPooling(op) if op in quick.QUICK_OPS else None


def _pool_inputs(
    op: str, inputs: tuple[str, ...], options: WriteOptions, recipe: batch.Recipe
) -> int:
    """Pool every input, print reports and messages; the exit status (0, 1, 130 or 143).

    ``op`` names the outputs (STEM.OP.EXT); ``recipe`` says what is done to each input.
    """
    try:
        plan = batch.plan(
            inputs,
            op=op,
            output=options.output,
            format=options.format,
            recursive=options.recursive,
            files_from=options.files_from,
            null=options.null,
            stdin=sys.stdin.buffer,
        )
    except batch.PlanError as error:
        raise CommandLineError(str(error)) from None
    except KeyboardInterrupt:  # Ctrl-C while a large tree is searched: nothing done yet
        click.echo("poolcli: interrupted by SIGINT before any input was read", err=True)
        return 130
    one = not plan.batch
    if one and options.output == "-" and not options.dry_run:
        _refuse_terminal()

    def target_for(source: str, info: Any) -> batch.Target:
        target = _target(op, source, info, options.output, options.format)
        if target.path is None and not target.matrix and not options.dry_run:
            _refuse_terminal()
        return target

    console = batch.Console(
        echo=lambda text, err: click.echo(text, err=err),
        progress=sys.stderr if _stderr_is_terminal() else None,
        quiet=options.quiet,
        # Standard output may carry the result's bytes: every message then goes to standard error.
        reports_to_stderr=one
        and (options.output == "-" or (inputs == ("-",) and options.output is None)),
    )
    try:
        summary = batch.run(
            plan,
            recipe,
            console,
            workers=options.jobs,
            target_for=target_for,
            stdin=sys.stdin.buffer,
            stdout=sys.stdout.buffer,
        )
    except PoolcliError as error:  # the output folder cannot be created
        click.echo(f"poolcli: {error}", err=True)
        return 1
    return summary.exit_status


def _target(
    op: str, source: str, info: Any, output: str | None, format: str | None
) -> batch.Target:
    """Where the result of the one input ``source`` goes; a usage error if it cannot."""
    try:
        return batch.target(source, info, op=op, output=output, format=format)
    except batch.PlanError as error:
        raise CommandLineError(str(error)) from None


def _check_output(source: str, output: str | None) -> None:
    """Refuse, as a usage error, an ``output`` that is the input itself."""
    try:
        batch.check_output(source, output)
    except batch.PlanError as error:
        raise CommandLineError(str(error)) from None


def _input_name(source: str) -> str:
    return STDIN_NAME if source == "-" else source


def _input_file(source: str) -> Any:
    return sys.stdin.buffer if source == "-" else source


def _error_message(name: str, error: Exception) -> str:
    """``INPUT: reason``: a PoolcliError names its file itself."""
    return error.worded(CLI_FLAGS) if isinstance(error, PoolcliError) else f"{name}: {error}"


def _error_line(name: str, error: Exception) -> str:
    return f"poolcli: {_error_message(name, error)}"


def _stdout_is_terminal() -> bool:
    return sys.stdout.buffer.isatty()


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _refuse_terminal() -> None:
    if _stdout_is_terminal():
        raise CommandLineError(
            "refusing to write image data to a terminal; redirect standard output or give -o FILE"
        )


# ---------------------------------------------------------------------------------------------
# The rest of the family: global, adaptive, fractional, info and explain

_EXIT_STATUS = "Exit status: 0 done, 1 an input could not be used or written, 2 bad options."


def _values_text(values: Any) -> list[str]:
    """Each value as short text: integers plainly, floats in their shortest exact form."""
    import numpy as np

    if values.dtype.kind in "biu":
        return [str(int(v)) for v in values]
    return [np.format_float_positional(v, unique=True, trim="-") for v in values]


GLOBAL_SUMMARY = "One value per channel: the average colour or the maximum."

_GLOBAL_HELP = f"""{GLOBAL_SUMMARY}

Pools each whole plane of each INPUT to a single value, and prints one line per input (per frame
of an animation) with a value per channel: R, G, B and A for an RGBA image, c0, c1, ... for an
array. --report json prints one JSON object per input instead. avg of an image with transparency
weighs each colour by its alpha (--alpha straight: does not).

Nothing is written unless --output asks for the 1x1 result: a file (one INPUT), a folder (STEM.
global.EXT in it), or - for standard output (then the values go to standard error).

{_EXIT_STATUS}

Examples:

\b
  poolcli global photo.jpg                  # photo.jpg: avg R=118.2 G=107.9 B=95.41
  poolcli global shots/*.png --op max --report json
"""


@main.command("global", help=_GLOBAL_HELP, short_help=GLOBAL_SUMMARY)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT")
@_op_option()
@_alpha_option(_SHORT_ALPHA_HELP)
@_output_option("FILE|DIR|-", "Also write the 1x1 result here.")
@_format_option("Format of the 1x1 result.  [default: from the output name, else the input's]")
@_report_option("text: one line per input; json: one object per line.", default="text")
@_quiet_option("Print no 'wrote' messages.")
@_max_pixels_option()
@click.pass_context
def global_command(ctx: click.Context, inputs: tuple[str, ...], **options: Any) -> None:
    output = options["output"]
    if output is not None and len(inputs) > 1 and not os.path.isdir(output):
        raise CommandLineError(
            f"-o {output} is not a folder; with {len(inputs)} inputs, -o names a folder to "
            "write STEM.global.EXT in"
        )
    if output == "-":
        _refuse_terminal()
    failed = [source for source in inputs if not _global_one(source, **options)]
    if failed:
        ctx.exit(1)


def _global_one(
    source: str,
    *,
    op: str,
    alpha: str,
    output: str | None,
    format: str | None,
    report: str,
    quiet: bool,
    max_pixels: int | None,
) -> bool:
    """Print (and write, with -o) the global value of one input; False when it failed."""
    name = _input_name(source)
    to_stdout = output == "-"
    _check_output(source, output)

    from poolcli.imaging import alpha as pipeline
    from poolcli.io import images as imageio  # numpy and Pillow: only once there is work to do

    try:
        array, info = imageio.load_image(_input_file(source), max_pixels=max_pixels)
        result = pipeline.pool_image(array, info, f"global_{op}", alpha=alpha)
        names = imageio.channel_names(info, array.shape[1])
        frames = [_values_text(result[n, :, 0, 0]) for n in range(result.shape[0])]
        if report == "json":
            line = {
                "input": name,
                "op": op,
                "shape": list(array.shape),
                "channels": list(names),
                "values": [[json.loads(value) for value in frame] for frame in frames],
            }
            click.echo(json_line(line), err=to_stdout)
        else:
            label = info.kind == "image" or len(names) > 1
            for index, frame in enumerate(frames):
                where = name if len(frames) == 1 else f"{name} frame {index}"
                values = [f"{n}={v}" if label else v for n, v in zip(names, frame, strict=True)]
                click.echo(f"{where}: {op} {' '.join(values)}", err=to_stdout)
        if output is not None:
            target = _target("global", source, info, output, format)
            destination = sys.stdout.buffer if target.path is None else target.path
            imageio.save_image(destination, result, info, format=target.format)
            if target.path is not None and not quiet:
                change = size_change(target.path, array.shape, result.shape)
                click.echo(f"poolcli: wrote {change}", err=True)
        return True
    except (PoolcliError, ValueError) as error:
        click.echo(_error_line(name, error), err=True)
        if report == "json":
            click.echo(
                json_line(error_report(name, _error_message(name, error), op=op)), err=to_stdout
            )
        return False


# --- adaptive and fractional: pool to a size, write like the pooling commands


_OUTPUT_SIZE = PairType("the output size", "N or HxW, e.g. 64 or 48x64")

ADAPTIVE_SUMMARY = "Pool to a given output size, as PyTorch's adaptive pooling."

_ADAPTIVE_HELP = f"""{ADAPTIVE_SUMMARY}

Output cell i of an axis pools input cells floor(i*H/out) up to ceil((i+1)*H/out): windows of
(nearly) equal size that cover the whole input, for any output size up to the input's. avg of an
image with transparency weighs each colour by its alpha (--alpha straight: does not).

Writes STEM.adaptive.EXT next to INPUT unless --output says otherwise; a .csv/.txt matrix is
printed.

{_EXIT_STATUS}

Examples:

\b
  poolcli adaptive photo.jpg --to 64x64 --op max    # writes photo.adaptive.jpg, 64x64
  poolcli adaptive lecture-4x4.csv --to 3
"""


@main.command("adaptive", cls=PoolCommand, help=_ADAPTIVE_HELP, short_help=ADAPTIVE_SUMMARY)
@click.argument("source", metavar="INPUT")
@click.option(
    "--to",
    "size",
    type=_OUTPUT_SIZE,
    required=True,
    metavar="N|HxW",
    help="Output height x width, at most the input's.",
)
@_op_option()
@_alpha_option(_SHORT_ALPHA_HELP)
@_options(_resize_options())
@click.pass_context
def adaptive_command(
    ctx: click.Context, source: str, size: tuple[int, int], op: str, **options: Any
) -> None:
    write = WriteOptions(**options)
    name = _input_name(source)

    def pool(array: Any, info: Any) -> Any:
        from poolcli.imaging import alpha as pipeline

        height, width = array.shape[-2:]
        if size[0] > height or size[1] > width:
            raise CommandLineError(
                f"--to {size[0]}x{size[1]} is larger than {name} ({height}x{width}, height x "
                "width); adaptive pooling only shrinks"
            )
        return pipeline.pool_image(
            array, info, f"adaptive_{op}", alpha=write.alpha, output_size=size
        )

    recipe = _recipe(f"adaptive_{op}", write, pool)
    ctx.exit(_pool_inputs("adaptive", (source,), write, recipe))


FRACTIONAL_SUMMARY = "Fractional max pooling: shrink by any ratio, reproducibly."

_FRACTIONAL_HELP = f"""{FRACTIONAL_SUMMARY}

Graham's fractional max pooling: --size windows at pseudo-random starts, from the first cell to
the last, so that the output is --ratio times the input (or --to). The starts follow PyTorch's
FractionalMaxPool2d; --seed makes them the same run to run. Without --seed one is drawn and
printed.

Writes STEM.fractional.EXT next to INPUT unless --output says otherwise; a .csv/.txt matrix is
printed.

{_EXIT_STATUS}

Examples:

\b
  poolcli fractional photo.jpg --ratio 0.7 --seed 1
  poolcli fractional photo.jpg --to 300x400 --size 3 -o small.png
"""


@main.command("fractional", cls=PoolCommand, help=_FRACTIONAL_HELP, short_help=FRACTIONAL_SUMMARY)
@click.argument("source", metavar="INPUT")
@click.option(
    "--ratio",
    type=NumberType(1, "a number between 0 and 1 (exclusive)"),
    metavar="R",
    help="Output size / input size, in (0, 1).",
)
@click.option(
    "--to", "to", type=_OUTPUT_SIZE, metavar="N|HxW", help="Output height x width instead."
)
@click.option("--seed", type=click.IntRange(min=0), metavar="N", help="Seed of the window starts.")
@_size_option()
@_options(_resize_options())
@click.pass_context
def fractional_command(
    ctx: click.Context,
    source: str,
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
    write = WriteOptions(**options)
    name = _input_name(source)

    def pool(array: Any, info: Any) -> Any:
        from poolcli.core import adaptive

        try:
            return adaptive.fractional_max_pool(array, size, to, ratio, seed=seed)
        except ValueError as error:
            raise CommandLineError(f"{name}: {error}") from None

    recipe = _recipe("fractional_max", write, pool, note=note)
    ctx.exit(_pool_inputs("fractional", (source,), write, recipe))


# --- info and explain

INFO_SUMMARY = "Shape, mode, dtype and frames; the shape pooling would give."

_INFO_HELP = f"""{INFO_SUMMARY}

Reads only the header where the format allows (images, .npy), so it is fast on any size. With
pooling options (--size, --stride, ...), also prints the output shape with the size formula
filled in.

{_EXIT_STATUS}

Examples:

\b
  poolcli info photo.jpg
  poolcli info photo.jpg -k 3 -s 2 --padding same
  poolcli info shots/*.png --report json
"""


@main.command("info", help=_INFO_HELP, short_help=INFO_SUMMARY)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT")
@_options(_geometry_options())
@_report_option("text: a block per input; json: one object per line.", default="text")
@click.pass_context
def info_command(ctx: click.Context, inputs: tuple[str, ...], report: str, **geometry: Any) -> None:
    from click.core import ParameterSource

    from poolcli.io import images as imageio  # Pillow and numpy: only once there is work to do
    from poolcli.report import info_report, info_text

    pooled = any(
        ctx.get_parameter_source(key) not in (None, ParameterSource.DEFAULT) for key in geometry
    )
    failed = printed = False
    for source in inputs:
        name = _input_name(source)
        try:
            header = imageio.read_header(_input_file(source))
            shape = resolve(header.shape[-2:], **_geometry_kwargs(geometry)) if pooled else None
        except (PoolcliError, ValueError) as error:
            failed = True
            click.echo(_error_line(name, error), err=True)
            if report == "json":
                click.echo(json_line(error_report(name, _error_message(name, error))))
            continue
        if report == "json":
            click.echo(json_line(info_report(name, header, shape)))
        else:
            if printed:
                click.echo()  # a blank line between blocks
            click.echo(info_text(name, header, shape))
            printed = True
    if failed:
        ctx.exit(1)


EXPLAIN_SUMMARY = "Pool a small matrix step by step, as the lectures do."

_EXPLAIN_HELP = f"""{EXPLAIN_SUMMARY}

INPUT is a .csv/.txt or .npy matrix of up to 16x16 (or - for standard input); without it, the
lectures' 4x4 example. Prints the size formula, then every window position on the matrix (its
cells in brackets; padding as (v) when it counts, as · when it does not), the value it gives and
how, the im2col matrix with one row per window, and the output.

Exit status: 0 done, 1 INPUT could not be read, 2 bad options or a matrix too large.

Examples:

\b
  poolcli explain                           # the lectures' 2x2 max pooling, stride 2
  poolcli explain --op avg -k 3 -s 1 --padding 1 --pad-mode zero
  poolcli explain lecture-6x6.csv --op median -k 3 -s 3
"""


@main.command("explain", help=_EXPLAIN_HELP, short_help=EXPLAIN_SUMMARY)
@click.argument("source", required=False, metavar="[INPUT]")
@click.option(
    "--op",
    type=click.Choice(("max", "min", "avg", "sum", "median", "lp")),
    default="max",
    show_default=True,
    help="The pooling op.",
)
@_options(_geometry_options())
@_p_option("The power of lp.")
@click.pass_context
def explain_command(
    ctx: click.Context, source: str | None, op: str, p: float, **geometry: Any
) -> None:
    from poolcli.teaching.explain import explain  # numpy: only once there is work to do

    name = None if source is None else _input_name(source)
    matrix = None
    if source is not None:
        from poolcli.io import images as imageio

        try:
            matrix, _ = imageio.load_image(_input_file(source))
        except (PoolcliError, ValueError) as error:
            click.echo(_error_line(str(name), error), err=True)
            ctx.exit(1)
    try:
        text = explain(matrix, op, **_geometry_kwargs(geometry), p=p)
    except ValueError as error:
        raise CommandLineError(str(error) if name is None else f"{name}: {error}") from None
    click.echo(text)
