"""The labour-reserve delivery end to end on the hand-built warehouse (2019-2022) where the answer is
known: Dagster runs every asset with its blocking checks (the one orchestrator: no step is called
around it), then the tests compare the tables with the facts written into the warehouse."""

from datetime import date

import dagster as dg
import polars as pl
import pytest
from hand_labour_warehouse import BIRTH, INSZ, NIS, PROVINCE, build_hand_warehouse

from cohort.projects.labour_reserve import assets as lr
from cohort.projects.labour_reserve import build
from cohort.projects.step import open_step
from cohort.resources import LakeResource


def materialise(lake: LakeResource, instance: dg.DagsterInstance, evaluations: list | None = None):
    """Runs a selection of the project's assets (one partition) through Dagster with their
    blocking checks, the way every build does, and keeps the check evaluations."""

    def run(selection, partition=None):
        result = dg.materialize(
            lr.ASSETS,
            selection=selection,
            partition_key=partition,
            resources={"lake": lake},
            instance=instance,
        )
        assert result.success
        if evaluations is not None:
            evaluations.extend(result.get_asset_check_evaluations())
        return result

    return run


@pytest.fixture(scope="module")
def lake_run(tmp_path_factory):
    """The mapping, the situation and absence of 2019-2022, the mobility tables of 2020-2022 and
    the phase-1 exports of 2020 and 2021, each run through Dagster with its blocking checks."""
    root = tmp_path_factory.mktemp("lr_lake")
    build_hand_warehouse(root / "warehouse")
    mp = pytest.MonkeyPatch()
    mp.setenv("COHORT_DEMO", "1")
    mp.delenv("COHORT_KEY_LABOUR_RESERVE", raising=False)
    mp.delenv("COHORT_KEY_DIR", raising=False)
    lake = LakeResource(data_dir=str(root))
    evaluations = []
    materialised: dict[tuple[str, str], dict] = {}  # (asset, year) -> its materialisation's metadata
    with dg.instance_for_test() as instance:
        run = materialise(lake, instance, evaluations)
        run([lr.person_mapping.key])
        for y in ("2019", "2020", "2021", "2022"):
            run([lr.situation.key, lr.population_absence.key], y)
        run([lr.phase1_panel.key, lr.labour_reserve_data_dictionary.key])
        for y in ("2020", "2021"):
            result = run(
                [lr.mobility_next.key, lr.mobility_prev.key, lr.phase1_next.key, lr.phase1_prev.key], y
            )
            for event in result.get_asset_materialization_events():
                materialisation = event.event_specific_data.materialization
                materialised[(materialisation.asset_key.path[-1], y)] = materialisation.metadata
        run([lr.mobility_next.key, lr.mobility_prev.key], "2022")
    ids = {}
    with open_step(lake, build.spec(), pseudonyms=True) as step:
        build.prepare(step, build.spec())
        for p, insz in INSZ.items():
            row = step.con.execute("SELECT seq FROM person_map WHERE hash = keyed_hash(?)", [insz]).fetchall()
            ids[p] = row[0][0] if row else None
    yield {
        "root": root,
        "secure": root / "secure" / "labour_reserve",
        "exports": root / "exports" / "labour_reserve",
        "ids": ids,
        "evaluations": evaluations,
        "materialised": materialised,
    }
    mp.undo()


def _table(d, name, year):
    return {
        r["person_id"]: r
        for r in pl.read_parquet(d["secure"] / name / f"year={year}" / "data.parquet").to_dicts()
    }


def test_blocking_checks_all_passed(lake_run):
    evals = lake_run["evaluations"]
    names = {e.check_name for e in evals}
    assert {
        "situation_valid",
        "population_absence_valid",
        "mobility_next_valid",
        "mobility_prev_valid",
        "phase1_next_valid",
        "phase1_prev_valid",
    } <= names
    assert all(e.passed for e in evals), [e.check_name for e in evals if not e.passed]


def test_an_export_materialisation_previews_its_rows_and_a_secure_one_does_not(lake_run):
    metadata = lake_run["materialised"][("phase1_next", "2021")]
    records = metadata["preview"].value.records
    exported = pl.read_parquet(
        lake_run["exports"] / "phase1" / "mobility_next" / "year=2021" / "data.parquet"
    )
    assert 0 < len(records) <= 5
    assert [r.data["person_id"] for r in records] == exported["person_id"].head(len(records)).to_list()
    assert "preview" not in lake_run["materialised"][("mobility_next", "2021")]  # the secure table
    assert metadata["path"].value.startswith("exports/")


