"""The periods of a health-fund incapacity spell (seed 004 §3, issue 24): the synthetic warehouse
derives them from its simulated spells by the rules of cohort/classifications/incapacity.py, the
contract quarantines a row whose periods break them, and both count the first year alike.

The known spells are those of the hand-built warehouse (hand_labour_warehouse.py: L_INCAPACITY,
J_INCAPACITY), whose delivery to the month is tested in test_labour_reserve_pipeline.py."""

from datetime import date, timedelta

import numpy as np
import polars as pl
from hand_labour_warehouse import INSZ, J_INCAPACITY, L_INCAPACITY, build_hand_warehouse

from cohort import storage
from cohort.classifications import classes, incapacity
from cohort.sources import checks
from cohort.warehouse import labour_frames

EPOCH = date(1970, 1, 1)


def _day(d: date) -> int:
    return (d - EPOCH).days


def _periods(payment_start: date, employee: bool, year: int, quarter: int, spell_end: date | None) -> tuple:
    """(incapacity_start, invalidity_start) of one benefit row, as the warehouse's generator writes them."""
    start = labour_frames.incapacity_start_days(np.array([_day(payment_start)]), np.array([employee]))
    row = pl.DataFrame(
        {"incapacity_start": [EPOCH + timedelta(days=int(start[0]))], "spell_end": [spell_end]},
        schema={"incapacity_start": pl.Date, "spell_end": pl.Date},
    )
    out = row.with_columns(labour_frames.invalidity_start(classes.quarter_last_day(year, quarter)))
    return out.row(0)[0], out.row(0)[2]


def test_the_generator_derives_the_periods_of_the_hand_spells() -> None:
    # L, self-employed: paid from the first day; in the first year at the end of 2021 and of June 2022,
    # invalidity from 14 September 2022 once a quarter has reached it
    l_start = L_INCAPACITY["spell_start"]
    assert _periods(l_start, False, 2021, 4, None) == (L_INCAPACITY["incapacity_start"], None)
    assert _periods(l_start, False, 2022, 2, None) == (L_INCAPACITY["incapacity_start"], None)
    for quarter in (3, 4):
        assert _periods(l_start, False, 2022, quarter, None) == (
            L_INCAPACITY["incapacity_start"],
            L_INCAPACITY["invalidity_start"],
        )
    # J, employee: the guaranteed-wage month before the health fund's first day; ended within the year
    assert _periods(J_INCAPACITY["spell_start"], True, 2021, 4, J_INCAPACITY["spell_end"]) == (
        J_INCAPACITY["incapacity_start"],
        None,
    )


def test_a_spell_crossing_its_first_year_and_one_ending_on_the_anniversary() -> None:
    # an employee ill from 29 February 2020, paid from 30 March: invalidity on 28 February 2021 (no 29th)
    paid = date(2020, 2, 29) + timedelta(days=incapacity.GUARANTEED_WAGE_DAYS)
    assert paid == date(2020, 3, 30)
    assert _periods(paid, True, 2020, 4, None) == (date(2020, 2, 29), None)
    assert _periods(paid, True, 2021, 1, None) == (date(2020, 2, 29), date(2021, 2, 28))
    # ended the day before the anniversary (exclusive end on it): no invalidity
    assert _periods(paid, True, 2021, 1, date(2021, 2, 28)) == (date(2020, 2, 29), None)
    assert _periods(paid, True, 2021, 1, date(2021, 3, 1)) == (date(2020, 2, 29), date(2021, 2, 28))


def test_an_authorised_resumption_starts_in_invalidity() -> None:
    """A partial resumption's incapacity began one to three years before it, the same day in every
    quarter of the resumption (a hash, not a draw)."""
    idx = np.arange(2_000)
    resumption = np.full(idx.size, _day(date(2021, 5, 17)))
    start = labour_frames.resumption_incapacity_start(idx, resumption)
    assert np.array_equal(start, labour_frames.resumption_incapacity_start(idx, resumption))
    years = (resumption - start) / 365
    assert years.min() > 1 and years.max() <= 3 and years.std() > 0.4
    first = pl.Series(start).cast(pl.Date).dt.offset_by(incapacity.invalidity_offset())
    assert (first <= date(2021, 5, 17)).all()


