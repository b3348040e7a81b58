"""The two malloc policies of the build (cohort.warehouse.malloc), seen through glibc's own
accounting: where a large NumPy array comes from, and what stays after it is freed."""

import ctypes
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from cohort.warehouse.malloc import return_freed_memory, reusing_freed_memory

FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS]


def _mallinfo():
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    try:
        libc = ctypes.CDLL("libc.so.6")
        fn = libc.mallinfo2  # glibc 2.33 and later
    except (OSError, AttributeError):
        pytest.skip("no glibc mallinfo2 here")
    fn.restype = _Mallinfo2
    return fn


SIZE = 64 << 20  # a large temporary: above every mmap threshold glibc allows


def test_by_default_a_large_array_is_mapped_and_unmapped():
    info = _mallinfo()
    return_freed_memory()
    before = info().hblkhd
    a = np.ones(SIZE // 8)
    assert info().hblkhd - before >= SIZE  # a mapping of its own
    del a
    assert info().hblkhd == before  # and gone when freed


def test_reusing_freed_memory_serves_and_keeps_large_arrays_in_the_heap():
    info = _mallinfo()
    with reusing_freed_memory():
        mapped = info().hblkhd
        a = np.ones(SIZE // 8)
        assert info().hblkhd == mapped  # not mapped on its own: from the heap
        assert info().uordblks >= SIZE
        del a
        kept = info().fordblks
        assert kept >= SIZE  # freed, but kept for the next array
        b = np.ones(SIZE // 8)
        assert info().fordblks <= kept - SIZE  # which takes the kept pages
        del b
        held = _resident()
    # on leaving, what the heap holds free goes back to the system (wherever in the heap it lies:
    # other tests leave it fragmented), and a large array is mapped on its own again
    assert held - _resident() >= SIZE // 2
    c = np.ones(SIZE // 8)
    assert info().hblkhd - mapped >= SIZE
    del c


def _resident() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
