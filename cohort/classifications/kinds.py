"""The kinds of a delivered column, each written once: what a column of that kind may hold, compiled
into its Pandera checks (cohort/projects/schemas.py), its checks over every row in SQL
(cohort/projects/labour_reserve/schemas.py) and what the export scan lets it hold
(cohort/privacy/scan.py).

A spec variable has one of :data:`VARIABLE_KINDS` (cohort/projects/spec.py); the scan also knows
``text`` (free text, scanned like everything else) and ``day`` (allows day-level dates: public
reference dates only, never personal ones). A column's own values (a class's labels, a code's code
list) are the variable's, given to :func:`pandera_checks` and :func:`sql_checks` as ``allowed``.

Part of the rules at the bottom of the layers: imports no module of the package.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

QUARTER = r"^\d{4}Q[1-4]$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class Kind:
    """What a column of one kind holds, and so what may reach an export in it."""

    name: str
    description: str
    # the Polars dtype of the column (text when it is a label, a code or a period in text)
    dtype: type[pl.DataType] = pl.String
    # the smallest and largest value a number of this kind may take
    minimum: float | None = None
    maximum: float | None = None
    # the shape its text must have (a regular expression, anchored)
    pattern: str | None = None
    # a measure (a count, a total, a sequence number): its integers are suspect as a national or
    # enterprise number from 9 digits on only, below that a count passes the check digit by chance
    measure: bool = False
    # its integers must not look like a day (YYYYMMDD): a period or a code, not a measure
    no_day_integers: bool = False
    # may hold day-level dates (``day``: public reference dates only)
    days: bool = False
    # a spec variable may have this kind (``text`` and ``day`` are the scan's alone)
    in_spec: bool = True


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("pseudonym", "a project sequence number", pl.Int64, minimum=1, measure=True),
        Kind("year", "a calendar year", pl.Int16, minimum=1900, maximum=2100, no_day_integers=True),
        Kind("quarter", "a quarter, YYYYQn", pattern=QUARTER, no_day_integers=True),
        Kind("month", "a month, YYYY-MM", pattern=MONTH, no_day_integers=True),
        Kind("class", "one of the variable's classes"),
        Kind("code", "a code of a code list", no_day_integers=True),
        Kind("flag", "true or false", pl.Boolean),
        Kind("count", "a small integer count", pl.Int32, minimum=0, measure=True),
        Kind(
            "number",
            "a measure the deliberation allows as such, e.g. an FTE",
            pl.Float64,
            minimum=0,
            measure=True,
        ),
        Kind("weight", "a design weight", pl.Float64, minimum=1, measure=True),
        Kind("marker", "a status marker such as not_yet_observed", no_day_integers=True),
        Kind("text", "free text, scanned like everything else", no_day_integers=True, in_spec=False),
        Kind("day", "a public reference date (never a personal one)", days=True, in_spec=False),
    )
}
VARIABLE_KINDS: frozenset[str] = frozenset(name for name, kind in KINDS.items() if kind.in_spec)
COLUMN_KINDS: frozenset[str] = frozenset(KINDS)


def pandera_checks(kind: str, allowed: Sequence[str] | None = None) -> list[pa.Check]:
    """The Pandera checks of a column of ``kind`` holding only ``allowed`` (when given)."""
    rule = KINDS[kind]
    checks: list[pa.Check] = []
    if rule.minimum is not None and rule.maximum is not None:
        checks.append(pa.Check.in_range(rule.minimum, rule.maximum))
    elif rule.minimum is not None:
        checks.append(pa.Check.ge(rule.minimum))
    if rule.pattern is not None:
        checks.append(pa.Check.str_matches(rule.pattern))
    if allowed is not None:
        checks.append(pa.Check.isin(list(allowed)))
    return checks


def sql_checks(kind: str, column: str, allowed_sql: str | None = None) -> list[tuple[str, str]]:
    """(rule, SQL condition true for an offending row) of a column of ``kind``: ``column`` is its
    quoted name, ``allowed_sql`` its allowed values as a list of SQL literals (when it has a list).
    The rules: ``outside_list``, ``not_a_<kind>`` (its text shape), ``negative`` / ``below_minimum``
    and ``above_maximum``; nulls never offend."""
    rule = KINDS[kind]
    checks: list[tuple[str, str]] = []
    if allowed_sql is not None:
        checks.append(("outside_list", f"{column} IS NOT NULL AND {column} NOT IN ({allowed_sql})"))
    if rule.pattern is not None:
        # DuckDB's regexp_full_match anchors itself: the pattern without ^ and $
        shape = rule.pattern.removeprefix("^").removesuffix("$")
        checks.append(
            (f"not_a_{kind}", f"{column} IS NOT NULL AND NOT regexp_full_match({column}, '{shape}')")
        )
    if rule.minimum is not None:
        checks.append(("negative" if rule.minimum == 0 else "below_minimum", f"{column} < {rule.minimum:g}"))
    if rule.maximum is not None:
        checks.append(("above_maximum", f"{column} > {rule.maximum:g}"))
    return checks
