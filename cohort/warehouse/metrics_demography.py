"""Calibration metrics of the National Register tables (registered in ``cohort.warehouse.metrics``).

Population figures are the *legal population* on 1 January: a main residence in Belgium (the
scope follows the municipality) and an entry in the population or the foreigners register (the
waiting register of asylum seekers is not counted, as in Statbel's figures). Ages are completed
years on the reference day. Household figures count private households (not ``COLL``), placed by
the residence of the reference person; a year before the first household year of the warehouse is
measured on the first one (the published 2004 figures describe 1 January 2005's neighbour).
"""

from datetime import date

import duckdb
import numpy as np

from cohort.classifications import codes
from cohort.warehouse.metrics import metric, scope_predicate


def _covers(alias: str, day: str) -> str:
    return f"{alias}.valid_from <= {day} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {day})"


def legal_population(scope: str, day: str) -> str:
    """SQL: one row (insz, nis_code) per legal resident of ``scope`` on ``day`` (a SQL date)."""
    return f"""
        SELECT r.insz, r.nis_code FROM residence_history r
        JOIN register_history g ON g.insz = r.insz AND {_covers("g", day)} AND resident_register(g.register)
        WHERE {_covers("r", day)} AND r.nis_code IS NOT NULL AND {scope_predicate(scope, "r.nis_code")}"""


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    v = con.execute(sql).fetchall()[0][0]
    return float(v) if v is not None else float("nan")


def _jan1(year: int) -> str:
    return f"DATE '{year}-01-01'"


