"""Pandera schemas (polars backend) of the export tables, compiled from the spec by the project kernel
(cohort/projects/schemas.py); this module adds the one text pattern the kinds cannot say."""

import pandera.polars as pa
import polars as pl

from cohort.projects import schemas
from cohort.projects.spec import ProjectSpec

# the birth years of the children, comma-separated (a code column whose text has a shape)
YEARS_LIST = r"^(\d{4}(,\d{4})*)?$"
PATTERNS = {"children_birth_years": YEARS_LIST}


def table_schema(spec: ProjectSpec, table: str, year: int | None = None) -> pa.DataFrameSchema:
    """The schema of an export table (of one year when ``year`` is given)."""
    return schemas.table_schema(spec, table, year=year, patterns=PATTERNS)


def validate(spec: ProjectSpec, table: str, df: pl.DataFrame, year: int | None = None) -> list[str]:
    """Every failure of ``df`` against the table's schema, as short messages (empty when valid)."""
    return schemas.failure_messages(table_schema(spec, table, year), df)
