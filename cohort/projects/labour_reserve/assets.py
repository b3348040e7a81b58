"""Dagster assets of the labour-reserve delivery (deliberation 26/104, seed 004), generated from the spec.

Lineage::

    person_mapping ─┬─> situation (2019-2027) ──┬─> mobility_next / mobility_prev (2020-2026, T±1)
                    └─> population_absence ─────┘        │
                        situation ──> phase1_panel ──────┴─> phase1_next / phase1_prev (exports)
    data_dictionary (exports)

Two partition sets: the project years 2020-2026, and the situation years 2019-2027 (one
neighbour year on each side, so that 2020's T-1 and 2026's T+1 are ordinary partitions; 2027
becomes a partition when the calendar reaches it, and building it marks 2026's ``mobility_next``
stale through the T-1..T+1 partition mapping).
"""

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from cohort import storage
from cohort.partitions import yearly_partitions
from cohort.privacy.preview import export_preview
from cohort.privacy.scan import write_export
from cohort.projects import mobility
from cohort.projects.labour_reserve import build, schemas
from cohort.projects.spec import data_dictionary
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource
from cohort.sources import checks

PROJECT = build.PROJECT
SPEC = build.spec()
MOBILITY = mobility.MobilitySpec.from_project(SPEC)

project_partitions = yearly_partitions(SPEC.first_year, SPEC.last_year)
situation_partitions = yearly_partitions(SPEC.first_year - 1, SPEC.last_year + 1)

GROUP_POPULATION = f"{PROJECT}_population"
GROUP_LINKED = f"{PROJECT}_linked"
GROUP_EXPORTS = f"{PROJECT}_exports"


@contextlib.contextmanager
def _warehouse_step(
    context: dg.AssetExecutionContext, lake: LakeResource, years: list[int], what: str, mapping: bool = True
) -> Iterator[Step]:
    """The step of an asset reading the warehouse (:func:`cohort.projects.step.open_step`): the
    contract-checked views of ``years``, the keyed hash, the lookups and (``mapping``) ``person_map``."""
    with open_step(
        lake, SPEC, context.run.run_id, years=years, warehouse=True, pseudonyms=True, what=what
    ) as step:
        build.prepare(step, SPEC, mapping=mapping)
        yield step


