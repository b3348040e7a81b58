"""The Dagster code location: every domain's definitions merged, with the shared lake resource.

Each domain package exposes ``defs: dg.Definitions`` in the module listed below.
"""

import importlib

import dagster as dg

from cohort.resources import LakeResource

DOMAIN_MODULES = [
    "cohort.warehouse.defs",
    "cohort.projects.longitudinal_cohort.defs",
    "cohort.ops.defs",  # jobs, schedules, warehouse sensor, reports of every project listed here
    "cohort.projects.labour_reserve.defs",
    "cohort.projects.regularised_foreigners.defs",
    "cohort.projects.measure_profiles.defs",
    "cohort.projects.flemish_staff_origin.defs",
    "cohort.projects.labour_reserve_results.defs",
]

defs = dg.Definitions.merge(
    *(importlib.import_module(name).defs for name in DOMAIN_MODULES),
    dg.Definitions(
        resources={"lake": LakeResource()},
        # Each step in its own process; years run in parallel up to the limits of dagster.yaml.
        executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
    ),
)
