"""The generic mobility builder (cohort/projects/mobility.py) on hand-made situation tables
whose answer is known: every carried value equals the person's value in the calendar neighbour,
markers say why a value is missing, and the Dagster assets declare the T-1..T+1 dependency."""

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from cohort import storage
from cohort.projects import mobility as mob
from cohort.resources import LakeResource

PROJECT = "mob_test"
SPEC = mob.MobilitySpec(
    project=PROJECT,
    carried=("sep", "province"),
    reasons_table="absence",
    flags_next={"died_next": "died"},
)

# person_id -> (sep, province) per year; persons 1-3 stay, 4 dies in 2020, 5 emigrates in 2020,
# 6 turns too old in 2020, 7 arrives in 2020 aged in, 8 immigrates in 2020, 9 leaves without reason.
SITUATION = {
    2019: {
        1: ("111", "10000"),
        2: ("211", "20001"),
        3: ("34", "21000"),
        4: ("111", "10000"),
        5: ("121", "30000"),
        6: ("34", "40000"),
        9: ("32", "50000"),
    },
    2020: {
        1: ("112", "10000"),
        2: ("111", "20001"),
        3: ("34", "30000"),
        7: ("36", "70000"),
        8: ("214", "21000"),
    },
    2021: {1: ("112", "40000"), 2: ("111", "20001"), 7: ("211", "70000"), 8: ("111", "21000")},
}
ABSENCE = {  # year -> person -> reason for not being in that year's population
    2019: {7: "below_age", 8: "abroad"},
    2020: {4: "died", 5: "abroad", 6: "above_age"},
    2021: {3: "died"},
}


def _write_lake(root: Path, years=(2019, 2020, 2021)) -> Path:
    secure = root / "secure" / PROJECT
    for y in years:
        rows = SITUATION[y]
        df = pl.DataFrame(
            {
                "person_id": list(rows),
                "year": [y] * len(rows),
                "sep": [v[0] for v in rows.values()],
                "province": [v[1] for v in rows.values()],
                "age": [30 + i for i in range(len(rows))],
            },
            schema={
                "person_id": pl.Int64,
                "year": pl.Int16,
                "sep": pl.String,
                "province": pl.String,
                "age": pl.Int16,
            },
        )
        storage.write_frame(df, storage.partition_file(secure, "situation", y))
        ab = ABSENCE.get(y, {})
        storage.write_frame(
            pl.DataFrame(
                {"person_id": list(ab), "reason": list(ab.values())},
                schema={"person_id": pl.Int64, "reason": pl.String},
            ),
            storage.partition_file(secure, "absence", y),
        )
    return secure


def _read(path: Path) -> dict[int, dict]:
    return {r["person_id"]: r for r in pl.read_parquet(path).to_dicts()}


def test_next_values_equal_neighbour_and_markers(tmp_path):
    secure = _write_lake(tmp_path)
    con = duckdb.connect()
    info = mob.build_mobility(con, SPEC, secure, 2019, "next")
    got = _read(info["path"])
    assert set(got) == set(SITUATION[2019])
    for pid, row in got.items():
        if pid in SITUATION[2020]:
            assert row["next_status"] == "observed"
            assert (row["sep_next"], row["province_next"]) == SITUATION[2020][pid]
            assert row["died_next"] is False
        else:
            assert row["sep_next"] is None and row["province_next"] is None
        # year-T columns are untouched
        assert (row["sep"], row["province"]) == SITUATION[2019][pid]
    assert got[4]["next_status"] == "died" and got[4]["died_next"] is True
    assert got[5]["next_status"] == "emigrated" and got[5]["died_next"] is False
    assert got[6]["next_status"] == "aged_out"
    assert got[9]["next_status"] == "not_in_population"
    assert info["markers"] == {
        "aged_out": 1,
        "died": 1,
        "emigrated": 1,
        "not_in_population": 1,
        "observed": 3,
    }
    assert all(v == 0 for v in mob.check_mobility(con, SPEC, secure, 2019, "next").values())


