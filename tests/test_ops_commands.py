"""``cohort exports list``, ``cohort releases list``, ``cohort project dictionary`` and the build plan."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from click.testing import CliRunner

from cohort import settings, storage
from cohort.cli import main
from cohort.ops import commands, runner
from cohort.ops.catalogue import projects_of
from cohort.partitions import yearly_partitions


def test_years_option_accepts_ranges_and_lists():
    assert commands._parse_years("2020-2022") == [2020, 2021, 2022]
    assert commands._parse_years("2022,2020") == [2020, 2022]
    assert commands._parse_years("2021") == [2021]
    assert commands._parse_years(None) is None
    with pytest.raises(Exception, match="before the first"):
        commands._parse_years("2022-2020")


def test_exports_and_releases_are_listed(tmp_path):
    lake = settings.lake(tmp_path)
    for year in (2020, 2021):
        storage.write_frame(
            pl.DataFrame({"person_id": [1, 2, 3], "year": [year] * 3}),
            storage.partition_file(lake.exports / "labour_reserve", "phase1/mobility_next", year),
        )
    release = lake.releases / "flemish_staff_origin" / "2024"
    release.mkdir(parents=True)
    (release / "origin_by_entity.csv").write_text("entity,count\nA,1-5\n")
    (release / "release.json").write_text(json.dumps({"signed_off_by": "J. Peeters", "content_hash": "abc"}))
    cli = CliRunner()
    out = cli.invoke(main, ["exports", "list", "--data-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    line = next(row for row in out.output.splitlines() if "phase1/mobility_next" in row)
    assert "labour_reserve" in line and "2020-2021" in line and " 6 " in line
    out = cli.invoke(main, ["releases", "list", "--data-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    line = next(row for row in out.output.splitlines() if row.startswith("flemish_staff_origin"))
    assert "2024" in line and "J. Peeters" in line and line.split()[2] == "2"
    (tmp_path / "empty").mkdir()
    empty = cli.invoke(main, ["exports", "list", "--data-dir", str(tmp_path / "empty")])
    assert empty.exit_code == 0 and "No exports" in empty.output
    # a lake that is not there is a mistake in --data-dir, not an empty lake
    missing = cli.invoke(main, ["exports", "list", "--data-dir", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no lake at" in missing.output


def test_project_dictionary_prints_the_spec():
    out = CliRunner().invoke(main, ["project", "dictionary", "labour_reserve"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("# Data dictionary") and "| `person_id` |" in out.output
    doc = json.loads(CliRunner().invoke(main, ["project", "dictionary", "labour_reserve", "--json"]).output)
    assert doc["project"] == "labour_reserve" and doc["years"] == [2020, 2026]
    bad = CliRunner().invoke(main, ["project", "dictionary", "no_such_project"])
    assert bad.exit_code == 2 and "unknown project 'no_such_project'" in bad.output


# a toy project shaped like the labour reserve: mapping -> situation (2019-2027) -> T±1 tables -> exports
YEARS, SITUATION = yearly_partitions(2020, 2026), yearly_partitions(2019, 2027)


@dg.asset(key=["labour_reserve", "person_mapping"])
def person_mapping() -> None: ...


@dg.asset(key=["labour_reserve", "situation"], partitions_def=SITUATION, deps=[person_mapping])
def situation() -> None: ...


@dg.asset(
    key=["labour_reserve", "mobility_next"],
    partitions_def=YEARS,
    deps=[
        dg.AssetDep(situation, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=1))
    ],
)
def mobility_next() -> None: ...


@dg.asset(key=["labour_reserve", "phase1_panel"], deps=[situation])
def phase1_panel() -> None: ...


@dg.asset(key=["labour_reserve", "phase1_next"], partitions_def=YEARS, deps=[mobility_next, phase1_panel])
def phase1_next() -> None: ...


def test_build_plan_follows_dependencies_across_partition_sets():
    defs = dg.Definitions(assets=[person_mapping, situation, mobility_next, phase1_panel, phase1_next])
    (project,) = projects_of(defs)
    graph = defs.resolve_asset_graph()
    every = 1 + len(SITUATION.get_partition_keys()) + 1 + 2 * len(YEARS.get_partition_keys())
    assert len(runner.plan_project(project, graph)) == every  # every partition of every set
    runs = runner.plan_project(project, graph, years=[2022])
    shape = [(r.stage, r.year, sorted(k.path[-1] for k in r.keys)) for r in runs]
    assert shape == [
        (0, None, ["person_mapping"]),
        # the situation set is built for the year and its neighbours
        (1, 2021, ["situation"]),
        (1, 2022, ["situation"]),
        (1, 2023, ["situation"]),
        (2, None, ["phase1_panel"]),
        (2, 2022, ["mobility_next"]),
        (3, 2022, ["phase1_next"]),
    ]
    # and it runs: every run succeeds in a real instance, in that order
    with dg.instance_for_test() as instance:
        m = runner.Materialiser(defs, instance)
        summary = m.execute_all(runs)
        assert not summary.failed and len(summary.outcomes) == len(runs)
        assert summary.by_project()["labour_reserve"]["years"] == {2021, 2022, 2023}
        assert instance.get_materialized_partitions(phase1_next.key) == {"2022"}
        assert instance.get_materialized_partitions(situation.key) == {"2021", "2022", "2023"}


def test_a_project_that_reads_another_is_built_after_it_in_the_same_worker():
    """No project of the code location reads another one's assets today (the labour reserve's phase-2
    results are submitted analyses, built by their own jobs); a project that did would join the group of
    the project it reads, after it. Three projects of hand-made assets: ``results`` reads ``reserve``."""

    @dg.asset(key=["reserve", "mobility"], partitions_def=yearly_partitions(2020, 2021))
    def mobility() -> None: ...

    @dg.asset(key=["results", "tables"], deps=[mobility.key], partitions_def=yearly_partitions(2020, 2021))
    def tables() -> None: ...

    @dg.asset(key=["other", "frame"])
    def frame() -> None: ...

    graph = dg.Definitions(assets=[mobility, tables, frame]).resolve_asset_graph()
    runs = [runner.PlannedRun("results", (tables.key,), y, 0) for y in (2020, 2021)]
    runs += [runner.PlannedRun("other", (frame.key,), None, 0)]
    runs += [runner.PlannedRun("reserve", (mobility.key,), y, 0) for y in (2020, 2021)]
    chains = commands.project_chains(runs, graph)
    assert len(chains) == 2
    reserve = next(c for c in chains if any(r.project == "reserve" for r in c))
    order = [r.project for r in reserve]
    # every run of the upstream project comes before the first run of the one that reads it
    assert order == ["reserve", "reserve", "results", "results"]
    assert sum(len(c) for c in chains) == len(runs)


# a build process that starts a slow run and is then killed (SIGKILL: nothing of it can clean up)
SLOW_BUILD = """
import sys, time
from pathlib import Path
import dagster as dg
from cohort.ops import runner

