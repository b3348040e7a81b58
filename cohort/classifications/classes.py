"""Coarsening: the classes that replace exact values in a delivery.

Each rule is a small pure function that returns a DuckDB SQL expression, so the set work
stays in SQL while the rule is written, named and tested once. The class breaks are not here:
they are in each project's spec (``coarsening_rules:``, labelled by the variable's classes) and
:func:`coarsening_sql` compiles them; the country classes are :data:`COUNTRY_CLASS`, spelled in
SQL by :func:`country_class_sql` (and as the lookup table of :func:`install_lookups` for joins
that also need ``european`` / ``eu15``).
"""

import calendar
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import duckdb

from cohort.classifications import codes

# --- countries into classes (the grouping Flemish labour-market statistics use: Arvastat
# origin groups, with the large non-EU origin regions split out).
COUNTRY_CLASS: dict[str, str] = {}
for _c in codes.COUNTRIES:
    if _c == "BE":
        COUNTRY_CLASS[_c] = "Belgium"
    elif _c in codes.NEIGHBOURS:
        COUNTRY_CLASS[_c] = "Neighbouring country"
    elif _c in codes.SOUTH_EU15:
        COUNTRY_CLASS[_c] = "South EU-15"
    elif _c in codes.EU15:
        COUNTRY_CLASS[_c] = "Other EU-15"
    elif _c in codes.EU_ACCESSION:
        COUNTRY_CLASS[_c] = "EU-13"
    elif _c in ("MA", "DZ", "TN"):
        COUNTRY_CLASS[_c] = "Maghreb"
    elif _c == "TR":
        COUNTRY_CLASS[_c] = "Turkey"
    elif _c in ("RU", "UA", "AL", "XK", "RS", "MK"):
        COUNTRY_CLASS[_c] = "Other Europe"
    elif _c in ("CD", "RW", "CM", "GN", "ER", "SO", "NG", "GH"):
        COUNTRY_CLASS[_c] = "Sub-Saharan Africa"
    elif _c in ("SY", "AF", "IQ", "IR", "PS"):
        COUNTRY_CLASS[_c] = "Near and Middle East"
    elif _c in ("IN", "CN", "PK", "TH", "PH"):
        COUNTRY_CLASS[_c] = "Other Asia"
    else:
        COUNTRY_CLASS[_c] = "Americas and Oceania"
COUNTRY_CLASSES: tuple[str, ...] = (
    "Belgium",
    "Neighbouring country",
    "South EU-15",
    "Other EU-15",
    "EU-13",
    "Maghreb",
    "Turkey",
    "Other Europe",
    "Sub-Saharan Africa",
    "Near and Middle East",
    "Other Asia",
    "Americas and Oceania",
    "Unknown",
)
# The class of a code that is not in COUNTRY_CLASS (the last of COUNTRY_CLASSES).
UNKNOWN_COUNTRY = COUNTRY_CLASSES[-1]
# Europe in the sense of seed 002's "non-European origin": the EU-28, EFTA and the rest of geographic
# Europe. Turkey counts as non-European here, as in Flemish integration statistics (Maghreb and Turkey).
EUROPEAN: frozenset[str] = frozenset(
    {
        c
        for c, k in COUNTRY_CLASS.items()
        if k in ("Belgium", "Neighbouring country", "South EU-15", "Other EU-15", "EU-13", "Other Europe")
    }
    | {"CH", "NO", "IS", "LI"}
)


