"""Each rule of the classifications is written once: every path that applies it (Python, numpy,
Polars, DuckDB, the warehouse contract, the export scan, the projects' SQL) gives one answer on
the same awkward inputs, and the old spellings of the rule are found nowhere else in ``cohort/``.
"""

import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from reliability_helpers import person_row, valid_row, write_table

from cohort import storage
from cohort.classifications import classes, codes, insz
from cohort.privacy import scan
from cohort.projects.flemish_staff_origin import assets as staff_assets
from cohort.projects.labour_reserve import build as labour_build
from cohort.projects.longitudinal_cohort import population as cohort_population
from cohort.projects.measure_profiles import assets as measure_assets
from cohort.projects.regularised_foreigners import assets as regularised_assets
from cohort.projects.spec import class_sql, load_spec, population_ages
from cohort.sources import checks

PACKAGE = Path(__file__).resolve().parent.parent / "cohort"
SPEC_MEASURES = load_spec("measure_profiles")


def _bad(number: str) -> str:
    """The same number with its check digits one off (wrong under both rules)."""
    wrong = (int(number[-2:]) + 1) % 100
    return number[:-2] + f"{wrong:02d}"


# --------------------------------------------------------------------------- the check digit
# Born before and from 2000 (the 2 prefixed to the nine digits), on 29 February, BIS numbers,
# a leading zero lost in an integer, and the same numbers with a wrong check digit.
NUMBERS = [
    insz.make_insz(date(1985, 7, 30), 33),
    insz.make_insz(date(2000, 2, 29), 1),
    insz.make_insz(date(2001, 12, 31), 998),
    insz.make_insz(date(2004, 2, 29), 2),
    insz.make_insz(date(1996, 2, 29), 997),
    insz.make_insz(date(1975, 3, 9), 7, bis_offset=40),
    insz.make_insz(date(2009, 1, 5), 4, bis_offset=20),
]
NUMBERS += [_bad(n) for n in NUMBERS]
EXPECTED = [True] * 7 + [False] * 7


def test_the_2000_rule_gives_other_check_digits():
    """The inputs exercise both rules: a number of someone born in 2000 or later is valid only
    through the 2 prefix (its digits under the 19xx rule differ)."""
    born_2000 = NUMBERS[1]
    body = int(born_2000[:9])
    assert int(born_2000[9:]) == insz.insz_check_digits(body, True) != insz.insz_check_digits(body, False)


def _quarantined(tmp_path: Path, numbers: list[str]) -> list[bool]:
    """The warehouse contract: ``person`` rows with these numbers, which pass the check."""
    rows = [person_row(number, date(1985, 7, 30)) for number in numbers]
    write_table(tmp_path / "wh", "person", rows)
    checks.load_source(None, tmp_path / "wh", "person", 1.0, tmp_path / "q", as_of=date(2026, 12, 31))
    bad = pl.read_parquet(tmp_path / "q" / "person" / "data.parquet")
    assert set(bad["reason"]) <= {"insz_checksum:insz"}
    return [number not in set(bad["insz"]) for number in numbers]


def _scanned(values: list[str] | list[int]) -> list[bool]:
    """The export scan: a value is blocked as a national number (text, or integer with its
    leading zeros lost)."""
    found = []
    for value in values:
        result = scan.scan_export(pl.DataFrame({"note": [value]}), {"note": "code"}, "t")
        found.append(any(hit.rule == "national_number" for hit in result.hits))
    return found


def test_the_check_digit_is_one_rule_on_every_path(tmp_path):
    con = storage.connect()
    as_sql = con.execute(
        f"SELECT {insz.insz_sql_valid('n')} FROM (SELECT unnest(?::VARCHAR[]) AS n)", [NUMBERS]
    ).fetchall()
    answers = {
        "python": [insz.is_valid_insz(n) for n in NUMBERS],
        "numpy": insz.insz_number_valid(np.array([int(n) for n in NUMBERS], dtype=np.int64)).tolist(),
        "polars": pl.DataFrame({"n": NUMBERS}).select(insz.insz_valid_expr("n")).to_series().to_list(),
        "duckdb": [row[0] for row in as_sql],
        "contract": _quarantined(tmp_path, NUMBERS),
        "scan text": _scanned(NUMBERS),
        "scan integer": _scanned([int(n) for n in NUMBERS]),
    }
    assert answers == dict.fromkeys(answers, EXPECTED)


