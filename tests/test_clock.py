"""The one clock (cohort.clock) and the retention decisions that read it.

The suite runs with COHORT_TODAY fixed inside every retention (conftest.py); these tests move
the clock past the dates and show the refusal, the purge, the demo's waiver and the UI's
metadata.
"""

import json
import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run_cohort

from cohort import clock, settings
from cohort.ops.cli import purge
from cohort.privacy import audit_log, retention
from cohort.projects.spec import load_spec
from cohort.sources import checks

COHORT_RETENTION = load_spec("longitudinal_cohort").retention_date
LABOUR_RETENTION = load_spec("labour_reserve").retention_date


def test_the_suite_stands_inside_every_retention():
    from conftest import SUITE_TODAY

    assert clock.today() == date.fromisoformat(SUITE_TODAY)
    for project in ("longitudinal_cohort", "labour_reserve", "flemish_staff_origin", "measure_profiles"):
        assert clock.days_left(load_spec(project).retention_date) >= 0, project


def test_cohort_today_fixes_the_date_and_refuses_nonsense(monkeypatch):
    monkeypatch.setenv(clock.ENV, "2027-01-02")
    assert clock.today() == date(2027, 1, 2)
    assert clock.now().date() == date(2027, 1, 2) and clock.now().tzinfo is not None
    for bad in ("2027-13-01", "tomorrow", "02/01/2027", "2027-1-2x"):
        monkeypatch.setenv(clock.ENV, bad)
        with pytest.raises(clock.InvalidClockSetting, match=f"COHORT_TODAY={bad!r} is not a date"):
            clock.today()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (clock.ENV, "2027-02-30", "COHORT_TODAY='2027-02-30' is not a date"),
        ("COHORT_DEMO", "maybe", "COHORT_DEMO"),
        ("COHORT_DUCKDB_MEMORY", "lots", "COHORT_DUCKDB_MEMORY"),
    ],
)
def test_the_command_line_refuses_a_bad_setting_in_one_line(monkeypatch, variable, value, message):
    from cohort.cli import main

    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["project", "list"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_days_left_counts_to_the_last_day():
    assert clock.days_left(date(2026, 12, 31), on=date(2026, 12, 31)) == 0
    assert clock.days_left(date(2026, 12, 31), on=date(2026, 12, 1)) == 30
    assert clock.days_left(date(2026, 12, 31), on=date(2027, 1, 2)) == -2


def test_retention_after_the_date_refuses_with_an_audit_entry(tmp_path, monkeypatch):
    lake = settings.lake(tmp_path / "lake", tmp_path / "extract")
    monkeypatch.setenv(clock.ENV, COHORT_RETENTION.isoformat())  # the last day still builds
    retention.refuse_if_expired(lake, "longitudinal_cohort", COHORT_RETENTION)
    monkeypatch.setenv(clock.ENV, "2027-01-02")
    with pytest.raises(retention.RetentionExpired, match="retention date 2026-12-31 has passed"):
        retention.refuse_if_expired(lake, "longitudinal_cohort", COHORT_RETENTION, what="export person")
    # the labour reserve still runs in 2027, and stops in 2033
    retention.refuse_if_expired(lake, "labour_reserve", LABOUR_RETENTION)
    monkeypatch.setenv(clock.ENV, "2033-01-02")
    with pytest.raises(retention.RetentionExpired, match="retention date 2032-12-31 has passed"):
        retention.refuse_if_expired(lake, "labour_reserve", LABOUR_RETENTION)
    entries = audit_log.read_entries(lake)
    assert [e["detail"]["rule"] for e in entries] == ["retention_expired", "retention_expired"]
    assert entries[0]["time"].startswith("2027-01-02") and entries[1]["time"].startswith("2033-01-02")


def _synthetic_warehouse(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "_manifest.json").write_text(json.dumps({"generator_version": "demography-3"}))
    return path


@pytest.mark.parametrize(
    ("demo", "synthetic", "waived"),
    [("1", True, True), ("1", False, False), ("0", True, False), ("", True, False)],
)
def test_only_the_demo_on_a_synthetic_warehouse_builds_past_the_date(
    tmp_path, monkeypatch, demo, synthetic, waived
):
    extract = _synthetic_warehouse(tmp_path / "wh") if synthetic else tmp_path / "real"
    lake = settings.lake(tmp_path / "lake", extract)
    monkeypatch.setenv("COHORT_DEMO", demo)
    monkeypatch.setenv(clock.ENV, "2027-01-02")
    if waived:
        retention.refuse_if_expired(lake, "longitudinal_cohort", COHORT_RETENTION)
        assert not audit_log.audit_path(lake).exists()
    else:
        with pytest.raises(retention.RetentionExpired):
            retention.refuse_if_expired(lake, "longitudinal_cohort", COHORT_RETENTION)


def test_the_demo_line_for_an_expired_project():
    assert retention.expired_note("longitudinal_cohort", COHORT_RETENTION, date(2026, 12, 31)) is None
    note = retention.expired_note("longitudinal_cohort", COHORT_RETENTION, date(2027, 1, 2))
    assert note is not None and "2026-12-31 passed 2 day(s) ago" in note and "refused" in note


def test_purge_follows_the_clock(tmp_path, monkeypatch):
    lake = settings.lake(tmp_path / "lake")
    (lake.secure / "longitudinal_cohort").mkdir(parents=True)
    (lake.secure / "longitudinal_cohort" / "x.parquet").write_bytes(b"x")
    args = ["longitudinal_cohort", "--data-dir", str(lake.root)]
    refused = CliRunner().invoke(purge, args)
    assert refused.exit_code == 1 and "retention runs until 2026-12-31" in refused.output
    monkeypatch.setenv(clock.ENV, "2027-01-02")
    done = CliRunner().invoke(purge, args)
    assert done.exit_code == 0 and not (lake.secure / "longitudinal_cohort").exists()


def test_the_ui_metadata_carries_the_retention_date_and_days_left():
    import dagster as dg

    from cohort.definitions import defs

    graph = defs.resolve_asset_graph()
    meta = graph.get(dg.AssetKey(["longitudinal_cohort", "person"])).metadata
    assert meta["retention_date"] == "2026-12-31"
    assert meta["retention_days_left"] == clock.days_left(COHORT_RETENTION)
    assert "retention_date" not in graph.get(dg.AssetKey(["warehouse_calibration"])).metadata


@pytest.mark.cli
def test_project_list_prints_retention_and_an_expired_build_refuses(small_warehouse, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    env |= {"COHORT_TODAY": "2027-01-02", "COHORT_WAREHOUSE_DIR": str(small_warehouse)}
    env |= {"COHORT_DATA_DIR": str(tmp_path / "lake"), "COHORT_KEY_LONGITUDINAL_COHORT": "ab" * 32}
    (tmp_path / "lake").mkdir()
    listed = run_cohort(["project", "list"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "2026-12-31" in rows["longitudinal_cohort"] and "expired" in rows["longitudinal_cohort"]
    assert (
        "2032-12-31" in rows["labour_reserve"]
        and f"{(date(2032, 12, 31) - date(2027, 1, 2)).days}" in (rows["labour_reserve"])
    )
    built = run_cohort(["project", "build", "longitudinal_cohort", "--years", "2005"], env, tmp_path)
    assert built.returncode != 0
    output = built.stdout + built.stderr
    assert "retention date 2026-12-31 has passed" in output
    assert "Traceback" not in output and "Stack Trace" not in output
    assert "runs for" not in output  # refused before any run was planned
    assert not (tmp_path / "lake" / "exports" / "longitudinal_cohort").exists()


def test_a_year_the_warehouse_has_not_published_is_not_planned(small_warehouse, tmp_path, monkeypatch):
    """From 1 January 2027 the labour reserve's situation 2027 is a partition; the warehouse has
    no 2027 yet, so the plan leaves it out instead of failing the demo on it."""
    import dagster as dg

    from cohort.definitions import defs
    from cohort.ops import runner

    monkeypatch.setenv("COHORT_WAREHOUSE_DIR", str(small_warehouse))
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "lake"))
    materialiser = runner.Materialiser(defs, dg.DagsterInstance.ephemeral())
    project = materialiser.project("labour_reserve")
    every = runner.plan_project(project, materialiser.graph)
    planned = materialiser.plan(project)
    last = max(checks.warehouse_years(small_warehouse))
    assert last == 2026
    assert {r.year for r in planned if r.year is not None} == {
        r.year for r in every if r.year is not None and r.year <= last
    }
    assert runner.published(
        [
            runner.PlannedRun("p", (), 2027, 0),
            runner.PlannedRun("p", (), 2026, 0),
            runner.PlannedRun("p", (), None, 0),
        ],
        [2025, 2026],
    ) == [runner.PlannedRun("p", (), 2026, 0), runner.PlannedRun("p", (), None, 0)]


def test_the_demo_runs_projects_side_by_side(small_warehouse, tmp_path, monkeypatch):
    """Every project depends on the contract-checked warehouse tables; that edge must not put all
    projects into one worker's chain (only a project that reads another's tables joins it)."""
    import dagster as dg

    from cohort.definitions import defs
    from cohort.ops import runner
    from cohort.ops.commands import project_chains

    monkeypatch.setenv("COHORT_WAREHOUSE_DIR", str(small_warehouse))
    materialiser = runner.Materialiser(defs, dg.DagsterInstance.ephemeral())
    sources = tuple(k for k in materialiser.graph.get_all_asset_keys() if k.path[0] == "warehouse")
    runs = [runner.PlannedRun("warehouse", sources, None, 0)]
    runs += [r for p in materialiser.projects() for r in materialiser.plan(p)]
    chains = [sorted({r.project for r in chain}) for chain in project_chains(runs, materialiser.graph)]
    assert ["labour_reserve"] in chains
    assert ["warehouse"] in chains and ["longitudinal_cohort"] in chains and len(chains) == 6
