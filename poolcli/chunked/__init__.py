"""Pooling arrays larger than memory: Dask arrays, zarr arrays, memory maps, chunk by chunk.

Needs the ``chunked`` extra (Dask): ``pip install 'poolcli-image[chunked]'``. Importing
:mod:`poolcli` never imports this package; :func:`poolcli.pool` hands Dask arrays to it.

- :func:`pool`, :func:`global_pool`, :func:`adaptive_pool`: as their in-memory namesakes, on a
  Dask array or anything with ``shape``, ``dtype`` and slicing; they return lazy Dask arrays.
- :func:`pyramid`: every level of a multiscale pyramid, in one graph that reads the base once.
- :func:`as_dask`: such an array as a Dask array, in its own chunks.

>>> import numpy as np
>>> from poolcli import chunked
>>> labels = np.array([[1, 1, 2, 2], [3, 1, 2, 5]], np.uint8)
>>> chunked.pool(labels, "mode", size=2, chunks=(1, 3)).compute()
array([[1, 2]], dtype=uint8)
"""

from __future__ import annotations

try:
    import dask.array  # noqa: F401  (the one check that the extra is installed)
except ImportError as error:  # pragma: no cover - the extra is installed where tests run
    raise ImportError(
        "chunked pooling needs Dask: pip install 'poolcli-image[chunked]'", name=error.name
    ) from error

from poolcli.chunked.arrays import adaptive_pool, as_dask, global_pool, pool
from poolcli.chunked.pyramid import pyramid

__all__ = ["adaptive_pool", "as_dask", "global_pool", "pool", "pyramid"]
