"""Planning a run: what the user named, turned into jobs, each with the output it will write.

A run that would go wrong is refused before any work starts (:class:`PlanError`): two inputs
written to one output, an output folder inside a folder being searched, an output over an input.

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

import os
from collections.abc import Callable, Sequence
from typing import BinaryIO

from poolcli.batch.discovery import (
    Found,
    Root,
    expand,
    is_folder,
    is_glob,
    is_image_name,
    listed_relative,
    path_key,
    read_list,
)
from poolcli.batch.jobs import STDIN_NAME, Job, Plan, PlanError, Target
from poolcli.batch.naming import check_output, check_output_folder, names_folder, renamed
from poolcli.errors import OutputError
from poolcli.io import formats

__all__ = ["plan"]


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
    writes: bool = True,
    op_in_folder: bool = False,
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
        command line's -o says (:func:`~poolcli.batch.naming.target` decides once the input is
        loaded): a file, a folder (one that exists, or a name ending in a slash), or ``-``. The
        folders a one-input output lacks are made when it is written.
    format : str, optional
        A --format value: changes the output extension.
    recursive : bool
        Search folders' subfolders.
    files_from : str, optional
        A file listing more inputs, one a line (``null``: separated by NUL characters); ``-``
        reads the list from ``stdin``. Folders in the list are passed over.
    stdin : binary stream, optional
        Standard input, for ``files_from="-"``.
    writes : bool
        False for a task that only prints (info, or global without an output): no targets.
    op_in_folder : bool
        Name the outputs in an output folder ``STEM.OP.EXT`` too, not the input's own name:
        for results that are not the input made smaller (global's 1x1, the compare picture).

    Returns
    -------
    Plan
        Its jobs in input order, one per image found; an argument that found no image is a job
        that fails with "no images found". An input found twice is one job.

    Raises
    ------
    PlanError
        An ``output`` file of one input whose name tells no format poolcli writes (and no
        ``format``; the :class:`~poolcli.errors.OutputError` is its ``__cause__``), standard
        input among several inputs, ``-o -`` or ``-o FILE`` for several, an output
        folder inside a folder being searched, an output that is an input named directly, two
        inputs written to one output, or a list that cannot be read.
    """
    from_stdin = files_from == "-"
    if "-" in inputs and (len(inputs) > 1 or files_from is not None):
        raise PlanError("- (standard input) must be the only INPUT")
    batch = (
        files_from is not None
        or len(inputs) > 1
        or any(is_folder(name) or is_glob(name) for name in inputs)
    )
    if not batch:
        source = inputs[0]
        check_output(source, output)
        if output is not None and output != "-" and not names_folder(output) and writes:
            try:
                formats.image_format_for(output, format)
            except OutputError as error:  # before any input is read
                raise PlanError(str(error)) from error
        name = STDIN_NAME if source == "-" else source
        job = Job(0, source, name, output=output, format=format, writes=writes)
        return Plan((job,), batch=False)

    if output == "-":
        raise PlanError("-o - writes one image; give one INPUT file, or -o FOLDER")
    if output is not None and os.path.exists(output) and not os.path.isdir(output):
        raise PlanError(f"-o {output} is a file; with several inputs -o names a folder")
    if output is not None and not os.path.isdir(output) and is_image_name(output):
        count = len(inputs) if files_from is None else "several"
        what = f"STEM.{op}.EXT" if op_in_folder else "the results"
        raise PlanError(
            f"-o {output} is not a folder; with {count} inputs, -o names a folder to write "
            f"{what} in"
        )

    found: list[Found | tuple[str, str]] = []  # an image, or (argument, why it found none)
    roots: list[Root] = []
    for name in inputs:
        found.extend(expand(name, recursive, roots))
    if files_from is not None:
        listed = read_list(files_from, null, stdin if from_stdin else None)
        label = STDIN_NAME if from_stdin else files_from
        entries = [entry for entry in listed if not os.path.isdir(entry)]
        found.extend(Found(entry, listed_relative(entry), walked=False) for entry in entries)
        if not entries:
            found.append((label, "no images found"))
    if output is not None:
        check_output_folder(output, roots)
    jobs = _jobs(found, op, output if writes else None, format, op_in_folder, writes)
    return Plan(jobs, batch=True, output_folder=output if writes else None)


def _jobs(
    found: list[Found | tuple[str, str]],
    op: str,
    output: str | None,
    format: str | None,
    op_in_folder: bool,
    writes: bool,
) -> tuple[Job, ...]:
    """Jobs for the inputs found, once each, checked for outputs that clash."""
    images: list[Found] = []
    seen: set[str] = set()
    for item in found:
        if isinstance(item, Found):
            key = path_key(item.path)
            if key in seen:
                continue
            seen.add(key)
            images.append(item)
    if not writes:
        return _numbered(found, images, lambda item: None)
    targets = {
        item.path: (
            os.path.join(output, renamed(item.relative, op if op_in_folder else None, format))
            if output is not None
            else renamed(item.path, op, format)
        )
        for item in images
    }
    # An output is never an input of the same run. One found by a search is an earlier run's
    # output (photo.max.png beside photo.png): it is left out. One named directly is an error.
    inputs = {path_key(item.path): item for item in images}
    written = {}
    for item in images:
        clash = inputs.get(path_key(targets[item.path]))
        if clash is None:
            continue
        if not clash.walked or clash is item:
            raise PlanError(
                f"refusing to write over the input {clash.path}"
                + ("" if clash is item else f" (the output of {item.path})")
                + "; choose another --output"
            )
        written[path_key(clash.path)] = clash
    images = [item for item in images if path_key(item.path) not in written]

    owners: dict[str, Found] = {}
    for item in images:
        key = path_key(targets[item.path])
        if key in owners:
            raise PlanError(
                f"{owners[key].path} and {item.path} would both be written to "
                f"{targets[item.path]}; rename one, or give them different output folders"
            )
        owners[key] = item

    return _numbered(found, images, lambda item: Target(path=targets[item.path], format=format))


def _numbered(
    found: list[Found | tuple[str, str]],
    images: list[Found],
    target_of: Callable[[Found], Target | None],
) -> tuple[Job, ...]:
    """The jobs of ``images`` and of the arguments that found none, in the order found."""
    jobs: list[Job] = []
    kept = {id(item) for item in images}
    for item in found:
        if isinstance(item, Found):
            if id(item) not in kept:
                continue
            kept.discard(id(item))
            target = target_of(item)
            jobs.append(
                Job(
                    len(jobs),
                    item.path,
                    item.path,
                    target,
                    make_folder=target is not None,
                    writes=target is not None,
                )
            )
        else:
            jobs.append(Job(len(jobs), item[0], item[0], error=item[1]))
    return tuple(jobs)
