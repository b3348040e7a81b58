"""Dagster assets of the longitudinal cohort (seed 002, IVC 17/047), generated from ``spec.yaml``.

Population layer (secure, never exported): ``sample_person`` (the sample design, with national
numbers: the link table), ``person_pseudonym_map`` (sequence numbers for every person and employer
that may appear) and, per year, ``observed_person`` (who is observed, in which quarters).
Export layer, per year: one asset per table of the spec, all made in one step per year
(``longitudinal_cohort_exports``) so that a year shares one DuckDB session; each table carries a blocking
check that reads the written partition back and validates it against its Pandera schema and
the spec. Trajectory layer, per year: ``situation_next`` / ``situation_prev`` (the generic
:mod:`cohort.projects.mobility` step: the yearly ``situation`` next to the calendar year T+1 / T-1,
secure) and their scanned exports ``mobility_next`` / ``mobility_prev``. Plus the ``data_dictionary``.
"""

import dagster as dg
import polars as pl

from cohort.partitions import yearly_partitions
from cohort.privacy.preview import export_preview
from cohort.projects import mobility
from cohort.projects.longitudinal_cohort import PROJECT_ID, build
from cohort.projects.spec import load_spec
from cohort.resources import LakeResource

spec = load_spec(PROJECT_ID)
cohort_yearly_partitions = yearly_partitions(spec.first_year, spec.last_year)
POPULATION = f"{PROJECT_ID}_population"
LINKED = f"{PROJECT_ID}_linked"
EXPORTS = f"{PROJECT_ID}_exports"
YEARLY = build.yearly_tables(spec) + ["situation"]


def _md_table(df: pl.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in df.iter_rows())


def _weights_sum_to_frame(strata: pl.DataFrame, weights: pl.DataFrame) -> bool:
    """True when, in every stratum with a sample, the design weights add up to the frame size N_h."""
    joined = strata.filter(pl.col("sample_size") > 0).join(
        weights.with_columns(pl.col("entry_year").cast(strata.schema["entry_year"])),
        on=["entry_year", "stratum"],
        how="left",
    )
    return bool(joined.height and ((joined["weight_sum"] - joined["frame_size"]).abs() < 1e-6).all())


