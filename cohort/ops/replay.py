"""The demo's automation, played in process: a tick of the yearly schedules and of the warehouse
sensor, evaluated by Dagster against the demo's instance, their requests executed as its runs.

``cohort demo`` runs without the Dagster daemon, yet the UI should show what automation does
with a lake. So the demo plays the last two warehouse years as they arrive in real life:

1. The warehouse *publishes* a year when its manifest lists it (:mod:`cohort.ops.automation`).
   The demo takes the last year L out (unlisted, its yearly files set aside beside the
   warehouse, so that every step sees a warehouse that ends in L-1) and ticks
   ``warehouse_year_sensor`` once: its first tick records the years it sees (cursor).
2. The demo builds every project, the yearly ones up to L-2.
3. The yearly schedules tick at 15 January L, 06:00: year L-1 is published and not built, so
   each schedule of a project covering L-1 requests a run of ``year_request_job``; the run
   submits the asset backfill of L-1.
4. L is published again (its files back, the manifest listing it); the sensor's second tick (with the first one's cursor) requests,
   per project covering L, the backfill of what L changes.
5. The releases of L-1 and L, which wait for a sign-off (no automation launches them), are
   built and signed off as the demo, with what reads them, and any project that reads another
   project's tables of those years again.

Ticks are evaluated by Dagster (``evaluate_tick``: the requests carry the tags it sets,
``dagster/schedule_name``, ``dagster/sensor_name``); a schedule's run request is executed as a
run of its job, a sensor's backfill request is submitted as the sensor daemon submits it. The
backfills are executed here in dependency order, standing in for the backfill daemon: each run
carries the backfill's tags and ``dagster/backfill``, and the backfill is marked finished, so
that the daemon of ``make dev`` does not run it again. Nothing is requested that the schedule or
the sensor would not have requested on that lake at that time.
"""

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.tags import BACKFILL_ID_TAG, RUN_KEY_TAG, SCHEDULED_EXECUTION_TIME_TAG
from dagster._core.utils import make_new_backfill_id
from dagster._daemon.sensor import _submit_backfill_request

from cohort.ops import automation
from cohort.ops.catalogue import Project
from cohort.ops.runner import Materialiser, PlannedRun, RunOutcome, plan_project
from cohort.ops.ticks import RecordedTick, recorded_tick

SENSOR = "warehouse_year_sensor"
SCHEDULE_SUFFIX = "_yearly_schedule"
HELD_BACK = "held_back_by_demo"  # manifest key: years the demo has unlisted for a while
BRUSSELS = ZoneInfo("Europe/Brussels")


def schedule_name(project_id: str) -> str:
    return f"{project_id}{SCHEDULE_SUFFIX}"


# ---------------------------------------------------------------- publishing a year


def _write_manifest(warehouse: Path, manifest: dict) -> None:
    path = warehouse / automation.MANIFEST
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, path)


def held_back_dir(warehouse: Path) -> Path:
    """Where the files of a held-back year wait, beside the warehouse (never inside it)."""
    return warehouse.parent / f".{warehouse.name}_held_back"


def hold_back(warehouse: Path, year: int) -> None:
    """Take ``year`` out of the warehouse: unlisted from the manifest, and its yearly files
    (``<table>/year=<year>``) moved beside the warehouse, so that every step sees a warehouse
    that ends the year before (the steps read the years from the files)."""
    manifest = automation.read_manifest(warehouse) or {}
    manifest["years"] = [y for y in automation.manifest_years(manifest) if y != year]
    manifest[HELD_BACK] = sorted({*manifest.get(HELD_BACK, []), year})
    _write_manifest(warehouse, manifest)  # first: an interrupted demo knows what to put back
    held = held_back_dir(warehouse)
    for folder in sorted(warehouse.glob(f"*/year={year}")):
        target = held / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, target)


