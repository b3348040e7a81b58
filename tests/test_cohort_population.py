"""The cohort's population (seed 002 §2) on a hand-made warehouse whose answers are known: exact
stratum sizes and weights, top-ups of 18-year-olds, follow-up until 65, death, emigration or 2016
(with a return from abroad), and household members only in their years."""

from datetime import date
from pathlib import Path

import polars as pl
from hand_cohort import SCALE, D, insz, write_warehouse

from cohort import storage
from cohort.projects.longitudinal_cohort import population
from cohort.projects.spec import load_spec

SPEC = load_spec("longitudinal_cohort")


def _age(birth: date, on: date) -> int:
    return storage.connect().execute("select completed_age(?, ?)", [birth, on]).fetchall()[0][0]


def test_strata_sizes_and_weights_are_exact(cohort) -> None:  # noqa: F811
    sample = cohort.sample()
    got = {
        (r["entry_year"], r["stratum"]): (r["frame_size"], r["n"], r["weight_sum"])
        for r in sample.group_by("entry_year", "stratum")
        .agg(pl.col("frame_size").first(), n=pl.len(), weight_sum=pl.col("design_weight").sum())
        .iter_rows(named=True)
    }
    assert set(got) == set(cohort.expected)
    for key, (frame, n) in cohort.expected.items():
        got_frame, got_n, weight_sum = got[key]
        assert (got_frame, got_n) == (frame, n), key
        assert abs(weight_sum - frame) < 1e-9, key  # weights sum to the frame, per stratum
    assert abs(sample["design_weight"].sum() - sum(f for f, _ in cohort.expected.values())) < 1e-9
    assert (
        sample["sample_size"]
        == sample.group_by("entry_year", "stratum").len().join(sample, on=["entry_year", "stratum"])["len"]
    ).all()


def test_frame_excludes_who_the_deliberation_excludes(cohort) -> None:  # noqa: F811
    con = storage.connect()
    storage.register_tables(con, cohort.warehouse)
    population.install_rules(con, SPEC)
    frame = con.sql(population.frame_sql(SPEC)).pl()
    initial = set(frame.filter(pl.col("entry_year") == 2005)["insz"])
    n = cohort.names
    for inside in (
        "edge_18",
        "edge_65",
        "D",
        "es_young",
        "A",
        "B",
        "C",
        "naturalised",
        "second_gen",
        "tr_old_0",
    ):
        assert n[inside] in initial, inside
    for outside in ("edge_66", "french", "walloon", "waiting", "bis", "dead", "F", "father_ma", "topup_2006"):
        assert n[outside] not in initial, outside
    origin = dict(zip(frame["insz"], frame["origin_group"], strict=True))
    assert origin[n["naturalised"]] == "non_european" and origin[n["second_gen"]] == "non_european"
    assert origin[n["D"]] == "south_eu"
    top = frame.filter(pl.col("entry_year") > 2005)
    assert set(top["insz"]) == {n["topup_2006"], n["topup_2009_a"], n["topup_2009_b"]}  # not the Walloon one


def test_top_ups_are_exactly_18_on_1_january_of_their_entry_year(cohort) -> None:  # noqa: F811
    sample = cohort.sample()
    births = {
        p["insz"]: p["birth_date"]
        for p in pl.read_parquet(cohort.warehouse / "person" / "data.parquet").iter_rows(named=True)
    }
    top_ups = sample.filter(pl.col("entry_year") > 2005)
    assert top_ups.height == 2
    for row in top_ups.iter_rows(named=True):
        assert _age(births[row["insz"]], date(row["entry_year"], 1, 1)) == 18
        assert row["age_at_entry"] == 18 and row["stratum"].endswith("_18_35")


def test_allocation_is_disproportionate_and_about_65000_at_scale_1() -> None:
    alloc = SPEC.sample["allocation"]
    first, last = SPEC.sample["top_up_years"]
    total = sum(alloc["initial"].values()) + (last - first + 1) * sum(alloc["top_up"].values())
    assert 60_000 <= total <= 70_000
    assert alloc["initial"]["non_european_18_35"] > alloc["initial"]["belgian_18_35"]
    # n_h at the test scale: 7500 * 0.0004 = 3, 700 * 0.0004 = 0.28 -> at least 1
    assert {(y, s): n for y, s, n in population.allocation(SPEC)}[(2009, "non_european_18_35")] == 700
    assert max(1, round(700 * SCALE)) == 1


