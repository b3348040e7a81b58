"""Benchmark of the labour-reserve delivery (seed 004): both mobility tables for all seven years,
with validation, against a plain DuckDB join-and-write floor. Prints figures; asserts nothing.

Usage::

    python benchmarks/labour_reserve.py --warehouse <dir>      # an existing warehouse (e.g. scale 1.0)
    python benchmarks/labour_reserve.py --scale 0.01           # builds a warehouse of that scale first

What is measured, in one process (DuckDB runs in process, so the peak RSS covers it):

1. ``build``: the whole secure build from the warehouse, exactly the asset steps without Dagster:
   person mapping, situation and population_absence of 2019-2027 (the years the warehouse has),
   then ``mobility_next`` and ``mobility_prev`` for 2020-2026 with their generic SQL checks, spec
   authorisation and schema validation (cohort.projects.labour_reserve.pipeline).
2. ``floor``: on the same input (the situation files written in 1), a plain DuckDB
   ``situation(T) LEFT JOIN situation(T±1) USING (person_id)`` writing the same columns (T's
   columns plus the carried ones) to Parquet, for both tables and all seven years: what the
   mobility step costs at the very least.

Ratios printed: mobility step (build + checks + validation) / floor, and whole build / floor.
The key is the demo key (COHORT_DEMO=1) made under the benchmark's own lake, never a real key.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _rss_gb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def floor(paths, years, mspec) -> float:
    from cohort import storage

    con = storage.connect()
    con.execute("SET enable_progress_bar = false")
    secure = paths.secure / "labour_reserve"
    out = paths.root / "floor"
    t = time.perf_counter()
    for y in years:
        base = storage.partition_file(secure, "situation", y)
        for direction, n in (("next", y + 1), ("prev", y - 1)):
            nfile = storage.partition_file(secure, "situation", n)
            target = out / f"{direction}_{y}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            if nfile.exists():
                carried = ", ".join(f"n.{c} AS {c}_{direction}" for c in mspec.carried)
                sql = (
                    f"SELECT t.*, {carried} FROM read_parquet({storage.sql_string(base)}, hive_partitioning = false) t "
                    f"LEFT JOIN read_parquet({storage.sql_string(nfile)}, hive_partitioning = false) n USING (person_id) "
                    "ORDER BY person_id"
                )
            else:
                carried = ", ".join(f"NULL AS {c}_{direction}" for c in mspec.carried)
                sql = f"SELECT t.*, {carried} FROM read_parquet({storage.sql_string(base)}, hive_partitioning = false) t ORDER BY person_id"
            con.execute(f"COPY ({sql}) TO {storage.sql_string(target)} ({storage.PARQUET_OPTIONS})")
    elapsed = time.perf_counter() - t
    con.close()
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warehouse", type=Path, help="existing warehouse folder (contract layout)")
    ap.add_argument(
        "--scale",
        type=float,
        default=0.01,
        help="scale of the warehouse to build when --warehouse is not given",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--lake", type=Path, help="lake folder for the outputs (default: a temporary folder, removed after)"
    )
    ap.add_argument("--no-validation", action="store_true")
    args = ap.parse_args()

    os.environ.setdefault("COHORT_DEMO", "1")
    lake_dir = args.lake or Path(tempfile.mkdtemp(prefix="lr_bench_"))
    tmp_wh = None
    warehouse = args.warehouse
    if warehouse is None:
        from cohort.warehouse.build import build_warehouse

        tmp_wh = Path(tempfile.mkdtemp(prefix="lr_bench_wh_"))
        t = time.perf_counter()
        build_warehouse(tmp_wh, scale=args.scale, seed=args.seed, first_year=2005, last_year=2026)
        print(
            f"warehouse scale {args.scale} built in {time.perf_counter() - t:.1f} s (not part of the figures)"
        )
        warehouse = tmp_wh
    manifest = warehouse / "_manifest.json"
    scale = json.loads(manifest.read_text()).get("scale") if manifest.exists() else "unknown"

    from cohort.projects import mobility
    from cohort.projects.labour_reserve import build
    from cohort.projects.labour_reserve.pipeline import build_secure_tables
    from cohort.settings import lake

    paths = lake(lake_dir, warehouse)
    spec = build.spec()
    mspec = mobility.MobilitySpec.from_project(spec)
    try:
        t0 = time.perf_counter()
        result = build_secure_tables(paths, validate=not args.no_validation, log=lambda *_: None)
        total = time.perf_counter() - t0
        rss_build = _rss_gb()
        timings = result["timings"]
        mob = sum(v for k, v in timings.items() if "mobility" in k)
        situation_part = total - mob
        rows = {k: v for k, v in result["rows"].items() if k.startswith("situation")}
        fl = floor(paths, result["years"], mspec)
        rss_all = _rss_gb()
        print(
            f"warehouse: {warehouse} (scale {scale}); project years {result['years']}; "
            f"situation years {result['situation_years']}"
        )
        print(f"population rows per year: {rows}")
        print(
            f"build, all steps with validation: {total:.1f} s wall "
            f"(mapping + situations + absences: {situation_part:.1f} s; both mobility tables x "
            f"{len(result['years'])} years incl. checks and validation: {mob:.1f} s)"
        )
        print(f"peak RSS after the build: {rss_build:.2f} GB; after the floor: {rss_all:.2f} GB")
        print(f"floor (plain DuckDB join-and-write of the same columns, both tables, all years): {fl:.1f} s")
        print(f"ratio mobility step / floor: {mob / fl:.2f}; whole build / floor: {total / fl:.2f}")
        slow = sorted(timings.items(), key=lambda kv: -kv[1])[:6]
        print("slowest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow))
    finally:
        if args.lake is None:
            shutil.rmtree(lake_dir, ignore_errors=True)
        if tmp_wh is not None:
            shutil.rmtree(tmp_wh, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
