"""Dagster assets of submitted analyses: each runs, year by year, on the full tables in the secure area
and releases through the same path as every anonymous delivery (:func:`cohort.projects.anonymous.release_assets`):
protect -> the small-cell risk analysis (blocking check) -> sign-off -> the gate, which writes the
release and appends it to the ledger.

The releases of analyses of a project go under the project that holds its anonymous results (for the
labour reserve ``labour_reserve_results``), release id ``<analysis>/<year>``: one ledger for everything
the recipient got from those tables, so each release is audited against the earlier ones.
"""

import dagster as dg

from cohort import settings
from cohort.analysis.registry import Submission, submissions
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import build_release, run_analysis
from cohort.partitions import yearly_partitions
from cohort.projects import anonymous
from cohort.projects.spec import load_spec
from cohort.projects.step import Step


def submitted_analysis_assets(submitted: Submission) -> list[dg.AssetsDefinition]:
    """The ``<analysis>_tables`` (blocking small-cell risk analysis) and ``<analysis>`` release assets
    of one submitted analysis, partitioned by the years of its project."""
    source = analysable_projects()[submitted.project]
    spec = load_spec(source.rules_from)

    def build(step: Step, partition_key: str | None) -> anonymous.ReleaseTables:
        analysis = submitted.load()  # refused when the frozen code no longer has its submitted hash
        year = int(partition_key) if partition_key is not None else source.first_year
        frames = run_analysis(analysis, source.secure_files(step.lake), year)
        return build_release(analysis, frames, year, source.rules())

    return anonymous.release_assets(
        spec,
        build,
        deps=[dg.AssetKey([source.project, t]) for t in source.tables],
        release_id=lambda key: f"{submitted.name}/{key}",
        partitions_def=yearly_partitions(source.first_year, source.last_year),
        release_name=f"analysis_{submitted.name}",
    )


def submitted_analyses_defs(lake: settings.Lake) -> dg.Definitions:
    """The assets of every analysis submitted on ``lake`` (read when the definitions are loaded)."""
    assets = [a for s in submissions(lake) for a in submitted_analysis_assets(s)]
    return dg.Definitions(assets=assets)
