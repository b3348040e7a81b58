"""The demo's ticks recorded into a real instance (:mod:`cohort.ops.ticks`, the one place that uses
Dagster's private schedule storage classes): read back by the selector the webserver and the daemon
use, with the run or backfill ids, the skip reason, the error, and the sensor's cursor kept in its
state. An upgrade of Dagster that changes those classes or methods fails here first."""

from pathlib import Path

import dagster as dg
import pytest

from cohort.ops import runner, ticks
from cohort.ops.devserver import LOCATION, REPOSITORY


@dg.sensor(name="test_sensor", minimum_interval_seconds=60)
def _sensor() -> None:
    return None


@dg.op
def _noop() -> None:
    return None


@dg.job(name="test_job")
def _job() -> None:
    _noop()


SCHEDULE = dg.ScheduleDefinition(name="test_schedule", cron_schedule="0 6 15 1 *", job=_job)


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # instance_at sets it; restored after the test
    home = runner.ensure_instance_home(tmp_path / "dagster")
    with runner.instance_at(home) as found:
        yield found


def test_the_selector_is_the_code_location_of_the_workspace():
    from dagster._core.definitions.selector import InstigatorSelector

    assert LOCATION == "cohort" and REPOSITORY == "__repository__"
    expected = InstigatorSelector(location_name="cohort", repository_name="__repository__", name="x").get_id()
    assert ticks.selector_id("x") == expected
    assert ticks.origin("x").get_selector().get_id() == expected


def test_a_sensor_tick_with_backfills_succeeds_and_its_cursor_is_the_sensors(instance):
    with ticks.recorded_tick(instance, _sensor) as tick:
        tick.skip_reason, tick.cursor = "baseline", '{"years": [2013]}'
    with ticks.recorded_tick(instance, _sensor) as tick:
        tick.run_ids.append("backfill1")
        tick.cursor = '{"years": [2013, 2014]}'
    second, first = ticks.ticks_of(instance, "test_sensor")
    assert first.status == ticks.TickStatus.SKIPPED and first.skip_reason == "baseline"
    assert second.status == ticks.TickStatus.SUCCESS and list(second.run_ids) == ["backfill1"]
    assert second.cursor == '{"years": [2013, 2014]}' and second.end_timestamp is not None
    # the daemon finds the state by the selector alone, whatever origin its own session has
    state = instance.get_instigator_state("another origin id", ticks.selector_id("test_sensor"))
    assert state is not None and state.is_running
    assert state.instigator_data.cursor == '{"years": [2013, 2014]}'
    assert state.instigator_data.last_tick_timestamp == second.timestamp
    # ticks by selector too: the webserver's query
    assert len(instance.get_ticks("another origin id", ticks.selector_id("test_sensor"))) == 2


def test_a_schedule_tick_is_dated_at_its_scheduled_time_with_its_run(instance):
    when = 1389762000.0  # 15 January 2014, 06:00 in Brussels
    with ticks.recorded_tick(instance, SCHEDULE, when) as tick:
        tick.run_ids.append("run1")
        tick.run_keys.append("p-2013")
    (found,) = ticks.ticks_of(instance, "test_schedule")
    assert found.status == ticks.TickStatus.SUCCESS and found.timestamp == when
    assert list(found.run_ids) == ["run1"] and list(found.run_keys) == ["p-2013"]
    state = instance.get_instigator_state("x", ticks.selector_id("test_schedule"))
    # the daemon plans from the state's start time: now, not the demo's date in the past
    assert state.instigator_data.start_timestamp > when + 10 * 365 * 86400


def test_a_tick_whose_block_raises_is_a_failure_with_its_error(instance):
    with pytest.raises(RuntimeError), ticks.recorded_tick(instance, _sensor):
        raise RuntimeError("the warehouse is gone")
    (found,) = ticks.ticks_of(instance, "test_sensor")
    assert found.status == ticks.TickStatus.FAILURE and "the warehouse is gone" in found.error.message
