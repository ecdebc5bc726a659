"""The C allocator told to keep freed memory for reuse, for a process that streams bands.

Each band of a streamed image allocates arrays of a few megabytes and frees them a moment later.
glibc's malloc serves such sizes with fresh ``mmap`` calls, or trims the freed top of its heap
back to the system, so every band's arrays start as untouched pages whose first writes fault them
in. Measured here: reading a 15000x15000 TIFF a band at a time in one thread took 0.53 s, and
0.13 s once the memory was kept; its whole streamed TIFF pyramid 0.88 s, and 0.74 s (medians of
five runs). :func:`keep_freed_memory` sets malloc's mmap and trim thresholds (``mallopt``)
so that it is: the process's memory then stays at its peak of use instead of shrinking between
bands. It also keeps every thread in malloc's one main arena (``M_ARENA_MAX``): a thread's own
arena is a heap of at most 64 MiB that glibc unmaps as soon as it empties, so the bands the
reading thread allocates were faulted in anew every time (543 000 page faults and 5 s of
system time for a 20000x20000 RGB pyramid; 93 000 and 1.5 s with one arena, and the whole run
8.0 s down to 4.6 s). A command-line run calls it; a library does not change its host's
allocator.

>>> keep_freed_memory() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

#: Allocations larger than this still get memory of their own, returned when freed.
MMAP_THRESHOLD = 256 * 2**20
#: How much freed memory at the top of the heap is kept rather than returned.
TRIM_THRESHOLD = 1024 * 2**20


def keep_freed_memory() -> bool:
    """Set glibc malloc's thresholds (see the module); whether it was done (not on other C
    libraries)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return (
        bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        and bool(mallopt(_M_ARENA_MAX, 1))
    )
