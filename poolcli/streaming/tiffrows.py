"""A one-image TIFF read a band of rows at a time, its tiles or strips decoded by tifffile
directly: no array library between the file and numpy, a band in memory at a time.

:func:`open_rows` opens a TIFF whose first series is a single page, tiled or striped, of
(H, W), (H, W, S) or (S, H, W) samples, and says None for any other layout (pages of frames or
a z-stack, tiles with depth), which the caller reads another way. Bands come as (C, rows, W)
arrays; samples stored contiguously come as a view of (rows, W, C), so nothing is copied to
reorder them.

>>> import os, tempfile
>>> import numpy as np, tifffile
>>> path = os.path.join(tempfile.mkdtemp(), "a.tif")
>>> tifffile.imwrite(path, np.arange(70 * 50, dtype=np.uint16).reshape(70, 50), tile=(32, 32))
>>> with open_rows(path) as rows:
...     rows.shape, [band.shape for band in rows.bands(64)]
((1, 70, 50), [(1, 64, 50), (1, 6, 50)])
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

import numpy as np

from poolcli.errors import InputError
from poolcli.io.streams import os_reason

__all__ = ["TiffRows", "open_rows", "page_dpi", "page_icc", "resolution_arguments"]

#: Resolution units (TIFF tag 296) in inches.
_INCHES = {2: 1.0, 3: 1 / 2.54}


class TiffRows:
    """The first image of an open TIFF, read a band of rows at a time (see the module).

    Attributes
    ----------
    shape : (C, H, W)
    dtype : numpy dtype
    rows : int
        The rows of a segment: a band holds a whole number of them.
    tile : (int, int)
        The stored tile (or strip rows by width).
    compression : str or None
        tifffile's name of the stored compression, None when uncompressed.
    dpi : (float, float) or None
        Horizontal and vertical resolution in dots per inch, where the file says it.
    """

    def __init__(self, path: str, tiff: Any) -> None:
        self.path = path
        self._tiff = tiff
        page: Any = tiff.series[0].pages[0]
        self._page = page
        separate, _, height, width, contig = (int(n) for n in page.shaped)
        self.shape = (separate * contig, height, width)
        self.dtype = np.dtype(page.dtype)
        self._separate = separate > 1
        if page.is_tiled:
            self.rows = int(page.tilelength)
            self.tile = (int(page.tilelength), int(page.tilewidth))
            self._across = math.ceil(width / int(page.tilewidth))
        else:
            self.rows = min(int(page.rowsperstrip or height), height)
            self.tile = (self.rows, width)
            self._across = 1
        self._down = math.ceil(height / self.rows)
        name = str(getattr(page.compression, "name", page.compression)).lower()
        self.compression = None if name in ("none", "1") else name
        self.dpi = page_dpi(page)
        self._decode = page.decode
        self._lock = threading.Lock()

    def __enter__(self) -> TiffRows:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (after the bands are read)."""
        self._tiff.close()

    def read(self, band: int, workers: ThreadPoolExecutor | None = None) -> np.ndarray:
        """Band ``band`` (rows ``band * rows`` onwards, ``rows`` of them or what is left), as
        (C, rows, W); its segments decoded in ``workers`` when given."""
        channels, height, width = self.shape
        top = band * self.rows
        count = min(self.rows, height - top)
        planes = channels if self._separate else 1
        stored = (planes, count, width) if self._separate else (count, width, channels)
        out = np.empty(stored, self.dtype)
        per_plane = self._down * self._across
        indices = [
            plane * per_plane + band * self._across + column
            for plane in range(planes)
            for column in range(self._across)
        ]
        page = self._page
        offsets = [page.dataoffsets[i] for i in indices]
        counts = [page.databytecounts[i] for i in indices]
        try:
            with self._lock:  # one reader of the file handle at a time
                segments = list(
                    self._tiff.filehandle.read_segments(offsets, counts, indices, sort=False)
                )
            place = self._placer(out, top, count)
            if workers is None or self.compression is None:
                for data, index in segments:
                    place(data, index)
            else:
                for done in [workers.submit(place, data, index) for data, index in segments]:
                    done.result()
        except InputError:
            raise
        except OSError as exc:
            raise InputError(self.path, os_reason(exc)) from None
        except Exception as exc:  # the codecs' many ways of saying a segment is corrupt
            raise InputError(self.path, f"cannot be read: {exc}") from None
        return out if self._separate else np.moveaxis(out, -1, 0)

    def _placer(self, out: np.ndarray, top: int, count: int) -> Any:
        jpegtables = getattr(self._page, "jpegtables", None)
        width = self.shape[2]

        def place(data: bytes | None, index: int) -> None:
            segment, (plane, _, row, column, _), shape = self._decode(
                data or None, index, jpegtables=jpegtables
            )
            rows = min(shape[1], top + count - row)
            columns = min(shape[2], width - column)
            # a segment never written reads as the fill value, 0, as tifffile reads it
            part: Any = 0 if segment is None else segment[0, :rows, :columns]
            if self._separate:
                part = part if segment is None else part[..., 0]
                out[plane, row - top : row - top + rows, column : column + columns] = part
            else:
                out[row - top : row - top + rows, column : column + columns] = part

        return place

    def bands(self, rows: int = 512, threads: int = 2) -> Iterator[np.ndarray]:
        """Every row in order, in bands of about ``rows`` (a whole number of segments, at least
        one); the next band is read and decoded in other threads while this one is used."""
        group = max(1, round(rows / self.rows))
        count = self._down
        with ThreadPoolExecutor(max(1, threads), thread_name_prefix="poolcli-read") as workers:
            reader = ThreadPoolExecutor(1, thread_name_prefix="poolcli-band")
            try:

                def read_group(first: int) -> np.ndarray:
                    parts = [self.read(b, workers) for b in range(first, min(first + group, count))]
                    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-2)

                starts = list(range(0, count, group))
                ahead: Future[np.ndarray] | None = reader.submit(read_group, starts[0])
                for following in [*starts[1:], None]:
                    assert ahead is not None
                    band = ahead.result()
                    ahead = None if following is None else reader.submit(read_group, following)
                    yield band
            finally:
                reader.shutdown(wait=True, cancel_futures=True)


