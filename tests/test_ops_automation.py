"""The yearly schedule and the new-warehouse-year sensor, evaluated as the daemon would.

Toy assets under the ``labour_reserve`` key prefix stand in for the project, shaped like it: a
situation built for the neighbour years too (2019-2027), T-1/T+1 tables for 2020-2026 joined
on T-1..T+1, an unpartitioned pseudonym mapping and a release that waits for a sign-off. The
real spec's ``mobility.next_table`` says which tables are T-1 tables. Manifests are real
files in tmp dirs; the instance is a real (temporary) Dagster instance.
"""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from cohort.ops import automation, catalogue
from cohort.partitions import yearly_partitions

YEARS = yearly_partitions(2020, 2026)
SITUATION_YEARS = yearly_partitions(2019, 2027)
NEIGHBOURS = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=1)
BRUSSELS = ZoneInfo("Europe/Brussels")


@dg.asset(key=["labour_reserve", "person_mapping"])
def person_mapping() -> None:
    """Pseudonym mapping."""


@dg.asset(key=["labour_reserve", "situation"], partitions_def=SITUATION_YEARS, deps=[person_mapping])
def situation() -> None:
    """Situation of year T."""


@dg.asset(
    key=["labour_reserve", "mobility_next"],
    partitions_def=YEARS,
    deps=[dg.AssetDep(situation, partition_mapping=NEIGHBOURS)],
)
def mobility_next() -> None:
    """T with T+1."""


@dg.asset(
    key=["labour_reserve", "mobility_prev"],
    partitions_def=YEARS,
    deps=[dg.AssetDep(situation, partition_mapping=NEIGHBOURS)],
)
def mobility_prev() -> None:
    """T with T-1."""


@dg.asset(key=["labour_reserve", "phase1_next"], partitions_def=YEARS, deps=[mobility_next])
def phase1_next() -> None:
    """Export of mobility_next."""


class SignOff(dg.Config):
    signed_off_by: str = ""


@dg.asset(key=["labour_reserve", "release"], deps=[phase1_next])
def release(config: SignOff) -> None:
    """Waits for a human."""


ASSETS = [person_mapping, situation, mobility_next, mobility_prev, phase1_next, release]


@pytest.fixture(scope="module")
def project():
    (p,) = catalogue.projects_of(dg.Definitions(assets=ASSETS))
    return p


def write_manifest(path, first, last):
    path.mkdir(parents=True, exist_ok=True)
    (path / automation.MANIFEST).write_text(
        json.dumps({"scale": 0.001, "seed": 1, "years": list(range(first, last + 1))})
    )


def names(keys):
    return sorted(k.path[-1] for k in keys)


def test_catalogue_reads_the_project_from_the_graph(project):
    assert project.id == "labour_reserve" and project.job_name == "labour_reserve_job"
    assert project.partitions_def == YEARS  # the main set: most yearly assets share it
    assert names(project.yearly) == ["mobility_next", "mobility_prev", "phase1_next"]
    assert names(project.unpartitioned) == ["person_mapping", "release"]
    assert names(project.signoff) == ["release"]
    assert names(project.next_roots) == ["mobility_next"]
    assert names(project.next_tables) == ["mobility_next", "phase1_next"]
    assert names(project.next_parents) == ["situation"]


def test_manifest_years_accepts_the_usual_shapes():
    assert automation.manifest_years({"years": [2006, 2005]}) == [2005, 2006]
    assert automation.manifest_years({"years": {"first": 2005, "last": 2007}}) == [2005, 2006, 2007]
    assert automation.manifest_years({"first_year": 2020, "last_year": 2021}) == [2020, 2021]
    assert automation.manifest_years({}) == []


