"""The demography of the synthetic warehouse: contract, determinism and internal consistency."""

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cohort import storage
from cohort.classifications.insz import insz_valid_expr, is_valid_insz
from cohort.sources.contract import TABLES
from cohort.warehouse.build import build_warehouse, read_manifest
from cohort.warehouse.defs import validate_warehouse
from cohort.warehouse.demography import make_insz_array, population_target, simulate_demography


@pytest.fixture(scope="module")
def con(small_warehouse: Path) -> duckdb.DuckDBPyConnection:
    c = storage.connect()
    storage.register_tables(c, small_warehouse)
    yield c
    c.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchall()[0][0]


# ---------------------------------------------------------------------------- contract
def test_simulated_frames_follow_the_contract():
    demo = simulate_demography(0.001, 11, 2005, 2007)
    for name in ("person", "nationality_history", "residence_history", "register_history"):
        TABLES[name].schema.validate(getattr(demo, name), lazy=True)
    years = []
    for year, hh in demo.household_years():
        TABLES["household_jan1"].schema.validate(hh, lazy=True)
        years.append(year)
    assert years == [2005, 2006, 2007]
    extra = demo.persons_extra
    assert extra.height == demo.person.height
    assert set(extra["origin_group"].unique()) <= {"BE", "EU_SOUTH", "EU_OTHER", "NON_EU"}
    assert {"insz", "education_level", "education_domain", "work_propensity"} <= set(extra.columns)


def test_every_written_table_validates(small_warehouse: Path):
    result = validate_warehouse(small_warehouse)
    assert {
        "person",
        "residence_history",
        "register_history",
        "nationality_history",
        "household_jan1",
    } <= set(result)
    assert {t: i["errors"] for t, i in result.items() if i["errors"]} == {}
    assert read_manifest(small_warehouse)["tables"]["person"] == result["person"]["rows"]


def test_same_arguments_same_bytes(tmp_path: Path):
    def digest(folder: Path) -> dict[str, str]:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    a = build_warehouse(tmp_path / "a", 0.0005, 5, 2005, 2007)
    b = build_warehouse(tmp_path / "b", 0.0005, 5, 2005, 2007)
    assert a == b
    da, db = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert da == db and len(da) > 5
    c = build_warehouse(tmp_path / "c", 0.0005, 6, 2005, 2007, with_labour=False)
    assert digest(tmp_path / "c")["person/data.parquet"] != da["person/data.parquet"]
    assert c["seed"] == 6


def test_base_population_for_a_later_first_year():
    demo = simulate_demography(0.002, 4, 2020, 2021)
    hh = dict(demo.household_years())
    target = sum(population_target(r, 2020) for r in range(3)) * 0.002
    # household_jan1 also holds the waiting register (asylum seekers), about 0.1 % of residents
    assert abs(hh[2020].height - target) / target < 0.02
    assert demo.person.filter(pl.col("birth_date").dt.year() == 2021).height > 0


# ---------------------------------------------------------------------------- INSZ
def test_insz_numbers_are_valid_and_unique(con):
    assert _one(con, "SELECT count(*) - count(DISTINCT insz) FROM person") == 0
    p = con.sql("SELECT insz, is_bis, birth_date FROM person").pl()
    assert p.select(insz_valid_expr("insz").all()).item()
    month = p["insz"].str.slice(2, 2).cast(pl.Int32)
    assert ((month > 40) == p["is_bis"]).all(), "BIS numbers carry month + 40, register numbers do not"
    assert p["is_bis"].any()


def test_insz_sequences_per_day_and_century():
    import numpy as np

    birth = np.array(
        [0, 0, 0, -36524, 10957, 10957], dtype=np.int32
    )  # 1970-01-01 x3, 1870-01-01, 2000-01-01 x2
    female = np.array([False, False, True, False, False, True])
    ins = make_insz_array(birth, female, np.zeros(6, bool)).to_list()
    assert len(set(ins)) == 6
    assert all(is_valid_insz(x) for x in ins)
    assert [int(x[6:9]) % 2 for x in ins] == [1, 1, 0, 1, 1, 0]  # odd for men, even for women
    assert ins[0][:6] == ins[3][:6] and ins[3][6:9] == "005", "1870 and 1970 share the YYMMDD counter"
    assert ins[4][6:9] == "001", "2000 has its own counter (other checksum rule)"


