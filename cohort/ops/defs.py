"""The operational layer of the code location: per project a job, a yearly schedule and a report
asset, plus one sensor that reacts to a new warehouse year.

Nothing here is declared by hand per project: the projects are read from the asset graph of
the domains (:mod:`cohort.ops.catalogue`), so a new project package gets its job, schedule,
report and sensor coverage as soon as ``cohort.definitions`` lists it. This module may import
the rest of ``cohort.ops`` and nothing above it; ``cohort.definitions`` calls it.
"""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from cohort.ops import automation, catalogue, reports
from cohort.sources.defs import SOURCE_PREFIX

WAREHOUSE_JOB = "warehouse_check_job"
CALIBRATION = dg.AssetKey("warehouse_calibration")


def yearly_projects(defs: dg.Definitions) -> list[catalogue.Project]:
    """The projects of ``defs`` that have yearly partitions."""
    return [p for p in catalogue.projects_of(defs) if p.partitions_def is not None]


def _span(partitions_def: dg.PartitionsDefinition) -> str:
    # named after its first year only: the last one moves with the clock (the running year)
    keys = partitions_def.get_partition_keys()
    return f"from_{keys[0]}" if keys else "other_years"


def project_jobs(projects: list[catalogue.Project]) -> list[UnresolvedAssetJobDefinition]:
    """The jobs of each project, one per kind of asset (its main yearly set, its unpartitioned
    assets, any other yearly set), so that every run of a build (``cohort demo``, ``cohort project
    build``) is a run of a named job that the UI lists and can run again.

    - ``<project>_job``: the main set's assets automation may launch, for one year (the project's
      unpartitioned assets when it has no yearly set). Unpartitioned assets (pseudonym mappings)
      are left out of a yearly job so that a job backfill never extends a mapping twice at once.
    - ``<project>_all_years_job``: the unpartitioned assets of a yearly project (mapping, panels,
      data dictionary), ``<project>_<first>_<last>_job`` another yearly set (the labour reserve's
      situation with its neighbour years).
    - ``..._release_job``: the same with the releases that wait for a sign-off; its run config
      names who signed off (without it the release refuses, see cohort/projects/anonymous.py)."""
    jobs: list[UnresolvedAssetJobDefinition] = []
    for p in projects:
        kinds: dict[str, list[dg.AssetKey]] = {}
        for key in p.keys:
            partitions_def = p.partitions[key]
            if partitions_def is None:
                kind = "all_years" if p.partitions_def is not None else ""
            elif partitions_def == p.partitions_def:
                kind = ""
            else:
                kind = _span(partitions_def)
            kinds.setdefault(kind, []).append(key)
        for kind, keys in kinds.items():
            name = "_".join(part for part in (p.id, kind) if part)
            what = (
                f"{kind.replace('_', ' ')} assets" if kind else "yearly tables and its report, for one year"
            )
            automatic = [k for k in keys if k not in p.signoff]
            if automatic:
                jobs.append(
                    dg.define_asset_job(
                        f"{name}_job",
                        selection=dg.AssetSelection.assets(*automatic),
                        description=f"The {what} of {p.id} ({p.spec.title}).",
                        tags={automation.PROJECT_TAG: p.id},
                    )
                )
            if len(automatic) < len(keys):
                jobs.append(
                    dg.define_asset_job(
                        f"{name}_release_job",
                        selection=dg.AssetSelection.assets(*keys),
                        description=f"The {what} of {p.id} with its releases, which wait for a sign-off: "
                        "the run config names who signed off (ops: <project>__release: config: signed_off_by).",
                        tags={automation.PROJECT_TAG: p.id},
                    )
                )
    return jobs


def warehouse_jobs(domains: dg.Definitions) -> list[UnresolvedAssetJobDefinition]:
    """The contract check of every warehouse table and the calibration report, as one job."""
    graph = domains.resolve_asset_graph()
    keys = [
        k
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_materializable
        and ((len(k.path) == 2 and k.path[0] == SOURCE_PREFIX) or k == CALIBRATION)
    ]
    if not keys:
        return []
    return [
        dg.define_asset_job(
            WAREHOUSE_JOB,
            selection=dg.AssetSelection.assets(*keys),
            description="The contract check of every warehouse table (quarantine) and the calibration report.",
        )
    ]


def operations_defs(domains: dg.Definitions) -> dg.Definitions:
    """The jobs, schedules, sensor and report assets for the projects in ``domains`` (the merged
    definitions of the warehouse, the contract and every project package, with the lake resource)."""
    # a yearly project's report is a section per year of its main set; another's one section
    report_assets = [
        reports.report_asset(p.id, p.partitions_def, deps=list(p.yearly or p.keys), description=p.spec.title)
        for p in catalogue.projects_of(domains)
    ]
    # the projects as automation sees them: with their report assets
    every = catalogue.projects_of(dg.Definitions.merge(domains, dg.Definitions(assets=report_assets)))
    projects = [p for p in every if p.partitions_def is not None]
    jobs = [*project_jobs(every), *warehouse_jobs(domains)]
    year_request_job = automation.year_request_job(projects)
    return dg.Definitions(
        assets=report_assets,
        jobs=[*jobs, year_request_job],
        schedules=[automation.yearly_schedule(p, year_request_job) for p in projects],
        sensors=[automation.warehouse_year_sensor(projects)] if projects else [],
    )
