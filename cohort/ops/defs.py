"""The operational layer of the code location: per project a job, a yearly schedule and a report
asset, plus one sensor that reacts to a new warehouse year.

Nothing here is declared by hand per project: the projects are read from the asset graph of
the other domain modules (:mod:`cohort.ops.catalogue`), so a new project package gets its job,
schedule, report and sensor coverage as soon as it is listed in ``cohort.definitions``.
"""

import dagster as dg

from cohort.ops import automation, catalogue, reports

_others = catalogue.other_domains_defs(exclude=(__name__,))

report_assets = [
    reports.report_asset(p.id, p.partitions_def, deps=list(p.yearly), description=p.spec.title)
    for p in catalogue.projects_of(_others)
    if p.partitions_def is not None
]

#: the projects with their report assets, as automation sees them
PROJECTS = [
    p
    for p in catalogue.projects_of(dg.Definitions.merge(_others, dg.Definitions(assets=report_assets)))
    if p.partitions_def is not None
]

#: one job per project: the yearly tables of its main partition set and the report, for one year. Unpartitioned
#: assets (pseudonym mappings) are left out so that a job backfill never extends a mapping twice at once.
jobs = [
    dg.define_asset_job(
        p.job_name,
        selection=dg.AssetSelection.assets(*(k for k in p.yearly if k in p.automatic)),
        description=f"The yearly tables of {p.id} and its report, for one year ({p.spec.title}).",
        tags={automation.PROJECT_TAG: p.id},
    )
    for p in PROJECTS
]

year_request_job = automation.year_request_job(PROJECTS)
schedules = [automation.yearly_schedule(p, year_request_job) for p in PROJECTS]
sensors = [automation.warehouse_year_sensor(PROJECTS)] if PROJECTS else []

defs = dg.Definitions(
    assets=report_assets, jobs=[*jobs, year_request_job], schedules=schedules, sensors=sensors
)