def test_the_warehouse_check_digits_are_vectorised():
    """The function the synthetic warehouse calls over numpy arrays (one check digit per person)."""
    body = np.array([int(n[:9]) for n in NUMBERS[:7]], dtype=np.int64)
    born_2000 = np.array([False, True, True, True, False, False, True])
    digits = insz.insz_check_digits(body, born_2000)
    assert digits.tolist() == [int(n[9:]) for n in NUMBERS[:7]]


def test_the_enterprise_check_digit_is_one_rule_on_every_path():
    numbers = [insz.make_enterprise_number(s) for s in (403199, 1, 9_999_999, 4242)]
    numbers += [_bad(n) for n in numbers]
    expected = [True] * 4 + [False] * 4
    con = storage.connect()
    as_sql = con.execute(
        f"SELECT {insz.enterprise_number_valid_sql('TRY_CAST(n AS BIGINT)')} "
        "FROM (SELECT unnest(?::VARCHAR[]) AS n)",
        [numbers],
    ).fetchall()
    blocked = [
        any(
            hit.rule == "enterprise_number"
            for hit in scan.scan_export(pl.DataFrame({"e": [n]}), {"e": "code"}, "t").hits
        )
        for n in numbers
    ]
    answers = {
        "python": [bool(insz.enterprise_number_valid(int(n))) for n in numbers],
        "polars": pl.DataFrame({"e": numbers}).select(insz.enterprise_valid_expr("e")).to_series().to_list(),
        "duckdb": [row[0] for row in as_sql],
        "scan": blocked,
    }
    assert answers == dict.fromkeys(answers, expected)


# --------------------------------------------------------------------------- the completed age
# (birth, day, completed age): a birthday later in the year, on the day, the day before, 29 February
# in leap and other years, the first and last day of a year, not yet born.
AGES = [
    (date(1990, 6, 15), date(2016, 6, 14), 25),
    (date(1990, 6, 15), date(2016, 6, 15), 26),
    (date(1990, 12, 31), date(2016, 1, 1), 25),
    (date(1990, 1, 1), date(2016, 12, 31), 26),
    (date(2000, 2, 29), date(2001, 2, 28), 0),
    (date(2000, 2, 29), date(2001, 3, 1), 1),
    (date(2000, 2, 29), date(2004, 2, 29), 4),
    (date(2000, 3, 1), date(2004, 2, 29), 3),
    (date(1999, 2, 28), date(2016, 2, 29), 17),
    (date(2010, 5, 1), date(2009, 12, 31), -1),
]


def test_the_completed_age_macro_on_awkward_days():
    con = storage.connect()
    got = [con.execute("SELECT completed_age(?, ?)", [b, d]).fetchall()[0][0] for b, d, _ in AGES]
    assert got == [age for _, _, age in AGES]
    assert con.execute("SELECT completed_age(NULL::DATE, DATE '2016-01-01')").fetchall() == [(None,)]


def test_the_range_form_of_the_age_is_the_same_rule():
    """``latest_birth`` (the range join of the cohort's sampling frame) selects exactly the people
    ``completed_age`` gives at least that age, on every day of a leap year and the next (birth
    dates around each, 29 February included)."""
    wrong = (
        storage.connect()
        .execute(
            """
        WITH days AS (SELECT unnest(range(DATE '2016-01-01', DATE '2018-01-01', INTERVAL 1 DAY))::DATE AS d),
        births AS (SELECT unnest(range(DATE '1996-01-01', DATE '2002-01-01', INTERVAL 1 DAY))::DATE AS b)
        SELECT count(*) FILTER (WHERE (b <= latest_birth(d, 16)) <> (completed_age(b, d) >= 16)),
               count(*) FILTER (WHERE b = DATE '2000-02-29' AND b <= latest_birth(d, 16))
        FROM days, births
        """
        )
        .fetchall()[0]
    )
    assert wrong == (0, 366 + 365 - 59)  # 29 Feb 2000: 16 from 29 Feb 2016 on