home, marker = Path(sys.argv[1]), Path(sys.argv[2])

@dg.asset(key=["toy", "slow"])
def slow() -> None:
    marker.write_text("running")
    time.sleep(120)

m = runner.Materialiser(dg.Definitions(assets=[slow]), runner.instance_at(home))
m.execute(runner.PlannedRun("toy", (slow.key,), None, 0))
"""


def _start_slow_build(home, marker) -> subprocess.Popen:
    with open(marker.with_suffix(".log"), "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", SLOW_BUILD, str(home), str(marker)],
            env={**os.environ, "DAGSTER_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for(paths, processes, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not all(p.exists() for p in paths):
        ended = [p for p in processes if p.poll() is not None]
        assert not ended, [Path(p.args[-1]).with_suffix(".log").read_text()[-3000:] for p in ended]
        assert time.monotonic() < deadline, f"runs not started after {seconds} s"
        time.sleep(0.2)


def test_a_run_whose_process_was_killed_is_marked_failed_at_the_next_start(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    runner.ensure_instance_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = runner.instance_at(home)  # its storage made here: two processes would race to make it
    killed_marker, alive_marker = tmp_path / "killed.started", tmp_path / "alive.started"
    killed = _start_slow_build(home, killed_marker)
    alive = _start_slow_build(home, alive_marker)
    try:
        _wait_for([killed_marker, alive_marker], [killed, alive])
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        started = {
            r.tags[runner.PID_TAG]: r.run_id
            for r in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        }
        # both runs say STARTED: nothing told Dagster that one of them died
        assert set(started) == {str(killed.pid), str(alive.pid)}

        marked = runner.fail_orphaned_runs(instance)

        assert marked == [started[str(killed.pid)]]
        dead_run = instance.get_run_by_id(started[str(killed.pid)])
        assert dead_run.status == dg.DagsterRunStatus.FAILURE
        failure = instance.get_records_for_run(
            dead_run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records[0]
        assert f"pid {killed.pid}" in failure.event_log_entry.dagster_event.message
        # the run of the live process is left alone
        assert instance.get_run_by_id(started[str(alive.pid)]).status == dg.DagsterRunStatus.STARTED
        assert runner.fail_orphaned_runs(instance) == []
    finally:
        for p in (killed, alive):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


def test_a_re_execution_from_the_ui_is_not_taken_for_a_killed_in_process_run(tmp_path):
    """A re-execution launched from the UI copies its parent's tags, the in-process build's pid
    included; it runs in the run launcher's process, so a dead pid says nothing about it."""

    @dg.op
    def step() -> None: ...

    @dg.job
    def job() -> None:
        step()

    dead = {runner.HOST_TAG: socket.gethostname(), runner.PID_TAG: "999999999", runner.PID_START_TAG: "0"}
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        parent = instance.create_run_for_job(job, status=dg.DagsterRunStatus.SUCCESS, tags=dead)
        again = instance.create_run_for_job(
            job,
            status=dg.DagsterRunStatus.STARTED,
            tags=dead,
            parent_run_id=parent.run_id,
            root_run_id=parent.run_id,
        )
        orphan = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED, tags=dead)
        assert runner.fail_orphaned_runs(instance) == [orphan.run_id]
        assert instance.get_run_by_id(again.run_id).status == dg.DagsterRunStatus.STARTED
