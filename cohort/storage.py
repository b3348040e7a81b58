"""Reading and writing the Parquet lake.

A table lives in ``<area>/<table>/`` as one ``data.parquet`` or as hive partitions
``year=YYYY/data.parquet``. Every write goes to a temporary file in the same folder and is
renamed into place (``os.replace`` is atomic on POSIX), so a crashed step never leaves half a
year and several years can be written by parallel processes without a database lock
(DESIGN.md decision 2). Queries run in an in-process DuckDB connection per step.

Nothing invalid is renamed into place: every writer takes an optional ``validate`` callback that
receives the temporary file and raises (:class:`PartitionRejected`) when the data breaks a rule;
the temporary file is then removed and the previous version of the partition, if any, stays
untouched. Temporary files are named ``.<name>.<pid>.<random>.tmp`` beside their target; those
left by a writer that was killed (its pid no longer alive) are removed on the next write of
that target.
"""

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
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


Validate = Callable[[Path], None]
"""A check of a written temporary file: returns when the data may be renamed into place, raises
(preferably :class:`PartitionRejected`) when it may not."""


class PartitionRejected(ValueError):
    """A partition broke a rule before it was renamed into place; nothing was written.

    ``violations`` maps each broken rule to its count of offending rows (or to a description)."""

    def __init__(self, target: str, violations: Mapping[str, int | str], detail: str = "") -> None:
        self.target = target
        self.violations = dict(violations)
        broken = "; ".join(f"{rule}: {count}" for rule, count in self.violations.items())
        super().__init__(
            f"{target} refused, nothing written (the previous version, if any, is kept): {broken}"
            + (f" ({detail})" if detail else "")
        )


def _tmp_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]{{8}}\.tmp")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_dead_tmps(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` left by writers that no longer run (killed, crashed).

    Only names of the pattern ``_tmp_beside`` gives for this very target are considered; a file
    of a live writer (its pid still running, this process included) is left alone."""
    pattern = _tmp_pattern(path)
    removed = []
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        match = pattern.fullmatch(candidate.name)
        if match and not _pid_alive(int(match.group(1))):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _tmp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_tmps(path)
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"


def _finish(tmp: Path, path: Path, validate: Validate | None = None) -> Path:
    # validated before the rename: a refused file never replaces the previous version
    if validate is not None:
        validate(tmp)
    # fsync before the rename so that a power loss cannot leave a renamed but empty file.
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def discard(tmp: Path, path: Path) -> None:
    """Remove the temporary file of a write that did not publish, and the partition's
    ``year=YYYY`` folder when that left it empty (a refused first version of a year leaves no
    folder that looks like a built year; other folders are the caller's)."""
    tmp.unlink(missing_ok=True)
    if not path.exists() and path.parent.name.startswith("year="):
        with suppress(OSError):
            path.parent.rmdir()  # only succeeds when empty


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    path: Path,
    params: list | None = None,
    validate: Validate | None = None,
) -> Path:
    """Write the result of ``sql`` to ``path`` atomically. Order rows in ``sql`` for stable bytes.
    ``validate(tmp)`` runs on the written temporary file before the rename and may refuse it."""
    tmp = _tmp_beside(path)
    try:
        con.execute(f"COPY ({sql}) TO {_lit(str(tmp))} ({PARQUET_OPTIONS})", params or [])
        return _finish(tmp, path, validate)
    finally:
        discard(tmp, path)


def write_frame(df: pl.DataFrame, path: Path, validate: Validate | None = None) -> Path:
    """Write a Polars frame to ``path`` atomically (``validate`` as in :func:`write_query`)."""
    tmp = _tmp_beside(path)
    try:
        df.write_parquet(tmp, compression="zstd", statistics=True)
        return _finish(tmp, path, validate)
    finally:
        discard(tmp, path)


@contextmanager
def all_or_nothing(paths: Iterable[Path]) -> Iterator[None]:
    """Several files written as one: when the block raises, every one of ``paths`` is put back as
    it was before the block (its previous version restored, or removed when it had none), so a
    step that writes a year's tables one after the other never leaves half a year.

    The previous versions are kept aside as hard links named like temporary files (a killed
    step's are removed by the next write of the file, see :func:`remove_dead_tmps`)."""
    saved: dict[Path, Path | None] = {}
    try:
        for path in paths:
            if path.exists():
                backup = _tmp_beside(path)
                try:
                    os.link(path, backup)
                except OSError:  # a file system without hard links
                    shutil.copy2(path, backup)
                saved[path] = backup
            else:
                saved[path] = None
        yield
    except BaseException:
        for path, backup in saved.items():
            if backup is not None:
                os.replace(backup, path)
            else:
                path.unlink(missing_ok=True)
                discard(path, path)
        raise
    finally:
        for backup in saved.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


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

    def close(self, validate: Validate | None = None) -> Path:
        """Publish the file (``validate`` as in :func:`write_query`)."""
        if self._writer is None:
            if self._first_empty is None:
                raise ValueError(f"{self.path}: nothing was appended")
            return write_frame(self._first_empty, self.path, validate)
        self._writer.close()
        try:
            return _finish(self._tmp, self.path, validate)
        finally:
            discard(self._tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        discard(self._tmp, self.path)


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
