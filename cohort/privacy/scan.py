"""The last gate before a file leaves: every export, and every release of a researcher's analysis (whose
codes come from its own SQL: cohort/analysis/review.py, ``scan_outputs``), is scanned, and a hit stops
the write. (A project's anonymous release publishes the classes its own SQL makes and protected counts,
through the disclosure gate, cohort/privacy/disclosure/gate.py.)

What blocks a file (rule names as they appear in :class:`ExportBlocked` and in the audit log):

- ``undeclared_column``: a column the spec does not declare for the table;
- ``national_number``: a value that looks like an INSZ / national number: 11 digits with a valid
  check digit, bare (``85073003328``), punctuated (``85.07.30-033.28``, ``850730 033 28``), inside
  a longer text, or as an integer or integral float with its leading zeros lost (from 7 digits
  on in code-like columns; from 9 digits on in pseudonym/count/number/weight columns, where
  smaller values are ordinary measures);
- ``enterprise_number``: 10 digits starting with 0 or 1 with a valid check digit (``0403199702``,
  ``0403.199.702``, ``BE 0403 199 702``), in the same forms;
- ``keyed_hash``: a 64-hex-character value (a pseudonym hash must never leave; exports carry
  sequence numbers);
- ``day_level_date``: a Date/Datetime column, or a text that looks like a day-level date
  (``2005-03-14``, ``14/03/2005``, ``20050314``), or an integer ``YYYYMMDD`` in a year/quarter/
  month/code column, unless the column is declared ``day`` (public reference dates only);
- ``outside_classes``: a value of a ``class`` column that is not one of its declared labels (a raw
  amount, age or date where the spec asks for a class);
- ``outside_codes``: a value of a ``code`` or ``marker`` column outside the code list its variable
  declares (``codes:`` in the spec; a column without a list is not checked);
- ``nested_type``: list/struct/map columns, which cannot be scanned.

A column's kind is its spec variable's (``ProjectSpec.column_kinds``), and what a kind lets a column
hold is written once, in cohort/classifications/kinds.py: whether its integers may not look like a
day (periods and codes), whether it is a measure (integers suspect as an identifier from 9 digits
on only), whether it may hold day-level dates (``day``, public reference dates only); the values a
class or code column may hold are its variable's classes or code list (``ProjectSpec.column_classes``). The scan adds what no spec
declares: identifiers, hashes, dates in text and nested types, in every column whatever its kind.
A kind may also be given directly as the sequence of class labels.

Messages never show an offending value: examples are masked (every digit and letter replaced,
only punctuation and length kept), so a blocked export's log is itself safe.

Entry points: :func:`scan_export` (returns a :class:`ScanResult`), :func:`assert_exportable`
(raises :class:`ExportBlocked`), and :func:`write_export`, which H3/H5 call for every file
that leaves: retention check, write to a temporary file, scan *those bytes*, validate them
against the table's own rules (optional ``validate``), rename into place,
and an ``export``/``release`` entry with the file's SHA-256 in the audit log (a block writes a
``refusal`` entry and no file).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from cohort import storage
from cohort.classifications import insz, kinds
from cohort.privacy import audit_log, retention
from cohort.settings import Lake

ColumnKinds = Mapping[str, str | Sequence[str]]


class ExportBlocked(RuntimeError):
    """The scan found something that must not leave: names table, column, rule and count, never the value."""

    def __init__(self, result: "ScanResult"):
        self.result = result
        super().__init__(result.message())


@dataclass(frozen=True)
class Hit:
    column: str
    rule: str
    count: int
    example: str = ""  # masked


@dataclass(frozen=True)
class ScanResult:
    table: str
    rows: int
    hits: tuple[Hit, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.hits

    def message(self) -> str:
        if self.ok:
            return f"export of {self.table}: {self.rows} rows, nothing found"
        parts = [
            f"{h.column}: {h.rule} ({h.count} value{'s' if h.count != 1 else ''}"
            + (f", e.g. {h.example!r}" if h.example else "")
            + ")"
            for h in self.hits
        ]
        return f"export of table {self.table} blocked ({self.rows} rows): " + "; ".join(parts)

    def metadata(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "blocked": not self.ok,
            **{f"scan/{h.column}/{h.rule}": h.count for h in self.hits},
        }


def mask(value: Any, keep: int = 24) -> str:
    """Shape of a value without its content: digits become '#', letters 'x'; punctuation stays."""
    s = str(value)[:keep]
    return re.sub(r"[A-Za-z]", "x", re.sub(r"\d", "#", s))


# --------------------------------------------------------------------------- SQL pieces
_MACROS = [
    # 11 digits with the national-number check digit under the 19xx or the 20xx rule.
    "CREATE OR REPLACE TEMP MACRO _scan_insz_ok(x) AS length(x) = 11 AND "
    + insz.insz_number_valid_sql("TRY_CAST(x AS BIGINT)"),
    # 10 digits, first 0 or 1, enterprise-number check digit.
    "CREATE OR REPLACE TEMP MACRO _scan_kbo_ok(x) AS length(x) = 10 AND substr(x, 1, 1) IN ('0', '1') AND "
    + insz.enterprise_number_valid_sql("TRY_CAST(x AS BIGINT)"),
    # Candidate digit strings of a text: every maximal digit run, and every run of digit groups
    # joined by single separators with the separators removed (85.07.30-033.28 -> 85073003328).
    "CREATE OR REPLACE TEMP MACRO _scan_digit_candidates(v) AS list_concat("
    r"regexp_extract_all(v, '\d+'), "
    r"list_transform(regexp_extract_all(v, '\d+(?:[. /-]\d+)+'), lambda y: regexp_replace(y, '[^0-9]', '', 'g')))",
]
_DAY_PATTERNS = [
    r"(^|[^0-9])(1[89]|20)[0-9]{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12][0-9]|3[01])([^0-9]|$)",
    r"(^|[^0-9])(0?[1-9]|[12][0-9]|3[01])[-/.](0?[1-9]|1[0-2])[-/.](1[89]|20)[0-9]{2}([^0-9]|$)",
    r"^(1[89]|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$",
]
_INT_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")


_q = storage.sql_identifier
_lit = storage.sql_string


def _numeric_id_condition(c: str, kind: str) -> str:
    """An integral number that is a national or enterprise number once zero-padded to 11/10 digits.

    Measures (counts up to the population, sequence numbers, totals: ``Kind.measure``) are only
    suspect from 9 digits on: below that a zero-padded count passes the check digit by chance 2 times
    in 97. Other kinds hold no large numbers, so there a national number of someone born in early
    2000 that lost its leading zeros as an integer (00010100105 -> 10100105) is caught too."""
    digits = f"CAST(CAST(abs({c}) AS HUGEINT) AS VARCHAR)"
    low = 100_000_000 if kinds.KINDS[kind].measure else 1_000_000
    return (
        f"({c} IS NOT NULL AND abs({c}) >= {low} AND abs({c}) < 100000000000 "
        f"AND CAST({c} AS DOUBLE) = floor(CAST({c} AS DOUBLE)) "
        f"AND (_scan_insz_ok(lpad({digits}, 11, '0')) OR _scan_kbo_ok(lpad({digits}, 10, '0'))))"
    )


def _rules_for(
    col: str, dtype: str, kind: str | Sequence[str], classes: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(rule, SQL condition that is true for an offending value) for one column."""
    c = _q(col)
    t = dtype.upper()
    rules: list[tuple[str, str]] = []
    kind_name = "class" if not isinstance(kind, str) else kind
    form = kinds.KINDS[kind_name]  # what the kind lets the column hold
    labels = list(kind) if not isinstance(kind, str) else list(classes or [])
    if t.startswith(("STRUCT", "MAP", "UNION")) or t.endswith("]"):
        return [("nested_type", "TRUE")]
    if t.startswith(("DATE", "TIMESTAMP", "TIME")) and not form.days:
        return [("day_level_date", f"{c} IS NOT NULL")]
    if t == "VARCHAR":
        # Cheap linear prefilter first (ten digits, separators allowed): the list work runs only on
        # the few values that have that many digits in a row.
        pre = f"regexp_matches({c}, '[0-9](?:[. /-]?[0-9]){{9}}')"
        rules.append(
            (
                "national_number",
                f"CASE WHEN {pre} THEN len(list_filter(_scan_digit_candidates({c}), "
                f"lambda x: _scan_insz_ok(x))) > 0 ELSE FALSE END",
            )
        )
        rules.append(
            (
                "enterprise_number",
                f"CASE WHEN {pre} THEN len(list_filter(_scan_digit_candidates({c}), "
                f"lambda x: _scan_kbo_ok(x))) > 0 ELSE FALSE END",
            )
        )
        rules.append(("keyed_hash", f"regexp_full_match({c}, '[0-9a-fA-F]{{64}}')"))
        if not form.days:
            rules.append(
                ("day_level_date", " OR ".join(f"regexp_matches({c}, {_lit(p)})" for p in _DAY_PATTERNS))
            )
    elif t.startswith(_INT_TYPES) or t.startswith(_FLOAT_TYPES) or t.startswith("DECIMAL"):
        rules.append(("national_number", _numeric_id_condition(c, kind_name)))
        if form.no_day_integers and t.startswith(_INT_TYPES):
            d = f"CAST({c} AS BIGINT)"
            rules.append(
                (
                    "day_level_date",
                    f"({d} BETWEEN 18000101 AND 21001231 AND ({d} // 100) % 100 BETWEEN 1 AND 12 "
                    f"AND {d} % 100 BETWEEN 1 AND 31)",
                )
            )
    if kind_name == "class" or (kind_name in ("code", "marker") and labels):
        allowed = ", ".join(_lit(str(x)) for x in labels) or "NULL"
        rule = "outside_classes" if kind_name == "class" else "outside_codes"
        rules.append((rule, f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({allowed})"))
    # Every rule ignores nulls: a null leaks nothing.
    return [(r, f"coalesce(({cond}), FALSE)") for r, cond in rules]


def _scan_relation(
    con: duckdb.DuckDBPyConnection,
    rel_sql: str,
    declared: ColumnKinds,
    table: str,
    classes: Mapping[str, Sequence[str]] | None,
) -> ScanResult:
    for m in _MACROS:
        con.execute(m)
    cols = con.execute(f"DESCRIBE SELECT * FROM {rel_sql}").fetchall()
    if isinstance(rel_sql, str) and rel_sql.startswith("read_parquet("):
        # The row count is in the footer: no scan.
        rows = int(
            con.execute(
                f"SELECT sum(num_rows) FROM parquet_file_metadata({rel_sql[len('read_parquet(') : -1]})"
            ).fetchall()[0][0]
            or 0
        )
    else:
        rows = int(con.execute(f"SELECT count(*) FROM {rel_sql}").fetchall()[0][0])
    hits: list[Hit] = []
    checks: list[tuple[str, str, str]] = []  # column, rule, condition
    for name, dtype, *_ in cols:
        if name not in declared:
            hits.append(Hit(name, "undeclared_column", rows))
            continue
        kind = declared[name]
        if isinstance(kind, str) and kind not in kinds.COLUMN_KINDS:
            raise ValueError(
                f"table {table}, column {name}: unknown kind {kind!r} (one of {sorted(kinds.COLUMN_KINDS)})"
            )
        for rule, cond in _rules_for(name, dtype, kind, (classes or {}).get(name)):
            checks.append((name, rule, cond))
    if checks and rows:
        # One pass over the data: each condition evaluated once, then a count and one (masked
        # later) example per rule.
        flags = ", ".join(f"{cond} AS _f{i}" for i, (_col, _rule, cond) in enumerate(checks))
        select = ", ".join(
            f"count_if(_f{i}) AS n{i}, min(CASE WHEN _f{i} THEN CAST({_q(col)} AS VARCHAR) END) AS e{i}"
            for i, (col, _rule, _cond) in enumerate(checks)
        )
        values = con.execute(f"SELECT {select} FROM (SELECT *, {flags} FROM {rel_sql})").fetchall()[0]
        for i, (col, rule, _cond) in enumerate(checks):
            n, example = values[2 * i], values[2 * i + 1]
            if n:
                hits.append(Hit(col, rule, int(n), mask(example) if example is not None else ""))
    return ScanResult(table, rows, tuple(hits))


def scan_export(
    data: pl.DataFrame | Path | str,
    spec_columns: ColumnKinds,
    table: str,
    classes: Mapping[str, Sequence[str]] | None = None,
    file_format: str | None = None,
) -> ScanResult:
    """Scan a Polars frame or a Parquet/CSV file against the declared column kinds.

    ``spec_columns`` maps every column to its kind (``ProjectSpec.column_kinds(table)``);
    ``classes`` gives the declared values of the columns that have them, the labels of a class
    column or the code list of a code column (``ProjectSpec.column_classes(table)``).
    """
    con = storage.connect()
    try:
        if isinstance(data, pl.DataFrame):
            con.register("_scan_frame", data)
            rel = "_scan_frame"
        else:
            path = Path(data)
            fmt = file_format or ("csv" if path.suffix.lower() == ".csv" else "parquet")
            reader = "read_csv" if fmt == "csv" else "read_parquet"
            rel = f"{reader}({_lit(str(path))})"
        return _scan_relation(con, rel, spec_columns, table, classes)
    finally:
        con.close()


def assert_exportable(
    data: pl.DataFrame | Path | str,
    spec_columns: ColumnKinds,
    table: str,
    classes: Mapping[str, Sequence[str]] | None = None,
) -> ScanResult:
    """:func:`scan_export`, raising :class:`ExportBlocked` on any hit."""
    result = scan_export(data, spec_columns, table, classes)
    if not result.ok:
        raise ExportBlocked(result)
    return result


@dataclass(frozen=True)
class ExportRecord:
    path: Path
    sha256: str
    rows: int
    audit_entry: dict


def _project_of(path: Path, area: Path) -> str:
    try:
        rel = path.resolve().relative_to(area.resolve())
    except ValueError:
        raise ValueError(
            f"an export must be written under {area.name}/ of the lake, not to {path.name}"
        ) from None
    if len(rel.parts) < 2:
        raise ValueError(f"an export path must be {area.name}/<project>/...: got {rel.as_posix()}")
    return rel.parts[0]


def write_export(
    con_or_frame: duckdb.DuckDBPyConnection | pl.DataFrame,
    path: Path,
    table: str,
    column_kinds: ColumnKinds,
    lake: Lake,
    run_id: str | None,
    *,
    sql: str | None = None,
    classes: Mapping[str, Sequence[str]] | None = None,
    retention_date: date | None = None,
    action: str = "export",
    file_format: str = "parquet",
    validate: storage.Validate | None = None,
) -> ExportRecord:
    """Scan, write atomically and log one file that leaves the secure area.

    ``con_or_frame`` is a Polars frame, or a DuckDB connection together with ``sql`` (order the
    rows in ``sql`` for stable bytes). ``path`` must lie under ``<lake>/exports/<project>/`` for
    ``action="export"`` or ``<lake>/releases/<project>/`` for ``action="release"``; the project
    is the first folder. With ``retention_date``, an expired project is refused (and logged).
    On a hit: no file, a ``refusal`` audit entry, and :class:`ExportBlocked`. ``validate(tmp)``
    (the table's blocking rules, e.g. its Pandera schema) runs on the scanned temporary file; when
    it raises, nothing is logged or published and the previous version of the file stays.
    """
    if action not in ("export", "release"):
        raise ValueError("action is 'export' or 'release'")
    path = Path(path)
    project = _project_of(path, lake.exports if action == "export" else lake.releases)
    if retention_date is not None:
        retention.refuse_if_expired(lake, project, retention_date, run_id, what=f"{action} {table}")
    tmp = storage.tmp_beside(path)
    try:
        if isinstance(con_or_frame, pl.DataFrame):
            if file_format == "csv":
                con_or_frame.write_csv(tmp)
            else:
                con_or_frame.write_parquet(tmp, compression="zstd", statistics=True)
        else:
            if sql is None:
                raise ValueError("write_export with a DuckDB connection needs sql=")
            opts = "FORMAT csv, HEADER true" if file_format == "csv" else storage.PARQUET_OPTIONS
            con_or_frame.execute(f"COPY ({sql}) TO {_lit(str(tmp))} ({opts})")
        # Scan the very bytes that would be published, not the query that made them.
        result = scan_export(tmp, column_kinds, table, classes, file_format=file_format)
        if not result.ok:
            audit_log.record(
                lake,
                "refusal",
                project,
                run_id=run_id,
                detail={
                    "rule": "export_scan",
                    "table": table,
                    "attempted": action,
                    "target": path.name,
                    "hits": [{"column": h.column, "rule": h.rule, "count": h.count} for h in result.hits],
                },
            )
            raise ExportBlocked(result)
        if validate is not None:
            validate(tmp)
        # Logged before it is published: a file can be in the log and not on disk (a failed
        # rename, visible), never on disk and not in the log.
        digest = audit_log.sha256_file(tmp)
        rel = path.resolve().relative_to(lake.root.resolve()).as_posix()
        entry = audit_log.record(
            lake,
            action,
            project,
            run_id=run_id,
            hashes={rel: digest},
            detail={"table": table, "rows": result.rows},
        )
        storage.publish(tmp, path)
    finally:
        storage.discard(tmp, path)
    return ExportRecord(path, digest, result.rows, entry)


def write_release(
    con_or_frame, path: Path, table: str, column_kinds: ColumnKinds, lake: Lake, run_id: str | None, **kwargs
) -> ExportRecord:
    """:func:`write_export` for an anonymous table passing into ``releases/`` (after the disclosure gate)."""
    return write_export(con_or_frame, path, table, column_kinds, lake, run_id, action="release", **kwargs)
