"""Batches: inputs to jobs, output paths, workers, progress, errors and signals.

The command line's ``poolcli OP INPUT...`` in two steps, usable without it:

:func:`plan` turns what the user named (files, folders, globs, a list of paths) into
:class:`Job` objects, each with the output it will write, and refuses a batch that would go wrong
before any work starts: two inputs written to one output, an output folder inside a folder being
searched, an output over an input (:class:`PlanError`).

:func:`run` does the jobs with a few worker threads, prints in input order whatever the number of
workers, draws a progress bar, and stops cleanly on SIGINT or SIGTERM. :func:`process` is the work
of one input (load, pool, save, report); everything the command line does to an input happens
there.

Which files count as images when a folder or glob is searched: the extensions Pillow can open
(:func:`image_extensions`, any case) and .npy. Hidden files and folders (a name starting with
".") are left out, and links to folders are not followed, so a link loop cannot trap a walk. A
file named directly is always an input, whatever its name.

Output names (:func:`plan`):

- one input: decided once it is loaded (``target_for``), by the command line's rules
  (:func:`target`);
- several inputs without an output folder: ``STEM.OP.EXT`` beside each input;
- several inputs with an output folder: the input's name (the extension changed by ``format``)
  in the folder, below it the input's path relative to the folder or glob base it was found in;
  a file named directly keeps its name only, and a path read from a list keeps its relative
  path (as ``cpio -pd`` does) unless it is absolute or climbs out with "..".

Examples
--------
>>> import os, tempfile
>>> from PIL import Image
>>> folder = tempfile.mkdtemp()
>>> for name in ("a.png", "b.jpg", "notes.txt", ".hidden.png"):
...     Image.new("L", (4, 4)).save(os.path.join(folder, name), format="PNG")
>>> batch = plan([folder], op="max", output=os.path.join(folder, "small"), format="png")
>>> [(os.path.basename(job.name), os.path.relpath(job.target.path, folder)) for job in batch.jobs]
[('a.png', 'small/a.png'), ('b.jpg', 'small/b.png')]
"""

from __future__ import annotations

import contextlib
import enum
import fnmatch
import functools
import glob
import io
import os
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from poolcli.core.geometry import Geometry
from poolcli.errors import CLI_FLAGS, OutputError, PoolcliError
from poolcli.report import error_report, json_line, json_report, size_change, text_report

if TYPE_CHECKING:
    from poolcli.imaging.quick import QuickPooling

__all__ = [
    "FORMAT_EXTENSIONS",
    "OWN_FORMATS",
    "Console",
    "Job",
    "Outcome",
    "Plan",
    "PlanError",
    "Recipe",
    "Status",
    "Summary",
    "Target",
    "check_output",
    "default_workers",
    "image_extensions",
    "own_format",
    "plan",
    "process",
    "run",
    "target",
]

#: A --format value -> the extension of the files it writes.
FORMAT_EXTENSIONS = {
    "png": ".png",
    "jpeg": ".jpg",
    "webp": ".webp",
    "tiff": ".tiff",
    "gif": ".gif",
    "npy": ".npy",
    "csv": ".csv",
}
#: Pillow format of an input -> the --format it is written back as (MPO: a phone's JPEG).
OWN_FORMATS = {
    "PNG": "png",
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "WEBP": "webp",
    "TIFF": "tiff",
    "GIF": "gif",
}
STDIN_NAME = "<stdin>"
STDOUT_NAME = "<stdout>"
#: The --format values standard output takes, as errors name them.
STDOUT_FORMATS = "png, jpeg, webp, tiff, gif, npy"

# Pillow formats registered for an extension that cannot give pixels here: stubs that need a
# handler poolcli never installs, and video.
_NOT_IMAGES = frozenset({"BUFR", "GRIB", "HDF5", "MPEG", "WMF"})
# Jobs in flight per worker: enough to keep every worker busy, few enough that a stop is quick.
_AHEAD = 2
_MAGIC = frozenset("*?[")


class PlanError(ValueError):
    """A batch that must not start: the message says why, naming the inputs and outputs."""


