"""What the Dagster UI shows of a project asset: the definition metadata every project asset gets
from its spec (column schema, deliberation, owners), the table preview of an export's
materialisation (never of the secure area), and the labelled transition heat map."""

import dagster as dg
import polars as pl
import pytest

from cohort import settings, storage
from cohort.definitions import column_schema, defs, project_metadata, project_owners
from cohort.ops import pictures, reports
from cohort.privacy.preview import export_preview, release_preview
from cohort.projects.spec import load_spec, parse_spec


def _spec_of(key: list[str]) -> dg.AssetSpec:
    return next(s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(key))


def test_every_project_table_asset_carries_its_spec_columns_and_deliberation():
    spec = load_spec("labour_reserve")
    asset = _spec_of(["labour_reserve", "phase1_next"])
    schema = asset.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == list(spec.table("phase1_next").columns)
    first = spec.variables[schema.columns[0].name]
    assert schema.columns[0].type == first.kind
    assert schema.columns[0].description.startswith(first.description.rstrip("."))
    assert f"Authorised by {first.paragraph}." in schema.columns[0].description
    assert asset.metadata["deliberation"].value == "26/104"
    assert asset.metadata["area"].value == "exports"
    # every asset of every project names its deliberation; the release assets have no single table
    for project_asset in defs.resolve_all_asset_specs():
        project = project_asset.key.path[0]
        if project in {"labour_reserve", "longitudinal_cohort", "measure_profiles"}:
            assert project_asset.metadata["deliberation"].value == load_spec(project).deliberation["number"]
    assert "dagster/column_schema" not in _spec_of(["measure_profiles", "profile"]).metadata
    assert "dagster/column_schema" in _spec_of(["longitudinal_cohort", "situation"]).metadata


def test_owners_come_from_the_spec_when_it_names_them():
    raw = {
        "id": "p",
        "years": {"first": 2020, "last": 2021},
        "retention_date": "2030-01-01",
        "deliberation": {"number": "99/001"},
        "owners": ["team:delivery", "someone@example.org"],
        "variables": [{"name": "year", "kind": "year", "paragraph": "§1", "description": "The year"}],
        "tables": [{"name": "t", "columns": ["year"]}],
    }
    spec = parse_spec(raw)
    assert project_owners(spec) == ["team:delivery", "someone@example.org"]
    assert project_owners(parse_spec({**raw, "owners": "team:delivery"})) == ["team:delivery"]
    assert project_owners(load_spec("labour_reserve")) == []
    metadata = project_metadata(spec, dg.AssetSpec(["p", "t"]))
    assert metadata["deliberation"].value == "99/001"
    assert column_schema(spec, "t").columns[0].description == "The year. Authorised by §1."


def test_an_export_gets_a_preview_and_a_secure_table_none(tmp_path):
    lake = settings.lake(tmp_path)
    frame = pl.DataFrame({"person_id": [1, 2, 3, 4, 5, 6, 7], "age_class": ["20-24"] * 7})
    export = storage.write_frame(frame, storage.partition_file(lake.exports / "p", "t", 2021))
    secure = storage.write_frame(frame, storage.partition_file(lake.secure / "p", "t", 2021))
    preview = export_preview(export, lake)["preview"]
    assert [c.name for c in preview.value.schema.columns] == ["person_id", "age_class"]
    assert [r.data for r in preview.value.records] == [
        {"person_id": i, "age_class": "20-24"} for i in range(1, 6)
    ]
    assert export_preview(secure, lake) == {}
    # a path that only leads out of the secure area through ".." is still the secure area
    assert (
        export_preview(lake.exports / ".." / "secure" / "p" / "t" / "year=2021" / "data.parquet", lake) == {}
    )
    release = lake.releases / "p" / "r1"
    release.mkdir(parents=True)
    pl.DataFrame({"cell": ["a", "b"], "shown": ["x", "12"]}).write_csv(release / "origin.csv")
    shown = release_preview(release, lake)["preview (origin)"].value
    assert [r.data for r in shown.records] == [{"cell": "a", "shown": "x"}, {"cell": "b", "shown": "12"}]


def test_heat_map_axes_name_the_codes_and_the_last_year_has_no_share():
    assert pictures.code_label("111", reports.POSITION_LABELS) == "111 Employee, one salaried job"
    assert pictures.code_label("(none)", reports.POSITION_LABELS) == "(none) not observed in T+1"
    assert pictures.code_label("zzz", reports.POSITION_LABELS) == "zzz"
    assert len(pictures.code_label("141", reports.POSITION_LABELS)) == 34
    last = pl.DataFrame({"sep": ["111", "211"], "sep_next": [None, None]})
    assert reports.same_position_share(pictures.transition_matrix(last, "sep", "sep_next")) is None
    moved = pl.DataFrame({"sep": ["111", "111", "211"], "sep_next": ["111", None, "111"]})
    share = reports.same_position_share(pictures.transition_matrix(moved, "sep", "sep_next"))
    assert share == pytest.approx(33.3)  # one of the three persons of T stays


@pytest.mark.parametrize("project", ["labour_reserve", "longitudinal_cohort"])
def test_the_data_dictionary_of_a_pseudonymised_project_is_on_its_materialisation(
    project, tmp_path, monkeypatch
):
    from cohort.ops.runner import Materialiser, PlannedRun

    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path))
    key = dg.AssetKey([project, "data_dictionary"])
    with dg.instance_for_test() as instance:
        outcome = Materialiser(defs, instance).execute(PlannedRun(project, (key,), None, 0))
        assert outcome.success, outcome.error
        event = instance.get_latest_materialization_event(key)
        assert event is not None and event.asset_materialization is not None
        shown = event.asset_materialization.metadata["data_dictionary"]
    assert isinstance(shown, dg.MarkdownMetadataValue)
    # the same text as the file beside the exports, which names every table of the spec
    (written,) = (tmp_path / "exports" / project).rglob("data_dictionary.md")
    assert shown.value == written.read_text()
    tables = load_spec(project).tables
    assert tables and all(name in shown.value for name in tables)
