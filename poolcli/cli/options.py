"""The command line's options, shared by the commands that take them.

Each function returns a Click option decorator (or a list of them, added in order by
:func:`options`), so every command that takes ``--size`` takes the same ``--size``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from poolcli.cli.group import REPORTS, CommandLineError
from poolcli.cli.types import (
    AxesType,
    ByteSizeType,
    FormatType,
    NumberType,
    PaddingType,
    PadModeType,
)
from poolcli.io import formats as registry

if TYPE_CHECKING:
    from poolcli.core.geometry import Window


def all_of(options: list[Callable[..., Any]]) -> Callable[..., Any]:
    """One decorator that adds ``options`` in order."""

    def add(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return add


def size_option() -> Callable[..., Any]:
    return click.option(
        "--size",
        "-k",
        type=AxesType("size", "K"),
        default="2",
        show_default=True,
        metavar="K|KHxKW|KDxKHxKW",
        help="Window height x width; three values pool a volume (depth x height x width).",
    )


def geometry_options() -> list[Callable[..., Any]]:
    """--size, --stride, --padding, --dilation, --ceil, --pad-mode and --axes."""
    return [
        size_option(),
        click.option(
            "--stride",
            "-s",
            type=AxesType("stride", "S"),
            metavar="S|SHxSW|SDxSHxSW",
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
            type=AxesType("dilation", "D"),
            default="1",
            show_default=True,
            metavar="D|DHxDW|DDxDHxDW",
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
            "--axes",
            type=click.IntRange(1, 3),
            metavar="1|2|3",
            help="How many trailing axes the window pools: 1 a signal (.npy, one-row .csv), 3 a "
            "volume.  [default: as many as --size has values; 2 for one]",
        ),
    ]


#: The window options whose values say how many axes the window pools.
_PER_AXIS = (("size", "--size"), ("stride", "--stride"), ("dilation", "--dilation"))


def window_of(parsed: Mapping[str, Any]) -> Window:
    """The :class:`~poolcli.core.geometry.Window` of the values of :func:`geometry_options`.

    The window pools as many axes as its options have values (``-k 2x2x2``: three) or
    ``--axes`` says; options that disagree are a usage error.
    """
    from poolcli.core.geometry import Window

    counts = {
        flag: len(parsed[name]) for name, flag in _PER_AXIS if isinstance(parsed.get(name), tuple)
    }
    padding = parsed["padding"]
    if isinstance(padding, tuple) and len(padding) in (3, 6):  # per axis, or six sides
        counts["--padding"] = 3
    if parsed.get("axes") is not None:
        counts["--axes"] = parsed["axes"]
    if len(set(counts.values())) > 1:
        given = ", ".join(f"{flag} {count}" for flag, count in counts.items())
        raise CommandLineError(
            f"the window options give different numbers of axes ({given}); give each one "
            "value or one per axis"
        )
    count = next(iter(counts.values()), 2)

    def per_axis(value: Any) -> Any:
        return (value,) * count if isinstance(value, int) else value

    return Window.of(
        size=per_axis(parsed["size"]),
        stride=None if parsed["stride"] is None else per_axis(parsed["stride"]),
        padding=parsed["padding"],
        dilation=per_axis(parsed["dilation"]),
        ceil_mode=parsed["ceil"],
        pad_mode=parsed["pad_mode"],
    )


#: The geometry options' names, as a command's keyword arguments.
GEOMETRY_KEYS = ("size", "stride", "padding", "dilation", "ceil", "pad_mode", "axes")


def p_option(help: str) -> Callable[..., Any]:
    return click.option(
        "--p",
        type=NumberType(math.inf, "a number above 0, e.g. 2 or 0.5"),
        default=2.0,
        show_default=True,
        metavar="P",
        help=help,
    )


def op_option() -> Callable[..., Any]:
    return click.option(
        "--op",
        type=click.Choice(("avg", "max")),
        default="avg",
        show_default=True,
        help="The value.",
    )


def alpha_option(help: str) -> Callable[..., Any]:
    return click.option(
        "--alpha",
        type=click.Choice(("premultiply", "straight")),
        default="premultiply",
        show_default=True,
        help=help,
    )


SHORT_ALPHA_HELP = "avg of images with transparency: weigh each colour by its alpha, or not."


def output_option(metavar: str, help: str) -> Callable[..., Any]:
    return click.option("--output", "-o", metavar=metavar, help=help)


def format_option(
    help: str = "Output format.  [default: from the output name, else the input's]",
    formats: tuple[str, ...] | None = None,
) -> Callable[..., Any]:
    """--format, one of ``formats`` (default: every format poolcli writes)."""
    names = registry.choices() if formats is None else formats
    return click.option("--format", type=FormatType(names), help=help)


def quality_option() -> Callable[..., Any]:
    return click.option(
        "--quality",
        type=click.IntRange(1, 100),
        metavar="Q",
        help="JPEG and WebP quality.  [default: 90]",
    )


def report_option(help: str, default: str | None = None) -> Callable[..., Any]:
    """--report text|json; without a default, a bare --report is text (see PoolCommand)."""
    if default is None:
        return click.option(
            "--report", type=click.Choice(REPORTS), is_flag=False, flag_value="text", help=help
        )
    return click.option(
        "--report", type=click.Choice(REPORTS), default=default, show_default=True, help=help
    )


WRITE_REPORT_HELP = "Print the shape report; json: one object a line.  [bare: text]"
WRITE_QUIET_HELP = "Print nothing but errors and what is asked for (--report, a matrix)."


def quiet_option(help: str) -> Callable[..., Any]:
    return click.option("--quiet", "-q", is_flag=True, help=help)


def max_pixels_option() -> Callable[..., Any]:
    return click.option(
        "--max-pixels",
        type=click.IntRange(min=1),
        metavar="N",
        help="Accept images of up to N pixels (Pillow's default guard: about 89 million).",
    )


def image_options(frames: str = "every frame") -> list[Callable[..., Any]]:
    """How an image is read and pooled: --alpha, --frame, --no-auto-orient, --max-pixels;
    ``frames``: what is taken without --frame."""
    return [
        alpha_option(
            "avg of images with transparency: premultiply weighs each colour by its "
            "alpha (no dark fringes); straight pools alpha as data, like any channel."
        ),
        click.option(
            "--frame",
            type=click.IntRange(min=0),
            metavar="K",
            help="Pool only frame K (0 is the first) of an animation or multi-page TIFF.  "
            f"[default: {frames}]",
        ),
        click.option(
            "--auto-orient/--no-auto-orient",
            default=True,
            help="Turn the image as its EXIF orientation says (default), or keep the stored "
            "pixel order and the tag.",
        ),
        max_pixels_option(),
    ]


def batch_options() -> list[Callable[..., Any]]:
    """Many inputs: --recursive, --jobs, --skip-existing, --overwrite, --files-from, --null,
    --scheduler."""
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
            "--overwrite",
            is_flag=True,
            help="Write over outputs that exist. Without it (or --skip-existing) an input whose "
            "output exists fails, unless -o named that file.",
        ),
        click.option(
            "--files-from",
            metavar="FILE|-",
            help="Also pool the paths listed in FILE (-: standard input), one a line.",
        ),
        click.option(
            "--null", "-0", is_flag=True, help="--files-from paths end in NUL (find -print0)."
        ),
        scheduler_option(),
    ]


def scheduler_option() -> Callable[..., Any]:
    """--scheduler ADDRESS: the batch on a Dask cluster (checked by :func:`run.run_inputs`)."""
    return click.option(
        "--scheduler",
        envvar="DASK_SCHEDULER_ADDRESS",
        show_envvar=True,
        metavar="tcp://HOST:PORT|local:N",
        help="Pool on the workers of this Dask scheduler (the cluster extra), or on N worker "
        "processes started here.",
    )


def pooling_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every pooling command shares."""
    add: Callable[[Callable[..., Any]], Callable[..., Any]] = all_of(
        [
            *geometry_options(),
            output_option(
                "FILE|DIR|-",
                "Output file; a folder (one input: STEM.OP.EXT in it; several: their own "
                "names, the tree mirrored); or - for standard output.",
            ),
            format_option(),
            quality_option(),
            click.option(
                "--strip",
                is_flag=True,
                help="Write no metadata: no ICC colour profile, EXIF or resolution.",
            ),
            report_option(WRITE_REPORT_HELP),
            click.option("--dry-run", is_flag=True, help="Load and report; write nothing."),
            quiet_option(WRITE_QUIET_HELP),
            *batch_options(),
            *image_options(),
            *chunked_options(),
        ]
    )
    return add(func)


