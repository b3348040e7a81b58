"""Run an analysis, tabulate its outputs and apply the small-cell risk analysis's rules to them.

The same steps serve both settings: :func:`preview` on the researcher's extract (``cohort analysis
run``: what would be hidden, so the tables can be redesigned before submitting) and
:func:`build_release` on the full tables in the secure area (the submitted analysis's Dagster asset,
which then protects, audits and releases through :mod:`cohort.projects.anonymous`).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cohort.analysis.folder import Analysis, OutputTable
from cohort.analysis.models import ModelResult, ModelSpec, fit_model
from cohort.analysis.sandbox import (
    SandboxRefusal,
    UncheckableQuery,
    columns_read,
    keys_in_result,
    run_query,
    sandbox,
)
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous

YEAR_FOLDER = re.compile(r"^year=(\d{4})$")


def years_of(files: dict[str, list[Path]]) -> list[int]:
    """The years of the partitions found (``year=YYYY`` folders) in any of the tables."""
    return sorted(
        {
            int(m.group(1))
            for paths in files.values()
            for p in paths
            if (m := YEAR_FOLDER.match(p.parent.name))
        }
    )


def _checked(frame: pl.DataFrame, table: OutputTable | ModelSpec) -> pl.DataFrame:
    """Only the declared columns may come back: one row per unit, nothing more leaves the sandbox."""
    missing = [c for c in table.columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in table.columns]
    if missing or extra:
        raise SandboxRefusal(
            f"{table.name}: the query must return exactly the columns {list(table.columns)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; not declared {extra}" if extra else "")
        )
    return frame.select(table.columns)


def run_analysis(
    analysis: Analysis,
    files: dict[str, list[Path]],
    year: int | None,
    queries: dict[str, str] | None = None,
    spill: Path | None = None,
) -> dict[str, pl.DataFrame]:
    """Every output's query (tables and models) on a sandbox holding ``files`` (rows of ``year``; all
    rows for a project that is not yearly; ``queries``: the trusted views of :func:`sandbox`; ``spill``:
    its spill folder): output -> micro rows."""
    frames = {}
    keys = analysis.project.keys()
    for output in analysis.outputs:  # before anything runs, on the extract as in the secure area
        try:
            carried = keys_in_result(output.sql, keys, output.columns)
        except UncheckableQuery as exc:
            raise SandboxRefusal(f"{output.name}: refused: {exc}") from None
        if carried:
            raise SandboxRefusal(
                f"{output.name}: refused: {', '.join(sorted(carried))} would carry the values of "
                f"{', '.join(sorted(keys))}, a key of {analysis.project.project}: keys never leave the secure "
                "area, not even as the labels of a table; join or filter on them only"
            )
    # only the columns the queries name are copied in (the full tables have 144 columns)
    columns = columns_read(output.sql for output in analysis.outputs)
    with sandbox(files, year, queries, spill, columns) as con:
        for table in analysis.outputs:
            frames[table.name] = _checked(run_query(con, table.sql, table.name), table)
    return frames


def build_release(
    analysis: Analysis, frames: dict[str, pl.DataFrame], year: int | None, rules: dc.DisclosureRules
) -> anonymous.ReleaseTables:
    """Tabulate the micro rows into the release's tables (long format, every margin), not yet protected."""
    tables, specs = {}, {}
    for table in analysis.tables:
        population = f"analysis {analysis.name}: {table.name}" + (f" in {year}" if year is not None else "")
        spec = table.table_spec(population)
        tables[table.name] = dc.tabulate(frames[table.name], spec)
        specs[table.name] = spec
    return anonymous.ReleaseTables(tables, specs, {}, rules)


def with_means(protected: pl.DataFrame, table: OutputTable) -> pl.DataFrame:
    """A mean table shows the cell's mean where its sum may be shown (same cells hidden: a mean and the
    published counts would give the sum back)."""
    if table.statistic != "mean":
        return protected
    return protected.with_columns(
        shown=pl.when((pl.col("status") == "published") & (pl.col("n") > 0))
        .then((pl.col("value") / pl.col("n")).round(2).cast(pl.String))
        .otherwise(pl.col("shown"))
    )


@dataclass(frozen=True)
class TablePreview:
    """What the rules would do to one table: its cells by status and the table as it would be shown."""

    name: str
    statistic: str
    cells: int
    primary: int
    secondary: int
    shown: pl.DataFrame

    @property
    def published(self) -> int:
        return self.cells - self.primary - self.secondary


def preview(
    analysis: Analysis, frames: dict[str, pl.DataFrame], year: int | None, rules: dc.DisclosureRules
) -> list[TablePreview]:
    """Protect the tables as the release would (primary rules, secondary suppression over all tables of
    the analysis together) and summarise each one."""
    protected = anonymous.protect_release(build_release(analysis, frames, year, rules))
    out = []
    for table in analysis.tables:
        frame = with_means(protected.tables[table.name], table)
        status = frame.get_column("status")
        out.append(
            TablePreview(
                name=table.name,
                statistic=table.statistic,
                cells=frame.height,
                primary=int((status == "primary").sum()),
                secondary=int((status == "secondary").sum()),
                shown=frame.select([*table.dimensions, "shown", "status"]),
            )
        )
    return out


def fit_models(
    analysis: Analysis, frames: dict[str, pl.DataFrame], rules: dc.DisclosureRules, min_residual_df: int
) -> list[ModelResult]:
    """Check and fit every model of the analysis on its design rows (the count threshold of ``rules``)."""
    return [fit_model(frames[m.name], m, rules.threshold, min_residual_df) for m in analysis.models]
