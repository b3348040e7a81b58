"""Seed 004 phase 2 (the example analyses over the secure mobility tables) and the population frames of
seeds 000 and 001."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from anonymous_helpers import insz, sql_connection, write

from cohort.analysis.folder import load_analysis
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import build_release, run_analysis
from cohort.classifications.classes import install_lookups
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous
from cohort.resources import LakeResource

EXAMPLES = Path(__file__).resolve().parents[1] / "cohort/projects/labour_reserve_results/examples"


def mobility_next(secure, year=2022):
    """A hand-made secure mobility_next: 60 persons with known positions in T and T+1."""
    rows = []
    for i in range(60):
        rows.append(
            {
                "person_id": i + 1,
                "year": year,
                "allochtone": None if i % 10 == 0 else i % 3 == 0,
                "age_class": ["20-24", "30-34", "50-54"][i % 3],
                "sex": "F" if i % 2 else "M",
                "province": ["10000", "21000"][i % 2],
                "sep_code": "111" if i < 30 else "211",
                "fte": 1.0 if i < 30 else None,
                "next_status": "died" if i == 59 else "observed",
                "sep_code_next": None if i == 59 else ("111" if i < 20 or 40 <= i < 50 else "211"),
                "fte_next": 0.5 + (i % 4) / 8 if i < 20 or 40 <= i < 50 else None,
            }
        )
    p = secure / "labour_reserve" / "mobility_next" / f"year={year}" / "data.parquet"
    p.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_parquet(p)


def secure_release(lake: LakeResource, name: str, year: int) -> anonymous.ReleaseTables:
    """The protected tables of the example analysis ``name`` on the lake's secure tables of ``year``, as
    its Dagster asset builds them (cohort/analysis/assets.py), with the rules of labour_reserve_results."""
    source = analysable_projects()["labour_reserve"]
    analysis = load_analysis(EXAMPLES / name)
    frames = run_analysis(analysis, source.secure_files(lake.paths()), year)
    return anonymous.protect_release(build_release(analysis, frames, year, source.rules()))


def test_the_phase2_examples_tabulate_the_secure_tables_and_release(tmp_path):
    """The two example analyses that replaced the built-in phase-2 release read the secure mobility table of
    the year, tabulate it with every margin, pass the small-cell risk analysis and publish."""
    mobility_next(tmp_path / "secure")
    lake = LakeResource(data_dir=str(tmp_path))
    outflow = secure_release(lake, "reserve_outflow", 2022)
    counts = outflow.tables["reserve_outflow"]
    # the reserve: the 30 persons not working in T, 15 per province; 10 to work, 19 still in it, 1 died
    total = counts.filter((pl.col("province") == "Total") & (pl.col("destination") == "Total"))
    assert total.get_column("n").to_list() == [30]
    by_destination = counts.filter((pl.col("province") == "Total") & (pl.col("destination") != "Total"))
    assert sorted(by_destination.select("destination", "n", "status").rows()) == [
        ("died", 1, "primary"),  # one person: hidden by the rule (counts 1-4)
        ("still in the reserve", 19, "published"),
        ("to work", 10, "secondary"),  # else 30 - 19 - 10 gives the died cell back
    ]
    assert anonymous.audit_release(outflow).passed
    written = anonymous.publish(
        outflow, tmp_path, "labour_reserve_results", "reserve_outflow/2022", who="checker"
    )
    assert any(p.name == "reserve_outflow.csv" for p in written)
    shown = pl.read_csv(
        tmp_path / "releases" / "labour_reserve_results" / "reserve_outflow" / "2022" / "reserve_outflow.csv",
        infer_schema=False,
    )
    # the died cell (1 person) is hidden, and so is a partner: no count 1-4 can be read back
    assert shown.filter((pl.col("province") == "Total") & (pl.col("destination") == "Total")).get_column(
        "shown"
    ).to_list() == ["30"]
    assert "1" not in shown.get_column("shown").to_list()
    transition = secure_release(lake, "sep_transition", 2022).tables["sep_transition"]
    # everyone observed in T+1 (59 persons), by origin: 6 unknown (every tenth), the rest by i % 3
    grand = transition.filter(
        (pl.col("origin") == "Total")
        & (pl.col("sep_class") == "Total")
        & (pl.col("sep_class_next") == "Total")
    )
    assert grand.get_column("n").to_list() == [59]


def test_next_years_release_is_not_confused_with_last_years(tmp_path):
    """Yearly releases are different populations: year T+1's cells are not the same numbers as year T's,
    so the audit against earlier releases of the ledger must not report them as one cell published twice."""
    mobility_next(tmp_path / "secure", 2022)
    mobility_next(tmp_path / "secure", 2023)
    p = tmp_path / "secure" / "labour_reserve" / "mobility_next" / "year=2023" / "data.parquet"
    pl.read_parquet(p).with_columns(year=pl.lit(2023)).filter(pl.col("person_id") > 3).write_parquet(p)
    lake = LakeResource(data_dir=str(tmp_path))
    first = secure_release(lake, "reserve_outflow", 2022)
    anonymous.publish(first, tmp_path, "labour_reserve_results", "reserve_outflow/2022", who="checker")
    second = secure_release(lake, "reserve_outflow", 2023)
    earlier = dc.earlier_releases(tmp_path, "labour_reserve_results", exclude="reserve_outflow/2023")
    assert len(earlier) == 1
    verdict = anonymous.audit_release(second, earlier)
    assert verdict.passed, verdict.report.findings[:3]
    assert {s.population for s in second.specs.values()} != {s.population for s in first.specs.values()}


def test_regularised_frame_at_each_reference_date(tmp_path):
    from cohort.projects.regularised_foreigners.assets import regularised_sql

    wh = tmp_path / "warehouse"
    write(
        wh,
        "regularised_person",
        [
            {"insz": insz(1), "measure": "durable_local_anchoring", "decision_date": date(2011, 5, 2)},
            {"insz": insz(2), "measure": "durable_local_anchoring", "decision_date": date(2014, 2, 1)},
        ],
    )
    write(
        wh,
        "person",
        [
            {
                "insz": insz(1),
                "birth_date": date(1980, 7, 1),
                "sex": "M",
                "birth_country": "MA",
                "first_nationality": "MA",
            },
            {
                "insz": insz(2),
                "birth_date": date(1990, 1, 1),
                "sex": "F",
                "birth_country": "CD",
                "first_nationality": "CD",
                "death_date": date(2014, 10, 1),
            },
        ],
    )
    write(
        wh,
        "nationality_history",
        [
            {
                "insz": insz(1),
                "nationality": "MA",
                "valid_from": date(1980, 7, 1),
                "valid_to": date(2014, 1, 1),
            },
            {"insz": insz(1), "nationality": "BE", "valid_from": date(2014, 1, 1)},
            {"insz": insz(2), "nationality": "CD", "valid_from": date(1990, 1, 1)},
        ],
    )
    write(
        wh,
        "sep_quarter",
        [{"year": 2013, "quarter": 2, "insz": insz(1), "nomenclature": "111", "status_flags": 0}],
    )
    write(
        wh,
        "job_quarter",
        [
            {
                "year": 2013,
                "quarter": 2,
                "insz": insz(1),
                "employer_id": "0403199702",
                "job_rank": 1,
                "nace": "56101",
                "joint_committee": "302",
                "employer_size_class": "2",
            }
        ],
    )
    write(
        wh,
        "household_jan1",
        [
            {
                "year": 2014,
                "insz": insz(1),
                "household_id": 1,
                "reference_insz": insz(1),
                "relation": "01",
                "household_size": 1,
                "lipro": "SING",
                "civil_status": "1",
            }
        ],
    )
    con = sql_connection(tmp_path / "warehouse")
    install_lookups(con)
    got = con.sql(regularised_sql()).pl()
    assert "insz" not in got.columns
    # person 1 at all four dates; person 2 decided in 2014 and died before 31/12/2014: only 30/6/2014
    assert got.group_by("reference_date").len().sort("reference_date").get_column("len").to_list() == [
        1,
        1,
        2,
        1,
    ]
    first = got.filter(pl.col("reference_date") == "2013-06-30").row(0, named=True)
    assert first == {
        "reference_date": "2013-06-30",
        "joint_committee": "302",
        "nace_section": "I",
        "lipro": "not registered",
        "employer_size": "2",
        "age_class": "25-34",
        "sex": "M",
        "decision_quarter": "2011Q2",
        "socio_economic_position": "employee",
        "birth_country_class": "Maghreb",
        "nationality_class": "Maghreb",
    }
    dec = got.filter(pl.col("reference_date") == "2013-12-31").row(0, named=True)
    # household of 1 January 2014 for 31 December 2013; no job in Q4: 'none'; still Moroccan on 31/12/2013
    assert (dec["lipro"], dec["joint_committee"], dec["nationality_class"]) == ("SING", "none", "Maghreb")
    assert got.filter(pl.col("reference_date") == "2014-06-30").get_column(
        "nationality_class"
    ).sort().to_list() == ["Belgium", "Sub-Saharan Africa"]


def test_measure_frames_positions_before_inflow_and_after_outflow(tmp_path):
    from cohort.projects.measure_profiles.assets import frame_sql

    wh = tmp_path / "warehouse"
    write(
        wh,
        "measure_beneficiary",
        [
            # inflow 2015Q2 into a job-seeker measure, outflow 2015Q3
            {
                "insz": insz(1),
                "measure_type": "opleiding",
                "measure_subtype": "IBO",
                "targets_workers": False,
                "education_level": "low",
                "work_disability": False,
                "inflow_date": date(2015, 5, 4),
                "outflow_date": date(2015, 8, 20),
            },
            # a worker measure: in the profile only
            {
                "insz": insz(2),
                "measure_type": "VOP",
                "measure_subtype": "VOP",
                "targets_workers": True,
                "education_level": "high",
                "work_disability": True,
                "inflow_date": date(2014, 3, 1),
            },
        ],
    )
    write(
        wh,
        "person",
        [
            {
                "insz": insz(1),
                "birth_date": date(1995, 2, 1),
                "sex": "F",
                "birth_country": "BE",
                "first_nationality": "BE",
                "father_insz": insz(3),
            },
            {
                "insz": insz(2),
                "birth_date": date(1960, 2, 1),
                "sex": "M",
                "birth_country": "BE",
                "first_nationality": "BE",
            },
            {
                "insz": insz(3),
                "birth_date": date(1960, 2, 1),
                "sex": "M",
                "birth_country": "TR",
                "first_nationality": "TR",
            },
        ],
    )
    write(
        wh,
        "nationality_history",
        [{"insz": insz(i), "nationality": "BE", "valid_from": date(1990, 1, 1)} for i in (1, 2)],
    )
    write(
        wh,
        "sep_quarter",
        [
            {
                "year": 2014,
                "quarter": 4,
                "insz": insz(1),
                "nomenclature": "331",
                "status_flags": 0,
            },  # 2 quarters before
            {
                "year": 2015,
                "quarter": 1,
                "insz": insz(1),
                "nomenclature": "214",
                "status_flags": 0,
            },  # 1 quarter before
            {
                "year": 2015,
                "quarter": 4,
                "insz": insz(1),
                "nomenclature": "111",
                "status_flags": 0,
            },  # 1 quarter after
            {
                "year": 2016,
                "quarter": 1,
                "insz": insz(1),
                "nomenclature": "111",
                "status_flags": 0,
            },  # 2 quarters after
        ],
    )
    write(
        wh,
        "job_quarter",
        [
            {
                "year": y,
                "quarter": q,
                "insz": insz(i),
                "employer_id": "0403199702",
                "job_rank": 1,
                "nace": "84130",
                "joint_committee": "999",
                "worker_class": "2",
                "statute": "C",
                "performance_type": "FT",
                "part_time_pct": 100.0,
                "fte": 1.0,
                "daily_wage": 160.0,
                "employer_size_class": "9",
            }
            for i, y, q in ((2, 2015, 2), (2, 2015, 4), (1, 2015, 4))
        ],
    )
    write(
        wh,
        "household_jan1",
        [
            {
                "year": 2016,
                "insz": insz(1),
                "household_id": 7,
                "reference_insz": insz(1),
                "relation": "01",
                "household_size": 1,
                "lipro": "SING",
                "civil_status": "1",
            }
        ],
    )
    for t in ("benefit_quarter", "jobseeker_quarter"):
        write(wh, t, [])
    con = sql_connection(tmp_path / "warehouse")
    install_lookups(con)
    inflow = con.sql(frame_sql("inflow")).pl()
    assert inflow.select(
        "inflow_quarter", "measure", "sep_2q_before", "sep_1q_before", "origin_class"
    ).rows() == [("2015Q2", "opleiding / IBO", "social assistance", "job seeker without benefit", "Turkey")]
    outflow = con.sql(frame_sql("outflow")).pl()
    row = outflow.row(0, named=True)
    assert (row["outflow_quarter"], row["sep_1q_after"], row["sep_2q_after"]) == (
        "2015Q3",
        "employee",
        "employee",
    )
    # characteristics at the end of the first quarter after the outflow: the job of 2015Q4, one-person household
    assert (row["sector"], row["daily_wage_class"], row["household_type"], row["low_work_intensity"]) == (
        "O",
        "150-199",
        "single",
        "no",
    )
    profile = con.sql(frame_sql("profile")).pl()
    # 30/6/2015: both; 31/12/2015: only the worker measure (the other ended in August)
    assert profile.group_by("reference_date").len().sort("reference_date").get_column("len").to_list() == [
        2,
        1,
    ]
    vop = profile.filter(pl.col("measure") == "VOP / VOP").sort("reference_date")
    assert vop.get_column("statute").to_list() == ["white-collar", "white-collar"]
    assert "insz" not in profile.columns


@pytest.mark.slow
def test_regularised_release_on_the_demo_warehouse(demo_warehouse, tmp_path, monkeypatch):
    """End to end on the demo warehouse (about a minute): the gate passes and the release is written."""
    import json

    import dagster as dg

    from cohort.projects.regularised_foreigners import assets as A

    monkeypatch.setenv("COHORT_DEMO", "1")
    lake = LakeResource(data_dir=str(tmp_path), warehouse_dir=str(demo_warehouse))
    result = dg.materialize(
        [A.regularised, A.release_tables, A.release],
        resources={"lake": lake},
        run_config={"ops": {"regularised_foreigners__release": {"config": {"signed_off_by": "demo"}}}},
    )
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    folder = tmp_path / "releases" / "regularised_foreigners" / A.RELEASE_ID
    assert json.loads((folder / "release.json").read_text())["signed_off_by"] == ["demo"]
    tables = [f for f in folder.glob("*.csv") if not f.name.endswith(".reasons.csv")]
    assert len(tables) == 72 and len(list(folder.glob("*.reasons.csv"))) == 72
    for f in tables:
        shown = pl.read_csv(f, infer_schema=False).get_column("shown").to_list()
        assert all(s == "x" or int(s) == 0 or int(s) >= 5 for s in shown)
