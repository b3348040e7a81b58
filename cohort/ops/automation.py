"""Yearly schedules and the new-warehouse-year sensor.

How a new year gets built
-------------------------
The warehouse publishes a year when its ``_manifest.json`` lists it (the builder, or the
loader of a real extract, writes the manifest last, after every table of the year is in
place). What a new year Y affects in a project:

- every yearly asset of the project that has a partition Y (a project may have several
  partition sets: the labour reserve's situation runs 2019-2027, its tables 2020-2026);
- the *T-1 tables* of Y-1: a table of year T that carries variables of T+1 (``mobility_next``,
  see :mod:`cohort.projects.mobility`) was built with "not yet observed" markers while T+1 was
  missing, and everything built from it;
- the project's unpartitioned assets (pseudonym mapping extended with the new persons,
  panels, data dictionary), except those that wait for a human sign-off (releases).

These partitions span partition sets and depend on each other (the T-1 table of Y-1 needs
the situation of Y), so they are requested as one **asset backfill**: the backfill daemon runs
them in dependency order, years side by side where it can, within the concurrency limits of
``dagster.yaml``.

- :func:`warehouse_year_sensor` (every minute) reads the manifest, remembers the years it has
  seen in its cursor, and requests the backfill of each new year in every project covering
  it. It also watches the T-1 tables: when year T+1 of their parents has been materialised
  *after* the T-1 table of T (a build outside a backfill, e.g. from the command line), it
  requests that T-1 table again.
- :func:`yearly_schedule` (15 January, 06:00 Brussels time) is the calendar safety net: it
  launches a small run of ``year_request_job`` that submits the same backfill for the year that
  has just ended, if the project covers it, the warehouse has published it and it is not
  built yet, and says why it skips otherwise. (A schedule cannot request a backfill itself.)
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.events import DagsterEventType
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from cohort import settings
from cohort.ops.catalogue import Project

MANIFEST = "_manifest.json"
TRIGGER_TAG = "cohort/trigger"
PROJECT_TAG = "cohort/project"


# ---------------------------------------------------------------- the warehouse manifest


def manifest_years(manifest: dict) -> list[int]:
    """The years a warehouse manifest says it covers.

    Accepts ``years: [2005, ...]``, ``years: {"first": ..., "last": ...}`` or
    ``first_year``/``last_year``.
    """
    years = manifest.get("years")
    if isinstance(years, list):
        return sorted(int(y) for y in years)
    if isinstance(years, dict) and "first" in years:
        return list(range(int(years["first"]), int(years["last"]) + 1))
    if "first_year" in manifest and "last_year" in manifest:
        return list(range(int(manifest["first_year"]), int(manifest["last_year"]) + 1))
    return []


def read_manifest(warehouse_dir: Path | None = None) -> dict | None:
    """The warehouse manifest, or None when the warehouse has not been built yet."""
    path = (warehouse_dir or settings.lake().warehouse) / MANIFEST
    if not path.exists():
        return None
    return json.loads(path.read_text())


def warehouse_years(warehouse_dir: Path | None = None) -> list[int]:
    manifest = read_manifest(warehouse_dir)
    return manifest_years(manifest) if manifest else []


# ---------------------------------------------------------------- what a year affects


@dataclass(frozen=True)
class YearRequest:
    """The partitions of one project that a new year ``year`` affects."""

    project: str
    year: int
    partitions: dict[dg.AssetKey, tuple[str, ...]]  # partitioned assets -> partition keys
    unpartitioned: tuple[dg.AssetKey, ...]

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.partitions.values()) + len(self.unpartitioned)

    def subset(self, project: Project) -> AssetGraphSubset:
        return AssetGraphSubset(
            partitions_subsets_by_asset_key={
                k: project.partitions[k].empty_subset().with_partition_keys(v)  # type: ignore[union-attr]
                for k, v in self.partitions.items()
                if v
            },
            non_partitioned_asset_keys=set(self.unpartitioned),
        )

    def describe(self) -> str:
        parts = [
            f"{k.to_user_string()}[{','.join(v)}]"
            for k, v in sorted(self.partitions.items(), key=lambda kv: kv[0].to_user_string())
        ]
        parts += [k.to_user_string() for k in self.unpartitioned]
        return "; ".join(parts)


def affected_by_year(project: Project, year: int) -> YearRequest:
    """What a newly published warehouse year changes in ``project`` (see the module docstring)."""
    partitions: dict[dg.AssetKey, tuple[str, ...]] = {}
    automatic = set(project.automatic)
    for key in project.partitioned:
        if key not in automatic:
            continue
        keys = set(project.partition_keys(key))
        wanted = [str(year)] if str(year) in keys else []
        if key in project.next_tables and str(year - 1) in keys:
            wanted.insert(0, str(year - 1))
        if wanted:
            partitions[key] = tuple(wanted)
    unpart = tuple(k for k in project.unpartitioned if k in automatic) if partitions else ()
    return YearRequest(project.id, year, partitions, unpart)


def _materialised(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, int]:
    """Latest materialisation storage id per partition of ``key``."""
    return dict(instance.get_latest_storage_id_by_partition(key, DagsterEventType.ASSET_MATERIALIZATION))


def stale_next_years(instance: dg.DagsterInstance, project: Project) -> dict[int, int]:
    """Years T whose T-1 tables are older than a materialisation of year T+1 of their parents.

    Returns ``{T: storage id of the newest T+1 parent materialisation}`` (the id makes the run
    key, so one staleness is requested once). A T-1 table never built is a backfill's job.
    """
    if not project.next_roots or not project.next_parents:
        return {}
    parents = [_materialised(instance, k) for k in project.next_parents]
    roots = {k: _materialised(instance, k) for k in project.next_roots}
    stale: dict[int, int] = {}
    for key, built in roots.items():
        for year_key in project.partition_keys(key):
            nxt = str(int(year_key) + 1)
            newest_parent = max((p[nxt] for p in parents if nxt in p), default=None)
            if newest_parent is not None and year_key in built and built[year_key] < newest_parent:
                stale[int(year_key)] = max(stale.get(int(year_key), 0), newest_parent)
    return stale


def next_tables_request(project: Project, year: int) -> YearRequest:
    partitions = {
        k: (str(year),)
        for k in project.next_tables
        if k in project.automatic and str(year) in project.partition_keys(k)
    }
    return YearRequest(project.id, year, partitions, ())


def is_built(instance: dg.DagsterInstance, project: Project, year: int) -> bool:
    """Every automatic asset of the main set has a materialisation of ``year``."""
    keys = [k for k in project.yearly if k in project.automatic and k.path[-1] != "report"]
    return bool(keys) and all(str(year) in _materialised(instance, k) for k in keys)


def submit_backfill(
    instance: dg.DagsterInstance, project: Project, request: YearRequest, trigger: str
) -> str:
    """Submit ``request`` as an asset backfill (what a sensor's backfill request does); return its id."""
    backfill_id = make_new_backfill_id()
    backfill = PartitionBackfill.from_asset_graph_subset(
        backfill_id=backfill_id,
        backfill_timestamp=time.time(),
        tags={TRIGGER_TAG: trigger, PROJECT_TAG: project.id},
        dynamic_partitions_store=instance,
        asset_graph_subset=request.subset(project),
        title=f"{project.id} {request.year}",
        description=f"{trigger}: {request.describe()}",
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


# ---------------------------------------------------------------- schedule


class YearRequestConfig(dg.Config):
    """Which project and year the request job submits."""

    project: str
    year: int


def year_request_job(projects: Sequence[Project]) -> dg.JobDefinition:
    """The small job a yearly schedule launches: it submits the year's backfill (see module docstring)."""
    by_id = {p.id: p for p in projects}

    @dg.op(name="submit_year_backfill")
    def submit_year_backfill(context: dg.OpExecutionContext, config: YearRequestConfig) -> None:
        """Submit the asset backfill of everything a year affects in a project."""
        project = by_id[config.project]
        request = affected_by_year(project, config.year)
        if not request.size:
            context.log.info(f"{project.id} {config.year}: nothing to build")
            return
        backfill_id = submit_backfill(context.instance, project, request, "yearly_schedule")
        context.log.info(f"submitted backfill {backfill_id}: {request.describe()}")

    @dg.job(
        name="year_request_job",
        description="Submits the asset backfill of one year of one project "
        "(launched by the yearly schedules).",
        tags={TRIGGER_TAG: "yearly_schedule"},
    )
    def _job() -> None:
        submit_year_backfill()

    return _job


def yearly_schedule(
    project: Project, job: dg.JobDefinition, warehouse_dir: Path | None = None
) -> dg.ScheduleDefinition:
    """On 15 January, build the year that has just ended (if the project covers it and the
    warehouse has published it)."""

    @dg.schedule(
        name=f"{project.id}_yearly_schedule",
        cron_schedule="0 6 15 1 *",  # 15 January 06:00: the warehouse loads the closed year in early January
        execution_timezone="Europe/Brussels",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Every 15 January, builds the year that has just ended for {project.id} "
            f"({project.spec.first_year}-{project.spec.last_year}) once the warehouse has published it."
        ),
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        year = context.scheduled_execution_time.year - 1
        if not project.spec.first_year <= year <= project.spec.last_year or year not in project.years:
            return dg.SkipReason(
                f"{year} is not a year of {project.id} ({project.spec.first_year}-{project.spec.last_year})"
            )
        if year not in warehouse_years(warehouse_dir):
            return dg.SkipReason(
                f"the warehouse has not published {year} yet; the warehouse sensor requests it when it does"
            )
        instance = _instance_of(context)
        if instance is not None and is_built(instance, project, year):
            return dg.SkipReason(f"{project.id} {year} is already built")
        return dg.RunRequest(
            run_key=f"{project.id}-{year}",
            run_config={"ops": {"submit_year_backfill": {"config": {"project": project.id, "year": year}}}},
            tags={PROJECT_TAG: project.id, "cohort/year": str(year)},
        )

    return _schedule


def _instance_of(context) -> dg.DagsterInstance | None:
    try:
        return context.instance
    except Exception:  # a context built without an instance (direct invocation)
        return None


# ---------------------------------------------------------------- sensor


def warehouse_year_sensor(
    projects: Sequence[Project],
    warehouse_dir: Path | None = None,
    name: str = "warehouse_year_sensor",
    minimum_interval_seconds: int = 60,
) -> dg.SensorDefinition:
    """Requests the partitions a newly published warehouse year affects, in every project."""

    # a sensor may request a backfill only of assets in its selection (Dagster checks each request)
    automatic = [k for p in projects for k in p.automatic]

    @dg.sensor(
        name=name,
        asset_selection=dg.AssetSelection.assets(*automatic),
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Watches the warehouse manifest (_manifest.json). When a new year appears it requests, per "
            "project, a backfill of that year, of the T-1 tables of the year before (their *_next variables "
            "need T+1) and of the unpartitioned assets; it also re-requests T-1 tables left stale by a build "
            "outside a backfill."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext):
        return evaluate_warehouse_sensor(context, projects, warehouse_dir)

    return _sensor


def evaluate_warehouse_sensor(
    context: dg.SensorEvaluationContext,
    projects: Sequence[Project],
    warehouse_dir: Path | None = None,
) -> dg.SensorResult | dg.SkipReason:
    """One tick of the warehouse sensor (a plain function so that tests can call it)."""
    manifest = read_manifest(warehouse_dir)
    if manifest is None:
        return dg.SkipReason("no warehouse manifest yet (build the warehouse first)")
    years = manifest_years(manifest)
    if context.cursor is None:
        # First tick: the years already there were built by a backfill or the demo; remember them.
        cursor = json.dumps({"years": years})
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"baseline: warehouse covers {_span(years)}"), cursor=cursor
        )
    state = json.loads(context.cursor)
    seen = set(state.get("years", []))
    requested_stale: dict[str, int] = dict(state.get("stale", {}))
    requests: list[dg.RunRequest] = []
    for year in (y for y in years if y not in seen):
        for p in projects:
            request = affected_by_year(p, year)
            if request.size:
                requests.append(
                    dg.RunRequest.for_asset_graph_subset(
                        request.subset(p),
                        tags={
                            TRIGGER_TAG: "warehouse_year_sensor",
                            PROJECT_TAG: p.id,
                            "cohort/year": str(year),
                        },
                    )
                )
    instance = _instance_of(context)
    if instance is not None:
        for p in projects:
            for year, parent_id in sorted(stale_next_years(instance, p).items()):
                request = next_tables_request(p, year)
                marker = f"{p.id}:{year}"
                if request.size and requested_stale.get(marker) != parent_id:  # once per new T+1 build
                    requested_stale[marker] = parent_id
                    requests.append(
                        dg.RunRequest.for_asset_graph_subset(
                            request.subset(p),
                            tags={
                                TRIGGER_TAG: "warehouse_year_sensor",
                                PROJECT_TAG: p.id,
                                "cohort/year": str(year),
                                "cohort/reason": "stale T-1 tables",
                            },
                        )
                    )
    cursor = json.dumps({"years": sorted(seen | set(years)), "stale": requested_stale})
    if not requests:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"nothing new (warehouse covers {_span(years)})"), cursor=cursor
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def _span(years: list[int]) -> str:
    return f"{min(years)}-{max(years)}" if years else "no years"
