"""The connection an analysis's SQL runs on: it sees only its project's tables and can do nothing else.

The trusted side loads the project's tables into an in-memory database, then switches off every way
out and locks the settings (DuckDB 2.0 settings ``enable_external_access``, ``autoload_known_extensions``,
``autoinstall_known_extensions``, ``python_enable_replacements``, ``lock_configuration``). The tables are COPIED in before locking: a
view over ``read_parquet`` would read its files at query time, which the locked connection refuses
(tests/test_analysis_sandbox.py shows it). With external access off, reading or writing any file
(``read_csv``, ``read_parquet``, ``read_text``, ``glob``, ``COPY ... TO``, ``EXPORT``), ``ATTACH``,
``INSTALL`` and ``LOAD`` are refused; with the configuration locked, ``SET``, ``RESET`` and ``PRAGMA``
that change a setting are refused. Other projects' tables are simply not there, and neither are the
data frames of the Python code that runs the analysis (replacement scans are off).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from cohort import storage

#: Settings switched off, then locked, in this order (lock_configuration last).
LOCKDOWN = (
    ("autoinstall_known_extensions", False),
    ("autoload_known_extensions", False),
    ("allow_community_extensions", False),
    # a replacement scan would let the SQL name any polars/pandas/Arrow frame of the calling Python code;
    # DuckDB 2.0 already stops them when external access is off, this keeps them off if that changes
    ("python_enable_replacements", False),
    ("enable_external_access", False),
    ("lock_configuration", True),
)


class SandboxRefusal(RuntimeError):
    """The analysis's SQL tried something the sandbox does not allow, or failed."""


@contextmanager
def sandbox(
    tables: dict[str, list[Path]], year: int | None = None, queries: dict[str, str] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked in-memory connection holding ``tables`` (name -> Parquet files), only the rows of
    ``year`` when given. ``queries``: table -> the query that makes the table of its files
    (``{source}`` stands for them), e.g. the extract's columns of a secure frame; the others are
    copied whole. The names, the queries and the paths come from the trusted side (the registry
    :mod:`cohort.analysis.sources` and the lake); names and paths are quoted, never pasted."""
    # the lake's usual in-memory connection: its size settings and the rules' macros (completed_age, ...)
    con = storage.connect()
    try:
        for name, files in tables.items():
            if not files:
                continue
            listed = ", ".join(storage.sql_string(str(f)) for f in files)
            source = f"read_parquet([{listed}], hive_partitioning = false, union_by_name = true)"
            if year is not None:
                source = f"(SELECT * FROM {source} WHERE year = {int(year)})"
            query = (queries or {}).get(name, "SELECT * FROM {source}").replace("{source}", source)
            con.execute(f"CREATE TABLE {storage.sql_identifier(name)} AS {query}")
        for setting, value in LOCKDOWN:
            con.execute(f"SET {setting} = {'true' if value else 'false'}")
        yield con
    finally:
        con.close()


def run_query(con: duckdb.DuckDBPyConnection, sql: str, label: str) -> pl.DataFrame:
    """Run an analysis query on the sandbox; a refused or failing statement becomes a
    :class:`SandboxRefusal` naming the query (``label``) and DuckDB's reason."""
    try:
        return con.sql(sql).pl()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        kind = "refused" if isinstance(exc, duckdb.PermissionException) or "locked" in reason else "failed"
        raise SandboxRefusal(f"{label}: {kind}: {reason}") from None
