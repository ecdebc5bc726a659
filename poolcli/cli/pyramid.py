"""``poolcli pyramid``: every level of a multiscale image, exact, from one pass over the input.

The input side is one call, :func:`open_input` (path -> a Dask array and the image's
:class:`~poolcli.io.metadata.ImageInfo`); the levels are :func:`poolcli.chunked.pyramid`'s; the
output, by its name, one of the writers of :mod:`poolcli.chunked.multiscale`. Built only when
asked for, like the other commands; numpy, Dask and the writers load when there is work.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from poolcli.batch.text import printable
from poolcli.cli import interrupts
from poolcli.cli.group import CommandLineError
from poolcli.cli.types import AxesType, ParamType
from poolcli.errors import InputError, OutputError, PoolcliError

if TYPE_CHECKING:
    import dask.array as da

    from poolcli.io.metadata import ImageInfo

__all__ = [
    "FLAGS",
    "OUTPUT_KINDS",
    "Input",
    "open_image",
    "open_input",
    "output_kind",
    "pyramid_command",
]

PYRAMID_OPS = ("avg", "max", "min", "mode", "median", "nearest")

#: Output names -> what is written.
OUTPUT_KINDS = {".ome.zarr": "ome-zarr", ".zarr": "ome-zarr", ".tif": "tiff", ".tiff": "tiff"}
OUTPUT_KINDS[".dzi"] = "dzi"

#: How the tiles of a TIFF pyramid may be compressed (tifffile's names; none, as libvips).
TIFF_COMPRESSIONS = ("none", "zlib", "zstd", "lzw")

#: About the side of the input's chunks the levels are computed in (a task's work).
WORK_SIDE = 2048
#: The same for a volume's slices, its chunks :data:`poolcli.chunked.pyramid.DEPTH` deep.
VOLUME_WORK_SIDE = 512

#: The library's parameter names as this command spells them.
FLAGS = {
    "overwrite": "--overwrite",
    "max_pixels": "--max-pixels",
    "frame": "--frame",
    "levels": "--levels",
    "factor": "--factor",
    "chunk": "--chunk",
    "volume": "--volume",
}

SUMMARY = "Write a multiscale pyramid: OME-Zarr, tiled TIFF or Deep Zoom."

HELP = """Write a multiscale pyramid of INPUT to OUT, every level from one pass over INPUT.

Level L pools the input with windows of FACTOR**L (the last windows of a row or column pool
the pixels they have), rounded once to the input's type: levels never drift, and every level
keeps the input's dtype. avg averages exact sums; max, min, mode and nearest (the top-left
pixel of each window) keep labels labels: no level holds a value the input lacks. Each channel is
pooled on its own, alpha included (no premultiplying).

\b
OUT by its name:
  NAME.ome.zarr   OME-Zarr 0.5 on Zarr format 3 (0.4 on Zarr 2 with --zarr-format 2)
  NAME.tif(f)     tiled TIFF, the levels as SubIFDs of the first page
  NAME.dzi        Deep Zoom: NAME.dzi and NAME_files/, 254-pixel tiles, 8-bit, factor 2,
                  levels down to one pixel

Volumes: --factor DxHxW (e.g. 2x2x2, or 1x2x2 to keep every slice) pools depth too, of an
OME-Zarr or Zarr with a z axis, a .npy of 3 to 5 axes (D, H, W; C, D, H, W; N, C, D, H, W) or
a TIFF's pages with --volume; written as OME-Zarr (c, z, y, x), chunks one slice deep. An
OME-Zarr z-stack with a factor of two values keeps its slices (as 1xHxW).

