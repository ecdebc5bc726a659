"""Output names: where the result of each input goes.

- one input: decided once it is loaded (:func:`target`), since its format can name the output;
- several inputs without an output folder: ``STEM.OP.EXT`` beside each input;
- several inputs with an output folder: the input's name (the extension changed by ``format``)
  in the folder, below it the input's path relative to the folder or glob base it was found in
  (:func:`renamed`).

>>> renamed("photos/cat.jpg", "max", None)
'photos/cat.max.jpg'
>>> renamed("photos/cat.jpg", "max", "png")
'photos/cat.max.png'
"""

from __future__ import annotations

import os
from typing import Any

from poolcli.batch.discovery import Root, path_key, same_file
from poolcli.batch.jobs import PlanError, Target
from poolcli.errors import PoolcliError
from poolcli.io import formats

__all__ = [
    "check_output",
    "check_output_folder",
    "names_folder",
    "own_format",
    "renamed",
    "target",
    "writable",
]


def target(
    source: str,
    info: Any,
    *,
    op: str,
    output: str | None = None,
    format: str | None = None,
    default_format: str | None = None,
    terminal: bool = False,
) -> Target:
    """Where the result of the one input of a run goes, once it is loaded (a ``target_for``).

    The command line's rules: standard output for ``output="-"``, or for standard input without
    an output, in ``format`` or the input's own; printed as a matrix for a .csv/.txt matrix
    without an output or format; ``STEM.OP.EXT`` beside the input or, when ``output`` is a
    folder (or ends in a slash: :func:`names_folder`), in it; else the file ``output``, its
    target ``named``: the caller asked for that file, so it may be written over.

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
    default_format : str, optional
        The format written when neither names one, instead of the input's own (the compare
        picture is a PNG); such an output is never a printed matrix.
    terminal : bool
        Standard output is a terminal: refuse to write image bytes to it.

    Raises
    ------
    PlanError
        Standard output without a format to write (none given, and the input's own cannot be
        written), image bytes for a terminal, or standard input with an output folder.
    OutputError
        When the output's format cannot be told from its name.
    """
    from_stdin = source == "-"
    matrix = info.kind == "matrix" and format is None and default_format is None
    if output == "-" or (output is None and from_stdin):
        if matrix and output is None:
            return Target(matrix=True)
        fmt = format or default_format or own_format(info)
        if fmt is None:
            if output == "-":
                raise PlanError(f"-o - needs --format ({_stdout_choices()})")
            raise PlanError(
                f"standard output needs --format ({_stdout_choices()}) for a {info.format} "
                "input, or give -o FILE"
            )
        if terminal:
            raise PlanError(
                "refusing to write image data to a terminal; redirect standard output or give "
                "-o FILE"
            )
        return Target(format=fmt)
    if output is None and matrix:
        return Target(matrix=True)
    if output is None or names_folder(output):
        if from_stdin:
            raise PlanError(f"-o {output} is a folder; standard input needs -o FILE or -o -")
        path = renamed(source, op, format or default_format, info)
        if output is not None:
            path = os.path.join(output, os.path.basename(path))
    else:
        path = output
    formats.image_format_for(path, format)  # fail before pooling, not after
    return Target(path=path, format=format, named=path == output)


def names_folder(output: str) -> bool:
    """Whether the one input's ``output`` is a folder to write ``STEM.OP.EXT`` in: a folder
    that exists, or a name that ends in a slash (made if missing).

    >>> names_folder("small/"), names_folder("small.png"), names_folder("small.zarr/")
    (True, False, False)
    """
    found = formats.for_path(output)
    if found is not None and found.chunked:
        return False  # a store is one output, even when it exists as a folder
    ends = output.endswith(os.sep) or (os.altsep is not None and output.endswith(os.altsep))
    return ends or os.path.isdir(output)


def own_format(info: Any) -> str | None:
    """The --format an input is written back as, or None when it has none (a matrix, BMP)."""
    if info.kind == "array":
        own = formats.by_pillow(info.format)
        return own.name if own is not None and own.chunked else "npy"
    if info.kind == "image":
        return formats.written_back_as(info.format)
    return None


def check_output(source: str, output: str | None) -> None:
    """Refuse an ``output`` that is the input ``source`` itself (:class:`PlanError`)."""
    if output not in (None, "-") and source != "-" and same_file(source, output):
        raise PlanError(f"refusing to write over the input {source}; choose another --output")


def renamed(path: str, op: str | None, format: str | None, info: Any = None) -> str:
    """``path`` with the extension ``format`` gives it, else its own if it can be written, else
    that of the input's own format (told by ``info`` once loaded, else by the extension); and
    ``.OP`` before the extension when ``op`` is given."""
    root, ext = formats.split_extension(path)
    if format is not None:
        ext = formats.extension(format)
    elif not writable(ext):
        if info is not None:
            own = own_format(info)
        else:
            from PIL import Image

            own = formats.written_back_as(Image.registered_extensions().get(ext.lower()))
        if own is not None:
            ext = formats.extension(own)
    return f"{root}.{op}{ext}" if op is not None else f"{root}{ext}"


def writable(ext: str) -> bool:
    """Whether poolcli writes files with the extension ``ext`` (".png")."""
    try:
        formats.image_format_for("x" + ext)
    except PoolcliError:
        return False
    return True


def _stdout_choices() -> str:
    return ", ".join(formats.result_choices())


def check_output_folder(output: str, roots: list[Root]) -> None:
    """Refuse an output folder inside a folder being searched: a later run would take its
    outputs for inputs."""
    out = path_key(output)
    for root in roots:
        top = path_key(root.path)
        inside = out == top or (root.recursive and out.startswith(top.rstrip(os.sep) + os.sep))
        if inside:
            raise PlanError(
                f"-o {output} is inside {root.path}, which is searched for images; "
                "choose an output folder outside it"
            )