def test_prev_values_and_entry_markers(tmp_path):
    secure = _write_lake(tmp_path)
    con = duckdb.connect()
    info = mob.build_mobility(con, SPEC, secure, 2020, "prev")
    got = _read(info["path"])
    for pid in (1, 2, 3):
        assert got[pid]["prev_status"] == "observed"
        assert (got[pid]["sep_prev"], got[pid]["province_prev"]) == SITUATION[2019][pid]
    assert got[7]["prev_status"] == "aged_in"
    assert got[8]["prev_status"] == "immigrated"
    assert got[8]["sep_prev"] is None
    # prev has no death flag (flags_prev is empty) and the year-T table has no death column
    assert "died_next" not in got[1] and "died_prev" not in got[1]
    assert "died" not in pl.read_parquet(mob.situation_file(secure, SPEC, 2020)).columns


def test_missing_neighbour_is_not_yet_observed(tmp_path):
    secure = _write_lake(tmp_path)
    con = duckdb.connect()
    info = mob.build_mobility(con, SPEC, secure, 2021, "next")
    df = pl.read_parquet(info["path"])
    assert not info["neighbour_found"] and info["neighbour_year"] == 2022
    assert df["next_status"].unique().to_list() == ["not_yet_observed"]
    assert df["sep_next"].null_count() == df.height
    assert df["died_next"].null_count() == df.height
    # carried columns keep the year-T dtype even when all null
    assert df.schema["sep_next"] == pl.String
    prev = mob.build_mobility(con, SPEC, secure, 2019, "prev")
    assert pl.read_parquet(prev["path"])["prev_status"].unique().to_list() == ["not_yet_observed"]


def test_neighbour_appearing_changes_the_table(tmp_path):
    """Year 2020 built before 2021 exists says not_yet_observed; after 2021 arrives, a rebuild observes it."""
    secure = _write_lake(tmp_path, years=(2019, 2020))
    con = duckdb.connect()
    first = mob.build_mobility(con, SPEC, secure, 2020, "next")
    assert first["markers"] == {"not_yet_observed": len(SITUATION[2020])}
    _write_lake(tmp_path, years=(2021,))
    second = mob.build_mobility(con, SPEC, secure, 2020, "next")
    assert second["markers"]["observed"] == 4 and second["markers"]["died"] == 1


def test_unauthorised_column_is_refused_before_writing(tmp_path):
    secure = _write_lake(tmp_path)
    con = duckdb.connect()

    def refuse(cols):
        if "age" in cols:
            raise PermissionError("age not authorised")

    with pytest.raises(PermissionError):
        mob.build_mobility(con, SPEC, secure, 2019, "next", authorised=refuse)
    assert not storage.partition_file(secure, "mobility_next", 2019).exists()


def test_checks_catch_a_corrupted_table(tmp_path):
    secure = _write_lake(tmp_path)
    con = duckdb.connect()
    info = mob.build_mobility(con, SPEC, secure, 2019, "next")
    df = pl.read_parquet(info["path"]).with_columns(
        pl.when(pl.col("person_id") == 9).then(pl.lit("111")).otherwise(pl.col("sep_next")).alias("sep_next")
    )
    storage.write_frame(pl.concat([df, df.head(1)]), info["path"])
    v = mob.check_mobility(con, SPEC, secure, 2019, "next")
    assert v["carried_not_null"] == 1 and v["duplicate_keys"] == 1 and v["row_count_differs"] == 1


