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
from cohort.classifications import codes, insz
from cohort.privacy import scan
from cohort.projects.labour_reserve import build as labour_build
from cohort.projects.longitudinal_cohort import population as cohort_population
from cohort.projects.measure_profiles import assets as measure_assets
from cohort.projects.spec import load_spec
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
    in_range = {n for n, age in expected.items() if 15 <= age <= 64}
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
    ("the status-flag bits", r">>|<<\s*np\.int64\(FLAG", {"cohort/classifications/classes.py"}),
    ("the column kinds", r"\"pseudonym\",\s*\"year\"", {"cohort/classifications/codes.py"}),
]


@pytest.mark.parametrize(("what", "pattern", "allowed"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_a_rule_is_spelled_in_one_place(what, pattern, allowed):
    found = {path for path, text in _sources().items() if re.search(pattern, text)}
    assert found == allowed, what