def _labour_reserve_warehouse(folder: Path, births: list[date]) -> list[str]:
    """``person``, ``residence_history`` and ``register_history`` of residents born on ``births``."""
    ids = [insz.make_insz(birth, 2 * i + 1) for i, birth in enumerate(births)]
    since = date(1940, 1, 1)
    write_table(folder, "person", [person_row(n, b) for n, b in zip(ids, births, strict=True)])
    write_table(
        folder, "residence_history", [valid_row("residence_history", insz=n, valid_from=since) for n in ids]
    )
    write_table(
        folder, "register_history", [valid_row("register_history", insz=n, valid_from=since) for n in ids]
    )
    return ids


def test_the_labour_reserve_paths_give_one_age(tmp_path):
    """The population of a year (``population.sql``, its ages) and the membership of the
    neighbour years (``population_membership.sql``, 15-64 on 31 December) agree, at both ends of
    the age range, for people born on 29 February and on the first and last day of a year."""
    births = [
        date(1995, 12, 31),  # 15 on 31 December 2010
        date(1996, 1, 1),  # 14
        date(1946, 1, 1),  # 64
        date(1945, 12, 31),  # 65
        date(1996, 2, 29),  # 14
        date(1992, 2, 29),  # 18
        date(1946, 2, 28),  # 64
    ]
    ids = _labour_reserve_warehouse(tmp_path / "wh", births)
    con = storage.connect()
    storage.register_tables(con, tmp_path / "wh")
    expected = {
        n: 2010 - b.year for n, b in zip(ids, births, strict=True)
    }  # 31 December: every birthday passed
    first_age, last_age = population_ages(labour_build.spec())
    assert (first_age, last_age) == (15, 64)  # seed 004 §3
    in_range = {n for n, age in expected.items() if first_age <= age <= last_age}
    population = dict(con.execute(f"SELECT insz, age FROM ({labour_build.population_sql(2010)})").fetchall())
    members = {
        n
        for n, member in con.execute(
            f"SELECT insz, in_2010 FROM ({labour_build.membership_sql([2010])})"
        ).fetchall()
        if member
    }
    assert population == {n: expected[n] for n in in_range}
    assert members == in_range


# --------------------------------------------------------------------------- the quarter
DAYS = [
    date(2016, 1, 1),
    date(2016, 2, 29),
    date(2016, 3, 31),
    date(2016, 4, 1),
    date(2015, 6, 30),
    date(2015, 12, 31),
]
LABELS = ["2016Q1", "2016Q1", "2016Q1", "2016Q2", "2015Q2", "2015Q4"]


