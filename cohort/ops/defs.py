"""The operational layer of the code location: per project a job, a yearly schedule and a report
asset, plus one sensor that reacts to a new warehouse year.

Nothing here is declared by hand per project: the projects are read from the asset graph of
the domains (:mod:`cohort.ops.catalogue`), so a new project package gets its job, schedule,
report and sensor coverage as soon as ``cohort.definitions`` lists it. This module may import
the rest of ``cohort.ops`` and nothing above it; ``cohort.definitions`` calls it.
"""

import dagster as dg

from cohort.ops import automation, catalogue, reports


def yearly_projects(defs: dg.Definitions) -> list[catalogue.Project]:
    """The projects of ``defs`` that have yearly partitions."""
    return [p for p in catalogue.projects_of(defs) if p.partitions_def is not None]


def operations_defs(domains: dg.Definitions) -> dg.Definitions:
    """The jobs, schedules, sensor and report assets for the projects in ``domains`` (the merged
    definitions of the warehouse, the contract and every project package, with the lake resource)."""
    report_assets = [
        reports.report_asset(p.id, p.partitions_def, deps=list(p.yearly), description=p.spec.title)
        for p in yearly_projects(domains)
    ]
    # the projects as automation sees them: with their report assets
    projects = yearly_projects(dg.Definitions.merge(domains, dg.Definitions(assets=report_assets)))
    # One job per project: the yearly tables of its main partition set and the report, for one year.
    # Unpartitioned assets (pseudonym mappings) are left out so that a job backfill never extends a
    # mapping twice at once.
    jobs = [
        dg.define_asset_job(
            p.job_name,
            selection=dg.AssetSelection.assets(*(k for k in p.yearly if k in p.automatic)),
            description=f"The yearly tables of {p.id} and its report, for one year ({p.spec.title}).",
            tags={automation.PROJECT_TAG: p.id},
        )
        for p in projects
    ]
    year_request_job = automation.year_request_job(projects)
    return dg.Definitions(
        assets=report_assets,
        jobs=[*jobs, year_request_job],
        schedules=[automation.yearly_schedule(p, year_request_job) for p in projects],
        sensors=[automation.warehouse_year_sensor(projects)] if projects else [],
    )
