"""poolcli: downsample images and arrays by pooling.

The public API of DESIGN.md §6. Submodules load on first use, so ``import poolcli`` (and the
command line's ``--help``) stays fast.

>>> import numpy as np
>>> import poolcli
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
>>> poolcli.pool(x, "max", size=2)
array([[2, 3],
       [4, 2]])
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "pool": "core.engine",
    "result_dtype": "core.engine",
    "global_pool": "core.adaptive",
    "adaptive_pool": "core.adaptive",
    "fractional_max_pool": "core.adaptive",
    "output_shape": "core.geometry",
    "resolve": "core.geometry",
    "load_image": "io.images",
    "save_image": "io.images",
    "ImageInfo": "io.images",
    "im2col": "teaching.textbook",
    "col2im": "teaching.textbook",
    "MaxPooling": "teaching.layers",
    "AveragePooling": "teaching.layers",
    "max_unpool": "core.unpooling",
    "PoolcliError": "errors",
    "InputError": "errors",
    "OutputError": "errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'poolcli' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