@dg.asset(key_prefix=[PROJECT_ID], group_name=POPULATION, kinds={"duckdb", "parquet"})
def sample_person(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """One row per sample person (steekproefpersoon): the initial 2005 sample of 18-65-year-olds
    of the Flemish Region and the yearly top-ups of 18-year-olds 2006-2016, with stratum, entry
    year, frame size N_h, sample size n_h and design weight N_h/n_h. Holds national numbers: it is
    the link table and never leaves the secure area."""
    result = build.run(lake, spec, build.build_sample, run_id=context.run.run_id)
    strata, weights = result["strata"], result["weights"]
    initial = strata.filter(pl.col("entry_year") == spec.sample["initial_year"])
    top_ups = strata.filter(pl.col("entry_year") != spec.sample["initial_year"])
    per_stratum = strata.with_columns(
        design_weight=(pl.col("frame_size") / pl.col("sample_size")).round(3)
    ).filter(pl.col("sample_size") > 0)
    context.log.info(f"sample of {int(strata['sample_size'].sum())} persons at scale {result['scale']}")
    return dg.MaterializeResult(
        metadata={
            "scale": result["scale"],
            "sample_persons": int(strata["sample_size"].sum()),
            "initial_sample": int(initial["sample_size"].sum()),
            "top_up_sample": int(top_ups["sample_size"].sum()),
            "initial_frame": int(initial["frame_size"].sum()),
            "weights_sum_to_frame": _weights_sum_to_frame(strata, weights),
            "strata": dg.MetadataValue.md(_md_table(per_stratum)),
            "dagster/row_count": int(strata["sample_size"].sum()),
        }
    )


@dg.asset(key_prefix=[PROJECT_ID], group_name=POPULATION, deps=[sample_person], kinds={"duckdb"})
def person_pseudonym_map(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The project's mappings from keyed hashes to meaningless sequence numbers (betekenisloze
    volgnummers), for persons (sample persons, their household members in all years, reference
    persons, partners, children of child benefit) and their employers. Append-only: numbers stay
    stable over all years and rebuilds. Kept in the secure area."""
    counts = build.run(lake, spec, build.build_mapping, run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "persons_total": counts["person"]["existing"] + counts["person"]["added"],
            "persons_added": counts["person"]["added"],
            "employers_total": counts["employer"]["existing"] + counts["employer"]["added"],
            "employers_added": counts["employer"]["added"],
        }
    )


@dg.asset(
    key_prefix=[PROJECT_ID],
    group_name=POPULATION,
    deps=[sample_person],
    partitions_def=cohort_yearly_partitions,
    kinds={"duckdb", "parquet"},
)
def observed_person(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """One row per person observed in the year: sample persons observed in at least one quarter
    (aged 65 or less, alive and resident in Belgium on the quarter's last day) and everyone in their
    households on 1 January, with the quarters whose data is delivered. Secure (national numbers)."""
    year = int(context.partition_key)
    r = build.run(lake, spec, build.build_observed, year, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "sample_persons": r["sample_persons"],
            "household_members_only": r["household_members_only"],
            "dagster/row_count": r["persons"],
            "household_members_per_sample_person": round(r["members_per_sample_person"], 3),
            "max_household_members": r["max_members"],
        }
    )


def _check_name(table: str) -> str:
    return f"{table}_valid"


EXPORT_SPECS = [
    dg.AssetSpec(
        [PROJECT_ID, t.name],
        description=t.description,
        group_name=EXPORTS if t.area == "exports" else LINKED,
        deps=[observed_person, person_pseudonym_map],
        kinds={"duckdb", "parquet"},
        metadata={
            "columns": ", ".join(t.columns),
            "authorised_by": spec.deliberation["number"],
            "area": t.area,
        },
    )
    for t in (spec.tables[name] for name in YEARLY)
]
EXPORT_CHECKS = [
    dg.AssetCheckSpec(
        _check_name(t),
        asset=[PROJECT_ID, t],
        blocking=True,
        description=f"The written {t} partition matches its Pandera schema and the spec",
    )
    for t in YEARLY
]


@dg.multi_asset(
    name="longitudinal_cohort_exports",
    specs=EXPORT_SPECS,
    check_specs=EXPORT_CHECKS,
    partitions_def=cohort_yearly_partitions,
    can_subset=False,
)
def longitudinal_cohort_exports(context: dg.AssetExecutionContext, lake: LakeResource):
    """Every export table of one year, pseudonymised and coarsened, scanned before it is written to
    ``exports/longitudinal_cohort/<table>/year=YYYY/``, and the secure yearly ``situation`` of the
    trajectory tables."""
    year = int(context.partition_key)
    results = build.run(lake, spec, build.build_exports, year, context.run.run_id)
    for r in results:
        meta: dict = {
            "dagster/row_count": r.rows,
            "seconds": round(r.seconds, 2),
            "year": dg.MetadataValue.text(str(year)),  # text: the UI would plot a number as "2,021"
            **export_preview(r.path, lake.paths()),  # none of a secure table
        }
        if r.table == "person" and r.rows:
            df = pl.read_parquet(
                r.path, columns=["is_sample_person", "is_household_member", "sample_stratum", "design_weight"]
            )
            sample = df.filter(pl.col("is_sample_person"))
            meta["sample_persons"] = sample.height
            meta["household_members_only"] = df.filter(~pl.col("is_sample_person")).height
            meta["weighted_sample_persons"] = round(float(sample["design_weight"].sum()), 1)
            by = sample.group_by("sample_stratum").agg(
                n=pl.len(), weight_sum=pl.col("design_weight").sum().round(1)
            )
            meta["sample_per_stratum"] = dg.MetadataValue.md(_md_table(by.sort("sample_stratum")))
        if r.table == "household" and r.rows:
            df = pl.read_parquet(r.path, columns=["sample_person_id", "is_sample_person", "person_id"])
            members = (
                df.filter(pl.col("person_id") != pl.col("sample_person_id"))
                .group_by("sample_person_id")
                .len()
            )
            meta["members_per_sample_household"] = round(
                members["len"].sum() / max(df["sample_person_id"].n_unique(), 1), 3
            )
        yield dg.MaterializeResult(
            asset_key=[PROJECT_ID, r.table],
            metadata=meta,
            check_results=[
                dg.AssetCheckResult(
                    asset_key=[PROJECT_ID, r.table],
                    check_name=_check_name(r.table),
                    passed=not r.errors,
                    metadata={"rows": r.rows, "errors": "; ".join(r.errors[:10]) or "none"},
                )
            ],
        )


@dg.asset(key_prefix=[PROJECT_ID], group_name=EXPORTS, kinds={"markdown", "json"})
def data_dictionary(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """The data dictionary of the delivery (Markdown and JSON), generated from the spec: every table,
    every variable with its classes, source, coarsening and the paragraph of the deliberation that
    authorises it, the sample design and the variables that could not be supplied."""
    md_path, json_path = build.run(lake, spec, build.write_data_dictionary, run_id=context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "variables": len({c for t in spec.tables.values() for c in t.columns}),
            "tables": len(spec.tables),
            "spec_version": spec.version,
            "markdown": dg.MetadataValue.path(md_path.name),
            "json": dg.MetadataValue.path(json_path.name),
            # the dictionary itself, readable on the materialisation in the UI
            "data_dictionary": dg.MetadataValue.md(md_path.read_text()),
        }
    )


def _in_project_years(lake: LakeResource, year: int) -> bool:
    # A neighbour inside 2005-2016 must be built before the trajectory of its neighbour; 2004 and
    # 2017 lie outside the observation period and are marked not_yet_observed.
    return spec.first_year <= year <= spec.last_year


def _validate_trajectory(path, year, direction):
    table = spec.extra["mobility"][f"{direction}_table"]
    errors = build.check_export(spec, table, year, path)
    return not errors, {"errors": "; ".join(errors[:10]) or "none"}


situation_next, situation_prev = mobility.mobility_assets(
    spec,
    dg.AssetKey([PROJECT_ID, "situation"]),
    cohort_yearly_partitions,
    project_spec=spec,
    group_name=LINKED,
    validate=_validate_trajectory,
    neighbour_expected=_in_project_years,
)


def _trajectory_export(table: str, upstream: dg.AssetsDefinition) -> dg.AssetsDefinition:
    key = dg.AssetKey([PROJECT_ID, table])

    @dg.asset(
        key=key,
        deps=[upstream],
        partitions_def=cohort_yearly_partitions,
        group_name=EXPORTS,
        kinds={"duckdb", "parquet"},
        description=spec.table(table).description,
        check_specs=[dg.AssetCheckSpec(_check_name(table), asset=key, blocking=True)],
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        year = int(context.partition_key)
        r = build.run(lake, spec, build.export_trajectory, year, context.run.run_id, table=table)
        return dg.MaterializeResult(
            metadata={"dagster/row_count": r.rows, **export_preview(r.path, lake.paths())},
            check_results=[
                dg.AssetCheckResult(
                    check_name=_check_name(table),
                    passed=not r.errors,
                    metadata={"errors": "; ".join(r.errors[:10]) or "none"},
                )
            ],
        )

    return _asset


mobility_next = _trajectory_export("mobility_next", situation_next)
mobility_prev = _trajectory_export("mobility_prev", situation_prev)

ASSETS = [
    sample_person,
    person_pseudonym_map,
    observed_person,
    longitudinal_cohort_exports,
    situation_next,
    situation_prev,
    mobility_next,
    mobility_prev,
    data_dictionary,
]
