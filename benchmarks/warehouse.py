"""Wall time and peak memory of a synthetic-warehouse build.

    python benchmarks/warehouse.py                 # demo scale: 0.01, 2005-2026
    python benchmarks/warehouse.py --full          # scale 1.0, 2020-2026 (about 11.5 million residents)
    python benchmarks/warehouse.py --scale 0.1 --years 2005-2026 --demography-only

Peak RSS is ``resource.getrusage`` of this process and its children (Linux reports KiB).
The warehouse is written to a temporary folder (or ``--out``) and removed afterwards unless
``--keep`` is given.
"""

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

# run as a script, this folder comes first on sys.path and its other benchmarks (cohort.py ...)
# would shadow the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from cohort.__main__ import POLARS_ALLOCATOR_SETTING  # noqa: E402

# as the `cohort` program does at its start, before Polars loads (the build below imports it)
os.environ.setdefault(*POLARS_ALLOCATOR_SETTING)

from cohort.warehouse.build import build_warehouse  # noqa: E402
from cohort.warehouse.cli import parse_years  # noqa: E402


def peak_rss_gib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    kib = max(own, children)
    return kib / (1024 * 1024) if sys.platform != "darwin" else kib / 1024**3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="scale 1.0 for 2020-2026")
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--years", default=None)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--demography-only", action="store_true")
    args = ap.parse_args()
    scale = args.scale if args.scale is not None else (1.0 if args.full else 0.01)
    first, last = parse_years(args.years or ("2020-2026" if args.full else "2005-2026"))
    out = args.out or Path(tempfile.mkdtemp(prefix="warehouse-bench-"))
    marks: list[tuple[float, str]] = []
    start = time.perf_counter()

    def progress(label: str, fraction: float) -> None:
        if label in ("demography", "labour market", "done") or label.startswith("households"):
            marks.append((time.perf_counter() - start, label))

    try:
        manifest = build_warehouse(
            out, scale, args.seed, first, last, progress=progress, with_labour=not args.demography_only
        )
        wall = time.perf_counter() - start
    finally:
        if not args.keep and args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    rows = sum(manifest["tables"].values())
    print(f"warehouse scale={scale} seed={args.seed} years={first}-{last} labour={manifest['labour_model']}")
    print(f"wall time      {wall:8.1f} s")
    print(f"peak RSS       {peak_rss_gib():8.2f} GiB")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"CPU time       {ru.ru_utime + ru.ru_stime:8.1f} s (user + system; wall time grows on a loaded machine)"
    )
    print(f"rows written   {rows:>12,d}")
    for t, n in manifest["tables"].items():
        print(f"  {t:<26} {n:>12,d}")
    seen = set()
    for t, label in marks:
        key = label.split()[0]
        if key not in seen or label == "done":
            print(f"  t={t:7.1f} s  {label}")
            seen.add(key)


if __name__ == "__main__":
    main()
