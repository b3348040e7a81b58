"""``dagster asset materialize --partition`` from the command line, as tests and scripts use it.

One representative partitioned asset per project that can be built on its own (its unpartitioned
upstream in the same call), its files checked on disk, and the refusal of a partition that does
not exist (exit code 1). Each call starts a code server (a few seconds): keep them few.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def cli_env(small_warehouse, tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    data = tmp_path_factory.mktemp("lake")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "COHORT_DATA_DIR": str(data),
        "COHORT_WAREHOUSE_DIR": str(small_warehouse),
        "COHORT_DEMO": "1",
    }
    for name in ("COHORT_KEY_DIR", "COHORT_KEY_LABOUR_RESERVE", "COHORT_KEY_LONGITUDINAL_COHORT"):
        env.pop(name, None)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return env, data


def materialize(env, select: str, partition: str | None = None) -> subprocess.CompletedProcess:
    cmd = [DAGSTER, "asset", "materialize", "-m", "cohort.definitions", "--select", select]
    if partition:
        cmd += ["--partition", partition]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _defined(project: str) -> bool:
    from cohort.definitions import PROJECTS

    return project in PROJECTS


@pytest.mark.skipif(not _defined("labour_reserve"), reason="labour reserve not in the code location")
def test_labour_reserve_situation_of_one_year(cli_env):
    env, data = cli_env
    done = materialize(env, "labour_reserve/person_mapping,labour_reserve/situation", "2021")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        data / "secure" / "labour_reserve" / "situation" / "year=2021" / "data.parquet"
    ).stat().st_size > 0
    assert not (data / "secure" / "labour_reserve" / "situation" / "year=2022").exists()
    assert "RUN_SUCCESS" in done.stderr


@pytest.mark.skipif(not _defined("longitudinal_cohort"), reason="cohort not in the code location")
def test_longitudinal_cohort_person_of_one_year(cli_env):
    env, data = cli_env
    # the cohort's yearly tables are one multi-asset that cannot be subset: select all of them, with
    # the unpartitioned sample and mapping they need (they run first in the same run)
    from cohort.definitions import defs
    from cohort.ops.catalogue import projects_of

    (cohort,) = [p for p in projects_of(defs) if p.id == "longitudinal_cohort"]
    # the year's own tables: not the T-1/T+1 tables (they need the neighbour years), report, dictionary
    skip = {k.path[-1] for k in cohort.next_tables} | {"report", "data_dictionary"}
    keys = [
        k.to_user_string()
        for k in cohort.keys
        if k.path[-1] not in skip
        and not k.path[-1].endswith("_prev")
        and not k.path[-1].startswith("mobility")
    ]
    done = materialize(env, ",".join(keys), "2006")
    assert done.returncode == 0, done.stderr[-3000:]
    assert any((data / "exports" / "longitudinal_cohort" / "person" / "year=2006").glob("*.parquet"))


@pytest.mark.skipif(not _defined("flemish_staff_origin"), reason="staff origin not in the code location")
def test_anonymous_delivery_population_frame_of_one_year(cli_env):
    env, data = cli_env
    done = materialize(env, "flemish_staff_origin/staff", "2024")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        data / "secure" / "flemish_staff_origin" / "staff" / "year=2024" / "data.parquet"
    ).stat().st_size > 0


def test_a_partition_that_does_not_exist_fails_with_exit_code_1(cli_env):
    env, data = cli_env
    done = materialize(env, "labour_reserve/situation", "2031")
    assert done.returncode == 1
    assert "2031" in done.stderr
    assert not (data / "secure" / "labour_reserve" / "situation" / "year=2031").exists()