def publish_held_back(warehouse: Path) -> list[int]:
    """Publish again every year :func:`hold_back` took out: its files back in the warehouse,
    then the manifest listing it (also after an interrupted demo). Files held back from a
    warehouse that has been built again since are dropped."""
    manifest = automation.read_manifest(warehouse)
    held = held_back_dir(warehouse)
    years = [int(y) for y in (manifest or {}).get(HELD_BACK, [])]
    if held.exists():
        if years:
            for folder in sorted(held.glob("*/year=*")):
                os.replace(folder, warehouse / folder.parent.name / folder.name)
        shutil.rmtree(held)
    if manifest is None or not years:
        return []
    manifest.pop(HELD_BACK)
    manifest["years"] = sorted({*automation.manifest_years(manifest), *years})
    _write_manifest(warehouse, manifest)
    return years


# ---------------------------------------------------------------- backfills executed in process


def backfill_runs(materialiser: Materialiser, backfill: PartitionBackfill) -> list[PlannedRun]:
    """The planned runs (:func:`plan_project`, without sign-off) that materialise exactly the
    target of an asset backfill, in dependency order within each project."""
    target = backfill.asset_backfill_data.target_subset  # type: ignore[union-attr]
    wanted: set[tuple[dg.AssetKey, str | None]] = {(k, None) for k in target.non_partitioned_asset_keys}
    for key, subset in target.partitions_subsets_by_asset_key.items():
        wanted |= {(key, pk) for pk in subset.get_partition_keys()}
    runs: list[PlannedRun] = []
    for project in materialiser.projects():
        mine = {pair for pair in wanted if pair[0] in project.keys}
        years = {int(y) for _, y in mine if y is not None}
        if not mine:
            continue
        for run in plan_project(project, materialiser.graph, years or None, include_signoff=False):
            year = None if run.year is None else str(run.year)
            keys = tuple(k for k in run.keys if (k, year) in mine)
            mine -= {(k, year) for k in keys}
            if keys:
                runs.append(replace(run, keys=keys))
    return runs


def execute_backfill(
    materialiser: Materialiser, backfill_id: str, on_done: Callable[[RunOutcome], None] | None = None
) -> list[RunOutcome]:
    """Execute a submitted asset backfill here (what the backfill daemon would launch), then
    record it as finished."""
    instance = materialiser.instance
    backfill = instance.get_backfill(backfill_id)
    assert backfill is not None and backfill.asset_backfill_data is not None, backfill_id
    tags = {**backfill.tags, BACKFILL_ID_TAG: backfill_id}
    outcomes: list[RunOutcome] = []
    for run in backfill_runs(materialiser, backfill):
        outcome = materialiser.execute(run, extra_tags=tags)
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
        if not outcome.success:
            break
    ok = bool(outcomes) and all(o.success for o in outcomes)
    data = backfill.asset_backfill_data
    target = data.target_subset
    data = data._replace(
        requested_runs_for_target_roots=True,
        requested_subset=target,
        materialized_subset=target if ok else data.materialized_subset,
    )
    finished = backfill.with_asset_backfill_data(
        data, dynamic_partitions_store=instance, asset_graph=materialiser.graph
    )
    finished = finished.with_status(
        BulkActionStatus.COMPLETED_SUCCESS if ok else BulkActionStatus.FAILED
    ).with_end_timestamp(time.time())
    instance.update_backfill(finished)
    return outcomes


# ---------------------------------------------------------------- the replay


