"""Seed 003 (advice 13/71): origin of Flemish government staff, a yearly anonymous release.

``staff`` (secure, one partition per year) is the classified population frame; ``release_tables``
tabulates the fourteen table families at the three organisational levels, pools entities under 50
staff per policy domain (their own tables go to a restricted release with exact counts) and protects
everything; its blocking check ``small_cell_risk_analysis`` audits it; ``release`` writes
``<lake>/releases/flemish_staff_origin/<year>/`` after a sign-off.
"""

from datetime import date
from importlib import resources

import dagster as dg
import polars as pl

from cohort import clock, storage
from cohort.classifications import codes, eu_membership, origin
from cohort.partitions import yearly_partitions
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous
from cohort.projects.spec import ProjectSpec, class_sql, load_spec, population_ages
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource

PROJECT = "flemish_staff_origin"
SPEC = load_spec(PROJECT)
partitions = yearly_partitions(SPEC.first_year, SPEC.last_year)
ORG = "organisation"


def eu_membership_date(year: int, generated_on: date | None = None, spec: ProjectSpec = SPEC) -> date:
    """The day whose member states make "the EU" of ``origin_eu`` for ``year``: by the spec's
    ``eu_membership`` (default the generation date, §2), the generation date from the project's clock."""
    rule = spec.extra.get("eu_membership", eu_membership.GENERATION)
    return eu_membership.membership_date(rule, date(year, 12, 31), generated_on or clock.today())


def staff_sql(year: int, generated_on: date | None = None, spec: ProjectSpec = SPEC) -> str:
    """The population frame query of one year (safe parameters only: a year, a date, code lists).
    ``generated_on``: the generation date (default the clock's today), for the EU of ``origin_eu``."""
    ref = date(year, 12, 31)
    own, par, gp = "own_nats", "parent_nats", "grandparent_nats"
    template = resources.files(f"cohort.projects.{PROJECT}").joinpath("sql/staff.sql").read_text()
    min_age, max_age = population_ages(spec)
    return template.format(
        year=int(year),
        ref_date=ref.isoformat(),
        min_age=min_age,
        max_age=max_age,
        age_class=class_sql(spec, "age_class", "age"),
        origin_eu15=origin.allochtone_sql(own, par, gp, codes.EU15),
        origin_eu=origin.allochtone_sql(
            own, par, gp, codes.eu_members(eu_membership_date(year, generated_on, spec))
        ),
        origin_eu15_class=origin.allochtone_class_sql("cascade_eu15", spec.variables["origin_eu15"].classes),
        origin_eu_class=origin.allochtone_class_sql("cascade_eu", spec.variables["origin_eu"].classes),
    )


@dg.asset(
    key_prefix=[PROJECT],
    group_name=f"{PROJECT}_population",
    kinds={"duckdb", "parquet"},
    partitions_def=partitions,
    description="Population frame (secure area, never released): one row per member of the Flemish government "
    "staff at the end of the year aged 18-65, with policy domain, entity, sex, age class, level, position, regime "
    "and the two origin classifications (EU-15 and EU cascades over own, parents' and grandparents' nationality). "
    "No identifier.",
)
def staff(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    year = int(context.partition_key)
    with open_step(lake, SPEC, context.run.run_id, years=[year], warehouse=True) as step:
        con, generated_on = step.con, step.today
        path = storage.write_query(
            con, staff_sql(year, generated_on), lake.secure_file(PROJECT, "staff", year)
        )
        counts = con.execute(
            f"select count(*), count(distinct entity) from read_parquet({storage.sql_string(path)})"
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={
            "year": dg.MetadataValue.text(str(year)),
            "rows": counts[0],
            "entities": counts[1],
            "eu_membership_date": eu_membership_date(year, generated_on).isoformat(),
        }
    )


def organisation_hierarchy(frame: pl.DataFrame) -> dict[str, str]:
    """entity -> policy domain (-> the whole administration, the total). Codes must be unique over levels."""
    pairs = frame.select("entity", "policy_domain").unique()
    clash = set(pairs.get_column("entity")) & set(pairs.get_column("policy_domain"))
    if clash:
        raise ValueError(f"{PROJECT}: codes used both as entity and as policy domain: {sorted(clash)[:5]}")
    many = pairs.group_by("entity").len().filter(pl.col("len") > 1)
    if many.height:
        raise ValueError(
            f"{PROJECT}: {many.height} entities belong to several policy domains, e.g. {many.row(0)[0]}"
        )
    return dict(
        zip(pairs.get_column("entity").to_list(), pairs.get_column("policy_domain").to_list(), strict=True)
    )


def build_release(
    frame: pl.DataFrame, only: list[str] | None = None, year: int | None = None
) -> anonymous.ReleaseTables:
    """Tabulate one year's frame: the public release (small entities pooled) and one restricted
    release per entity under the size limit (its own tables without the organisation dimension).
    ``only``: spec tables to build (all by default)."""
    rules = anonymous.spec_rules(SPEC)
    hierarchy = organisation_hierarchy(frame)
    micro = frame.with_columns(pl.col("entity").alias(ORG))
    split = dc.split_by_entity_size(micro, ORG, rules.min_entity_size, hierarchy)
    plan = anonymous.plan_tables(SPEC, only, period=str(year) if year is not None else None)
    dims = anonymous.spec_dimensions(
        SPEC, {ORG: dc.Dimension(ORG, hierarchy=split.hierarchy, total_label="Flemish government")}
    )
    tables, specs = anonymous.tabulate_plan({"staff": split.public}, plan, dims)
    restricted = {}
    sub_plan = [
        anonymous.PlannedTable(
            dc.TableSpec(
                p.spec.name,
                tuple(d for d in p.spec.dimensions if d != ORG),
                p.spec.statistic,
                p.spec.percentage_of,
                population=f"{p.spec.population} of one entity",
                without_margins=p.spec.without_margins,
            ),
            p.population,
        )
        for p in plan
    ]
    for entity, sub in split.restricted.items():
        t, s = anonymous.tabulate_plan({"staff": sub}, sub_plan, dims)
        restricted[entity] = anonymous.ReleaseTables(t, s, dims, anonymous.RESTRICTED_RULES)
    return anonymous.ReleaseTables(
        tables, specs, dims, rules, {ORG: set(split.forced)} if split.forced else {}, restricted
    )


def _build(step: Step, partition_key: str | None) -> anonymous.ReleaseTables:
    year = int(partition_key or SPEC.last_year)
    return build_release(
        pl.read_parquet(storage.partition_file(step.lake.secure / PROJECT, "staff", year)), year=year
    )


release_tables, release = anonymous.release_assets(
    SPEC,
    _build,
    deps=[staff],
    release_id=lambda key: str(key),
    partitions_def=partitions,
)
