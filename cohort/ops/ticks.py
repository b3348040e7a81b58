"""The demo's ticks of a schedule or a sensor, recorded in the instance as the Dagster daemon
records its own, so that the UI's Automation pages (a schedule's or a sensor's *Tick history*)
show what ``cohort demo`` evaluated.

The daemon keeps two things per schedule or sensor in the instance's schedule storage:

- an **instigator state** (``InstigatorState``), found by its *selector* (code location name,
  repository name, instigator name), which holds a sensor's cursor and a schedule's start time;
- one **tick** per evaluation (``TickData``): created ``STARTED`` when the evaluation starts,
  then updated to ``SUCCESS`` with the ids of the runs it launched (a sensor's backfills: their
  backfill ids, as ``dagster._daemon.sensor`` records them), ``SKIPPED`` with the skip reason,
  or ``FAILURE`` with the error.

Dagster 1.13 has no public API for either: the classes below are private
(``dagster._core.scheduler.instigation``, ``dagster._core.remote_origin``,
``dagster._core.definitions.selector``), the instance methods (``create_tick``, ``update_tick``,
``add_instigator_state``, ``update_instigator_state``, ``get_ticks``) are undocumented. They are
used here and nowhere else in the package; ``tests/test_ops_ticks.py`` records ticks into a real
instance and reads them back, so that an upgrade that breaks them fails there, and
``tests/test_ops_demo_automation.py`` reads the demo's through a real webserver's GraphQL.

The origin: ``dagster dev`` serves the code location through gRPC servers it starts itself (a
temporary workspace of sockets), so the origin the webserver or the daemon sees differs from
session to session; both find states and ticks by their selector id, the stable part. The demo
names the location the way the webserver's workspace does (``workspace.yaml``: ``cohort``,
repository ``__repository__``) with a ``RegisteredCodeLocationOrigin``: a location that whoever
reads it resolves by name.
"""

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.selector import InstigatorSelector
from dagster._core.remote_origin import RemoteInstigatorOrigin
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorTick,
    InstigatorType,
    ScheduleInstigatorData,
    SensorInstigatorData,
    TickData,
    TickStatus,
)
from dagster._utils.error import serializable_error_info_from_exc_info

from cohort.ops.devserver import LOCATION, REPOSITORY
from cohort.ops.origins import repository_origin

__all__ = ["RecordedTick", "TickStatus", "recorded_tick", "selector_id", "ticks_of"]


def origin(name: str) -> RemoteInstigatorOrigin:
    """The origin of schedule or sensor ``name`` of the code location of ``workspace.yaml``."""
    return RemoteInstigatorOrigin(repository_origin(), name)


def selector_id(name: str) -> str:
    """The id by which the webserver and the daemon find a schedule's or a sensor's state and ticks."""
    return InstigatorSelector(location_name=LOCATION, repository_name=REPOSITORY, name=name).get_id()


def ticks_of(instance: dg.DagsterInstance, name: str) -> Sequence[InstigatorTick]:
    """The recorded ticks of schedule or sensor ``name``, newest first (what *Tick history* lists)."""
    return instance.get_ticks(origin(name).get_id(), selector_id(name))


def _state(
    instance: dg.DagsterInstance, definition: dg.ScheduleDefinition | dg.SensorDefinition
) -> InstigatorState:
    """The stored state of ``definition``, added as the daemon adds it on its first tick when
    there is none (``DECLARED_IN_CODE``: running because the code says so)."""
    stored = instance.get_instigator_state(origin(definition.name).get_id(), selector_id(definition.name))
    if stored is not None:
        return stored
    if isinstance(definition, dg.ScheduleDefinition):
        # start time now, as the scheduler daemon sets it: it plans its next tick from there, and
        # a demo tick dated in the past is never "caught up" by the daemon of `make dev`
        data: ScheduleInstigatorData | SensorInstigatorData = ScheduleInstigatorData(
            definition.cron_schedule, time.time()
        )
        kind = InstigatorType.SCHEDULE
    else:
        data = SensorInstigatorData(
            min_interval=definition.minimum_interval_seconds,
            last_sensor_start_timestamp=time.time(),
            sensor_type=definition.sensor_type,
        )
        kind = InstigatorType.SENSOR
    return instance.add_instigator_state(
        InstigatorState(origin(definition.name), kind, InstigatorStatus.DECLARED_IN_CODE, data)
    )


@dataclass
class RecordedTick:
    """What a tick did, filled in while it runs; written to the tick when the block ends."""

    run_ids: list[str] = field(default_factory=list)  # runs launched, or a sensor's backfill ids
    run_keys: list[str] = field(default_factory=list)
    skip_reason: str | None = None
    cursor: str | None = None


@contextmanager
def recorded_tick(
    instance: dg.DagsterInstance,
    definition: dg.ScheduleDefinition | dg.SensorDefinition,
    timestamp: float | None = None,
) -> Iterator[RecordedTick]:
    """Record one tick of ``definition`` around the block that evaluates it and launches what it
    requests: ``STARTED`` on entry; on exit ``SUCCESS`` with the run (or backfill) ids when the
    block launched something, else ``SKIPPED`` with its skip reason, or ``FAILURE`` when the block
    raised. A sensor's state takes the tick's cursor, as the sensor daemon's does (the daemon of
    `make dev` goes on from it). ``timestamp``: a schedule's tick is dated at its scheduled time."""
    state = _state(instance, definition)
    is_schedule = isinstance(definition, dg.ScheduleDefinition)
    started = time.time()
    tick = instance.create_tick(
        TickData(
            instigator_origin_id=state.instigator_origin_id,
            instigator_name=definition.name,
            instigator_type=InstigatorType.SCHEDULE if is_schedule else InstigatorType.SENSOR,
            status=TickStatus.STARTED,
            timestamp=started if timestamp is None else timestamp,
            selector_id=state.selector_id,
        )
    )
    found = RecordedTick()
    try:
        yield found
    except BaseException:
        instance.update_tick(
            tick.with_status(TickStatus.FAILURE, error=serializable_error_info_from_exc_info(sys.exc_info()))
        )
        raise
    for run_id in found.run_ids:
        tick = tick.with_run_info(run_id=run_id)
    for run_key in found.run_keys:
        tick = tick.with_run_info(run_key=run_key)
    if found.cursor is not None:
        tick = tick.with_cursor(found.cursor)
    if found.run_ids:
        tick = tick.with_status(TickStatus.SUCCESS)
    else:
        tick = tick.with_status(TickStatus.SKIPPED)
        if found.skip_reason:
            tick = tick.with_reason(found.skip_reason)
    instance.update_tick(tick)
    if not is_schedule:
        old = state.instigator_data if isinstance(state.instigator_data, SensorInstigatorData) else None
        old = old or SensorInstigatorData(min_interval=definition.minimum_interval_seconds)
        instance.update_instigator_state(
            state.with_data(
                SensorInstigatorData(
                    last_tick_timestamp=tick.timestamp,
                    last_run_key=found.run_keys[-1] if found.run_keys else old.last_run_key,
                    min_interval=old.min_interval,
                    cursor=found.cursor if found.cursor is not None else old.cursor,
                    last_tick_start_timestamp=started,
                    last_sensor_start_timestamp=old.last_sensor_start_timestamp,
                    sensor_type=old.sensor_type,
                    last_tick_success_timestamp=time.time(),
                )
            )
        )
