"""The work of one input: load, apply the recipe's task, save, report — as an :class:`Outcome`.

:func:`process` is everything a run does to one input, for every command: it takes a planned
:class:`~poolcli.batch.jobs.Job` and a :class:`~poolcli.batch.recipe.Recipe` (both plain data)
and returns an :class:`~poolcli.batch.jobs.Outcome` (plain data too), so it runs the same in a
thread, in another process, or on another machine.

>>> import os, tempfile
>>> from PIL import Image
>>> from poolcli.batch.jobs import Job, Target
>>> from poolcli.batch.recipe import Recipe
>>> from poolcli.imaging.tasks import Pooling
>>> folder = tempfile.mkdtemp()
>>> Image.new("L", (8, 6)).save(os.path.join(folder, "a.png"))
>>> job = Job(0, os.path.join(folder, "a.png"), "a.png", Target(os.path.join(folder, "b.png")))
>>> outcome = process(job, Recipe(Pooling("max")))
>>> outcome.status.value, os.path.basename(outcome.change)
('done', 'b.png (6x8 -> 3x4)')
"""

from __future__ import annotations

import io
import os
import stat
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from poolcli.batch import naming
from poolcli.batch.discovery import os_reason
from poolcli.batch.jobs import STDIN_NAME, Job, Outcome, PlanError, Status, Target
from poolcli.batch.recipe import Recipe
from poolcli.batch.report import (
    error_report,
    info_report,
    info_text,
    json_line,
    json_report,
    size_change,
    text_report,
)
from poolcli.batch.text import printable
from poolcli.core.geometry import Geometry
from poolcli.errors import InputError, OutputError, PoolcliError, worded
from poolcli.imaging.tasks import Comparison, GlobalPooling, Inspection, Pooling
from poolcli.io import formats

__all__ = ["Stopped", "pooled_shape", "process"]


class Stopped(Exception):
    """Raised between the steps of a job once its run is being stopped."""


