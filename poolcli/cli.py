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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from . import __version__, batch
from .errors import PoolcliError
from .geometry import PAD_MODES, Geometry, as_pair, check_pad_mode, resolve
from .report import error_report

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
    alpha: str
    frame: int | None
    auto_orient: bool
    strip: bool
    p: float = 2.0  # lp's power; only the lp command has --p
    recursive: bool = False
    jobs: int | None = None
    skip_existing: bool = False
    files_from: str | None = None
    null: bool = False

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
            "p": self.p,
        }


def _geometry_options() -> list[Callable[..., Any]]:
    """--size, --stride, --padding, --dilation, --ceil and --pad-mode."""
    return [
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
    ]


def _image_options() -> list[Callable[..., Any]]:
    """How an image is read and pooled: --alpha, --frame, --no-auto-orient, --max-pixels."""
    return [
        click.option(
            "--alpha",
            type=click.Choice(("premultiply", "straight")),
            default="premultiply",
            show_default=True,
            help="avg of images with transparency: premultiply weighs each colour by its "
            "alpha (no dark fringes); straight pools alpha as data, like any channel.",
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
        click.option(
            "--max-pixels",
            type=click.IntRange(min=1),
            metavar="N",
            help="Accept images of up to N pixels (Pillow's default guard: about 89 million).",
        ),
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
    options = [
        *_geometry_options(),
        click.option(
            "--output",
            "-o",
            metavar="FILE|DIR|-",
            help="Output file; a folder (one input: STEM.OP.EXT in it; several: their own "
            "names, the tree mirrored); or - for standard output.",
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
            "--strip",
            is_flag=True,
            help="Write no metadata: no ICC colour profile, EXIF or resolution.",
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
        *_batch_options(),
        *_image_options(),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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

    @click.command(
        op,
        cls=PoolCommand,
        help=_POOL_HELP.format(op=op, summary=summary),
        short_help=summary,
    )
    @click.argument("inputs", nargs=-1, metavar="INPUT")
    @pooling_options
    @click.pass_context
    def command(ctx: click.Context, inputs: tuple[str, ...], **options: Any) -> None:
        pool_options = PoolOptions(**options)
        if not inputs and pool_options.files_from is None:
            raise click.UsageError("Missing argument 'INPUT'.", ctx)
        ctx.exit(_pool_inputs(op, inputs, pool_options))

    return command


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


def _options(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    """One decorator that adds ``options`` in order."""

    def add(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return add


@main.command("compare", help=_COMPARE_HELP, short_help=COMPARE_SUMMARY)
@click.argument("source", metavar="INPUT")
@_options(_geometry_options())
@click.option(
    "--output",
    "-o",
    metavar="FILE|-",
    help="Output picture, or - for standard output.  [default: STEM.compare.png]",
)
@click.option(
    "--format",
    type=click.Choice(("png", "jpeg", "webp", "tiff"), case_sensitive=False),
    help="Picture format.  [default: from the output name; png on standard output]",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
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
    from_stdin = source == "-"
    name = STDIN_NAME if from_stdin else source
    if output is None:
        if from_stdin:
            raise CommandLineError("standard input needs -o FILE or -o - for the picture")
        output = os.path.splitext(source)[0] + ".compare." + (format or "png")
    elif output != "-" and not from_stdin and _same_file(source, output):
        raise CommandLineError(
            f"refusing to write over the input {source}; choose another --output"
        )
    if output == "-":
        _refuse_terminal()
        format = format or "png"

    from . import compare, imageio  # numpy and Pillow: only once there is work to do

    kwargs = {
        "size": geometry["size"],
        "stride": geometry["stride"],
        "padding": geometry["padding"],
        "dilation": geometry["dilation"],
        "ceil_mode": geometry["ceil"],
        "pad_mode": geometry["pad_mode"],
    }
    try:
        if output != "-":
            imageio.image_format_for(output, format)  # fail before reading, not after
        source_file = sys.stdin.buffer if from_stdin else source
        array, info = imageio.load_image(
            source_file, max_pixels=max_pixels, frame=frame, auto_orient=auto_orient
        )
        picture = compare.compare_picture(array, info, alpha=alpha, **kwargs)
        destination = sys.stdout.buffer if output == "-" else output
        imageio.save_image(destination, *compare.picture_array(picture), format=format)
    except (PoolcliError, ValueError) as error:
        message = str(error) if isinstance(error, PoolcliError) else f"{name}: {error}"
        click.echo(f"poolcli: {message}", err=True)
        return False
    if output != "-" and not quiet:
        click.echo(f"poolcli: wrote {output} ({picture.width}x{picture.height})", err=True)
    return True


# ---------------------------------------------------------------------------------------------
# Inputs: one, or a batch. poolcli.batch finds them, names the outputs, and does the work of
# each input (batch.process: load, pool_input, save, report) on --jobs threads.


_Target = batch.Target


def pool_input(op: str, options: PoolOptions, array: Any, info: Any) -> Any:
    """Pool one loaded input: the pooling step of every input of a pooling command."""
    from . import pipeline

    return pipeline.pool_image(array, info, op, alpha=options.alpha, **options.pool_kwargs())


def _recipe(op: str, options: PoolOptions) -> batch.Recipe:
    """What batch.process does to each input, from the command's options."""
    return batch.Recipe(
        op=op,
        pool=functools.partial(pool_input, op, options),
        geometry=options.geometry,
        load={
            "max_pixels": options.max_pixels,
            "frame": options.frame,
            "auto_orient": options.auto_orient,
        },
        save={"quality": options.quality, "strip": options.strip},
        report=options.report,
        dry_run=options.dry_run,
        skip_existing=options.skip_existing,
    )


def _pool_inputs(op: str, inputs: tuple[str, ...], options: PoolOptions) -> int:
    """Pool every input, print reports and messages; the exit status (0, 1, 130 or 143)."""
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

    def target_for(source: str, info: Any) -> _Target:
        target = _target(op, source, info, options)
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
            _recipe(op, options),
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


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _refuse_terminal() -> None:
    if _stdout_is_terminal():
        raise CommandLineError(
            "refusing to write image data to a terminal; redirect standard output or give -o FILE"
        )


def _change(name: str, before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """``photo.max.jpg (1024x700 -> 512x350)``: width x height, as image sizes are given."""
    return f"{name} ({before[-1]}x{before[-2]} -> {after[-1]}x{after[-2]})"


def _dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# The rest of the family: lp's power, global, adaptive, fractional, info and explain


class PowerType(click.ParamType):
    """A number above 0 (and finite): lp's power p."""

    name = "p"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not 0 < number < math.inf:
            self.fail(f"{value!r}; expected a number above 0, e.g. 2 or 0.5", param, ctx)
        return number


class RatioType(click.ParamType):
    """A number between 0 and 1 (both excluded): fractional pooling's --ratio."""

    name = "ratio"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not 0 < number < 1:
            self.fail(f"{value!r}; expected a number between 0 and 1 (exclusive)", param, ctx)
        return number


class OutputSizeType(click.ParamType):
    """``N`` or ``HxW``, each at least 1: the output size of --to. Converts to (H, W)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        match = _PAIR.fullmatch(str(value))
        if match is None:
            self.fail(f"{value!r}; expected N or HxW, e.g. 64 or 48x64", param, ctx)
        height = int(match[1])
        width = height if match[2] is None else int(match[2])
        if min(height, width) < 1:
            self.fail(f"{value!r}; the output size must be at least 1", param, ctx)
        return (height, width)


def _p_option() -> click.Option:
    return click.Option(
        ["--p"],
        type=PowerType(),
        default=2.0,
        show_default=True,
        metavar="P",
        help="The power: 1 sums magnitudes, 2 is the Euclidean norm, large p nears max.",
    )


main.commands["lp"].params.append(_p_option())

_EXIT_STATUS = "Exit status: 0 done, 1 an input could not be used or written, 2 bad options."


def _values_text(values: Any) -> list[str]:
    """Each value as short text: integers plainly, floats in their shortest exact form."""
    import numpy as np

    if values.dtype.kind in "biu":
        return [str(int(v)) for v in values]
    return [np.format_float_positional(v, unique=True, trim="-") for v in values]


_CHANNEL_NAMES = {
    "L": ("L",),
    "I": ("L",),
    "F": ("L",),
    "LA": ("L", "A"),
    "RGB": ("R", "G", "B"),
    "RGBA": ("R", "G", "B", "A"),
    "CMYK": ("C", "M", "Y", "K"),
    "YCbCr": ("Y", "Cb", "Cr"),
}


def _channel_names(info: Any, channels: int) -> tuple[str, ...]:
    """R, G, B, ... for an image's channels; c0, c1, ... for an array's."""
    names = _CHANNEL_NAMES.get((info.save_mode or "").split(";")[0], ())
    if info.kind == "image" and len(names) == channels:
        return names
    return tuple(f"c{index}" for index in range(channels))


def _input_file(source: str) -> Any:
    return sys.stdin.buffer if source == "-" else source


def _error_message(name: str, error: Exception) -> str:
    """``INPUT: reason``: a PoolcliError names its file itself."""
    return str(error) if isinstance(error, PoolcliError) else f"{name}: {error}"


def _error_line(name: str, error: Exception) -> str:
    return f"poolcli: {_error_message(name, error)}"


# --- global

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
@click.option(
    "--op", type=click.Choice(("avg", "max")), default="avg", show_default=True, help="The value."
)
@click.option(
    "--alpha",
    type=click.Choice(("premultiply", "straight")),
    default="premultiply",
    show_default=True,
    help="avg of images with transparency: weigh each colour by its alpha, or not.",
)
@click.option("--output", "-o", metavar="FILE|DIR|-", help="Also write the 1x1 result here.")
@click.option(
    "--format",
    type=click.Choice(FORMATS, case_sensitive=False),
    help="Format of the 1x1 result.  [default: from the output name, else the input's]",
)
@click.option(
    "--report",
    type=click.Choice(_REPORTS),
    default="text",
    show_default=True,
    help="text: one line per input; json: one object per line.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print no 'wrote' messages.")
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    metavar="N",
    help="Accept images of up to N pixels (Pillow's default guard: about 89 million).",
)
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
    name = STDIN_NAME if source == "-" else source
    to_stdout = output == "-"

    from . import adaptive, imageio, pipeline  # numpy and Pillow: only once there is work to do

    try:
        array, info = imageio.load_image(_input_file(source), max_pixels=max_pixels)
        if op == "avg" and pipeline.has_alpha(info):
            # One window over the whole plane: the pipeline pools premultiplied colour.
            result = pipeline.pool_image(array, info, op, alpha=alpha, size=array.shape[-2:])
        else:
            result = adaptive.global_pool(array, op)
        names = _channel_names(info, array.shape[1])
        frames = [_values_text(result[n, :, 0, 0]) for n in range(result.shape[0])]
        if report == "json":
            line = {
                "input": name,
                "op": op,
                "shape": list(array.shape),
                "channels": list(names),
                "values": [[json.loads(value) for value in frame] for frame in frames],
            }
            click.echo(_dumps(line), err=to_stdout)
        else:
            label = info.kind == "image" or len(names) > 1
            for index, frame in enumerate(frames):
                where = name if len(frames) == 1 else f"{name} frame {index}"
                values = [f"{n}={v}" if label else v for n, v in zip(names, frame, strict=True)]
                click.echo(f"{where}: {op} {' '.join(values)}", err=to_stdout)
        if output is not None:
            if to_stdout:
                destination: Any = sys.stdout.buffer
                fmt = format or _own_format(info)
                if fmt is None:
                    raise CommandLineError(f"-o - needs --format ({_STDOUT_FORMATS})")
            elif os.path.isdir(output):
                if source == "-":
                    raise CommandLineError(f"-o {output} is a folder; standard input needs -o FILE")
                path = _default_output(source, "global", info, format)
                destination, fmt = os.path.join(output, os.path.basename(path)), format
            else:
                if source != "-" and _same_file(source, output):
                    raise CommandLineError(
                        f"refusing to write over the input {source}; choose another --output"
                    )
                destination, fmt = output, format
            imageio.save_image(destination, result, info, format=fmt)
            if not to_stdout and not quiet:
                click.echo(
                    f"poolcli: wrote {_change(destination, array.shape, result.shape)}", err=True
                )
        return True
    except (PoolcliError, ValueError) as error:
        click.echo(_error_line(name, error), err=True)
        if report == "json":
            click.echo(
                _dumps(error_report(name, _error_message(name, error), op=op)), err=to_stdout
            )
        return False


# --- adaptive and fractional: pool to a size, write like the pooling commands


@dataclass(frozen=True)
class _WriteOptions:
    """Where and how adaptive and fractional write: the fields :func:`_target` reads."""

    output: str | None
    format: str | None
    quality: int | None
    quiet: bool
    max_pixels: int | None


def _write_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
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
        click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and a matrix."),
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


def _resize_one(
    op: str,
    source: str,
    options: _WriteOptions,
    compute: Callable[[str, Any], Any],
    note: str = "",
) -> bool:
    """Load one input, ``compute(name, array)``, write the result; False when the input failed.

    ``compute`` raises CommandLineError for an option that does not fit this input (exit 2).
    """
    name = STDIN_NAME if source == "-" else source
    output = options.output
    if output not in (None, "-") and source != "-" and _same_file(source, output):
        raise CommandLineError(
            f"refusing to write over the input {source}; choose another --output"
        )
    if output == "-":
        _refuse_terminal()

    from . import imageio  # numpy and Pillow: only once there is work to do

    try:
        array, info = imageio.load_image(_input_file(source), max_pixels=options.max_pixels)
        target = _target(op, source, info, options)  # type: ignore[arg-type]
        if target.path is None and not target.matrix:
            _refuse_terminal()
        result = compute(name, array)
        if target.matrix:
            click.echo(imageio.format_matrix(result[0, 0]))
            if note and not options.quiet:
                click.echo(f"poolcli: {note}", err=True)
            return True
        destination = sys.stdout.buffer if target.path is None else target.path
        imageio.save_image(destination, result, info, format=target.format, quality=options.quality)
        if target.path is not None and not options.quiet:
            change = _change(target.path, array.shape, result.shape)
            click.echo(f"poolcli: wrote {change}{', ' + note if note else ''}", err=True)
        return True
    except (PoolcliError, ValueError) as error:
        click.echo(_error_line(name, error), err=True)
        return False


ADAPTIVE_SUMMARY = "Pool to a given output size, as PyTorch's adaptive pooling."

_ADAPTIVE_HELP = f"""{ADAPTIVE_SUMMARY}

Output cell i of an axis pools input cells floor(i*H/out) up to ceil((i+1)*H/out): windows of
(nearly) equal size that cover the whole input, for any output size up to the input's.

Writes STEM.adaptive.EXT next to INPUT unless --output says otherwise; a .csv/.txt matrix is
printed.

{_EXIT_STATUS}

Examples:

\b
  poolcli adaptive photo.jpg --to 64x64 --op max    # writes photo.adaptive.jpg, 64x64
  poolcli adaptive lecture-4x4.csv --to 3
"""


@main.command("adaptive", help=_ADAPTIVE_HELP, short_help=ADAPTIVE_SUMMARY)
@click.argument("source", metavar="INPUT")
@click.option(
    "--to",
    "size",
    type=OutputSizeType(),
    required=True,
    metavar="N|HxW",
    help="Output height x width, at most the input's.",
)
@click.option(
    "--op", type=click.Choice(("avg", "max")), default="avg", show_default=True, help="The value."
)
@_write_options
@click.pass_context
def adaptive_command(
    ctx: click.Context, source: str, size: tuple[int, int], op: str, **options: Any
) -> None:
    from . import adaptive

    def compute(name: str, array: Any) -> Any:
        height, width = array.shape[-2:]
        if size[0] > height or size[1] > width:
            raise CommandLineError(
                f"--to {size[0]}x{size[1]} is larger than {name} ({height}x{width}, height x "
                "width); adaptive pooling only shrinks"
            )
        return adaptive.adaptive_pool(array, size, op)

    if not _resize_one("adaptive", source, _WriteOptions(**options), compute):
        ctx.exit(1)


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


@main.command("fractional", help=_FRACTIONAL_HELP, short_help=FRACTIONAL_SUMMARY)
@click.argument("source", metavar="INPUT")
@click.option("--ratio", type=RatioType(), metavar="R", help="Output size / input size, in (0, 1).")
@click.option(
    "--to", "to", type=OutputSizeType(), metavar="N|HxW", help="Output height x width instead."
)
@click.option("--seed", type=click.IntRange(min=0), metavar="N", help="Seed of the window starts.")
@click.option(
    "--size",
    "-k",
    type=PairType("size", "K"),
    default="2",
    show_default=True,
    metavar="K|KHxKW",
    help="Window height x width.",
)
@_write_options
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
    note = ""
    if seed is None:
        import secrets

        seed = secrets.randbelow(2**31)
        note = f"seed {seed}"

    from . import adaptive

    def compute(name: str, array: Any) -> Any:
        try:
            return adaptive.fractional_max_pool(array, size, to, ratio, seed=seed)
        except ValueError as error:
            raise CommandLineError(f"{name}: {error}") from None

    if not _resize_one("fractional", source, _WriteOptions(**options), compute, note):
        ctx.exit(1)


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
@click.option(
    "--report",
    type=click.Choice(_REPORTS),
    default="text",
    show_default=True,
    help="text: a block per input; json: one object per line.",
)
@click.pass_context
def info_command(ctx: click.Context, inputs: tuple[str, ...], report: str, **geometry: Any) -> None:
    from click.core import ParameterSource

    from . import info as probing  # Pillow and numpy: only once there is work to do

    pooled = any(
        ctx.get_parameter_source(key) not in (None, ParameterSource.DEFAULT) for key in geometry
    )
    failed = printed = False
    for source in inputs:
        name = STDIN_NAME if source == "-" else source
        try:
            facts = probing.probe(_input_file(source), name)
            shape = None
            if pooled:
                shape = resolve(
                    facts.shape[-2:],
                    geometry["size"],
                    geometry["stride"],
                    geometry["padding"],
                    geometry["dilation"],
                    geometry["ceil"],
                    geometry["pad_mode"],
                )
        except (PoolcliError, ValueError) as error:
            failed = True
            click.echo(_error_line(name, error), err=True)
            if report == "json":
                click.echo(_dumps(error_report(name, _error_message(name, error))))
            continue
        if report == "json":
            click.echo(_dumps(probing.info_report(facts, shape)))
        else:
            if printed:
                click.echo()  # a blank line between blocks
            click.echo(probing.info_text(facts, shape))
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
@click.option(
    "--p",
    type=PowerType(),
    default=2.0,
    show_default=True,
    metavar="P",
    help="The power of lp.",
)
@click.pass_context
def explain_command(
    ctx: click.Context, source: str | None, op: str, p: float, **geometry: Any
) -> None:
    from .explain import explain  # numpy: only once there is work to do

    name = None if source is None else STDIN_NAME if source == "-" else source
    matrix = None
    if source is not None:
        from . import imageio

        try:
            matrix, _ = imageio.load_image(_input_file(source))
        except (PoolcliError, ValueError) as error:
            click.echo(_error_line(str(name), error), err=True)
            ctx.exit(1)
    try:
        text = explain(
            matrix,
            op,
            size=geometry["size"],
            stride=geometry["stride"],
            padding=geometry["padding"],
            dilation=geometry["dilation"],
            ceil_mode=geometry["ceil"],
            pad_mode=geometry["pad_mode"],
            p=p,
        )
    except ValueError as error:
        raise CommandLineError(str(error) if name is None else f"{name}: {error}") from None
    click.echo(text)
