"""Reading and writing the Parquet lake.

A table lives in ``<area>/<table>/`` as one ``data.parquet`` or as hive partitions
``year=YYYY/data.parquet``. Every write goes to a temporary file in the same folder and is
renamed into place (``os.replace`` is atomic on POSIX), so a crashed step never leaves half a
year and several years can be written by parallel processes without a database lock
(DESIGN.md decision 2). Queries run in an in-process DuckDB connection per step.
"""

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"


def table_dir(area: Path, table: str) -> Path:
    return area / table


def partition_file(area: Path, table: str, year: int | None = None) -> Path:
    """The file of one table partition (``year=None`` for an unpartitioned table)."""
    base = table_dir(area, table)
    return (base / f"year={year}" / "data.parquet") if year is not None else base / "data.parquet"


def table_glob(area: Path, table: str) -> str:
    """A glob that reads every partition of a table, partitioned or not."""
    base = table_dir(area, table)
    if any(base.glob("year=*")):
        return str(base / "year=*" / "*.parquet")
    return str(base / "*.parquet")


def _tmp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"


def _finish(tmp: Path, path: Path) -> Path:
    # fsync before the rename so that a power loss cannot leave a renamed but empty file.
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def write_query(con: duckdb.DuckDBPyConnection, sql: str, path: Path, params: list | None = None) -> Path:
    """Write the result of ``sql`` to ``path`` atomically. Order rows in ``sql`` for stable bytes."""
    tmp = _tmp_beside(path)
    try:
        con.execute(f"COPY ({sql}) TO '{tmp}' ({PARQUET_OPTIONS})", params or [])
        return _finish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_frame(df: pl.DataFrame, path: Path) -> Path:
    """Write a Polars frame to ``path`` atomically."""
    tmp = _tmp_beside(path)
    try:
        df.write_parquet(tmp, compression="zstd", statistics=True)
        return _finish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _code_columns(df: pl.DataFrame, sample: int = 100_000, most: int = 1_000) -> list[str]:
    """Text columns that look like codes (few distinct values in the first rows): only these get
    a Parquet dictionary. Trying one on identifiers (an INSZ per row) costs a fifth of the write
    time and saves nothing."""
    head = df.head(sample)
    text = (pl.String, pl.Categorical, pl.Enum)
    return [c for c, t in head.schema.items() if isinstance(t, text) and head[c].n_unique() <= most]


class FrameAppender:
    """One Parquet file written in parts: frames are appended as row groups and the file appears
    at ``path`` (atomically, like ``write_frame``) only on ``close``. Every part must have the
    schema of the first non-empty one. For tables produced in pieces too large to hold at once
    (a year of ``sep_quarter`` is written quarter by quarter)."""

    ROW_GROUP_SIZE = 122_880

    def __init__(self, path: Path, statistics: list[str] | bool = True) -> None:
        # ``statistics``: the columns whose min/max go into each row group (True: all of them)
        self.path = path
        self._statistics = statistics
        self._tmp = _tmp_beside(path)
        self._writer = None
        self._schema = None
        self._first_empty: pl.DataFrame | None = None

    def append(self, df: pl.DataFrame) -> None:
        # an empty part adds nothing (and its text columns may not say what the full parts hold);
        # it only gives the schema of a file that would otherwise have no part at all
        if df.height == 0:
            if self._writer is None:
                self._first_empty = df
            return
        import pyarrow.parquet as pq

        table = df.to_arrow()
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(
                self._tmp,
                table.schema,
                compression="zstd",
                use_dictionary=_code_columns(df),
                write_statistics=self._statistics,
            )
        elif table.schema != self._schema:
            self.abort()
            raise ValueError(f"{self.path}: a part with schema {table.schema} does not match {self._schema}")
        self._writer.write_table(table, row_group_size=self.ROW_GROUP_SIZE)

    def close(self) -> Path:
        if self._writer is None:
            if self._first_empty is None:
                raise ValueError(f"{self.path}: nothing was appended")
            return write_frame(self._first_empty, self.path)
        self._writer.close()
        try:
            return _finish(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)


def connect(threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection, sized from ``COHORT_DUCKDB_THREADS`` / ``COHORT_DUCKDB_MEMORY``."""
    con = duckdb.connect(":memory:")
    threads = threads or int(os.environ.get("COHORT_DUCKDB_THREADS", "0") or 0)
    if threads:
        con.execute(f"SET threads = {threads}")
    memory_limit = memory_limit or os.environ.get("COHORT_DUCKDB_MEMORY")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")  # a step's log is not a terminal
    return con


def register_tables(
    con: duckdb.DuckDBPyConnection, area: Path, tables: Iterable[str] | None = None
) -> list[str]:
    """Create one view per table folder found under ``area``. Partitioned files carry their own
    ``year`` column, so a file read on its own says what it holds; the folder name is not parsed."""
    names = []
    if not area.exists():
        return names
    wanted = set(tables) if tables is not None else None
    for sub in sorted(p for p in area.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if wanted is not None and sub.name not in wanted:
            continue
        if not any(sub.rglob("*.parquet")):
            continue
        glob = table_glob(area, sub.name)
        con.execute(
            f"CREATE OR REPLACE VIEW {sub.name} AS SELECT * FROM read_parquet('{glob}', "
            "hive_partitioning = false, union_by_name = true)"
        )
        names.append(sub.name)
    return names
