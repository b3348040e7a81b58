"""The cohort's exports: nothing identifying leaves (no national number, employer number or day-level
date in any file), every column is authorised by the spec and an unauthorised one stops the build
by name, values are coarsened as declared, and the same seed and key give the same bytes."""

import json
import re
from pathlib import Path

import polars as pl
import pytest
from hand_cohort import EMPLOYER, EXPORT_YEARS, KEY_HEX, TRAJECTORY_YEARS, BuiltCohort

from cohort.classifications.insz import is_valid_insz
from cohort.projects.longitudinal_cohort import build
from cohort.projects.spec import UnauthorisedColumnError

DAY = re.compile(r"(1[89]|20)\d\d[-/.]?(0[1-9]|1[0-2])[-/.]?(0[1-9]|[12]\d|3[01])")


def _enterprise_ok(s: str) -> bool:
    return len(s) == 10 and s[0] in "01" and 97 - int(s[:8]) % 97 == int(s[8:])


def _export_files(cohort) -> list[Path]:  # noqa: F811
    return sorted((cohort.lake.exports / cohort.spec.id).rglob("*.parquet"))


def test_every_export_partition_exists(cohort) -> None:  # noqa: F811
    files = {(f.parent.parent.name, int(f.parent.name[5:])) for f in _export_files(cohort)}
    expected = {(t, y) for t in build.yearly_tables(cohort.spec) for y in EXPORT_YEARS}
    expected |= {(t, y) for t in ("mobility_next", "mobility_prev") for y in TRAJECTORY_YEARS}
    assert files == expected
    assert not any(t.startswith("situation") for t, _ in files)  # the secure steps never reach the exports


def test_no_national_number_employer_number_or_day_level_date_in_any_export(cohort) -> None:  # noqa: F811
    secrets = set(cohort.names.values()) | {EMPLOYER}
    for path in _export_files(cohort):
        df = pl.read_parquet(path)
        for name, dtype in df.schema.items():
            assert dtype not in (pl.Date, pl.Datetime) and not isinstance(dtype, pl.Datetime), (path, name)
            values = df[name].drop_nulls()
            if dtype == pl.String:
                for v in values.unique().to_list():
                    assert v not in secrets, (path, name)
                    for run in re.findall(r"\d+", v):
                        assert not (len(run) == 11 and is_valid_insz(run)), (path, name)
                        assert not _enterprise_ok(run), (path, name)
                    assert not DAY.fullmatch(v), (path, name)
            elif dtype.is_integer():
                for v in values.unique().to_list():
                    assert not is_valid_insz(f"{abs(v):011d}") or abs(v) < 10**8, (path, name)
                    assert not _enterprise_ok(f"{abs(v):010d}") or abs(v) < 10**8, (path, name)


def test_every_exported_column_is_authorised_by_the_spec(cohort) -> None:  # noqa: F811
    for path in _export_files(cohort):
        table = path.parent.parent.name
        assert pl.read_parquet_schema(path).names() == list(cohort.spec.tables[table].columns), table


def test_an_unauthorised_column_stops_the_build_with_its_name(cohort) -> None:  # noqa: F811
    original = (build.SQL_DIR / "household.sql").read_text()
    leaky = original.replace(
        "select * from final order by all", "select *, 'x' as national_number from final order by all"
    )
    assert leaky != original
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COHORT_KEY_LONGITUDINAL_COHORT", KEY_HEX)
        with pytest.raises(UnauthorisedColumnError, match="national_number"):
            build.run(
                cohort.lake,
                cohort.spec,
                build.build_exports,
                2007,
                tables=["household"],
                sql_overrides={"household": leaky},
            )
    assert not build.export_file(cohort.lake, cohort.spec, "household", 2007).exists()