def install_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temp lookup table ``country_class(country, class, european, eu15)`` in ``con``."""
    rows = [(c, k, c in EUROPEAN, c in codes.EU15) for c, k in COUNTRY_CLASS.items()]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE country_class (country VARCHAR, class VARCHAR, european BOOLEAN, eu15 BOOLEAN)"
    )
    con.executemany("INSERT INTO country_class VALUES (?, ?, ?, ?)", rows)


def country_class_sql(col: str, missing: str | None = None) -> str:
    """SQL for the class of an ISO country column (:data:`COUNTRY_CLASS`; no lookup table needed).
    Unlisted codes are classed by a conservative default (``Americas and Oceania`` is wrong for them,
    so :data:`UNKNOWN_COUNTRY`). A null code gets ``missing``, else stays null: a release dimension
    that cannot hold a null passes ``missing=UNKNOWN_COUNTRY``, a pseudonymised table keeps the null."""
    whens = " ".join(f"WHEN {_sql_str(c)} THEN {_sql_str(k)}" for c, k in sorted(COUNTRY_CLASS.items()))
    on_null = _sql_str(missing) if missing is not None else "NULL"
    return f"CASE WHEN ({col}) IS NULL THEN {on_null} ELSE CASE ({col}) {whens} ELSE {_sql_str(UNKNOWN_COUNTRY)} END END"


# --- numbers into classes
def class_labels(breaks: Sequence[float], unit: str = "", open_top: bool = True) -> list[str]:
    """Labels of the classes ``[b0, b1), [b1, b2), ...`` e.g. ``[15, 25, 35]`` -> ``15-24, 25-34, 35+``
    for integers. The last break opens the top class when ``open_top``."""
    labels = []
    for lo, hi in zip(breaks, breaks[1:], strict=False):
        labels.append(f"{_fmt(lo)}-{_fmt(hi - 1) if _is_int(lo, hi) else _fmt(hi)}{unit}")
    if open_top:
        labels.append(f"{_fmt(breaks[-1])}+{unit}")
    return labels


def _is_int(*xs: float) -> bool:
    return all(float(x).is_integer() for x in xs)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def classes_sql(
    expr: str,
    breaks: Sequence[float],
    labels: Sequence[str] | None = None,
    below: str | None = None,
    missing: str | None = None,
) -> str:
    """SQL CASE that puts ``expr`` into the classes of :func:`class_labels`. Values below the first
    break get ``below`` (or null); a null gets ``missing`` (or stays null)."""
    labels = list(labels or class_labels(breaks))
    if len(labels) != len(breaks):
        raise ValueError("one label per break (the last class is open at the top)")
    parts = [f"WHEN ({expr}) IS NULL THEN {_sql_str(missing) if missing is not None else 'NULL'}"]
    parts.append(f"WHEN ({expr}) < {breaks[0]} THEN {_sql_str(below) if below else 'NULL'}")
    for hi, label in zip(breaks[1:], labels, strict=False):
        parts.append(f"WHEN ({expr}) < {hi} THEN {_sql_str(label)}")
    parts.append(f"ELSE {_sql_str(labels[-1])}")
    return "CASE " + " ".join(parts) + " END"


RULE_KEYS = frozenset({"breaks", "at_most", "below", "missing", "set_by_query"})


def rule_labels(rule: Mapping[str, Any], classes: Sequence[str]) -> list[str]:
    """The labels of the classes a rule's bounds make: the variable's ``classes`` without the ones the
    rule gives to a value below the first break (``below``), to a null (``missing``) and those the
    project's query sets itself (``set_by_query``)."""
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise ValueError(f"a class rule has no key(s) {sorted(unknown)} (known: {sorted(RULE_KEYS)})")
    # set_by_query: classes the project's query gives before any bound applies (e.g. 'unknown' outside
    # the household register), so no bound makes them
    special = {rule.get("below"), rule.get("missing"), *rule.get("set_by_query", ())} - {None}
    absent = special - set(classes)
    if absent:
        raise ValueError(
            f"the rule's below / missing / set_by_query class(es) {sorted(absent)} are not among the classes"
        )
    return [c for c in classes if c not in special]