def process(
    job: Job,
    recipe: Recipe,
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Do ``recipe`` to the input of ``job``; its report and messages as an :class:`Outcome`.

    Parameters
    ----------
    job : Job
        The input, and its target (decided here, once the input is loaded, when it has none).
    recipe : Recipe
        What to do to it.
    stdin, stdout : binary streams, optional
        Standard input and output, for ``-`` and a target without a path.
    stop : threading.Event, optional
        Once set, the job ends before its next step (load, pool, save) as CANCELLED; a chunked
        job (:mod:`poolcli.batch.large`) before its next chunk.
    progress : callable, optional
        ``progress(done, total)``: the tasks of a chunked job done, as they are done.

    Returns
    -------
    Outcome
        DONE, SKIPPED (``recipe.skip_existing`` and the output exists), FAILED with the one-line
        message (any :class:`~poolcli.errors.PoolcliError` or ValueError: an input that cannot be
        read, a window larger than it, an output that cannot be written), or CANCELLED.

    Raises
    ------
    PlanError
        When the one input's output, decided once it is loaded, cannot be written at all (no
        format for standard output, image bytes for a terminal): a usage error.
    """
    if job.error is not None:
        return _failure(job, recipe, f"{job.name}: {job.error}", None)
    if not isinstance(recipe.task, Pooling):
        if formats.is_store(job.source):
            reason = f"a Zarr store is pooled by {CHUNKED_COMMANDS}"
            return _failure(job, recipe, f"{job.name}: {reason}", None)
        fmt = formats.by_name(_output_format(job, job.target) or "")
        if fmt is not None and fmt.chunked:
            reason = f"{fmt.pillow} outputs are written by {CHUNKED_COMMANDS}"
            return _failure(job, recipe, f"{job.name}: {reason}", None)
    if isinstance(recipe.task, Inspection):
        return _inspect(job, recipe, recipe.task, stdin)
    target = job.target
    if target is not None and _skips(target, recipe):
        return _skipped(job, recipe, target)
    if target is not None and (refused := _refusal(job, recipe, target)) is not None:
        return refused
    if _goes_chunked(job, recipe, target):
        return _process_large(job, recipe, target, stdin, stop, progress)
    loaded: tuple[tuple[int, ...], Any] | None = None
    try:
        _check(stop)
        source: Any = stdin if job.source == "-" else job.source
        quick = None if recipe.load.volume else recipe.task.quick()
        if quick is not None:
            if not isinstance(source, str):  # read once, for whichever way takes it
                source = io.BytesIO(_read_all(source, recipe))
            outcome = _process_picture(job, recipe, quick, source, target, stdout, stop)
            if outcome is not None:
                return outcome
            if not isinstance(source, str):
                source.seek(0)

        from poolcli.io import images  # numpy and Pillow: only once there is work to do

        if target is not None and target.path is not None:
            formats.image_format_for(target.path, target.format)  # fail before reading
        axes = _window_axes(recipe)
        array, info = images.load_image(source, **recipe.load.kwargs(), volumes=axes == 3)
        array = _as_volume(job, recipe, array, info, axes)
        loaded = (array.shape, info)
        limit = _pixel_limit(recipe)
        geometry = recipe.task.geometry(array.shape, limit)
        if target is None and job.writes:
            decided = _decided_target(job, recipe, info)
            if isinstance(decided, Outcome):
                return decided
            target = decided
        if recipe.dry_run and geometry is not None:
            out_shape = pooled_shape(array.shape, geometry)
            replaced = _replaces(target)
            return _done(
                job, recipe, target, array.shape, out_shape, geometry, info, replaced=replaced
            )
        _check(stop)
        if isinstance(recipe.task, Comparison):
            return _compare(job, recipe, recipe.task, array, info, target, stdout, stop, limit)
        result = recipe.task.apply(array, info, limit)
        del array
        printed = report = None
        if isinstance(recipe.task, GlobalPooling):
            printed, report = _global_values(job, recipe.task, recipe, loaded[0], result, info)
        writes = target is not None and not recipe.dry_run
        if writes and target is not None and target.matrix:
            matrix = images.format_matrix(result[0, 0])
            return _done(job, recipe, target, loaded[0], result.shape, geometry, info, matrix)
        replaced = _replaces(target)
        if writes and target is not None:
            _check(stop)
            images.save_image(
                _destination(job, target, stdout),
                result[0].swapaxes(0, 1) if recipe.load.volume else result,  # depth as frames
                info,
                format=target.format,
                scale=None if geometry is None else _plane_scale(geometry),
                **recipe.save.kwargs(),
            )
        return _done(
            job,
            recipe,
            target,
            loaded[0],
            result.shape,
            geometry,
            info,
            None,
            printed,
            report,
            replaced=replaced,
        )
    except Stopped:
        return Outcome(job.index, job.name, Status.CANCELLED)
    except PlanError:
        raise
    except (PoolcliError, ValueError) as error:
        message = _message(job.name, error, recipe.flags) + _in_parts_hint(job, recipe, error)
        return _failure(job, recipe, message, loaded)
    except MemoryError:
        return _failure(job, recipe, f"{job.name}: not enough memory", loaded)


def _in_parts_hint(job: Job, recipe: Recipe, error: Exception) -> str:
    """How to pool an image past the default pixel limit in a format decoded only whole."""
    over = isinstance(error, PoolcliError) and "max_pixels" in error.parameters
    if not over or recipe.load.max_pixels is not None or not isinstance(recipe.task, Pooling):
        return ""
    found = formats.for_path(job.source)
    if found is not None and found.name == "tiff":
        return ", or install the chunked extra to pool it in parts: " + CHUNKED_INSTALL
    return (
        "; or convert it to a tiled TIFF, which is pooled in parts "
        "(vips tiffsave IN OUT.tif --tile --bigtiff)"
    )


#: The commands that pool in chunks.
CHUNKED_COMMANDS = "max, min, avg, sum, median, lp and mode"


def _window_axes(recipe: Recipe) -> int:
    """How many trailing axes the recipe's window pools (2 for tasks without a window)."""
    window = getattr(recipe.task, "window", None)
    return 2 if window is None else int(window.axes)


