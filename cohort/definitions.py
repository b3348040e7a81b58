"""The Dagster code location: every domain's definitions merged, with the shared lake resource.

Each domain package exposes ``defs: dg.Definitions`` in the module listed below.
"""

import warnings
from types import ModuleType

import dagster as dg

from cohort import clock
from cohort.ops.defs import operations_defs
from cohort.projects.flemish_staff_origin import defs as flemish_staff_origin
from cohort.projects.labour_reserve import defs as labour_reserve
from cohort.projects.labour_reserve_results import defs as labour_reserve_results
from cohort.projects.longitudinal_cohort import defs as longitudinal_cohort
from cohort.projects.measure_profiles import defs as measure_profiles
from cohort.projects.regularised_foreigners import defs as regularised_foreigners
from cohort.projects.spec import load_spec
from cohort.resources import LakeResource
from cohort.sources import defs as warehouse_contract
from cohort.sources.defs import source_key
from cohort.warehouse import defs as synthetic_warehouse

#: the projects of the code location, by id (each package's ``defs`` module: Dagster allows only
#: one Definitions object at this module's scope); the operational layer (a job, a yearly schedule and a
#: report per project, the warehouse sensor) is made from these, so listing a project here is all
#: it takes to get them
PROJECTS: dict[str, ModuleType] = {
    "longitudinal_cohort": longitudinal_cohort,
    "labour_reserve": labour_reserve,
    "regularised_foreigners": regularised_foreigners,
    "measure_profiles": measure_profiles,
    "flemish_staff_origin": flemish_staff_origin,
    "labour_reserve_results": labour_reserve_results,
}


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
    domains = dg.Definitions.merge(
        synthetic_warehouse.defs,
        warehouse_contract.defs,  # the contract check of every source table: warehouse/<table>
        *(project.defs for project in PROJECTS.values()),
        dg.Definitions(
            resources={"lake": LakeResource()},
            # Each step in its own process; years run in parallel up to the limits of dagster.yaml.
            executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
        ),
    )
    merged = dg.Definitions.merge(domains, operations_defs(domains))
    with warnings.catch_warnings():
        # map_asset_specs is marked "preview" in Dagster 1.13; here it only adds metadata.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return merged.map_asset_specs(func=with_project_context)


# One Definitions object at module scope: Dagster refuses a module that holds two.
defs = _definitions()
