"""The spec compiled to Pandera (polars backend): one rule from a variable to its column schema, used by
every project that validates its tables (cohort/projects/longitudinal_cohort/schemas.py,
cohort/projects/labour_reserve/schemas.py).

A column's dtype and checks follow its variable's kind (cohort/classifications/kinds.py), so a table
cannot drift from the deliberation without the schema noticing: ``class`` columns hold only their
declared labels, ``quarter`` columns only ``YYYYQn``, ``month`` columns only ``YYYY-MM``, pseudonyms
are positive sequence numbers, counts and numbers are not negative, design weights at least 1, and
the schema is strict and ordered (exactly the spec's columns, in the spec's order). The variable adds its code list
(``codes:``, :attr:`Variable.allowed`) and whether it is ``required``; the table its ``not_null`` and
``key``. A project adds only what the spec cannot say: text patterns.

Part of the project kernel: it imports the spec and nothing of a project.
"""

from collections.abc import Mapping, Sequence

import pandera.polars as pa
import polars as pl

from cohort.classifications import kinds
from cohort.projects.spec import ProjectSpec, Variable


def column_schema(
    variable: Variable,
    *,
    nullable: bool = True,
    pattern: str | None = None,
    year: int | None = None,
) -> pa.Column:
    """The Pandera column of one variable: dtype and checks by its kind, its values
    (:attr:`Variable.allowed`: a class column's labels, a code or marker column's code list);
    ``pattern`` a regular expression its text must match; ``year`` pins the ``year`` column and the
    ``quarter`` column to that year."""
    kind, name = variable.kind, variable.name
    checks = kinds.pandera_checks(kind, variable.allowed)
    if year is not None and kind == "year" and name == "year":
        checks.append(pa.Check.eq(year))
    if year is not None and kind == "quarter" and name == "quarter":
        checks.append(pa.Check.str_startswith(str(year)))
    if pattern is not None:
        checks.append(pa.Check.str_matches(pattern))
    return pa.Column(
        kinds.KINDS[kind].dtype,
        checks=checks or None,
        nullable=nullable,
        description=variable.description,
    )


def never_null_columns(spec: ProjectSpec, table: str) -> set[str]:
    """The columns of ``table`` that must never be null: its ``required`` variables and its ``not_null``."""
    t = spec.table(table)
    return {name for name in t.columns if spec.variables[name].required} | set(t.extra.get("not_null", ()))


def table_schema(
    spec: ProjectSpec,
    table: str,
    *,
    year: int | None = None,
    patterns: Mapping[str, str] | None = None,
    key: Sequence[str] | None = None,
) -> pa.DataFrameSchema:
    """The schema of a spec table (of one year when ``year`` is given). Columns never null: see
    :func:`never_null_columns`; the key (unique together): ``key``, else the table's ``key``."""
    t = spec.table(table)
    never_null = never_null_columns(spec, table)
    unique = list(key or t.extra.get("key") or ()) or None
    columns = {
        name: column_schema(
            spec.variables[name],
            nullable=name not in never_null,
            pattern=(patterns or {}).get(name),
            year=year,
        )
        for name in t.columns
    }
    return pa.DataFrameSchema(
        columns,
        name=f"{spec.id}.{table}",
        description=t.description,
        strict=True,
        ordered=True,
        unique=unique,
    )


def failure_messages(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[str]:
    """Every failure of ``frame`` against ``schema``, as short messages (empty when valid)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        out = [
            f"{getattr(err, 'column_name', None) or schema.name}: {str(err).splitlines()[0][:200]}"
            for err in exc.schema_errors
        ]
        return out or [str(exc)[:500]]
    return []
