"""Finding inputs: folders walked, globs expanded, lists of paths read.

Which files count as images when a folder or glob is searched: the extensions Pillow can open
(:func:`image_extensions`, any case), .npy, and Zarr stores (folders, taken whole:
:func:`~poolcli.io.formats.is_store`). Hidden files and folders (a name starting with
".") are left out, and links to folders are not followed, so a link loop cannot trap a walk. A
file named directly is always an input, whatever its name.

>>> import os, tempfile
>>> from PIL import Image
>>> folder = tempfile.mkdtemp()
>>> for name in ("b.png", "a.jpg", "notes.txt", ".hidden.png"):
...     Image.new("L", (4, 4)).save(os.path.join(folder, name), format="PNG")
>>> [found.relative for found in expand(folder, recursive=False, roots=[])]
['a.jpg', 'b.png']
"""

from __future__ import annotations

import fnmatch
import functools
import os
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from poolcli.batch.jobs import PlanError
from poolcli.io import formats

__all__ = [
    "Found",
    "Root",
    "expand",
    "image_extensions",
    "is_folder",
    "is_glob",
    "is_image_name",
    "listed_relative",
    "os_reason",
    "path_key",
    "read_list",
    "same_file",
]

# Pillow formats registered for an extension that cannot give pixels here: stubs that need a
# handler poolcli never installs, and video.
_NOT_IMAGES = frozenset({"BUFR", "GRIB", "HDF5", "MPEG", "WMF"})
_MAGIC = frozenset("*?[")


@functools.lru_cache(maxsize=1)
def image_extensions() -> frozenset[str]:
    """The extensions (lower case, with the dot) a folder walk or glob takes as images.

    Those Pillow registers a format for that it can open, .npy, and .zarr.

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
    return frozenset(extensions | {".npy", ".zarr"})


class Found(NamedTuple):
    """An input found: its path, its path below the output folder, how it was named."""

    path: str
    relative: str  # path below the output folder in a batch with -o
    walked: bool  # found by a folder walk or glob, not named directly


class Root(NamedTuple):
    """A folder searched for images, and whether its subfolders were too."""

    path: str
    recursive: bool


def expand(name: str, recursive: bool, roots: list[Root]) -> list[Found | tuple[str, str]]:
    """What one command-line argument names: a file, the images of a folder, a glob's matches."""
    if is_folder(name):
        roots.append(Root(name, recursive))
        images: list[Found | tuple[str, str]] = []
        for path, relative, error in _walk(name, recursive):
            images.append((path, error) if error else Found(path, relative, walked=True))
        return images or [(name, "no images found")]
    if is_glob(name):
        base, parts = _split_glob(name)
        roots.append(Root(base or os.curdir, recursive="**" in parts or len(parts) > 1))
        explicit = os.path.splitext(parts[-1])[1].lower()
        if _has_magic(explicit):
            explicit = ""
        matches: list[Found | tuple[str, str]] = [
            Found(os.path.join(base, relative) if base else relative, relative, walked=True)
            for relative in _glob(base or os.curdir, parts)
            if is_image_name(relative) or (explicit and relative.lower().endswith(explicit))
        ]
        return matches or [(name, "no images found")]
    return [Found(name, os.path.basename(os.path.normpath(name)), walked=False)]


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
            yield here, "", os_reason(exc)
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = os.path.join(relative_dir, entry.name) if relative_dir else entry.name
            if _entry_is_dir(entry) and not formats.is_store(entry.path):
                if recursive and not entry.is_symlink():
                    subfolders.append(relative)
            elif is_image_name(entry.name) or _entry_is_dir(entry):  # an image, or a store
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
            elif not _entry_is_dir(entry) or formats.is_store(entry.path):
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


def read_list(files_from: str, null: bool, stdin: BinaryIO | None) -> list[str]:
    """The paths listed in ``files_from``: one a line, or NUL-separated; blank entries dropped."""
    try:
        if stdin is not None:
            data = stdin.read()
        else:
            with open(files_from, "rb") as stream:
                data = stream.read()
    except OSError as exc:
        raise PlanError(f"--files-from {files_from}: {os_reason(exc)}") from None
    if null:
        entries = data.split(b"\0")
    else:
        entries = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]
    return [os.fsdecode(entry) for entry in entries if entry]


def listed_relative(path: str) -> str:
    """The path below the output folder of a path read from a list: kept as listed when it is
    relative and stays below the current folder, else its name."""
    normal = os.path.normpath(path)
    if os.path.isabs(normal) or normal == os.pardir or normal.startswith(os.pardir + os.sep):
        return os.path.basename(normal)
    return normal


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in image_extensions()


def is_folder(name: str) -> bool:
    """A folder to search for images: a folder that is no Zarr store."""
    return name != "-" and os.path.isdir(name) and not formats.is_store(name)


def is_glob(name: str) -> bool:
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


def path_key(path: str) -> str:
    """A path as compared with others: absolute, links resolved, case folded where the system
    folds it."""
    return os.path.normcase(os.path.realpath(path))


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return path_key(a) == path_key(b)


def os_reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        reason = "no such file or folder"
    return reason[:1].lower() + reason[1:]