def test_every_neighbour_value_equals_the_neighbour_year(lake_run):
    carried = list(lr.MOBILITY.carried)
    for y in (2020, 2021, 2022):
        for direction, ny in (("next", y + 1), ("prev", y - 1)):
            table = _table(lake_run, f"mobility_{direction}", y)
            neighbour_file = lake_run["secure"] / "situation" / f"year={ny}" / "data.parquet"
            neighbour = (
                {r["person_id"]: r for r in pl.read_parquet(neighbour_file).to_dicts()}
                if neighbour_file.exists()
                else None
            )
            situation = _table(lake_run, "situation", y)
            assert set(table) == set(situation)
            for pid, row in table.items():
                for c in situation[pid]:
                    assert row[c] == situation[pid][c], (y, direction, c)
                if neighbour is not None and pid in neighbour:
                    assert row[f"{direction}_status"] == "observed"
                    for c in carried:
                        assert row[f"{c}_{direction}"] == neighbour[pid][c], (y, direction, c)
                else:
                    assert row[f"{direction}_status"] != "observed"
                    assert all(row[f"{c}_{direction}"] is None for c in carried)


def test_a_mobility_table_has_the_values_of_its_added_columns_checked(lake_run, tmp_path):
    """The validation of a mobility table runs the value rules of the columns the step adds (the
    year-T columns are copies of the validated situation's): a wrong added value is refused, and
    so is a copied column of the wrong type, whose file-wide name, place and dtype are still
    checked; the copies' values are not checked twice."""
    written = pl.read_parquet(lake_run["secure"] / "mobility_next" / "year=2021" / "data.parquet")
    checked = lr._MOBILITY_CHECKED["next"]
    assert checked[0] == "person_id" and "next_status" in checked and "province_next" in checked
    assert not set(checked) & (set(lr.SPEC.table("situation").columns) - {"person_id"})

    def validate(frame: pl.DataFrame) -> tuple[bool, dict]:
        path = tmp_path / "data.parquet"
        frame.write_parquet(path)
        return lr._validate_mobility(path, 2021, "next")

    passed, meta = validate(written)
    assert passed and meta["pandera/columns_checked"] == len(checked)
    first = pl.int_range(pl.len()) == 0
    for column, bad in (("province_next", "99999"), ("next_status", "vanished")):
        passed, meta = validate(
            written.with_columns(pl.when(first).then(pl.lit(bad)).otherwise(pl.col(column)).alias(column))
        )
        assert not passed
        assert any(k.startswith(f"sql/{column}/") and v == 1 for k, v in meta.items()), meta
    passed, meta = validate(written.with_columns(pl.col("year").cast(pl.Int64)))
    assert not passed and meta["pandera/failures"] and "year" in meta["pandera/report"]


def test_leavers_and_entrants_carry_the_right_markers(lake_run):
    ids = lake_run["ids"]
    nxt_2020 = _table(lake_run, "mobility_next", 2020)
    assert nxt_2020[ids["C"]]["next_status"] == "died" and nxt_2020[ids["C"]]["died_next"] is True
    assert nxt_2020[ids["D"]]["next_status"] == "emigrated" and nxt_2020[ids["D"]]["died_next"] is False
    assert nxt_2020[ids["E"]]["next_status"] == "aged_out"
    assert nxt_2020[ids["A"]]["next_status"] == "observed" and nxt_2020[ids["A"]]["died_next"] is False
    prev_2021 = _table(lake_run, "mobility_prev", 2021)
    assert prev_2021[ids["F"]]["prev_status"] == "aged_in"
    assert prev_2021[ids["G"]]["prev_status"] == "immigrated"
    assert prev_2021[ids["H"]]["prev_status"] == "not_in_population"  # waiting register in 2020
    # the warehouse stops in 2022: 2022's T+1 is not yet observed, all carried columns null
    nxt_2022 = pl.read_parquet(lake_run["secure"] / "mobility_next" / "year=2022" / "data.parquet")
    assert nxt_2022["next_status"].unique().to_list() == ["not_yet_observed"]
    assert nxt_2022["died_next"].null_count() == nxt_2022.height
    # nor is the BIS number anywhere
    assert ids["K"] is None


