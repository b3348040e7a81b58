"""Reading and writing the Parquet lake.

A table lives in ``<area>/<table>/`` as one ``data.parquet`` or as hive partitions
``year=YYYY/data.parquet``. Every write goes to a temporary file in the same folder and is
renamed into place (``os.replace`` is atomic on POSIX), so a crashed step never leaves half a
year and several years can be written by parallel processes without a database lock
(docs/design.md, decision 2). Queries run in an in-process DuckDB connection per step.

No SQL text is built from a name or a path as it comes: a path or a text goes in through
:func:`sql_string` (or as a prepared parameter), a table or column name through
:func:`sql_identifier`. DuckDB allows no parameters in a view body, a ``COPY ... TO`` target or a
``SET``, so quoting is the one way that works everywhere.

Nothing invalid is renamed into place: every writer takes an optional ``validate`` callback that
receives the temporary file and raises (:class:`PartitionRejected`) when the data breaks a rule;
the temporary file is then removed and the previous version of the partition, if any, stays
untouched. Temporary files are named ``.<name>.<pid>.<random>.tmp`` beside their target; those
left by a writer that was killed (its pid no longer alive) are removed on the next write of
that target.
"""

import numbers
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import polars as pl

from cohort.classifications import classes

PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880"

# What DuckDB's memory_limit accepts and nothing more: a number and a byte unit.
MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def _no_nul(text: str, what: str) -> str:
    # DuckDB ends a string at a NUL byte: the quoted text would no longer be the whole text.
    if "\0" in text:
        raise ValueError(f"a {what} with a NUL character cannot be used in SQL")
    return text


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (double quotes, inner ones doubled): a folder or column
    name is read as a name whatever it holds (quotes, semicolons, SQL)."""
    return '"' + _no_nul(str(name), "name").replace('"', '""') + '"'


def sql_string(text: str | os.PathLike[str]) -> str:
    """``text`` (a text or a path) as a SQL string literal (single quotes, inner ones doubled).
    DuckDB's plain literals give a backslash no meaning, so nothing else needs escaping."""
    return "'" + _no_nul(os.fspath(text), "text or path").replace("'", "''") + "'"


def sql_literal(value: str | os.PathLike[str] | bool | int | float) -> str:
    """A constant as SQL: a text or a path through :func:`sql_string`, a truth value or a finite
    number as itself. Anything else is refused rather than written as its Python repr."""
    if isinstance(value, (str, os.PathLike)):
        return sql_string(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value) == float(value) and abs(float(value)) != float("inf"):
        return repr(float(value))
    raise TypeError(f"no SQL literal for a value of type {type(value).__name__}")


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


def table_files(area: Path, table: str) -> list[Path]:
    """The files of every partition of a table (those ``table_glob`` matches), in a stable order.
    The folder is taken literally here: DuckDB would read ``[``, ``*`` or ``?`` in a lake path as
    glob patterns, so views are made over this list rather than over the glob."""
    base = table_dir(area, table)
    pattern = "year=*/*.parquet" if any(base.glob("year=*")) else "*.parquet"
    return sorted(p for p in base.glob(pattern) if not p.name.startswith("."))


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

    Only names of the pattern ``tmp_beside`` gives for this very target are considered; a file
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


def tmp_beside(path: Path) -> Path:
    """A fresh temporary name beside ``path`` (hidden, with the writer's pid), after removing the
    leftovers of writers of ``path`` that died. Write there, then :func:`publish` or :func:`discard`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_tmps(path)
    return path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"


def publish(tmp: Path, path: Path, validate: Validate | None = None) -> Path:
    """Put the finished temporary file ``tmp`` in place of ``path`` in one rename, after
    ``validate(tmp)`` (which may refuse it) and an fsync."""
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


def write_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    path: Path,
    params: list | None = None,
    validate: Validate | None = None,
) -> Path:
    """Write the result of ``sql`` to ``path`` atomically. Order rows in ``sql`` for stable bytes.
    ``validate(tmp)`` runs on the written temporary file before the rename and may refuse it."""
    tmp = tmp_beside(path)
    try:
        con.execute(f"COPY ({sql}) TO {sql_string(tmp)} ({PARQUET_OPTIONS})", params or [])
        return publish(tmp, path, validate)
    finally:
        discard(tmp, path)


def write_text(path: Path, text: str) -> Path:
    """Write a small text file (a data dictionary, a report) atomically, under the same temporary
    names as the tables, so that a killed writer's leftovers are cleaned next time."""
    tmp = tmp_beside(path)
    try:
        tmp.write_text(text)
        return publish(tmp, path)
    finally:
        discard(tmp, path)


