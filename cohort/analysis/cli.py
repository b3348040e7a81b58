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
from cohort.analysis.models import ModelResult
from cohort.analysis.registry import Submission, SubmissionRefused, submission, submit
from cohort.analysis.review import (
    BuiltOutput,
    ReviewError,
    built_output,
    output_year,
    record_decision,
    release_approved,
    review_state,
    write_review,
)
from cohort.analysis.sandbox import SandboxRefusal
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import TablePreview, fit_models, preview, run_analysis, years_of
from cohort.privacy import disclosure as dc
from cohort.privacy import retention
from cohort.projects.spec import load_spec

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
    """:func:`cohort.analysis.review.output_year` for ``--year``: its refusal in one line."""
    try:
        return output_year(submitted, year)
    except ReviewError as exc:
        raise click.UsageError(str(exc)) from None


def built_or_refuse(
    name: str, data_dir: str | None, year: int | None, what: str
) -> tuple[settings.Lake, BuiltOutput]:
    """The secure build of ``name`` for ``year``, once the project's retention date allows ``what``
    (review, approve, reject, release): after that date the secure output is not read, the refusal is in
    the audit log, and the command ends with exit status 1, as ``cohort project build`` does."""
    lake = lake_or_refuse(data_dir)
    submitted = submitted_or_refuse(name, lake)
    spec = load_spec(analysable_projects()[submitted.project].rules_from)
    try:
        retention.refuse_if_expired(lake, spec.id, spec.retention_date, what=f"analysis {what}")
    except retention.RetentionExpired as exc:
        click.echo(f"Refused: {exc}", err=True)
        raise SystemExit(1) from None
    try:
        return lake, built_output(lake, submitted, year_or_refuse(submitted, year))
    except (ReviewError, SubmissionRefused) as exc:
        raise click.UsageError(str(exc)) from None


YEAR_OPTION = click.option(
    "--year",
    type=int,
    default=None,
    help="The year (partition) of the output; needed for a yearly project (labour_reserve), "
    "left out for one that is not (measure_profiles).",
)


@analysis.command("review")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
def analysis_review(name: str, data_dir: str | None, year: int | None) -> None:
    """Show NAME's output (of YEAR, for a yearly project) as it would be released, with every check, for a reviewer
    (also written as review.md and review.html under reports/)."""
    lake, built = built_or_refuse(name, data_dir, year, "review")
    text, page = write_review(lake, built)
    click.echo(text)
    click.echo(f"review screen: {page}")


def decide(
    name: str, data_dir: str | None, year: int | None, decision: str, reviewer: str, reason: str
) -> None:
    lake, built = built_or_refuse(
        name, data_dir, year, {"approved": "approve", "rejected": "reject"}[decision]
    )
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
    lake, built = built_or_refuse(name, data_dir, year, "release")
    try:
        written = release_approved(lake, built)
    except (ReviewError, dc.ReleaseRefused) as exc:
        click.echo(f"Refused: {exc}", err=True)
        raise SystemExit(1) from None
    folder = lake.releases / built.project / built.release_id
    click.echo(f"analysis {built.label}: released {len(written)} files in {folder}")


commands = [analysis]
