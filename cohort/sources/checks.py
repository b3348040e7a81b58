"""Checking a source table against its contract on load, with a quarantine for the rows that fail.

Use (``lake`` is ``LakeResource.paths()``, a :class:`cohort.settings.Lake`)::

    con = storage.connect()
    result = load_source(con, lake.warehouse, "person", max_reject_share=0.001,
                         quarantine_dir=lake.quarantine, run_id=context.run.run_id)
    con.sql("SELECT ... FROM person")              # now a view of the accepted rows only
    return dg.MaterializeResult(metadata=result.metadata())

and in a later step (another process) without checking again::

    clean_view(con, lake.warehouse, "person", lake.quarantine)

or, simplest in a project asset, check only what was not checked yet (same files, same rules)::

    con = storage.connect()
    meta = ensure_checked(con, lake.warehouse, ["person", "sep_quarter"], spec_threshold,
                          lake.quarantine, run_id=context.run.run_id)

What is checked, all in DuckDB SQL over the Parquet files, and the rule names used in the
quarantine's ``reason`` column, the counts and the messages. Each rule is written once (below, or
translated from the Pandera schema) and means what it says row by row; where it is judged is a
matter of cost only: a text column's rules on its distinct values, another column's in a scan of
that column filtered inside the Parquet reader (a float's row by row: Parquet statistics leave NaN
out), the rules of several columns and the births in one scan of those columns, then every rule
on the few rows found; duplicates by a group-by, skipped for a file whose keys strictly increase;
overlapping spells by a window:

- file level, raised at once as :class:`SourceContractError` whatever the threshold (no row can
  be trusted): ``missing_table``, ``layout`` (a Parquet file where the table has none, which
  would otherwise be ignored), ``unreadable_file`` (empty, truncated or corrupt Parquet),
  ``empty_file`` (a file of zero rows), ``schema:missing_column`` / ``schema:extra_column`` /
  ``schema:wrong_type`` (the Pandera dtypes of ``cohort.sources.contract``);
- row level, from the Pandera schema translated to SQL: ``null:<col>`` (null where the contract
  allows none), ``format:<col>`` (``str_matches``: wrong length, letters in a number...),
  ``code:<col>`` (``isin``: unknown code), ``range:<col>`` (``in_range`` / ``ge``);
- semantic rules: ``insz_checksum:<col>`` and ``enterprise_checksum:<col>`` (11/10 digits with a
  wrong check digit), ``inverted_spell:<end>`` (end before start; ``valid_to``/``spell_end`` are
  exclusive so an end equal to the start is inverted too), ``future_date:<col>`` (after
  ``as_of``, by default 31 December of the current year; not for spell ends, which may be
  planned in advance, e.g. the end of a maternity leave),
  ``before_birth:<col>`` (a date of the person, or the period of a yearly/quarterly row, before
  the person's birth date in ``person``; for ``person``: death before birth),
  ``incapacity_period:<what>`` (``benefit_quarter``, the periods of a health-fund incapacity spell,
  :data:`INCAPACITY_PERIOD_RULES`: a date missing or out of its order),
  ``file_year:year`` (a row of a yearly table in another year's file, ``year=YYYY/``: it would be
  read as a row of its own year while its file is checked and reused as the other year's),
  ``duplicate_key`` (every copy of a key that occurs more than once: which copy is right is not
  ours to guess; for a yearly table, whose key holds the year and whose rows sit in their year's
  file, the copies are sought file by file) and ``duplicate:<col>`` for other unique columns, and ``overlapping_spell``
  (residence and register spells of one person that overlap; nationality spells only for the
  same nationality, since dual nationality is legal).

A row gets every rule it breaks; its ``reason`` is the first in the order above. Overlaps are
judged among rows that broke no other rule. Rejected rows go to
``<quarantine_dir>/<table>/data.parquet`` with ``reason``, ``reasons`` (all, comma-separated),
``_file`` (relative to the warehouse) and ``_row`` (row number in that file) and the original
columns; nothing else is dropped. Above ``max_reject_share`` the load raises
:class:`SourceContractError` (table, rules, counts, share, threshold) after writing the
quarantine so it can be inspected.

Design choice (cheapest correct): accepted rows are not copied. The clean data is a view that
anti-joins the raw files with the (small) quarantine on (file, row number), so a 300-million-row
table is read, never rewritten. A manifest ``_check.json`` beside the quarantine records each
file's size and modification time; :func:`clean_view` refuses to serve a table whose files
changed since they were checked. The quarantine holds identified rows: it is as sensitive as
the warehouse itself.
"""

import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from cohort import clock, storage
from cohort.classifications import codes, incapacity, insz
from cohort.settings import Lake
from cohort.sources.contract import ENTERPRISE, INSZ, TABLES, SourceTable

QUARANTINE_FILE = "data.parquet"
# Bump when a rule changes: checks recorded under another version are redone by ensure_checked.
# 2: plausible bounds of amounts, status-flag range; 3: per-file counts in the manifest; 4: file_year;
# 5: incapacity_period (benefit_quarter's incapacity and invalidity starts)
RULES_VERSION = 5
MANIFEST_FILE = "_check.json"

# Polars dtype names of the contract -> DuckDB type names as DESCRIBE shows them.
DUCKDB_TYPES = {
    "String": "VARCHAR",
    "Date": "DATE",
    "Int8": "TINYINT",
    "Int16": "SMALLINT",
    "Int32": "INTEGER",
    "Int64": "BIGINT",
    "Float64": "DOUBLE",
    "Float32": "FLOAT",
    "Boolean": "BOOLEAN",
}

# (start, end, end is exclusive) per table.
SPELLS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "nationality_history": (("valid_from", "valid_to", True),),
    "residence_history": (("valid_from", "valid_to", True),),
    "register_history": (("valid_from", "valid_to", True),),
    "benefit_quarter": (("spell_start", "spell_end", True),),
    "job_quarter": (("activation_start", "activation_end", True),),
    "vdab_trajectory": (("start_date", "end_date", False),),
    "vdab_training": (("start_date", "end_date", False),),
    "vdab_workplace_learning": (("start_date", "end_date", False),),
    "measure_beneficiary": (("inflow_date", "outflow_date", False),),
}
# Spell tables where a person can be in one state at a time: group columns of the overlap rule.
OVERLAP_GROUPS: dict[str, tuple[str, ...]] = {
    "residence_history": ("insz",),
    "register_history": ("insz",),
    "nationality_history": ("insz", "nationality"),
}
SPELL_END_COLUMNS = frozenset(e for spells in SPELLS.values() for _s, e, _excl in spells)