def test_the_contract_and_the_warehouse_count_the_first_year_alike() -> None:
    days = [date(2020, 2, 29), date(2021, 1, 31), date(2021, 3, 31), date(2019, 12, 31), date(2024, 2, 28)]
    warehouse = pl.Series(days).dt.offset_by(incapacity.invalidity_offset()).to_list()
    con = storage.connect()
    sql = incapacity.invalidity_start_sql("d")
    contract = [con.execute(f"SELECT {sql} FROM (SELECT ?::DATE AS d)", [d]).fetchone()[0] for d in days]
    assert (
        warehouse
        == contract
        == [
            date(2021, 2, 28),
            date(2022, 1, 31),
            date(2022, 3, 31),
            date(2020, 12, 31),
            date(2025, 2, 28),
        ]
    )


def test_the_generator_and_the_contract_end_a_quarter_on_the_same_day() -> None:
    con = storage.connect()
    for year, quarter in ((2020, 1), (2021, 1), (2021, 2), (2021, 3), (2021, 4)):
        sql = con.execute("SELECT quarter_last_day(?, ?)", [year, quarter]).fetchone()[0]
        assert classes.quarter_last_day(year, quarter) == sql
    assert classes.quarter_last_day(2020, 1) == date(2020, 3, 31)
    assert classes.quarter_last_day(2021, 4) == date(2021, 12, 31)


def test_broken_incapacity_periods_are_quarantined_with_their_reason(tmp_path) -> None:
    wh = build_hand_warehouse(tmp_path / "warehouse")
    path = storage.partition_file(wh, "benefit_quarter", 2021)
    ben = pl.read_parquet(path)
    is_j, is_l = pl.col("insz") == INSZ["J"], pl.col("insz") == INSZ["L"]
    social_aid_of_m = (pl.col("insz") == INSZ["M"]) & (pl.col("benefit") == "social_aid")
    ben = ben.with_columns(
        # J paid from before the incapacity began; M's social aid with an incapacity start
        pl.when(is_j)
        .then(pl.lit(date(2021, 11, 3)))
        .when(social_aid_of_m)
        .then(pl.lit(date(2015, 1, 1)))
        .otherwise(pl.col("incapacity_start"))
        .alias("incapacity_start"),
        # L: an invalidity a day early, before the quarter of a primary-incapacity row
        pl.when(is_l)
        .then(pl.lit(date(2021, 9, 13)))
        .otherwise(pl.col("invalidity_start"))
        .alias("invalidity_start"),
    )
    storage.write_frame(ben, path)
    result = checks.load_source(None, wh, "benefit_quarter", 1.0, tmp_path / "quarantine")
    quarantined = pl.read_parquet(tmp_path / "quarantine" / "benefit_quarter" / "data.parquet")
    reasons = {
        (insz, benefit): set(all_.split(","))
        for insz, benefit, all_ in quarantined.select("insz", "benefit", "reasons").iter_rows()
    }
    assert reasons == {
        (INSZ["J"], "incapacity"): {"incapacity_period:payment_before_incapacity"},
        (INSZ["L"], "incapacity"): {
            "incapacity_period:invalidity_not_after_first_year",
            "incapacity_period:primary_in_invalidity",
        },
        (INSZ["M"], "social_aid"): {"incapacity_period:other_benefit"},
    }
    assert result.rejected == 3 and result.counts == {
        "incapacity_period:other_benefit": 1,
        "incapacity_period:payment_before_incapacity": 1,
        "incapacity_period:invalidity_not_after_first_year": 1,
    }