def test_the_quarter_is_one_rule_on_every_path(tmp_path):
    con = storage.connect()
    macro = [con.execute("SELECT year_quarter(?)", [d]).fetchall()[0][0] for d in DAYS]
    # the cohort's observed quarters: the label and the last day from year and quarter
    from_number = [
        con.execute(
            "SELECT year_quarter(quarter_last_day(?, ?)), quarter_first_day(?, ?) <= ?",
            [d.year, (d.month + 2) // 3, d.year, (d.month + 2) // 3, d],
        ).fetchall()[0]
        for d in DAYS
    ]
    assert all(inside for _, inside in from_number)
    # the measure profiles' extract, from a frame's reference date (text)
    columns = [
        c
        for c in SPEC_MEASURES.table("extract_profile").columns
        if c not in ("reference_quarter", "record_number")
    ]
    frame = pl.DataFrame(
        {
            "reference_date": [d.isoformat() for d in DAYS],
            **{c: [str(i) for i in range(len(DAYS))] for c in columns},
        }
    )
    with storage.connect() as extract_con:
        extract = measure_assets.extract_frame(extract_con, frame, "extract_profile", len(DAYS), seed=1)
    by_row = dict(zip(extract[columns[0]].cast(pl.Int64), extract["reference_quarter"], strict=True))
    answers = {
        "macro": macro,
        "year and quarter": [label for label, _ in from_number],
        "extract": [by_row[i] for i in range(len(DAYS))],
    }
    assert answers == dict.fromkeys(answers, LABELS)
    assert con.execute("SELECT year_quarter(NULL::DATE), quarter_last_day(2016, 5)").fetchall() == [
        (None, None)
    ]


def test_the_contract_dates_a_quarterly_row_by_its_last_day(tmp_path):
    """A job of the birth quarter is not before the birth (born 17 May: 1980Q2 ends 30 June); one
    of the quarter before is."""
    write_table(tmp_path / "wh", "person", [person_row()])
    jobs = [valid_row("job_quarter", year=1980, quarter=q) for q in (1, 2)]
    write_table(tmp_path / "wh", "job_quarter", jobs, 1980)
    checks.load_source(None, tmp_path / "wh", "job_quarter", 1.0, tmp_path / "q", as_of=date(2026, 12, 31))
    bad = pl.read_parquet(tmp_path / "q" / "job_quarter" / "data.parquet")
    assert bad.select("quarter", "reason").rows() == [(1, "before_birth:year")]


# --------------------------------------------------------------------------- the status flags
FLAG_VALUES = [0, 1, 2**5 + 2**35, 2 ** len(codes.STATUS_FLAGS) - 1, None]


def test_the_status_flag_bits_are_one_rule_on_every_path():
    con = storage.connect()
    # the cohort's macros flag_<name>(status_flags)
    cohort_population.install_rules(con, load_spec("longitudinal_cohort"))
    calls = ", ".join(f"flag_{name}(f)" for name in codes.STATUS_FLAGS)
    cohort = [
        con.execute(f"SELECT {calls} FROM (SELECT ?::BIGINT AS f)", [v]).fetchall()[0] for v in FLAG_VALUES
    ]
    # the labour reserve's status_<name> columns, taken from its situation query
    columns = re.findall(r"^\s*(.+ AS status_\w+),?$", labour_build.situation_sql(2010), re.MULTILINE)
    assert len(columns) == len(codes.STATUS_FLAGS)
    labour = [
        con.execute(f"SELECT {', '.join(columns)} FROM (SELECT ?::BIGINT AS status_flags) j", [v]).fetchall()[
            0
        ]
        for v in FLAG_VALUES
    ]
    expected = [tuple(bool(v >> bit & 1) for bit in range(len(codes.STATUS_FLAGS))) for v in FLAG_VALUES[:-1]]
    assert cohort[:-1] == labour[:-1] == expected
    assert set(cohort[-1]) == {None}  # unknown stays unknown in the cohort
    assert set(labour[-1]) == {False}  # the labour reserve counts no flags as none set


# --------------------------------------------------------------------------- the class breaks
# Every project whose spec has coarsening rules (the breaks written once, in the spec).
CLASS_PROJECTS = [
    "longitudinal_cohort",
    "labour_reserve",
    "measure_profiles",
    "flemish_staff_origin",
    "regularised_foreigners",
]


def _expected_class(value: float | None, rule: dict, labels: list[str]) -> str | None:
    """The class of ``value`` by the words of the spec's comment, independently of the SQL compiler."""
    if value is None:
        return rule.get("missing")
    if "at_most" in rule:
        return next((c for u, c in zip(rule["at_most"], labels, strict=False) if value <= u), labels[-1])
    breaks = rule["breaks"]
    if value < breaks[0]:
        return rule.get("below")
    return [c for b, c in zip(breaks, labels, strict=True) if value >= b][-1]


def _edge_values(rule: dict) -> list[float | None]:
    """Each bound, just below it and just above it, and a null."""
    bounds = rule.get("breaks") or rule.get("at_most")
    return [v for b in bounds for v in (b - 0.01, b, b + 0.01)] + [None]


def _classed(con, expr: str, values: list[float | None]) -> list[str | None]:
    sql = f"SELECT {expr} FROM (SELECT unnest(?::DOUBLE[]) AS x, generate_subscripts(?::DOUBLE[], 1) AS i) ORDER BY i"
    return [row[0] for row in con.execute(sql, [values, values]).fetchall()]


@pytest.mark.parametrize("project", CLASS_PROJECTS)
def test_the_class_rules_give_one_answer_on_every_path(project):
    """On a bound, just below and above it, and null: the compiler, the cohort's ``cls_<variable>``
    macros give the class the spec's words give (the labour reserve's situation query calls the
    compiler itself: cohort/projects/labour_reserve/build.py imports spec.class_sql)."""
    spec = load_spec(project)
    rules = spec.extra["coarsening_rules"]
    assert rules
    con = storage.connect()
    if project == "longitudinal_cohort":
        cohort_population.install_rules(con, spec)
    for name, rule in rules.items():
        values = _edge_values(rule)
        labels = [
            c
            for c in spec.variables[name].classes
            if c not in (rule.get("below"), rule.get("missing"), *rule.get("set_by_query", ()))
        ]
        answers = {"compiler": _classed(con, class_sql(spec, name, "x"), values)}
        if project == "longitudinal_cohort":
            answers["macro"] = _classed(con, f"cls_{name}(x)", values)
        expected = [_expected_class(v, rule, labels) for v in values]
        assert answers == dict.fromkeys(answers, expected), name


def test_the_class_rules_on_chosen_ages_and_wages():
    """Spot checks written by hand: the first break, the one below it, a null."""
    con = storage.connect()
    regularised = load_spec("regularised_foreigners")
    staff = load_spec("flemish_staff_origin")
    measures = load_spec("measure_profiles")
    ages = [17, 18, 24, 25, 55, 80, None]
    assert _classed(con, class_sql(regularised, "age_class", "x"), ages) == [
        "under 18",
        "18-24",
        "18-24",
        "25-34",
        "55+",
        "55+",
        None,
    ]
    assert _classed(con, class_sql(staff, "age_class", "x"), ages) == [
        None,
        "18-24",
        "18-24",
        "25-34",
        "55-65",
        "55-65",
        None,
    ]
    assert _classed(con, class_sql(measures, "age_class", "x"), [0, 24, 25, None]) == [
        "under 25",
        "under 25",
        "25-34",
        None,
    ]
    assert _classed(con, class_sql(measures, "daily_wage_class", "x"), [-1, 99.99, 100, 200, None]) == [
        None,
        "under 100",
        "100-149",
        "200+",
        "no salaried job",
    ]
    assert _classed(con, class_sql(measures, "part_time_class", "x"), [49.5, 50, 99, 100, None]) == [
        "under 50%",
        "50-79%",
        "80-99%",
        "100%",
        "no salaried job",
    ]


def test_the_cohort_age_groups_are_class_breaks():
    """The sampling strata's age groups (``sample.age_groups``, first and last year of each) compile
    to the same classes: the first and last age of each group, below the first, a null."""
    spec = load_spec("longitudinal_cohort")
    ages = [17, 18, 35, 36, 65, None]
    got = _classed(storage.connect(), cohort_population.age_group_sql("x", spec), ages)
    assert got == [None, "18_35", "18_35", "36_65", "36_65", None]


def test_the_anonymous_projects_compile_their_classes_from_the_spec():
    """The frame queries hold the compiled rule of the spec (not a CASE of their own)."""
    frames = {
        "measure_profiles": measure_assets.frame_sql("profile"),
        "flemish_staff_origin": staff_assets.staff_sql(2013, date(2026, 6, 30)),
        "regularised_foreigners": regularised_assets.regularised_sql(),
    }
    for project, sql in frames.items():
        spec = load_spec(project)
        assert class_sql(spec, "age_class", "age") in sql, project
    measures = load_spec("measure_profiles")
    assert class_sql(measures, "daily_wage_class", "daily_wage") in frames["measure_profiles"]
    assert class_sql(measures, "part_time_class", "part_time_pct") in frames["measure_profiles"]


def test_a_class_rule_must_fit_its_variable():
    """A rule's bounds and its below / missing classes must match the variable's classes."""
    labels = ["low", "high"]
    with pytest.raises(ValueError, match="one label per break"):
        classes.coarsening_sql("x", {"breaks": [0, 5, 10]}, labels)
    with pytest.raises(ValueError, match="not among the classes"):
        classes.coarsening_sql("x", {"breaks": [0, 5], "missing": "none"}, labels)
    with pytest.raises(ValueError, match="no key"):
        classes.coarsening_sql("x", {"breaks": [0, 5], "labels": labels}, labels)


# --------------------------------------------------------------------------- the country classes
COUNTRIES = ["BE", "NL", "IT", "PL", "MA", "TR", "SY", "US", "ZZ", None]


def test_the_country_class_is_one_rule_on_every_path():
    """The classes of :data:`classes.COUNTRY_CLASS` by the SQL rule (null stays null, or the class a
    release names for it), the cohort's ``country_cls`` macro, and the lookup table the labour
    reserve joins (a null or unlisted code there is 'Unknown')."""
    con = storage.connect()
    cohort_population.install_rules(con, load_spec("longitudinal_cohort"))
    classes.install_lookups(con)
    rows = "SELECT unnest(?::VARCHAR[]) AS c, generate_subscripts(?::VARCHAR[], 1) AS i"

    def classed(expr: str, source: str = f"({rows})") -> list[str | None]:
        return [
            r[0] for r in con.execute(f"SELECT {expr} FROM {source} ORDER BY i", [COUNTRIES] * 2).fetchall()
        ]

    expected = [classes.COUNTRY_CLASS.get(c, "Unknown") if c else None for c in COUNTRIES]
    assert expected[:4] == ["Belgium", "Neighbouring country", "South EU-15", "EU-13"]
    answers = {
        "rule": classed(classes.country_class_sql("c")),
        "cohort macro": classed("country_cls(c)"),
        "python": [classes.COUNTRY_CLASS.get(c, "Unknown") if c else None for c in COUNTRIES],
    }
    assert answers == dict.fromkeys(answers, expected)
    with_missing = expected[:-1] + ["Unknown"]
    released = {
        "rule, missing Unknown": classed(classes.country_class_sql("c", missing=classes.UNKNOWN_COUNTRY)),
        "lookup join": classed(
            "coalesce(k.class, 'Unknown')", f"({rows}) t LEFT JOIN country_class k ON k.country = t.c"
        ),
    }
    assert released == dict.fromkeys(released, with_missing)
    for sql in (measure_assets.frame_sql("profile"), regularised_assets.regularised_sql()):
        assert classes.country_class_sql("nationality", missing=classes.UNKNOWN_COUNTRY) in sql


# --------------------------------------------------------------------------- the T+1 / T-1 copies
@pytest.mark.parametrize("project", ["longitudinal_cohort", "labour_reserve"])
def test_the_neighbour_copies_are_derived_not_listed(project):
    """A carried variable is written once: its ``_next`` / ``_prev`` copies come from the loader, with
    the variable's kind and classes, and the mobility tables are the situation's columns, the marker
    and the copies in the carried order."""
    spec = load_spec(project)
    mobility = spec.extra["mobility"]
    carried = list(mobility["carried"])
    text = (PACKAGE / "projects" / project / "spec.yaml").read_text()
    situation = list(spec.table(mobility.get("situation_table", "situation")).columns)
    for direction in ("next", "prev"):
        for name in carried:
            copy = spec.variables[f"{name}_{direction}"]
            assert (copy.kind, copy.classes) == (spec.variables[name].kind, spec.variables[name].classes)
            assert f"name: {name}_{direction}" not in text
        table = mobility.get(f"{direction}_table", f"mobility_{direction}")
        columns = list(spec.table(table).columns)
        added = [f"{direction}_status", *(f"{name}_{direction}" for name in carried)]
        assert columns[: len(situation) + len(added)] == situation + added


# --------------------------------------------------------------------------- old spellings
def _sources() -> dict[str, str]:
    return {
        str(p.relative_to(PACKAGE.parent)): p.read_text()
        for p in sorted(PACKAGE.rglob("*"))
        if p.suffix in (".py", ".sql")
    }


# (what, pattern of an old spelling, the files allowed to hold it)
SPELLINGS = [
    ("the check digit", r"\b97\s*-|%\s*97\b|\bmod\s+97\b", {"cohort/classifications/insz.py"}),
    ("the 2000 prefix", r"2_?000_?000_?000|2\s*\*\s*10\s*\*\*\s*9", {"cohort/classifications/insz.py"}),
    (
        "the completed age",
        r"date_?diff\(\s*'years?'|'%m%d'|//\s*10000\b|\byear\([^()]*\)\s*-\s*year\(|to_years\(",
        {"cohort/classifications/classes.py"},
    ),
    (
        "the quarter",
        r"'Q'\s*\|\||\*\s*3\s*-\s*2|\b3\s*\*\s*(t\.)?(q|quarter)\b|\b(q|quarter)\s*\*\s*3\b|//\s*3\b|\.dt\.quarter\(",
        {"cohort/classifications/classes.py"},
    ),
    # a right shift reads a flag back (a hash's mixing of unsigned words, np.uint64, is not a flag)
    (
        "the status-flag bits",
        r">>(?!\s*np\.uint64\()|<<\s*np\.int64\(FLAG",
        {"cohort/classifications/classes.py"},
    ),
    # the table of kinds (cohort/classifications/kinds.py), one Kind("pseudonym", ...) per kind
    (
        "the column kinds",
        r"\"pseudonym\",\s*\"year\"|Kind\(\"pseudonym\"",
        {"cohort/classifications/kinds.py"},
    ),
    # a class CASE of its own (the breaks belong in a spec's coarsening_rules, compiled by classes.py).
    # Left: the origin rule's count of known parents (origin.py, not a class).
    (
        "a class CASE",
        r"(?i)when\s+[^'\n]*<=?\s*[\d.{][^'\n]*then\s+'|\bclasses_sql\(",
        {
            "cohort/classifications/classes.py",
            "cohort/classifications/origin.py",
        },
    ),
    (
        "the class breaks outside coarsening_rules",
        r"_classes\b\"\]|\[\"breaks\"\]",
        {"cohort/classifications/classes.py"},
    ),
    ("the country classes as a CASE", r"COUNTRY_CLASS\.items\(\)", {"cohort/classifications/classes.py"}),
    # the residential population's registers (codes.RESIDENT_REGISTERS, the macro resident_register)
    (
        "the resident registers",
        r"[\'\"]population[\'\"],\s*[\'\"]foreigners[\'\"]",
        {"cohort/classifications/codes.py"},
    ),
    # a project's population ages are its spec's population_ages, formatted into its queries; the
    # warehouse's calibration metrics keep the age ranges of the published figures they reproduce
    (
        "a population age range",
        r"(?i)age\s+between\s+1[58]\s+and\s+6[45]\b|BETWEEN 15 AND 64|\)\s*[<>]\s*(15|64)\b",
        {"cohort/warehouse/metrics_demography.py", "cohort/warehouse/metrics_labour.py"},
    ),
]


@pytest.mark.parametrize(("what", "pattern", "allowed"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_a_rule_is_spelled_in_one_place(what, pattern, allowed):
    found = {path for path, text in _sources().items() if re.search(pattern, text)}
    assert found == allowed, what
