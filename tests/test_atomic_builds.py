"""Nothing invalid is left in place, through the projects' real definitions: a situation year that
breaks a blocking rule fails its step and leaves no file (the previous version stays), a cohort
year refused half-way leaves its exports as they were, and a one-year build of a project with
T+1/T-1 tables on a clean lake builds the neighbour situations it needs (real command line)."""

import re
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from click.testing import CliRunner
from hand_cohort import KEY_HEX
from hand_labour_warehouse import build_hand_warehouse

from cohort import storage
from cohort.cli import main
from cohort.privacy import pseudonym
from cohort.projects.labour_reserve import assets as lr
from cohort.projects.labour_reserve import schemas
from cohort.projects.longitudinal_cohort import build as cohort_build
from cohort.resources import LakeResource


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) if folder.exists() else []


def _step_errors(result: dg.ExecuteInProcessResult) -> str:
    """The messages of every failed step, with the errors that caused them (Dagster wraps them)."""
    messages = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.event_specific_data.error  # type: ignore[union-attr]
        while error is not None:
            messages.append(error.message)
            error = error.cause
    return " ".join(messages)


def test_a_situation_year_with_a_duplicate_key_is_refused_before_it_is_renamed(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COHORT_DEMO", "1")
    monkeypatch.delenv("COHORT_KEY_LABOUR_RESERVE", raising=False)
    monkeypatch.delenv("COHORT_KEY_DIR", raising=False)
    build_hand_warehouse(tmp_path / "warehouse")
    lake = LakeResource(data_dir=str(tmp_path))
    secure = tmp_path / "secure" / "labour_reserve"
    with dg.instance_for_test() as instance:

        def run(keys: list[dg.AssetKey], partition: str | None = None) -> dg.ExecuteInProcessResult:
            return dg.materialize(
                lr.ASSETS,
                selection=keys,
                partition_key=partition,
                resources={"lake": lake},
                instance=instance,
                raise_on_error=False,
            )

        assert run([lr.person_mapping.key]).success
        assert run([lr.situation.key], "2021").success
        valid = storage.partition_file(secure, "situation", 2021)
        before = (valid.read_bytes(), valid.stat().st_ino)
        # a damaged mapping gives two persons of 2021 the same pseudonym: a duplicate key
        ids = pl.read_parquet(valid)["person_id"].sort().to_list()
        mapping = pseudonym.mapping_file(secure, "person")
        damaged = pl.read_parquet(mapping).with_columns(
            seq=pl.when(pl.col("seq") == ids[1]).then(ids[0]).otherwise(pl.col("seq"))
        )
        damaged.write_parquet(mapping)

        refused = run([lr.situation.key], "2021")
        assert not refused.success
        assert "labour_reserve situation 2021 refused" in _step_errors(refused)
        assert re.search(r"person_id/duplicate: [1-9]", _step_errors(refused))
        assert (valid.read_bytes(), valid.stat().st_ino) == before  # the previous version stays
        assert _leftovers(valid.parent) == []

        # an unknown position code is refused by the same rules, before the rename
        unknown_code = pl.read_parquet(valid).with_columns(
            sep_code=pl.when(pl.col("person_id") == ids[0]).then(pl.lit("999")).otherwise(pl.col("sep_code"))
        )
        with pytest.raises(storage.PartitionRejected, match="sql/sep_code/outside_list: 1"):
            storage.write_frame(
                unknown_code, valid, validate=schemas.rejecting(lr.SPEC, "situation", 2021, {})
            )
        assert (valid.read_bytes(), valid.stat().st_ino) == before

        first = run([lr.situation.key], "2022")  # a year never built before
        assert not first.success and "person_id/duplicate" in _step_errors(first)
        assert not (secure / "situation" / "year=2022").exists()
        assert _leftovers(secure / "situation") == []
        assert instance.get_materialized_partitions(lr.situation.key) == {"2021"}


def test_a_cohort_year_refused_half_way_leaves_its_exports_as_they_were(cohort, monkeypatch) -> None:  # noqa: F811
    """``position`` (third table of the year) breaks its schema: ``person`` and ``household``,
    already written by the step, are put back as they were (2008, built before) or removed (2009,
    never built), so a failed year never mixes two builds nor leaves half of one."""
    monkeypatch.setenv("COHORT_KEY_LONGITUDINAL_COHORT", KEY_HEX)
    spec, lake = cohort.spec, cohort.lake
    original = (cohort_build.SQL_DIR / "position.sql").read_text()
    wrong_year = original.replace(
        "select * from final order by all",
        "select * replace (cast(year + 1 as smallint) as year) from final order by all",
    )
    assert wrong_year != original
    tables = [*cohort_build.yearly_tables(spec), "situation"]

    def files(year: int) -> dict[str, Path]:
        out = {t: cohort_build.export_file(lake, spec, t, year) for t in tables}
        out["situation"] = storage.partition_file(cohort_build.secure_dir(lake, spec), "situation", year)
        return out

    before = {t: (p.stat().st_ino, p.read_bytes()) for t, p in files(2008).items()}
    with pytest.raises(storage.PartitionRejected, match="longitudinal_cohort position 2008 refused"):
        cohort_build.run(lake, spec, cohort_build.build_exports, 2008, sql_overrides={"position": wrong_year})
    assert {t: (p.stat().st_ino, p.read_bytes()) for t, p in files(2008).items()} == before
    assert all(_leftovers(p.parent) == [] for p in files(2008).values())

    with pytest.raises(storage.PartitionRejected, match="position 2009"):
        cohort_build.run(lake, spec, cohort_build.build_exports, 2009, sql_overrides={"position": wrong_year})
    assert [t for t, p in files(2009).items() if p.parent.exists()] == []


@pytest.fixture
def clean_lake(tmp_path, monkeypatch, small_warehouse) -> Path:
    monkeypatch.setenv("COHORT_DEMO", "1")
    monkeypatch.setenv("COHORT_WAREHOUSE_DIR", str(small_warehouse))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "lake"))  # the command sets it: restore it after
    for name in ("COHORT_KEY_DIR", "COHORT_KEY_LABOUR_RESERVE", "COHORT_KEY_LONGITUDINAL_COHORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "lake"


def _built_years(folder: Path) -> set[int]:
    return {int(p.parent.name.split("=")[1]) for p in folder.glob("year=*/data.parquet")}


def test_one_year_of_the_cohort_on_a_clean_lake_builds_its_t_plus_1_situation(clean_lake) -> None:
    out = CliRunner().invoke(
        main, ["project", "build", "longitudinal_cohort", "--years", "2005", "--data-dir", str(clean_lake)]
    )
    assert out.exit_code == 0, out.output
    secure = clean_lake / "secure" / "longitudinal_cohort"
    exports = clean_lake / "exports" / "longitudinal_cohort"
    assert _built_years(secure / "situation") == {2005, 2006}  # the neighbour T+1 needs
    assert _built_years(secure / "situation_next") == {2005}  # not the neighbour's own T±1 tables
    assert _built_years(exports / "mobility_next") == {2005}
    assert _built_years(exports / "mobility_prev") == {2005}
    next_2005 = pl.read_parquet(storage.partition_file(secure, "situation_next", 2005))
    assert set(next_2005["next_status"]) <= {"observed", "not_in_population"}  # 2006 was seen
    assert "observed" in set(next_2005["next_status"])


def test_one_year_of_the_labour_reserve_on_a_clean_lake_builds_both_neighbours(clean_lake) -> None:
    out = CliRunner().invoke(
        main, ["project", "build", "labour_reserve", "--years", "2021", "--data-dir", str(clean_lake)]
    )
    assert out.exit_code == 0, out.output
    secure = clean_lake / "secure" / "labour_reserve"
    assert _built_years(secure / "situation") == {2020, 2021, 2022}
    for direction in ("next", "prev"):
        table = pl.read_parquet(storage.partition_file(secure, f"mobility_{direction}", 2021))
        assert "observed" in set(table[f"{direction}_status"])
        assert "not_yet_observed" not in set(table[f"{direction}_status"])
        export = clean_lake / "exports" / "labour_reserve" / "phase1" / f"mobility_{direction}"
        assert _built_years(export) == {2021}