def test_values_are_coarsened_as_declared(cohort) -> None:  # noqa: F811
    ids = cohort.person_ids()
    d = ids["D"]
    person = cohort.export("person", 2005).filter(pl.col("person_id") == d).row(0, named=True)
    assert person["birth_quarter"] == "1975Q2" and person["current_nationality_class"] == "South EU-15"
    assert (
        person["origin_group"] == "south_eu"
        and person["province"] == "Antwerpen"
        and person["region"] == "flemish"
    )
    assert person["children_birth_years"] == "2000" and person["civil_status"] == "2"
    pos = cohort.export("position", 2005).filter(pl.col("person_id") == d).sort("quarter")
    assert pos["quarter"].to_list() == ["2005Q1", "2005Q2", "2005Q3", "2005Q4"]
    assert pos["quarter_gross_wage_class"].to_list() == ["7500-9999"] * 4  # 9,123.45 euro
    assert pos["activated_by_rva"].to_list() == [True] * 4  # status flag bit 0
    job = cohort.export("job", 2005).filter(pl.col("person_id") == d)
    assert job["daily_wage_class"].unique().to_list() == ["125-149"] and job["employer_id"].n_unique() == 1
    benefit = cohort.export("benefit", 2006).filter(pl.col("person_id") == d).row(0, named=True)
    assert benefit["benefit"] == "child_benefit" and benefit["related_person_id"] == ids["F"]
    assert benefit["benefit_amount_class"] == "250-499" and benefit["spell_start_quarter"] == "2004Q1"
    vdab = cohort.export("vdab_trajectory", 2006).row(0, named=True)
    assert vdab["trajectory_start_month"] == "2006-03" and vdab["transmission_month"] == "2006-09"
    c = cohort.export("person", 2011).filter(pl.col("person_id") == ids["C"]).row(0, named=True)
    assert c["province"] == "outside Flanders" and c["region"] == "abroad"  # abroad on 1 January 2011


def test_trajectory_tables_put_a_year_next_to_its_neighbours(cohort) -> None:  # noqa: F811
    for table in ("mobility_next", "mobility_prev"):
        for y in TRAJECTORY_YEARS:
            assert (
                build.check_export(
                    cohort.spec, table, y, build.export_file(cohort.lake, cohort.spec, table, y)
                )
                == []
            )
    ids = cohort.person_ids()
    nxt = cohort.export("mobility_next", 2005)
    d = nxt.filter(pl.col("person_id") == ids["D"]).row(0, named=True)
    assert d["next_status"] == "observed" and d["socio_economic_position_next"] == "111"
    assert d["province_next"] == "Antwerpen" and d["situation_quarter"] == "2005Q4"
    prev = cohort.export("mobility_prev", 2006)
    t = prev.filter(pl.col("person_id") == ids["topup_2006"]).row(0, named=True)
    assert t["prev_status"] == "not_in_population" and t["socio_economic_position_prev"] is None
    assert set(prev["person_id"]) == set(cohort.export("person", 2006)["person_id"])


def test_person_numbers_are_stable_over_the_years(cohort) -> None:  # noqa: F811
    ids = cohort.person_ids()
    for y in (2005, 2006, 2008):
        assert ids["D"] in cohort.export("person", y)["person_id"].to_list()


def test_the_same_seed_and_key_give_byte_identical_exports(cohort, tmp_path) -> None:  # noqa: F811
    twin = BuiltCohort(tmp_path, cohort.warehouse, cohort.names, cohort.expected)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COHORT_KEY_LONGITUDINAL_COHORT", KEY_HEX)
        twin.build(observed_years=[2006], export_years=[2006], trajectory_years=[])
    yearly = set(build.yearly_tables(cohort.spec))
    ours = sorted(
        p
        for p in (cohort.lake.exports / cohort.spec.id).glob("*/year=2006/data.parquet")
        if p.parent.parent.name in yearly
    )
    theirs = sorted((twin.lake.exports / twin.spec.id).glob("*/year=2006/data.parquet"))
    assert [p.relative_to(cohort.lake.exports) for p in ours] == [
        p.relative_to(twin.lake.exports) for p in theirs
    ]
    for a, b in zip(ours, theirs, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.parent.parent.name


def test_data_dictionary_lists_every_variable_with_its_paragraph(cohort) -> None:  # noqa: F811
    base = cohort.lake.exports / cohort.spec.id
    doc = json.loads((base / "data_dictionary.json").read_text())
    listed = {c["name"]: c for t in doc["tables"] for c in t["columns"]}
    assert set(listed) == set(cohort.spec.variables)
    assert all(c["paragraph"].startswith("§") for c in listed.values())
    assert listed["quarter_gross_wage_class"]["classes"][0] == "0-2499"
    md = (base / "data_dictionary.md").read_text()
    assert "## person" in md and "not_supplied" not in md and "stedelijke hiërarchie" in md
    assert doc["retention_date"] == "2026-12-31"


def test_the_blocking_check_rejects_a_bad_partition(cohort, tmp_path) -> None:  # noqa: F811
    good = cohort.export("household", 2005)
    assert (
        build.check_export(
            cohort.spec, "household", 2005, build.export_file(cohort.lake, cohort.spec, "household", 2005)
        )
        == []
    )
    bad = tmp_path / "bad.parquet"
    good.with_columns(year=pl.lit(2004, pl.Int16)).write_parquet(bad)
    assert build.check_export(cohort.spec, "household", 2005, bad)
    good.with_columns(extra=pl.lit(1)).write_parquet(bad)
    assert any("extra" in e for e in build.check_export(cohort.spec, "household", 2005, bad))
