"""Dagster definitions of the warehouse: the synthetic extract, its calibration report and the
contract check that every table (synthetic or real) must pass before projects read it."""

import json
from pathlib import Path

import dagster as dg
import pandera.errors as pa_errors
import polars as pl

from cohort.resources import LakeResource
from cohort.sources.contract import TABLES
from cohort.warehouse import calibration
from cohort.warehouse.build import build_warehouse

# Tables above this many rows per file are validated on a seeded random sample of that size
# (uniqueness and value checks on a sample can only miss, never invent, a violation).
CONTRACT_SAMPLE_ROWS = 500_000


class WarehouseConfig(dg.Config):
    """Size and seed of the synthetic warehouse (scale 1.0 = the real population)."""

    scale: float = 0.01
    seed: int = 20260101
    first_year: int = 2005
    last_year: int = 2026
    # False writes the National Register tables only (quick structural runs)
    with_labour: bool = True


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


def validate_warehouse(folder: Path, sample_rows: int = CONTRACT_SAMPLE_ROWS) -> dict[str, dict]:
    """Validate every contract table found in ``folder`` against its Pandera schema, file by file.
    Returns per table: files, rows read, rows checked, and the errors (empty when valid)."""
    out: dict[str, dict] = {}
    for name, table in TABLES.items():
        files = sorted((folder / name).rglob("*.parquet")) if (folder / name).exists() else []
        if not files:
            continue
        info = {"files": len(files), "rows": 0, "checked": 0, "errors": []}
        for f in files:
            df = pl.read_parquet(f)
            info["rows"] += df.height
            if df.height > sample_rows:
                df = df.sample(sample_rows, seed=0)
            info["checked"] += df.height
            try:
                table.schema.validate(df, lazy=True)
            except pa_errors.SchemaErrors as exc:
                failures = exc.failure_cases
                info["errors"].append(
                    f"{f.relative_to(folder)}: {failures.height} failure case(s), "
                    f"e.g. {failures.head(3).to_dicts()}"
                )
        out[name] = info
    return out


@dg.asset_check(asset=synthetic_warehouse, blocking=True)
def source_contract(lake: LakeResource) -> dg.AssetCheckResult:
    """Every table of the warehouse follows the contract (cohort.sources.contract): columns,
    dtypes, codes, INSZ shape. Files above 500,000 rows are checked on a seeded sample."""
    result = validate_warehouse(lake.paths().warehouse)
    bad = {t: i["errors"] for t, i in result.items() if i["errors"]}
    missing = [
        t
        for t in ("person", "residence_history", "register_history", "nationality_history", "household_jan1")
        if t not in result
    ]
    table = "| table | files | rows | checked | valid |\n|---|---:|---:|---:|---|\n" + "\n".join(
        f"| {t} | {i['files']} | {i['rows']:,} | {i['checked']:,} | {'yes' if not i['errors'] else 'NO'} |"
        for t, i in result.items()
    )
    return dg.AssetCheckResult(
        passed=not bad and not missing,
        metadata={
            "tables": dg.MetadataValue.md(table),
            "errors": dg.MetadataValue.text(
                "\n".join(f"{t}: {e}" for t, es in bad.items() for e in es) or "none"
            ),
            "missing_tables": dg.MetadataValue.text(", ".join(missing) or "none"),
        },
    )


defs = dg.Definitions(assets=[synthetic_warehouse, warehouse_calibration], asset_checks=[source_contract])