class Status(str, enum.Enum):
    """What became of one input."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped by a signal before its output was written


@dataclass(frozen=True)
class Target:
    """Where a result goes: a file, standard output as bytes, or printed as a matrix."""

    path: str | None = None  # None: standard output
    format: str | None = None  # a --format value; None: from the path's extension
    matrix: bool = False

    @property
    def name(self) -> str:
        return STDOUT_NAME if self.path is None else self.path


@dataclass(frozen=True)
class Job:
    """One input of a batch, and where its result goes."""

    index: int
    source: str  # a path, or "-" for standard input
    name: str  # as messages and reports name it
    target: Target | None = None  # None: decided once the input is loaded (one input only)
    error: str | None = None  # the reason it failed before any work, e.g. "no images found"
    make_folder: bool = False  # create the target's folder if missing (mirrored trees)


@dataclass(frozen=True)
class Plan:
    """The jobs of a run, in input order."""

    jobs: tuple[Job, ...]
    batch: bool  # several inputs, a folder, a glob or a list: -o names a folder
    output_folder: str | None = None  # created by run() before the first job

    @property
    def found(self) -> int:
        """How many inputs there are to work on (not counting arguments that found nothing)."""
        return sum(job.error is None for job in self.jobs)


@dataclass(frozen=True)
class Recipe:
    """What to do to every input.

    Attributes
    ----------
    op : str
        The op's name, for reports and default output names.
    pool : callable
        ``pool(array, info) -> result``: the pooling of one loaded input.
    geometry : callable or None
        ``geometry((H, W)) -> Geometry``: the window over an input of that size, for the report
        and the checks made before pooling (a ValueError fails the input). None for an op that
        pools to a size (adaptive, fractional): the report has no window lines, and a dry run
        pools to learn the output shape.
    load, save : mapping
        Keyword arguments of :func:`~poolcli.imageio.load_image` and
        :func:`~poolcli.imageio.save_image` (besides the source, target and format).
    report : {"text", "json"} or None
        The report to make of each input.
    dry_run : bool
        Load, check and report; write nothing.
    skip_existing : bool
        Leave an output that exists alone (the input is skipped, not loaded if it can be helped).
    note : str, optional
        Said once the one input of a run is done, e.g. ``"seed 42"``: after its "wrote" line,
        or on a line of its own after a printed matrix.
    quick : QuickPooling, optional
        The same pooling done by Pillow (:mod:`poolcli.quick`), for the inputs it takes: they
        are read, pooled and written without numpy.
    """

    op: str
    pool: Callable[[Any, Any], Any]
    geometry: Callable[[tuple[int, int]], Geometry] | None
    load: Mapping[str, Any] = field(default_factory=dict)
    save: Mapping[str, Any] = field(default_factory=dict)
    report: str | None = None
    dry_run: bool = False
    skip_existing: bool = False
    note: str | None = None
    quick: QuickPooling | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one job, as :func:`run` prints it."""

    index: int
    name: str
    status: Status
    output: str | None = None  # the target's name
    change: str | None = None  # "out.png (640x480 -> 320x240)"
    report: str | None = None  # the text report, or one JSON line
    matrix: str | None = None  # a pooled matrix to print
    error: str | None = None  # the one-line message, "photos/x.jpg: cannot identify image file"


@dataclass
class Console:
    """Where a run prints.

    ``echo(text, err)`` prints one line (without its newline) to standard output, or to standard
    error when ``err``; ``progress`` is the terminal to draw a progress bar on, or None.
    """

    echo: Callable[[str, bool], None]
    progress: TextIO | None = None
    quiet: bool = False
    reports_to_stderr: bool = False  # standard output carries the image


@dataclass
class Summary:
    """How a run went: counts, and the signal that stopped it."""

    done: int = 0
    skipped: int = 0
    failed: int = 0
    not_started: int = 0
    signal: int | None = None

    @property
    def exit_status(self) -> int:
        """128 + the signal that stopped the run; else 1 if an input failed; else 0."""
        if self.signal is not None:
            return 128 + self.signal
        return 1 if self.failed else 0

    def counts(self) -> str:
        return f"{self.done} done, {self.skipped} skipped, {self.failed} failed"


# ---------------------------------------------------------------------------------------------
# Inputs


@functools.lru_cache(maxsize=1)
def image_extensions() -> frozenset[str]:
    """The extensions (lower case, with the dot) a folder walk or glob takes as images.

    Those Pillow registers a format for that it can open, and .npy.

    >>> {".png", ".jpg", ".jpeg", ".tif", ".webp", ".npy"} <= image_extensions()
    True
    >>> ".txt" in image_extensions() or ".pdf" in image_extensions()
    False
    """
    from PIL import Image

    registered = Image.registered_extensions()  # loads every plugin: fills Image.OPEN too
    openable = set(Image.OPEN) | {"MPO"}  # MPO opens through the JPEG plugin
    extensions = {
        ext.lower() for ext, fmt in registered.items() if fmt in openable and fmt not in _NOT_IMAGES
    }
    return frozenset(extensions | {".npy"})


@dataclass(frozen=True)
class _Found:
    """An input found: its path, its path below the output folder, how it was named."""

    path: str
    relative: str  # path below the output folder in a batch with -o
    walked: bool  # found by a folder walk or glob, not named directly


@dataclass(frozen=True)
class _Root:
    """A folder searched for images, and whether its subfolders were too."""

    path: str
    recursive: bool