@dg.asset(
    key=[PROJECT, "person_mapping"],
    group_name=GROUP_POPULATION,
    kinds={"duckdb", "parquet"},
)
def person_mapping(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The project's pseudonym mapping (keyed hash -> meaningless sequence number) extended with every
    person in the population of any situation year the warehouse holds. Append-only: numbers given
    earlier never change, so phase 1 and phase 2 share them. Kept in secure/labour_reserve/_mapping."""
    years = [y for y in checks.warehouse_years(lake.paths().warehouse) if y in build.situation_years(SPEC)]
    with _warehouse_step(context, lake, years, "build person_mapping", mapping=False) as step:
        counts = build.build_person_mapping(step, SPEC, years)
    return dg.MaterializeResult(metadata={**counts, "years": dg.MetadataValue.json(years)})


@dg.asset(
    key=[PROJECT, "situation"],
    deps=[person_mapping],
    partitions_def=situation_partitions,
    group_name=GROUP_POPULATION,
    kinds={"duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            "situation_valid",
            asset=[PROJECT, "situation"],
            blocking=True,
            description="Spec authorisation, SQL value rules on every row, Pandera schema on a sample.",
        )
    ],
)
def situation(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """One row per person of the population of year T (aged 15-64, living in Belgium on 31 December,
    waiting register and BIS numbers excluded): every year-T variable of §3, pseudonymised and in
    classes; no death column. Built for 2019-2027 so that the project years' neighbours exist."""
    year = int(context.partition_key)
    meta: dict = {}
    with _warehouse_step(context, lake, [year], "build situation") as step:
        # validated before the rename: a year breaking a rule fails the step and leaves no file
        info = build.build_situation(
            step, SPEC, year, validate=schemas.rejecting(SPEC, "situation", year, meta)
        )
    return dg.MaterializeResult(
        metadata={"rows": info["rows"], "columns": len(info["columns"])},
        check_results=[dg.AssetCheckResult(check_name="situation_valid", passed=True, metadata=meta)],
    )


@dg.asset(
    key=[PROJECT, "population_absence"],
    deps=[person_mapping],
    partitions_def=situation_partitions,
    group_name=GROUP_POPULATION,
    kinds={"duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec("population_absence_valid", asset=[PROJECT, "population_absence"], blocking=True)
    ],
)
def population_absence(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """One row per person of the neighbouring years' populations who is missing from year T's, with the
    reason (died, abroad, above_age, below_age, excluded): the mobility tables turn it into the
    markers died / emigrated / aged_out (looking forward) and immigrated / aged_in (looking back)."""
    year = int(context.partition_key)
    with _warehouse_step(context, lake, [year], "build population_absence") as step:
        # build_absence refuses a file breaking these rules before its rename
        info = build.build_absence(step, SPEC, year)
        bad = build.absence_violations(step.con, info["path"])
    return dg.MaterializeResult(
        metadata={"rows": info["rows"], "reasons": dg.MetadataValue.json(info["reasons"])},
        check_results=[
            dg.AssetCheckResult(
                check_name="population_absence_valid",
                passed=not any(bad.values()),
                metadata={
                    "unknown_reasons": bad["reason/outside_list"],
                    "duplicates": bad["person_id/duplicate"],
                },
            )
        ],
    )


def _neighbour_expected(lake: LakeResource, year: int) -> bool:
    return year in build.situation_years(SPEC) and year in checks.warehouse_years(lake.paths().warehouse)


# The year-T columns of a mobility table are copies of the situation's (``b.*``), whose file
# passed the same rules before it was renamed into place: only the columns the step adds (and
# the key) have their values checked again; the whole column list, order and dtypes still are.
_MOBILITY_CHECKED = {
    direction: schemas.unchecked_columns(SPEC, MOBILITY.table(direction), MOBILITY.situation_table)
    for direction in ("next", "prev")
}


def _validate_mobility(path: Path, year: int, direction: mobility.Direction) -> tuple[bool, dict]:
    return schemas.validate_partition(
        SPEC, MOBILITY.table(direction), path, columns=_MOBILITY_CHECKED[direction]
    )


mobility_next, mobility_prev = mobility.mobility_assets(
    MOBILITY,
    situation,
    project_partitions,
    reasons_asset=population_absence,
    project_spec=SPEC,
    group_name=GROUP_LINKED,
    validate=_validate_mobility,
    neighbour_expected=_neighbour_expected,
)


@dg.asset(
    key=[PROJECT, "phase1_panel"],
    deps=[situation],
    group_name=GROUP_LINKED,
    kinds={"duckdb", "parquet"},
)
def phase1_panel(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """One row per project year and phase-1 panel person (§2, §15: about 10,000 persons a year at full
    scale). Persons stay while in the population; leavers are replaced by new entrants first, in a
    seeded hash order. Same pseudonyms as phase 2 (one project, one mapping)."""
    with open_step(lake, SPEC, context.run.run_id, what="build phase1_panel") as step:
        info = build.build_panel(step, SPEC, SPEC.years)
    return dg.MaterializeResult(
        metadata={"years": dg.MetadataValue.json({str(k): v for k, v in info["years"].items()})}
    )


def _phase1_asset(direction: str) -> dg.AssetsDefinition:
    table = f"phase1_{direction}"
    upstream = mobility_next if direction == "next" else mobility_prev
    key = dg.AssetKey([PROJECT, table])

    @dg.asset(
        key=key,
        deps=[upstream, phase1_panel],
        partitions_def=project_partitions,
        group_name=GROUP_EXPORTS,
        kinds={"duckdb", "parquet"},
        description=SPEC.table(table).description,
        check_specs=[dg.AssetCheckSpec(f"{table}_valid", asset=key, blocking=True)],
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        year = int(context.partition_key)
        paths = lake.paths()
        secure = paths.secure / PROJECT
        out = build.phase1_export_path(paths.exports, direction, year)
        meta: dict = {}
        with open_step(lake, SPEC, context.run.run_id, what=f"export {table}") as step:
            sql = build.phase1_sql(secure, direction, year)
            SPEC.authorise(table, [r[0] for r in step.con.execute(f"DESCRIBE {sql}").fetchall()])
            record = write_export(
                step.con,
                out,
                table,
                SPEC.column_kinds(table),
                paths,
                step.run_id,
                sql=sql,
                classes=SPEC.column_classes(table),
                retention_date=SPEC.retention_date,
                validate=schemas.rejecting(SPEC, table, year, meta),
            )
        return dg.MaterializeResult(
            metadata={
                "rows": record.rows,
                "sha256": record.sha256,
                "path": dg.MetadataValue.path(str(out.relative_to(paths.root))),
                **export_preview(out, paths),
            },
            # an export breaking its schema is refused by write_export before it is published
            check_results=[dg.AssetCheckResult(check_name=f"{table}_valid", passed=True, metadata=meta)],
        )

    return _asset


phase1_next = _phase1_asset("next")
phase1_prev = _phase1_asset("prev")


@dg.asset(key=[PROJECT, "data_dictionary"], group_name=GROUP_EXPORTS, kinds={"markdown", "json"})
def labour_reserve_data_dictionary(
    context: dg.AssetExecutionContext, lake: LakeResource
) -> dg.MaterializeResult:
    """The data dictionary of the delivery (every table and variable, its classes, its source and the
    paragraph of deliberation 26/104 that authorises it), as exports/labour_reserve/data_dictionary.md/.json."""
    with open_step(lake, SPEC, context.run.run_id, what="export data_dictionary") as step:
        markdown, doc = data_dictionary(SPEC)
        base = step.lake.exports / PROJECT
        base.mkdir(parents=True, exist_ok=True)
        for name, text in (
            ("data_dictionary.md", markdown),
            ("data_dictionary.json", json.dumps(doc, indent=2)),
        ):
            storage.write_text(base / name, text)
    return dg.MaterializeResult(
        metadata={
            "tables": len(doc["tables"]),
            "variables": len(SPEC.variables),
            # the dictionary itself, readable on the materialisation in the UI
            "data_dictionary": dg.MetadataValue.md(markdown),
        }
    )


ASSETS = [
    person_mapping,
    situation,
    population_absence,
    mobility_next,
    mobility_prev,
    phase1_panel,
    phase1_next,
    phase1_prev,
    labour_reserve_data_dictionary,
]
