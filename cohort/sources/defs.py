"""Dagster assets of the warehouse contract: one asset per source table, ``warehouse/<table>``.

Each checks its table against the contract (:func:`cohort.sources.checks.load_source`): the
rows that break a rule go to ``quarantine/<table>/`` with their reason, and the asset's
metadata counts them per rule. Every project asset that reads the warehouse depends on the
tables its spec lists (``cohort/definitions.py`` draws those edges), and every project step
reads the accepted rows only, checking again itself when the files changed since (so a build
never depends on these assets having run first; they are the place to see the quarantine).
"""

import dagster as dg

from cohort.resources import LakeResource
from cohort.sources import checks
from cohort.sources.contract import TABLES, SourceTable

GROUP = "warehouse_contract"
SOURCE_PREFIX = "warehouse"  # the first part of the key of every contract-checked table


def source_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([SOURCE_PREFIX, table])


def _source_asset(table: SourceTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=source_key(table.name),
        group_name=GROUP,
        kinds={"duckdb", "parquet"},
        description=(
            f"{table.description} Checked against the warehouse contract: the rows that break a rule "
            f"are kept in quarantine/{table.name}/ with their reason, and projects read only the others."
        ),
        metadata={
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name, str(col.dtype), description=col.description)
                    for name, col in table.schema.columns.items()
                ]
            ),
            "key": ", ".join(table.key),
            "yearly": table.by_year,
        },
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        paths = lake.paths()
        # threshold 1: this asset records; each project's own threshold decides whether it may build.
        # A check that still holds (same files, rules and day) is shown again rather than redone.
        with checks.checking(paths.quarantine):
            result = checks.last_check_if_valid(
                paths.warehouse, table.name, paths.quarantine, 1.0
            ) or checks.load_source(
                None, paths.warehouse, table.name, 1.0, paths.quarantine, run_id=context.run.run_id
            )
        by_rule = "\n".join(f"| {rule} | {n:,} |" for rule, n in sorted(result.counts.items()))
        return dg.MaterializeResult(
            metadata={
                **result.metadata(),
                "dagster/row_count": result.accepted,
                "quarantine": dg.MetadataValue.md(
                    "| rule | rows |\n|---|---:|\n" + by_rule if by_rule else "no row rejected"
                ),
            }
        )

    return _asset


source_assets = [_source_asset(table) for table in TABLES.values()]

defs = dg.Definitions(assets=source_assets)