def plan(
    inputs: Sequence[str],
    *,
    op: str,
    output: str | None = None,
    format: str | None = None,
    recursive: bool = False,
    files_from: str | None = None,
    null: bool = False,
    stdin: BinaryIO | None = None,
) -> Plan:
    """The jobs for ``inputs``: files, folders, globs, or ``-`` for standard input.

    Parameters
    ----------
    inputs : sequence of str
        As given on the command line. A folder is searched for images (with ``recursive``, its
        subfolders too); a name with ``*``, ``?`` or ``[`` that names no file is a glob, where
        ``**`` matches any number of folders; anything else is a file.
    op : str
        The op, for ``STEM.OP.EXT`` output names.
    output : str, optional
        In a batch, the folder to write to (created by :func:`run`); for one input, what the
        command line's -o says (``target_for`` in :func:`run` decides).
    format : str, optional
        A --format value: changes the output extension.
    recursive : bool
        Search folders' subfolders.
    files_from : str, optional
        A file listing more inputs, one a line (``null``: separated by NUL characters); ``-``
        reads the list from ``stdin``. Folders in the list are passed over.
    stdin : binary stream, optional
        Standard input, for ``files_from="-"``.

    Returns
    -------
    Plan
        Its jobs in input order, one per image found; an argument that found no image is a job
        that fails with "no images found". An input found twice is one job.

    Raises
    ------
    PlanError
        Standard input among several inputs, ``-o -`` or ``-o FILE`` for several, an output
        folder inside a folder being searched, an output that is an input named directly, two
        inputs written to one output, or a list that cannot be read.
    """
    from_stdin = files_from == "-"
    if "-" in inputs and (len(inputs) > 1 or files_from is not None):
        raise PlanError("- (standard input) must be the only INPUT")
    batch = (
        files_from is not None
        or len(inputs) > 1
        or any(_is_folder(name) or _is_glob(name) for name in inputs)
    )
    if not batch:
        source = inputs[0]
        check_output(source, output)
        return Plan((Job(0, source, STDIN_NAME if source == "-" else source),), batch=False)

    if output == "-":
        raise PlanError("-o - writes one image; give one INPUT file, or -o FOLDER")
    if output is not None and os.path.exists(output) and not os.path.isdir(output):
        raise PlanError(f"-o {output} is a file; with several inputs -o names a folder")

    found: list[_Found | tuple[str, str]] = []  # an image, or (argument, why it found none)
    roots: list[_Root] = []
    for name in inputs:
        found.extend(_expand(name, recursive, roots))
    if files_from is not None:
        listed = _read_list(files_from, null, stdin if from_stdin else None)
        label = STDIN_NAME if from_stdin else files_from
        entries = [entry for entry in listed if not os.path.isdir(entry)]
        found.extend(_Found(entry, _listed_relative(entry), walked=False) for entry in entries)
        if not entries:
            found.append((label, "no images found"))
    if output is not None:
        _check_output_folder(output, roots)
    return Plan(_jobs(found, op, output, format), batch=True, output_folder=output)


def _expand(name: str, recursive: bool, roots: list[_Root]) -> list[_Found | tuple[str, str]]:
    """What one command-line argument names: a file, the images of a folder, a glob's matches."""
    if _is_folder(name):
        roots.append(_Root(name, recursive))
        images: list[_Found | tuple[str, str]] = []
        for path, relative, error in _walk(name, recursive):
            images.append((path, error) if error else _Found(path, relative, walked=True))
        return images or [(name, "no images found")]
    if _is_glob(name):
        base, parts = _split_glob(name)
        roots.append(_Root(base or os.curdir, recursive="**" in parts or len(parts) > 1))
        explicit = os.path.splitext(parts[-1])[1].lower()
        if _has_magic(explicit):
            explicit = ""
        matches: list[_Found | tuple[str, str]] = [
            _Found(os.path.join(base, relative) if base else relative, relative, walked=True)
            for relative in _glob(base or os.curdir, parts)
            if _is_image_name(relative) or (explicit and relative.lower().endswith(explicit))
        ]
        return matches or [(name, "no images found")]
    return [_Found(name, os.path.basename(os.path.normpath(name)), walked=False)]


def _jobs(
    found: list[_Found | tuple[str, str]], op: str, output: str | None, format: str | None
) -> tuple[Job, ...]:
    """Jobs for the inputs found, once each, checked for outputs that clash."""
    images: list[_Found] = []
    seen: set[str] = set()
    for item in found:
        if isinstance(item, _Found):
            key = _key(item.path)
            if key in seen:
                continue
            seen.add(key)
            images.append(item)
    targets = {
        item.path: (
            os.path.join(output, _renamed(item.relative, None, format))
            if output is not None
            else _renamed(item.path, op, format)
        )
        for item in images
    }
    # An output is never an input of the same run. One found by a search is an earlier run's
    # output (photo.max.png beside photo.png): it is left out. One named directly is an error.
    inputs = {_key(item.path): item for item in images}
    written = {}
    for item in images:
        clash = inputs.get(_key(targets[item.path]))
        if clash is None:
            continue
        if not clash.walked or clash is item:
            raise PlanError(
                f"refusing to write over the input {clash.path}"
                + ("" if clash is item else f" (the output of {item.path})")
                + "; choose another --output"
            )
        written[_key(clash.path)] = clash
    images = [item for item in images if _key(item.path) not in written]

    owners: dict[str, _Found] = {}
    for item in images:
        key = _key(targets[item.path])
        if key in owners:
            raise PlanError(
                f"{owners[key].path} and {item.path} would both be written to "
                f"{targets[item.path]}; rename one, or give them different output folders"
            )
        owners[key] = item

    jobs: list[Job] = []
    kept = {id(item) for item in images}
    for item in found:
        if isinstance(item, _Found):
            if id(item) not in kept:
                continue
            kept.discard(id(item))
            target = Target(path=targets[item.path], format=format)
            jobs.append(Job(len(jobs), item.path, item.path, target, make_folder=True))
        else:
            jobs.append(Job(len(jobs), item[0], item[0], error=item[1]))
    return tuple(jobs)


