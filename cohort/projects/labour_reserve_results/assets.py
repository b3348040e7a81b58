"""Seed 004 phase 2: the researchers' SQL analyses over the secure full-population mobility tables of project
``labour_reserve``; their results leave only as anonymous tables through the disclosure gate (§2, §16).

An analysis is ``sql/<name>.sql``: a query over the views ``mobility_next`` / ``mobility_prev`` (year
``{year}``) returning one row per person with the classified dimensions of the tables the spec declares on
it. ``release_tables`` runs every analysis of the year, tabulates, protects and audits (blocking check
``small_cell_risk_analysis``); ``release`` writes ``<lake>/releases/labour_reserve_results/<year>/`` after a
sign-off. Nothing at person level leaves: the analysis frames stay in memory.
"""

from importlib import resources

import dagster as dg
import duckdb
import polars as pl

from cohort import storage
from cohort.partitions import yearly_partitions
from cohort.projects import anonymous
from cohort.projects.spec import load_spec
from cohort.projects.step import Step
from cohort.settings import Lake

PROJECT = "labour_reserve_results"
SPEC = load_spec(PROJECT)
SOURCE = SPEC.extra["source_project"]
partitions = yearly_partitions(SPEC.first_year, SPEC.last_year)
MOBILITY_TABLES = ("mobility_next", "mobility_prev")


def analysis_names() -> list[str]:
    return sorted({str(t.extra["population"]) for t in SPEC.tables.values() if t.area == "releases"})


def age_group_sql(col: str) -> str:
    groups = SPEC.extra["age_groups"]
    whens = " ".join(
        f"when {col} in ({', '.join(repr(c) for c in classes)}) then '{g}'" for g, classes in groups.items()
    )
    return f"case {whens} else 'unknown' end"


def analysis_sql(name: str, year: int) -> str:
    """The SQL of one analysis for one year (safe parameters only: the year and the rule SQL)."""
    template = resources.files(f"cohort.projects.{PROJECT}").joinpath(f"sql/{name}.sql").read_text()
    return template.format(
        year=int(year),
        age_group=age_group_sql("age_class"),
        sep_class=anonymous.sep_class_sql("sep_code"),
        sep_class_next=anonymous.sep_class_sql("sep_code_next"),
    )


def attach_secure(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """Views in ``con`` (a step's connection) of the secure phase-2 tables of the source project
    (never the exports)."""
    found = storage.register_tables(con, lake.secure / SOURCE, MOBILITY_TABLES)
    if "mobility_next" not in found:
        raise FileNotFoundError(
            f"{PROJECT}: no secure {SOURCE}/mobility_next under the lake: materialise "
            f"{SOURCE}/mobility_next first"
        )


def run_analyses(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, pl.DataFrame]:
    """Run every analysis of the spec for ``year``; each must return only the columns its tables use."""
    frames = {}
    for name in analysis_names():
        df = con.sql(analysis_sql(name, year)).pl()
        allowed = {c for t in SPEC.tables.values() if t.extra.get("population") == name for c in t.columns}
        extra = [c for c in df.columns if c not in allowed]
        if extra:
            raise ValueError(
                f"{PROJECT}: analysis {name} returns columns {extra} that no table of the spec declares"
            )
        frames[name] = df
    return frames


def build_release(frames: dict[str, pl.DataFrame], year: int | None = None) -> anonymous.ReleaseTables:
    dims = anonymous.spec_dimensions(SPEC)
    plan = anonymous.plan_tables(SPEC, period=str(year) if year is not None else None)
    tables, specs = anonymous.tabulate_plan(frames, plan, dims)
    return anonymous.ReleaseTables(tables, specs, dims, anonymous.spec_rules(SPEC))


def _build(step: Step, partition_key: str | None) -> anonymous.ReleaseTables:
    year = int(partition_key or SPEC.first_year)
    attach_secure(step.con, step.lake)
    return build_release(run_analyses(step.con, year), year)


release_tables, release = anonymous.release_assets(
    SPEC,
    _build,
    deps=[dg.AssetKey([SOURCE, t]) for t in MOBILITY_TABLES],
    release_id=lambda key: str(key),
    partitions_def=partitions,
)
