"""Seed 001 (advice 16/39): profiles of measure beneficiaries, their inflow and outflow, a one-off release.

Three secure population frames (``profile``, ``inflow``, ``outflow``: one row per beneficiary and measure,
classified, no identifier), the preparation ``extract`` of a few thousand records (§2, through the export
scanner), ``release_tables`` with its blocking ``small_cell_risk_analysis`` and the signed-off ``release``.
"""

from importlib import resources

import dagster as dg
import duckdb
import polars as pl

from cohort import settings, storage
from cohort.classifications import origin
from cohort.classifications.classes import UNKNOWN_COUNTRY, country_class_sql
from cohort.privacy import disclosure as dc
from cohort.privacy.preview import export_preview
from cohort.projects import anonymous
from cohort.projects.measure_profiles import researcher_view
from cohort.projects.spec import class_sql, load_spec
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource

PROJECT = "measure_profiles"
SPEC = load_spec(PROJECT)
RELEASE_ID = "advice-16-39"
FRAMES = researcher_view.FRAMES


def _sql(name: str) -> str:
    return resources.files(f"cohort.projects.{PROJECT}").joinpath(f"sql/{name}.sql").read_text()


def frame_sql(name: str) -> str:
    """The query of one population frame (safe parameters only: dates and years from the spec, rule SQL)."""
    x = SPEC.extra
    situation = _sql("_situation").split("\n\n", 1)[1].strip().rstrip(",")  # drop the header comment
    situation = situation.format(
        origin_country=origin.flemish_origin_country_sql(
            "n.nationality", "p.first_nationality", "fa.first_nationality", "mo.first_nationality"
        ),
        age_class=class_sql(SPEC, "age_class", "age"),
        origin_class=country_class_sql("origin_country", missing=UNKNOWN_COUNTRY),
        nationality_class=country_class_sql("nationality", missing=UNKNOWN_COUNTRY),
        birth_country_class=country_class_sql("birth_country", missing=UNKNOWN_COUNTRY),
        daily_wage_class=class_sql(SPEC, "daily_wage_class", "daily_wage"),
        nace_section=anonymous.nace_section_sql("nace"),
        part_time_class=class_sql(SPEC, "part_time_class", "part_time_pct"),
        low_work_intensity=class_sql(SPEC, "low_work_intensity", "mf.fte / mf.members"),
    )
    dates = "[" + ", ".join(f"date '{d}'" for d in x["reference_dates"]) + "]"
    return _sql(name).format(
        situation=situation,
        reference_dates=dates,
        year=int(x["year"]),
        sep_1=anonymous.sep_class_sql("s1.nomenclature"),
        sep_2=anonymous.sep_class_sql("s2.nomenclature"),
    )