def test_a_new_year_affects_its_partitions_the_t_minus_1_tables_and_the_mapping(project):
    request = automation.affected_by_year(project, 2025)
    assert {k.path[-1]: v for k, v in request.partitions.items()} == {
        "situation": ("2025",),
        "mobility_next": ("2024", "2025"),
        "mobility_prev": ("2025",),
        "phase1_next": ("2024", "2025"),
    }
    assert names(request.unpartitioned) == ["person_mapping"]  # never the release: it waits for a sign-off
    subset = request.subset(project)
    assert subset.num_partitions_and_non_partitioned_assets == 7
    # a year outside the project years but inside its situation years: only what exists
    request = automation.affected_by_year(project, 2019)
    assert {k.path[-1]: v for k, v in request.partitions.items()} == {"situation": ("2019",)}


def _tick(schedule, when, instance):
    return schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=when))


def test_schedule_submits_the_backfill_of_the_year_just_ended(project, tmp_path):
    wh = tmp_path / "warehouse"
    write_manifest(wh, 2005, 2025)
    job = automation.year_request_job([project])
    schedule = automation.yearly_schedule(project, job, warehouse_dir=wh)
    assert schedule.cron_schedule == "0 6 15 1 *"
    with dg.instance_for_test() as instance:
        request = _tick(schedule, datetime(2026, 1, 15, 6, tzinfo=BRUSSELS), instance)
        assert isinstance(request, dg.RunRequest)
        assert request.run_config["ops"]["submit_year_backfill"]["config"] == {
            "project": "labour_reserve",
            "year": 2025,
        }
        # the run the schedule launches submits the backfill of everything 2025 affects
        assert job.execute_in_process(run_config=request.run_config, instance=instance).success
        (backfill,) = instance.get_backfills()
        target = backfill.asset_backfill_data.target_subset
        assert target.num_partitions_and_non_partitioned_assets == 7
        assert backfill.tags[automation.TRIGGER_TAG] == "yearly_schedule"
        # before the project: skipped with the reason
        skip = _tick(schedule, datetime(2020, 1, 15, 6, tzinfo=BRUSSELS), instance)
        assert isinstance(skip, dg.SkipReason) and "2019 is not a year" in skip.skip_message
        # a project year the warehouse has not published
        skip = _tick(schedule, datetime(2027, 1, 15, 6, tzinfo=BRUSSELS), instance)
        assert isinstance(skip, dg.SkipReason) and "not published 2026" in skip.skip_message
        write_manifest(wh, 2005, 2026)
        request = _tick(schedule, datetime(2027, 1, 15, 6, tzinfo=BRUSSELS), instance)
        assert isinstance(request, dg.RunRequest) and request.run_key == "labour_reserve-2026"
        # a year already built (e.g. by the sensor) is not requested again
        yearly = [mobility_next, mobility_prev, phase1_next]
        assert dg.materialize(
            [situation, *yearly], selection=yearly, partition_key="2025", instance=instance
        ).success
        skip = _tick(schedule, datetime(2026, 1, 15, 6, tzinfo=BRUSSELS), instance)
        assert isinstance(skip, dg.SkipReason) and "already built" in skip.skip_message