_HEALTH_FUND = ", ".join(storage.sql_literal(b) for b in codes.HEALTH_FUND_INCAPACITY)
# The periods of a health-fund incapacity spell in benefit_quarter (cohort/classifications/incapacity.py),
# rule -> SQL condition true for a bad row. The invalidity start is not required on an invalidity row:
# the DWH types a row by its quarter, and a spell can end in the quarter of its first anniversary
# before reaching it (an invalid going on pension).
INCAPACITY_PERIOD_RULES: tuple[tuple[str, str], ...] = (
    ("incapacity_period:missing", f"benefit IN ({_HEALTH_FUND}) AND incapacity_start IS NULL"),
    (
        "incapacity_period:other_benefit",
        f"benefit NOT IN ({_HEALTH_FUND}) AND (incapacity_start IS NOT NULL OR invalidity_start IS NOT NULL)",
    ),
    # the health fund pays from the first day of incapacity at the earliest
    ("incapacity_period:payment_before_incapacity", "spell_start < incapacity_start"),
    (
        "incapacity_period:invalidity_not_after_first_year",
        f"invalidity_start <> {incapacity.invalidity_start_sql('incapacity_start')} "
        "OR (invalidity_start IS NOT NULL AND incapacity_start IS NULL)",
    ),
    # known by the quarter's last day, and within the spell
    ("incapacity_period:invalidity_after_quarter", "invalidity_start > quarter_last_day(year, quarter)"),
    ("incapacity_period:invalidity_after_end", "invalidity_start >= spell_end"),
    # a maternity rest is no incapacity that turns into invalidity; a primary-incapacity row cannot
    # lie wholly in the invalidity
    ("incapacity_period:maternity_invalidity", "benefit = 'maternity' AND invalidity_start IS NOT NULL"),
    (
        "incapacity_period:primary_in_invalidity",
        "benefit = 'incapacity' AND invalidity_start <= quarter_first_day(year, quarter)",
    ),
)


class SourceContractError(RuntimeError):
    """A source table breaks its contract: the message names the table, the rule and the count."""

    def __init__(
        self,
        table: str,
        rule: str,
        count: int,
        message: str,
        share: float | None = None,
        threshold: float | None = None,
    ):
        self.table, self.rule, self.count, self.share, self.threshold = table, rule, count, share, threshold
        super().__init__(message)


@dataclass(frozen=True)
class SourceLoadResult:
    """What the check found; ``metadata()`` is ready for ``dg.MaterializeResult``."""

    table: str
    rows: int
    rejected: int
    counts: dict[str, int]  # rows per primary reason (sums to ``rejected``)
    rule_counts: dict[str, int]  # rows breaking each rule (a row may count under several)
    threshold: float
    quarantine_path: Path
    files: int
    seconds: float
    skipped_rules: tuple[str, ...] = field(default=())
    reused: bool = False  # the last check still held (:func:`last_check_if_valid`): nothing was read

    @property
    def accepted(self) -> int:
        return self.rows - self.rejected

    @property
    def share(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "source_rows": self.rows,
            "accepted_rows": self.accepted,
            "rejected_rows": self.rejected,
            "rejected_share": round(self.share, 8),
            "reject_threshold": self.threshold,
            "quarantine_file": f"quarantine/{self.table}/{QUARANTINE_FILE}",
        }
        meta.update({f"rejected/{rule}": n for rule, n in sorted(self.counts.items())})
        if self.skipped_rules:
            meta["skipped_rules"] = ", ".join(self.skipped_rules)
        if self.reused:
            meta["reused_check"] = True
        return meta


# --------------------------------------------------------------------------- helpers
# one quoting for the whole project (cohort.storage): names doubled in double quotes, constants
# in single quotes
_q = storage.sql_identifier
_lit = storage.sql_literal


def source_files(warehouse_dir: Path, table: SourceTable) -> list[Path]:
    """The Parquet files of a table, in a stable order; hidden files (temporary writes) never count."""
    base = Path(warehouse_dir) / table.name
    pattern = "year=*/*.parquet" if table.by_year or any(base.glob("year=*")) else "*.parquet"
    return sorted(
        p for p in base.glob(pattern) if not p.name.startswith(".") and not p.parent.name.startswith(".")
    )


def _fingerprint(files: list[Path], warehouse_dir: Path) -> list[dict[str, Any]]:
    out = []
    for f in files:
        st = f.stat()
        out.append(
            {"file": f.relative_to(warehouse_dir).as_posix(), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        )
    return out


def _same_files(current: list[dict[str, Any]], recorded: list[dict[str, Any]]) -> bool:
    """The files are those that were checked: same names, sizes and modification times (the
    manifest's entries also carry each file's counts)."""
    keys = ("file", "size", "mtime_ns")
    return [tuple(e[k] for k in keys) for e in current] == [tuple(e[k] for k in keys) for e in recorded]


def _read_sql(files: list[Path]) -> str:
    lst = "[" + ", ".join(_lit(str(f)) for f in files) + "]"
    return f"read_parquet({lst}, filename = '_file', file_row_number = true, hive_partitioning = false)"


def _year_stats(con: duckdb.DuckDBPyConnection, file: Path) -> set[tuple[int | None, int | None]]:
    """(min, max) of the ``year`` column in each row group of ``file``, from its Parquet footer
    (None where a row group records no statistics)."""
    rows = con.execute(
        "SELECT stats_min_value, stats_max_value FROM parquet_metadata(?) WHERE path_in_schema = 'year'",
        [str(file)],
    ).fetchall()
    return {(None if lo is None else int(lo), None if hi is None else int(hi)) for lo, hi in rows}


def _check_files(
    con: duckdb.DuckDBPyConnection, t: SourceTable, files: list[Path], allow_empty: bool
) -> dict[Path, int]:
    """File-level rules; returns the row count of each file."""
    expected = {
        name: DUCKDB_TYPES.get(str(col.dtype), str(col.dtype)) for name, col in t.schema.columns.items()
    }
    unreadable, empty, rows = [], [], {}
    missing: set[str] = set()
    extra: set[str] = set()
    wrong: set[str] = set()
    for f in files:
        try:
            n = con.execute("SELECT num_rows FROM parquet_file_metadata(?)", [str(f)]).fetchall()[0][0]
            described = con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = false)", [str(f)]
            ).fetchall()
        except duckdb.Error:
            unreadable.append(f.name if f.parent.name == t.name else f"{f.parent.name}/{f.name}")
            continue
        if n == 0:
            empty.append(f"{f.parent.name}/{f.name}")
        rows[f] = int(n)
        got = {name: typ for name, typ, *_ in described}
        missing |= set(expected) - set(got)
        extra |= set(got) - set(expected)
        wrong |= {c for c in expected if c in got and got[c] != expected[c]}
    if unreadable:
        raise SourceContractError(
            t.name,
            "unreadable_file",
            len(unreadable),
            f"source table {t.name}: rule unreadable_file: {len(unreadable)} Parquet file(s) empty, truncated or "
            f"corrupt ({', '.join(unreadable[:5])}); replace them from the extract",
        )
    if empty and not allow_empty:
        raise SourceContractError(
            t.name,
            "empty_file",
            len(empty),
            f"source table {t.name}: rule empty_file: {len(empty)} Parquet file(s) with zero rows "
            f"({', '.join(empty[:5])}); a partial extract is refused",
        )
    for rule, cols in (
        ("schema:missing_column", missing),
        ("schema:extra_column", extra),
        ("schema:wrong_type", wrong),
    ):
        if cols:
            detail = ", ".join(f"{c} (expected {expected[c]})" if c in expected else c for c in sorted(cols))
            raise SourceContractError(
                t.name,
                rule,
                len(cols),
                f"source table {t.name}: rule {rule}: {len(cols)} column(s): {detail}",
            )
    return rows


