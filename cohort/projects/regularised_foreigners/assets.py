"""Seed 000 (advice 15/46): regularised foreigners at four reference dates, a one-off anonymous release.

``regularised`` (secure) is the classified population frame, one row per person and reference date;
``release_tables`` tabulates the three tables of §4 at each date (as linked tables, see the spec) and
protects them together; its blocking check ``small_cell_risk_analysis`` audits them; ``release`` writes
``<lake>/releases/regularised_foreigners/2015-46/`` after a sign-off.
"""

from datetime import date
from importlib import resources

import dagster as dg
import polars as pl

from cohort import storage
from cohort.classifications.classes import UNKNOWN_COUNTRY, country_class_sql
from cohort.projects import anonymous
from cohort.projects.spec import class_sql, household_year, load_spec
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource

PROJECT = "regularised_foreigners"
SPEC = load_spec(PROJECT)
RELEASE_ID = "advice-15-46"


def regularised_sql() -> str:
    """The population frame query (safe parameters only: dates from the spec, SQL of the class rules)."""
    reference_dates = [date.fromisoformat(str(d)) for d in SPEC.extra["reference_dates"]]
    dates = "[" + ", ".join(f"date '{d.isoformat()}'" for d in reference_dates) + "]"
    household_years = "[" + ", ".join(str(household_year(SPEC, d)) for d in reference_dates) + "]"
    template = resources.files(f"cohort.projects.{PROJECT}").joinpath("sql/regularised.sql").read_text()
    return template.format(
        reference_dates=dates,
        household_years=household_years,
        age_class=class_sql(SPEC, "age_class", "age"),
        nace_section=anonymous.nace_section_sql("nace"),
        sep_class=anonymous.sep_class_sql("nomenclature"),
        birth_country_class=country_class_sql("birth_country", missing=UNKNOWN_COUNTRY),
        nationality_class=country_class_sql("nationality", missing=UNKNOWN_COUNTRY),
    )


@dg.asset(
    key_prefix=[PROJECT],
    group_name=f"{PROJECT}_population",
    kinds={"duckdb", "parquet"},
    description="Population frame (secure area, never released): one row per regularised person (durable local "
    "anchoring) and reference date (30/6/2013, 31/12/2013, 30/6/2014, 31/12/2014), with the classified criteria "
    "of the three tables of §4. No identifier.",
)
def regularised(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    with open_step(lake, SPEC, context.run.run_id, years=SPEC.years, warehouse=True) as step:
        con = step.con
        path = storage.write_query(con, regularised_sql(), lake.secure_file(PROJECT, "regularised"))
        per_date = con.execute(
            f"select reference_date, count(*) from read_parquet({storage.sql_string(path)}) group by all order by all"
        ).fetchall()
    return dg.MaterializeResult(
        metadata={"rows": sum(n for _, n in per_date), "persons_per_date": {d: n for d, n in per_date}}
    )


def build_release(frame: pl.DataFrame) -> anonymous.ReleaseTables:
    dims = anonymous.spec_dimensions(SPEC)
    tables, specs = anonymous.tabulate_plan({"regularised": frame}, anonymous.plan_tables(SPEC), dims)
    return anonymous.ReleaseTables(tables, specs, dims, anonymous.spec_rules(SPEC))


def _build(step: Step, partition_key: str | None) -> anonymous.ReleaseTables:
    return build_release(pl.read_parquet(storage.partition_file(step.lake.secure / PROJECT, "regularised")))


release_tables, release = anonymous.release_assets(
    SPEC, _build, deps=[regularised], release_id=lambda _: RELEASE_ID
)
