"""The labour reserve's population rule (seed 004) on the hand-built warehouse of
``hand_labour_warehouse.py``, whose persons and answers are listed there."""

import dataclasses
from datetime import date

import polars as pl
import pytest
from hand_labour_warehouse import INSZ, build_hand_warehouse

from cohort import storage
from cohort.sources import checks

# ----------------------------------------------------------------------------- tests of the rule


def test_population_rule_on_the_hand_warehouse(tmp_path):
    from cohort.projects.labour_reserve import build

    wh = build_hand_warehouse(tmp_path / "warehouse")
    con = storage.connect()
    storage.register_tables(con, wh)
    members = {}
    for y in (2019, 2020, 2021, 2022):
        ids = {r[0] for r in con.execute(f"SELECT insz FROM ({build.population_sql(y)})").fetchall()}
        members[y] = {p for p, i in INSZ.items() if i in ids}
    assert members[2020] == {"A", "B", "C", "D", "E", "J", "L", "M"}
    assert members[2021] == {"A", "B", "F", "G", "H", "J", "L", "M"}
    assert "K" not in set().union(*members.values())  # BIS number
    assert "H" not in members[2019] and "H" not in members[2020]  # waiting register
    assert checks.warehouse_years(wh) == [2019, 2020, 2021, 2022]


def test_one_pass_membership_equals_the_population_rule(tmp_path):
    """population_membership.sql (one pass, several years) must agree with population.sql year by year."""
    from cohort.projects.labour_reserve import build

    wh = build_hand_warehouse(tmp_path / "warehouse")
    con = storage.connect()
    storage.register_tables(con, wh)
    years = [2019, 2020, 2021, 2022]
    members = con.sql(build.membership_sql(years)).pl()
    for y in years:
        rule = {r[0] for r in con.execute(f"SELECT insz FROM ({build.population_sql(y)})").fetchall()}
        assert set(members.filter(pl.col(f"in_{y}"))["insz"]) == rule
    d = members.filter(pl.col("insz") == INSZ["D"]).to_dicts()[0]
    assert d["be_2020"] and not d["be_2021"]  # emigrated in April 2021


def test_quarantined_source_rows_are_left_out(tmp_path, monkeypatch):
    """A register spell that breaks the contract (ends before it starts) is quarantined by the
    source check; the labour reserve then reads only the accepted rows, so B drops out."""
    from cohort.projects.labour_reserve import build
    from cohort.projects.step import open_step
    from cohort.settings import lake

    monkeypatch.setenv("COHORT_DEMO", "1")
    wh = build_hand_warehouse(tmp_path / "warehouse")
    path = storage.partition_file(wh, "register_history")
    reg = pl.read_parquet(path).with_columns(
        pl.when(pl.col("insz") == INSZ["B"])
        .then(pl.lit(date(1999, 1, 1)))
        .otherwise(pl.col("valid_to"))
        .alias("valid_to")
    )
    storage.write_frame(reg, path)
    paths = lake(tmp_path, wh)
    # one bad row of twelve is far above the spec's threshold: this tiny warehouse tolerates half
    reads = dataclasses.replace(build.spec().warehouse, max_reject_share=0.5)
    con = storage.connect()
    checks.open_warehouse(con, paths, reads, [2020])
    ids = {r[0] for r in con.execute(f"SELECT insz FROM ({build.population_sql(2020)})").fetchall()}
    assert INSZ["A"] in ids and INSZ["B"] not in ids
    assert pl.read_parquet(paths.quarantine / "register_history" / "data.parquet")["insz"].to_list() == [
        INSZ["B"]
    ]
    # at the spec's own threshold the same warehouse is refused, naming the table and the rule
    with (
        pytest.raises(checks.SourceContractError, match="register_history: 1 of .* rows rejected"),
        open_step(paths, build.spec(), years=[2020], warehouse=True),
    ):
        pass
