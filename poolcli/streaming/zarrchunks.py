"""Zarr arrays written chunk by chunk: zarr creates the array (its metadata), and each chunk is
then encoded by the array's own compressor and written as the file zarr would write, under the
key zarr's metadata gives it. This costs a third of what zarr-python's own chunk writes cost
(its per-chunk machinery is most of the time on 512x512 chunks); the files are the same.

Formats 2 and 3, unsharded, with no filters and Blosc or no compression: the arrays
:func:`create_array` makes. Edge chunks are stored whole, padded with the fill value 0, as
zarr stores them.

>>> import os, tempfile
>>> import numpy as np, zarr
>>> folder = tempfile.mkdtemp()
>>> array = create_array(folder, "a", (5, 7), np.uint16, (4, 4), zarr_format=3)
>>> writer = ChunkWriter(array, folder)
>>> writer.write_rows(np.arange(35, dtype=np.uint16).reshape(5, 7)[:4], top=0)
>>> writer.write_rows(np.arange(35, dtype=np.uint16).reshape(5, 7)[4:], top=4)
>>> zarr.open_array(os.path.join(folder, "a"), mode="r")[4].tolist()
[28, 29, 30, 31, 32, 33, 34]
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ChunkWriter", "blosc", "create_array"]


def blosc(zarr_format: int) -> Any:
    """Blosc LZ4 with byte shuffling: about the size of Zarr's default Zstandard at three times
    its speed. (Zarr's own choice for 8-bit data, bit shuffling, leaves smooth images two to
    five times larger.)"""
    if zarr_format == 2:
        from numcodecs import Blosc  # type: ignore[import-untyped]

        return Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")


def create_array(
    folder: str,
    name: str,
    shape: Sequence[int],
    dtype: npt.DTypeLike,
    chunks: Sequence[int],
    *,
    zarr_format: int = 3,
    dimension_names: Sequence[str] | None = None,
    compressed: bool = True,
) -> Any:
    """A new Zarr array ``name`` in the group at ``folder`` (created if missing), for
    :class:`ChunkWriter`: Blosc (:func:`blosc`) or uncompressed, chunk keys with "/"."""
    import zarr

    root = zarr.open_group(folder, mode="a", zarr_format=zarr_format)  # type: ignore[arg-type]
    options: dict[str, Any] = {"compressors": blosc(zarr_format) if compressed else None}
    if zarr_format == 3:
        if dimension_names is not None:
            options["dimension_names"] = tuple(dimension_names)
    else:
        options["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    return root.create_array(
        name,
        shape=tuple(int(n) for n in shape),
        chunks=tuple(int(n) for n in chunks),
        dtype=np.dtype(dtype).newbyteorder("<"),
        fill_value=0,
        **options,
    )


class ChunkWriter:
    """Writes whole rows of chunks of a Zarr array made by :func:`create_array` in ``folder``
    (the group's folder), each chunk's file written once."""

    def __init__(self, array: Any, folder: str) -> None:
        metadata = array.metadata
        self.shape = tuple(int(n) for n in array.shape)
        self.chunks = tuple(int(n) for n in array.chunks)
        self.dtype = np.dtype(array.dtype).newbyteorder("<")
        self._key = metadata.encode_chunk_key
        self._root = os.path.join(folder, *array.path.split("/"))
        self._codec = _codec_of(metadata)
        self._made: set[str] = set()

    def write_rows(self, rows: np.ndarray, top: int) -> None:
        """Write ``rows`` (the array's shape but for the rows, axis -2) starting at row ``top``,
        a multiple of the chunk height; ``rows`` ends at a chunk's end or the array's."""
        for part, coords in self._chunks_of(rows, top):
            self.write_chunk(part, coords)

    def submit_rows(self, rows: np.ndarray, top: int, workers: Executor) -> list[Future[None]]:
        """:meth:`write_rows` in ``workers``, a chunk a task; the tasks, not waited for."""
        return [workers.submit(self.write_chunk, *job) for job in self._chunks_of(rows, top)]

    def _chunks_of(self, rows: np.ndarray, top: int) -> list[tuple[np.ndarray, tuple[int, ...]]]:
        """The chunks ``rows`` from row ``top`` hold, and their coordinates (checked)."""
        height = self.chunks[-2]
        count = rows.shape[-2]
        if top % height or (count % height and top + count != self.shape[-2]):
            raise ValueError(f"rows {top}:{top + count} are not whole rows of chunks {height}")
        if rows.shape[:-2] != self.shape[:-2] or rows.shape[-1] != self.shape[-1]:
            raise ValueError(f"rows of shape {rows.shape} do not fit an array of {self.shape}")
        lead = [
            range(math.ceil(n / c)) for n, c in zip(self.shape[:-2], self.chunks[:-2], strict=True)
        ]
        jobs = []
        for band in range(0, count, height):
            for column in range(0, self.shape[-1], self.chunks[-1]):
                for index in np.ndindex(*(len(r) for r in lead)):
                    where = tuple(
                        slice(i * c, (i + 1) * c)
                        for i, c in zip(index, self.chunks[:-2], strict=True)
                    )
                    part = rows[(*where, slice(band, band + height), slice(column, None))]
                    coords = (*index, (top + band) // height, column // self.chunks[-1])
                    jobs.append((part[..., : self.chunks[-1]], coords))
        return jobs

    def write_chunk(self, part: np.ndarray, coords: tuple[int, ...]) -> None:
        """Encode ``part`` (the chunk at ``coords``, or its part inside the array) and write
        its file."""
        if part.shape != self.chunks:
            whole = np.zeros(self.chunks, self.dtype)
            whole[tuple(slice(0, n) for n in part.shape)] = part
            part = whole
        data = np.ascontiguousarray(part, self.dtype)
        encoded: Any = data if self._codec is None else self._codec.encode(data)
        path = os.path.join(self._root, *self._key(coords).split("/"))
        folder = os.path.dirname(path)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        with open(path, "wb") as stream:
            stream.write(memoryview(encoded).cast("B"))


def _codec_of(metadata: Any) -> Any:
    """The numcodecs codec that encodes a chunk as the array's metadata says, or None."""
    from numcodecs import Blosc

    if int(metadata.zarr_format) == 2:
        if getattr(metadata, "filters", None):
            raise ValueError("arrays with filters are written by zarr itself")
        return metadata.compressor
    codecs = list(metadata.codecs)
    names = [type(codec).__name__ for codec in codecs]
    if names == ["BytesCodec"]:
        return None
    if names != ["BytesCodec", "BloscCodec"]:
        raise ValueError(f"arrays with codecs {names} are written by zarr itself")
    config = codecs[1]
    shuffles = {"noshuffle": Blosc.NOSHUFFLE, "shuffle": Blosc.SHUFFLE, "bitshuffle": 2}
    return Blosc(
        cname=str(getattr(config.cname, "value", config.cname)),
        clevel=int(config.clevel),
        shuffle=shuffles[str(getattr(config.shuffle, "value", config.shuffle))],
        blocksize=int(config.blocksize),
    )
