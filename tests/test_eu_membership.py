"""Seed 003 §2: "the EU" of the origin classification is the member states on the day the tables are
generated (spec ``eu_membership: generation``), that day from the project's clock; the other reading,
the member states on the table's reference date, is a spec setting. A Croatian father (Croatia joined on
2013-07-01) and a British father (the United Kingdom left on 2020-01-31) move between EU and non-EU."""

from dataclasses import replace
from datetime import date

import pytest
from anonymous_helpers import insz, write

from cohort import clock
from cohort.classifications import eu_membership
from cohort.projects.flemish_staff_origin.assets import SPEC, eu_membership_date, staff_sql
from cohort.resources import LakeResource

YEARS = (2012, 2013, 2019, 2021)


def _person(i: int, nat: str = "BE", father: int | None = None, mother: int | None = None) -> dict:
    return {
        "insz": insz(i),
        "birth_date": date(1980, 5, 5),
        "sex": "F",
        "birth_country": nat,
        "first_nationality": nat,
        "father_insz": insz(father) if father is not None else None,
        "mother_insz": insz(mother) if mother is not None else None,
        "is_bis": False,
    }


@pytest.fixture
def lake(tmp_path) -> LakeResource:
    # 1: Croatian father; 2: British father; both with a known Belgian mother and Belgian grandparents
    people = [
        _person(1, father=10, mother=11),
        _person(10, nat="HR", father=12, mother=13),
        _person(11, father=14, mother=15),
        _person(2, father=20, mother=21),
        _person(20, nat="GB", father=22, mother=23),
        _person(21, father=24, mother=25),
        *[_person(i) for i in (12, 13, 14, 15, 22, 23, 24, 25)],
    ]
    wh = tmp_path / "warehouse"
    write(wh, "person", people)
    write(
        wh,
        "nationality_history",
        [
            {
                "insz": p["insz"],
                "nationality": p["first_nationality"],
                "valid_from": p["birth_date"],
                "valid_to": None,
            }
            for p in people
        ],
    )
    job = dict(policy_domain="D1", entity="E1", level="A", position="S", regime="FT")
    staff = [{"year": y, "insz": insz(i), **job} for y in YEARS for i in (1, 2)]
    write(wh, "flemish_staff", staff)
    return LakeResource(data_dir=str(tmp_path))


def origin_eu(lake: LakeResource, year: int, **kwargs) -> dict[str, str]:
    """origin_eu of the Croatian-father and the British-father staff member in ``year``'s frame."""
    con = lake.connect(SPEC.warehouse, years=[year])
    got = con.sql(staff_sql(year, **kwargs)).pl()
    assert got.height == 2 and got.get_column("origin_eu15").sort().to_list() == ["EU-15", "non-EU-15"]
    # the EU-15 staff member is the British father's child, the other the Croatian father's
    by_bloc = dict(zip(got.get_column("origin_eu15"), got.get_column("origin_eu"), strict=True))
    return {"HR": by_bloc["non-EU-15"], "GB": by_bloc["EU-15"]}


def test_the_spec_follows_the_deliberation_by_default(monkeypatch) -> None:
    assert SPEC.extra["eu_membership"] == eu_membership.GENERATION
    # the generation date is the project's clock, not the reference year
    monkeypatch.setenv(clock.ENV, "2013-06-30")
    assert eu_membership_date(2012) == date(2013, 6, 30)
    assert "'HR'" not in staff_sql(2012)  # Croatia is in no bloc of the query (not EU-15, not yet EU)
    monkeypatch.setenv(clock.ENV, "2026-06-30")
    assert eu_membership_date(2012) == date(2026, 6, 30)
    assert "'HR'" in staff_sql(2012)


def test_generated_today_every_year_of_the_series_uses_todays_member_states(lake, monkeypatch) -> None:
    monkeypatch.setenv(clock.ENV, "2026-06-30")
    for year in YEARS:
        # Croatia in the EU, the United Kingdom outside it, in 2012 as in 2021
        assert origin_eu(lake, year) == {"HR": "EU", "GB": "non-EU"}, year


def test_the_generation_date_decides_not_the_year(lake) -> None:
    # the 2012 table generated on 30 June 2013: Croatia not yet a member, the United Kingdom still one
    assert origin_eu(lake, 2012, generated_on=date(2013, 6, 30)) == {"HR": "non-EU", "GB": "EU"}
    # generated the day Croatia joined
    assert origin_eu(lake, 2012, generated_on=date(2013, 7, 1)) == {"HR": "EU", "GB": "EU"}
    # generated the day after the United Kingdom left
    assert origin_eu(lake, 2019, generated_on=date(2020, 2, 1)) == {"HR": "EU", "GB": "non-EU"}


def test_the_reference_date_reading_is_a_spec_setting(lake) -> None:
    on_reference = replace(SPEC, extra={**SPEC.extra, "eu_membership": eu_membership.REFERENCE_DATE})
    generated = date(2026, 6, 30)
    expected = {
        2012: {"HR": "non-EU", "GB": "EU"},  # 31 December 2012: Croatia joins in July 2013
        2013: {"HR": "EU", "GB": "EU"},
        2019: {"HR": "EU", "GB": "EU"},  # 31 December 2019: the United Kingdom still a member
        2021: {"HR": "EU", "GB": "non-EU"},
    }
    for year, answer in expected.items():
        assert origin_eu(lake, year, generated_on=generated, spec=on_reference) == answer, year


def test_an_unknown_reading_is_refused() -> None:
    with pytest.raises(ValueError, match="eu_membership: unknown rule 'today'"):
        eu_membership.membership_date("today", date(2013, 12, 31), date(2026, 6, 30))
