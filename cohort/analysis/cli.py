"""``cohort analysis ...``: a researcher's analysis folder, tried on the extract and submitted.

``run`` runs the folder's queries in the sandbox on the extract the researcher received and shows each
table as the small-cell risk analysis's rules would leave it (cells hidden by a rule, cells hidden to
protect them), so that tables can be redesigned before they are submitted. It reads only the extract
under ``exports/``, never the secure area. Mistakes in the folder, or a query the sandbox refuses, end
in one line and exit status 2.
"""

from pathlib import Path

import click
import polars as pl

from cohort import settings
from cohort.analysis.folder import Analysis, AnalysisError, load_analysis
from cohort.analysis.registry import SubmissionRefused, submit
from cohort.analysis.sandbox import SandboxRefusal
from cohort.analysis.tabulate import TablePreview, preview, run_analysis, years_of
from cohort.privacy import disclosure as dc

DATA_DIR_HELP = "Lake root (default COHORT_DATA_DIR or ./data)."


def load_or_refuse(folder: str) -> Analysis:
    try:
        return load_analysis(Path(folder))
    except AnalysisError as exc:
        raise click.UsageError(f"analysis {folder}: {exc}") from None


def lake_or_refuse(data_dir: str | None) -> settings.Lake:
    lake = settings.lake(data_dir)
    try:
        return settings.require_lake_root(lake, must_exist=True)
    except settings.LakeError as exc:
        raise click.UsageError(str(exc)) from None


def rules_text(rules: dc.DisclosureRules) -> str:
    shown_as = f"shown as {rules.label!r}" if rules.uses_label else "hidden"
    p = f", p% rule p={rules.p_percent:.0%}" if rules.p_percent is not None else ""
    return (
        f"counts 1-{rules.threshold - 1} {shown_as}"
        + (", zeros hidden" if rules.protect_zeros else "")
        + f"; sums and means: dominance ({rules.dominance_n}, {rules.dominance_k:.0%}){p}"
    )


def table_text(table: TablePreview) -> str:
    """The table as it would be shown: one line per cell, codes then the shown value and why it is hidden."""
    reason = {"published": "", "primary": "hidden: rule", "secondary": "hidden: protects another cell"}
    frame = table.shown.with_columns(
        pl.col("status").replace_strict(reason, default="").alias("why hidden")
    ).drop("status")
    widths = {c: max(len(c), *(len(str(v)) for v in frame.get_column(c).to_list())) for c in frame.columns}
    lines = ["  " + "  ".join(c.ljust(widths[c]) for c in frame.columns).rstrip()]
    for row in frame.iter_rows():
        lines.append(
            "  "
            + "  ".join(str(v).ljust(widths[c]) for c, v in zip(frame.columns, row, strict=True)).rstrip()
        )
    return "\n".join(lines)


@click.group("analysis")
def analysis() -> None:
    """A researcher's analysis folder (analysis.yaml + SQL): try it on the extract, submit it."""


@analysis.command("run")
@click.argument("folder")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@click.option("--year", type=int, default=None, help="One year of the extract (default: every year in it).")
def analysis_run(folder: str, data_dir: str | None, year: int | None) -> None:
    """Run FOLDER on the extract and show what the small-cell risk analysis would do to its tables."""
    found = load_or_refuse(folder)
    lake = lake_or_refuse(data_dir)
    files = found.project.extract_files(lake)
    years = years_of(files)
    if not years:
        where = lake.exports / found.project.project / found.project.extract_folder
        raise click.UsageError(f"analysis {folder}: no extract of {found.project.project} under {where}")
    if year is not None:
        if year not in years:
            raise click.UsageError(f"analysis {folder}: the extract has no year {year} (it has {years})")
        years = [year]
    rules = found.project.rules()
    click.echo(
        f"analysis {found.name} ({found.title}) on the extract of {found.project.project}, years {years}"
    )
    click.echo(f"rules: {rules_text(rules)}")
    for y in years:
        try:
            tables = preview(found, run_analysis(found, files, y), y, rules)
        except (SandboxRefusal, ValueError) as exc:
            raise click.UsageError(f"analysis {folder}, year {y}: {exc}") from None
        for t in tables:
            click.echo(
                f"\n{y} {t.name} ({t.statistic}): {t.cells} cells, {t.published} shown, "
                f"{t.primary} hidden by a rule, {t.secondary} hidden to protect them"
            )
            click.echo(table_text(t))


@analysis.command("submit")
@click.argument("folder")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
def analysis_submit(folder: str, data_dir: str | None) -> None:
    """Freeze FOLDER (content hash) into the lake's registry of analyses, to run in the secure area."""
    load_or_refuse(folder)
    lake = lake_or_refuse(data_dir)
    try:
        submitted, new = submit(Path(folder), lake)
    except SubmissionRefused as exc:
        raise click.UsageError(str(exc)) from None
    state = "submitted" if new else "already submitted with this content"
    click.echo(f"analysis {submitted.name}: {state}; content hash {submitted.content_hash}")
    click.echo(
        f"it runs on the full tables of {submitted.project} as the assets "
        f"analysis_{submitted.name}_tables and analysis_{submitted.name} (one partition per year)"
    )


commands = [analysis]
