"""Benchmark: the whole longitudinal cohort (seed 002), 2005-2016, on an existing warehouse.

    python benchmarks/longitudinal_cohort.py <warehouse_dir> [--lake DIR] [--workers 2] [--mode direct|dagster]

Builds the sample, the pseudonym mappings, then every year's observation set and export tables, then
the trajectory tables (T next to T+1 and T-1)
(years in parallel over ``--workers`` processes in ``direct`` mode; one in-process Dagster run per
year in ``dagster`` mode) into a fresh lake (default: a temporary folder), and prints the wall time
of each stage, the row counts and the peak resident memory of the process tree. Uses a demo key
(``COHORT_DEMO=1``) unless ``COHORT_KEY_LONGITUDINAL_COHORT`` is set.
"""

import argparse
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _year(args: tuple[str, str, int]) -> tuple[int, float, dict[str, int]]:
    root, warehouse, year = args
    from cohort.projects.longitudinal_cohort import build
    from cohort.projects.spec import load_spec
    from cohort.settings import lake

    lk, spec = lake(root, warehouse), load_spec("longitudinal_cohort")
    t = time.perf_counter()
    build.run(lk, spec, build.build_observed, year)
    results = build.run(lk, spec, build.build_exports, year)
    bad = [e for r in results for e in r.errors]
    if bad:
        raise RuntimeError(f"{year}: checks failed: {bad[:3]}")
    return year, time.perf_counter() - t, {r.table: r.rows for r in results}


def _trajectories(args: tuple[str, str, int]) -> tuple[int, float, dict[str, int]]:
    root, warehouse, year = args
    from cohort.projects.longitudinal_cohort import build
    from cohort.projects.spec import load_spec
    from cohort.settings import lake

    t = time.perf_counter()
    lk, spec = lake(root, warehouse), load_spec("longitudinal_cohort")
    results = [
        build.run(lk, spec, build.build_trajectory, year, table=t) for t in build.trajectory_tables(spec)
    ]
    bad = [e for r in results for e in r.errors]
    if bad:
        raise RuntimeError(f"{year}: trajectory checks failed: {bad[:3]}")
    return year, time.perf_counter() - t, {r.table: r.rows for r in results}


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("--lake", help="lake folder (default: a fresh temporary folder, removed afterwards)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=["direct", "dagster"], default="direct")
    args = parser.parse_args()
    os.environ.setdefault("COHORT_DEMO", "1")
    warehouse = str(Path(args.warehouse).resolve())
    root = args.lake or tempfile.mkdtemp(prefix="cohort_bench_")

    from cohort.projects.longitudinal_cohort import build
    from cohort.projects.spec import load_spec
    from cohort.settings import lake, warehouse_scale

    spec, lk = load_spec("longitudinal_cohort"), lake(root, warehouse)
    print(
        f"warehouse {warehouse} (scale {warehouse_scale(Path(warehouse))}), lake {root}, "
        f"mode {args.mode}, workers {args.workers}, cpus {os.cpu_count()}"
    )
    start = time.perf_counter()
    totals: dict[str, int] = {}
    if args.mode == "dagster":
        import dagster as dg

        from cohort.projects.longitudinal_cohort import assets as A
        from cohort.resources import LakeResource

        res = {"lake": LakeResource(data_dir=root, warehouse_dir=warehouse)}
        with dg.instance_for_test() as instance:
            t = time.perf_counter()
            ok = dg.materialize(
                [A.sample_person, A.person_pseudonym_map, A.data_dictionary], resources=res, instance=instance
            ).success
            print(f"population and mappings: {time.perf_counter() - t:.1f} s")
            for year in spec.years:
                t = time.perf_counter()
                r = dg.materialize(
                    [A.observed_person, A.longitudinal_cohort_exports],
                    partition_key=str(year),
                    resources=res,
                    instance=instance,
                )
                ok = ok and r.success and all(e.passed for e in r.get_asset_check_evaluations())
                print(f"  {year}: {time.perf_counter() - t:.1f} s")
            # the trajectory tables need both neighbouring years: after every year is built
            t = time.perf_counter()
            for year in spec.years:
                r = dg.materialize(
                    [A.situation_next, A.situation_prev, A.mobility_next, A.mobility_prev],
                    partition_key=str(year),
                    resources=res,
                    instance=instance,
                )
                ok = ok and r.success and all(e.passed for e in r.get_asset_check_evaluations())
            print(f"trajectory tables 2005-2016: {time.perf_counter() - t:.1f} s")
        if not ok:
            print("FAILED")
            return 1
    else:
        t = time.perf_counter()
        sample = build.run(lk, spec, build.build_sample)
        t_sample = time.perf_counter() - t
        t = time.perf_counter()
        maps = build.run(lk, spec, build.build_mapping)
        t_map = time.perf_counter() - t
        build.run(lk, spec, build.write_data_dictionary)
        print(
            f"sample: {int(sample['strata']['sample_size'].sum())} persons in {t_sample:.1f} s; "
            f"mappings: {maps['person']['added']} persons, {maps['employer']['added']} employers in {t_map:.1f} s"
        )
        # spawn, not fork: a forked child of a process that ran DuckDB threads can deadlock
        with ProcessPoolExecutor(
            max_workers=args.workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            for year, seconds, rows in pool.map(_year, [(root, warehouse, y) for y in spec.years]):
                print(f"  {year}: {seconds:.1f} s  " + ", ".join(f"{k} {v}" for k, v in rows.items()))
                for k, v in rows.items():
                    totals[k] = totals.get(k, 0) + v
            # the trajectory tables need both neighbouring years: after every year is built
            t = time.perf_counter()
            for _year_done, _seconds, rows in pool.map(
                _trajectories, [(root, warehouse, y) for y in spec.years]
            ):
                for k, v in rows.items():
                    totals[k] = totals.get(k, 0) + v
            print(f"trajectory tables 2005-2016: {time.perf_counter() - t:.1f} s")
    wall = time.perf_counter() - start
    if totals:
        print("rows 2005-2016: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    print(f"WALL {wall:.1f} s  PEAK_RSS {_peak_rss_mb():.0f} MB")
    if not args.lake:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
