"""The whole labour-reserve build in one process, outside Dagster: the same steps as the assets, in
lineage order. For the benchmark, the tests and a quick local run; production runs the assets."""

import time
from collections.abc import Iterable
from typing import Any

from cohort.projects import mobility
from cohort.projects.labour_reserve import build, schemas
from cohort.settings import Lake
from cohort.sources import checks


def build_secure_tables(
    paths: Lake,
    years: Iterable[int] | None = None,
    validate: bool = True,
    log=print,
) -> dict[str, Any]:
    """Mapping, situation and absence of every available situation year, then both mobility
    tables of every project year (``years``, default all), each validated like the blocking checks.
    Returns timings and row counts; raises if a validation fails."""
    s = build.spec()
    mspec = mobility.MobilitySpec.from_project(s)
    secure = paths.secure / build.PROJECT
    wh_years = checks.warehouse_years(paths.warehouse)
    project_years = [y for y in (years or s.years) if y in wh_years]
    needed = sorted({n for y in project_years for n in (y - 1, y, y + 1)} & set(wh_years))
    timings: dict[str, float] = {}
    rows: dict[str, int] = {}

    def step(name: str, fn):
        t = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t, 2)
        log(f"{name}: {timings[name]} s")
        return out

    con = build.connect(paths, mapping=False)
    try:
        step("person_mapping", lambda: build.build_person_mapping(con, secure, needed))
    finally:
        con.close()
    con = build.connect(paths)
    try:
        for y in needed:
            info = step(f"situation {y}", lambda y=y: build.build_situation(con, secure, paths.warehouse, y))
            rows[f"situation {y}"] = info["rows"]
            step(f"population_absence {y}", lambda y=y: build.build_absence(con, secure, paths.warehouse, y))
            if validate:
                ok, meta = step(
                    f"validate situation {y}",
                    lambda info=info: schemas.validate_partition(s, "situation", info["path"]),
                )
                if not ok:
                    raise RuntimeError(f"situation {y} failed validation: {meta}")
        for y in project_years:
            for direction in ("next", "prev"):
                table = mspec.table(direction)
                info = step(
                    f"{table} {y}",
                    lambda y=y, d=direction, t=table: mobility.build_mobility(
                        con, mspec, secure, y, d, authorised=lambda cols, t=t: s.check_columns(t, cols)
                    ),
                )
                rows[f"{table} {y}"] = info["rows"]
                if validate:
                    v = step(
                        f"check {table} {y}",
                        lambda y=y, d=direction: mobility.check_mobility(con, mspec, secure, y, d),
                    )
                    ok, meta = step(
                        f"validate {table} {y}",
                        lambda info=info, t=table: schemas.validate_partition(s, t, info["path"]),
                    )
                    if not ok or any(v.values()):
                        raise RuntimeError(f"{table} {y} failed validation: {v} {meta}")
    finally:
        con.close()
    return {"timings": timings, "rows": rows, "years": project_years, "situation_years": needed}
