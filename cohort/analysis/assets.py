"""Dagster assets and jobs of submitted analyses: each runs on the full tables in the secure area (year
by year where the project's tables are yearly) and is protected and audited as every anonymous delivery
(:func:`cohort.projects.anonymous.release_assets`): protect -> the small-cell risk analysis (blocking
check) -> the output review (:mod:`cohort.analysis.review`, *outputcontrole*), shown in the UI as the
``analysis_<name>_review`` asset. The release follows the review: approved by the project's reviewers,
then written by the gate, which appends it to the ledger.

Per analysis a job ``analysis_<name>`` (its tables, their check, the review) is what ``cohort analysis
build`` and ``cohort demo`` run, so each secure build is a run of a named job in the lake's instance:
listed under Jobs and Runs, and run again from there. Two jobs shared by all analyses take a reviewer's
decision and the release from the UI's launchpad, as ``cohort analysis approve|reject`` and
``cohort analysis release`` do on the command line (the same functions).

The releases of analyses of a project go under the project that holds its anonymous results (for the
labour reserve ``labour_reserve_results``, for seed 001 ``measure_profiles`` itself), release id
``<analysis>/<year>`` (``<analysis>`` for a project whose tables are not yearly): one ledger for
everything the recipient got from those tables, so each release is audited against the earlier ones.
"""

from typing import Any, Literal

import dagster as dg

from cohort import settings, storage
from cohort.analysis.registry import Submission, SubmissionRefused, submission, submissions
from cohort.analysis.review import (
    BuiltOutput,
    ReviewError,
    built_output,
    models_dir,
    output_year,
    record_decision,
    release_approved,
    release_id,
    review_state,
    save_models,
    write_review,
)
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import build_release, fit_models, run_analysis, years_of
from cohort.partitions import yearly_partitions
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous
from cohort.projects.spec import load_spec
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource

REVIEW_DECISION_JOB = "analysis_review_decision"
RELEASE_JOB = "analysis_release"
ANALYSES_GROUP_SUFFIX = "_analyses"


def submitted_analysis_assets(submitted: Submission) -> list[dg.AssetsDefinition]:
    """The ``analysis_<name>_tables`` asset of one submitted analysis (its tables protected, its models
    checked, the blocking small-cell risk analysis), partitioned by the years of its project when the
    project's tables are yearly; not partitioned otherwise (seed 001's frames: one run on the whole
    frames, release id ``<analysis>``)."""
    source = analysable_projects()[submitted.project]
    spec = load_spec(source.rules_from)

    def build(step: Step, partition_key: str | None) -> anonymous.ReleaseTables:
        analysis = submitted.load()  # refused when the frozen code no longer has its submitted hash
        year = int(partition_key) if partition_key is not None else None
        files = source.secure_files(step.lake)
        if year is not None and year not in years_of(files):
            # an empty year would pass every rule and be released as a table of zeros
            raise dg.Failure(
                description=f"analysis {submitted.name}: the secure area has no {source.project} tables of "
                f"{year}; build the project's year first (cohort project build {source.project} --years {year})"
            )
        missing = [t for t, paths in files.items() if not paths]
        if year is None and missing:
            raise dg.Failure(
                description=f"analysis {submitted.name}: the secure area has no {source.project} "
                f"{', '.join(missing)}; build the project first (cohort project build {source.project})"
            )
        # the full tables may not fit in memory: the sandbox spills beside them, in the secure area
        with storage.spill_folder(step.lake.secure) as spill:
            frames = run_analysis(analysis, files, year, source.secure_queries(), spill)
        rules = source.rules()
        # the models are checked and fitted here, in the secure area, beside the tables the asset protects
        models = fit_models(analysis, frames, rules, source.min_residual_df())
        save_models(models, models_dir(step.lake, spec.id, release_id(submitted.name, year)))
        return build_release(analysis, frames, year, rules)

    def rid(key: str | None) -> str:
        return release_id(submitted.name, int(key) if key is not None else None)

    tables, _release = anonymous.release_assets(
        spec,
        build,
        deps=[dg.AssetKey([source.project, t]) for t in source.tables],
        release_id=rid,
        partitions_def=yearly_partitions(source.first_year, source.last_year) if source.yearly else None,
        release_name=asset_stem(submitted.name),
        group_name=analyses_group(spec.id),
    )
    # No release asset: an analysis is released once its output was reviewed and approved
    # (cohort/analysis/review.py, the release job below), never by a run's sign-off alone.
    return [tables, review_asset(submitted, tables)]


