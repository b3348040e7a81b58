"""A column's kind is one rule (cohort/classifications/kinds.py), read the same way by the export scan,
the Pandera schema and the SQL pass over every row of a labour-reserve table."""

from datetime import date

import duckdb
import pandera.polars as pa
import polars as pl
import pytest

from cohort.classifications import kinds
from cohort.classifications.insz import make_insz
from cohort.privacy import scan
from cohort.projects import schemas
from cohort.projects.spec import Variable

# a national number of someone born in 2000 that lost its leading zeros as an integer (8 digits)
SHORT_NUMBER = int(make_insz(date(2000, 1, 1), 1))


def _hits(frame: pl.DataFrame, kind: str) -> set[str]:
    return {hit.rule for hit in scan.scan_export(frame, {"c": kind}, "t", {"c": ["a"]}).hits}


@pytest.mark.parametrize("kind", sorted(kinds.COLUMN_KINDS - {"class"}))
def test_the_scan_lets_a_column_hold_what_its_kind_allows(kind: str) -> None:
    form = kinds.KINDS[kind]
    assert SHORT_NUMBER < 100_000_000
    day_integer = _hits(pl.DataFrame({"c": [20050314]}), kind)
    assert ("day_level_date" in day_integer) == form.no_day_integers
    short_number = _hits(pl.DataFrame({"c": [SHORT_NUMBER]}), kind)
    assert ("national_number" in short_number) == (not form.measure)
    a_date = _hits(pl.DataFrame({"c": [date(2005, 3, 14)]}), kind)
    assert ("day_level_date" in a_date) == (not form.days)
    # what no kind allows, whatever the spec says: a national number in text, a keyed hash
    assert "national_number" in _hits(pl.DataFrame({"c": [make_insz(date(1985, 7, 30), 33)]}), kind)
    assert "keyed_hash" in _hits(pl.DataFrame({"c": ["a" * 64]}), kind)


def test_every_spec_kind_is_a_scan_kind_with_a_dtype() -> None:
    assert kinds.VARIABLE_KINDS < kinds.COLUMN_KINDS
    assert {"text", "day"} == kinds.COLUMN_KINDS - kinds.VARIABLE_KINDS
    with pytest.raises(ValueError, match="unknown kind"):
        scan.scan_export(pl.DataFrame({"c": [1]}), {"c": "amount"}, "t")


# per kind: values of the column's dtype, some of them breaking the kind's rules
VALUES: dict[str, list] = {
    "pseudonym": [1, 0, 7, -3],
    "year": [2020, 1850, 2200, None],
    "quarter": ["2021Q4", "2021Q5", "21Q1", None],
    "month": ["2021-12", "2021-13", "2021-1", None],
    "count": [0, 4, -1, None],
    "number": [0.5, -0.01, 12.0, None],
    "weight": [1.0, 0.5, 30.0, None],
    "code": ["a", "b", "z", None],
}


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_pandera_and_the_sql_pass_find_the_same_offending_rows(kind: str) -> None:
    """The same rows break the column's rules in the Pandera schema and in the SQL checks."""
    allowed = ("a", "b") if kind == "code" else None
    frame = pl.DataFrame({"c": pl.Series(VALUES[kind], dtype=kinds.KINDS[kind].dtype)})
    variable = Variable("c", kind, "-", "§1", "a column", code_list=allowed or ())
    schema = pa.DataFrameSchema({"c": schemas.column_schema(variable)})
    by_pandera = {row for row in range(frame.height) if schemas.failure_messages(schema, frame.slice(row, 1))}
    literals = None if allowed is None else ", ".join(f"'{code}'" for code in allowed)
    conditions = [cond for _, cond in kinds.sql_checks(kind, '"c"', literals)]
    con = duckdb.connect()
    con.register("frame", frame.with_row_index("row"))
    where = " OR ".join(f"coalesce({cond}, FALSE)" for cond in conditions) or "FALSE"
    by_sql = {row for (row,) in con.execute(f"SELECT row FROM frame WHERE {where}").fetchall()}
    assert by_pandera == by_sql
    assert by_sql  # each kind's values above hold an offender


def test_a_code_column_holds_only_its_spec_code_list_when_it_has_one() -> None:
    """The scan takes a column's values from its spec variable (``ProjectSpec.column_classes``): a
    class column's labels, a code column's code list; a code column without a list is not checked."""
    from cohort.projects.spec import load_spec

    spec = load_spec("labour_reserve")
    values = spec.column_classes("phase1_next")
    assert values["sex"] == ("M", "F") and values["age_class"] == spec.variables["age_class"].classes
    assert values["next_status"] == spec.variables["next_status"].code_list
    assert "medical_code" not in values
    frame = pl.DataFrame({"sex": ["M", "X"], "medical_code": ["J45", "anything"]})
    declared = {"sex": "code", "medical_code": "code"}
    found = scan.scan_export(frame, declared, "t", values)
    assert [(hit.column, hit.rule, hit.count) for hit in found.hits] == [("sex", "outside_codes", 1)]
    assert scan.scan_export(frame.head(1), declared, "t", values).ok
