"""poolcli: downsample images and arrays by pooling.

>>> import numpy as np
>>> import poolcli
>>> x = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]])
>>> poolcli.pool(x, "max", size=2)
array([[2, 3],
       [4, 2]])
"""

__version__ = "0.1.0"
