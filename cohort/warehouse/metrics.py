"""The calibration metrics: how each ``metric`` of a targets file is measured on a warehouse.

A metric is a function ``(con, scope, year) -> float`` over a DuckDB connection in which
every warehouse table is a view. ``scaled=True`` marks counts of people, households or
events, which the calibration compares with ``target x scale``. A targets file may hold any
scope (``Belgium``, a region name, a province name) and any year the warehouse covers; a
metric name that is not registered is reported as not measurable, never silently passed.
"""

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from cohort.classifications import codes

MetricFn = Callable[[duckdb.DuckDBPyConnection, str, int], float]


@dataclass(frozen=True)
class Metric:
    name: str
    fn: MetricFn
    scaled: bool
    description: str


METRICS: dict[str, Metric] = {}


def metric(name: str, scaled: bool = False) -> Callable[[MetricFn], MetricFn]:
    """Register ``fn`` as the measure of ``name``; its docstring says what it counts."""

    def register(fn: MetricFn) -> MetricFn:
        METRICS[name] = Metric(name, fn, scaled, (fn.__doc__ or "").strip())
        return fn

    return register


_REGION_BY_NAME = {v.lower(): k for k, v in codes.REGIONS.items()}
_PROVINCE_BY_NAME = {v[0].lower(): k for k, v in codes.PROVINCES.items()}


def scope_predicate(scope: str, nis_col: str = "nis_code") -> str:
    """SQL predicate on a municipality NIS code column selecting residents of ``scope``."""
    s = scope.strip().lower()
    if s == "belgium":
        return f"{nis_col} IS NOT NULL"
    if s in _REGION_BY_NAME or s in ("flanders", "wallonia", "brussels"):
        region = _REGION_BY_NAME.get(s) or {"flanders": "02000", "wallonia": "03000", "brussels": "04000"}[s]
        arrs = [a for a, p in codes.ARRONDISSEMENTS.items() if codes.PROVINCES[p][1] == region]
        return f"substr({nis_col}, 1, 2) IN ({', '.join(repr(a[:2]) for a in arrs)})"
    if s in _PROVINCE_BY_NAME:
        prov = _PROVINCE_BY_NAME[s]
        arrs = [a for a, p in codes.ARRONDISSEMENTS.items() if p == prov]
        return f"substr({nis_col}, 1, 2) IN ({', '.join(repr(a[:2]) for a in arrs)})"
    raise ValueError(f"unknown scope {scope!r}: use Belgium, a region or a province name")
