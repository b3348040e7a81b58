"""Dagster definitions of the warehouse: the synthetic extract and its calibration report. The
contract check of each table (synthetic or real) is ``cohort.sources.defs``."""

import json

import dagster as dg

from cohort.resources import LakeResource
from cohort.warehouse import calibration
from cohort.warehouse.build import build_warehouse


class WarehouseConfig(dg.Config):
    """Size and seed of the synthetic warehouse (scale 1.0 = the real population)."""

    scale: float = 0.01
    seed: int = 20260101
    first_year: int = 2005
    last_year: int = 2026
    # False writes the National Register tables only (quick structural runs)
    with_labour: bool = True
    # a few documented delivery errors, so that the contract's quarantine has something to show
    defects: bool = True


@dg.asset(group_name="warehouse", kinds={"polars", "parquet"})
def synthetic_warehouse(
    context: dg.AssetExecutionContext, config: WarehouseConfig, lake: LakeResource
) -> dg.MaterializeResult:
    """The synthetic social-security data warehouse: a seeded microsimulation of the Belgian
    population 2005-2026 (National Register, households on 1 January, quarterly socio-economic
    positions, jobs, benefits, VDAB files) written in the tables of the warehouse contract.
    Same scale and seed give the same bytes. Replace it by a real extract by pointing
    COHORT_WAREHOUSE_DIR at a folder with the same tables."""
    out = lake.paths().warehouse

    def progress(label: str, fraction: float) -> None:
        context.log.debug(f"warehouse {fraction:.0%}: {label}")

    manifest = build_warehouse(
        out,
        config.scale,
        config.seed,
        config.first_year,
        config.last_year,
        progress=progress,
        with_labour=config.with_labour,
        defects=config.defects,
    )
    rows = manifest["tables"]
    return dg.MaterializeResult(
        metadata={
            "scale": config.scale,
            "seed": config.seed,
            "years": f"{config.first_year}-{config.last_year}",
            "generator_version": manifest["generator_version"],
            "total_rows": dg.MetadataValue.int(sum(rows.values())),
            "rows_per_table": dg.MetadataValue.md(
                "| table | rows |\n|---|---:|\n" + "\n".join(f"| {t} | {n:,} |" for t, n in rows.items())
            ),
            **{f"rows/{t}": dg.MetadataValue.int(n) for t, n in rows.items()},
        }
    )


@dg.asset(
    group_name="warehouse",
    deps=[synthetic_warehouse],
    kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec("calibration_within_tolerance", asset="warehouse_calibration")],
)
def warehouse_calibration(lake: LakeResource) -> dg.MaterializeResult:
    """The warehouse measured against the published figures (population, age structure, origin,
    households, mortality, births, employment, job seekers ...) of the calibration targets shipped
    with the package; the report is written to the lake's reports folder. A row outside its
    tolerance warns (it does not block the projects: a real extract is what it is)."""
    rows = calibration.calibrate(lake.paths().warehouse, calibration.DEFAULT_TARGETS)
    report = lake.paths().reports / "warehouse_calibration.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(calibration.as_records(rows), indent=2) + "\n")
    failed = [f"{r.metric} {r.scope} {r.year}" for r in rows if not r.ok]
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.md(calibration.markdown_table(rows)),
            "rows": len(rows),
            "within_tolerance": len(rows) - len(failed),
            "report_file": dg.MetadataValue.path(str(report)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="calibration_within_tolerance",
                passed=not failed,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"failed": dg.MetadataValue.text(", ".join(failed) or "none")},
            )
        ],
    )


defs = dg.Definitions(assets=[synthetic_warehouse, warehouse_calibration])
