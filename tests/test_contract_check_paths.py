"""The contract check judges each rule where it costs least (a text column's rules on its distinct
values, another column's in a scan the Parquet reader filters, the births joined only for those
born late enough, the duplicate pass skipped for a file in key order). These tests hold it to
the plain definition on a damaged copy of the small warehouse: every rule judged on every row,
row by row, and every copy of a key found whatever the order of the rows."""

import os
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from cohort import storage
from cohort.sources import checks
from cohort.sources.contract import TABLES

AS_OF = date(2026, 12, 31)
# rules judged on more than one row: the plain row-by-row definition below leaves them out
NOT_ROW_RULES = ("duplicate_key", "duplicate:", "file_year:", "overlapping_spell")


@pytest.fixture
def warehouse(small_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the small warehouse (hard links; a damaged file is written anew)."""
    out = tmp_path / "warehouse"
    shutil.copytree(small_warehouse, out, copy_function=os.link)
    return out


def _rewrite(warehouse: Path, table: str, year: int | None, change) -> None:
    path = storage.partition_file(warehouse, table, year)
    storage.write_frame(change(pl.read_parquet(path)), path)


def _every(df: pl.DataFrame, n: int, column: str, value, offset: int = 0) -> pl.DataFrame:
    hit = pl.int_range(pl.len()) % n == offset
    return df.with_columns(
        pl.when(hit).then(pl.lit(value, dtype=df.schema[column])).otherwise(pl.col(column)).alias(column)
    )


def _damage(warehouse: Path) -> None:
    """One damage per way a rule is judged: text codes, formats, check digits and nulls; a NaN and
    an infinity in float ranges; integer ranges; dates before a birth moved later; future dates."""

    def person(df: pl.DataFrame) -> pl.DataFrame:
        df = _every(df, 301, "sex", "X")
        df = _every(df, 401, "birth_country", None)
        df = _every(df, 501, "mother_insz", "12345678901")
        # born late: their earlier rows elsewhere break before_birth
        return _every(df, 97, "birth_date", date(2015, 6, 1), offset=5)

    def jobs(df: pl.DataFrame) -> pl.DataFrame:
        df = _every(df, 151, "gross_wage", float("nan"))
        df = _every(df, 157, "daily_wage", float("inf"))
        df = _every(df, 163, "employer_id", None)
        df = _every(df, 167, "employer_id", "0123456780")
        df = _every(df, 173, "nace", "1234")
        df = _every(df, 179, "joint_committee", "777")
        df = _every(df, 181, "days", 93)
        return _every(df, 191, "activation_start", date(2030, 1, 1))

    def positions(df: pl.DataFrame) -> pl.DataFrame:
        df = _every(df, 211, "nomenclature", None)
        df = _every(df, 223, "nomenclature", "999")
        return _every(df, 227, "status_flags", -1)

    def benefits(df: pl.DataFrame) -> pl.DataFrame:
        df = _every(df, 101, "fraction", float("nan"))
        df = _every(df, 103, "related_insz", "99999999999")
        df = _every(df, 107, "benefit", "lottery")
        return _every(df, 109, "spell_end", date(1990, 1, 1))

    _rewrite(warehouse, "person", None, person)
    _rewrite(warehouse, "job_quarter", 2015, jobs)
    _rewrite(warehouse, "sep_quarter", 2012, positions)
    _rewrite(warehouse, "benefit_quarter", 2014, benefits)


def _row_rules_judged_row_by_row(warehouse: Path, table: str) -> dict[tuple[str, int], list[str]]:
    """Every row rule of ``table`` on every row, in one pass, DuckDB's use of the Parquet statistics
    switched off: (file, row) -> the rules it breaks, in rule order."""
    t = TABLES[table]
    files = checks.source_files(warehouse, t)
    with_births = table != "person"
    rules = checks._column_rules(t) + checks._semantic_rules(t, AS_OF, with_births)
    listed = ", ".join(f"CASE WHEN ({cond}) THEN {storage.sql_literal(rule)} END" for rule, cond in rules)
    person = storage.sql_literal(str(storage.partition_file(warehouse, "person")))
    births = (
        f", b._birth FROM {{src}} s LEFT JOIN (SELECT insz, min(birth_date) AS _birth "
        f"FROM read_parquet({person}) GROUP BY insz) b ON b.insz = s.insz"
        if with_births
        else " FROM {src} s"
    )
    src = (
        "read_parquet([" + ", ".join(storage.sql_literal(str(f)) for f in files) + "], "
        "filename = '_file', file_row_number = true)"
    )
    con = storage.connect()
    try:
        with checks._optimizers_off(con, ("statistics_propagation", "filter_pushdown")):
            found = con.execute(
                f"SELECT _file, file_row_number, list_filter([{listed}], lambda x: x IS NOT NULL) "
                f"FROM (SELECT s.*{births.format(src=src)}) WHERE len(list_filter([{listed}], lambda x: x IS NOT NULL)) > 0"
            ).fetchall()
    finally:
        con.close()
    prefix = len(str(Path(warehouse).resolve())) + 1
    return {(f[prefix:], int(r)): list(tags) for f, r, tags in found}


def _quarantined_row_rules(quarantine: Path, table: str) -> dict[tuple[str, int], list[str]]:
    rows = pl.read_parquet(quarantine / table / "data.parquet").select("_file", "_row", "reasons").rows()
    out = {}
    for file, row, reasons in rows:
        row_rules = [r for r in reasons.split(",") if not r.startswith(NOT_ROW_RULES)]
        if row_rules:
            out[(file, int(row))] = row_rules
    return out


@pytest.mark.parametrize("table", ["person", "job_quarter", "sep_quarter", "benefit_quarter"])
def test_the_rows_quarantined_are_those_of_every_rule_judged_on_every_row(warehouse, tmp_path, table):
    _damage(warehouse)
    quarantine = tmp_path / "quarantine"
    checks.load_source(None, warehouse, table, 1.0, quarantine, as_of=AS_OF, incremental=False)
    expected = _row_rules_judged_row_by_row(warehouse, table)
    assert expected  # the damage reached this table
    assert _quarantined_row_rules(quarantine, table) == expected


def test_nan_and_infinity_are_out_of_range(warehouse, tmp_path):
    """A NaN wage is out of range when its row is judged, although the file's statistics (which
    leave NaN out) would clear every row group."""
    _damage(warehouse)
    frame = pl.read_parquet(storage.partition_file(warehouse, "job_quarter", 2015))
    result = checks.load_source(None, warehouse, "job_quarter", 1.0, tmp_path / "q", incremental=False)
    assert result.rule_counts["range:gross_wage"] == frame["gross_wage"].is_nan().sum() > 0
    assert result.rule_counts["range:daily_wage"] == frame["daily_wage"].is_infinite().sum() > 0


def test_copies_of_a_key_are_found_in_a_file_out_of_key_order(warehouse, tmp_path):
    """The duplicate pass is skipped only for a file whose keys strictly increase: shuffled rows
    with two copies of a key are found, shuffled rows without copies give nothing, and a file in
    descending order too."""
    _rewrite(
        warehouse,
        "sep_quarter",
        2011,
        lambda df: pl.concat([df, df.slice(7, 2)]).sample(fraction=1.0, shuffle=True, seed=1),
    )
    _rewrite(warehouse, "sep_quarter", 2012, lambda df: df.sample(fraction=1.0, shuffle=True, seed=2))
    _rewrite(warehouse, "sep_quarter", 2013, lambda df: pl.concat([df, df.tail(1)]).reverse())
    result = checks.load_source(None, warehouse, "sep_quarter", 1.0, tmp_path / "q", incremental=False)
    quarantined = pl.read_parquet(tmp_path / "q" / "sep_quarter" / "data.parquet")
    by_file = dict(quarantined.filter(pl.col("reason") == "duplicate_key").group_by("_file").len().rows())
    assert by_file == {"sep_quarter/year=2011/data.parquet": 4, "sep_quarter/year=2013/data.parquet": 2}
    assert result.counts == {"duplicate_key": 6}


def test_one_call_for_several_tables_decides_as_one_call_each(warehouse, tmp_path):
    """ensure_checked makes the births once for all its tables (same person files) and drops them
    at the end; the answers are those of a check of each table alone."""
    _damage(warehouse)
    tables = ["job_quarter", "sep_quarter", "benefit_quarter", "household_jan1"]
    con = storage.connect()
    try:
        together = checks.ensure_checked(con, warehouse, tables, 1.0, tmp_path / "together", as_of=AS_OF)
        left = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    finally:
        con.close()
    assert left == []
    for table in tables:
        alone = checks.load_source(None, warehouse, table, 1.0, tmp_path / "alone", as_of=AS_OF)
        assert together[table] == alone.metadata()
        assert pl.read_parquet(tmp_path / "together" / table / "data.parquet").equals(
            pl.read_parquet(tmp_path / "alone" / table / "data.parquet")
        )
