"""The Dagster code location: every domain's definitions merged, with the shared lake resource.

Each domain package exposes ``defs: dg.Definitions`` in the module listed below.
"""

import warnings
from types import ModuleType
from typing import Any

import dagster as dg

from cohort import clock, settings
from cohort.analysis.assets import submitted_analyses_defs
from cohort.ops.defs import operations_defs
from cohort.projects.flemish_staff_origin import defs as flemish_staff_origin
from cohort.projects.labour_reserve import defs as labour_reserve
from cohort.projects.longitudinal_cohort import defs as longitudinal_cohort
from cohort.projects.measure_profiles import defs as measure_profiles
from cohort.projects.regularised_foreigners import defs as regularised_foreigners
from cohort.projects.spec import ProjectSpec, load_spec
from cohort.resources import LakeResource
from cohort.sources import defs as warehouse_contract
from cohort.sources.defs import source_key
from cohort.warehouse import defs as synthetic_warehouse

#: the projects of the code location, by id (each package's ``defs`` module: Dagster allows only
#: one Definitions object at this module's scope); the operational layer (a job, a yearly schedule and a
#: report per project, the warehouse sensor) is made from these, so listing a project here is all
#: it takes to get them. (labour_reserve_results has a spec and no assets of its own: its results are the
#: submitted analyses, added below.)
PROJECTS: dict[str, ModuleType] = {
    "longitudinal_cohort": longitudinal_cohort,
    "labour_reserve": labour_reserve,
    "regularised_foreigners": regularised_foreigners,
    "measure_profiles": measure_profiles,
    "flemish_staff_origin": flemish_staff_origin,
}


def column_schema(spec: ProjectSpec, table: str) -> dg.TableSchema:
    """The columns of a spec table as the UI's column schema: name, the variable's kind (and its
    classes or coarsening) and its description with the paragraph that authorises it."""
    columns = []
    for name in spec.table(table).columns:
        variable = spec.variables[name]
        detail = ", ".join(variable.classes) if variable.classes else variable.coarsening
        description = variable.description.rstrip(".") + (f" ({variable.dutch})" if variable.dutch else "")
        columns.append(
            dg.TableColumn(
                name,
                variable.kind,
                description=f"{description}. Authorised by {variable.paragraph}."
                + (f" Classes/coarsening: {detail}." if detail else ""),
            )
        )
    return dg.TableSchema(columns=columns)


def project_metadata(spec: ProjectSpec, asset: dg.AssetSpec) -> dict[str, Any]:
    """The definition metadata of a project asset: the deliberation, the retention date with the
    days left, and, when the asset is one of the spec's written tables (its key ends with the
    table's name and the table is a file of its own: ``secure`` or ``exports``), its column schema."""
    metadata: dict[str, Any] = {
        "deliberation": dg.MetadataValue.text(str(spec.deliberation.get("number", spec.id))),
        "deliberation_title": dg.MetadataValue.text(str(spec.deliberation.get("title", ""))),
        "recipient": dg.MetadataValue.text(spec.recipient),
        "retention_date": spec.retention_date.isoformat(),
        "retention_days_left": clock.days_left(spec.retention_date),
    }
    table = spec.tables.get(asset.key.path[-1])
    # a "releases" table is a tabulation of the release, not the file of the asset of that name
    if table is not None and table.area in {"secure", "exports"}:
        metadata["dagster/column_schema"] = column_schema(spec, table.name)
        metadata["area"] = dg.MetadataValue.text(table.area)
    return metadata


def project_owners(spec: ProjectSpec) -> list[str]:
    """The owners the spec names (``owners:``, Dagster's ``team:<name>`` or an e-mail address)."""
    owners = spec.extra.get("owners") or []
    return [str(owner) for owner in ([owners] if isinstance(owners, str) else owners)]


def with_project_context(asset: dg.AssetSpec) -> dg.AssetSpec:
    """What every project asset shows in the UI, from its spec: :func:`project_metadata` (the
    deliberation, the retention date (*bewaartermijn*) with the days left on the clock when the code
    location was loaded, negative once it has passed, and the column schema of a table), the owners
    the spec names, and, on the project's first assets, the edges from the contract-checked
    warehouse tables its spec says it reads."""
    try:
        spec = load_spec(asset.key.path[0])
    except (ModuleNotFoundError, FileNotFoundError):  # not a project (the warehouse, the reports)
        return asset
    project = asset.key.path[0]
    # the project's first assets that query (kind duckdb: not the data dictionary, made from the spec)
    first = "duckdb" in asset.kinds and not any(dep.asset_key.path[0] == project for dep in asset.deps)
    return asset.merge_attributes(
        metadata=project_metadata(spec, asset),
        owners=project_owners(spec),
        deps=[source_key(table) for table in spec.warehouse.tables] if first else [],
    )


def _definitions() -> dg.Definitions:
    domains = dg.Definitions.merge(
        synthetic_warehouse.defs,
        warehouse_contract.defs,  # the contract check of every source table: warehouse/<table>
        *(project.defs for project in PROJECTS.values()),
        # the researchers' analyses submitted on this lake (cohort analysis submit; docs/analysis.md)
        submitted_analyses_defs(settings.lake()),
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
