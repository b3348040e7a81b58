"""``cohort demo`` leaves its last two warehouse years to automation (:mod:`cohort.ops.replay`):
afterwards the instance holds a run launched by a yearly schedule and runs requested by the
warehouse sensor, evaluated by Dagster itself, and the demo's summary names them.

The lake's warehouse ends in 2014 (scale 0.001), so that the one yearly project built,
``flemish_staff_origin`` (2013-2026), has two published years: 2013 for its schedule's tick of
15 January 2014, 2014 for the sensor once the warehouse publishes it.

The ticks are recorded as the daemon records them (:mod:`cohort.ops.ticks`), so that the schedule's and
the sensor's *Tick history* in the UI show them: read from the instance, and from a real webserver's
GraphQL (the webserver alone: no daemon adds ticks of its own meanwhile).
"""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import pytest
from conftest import run_cohort
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.storage.tags import BACKFILL_ID_TAG, SCHEDULE_NAME_TAG, SENSOR_NAME_TAG

from cohort.ops import devserver, ticks
from cohort.ops.commands import default_seed
from cohort.warehouse.build import build_warehouse

PROJECT = "flemish_staff_origin"
SCHEDULE = f"{PROJECT}_yearly_schedule"
SENSOR = "warehouse_year_sensor"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    lake = tmp_path_factory.mktemp("automation_demo")
    build_warehouse(
        lake / "warehouse", scale=0.001, seed=default_seed(), first_year=2005, last_year=2014, defects=True
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "COHORT_WAREHOUSE_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    args = ["demo", "--data-dir", str(lake), "--scale", "0.001", "--workers", "1", "--project", PROJECT]
    done = run_cohort(args, env=env, cwd=Path(__file__).parents[1], timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "already there" in done.stdout  # the demo kept the warehouse of 2005-2014
    return lake, done.stdout


def _runs(lake: Path, tags: dict[str, str]) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(lake / "dagster")) as instance:
        return list(instance.get_runs(dg.RunsFilter(tags=tags)))


def test_a_schedule_launched_a_run_and_its_backfill_was_built(demo):
    lake, _ = demo
    (run,) = _runs(lake, {SCHEDULE_NAME_TAG: SCHEDULE})
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == "year_request_job"
    assert run.run_config["ops"]["submit_year_backfill"]["config"] == {"project": PROJECT, "year": 2013}
    with dg.DagsterInstance.from_config(str(lake / "dagster")) as instance:
        (backfill,) = [
            b for b in instance.get_backfills() if b.tags.get("cohort/trigger") == "yearly_schedule"
        ]
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
        built = instance.get_runs(dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill.backfill_id}))
        assert built and all(r.status == dg.DagsterRunStatus.SUCCESS for r in built)
        assert {r.tags.get("dagster/partition") for r in built} == {"2013"}
        staff = dg.AssetKey([PROJECT, "staff"])
        event = instance.get_latest_materialization_event(staff)
        assert event is not None


def test_the_sensor_requested_the_newly_published_year(demo):
    lake, _ = demo
    runs = _runs(lake, {SENSOR_NAME_TAG: SENSOR})
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert {r.tags.get("dagster/partition") for r in runs} == {"2014"}
    assert {r.tags["cohort/project"] for r in runs} == {PROJECT}
    with dg.DagsterInstance.from_config(str(lake / "dagster")) as instance:
        (backfill_id,) = {r.tags[BACKFILL_ID_TAG] for r in runs}
        backfill = instance.get_backfill(backfill_id)
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
        assert backfill.tags[SENSOR_NAME_TAG] == SENSOR  # the tag Dagster set on the request
        # no backfill is left for the daemon of `make dev` to run again
        assert all(b.status != BulkActionStatus.REQUESTED for b in instance.get_backfills())
        # the releases, which wait for a sign-off, were built for both years afterwards
        release = dg.AssetKey([PROJECT, "release"])
        keys = instance.get_materialized_partitions(release)
        assert {"2013", "2014"} <= set(keys)


