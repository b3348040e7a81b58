"""Secure-room analyses on the lake's Dagster instance: ``cohort analysis build`` and the demo's step.

``cohort analysis build`` runs the job ``analysis_<name>`` (:mod:`cohort.analysis.assets`: the tables on
the full data, protected, the small-cell risk analysis, the review) in the instance the lake's UI shows,
so each secure build is a run of a named job: listed under Jobs and Runs, and run again from there.
It lives here, above the analysis package, because it needs the instance (:mod:`cohort.ops.runner`).

The demo's step takes the example folders that ship with the projects through the path a researcher and
an output checker take once the projects are built. For each example of a project the demo built:
``cohort analysis run`` (the queries on the extract, with what the small-cell risk analysis would do to
them), ``cohort analysis submit`` (frozen by content hash into ``<lake>/analyses/``) and the secure
build above; then the output checker's desk, through the UI's jobs (``analysis_review_decision``,
``analysis_release``), so that the Runs page shows the whole path: the first example (by name) approved
and released, the second rejected, any further one left waiting for review. The decisions are signed
as the demo (``DEMO_REVIEWER``, synthetic data, not a real reviewer), as the projects' releases are.

A yearly project's examples (the labour reserve's) run on one year: the first year of the extract,
whose neighbours are built and which the demo's automation step does not build again.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import dagster as dg

from cohort import settings
from cohort.analysis import assets as analysis_assets
from cohort.analysis.cli import (
    DATA_DIR_HELP,
    YEAR_OPTION,
    lake_or_refuse,
    submitted_or_refuse,
    year_or_refuse,
)
from cohort.analysis.folder import AnalysisError, load_analysis
from cohort.analysis.registry import Submission, SubmissionRefused, submit
from cohort.analysis.review import ReviewError, built_output, review_state, write_review, year_option
from cohort.analysis.sandbox import SandboxRefusal
from cohort.analysis.sources import AnalysableProject, analysable_projects
from cohort.analysis.tabulate import fit_models, preview, run_analysis, years_of
from cohort.ops.origins import with_job_origins
from cohort.ops.runner import QUIET, failure_reasons, lake_home, process_tags
from cohort.resources import LakeResource

PROJECTS_DIR = Path(__file__).resolve().parents[1] / "projects"
DEMO_REVIEWER = "demo reviewer (COHORT_DEMO=1, synthetic data, not a real output checker)"
#: what the demo's output checker does with the examples, in name order; any further one waits
DEMO_DECISIONS = ("approved", "rejected")


@dataclass(frozen=True)
class SecureBuild:
    """The outcome of a secure build: why it failed (None when it ran), else the verdict of the
    small-cell risk analysis, and the run's id."""

    failure: str | None
    check_passed: bool = False
    run_id: str = ""


def failure_text(result: Any) -> str:
    """Why a Dagster run failed, in one line: the description of the step's ``Failure``, else the
    failing step's own exception (not Dagster's "Error occurred while executing op ...")."""
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            if data.user_failure_data is not None and data.user_failure_data.description:
                return str(data.user_failure_data.description)
    reasons = failure_reasons(result.all_events)
    return reasons[0].split(": ", 1)[-1].splitlines()[0] if reasons else "the run failed"


def _definitions(lake: settings.Lake, submitted: Submission | None = None) -> dg.Definitions:
    """The analysis's job (or only the review jobs), bound to ``lake``."""
    jobs = dg.Definitions(
        jobs=[analysis_assets.review_decision_job, analysis_assets.release_job],
        resources={"lake": LakeResource(data_dir=str(lake.root))},
    )
    return (
        jobs
        if submitted is None
        else dg.Definitions.merge(jobs, analysis_assets.submitted_analysis_defs(submitted))
    )


def _tags(submitted: Submission, trigger: str) -> dict[str, str]:
    return {"cohort/trigger": trigger, "cohort/project": submitted.project, **process_tags()}


