"""Every build reads the warehouse through its contract: a damaged copy of a small warehouse, one
class of damage per test, fed to a real project asset (``dagster.materialize``) or to the real
command line. Each test shows the refusal (table, rule, count) or the quarantine (rows kept with
their reason, accepted + quarantined = input rows), and that a refused partition leaves nothing.
"""

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from conftest import run_cohort

from cohort import settings, storage
from cohort.projects.flemish_staff_origin.assets import staff
from cohort.projects.labour_reserve.assets import person_mapping, situation
from cohort.resources import LakeResource
from cohort.sources import checks
from cohort.warehouse.defects import inject_defects

KEY = "ab" * 32  # a test key: 64 hex characters, never a real one


@pytest.fixture
def warehouse(small_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the small warehouse to damage (hard links: a damaged file is written anew,
    through a temporary file and a rename, so the shared original stays intact)."""
    out = tmp_path / "warehouse"
    shutil.copytree(small_warehouse, out, copy_function=os.link)
    return out


@pytest.fixture
def lake(tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> LakeResource:
    monkeypatch.setenv("COHORT_KEY_LABOUR_RESERVE", KEY)
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    return LakeResource(data_dir=str(tmp_path / "lake"), warehouse_dir=str(warehouse))


def _damage(warehouse: Path, table: str, year: int | None, change) -> tuple[int, int]:
    """Rewrite one file of ``table`` with ``change`` (a frame -> frame function); returns the rows
    of the table before and after."""
    path = storage.partition_file(warehouse, table, year)
    before = _rows(warehouse, table)
    storage.write_frame(change(pl.read_parquet(path)), path)
    return before, _rows(warehouse, table)


def _rows(warehouse: Path, table: str) -> int:
    return sum(
        pl.scan_parquet(f).select(pl.len()).collect().item() for f in (warehouse / table).rglob("*.parquet")
    )


def _quarantine(lake: LakeResource, table: str) -> pl.DataFrame:
    return pl.read_parquet(lake.paths().quarantine / table / "data.parquet")


def _every_nth(df: pl.DataFrame, n: int, column: str, value) -> pl.DataFrame:
    """``column`` set to ``value`` in every ``n``-th row (the first of each ``n``)."""
    hit = pl.int_range(pl.len()) % n == 0
    return df.with_columns(pl.when(hit).then(pl.lit(value)).otherwise(pl.col(column)).alias(column))


def _accepted(lake: LakeResource, table: str) -> int:
    con = storage.connect()
    try:
        checks.clean_view(con, lake.paths().warehouse, table, lake.paths().quarantine)
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


# ---------------------------------------------------------------- rows quarantined, build goes on


def test_null_national_numbers_are_quarantined_and_left_out(lake, warehouse):
    before, total = _damage(warehouse, "sep_quarter", 2021, lambda df: _every_nth(df, 2_000, "insz", None))
    result = dg.materialize([person_mapping], resources={"lake": lake})
    assert result.success
    quarantined = _quarantine(lake, "sep_quarter")
    assert quarantined.height > 0 and set(quarantined["reason"]) == {"null:insz"}
    assert quarantined["_file"].unique().to_list() == ["sep_quarter/year=2021/data.parquet"]
    assert _accepted(lake, "sep_quarter") + quarantined.height == total == before


def test_bad_persons_are_quarantined_with_their_reason(lake, warehouse):
    # a birth moved into the future is given to no member of the Flemish staff: their staff rows would
    # be quarantined too (before_birth:year), and a few of them pass the staff table's threshold
    staff_ids = pl.scan_parquet(warehouse / "flemish_staff" / "**" / "*.parquet").select("insz").collect()
    future_birth = (pl.int_range(pl.len()) % 5_000 == 2) & ~pl.col("insz").is_in(staff_ids["insz"].implode())
    moved = pl.read_parquet(storage.partition_file(warehouse, "person")).select(future_birth.sum()).item()

    def damage(df: pl.DataFrame) -> pl.DataFrame:
        i = pl.int_range(pl.len())
        typo = pl.col("insz").str.slice(0, 9) + (
            (pl.col("insz").str.slice(9, 2).cast(pl.Int32) + 1) % 100
        ).cast(pl.String).str.zfill(2)
        return df.with_columns(
            pl.when(i % 5_000 == 1).then(typo).otherwise(pl.col("insz")).alias("insz"),
            pl.when(future_birth)
            .then(pl.lit(date(2031, 1, 1)))
            .otherwise(pl.col("birth_date"))
            .alias("birth_date"),
            pl.when(i % 5_000 == 3)
            .then(pl.col("birth_date") - pl.duration(days=1))
            .otherwise(pl.col("death_date"))
            .alias("death_date"),
        )

    before, total = _damage(warehouse, "person", None, damage)
    result = dg.materialize([staff], partition_key="2020", resources={"lake": lake})
    assert result.success
    reasons = _quarantine(lake, "person")["reason"].value_counts().sort("reason")
    expected = -(-before // 5_000)  # rows 1, 5001, ... : one per 5,000 started
    counts = dict(zip(reasons["reason"], reasons["count"], strict=True))
    assert counts["future_date:birth_date"] == moved > 0
    assert counts["before_birth:death_date"] == expected
    # a typo that happens to give another valid number is not a defect: most are caught
    assert 0 < counts["insz_checksum:insz"] <= expected
    assert _accepted(lake, "person") + sum(counts.values()) == total


def test_implausible_wages_are_quarantined(lake, warehouse):
    def damage(df: pl.DataFrame) -> pl.DataFrame:
        i = pl.int_range(pl.len())
        return df.with_columns(
            pl.when(i == 0)
            .then(5e7)
            .when(i == 1)
            .then(-1234.5)
            .otherwise(pl.col("gross_wage"))
            .alias("gross_wage")
        )

    _damage(warehouse, "job_quarter", 2021, damage)
    assert dg.materialize([person_mapping], resources={"lake": lake}).success
    quarantined = _quarantine(lake, "job_quarter")
    assert quarantined.select("reason", "gross_wage").sort("gross_wage").rows() == [
        ("range:gross_wage", -1234.5),
        ("range:gross_wage", 5e7),
    ]


def test_defects_of_the_synthetic_warehouse_are_exactly_what_the_quarantine_finds(warehouse, tmp_path):
    injected = inject_defects(warehouse, seed=3, first_year=2005, last_year=2026)
    assert set(injected) == {"person", "job_quarter", "sep_quarter", "benefit_quarter"}
    results = checks.load_sources(None, warehouse, None, 1.0, tmp_path / "quarantine")
    assert {t: r.counts for t, r in results.items() if r.rejected} == injected
    # below every project's default threshold
    assert max(r.share for r in results.values()) < checks.DEFAULT_MAX_REJECT_SHARE


# ---------------------------------------------------------------- the build refuses


def test_too_many_bad_rows_stop_the_build_with_table_rule_count_and_share(lake, warehouse):
    _damage(warehouse, "sep_quarter", 2021, lambda df: _every_nth(df, 5, "insz", None))
    with pytest.raises(checks.SourceContractError) as err:
        dg.materialize([person_mapping], resources={"lake": lake})
    message = str(err.value)
    assert err.value.table == "sep_quarter" and err.value.rule == "null:insz" and err.value.count > 0
    assert f"{err.value.count} of" in message and "above the threshold of 0.1000%" in message
    # the rows are kept for inspection, and nothing of the project was written
    assert _quarantine(lake, "sep_quarter").height == err.value.count
    assert not (lake.paths().secure / "labour_reserve").exists()


def test_numbers_written_as_text_are_refused(lake, warehouse):
    _damage(warehouse, "job_quarter", 2021, lambda df: df.with_columns(pl.col("gross_wage").cast(pl.String)))
    with pytest.raises(
        checks.SourceContractError, match="job_quarter: rule schema:wrong_type: 1 column"
    ) as err:
        dg.materialize([person_mapping], resources={"lake": lake})
    assert "gross_wage (expected DOUBLE)" in str(err.value)


def test_a_year_the_build_reads_must_be_in_the_warehouse(lake, warehouse):
    shutil.rmtree(warehouse / "job_quarter" / "year=2022")
    with pytest.raises(checks.SourceContractError, match="job_quarter: rule missing_year: 1 year") as err:
        dg.materialize([situation], partition_key="2022", resources={"lake": lake})
    assert "(2022;" in str(err.value)
    assert not storage.partition_file(lake.paths().secure / "labour_reserve", "situation", 2022).exists()


def test_a_truncated_file_is_named(lake, warehouse):
    path = warehouse / "person" / "data.parquet"
    data = path.read_bytes()
    path.unlink()  # a new file: the hard-linked original stays whole
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(checks.SourceContractError, match="person: rule unreadable_file: 1 Parquet file"):
        dg.materialize([staff], partition_key="2020", resources={"lake": lake})
    assert not (lake.paths().secure / "flemish_staff_origin").exists()


# ---------------------------------------------------------------- the real command line


def _cohort(args: list[str], warehouse: Path, data_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COHORT_DEMO", "COHORT_KEY"))}
    env |= {"COHORT_WAREHOUSE_DIR": str(warehouse), "COHORT_KEY_LABOUR_RESERVE": KEY}
    return run_cohort([*args, "--data-dir", str(data_dir)], env, cwd=data_dir.parent)


@pytest.mark.cli
def test_command_line_refuses_an_empty_year_and_a_missing_table(warehouse, tmp_path):
    _damage(warehouse, "job_quarter", 2021, lambda df: df.head(0))
    shutil.rmtree(warehouse / "education")
    built = _cohort(["project", "build", "labour_reserve", "--years", "2021"], warehouse, tmp_path / "lake")
    output = built.stdout + built.stderr
    assert built.returncode != 0
    assert "source table job_quarter: rule empty_file: 1 Parquet file(s) with zero rows (year=2021" in output
    assert "source table education: rule missing_table" in output
    lake = settings.lake(tmp_path / "lake")
    # only the data dictionary (made from the spec, no data) is there: no table, no year
    assert list((lake.exports / "labour_reserve").rglob("*.parquet")) == []
    assert not (lake.secure / "labour_reserve" / "situation").exists()


@pytest.mark.cli
def test_command_line_shows_the_quarantine_of_a_build(warehouse, tmp_path):
    _damage(warehouse, "person", None, lambda df: _every_nth(df, 10_000, "sex", "X"))
    checked = _cohort(["warehouse", "check", "--table", "person"], warehouse, tmp_path / "lake")
    assert checked.returncode == 0, checked.stderr
    expected = -(-_rows(warehouse, "person") // 10_000)
    line = next(x for x in checked.stdout.splitlines() if x.startswith("person "))
    assert line.split()[2] == str(expected) and f"code:sex {expected}" in line
    assert (
        pl.read_parquet(settings.lake(tmp_path / "lake").quarantine / "person" / "data.parquet").height
        == expected
    )


# ---------------------------------------------------------------- checked once per change of a file


def test_a_yearly_table_is_checked_again_only_for_the_year_that_changed(warehouse, tmp_path):
    quarantine = tmp_path / "quarantine"

    def wage(value: float):
        first_row = pl.int_range(pl.len()) == 0
        return lambda df: df.with_columns(
            pl.when(first_row).then(value).otherwise(pl.col("gross_wage")).alias("gross_wage")
        )

    _damage(warehouse, "job_quarter", 2010, wage(-1.0))
    first = checks.load_source(None, warehouse, "job_quarter", 1.0, quarantine)
    assert first.files == 22 and first.counts == {"range:gross_wage": 1}
    _damage(warehouse, "job_quarter", 2021, wage(5e7))
    again = checks.load_source(None, warehouse, "job_quarter", 1.0, quarantine)
    assert again.files == 1  # only year 2021 was read again
    assert again.counts == {"range:gross_wage": 2} and again.rows == _rows(warehouse, "job_quarter")
    rows = pl.read_parquet(quarantine / "job_quarter" / "data.parquet")
    assert rows.select("_file", "gross_wage").sort("_file").rows() == [
        ("job_quarter/year=2010/data.parquet", -1.0),
        ("job_quarter/year=2021/data.parquet", 5e7),
    ]
    # the same answer as a check of every file from scratch
    full = checks.load_source(None, warehouse, "job_quarter", 1.0, tmp_path / "full", incremental=False)
    assert (full.rows, full.counts, full.rule_counts) == (again.rows, again.counts, again.rule_counts)
    # births decide a rule of every year: a changed person table means every year is checked again
    _damage(warehouse, "person", None, lambda df: df)
    assert checks.load_source(None, warehouse, "job_quarter", 1.0, quarantine).files == 22


def test_a_row_in_another_years_file_is_quarantined_and_copies_are_sought_per_file(warehouse, tmp_path):
    """A yearly file holds its own year (rule file_year:year): rows of 2022 appended to the 2021
    file are quarantined with that reason, even though their keys are also in the 2022 file, which
    keeps its rows (the duplicate pass, run file by file, finds no copy there); a copy inside one
    file is still a duplicate_key."""
    moved = pl.read_parquet(storage.partition_file(warehouse, "sep_quarter", 2022)).head(3)
    _damage(warehouse, "sep_quarter", 2021, lambda df: pl.concat([df, moved, df.tail(1)]))
    result = checks.load_source(
        None, warehouse, "sep_quarter", 1.0, tmp_path / "quarantine", incremental=False
    )
    quarantined = pl.read_parquet(tmp_path / "quarantine" / "sep_quarter" / "data.parquet")
    by_reason = quarantined.group_by("reason", "_file").len().sort("reason").rows()
    assert by_reason == [
        ("duplicate_key", "sep_quarter/year=2021/data.parquet", 2),
        ("file_year:year", "sep_quarter/year=2021/data.parquet", 3),
    ]
    assert result.counts == {"duplicate_key": 2, "file_year:year": 3}
    assert sorted(quarantined.filter(pl.col("reason") == "file_year:year").get_column("year")) == [2022] * 3


def test_a_bad_check_digit_is_found_whether_or_not_the_person_table_holds_the_number(warehouse, tmp_path):
    """sep_quarter's national-number rules are judged per person on the person table's numbers
    and per row for a number that table lacks: a wrong check digit is quarantined either way."""

    def wrong_digit(number: str) -> str:
        return number[:9] + f"{(int(number[9:]) + 1) % 100:02d}"

    rows = pl.read_parquet(storage.partition_file(warehouse, "sep_quarter", 2021))
    in_person, not_in_person = rows.get_column("insz").unique().sort().head(2).to_list()
    bad_in_person, bad_alone = wrong_digit(in_person), wrong_digit(not_in_person)
    # the person table holds the first wrong number (its own row is quarantined there), not the second
    _damage(
        warehouse,
        "person",
        None,
        lambda df: df.with_columns(pl.col("insz").replace(in_person, bad_in_person)),
    )
    _damage(
        warehouse,
        "sep_quarter",
        2021,
        lambda df: df.with_columns(
            pl.col("insz").replace({in_person: bad_in_person, not_in_person: bad_alone})
        ),
    )
    checks.load_source(None, warehouse, "sep_quarter", 1.0, tmp_path / "quarantine", incremental=False)
    quarantined = pl.read_parquet(tmp_path / "quarantine" / "sep_quarter" / "data.parquet")
    found = quarantined.group_by("insz", "reason").len().sort("insz").rows()
    expected = sorted(
        (number, "insz_checksum:insz", (rows.get_column("insz") == old).sum())
        for number, old in ((bad_in_person, in_person), (bad_alone, not_in_person))
    )
    assert found == expected