@metric("population_jan1", scaled=True)
def population_jan1(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Legal population (population + foreigners register) with a main residence in the scope on 1 January."""
    return _scalar(con, f"SELECT count(*) FROM ({legal_population(scope, _jan1(year))})")


@metric("population_18_64_jan1", scaled=True)
def population_18_64_jan1(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Legal population aged 18-64 on 1 January."""
    d = _jan1(year)
    return _scalar(
        con,
        f"""SELECT count(*) FROM ({legal_population(scope, d)}) l JOIN person p USING (insz)
                           WHERE completed_age(p.birth_date, {d}) BETWEEN 18 AND 64""",
    )


@metric("share_15_64")
def share_15_64(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Share of the legal population aged 15-64 on 1 January."""
    d = _jan1(year)
    return _scalar(
        con,
        f"""SELECT avg(CASE WHEN completed_age(p.birth_date, {d}) BETWEEN 15 AND 64 THEN 1.0 ELSE 0.0 END)
                           FROM ({legal_population(scope, d)}) l JOIN person p USING (insz)""",
    )


def origin_sql(scope: str, year: int) -> str:
    """Per legal resident on 1 January: current nationality, own / father's / mother's first nationality."""
    d = _jan1(year)
    return f"""
        SELECT l.insz, n.nationality AS cur, p.first_nationality AS own,
               coalesce(f.first_nationality, 'BE') AS fat, coalesce(m.first_nationality, 'BE') AS mot
        FROM ({legal_population(scope, d)}) l
        JOIN person p USING (insz)
        LEFT JOIN nationality_history n ON n.insz = l.insz AND {_covers("n", d)}
        LEFT JOIN person f ON f.insz = p.father_insz
        LEFT JOIN person m ON m.insz = p.mother_insz"""


FLEMISH_FOREIGN = "(coalesce(cur, 'BE') <> 'BE' OR own <> 'BE' OR fat <> 'BE' OR mot <> 'BE')"


@metric("share_foreign_origin_flemish_definition")
def share_foreign_origin_flemish(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Share of foreign origin in the Flemish definition (Statistiek Vlaanderen): current nationality,
    own, father's or mother's nationality at birth not Belgian (docs/domain_facts.md 3.4)."""
    return _scalar(
        con, f"SELECT avg(CASE WHEN {FLEMISH_FOREIGN} THEN 1.0 ELSE 0.0 END) FROM ({origin_sql(scope, year)})"
    )


@metric("share_non_eu_among_foreign_origin")
def share_non_eu_among_foreign_origin(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Among persons of foreign origin (Flemish definition), the share whose origin country (father's
    first nationality if not Belgian, else mother's, else own first, else current) is outside the EU
    of 1 January of the year."""
    eu = ", ".join(f"'{c}'" for c in sorted(codes.eu_members(date(year, 1, 1))))
    return _scalar(
        con,
        f"""
        SELECT avg(CASE WHEN origin IN ({eu}) THEN 0.0 ELSE 1.0 END) FROM (
          SELECT CASE WHEN fat <> 'BE' THEN fat WHEN mot <> 'BE' THEN mot WHEN own <> 'BE' THEN own ELSE cur END AS origin
          FROM ({origin_sql(scope, year)}) WHERE {FLEMISH_FOREIGN})""",
    )


def _statbel(con: duckdb.DuckDBPyConnection, scope: str, year: int, group: str) -> float:
    cls = """CASE WHEN coalesce(cur, 'BE') <> 'BE' THEN 'non_belgian'
                  WHEN own <> 'BE' OR fat <> 'BE' OR mot <> 'BE' THEN 'belgian_foreign_background'
                  ELSE 'belgian_origin' END"""
    return _scalar(
        con, f"SELECT avg(CASE WHEN {cls} = '{group}' THEN 1.0 ELSE 0.0 END) FROM ({origin_sql(scope, year)})"
    )


@metric("share_belgian_origin_statbel")
def share_belgian_origin_statbel(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Statbel origin: Belgian with Belgian first nationality and both parents of Belgian first nationality."""
    return _statbel(con, scope, year, "belgian_origin")


@metric("share_belgian_with_foreign_background_statbel")
def share_belgian_with_foreign_background_statbel(
    con: duckdb.DuckDBPyConnection, scope: str, year: int
) -> float:
    """Statbel origin: Belgian now, but a foreign first nationality of the person or of a parent."""
    return _statbel(con, scope, year, "belgian_foreign_background")


@metric("share_non_belgian_statbel")
def share_non_belgian_statbel(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Statbel origin: current nationality not Belgian."""
    return _statbel(con, scope, year, "non_belgian")


# ------------------------------------------------------------------------------------ households
# Household type of a private household of two or more persons, from the LIPRO position of its
# reference person (docs/domain_facts.md 2.1): Statbel's types "married couple with / without
# children", "unmarried (cohabiting) couple with / without children" and "one-parent family"; a
# reference person without partner or child living with others (SING, OTHR) heads an "other"
# household. One-person households are those of size 1.
HOUSEHOLD_KIND = """CASE h.lipro WHEN 'MAR+' THEN 'married_with_children' WHEN 'MAR0' THEN 'married_without_children'
    WHEN 'UNM+' THEN 'unmarried_with_children' WHEN 'UNM0' THEN 'unmarried_without_children'
    WHEN 'H1PA' THEN 'one_parent' ELSE 'other' END"""


def _household_year(con: duckdb.DuckDBPyConnection, year: int) -> int:
    lo, hi = con.execute("SELECT min(year), max(year) FROM household_jan1").fetchall()[0]
    return int(min(max(year, lo), hi))


def _private_households(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> str:
    """SQL: one row (household_id, size, kind) per private household of the scope on 1 January;
    ``kind`` is the household type of :data:`HOUSEHOLD_KIND` read from the LIPRO position of the
    reference person."""
    y = _household_year(con, year)
    d = _jan1(y)
    return f"""
        SELECT h.household_id, any_value(h.household_size) AS size,
               CASE WHEN any_value(h.household_size) = 1 THEN 'one_person'
                    ELSE coalesce(any_value(CASE WHEN h.insz = h.reference_insz THEN {HOUSEHOLD_KIND} END), 'other')
               END AS kind
        FROM household_jan1 h
        JOIN residence_history r ON r.insz = h.reference_insz AND {_covers("r", d)}
        WHERE h.year = {y} AND h.lipro <> 'COLL' AND r.nis_code IS NOT NULL AND {scope_predicate(scope, "r.nis_code")}
        GROUP BY h.household_id"""


@metric("mean_private_household_size")
def mean_private_household_size(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Persons per private household on 1 January (household placed by its reference person)."""
    return _scalar(con, f"SELECT avg(size) FROM ({_private_households(con, scope, year)})")


@metric("share_one_person_households")
def share_one_person_households(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Share of one-person households among private households on 1 January."""
    return _scalar(
        con,
        f"SELECT avg(CASE WHEN size = 1 THEN 1.0 ELSE 0.0 END) FROM ({_private_households(con, scope, year)})",
    )


def _household_share(con: duckdb.DuckDBPyConnection, scope: str, year: int, kinds: tuple[str, ...]) -> float:
    listed = ", ".join(f"'{k}'" for k in kinds)
    return _scalar(
        con,
        f"SELECT avg(CASE WHEN kind IN ({listed}) THEN 1.0 ELSE 0.0 END) FROM ({_private_households(con, scope, year)})",
    )


def _household_share_metric(name: str, kinds: tuple[str, ...], what: str) -> None:
    def share(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
        return _household_share(con, scope, year, kinds)

    share.__doc__ = f"Share of {what} among private households on 1 January."
    share.__name__ = name
    metric(name)(share)


# Statbel's household types (docs/domain_facts.md 3.6): name, the kinds it counts, what it is
HOUSEHOLD_TYPE_METRICS = (
    (
        "share_couples_with_children_households",
        ("married_with_children", "unmarried_with_children"),
        "couples (married or not) with resident children",
    ),
    (
        "share_couples_without_children_households",
        ("married_without_children", "unmarried_without_children"),
        "couples (married or not) without resident children",
    ),
    (
        "share_married_couples_with_children_households",
        ("married_with_children",),
        "married couples with resident children",
    ),
    (
        "share_married_couples_without_children_households",
        ("married_without_children",),
        "married couples without resident children",
    ),
    (
        "share_unmarried_couples_with_children_households",
        ("unmarried_with_children",),
        "unmarried (cohabiting) couples with resident children",
    ),
    (
        "share_unmarried_couples_without_children_households",
        ("unmarried_without_children",),
        "unmarried (cohabiting) couples without resident children",
    ),
    (
        "share_one_parent_households",
        ("one_parent",),
        "one-parent families (a reference person without partner, with resident children)",
    ),
)
for _name, _kinds, _what in HOUSEHOLD_TYPE_METRICS:
    _household_share_metric(_name, _kinds, _what)


# ------------------------------------------------------------------------------------ nationality
@metric("share_belgian_among_regularised_2010_2012")
def share_belgian_among_regularised_2010_2012(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Among the persons of ``regularised_person`` with a decision in 2010-2012 and a main residence
    in the scope on 30 June of the year, the share of Belgian nationality that day. The nationality
    code asks years of legal residence counted from the regularisation before a foreigner becomes
    Belgian (docs/domain_facts.md 3.8), so on 30 June 2013 this share is close to zero."""
    d = f"DATE '{year}-06-30'"
    return _scalar(
        con,
        f"""
        SELECT avg(CASE WHEN n.nationality = 'BE' THEN 1.0 ELSE 0.0 END)
        FROM regularised_person g
        JOIN residence_history r ON r.insz = g.insz AND {_covers("r", d)}
        JOIN nationality_history n ON n.insz = g.insz AND {_covers("n", d)}
        WHERE year(g.decision_date) BETWEEN 2010 AND 2012
          AND r.nis_code IS NOT NULL AND {scope_predicate(scope, "r.nis_code")}""",
    )


# ------------------------------------------------------------------------------------ mortality
def _deaths(scope: str, year: int) -> str:
    """Deaths in ``year`` of legal residents of the scope, with sex and completed age at death."""
    return f"""
        SELECT p.sex, completed_age(p.birth_date, p.death_date) AS age
        FROM person p
        JOIN residence_history r ON r.insz = p.insz AND r.valid_to = p.death_date AND r.nis_code IS NOT NULL
        JOIN register_history g ON g.insz = p.insz AND g.valid_to = p.death_date AND resident_register(g.register)
        WHERE year(p.death_date) = {year} AND {scope_predicate(scope, "r.nis_code")}"""


def _exposure(scope: str, year: int) -> str:
    """Person-years lived in ``year``, approximated by the legal population on 1 July by sex and age."""
    d = f"DATE '{year}-07-01'"
    return f"""SELECT p.sex, completed_age(p.birth_date, {d}) AS age FROM ({legal_population(scope, d)}) l JOIN person p USING (insz)"""


def _counts(con: duckdb.DuckDBPyConnection, sql: str, sex: str | None) -> np.ndarray:
    where = f"WHERE sex = '{sex}'" if sex else ""
    rows = con.execute(f"SELECT least(age, 110) AS a, count(*) FROM ({sql}) {where} GROUP BY a").fetchall()
    out = np.zeros(111)
    for a, c in rows:
        if a is not None and a >= 0:
            out[int(a)] += c
    return out


def period_life_expectancy(deaths: np.ndarray, exposure: np.ndarray, fit_from: int = 40) -> float:
    """Life expectancy at birth from deaths and exposure by single age (0..110).

    Robust for small synthetic populations: above ``fit_from`` the death rates are those of a
    Gompertz curve ``m(x) = exp(a + b x)`` fitted by Poisson maximum likelihood to the year's deaths
    (a few hundred deaths suffice); below it the observed rates of broad age groups are used."""
    ages = np.arange(len(deaths), dtype=float)
    m = np.zeros(len(deaths))
    for lo, hi in ((0, 1), (1, 15), (15, 30), (30, fit_from)):
        e = exposure[lo:hi].sum()
        m[lo:hi] = deaths[lo:hi].sum() / e if e > 0 else 0.0
    x, d, e = ages[fit_from:100], deaths[fit_from:100], exposure[fit_from:100]
    keep = e > 0
    x, d, e = x[keep], d[keep], e[keep]
    xc = x - 70.0
    a, b = np.log(max(d.sum(), 1.0) / e.sum()), 0.09
    for _ in range(50):  # Newton-Raphson on the Poisson log-likelihood
        mu = e * np.exp(a + b * xc)
        g = np.array([(d - mu).sum(), ((d - mu) * xc).sum()])
        h = np.array([[mu.sum(), (mu * xc).sum()], [(mu * xc).sum(), (mu * xc * xc).sum()]])
        step = np.linalg.solve(h, g)
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-9:
            break
    m[fit_from:] = np.exp(a + b * (ages[fit_from:] - 70.0))
    q = 1 - np.exp(-m)
    lx = np.concatenate([[1.0], np.cumprod(1 - q)])
    return float(((lx[:-1] + lx[1:]) / 2).sum())


# A year with fewer deaths than this (a small synthetic warehouse) is pooled with the two years
# before it: the sampling error of e0 from ~500 deaths is about 0.5 year, from three years 0.3.
POOL_BELOW_DEATHS = 5000


def _life_expectancy(con: duckdb.DuckDBPyConnection, scope: str, year: int, sex: str | None) -> float:
    deaths = _counts(con, _deaths(scope, year), sex)
    exposure = _counts(con, _exposure(scope, year), sex)
    if deaths.sum() < POOL_BELOW_DEATHS:
        for y in (year - 1, year - 2):
            d = _counts(con, _deaths(scope, y), sex)
            if d.sum() > 0:
                deaths = deaths + d
                exposure = exposure + _counts(con, _exposure(scope, y), sex)
    return period_life_expectancy(deaths, exposure)


@metric("life_expectancy_at_birth")
def life_expectancy_at_birth(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Period life expectancy at birth, both sexes (Gompertz-smoothed from age 40, see
    ``period_life_expectancy``; years with fewer than 5,000 deaths pooled with the two before)."""
    return _life_expectancy(con, scope, year, None)


@metric("life_expectancy_at_birth_men")
def life_expectancy_at_birth_men(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Period life expectancy at birth of men."""
    return _life_expectancy(con, scope, year, "M")


@metric("life_expectancy_at_birth_women")
def life_expectancy_at_birth_women(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Period life expectancy at birth of women."""
    return _life_expectancy(con, scope, year, "F")


@metric("crude_death_rate")
def crude_death_rate(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Deaths of legal residents in the year per person of the legal population on 1 July."""
    deaths = _scalar(con, f"SELECT count(*) FROM ({_deaths(scope, year)})")
    pop = _scalar(
        con, f"SELECT count(*) FROM ({legal_population(scope, f'DATE {chr(39)}{year}-07-01{chr(39)}')})"
    )
    return deaths / pop if pop else float("nan")


@metric("births", scaled=True)
def births(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Live births in the year whose first residence (from the day of birth) is in the scope."""
    return _scalar(
        con,
        f"""
        SELECT count(*) FROM person p JOIN residence_history r ON r.insz = p.insz AND r.valid_from = p.birth_date
        WHERE year(p.birth_date) = {year} AND r.nis_code IS NOT NULL AND {scope_predicate(scope, "r.nis_code")}""",
    )