@dataclass
class Launched:
    """A run or a backfill that a tick requested, for the demo's summary."""

    by: str  # schedule or sensor name
    tick: str  # when it ticked / what it saw
    project: str
    year: int
    run_id: str = ""  # the schedule's run of year_request_job
    backfill_id: str = ""
    outcomes: list[RunOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return bool(self.outcomes) and all(o.success for o in self.outcomes)


@dataclass
class Replay:
    """The demo's automation (see the module docstring) for the chosen projects."""

    materialiser: Materialiser
    warehouse: Path
    projects: Sequence[Project]  # the chosen yearly projects covering L-1 or L
    last_year: int  # L: published by the sensor's second tick
    cursor: str | None = None
    launched: list[Launched] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def schedule_year(self) -> int:
        return self.last_year - 1

    def held_years(self, project: Project) -> set[int]:
        """Years the demo's main build leaves to automation."""
        if project.id not in {p.id for p in self.projects}:
            return set()
        return {y for y in (self.schedule_year, self.last_year) if y in project.years}

    @property
    def instance(self) -> dg.DagsterInstance:
        return self.materialiser.instance

    def _repo(self):
        return self.materialiser.defs.get_repository_def()

    # step 1
    def baseline(self) -> str:
        hold_back(self.warehouse, self.last_year)
        sensor = self._repo().get_sensor_def(SENSOR)
        with (
            recorded_tick(self.instance, sensor) as tick,
            dg.build_sensor_context(instance=self.instance, repository_def=self._repo()) as context,
        ):
            data = sensor.evaluate_tick(context)
            tick.skip_reason, tick.cursor = data.skip_message, data.cursor
        self.cursor = data.cursor
        return data.skip_message or ""

    # step 3
    def tick_schedules(self, on_done: Callable[[RunOutcome], None] | None = None) -> None:
        when = dt.datetime(self.last_year, 1, 15, 6, tzinfo=BRUSSELS)
        for project in self.projects:
            if self.schedule_year not in project.years:
                continue
            name = schedule_name(project.id)
            schedule = self._repo().get_schedule_def(name)
            context = dg.build_schedule_context(
                instance=self.instance, scheduled_execution_time=when, repository_def=self._repo()
            )
            # the tick is dated at its scheduled time, as the scheduler daemon dates it
            with recorded_tick(self.instance, schedule, when.timestamp()) as tick:
                data = schedule.evaluate_tick(context)
                tick.skip_reason = data.skip_message
                if not data.run_requests:
                    self.notes.append(f"{name} (tick of {when:%d %B %Y %H:%M}): skipped: {data.skip_message}")
                    continue
                launched = self._launch_schedule_runs(
                    schedule, data.run_requests, when, project, tick, on_done
                )
            # the tick ends with its runs (the daemon's too); the backfills they submitted are the
            # backfill daemon's part, executed here after it
            for item in launched:
                if item.success and item.backfill_id:
                    item.outcomes += execute_backfill(self.materialiser, item.backfill_id, on_done)
                if not item.success:
                    return  # what comes after would build on a failed year

    def _launch_schedule_runs(
        self,
        schedule: dg.ScheduleDefinition,
        requests: Sequence[dg.RunRequest],
        when: dt.datetime,
        project: Project,
        tick: RecordedTick,
        on_done: Callable[[RunOutcome], None] | None,
    ) -> list[Launched]:
        """Execute a schedule tick's run requests (runs of ``year_request_job``, each submitting a
        backfill) and record them in ``tick``; stops at the first that failed."""
        launched: list[Launched] = []
        for request in requests:
            before = {b.backfill_id for b in self.instance.get_backfills()}
            tags = {
                **request.tags,  # with dagster/schedule_name, set by Dagster
                SCHEDULED_EXECUTION_TIME_TAG: when.astimezone(dt.UTC).isoformat(),
                **({RUN_KEY_TAG: request.run_key} if request.run_key else {}),
            }
            outcome = self.materialiser.execute_job(
                schedule.job_name, dict(request.run_config), tags, schedule.name
            )
            if outcome.run_id:  # launched: the daemon's tick succeeds whatever the run does afterwards
                tick.run_ids.append(outcome.run_id)
                tick.run_keys += [request.run_key] if request.run_key else []
            else:
                tick.skip_reason = f"the run could not be launched: {outcome.error}"
            if on_done:
                on_done(outcome)
            item = Launched(
                schedule.name,
                f"tick of {when:%d %B %Y %H:%M}",
                project.id,
                self.schedule_year,
                outcome.run_id,
            )
            item.outcomes.append(outcome)
            self.launched.append(item)
            launched.append(item)
            new = [b for b in self.instance.get_backfills() if b.backfill_id not in before]
            item.backfill_id = new[-1].backfill_id if new else ""  # year_request_job submits one
            if not item.success:
                break
        return launched

    # step 4
    def tick_sensor(self, on_done: Callable[[RunOutcome], None] | None = None) -> None:
        publish_held_back(self.warehouse)
        sensor = self._repo().get_sensor_def(SENSOR)
        with (
            recorded_tick(self.instance, sensor) as tick,
            dg.build_sensor_context(
                instance=self.instance, cursor=self.cursor, repository_def=self._repo()
            ) as context,
        ):
            data = sensor.evaluate_tick(context)
            tick.skip_reason, tick.cursor = data.skip_message, data.cursor
            self.cursor = data.cursor
            if not data.run_requests:
                self.notes.append(f"{SENSOR}: skipped: {data.skip_message}")
            chosen = {p.id for p in self.projects}
            submitted: list[Launched] = []
            for request in data.run_requests:
                project = request.tags.get(automation.PROJECT_TAG, "")
                year = int(request.tags.get("cohort/year", self.last_year))
                if project not in chosen:  # the daemon would build it; this demo does not build that project
                    self.notes.append(
                        f"{SENSOR}: requested {project} {year}, not part of this demo: left out"
                    )
                    continue
                backfill_id = make_new_backfill_id()
                _submit_backfill_request(backfill_id, request, self.instance)  # as the sensor daemon does
                tick.run_ids.append(backfill_id)  # the daemon records a requested backfill by its id
                submitted.append(
                    Launched(SENSOR, f"warehouse published {self.last_year}", project, year, "", backfill_id)
                )
            if not submitted and data.run_requests:
                tick.skip_reason = "every request is of a project this demo does not build"
        # the tick ends once its backfills are submitted (the daemon's ends there too); the backfill
        # daemon's part, executing them, follows
        for item in submitted:
            item.outcomes = execute_backfill(self.materialiser, item.backfill_id, on_done)
            self.launched.append(item)
            if not item.success:
                return

    # step 5
    def remaining_runs(self) -> list[PlannedRun]:
        """What automation leaves for the held years: the releases waiting for a sign-off and
        what reads them, the projects that read another held project's tables (their years
        were built before that project's T+1 was there), and whatever no request built (a tick
        that skipped, e.g. on a lake whose years an earlier demo built)."""
        graph = self.materialiser.graph
        held_ids = {p.id for p in self.projects}
        runs: list[PlannedRun] = []
        for project in self.projects:
            years = self.held_years(project)
            if not years:
                continue
            reads_other = any(
                parent.path[0] in held_ids - {project.id}
                for key in project.keys
                for parent in graph.get(key).parent_keys
            )
            signed = set(project.signoff)
            after = {k for k in project.keys if signed & _ancestors(graph, k)}
            for run in plan_project(project, graph, sorted(years), include_signoff=True):
                keys = tuple(
                    k
                    for k in run.keys
                    if reads_other or k in signed | after or (k, run.year) not in self.built
                )
                if keys and (run.year is None or run.year in years):
                    runs.append(replace(run, keys=keys))
        return runs

    @property
    def built(self) -> set[tuple[dg.AssetKey, int | None]]:
        """(asset, year) pairs that the requested runs materialised."""
        return {
            (k, o.run.year) for item in self.launched for o in item.outcomes if o.success for k in o.run.keys
        }

    def summary_lines(self) -> list[str]:
        lines = []
        for item in self.launched:
            state = "succeeded" if item.success else "FAILED"
            what = f"run {item.run_id} of year_request_job" if item.run_id else "a backfill request"
            backfill = (
                f" -> backfill {item.backfill_id} ({len([o for o in item.outcomes if o.run.keys])} runs)"
                if item.backfill_id
                else ""
            )
            lines.append(f"{item.by} ({item.tick}): {what} for {item.project} {item.year}{backfill}: {state}")
        return lines + self.notes


def _ancestors(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = list(graph.get(key).parent_keys)
    while todo:
        k = todo.pop()
        if k not in seen:
            seen.add(k)
            if graph.has(k):
                todo.extend(graph.get(k).parent_keys)
    return seen


def plan_replay(materialiser: Materialiser, chosen: Sequence[Project], warehouse: Path) -> Replay | None:
    """The replay for the demo's chosen projects, or None when no chosen yearly project covers the
    warehouse's second-last year (nothing for a schedule to request)."""
    publish_held_back(warehouse)  # an interrupted demo may have left its last year unlisted
    years = automation.warehouse_years(warehouse)
    if len(years) < 2:
        return None
    last = max(years)
    yearly = [p for p in chosen if p.partitions_def is not None and ({last - 1, last} & set(p.years))]
    if not any(last - 1 in p.years for p in yearly):
        return None
    return Replay(materialiser, warehouse, yearly, last)