--levels auto (the default) stops at the first level at most CHUNK x CHUNK pixels (y and x;
a volume's depth does not count).
The output is written under a temporary name and renamed into place when complete.

Examples:

\b
  poolcli pyramid scan.tif -o scan.ome.zarr
  poolcli pyramid labels.png -o labels.ome.zarr --op mode
  poolcli pyramid photo.jpg -o photo.dzi
  poolcli pyramid stack.ome.zarr -o stack-levels.ome.zarr --factor 2x2x2
"""


class LevelsType(ParamType):
    """``auto`` or a whole number of levels, at least 1 (level 0, the input, counts)."""

    name = "levels"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value == "auto":
            return value
        text = str(value).strip()
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r}; expected auto or a whole number of at least 1", param, ctx)


def output_kind(name: str) -> str:
    """What an output of ``name`` is: "ome-zarr", "tiff" or "dzi"; a usage error otherwise.

    >>> output_kind("scan.ome.zarr"), output_kind("a/b.TIF"), output_kind("x.dzi")
    ('ome-zarr', 'tiff', 'dzi')
    """
    lowered = os.path.normpath(name).lower()
    for suffix, kind in OUTPUT_KINDS.items():
        if lowered.endswith(suffix):
            return kind
    raise CommandLineError(
        f"-o {name}: a pyramid is written as NAME.ome.zarr, NAME.tif, NAME.tiff or NAME.dzi"
    )


@dataclass(frozen=True)
class Input:
    """An input opened for a pyramid: its lazy (N, C, H, W) array, or (N, C, D, H, W) for a
    volume, its info, what closes its files once computed, and the pixel size it gives (z, y, x)
    and its unit, if any (an OME-Zarr volume's scale)."""

    array: Any  # dask.array.Array
    info: ImageInfo
    close: Callable[[], None]
    pixel_size: tuple[float, ...] | None = None
    unit: str | None = None


def open_input(
    path: str, *, chunk: int, max_pixels: int | None = None, frame: int | None = None
) -> tuple[da.Array, ImageInfo, Callable[[], None]]:
    """The input as an (N, C, H, W) Dask array, its info, and what closes the files it reads
    once it is computed. Its chunks are whole numbers of ``chunk`` (those of the output),
    about 2048 pixels a side: fewer, larger tasks.

    Zarr, OME-Zarr, TIFF and .npy inputs are read in parts, lazily, whatever their size
    (:mod:`poolcli.chunked.sources`); other images are decoded whole by
    :func:`poolcli.io.images.load_image`, under its pixel limit. :func:`open_image` opens
    volumes too.
    """
    opened = open_image(path, chunk=chunk, max_pixels=max_pixels, frame=frame)
    return opened.array, opened.info, opened.close


def open_image(
    path: str,
    *,
    chunk: int,
    max_pixels: int | None = None,
    frame: int | None = None,
    volumes: bool = False,
    pages: bool = False,
    depth: bool = False,
) -> Input:
    """The input as :func:`open_input` opens it, or as a volume, (N, C, D, H, W):

    - ``volumes``: an OME-Zarr image's (or a named Zarr array's) z axis read as D, its scale
      on z, y and x carried (a plane image stays (N, C, H, W));
    - ``pages``: the frames (a TIFF's pages) are the depth of one volume, (1, C, N, H, W);
    - ``depth``: the input must be a volume: a .npy or Zarr array of 3 axes is (D, H, W), of 4
      (C, D, H, W); an image that is none is an InputError.

    A volume's chunks are whole numbers of ``chunk`` on y and x (about 512 pixels a side), a
    few slices deep.
    """
    from poolcli import chunked
    from poolcli.chunked import sources
    from poolcli.chunked.pyramid import DEPTH

    side = chunk * max(1, WORK_SIDE // chunk)
    if sources.kind_of(path) is not None:
        opened = sources.open_source(path, frame=frame, volumes=volumes or depth)
        lazy: Any = opened.array
        info = opened.info
        close: Callable[[], None] = opened.close
        pixel_size = None
        if opened.scale is not None:  # an OME-Zarr's pixel size (z, y, x or y, x) carried on
            slices = (opened.depth_scale or 1.0,) if lazy.ndim == 5 else ()
            pixel_size = (*slices, *opened.scale)
        unit = opened.unit if pixel_size is not None else None
    else:
        from poolcli.io import images

        array, info = images.load_image(path, max_pixels=max_pixels, frame=frame)
        lazy = chunked.as_dask(array, chunks=(1, 1, side, side))
        close, pixel_size, unit = (lambda: None), None, None
    if pages and lazy.ndim == 5:
        close()
        raise InputError(path, "has a z axis: {volume} is for the pages of a TIFF", ("volume",))
    if pages:
        lazy = lazy.transpose(1, 0, 2, 3)[None]  # the frames as depth, as --volume reads them
    elif depth and lazy.ndim == 4:
        if info.kind != "array" or info.ndim < 3:
            close()
            rank = f"{info.ndim} axes" if info.kind == "array" else "an image"
            raise InputError(
                path,
                f"a factor of 3 values pools a volume, and this is {rank}: give an OME-Zarr or "
                "Zarr with a z axis, a .npy of 3 to 5 axes, or a TIFF's pages with {volume}",
                ("volume",),
            )
        lazy = lazy[None] if info.ndim == 4 else lazy.reshape((1, 1, *lazy.shape[1:]))
    if lazy.ndim == 5:
        plane = chunk * max(1, VOLUME_WORK_SIDE // chunk)
        chunks = (1, 1, DEPTH, plane, plane)
        return Input(lazy.rechunk(chunks, method="tasks"), info, close, pixel_size, unit)
    if sources.kind_of(path) is not None:
        lazy = lazy.rechunk((1, 1, side, side), method="tasks")
    return Input(lazy, info, close, pixel_size, unit)


def _pixel_size(
    dpi: tuple[float, float] | None,
) -> tuple[tuple[float, float] | None, str | None]:
    """The input's pixel size (y, x) in micrometres, from its resolution, when it has one."""
    if dpi is None or not all(d and d > 0 for d in dpi):
        return None, None
    horizontal, vertical = dpi
    return (25400.0 / vertical, 25400.0 / horizontal), "micrometer"


@click.command("pyramid", help=HELP, short_help=SUMMARY)
@click.argument("source", metavar="INPUT")
@click.option("--output", "-o", required=True, metavar="OUT", help="The pyramid to write.")
@click.option(
    "--op",
    type=click.Choice(PYRAMID_OPS),
    default="avg",
    show_default=True,
    help="How each window is pooled; mode, max, min or nearest for labels.",
)
@click.option(
    "--levels",
    type=LevelsType(),
    default="auto",
    show_default=True,
    metavar="N|auto",
    help="Levels to write, the input included.",
)
@click.option(
    "--factor",
    type=AxesType("the factor", "N"),
    default="2",
    show_default=True,
    metavar="N|NHxNW|NDxNHxNW",
    help="How much each level shrinks the one above, at least 2; three values pool a volume's "
    "depth too (its factor may be 1).",
)
@click.option(
    "--chunk",
    type=click.IntRange(min=16),
    default=512,
    show_default=True,
    metavar="N",
    help="Chunk and tile side of the output; auto levels stop at one chunk.",
)
@click.option(
    "--zarr-format",
    type=click.Choice(("2", "3")),
    default="3",
    show_default=True,
    help="OME-Zarr on Zarr format 3 (OME-Zarr 0.5) or 2 (OME-Zarr 0.4).",
)
@click.option(
    "--compression",
    type=click.Choice(TIFF_COMPRESSIONS),
    default="none",
    show_default=True,
    help="Tiles of a TIFF pyramid.",
)
@click.option(
    "--tile-format",
    type=click.Choice(("jpeg", "png")),
    default="jpeg",
    show_default=True,
    help="Deep Zoom tiles.",
)
@click.option(
    "--quality",
    type=click.IntRange(1, 100),
    default=75,
    show_default=True,
    metavar="Q",
    help="JPEG quality of Deep Zoom tiles.",
)
@click.option("--frame", type=click.IntRange(min=0), metavar="K", help="Only frame K of the input.")
@click.option(
    "--volume",
    is_flag=True,
    help="Read the pages of a TIFF (the frames of an image) as the depth of one volume.",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    metavar="N",
    help="Accept images of up to N pixels (Pillow's default guard: about 89 million).",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N", help="Threads.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.pass_context
def pyramid_command(ctx: click.Context, /, source: str, output: str, **options: Any) -> None:
    kind = output_kind(output)
    given = options["factor"]
    factor: tuple[int, ...] = (given, given) if isinstance(given, int) else tuple(given)
    options["factor"] = factor
    spelled = "x".join(map(str, factor))
    if len(factor) == 2 and min(factor) < 2:
        raise CommandLineError(f"--factor {spelled}: each factor must be at least 2")
    if len(factor) == 3 and min(factor[1:]) < 2:
        raise CommandLineError(f"--factor {spelled}: the y and x factors must be at least 2")
    if (len(factor) == 3 or options["volume"]) and kind != "ome-zarr":
        raise CommandLineError(f"-o {output}: a pyramid of a volume is written as NAME.ome.zarr")
    if kind == "dzi":
        if factor != (2, 2):
            raise CommandLineError("Deep Zoom levels halve: --factor must be 2 for NAME.dzi")
        if options["levels"] != "auto":
            raise CommandLineError("Deep Zoom has every level down to one pixel: drop --levels")
    if kind != "tiff" and options["compression"] != "none":
        raise CommandLineError(
            f"--compression {options['compression']} is for TIFF outputs: OME-Zarr chunks are "
            "Blosc-compressed, Deep Zoom tiles JPEG or PNG"
        )
    if os.path.abspath(source) == os.path.abspath(output):
        raise CommandLineError(f"-o {output}: the output would replace INPUT")
    name = "<stdin>" if source == "-" else source
    try:
        levels_written = _write(source, output, kind, options)
    except interrupts.Interrupted as stop:
        click.echo(printable(f"poolcli: {output}: stopped, nothing written"), err=True)
        if interrupts.running_as_poolcli():
            # Everything is removed already. A stop inside one of Zarr's calls leaves coroutines
            # of its I/O thread that would print warnings as the interpreter shuts down.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(interrupts.exit_status(stop))
        ctx.exit(interrupts.exit_status(stop))
    except PoolcliError as error:
        click.echo(printable(f"poolcli: {error.worded(FLAGS)}"), err=True)
        ctx.exit(1)
    except (ValueError, OSError) as error:
        click.echo(printable(f"poolcli: {name}: {error}"), err=True)
        ctx.exit(1)
    if not options["quiet"]:
        shapes = ", ".join("x".join(map(str, shape)) for shape in levels_written)
        count = len(levels_written)
        said = f"{count} level{'s' * (count != 1)}"
        click.echo(printable(f"poolcli: wrote {output}: {said} ({shapes})"), err=True)


def _write(source: str, output: str, kind: str, options: dict[str, Any]) -> list[tuple[int, ...]]:
    """Read, pool and write; returns each level's height and width (depth first for a volume)."""
    if source == "-":
        raise InputError("<stdin>", "a pyramid reads a file: name INPUT")
    taken = [output]
    if kind == "dzi":
        taken.append(output[: -len(".dzi")] + "_files")
    for name in taken:  # before the input is read
        if os.path.lexists(name) and not options["overwrite"]:
            raise OutputError(name, "exists; replace it with {overwrite}", ("overwrite",))
    streamed = _write_streamed(source, output, kind, options)
    if streamed is not None:
        return streamed
    from poolcli import chunked
    from poolcli.chunked import multiscale
    from poolcli.io import deepzoom

    chunk: int = options["chunk"]
    factor: tuple[int, ...] = options["factor"]
    opened = open_image(
        source, chunk=chunk, max_pixels=options["max_pixels"], frame=options["frame"],
        volumes=kind == "ome-zarr", pages=options["volume"], depth=len(factor) == 3,
    )  # fmt: skip
    array, info, close = opened.array, opened.info, opened.close
    if array.ndim == 5:
        if kind != "ome-zarr":
            close()
            raise OutputError(output, "a pyramid of a volume is written as NAME.ome.zarr")
        factor = factor if len(factor) == 3 else (1, *factor)  # a z-stack keeps its slices
    try:
        levels_option: int | str = options["levels"]
        if kind == "dzi":
            levels_option = deepzoom.dzi_levels(array.shape)
        levels = chunked.pyramid(array, options["op"], levels_option, factor, chunk)
        common = {"overwrite": options["overwrite"], "workers": options["jobs"]}
        if kind == "ome-zarr":
            pixel_size: tuple[float, ...] | None
            pixel_size, unit = _pixel_size(info.dpi)
            if opened.pixel_size is not None:
                pixel_size, unit = opened.pixel_size, opened.unit
            multiscale.write_ome_zarr(
                output,
                levels,
                op=options["op"],
                factor=factor,
                zarr_format=int(options["zarr_format"]),
                chunk=chunk,
                pixel_size=pixel_size,
                unit=unit,
                arguments={"levels": len(levels), "chunk": chunk},
                **common,
            )
        elif kind == "tiff":
            multiscale.write_tiff(
                output,
                levels,
                tile=chunk,
                compression=_compression(options),
                dpi=info.dpi,
                factor=options["factor"],
                **common,
            )
        else:
            multiscale.write_dzi(
                output,
                levels,
                tile_format=options["tile_format"],
                quality=options["quality"],
                **common,
            )
    finally:
        close()
        multiscale.remove_unfinished()
    return [tuple(int(n) for n in level.shape[level.ndim - len(factor) :]) for level in levels]


def _write_streamed(
    source: str, output: str, kind: str, options: dict[str, Any]
) -> list[tuple[int, ...]] | None:
    """Write the pyramid in one streamed pass (:mod:`poolcli.streaming.pyramids`) where it can
    be: levels that cascade (avg, max, min, nearest) of one image of a plane, to OME-Zarr or a
    TIFF of 1, 3 or 4 channels. None where it cannot: the caller computes it in chunks."""
    from poolcli.core.bands import STREAMED_OPS

    factor = options["factor"]
    if options["op"] not in STREAMED_OPS or options["frame"] is not None:
        return None
    if len(factor) != 2 or options["volume"]:
        return None
    from poolcli.streaming import pyramids
    from poolcli.streaming.allocator import keep_freed_memory

    keep_freed_memory()  # this process streams bands: freed memory is reused, not faulted in
    opened = pyramids.open_base(source, max_pixels=options["max_pixels"])
    if opened is None:
        return None
    try:
        if kind == "tiff" and opened.rows.shape[0] not in (1, 3, 4):
            return None
        common: dict[str, Any] = {
            "op": options["op"],
            "levels": options["levels"],
            "factor": factor,
            "overwrite": options["overwrite"],
            "threads": options["jobs"],
        }
        chunk: int = options["chunk"]
        if kind == "dzi":
            if opened.rows.dtype != "uint8":  # the chunked writer says what Deep Zoom holds
                return None
            del common["levels"], common["factor"]
            shapes = pyramids.write_dzi(
                output,
                opened.rows,
                tile_format=options["tile_format"],
                quality=options["quality"],
                **common,
            )
        elif kind == "ome-zarr":
            pixel_size, unit = _pixel_size(opened.dpi)
            shapes = pyramids.write_ome_zarr(
                output,
                opened.rows,
                chunk=chunk,
                zarr_format=int(options["zarr_format"]),
                pixel_size=pixel_size,
                unit=unit,
                arguments={"chunk": chunk},  # and the levels, once they are counted
                **common,
            )
        else:
            shapes = pyramids.write_tiff(
                output,
                opened.rows,
                tile=chunk,
                compression=_compression(options),
                dpi=opened.dpi,
                **common,
            )
    finally:
        opened.close()
    return [(int(shape[-2]), int(shape[-1])) for shape in shapes]


def _compression(options: dict[str, Any]) -> str | None:
    chosen: str = options["compression"]
    return None if chosen == "none" else chosen