def test_spec_section_is_read_and_validated():
    from cohort.projects.spec import parse_spec

    raw = {
        "id": "p",
        "years": {"first": 2020, "last": 2021},
        "retention_date": "2030-12-31",
        "variables": [],
        "tables": [],
        "mobility": {"carried": ["sep"], "key": "pid", "flags_next": {"died_next": "died"}},
    }
    m = mob.MobilitySpec.from_project(parse_spec(raw))
    assert (
        m.carried == ("sep",)
        and m.key == "pid"
        and m.added_columns("next") == ["next_status", "sep_next", "died_next"]
    )
    spec = parse_spec(raw)
    assets = mob.mobility_assets(spec, dg.AssetKey(["p", "situation"]), PARTS_MOB)
    assert [a.key for a in assets] == [
        dg.AssetKey(["p", "mobility_next"]),
        dg.AssetKey(["p", "mobility_prev"]),
    ]
    raw["mobility"]["flags_prev"] = {"died_prev": "died"}
    with pytest.raises(mob.MobilityError, match="flags_prev"):
        mob.MobilitySpec.from_project(parse_spec(raw))


# ----------------------------------------------------------------------------- Dagster factory

PARTS_SIT = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start="2019", end="2022")
PARTS_MOB = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", fmt="%Y", start="2020", end="2022")