def target(
    source: str, info: Any, *, op: str, output: str | None = None, format: str | None = None
) -> Target:
    """Where the result of the one input of a run goes, once it is loaded (a ``target_for``).

    The command line's rules: standard output for ``output="-"``, or for standard input without
    an output, in ``format`` or the input's own; printed as a matrix for a .csv/.txt matrix
    without an output or format; ``STEM.OP.EXT`` beside the input or, when ``output`` is a
    folder, in it; else the file ``output``.

    Parameters
    ----------
    source : str
        The input's path, or ``-`` for standard input.
    info : ImageInfo
        What was loaded: its kind and format.
    op : str
        For ``STEM.OP.EXT``.
    output, format : str, optional
        The -o and --format values.

    Raises
    ------
    PlanError
        Standard output without a format to write (none given, and the input's own cannot be
        written), or standard input with an output folder.
    OutputError
        When the output's format cannot be told from its name.
    """
    from poolcli.io import formats

    from_stdin = source == "-"
    if output == "-" or (output is None and from_stdin):
        if info.kind == "matrix" and format is None and output is None:
            return Target(matrix=True)
        fmt = format or own_format(info)
        if fmt is None:
            if output == "-":
                raise PlanError(f"-o - needs --format ({STDOUT_FORMATS})")
            raise PlanError(
                f"standard output needs --format ({STDOUT_FORMATS}) for a {info.format} "
                "input, or give -o FILE"
            )
        return Target(format=fmt)
    if output is None and info.kind == "matrix" and format is None:
        return Target(matrix=True)
    if output is None or os.path.isdir(output):
        if from_stdin:
            raise PlanError(f"-o {output} is a folder; standard input needs -o FILE or -o -")
        path = _renamed(source, op, format, info)
        if output is not None:
            path = os.path.join(output, os.path.basename(path))
    else:
        path = output
    formats.image_format_for(path, format)  # fail before pooling, not after
    return Target(path=path, format=format)


def own_format(info: Any) -> str | None:
    """The --format an input is written back as, or None when it has none (a matrix, BMP)."""
    if info.kind == "array":
        return "npy"
    if info.kind == "image":
        return OWN_FORMATS.get(info.format or "")
    return None


def check_output(source: str, output: str | None) -> None:
    """Refuse an ``output`` that is the input ``source`` itself (:class:`PlanError`)."""
    if output not in (None, "-") and source != "-" and _same_file(source, output):
        raise PlanError(f"refusing to write over the input {source}; choose another --output")


def _renamed(path: str, op: str | None, format: str | None, info: Any = None) -> str:
    """``path`` with the extension ``format`` gives it, else its own if it can be written, else
    that of the input's own format (told by ``info`` once loaded, else by the extension); and
    ``.OP`` before the extension when ``op`` is given."""
    root, ext = os.path.splitext(path)
    if format is not None:
        ext = FORMAT_EXTENSIONS[format]
    elif not _writable(ext):
        if info is not None:
            own = own_format(info)
        else:
            from PIL import Image

            own = OWN_FORMATS.get(Image.registered_extensions().get(ext.lower(), ""))
        if own is not None:
            ext = FORMAT_EXTENSIONS[own]
    return f"{root}.{op}{ext}" if op is not None else f"{root}{ext}"


def _writable(ext: str) -> bool:
    from poolcli.io import formats

    try:
        formats.image_format_for("x" + ext)
    except PoolcliError:
        return False
    return True


def _check_output_folder(output: str, roots: list[_Root]) -> None:
    """Refuse an output folder inside a folder being searched: a later run would take its
    outputs for inputs."""
    out = _key(output)
    for root in roots:
        top = _key(root.path)
        inside = out == top or (root.recursive and out.startswith(top.rstrip(os.sep) + os.sep))
        if inside:
            raise PlanError(
                f"-o {output} is inside {root.path}, which is searched for images; "
                "choose an output folder outside it"
            )


def _walk(folder: str, recursive: bool) -> Iterator[tuple[str, str, str | None]]:
    """``(path, path relative to folder, None)`` for each image below ``folder``, in name order
    (a folder's files before its subfolders); ``(path, "", reason)`` for a subfolder that cannot
    be read. Hidden names are passed over, links to folders not followed."""
    stack = [""]
    while stack:
        relative_dir = stack.pop()
        here = os.path.join(folder, relative_dir) if relative_dir else folder
        try:
            with os.scandir(here) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            yield here, "", _reason(exc)
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = os.path.join(relative_dir, entry.name) if relative_dir else entry.name
            if _entry_is_dir(entry):
                if recursive and not entry.is_symlink():
                    subfolders.append(relative)
            elif _is_image_name(entry.name):
                yield os.path.join(folder, relative), relative, None
        stack.extend(reversed(subfolders))


