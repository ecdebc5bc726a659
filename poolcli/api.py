"""The public pooling functions: arrays in memory to the core, Dask arrays to poolcli.chunked.

:func:`pool`, :func:`global_pool` and :func:`adaptive_pool` are those of :mod:`poolcli.core`
(their docstrings are the core's), except that a Dask array gives a lazy Dask array, pooled
chunk by chunk by :mod:`poolcli.chunked` (which needs the ``chunked`` extra). Dask is never
imported here: a Dask array is recognised by its graph. Another lazy array (a zarr array, an
h5py dataset: anything with ``chunks``) is refused rather than read whole into memory; it goes
through ``poolcli.chunked.pool(array, ...)``.

>>> import numpy as np
>>> pool(np.arange(16).reshape(4, 4), "max", size=2)
array([[ 5,  7],
       [13, 15]])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

from poolcli.core import adaptive, engine
from poolcli.core import pyramid as pyramids
from poolcli.core.geometry import PaddingLike, PadMode, PairLike

if TYPE_CHECKING:
    import dask.array as da

__all__ = ["adaptive_pool", "global_pool", "is_dask", "pool", "pyramid"]


def is_dask(x: object) -> bool:
    """True for a Dask array, found without importing Dask.

    >>> is_dask(np.zeros(3))
    False
    """
    return hasattr(x, "__dask_graph__") and type(x).__module__.startswith("dask.")


def _refuse_lazy(x: object) -> None:
    """A lazy array other than Dask's is not read whole behind the caller's back."""
    if not isinstance(x, np.ndarray) and getattr(x, "chunks", None) is not None:
        raise TypeError(
            f"{type(x).__name__} is read in chunks: pool it with poolcli.chunked.pool(array, "
            f"...), which returns a Dask array (np.asarray(array) reads it whole)"
        )


@overload
def pool(
    x: da.Array,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: None = None,
    return_indices: Literal[False] = False,
) -> da.Array: ...


@overload
def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: Literal[False] = False,
) -> np.ndarray: ...


@overload
def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: Literal[True],
) -> tuple[np.ndarray, npt.NDArray[np.int64]]: ...


@overload
def pool(
    x: npt.ArrayLike,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: bool,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]: ...


def pool(
    x: Any,
    op: str,
    size: PairLike = 2,
    stride: PairLike | None = None,
    padding: PaddingLike = 0,
    dilation: PairLike = 1,
    ceil_mode: bool = False,
    pad_mode: PadMode = "ignore",
    p: float = 2.0,
    *,
    out: np.ndarray | None = None,
    return_indices: bool = False,
) -> Any:
    if is_dask(x):
        if out is not None:
            raise ValueError("out is for arrays in memory; a Dask array gives a Dask array")
        from poolcli import chunked

        return chunked.pool(
            x,
            op,
            size,
            stride,
            padding,
            dilation,
            ceil_mode,
            pad_mode,
            p,
            return_indices=return_indices,
        )
    _refuse_lazy(x)
    return engine.pool(
        x,
        op,
        size,
        stride,
        padding,
        dilation,
        ceil_mode,
        pad_mode,
        p,
        out=out,
        return_indices=return_indices,
    )


@overload
def global_pool(x: da.Array, op: str = "avg", axes: int = 2) -> da.Array: ...


@overload
def global_pool(x: npt.ArrayLike, op: str = "avg", axes: int = 2) -> np.ndarray: ...


def global_pool(x: Any, op: str = "avg", axes: int = 2) -> Any:
    if is_dask(x):
        from poolcli import chunked

        return chunked.global_pool(x, op, axes)
    _refuse_lazy(x)
    return adaptive.global_pool(x, op, axes)


@overload
def adaptive_pool(x: da.Array, output_size: adaptive.OutputSize, op: str = "avg") -> da.Array: ...


@overload
def adaptive_pool(
    x: npt.ArrayLike, output_size: adaptive.OutputSize, op: str = "avg"
) -> np.ndarray: ...


def adaptive_pool(x: Any, output_size: adaptive.OutputSize, op: str = "avg") -> Any:
    if is_dask(x):
        from poolcli import chunked

        return chunked.adaptive_pool(x, output_size, op)
    _refuse_lazy(x)
    return adaptive.adaptive_pool(x, output_size, op)


@overload
def pyramid(
    x: da.Array,
    op: str = "avg",
    levels: int | str | None = None,
    factor: pyramids.FactorLike = 2,
    chunk: int = pyramids.DEFAULT_CHUNK,
) -> list[da.Array]: ...


@overload
def pyramid(
    x: npt.ArrayLike,
    op: str = "avg",
    levels: int | str | None = None,
    factor: pyramids.FactorLike = 2,
    chunk: int = pyramids.DEFAULT_CHUNK,
) -> list[np.ndarray]: ...


def pyramid(
    x: Any,
    op: str = "avg",
    levels: int | str | None = None,
    factor: pyramids.FactorLike = 2,
    chunk: int = pyramids.DEFAULT_CHUNK,
) -> Any:
    if is_dask(x):
        from poolcli import chunked

        return chunked.pyramid(x, op, levels, factor, chunk)
    if not isinstance(x, np.ndarray) and getattr(x, "chunks", None) is not None:
        raise TypeError(
            f"{type(x).__name__} is read in chunks: make its pyramid with "
            f"poolcli.chunked.pyramid(array, ...), which returns Dask arrays"
        )
    return pyramids.pyramid(x, op, levels, factor, chunk)


_DASK_NOTE = """
    A Dask array gives a lazy Dask array (:mod:`poolcli.chunked`, the ``chunked`` extra), pooled
    chunk by chunk over one, two or three axes as in memory."""

for _public, _core in ((pool, engine.pool), (global_pool, adaptive.global_pool)):
    _public.__doc__ = (_core.__doc__ or "") + _DASK_NOTE
adaptive_pool.__doc__ = (adaptive.adaptive_pool.__doc__ or "") + _DASK_NOTE
_PYRAMID_NOTE = """
    A Dask array gives a list of lazy Dask arrays sharing one graph: computed together, they
    read the base once (:func:`poolcli.chunked.pyramid`, the ``chunked`` extra)."""
pyramid.__doc__ = (pyramids.pyramid.__doc__ or "") + _PYRAMID_NOTE