def _shape_sql(c: str, pattern: str) -> str:
    """SQL for ``str_matches(pattern)``: a full match, with ``\\d`` as ASCII digits only (stricter
    than Pandera's Unicode ``\\d``; measured faster than ``ltrim``/cast tricks in DuckDB 2.0)."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        return f"regexp_matches({c}, {_lit(pattern)})"
    body = pattern[1:-1].replace("\\d", "[0-9]")
    return f"regexp_full_match({c}, {_lit(body)})"


def _column_rules(t: SourceTable) -> list[tuple[str, str]]:
    """(rule, SQL condition true for a bad row) from the Pandera schema, in column order."""
    rules: list[tuple[str, str]] = []
    for name, col in t.schema.columns.items():
        c = _q(name)
        if not col.nullable:
            rules.append((f"null:{name}", f"{c} IS NULL"))
        for chk in col.checks:
            stats = chk.statistics or {}
            if chk.name == "str_matches":
                pattern = stats["pattern"]
                shape = _shape_sql(c, pattern)
                rules.append((f"format:{name}", f"NOT {shape}"))
                # The number once, as an integer: body = v // 100, check digits = v % 100.
                v = f"TRY_CAST({c} AS BIGINT)"
                if pattern == INSZ:
                    ok = insz.insz_number_valid_sql(v)
                    rules.append((f"insz_checksum:{name}", f"{shape} AND NOT {ok}"))
                elif pattern == ENTERPRISE:
                    ok = insz.enterprise_number_valid_sql(v)
                    rules.append((f"enterprise_checksum:{name}", f"{shape} AND NOT {ok}"))
            elif chk.name == "isin":
                allowed = ", ".join(_lit(v) for v in stats["allowed_values"])
                rules.append((f"code:{name}", f"{c} NOT IN ({allowed})"))
            elif chk.name == "in_range":
                lo = ">=" if stats.get("include_min", True) else ">"
                hi = "<=" if stats.get("include_max", True) else "<"
                rules.append(
                    (
                        f"range:{name}",
                        f"NOT ({c} {lo} {stats['min_value']} AND {c} {hi} {stats['max_value']})",
                    )
                )
            elif chk.name == "greater_than_or_equal_to":
                rules.append((f"range:{name}", f"{c} < {stats['min_value']}"))
            elif chk.name == "less_than_or_equal_to":
                rules.append((f"range:{name}", f"{c} > {stats['max_value']}"))
            elif chk.name == "greater_than":
                rules.append((f"range:{name}", f"{c} <= {stats['min_value']}"))
            else:  # a new kind of check in the contract must not be skipped silently
                raise NotImplementedError(
                    f"contract check {chk.name} on {t.name}.{name} has no SQL translation"
                )
    return rules


def _is_float(t: SourceTable, column: str) -> bool:
    return str(t.schema.columns[column].dtype).startswith("Float")


def _any(conds: list[str]) -> str:
    """SQL true when one of ``conds`` is."""
    return " OR ".join(f"({c})" for c in conds)


def _names(cond: str) -> set[str]:
    """The words of the SQL condition ``cond`` outside its string constants (so that a code equal
    to a column name does not count): the columns it reads, among function names and keywords."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"'(?:[^']|'')*'", "''", cond)))


def _split_rules(
    rules: list[tuple[str, str]], t: SourceTable
) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """The conditions of ``rules`` by where they are evaluated: those that read one text column
    of the table (by column), those that read one other column (by column), and the others
    (several columns, or a name that is no column of the table such as ``_birth``). Decides only
    where a rule is evaluated, not what it decides: a rule counted on too many columns is judged
    in the scan of several, the same way."""
    text: dict[str, list[str]] = {}
    other_column: dict[str, list[str]] = {}
    others: list[str] = []
    for _rule, cond in rules:
        words = _names(cond)
        read = words & set(t.columns)
        if len(read) == 1 and not any(w.startswith("_") for w in words):
            (column,) = read
            is_text = str(t.schema.columns[column].dtype) == "String"
            (text if is_text else other_column).setdefault(column, []).append(cond)
        else:
            others.append(cond)
    return text, other_column, others


def _period_start_sql(t: SourceTable) -> str | None:
    """The last day of the period a yearly/quarterly row describes (compared with the birth date)."""
    cols = t.columns
    if "year" in cols and "quarter" in cols:
        return "quarter_last_day(year, quarter)"
    if t.name == "household_jan1":
        return "make_date(year, 1, 1)"
    if "year" in cols:
        return "make_date(year, 12, 31)"
    return None


def _semantic_rules(t: SourceTable, as_of: date, with_births: bool) -> list[tuple[str, str]]:
    rules: list[tuple[str, str]] = []
    for start, end, exclusive in SPELLS.get(t.name, ()):
        op = "<=" if exclusive else "<"
        rules.append((f"inverted_spell:{end}", f"{_q(end)} {op} {_q(start)}"))
    for d in t.date_columns:
        if d in SPELL_END_COLUMNS:
            continue  # a planned end (maternity leave, a fixed-term measure) is known in advance
        rules.append((f"future_date:{d}", f"{_q(d)} > DATE '{as_of.isoformat()}'"))
    if "year" in t.columns:
        rules.append(("future_date:year", f"year > {as_of.year}"))
    if t.name == "benefit_quarter":
        rules += INCAPACITY_PERIOD_RULES
    if t.name == "person":
        rules.append(("before_birth:death_date", "death_date < birth_date"))
    elif with_births:
        rules += [(rule, f"{when} < _birth") for rule, when, _floor in _dated(t)]
    return rules


def _dated(t: SourceTable) -> list[tuple[str, str, str]]:
    """The rules ``before_birth`` of a table other than ``person``: (rule, SQL of the date that
    must not be before the person's birth, SQL of an aggregate no greater than that date on any
    row). A period ends on or after the 1st of January of its year (its date is null for a quarter
    out of 1-4): ``min(year)`` comes from the Parquet statistics, where the minimum of the period
    itself would be computed row by row."""
    dated = [(f"before_birth:{d}", _q(d), f"min({_q(d)})") for d in t.date_columns]
    period = _period_start_sql(t)
    if period:
        dated.append(("before_birth:year", period, "make_date(min(year), 1, 1)"))
    return dated


def default_as_of() -> date:
    """The day after which a date is in the future: 31 December of the clock's year (a warehouse
    extract holds the whole running year's registrations, some of them dated ahead)."""
    return date(clock.today().year, 12, 31)


_NO_REJECTS: dict[str, Any] = {"rejected": 0, "counts": {}, "rule_counts": {}}


