"""End to end as a user works: ``dagster dev`` (webserver + daemon) on a loopback port, a partitioned
backfill launched through the GraphQL API as the UI does, the runs executed by the daemon with the
multi-process executor under the concurrency limits of the repository's ``dagster.yaml``, the
materialisations read back through GraphQL and the files checked on the shared lake.

This is also the local test of "years as separate processes on a shared lake": the two years of
the backfill are two runs (two processes, each step in its own process) writing into one lake.
"""

import os

import dagster as dg
import polars as pl
import pytest

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