def coarsening_sql(expr: str, rule: Mapping[str, Any], classes: Sequence[str]) -> str:
    """SQL CASE of a class variable from its spec rule (``coarsening_rules:`` in a spec), ``classes``
    being the variable's classes. Two forms, one per way a deliberation words its classes:

    - ``{breaks: [b0, b1, ...]}``: class i holds ``[b_i, b_(i+1))``, the last one open at the top; one
      class per break; a value below ``b0`` gets the class named by ``below`` when the rule has one,
      else null (:func:`classes_sql`);
    - ``{at_most: [u0, u1, ...]}``: class i holds the values up to ``u_i`` included (above
      ``u_(i-1)``), the last class everything above the last bound; one class more than bounds.

    A null gets the class named by ``missing`` when the rule has one (e.g. 'no salaried job' for the
    wage of someone without a job), else stays null. ``below`` and ``missing`` name classes of the
    variable; the others, in their order, are the classes of the bounds (:func:`rule_labels`)."""
    labels = rule_labels(rule, classes)
    missing = rule.get("missing")
    if "breaks" in rule and "at_most" not in rule:
        return classes_sql(expr, list(rule["breaks"]), labels, below=rule.get("below"), missing=missing)
    if "at_most" in rule and "breaks" not in rule and "below" not in rule:
        bounds = list(rule["at_most"])
        if len(labels) != len(bounds) + 1:
            raise ValueError(f"at_most {bounds}: {len(labels)} classes, not one per bound plus the top one")
        parts = [f"WHEN ({expr}) IS NULL THEN {_sql_str(missing) if missing is not None else 'NULL'}"]
        parts += [
            f"WHEN ({expr}) <= {hi} THEN {_sql_str(label)}" for hi, label in zip(bounds, labels, strict=False)
        ]
        return "CASE " + " ".join(parts) + f" ELSE {_sql_str(labels[-1])} END"
    raise ValueError(
        f"a class rule has either breaks or at_most (below only with breaks), not {sorted(rule)}"
    )


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# --- the rules every query may use, as DuckDB macros created on each connection (install_macros,
# called by cohort.storage.connect), so a SQL file names the rule and never spells it out.
MACROS: dict[str, str] = {
    # Age in completed years on a day: the year difference, one less while the birthday of that
    # year is still to come. Born on 29 February: a year older on 1 March in a year without it.
    # Month and day compared as numbers (strftime costs three times as much in DuckDB 2.0).
    "completed_age(birth, on_day)": (
        "year(on_day) - year(birth) - CASE WHEN month(on_day) * 100 + day(on_day) < month(birth) * 100 + day(birth) "
        "THEN 1 ELSE 0 END"
    ),
    # The same rule turned round, for range joins on the birth date: the last birth date of
    # someone of at least ``age`` completed years on the day (completed_age(birth, on_day) >= age
    # exactly when birth <= latest_birth(on_day, age); on 29 February, 28 February of a year without it).
    "latest_birth(on_day, age)": "CAST(on_day - to_years(age) AS DATE)",
    # Dates into coarser dates (the deliberations: DWH dates as quarter + year, VDAB as month +
    # year); null stays null.
    "year_quarter(day)": "strftime(day, '%Y') || 'Q' || quarter(day)",  # 2016Q2
    "year_month(day)": "strftime(day, '%Y-%m')",  # 2016-05
    # The first and the last day of quarter ``quarter`` (1-4) of ``year`` (the DWH's measuring
    # moment is the last); null outside 1-4.
    "quarter_first_day(year, quarter)": (
        "CASE WHEN quarter BETWEEN 1 AND 4 THEN make_date(year, 3 * quarter - 2, 1) END"
    ),
    "quarter_last_day(year, quarter)": (
        "CASE WHEN quarter BETWEEN 1 AND 4 THEN last_day(make_date(year, 3 * quarter, 1)) END"
    ),
    # A register of the residential population (codes.RESIDENT_REGISTERS; the waiting register
    # is out); null stays null.
    "resident_register(register)": f"register IN ({', '.join(repr(r) for r in codes.RESIDENT_REGISTERS)})",
}


def quarter_last_day(year: int, quarter: int) -> date:
    """The last day of quarter ``quarter`` (1-4) of ``year`` in Python, as the macro of that name
    (:data:`MACROS`) gives it in SQL: the generator dates a quarter's rows by it."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter {quarter} is not 1-4")
    month = 3 * quarter
    return date(year, month, calendar.monthrange(year, month)[1])


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the :data:`MACROS` in ``con`` (temporary: they belong to the connection)."""
    for signature, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS ({body})")


def status_flag_bit(name: str) -> int:
    """The value of the status flag ``name`` in ``sep_quarter.status_flags`` (bit i is
    ``codes.STATUS_FLAGS[i]``): what the warehouse ORs into the column, and what
    :func:`status_flag_sql` reads back."""
    return 1 << codes.STATUS_FLAGS.index(name)


def status_flag_sql(flags: str, name: str) -> str:
    """SQL that is true where the status flag ``name`` is set in ``flags`` (the bits of
    ``sep_quarter.status_flags``: bit i is ``codes.STATUS_FLAGS[i]``); null stays null."""
    return f"((({flags}) >> {codes.STATUS_FLAGS.index(name)}) & 1) = 1"