def _per_file_counts(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Rejected rows of each file just checked (``_bad``): total, per first reason, per rule."""
    out: dict[str, dict[str, Any]] = {}
    for f, reason, n in con.execute(
        "SELECT _f, reasons[1], count(*) FROM _bad GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        entry = out.setdefault(f, {"rejected": 0, "counts": {}, "rule_counts": {}})
        entry["rejected"] += int(n)
        entry["counts"][reason] = int(n)
    for f, rule, n in con.execute(
        "SELECT _f, r, count(*) FROM (SELECT _f, unnest(reasons) AS r FROM _bad) GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        out[f]["rule_counts"][rule] = int(n)
    return out


def _sum_counts(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for rule, n in part.items():
            total[rule] = total.get(rule, 0) + int(n)
    return dict(sorted(total.items()))


# Rows per batch of the key-order test (a few tens of MB of key columns).
KEY_ORDER_BATCH = 1_000_000


def _keys_increase(con: duckdb.DuckDBPyConnection, rows: str, key: tuple[str, ...], t: SourceTable) -> bool:
    """True when the keys of ``rows`` (SQL of a relation), read in their stored order, strictly
    increase (lexicographically, a null before any value and equal to another null, as
    ``IS NOT DISTINCT FROM`` has it): then no key occurs twice and the duplicate rule has nothing
    to find. False says nothing (unordered rows, a float in the key): the rows are grouped then.

    A warehouse written in key order (the synthetic one, most extracts) passes in one streaming
    read of the key columns, compared batch by batch with Polars: 0.4 s of CPU for a year of
    sep_quarter at scale 0.1 (4.6 million rows), against 1 s for the grouping on the key's hash
    alone."""
    if any(_is_float(t, k) for k in key):
        return False  # NaN is not ordered; leave a float key to the grouping
    before: pl.Expr = pl.lit(False)
    for k in reversed(key):  # lexicographic: the first column decides, ties go to the next
        this, following = pl.col(k), pl.col(k).shift(-1)
        less = (this < following).fill_null(False) | (this.is_null() & following.is_not_null())
        before = less | (this.eq_missing(following) & before)
    reader = con.sql(f"SELECT {', '.join(_q(k) for k in key)} FROM {rows}").to_arrow_reader(KEY_ORDER_BATCH)
    try:
        last: pl.DataFrame | None = None
        for batch in reader:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            if last is not None:  # the pair across the batches' border too
                frame = pl.concat([last, frame], how="vertical_relaxed")
            if frame.height > 1 and not frame.select(before.head(frame.height - 1).all()).item():
                return False
            last = frame.tail(1)
        return True
    finally:
        reader.close()


# Connections (by id) inside a call that checks several tables: the births stay between them.
_SHARING_BIRTHS: set[int] = set()


@contextmanager
def _sharing_births(con: duckdb.DuckDBPyConnection | None) -> Iterator[None]:
    """Keep the births table of ``con`` from one table's check to the next, and drop it at the
    end (a project step's connection goes on to its own work). Nothing to share without ``con``:
    each check then has a connection of its own."""
    if con is None or id(con) in _SHARING_BIRTHS:
        yield
        return
    _SHARING_BIRTHS.add(id(con))
    try:
        yield
    finally:
        _SHARING_BIRTHS.discard(id(con))
        _drop_births(con)


def _births_made_as(con: duckdb.DuckDBPyConnection, made_as: str) -> bool:
    """Whether ``con`` holds a births table made as ``made_as`` says (files and query)."""
    held = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name IN ('_births', '_births_made_as')"
    ).fetchone()
    if not held or held[0] != 2:
        return False
    row = con.execute("SELECT made_as FROM _births_made_as").fetchone()
    return row is not None and row[0] == made_as


def _drop_births(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS _births")
    con.execute("DROP TABLE IF EXISTS _births_made_as")


@contextmanager
def _optimizers_off(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> Iterator[None]:
    """DuckDB's optimizers ``names`` switched off in ``con`` for the block, then as they were."""
    (before,) = con.execute("SELECT current_setting('disabled_optimizers')").fetchone() or ("",)
    off = [n for n in str(before or "").split(",") if n.strip()] + list(names)
    con.execute(f"SET disabled_optimizers = {storage.sql_string(','.join(off))}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {storage.sql_string(str(before or ''))}")


def _births(warehouse_dir: Path, t: SourceTable) -> tuple[list[Path], bool, list[dict[str, Any]]]:
    """The ``person`` files, whether the rules of ``t`` read births from them, and their
    fingerprint when they do (a check of ``t`` holds only while those files are the same)."""
    person_files = source_files(warehouse_dir, TABLES["person"]) if t.name != "person" else []
    needs_births = bool(
        t.name != "person" and (t.date_columns or _period_start_sql(t)) and "insz" in t.columns
    )
    return person_files, needs_births, _fingerprint(person_files, warehouse_dir) if needs_births else []


def last_check_if_valid(
    warehouse_dir: Path,
    table: str,
    quarantine_dir: Path,
    max_reject_share: float,
    as_of: date | None = None,
) -> SourceLoadResult | None:
    """The last :func:`load_source` of ``table`` when it still holds for the whole table, else
    ``None``: every file the same as when it was checked (name, size, modification time), the
    same rules (``RULES_VERSION``), the same reference day, for the rules that read births the
    same ``person`` files, its quarantine file still there, and its rejected share within
    ``max_reject_share``. Checking such a table again reads every row to find the same rows.

    The contract check assets (:mod:`cohort.sources.defs`) use it, so that the demo's warehouse
    run, after the projects checked the tables they read, checks only the others."""
    t = TABLES[table]
    warehouse_dir = Path(warehouse_dir).resolve()
    manifest = _manifest_path(Path(quarantine_dir), table)
    qfile = Path(quarantine_dir) / table / QUARANTINE_FILE
    if not manifest.exists() or not qfile.exists():
        return None
    recorded = json.loads(manifest.read_text())
    person_files, needs_births, births_from = _births(warehouse_dir, t)
    if (
        recorded.get("rules_version") != RULES_VERSION
        or recorded.get("as_of") != (as_of or default_as_of()).isoformat()
        or not _same_files(births_from, recorded.get("births_from", []))
        or not _same_files(_fingerprint(source_files(warehouse_dir, t), warehouse_dir), recorded["files"])
        or any("rows" not in e for e in recorded["files"])
    ):
        return None
    result = SourceLoadResult(
        table=table,
        rows=int(recorded["rows"]),
        rejected=int(recorded["rejected"]),
        counts={k: int(v) for k, v in recorded["counts"].items()},
        rule_counts=_sum_counts(e.get("rule_counts", {}) for e in recorded["files"]),
        threshold=max_reject_share,
        quarantine_path=qfile,
        files=0,
        seconds=0.0,
        skipped_rules=("before_birth (no person table)",) if needs_births and not person_files else (),
        reused=True,
    )
    return result if result.share <= max_reject_share else None


def _still_checked(
    quarantine_dir: Path,
    t: SourceTable,
    files: list[Path],
    warehouse_dir: Path,
    as_of: date,
    births_from: list[dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The manifest entries of the files of a yearly table whose last check still holds: same
    file, same rules, same reference day and the same births. Empty for other tables (their rules
    compare rows across the whole table) and when there is no usable earlier check."""
    manifest = _manifest_path(Path(quarantine_dir), t.name)
    qfile = Path(quarantine_dir) / t.name / QUARANTINE_FILE
    if not t.by_year or not manifest.exists() or not qfile.exists():
        return {}
    recorded = json.loads(manifest.read_text())
    if (
        recorded.get("rules_version") != RULES_VERSION
        or recorded.get("as_of") != as_of.isoformat()
        or not _same_files(births_from, recorded.get("births_from", []))
    ):
        return {}
    before = {e["file"]: e for e in recorded["files"] if "rows" in e}
    keys = ("file", "size", "mtime_ns")
    return {
        e["file"]: before[e["file"]]
        for e in _fingerprint(files, warehouse_dir)
        if e["file"] in before and all(before[e["file"]][k] == e[k] for k in keys)
    }


def _manifest_path(quarantine_dir: Path, table: str) -> Path:
    return Path(quarantine_dir) / table / MANIFEST_FILE


def _write_manifest(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"  # parallel checkers
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True))
    tmp.replace(path)


# --------------------------------------------------------------------------- entry points
def load_source(
    con: duckdb.DuckDBPyConnection | None,
    warehouse_dir: Path,
    table: str,
    max_reject_share: float,
    quarantine_dir: Path,
    run_id: str | None = None,
    *,
    as_of: date | None = None,
    allow_empty: bool = False,
    view_name: str | None = None,
    incremental: bool = True,
) -> SourceLoadResult:
    """Check ``table`` of the warehouse at ``warehouse_dir`` against its contract.

    Writes the quarantine, then creates the view ``view_name`` (default: the table's name) of
    the accepted rows in ``con`` (pass ``None`` to only check). Raises
    :class:`SourceContractError` for a file-level fault, or when the share of rejected rows is
    above ``max_reject_share`` (the project spec's threshold; 0 refuses any bad row).

    A yearly table is checked file by file: with ``incremental`` (the default), a year whose
    file is unchanged since the last check under the same rules (and, for the rules that read
    births, the same ``person`` files) keeps that check's result and its quarantined rows, so a
    new warehouse year costs the check of that year only.
    """
    started = time.perf_counter()
    if table not in TABLES:
        raise SourceContractError(
            table, "unknown_table", 1, f"{table} is not a table of the warehouse contract"
        )
    t = TABLES[table]
    warehouse_dir = Path(warehouse_dir).resolve()
    quarantine_dir = Path(quarantine_dir)
    as_of = as_of or default_as_of()
    own = con is None
    files = source_files(warehouse_dir, t)
    if not files:
        raise SourceContractError(
            table,
            "missing_table",
            1,
            f"source table {table}: rule missing_table: no Parquet file under {table}/ of the warehouse",
        )
    visible = {
        p
        for p in (warehouse_dir / table).rglob("*.parquet")
        if not any(part.startswith(".") for part in p.relative_to(warehouse_dir).parts)
    }
    ignored = sorted(visible - set(files))
    if ignored:  # a stray file would otherwise be left out of the check and of the data, silently
        raise SourceContractError(
            table,
            "layout",
            len(ignored),
            f"source table {table}: rule layout: {len(ignored)} Parquet file(s) outside the table's layout "
            f"({', '.join(p.relative_to(warehouse_dir).as_posix() for p in ignored[:5])}); expected "
            + ("year=YYYY/data.parquet" if t.by_year else "data.parquet"),
        )
    person_files, needs_births, births_from = _births(warehouse_dir, t)
    kept = _still_checked(quarantine_dir, t, files, warehouse_dir, as_of, births_from) if incremental else {}
    todo = [f for f in files if f.relative_to(warehouse_dir).as_posix() not in kept]
    if not todo:  # nothing changed, and asked to check: check it all again
        kept, todo = {}, files
    closing = ExitStack()
    if own:
        # a checking connection of its own: the duplicate-key pass over a large table may spill, and
        # what it writes out is warehouse rows, so it goes beside the quarantine (storage.connect)
        work = closing.enter_context(
            storage.connect(spill=closing.enter_context(storage.spill_folder(quarantine_dir)))
        )
    else:
        work = con
    try:
        rows_of = _check_files(work, t, todo, allow_empty)
        prefix_len = len(str(warehouse_dir)) + 2  # strip "<warehouse>/"
        src = f"_src_{table}"

        def rows_with_place(files: list[Path]) -> str:
            """The rows of ``files`` with their file (relative to the warehouse) and row number."""
            return (
                f"SELECT * EXCLUDE (_file, file_row_number), substr(_file, {prefix_len}) AS _f, "
                f"file_row_number AS _r FROM {_read_sql(files)}"
            )

        work.execute(f"CREATE OR REPLACE TEMP VIEW {src} AS {rows_with_place(todo)}")
        by_file = {f.relative_to(warehouse_dir).as_posix(): f for f in todo}

        def rows_of_file(rel: str) -> str:
            """The rows of one file, named as in ``_f`` (relative to the warehouse), with their place."""
            if rel not in by_file:  # every _f comes from a file read here: anything else is a bug
                raise RuntimeError(f"checked rows of a file not read: {rel!r}")
            return rows_with_place([by_file[rel]])

        skipped: list[str] = []
        with_births = False
        column_rules = _column_rules(t)
        # The rules on the national number depend on its value only, and a table that reads births
        # joins every row to its person anyway: they are judged once per person, on the person
        # table's numbers, and per row only for a number that table does not hold (the same
        # conditions, so the same answers; at full size one check per person, 25 million, instead of
        # one per row, 378 million in sep_quarter 2019-2026).
        # rule -> (its condition, the column of _births that holds its answer per person)
        by_person = {
            rule: (cond, f"_by_person_{i}")
            for i, (rule, cond) in enumerate(
                (r, c) for r, c in column_rules if r in ("format:insz", "insz_checksum:insz")
            )
        }
        if needs_births:
            if person_files:
                judged = "".join(f", ({cond}) AS {column}" for cond, column in by_person.values())
                births_sql = (
                    f"SELECT insz, min(birth_date) AS _birth{judged} FROM "
                    f"read_parquet([{', '.join(_lit(str(f)) for f in person_files)}], hive_partitioning = false) "
                    "GROUP BY insz"
                )
                # the births of the tables before, in one ensure_checked, when made from the same
                # person files the same way (0.9 s a table at scale 0.1, 15 tables in a build)
                made_as = json.dumps({"files": births_from, "sql": births_sql}, sort_keys=True)
                if not _births_made_as(work, made_as):
                    work.execute(f"CREATE OR REPLACE TEMP TABLE _births AS {births_sql}")
                    work.execute(
                        "CREATE OR REPLACE TEMP TABLE _births_made_as AS SELECT ? AS made_as", [made_as]
                    )
                with_births = True
                column_rules = [
                    (rule, f"coalesce({by_person[rule][1]}, {cond})" if rule in by_person else cond)
                    for rule, cond in column_rules
                ]
            else:
                skipped.append("before_birth (no person table)")

        rules = column_rules + _semantic_rules(t, as_of, with_births)
        # Priority prefix so that the list sorts into rule order; stripped below.
        # A condition that is NULL (a null value) breaks no rule: CASE and WHERE both treat NULL as false.
        tagged = ", ".join(
            f"CASE WHEN ({cond}) THEN '{i:04d}|{rule}' END" for i, (rule, cond) in enumerate(rules)
        )
        any_bad = " OR ".join(f"({cond})" for _rule, cond in rules)
        join = "LEFT JOIN _births b ON b.insz = s.insz" if with_births else ""
        birth_col = "b._birth" if with_births else "NULL::DATE AS _birth"
        if with_births:
            birth_col += "".join(f", b.{column}" for _cond, column in by_person.values())
        # The row rules in two steps, the same conditions in both. First the rows that break any
        # rule, each rule where it costs least:
        # - a rule on one text column (codes, formats, check digits) on the column's distinct values
        #   (a few dozen codes, one number per person), then the rows holding a value it rejects,
        #   usually none;
        # - a rule on one other column (null, range) in a scan of that column, where DuckDB pushes it
        #   into the Parquet reader (which skips the row groups whose statistics clear it);
        # - the others in one scan of the columns they read, joined to the births of the persons
        #   born after the earliest date those rules compare with a birth only (nobody else can be
        #   born after one of those dates).
        # The national-number rules are judged on the number itself there (the answers per person
        # above are those very conditions on the same number). Then the tags of those rows, from
        # every rule as above, the rows read back by their row number (the reader skips to them).
        # One OR of every rule over every row joined to every birth took 9.6 of 16.9 s wall for
        # job_quarter at scale 0.1, 22 of 35 s for benefit_quarter.
        text, other_column, others = _split_rules(
            _column_rules(t) + _semantic_rules(t, as_of, with_births), t
        )
        work.execute("CREATE OR REPLACE TEMP TABLE _cand (_f VARCHAR, _r BIGINT)")
        for column, conds in text.items():
            c = _q(column)
            # two statements: in one, DuckDB would push the rules below the DISTINCT, to every row
            work.execute(f"CREATE OR REPLACE TEMP TABLE _values AS SELECT DISTINCT {c} FROM {src}")
            work.execute(
                f"CREATE OR REPLACE TEMP TABLE _rejected_values AS SELECT {c} FROM _values WHERE {_any(conds)}"
            )
            if work.execute("SELECT count(*) FROM _rejected_values").fetchone()[0]:
                work.execute(
                    f"INSERT INTO _cand SELECT _f, _r FROM {src} s SEMI JOIN _rejected_values v "
                    f"ON s.{c} IS NOT DISTINCT FROM v.{c}"
                )
        scans = [
            f"SELECT _f, _r FROM {src} WHERE {_any(conds)}"
            for column, conds in other_column.items()
            if not _is_float(t, column)
        ]
        floats = [cond for column, conds in other_column.items() if _is_float(t, column) for cond in conds]
        if floats:
            # Row by row: Parquet statistics leave NaN out of a float column's minimum and maximum,
            # and DuckDB, trusting them, would judge a range rule on NaN false for a whole row group
            # unread (NaN is above every number when a row is judged: out of range).
            with _optimizers_off(work, ("statistics_propagation", "filter_pushdown")):
                work.execute(f"INSERT INTO _cand SELECT _f, _r FROM {src} WHERE {_any(floats)}")
        if others:
            births = ""
            if with_births:
                earliest = "least(" + ", ".join(floor for _rule, _when, floor in _dated(t)) + ")"
                births = (
                    f", b._birth FROM {src} s LEFT JOIN (SELECT insz, _birth FROM _births "
                    f"WHERE _birth > (SELECT {earliest} FROM {src})) b ON b.insz = s.insz"
                )
            scans.append(
                f"SELECT _f, _r FROM (SELECT s.*{births or f' FROM {src} s'}) s WHERE {_any(others)}"
            )
        if scans:
            work.execute("INSERT INTO _cand " + " UNION ALL ".join(scans))
        found = [rel for (rel,) in work.execute("SELECT DISTINCT _f FROM _cand ORDER BY _f").fetchall()]
        work.execute(
            "CREATE OR REPLACE TEMP TABLE _cand_rows AS "
            + (
                " UNION ALL ".join(
                    f"SELECT s.* FROM ({rows_of_file(rel)}) s SEMI JOIN (SELECT _r FROM _cand WHERE _f = ?) c "
                    "ON s._r = c._r"
                    for rel in found
                )
                or f"SELECT * FROM {src} WHERE FALSE"
            ),
            found,
        )
        work.execute(
            f"""CREATE OR REPLACE TEMP TABLE _flags AS
            SELECT _f, _r, list_filter([{tagged}], lambda x: x IS NOT NULL) AS tags
            FROM (SELECT s.*, {birth_col} FROM _cand_rows s {join}) s
            WHERE {any_bad}"""
        )

        n_rules = len(rules)
        if t.by_year:
            # file_year: a row of another year in a year's file. The Parquet statistics of the year
            # column answer it for a whole file (min = max = its year) without reading a row; only a
            # file they do not clear is read. Ranked after the row rules, before the duplicates.
            for f in todo:
                file_year = int(f.parent.name.removeprefix("year="))
                if _year_stats(work, f) != {(file_year, file_year)}:
                    work.execute(
                        f"""INSERT INTO _flags SELECT _f, _r, ['{n_rules:04d}|file_year:year']
                        FROM ({rows_with_place([f])}) WHERE year <> {file_year}"""
                    )
        n_rules += 1
        key_sets = [("duplicate_key", t.key)] + [
            (f"duplicate:{name}", (name,))
            for name, col in t.schema.columns.items()
            if col.unique and (name,) != t.key
        ]
        for j, (rule, key) in enumerate(key_sets):
            keys = ", ".join(_q(k) for k in key)
            on = " AND ".join(f"c.{_q(k)} IS NOT DISTINCT FROM d.{_q(k)}" for k in key)
            # A key holding the year of a yearly table cannot repeat across files (file_year puts a
            # row of another year in quarantine), so its copies are sought one file at a time: one
            # year's hash table (47 million rows of sep_quarter at full size) instead of all years'.
            parts = [f"({rows_with_place([f])})" for f in todo] if t.by_year and "year" in key else [src]
            for part in parts:
                if _keys_increase(work, part, key, t):
                    continue  # each key greater than the one before: none occurs twice
                # Group on one 64-bit hash of the key (cheap at 300M rows), then confirm the few
                # candidate collisions on the real key columns.
                work.execute(
                    f"""INSERT INTO _flags
                    WITH dh AS (SELECT hash({keys}) AS kh FROM {part} GROUP BY kh HAVING count(*) > 1),
                    cand AS (SELECT _f, _r, {keys} FROM {part} WHERE hash({keys}) IN (SELECT kh FROM dh)),
                    d AS (SELECT {keys} FROM cand GROUP BY {keys} HAVING count(*) > 1)
                    SELECT _f, _r, ['{n_rules + j:04d}|{rule}'] FROM cand c SEMI JOIN d ON {on}"""
                )

        if table in OVERLAP_GROUPS:
            start, end, _excl = SPELLS[table][0]
            group = ", ".join(_q(g) for g in OVERLAP_GROUPS[table])
            prio = n_rules + len(key_sets)
            work.execute(
                f"""INSERT INTO _flags
                WITH sound AS (
                    SELECT {group}, _f, _r, {_q(start)} AS s, coalesce({_q(end)}, DATE '9999-12-31') AS e
                    FROM {src} ANTI JOIN (SELECT DISTINCT _f, _r FROM _flags) USING (_f, _r)),
                w AS (
                    SELECT _f, _r, s, e,
                        max(e) OVER (PARTITION BY {group} ORDER BY s, _f, _r
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end,
                        lead(s) OVER (PARTITION BY {group} ORDER BY s, _f, _r) AS next_start
                    FROM sound)
                SELECT _f, _r, ['{prio:04d}|overlapping_spell'] FROM w
                WHERE coalesce(prev_end > s, FALSE) OR coalesce(next_start < e, FALSE)"""
            )

        work.execute(
            """CREATE OR REPLACE TEMP TABLE _bad AS
            SELECT _f, _r, list_transform(list_sort(flatten(list(tags))), lambda x: split_part(x, '|', 2)) AS reasons
            FROM _flags GROUP BY _f, _r"""
        )
        cols = ", ".join(f"s.{_q(c)}" for c in t.columns)
        qfile = Path(quarantine_dir) / table / QUARANTINE_FILE
        picked = (
            "b.reasons[1] AS reason, array_to_string(b.reasons, ',') AS reasons, s._f AS _file, s._r AS _row"
        )
        # The rejected rows read back file by file by row number (the reader skips to them), not
        # by a join of every row of every file with the rejected ones.
        bad_files = [rel for (rel,) in work.execute("SELECT DISTINCT _f FROM _bad ORDER BY _f").fetchall()]
        new_rows = " UNION ALL ".join(
            f"""SELECT {picked}, {cols} FROM ({rows_of_file(rel)}) s
                JOIN (SELECT * FROM _bad WHERE _f = ?) b ON s._r = b._r"""
            for rel in bad_files
        )
        if not bad_files:  # no rejected row: the same columns, no row
            new_rows = f"SELECT {picked}, {cols} FROM {src} s JOIN _bad b USING (_f, _r)"
        if kept:  # the quarantined rows of the years kept, read before the new file replaces them
            kept_files = ", ".join(_lit(f) for f in kept)
            new_rows += f" UNION ALL BY NAME SELECT * FROM read_parquet({_lit(str(qfile))}) WHERE _file IN ({kept_files})"
        storage.write_query(work, f"SELECT * FROM ({new_rows}) ORDER BY _file, _row", qfile, params=bad_files)
        per_file = _per_file_counts(work)
        entries = []
        for entry in _fingerprint(files, warehouse_dir):
            if entry["file"] in kept:
                entries.append(kept[entry["file"]])
            else:
                path = warehouse_dir / entry["file"]
                entries.append({**entry, "rows": rows_of[path], **per_file.get(entry["file"], _NO_REJECTS)})
        rows = sum(e["rows"] for e in entries)
        rejected = sum(e["rejected"] for e in entries)
        counts = _sum_counts(e["counts"] for e in entries)
        rule_counts = _sum_counts(e["rule_counts"] for e in entries)
        _write_manifest(
            _manifest_path(quarantine_dir, table),
            {
                "table": table,
                "run_id": run_id,
                "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "as_of": as_of.isoformat(),
                "rows": rows,
                "rejected": rejected,
                "counts": counts,
                "files": entries,
                "births_from": births_from,
                "rules_version": RULES_VERSION,
                "files_checked": len(todo),
            },
        )
        for tmp in ("_cand", "_cand_rows", "_values", "_rejected_values", "_flags", "_bad"):
            work.execute(f"DROP TABLE IF EXISTS {tmp}")
        if id(con) not in _SHARING_BIRTHS:
            _drop_births(work)
        result = SourceLoadResult(
            table=table,
            rows=rows,
            rejected=rejected,
            counts={k: int(v) for k, v in counts.items()},
            rule_counts={k: int(v) for k, v in rule_counts.items()},
            threshold=max_reject_share,
            quarantine_path=qfile,
            files=len(todo),
            seconds=round(time.perf_counter() - started, 3),
            skipped_rules=tuple(skipped),
        )
        if result.share > max_reject_share:
            worst = max(result.counts.items(), key=lambda kv: (kv[1], kv[0]))
            detail = ", ".join(
                f"{rule} {n}" for rule, n in sorted(result.counts.items(), key=lambda kv: -kv[1])
            )
            raise SourceContractError(
                table,
                worst[0],
                rejected,
                f"source table {table}: {rejected} of {rows} rows rejected ({result.share:.4%}), above the "
                f"threshold of {max_reject_share:.4%}; by rule: {detail}. The rows and their reasons are in "
                f"quarantine/{table}/{QUARANTINE_FILE}.",
                share=result.share,
                threshold=max_reject_share,
            )
        if not own:
            clean_view(work, warehouse_dir, table, quarantine_dir, view_name=view_name)
        return result
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        # A file that passed the footer check but fails while its pages are read (corrupt data).
        raise SourceContractError(
            table,
            "unreadable_file",
            1,
            f"source table {table}: rule unreadable_file: reading failed: {type(exc).__name__}",
        ) from None
    finally:
        work.execute(f"DROP VIEW IF EXISTS _src_{table}")
        closing.close()  # an own connection, then its spill folder


def clean_view(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    table: str,
    quarantine_dir: Path,
    view_name: str | None = None,
) -> str:
    """Create (or replace) the view ``view_name`` (default ``table``) of the rows of ``table`` that
    passed the last :func:`load_source`, and return its name.

    Refuses (:class:`SourceContractError`, rule ``not_checked`` / ``stale_check``) a table that was
    never checked, or whose files changed since the check.
    """
    t = TABLES[table]
    warehouse_dir = Path(warehouse_dir).resolve()
    manifest = _manifest_path(quarantine_dir, table)
    if not manifest.exists():
        raise SourceContractError(
            table,
            "not_checked",
            1,
            f"source table {table}: rule not_checked: run load_source before using it",
        )
    checked = json.loads(manifest.read_text())
    files = source_files(warehouse_dir, t)
    if not _same_files(_fingerprint(files, warehouse_dir), checked["files"]):
        raise SourceContractError(
            table,
            "stale_check",
            1,
            f"source table {table}: rule stale_check: its files changed since they were "
            "checked; run load_source again",
        )
    name = view_name or table
    cols = ", ".join(_q(c) for c in t.columns)
    qfile = Path(quarantine_dir) / table / QUARANTINE_FILE
    if checked["rejected"] == 0:
        body = f"SELECT {cols} FROM read_parquet([{', '.join(_lit(str(f)) for f in files)}], hive_partitioning = false)"
    else:
        # The path is rebuilt on the small (quarantine) side so that the big side is not touched row by row.
        prefix = _lit(str(warehouse_dir) + "/")
        body = (
            f"SELECT {cols} FROM {_read_sql(files)} s "
            f"ANTI JOIN (SELECT {prefix} || _file AS _path, _row FROM read_parquet({_lit(str(qfile))})) q "
            f"ON q._path = s._file AND q._row = s.file_row_number"
        )
    con.execute(f"CREATE OR REPLACE VIEW {_q(name)} AS {body}")
    return name


def load_sources(
    con: duckdb.DuckDBPyConnection | None,
    warehouse_dir: Path,
    tables: list[str] | None,
    max_reject_share: float,
    quarantine_dir: Path,
    run_id: str | None = None,
    **kwargs: Any,
) -> dict[str, SourceLoadResult]:
    """:func:`load_source` for several tables (default: every contract table present). Checks them
    all, then raises one :class:`SourceContractError` naming every failing table, if any."""
    names = tables if tables is not None else [n for n in TABLES if (Path(warehouse_dir) / n).is_dir()]
    results: dict[str, SourceLoadResult] = {}
    errors: list[SourceContractError] = []
    with _sharing_births(con):
        for name in names:
            try:
                results[name] = load_source(
                    con, warehouse_dir, name, max_reject_share, quarantine_dir, run_id, **kwargs
                )
            except SourceContractError as exc:
                errors.append(exc)
    _raise_all(errors)
    return results


def _raise_all(errors: list[SourceContractError]) -> None:
    """One :class:`SourceContractError` naming every failing table (the first gives table and rule)."""
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    first = errors[0]
    raise SourceContractError(
        first.table,
        first.rule,
        sum(e.count for e in errors),
        "; ".join(str(e) for e in errors),
        first.share,
        first.threshold,
    )


def ensure_checked(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    tables: list[str],
    max_reject_share: float,
    quarantine_dir: Path,
    run_id: str | None = None,
    **kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Views of the accepted rows of ``tables`` in ``con``, checking only what needs it.

    A table whose last check is still valid (same files, same rules, same ``as_of`` year) and
    whose rejected share is within ``max_reject_share`` gets its clean view at once; any other
    table is checked again with :func:`load_source`. Returns the metadata of each table (the
    fresh check's, or the recorded one with ``reused_check: True``) for the asset's
    ``MaterializeResult``. This is the one call a project asset needs instead of reading the raw
    warehouse views.
    """
    out: dict[str, dict[str, Any]] = {}
    errors: list[SourceContractError] = []
    as_of = kwargs.get("as_of") or default_as_of()
    with _sharing_births(con):
        for table in tables:
            try:
                out[table] = _ensure_checked(
                    con, warehouse_dir, table, max_reject_share, quarantine_dir, run_id, as_of, kwargs
                )
            except SourceContractError as exc:  # check every table, then name them all
                errors.append(exc)
    _raise_all(errors)
    return out


def _ensure_checked(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    table: str,
    max_reject_share: float,
    quarantine_dir: Path,
    run_id: str | None,
    as_of: date,
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """:func:`ensure_checked` of one table."""
    reused = last_check_if_valid(warehouse_dir, table, quarantine_dir, max_reject_share, as_of)
    if reused is not None:
        clean_view(con, warehouse_dir, table, quarantine_dir)
        return reused.metadata()
    return load_source(
        con, warehouse_dir, table, max_reject_share, quarantine_dir, run_id, **kwargs
    ).metadata()


# --------------------------------------------------------------------------- what a project reads
# Share of a table's rows that may be quarantined before a build stops, when a spec is silent: a
# real extract has a few delivery errors; more than one row in a thousand means a broken delivery.
DEFAULT_MAX_REJECT_SHARE = 0.001


@dataclass(frozen=True)
class WarehouseReads:
    """The warehouse tables a project reads and how many bad rows it tolerates: the ``warehouse:``
    block of its spec. A step's connection holds views of exactly these tables, of their
    accepted rows only; a table not listed does not exist for the project."""

    tables: tuple[str, ...] = ()
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"warehouse tables not in the contract: {', '.join(unknown)}")
        if not 0 <= self.max_reject_share <= 1:
            raise ValueError(f"max_reject_share {self.max_reject_share} is not a share between 0 and 1")


def warehouse_years(warehouse_dir: Path) -> list[int]:
    """The years the warehouse holds: those with a ``sep_quarter/year=YYYY`` file (the quarterly
    positions are the backbone of every delivery; a year without them is not published yet)."""
    return sorted(
        int(f.parent.name.split("=", 1)[1])
        for f in source_files(Path(warehouse_dir), TABLES["sep_quarter"])
        if f.parent.name.split("=", 1)[1].isdigit()
    )


def require_years(warehouse_dir: Path, table: str, years: Iterable[int]) -> None:
    """Refuse (rule ``missing_year``) a yearly table without a file for a year the step reads.

    Without this, a year missing from the extract reads as no rows: nobody has a job that year
    and the delivery says so. (A file of zero rows is refused by the check itself: ``empty_file``.)
    """
    if not TABLES[table].by_year:
        return
    missing = sorted(
        y for y in set(years) if not storage.partition_file(Path(warehouse_dir), table, y).exists()
    )
    if missing:
        raise SourceContractError(
            table,
            "missing_year",
            len(missing),
            f"source table {table}: rule missing_year: {len(missing)} year(s) the build reads are not in "
            f"the warehouse ({', '.join(map(str, missing))}; expected {table}/year=YYYY/data.parquet); "
            "a partial extract is refused",
        )


@contextmanager
def checking(quarantine_dir: Path) -> Iterator[None]:
    """One check at a time per lake: two runs that start together check a table once, not twice
    (the second finds the first's manifest and reuses it)."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    with open(quarantine_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def register_warehouse(con: duckdb.DuckDBPyConnection, warehouse: Path) -> list[str]:
    """One view per table of the warehouse contract found in ``warehouse``, over its raw files; a
    folder that is not a contract table is not a source and becomes no view. Project steps read
    the checked rows instead (:func:`open_warehouse`); this is for the checks and the calibration."""
    return storage.register_tables(con, warehouse, TABLES)


def open_warehouse(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    reads: WarehouseReads,
    years: Iterable[int] = (),
    run_id: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Views of the accepted rows of every table in ``reads``, checked against the contract when
    their files changed since the last check, and refused for a year in ``years`` that a yearly
    table lacks. The one way a project step reads the warehouse. Returns each table's check
    metadata (rows, accepted, rejected by rule)."""
    years = list(years)
    missing: list[SourceContractError] = []
    for table in reads.tables:
        try:
            require_years(lake.warehouse, table, years)
        except SourceContractError as exc:
            missing.append(exc)
    _raise_all(missing)
    with checking(lake.quarantine):
        return ensure_checked(
            con, lake.warehouse, list(reads.tables), reads.max_reject_share, lake.quarantine, run_id
        )


def quarantine_summary(
    quarantine_dir: Path, tables: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """The last check of each table (default: every table checked so far) as recorded in its
    manifest: rows, rejected, and rejected rows per rule. For the command line and the UI."""
    out: dict[str, dict[str, Any]] = {}
    names = list(tables) if tables is not None else sorted(TABLES)
    for table in names:
        manifest = _manifest_path(Path(quarantine_dir), table)
        if manifest.exists():
            recorded = json.loads(manifest.read_text())
            out[table] = {k: recorded[k] for k in ("rows", "rejected", "counts", "checked_at")}
    return out


def quarantine_lines(quarantine_dir: Path, tables: Iterable[str] | None = None) -> list[str]:
    """One line per table with rejected rows (rows, rules), for the command line."""
    lines = []
    for table, rec in quarantine_summary(quarantine_dir, tables).items():
        if rec["rejected"]:
            rules = ", ".join(f"{rule} {n:,}" for rule, n in sorted(rec["counts"].items()))
            lines.append(
                f"{table}: {rec['rejected']:,} of {rec['rows']:,} rows in quarantine/{table}/ ({rules})"
            )
    return lines