def test_known_values_of_the_situation(lake_run):
    ids = lake_run["ids"]
    s20, s21, s22 = (_table(lake_run, "situation", y) for y in (2020, 2021, 2022))
    assert set(s21) == {ids[p] for p in "ABFGHJLM"}
    a = s21[ids["A"]]
    assert (a["age_class"], a["sex"], a["province"]) == ("40-44", "M", PROVINCE[NIS["A"]])
    assert (a["education_level"], a["education_domain"], a["education_issuer_type"]) == ("6", "04", "HO")
    assert a["daily_wage_class"] == "125-149" and a["fte"] == 1.0 and a["nace_division"] == "62"
    assert a["household_type"] == "cohabiting_couple_with_children" and a["children_class"] == "1"
    # A works full time, J half time, F (15) is not of working age: (1 + 0.5) / 2 = 0.75 -> high
    assert a["work_intensity_eu2020"] == "high" and a["work_intensity_eu2030"] == "high"
    b20 = s20[ids["B"]]
    assert (
        b20["sep_code"] == "211" and b20["status_registered_at_regional_pes"] and b20["status_known_at_rva"]
    )
    assert not b20["status_activation_rva"]
    assert (b20["jobseeker_category"], b20["pes"], b20["sanctioned"]) == ("00", "ACTIRIS", True)
    assert b20["registration_months_class"] == "12-23" and b20["unemployment_months_class"] == "24+"
    f = s21[ids["F"]]  # mother first Turkish: foreign origin and allochtone (outside the EU)
    assert f["foreign_origin_known"] and f["foreign_origin_class"] == "Turkey" and f["allochtone"]
    assert f["age_class"] == "15-19" and f["children_class"] == "0"
    g = s21[ids["G"]]
    assert g["newcomer"] and g["residence_reason"] == "1" and g["register_entry_year"] == 2021
    assert g["nationality_class"] == "Maghreb"
    m = s21[ids["M"]]  # Spanish: foreign origin but inside the EU, so not allochtone
    assert m["foreign_origin_known"] and m["allochtone_class"] is None
    assert m["allochtone"] is None  # parents unknown: the cascade cannot rule an allochtone origin out
    assert a["allochtone"] is None and s21[ids["F"]]["allochtone"] is True
    assert m["social_assistance_type"] == "social_aid" and m["disability_allowance_type"] == "IT"
    assert m["social_assistance_category"] == "financial_aid"  # the second level of M's social aid
    assert (
        m["social_assistance_kind"] == "equivalent_integration_income"
    )  # the third: the equivalent leefloon
    assert m["status_social_assistance_with_disability_allowance"]
    ll = s22[ids["L"]]
    assert (ll["incapacity_benefit_type"], ll["medical_code_type"], ll["medical_code"]) == (
        "invalidity",
        "ICD10",
        "F",
    )
    # wage deciles among the employees of the year: A earns most of the three employees in 2021
    assert s21[ids["A"]]["daily_wage_decile"] > s21[ids["B"]]["daily_wage_decile"]
    assert BIRTH["E"] == date(1956, 8, 1) and ids["E"] not in s21


def _periods(row: dict) -> tuple:
    return tuple(
        row[c]
        for c in (
            "incapacity_benefit_type",
            "incapacity_start_month",
            "payment_start_month",
            "invalidity_start_month",
            "incapacity_end_month",
        )
    )


def test_the_periods_of_an_incapacity_spell_reach_the_situation_to_the_month(lake_run):
    """The spells of hand_labour_warehouse.py (L_INCAPACITY, J_INCAPACITY), each period to its month."""
    ids = lake_run["ids"]
    s21, s22 = _table(lake_run, "situation", 2021), _table(lake_run, "situation", 2022)
    # L, self-employed: paid from the first day (14 September 2021); open and in its first year at the
    # end of 2021; the year of primary incapacity over on 13 September 2022, invalidity since the 14th
    assert _periods(s21[ids["L"]]) == ("incapacity", "2021-09", "2021-09", None, None)
    assert _periods(s22[ids["L"]]) == ("invalidity", "2021-09", "2021-09", "2022-09", None)
    # J, employee: ill from 3 October 2021, the guaranteed-wage month to 1 November, paid 2-19 November
    # (the exclusive end 20 November is in November)
    assert _periods(s21[ids["J"]]) == ("incapacity", "2021-10", "2021-11", None, "2021-11")
    assert (s21[ids["J"]]["medical_code_type"], s21[ids["J"]]["medical_code"]) == ("ICPC2", "L")
    # and the T+1 copy of 2021 is 2022's spell of L
    nxt = _table(lake_run, "mobility_next", 2021)[ids["L"]]
    assert (nxt["invalidity_start_month_next"], nxt["payment_start_month_next"]) == ("2022-09", "2021-09")
    assert _periods(s21[ids["A"]]) == (None,) * 5  # no incapacity


def test_year_tables_have_no_death_column(lake_run):
    for name in ("situation", "mobility_prev"):
        cols = pl.read_parquet_schema(lake_run["secure"] / name / "year=2021" / "data.parquet")
        assert not any("died" in c or "death" in c for c in cols)
    cols = pl.read_parquet_schema(lake_run["secure"] / "mobility_next" / "year=2021" / "data.parquet")
    assert [c for c in cols if "died" in c or "death" in c] == ["died_next"]