def chunked_options() -> list[Callable[..., Any]]:
    """Images larger than memory: --memory-limit, --level, --zarr-format."""
    return [
        click.option(
            "--volume",
            is_flag=True,
            help="Read the pages of a TIFF (the frames of an image) as the depth of one volume, "
            "for a window of 3 axes (-k 2x2x2); written back as pages.",
        ),
        click.option(
            "--memory-limit",
            type=ByteSizeType(),
            metavar="SIZE",
            help="Pool a TIFF or .npy larger than SIZE decoded (e.g. 4G) in chunks, in bounded "
            "memory; Zarr inputs and .zarr/.ome.zarr outputs always are.  "
            "[default: a quarter of this machine's memory]",
        ),
        click.option(
            "--level",
            type=click.IntRange(min=0),
            metavar="K",
            help="Read resolution level K of an OME-Zarr input.  [default: 0, the full one]",
        ),
        click.option(
            "--zarr-format",
            type=click.Choice(["2", "3"]),
            default="3",
            show_default=True,
            help="The Zarr format of .zarr and .ome.zarr outputs (2: OME-Zarr 0.4, 3: 0.5).",
        ),
    ]


def resize_options() -> list[Callable[..., Any]]:
    """What adaptive and fractional share: where and how they write, many inputs, the limit."""
    return [
        output_option(
            "FILE|DIR|-",
            "Output file, a folder to write STEM.OP.EXT in, or - for standard output.",
        ),
        format_option(),
        quality_option(),
        report_option(WRITE_REPORT_HELP),
        quiet_option(WRITE_QUIET_HELP),
        *batch_options(),
        max_pixels_option(),
    ]
