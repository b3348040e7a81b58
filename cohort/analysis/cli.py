"""``cohort analysis ...``: a researcher's analysis folder, tried on the extract and submitted.

``run`` runs the folder's queries in the sandbox on the extract the researcher received and shows each
table as the small-cell risk analysis's rules would leave it (cells hidden by a rule, cells hidden to
protect them), so that tables can be redesigned before they are submitted. It reads only the extract
under ``exports/``, never the secure area. Mistakes in the folder, or a query the sandbox refuses, end
in one line and exit status 2.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import polars as pl

from cohort import settings
from cohort.analysis.folder import Analysis, AnalysisError, load_analysis
from cohort.analysis.models import ModelResult
from cohort.analysis.registry import Submission, SubmissionRefused, submission, submit
from cohort.analysis.review import (
    BuiltOutput,
    ReviewError,
    built_output,
    record_decision,
    release_approved,
    review_state,
    write_review,
    year_option,
)
from cohort.analysis.sandbox import SandboxRefusal
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import TablePreview, fit_models, preview, run_analysis, years_of
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


def model_text(model: ModelResult) -> str:
    """A model's checks and, when it passed them, its coefficients."""
    verdict = "passed" if model.passed else "refused: it would not be released"
    lines = [f"  {'ok' if c.passed else 'FAILED'} {c.rule}: {c.detail}" for c in model.checks]
    lines.insert(0, f"  {verdict}")
    if model.passed and model.coefficients is not None:
        lines.append(f"  units {model.units}, residual degrees of freedom {model.residual_df}")
        lines += ["  " + "  ".join(str(v) for v in row) for row in model.coefficients.iter_rows()]
    return "\n".join(lines)


@click.group("analysis")
def analysis() -> None:
    """A researcher's analysis folder (analysis.yaml + SQL): try it on the extract, submit it, build it in
    the secure area, review, approve or reject, release."""


@analysis.command("run")
@click.argument("folder")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@click.option("--year", type=int, default=None, help="One year of the extract (default: every year in it).")
def analysis_run(folder: str, data_dir: str | None, year: int | None) -> None:
    """Run FOLDER on the extract and show what the small-cell risk analysis would do to its tables."""
    found = load_or_refuse(folder)
    lake = lake_or_refuse(data_dir)
    source = found.project
    files = source.extract_files(lake)
    where = source.extract_area(lake)
    runs: list[int | None]
    if source.yearly:
        runs = list(years_of(files))
        if not runs:
            raise click.UsageError(f"analysis {folder}: no extract of {source.project} under {where}")
        if year is not None:
            if year not in runs:
                raise click.UsageError(f"analysis {folder}: the extract has no year {year} (it has {runs})")
            runs = [year]
        covers = f"years {runs}"
    else:
        missing = [source.extract_prefix + t for t, paths in files.items() if not paths]
        if missing:
            raise click.UsageError(
                f"analysis {folder}: no extract of {source.project} under {where} ({', '.join(missing)} missing)"
            )
        if year is not None:
            raise click.UsageError(
                f"analysis {folder}: {source.project}'s tables are not yearly (they cover "
                f"{source.covers()}): run it without --year"
            )
        runs, covers = [None], f"{source.covers()} (not yearly)"
    rules = source.rules()
    click.echo(f"analysis {found.name} ({found.title}) on the extract of {source.project}, {covers}")
    click.echo(f"rules: {rules_text(rules)}")
    min_df = source.min_residual_df()
    for y in runs:
        prefix = f"{y} " if y is not None else ""
        try:
            frames = run_analysis(found, files, y)
            tables = preview(found, frames, y, rules)
            models = fit_models(found, frames, rules, min_df)
        except (SandboxRefusal, ValueError) as exc:
            at = f", year {y}" if y is not None else ""
            raise click.UsageError(f"analysis {folder}{at}: {exc}") from None
        for t in tables:
            click.echo(
                f"\n{prefix}{t.name} ({t.statistic}): {t.cells} cells, {t.published} shown, "
                f"{t.primary} hidden by a rule, {t.secondary} hidden to protect them"
            )
            click.echo(table_text(t))
        for m in models:
            click.echo(f"\n{prefix}{m.name} ({m.kind} regression)")
            click.echo(model_text(m))


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
    source = analysable_projects()[submitted.project]
    if source.yearly:
        how, build = "one partition per year", f"cohort analysis build {submitted.name} --year <year>"
    else:
        how, build = (
            f"not partitioned: its tables cover {source.covers()}",
            f"cohort analysis build {submitted.name}",
        )
    click.echo(
        f"it runs on the full tables of {submitted.project} as the asset "
        f"analysis_{submitted.name}_tables ({how}): {build}"
    )


def submitted_or_refuse(name: str, lake: settings.Lake) -> Submission:
    found = submission(lake, name)
    if found is None:
        raise click.UsageError(f"no analysis {name!r} was submitted on {lake.root}")
    return found


def year_or_refuse(submitted: Submission, year: int | None) -> int | None:
    """The year of a yearly project's output (``--year`` needed, one of its years); None for a project
    whose tables are not yearly (``--year`` refused: there is no partition to name)."""
    source = analysable_projects()[submitted.project]
    if not source.yearly:
        if year is not None:
            raise click.UsageError(
                f"analysis {submitted.name}: {submitted.project}'s tables are not yearly (they cover "
                f"{source.covers()}): leave out --year"
            )
        return None
    if year is None:
        raise click.UsageError(f"analysis {submitted.name}: --year is needed ({submitted.project} is yearly)")
    if not source.first_year <= year <= source.last_year:
        raise click.UsageError(
            f"analysis {submitted.name}: {year} is not a year of {source.rules_from} "
            f"({source.first_year}-{source.last_year})"
        )
    return year