# ---------------------------------------------------------------------------- consistency
def test_nobody_resident_or_in_a_household_after_death(con):
    assert (
        _one(
            con,
            """SELECT count(*) FROM residence_history r JOIN person p USING (insz)
                        WHERE p.death_date IS NOT NULL AND (r.valid_from >= p.death_date
                              OR r.valid_to IS NULL OR r.valid_to > p.death_date)""",
        )
        == 0
    )
    assert (
        _one(
            con,
            """SELECT count(*) FROM register_history r JOIN person p USING (insz)
                        WHERE p.death_date IS NOT NULL AND (r.valid_to IS NULL OR r.valid_to > p.death_date)""",
        )
        == 0
    )
    assert (
        _one(
            con,
            """SELECT count(*) FROM household_jan1 h JOIN person p USING (insz)
                        WHERE p.death_date IS NOT NULL AND p.death_date <= make_date(h.year, 1, 1)""",
        )
        == 0
    )
    assert (
        _one(
            con,
            """SELECT count(*) FROM household_jan1 h JOIN person p USING (insz)
                        WHERE p.birth_date > make_date(h.year, 1, 1) OR p.is_bis""",
        )
        == 0
    )
    assert _one(con, "SELECT count(*) FROM person WHERE death_date IS NOT NULL") > 0


def test_children_are_younger_than_their_parents(con):
    gaps = con.sql("""SELECT date_diff('day', par.birth_date, c.birth_date) / 365.25 AS gap FROM person c
                      JOIN person par ON par.insz = c.mother_insz
                      UNION ALL
                      SELECT date_diff('day', par.birth_date, c.birth_date) / 365.25 FROM person c
                      JOIN person par ON par.insz = c.father_insz""").pl()["gap"]
    assert gaps.len() > 1000
    assert gaps.min() >= 15
    # a mother cannot have died more than a day before the birth
    assert (
        _one(
            con,
            """SELECT count(*) FROM person c JOIN person m ON m.insz = c.mother_insz
                        WHERE m.death_date < c.birth_date""",
        )
        == 0
    )


def test_parents_and_grandparents_are_person_rows(con):
    missing = _one(
        con,
        """SELECT count(*) FROM person c LEFT JOIN person m ON m.insz = c.mother_insz
                           WHERE c.mother_insz IS NOT NULL AND m.insz IS NULL""",
    )
    assert missing == 0
    # most residents born after 1960 have a known maternal grandmother
    share = _one(
        con,
        """SELECT avg(CASE WHEN gm.insz IS NOT NULL THEN 1.0 ELSE 0.0 END) FROM person c
                         JOIN person m ON m.insz = c.mother_insz LEFT JOIN person gm ON gm.insz = m.mother_insz
                         WHERE year(c.birth_date) >= 1960 AND NOT c.is_bis""",
    )
    assert share > 0.6
    # part of the immigrants have unknown parents
    assert _one(con, "SELECT count(*) FROM person WHERE mother_insz IS NULL AND birth_country <> 'BE'") > 0


def test_households_are_coherent(con):
    # one reference person per household, who is a member of it
    assert (
        _one(
            con,
            """SELECT count(*) FROM (SELECT year, household_id FROM household_jan1
                        GROUP BY ALL HAVING count(DISTINCT reference_insz) <> 1)""",
        )
        == 0
    )
    assert (
        _one(
            con,
            """SELECT count(*) FROM household_jan1 h LEFT JOIN household_jan1 r
                          ON r.year = h.year AND r.insz = h.reference_insz AND r.household_id = h.household_id
                        WHERE r.insz IS NULL""",
        )
        == 0
    )
    # the size is the number of members; one row per person and year
    assert (
        _one(
            con,
            """SELECT count(*) FROM (SELECT year, household_id, any_value(household_size) s, count(*) n
                        FROM household_jan1 GROUP BY ALL) WHERE s <> n""",
        )
        == 0
    )
    assert _one(con, "SELECT count(*) - count(DISTINCT (year, insz)) FROM household_jan1") == 0
    # members of a private household live in the same municipality on 1 January
    assert (
        _one(
            con,
            """SELECT count(*) FROM (
                          SELECT h.year, h.household_id, count(DISTINCT r.nis_code) n FROM household_jan1 h
                          JOIN residence_history r ON r.insz = h.insz AND r.valid_from <= make_date(h.year, 1, 1)
                               AND (r.valid_to IS NULL OR r.valid_to > make_date(h.year, 1, 1))
                          WHERE h.lipro <> 'COLL' GROUP BY ALL) WHERE n <> 1""",
        )
        == 0
    )
    # partners point at each other, children are at least 15 years younger than the reference person
    assert (
        _one(
            con,
            """SELECT count(*) FROM household_jan1 a JOIN household_jan1 b
                          ON a.year = b.year AND b.insz = a.partner_insz
                        WHERE b.partner_insz <> a.insz OR b.household_id <> a.household_id""",
        )
        == 0
    )
    assert (
        _one(
            con,
            """SELECT count(*) FROM household_jan1 h JOIN person c ON c.insz = h.insz
                        JOIN person r ON r.insz = h.reference_insz
                        WHERE h.relation = '03' AND date_diff('year', r.birth_date, c.birth_date) < 15""",
        )
        == 0
    )
    lipro = set(con.sql("SELECT DISTINCT lipro FROM household_jan1").pl()["lipro"])
    assert {"SING", "MAR+", "MAR0", "UNM+", "H1PA", "CMAR", "C1PA", "COLL"} <= lipro