def write_frame(df: pl.DataFrame, path: Path, validate: Validate | None = None) -> Path:
    """Write a Polars frame to ``path`` atomically (``validate`` as in :func:`write_query`)."""
    tmp = tmp_beside(path)
    try:
        df.write_parquet(tmp, compression="zstd", statistics=True)
        return publish(tmp, path, validate)
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
                backup = tmp_beside(path)
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
        self._tmp = tmp_beside(path)
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
            return publish(self._tmp, self.path, validate)
        finally:
            discard(self._tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        discard(self._tmp, self.path)


def duckdb_threads(threads: int | str | None = None) -> int | None:
    """The thread count: ``threads`` if given, else ``COHORT_DUCKDB_THREADS``; None (DuckDB's default,
    every core) when neither is set. Anything but a positive whole number is refused by name."""
    # 0 or None: not given here (the callers' old convention), so the variable decides
    where = "threads" if threads else "COHORT_DUCKDB_THREADS"
    text = str(threads if threads else os.environ.get("COHORT_DUCKDB_THREADS", "")).strip()
    if not text:
        return None
    if not text.isdecimal() or int(text) < 1:
        raise ValueError(f"{where} must be a positive whole number of threads, e.g. 4; got {text!r}")
    return int(text)


def duckdb_memory_limit(memory_limit: str | None = None) -> str | None:
    """The memory limit: ``memory_limit`` if given, else ``COHORT_DUCKDB_MEMORY``; None (DuckDB's
    default, 80 % of RAM) when neither is set. Only a number and a byte unit (``6GB``, ``512 MiB``)
    is accepted: the value goes into SQL text, and a typo should fail here, by name."""
    where = "memory_limit" if memory_limit else "COHORT_DUCKDB_MEMORY"
    text = (memory_limit if memory_limit else os.environ.get("COHORT_DUCKDB_MEMORY", "")).strip()
    if not text:
        return None
    if not MEMORY_LIMIT.match(text):
        raise ValueError(
            f"{where} must be a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 6GB; got {text!r}"
        )
    return text


@contextmanager
def spill_folder(area: Path) -> Iterator[Path]:
    """A new folder for one connection's spill files, ``<area>/_spill/<random>``, removed on leaving
    (with ``_spill`` once no other connection uses it). ``area`` is the folder whose rows the
    connection holds: what DuckDB writes out holds the same rows, so it stays beside them. Folders
    under ``_`` are no table of any area (:func:`register_tables`)."""
    folder = Path(area) / "_spill" / uuid.uuid4().hex
    folder.mkdir(parents=True)  # DuckDB makes the last folder of a temp_directory only
    try:
        yield folder
    finally:
        # DuckDB removes its spill files when the connection closes; the folder goes too
        shutil.rmtree(folder, ignore_errors=True)
        with suppress(OSError):
            folder.parent.rmdir()


def connect(
    threads: int | None = None, memory_limit: str | None = None, spill: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection, sized from ``COHORT_DUCKDB_THREADS`` / ``COHORT_DUCKDB_MEMORY``,
    with the macros of the rules (:data:`cohort.classifications.classes.MACROS`).

    ``spill``: the folder where DuckDB writes what does not fit under its memory limit (one of
    :func:`spill_folder`). Without it the connection does not spill at all: a query that needs more
    than the limit fails with DuckDB's out-of-memory error. DuckDB's own default would spill to
    ``.tmp`` in the process's working folder, i.e. put rows of the secure area wherever the command
    was started (a checkout, a home folder); so a connection that may need to spill says where, inside
    the area whose rows it holds (project steps: the secure area, :func:`cohort.projects.step.open_step`;
    the contract check: the quarantine), and the checking connections over one written file (its
    validation, the export scan, an analysis's sandbox) stay in memory."""
    # both are read before the connection is made, so a bad value leaves nothing open
    threads = duckdb_threads(threads)
    memory_limit = duckdb_memory_limit(memory_limit)
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    # an empty temp_directory switches spilling off (DuckDB then raises its out-of-memory error)
    con.execute(f"SET temp_directory = {sql_string(spill) if spill is not None else sql_string('')}")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")  # a step's log is not a terminal
    classes.install_macros(con)  # the rules every query names (completed_age...), written once there
    return con


# A folder becomes a view only under a plain name; any other folder is not a table of the lake.
PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def register_tables(
    con: duckdb.DuckDBPyConnection, area: Path, tables: Iterable[str] | None = None
) -> list[str]:
    """Create one view per table folder found under ``area``: the folders named in ``tables``
    (for the warehouse, :func:`cohort.sources.checks.register_warehouse` passes the contract's tables), by default every folder with a
    plain name (letters, digits, ``_``). Partitioned files carry their own ``year`` column, so a
    file read on its own says what it holds; the folder name is not parsed. A view reads the files
    there when it is made. The view's name and the files' paths are quoted, never pasted: a folder
    or a lake path named like SQL stays a name."""
    names = []
    if not area.exists():
        return names
    wanted = set(tables) if tables is not None else None
    for sub in sorted(p for p in area.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if wanted is not None and sub.name not in wanted:
            continue
        if wanted is None and not PLAIN_NAME.match(sub.name):
            continue
        files = table_files(area, sub.name)
        if not files:
            continue
        listed = ", ".join(sql_string(f) for f in files)
        con.execute(
            f"CREATE OR REPLACE VIEW {sql_identifier(sub.name)} AS SELECT * FROM read_parquet([{listed}], "
            "hive_partitioning = false, union_by_name = true)"
        )
        names.append(sub.name)
    return names
