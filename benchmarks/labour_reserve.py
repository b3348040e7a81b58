"""Benchmark of the labour-reserve delivery (seed 004) on the path a user takes, against an I/O
floor measured in the same run. Prints figures; asserts nothing.

Usage::

    python benchmarks/labour_reserve.py --warehouse <dir>      # an existing warehouse (e.g. scale 1.0)
    python benchmarks/labour_reserve.py --scale 0.01           # builds a warehouse of that scale first
    python benchmarks/labour_reserve.py --warehouse <dir> --memory 8GB --rounds 2

Each round, on a fresh lake:

1. ``build``: ``cohort project build labour_reserve`` (every year, every check and validation,
   through Dagster, as a user runs it) in a subprocess. Its CPU (user + system, the subprocess and
   everything it started) and its peak RSS (DuckDB included: it runs in that process) are read
   from ``getrusage(RUSAGE_CHILDREN)``.
2. ``floor``: in this process, what the build cannot do with less I/O: read once every column
   of every warehouse table the spec reads (``warehouse.tables``), for the years the build reads
   (the project years and their neighbours, as the contract check does: it reads every column),
   then write Parquet files of the same rows and columns as every output the build wrote
   (secure tables and exports; read back from the build's files, which the floor does not time
   apart). CPU from ``getrusage(RUSAGE_SELF)``.

Rounds alternate build and floor (build, floor, build, floor, ...), so a drift of the shared
machine's speed hits both; the ratio build / floor is printed per round, in CPU and in wall time.
The key is the demo key (``COHORT_DEMO=1``) made under the benchmark's own lake, never a real key.
``--memory`` sets ``COHORT_DUCKDB_MEMORY`` (DuckDB's memory limit; it spills to the lake's
temporary folder beyond it).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = "labour_reserve"


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_rss_gb: float


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _peak_gb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024 / 1024  # KiB on Linux


def build(lake_dir: Path, warehouse: Path, memory: str | None) -> Measure:
    """``cohort project build labour_reserve`` on a fresh lake, as a subprocess."""
    env = {**os.environ, "COHORT_DEMO": "1", "COHORT_WAREHOUSE_DIR": str(warehouse)}
    if memory:
        env["COHORT_DUCKDB_MEMORY"] = memory
    command = [str(Path(sys.executable).parent / "cohort"), "project", "build", PROJECT]
    cpu0, t0 = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([*command, "--data-dir", str(lake_dir)], env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _cpu(resource.RUSAGE_CHILDREN) - cpu0
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        raise SystemExit(f"the build failed (exit status {done.returncode})")
    return Measure(wall, cpu, _peak_gb(resource.RUSAGE_CHILDREN))


def source_files(warehouse: Path, years: list[int]) -> dict[str, list[Path]]:
    """The warehouse files the build reads: each table of the spec's ``warehouse.tables``, the
    given years of the yearly ones."""
    from cohort import storage
    from cohort.projects.spec import load_spec
    from cohort.sources.contract import TABLES

    files = {}
    for table in load_spec(PROJECT).warehouse.tables:
        if TABLES[table].by_year:
            files[table] = [f for y in years if (f := storage.partition_file(warehouse, table, y)).exists()]
        else:
            files[table] = [storage.partition_file(warehouse, table)]
    return files


def floor(lake_dir: Path, warehouse: Path, years: list[int], scratch: Path) -> Measure:
    """Read every source column once, then write every output's rows and columns once more."""
    from cohort import storage

    outputs = sorted(
        p for area in ("secure", "exports") for p in (lake_dir / area / PROJECT).rglob("*.parquet")
    )
    scratch.mkdir(parents=True, exist_ok=True)
    con = storage.connect()
    cpu0, t0 = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    for files in source_files(warehouse, years).values():
        if files:  # a hash of every column forces every column to be read and decoded
            listed = ", ".join(storage.sql_string(f) for f in files)
            con.execute(f"SELECT bit_xor(hash(COLUMNS(*))) FROM read_parquet([{listed}])").fetchall()
    for i, path in enumerate(outputs):
        target = scratch / f"{i}.parquet"
        con.execute(
            f"COPY (SELECT * FROM read_parquet({storage.sql_string(path)})) "
            f"TO {storage.sql_string(target)} ({storage.PARQUET_OPTIONS})"
        )
    measure = Measure(
        time.perf_counter() - t0, _cpu(resource.RUSAGE_SELF) - cpu0, _peak_gb(resource.RUSAGE_SELF)
    )
    con.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return measure


def read_years(warehouse: Path) -> list[int]:
    """The warehouse years the build reads: the project's years and their neighbours."""
    from cohort.projects.spec import load_spec
    from cohort.sources import checks

    have = set(checks.warehouse_years(warehouse))
    return sorted({n for y in load_spec(PROJECT).years for n in (y - 1, y, y + 1)} & have)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warehouse", type=Path, help="existing warehouse folder (contract layout)")
    ap.add_argument(
        "--scale", type=float, default=0.01, help="scale of the warehouse to build without --warehouse"
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2, help="build-then-floor rounds (default 2)")
    ap.add_argument("--memory", help="DuckDB memory limit for the build, e.g. 8GB (COHORT_DUCKDB_MEMORY)")
    ap.add_argument("--keep", type=Path, help="keep the last round's lake in this folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lr_bench_"))
    warehouse = args.warehouse
    try:
        if warehouse is None:
            from cohort.warehouse.build import build_warehouse

            warehouse = work / "warehouse"
            t = time.perf_counter()
            build_warehouse(warehouse, scale=args.scale, seed=args.seed, first_year=2005, last_year=2026)
            print(
                f"warehouse scale {args.scale} built in {time.perf_counter() - t:.1f} s (not part of the figures)"
            )
        warehouse = warehouse.resolve()
        manifest = warehouse / "_manifest.json"
        scale = json.loads(manifest.read_text()).get("scale") if manifest.exists() else "unknown"
        years = read_years(warehouse)
        print(f"warehouse {warehouse} (scale {scale}); warehouse years read: {years[0]}-{years[-1]}")
        print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for round_no in range(1, args.rounds + 1):
            lake_dir = work / f"lake{round_no}"
            b = build(lake_dir, warehouse, args.memory)
            print(f"round {round_no}: build done", flush=True)
            f = floor(lake_dir, warehouse, years, work / "floor")
            print(
                f"round {round_no}: build {b.wall:.1f} s wall, {b.cpu:.1f} s CPU, peak RSS {b.peak_rss_gb:.2f} GB | "
                f"floor {f.wall:.1f} s wall, {f.cpu:.1f} s CPU | "
                f"build / floor: CPU {b.cpu / f.cpu:.2f}, wall {b.wall / f.wall:.2f}"
            )
            if round_no < args.rounds:
                shutil.rmtree(lake_dir, ignore_errors=True)
            elif args.keep:
                shutil.rmtree(args.keep, ignore_errors=True)
                shutil.move(lake_dir, args.keep)
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