def _glob(base: str, parts: list[str]) -> list[str]:
    """Paths below ``base`` (relative to it) whose components match ``parts``: shell patterns,
    and ``**`` for any number of folders. Hidden names match only a pattern starting with "."."""
    matches: list[str] = []

    def visit(relative_dir: str, parts: list[str]) -> None:
        here = os.path.join(base, relative_dir) if relative_dir else base
        try:
            with os.scandir(here) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:
            return
        head, tail = parts[0], parts[1:]
        if head == "**":
            if tail:
                visit(relative_dir, tail)  # ** standing for no folder at all
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if _entry_is_dir(entry):
                    if not entry.is_symlink():  # links to folders are not followed
                        visit(_join(relative_dir, entry.name), parts)
                elif not tail:  # a trailing ** matches every file below
                    matches.append(_join(relative_dir, entry.name))
            return
        for entry in entries:
            if entry.name.startswith(".") and not head.startswith("."):
                continue
            if not fnmatch.fnmatchcase(entry.name, head):
                continue
            if tail:
                if _entry_is_dir(entry):
                    visit(_join(relative_dir, entry.name), tail)
            elif not _entry_is_dir(entry):
                matches.append(_join(relative_dir, entry.name))

    visit("", parts)
    return list(dict.fromkeys(matches))  # "**/**" can reach a file twice


def _split_glob(pattern: str) -> tuple[str, list[str]]:
    """``("photos", ["**", "*.png"])`` for ``photos/**/*.png``: the folder before the first
    component with a wildcard, and the components from there on."""
    parts = pattern.replace(os.sep, "/").split("/")
    first = next(index for index, part in enumerate(parts) if _has_magic(part))
    base = "/".join(parts[:first])
    if pattern.startswith("/") and not base:
        base = "/"
    rest = [part for part in parts[first:] if part]
    return base, rest


def _read_list(files_from: str, null: bool, stdin: BinaryIO | None) -> list[str]:
    """The paths listed in ``files_from``: one a line, or NUL-separated; blank entries dropped."""
    try:
        if stdin is not None:
            data = stdin.read()
        else:
            with open(files_from, "rb") as stream:
                data = stream.read()
    except OSError as exc:
        raise PlanError(f"--files-from {files_from}: {_reason(exc)}") from None
    if null:
        entries = data.split(b"\0")
    else:
        entries = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]
    return [os.fsdecode(entry) for entry in entries if entry]


def _listed_relative(path: str) -> str:
    """The path below the output folder of a path read from a list: kept as listed when it is
    relative and stays below the current folder, else its name."""
    normal = os.path.normpath(path)
    if os.path.isabs(normal) or normal == os.pardir or normal.startswith(os.pardir + os.sep):
        return os.path.basename(normal)
    return normal


def _is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in image_extensions()


def _is_folder(name: str) -> bool:
    return name != "-" and os.path.isdir(name)


def _is_glob(name: str) -> bool:
    return name != "-" and _has_magic(name) and not os.path.lexists(name)


def _has_magic(text: str) -> bool:
    return any(char in _MAGIC for char in text)


def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _join(folder: str, name: str) -> str:
    return os.path.join(folder, name) if folder else name


def _key(path: str) -> str:
    """A path as compared with others: absolute, links resolved, case folded where the system
    folds it."""
    return os.path.normcase(os.path.realpath(path))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return _key(a) == _key(b)


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        reason = "no such file or folder"
    return reason[:1].lower() + reason[1:]


# ---------------------------------------------------------------------------------------------
# One input


class _Stopped(Exception):
    """Raised in a worker between steps once the run is being stopped."""


def process(
    job: Job,
    recipe: Recipe,
    *,
    target_for: Callable[[str, Any], Target] | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    stop: threading.Event | None = None,
) -> Outcome:
    """Load, pool and save one input; its report and messages as an :class:`Outcome`.

    Parameters
    ----------
    job : Job
        The input, and its target unless ``target_for`` decides it.
    recipe : Recipe
        What to do to it.
    target_for : callable, optional
        ``target_for(source, info) -> Target`` for a job without a target, called once the
        input is loaded (its format can name the output). May raise to stop the run.
    stdin, stdout : binary streams, optional
        Standard input and output, for ``-`` and a target without a path.
    stop : threading.Event, optional
        Once set, the job ends before its next step (load, pool, save) as CANCELLED.

    Returns
    -------
    Outcome
        DONE, SKIPPED (``recipe.skip_existing`` and the output exists), FAILED with the one-line
        message (any :class:`~poolcli.errors.PoolcliError` or ValueError: an input that cannot be
        read, a window larger than it, an output that cannot be written), or CANCELLED.
    """
    from poolcli.io import streams

    if job.error is not None:
        return _failure(job, recipe, f"{job.name}: {job.error}", None)
    target = job.target
    if target is not None and _skips(target, recipe):
        return _skipped(job, recipe, target)

    loaded = None
    try:
        _check(stop)
        source: Any = stdin if job.source == "-" else job.source
        if recipe.quick is not None and recipe.geometry is not None:
            if not isinstance(source, str):  # read once, for whichever way takes it
                source = io.BytesIO(streams.read_stream(source, STDIN_NAME, "empty input"))
            picture = recipe.quick.load(source, recipe.geometry, **recipe.load)
            if picture is not None:
                loaded = (_picture_shape(picture[0]), picture[1])
                outcome = _process_picture(job, recipe, *picture, target, target_for, stdout, stop)
                if outcome is not None:
                    return outcome
            if not isinstance(source, str):
                source.seek(0)

        from poolcli.io import images as imageio  # numpy and Pillow: only once there is work to do

        array, info = imageio.load_image(source, **recipe.load)  # type: ignore[arg-type]
        loaded = (array.shape, info)
        geometry = None if recipe.geometry is None else recipe.geometry(array.shape[-2:])
        if target is None:
            target = _decided_target(job, recipe, target_for, info)
            if isinstance(target, Outcome):
                return target
        elif target.path is not None:
            imageio.image_format_for(target.path, target.format)  # fail before pooling
        if recipe.dry_run and geometry is not None:
            out_shape = (*array.shape[:-2], *geometry.out_shape)
            return _done(job, recipe, target, array.shape, out_shape, geometry, info)
        _check(stop)
        result = recipe.pool(array, info)
        del array
        if recipe.dry_run:
            return _done(job, recipe, target, loaded[0], result.shape, geometry, info)
        if target.matrix:
            matrix = imageio.format_matrix(result[0, 0])
            return _done(job, recipe, target, loaded[0], result.shape, geometry, info, matrix)
        _check(stop)
        if target.path is None:
            destination: Any = stdout
        else:
            destination = target.path
            if job.make_folder:
                _make_folder(target.path)
        imageio.save_image(
            destination,
            result,
            info,
            format=target.format,
            scale=None if geometry is None else geometry.stride,
            **recipe.save,
        )
        return _done(job, recipe, target, loaded[0], result.shape, geometry, info)
    except _Stopped:
        return Outcome(job.index, job.name, Status.CANCELLED)
    except (PoolcliError, ValueError) as error:
        message = (
            error.worded(CLI_FLAGS) if isinstance(error, PoolcliError) else f"{job.name}: {error}"
        )
        return _failure(job, recipe, message, loaded)
    except MemoryError:
        return _failure(job, recipe, f"{job.name}: not enough memory", loaded)


