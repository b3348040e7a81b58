"""The Dagster code location: every domain's definitions merged, with the shared lake resource.

Each domain package exposes ``defs: dg.Definitions`` in the module listed below.
"""

import importlib
import warnings

import dagster as dg

from cohort import clock
from cohort.projects.spec import load_spec
from cohort.resources import LakeResource
from cohort.sources.defs import source_key

DOMAIN_MODULES = [
    "cohort.warehouse.defs",
    "cohort.sources.defs",  # the contract check of every source table: warehouse/<table>
    "cohort.projects.longitudinal_cohort.defs",
    "cohort.ops.defs",  # jobs, schedules, warehouse sensor, reports of every project listed here
    "cohort.projects.labour_reserve.defs",
    "cohort.projects.regularised_foreigners.defs",
    "cohort.projects.measure_profiles.defs",
    "cohort.projects.flemish_staff_origin.defs",
    "cohort.projects.labour_reserve_results.defs",
]


def with_project_context(asset: dg.AssetSpec) -> dg.AssetSpec:
    """What every project asset shows in the UI, from its spec: the deliberation's retention date
    (*bewaartermijn*) with the days left on the clock when the code location was loaded (negative
    once it has passed), and, on the project's first assets, the edges from the contract-checked
    warehouse tables its spec says it reads."""
    try:
        spec = load_spec(asset.key.path[0])
    except (ModuleNotFoundError, FileNotFoundError):  # not a project (the warehouse, the reports)
        return asset
    project = asset.key.path[0]
    # the project's first assets that query (kind duckdb: not the data dictionary, made from the spec)
    first = "duckdb" in asset.kinds and not any(dep.asset_key.path[0] == project for dep in asset.deps)
    return asset.merge_attributes(
        metadata={
            "retention_date": spec.retention_date.isoformat(),
            "retention_days_left": clock.days_left(spec.retention_date),
        },
        deps=[source_key(table) for table in spec.warehouse.tables] if first else [],
    )


def _definitions() -> dg.Definitions:
    merged = dg.Definitions.merge(
        *(importlib.import_module(name).defs for name in DOMAIN_MODULES),
        dg.Definitions(
            resources={"lake": LakeResource()},
            # Each step in its own process; years run in parallel up to the limits of dagster.yaml.
            executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
        ),
    )
    with warnings.catch_warnings():
        # map_asset_specs is marked "preview" in Dagster 1.13; here it only adds metadata.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return merged.map_asset_specs(func=with_project_context)


# One Definitions object at module scope: Dagster refuses a module that holds two.
defs = _definitions()
