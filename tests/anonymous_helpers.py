"""Hand-made warehouses for the anonymous-table tests: a few persons, contract columns and dtypes."""

from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from cohort import storage
from cohort.classifications.insz import make_insz
from cohort.sources import contract

DEFAULTS = {
    pl.String: "0",
    pl.Boolean: False,
    pl.Date: date(2000, 1, 1),
    pl.Float64: 0.0,
    pl.Int8: 1,
    pl.Int16: 1,
    pl.Int32: 1,
    pl.Int64: 1,
}


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """A frame of a contract table: given values, defaults for the other (non-null) columns, null for nullable ones."""
    schema = contract.TABLES[table].schema
    cols = {}
    for name, col in schema.columns.items():
        dtype = col.dtype.type if hasattr(col.dtype, "type") else col.dtype
        default = None if col.nullable else DEFAULTS.get(dtype, DEFAULTS.get(type(dtype)))
        cols[name] = pl.Series(name, [r.get(name, default) for r in rows], dtype=dtype)
    return pl.DataFrame(cols)


def write(warehouse: Path, table: str, rows: list[dict]) -> None:
    """Write a contract table (yearly partitions for by_year tables)."""
    df = frame(table, rows)
    t = contract.TABLES[table]
    if t.by_year and df.height == 0:  # an empty table still needs a file to be a view
        p = warehouse / table / "year=2000" / "data.parquet"
        p.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(p)
    elif t.by_year:
        for (year,), part in df.partition_by("year", as_dict=True).items():
            p = warehouse / table / f"year={year}" / "data.parquet"
            p.parent.mkdir(parents=True, exist_ok=True)
            part.write_parquet(p)
    else:
        p = warehouse / table / "data.parquet"
        p.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(p)


def insz(i: int) -> str:
    """A valid national number, distinct per ``i`` (the birth date in it is not the person's)."""
    return make_insz(date(1940, 1, 1) + timedelta(days=i), 1)


def sql_connection(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Views of a hand-made warehouse's tables as written, to test a project's SQL on its own: these
    warehouses hold a year or two of a few tables, which a build refuses as a partial extract
    (the contract on the build's path is tested in test_warehouse_contract.py)."""
    con = storage.connect()
    storage.register_tables(con, warehouse)
    return con