def test_sensor_requests_a_new_year_then_stale_t_minus_1_tables(project, tmp_path):
    wh = tmp_path / "warehouse"
    sensor = automation.warehouse_year_sensor([project], warehouse_dir=wh)
    with dg.instance_for_test() as instance:
        assert isinstance(
            sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason
        )  # no warehouse yet
        # first tick: the years already there are the baseline
        write_manifest(wh, 2005, 2024)
        result = sensor(dg.build_sensor_context(instance=instance))
        assert not result.run_requests and json.loads(result.cursor)["years"] == list(range(2005, 2025))
        cursor = result.cursor
        # the warehouse publishes 2025: one backfill request for the project
        write_manifest(wh, 2005, 2025)
        result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        (request,) = result.run_requests
        assert request.requires_backfill_daemon()
        subset = request.asset_graph_subset
        assert subset.partitions_subsets_by_asset_key[mobility_next.key].get_partition_keys() == [
            "2024",
            "2025",
        ]
        assert names(subset.non_partitioned_asset_keys) == ["person_mapping"]
        cursor = result.cursor
        assert 2025 in json.loads(cursor)["years"]
        # nothing new on the next tick
        result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert not result.run_requests and "nothing new" in result.skip_reason.skip_message
        # 2024's T-1 table built, then 2025's situation built outside a backfill: 2024 is stale
        built = [situation, mobility_next, phase1_next]
        assert dg.materialize(
            built, selection=[mobility_next], partition_key="2024", instance=instance
        ).success
        assert dg.materialize(built, selection=[situation], partition_key="2025", instance=instance).success
        result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        (request,) = result.run_requests
        subset = request.asset_graph_subset
        assert {
            k.path[-1]: s.get_partition_keys() for k, s in subset.partitions_subsets_by_asset_key.items()
        } == {"mobility_next": ["2024"], "phase1_next": ["2024"]}
        # requested once, not at every tick while the backfill runs
        cursor = result.cursor
        assert not sensor(dg.build_sensor_context(instance=instance, cursor=cursor)).run_requests
        # rebuilt: still nothing to do
        assert dg.materialize(
            built, selection=[mobility_next], partition_key="2024", instance=instance
        ).success
        assert not sensor(dg.build_sensor_context(instance=instance, cursor=cursor)).run_requests


def test_sensor_ignores_years_outside_the_project(project, tmp_path):
    wh = tmp_path / "warehouse"
    sensor = automation.warehouse_year_sensor([project], warehouse_dir=wh)
    write_manifest(wh, 2005, 2010)
    with dg.instance_for_test() as instance:
        cursor = sensor(dg.build_sensor_context(instance=instance)).cursor
        write_manifest(wh, 2005, 2012)
        assert not sensor(dg.build_sensor_context(instance=instance, cursor=cursor)).run_requests


def test_the_code_location_gets_a_job_schedule_and_report_per_yearly_project():
    from cohort.definitions import defs
    from cohort.ops.defs import yearly_projects

    repo = defs.get_repository_def()
    projects = yearly_projects(defs)
    yearly = {p.id for p in projects}
    assert {"labour_reserve", "longitudinal_cohort"} <= yearly
    schedules = {s.name: s for s in repo.schedule_defs}
    for project in yearly:
        assert schedules[f"{project}_yearly_schedule"].job_name == "year_request_job"
        assert repo.has_job(f"{project}_job")
        node = defs.resolve_asset_graph().get(dg.AssetKey([project, "report"]))
        assert node.group_name == f"{project}_reports"
    assert repo.has_sensor_def("warehouse_year_sensor")
    # the sensor sees the real T-1 tables of the labour reserve
    (lr,) = [p for p in projects if p.id == "labour_reserve"]
    assert "mobility_next" in names(lr.next_roots) and "situation" in names(lr.next_parents)


def test_dagster_accepts_the_sensors_backfill_requests(project, tmp_path):
    """Evaluated as the daemon does (``evaluate_tick``, with the repository): a backfill request of
    a sensor without an asset selection is refused, so the sensor selects the assets it requests,
    and Dagster adds its name to each request."""
    wh = tmp_path / "warehouse"
    sensor = automation.warehouse_year_sensor([project], warehouse_dir=wh)
    repo = dg.Definitions(assets=ASSETS, sensors=[sensor]).get_repository_def()
    write_manifest(wh, 2005, 2024)
    with dg.instance_for_test() as instance:
        with dg.build_sensor_context(instance=instance, repository_def=repo) as context:
            cursor = sensor.evaluate_tick(context).cursor
        write_manifest(wh, 2005, 2025)
        with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repo) as context:
            (request,) = sensor.evaluate_tick(context).run_requests
    assert request.requires_backfill_daemon()
    assert request.tags["dagster/sensor_name"] == "warehouse_year_sensor"
    assert request.tags[automation.PROJECT_TAG] == "labour_reserve"
