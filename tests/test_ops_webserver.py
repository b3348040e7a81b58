"""End to end as a user works: ``dagster dev`` (webserver + daemon) on a loopback port, a partitioned
backfill launched through the GraphQL API as the UI does, the runs executed by the daemon with the
multi-process executor under the concurrency limits of the repository's ``dagster.yaml``, the
materialisations read back through GraphQL and the files checked on the shared lake.

This is also the local test of "years as separate processes on a shared lake": the two years of
the backfill are two runs (two processes, each step in its own process) writing into one lake.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import requests

from cohort.ops import devserver, runner

pytestmark = pytest.mark.server

PROJECT = "labour_reserve"
YEARS = ["2021", "2022"]
BACKFILLED = [[PROJECT, "situation"], [PROJECT, "population_absence"]]


def _defined() -> bool:
    from cohort.definitions import PROJECTS

    return PROJECT in PROJECTS


@pytest.mark.skipif(not _defined(), reason="labour reserve not in the code location")
@pytest.mark.skipif(
    "libfaketime" in os.environ.get("LD_PRELOAD", ""),
    # libfaketime shifts CLOCK_MONOTONIC too, so a timed threading.Event.wait never returns
    # (`faketime 2027-01-02 python3 -c "import threading; threading.Event().wait(1)"` hangs), and
    # the Dagster daemon that runs backfills waits that way: it cannot run under faketime.
    reason="the Dagster daemon's timed waits never return under libfaketime",
)
def test_backfill_of_two_years_through_graphql(small_warehouse, tmp_path, monkeypatch):
    home, data = tmp_path / "dagster_home", tmp_path / "lake"
    # the repository's instance settings (run concurrency, pools), storage under the tmp home
    runner.ensure_instance_home(home, devserver.REPO_ROOT / "dagster.yaml")
    env = {"COHORT_WAREHOUSE_DIR": str(small_warehouse)}

    # the unpartitioned upstream (the pseudonym mapping) first, in process, into the same instance
    for name, value in {
        **env,
        "DAGSTER_HOME": str(home),
        "COHORT_DATA_DIR": str(data),
        "COHORT_DEMO": "1",
    }.items():
        monkeypatch.setenv(name, value)
    from cohort.projects.labour_reserve.assets import person_mapping
    from cohort.resources import LakeResource

    with dg.DagsterInstance.get() as instance:
        assert dg.materialize([person_mapping], instance=instance, resources={"lake": LakeResource()}).success

    with devserver.dagster_dev(home, data, extra_env=env) as server:
        backfill_id = server.launch_backfill(BACKFILLED, YEARS, title="test: two years")
        status = server.wait_backfill(backfill_id, timeout=150)
        assert status["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, (status, server.tail())
        runs = status["runs"]
        assert len(runs) == 2 and all(r["status"] == "SUCCESS" for r in runs), runs  # one run per year
        for key in BACKFILLED:
            found = server.materialisations(key, YEARS)
            assert sorted(m["partition"] for m in found) == YEARS
            assert len({m["runId"] for m in found}) == 2
        labels = {
            e["label"]
            for m in server.materialisations([PROJECT, "situation"], YEARS)
            for e in m["metadataEntries"]
        }
        assert "rows" in labels

    # the files of both years, written by two processes into the shared lake
    for year in YEARS:
        path = data / "secure" / PROJECT / "situation" / f"year={year}" / "data.parquet"
        frame = pl.read_parquet(path)
        assert frame.height > 0 and set(frame["year"].unique().to_list()) == {int(year)}
    assert not (data / "secure" / PROJECT / "situation" / "year=2023").exists()
    # runs and event logs in SQLite under the instance's home
    assert (home / "history" / "runs.db").exists()
    assert os.environ["DAGSTER_HOME"] == str(home)


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc: no extra dependency)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """True for a process that still runs (a zombie waiting for its parent to reap it is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_cohort_dev_runs_without_the_venv_on_path_and_stops_on_sigterm(small_warehouse, tmp_path):
    lake, port = tmp_path / "lake", devserver.free_port()
    lake.mkdir()
    (lake / "warehouse").symlink_to(small_warehouse, target_is_directory=True)  # the synthetic one
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"COHORT_DEMO", "COHORT_WAREHOUSE_DIR", "DAGSTER_HOME", "VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(PATH="/usr/bin:/bin", DAGSTER_DISABLE_TELEMETRY="1")  # no venv bin/ on PATH
    log = tmp_path / "cohort_dev.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "cohort"), "dev", "--data-dir", str(lake), "-p", str(port)],
            cwd=devserver.REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: the test can clean up whatever happens
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"cohort dev exited with {process.returncode}:\n{log.read_text()}"
            try:
                if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"no answer on port {port} after 90 s:\n{log.read_text()}"
            time.sleep(0.5)
        first_line = log.read_text().splitlines()[0]
        assert first_line.startswith(f"Demo lake {lake}") and "demo mode on" in first_line
        started = _descendants(process.pid)
        assert len(started) >= 3  # dagster dev, its webserver and daemon at least

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()

        deadline = time.monotonic() + 10  # reparented children may take a moment to be reaped
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in started if _alive(p)], log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