def _frame_asset(name: str, doc: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        key_prefix=[PROJECT],
        group_name=f"{PROJECT}_population",
        kinds={"duckdb", "parquet"},
        description=doc,
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        with open_step(lake, SPEC, context.run.run_id, years=SPEC.years, warehouse=True) as step:
            con = step.con
            path = storage.write_query(con, frame_sql(name), lake.secure_file(PROJECT, name))
            rows = con.execute(f"select count(*) from read_parquet({storage.sql_string(path)})").fetchall()[
                0
            ][0]
        return dg.MaterializeResult(metadata={"rows": rows})

    return _asset


profile = _frame_asset(
    "profile",
    "Profile frame (secure area, never released): one row per beneficiary and measure "
    "in the measure on 30 June or 31 December 2015, with every criterion of §4 classified. No identifier.",
)
inflow = _frame_asset(
    "inflow",
    "Inflow frame (secure area): one row per inflow in 2015 into a measure not targeting "
    "workers, with the positions in the two quarters before the inflow quarter (§5). No identifier.",
)
outflow = _frame_asset(
    "outflow",
    "Outflow frame (secure area): one row per outflow in 2015 from a measure not targeting "
    "workers, with the positions in the two quarters after the outflow quarter (§6). No identifier.",
)


def measure_hierarchy(frames: dict[str, pl.DataFrame]) -> dict[str, str]:
    pairs = pl.concat([f.select("measure", "measure_type") for f in frames.values()]).unique()
    return dict(
        zip(pairs.get_column("measure").to_list(), pairs.get_column("measure_type").to_list(), strict=True)
    )


def build_release(frames: dict[str, pl.DataFrame]) -> anonymous.ReleaseTables:
    dims = anonymous.spec_dimensions(
        SPEC, {"measure": dc.Dimension("measure", hierarchy=measure_hierarchy(frames))}
    )
    tables, specs = anonymous.tabulate_plan(frames, anonymous.plan_tables(SPEC), dims)
    return anonymous.ReleaseTables(tables, specs, dims, anonymous.spec_rules(SPEC))


def _build(step: Step, partition_key: str | None) -> anonymous.ReleaseTables:
    secure = step.lake.secure / PROJECT
    return build_release({f: pl.read_parquet(storage.partition_file(secure, f)) for f in FRAMES})


release_tables, release = anonymous.release_assets(
    SPEC, _build, deps=[profile, inflow, outflow], release_id=lambda _: RELEASE_ID
)


def extract_frame(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, table: str, records: int, seed: int
) -> pl.DataFrame:
    """A random sample of ``records`` rows with a meaningless record number, the spec's columns only,
    computed by the researcher's view of the frame (:func:`researcher_view.columns_sql`, the same
    columns an analysis sees in the secure area; ``con``: the step's connection, for the quarter rule)."""
    cols = list(SPEC.table(table).columns)
    con.register("frame", frame)
    try:
        frame = con.sql(researcher_view.columns_sql(table.removeprefix("extract_"), "frame", SPEC)).pl()
    finally:
        con.unregister("frame")
    sample = frame.sample(n=min(records, frame.height), seed=seed, shuffle=True)
    sample = sample.with_columns(record_number=pl.int_range(1, sample.height + 1, dtype=pl.Int64))
    SPEC.check_columns(table, cols)
    return sample.select(cols)


@dg.asset(
    key_prefix=[PROJECT],
    group_name=f"{PROJECT}_exports",
    deps=[profile, inflow, outflow],
    description="§2: the preparation extract of each frame (random sample, meaningless record numbers, "
    "classes only): the spec's extract.records at warehouse scale 1.0 times the warehouse's scale, at least "
    "extract.min_records, at most extract.max_share of the frame; exported through the export scanner to "
    "exports/measure_profiles/extract_*/. Researchers prepare their analyses on it (cohort analysis run).",
)
def extract(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    from cohort.privacy.scan import write_export

    x = SPEC.extra["extract"]
    rows, frame_rows = {}, {}
    previews: dict[str, dg.MetadataValue] = {}
    with open_step(lake, SPEC, context.run.run_id, what="build extract") as step:
        scale = settings.warehouse_scale(step.lake.warehouse)
        for i, f in enumerate(FRAMES):
            table = f"extract_{f}"
            full = pl.read_parquet(lake.secure_file(PROJECT, f))
            df = extract_frame(
                step.con,
                full,
                table,
                researcher_view.extract_size(full.height, scale, SPEC),
                int(x["seed"]) + i,
            )
            write_export(
                df,
                lake.export_file(PROJECT, table),
                table,
                SPEC.column_kinds(table),
                step.lake,
                step.run_id,
                classes=SPEC.column_classes(table),
                retention_date=SPEC.retention_date,
            )
            rows[table], frame_rows[f] = df.height, full.height
            previews.update(export_preview(lake.export_file(PROJECT, table), step.lake, f"preview ({table})"))
    return dg.MaterializeResult(
        metadata={"rows": rows, "frame_rows": frame_rows, "warehouse_scale": scale, **previews}
    )