def _as_volume(job: Job, recipe: Recipe, array: Any, info: Any, axes: int) -> Any:
    """The loaded (N, C, H, W) ``array`` as the window pools it: with ``recipe.load.volume``
    its frames are the depth of one volume, (1, C, N, H, W). A window of three axes over an
    image's (C, H, W) would pool its channels together: refused (InputError)."""
    if recipe.load.volume:
        if axes != 3:
            raise InputError(
                job.name, "{volume} reads a volume: give a window of 3 axes (-k 2x2x2)", ("volume",)
            )
        return array.swapaxes(0, 1)[None]
    if axes == 3 and info.kind != "array":
        raise InputError(
            job.name,
            "a window of 3 axes pools a volume: read the frames of an image as its depth with "
            "{volume}, or give a .npy or Zarr array of 3 or more axes",
            ("volume",),
        )
    return array


def _plane_scale(geometry: Geometry) -> tuple[float, float]:
    """How much smaller the output's pixels are than the input's, (height, width): what the
    resolution (DPI) is divided by."""
    strides = geometry.strides
    return (1.0, float(strides[0])) if len(strides) == 1 else (strides[-2], strides[-1])


def pooled_shape(shape: tuple[int, ...], geometry: Geometry) -> tuple[int, ...]:
    """The shape pooling an array of ``shape`` over ``geometry`` gives: leading axes kept.

    >>> from poolcli.core.geometry import resolve
    >>> pooled_shape((1, 3, 8, 8, 8), resolve((8, 8, 8), size=(2, 2, 2)))
    (1, 3, 4, 4, 4)
    """
    kept = len(shape) - len(geometry.out_shape)
    return (*shape[:kept], *geometry.out_shape)


def _goes_chunked(job: Job, recipe: Recipe, target: Target | None) -> bool:
    """Whether the job is pooled in chunks (:func:`poolcli.batch.large.goes_chunked`)."""
    if not isinstance(recipe.task, Pooling):
        return False
    from poolcli.batch import large

    return large.goes_chunked(
        job.source, _output_format(job, target), recipe.memory_limit, _pixel_limit(recipe)
    )


CHUNKED_INSTALL = "pip install 'poolcli-image[chunked]'"
#: What a chunked job says when the chunked extra is not installed.
NEEDS_CHUNKED = "is pooled in parts, which needs the chunked extra: " + CHUNKED_INSTALL


def _output_format(job: Job, target: Target | None) -> str | None:
    """The output's format name, when the job already knows it (else None)."""
    if target is None:
        named, path = job.format, job.output
        if path is not None and (path == "-" or naming.names_folder(path)):
            path = None
    else:
        named, path = target.format, target.path
    found = formats.by_name(named) if named is not None else None
    if found is None and path is not None:
        found = formats.for_path(path)
    return None if found is None else found.name


def _process_large(
    job: Job,
    recipe: Recipe,
    target: Target | None,
    stdin: BinaryIO | None,
    stop: threading.Event | None,
    progress: Callable[[int, int], None] | None,
) -> Outcome:
    """The job of an input or output too large for memory, pooled in chunks."""
    try:
        from poolcli.batch import large
        from poolcli.chunked.stores import Stopped as ChunksStopped
    except ImportError:
        needs = NEEDS_CHUNKED
        if sys.version_info < (3, 11):
            needs += " (with Python 3.11 or later: zarr 3 needs it)"
        return _failure(job, recipe, f"{job.name}: {needs}", None)
    task = recipe.task
    assert isinstance(task, Pooling), "only pooling goes chunked"
    loaded: tuple[tuple[int, ...], Any] | None = None
    closing: Any = None
    try:
        _check(stop)
        load = recipe.load
        source: Any = stdin if job.source == "-" else job.source
        if source is None:
            raise ValueError("standard input is not available here")
        volumes = task.window.axes == 3
        opened = large.open_large(source, load.level, load.frame, load.max_pixels, volumes)
        closing = opened
        loaded = (opened.shape, opened.info)
        geometry = task.geometry(opened.shape, None)  # the memory is bounded, not the pixels
        if target is None:
            decided = _decided_target(job, recipe, opened.info)
            if isinstance(decided, Outcome):
                return decided
            target = decided
        if target.path is None:
            raise PlanError(f"{job.name} is pooled in chunks: give -o FILE, not standard output")
        fmt = _output_format(job, target)
        if fmt not in large.READ_IN_PARTS:
            raise OutputError(
                target.path,
                f"a result pooled in chunks is written as .zarr, .ome.zarr, .tif or .npy, "
                f"not {fmt}",
            )
        refused = _store_refusal(job, recipe, target)
        if refused is not None:
            return refused
        out_shape = pooled_shape(opened.shape, geometry)
        replaced = _replaces(target) or os.path.isdir(target.path)
        if not recipe.dry_run:
            large.write_large(
                opened,
                task,
                geometry,
                _destination(job, target, None),
                fmt,
                name=job.name,
                memory_limit=recipe.memory_limit,
                scheduler=recipe.scheduler,
                zarr_format=recipe.save.zarr_format,
                threads=recipe.threads,
                stop=stop,
                progress=progress,
                strip=recipe.save.strip,
            )
        return _done(
            job, recipe, target, opened.shape, out_shape, geometry, opened.info, replaced=replaced
        )
    except (Stopped, ChunksStopped):
        return Outcome(job.index, job.name, Status.CANCELLED)
    except PlanError:
        raise
    except (PoolcliError, ValueError) as error:
        return _failure(job, recipe, _message(job.name, error, recipe.flags), loaded)
    except MemoryError:
        return _failure(job, recipe, f"{job.name}: not enough memory", loaded)
    finally:
        if closing is not None:
            closing.close()