def secure_build(
    lake: settings.Lake,
    submitted: Submission,
    year: int | None,
    instance: dg.DagsterInstance,
    trigger: str = "cli",
) -> SecureBuild:
    """Run the job ``analysis_<name>`` of ``submitted`` (for ``year``) on ``lake``'s full tables, recorded
    in ``instance``: what ``cohort analysis build`` does, also for ``cohort demo``."""
    job = _definitions(lake, submitted).resolve_job_def(analysis_assets.job_name(submitted))
    with with_job_origins(instance):  # so that the UI can run it again
        result = job.execute_in_process(
            # the researcher reads the outcome (a failure in one line), not Dagster's log and stack trace
            run_config=QUIET,
            instance=instance,
            partition_key=str(year) if year is not None else None,
            tags=_tags(submitted, trigger),
            raise_on_error=False,
        )
    evaluations = result.get_asset_check_evaluations()
    if not evaluations:
        return SecureBuild(failure_text(result), run_id=result.run_id)
    [check] = evaluations
    # a failed blocking check fails the run and skips the review: that is the verdict, not a crash
    if not result.success and check.passed:
        return SecureBuild(failure_text(result), run_id=result.run_id)
    return SecureBuild(None, bool(check.passed), result.run_id)


def run_review_job(
    lake: settings.Lake,
    instance: dg.DagsterInstance,
    job: str,
    op: str,
    config: dict[str, Any],
    tags: dict[str, str],
) -> tuple[bool, str]:
    """Run one of the UI's review jobs (a decision, a release) as the launchpad would, recorded in
    ``instance``; (success, why not)."""
    with with_job_origins(instance):
        result = (
            _definitions(lake)
            .resolve_job_def(job)
            .execute_in_process(
                run_config={**QUIET, "ops": {op: {"config": config}}},
                instance=instance,
                tags={**tags, **process_tags()},
                raise_on_error=False,
            )
        )
    return result.success, "" if result.success else failure_text(result)


@click.command("build")
@click.argument("name")
@click.option("--data-dir", default=None, help=DATA_DIR_HELP)
@YEAR_OPTION
def analysis_build(name: str, data_dir: str | None, year: int | None) -> None:
    """Run submitted analysis NAME on the full tables (of YEAR, for a yearly project) in the secure area
    (its Dagster job analysis_NAME, recorded with the lake's runs): protect the tables, check the models,
    run the small-cell risk analysis, write the review."""
    lake = lake_or_refuse(data_dir)
    submitted = submitted_or_refuse(name, lake)
    year = year_or_refuse(submitted, year)
    label = name + (f" {year}" if year is not None else "")
    # the lake's instance, without making it this process's DAGSTER_HOME (instance_at would)
    with dg.DagsterInstance.from_config(str(lake_home(lake.root))) as instance:
        built = secure_build(lake, submitted, year, instance)
    if built.failure is not None:
        click.echo(f"analysis {label}: the secure build failed: {built.failure}", err=True)
        raise SystemExit(1)
    click.echo(
        f"analysis {label}: built in the secure area (run {built.run_id}); small-cell risk analysis "
        f"{'passed' if built.check_passed else 'FAILED'}. Next: cohort analysis review {name}{year_option(year)}"
    )


def examples(project_ids: set[str]) -> list[Path]:
    """The example analysis folders shipped with the projects (``<project>/examples/<name>/``)
    whose tables are of a project in ``project_ids``, by name."""
    found = []
    for folder in sorted(PROJECTS_DIR.glob("*/examples/*/analysis.yaml")):
        try:
            if load_analysis(folder.parent).project.project in project_ids:
                found.append(folder.parent)
        except AnalysisError:
            continue  # a broken example is the analysis tests' to find, not the demo's
    return sorted(found, key=lambda f: f.name)


