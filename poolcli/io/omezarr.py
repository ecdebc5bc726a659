"""OME-Zarr's image metadata as poolcli writes it: axes, multiscales, coordinate transformations.

One place for what :mod:`poolcli.chunked.multiscale`, :mod:`poolcli.chunked.stores` and
:mod:`poolcli.streaming.pyramids` write into a group's attributes: OME-Zarr 0.5 on Zarr format 3
(``{"ome": {"version": "0.5", "multiscales": [...]}}``), 0.4 on format 2 (``{"multiscales":
[{"version": "0.4", ...}]}``). Plain data; no Zarr, no numpy.

>>> entry = multiscales_metadata("a", axes_of((1, 8, 8)), 2, "max", (2, 2))
>>> level = ome_attributes(entry, 3)["ome"]["multiscales"][0]["datasets"][1]
>>> level["coordinateTransformations"][1]
{'type': 'translation', 'translation': [0.0, 0.5, 0.5]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["AXIS_TYPES", "axes_of", "multiscales_metadata", "ome_attributes"]


def axes_of(shape: Sequence[int], volume: bool = False) -> tuple[str, ...]:
    """The OME-Zarr axes of a level of ``shape`` as written: N of one frame is dropped. A
    ``volume``'s last three axes are (z, y, x).

    >>> axes_of((5, 6)), axes_of((3, 5, 6)), axes_of((1, 3, 5, 6)), axes_of((4, 1, 5, 6))
    (('y', 'x'), ('c', 'y', 'x'), ('c', 'y', 'x'), ('t', 'c', 'y', 'x'))
    >>> axes_of((4, 5, 6), True), axes_of((1, 2, 4, 5, 6), True), axes_of((3, 2, 4, 5, 6), True)
    (('z', 'y', 'x'), ('c', 'z', 'y', 'x'), ('t', 'c', 'z', 'y', 'x'))
    """
    if volume:
        if len(shape) == 3:
            return ("z", "y", "x")
        if len(shape) == 4 or shape[0] == 1:
            return ("c", "z", "y", "x")
        return ("t", "c", "z", "y", "x")
    if len(shape) == 2:
        return ("y", "x")
    if len(shape) == 3 or shape[0] == 1:
        return ("c", "y", "x")
    return ("t", "c", "y", "x")


AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


def multiscales_metadata(
    name: str,
    axes: Sequence[str],
    count: int,
    op: str,
    factor: tuple[int, ...],
    pixel_size: tuple[float, ...] | None = None,
    unit: str | None = None,
    arguments: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``multiscales`` entry: the axes, ``count`` datasets "0", "1", ... with their scale
    and translation, the op as ``type`` and poolcli's ``metadata``.

    ``factor`` and ``pixel_size`` are those of the last two axes (y, x), or three (z, y, x) for
    a volume; ``unit`` is that of the axes whose pixel size is given (a volume's y and x alone
    when ``pixel_size`` has two values: its depth is then in slices).

    >>> entry = multiscales_metadata("a", ("y", "x"), 2, "avg", (2, 2), (0.5, 0.5), "micrometer")
    >>> entry["datasets"][1]["coordinateTransformations"]
    [{'type': 'scale', 'scale': [1.0, 1.0]}, {'type': 'translation', 'translation': [0.25, 0.25]}]
    >>> volume = multiscales_metadata("v", ("c", "z", "y", "x"), 2, "max", (2, 2, 2), (4, 1, 1))
    >>> volume["datasets"][1]["coordinateTransformations"][1]["translation"]
    [0.0, 2.0, 0.5, 0.5]
    """
    from poolcli import __version__

    spatial = len(factor)
    size = (1.0,) * (spatial - len(pixel_size or ())) + tuple(pixel_size or ())
    with_unit = set(axes[len(axes) - len(pixel_size or ()) :]) if pixel_size else {"y", "x"}
    axis_entries = []
    for axis in axes:
        entry = {"name": axis, "type": AXIS_TYPES[axis]}
        if axis in with_unit and unit is not None:
            entry["unit"] = unit
        axis_entries.append(entry)
    lead = [1.0] * (len(axes) - spatial)
    datasets = []
    for level in range(count):
        cumulative = [f**level for f in factor]
        scale = [*lead, *(float(f * n) for f, n in zip(cumulative, size, strict=True))]
        shift = [
            *[0.0] * len(lead),
            *((f - 1) / 2 * n for f, n in zip(cumulative, size, strict=True)),
        ]
        datasets.append(
            {
                "path": str(level),
                "coordinateTransformations": [
                    {"type": "scale", "scale": scale},
                    {"type": "translation", "translation": shift},
                ],
            }
        )
    return {
        "name": name,
        "axes": axis_entries,
        "datasets": datasets,
        "type": op,
        "metadata": {
            "description": f"level L pools the base with {op} over windows of factor**L",
            "method": "poolcli.pyramid",
            "version": __version__,
            "kwargs": {"op": op, "factor": list(factor), **(arguments or {})},
        },
    }


def ome_attributes(entry: Mapping[str, Any], zarr_format: int) -> dict[str, Any]:
    """The group attributes holding one multiscales ``entry``: OME-Zarr 0.5 on Zarr format 3,
    0.4 on format 2.

    >>> ome_attributes({"axes": []}, 2)
    {'multiscales': [{'version': '0.4', 'axes': []}]}
    """
    if zarr_format == 3:
        return {"ome": {"version": "0.5", "multiscales": [dict(entry)]}}
    return {"multiscales": [{"version": "0.4", **entry}]}