def _store_refusal(job: Job, recipe: Recipe, target: Target) -> Outcome | None:
    """The FAILED outcome of a job whose output folder is there: a folder that is no Zarr store
    is never replaced, a store only as a file would be (:func:`_refusal`)."""
    path = target.path
    if path is None or not os.path.isdir(path):
        return None
    if not formats.is_store(path, by_name=False) or os.path.islink(path):
        error = OutputError(path, "is a folder that is no Zarr store; it is not replaced")
    elif recipe.overwrite or target.named:
        return None
    else:
        error = OutputError(
            path,
            "exists; replace it with {overwrite} or keep it with {skip_existing}",
            ("overwrite", "skip_existing"),
        )
    return _failure(job, recipe, _message(job.name, error, recipe.flags), None)


def _process_picture(
    job: Job,
    recipe: Recipe,
    quick: Any,
    source: str | BinaryIO,
    target: Target | None,
    stdout: BinaryIO | None,
    stop: threading.Event | None,
) -> Outcome | None:
    """The job done by Pillow alone, without numpy (:mod:`poolcli.imaging.quick`); None,
    having written nothing, for an input or output it does not take."""
    from poolcli.io import pictures

    limit = _pixel_limit(recipe)
    loaded = quick.load(
        source, lambda shape: recipe.task.geometry(shape, limit), **recipe.load.kwargs()
    )
    if loaded is None:
        return None
    picture, info, geometry = loaded
    if target is None:
        decided = _decided_target(job, recipe, info)
        if isinstance(decided, Outcome):
            return decided
        target = decided
    if target.matrix:
        return None
    destination: Any = stdout if target.path is None else target.path
    fmt = pictures.output_format(destination, target.format, None, None)[1]
    if not quick.writes(fmt, picture.mode):
        return None
    in_shape = (1, len(picture.getbands()), picture.height, picture.width)
    out_shape = pooled_shape(in_shape, geometry)
    if recipe.dry_run:
        replaced = _replaces(target)
        return _done(job, recipe, target, in_shape, out_shape, geometry, info, replaced=replaced)
    _check(stop)
    result = quick.pool(picture, geometry)
    _check(stop)
    destination = _destination(job, target, stdout)
    replaced = _replaces(target)
    pictures.save_picture(
        destination,
        result,
        info,
        format=target.format,
        scale=geometry.stride,
        **recipe.save.kwargs(),
    )
    return _done(job, recipe, target, in_shape, out_shape, geometry, info, replaced=replaced)


def _inspect(job: Job, recipe: Recipe, task: Inspection, stdin: BinaryIO | None) -> Outcome:
    """What the input is, from its header: the info command's report."""
    from poolcli.io import images

    try:
        source: str | BinaryIO = job.source
        if job.source == "-":
            if stdin is None:
                raise ValueError("standard input is not available here")
            source = stdin
        header = images.read_header(source, max_pixels=recipe.load.max_pixels)
        geometry = task.geometry(header.shape, _pixel_limit(recipe))
    except PlanError:
        raise
    except (PoolcliError, ValueError) as error:
        return _failure(job, recipe, _message(job.name, error, recipe.flags), None)
    except MemoryError:
        return _failure(job, recipe, f"{job.name}: not enough memory", None)
    if recipe.report == "json":
        report = json_line(info_report(job.name, header, geometry))
    else:
        report = info_text(job.name, header, geometry)
    return Outcome(job.index, job.name, Status.DONE, report=report)