def analyses_group(project: str) -> str:
    """The asset group of the analyses whose results go under ``project``: their tables and reviews.
    The operational layer leaves these assets out of the project's own jobs, schedules and report
    (:func:`is_analysis_group`): an analysis is built by its own job and released by a reviewer."""
    return f"{project}{ANALYSES_GROUP_SUFFIX}"


def is_analysis_group(group_name: str | None) -> bool:
    return bool(group_name) and str(group_name).endswith(ANALYSES_GROUP_SUFFIX)


def asset_stem(name: str) -> str:
    """``analysis_<name>``: the name of the analysis's job, and the stem of its assets' names
    (``_tables``, ``_review``)."""
    return f"analysis_{name}"


def review_name(name: str) -> str:
    return f"{asset_stem(name)}_review"


def job_name(submitted: Submission) -> str:
    """The job of one submitted analysis's secure build: its tables, their check and its review."""
    return asset_stem(submitted.name)


def review_metadata(lake: settings.Lake, built: BuiltOutput) -> dict[str, object]:
    """The review as the UI shows it (the same markdown as ``cohort analysis review``), written again
    to ``reports/`` with the decisions so far: published values, reasons and verdicts only, never the
    true value of a protected cell."""
    text, page = write_review(lake, built)
    state = review_state(lake, built)
    return {
        "review": dg.MetadataValue.md(text),
        "status": state.status,
        "approvals": f"{len(state.approvers)} of {state.needed}",
        "content_hash": built.content_hash,
        "review_page": str(page.relative_to(lake.root)),
    }


