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

from cohort.projects.anonymous import restricted_release_id

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


# ---------------------------------------------------------------- releases list and project list


def _release_through_the_gate(lake: Path, project: str, release_id: str, signers: list[str]) -> None:
    """A real release of a small protected table: audited, signed off by ``signers``, released."""
    import polars as pl

    from cohort.privacy.disclosure import (
        DisclosureRules,
        TableSpec,
        audit,
        content_hash,
        protect,
        record_signoff,
        release,
        tabulate,
    )

    spec = TableSpec("staff_by_sex", ("sex",), population="staff at 2024-12-31")
    micro = pl.DataFrame({"sex": ["F"] * 40 + ["M"] * 35})
    protected = protect({spec.name: tabulate(micro, spec)}, {spec.name: spec}, DisclosureRules())
    report = audit(protected, {spec.name: spec}, DisclosureRules())
    assert report.passed, report.findings
    digest = content_hash(protected, {spec.name: spec})
    signoffs = [record_signoff(lake, project, release_id, who, digest) for who in signers]
    release(protected, report, project, release_id, lake, signoffs, specs={spec.name: spec})


def test_releases_list_shows_releases_and_their_signers_as_text(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cohort.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.delenv("COHORT_WAREHOUSE_DIR", raising=False)
    lake = tmp_path / "lake"
    project = "flemish_staff_origin"
    _release_through_the_gate(lake, project, "2024", ["B. Reviewer", "A. Checker"])
    _release_through_the_gate(lake, project, restricted_release_id("2024", "E1"), ["A. Checker"])
    assert (lake / "releases" / project / "_signoffs").is_dir()  # three sign-off files there

    result = CliRunner().invoke(main, ["releases", "list", "--data-dir", str(lake)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line.split() for line in lines[1:-1]]
    assert [row[:2] for row in rows] == [[project, "2024"], [project, "restricted/E1/2024"]], result.output
    assert "_signoffs" not in result.output and "[" not in result.output
    assert lines[1].endswith("  A. Checker, B. Reviewer") and lines[2].endswith("  A. Checker")
    # each release's own files (its tables with their reasons, its public report and summary, the
    # manifest); the entity's restricted sub-release sits apart, never in the public year folder
    release = lake / "releases" / project / "2024"

    def own_files(folder: Path) -> str:
        return str(sum(1 for p in folder.iterdir() if p.is_file()))

    assert not (release / "restricted").exists()
    restricted = lake / "releases" / project / "restricted" / "E1" / "2024"
    assert rows[0][2] == own_files(release) and rows[1][2] == own_files(restricted)
    assert lines[-1].startswith("2 releases in ")

    only = CliRunner().invoke(
        main, ["releases", "list", "--project", "measure_profiles", "--data-dir", str(lake)]
    )
    assert only.exit_code == 0 and only.output.startswith("No releases of measure_profiles"), only.output


def test_project_list_shows_what_is_built_of_anonymous_projects(tmp_path, monkeypatch):
    import polars as pl
    from click.testing import CliRunner

    from cohort.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.delenv("COHORT_WAREHOUSE_DIR", raising=False)
    lake = tmp_path / "lake"
    # a yearly anonymous project released for 2024 (its release tables sit in folders named by year)
    _release_through_the_gate(lake, "flemish_staff_origin", "2024", ["A. Checker"])
    _release_through_the_gate(
        lake, "flemish_staff_origin", restricted_release_id("2024", "E1"), ["A. Checker"]
    )  # not counted
    # a project without yearly partitions: one table covers its year (2015)
    profile = lake / "secure" / "measure_profiles" / "profile" / "data.parquet"
    profile.parent.mkdir(parents=True)
    pl.DataFrame({"measure": ["a"]}).write_parquet(profile)
    # a pseudonymised project's mapping alone is not a built year
    mapping = lake / "secure" / "labour_reserve" / "_mapping" / "data.parquet"
    mapping.parent.mkdir(parents=True)
    pl.DataFrame({"n": [1]}).write_parquet(mapping)
    # the results of a submitted analysis, released under the project that holds them (no assets of its own)
    _release_through_the_gate(lake, "labour_reserve_results", "study/2021", ["A. Checker"])

    result = CliRunner().invoke(main, ["project", "list", "--data-dir", str(lake)])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert "built years" in header and "releases" in header
    rows = {line.split()[0]: line.split() for line in lines}
    # columns: project, kind, years, assets, built years, releases, ...
    assert rows["flemish_staff_origin"][4:6] == ["2024", "1"], result.output
    assert rows["measure_profiles"][4:6] == ["2015", "-"], result.output
    assert rows["labour_reserve"][4:6] == ["-", "-"], result.output
    assert rows["labour_reserve_results"][3:6] == ["0", "analyses", "1"], result.output
