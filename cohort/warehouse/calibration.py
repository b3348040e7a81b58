"""Calibration: measure a warehouse against a file of published targets.

The targets file has the columns ``metric,scope,year,value,tolerance,unit,status,source`` (as
``calibration_targets.csv`` shipped with the package, a copy of the team's reference file). Each
row is measured with the metric of that name in ``cohort.warehouse.metrics.METRICS``:

* counts (metrics registered with ``scaled=True``) are compared with ``value x scale``, the scale
  being read from the warehouse manifest (1.0 for a real extract without one);
* the tolerance is relative when the unit text says "relative", else absolute;
* a metric that is not registered, a scope that is not known or a metric that fails gives a row
  with ``ok = False`` and the reason: never a crash, never a silent pass.
"""

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from cohort import storage
from cohort.sources import checks
from cohort.warehouse import metrics_demography, metrics_labour  # noqa: F401  (they register their metrics)
from cohort.warehouse.build import read_manifest
from cohort.warehouse.metrics import METRICS

DEFAULT_TARGETS = Path(__file__).with_name("calibration_targets.csv")
TARGET_COLUMNS = ("metric", "scope", "year", "value", "tolerance", "unit")


@dataclass
class CalibrationRow:
    metric: str
    scope: str
    year: int
    target: float  # the published value, times the scale for counts
    generated: float | None
    tolerance: float  # absolute tolerance actually applied
    ok: bool
    published: float
    unit: str
    reason: str = ""


def read_targets(path: str | Path) -> list[dict]:
    """The rows of a targets CSV; a missing column is an error naming the file and the column."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in TARGET_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"targets file {path}: missing column(s) {', '.join(missing)}")
        return [row for row in reader if row.get("metric")]


def calibrate(
    warehouse: str | Path, targets: str | Path = DEFAULT_TARGETS, scale: float | None = None
) -> list[CalibrationRow]:
    """Measure every target row on the warehouse in ``warehouse``."""
    if scale is None:
        scale = float(read_manifest(warehouse).get("scale", 1.0))
    # the metrics group the whole warehouse; above COHORT_DUCKDB_MEMORY they spill beside its files
    with storage.spill_folder(Path(warehouse)) as spill, storage.connect(spill=spill) as con:
        checks.register_warehouse(con, Path(warehouse))
        return _measure(con, targets, scale)


def _measure(con: duckdb.DuckDBPyConnection, targets: str | Path, scale: float) -> list[CalibrationRow]:
    """Every target row of ``targets``, measured on the warehouse registered in ``con``."""
    rows = []
    for t in read_targets(targets):
        name, scope = t["metric"].strip(), t["scope"].strip()
        try:
            year, value, tol = int(t["year"]), float(t["value"]), float(t["tolerance"])
        except ValueError as exc:
            rows.append(
                CalibrationRow(
                    name,
                    scope,
                    0,
                    math.nan,
                    None,
                    math.nan,
                    False,
                    math.nan,
                    t.get("unit", ""),
                    f"unreadable row: {exc}",
                )
            )
            continue
        unit = t.get("unit", "") or ""
        m = METRICS.get(name)
        target = value * scale if (m is not None and m.scaled) else value
        abs_tol = tol * abs(target) if "relative" in unit.lower() else tol
        if m is None:
            rows.append(
                CalibrationRow(
                    name, scope, year, target, None, abs_tol, False, value, unit, "metric not registered"
                )
            )
            continue
        try:
            got = float(m.fn(con, scope, year))
        except Exception as exc:  # a broken metric or unknown scope is a failed row, not a crash
            first_line = (str(exc).strip().splitlines() or [""])[0]
            rows.append(
                CalibrationRow(
                    name,
                    scope,
                    year,
                    target,
                    None,
                    abs_tol,
                    False,
                    value,
                    unit,
                    f"{type(exc).__name__}: {first_line}",
                )
            )
            continue
        ok = not math.isnan(got) and abs(got - target) <= abs_tol
        rows.append(
            CalibrationRow(
                name,
                scope,
                year,
                target,
                got,
                abs_tol,
                ok,
                value,
                unit,
                "" if ok else ("not measurable" if math.isnan(got) else "outside tolerance"),
            )
        )
    return rows


def as_records(rows: list[CalibrationRow]) -> list[dict]:
    """JSON-ready rows: metric, scope, year, target, generated, tolerance, ok (+ published, unit, reason)."""
    out = []
    for r in rows:
        d = asdict(r)
        for k in ("target", "generated", "tolerance", "published"):
            if isinstance(d[k], float) and math.isnan(d[k]):
                d[k] = None
        out.append(d)
    return out


def format_figure(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def markdown_table(rows: list[CalibrationRow]) -> str:
    """The report as a Markdown table (Dagster metadata, README)."""
    lines = [
        "| metric | scope | year | target | generated | tolerance | ok |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        mark = "yes" if r.ok else f"**no** ({r.reason})"
        lines.append(
            f"| {r.metric} | {r.scope} | {r.year} | {format_figure(r.target)} | {format_figure(r.generated)} | {format_figure(r.tolerance)} | {mark} |"
        )
    return "\n".join(lines)
