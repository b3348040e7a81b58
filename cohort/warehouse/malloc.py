"""How glibc's malloc serves the generator's NumPy arrays.

The simulation allocates and frees thousands of large temporaries (a flag or a code per person:
13 to 110 MB each at scale 1.0). Two policies, process-wide, and no-ops where the C library is not
glibc (Polars and Arrow bring their own allocators and are not concerned):

- ``return_freed_memory`` (the default of a build): freed blocks go back to the system at once, so
  the resident size follows what is in use. The demography and the households, where the build's
  peak is, run under it.
- ``reusing_freed_memory`` (the labour quarters): freed blocks stay in the heap and serve the
  next quarter's arrays. Every block mapped afresh must be zeroed page by page by the kernel, and
  on the virtual machine this was measured on that is slow: at scale 1.0 the quarters spent 208 s
  of system time (of 693 s CPU) under the default, 77-95 s under this policy, and the labour
  phase took 327-393 s instead of 463 s. The quarters hold 6 to 8 GiB under it (4 to 7 before),
  below the build's peak of 9.6 GiB in the households, so the memory kept is affordable there.
"""

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# <malloc.h>
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_MMAP_MAX_DEFAULT = 65536


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return None


def return_freed_memory() -> None:
    """Make glibc give freed mid-sized blocks back to the system at once.

    glibc serves blocks below its mmap threshold from the heap, and that threshold grows with
    every large block freed (up to 32 MiB): the simulation allocates and frees thousands of such
    NumPy temporaries, and the heap keeps the freed pages, so the resident size ends far above
    what is in use (at scale 0.3, 3.9 against 3.5 GiB for the demography alone). A fixed 8 MiB
    threshold maps those blocks on their own and unmaps them when freed."""
    calls = _glibc()
    if calls is None:
        return
    mallopt, _ = calls
    mallopt(_M_MMAP_MAX, _MMAP_MAX_DEFAULT)
    mallopt(_M_MMAP_THRESHOLD, 8 << 20)
    mallopt(_M_TRIM_THRESHOLD, 8 << 20)


@contextmanager
def reusing_freed_memory(keep_top: int = 1 << 30) -> Iterator[None]:
    """Within the block, every block comes from the heap (none is mapped on its own) and up to
    ``keep_top`` bytes free at the heap's top stay there, so a freed array's pages serve the next
    array without the kernel zeroing them again. On exit, ``return_freed_memory`` again, and
    what the heap holds free goes back to the system."""
    calls = _glibc()
    if calls is None:
        yield
        return
    mallopt, malloc_trim = calls
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_TRIM_THRESHOLD, keep_top)
    try:
        yield
    finally:
        return_freed_memory()
        malloc_trim(0)
