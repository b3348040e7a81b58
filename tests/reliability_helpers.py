"""Tiny hand-built contract tables for the reliability tests (no synthetic generator needed).

``valid_row(table, **overrides)`` gives one row that satisfies every rule of the contract table,
derived from its Pandera schema, so a test changes exactly the field it attacks.
"""

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from cohort import storage
from cohort.classifications.insz import make_enterprise_number, make_insz
from cohort.sources.contract import ENTERPRISE, INSZ, TABLES

BIRTH = date(1980, 5, 17)
PERSON_ID = make_insz(BIRTH, 21)
EMPLOYER_ID = make_enterprise_number(403199)
DAY = date(2010, 3, 1)


def polars_schema(table: str) -> dict[str, Any]:
    return {name: getattr(pl, str(col.dtype)) for name, col in TABLES[table].schema.columns.items()}


def _valid_value(table: str, name: str, col) -> Any:
    stats = {chk.name: chk.statistics for chk in col.checks}
    dtype = str(col.dtype)
    if name == "year":
        return 2010
    if "isin" in stats:
        return stats["isin"]["allowed_values"][0]
    if "str_matches" in stats:
        pattern = stats["str_matches"]["pattern"]
        if pattern == INSZ:
            return None if col.nullable else PERSON_ID
        if pattern == ENTERPRISE:
            return EMPLOYER_ID
        if pattern == r"^[A-Z]{2}$":
            return "BE"
        return "11001"  # NIS and NACE codes: 5 digits
    if col.nullable:
        return None
    if dtype == "Date":
        return BIRTH if name == "birth_date" else DAY
    if dtype == "Boolean":
        return False
    if dtype == "String":
        return "x"
    if "in_range" in stats:
        return stats["in_range"]["min_value"]
    if "greater_than_or_equal_to" in stats:
        return stats["greater_than_or_equal_to"]["min_value"]
    return 1


def valid_row(table: str, **overrides: Any) -> dict[str, Any]:
    row = {name: _valid_value(table, name, col) for name, col in TABLES[table].schema.columns.items()}
    unknown = set(overrides) - set(row)
    assert not unknown, f"{table} has no column {unknown}"
    row.update(overrides)
    return row


def frame(table: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(table), orient="row")


def write_table(warehouse: Path, table: str, rows: list[dict[str, Any]], year: int | None = None) -> Path:
    return storage.write_frame(frame(table, rows), storage.partition_file(warehouse, table, year))


def person_row(insz: str = PERSON_ID, birth: date = BIRTH, **overrides: Any) -> dict[str, Any]:
    return valid_row("person", **{"insz": insz, "birth_date": birth, **overrides})