@dataclass
class DemoAnalysis:
    """One example taken through the demo, for its summary."""

    name: str
    project: str
    year: int | None
    extract: str = ""  # what the rules did on the extract
    content_hash: str = ""
    built: str = ""  # the secure build's verdict, or why it failed
    review: str = ""  # the review's state
    page: Path | None = None  # the review screen
    failed: bool = False
    released: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def commands(self, lake: settings.Lake) -> list[str]:
        at = f"{year_option(self.year)} --data-dir {lake.root}"
        return [
            f"cohort analysis review {self.name}{at}",
            f'cohort analysis approve {self.name}{at} --reviewer "<your name>" --reason "<why>"',
            f'cohort analysis reject {self.name}{at} --reviewer "<your name>" --reason "<why>"',
            f"cohort analysis release {self.name}{at}",
        ]


def _year(source: AnalysableProject, lake: settings.Lake) -> int | None:
    if not source.yearly:
        return None
    years = [y for y in years_of(source.extract_files(lake)) if source.first_year <= y <= source.last_year]
    return min(years) if years else None


def _on_extract(folder: Path, source: AnalysableProject, lake: settings.Lake, year: int | None) -> str:
    """What ``cohort analysis run`` shows, in one line: cells shown and hidden, models refused."""
    analysis = load_analysis(folder)
    rules = source.rules()
    frames = run_analysis(analysis, source.extract_files(lake), year)
    tables = preview(analysis, frames, year, rules)
    models = fit_models(analysis, frames, rules, source.min_residual_df())
    shown = sum(t.published for t in tables)
    cells = sum(t.cells for t in tables)
    refused = [m.name for m in models if not m.passed]
    text = f"{shown} of {cells} cells shown"
    if models:
        text += f", {len(models) - len(refused)} of {len(models)} models passed"
    return text


def _decide(item: "DemoAnalysis", lake: settings.Lake, instance: dg.DagsterInstance, decision: str) -> None:
    """The demo's output checker: the decision, and for an approval the release, through the UI's jobs."""
    at = {"analysis": item.name, "year": item.year}
    tags = {"cohort/trigger": "demo", "cohort/project": item.project}
    ok, why = run_review_job(
        lake,
        instance,
        analysis_assets.REVIEW_DECISION_JOB,
        "record_review_decision",
        {
            **at,
            "decision": decision,
            "reviewer": DEMO_REVIEWER,
            "reason": f"the demo shows an output {decision}",
        },
        tags,
    )
    if ok and decision == "approved":
        ok, why = run_review_job(
            lake, instance, analysis_assets.RELEASE_JOB, "release_reviewed_output", at, tags
        )
        item.released = ok
    if not ok:
        raise ReviewError(f"the demo's {decision} decision failed: {why}")


def take_example(
    folder: Path, lake: settings.Lake, instance: dg.DagsterInstance, decision: str | None = None
) -> DemoAnalysis:
    """Run ``folder`` on the extract, submit it, build it in the secure area, write its review, and,
    with a ``decision``, decide as the demo's reviewer (an approved output is released)."""
    started = time.perf_counter()
    source = analysable_projects()[load_analysis(folder).project.project]
    year = _year(source, lake)
    item = DemoAnalysis(folder.name, source.project, year)
    try:
        if source.yearly and year is None:
            raise ReviewError(f"no extract of {source.project} under {source.extract_area(lake)}")
        item.extract = _on_extract(folder, source, lake, year)
        submitted, new = submit(folder, lake)
        item.content_hash = submitted.content_hash
        if not new:
            item.notes.append("already submitted with this content")
        built = secure_build(lake, submitted, year, instance, trigger="demo")
        if built.failure is not None:
            raise ReviewError(f"the secure build failed: {built.failure}")
        item.built = f"small-cell risk analysis {'passed' if built.check_passed else 'FAILED'}"
        if decision is not None and built.check_passed:
            _decide(item, lake, instance, decision)
        output = built_output(lake, submitted, year)
        _text, item.page = write_review(lake, output)
        state = review_state(lake, output)
        item.review = f"{state.status} ({len(state.approvers)} of {state.needed} approval(s))"
    except (ReviewError, SubmissionRefused, SandboxRefusal, AnalysisError, ValueError) as exc:
        item.failed, item.built = True, str(exc)
    item.seconds = time.perf_counter() - started
    return item
