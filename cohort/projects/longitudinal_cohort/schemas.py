"""Pandera schemas (polars backend) of the export tables, generated from the spec.

A column's dtype and checks follow its variable's kind, so a table cannot drift from the
deliberation without the schema noticing: ``class`` columns hold only their declared labels,
``quarter`` columns only ``YYYYQn``, ``month`` columns only ``YYYY-MM``, pseudonyms are positive
sequence numbers, and the schema is strict (no column beyond the spec's).
"""

import pandera.polars as pa
import polars as pl

from cohort.projects.spec import ProjectSpec

QUARTER = r"^\d{4}Q[1-4]$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
YEARS_LIST = r"^(\d{4}(,\d{4})*)?$"


def column_schema(spec: ProjectSpec, name: str, nullable: bool, year: int | None = None) -> pa.Column:
    """The Pandera column of one variable; ``year`` pins year columns and the ``quarter`` column to it."""
    v = spec.variables[name]
    checks: list[pa.Check] = []
    if v.kind == "pseudonym":
        dtype, checks = pl.Int64, [pa.Check.ge(1)]
    elif v.kind == "year":
        dtype, checks = pl.Int16, [pa.Check.in_range(1900, 2100)]
        if year is not None and name == "year":
            checks.append(pa.Check.eq(year))
    elif v.kind == "quarter":
        dtype, checks = pl.String, [pa.Check.str_matches(QUARTER)]
        if year is not None and name == "quarter":
            checks.append(pa.Check.str_startswith(str(year)))
    elif v.kind == "month":
        dtype, checks = pl.String, [pa.Check.str_matches(MONTH)]
    elif v.kind == "class":
        dtype, checks = pl.String, [pa.Check.isin(list(v.classes))]
    elif v.kind == "flag":
        dtype = pl.Boolean
    elif v.kind == "count":
        dtype, checks = pl.Int32, [pa.Check.ge(0)]
    elif v.kind == "number":
        dtype, checks = pl.Float64, [pa.Check.ge(0)]
    elif v.kind == "weight":
        dtype, checks = pl.Float64, [pa.Check.ge(1)]
    else:  # code, marker
        dtype = pl.String
        if name == "children_birth_years":
            checks = [pa.Check.str_matches(YEARS_LIST)]
    return pa.Column(dtype, checks=checks or None, nullable=nullable, description=v.description)


def table_schema(spec: ProjectSpec, table: str, year: int | None = None) -> pa.DataFrameSchema:
    """The schema of an export table (of one year when ``year`` is given)."""
    t = spec.table(table)
    required = set(t.extra.get("not_null", ()))
    columns = {c: column_schema(spec, c, nullable=c not in required, year=year) for c in t.columns}
    return pa.DataFrameSchema(
        columns,
        name=f"{spec.id}.{table}",
        description=t.description,
        strict=True,
        ordered=True,
        unique=list(t.extra["key"]) if t.extra.get("key") else None,
    )


def validate(spec: ProjectSpec, table: str, df: pl.DataFrame, year: int | None = None) -> list[str]:
    """Every failure of ``df`` against the table's schema, as short messages (empty when valid)."""
    try:
        table_schema(spec, table, year).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        out = []
        for err in exc.schema_errors:
            out.append(f"{getattr(err, 'column_name', None) or table}: {str(err).splitlines()[0][:200]}")
        return out or [str(exc)[:500]]
    return []