def _process_picture(
    job: Job,
    recipe: Recipe,
    picture: Any,
    info: Any,
    geometry: Geometry,
    target: Target | None,
    target_for: Callable[[str, Any], Target] | None,
    stdout: BinaryIO | None,
    stop: threading.Event | None,
) -> Outcome | None:
    """The rest of :func:`process` for a picture ``recipe.quick`` loaded: pooled and written by
    Pillow, without numpy. None, having written nothing, for an output it does not write.
    Raises what process catches."""
    from poolcli.io import pictures

    if target is None:
        target = _decided_target(job, recipe, target_for, info)
        if isinstance(target, Outcome):
            return target
    if target.matrix:
        return None
    destination: Any = stdout if target.path is None else target.path
    fmt = pictures.output_format(destination, target.format, None, None)[1]
    if not recipe.quick.writes(fmt, picture.mode):
        return None
    in_shape = _picture_shape(picture)
    out_shape = (*in_shape[:2], *geometry.out_shape)
    if recipe.dry_run:
        return _done(job, recipe, target, in_shape, out_shape, geometry, info)
    _check(stop)
    result = recipe.quick.pool(picture, geometry)
    _check(stop)
    if job.make_folder and target.path is not None:
        _make_folder(target.path)
    pictures.save_picture(
        destination, result, info, format=target.format, scale=geometry.stride, **recipe.save
    )
    return _done(job, recipe, target, in_shape, out_shape, geometry, info)


def _decided_target(
    job: Job, recipe: Recipe, target_for: Callable[[str, Any], Target] | None, info: Any
) -> Target | Outcome:
    """The target ``target_for`` gives a job loaded without one; the job's SKIPPED outcome
    instead when ``recipe.skip_existing`` finds that output written."""
    if target_for is None:
        raise ValueError("a job without a target needs target_for")
    target = target_for(job.source, info)
    return _skipped(job, recipe, target) if _skips(target, recipe) else target


def _picture_shape(picture: Any) -> tuple[int, int, int, int]:
    """(N, C, H, W) of a Pillow picture, as load_image would give it."""
    return (1, len(picture.getbands()), picture.height, picture.width)


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise _Stopped


def _skips(target: Target, recipe: Recipe) -> bool:
    return recipe.skip_existing and target.path is not None and os.path.lexists(target.path)


def _make_folder(path: str) -> None:
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise OutputError(path, f"cannot create folder {folder}: {_reason(exc)}") from None


def _done(
    job: Job,
    recipe: Recipe,
    target: Target,
    in_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    geometry: Geometry | None,
    info: Any,
    matrix: str | None = None,
) -> Outcome:
    facts = {
        "output_name": target.name,
        "output_shape": out_shape,
        "mode": info.mode,
        "dtype": info.dtype,
    }
    report = None
    if recipe.report == "text":
        report = text_report(job.name, in_shape, recipe.op, geometry, **facts)
    elif recipe.report == "json":
        report = json_line(json_report(job.name, in_shape, recipe.op, geometry, **facts))
    change = size_change(target.name, in_shape, out_shape)
    return Outcome(
        job.index, job.name, Status.DONE, target.name, change, report, matrix, error=None
    )


def _skipped(job: Job, recipe: Recipe, target: Target) -> Outcome:
    report = None
    if recipe.report == "json":
        report = json_line(
            {"input": job.name, "output": target.name, "op": recipe.op, "skipped": True}
        )
    return Outcome(job.index, job.name, Status.SKIPPED, target.name, report=report)


