"""The demography of the synthetic warehouse: contract, determinism and internal consistency."""

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from cohort import storage
from cohort.classifications.insz import insz_valid_expr, is_valid_insz
from cohort.sources import checks
from cohort.sources.contract import TABLES
from cohort.warehouse import demography_frames
from cohort.warehouse.build import LakeWriter, build_warehouse, read_manifest, sort_for_write
from cohort.warehouse.demography import simulate_demography
from cohort.warehouse.demography_insz import insz_birth_dates, make_insz_array
from cohort.warehouse.demography_params import ancestor_deaths, population_target
from cohort.warehouse.demography_population import SIBSHIP_SIZES, SIBSHIP_SPAN_DAYS, sibships
from cohort.warehouse.labour import in_window
from cohort.warehouse.metrics_demography import origin_sql


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
    # one row for each person the labour model can see, none for the ancestors
    assert extra["insz"].is_unique().all()
    assert in_window(demo).join(extra, on="insz", how="anti").height == 0
    assert extra.join(demo.person, on="insz", how="anti").height == 0
    assert extra.height < demo.person.height
    assert set(extra["origin_group"].unique()) <= {"BE", "EU_SOUTH", "EU_OTHER", "NON_EU"}
    assert {"insz", "education_level", "education_domain", "work_propensity"} <= set(extra.columns)


def test_every_written_table_passes_the_contract(small_warehouse: Path, tmp_path: Path):
    # the warehouse of the fixture is built without delivery errors: every row of every table passes
    results = checks.load_sources(None, small_warehouse, None, 0.0, tmp_path / "quarantine")
    assert {
        "person",
        "residence_history",
        "register_history",
        "nationality_history",
        "household_jan1",
    } <= set(results)
    assert {t: r.counts for t, r in results.items() if r.rejected} == {}
    manifest = read_manifest(small_warehouse)
    assert manifest["defects"] == {}
    assert {t: r.rows for t, r in results.items()} == manifest["tables"]


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


def test_write_order_is_the_key_then_every_other_column():
    # a unique key needs no other column; a shared key is ordered by the rest, nulls last
    unique = pl.DataFrame(
        {"year": [2021, 2020, 2020], "quarter": [1, 2, 1], "insz": ["b", "a", "a"], "x": [1, 2, 3]}
    )
    out = sort_for_write("sep_quarter", unique.rename({"x": "status_flags"}))
    assert out["quarter"].to_list() == [1, 2, 1] and out["year"].to_list() == [2020, 2020, 2021]
    shared = pl.DataFrame(
        {
            "insz": ["b", "a", "a", "a"],
            "valid_from": [1, 1, 1, 1],
            "nationality": ["FR", None, "NL", "BE"],
        }
    ).with_columns(pl.col("valid_from").cast(pl.Date))
    out = sort_for_write("nationality_history", shared)
    assert out["insz"].to_list() == ["a", "a", "a", "b"]
    assert out["nationality"].to_list() == ["BE", "NL", None, "FR"]


@pytest.mark.parametrize("seed", range(6))
def test_write_order_skips_no_sort_it_needs(seed: int):
    # benefit_quarter's key ends in a nullable column: parts in order, out of order, with ties
    # and with nulls all come out as the whole sort on key then rest, nulls last
    import numpy as np

    rng = np.random.default_rng(seed)
    n = 400
    df = pl.DataFrame(
        {
            "year": rng.choice([2020, 2021], n),
            "quarter": rng.choice([1, 2], n),
            "insz": rng.choice(["a", "b", "c"], n),
            "benefit": rng.choice(["U", "P"], n),
            "related_insz": pl.Series(rng.choice(["x", "y", ""], n)).replace("", None),
            "amount": rng.integers(0, 3, n),
        }
    )
    whole = df.sort(df.columns, nulls_last=True)
    key = ["year", "quarter", "insz", "benefit", "related_insz"]
    for part in (
        df,
        whole,
        df.sort(key, nulls_last=True),
        whole.unique(key, keep="first", maintain_order=True),
    ):
        expected = part.sort(part.columns, nulls_last=True)
        assert sort_for_write("benefit_quarter", part).equals(expected)
    # out of order only by a null before a value of the last key column
    null_first = (
        whole.unique(key, keep="first", maintain_order=True)
        .head(2)
        .with_columns(
            year=pl.lit(2020),
            quarter=pl.lit(1),
            insz=pl.lit("a"),
            benefit=pl.lit("U"),
            related_insz=pl.Series([None, "x"]),
        )
    )
    assert sort_for_write("benefit_quarter", null_first)["related_insz"].to_list() == ["x", None]


