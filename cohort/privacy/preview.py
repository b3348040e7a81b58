"""A few rows of a delivered file, for the Dagster UI: the table preview of a materialisation.

Only what has already left the secure area may be previewed: an export (pseudonymised and
coarsened by the export scan before it was written) or a table of an anonymous release (protected
by the gate: a suppressed cell is shown as it is published). A path under ``secure/`` (or anywhere
else) gives no preview, so a true count or a key never reaches the event log through it.

Every export asset calls :func:`export_preview` on the file it wrote and adds the result to its
materialisation's metadata::

    return dg.MaterializeResult(metadata={"rows": n, **export_preview(path, lake.paths())})
"""

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from cohort.settings import Lake

PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 30  # a wide table (the labour reserve's 140 columns) shows its first ones
TABLE_SUFFIXES = (".parquet", ".csv")


def previewable(path: Path, lake: Lake) -> bool:
    """True for a table file under ``exports/`` or ``releases/`` of the lake (never ``secure/``)."""
    resolved = path.resolve()
    return path.suffix in TABLE_SUFFIXES and any(
        resolved.is_relative_to(area.resolve()) for area in (lake.exports, lake.releases)
    )


def _cell(value: Any) -> str | int | float | bool | None:
    """A value as the UI's table records take it (dates and other types as text)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _head(path: Path, rows: int) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(path, n_rows=rows, infer_schema_length=0)  # every column as published text
    return pl.scan_parquet(path).head(rows).collect()


def preview_table(path: Path, lake: Lake, rows: int = PREVIEW_ROWS) -> dg.MetadataValue | None:
    """The first ``rows`` rows of a delivered file as a UI table, or None when the file is not one
    (not under ``exports/`` or ``releases/``, missing, or not a table)."""
    if not previewable(path, lake) or not path.is_file():
        return None
    head = _head(path, rows)
    head = head.select(head.columns[:PREVIEW_COLUMNS])
    schema = dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in head.schema.items()])
    records = [dg.TableRecord({k: _cell(v) for k, v in row.items()}) for row in head.iter_rows(named=True)]
    return dg.MetadataValue.table(records=records, schema=schema)


def export_preview(path: Path, lake: Lake, label: str = "preview") -> dict[str, dg.MetadataValue]:
    """``{label: <first rows>}`` for an export or release file, ``{}`` for anything else (a secure
    table, a missing file): spread it into a materialisation's metadata."""
    table = preview_table(path, lake)
    return {label: table} if table is not None else {}


def release_preview(folder: Path, lake: Lake, label: str = "preview") -> dict[str, dg.MetadataValue]:
    """The preview of the first table file of a release folder (its tables sorted by name), ``{}``
    when it has none."""
    files: Iterable[Path] = sorted(p for p in folder.glob("*") if p.suffix in TABLE_SUFFIXES)
    for path in files:
        return export_preview(path, lake, f"{label} ({path.stem})")
    return {}