def page_dpi(page: Any) -> tuple[float, float] | None:
    """A tifffile page's resolution as dots per inch (horizontal, vertical), None without one
    (or in a unit that is no length)."""
    tags = page.tags
    try:
        unit = int(tags["ResolutionUnit"].value) if "ResolutionUnit" in tags else 2
        x = tags["XResolution"].value
        y = tags["YResolution"].value
    except (KeyError, TypeError, ValueError):
        return None
    inches = _INCHES.get(unit)
    if inches is None or not x[1] or not y[1] or not x[0] or not y[0]:
        return None
    return x[0] / x[1] / inches, y[0] / y[1] / inches


def resolution_arguments(
    dpi: tuple[float, float] | None, shrink: tuple[int, int] = (1, 1)
) -> dict[str, Any]:
    """tifffile's write arguments for a resolution of ``dpi`` (horizontal, vertical) dots per
    inch of an image shrunk ``shrink`` (rows, columns) times, so that it keeps its physical
    size; none without a resolution.

    >>> resolution_arguments((300.0, 300.0), (4, 4))
    {'resolution': (75.0, 75.0), 'resolutionunit': 'INCH'}
    """
    if dpi is None:
        return {}
    return {"resolution": (dpi[0] / shrink[1], dpi[1] / shrink[0]), "resolutionunit": "INCH"}


def page_icc(page: Any) -> bytes | None:
    """A tifffile page's embedded ICC profile (tag 34675), None without one."""
    tag = page.tags.get(34675)
    value = None if tag is None else tag.value
    return bytes(value) if isinstance(value, (bytes, bytearray)) and value else None


def open_rows(path: str) -> TiffRows | None:
    """The TIFF at ``path`` opened for reading in bands, or None when its first series is not
    one page of (H, W), (H, W, S) or (S, H, W) samples. A file that cannot be opened is an
    InputError."""
    import tifffile

    try:
        tiff = tifffile.TiffFile(path)
    except OSError as exc:
        raise InputError(path, os_reason(exc)) from None
    except Exception as exc:
        raise InputError(path, f"cannot be read: {exc}") from None
    try:
        if not tiff.series:
            raise InputError(path, "holds no image")
        series = tiff.series[0]
        page: Any = series.pages[0]
        plain = (
            len(series.pages) == 1
            and series.axes in ("YX", "YXS", "SYX")
            and int(page.shaped[1]) == 1
            and getattr(page, "tiledepth", 1) == 1
            and np.dtype(page.dtype).kind in "iuf"
            and int(page.bitspersample) == 8 * np.dtype(page.dtype).itemsize
            and os.path.getsize(path) > 0
        )
        if not plain:
            tiff.close()
            return None
        return TiffRows(path, tiff)
    except BaseException:
        tiff.close()
        raise