def test_tables_written_in_parts_hold_the_rows_of_the_whole(tmp_path: Path, monkeypatch):
    # at scale 1.0 person and the spell tables leave the generator in parts; small parts must give
    # the rows, the order and the counts of one part per table
    args = (0.002, 5, 2005, 2006)
    whole = build_warehouse(tmp_path / "whole", *args, with_labour=False)
    monkeypatch.setattr(demography_frames, "PART_ROWS", 997)
    parts = build_warehouse(tmp_path / "parts", *args, with_labour=False)
    assert parts == whole
    for table in ("person", "nationality_history", "residence_history", "register_history"):
        a, b = (storage.partition_file(tmp_path / w, table) for w in ("whole", "parts"))
        assert pq.ParquetFile(b).metadata.num_row_groups > pq.ParquetFile(a).metadata.num_row_groups
        assert pl.read_parquet(b).equals(pl.read_parquet(a)), table


def test_parts_out_of_key_order_are_refused_and_leave_no_file(tmp_path: Path):
    src = _small_demo_lake(tmp_path)
    person = pl.read_parquet(storage.partition_file(src, "person"))
    nationality = pl.read_parquet(storage.partition_file(src, "nationality_history"))
    first, second = person.slice(0, 10), person.slice(10, 10)
    lake = LakeWriter(tmp_path / "lake")
    lake.put("person", None, second)
    lake.put("person", None, first)
    with pytest.raises(ValueError, match="person None out of key order"):
        lake.flush()
    lake.shutdown()
    assert list((tmp_path / "lake").rglob("*.parquet*")) == []
    lake = LakeWriter(tmp_path / "again")
    lake.put("person", None, first)
    lake.put("nationality_history", None, nationality)
    with pytest.raises(ValueError, match="person None again after it was written"):
        lake.put("person", None, second)
    lake.flush()
    lake.shutdown()
    assert pl.read_parquet(storage.partition_file(tmp_path / "again", "person")).equals(first)


def test_row_group_statistics_only_on_the_key(small_warehouse: Path):
    # min/max where they prune (the key the rows are ordered by); elsewhere they cost encoding time
    f = next((small_warehouse / "job_quarter").rglob("*.parquet"))
    rg = pq.ParquetFile(f).metadata.row_group(0)
    stats = {rg.column(i).path_in_schema: rg.column(i).is_stats_set for i in range(rg.num_columns)}
    assert all(stats[c] for c in TABLES["job_quarter"].key)
    assert not any(v for c, v in stats.items() if c not in TABLES["job_quarter"].key)


def test_frame_appender_skips_empty_parts_and_refuses_another_schema(tmp_path: Path):
    rows = pl.DataFrame({"insz": ["00010100133", "00010100234"], "days": [3, 4]})
    path = tmp_path / "t" / "data.parquet"
    appender = storage.FrameAppender(path)
    appender.append(rows.clear())  # an empty quarter first
    appender.append(rows)
    appender.append(rows.clear())
    assert not path.exists()  # nothing is visible before close
    appender.close()
    assert pl.read_parquet(path).equals(rows)
    only_empty = storage.FrameAppender(tmp_path / "e" / "data.parquet")
    only_empty.append(rows.clear())
    assert pl.read_parquet(only_empty.close()).schema == rows.schema
    bad = storage.FrameAppender(tmp_path / "b" / "data.parquet")
    bad.append(rows)
    with pytest.raises(ValueError, match="does not match"):
        bad.append(rows.with_columns(pl.col("days").cast(pl.Float64)))
    assert list((tmp_path / "b").iterdir()) == []


def _small_demo_lake(tmp_path: Path) -> Path:
    build_warehouse(tmp_path / "src", 0.001, 3, 2005, 2005, with_labour=False)
    return tmp_path / "src"


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


def test_full_insz_days_move_ancestors_and_refuse_the_others():
    import numpy as np

    day_1994 = (date(1994, 8, 25) - date(1970, 1, 1)).days
    day_1894 = (date(1894, 8, 25) - date(1970, 1, 1)).days
    # 300 men born 1994-08-25 and 300 born 1894-08-25 count on one sequence of 499 numbers
    birth = np.r_[np.full(300, day_1994), np.full(300, day_1894)].astype(np.int32)
    female, is_bis = np.zeros(600, bool), np.zeros(600, bool)
    ancestor = np.arange(600) >= 300
    with pytest.raises(
        ValueError,
        match=r"person: more than 499 persons of one sex born on one day \(600\); INSZ sequence exhausted",
    ):
        make_insz_array(birth, female, is_bis)
    with pytest.raises(
        ValueError,
        match=r"person: more than 499 persons of one sex born on one day \(600\); INSZ sequence exhausted",
    ):
        insz_birth_dates(birth, female, is_bis, movable=np.zeros(600, bool))
    born = insz_birth_dates(birth, female, is_bis, movable=ancestor)
    assert (born[~ancestor] == day_1994).all(), "residents keep their birth date"
    assert (born[ancestor] == day_1894 - 1).sum() == 600 - 499, "only the ancestors beyond the 499th move"
    assert (born[ancestor] >= day_1894 - 1).all()
    ins = make_insz_array(born, female, is_bis)
    assert ins.n_unique() == 600 and all(is_valid_insz(x) for x in ins.to_list())
    # women have a sequence of their own: the same 600 dates fit when half are women
    assert make_insz_array(birth, np.arange(600) % 2 == 0, is_bis).n_unique() == 600


