"""The small pure rules: national-number checksums, origin cascades, classes and date coarsening."""

from datetime import date

import duckdb
import polars as pl
import pytest

from cohort import storage
from cohort.classifications import codes, origin
from cohort.classifications.classes import (
    class_labels,
    classes_sql,
    country_class_sql,
    install_lookups,
)
from cohort.classifications.insz import (
    enterprise_valid_expr,
    insz_sql_valid,
    insz_valid_expr,
    is_valid_insz,
    make_enterprise_number,
    make_insz,
)

# examples from docs/domain_facts.md section 6 (19xx, 20xx and two BIS numbers)
VALID = ["85073003328", "17073003384", "98472899765", "01490700185"]


@pytest.mark.parametrize("number", VALID)
def test_known_valid_numbers(number: str) -> None:
    assert is_valid_insz(number)


@pytest.mark.parametrize("number", ["85073003329", "8507300332", "850730033280", "8507300332A", ""])
def test_invalid_numbers(number: str) -> None:
    assert not is_valid_insz(number)


def test_vectorised_forms_agree_with_the_scalar_rule() -> None:
    numbers = [
        *VALID,
        "85073003329",
        "12345678901",
        make_insz(date(2003, 4, 5), 12),
        make_insz(date(1961, 2, 1), 998, 40),
    ]
    expected = [is_valid_insz(n) for n in numbers]
    assert pl.DataFrame({"n": numbers}).select(insz_valid_expr("n")).to_series().to_list() == expected
    got = duckdb.sql(
        f"select {insz_sql_valid('n')} from (select unnest(?::VARCHAR[]) as n)", params=[numbers]
    ).fetchall()
    assert [r[0] for r in got] == expected


def test_made_numbers_are_valid_and_carry_the_birth_date() -> None:
    n = make_insz(date(2001, 12, 31), 1)
    assert is_valid_insz(n) and n.startswith("011231")
    bis = make_insz(date(1975, 3, 9), 7, bis_offset=40)
    assert is_valid_insz(bis) and bis[2:4] == "43"


def test_enterprise_numbers() -> None:
    good = make_enterprise_number(4242)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert pl.DataFrame({"e": [good, bad]}).select(enterprise_valid_expr("e")).to_series().to_list() == [
        True,
        False,
    ]


def _allochtone(own, parents, grandparents, bloc) -> str:
    sql = origin.allochtone_sql("own", "par", "gp", bloc)
    return duckdb.sql(
        f"select {sql} from (select ?::VARCHAR[] own, ?::VARCHAR[][] par, ?::VARCHAR[][] gp)",
        params=[own, parents, grandparents],
    ).fetchall()[0][0]


BE = ["BE", "BE"]
EU = codes.eu_members(date(2026, 1, 1))


@pytest.mark.parametrize(
    ("own", "parents", "grandparents", "expected"),
    [
        (BE, [BE, BE], [BE] * 4, "belgian"),
        (["BE", "MA"], [BE, BE], [BE] * 4, "outside"),  # own first nationality outside the EU
        (BE, [BE, ["MA", "MA"]], [BE] * 4, "outside"),  # one parent is enough
        (BE, [BE, BE], [["TR", "TR"], ["TR", "TR"], BE, BE], "outside"),  # two grandparents are needed
        (BE, [BE, BE], [["TR", "TR"], BE, BE, BE], "belgian"),  # one grandparent is not enough
        (BE, [BE], [BE, BE], "unknown_parents"),
        (BE, [BE, BE], [["TR", "TR"], BE, BE], "unknown_grandparents"),  # a missing grandparent could tip it
        (BE, [BE, BE], [BE, BE, BE], "belgian"),  # a missing grandparent cannot make two
        (BE, [BE, ["NL", "NL"]], [BE] * 4, "inside"),
    ],
)
def test_allochtone_cascade_seed_003(own, parents, grandparents, expected) -> None:
    assert _allochtone(own, parents, grandparents, EU) == expected


def test_eu15_and_eu_classifications_differ_for_new_members() -> None:
    polish_parent = [BE, ["PL", "PL"]]
    assert _allochtone(BE, polish_parent, [BE] * 4, EU) == "inside"
    assert _allochtone(BE, polish_parent, [BE] * 4, codes.EU15) == "outside"


def test_eu_membership_follows_dates() -> None:
    assert "PL" not in codes.eu_members(date(2004, 4, 30)) and "PL" in codes.eu_members(date(2004, 5, 1))
    assert "GB" in codes.eu_members(date(2019, 12, 31)) and "GB" not in codes.eu_members(date(2020, 2, 1))
    assert "HR" in codes.eu_members(date(2014, 1, 1))


def test_flemish_and_statbel_origin() -> None:
    q = (
        f"select {origin.flemish_foreign_origin_sql('cur', 'fst', 'fa', 'mo')}, "
        f"{origin.flemish_origin_country_sql('cur', 'fst', 'fa', 'mo')}, "
        f"{origin.statbel_origin_sql('cur', 'fst', 'fa', 'mo')} "
        "from (values ('BE','BE','MA','TR'), ('BE','BE',null,'IT'), ('BE','BE',null,null), ('NL','NL','NL','NL'), ('BE','CD','BE','BE')) t(cur, fst, fa, mo)"
    )
    assert duckdb.sql(q).fetchall() == [
        (True, "MA", "belgian_foreign_background"),
        (True, "IT", "belgian_foreign_background"),
        (False, "BE", "belgian_origin"),
        (True, "NL", "non_belgian"),
        (True, "CD", "belgian_foreign_background"),
    ]


def test_classes_cover_every_value_once() -> None:
    breaks = [15, 25, 35, 45, 55]
    assert class_labels(breaks) == ["15-24", "25-34", "35-44", "45-54", "55+"]
    got = duckdb.sql(f"select {classes_sql('x', breaks)} from range(10, 70) t(x) order by x").fetchall()
    labels = [r[0] for r in got]
    assert (
        labels[:5] == [None] * 5 and labels[5] == "15-24" and labels[14] == "15-24" and labels[15] == "25-34"
    )
    assert labels[-1] == "55+"


def test_dates_are_coarsened_to_quarter_and_month() -> None:
    got = (
        storage.connect()
        .sql(
            "select year_quarter(d), year_month(d), completed_age(b, d) from "
            "(values (DATE '2016-05-03', DATE '1990-05-04'), (DATE '2016-12-31', DATE '1990-12-31')) t(d, b)"
        )
        .fetchall()
    )
    assert got == [("2016Q2", "2016-05", 25), ("2016Q4", "2016-12", 26)]


def test_country_classes() -> None:
    con = duckdb.connect()
    install_lookups(con)
    got = con.execute(
        f"select {country_class_sql('c')} from (values ('MA'), ('IT'), ('NL'), ('PL'), ('TR'), ('ZZ')) t(c)"
    ).fetchall()
    assert [r[0] for r in got] == [
        "Maghreb",
        "South EU-15",
        "Neighbouring country",
        "EU-13",
        "Turkey",
        "Unknown",
    ]


def test_nis_codes_give_province_and_region() -> None:
    assert codes.province_of_nis("71066") == "70000"  # Zonhoven, Limburg
    assert codes.region_of_nis("44021") == "02000"
    assert codes.region_of_nis("21004") == "04000"
    assert codes.nace_section("47111") == "G" and codes.nace_section("84110") == "O"
