"""What a run does to every input, as plain data: the task, how inputs load, how results save.

A :class:`Recipe` is frozen and holds only plain values and a task of
:mod:`poolcli.imaging.tasks`, so it pickles: with a :class:`~poolcli.batch.jobs.Job` it is all a
worker in another process or on another machine needs.

>>> import pickle
>>> from poolcli.core.geometry import Window
>>> from poolcli.imaging.tasks import Pooling
>>> recipe = Recipe(Pooling("avg", Window.of(size=4)), load=LoadOptions(max_pixels=10**8))
>>> pickle.loads(pickle.dumps(recipe)) == recipe
True
>>> recipe.name, recipe.load.kwargs()
('avg', {'max_pixels': 100000000, 'frame': None, 'auto_orient': True})
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from poolcli.imaging.tasks import Task

__all__ = ["LoadOptions", "Recipe", "SaveOptions"]


class LoadOptions(NamedTuple):
    """How an input is read: the keyword arguments of :func:`poolcli.load_image`."""

    max_pixels: int | None = None
    frame: int | None = None
    auto_orient: bool = True
    level: int | None = None  # the OME-Zarr level read (chunked inputs)
    volume: bool = False  # the frames of an image are the depth of a volume, not N

    def kwargs(self) -> dict[str, Any]:
        return {"max_pixels": self.max_pixels, "frame": self.frame, "auto_orient": self.auto_orient}


class SaveOptions(NamedTuple):
    """How a result is written, besides where and in which format: of :func:`poolcli.save_image`."""

    quality: int | None = None
    strip: bool = False
    zarr_format: int = 3  # Zarr outputs

    def kwargs(self) -> dict[str, Any]:
        return {"quality": self.quality, "strip": self.strip}


@dataclass(frozen=True)
class Recipe:
    """What to do to every input of a run.

    Attributes
    ----------
    task : Task
        The work on one loaded input (:mod:`poolcli.imaging.tasks`).
    load, save : LoadOptions, SaveOptions
        How inputs are read and results written.
    report : {"text", "json"} or None
        The report to make of each input.
    dry_run : bool
        Load, check and report; write nothing.
    skip_existing : bool
        Leave an output that exists alone (the input is skipped, not loaded if it can be helped).
    overwrite : bool
        Write over an output that exists. Without it (or ``skip_existing``) an input whose
        output exists fails, unless the caller named that very file (``Target.named``): a file
        is never replaced that the caller did not ask for. FIFOs and devices are written into,
        not replaced, and always taken.
    note : str, optional
        Said once the one input of a run is done, e.g. ``"seed 42"``: after its "wrote" line,
        or on a line of its own after a printed matrix.
    default_format : str, optional
        The format of an output whose name does not say (the compare picture: png), instead of
        the input's own.
    flags : tuple of (parameter, word) pairs
        How the caller names the library's parameters in messages, e.g.
        ``(("max_pixels", "--max-pixels"),)`` for the command line; empty: the library's names.
    terminal : bool
        Standard output is a terminal: image bytes are refused there.
    memory_limit : int, optional
        Bytes: a TIFF or .npy input larger than this decoded is pooled in chunks
        (:mod:`poolcli.batch.large`); None: a quarter of the machine's memory.
    threads : int, optional
        Dask's local threads for chunked pooling; None: one per CPU.
    scheduler : str, optional
        A Dask scheduler's address (or ``local:N``): an image pooled in chunks is computed by
        its workers.
    """

    task: Task
    load: LoadOptions = LoadOptions()
    save: SaveOptions = SaveOptions()
    report: str | None = None
    dry_run: bool = False
    skip_existing: bool = False
    overwrite: bool = False
    note: str | None = None
    default_format: str | None = None
    flags: tuple[tuple[str, str], ...] = ()
    terminal: bool = False
    memory_limit: int | None = None
    threads: int | None = None
    scheduler: str | None = None

    @property
    def name(self) -> str:
        """The word in output names, ``STEM.NAME.EXT``: the op, or the command."""
        return self.task.name

    @property
    def op_name(self) -> str:
        """The op as reports name it, e.g. ``adaptive_avg``."""
        return self.task.op_name
