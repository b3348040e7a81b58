"""What the kernel's zeroing of fresh pages costs a NumPy loop, under the build's two malloc
policies (``cohort.warehouse.malloc``).

    python benchmarks/malloc_reuse.py

The loop allocates and frees the kind of temporaries a labour quarter does at scale 1.0 (16 million
doubles, a flag each, the indexes of the flags set) 200 times, and prints wall, user and system
time and minor page faults under each policy.
"""

import resource
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from cohort.warehouse.malloc import return_freed_memory, reusing_freed_memory  # noqa: E402


def loop(x: np.ndarray) -> str:
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(200):
        y = x * 2.0
        z = y > 1.0
        w = np.flatnonzero(z)
        del y, z, w
    r1, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - t0
    return (
        f"wall {wall:6.2f} s  user {r1.ru_utime - r0.ru_utime:6.2f} s  "
        f"system {r1.ru_stime - r0.ru_stime:6.2f} s  minor faults {r1.ru_minflt - r0.ru_minflt:,}"
    )


def main() -> None:
    x = np.random.default_rng(1).random(16_000_000)
    return_freed_memory()
    print("return_freed_memory   ", loop(x))
    with reusing_freed_memory():
        print("reusing_freed_memory  ", loop(x))


if __name__ == "__main__":
    main()