def _compare(
    job: Job,
    recipe: Recipe,
    task: Comparison,
    array: Any,
    info: Any,
    target: Target | None,
    stdout: BinaryIO | None,
    stop: threading.Event | None,
    limit: int | None,
) -> Outcome:
    """The compare picture of a loaded input, written to ``target``."""
    from poolcli.imaging import compare
    from poolcli.io import images

    assert target is not None, "a comparison always writes"
    picture = task.apply(array, info, limit)
    _check(stop)
    destination = _destination(job, target, stdout)
    replaced = _replaces(target)
    images.save_image(destination, *compare.picture_array(picture), format=target.format)
    change = f"{target.name} ({picture.height}x{picture.width})"
    return Outcome(job.index, job.name, Status.DONE, target.name, change, replaced=replaced)


def _global_values(
    job: Job,
    task: GlobalPooling,
    recipe: Recipe,
    in_shape: tuple[int, ...],
    result: Any,
    info: Any,
) -> tuple[str | None, str | None]:
    """What global prints of one input: a line per frame (text), or one JSON line."""
    from poolcli.io import images

    names = images.channel_names(info, in_shape[1])
    frames = [_values_text(result[n, :, 0, 0]) for n in range(result.shape[0])]
    if recipe.report == "json":
        import json

        line = {
            "input": job.name,
            "op": task.op,
            "shape": list(in_shape),
            "channels": list(names),
            "values": [[json.loads(value) for value in frame] for frame in frames],
        }
        return None, json_line(line)
    label = info.kind == "image" or len(names) > 1
    lines = []
    for index, frame in enumerate(frames):
        name = printable(job.name)
        where = name if len(frames) == 1 else f"{name} frame {index}"
        values = [f"{n}={v}" if label else v for n, v in zip(names, frame, strict=True)]
        lines.append(f"{where}: {task.op} {' '.join(values)}")
    return "\n".join(lines), None


def _values_text(values: Any) -> list[str]:
    """Each value as short text: integers plainly; floats to the digits their type holds
    (6 significant digits for float32, 15 for float64), shorter where fewer say the value
    exactly: the average of 8-bit pixels in float32 is ``124.989``, not ``124.98891``, and
    ``14.375`` stays ``14.375``."""
    import numpy as np

    if values.dtype.kind in "biu":
        return [str(int(v)) for v in values]
    digits = int(np.finfo(values.dtype).precision)
    return [
        np.format_float_positional(v, precision=digits, unique=True, fractional=False, trim="-")
        for v in values
    ]


def _decided_target(job: Job, recipe: Recipe, info: Any) -> Target | Outcome:
    """The target of the one input of a run, once loaded; its SKIPPED outcome instead when
    ``recipe.skip_existing`` finds that output written."""
    target = naming.target(
        job.source,
        info,
        op=recipe.name,
        output=job.output,
        format=job.format,
        default_format=recipe.default_format,
        terminal=recipe.terminal and not recipe.dry_run,
    )
    if _skips(target, recipe):
        return _skipped(job, recipe, target)
    refused = _refusal(job, recipe, target)
    return target if refused is None else refused


def _pixel_limit(recipe: Recipe) -> int | None:
    """The most pixels an input, its padded plane or its output may have: the recipe's
    ``max_pixels``, else Pillow's decompression-bomb limit (None: no limit)."""
    if recipe.load.max_pixels is not None:
        return recipe.load.max_pixels
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS


def _destination(job: Job, target: Target, stdout: BinaryIO | None) -> Any:
    """Where the bytes go: standard output, or the target's path (its folder made if asked)."""
    if target.path is None:
        return stdout
    if job.make_folder or job.target is None:  # a batch's mirrored tree; -o a/b/out.png, -o new/
        _make_folder(target.path)
    return target.path