@pytest.mark.parametrize("table", ["residence_history", "register_history", "nationality_history"])
def test_spells_do_not_overlap(con, table):
    assert (
        _one(
            con,
            f"""SELECT count(*) FROM (
                          SELECT valid_from, lag(valid_to) OVER w AS prev_to, lag(valid_from) OVER w AS prev_from
                          FROM {table} WINDOW w AS (PARTITION BY insz ORDER BY valid_from))
                        WHERE prev_from IS NOT NULL AND (prev_to IS NULL OR prev_to > valid_from)""",
        )
        == 0
    )
    assert (
        _one(con, f"SELECT count(*) FROM {table} WHERE valid_to IS NOT NULL AND valid_to <= valid_from") == 0
    )


def test_registers_and_nationality_tell_the_same_story(con):
    # asylum seekers enter the waiting register with reason 2; Belgians have no reason of residence
    assert (
        _one(
            con,
            "SELECT count(*) FROM register_history WHERE register = 'waiting' AND residence_reason <> '2'",
        )
        == 0
    )
    assert _one(con, "SELECT count(*) FROM register_history WHERE register = 'waiting'") > 0
    # naturalisations: a Belgian spell following a foreign one
    assert (
        _one(
            con,
            """SELECT count(*) FROM (SELECT nationality, lag(nationality) OVER (PARTITION BY insz ORDER BY valid_from) prev
                        FROM nationality_history) WHERE nationality = 'BE' AND prev <> 'BE'""",
        )
        > 0
    )
    # the first nationality of the person table is the first spell
    assert (
        _one(
            con,
            """SELECT count(*) FROM person p JOIN (SELECT insz, arg_min(nationality, valid_from) n
                        FROM nationality_history GROUP BY insz) f USING (insz) WHERE f.n <> p.first_nationality""",
        )
        == 0
    )


def test_flanders_looks_like_flanders(con):
    """Realism a labour-market researcher checks first: big cities, Limburg's Italians and Turks."""
    pop = con.sql("""SELECT r.nis_code, count(*) n FROM residence_history r
                     WHERE r.valid_from <= DATE '2010-01-01' AND (r.valid_to IS NULL OR r.valid_to > DATE '2010-01-01')
                       AND r.nis_code IS NOT NULL GROUP BY ALL""").pl()
    n = dict(zip(pop["nis_code"], pop["n"], strict=True))
    assert n["11002"] > n["44021"] > n["31005"]  # Antwerpen > Gent > Brugge
    origin = con.sql("""SELECT p.first_nationality c, count(*) n FROM residence_history r JOIN person p USING (insz)
                        WHERE r.nis_code LIKE '7%' AND p.first_nationality <> 'BE' GROUP BY ALL ORDER BY n DESC""").pl()
    assert set(origin["c"].head(4)) >= {"IT", "TR"}
    # the largest origin groups of Flanders (Flemish definition): Moroccan, Dutch, Turkish
    from cohort.warehouse.metrics_demography import _origin

    top = con.sql(f"""SELECT CASE WHEN fat <> 'BE' THEN fat WHEN mot <> 'BE' THEN mot WHEN own <> 'BE' THEN own ELSE cur END o,
                             count(*) n FROM ({_origin("Flemish Region", 2017)})
                      WHERE coalesce(cur, 'BE') <> 'BE' OR own <> 'BE' OR fat <> 'BE' OR mot <> 'BE'
                      GROUP BY 1 ORDER BY 2 DESC LIMIT 3""").pl()
    assert set(top["o"]) == {"MA", "NL", "TR"}
