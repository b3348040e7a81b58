"""Dagster assets of submitted analyses: each runs on the full tables in the secure area (year by year
where the project's tables are yearly) and is protected and audited as every anonymous delivery (:func:`cohort.projects.anonymous.release_assets`):
protect -> the small-cell risk analysis (blocking check). The release follows the output review
(:mod:`cohort.analysis.review`): approved by the project's reviewers, then written by the gate, which
appends it to the ledger.

The releases of analyses of a project go under the project that holds its anonymous results (for the
labour reserve ``labour_reserve_results``, for seed 001 ``measure_profiles`` itself), release id
``<analysis>/<year>`` (``<analysis>`` for a project whose tables are not yearly): one ledger for
everything the recipient got from those tables, so each release is audited against the earlier ones.
"""

import dagster as dg

from cohort import settings
from cohort.analysis.registry import Submission, submissions
from cohort.analysis.review import models_dir, release_id, save_models
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import build_release, fit_models, run_analysis, years_of
from cohort.partitions import yearly_partitions
from cohort.projects import anonymous
from cohort.projects.spec import load_spec
from cohort.projects.step import Step


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
        frames = run_analysis(analysis, files, year, source.secure_queries())
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
        release_name=f"analysis_{submitted.name}",
    )
    # Only the tables asset: an analysis is released by `cohort analysis release` once its output was
    # reviewed and approved (cohort/analysis/review.py), never by a run's sign-off alone.
    return [tables]


def submitted_analyses_defs(lake: settings.Lake) -> dg.Definitions:
    """The assets of every analysis submitted on ``lake`` (read when the definitions are loaded)."""
    assets = [a for s in submissions(lake) for a in submitted_analysis_assets(s)]
    return dg.Definitions(assets=assets)