def _failure(job: Job, recipe: Recipe, message: str, loaded: Any) -> Outcome:
    report = None
    if recipe.report == "json":
        shape, info = loaded if loaded is not None else (None, None)
        report = json_line(
            error_report(
                job.name,
                message,
                op=recipe.op,
                input_shape=shape,
                mode=None if info is None else info.mode,
                dtype=None if info is None else info.dtype,
            )
        )
    return Outcome(job.index, job.name, Status.FAILED, report=report, error=message)


# ---------------------------------------------------------------------------------------------
# The run


class _Signalled(BaseException):
    """SIGINT or SIGTERM arrived: raised in the main thread by the handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run(
    planned: Plan,
    recipe: Recipe,
    console: Console,
    *,
    workers: int | None = None,
    target_for: Callable[[str, Any], Target] | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> Summary:
    """Do the jobs of ``planned``; print every outcome in input order; return the counts.

    Parameters
    ----------
    planned : Plan
        From :func:`plan`.
    recipe : Recipe
        What to do to each input.
    console : Console
        Where to print.
    workers : int, optional
        Inputs processed at once, by as many threads (default: :func:`default_workers`). Pillow
        and numpy release the GIL while they decode, pool and encode; at most twice this many
        inputs are in flight, and each worker writes its own output, so memory stays bounded.
        Results do not depend on it.
    target_for, stdin, stdout
        As for :func:`process`; one input only.

    Returns
    -------
    Summary
        With ``signal`` set when SIGINT or SIGTERM stopped the run (handled only when called
        from the main thread): the jobs in flight were let finish their current step, every
        output written is whole, and temporary files are gone.

    Raises
    ------
    OutputError
        When the output folder cannot be created; no job has started.

    Notes
    -----
    Printed, in input order: each failure as ``poolcli: MESSAGE`` on standard error, and each
    report. For one input also ``poolcli: wrote NAME (WxH -> wxh)`` (``would write`` for a dry
    run, ``skipped NAME: it exists``); for a batch a dry run's ``would write`` lines, and at the
    end ``poolcli: D done, S skipped, F failed`` (with --quiet only when something failed). A
    stopped run always ends with ``poolcli: interrupted by SIGINT: ..., N left``.
    """
    jobs = planned.jobs
    workers = default_workers() if workers is None else max(1, workers)
    workers = min(workers, max(1, len(jobs)))
    if planned.output_folder is not None and not recipe.dry_run:
        _make_output_folder(planned.output_folder)
    printer = _Printer(console, planned, recipe)
    summary = Summary()
    stop = threading.Event()
    started: dict[int, Job] = {}  # in flight
    with _signals_raise() as signals:
        try:
            streams = {"target_for": target_for, "stdin": stdin, "stdout": stdout}
            # Even one worker is a thread: the main thread only waits and counts, so a signal
            # never lands between an output's rename and its count.
            _run_threads(jobs, recipe, workers, printer, summary, stop, started, signals, streams)
        except _Signalled as signalled:
            stop.set()
            summary.signal = signalled.signum
            printer.drain(summary)
        finally:
            signals.ignore()
            for job in started.values():
                _remove_temporary_files(job)
    summary.not_started = len(jobs) - summary.done - summary.skipped - summary.failed
    printer.finish(summary)
    return summary


def _run_threads(
    jobs: Sequence[Job],
    recipe: Recipe,
    workers: int,
    printer: _Printer,
    summary: Summary,
    stop: threading.Event,
    started: dict[int, Job],
    signals: _SignalHandlers,
    streams: dict[str, Any],
) -> None:
    """The jobs on ``workers`` threads, at most ``_AHEAD`` times as many in flight."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="poolcli-batch")
    in_flight: dict[Future[Outcome], Job] = {}
    try:
        upcoming = iter(jobs)
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < _AHEAD * workers:
                job = next(upcoming, None)
                if job is None:
                    exhausted = True
                    break
                started[job.index] = job
                task = _process_alone if workers > 1 else process
                in_flight[pool.submit(task, job, recipe, stop=stop, **streams)] = job
            if not in_flight:
                break
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                with signals.held():
                    job = in_flight.pop(future)
                    outcome = future.result()
                    del started[job.index]
                    printer.add(outcome, summary)
    finally:
        # On a signal (or a bug): jobs not begun are dropped, the others end at their next step.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for future, job in in_flight.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                printer.add(future.result(), summary)
                started.pop(job.index, None)


def _process_alone(job: Job, recipe: Recipe, **options: Any) -> Outcome:
    """:func:`process` pooling in this worker thread only: each batch worker already has a
    CPU, and the engine's own threads would only add hand-offs between them."""
    from poolcli.core import engine

    with engine.in_calling_thread():
        return process(job, recipe, **options)


def _make_output_folder(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"cannot create folder: {_reason(exc)}") from None
    if not os.path.isdir(folder):
        raise OutputError(folder, "cannot create folder: a file is in the way")


def _remove_temporary_files(job: Job) -> None:
    """Remove what a stopped save of ``job`` may have left: ``.NAME.*.tmp`` beside its output."""
    if job.target is None or job.target.path is None:
        return
    folder, name = os.path.split(job.target.path)
    for path in glob.glob(
        os.path.join(glob.escape(folder or os.curdir), f".{glob.escape(name)}.*.tmp")
    ):
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)


