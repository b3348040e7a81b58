"""How long does the seed-003 release of one year take to protect? Prints sizes and seconds.

    COHORT_DATA_DIR=<lake with a built warehouse> python benchmarks/flemish_staff_release.py [YEAR]

Reads the year's staff frame straight from the warehouse (the `staff` asset's SQL), tabulates the
public release (14 linked tables; entities under 50 staff pooled, each with its restricted release),
protects and audits it as the `release_tables` asset does, and prints the seconds of each step.
"""

import sys
import time

import polars as pl

from cohort.projects import anonymous
from cohort.projects.flemish_staff_origin.assets import build_release, staff_sql
from cohort.resources import LakeResource


def main() -> None:
    year = int(sys.argv[1]) if len(sys.argv) > 1 else 2024
    con = LakeResource().connect()
    frame = con.sql(staff_sql(year)).pl()
    print(f"staff {frame.height:,} in {frame['entity'].n_unique()} entities ({year})", flush=True)
    rt = build_release(frame, year=year)
    cells = sum(t.height for t in rt.tables.values())
    print(
        f"public release: {len(rt.tables)} tables, {cells:,} cells; {len(rt.restricted)} restricted releases",
        flush=True,
    )
    started = time.perf_counter()
    protected = anonymous.protect_release(rt)
    hidden = sum(t.filter(pl.col("status") != "published").height for t in protected.tables.values())
    print(
        f"protect (public and restricted): {time.perf_counter() - started:.1f} s, {hidden:,} public cells hidden"
    )
    started = time.perf_counter()
    verdict = anonymous.audit_release(protected)
    s = verdict.report.summary
    print(
        f"audit (public and restricted): {time.perf_counter() - started:.1f} s, passed={verdict.passed}, "
        f"{s['protected_cells']:,} protected cells, {s['exact_cells']:,} with exact LP bounds"
    )


if __name__ == "__main__":
    main()