def test_phase1_panel_follows_persons_and_exports_only_authorised_columns(lake_run):
    panel = pl.read_parquet(lake_run["secure"] / "phase1_panel" / "data.parquet")
    by_year = {y: set(panel.filter(pl.col("year") == y)["person_id"]) for y in (2020, 2021, 2022)}
    # fewer persons than the minimum size: everyone is in the panel, followed while in the population
    for y in (2020, 2021, 2022):
        assert by_year[y] == set(_table(lake_run, "situation", y))
    assert by_year[2020] & by_year[2021] == set(_table(lake_run, "situation", 2020)) & set(
        _table(lake_run, "situation", 2021)
    )
    spec = build.spec()
    for direction in ("next", "prev"):
        for y in (2020, 2021):
            path = lake_run["exports"] / "phase1" / f"mobility_{direction}" / f"year={y}" / "data.parquet"
            df = pl.read_parquet(path)
            assert list(df.columns) == list(spec.table(f"phase1_{direction}").columns)
            assert set(df["person_id"]) == by_year[y]
            # no national number, no day-level date anywhere in an export
            for c, t in df.schema.items():
                assert t not in (pl.Date, pl.Datetime), c
            text = df.select(pl.all().cast(pl.String)).to_pandas().to_string()
            assert not any(insz in text for insz in INSZ.values())
    assert (lake_run["exports"] / "data_dictionary.md").read_text().startswith("# Data dictionary")


def test_mobility_depends_on_neighbour_years_for_staleness():
    mapping = lr.mobility_next.get_partition_mapping(lr.situation.key)
    assert isinstance(mapping, dg.TimeWindowPartitionMapping)
    assert (mapping.start_offset, mapping.end_offset) == (-1, 1)
    up = mapping.get_upstream_mapped_partitions_result_for_partitions(
        lr.project_partitions.subset_with_partition_keys(["2020"]),
        lr.project_partitions,
        lr.situation_partitions,
    ).partitions_subset.get_partition_keys()
    assert sorted(up) == ["2019", "2020", "2021"]
    assert lr.situation_partitions.get_first_partition_key() == "2019"


def test_2026_next_is_not_yet_observed_without_2027(tmp_path, monkeypatch):
    monkeypatch.setenv("COHORT_DEMO", "1")
    wh = build_hand_warehouse(tmp_path / "warehouse", years=(2025, 2026))
    lake = LakeResource(data_dir=str(tmp_path), warehouse_dir=str(wh))
    with dg.instance_for_test() as instance:
        run = materialise(lake, instance)
        run([lr.person_mapping.key])
        for y in ("2025", "2026"):
            run([lr.situation.key, lr.population_absence.key], y)
        run([lr.mobility_next.key, lr.mobility_prev.key], "2026")
    nxt = pl.read_parquet(
        tmp_path / "secure" / "labour_reserve" / "mobility_next" / "year=2026" / "data.parquet"
    )
    assert nxt["next_status"].unique().to_list() == ["not_yet_observed"]
    carried = [f"{c}_next" for c in lr.MOBILITY.carried] + ["died_next"]
    assert all(nxt[c].null_count() == nxt.height for c in carried)
    prev = pl.read_parquet(
        tmp_path / "secure" / "labour_reserve" / "mobility_prev" / "year=2026" / "data.parquet"
    )
    assert set(prev["prev_status"]) == {"observed"}
    # 2027 is not a warehouse year: the situation asset refuses it rather than writing an empty population
    with (
        pytest.raises(build.BuildError, match="no year 2027"),
        open_step(lake, build.spec(), warehouse=True, pseudonyms=True) as step,
    ):
        build.prepare(step, build.spec())
        build.build_situation(step, build.spec(), 2027)


def test_every_column_is_authorised_and_a_stray_one_is_refused():
    from cohort.projects.spec import UnauthorisedColumnError

    spec = build.spec()
    for table in ("situation", "mobility_next", "mobility_prev", "phase1_next", "phase1_prev"):
        assert all(c in spec.variables for c in spec.table(table).columns)
    assert spec.table("phase1_next").columns == spec.table("mobility_next").columns
    with pytest.raises(UnauthorisedColumnError, match="insz"):
        spec.check_columns("phase1_next", [*spec.table("phase1_next").columns, "insz"])
    # the year-T variables carry no death indicator; only the T+1 table has one
    assert not [c for c in spec.table("situation").columns if "died" in c or "death" in c]
    assert "died_next" not in spec.table("mobility_prev").columns


def test_definitions_load_with_the_lake_resource():
    from cohort.projects.labour_reserve.defs import defs

    dg.Definitions.validate_loadable(
        dg.Definitions.merge(defs, dg.Definitions(resources={"lake": LakeResource()}))
    )
    groups = {a.group_names_by_key[k] for a in lr.ASSETS for k in a.keys}
    assert groups == {"labour_reserve_population", "labour_reserve_linked", "labour_reserve_exports"}