@dg.asset(key=[PROJECT, "situation"], partitions_def=PARTS_SIT)
def _situation(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    _write_lake(lake.paths().root, years=(int(context.partition_key),))
    return dg.MaterializeResult()


def test_assets_declare_neighbour_dependency_and_run(tmp_path):
    assets = mob.mobility_assets(SPEC, _situation, PARTS_MOB, group_name="mob_test_linked")
    nxt, prv = assets
    assert nxt.key == dg.AssetKey([PROJECT, "mobility_next"])
    mapping = nxt.get_partition_mapping(_situation.key)
    assert isinstance(mapping, dg.TimeWindowPartitionMapping)
    assert (mapping.start_offset, mapping.end_offset) == (-1, 1)
    # 2020 depends on situation 2019, 2020 and 2021 (lineage / staleness)
    up = mapping.get_upstream_mapped_partitions_result_for_partitions(
        PARTS_MOB.subset_with_partition_keys(["2020"]), PARTS_MOB, PARTS_SIT
    ).partitions_subset.get_partition_keys()
    assert sorted(up) == ["2019", "2020", "2021"]

    lake = LakeResource(data_dir=str(tmp_path))
    with dg.instance_for_test() as instance:
        for y in ("2019", "2020", "2021"):
            assert dg.materialize(
                [_situation], partition_key=y, resources={"lake": lake}, instance=instance
            ).success
        for y in ("2020", "2021"):
            res = dg.materialize(
                [*assets, _situation],
                selection=[nxt.key, prv.key],
                partition_key=y,
                resources={"lake": lake},
                instance=instance,
            )
            assert res.success
            evals = res.get_asset_check_evaluations()
            assert len(evals) == 2 and all(e.passed for e in evals)
    out = _read(tmp_path / "secure" / PROJECT / "mobility_next" / "year=2021" / "data.parquet")
    assert {r["next_status"] for r in out.values()} == {"not_yet_observed"}
    out = _read(tmp_path / "secure" / PROJECT / "mobility_prev" / "year=2021" / "data.parquet")
    assert out[1]["sep_prev"] == SITUATION[2020][1][0]


def test_neighbour_expected_but_not_built_is_an_error(tmp_path):
    _write_lake(tmp_path, years=(2020,))
    lake = LakeResource(data_dir=str(tmp_path))
    assets = mob.mobility_assets(SPEC, _situation.key, PARTS_MOB, neighbour_expected=lambda lk, y: True)
    res = dg.materialize(assets, partition_key="2020", resources={"lake": lake}, raise_on_error=False)
    assert not res.success


def test_a_mobility_year_breaking_a_rule_is_refused_before_it_is_renamed(tmp_path):
    """The blocking rules run on the temporary file: a year with a duplicate key (a damaged
    situation) fails its step naming the rule, and the previous version stays; a year refused by
    the project's own rule on its first build leaves no file and no folder."""
    secure = _write_lake(tmp_path)
    lake = LakeResource(data_dir=str(tmp_path))

    def project_rule(path: Path, year: int, direction: str) -> tuple[bool, dict]:
        return year != 2021, {"schema/failures": int(year == 2021)}

    assets = mob.mobility_assets(SPEC, _situation.key, PARTS_MOB, validate=project_rule)
    nxt = assets[0]
    with dg.instance_for_test() as instance:

        def run(year: str) -> dg.ExecuteInProcessResult:
            return dg.materialize(
                [nxt],
                partition_key=year,
                resources={"lake": lake},
                instance=instance,
                raise_on_error=False,
            )

        assert run("2020").success
        valid = storage.partition_file(secure, "mobility_next", 2020)
        before = (valid.stat().st_ino, valid.read_bytes())
        situation = storage.partition_file(secure, "situation", 2020)
        damaged = pl.read_parquet(situation)
        storage.write_frame(pl.concat([damaged, damaged.head(1)]), situation)

        refused = run("2020")
        assert not refused.success
        failure = next(e for e in refused.all_events if e.event_type_value == "STEP_FAILURE")
        cause = failure.event_specific_data.error.cause  # type: ignore[union-attr]
        assert "mob_test mobility_next 2020 refused" in cause.message
        assert "duplicate_keys: 1" in cause.message
        assert (valid.stat().st_ino, valid.read_bytes()) == before
        assert [p.name for p in valid.parent.iterdir()] == ["data.parquet"]

        first = run("2021")
        assert not first.success
        assert not (secure / "mobility_next" / "year=2021").exists()


def _write_large_situations(secure: Path, shuffled: bool = False) -> None:
    """Two neighbouring years of 300,000 persons each (several Parquet row groups and many DuckDB
    vectors), half of them in both years, with reasons for some of the others; 2020's file is
    written in key order (as every situation is) unless ``shuffled``."""
    n = 300_000
    for year, first in ((2020, 0), (2021, n // 2)):
        ids = pl.int_range(first, first + n, eager=True).alias("person_id") * 3
        df = pl.DataFrame(
            {
                "person_id": ids,
                "year": pl.repeat(year, n, dtype=pl.Int16, eager=True),
                "sep": (ids % 7).cast(pl.String),
                "province": (ids % 11 * 10000).cast(pl.String),
                "age": (ids % 50 + 15).cast(pl.Int16),
            }
        )
        if shuffled and year == 2020:
            df = df.sample(fraction=1.0, shuffle=True, seed=4)
        storage.write_frame(df, storage.partition_file(secure, "situation", year))
    reasons = pl.DataFrame({"person_id": pl.int_range(0, n // 2, 4, eager=True) * 3}).with_columns(
        reason=pl.lit("died")
    )
    storage.write_frame(reasons, storage.partition_file(secure, "absence", 2021))


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_written_table_is_the_definition_row_for_row(tmp_path, shuffled):
    """build_mobility writes without sorting every column (the narrow added columns by position
    next to a situation already in key order); the file is still exactly mobility_sql, the
    definition: same rows, values and order. A situation out of key order (a damaged or foreign
    file) is sorted the definition's way instead."""
    secure = tmp_path / "secure" / PROJECT
    _write_large_situations(secure, shuffled=shuffled)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for year, direction in ((2020, "next"), (2021, "prev"), (2021, "next")):
        positional = mob._positional_sql(con, SPEC, secure, year, direction)
        assert (positional is None) == (shuffled and year == 2020)
        con.execute(f"DROP TABLE IF EXISTS {mob.ADDED_TABLE}")
        info = mob.build_mobility(con, SPEC, secure, year, direction)
        sql, _found = mob.mobility_sql(con, SPEC, secure, year, direction)
        definition = con.sql(sql).pl()
        written = pl.read_parquet(info["path"])
        assert written.columns == definition.columns == info["columns"]
        assert written.equals(definition), (year, direction)
        assert written["person_id"].is_sorted()
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [mob.ADDED_TABLE]
        ).fetchall() == [(0,)]
