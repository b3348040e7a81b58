"""Pandera schemas (polars backend) of the labour-reserve tables, compiled from the spec by the project
kernel (cohort/projects/schemas.py) with this project's code lists, and the validation of a written
partition.

How a partition is validated, and why: at full scale a year holds about 7.5 million rows and up
to 140 columns. Pandera on the whole frame would first load it all into memory and then run
~300 column checks row by row in Polars, which costs more than building the table. So:

1. **Every row, in DuckDB SQL over the Parquet file** (one pass, ``count(*) FILTER``): the
   value rules that can be broken anywhere: class columns within their declared classes,
   codes within their code lists, markers within their vocabulary (all from the spec's ``classes:``
   and ``codes:``), required columns not null (the spec's ``required: true``), the rules of each
   column's kind (cohort/classifications/kinds.py: months shaped ``YYYY-MM``, FTE not negative,
   years in range, ...), the pseudonym unique.
2. **The Pandera schema on a sample** of at most ``SAMPLE_ROWS`` rows taken evenly through the
   file (all rows of a small table, e.g. phase 1 or the tests): exact columns in the spec's order,
   dtypes and the same value checks once more, with Pandera's failure report.
3. **Spec authorisation** of the column list (``ProjectSpec.check_columns``).

A table made of another, already validated table's columns plus some of its own (the mobility
tables: a situation year plus the columns of its neighbour year) passes ``columns``, the ones
whose rules did not already run on the source (:func:`unchecked_columns`): the value rules of 1
and 2 then run on those alone, while the column list, order and dtypes of the whole file are
still checked (3, and the Pandera schema on zero rows).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandera.polars as pa
import polars as pl

from cohort import storage
from cohort.classifications import kinds
from cohort.projects import schemas
from cohort.projects.spec import ProjectSpec, UnauthorisedColumnError

SAMPLE_ROWS = 100_000


def schema_for(spec: ProjectSpec, table: str) -> pa.DataFrameSchema:
    """The Pandera schema of a spec table, compiled by the project kernel (cohort/projects/schemas.py):
    exact columns in order, dtypes by kind, the spec's classes and code lists, its required columns,
    one row per pseudonym."""
    return schemas.table_schema(spec, table, key=["person_id"])


_q = storage.sql_identifier


def unchecked_columns(spec: ProjectSpec, table: str, validated: str, key: str = "person_id") -> list[str]:
    """The columns of ``table`` (in its order) whose value rules did not all run on the table
    ``validated`` it copies its other columns from: those ``validated`` lacks, and those never null
    here but not there (a column's other rules are its variable's, the same in every table).
    The key is always among them: its uniqueness is a rule of the whole row set."""
    source = set(spec.table(validated).columns)
    tightened = schemas.never_null_columns(spec, table) - schemas.never_null_columns(spec, validated)
    return [c for c in spec.table(table).columns if c == key or c not in source or c in tightened]


def sql_violations(
    con: duckdb.DuckDBPyConnection,
    spec: ProjectSpec,
    table: str,
    path: Path,
    columns: Sequence[str] | None = None,
) -> dict[str, int]:
    """Rule -> number of offending rows over the whole file (only rules with offences are returned),
    the rules of ``columns`` only when given (see the module docstring)."""
    rules: list[tuple[str, str]] = []
    never_null = schemas.never_null_columns(spec, table)
    checked = set(spec.table(table).columns if columns is None else columns)
    for name in (c for c in spec.table(table).columns if c in checked):
        var = spec.variables[name]
        allowed = None if var.allowed is None else ", ".join(storage.sql_string(a) for a in var.allowed)
        # the kind's rules and the values of the spec (cohort/classifications/kinds.py), as for Pandera
        rules += [(f"{name}/{rule}", cond) for rule, cond in kinds.sql_checks(var.kind, _q(name), allowed)]
        if name in never_null:
            rules.append((f"{name}/null", f"{_q(name)} IS NULL"))
    # count_if, not count(*) FILTER (WHERE ...): the same count (a null condition counts as not
    # broken in both), but DuckDB 2.0 evaluates ~300 FILTER clauses about six times slower (measured
    # on 2 million rows x 150 rules: 1.2-1.7 s against 8.6-10.5 s CPU; docs/measurements.md)
    select = ", ".join(f"count_if({cond})" for _, cond in rules)
    src = f"read_parquet({storage.sql_string(path)}, hive_partitioning = false)"
    values = con.execute(f"SELECT {select}, count(*) - count(DISTINCT person_id) FROM {src}").fetchall()[0]
    out = {rule: int(v) for (rule, _), v in zip(rules, values[:-1], strict=True) if v}
    if values[-1]:
        out["person_id/duplicate"] = int(values[-1])
    return out


def sample_frame(
    path: Path, rows: int, limit: int = SAMPLE_ROWS, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """All rows when small, else every k-th row (deterministic) so the sample spans the file;
    only ``columns`` when given."""
    lf = pl.scan_parquet(path)
    if columns is not None:
        lf = lf.select(list(columns))
    if rows <= limit:
        return lf.collect()
    return lf.gather_every(max(1, rows // limit)).head(limit).collect()


def validate_partition(
    spec: ProjectSpec, table: str, path: Path, columns: Sequence[str] | None = None
) -> tuple[bool, dict[str, Any]]:
    """Validate a written partition (see the module docstring); returns (passed, metadata).
    ``columns``: the columns whose values are checked (:func:`unchecked_columns`); None: all."""
    meta: dict[str, Any] = {}
    # the columns whose values are checked, in the table's order (all by default)
    checked = [c for c in spec.table(table).columns if columns is None or c in set(columns)]
    with storage.connect() as con:  # a checking connection, closed on leaving
        found = [
            r[0]
            for r in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({storage.sql_string(path)}, hive_partitioning = false)"
            ).fetchall()
        ]
        rows = int(
            con.execute(
                f"SELECT count(*) FROM read_parquet({storage.sql_string(path)}, hive_partitioning = false)"
            ).fetchall()[0][0]
        )
        try:
            spec.check_columns(table, found)
            missing = [c for c in spec.table(table).columns if c not in found]
            meta["spec/unauthorised"] = 0
            meta["spec/missing"] = len(missing)
        except UnauthorisedColumnError as exc:
            meta["spec/unauthorised"] = str(exc)
            missing = []
        violations = (
            sql_violations(con, spec, table, path, checked)
            if not isinstance(meta["spec/unauthorised"], str)
            else {}
        )
    meta.update({f"sql/{k}": v for k, v in violations.items()})
    schema = schema_for(spec, table)
    if columns is not None:
        meta["pandera/columns_checked"] = len(checked)
    frame = sample_frame(path, rows, columns=None if columns is None else checked)
    meta["pandera/rows_checked"] = frame.height
    try:
        if columns is not None:
            # every column's name, place and dtype, on no rows; the values of ``checked`` below
            schema.validate(pl.scan_parquet(path).head(0).collect(), lazy=True)
            schema = schema.select_columns(checked)
        schema.validate(frame, lazy=True)
        meta["pandera/failures"] = 0
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        meta["pandera/failures"] = int(cases.height) if isinstance(cases, pl.DataFrame) else 1
        meta["pandera/report"] = str(exc)[:2000]
    meta["rows"] = rows
    passed = (
        meta["spec/unauthorised"] == 0 and not missing and not violations and meta["pandera/failures"] == 0
    )
    return passed, meta


def failures(meta: dict[str, Any]) -> dict[str, int | str]:
    """The broken rules of :func:`validate_partition`'s metadata, rule -> count (or message)."""
    broken: dict[str, int | str] = {
        k: v for k, v in meta.items() if k.startswith(("spec/", "sql/")) and v not in (0, None)
    }
    if meta.get("pandera/failures"):
        broken["pandera/failures"] = meta["pandera/failures"]
    return broken


def rejecting(spec: ProjectSpec, table: str, year: int | None, meta: dict[str, Any]) -> storage.Validate:
    """A ``validate`` callback for the storage writers: runs :func:`validate_partition` on the
    temporary file, keeps its metadata in ``meta`` (for the blocking check's result) and refuses
    the file with :class:`cohort.storage.PartitionRejected` when a rule is broken, so an invalid
    partition is never renamed into place."""

    def validate(tmp: Path) -> None:
        passed, found = validate_partition(spec, table, tmp)
        meta.update(found)
        if not passed:
            where = f"{spec.id} {table}" + (f" {year}" if year is not None else "")
            raise storage.PartitionRejected(where, failures(found))

    return validate