def test_the_warehouse_lists_every_year_again_and_the_summary_names_the_automation(demo):
    lake, out = demo
    manifest = json.loads((lake / "warehouse" / "_manifest.json").read_text())
    assert manifest["years"] == list(range(2005, 2015)) and "held_back_by_demo" not in manifest
    assert (lake / "warehouse" / "sep_quarter" / "year=2014").is_dir()  # its files are back
    assert not (lake / ".warehouse_held_back").exists()
    summary = out[out.index("Automation (") :]
    assert f"{SCHEDULE} (tick of 15 January 2014 06:00)" in summary
    assert f"{SENSOR} (warehouse published 2014)" in summary
    assert "FAILED" not in summary


def test_the_ticks_are_in_the_instance_as_the_daemon_records_them(demo):
    lake, _ = demo
    with dg.DagsterInstance.from_config(str(lake / "dagster")) as instance:
        (tick,) = ticks.ticks_of(instance, SCHEDULE)
        (run,) = instance.get_runs(dg.RunsFilter(tags={SCHEDULE_NAME_TAG: SCHEDULE}))
        assert tick.status == ticks.TickStatus.SUCCESS and list(tick.run_ids) == [run.run_id]
        assert list(tick.run_keys) == [f"{PROJECT}-2013"]
        # dated at its scheduled time, 15 January 2014 06:00 in Brussels (05:00 UTC)
        assert tick.timestamp == dt.datetime(2014, 1, 15, 5, tzinfo=dt.UTC).timestamp()

        requested, baseline = ticks.ticks_of(instance, SENSOR)  # newest first
        assert baseline.status == ticks.TickStatus.SKIPPED and "baseline" in baseline.skip_reason
        assert json.loads(baseline.cursor)["years"] == list(range(2005, 2014))
        backfills = {r.tags[BACKFILL_ID_TAG] for r in _runs(lake, {SENSOR_NAME_TAG: SENSOR})}
        assert requested.status == ticks.TickStatus.SUCCESS and set(requested.run_ids) == backfills
        # the sensor's state holds the cursor, so the daemon of `make dev` goes on from 2014
        state = instance.get_instigator_state(requested.instigator_origin_id, ticks.selector_id(SENSOR))
        assert json.loads(state.instigator_data.cursor)["years"] == list(range(2005, 2015))


TICKS = """
query($sensor: SensorSelector!, $schedule: ScheduleSelector!) {
  sensorOrError(sensorSelector: $sensor) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 10) { status runIds skipReason } } }
  }
  scheduleOrError(scheduleSelector: $schedule) {
    __typename
    ... on Schedule { scheduleState { ticks(limit: 10) { status runIds timestamp } } }
  }
}
"""


@pytest.mark.server
def test_the_ui_shows_the_ticks_in_the_tick_history(demo):
    lake, _ = demo
    where = {"repositoryLocationName": devserver.LOCATION, "repositoryName": devserver.REPOSITORY}
    with dg.DagsterInstance.from_config(str(lake / "dagster")) as instance:
        backfills = {b.backfill_id for b in instance.get_backfills() if b.tags.get(SENSOR_NAME_TAG) == SENSOR}
    with devserver.dagster_dev(lake / "dagster", lake, daemon=False) as server:
        data = server.graphql(
            TICKS,
            {"sensor": {**where, "sensorName": SENSOR}, "schedule": {**where, "scheduleName": SCHEDULE}},
        )
    sensor = data["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    statuses = [(t["status"], set(t["runIds"])) for t in sensor["sensorState"]["ticks"]]
    assert statuses == [("SUCCESS", backfills), ("SKIPPED", set())], statuses
    schedule = data["scheduleOrError"]
    assert schedule["__typename"] == "Schedule", schedule
    (tick,) = schedule["scheduleState"]["ticks"]
    assert tick["status"] == "SUCCESS" and len(tick["runIds"]) == 1
