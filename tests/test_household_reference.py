"""The household reference date: one rule (cohort.projects.spec.household_year) that every project reads
from its spec's ``household_reference``. Seed 004 takes the snapshot of 1 January of T for its reference
date 31 December of T (days_after 0); seed 000 the snapshot of the day after each reference date
(days_after 1): 1 January 2013 for 30 June 2013, 1 January 2014 for 31 December 2013."""

from dataclasses import replace
from datetime import date

import pytest

from cohort.projects.labour_reserve import build as labour_build
from cohort.projects.regularised_foreigners.assets import regularised_sql
from cohort.projects.spec import SpecError, household_year, load_spec


def test_seed_004_takes_the_first_of_january_of_its_own_year() -> None:
    spec = load_spec("labour_reserve")
    assert spec.extra["household_reference"]["days_after"] == 0
    assert [household_year(spec, labour_build.reference_day(y)) for y in (2020, 2026)] == [2020, 2026]
    sql = labour_build.situation_sql(2024, spec)
    assert "where h.year = 2024" in sql and "'2024-01-01'" in sql


def test_seed_000_takes_the_first_of_january_after_an_end_of_year_date() -> None:
    spec = load_spec("regularised_foreigners")
    assert spec.extra["household_reference"]["days_after"] == 1
    dates = [date.fromisoformat(d) for d in spec.extra["reference_dates"]]
    assert [household_year(spec, d) for d in dates] == [2013, 2014, 2014, 2015]
    assert "unnest([2013, 2014, 2014, 2015]) as household_year" in regularised_sql()


def test_the_rule_reads_the_spec_and_changes_with_it() -> None:
    spec = load_spec("labour_reserve")
    next_day = replace(spec, extra={**spec.extra, "household_reference": {"days_after": 1}})
    assert household_year(next_day, date(2024, 12, 31)) == 2025
    assert household_year(next_day, date(2024, 12, 30)) == 2024
    assert "where h.year = 2025" in labour_build.situation_sql(2024, next_day)


@pytest.mark.parametrize("setting", [None, {}, {"days_after": 2}, {"days_after": True}, "1 January"])
def test_a_missing_or_odd_setting_is_refused(setting) -> None:
    spec = load_spec("labour_reserve")
    extra = {k: v for k, v in spec.extra.items() if k != "household_reference"}
    if setting is not None:
        extra["household_reference"] = setting
    with pytest.raises(SpecError, match="household_reference.days_after must be 0 or 1"):
        household_year(replace(spec, extra=extra), date(2024, 12, 31))