def _read_all(stream: BinaryIO, recipe: Recipe) -> bytes:
    """Standard input whole, refused once past what an image under the pixel limit holds."""
    from poolcli.io import pictures

    return pictures.read_input(stream, STDIN_NAME, recipe.load.max_pixels, "empty input")


def _message(name: str, error: Exception, flags: tuple[tuple[str, str], ...]) -> str:
    """``INPUT: reason``, the library's parameter names worded as the caller names them."""
    text = worded(error, dict(flags))
    return text if isinstance(error, PoolcliError) else f"{name}: {text}"


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Stopped


def _skips(target: Target, recipe: Recipe) -> bool:
    return recipe.skip_existing and target.path is not None and os.path.lexists(target.path)


def _replaces(target: Target | None) -> bool:
    """Whether writing ``target`` replaces a file: a regular file, or a link, is in its place.

    A FIFO or a device there is written into, not replaced; a folder there fails the write.
    Only advisory: a file may appear or go between this look and the write.
    """
    if target is None or target.path is None:
        return False
    try:
        mode = os.stat(target.path).st_mode
    except OSError:
        return os.path.lexists(target.path)  # a link to nothing
    return stat.S_ISREG(mode)


def _refusal(job: Job, recipe: Recipe, target: Target) -> Outcome | None:
    """The FAILED outcome of an input whose output would replace a file nobody asked to
    replace; None when the output may be written."""
    if recipe.overwrite or target.named or not _replaces(target):
        return None
    assert target.path is not None
    error = OutputError(
        target.path,
        "exists; replace it with {overwrite} or keep it with {skip_existing}",
        ("overwrite", "skip_existing"),
    )
    return _failure(job, recipe, _message(job.name, error, recipe.flags), None)


def _make_folder(path: str) -> None:
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise OutputError(path, f"cannot create folder {folder}: {os_reason(exc)}") from None


def _done(
    job: Job,
    recipe: Recipe,
    target: Target | None,
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    geometry: Geometry | None,
    info: Any,
    matrix: str | None = None,
    printed: str | None = None,
    report: str | None = None,
    *,
    replaced: bool = False,
) -> Outcome:
    """The DONE outcome; ``replaced``: the output was (for a dry run: would be) written over a
    file, said by ``"replaced": true`` in a JSON report."""
    output = None if target is None else target.name
    facts = {
        "output_name": output,
        "output_shape": out_shape,
        "mode": info.mode,
        "dtype": info.dtype,
    }
    if isinstance(recipe.task, GlobalPooling):
        if replaced and recipe.report == "json" and report is not None:
            import json

            report = json_line({**json.loads(report), "output": output, "replaced": True})
    elif recipe.report == "text":
        report = text_report(job.name, in_shape, recipe.op_name, geometry, **facts)
    elif recipe.report == "json":
        lines = json_report(job.name, in_shape, recipe.op_name, geometry, **facts)
        report = json_line({**lines, "replaced": True} if replaced else lines)
    axes = 3 if geometry is not None and len(geometry.axes) == 3 else 2
    change = None if output is None else size_change(output, in_shape, out_shape, axes)
    return Outcome(
        job.index,
        job.name,
        Status.DONE,
        output,
        change,
        report=report,
        matrix=matrix,
        printed=printed,
        replaced=replaced,
    )


def _skipped(job: Job, recipe: Recipe, target: Target) -> Outcome:
    report = None
    if recipe.report == "json":
        report = json_line(
            {"input": job.name, "output": target.name, "op": recipe.op_name, "skipped": True}
        )
    return Outcome(job.index, job.name, Status.SKIPPED, target.name, report=report)


def _failure(
    job: Job, recipe: Recipe, message: str, loaded: tuple[tuple[int, ...], Any] | None
) -> Outcome:
    report = None
    if recipe.report == "json":
        shape, info = loaded if loaded is not None else (None, None)
        op = None if isinstance(recipe.task, Inspection) else recipe.op_name
        report = json_line(
            error_report(
                job.name,
                message,
                op=op,
                input_shape=shape,
                mode=None if info is None else info.mode,
                dtype=None if info is None else info.dtype,
            )
        )
    return Outcome(job.index, job.name, Status.FAILED, report=report, error=message)
