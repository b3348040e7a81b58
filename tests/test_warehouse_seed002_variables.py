"""The seed-002 variables of issue 24, from the warehouse contract to the cohort's exports: the RVA
career-break and activation detail, the DMFA worker code, the establishment's NACE code, the
equivalent leefloon and the status combinations derived in the project's SQL. On the hand-made
warehouse of tests/hand_cohort.py (its rows ACTIVATED_JOB, CAREER_BREAK, EQUIVALENT_LEEFLOON,
OCCUPATIONAL_DISEASE), and the contract's quarantine of a bad code in a new column."""

from datetime import date
from pathlib import Path

import polars as pl
from hand_labour_warehouse import build_hand_warehouse

from cohort.projects.spec import load_spec
from cohort.sources import checks


def test_the_career_break_and_social_aid_detail_reaches_the_benefit_table(cohort) -> None:
    d = cohort.person_ids()["D"]
    benefit = cohort.export("benefit", 2006).filter(pl.col("person_id") == d)
    cb = benefit.filter(pl.col("benefit") == "career_break").row(0, named=True)
    assert cb["quarter"] == "2006Q2" and cb["benefit_category"] == "partial_1/5"
    assert (cb["career_break_sector"], cb["career_break_statute"], cb["career_break_reason"]) == (
        "public",
        "S",
        "career_break",
    )
    assert cb["career_break_motive"] == "none" and cb["career_break_adjustment"] == "seniority"
    aid = benefit.filter(pl.col("benefit") == "social_aid").row(0, named=True)
    assert aid["social_aid_kind"] == "equivalent_integration_income" and aid["career_break_sector"] is None
    child = benefit.filter(pl.col("benefit") == "child_benefit").row(0, named=True)
    assert child["career_break_reason"] is None and child["social_aid_kind"] is None


def test_the_activation_detail_worker_code_and_establishment_reach_the_job_table(cohort) -> None:
    d = cohort.person_ids()["D"]
    jobs = cohort.export("job", 2006).filter(pl.col("person_id") == d).sort("quarter")
    assert jobs["worker_code"].to_list() == ["495"] * 4 and jobs["worker_class"].to_list() == ["2"] * 4
    assert jobs["establishment_nace"].to_list() == ["47111", "62010", "62010", "62010"]
    first = jobs.row(0, named=True)
    assert first["activation_prior_status"] == "integration_allowance"
    assert first["activation_working_time_class"] == "75-99%"  # 80 %
    # dates to the month; the exclusive end 1 October 2007 is a last day in September
    assert (first["activation_start_month"], first["activation_end_month"]) == ("2005-11", "2007-09")
    assert jobs["activation_prior_status"].null_count() == 3


def test_the_status_combinations_are_derived_from_the_rows_of_the_quarter(cohort) -> None:
    ids = cohort.person_ids()
    pos2006 = cohort.export("position", 2006)
    d = pos2006.filter(pl.col("person_id") == ids["D"]).sort("quarter")
    assert d["career_break_with_social_assistance"].to_list() == [False, True, False, False]
    # an RVA intervention: the career break of Q2 (an RVA benefit) and the activated job of Q1
    assert d["rva_intervention"].to_list() == [True, True, False, False]
    a = pos2006.filter(pl.col("person_id") == ids["A"]).sort("quarter")
    assert a["unemployment_benefit_with_self_employment"].to_list() == [False, True, False, False]
    b = cohort.export("position", 2008).filter(pl.col("person_id") == ids["B"]).sort("quarter")
    assert b["quarter"].to_list() == ["2008Q1"]  # B is observed in the first quarter only
    assert b["occupational_disease_with_job_seeking"].to_list() == [True]
    assert b["rva_intervention"].to_list() == [True]  # the unemployment benefit
    assert not pos2006["occupational_disease_with_job_seeking"].any()
    # the other combinations, each in its own quarter: the next test


def combination_flags() -> list[str]:
    """The position table's status combinations derived in its SQL: the flags whose source is two
    rows of the same quarter (the spec says so in each one's source)."""
    spec = load_spec("longitudinal_cohort")
    return [c for c in spec.table("position").columns if "same quarter" in spec.variables[c].source]


def test_each_status_combination_holds_in_exactly_the_quarter_of_its_two_rows(cohort) -> None:
    """Every combination flag of the position table is true in the one quarter where the hand
    warehouse has both of its parts, and false everywhere else, also where only one part is
    present (hand_cohort.status_combinations_2011): a derivation that reads the wrong benefit, the
    wrong person of a child-benefit row or the wrong quarter fails here."""
    combinations = combination_flags()
    assert len(combinations) == 8
    names = {number: name for name, number in cohort.person_ids().items()}
    expected = {
        (2006, "D", "2006Q2"): ["career_break_with_social_assistance"],
        (2006, "A", "2006Q2"): ["unemployment_benefit_with_self_employment"],
        (2008, "B", "2008Q1"): ["occupational_disease_with_job_seeking"],
        (2011, "C", "2011Q1"): ["invalidity_with_pension"],
        (2011, "E", "2011Q2"): ["invalidity_with_entitled_child"],
        (2011, "C", "2011Q2"): ["occupational_disease_with_pension"],
        (2011, "C", "2011Q3"): ["occupational_disease_with_early_retirement"],
        (2011, "C", "2011Q4"): ["occupational_disease_with_career_break"],
    }
    found = {}
    for year in (2006, 2008, 2011):
        position = cohort.export("position", year)
        assert position.select(pl.col(combinations).null_count()).sum_horizontal().item() == 0
        hits = (
            position.unpivot(combinations, index=["person_id", "quarter"], variable_name="flag")
            .filter(pl.col("value"))
            .group_by("person_id", "quarter")
            .agg(pl.col("flag").sort())
        )
        found |= {
            (year, names[row["person_id"]], row["quarter"]): row["flag"] for row in hits.iter_rows(named=True)
        }
    assert found == expected
    assert sorted(flag for flags in found.values() for flag in flags) == sorted(combinations)


def test_a_bad_code_in_a_new_contract_column_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    wh = build_hand_warehouse(tmp_path / "wh", years=(2019,))
    path = wh / "job_quarter" / "year=2019" / "data.parquet"
    jobs = pl.read_parquet(path)
    bad = jobs.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("999"))
        .otherwise(pl.col("worker_code"))
        .alias("worker_code")
    )
    bad.write_parquet(path)
    result = checks.load_source(
        None, wh, "job_quarter", 1.0, tmp_path / "quarantine", as_of=date(2026, 6, 30)
    )
    assert result.counts == {"code:worker_code": 1}
    quarantined = pl.read_parquet(tmp_path / "quarantine" / "job_quarter" / "data.parquet")
    assert quarantined["reason"].to_list() == ["code:worker_code"]
    assert quarantined["worker_code"].to_list() == ["999"]
