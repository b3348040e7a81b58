"""The cohort on Dagster: the definitions load, the partitions are the years 2005-2016, and a real run
of one year (persistent test instance) materialises every table with its blocking checks passing."""

import dagster as dg
import pytest
from hand_cohort import KEY_HEX, write_cohort_warehouse

from cohort.projects.longitudinal_cohort import assets as A
from cohort.projects.longitudinal_cohort import build
from cohort.resources import LakeResource


def test_definitions_load_and_partitions_are_the_deliberation_years() -> None:
    defs = dg.Definitions(assets=A.ASSETS, resources={"lake": LakeResource()})
    dg.Definitions.validate_loadable(defs)
    assert A.cohort_yearly_partitions.get_partition_keys() == [str(y) for y in range(2005, 2017)]
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {f"longitudinal_cohort/{t}" for t in A.spec.tables} <= keys  # every table of the spec is an asset
    assert "longitudinal_cohort/sample_person" in keys and "longitudinal_cohort/data_dictionary" in keys


def test_a_dagster_run_builds_one_year_with_passing_blocking_checks(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COHORT_KEY_LONGITUDINAL_COHORT", KEY_HEX)
    warehouse, _names, expected = write_cohort_warehouse(tmp_path / "warehouse")
    lake = LakeResource(data_dir=str(tmp_path / "lake"), warehouse_dir=str(warehouse))
    with dg.instance_for_test() as instance:
        first = dg.materialize(
            [A.sample_person, A.person_pseudonym_map, A.data_dictionary],
            resources={"lake": lake},
            instance=instance,
        )
        assert first.success
        meta = first.asset_materializations_for_node("longitudinal_cohort__sample_person")[0].metadata
        assert meta["sample_persons"].value == sum(n for _, n in expected.values())
        assert "south_eu_36_65" in meta["strata"].value and meta["weights_sum_to_frame"].value is True
        year = dg.materialize(
            [A.sample_person, A.person_pseudonym_map, A.observed_person, A.longitudinal_cohort_exports],
            selection=[A.observed_person, A.longitudinal_cohort_exports],
            partition_key="2007",
            resources={"lake": lake},
            instance=instance,
        )
    assert year.success
    checks = year.get_asset_check_evaluations()
    assert len(checks) == len(A.YEARLY) and all(c.passed for c in checks)
    produced = {m.asset_key.path[-1] for m in year.get_asset_materialization_events()}
    assert produced == set(A.YEARLY) | {"observed_person"}
    for table in build.yearly_tables(A.spec):
        assert (
            tmp_path / "lake" / "exports" / "longitudinal_cohort" / table / "year=2007" / "data.parquet"
        ).exists()
    assert not (tmp_path / "lake" / "exports" / "longitudinal_cohort" / "sample_person").exists()


def test_the_build_refuses_without_a_key(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("COHORT_KEY_LONGITUDINAL_COHORT", raising=False)
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    monkeypatch.delenv("COHORT_KEY_DIR", raising=False)
    warehouse, _names, _expected = write_cohort_warehouse(tmp_path / "warehouse")
    lake = LakeResource(data_dir=str(tmp_path / "lake"), warehouse_dir=str(warehouse))
    from cohort.privacy.pseudonym import MissingKeyError

    with pytest.raises(MissingKeyError):
        dg.materialize(
            [A.sample_person, A.person_pseudonym_map], resources={"lake": lake}, raise_on_error=True
        )


def test_the_trajectory_assets_run_on_dagster(cohort) -> None:  # noqa: F811
    """situation_next / situation_prev (the generic mobility step, secure) and their exports, for 2005:
    2006 is built, 2004 lies outside the observation period."""
    lake = LakeResource(data_dir=str(cohort.root), warehouse_dir=str(cohort.warehouse))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [A.situation_next, A.situation_prev, A.mobility_next, A.mobility_prev],
            partition_key="2005",
            resources={"lake": lake},
            instance=instance,
        )
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    markers = {
        m.asset_key.path[-1]: m.materialization.metadata for m in result.get_asset_materialization_events()
    }
    assert markers["situation_prev"]["markers"].value == {
        "not_yet_observed": markers["situation_prev"]["rows"].value
    }
    assert markers["situation_next"]["neighbour_found"].value is True
