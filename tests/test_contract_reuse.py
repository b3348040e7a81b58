"""The contract check of a warehouse table is not redone while it still holds (same files, rules,
reference day and births): the check assets show the last check again instead of reading every
row to find the same rows (cohort.sources.checks.last_check_if_valid)."""

import os
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from cohort import storage
from cohort.resources import LakeResource
from cohort.sources import checks
from cohort.sources.defs import source_assets, source_key


@pytest.fixture
def warehouse(small_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the small warehouse (hard links: a changed file is written anew, so the shared
    original stays intact), with one job whose wage breaks the contract's range rule."""
    out = tmp_path / "warehouse"
    shutil.copytree(small_warehouse, out, copy_function=os.link)
    path = storage.partition_file(out, "job_quarter", 2021)
    first_row = pl.int_range(pl.len()) == 0
    frame = pl.read_parquet(path)
    storage.write_frame(
        frame.with_columns(pl.when(first_row).then(-1.0).otherwise(pl.col("gross_wage")).alias("gross_wage")),
        path,
    )
    return out


def test_a_check_that_still_holds_is_returned_and_a_changed_file_voids_it(warehouse, tmp_path):
    quarantine = tmp_path / "quarantine"
    assert checks.last_check_if_valid(warehouse, "job_quarter", quarantine, 1.0) is None  # never checked
    checked = checks.load_source(None, warehouse, "job_quarter", 1.0, quarantine)
    assert checked.counts == {"range:gross_wage": 1} and not checked.reused

    reused = checks.last_check_if_valid(warehouse, "job_quarter", quarantine, 1.0)
    assert reused is not None and reused.reused and reused.files == 0
    assert (reused.rows, reused.rejected, reused.counts, reused.rule_counts) == (
        checked.rows,
        checked.rejected,
        checked.counts,
        checked.rule_counts,
    )
    assert reused.metadata()["reused_check"] is True
    assert reused.metadata()["rejected/range:gross_wage"] == 1
    # a project that tolerates no bad row does not get it: load_source refuses the table, with its reason
    assert checks.last_check_if_valid(warehouse, "job_quarter", quarantine, 0.0) is None

    # a check under other rules (another reference day) does not hold
    other_day = checks.default_as_of().replace(year=1999)
    assert checks.last_check_if_valid(warehouse, "job_quarter", quarantine, 1.0, as_of=other_day) is None
    # births decide a rule of job_quarter: a rewritten person file voids the check
    person = storage.partition_file(warehouse, "person", None)
    storage.write_frame(pl.read_parquet(person), person)
    assert checks.last_check_if_valid(warehouse, "job_quarter", quarantine, 1.0) is None


def test_the_check_asset_shows_a_check_that_still_holds_without_redoing_it(warehouse, tmp_path):
    lake = LakeResource(data_dir=str(tmp_path / "lake"), warehouse_dir=str(warehouse))
    asset = next(a for a in source_assets if source_key("job_quarter") in a.keys)
    quarantine = lake.paths().quarantine / "job_quarter"

    def materialise() -> dict:
        result = dg.materialize([asset], resources={"lake": lake}, instance=dg.DagsterInstance.ephemeral())
        event = result.asset_materializations_for_node(asset.node_def.name)[0]
        return {k: getattr(v, "value", v) for k, v in event.metadata.items()}

    first = materialise()
    written = (quarantine / "data.parquet").stat().st_mtime_ns
    second = materialise()
    assert "reused_check" not in first and second["reused_check"] is True
    assert second["rejected/range:gross_wage"] == first["rejected/range:gross_wage"] == 1
    assert second["source_rows"] == first["source_rows"]
    assert (quarantine / "data.parquet").stat().st_mtime_ns == written  # nothing written again


def test_a_project_step_checks_again_when_the_births_its_rules_read_changed(warehouse, tmp_path):
    """ensure_checked (what open_warehouse runs for a project step) reuses a check that still
    holds, and checks again once the person files its before_birth rule reads changed."""
    quarantine = tmp_path / "quarantine"
    con = storage.connect()
    try:
        first = checks.ensure_checked(con, warehouse, ["job_quarter"], 1.0, quarantine)["job_quarter"]
        again = checks.ensure_checked(con, warehouse, ["job_quarter"], 1.0, quarantine)["job_quarter"]
        assert "reused_check" not in first and again["reused_check"] is True
        assert again["rejected/range:gross_wage"] == first["rejected/range:gross_wage"] == 1
        person = storage.partition_file(warehouse, "person", None)
        storage.write_frame(pl.read_parquet(person), person)
        after = checks.ensure_checked(con, warehouse, ["job_quarter"], 1.0, quarantine)["job_quarter"]
        assert "reused_check" not in after and after["source_rows"] == first["source_rows"]
        accepted = con.execute("SELECT count(*) FROM job_quarter").fetchone()
        assert accepted is not None and accepted[0] == first["accepted_rows"]
    finally:
        con.close()