def built_or_refuse(name: str, data_dir: str | None, year: int | None) -> tuple[settings.Lake, BuiltOutput]:
    lake = lake_or_refuse(data_dir)
    submitted = submitted_or_refuse(name, lake)
    try:
        return lake, built_output(lake, submitted, year_or_refuse(submitted, year))
    except (ReviewError, SubmissionRefused) as exc:
        raise click.UsageError(str(exc)) from None


def failure_text(result: Any) -> str:
    """Why a Dagster run failed, in one line: the description of the step's ``Failure``, else the
    first line of its error."""
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            if data.user_failure_data is not None and data.user_failure_data.description:
                return str(data.user_failure_data.description)
            if data.error is not None:
                return data.error.message.strip().splitlines()[0]
    return "the run failed"


YEAR_OPTION = click.option(
    "--year",
    type=int,
    default=None,
    help="The year (partition) of the output; needed for a yearly project (labour_reserve), "
    "left out for one that is not (measure_profiles).",
)


@analysis.command("build")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
def analysis_build(name: str, data_dir: str | None, year: int | None) -> None:
    """Run submitted analysis NAME on the full tables (of YEAR, for a yearly project) in the secure area
    (its Dagster asset): protect the tables, check the models, run the small-cell risk analysis."""
    lake = lake_or_refuse(data_dir)
    submitted = submitted_or_refuse(name, lake)
    year = year_or_refuse(submitted, year)
    label = name + (f" {year}" if year is not None else "")
    built = secure_build(lake, submitted, year)
    if built.failure is not None:
        click.echo(f"analysis {label}: the secure build failed: {built.failure}", err=True)
        raise SystemExit(1)
    click.echo(
        f"analysis {label}: built in the secure area; small-cell risk analysis "
        f"{'passed' if built.check_passed else 'FAILED'}. Next: cohort analysis review {name}{year_option(year)}"
    )


@dataclass(frozen=True)
class SecureBuild:
    """The outcome of a secure build: why it failed (None when it ran), else the verdict of the
    small-cell risk analysis."""

    failure: str | None
    check_passed: bool = False


def secure_build(lake: settings.Lake, submitted: Submission, year: int | None) -> SecureBuild:
    """Materialise the asset of ``submitted`` (for ``year``) on ``lake``'s full tables: what
    ``cohort analysis build`` does, also for ``cohort demo``."""
    # imported here: loading Dagster costs every other command of the line a second or two
    import dagster as dg

    from cohort.analysis.assets import submitted_analysis_assets
    from cohort.resources import LakeResource

    result = dg.materialize(
        submitted_analysis_assets(submitted),
        partition_key=str(year) if year is not None else None,
        resources={"lake": LakeResource(data_dir=str(lake.root))},
        # the researcher reads the outcome (a failure in one line), not Dagster's log and stack trace
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        raise_on_error=False,
    )
    if not result.success:
        return SecureBuild(failure_text(result))
    [check] = result.get_asset_check_evaluations()
    return SecureBuild(None, bool(check.passed))


@analysis.command("review")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
def analysis_review(name: str, data_dir: str | None, year: int | None) -> None:
    """Show NAME's output (of YEAR, for a yearly project) as it would be released, with every check, for a reviewer
    (also written as review.md and review.html under reports/)."""
    lake, built = built_or_refuse(name, data_dir, year)
    text, page = write_review(lake, built)
    click.echo(text)
    click.echo(f"review screen: {page}")


def decide(
    name: str, data_dir: str | None, year: int | None, decision: str, reviewer: str, reason: str
) -> None:
    lake, built = built_or_refuse(name, data_dir, year)
    try:
        record_decision(lake, built, decision, reviewer, reason)
    except ReviewError as exc:
        raise click.UsageError(str(exc)) from None
    state = review_state(lake, built)
    write_review(lake, built)
    click.echo(
        f"analysis {built.label}: {decision} by {reviewer.strip()} for content {built.content_hash[:12]}...; "
        f"review {state.status} ({len(state.approvers)} of {state.needed} approval(s))"
    )


REVIEWER = click.option("--reviewer", required=True, help="Your name, as the reviewer.")
REASON = click.option("--reason", required=True, help="Why (kept with the decision).")


@analysis.command("approve")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
@REVIEWER
@REASON
def analysis_approve(name: str, data_dir: str | None, year: int | None, reviewer: str, reason: str) -> None:
    """Approve NAME's reviewed output (of YEAR, for a yearly project): exactly the content the review showed."""
    decide(name, data_dir, year, "approved", reviewer, reason)


@analysis.command("reject")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
@REVIEWER
@REASON
def analysis_reject(name: str, data_dir: str | None, year: int | None, reviewer: str, reason: str) -> None:
    """Reject NAME's reviewed output (of YEAR, for a yearly project): it is not released."""
    decide(name, data_dir, year, "rejected", reviewer, reason)


@analysis.command("release")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
def analysis_release(name: str, data_dir: str | None, year: int | None) -> None:
    """Release NAME's approved output (of YEAR, for a yearly project) under releases/ (through the gate)."""
    lake, built = built_or_refuse(name, data_dir, year)
    try:
        written = release_approved(lake, built)
    except (ReviewError, dc.ReleaseRefused) as exc:
        click.echo(f"Refused: {exc}", err=True)
        raise SystemExit(1) from None
    folder = lake.releases / built.project / built.release_id
    click.echo(f"analysis {built.label}: released {len(written)} files in {folder}")


commands = [analysis]