def _observed_quarters(cohort, who: str) -> dict[int, list[int]]:  # noqa: F811
    out = {}
    for y in range(2005, 2017):
        o = cohort.observed(y).filter(pl.col("insz") == cohort.names[who])
        if o.height:
            r = o.row(0, named=True)
            out[y] = [q for q in (1, 2, 3, 4) if r[f"in_q{q}"]]
    return out


def test_follow_up_stops_at_66_death_and_emigration_and_resumes_on_return(cohort) -> None:  # noqa: F811
    a = _observed_quarters(cohort, "A")  # turns 66 on 15 March 2007
    assert sorted(a) == [2005, 2006, 2007] and a[2007] == [1]
    b = _observed_quarters(cohort, "B")  # dies 10 May 2008
    assert sorted(b) == [2005, 2006, 2007, 2008] and b[2008] == [1]
    c = _observed_quarters(cohort, "C")  # abroad from 1 July 2009 to 1 February 2011
    assert c[2009] == [1, 2] and 2010 not in c and c[2011] == [1, 2, 3, 4] and c[2016] == [1, 2, 3, 4]
    t = _observed_quarters(cohort, "topup_2006")
    assert min(t) == 2006


def test_no_quarter_of_a_sample_person_after_65_death_emigration(cohort) -> None:  # noqa: F811
    people = pl.read_parquet(cohort.warehouse / "person" / "data.parquet")
    residence = pl.read_parquet(cohort.warehouse / "residence_history" / "data.parquet")
    con = storage.connect()
    con.register("people", people)
    con.register("residence", residence)
    for y in range(2005, 2017):
        con.register("obs", cohort.observed(y))
        bad = con.execute(f"""
            with q as (select * from obs, (values (1), (2), (3), (4)) t(q)
                       where not is_household_member
                         and case q when 1 then in_q1 when 2 then in_q2 when 3 then in_q3 else in_q4 end),
            d as (select q.insz, make_date({y}, 3 * q.q - 2, 1) as qstart, last_day(make_date({y}, 3 * q.q, 1)) as qend
                  from q)
            select count(*) from d join people p using (insz)
            where completed_age(p.birth_date, d.qstart) > 65
               or (p.death_date is not null and p.death_date <= d.qend)
               or not exists (select 1 from residence r where r.insz = d.insz and r.country = 'BE'
                              and r.valid_from <= d.qend and (r.valid_to is null or r.valid_to > d.qend))
        """).fetchall()[0][0]
        assert bad == 0, y
    # and nothing beyond 2016: the partitions stop there
    assert SPEC.last_year == 2016


def test_household_members_only_in_their_years(cohort) -> None:  # noqa: F811
    f = _observed_quarters(cohort, "F")  # child of D, in D's household on 1 January 2005-2007 only
    assert sorted(f) == [2005, 2006, 2007]
    ids = cohort.person_ids()
    for y in (2005, 2006):
        hh = cohort.export("household", y)
        assert (
            hh.filter((pl.col("sample_person_id") == ids["D"]) & (pl.col("person_id") == ids["F"])).height
            == 1
        )
        assert cohort.export("person", y).filter(pl.col("person_id") == ids["F"])[
            "is_household_member"
        ].to_list() == [True]
    for y in (2008, 2011):
        for table in ("person", "household", "position", "benefit", "education"):
            df = cohort.export(table, y)
            assert ids["F"] not in df["person_id"].to_list(), (table, y)


def test_same_seed_same_sample_other_seed_other_sample(cohort) -> None:  # noqa: F811
    from cohort.projects.spec import parse_spec

    con = storage.connect()
    storage.register_tables(con, cohort.warehouse)
    population.install_rules(con, SPEC)
    again = con.sql(population.sample_sql(SPEC, SCALE)).pl()
    assert again.equals(cohort.sample())
    import yaml

    raw = yaml.safe_load(SPEC.path.read_text())
    raw["sample"]["seed"] = 4711
    other = con.sql(population.sample_sql(parse_spec(raw), SCALE)).pl()
    assert set(other["insz"]) != set(again["insz"])
    assert (
        other.group_by("entry_year", "stratum")
        .len()
        .sort("entry_year", "stratum")
        .equals(again.group_by("entry_year", "stratum").len().sort("entry_year", "stratum"))
    )


def test_tiny_warehouse_is_contract_valid(tmp_path: Path) -> None:
    p = insz(D(1980, 5, 17), 1)
    write_warehouse(
        tmp_path, {"person": [{"insz": p, "birth_date": D(1980, 5, 17)}]}, years=range(2005, 2006)
    )
    back = pl.read_parquet(tmp_path / "person" / "data.parquet")
    assert back["insz"].to_list() == [p]
    assert (tmp_path / "sep_quarter" / "year=2005" / "data.parquet").exists()
