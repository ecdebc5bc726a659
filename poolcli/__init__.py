"""poolcli: downsample images and arrays by pooling.

The public API (README.md, Python). Submodules load on first use, so ``import poolcli`` (and the
command line's ``--help``) stays fast. ``pool``, ``global_pool`` and ``adaptive_pool`` also take
Dask arrays (:mod:`poolcli.chunked`, the ``chunked`` extra) and give lazy Dask arrays.

>>> import numpy as np
>>> import poolcli
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
>>> poolcli.pool(x, "max", size=2)
array([[2, 3],
       [4, 2]])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names as type checkers and editors see them; at run time they load lazily
    from poolcli.api import adaptive_pool, global_pool, pool, pyramid
    from poolcli.core.adaptive import fractional_max_pool
    from poolcli.core.engine import result_dtype
    from poolcli.core.geometry import output_shape, resolve
    from poolcli.core.unpooling import max_unpool
    from poolcli.errors import InputError, OutputError, PoolcliError
    from poolcli.io.images import ImageInfo, load_image, save_image
    from poolcli.teaching.layers import AveragePooling, MaxPooling
    from poolcli.teaching.textbook import col2im, im2col

__version__ = "0.1.0"

__all__ = [
    "AveragePooling",
    "ImageInfo",
    "InputError",
    "MaxPooling",
    "OutputError",
    "PoolcliError",
    "adaptive_pool",
    "col2im",
    "fractional_max_pool",
    "global_pool",
    "im2col",
    "load_image",
    "max_unpool",
    "output_shape",
    "pool",
    "pyramid",
    "resolve",
    "result_dtype",
    "save_image",
]

#: Each exported name -> the module that defines it, relative to this package.
_EXPORTS = {
    "pool": "api",
    "result_dtype": "core.engine",
    "global_pool": "api",
    "adaptive_pool": "api",
    "pyramid": "api",
    "fractional_max_pool": "core.adaptive",
    "output_shape": "core.geometry",
    "resolve": "core.geometry",
    "max_unpool": "core.unpooling",
    "load_image": "io.images",
    "save_image": "io.images",
    "ImageInfo": "io.images",
    "im2col": "teaching.textbook",
    "col2im": "teaching.textbook",
    "MaxPooling": "teaching.layers",
    "AveragePooling": "teaching.layers",
    "PoolcliError": "errors",
    "InputError": "errors",
    "OutputError": "errors",
}


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'poolcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