def review_asset(submitted: Submission, tables: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """``analysis_<name>_review`` (*outputcontrole*): the output review of a secure build, after its
    small-cell risk analysis passed (the check blocks it otherwise)."""
    [tables_key] = tables.keys
    yearly = tables.partitions_def is not None
    spec = load_spec(analysable_projects()[submitted.project].rules_from)

    @dg.asset(
        name=review_name(submitted.name),
        key_prefix=tables_key.path[:-1],
        group_name=analyses_group(tables_key.path[0]),
        deps=[tables_key],
        partitions_def=tables.partitions_def,
        description=f"Output review (outputcontrole) of analysis {submitted.name} of {submitted.project}: each "
        "table as it would be published, why each hidden cell is hidden (a rule or another cell's protection, "
        "never its value), the small-cell risk analysis, what the release adds to the ledger, each model's "
        f"checks, and the reviewers' decisions. Decide with the job {REVIEW_DECISION_JOB} (or cohort analysis "
        f"approve / reject), release with {RELEASE_JOB} (or cohort analysis release).",
    )
    def _review(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        year = int(context.partition_key) if yearly else None
        # a step as the tables' own: after the retention date nothing of the secure build is read
        with open_step(lake, spec, context.run.run_id, what="review"):
            paths = lake.paths()
            metadata = review_metadata(paths, built_output(paths, submitted, year))
        return dg.MaterializeResult(metadata=metadata)

    return _review


def analysis_jobs(submitted: Submission, assets: list[dg.AssetsDefinition]) -> list[Any]:
    """The named job of one analysis's secure build (partitioned as its assets are: Dagster infers it)."""
    return [
        dg.define_asset_job(
            job_name(submitted),
            selection=dg.AssetSelection.assets(*assets),
            description=f"Secure build of analysis {submitted.name} (cohort analysis build {submitted.name}): "
            "its tables on the full data, protected and audited, then its review.",
        )
    ]


class ReviewDecisionConfig(dg.Config):
    """A reviewer's decision on one output, as ``cohort analysis approve|reject`` takes it."""

    analysis: str
    year: int | None = None  # the output's year; left out for a project whose tables are not yearly
    decision: Literal["approved", "rejected"]
    reviewer: str  # your name, as the reviewer
    reason: str  # why (kept with the decision)


class AnalysisReleaseConfig(dg.Config):
    """Which approved output to release, as ``cohort analysis release`` takes it."""

    analysis: str
    year: int | None = None


def reviewed_output(lake: settings.Lake, name: str, year: int | None) -> BuiltOutput:
    """The built output of submitted analysis ``name`` for ``year``; a ``Failure`` naming the rule
    otherwise (unknown analysis, wrong year, not built)."""
    found = submission(lake, name)
    if found is None:
        raise dg.Failure(description=f"no analysis {name!r} was submitted on this lake")
    try:
        return built_output(lake, found, output_year(found, year))
    except (ReviewError, SubmissionRefused) as exc:
        raise dg.Failure(description=str(exc)) from None


def review_key(built: BuiltOutput) -> dg.AssetKey:
    return dg.AssetKey([built.project, review_name(built.submitted.name)])


@dg.op(
    description="Record a reviewer's decision on exactly the content the review shows, then show the review again."
)
def record_review_decision(
    context: dg.OpExecutionContext, config: ReviewDecisionConfig, lake: LakeResource
) -> None:
    paths = lake.paths()
    built = reviewed_output(paths, config.analysis, config.year)
    try:
        record_decision(paths, built, config.decision, config.reviewer, config.reason)
    except ReviewError as exc:
        raise dg.Failure(description=str(exc)) from None
    metadata = review_metadata(paths, built)
    context.log_event(
        dg.AssetMaterialization(
            asset_key=review_key(built),
            partition=str(built.year) if built.year is not None else None,
            description=f"{config.decision} by {config.reviewer.strip()}",
            metadata=metadata,
        )
    )
    context.log.info(f"analysis {built.label}: {config.decision}; review {metadata['status']}")


@dg.op(description="Release an approved output under releases/ through the gate (ledger, audit log).")
def release_reviewed_output(
    context: dg.OpExecutionContext, config: AnalysisReleaseConfig, lake: LakeResource
) -> None:
    paths = lake.paths()
    built = reviewed_output(paths, config.analysis, config.year)
    # a release step as the projects' own: refused after the retention date of the results' project
    with open_step(lake, load_spec(built.project), context.run.run_id, what="release"):
        try:
            written = release_approved(paths, built, run_id=context.run.run_id)
        except (ReviewError, dc.ReleaseRefused) as exc:
            raise dg.Failure(description=str(exc)) from None
    context.add_output_metadata(
        {
            "files": len(written),
            "folder": str((paths.releases / built.project / built.release_id).relative_to(paths.root)),
        }
    )


@dg.job(
    name=REVIEW_DECISION_JOB,
    description="Approve or reject an analysis's reviewed output (outputcontrole): "
    "fill in analysis, year, decision (approved / rejected), reviewer and reason in the launchpad.",
)
def review_decision_job() -> None:
    record_review_decision()


@dg.job(
    name=RELEASE_JOB, description="Release an analysis's approved output (analysis, year) through the gate."
)
def release_job() -> None:
    release_reviewed_output()


def submitted_analysis_defs(submitted: Submission) -> dg.Definitions:
    """One submitted analysis's assets and its job."""
    assets = submitted_analysis_assets(submitted)
    return dg.Definitions(assets=assets, jobs=analysis_jobs(submitted, assets))


def submitted_analyses_defs(lake: settings.Lake) -> dg.Definitions:
    """The assets and jobs of every analysis submitted on ``lake`` (read when the definitions are loaded),
    and the review-decision and release jobs."""
    return dg.Definitions.merge(
        dg.Definitions(jobs=[review_decision_job, release_job]),
        *(submitted_analysis_defs(s) for s in submissions(lake)),
    )