class _SignalHandlers:
    """SIGINT and SIGTERM raise :class:`_Signalled` in the main thread, once: a second signal
    during the stop is noted and ignored, so the stop itself is not cut short."""

    def __init__(self) -> None:
        self.saved: dict[int, Any] = {}
        self.holding = False
        self.pending: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A signal arriving inside is raised on leaving, so bookkeeping is never cut in half."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.pending is not None:
                signum, self.pending = self.pending, None
                raise _Signalled(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may handle signals: the caller's own handling stays
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.saved[signum] = signal.signal(signum, self._raise)

    def ignore(self) -> None:
        for signum in self.saved:
            signal.signal(signum, self._note)

    def restore(self) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        self.ignore()
        if self.holding:
            self.pending = signum
            return
        raise _Signalled(signum)

    @staticmethod
    def _note(signum: int, frame: FrameType | None) -> None:
        pass


@contextlib.contextmanager
def _signals_raise() -> Iterator[_SignalHandlers]:
    """:class:`_SignalHandlers` installed for the duration."""
    handlers = _SignalHandlers()
    handlers.install()
    try:
        yield handlers
    finally:
        handlers.restore()


# ---------------------------------------------------------------------------------------------
# Printing


class _Printer:
    """Prints outcomes in input order, counts them, and keeps the progress bar up to date."""

    def __init__(self, console: Console, planned: Plan, recipe: Recipe) -> None:
        self.console = console
        self.batch = planned.batch
        self.found = planned.found
        self.recipe = recipe
        total = len(planned.jobs)
        self.waiting: dict[int, Outcome] = {}
        self.next = 0
        self.reports = 0
        self.progress = (
            _Progress(console.progress, total)
            if console.progress is not None and total > 1 and not console.quiet
            else None
        )

    def add(self, outcome: Outcome, summary: Summary) -> None:
        if outcome.status is Status.DONE:
            summary.done += 1
        elif outcome.status is Status.SKIPPED:
            summary.skipped += 1
        elif outcome.status is Status.FAILED:
            summary.failed += 1
        if self.progress is not None and outcome.status is not Status.CANCELLED:
            self.progress.update(summary.done + summary.skipped + summary.failed)
        self.waiting[outcome.index] = outcome
        while self.next in self.waiting:
            self._print(self.waiting.pop(self.next))
            self.next += 1

    def drain(self, summary: Summary) -> None:
        """Print what finished, in order, past the gaps a stop leaves."""
        for index in sorted(self.waiting):
            self._print(self.waiting.pop(index))

    def finish(self, summary: Summary) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress = None
        dry = " (dry run: nothing written)" if self.recipe.dry_run else ""
        if summary.signal is not None:
            name = signal.Signals(summary.signal).name
            self._echo(
                f"poolcli: interrupted by {name}: {summary.counts()}, "
                f"{summary.not_started} left{dry}",
                True,
            )
        elif self.batch and self.found and (not self.console.quiet or summary.failed):
            self._echo(f"poolcli: {summary.counts()}{dry}", True)

    def _print(self, outcome: Outcome) -> None:
        if outcome.status is Status.CANCELLED:
            return
        console = self.console
        if outcome.error is not None:
            self._echo(f"poolcli: {outcome.error}", True)
        if outcome.report is not None:
            if self.batch and self.recipe.report == "text" and self.reports:
                self._echo("", console.reports_to_stderr)
            self._echo(outcome.report, console.reports_to_stderr)
            self.reports += 1
        if outcome.matrix is not None:
            if self.recipe.report == "text" and not console.reports_to_stderr:
                self._echo("", False)
            self._echo(outcome.matrix, False)
        if console.quiet:
            return
        if outcome.status is Status.DONE and self.recipe.dry_run:
            self._echo(f"poolcli: would write {outcome.change}", True)
        elif self.batch:
            return  # a batch prints its summary, not a line an image
        elif outcome.status is Status.SKIPPED:
            self._echo(f"poolcli: skipped {outcome.output}: it exists", True)
        elif outcome.status is Status.DONE:
            note = self.recipe.note
            if outcome.matrix is not None:
                if note:
                    self._echo(f"poolcli: {note}", True)
            elif outcome.output != STDOUT_NAME:
                self._echo(f"poolcli: wrote {outcome.change}{', ' + note if note else ''}", True)

    def _echo(self, text: str, err: bool) -> None:
        if self.progress is not None:
            self.progress.clear()
        self.console.echo(text, err)
        if self.progress is not None:
            self.progress.draw()


class _Progress:
    """`` 57/200 [######------------------]  41.2 images/s  0:03 left`` on one terminal line."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = 0
        self.draw()

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last >= 0.1 or done == self.total:
            self.draw()

    def draw(self) -> None:
        self.last = time.monotonic()
        elapsed = self.last - self.start
        width = 24
        filled = width * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.done:>{len(str(self.total))}}/{self.total} [{bar}]"
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            left = (self.total - self.done) / rate
            line += f"  {rate:.1f} images/s  {_duration(left)} left"
        columns = shutil.get_terminal_size((80, 24)).columns
        line = line[: max(10, columns - 1)]
        self._write("\r" + line + " " * max(0, self.shown - len(line)))
        self.shown = len(line)

    def clear(self) -> None:
        if self.shown:
            self._write("\r" + " " * self.shown + "\r")
            self.shown = 0

    def close(self) -> None:
        self.clear()

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text)
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"