def test_sibships_share_origin_and_parent_cohort_and_are_spaced():
    import numpy as np

    rng = np.random.default_rng(7)
    n = 20_000
    key = rng.integers(0, 3, n)
    parent_birth = rng.integers(-20_000, 0, n)
    birth = parent_birth + rng.integers(16 * 365, 45 * 365, n)
    group = sibships(rng, key, parent_birth, birth)
    assert sorted(set(group.tolist())) == list(range(group.max() + 1))
    per = (
        pl.DataFrame({"g": group, "key": key, "span": parent_birth // SIBSHIP_SPAN_DAYS, "b": birth})
        .sort("g", "b")
        .group_by("g")
        .agg(
            pl.len(),
            pl.col("key").n_unique().alias("keys"),
            pl.col("span").n_unique().alias("spans"),
            pl.col("b").diff().drop_nulls().alias("gaps"),
        )
    )
    assert per["keys"].max() == 1 and per["spans"].max() == 1, "one origin, one parent cohort"
    assert per["len"].max() <= SIBSHIP_SIZES.max()
    assert 1.6 < per["len"].mean() < 2.4, "sibships, neither singletons nor whole cohorts"
    gaps = per.explode("gaps")["gaps"].drop_nulls()
    assert ((gaps == 0) | (gaps >= 300)).all(), "twins, or at least ten months apart"


def test_brothers_and_sisters_share_their_ancestor_parents(con):
    # ancestors are person rows never resident in the window: each stands for a sibship
    kids = con.sql("""SELECT c.mother_insz, c.father_insz FROM person c JOIN person m ON m.insz = c.mother_insz
                      WHERE NOT EXISTS (SELECT 1 FROM residence_history r
                                        WHERE r.insz = m.insz AND r.nis_code IS NOT NULL)""").pl()
    assert kids.height > 1000
    assert kids.height / kids["mother_insz"].n_unique() > 1.4
    fathers = kids.drop_nulls().group_by("mother_insz").agg(pl.col("father_insz").n_unique())
    assert fathers["father_insz"].max() == 1, "the children of an ancestor mother have one father"


def test_ancestors_die_of_mortality_within_their_span():
    import numpy as np

    rng = np.random.default_rng(3)
    n = 50_000
    birth = np.full(n, (date(1895, 6, 1) - date(1970, 1, 1)).days, np.int64)
    lo = birth + int(35 * 365.25)  # after the youngest child's birth
    hi = np.full(n, (date(2020, 1, 1) - date(1970, 1, 1)).days - 1, np.int64)
    death = ancestor_deaths(rng, birth, lo, hi, female=False)
    assert (death >= lo).all() and (death < hi).all()
    age = (death - birth) / 365.25
    # evenly between 35 and 124 half would die after 80 and a quarter after 100
    assert 60 < np.median(age) < 80
    assert (age > 100).mean() < 0.01


def test_the_dead_before_the_national_register_hold_bis_numbers(con):
    dead_before = con.sql("""SELECT is_bis, count(*) AS n FROM person
                             WHERE death_date < DATE '1968-01-01' GROUP BY is_bis""").pl()
    assert dead_before.filter(pl.col("is_bis"))["n"].sum() > 1000
    assert dead_before.filter(~pl.col("is_bis"))["n"].sum() == 0
    # the others of their generation kept their register numbers
    assert _one(con, "SELECT count(*) FROM person WHERE year(birth_date) < 1910 AND NOT is_bis") > 0


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
    top = con.sql(f"""SELECT CASE WHEN fat <> 'BE' THEN fat WHEN mot <> 'BE' THEN mot WHEN own <> 'BE' THEN own ELSE cur END o,
                             count(*) n FROM ({origin_sql("Flemish Region", 2017)})
                      WHERE coalesce(cur, 'BE') <> 'BE' OR own <> 'BE' OR fat <> 'BE' OR mot <> 'BE'
                      GROUP BY 1 ORDER BY 2 DESC LIMIT 3""").pl()
    assert set(top["o"]) == {"MA", "NL", "TR"}
