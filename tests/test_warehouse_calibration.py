"""Calibration of the synthetic warehouse against published figures, the CLI and the Dagster assets."""

import csv
import importlib.util
import json
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from cohort import storage
from cohort.resources import LakeResource
from cohort.sources import checks
from cohort.sources.defs import source_assets
from cohort.warehouse import calibration, metrics_demography
from cohort.warehouse.cli import parse_years, warehouse
from cohort.warehouse.defs import WarehouseConfig, synthetic_warehouse, warehouse_calibration
from cohort.warehouse.demography_params import gompertz_rates, life_expectancy, mortality_level
from cohort.warehouse.metrics import METRICS

TARGETS = calibration.DEFAULT_TARGETS
HEADER = ["metric", "scope", "year", "value", "tolerance", "unit", "status", "source"]


def _targets() -> list[dict]:
    return calibration.read_targets(TARGETS)


def _write(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


DEMOGRAPHIC = [
    r
    for r in _targets()
    if r["metric"] in METRICS and METRICS[r["metric"]].fn.__module__ == metrics_demography.__name__
]
LABOUR = [r for r in _targets() if r not in DEMOGRAPHIC]


def test_the_shipped_targets_are_the_shared_reference():
    names = {r["metric"] for r in _targets()}
    assert {"population_jan1", "births", "life_expectancy_at_birth", "share_one_person_households"} <= names
    assert len(DEMOGRAPHIC) >= 20


def test_every_target_metric_is_registered():
    if importlib.util.find_spec("cohort.warehouse.metrics_labour") is None:
        pytest.skip("the labour-market metrics module does not exist yet")
    missing = sorted({r["metric"] for r in _targets()} - set(METRICS))
    assert missing == []


@pytest.fixture(scope="module")
def demo_report(demo_warehouse: Path) -> dict[tuple, calibration.CalibrationRow]:
    rows = calibration.calibrate(demo_warehouse, TARGETS)
    return {(r.metric, r.scope, r.year): r for r in rows}


@pytest.mark.parametrize("target", DEMOGRAPHIC, ids=lambda r: f"{r['metric']}-{r['scope']}-{r['year']}")
def test_demographic_targets_pass_at_demo_scale(demo_report, target):
    row = demo_report[(target["metric"], target["scope"], int(target["year"]))]
    assert row.ok, (
        f"{row.metric} {row.scope} {row.year}: generated {row.generated} vs target {row.target} ± {row.tolerance}"
    )


@pytest.mark.parametrize("target", LABOUR, ids=lambda r: f"{r['metric']}-{r['scope']}-{r['year']}")
def test_labour_market_targets_pass_at_demo_scale(demo_report, target):
    """Employment rate, VDAB job seekers, long-term share, ILO proxy, work intensity."""
    row = demo_report[(target["metric"], target["scope"], int(target["year"]))]
    assert row.ok, (
        f"{row.metric} {row.scope} {row.year}: generated {row.generated} vs target {row.target} ± {row.tolerance}"
    )


def test_every_shipped_target_is_checked_at_demo_scale(demo_report):
    assert len(LABOUR) >= 8 and len(demo_report) == len(_targets())
    failing = [f"{r.metric} {r.scope} {r.year}" for r in demo_report.values() if not r.ok]
    assert failing == []


def test_counts_scale_and_tolerances(demo_report):
    pop = demo_report[("population_jan1", "Belgium", 2005)]
    assert pop.target == pytest.approx(10_445_852 * 0.01)
    assert pop.tolerance == pytest.approx(0.02 * pop.target)  # relative tolerance
    share = demo_report[("share_15_64", "Belgium", 2021)]
    assert share.target == pytest.approx(0.639) and share.tolerance == pytest.approx(0.015)


def test_unseen_targets_file(small_warehouse: Path, tmp_path: Path):
    """Any targets file works: a province, another year, an unknown metric, an unknown scope."""
    f = _write(
        tmp_path / "t.csv",
        [
            # a province at scale 0.002 is 1,700 persons, whose count moves by 5 % from one generator
            # version to the next (a few migrant households): a wide tolerance, the file is the test
            ["population_jan1", "Limburg", 2010, 838_505, 0.1, "persons (relative tolerance)", "x", "x"],
            [
                "population_jan1",
                "Brussels-Capital Region",
                2012,
                1_138_854,
                0.05,
                "persons (relative tolerance)",
                "x",
                "x",
            ],
            ["share_15_64", "Walloon Region", 2015, 0.64, 0.03, "share (absolute tolerance)", "x", "x"],
            ["no_such_metric", "Belgium", 2010, 1, 0.1, "share", "x", "x"],
            ["population_jan1", "Atlantis", 2010, 1, 0.1, "persons (relative tolerance)", "x", "x"],
        ],
    )
    rows = calibration.calibrate(small_warehouse, f)
    assert [r.ok for r in rows[:3]] == [True, True, True], calibration.markdown_table(rows)
    assert rows[0].target == pytest.approx(838_505 * 0.002)
    assert not rows[3].ok and rows[3].reason == "metric not registered"
    assert not rows[4].ok and "Atlantis" in rows[4].reason
    assert "| population_jan1 | Limburg | 2010 |" in calibration.markdown_table(rows)


def test_targets_file_without_a_column_is_refused(tmp_path: Path):
    f = tmp_path / "bad.csv"
    f.write_text("metric,scope,year,value\npopulation_jan1,Belgium,2010,1\n")
    with pytest.raises(ValueError, match="tolerance"):
        calibration.read_targets(f)


def test_life_expectancy_from_expected_deaths_matches_the_model():
    """Without sampling noise the Gompertz-smoothed period life table returns the model's e0."""
    ages = np.arange(111, dtype=float)
    exposure = 1000.0 * np.exp(-ages / 60)
    for sex in ("M", "F"):
        level = mortality_level(sex, 2019)
        deaths = exposure * gompertz_rates(ages + 0.5, level, sex)
        e0 = metrics_demography.period_life_expectancy(deaths, exposure)
        assert e0 == pytest.approx(life_expectancy(level, sex), abs=0.6)


@pytest.mark.parametrize(
    "text,expected", [("2005-2026", (2005, 2026)), ("2020", (2020, 2020)), (None, (2005, 2026))]
)
def test_parse_years(text, expected):
    assert parse_years(text) == expected


@pytest.mark.parametrize("text", ["2026-2005", "abc", "2005-2010-2020"])
def test_parse_years_refuses_nonsense(text):
    import click

    with pytest.raises(click.BadParameter):
        parse_years(text)


def test_cli_build_and_calibrate(tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "wh"
    res = runner.invoke(
        warehouse,
        [
            "build",
            "--scale",
            "0.001",
            "--seed",
            "2",
            "--out",
            str(out),
            "--years",
            "2020-2021",
            "--demography-only",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "person" in res.output and (out / "_manifest.json").exists()
    assert json.loads((out / "_manifest.json").read_text())["years"] == [2020, 2021]
    good = _write(
        tmp_path / "good.csv",
        [["population_jan1", "Belgium", 2021, 11_521_238, 0.05, "persons (relative tolerance)", "", ""]],
    )
    report = tmp_path / "r.json"
    res = runner.invoke(
        warehouse, ["calibrate", "--warehouse", str(out), "--targets", str(good), "--json", str(report)]
    )
    assert res.exit_code == 0, res.output
    rec = json.loads(report.read_text())
    assert {"metric", "scope", "year", "target", "generated", "tolerance", "ok"} <= set(rec[0]) and rec[0][
        "ok"
    ]
    bad = _write(
        tmp_path / "bad.csv",
        [
            ["population_jan1", "Belgium", 2021, 99_000_000, 0.01, "persons (relative tolerance)", "", ""],
            ["nonsense", "Belgium", 2021, 1, 0.01, "", "", ""],
        ],
    )
    res = runner.invoke(warehouse, ["calibrate", "--warehouse", str(out), "--targets", str(bad)])
    assert res.exit_code == 1
    assert "metric not registered" in res.output


def test_dagster_assets_build_check_and_calibrate(tmp_path: Path):
    lake = LakeResource(data_dir=str(tmp_path / "lake"))
    cfg = WarehouseConfig(scale=0.0005, seed=9, first_year=2018, last_year=2019, with_labour=False)
    written = ["person", "nationality_history", "residence_history", "register_history", "household_jan1"]
    result = dg.materialize(
        [synthetic_warehouse, warehouse_calibration]
        + [a for a in source_assets if a.key.path[-1] in written],
        resources={"lake": lake},
        run_config=dg.RunConfig({"synthetic_warehouse": cfg}),
    )
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    # the contract check of each table finds exactly the delivery errors the build put in
    defects = json.loads((lake.paths().warehouse / "_manifest.json").read_text())["defects"]
    assert set(defects) == {"person"} and sum(defects["person"].values()) > 0
    for table in written:
        meta = result.asset_materializations_for_node(f"warehouse__{table}")[0].metadata
        found = {k.split("/", 1)[1]: v.value for k, v in meta.items() if k.startswith("rejected/")}
        assert found == defects.get(table, {}), table
        assert meta["accepted_rows"].value + meta["rejected_rows"].value == meta["source_rows"].value
    quarantined = pl.read_parquet(lake.paths().quarantine / "person" / "data.parquet")
    assert quarantined.height == sum(defects["person"].values())
    assert set(quarantined["reason"]) == set(defects["person"])
    assert "calibration_within_tolerance" in checks  # at this tiny scale it may warn; it must run
    mats = result.asset_materializations_for_node("synthetic_warehouse")
    assert mats[0].metadata["seed"].value == 9
    assert (lake.paths().reports / "warehouse_calibration.json").exists()
    assert (lake.paths().warehouse / "person" / "data.parquet").exists()


def _warehouse_connection(warehouse: Path):
    con = storage.connect()
    checks.register_warehouse(con, warehouse)
    return con


def test_household_types_cover_the_private_households(demo_warehouse: Path):
    """One-person, couples with and without children and one-parent families are nearly all private
    households (the rest is 'other'); the couple types split into married and unmarried."""
    con = _warehouse_connection(demo_warehouse)
    share = {
        name: METRICS[name].fn(con, "Flemish Region", 2020)
        for name in (
            "share_one_person_households",
            "share_couples_with_children_households",
            "share_couples_without_children_households",
            "share_one_parent_households",
            "share_married_couples_with_children_households",
            "share_unmarried_couples_with_children_households",
        )
    }
    con.close()
    main = sum(share[n] for n in list(share)[:4])
    assert 0.95 <= main <= 1.0 + 1e-9, share
    assert min(share.values()) > 0.0, share
    with_children = (
        share["share_married_couples_with_children_households"]
        + share["share_unmarried_couples_with_children_households"]
    )
    assert with_children == pytest.approx(share["share_couples_with_children_households"])


def test_regularised_persons_stay_foreigners_for_the_legal_residence_the_code_asks(demo_warehouse: Path):
    """Regularised persons had no legal residence before their decision: none is Belgian on it, nor
    before five years of legal residence counted from it (docs/domain_facts.md 3.8)."""
    con = _warehouse_connection(demo_warehouse)
    persons, early = con.execute(
        """
        SELECT count(DISTINCT g.insz),
               count(DISTINCT CASE WHEN n.nationality = 'BE'
                                    AND n.valid_from < g.decision_date + INTERVAL 5 YEAR THEN g.insz END)
        FROM regularised_person g JOIN nationality_history n USING (insz)"""
    ).fetchall()[0]
    on_june_30 = METRICS["share_belgian_among_regularised_2010_2012"].fn(con, "Belgium", 2013)
    con.close()
    assert persons >= 200  # about 25,000 x 0.01 decisions
    assert early == 0
    assert on_june_30 == 0.0
