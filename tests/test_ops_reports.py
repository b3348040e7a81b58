"""Pictures, the HTML report and the report asset, on a small hand-made lake."""

import json

import dagster as dg
import numpy as np
import polars as pl
import pytest

from cohort import settings, storage
from cohort.ops import pictures, reports
from cohort.partitions import yearly_partitions
from cohort.resources import LakeResource

PNG = b"\x89PNG\r\n\x1a\n"


def test_pyramid_counts_band_ages_and_split_sexes():
    frame = pl.DataFrame({"age": [18, 19, 24, 25, 64, 97], "sex": ["1", "2", "1", "2", "2", "1"]})
    counts = pictures.pyramid_counts(frame)
    assert counts.to_dicts() == [
        {"band": "15-19", "male": 1.0, "female": 1.0},
        {"band": "20-24", "male": 1.0, "female": 0.0},
        {"band": "25-29", "male": 0.0, "female": 1.0},
        {"band": "60-64", "male": 0.0, "female": 1.0},
        {"band": "95+", "male": 1.0, "female": 0.0},
    ]
    weighted = pictures.pyramid_counts(frame.with_columns(w=pl.lit(2.5)), weight="w")
    assert weighted["male"].sum() == pytest.approx(7.5)


def test_transition_matrix_rows_add_up_to_100_with_missing_destinations():
    frame = pl.DataFrame({"sep": ["a", "a", "a", "b"], "sep_next": ["a", "b", None, "b"]})
    m = pictures.transition_matrix(frame, "sep", "sep_next")
    by = {(o, d): p for o, d, p in m.select("origin", "destination", "pct").iter_rows()}
    assert by[("a", "(none)")] == pytest.approx(100 / 3)
    assert by[("b", "b")] == pytest.approx(100)
    assert m.group_by("origin").agg(pl.col("pct").sum())["pct"].to_list() == pytest.approx([100, 100])


def test_pictures_are_png_and_md_image_embeds_them():
    frame = pl.DataFrame({"age": [20, 30], "sex": ["1", "2"], "s": ["x", "y"], "t": ["x", None]})
    for png in (
        pictures.population_pyramid(frame),
        pictures.transition_heatmap(frame, "s", "t"),
        pictures.sample_composition(frame, "s"),
        pictures.population_pyramid(frame.clear()),
    ):
        assert png.startswith(PNG)
    md = pictures.md_image(pictures.sample_composition(frame, "s"), "composition")
    assert md.value.startswith("![composition](data:image/png;base64,iVBOR")


def _lake(tmp_path):
    rng = np.random.default_rng(7)
    n = 400
    lake = settings.lake(tmp_path)
    for year in (2021, 2022):
        sit = pl.DataFrame(
            {
                "person_id": np.arange(n),
                "year": year,
                "age_class": rng.choice(["15-24", "25-49", "50-64"], n),
                "sex": rng.choice(["1", "2"], n),
                "sep_code": rng.choice(["111", "211", "331"], n),
            }
        )
        storage.write_frame(sit, storage.partition_file(lake.secure / "labour_reserve", "situation", year))
        mob = sit.with_columns(sep_code_next=pl.col("sep_code").shuffle(seed=year))
        storage.write_frame(
            mob, storage.partition_file(lake.secure / "labour_reserve", "mobility_next", year)
        )
        storage.write_frame(
            mob.head(50),
            storage.partition_file(lake.exports / "labour_reserve", "phase1/mobility_next", year),
        )
    person = pl.DataFrame(
        {
            "person_id": np.arange(n),
            "year": 2010,
            "is_sample_person": rng.random(n) < 0.8,
            "sample_stratum": rng.choice(["belgian_18_35", "south_eu_36_65"], n),
            "design_weight": rng.random(n) * 50,
            "birth_quarter": rng.choice(["1960Q1", "1980Q3", "1990Q2"], n),
            "sex": rng.choice(["1", "2"], n),
        }
    )
    storage.write_frame(person, storage.partition_file(lake.exports / "longitudinal_cohort", "person", 2010))
    storage.write_frame(
        pl.DataFrame({"insz": ["x", "y", "z"], "reason": ["null:sex", "null:sex", "duplicate_key"]}),
        lake.quarantine / "person" / "data.parquet",
    )
    lake.reports.mkdir(parents=True)
    (lake.reports / "warehouse_calibration.json").write_text(
        json.dumps(
            [
                {
                    "metric": "population",
                    "scope": "BE",
                    "year": 2021,
                    "target": 11.5e6,
                    "generated": 11.4e6,
                    "tolerance": 0.02,
                    "ok": True,
                },
                {
                    "metric": "births",
                    "scope": "BE",
                    "year": 2021,
                    "target": 118000.0,
                    "generated": 90000.0,
                    "tolerance": 0.05,
                    "ok": False,
                },
                {
                    "metric": "population",
                    "scope": "BE",
                    "year": 2022,
                    "target": 11.6e6,
                    "generated": 11.6e6,
                    "tolerance": 0.02,
                    "ok": True,
                },
            ]
        )
    )
    lake.warehouse.mkdir(parents=True)
    (lake.warehouse / "_manifest.json").write_text(
        json.dumps({"scale": 0.001, "first_year": 2005, "last_year": 2026})
    )
    return lake


def test_year_report_of_a_mobility_project(tmp_path):
    lake = _lake(tmp_path)
    metadata, section = reports.year_report(lake, "labour_reserve", 2021)
    assert metadata["rows"].value == {
        "secure/mobility_next": 400,
        "secure/situation": 400,
        "exports/phase1/mobility_next": 50,
    }
    assert metadata["phase1_persons"] == 50
    assert metadata["quarantined_source_rows"].value == {"person: duplicate_key": 1, "person: null:sex": 2}
    assert metadata["warehouse_calibration"].value == {
        "metrics": 3,
        "within_tolerance": 2,
        "outside_tolerance": ["births BE 2021"],
    }
    assert section.tables["Warehouse calibration 2021"]["metric"].to_list() == ["population", "births"]
    captions = list(section.pictures)
    assert any(c.startswith("Population pyramid 2021") for c in captions)
    assert any(c.startswith("Transitions 2021 -> 2022") for c in captions)
    assert any(c.startswith("Phase-1 sample composition") for c in captions)
    assert all(png.startswith(PNG) for png in section.pictures.values())


def test_year_report_of_a_stratified_sample(tmp_path):
    lake = _lake(tmp_path)
    metadata, section = reports.year_report(lake, "longitudinal_cohort", 2010)
    frame = pl.read_parquet(lake.exports / "longitudinal_cohort" / "person" / "year=2010" / "data.parquet")
    strata = metadata["strata"].value
    expected = frame.group_by("sample_stratum").agg(pl.len(), pl.col("design_weight").sum())
    for stratum, n, w in expected.iter_rows():
        assert strata[stratum]["persons"] == n
        assert strata[stratum]["weight_sum"] == pytest.approx(w, abs=0.1)
    assert any(
        "sample persons" in c for c in section.pictures
    )  # pyramid of the sample, ages from birth quarter


def test_report_asset_writes_the_html_page_per_year(tmp_path):
    lake = _lake(tmp_path)
    asset = reports.report_asset(
        "labour_reserve", yearly_partitions(2020, 2026), deps=[dg.AssetKey(["labour_reserve", "situation"])]
    )
    resources = {"lake": LakeResource(data_dir=str(tmp_path))}
    for year in ("2021", "2022"):
        result = dg.materialize([asset], partition_key=year, resources=resources)
        assert result.success
    (event,) = result.get_asset_materialization_events()
    md = event.materialization.metadata
    assert md["year"].value == "2022" and md["report"].value == "reports/labour_reserve/index.html"
    index = lake.reports / "labour_reserve" / "index.html"
    page = index.read_text()
    assert '<h2 id="2021">2021</h2>' in page and '<h2 id="2022">2022</h2>' in page
    images = sorted((lake.reports / "labour_reserve" / "img").glob("*.png"))
    assert len(images) == 6 and all(p.read_bytes().startswith(PNG) for p in images)
    assert all(f'src="img/{p.name}"' in page for p in images)


def test_transitions_from_a_quarterly_position_table(tmp_path):
    """Without a *_next column, the last quarter of T is compared with the last quarter of T+1."""
    lake = settings.lake(tmp_path)
    area = lake.exports / "longitudinal_cohort"
    t = pl.DataFrame(
        {
            "person_id": [1, 1, 2, 2, 3, 4],
            "year": 2010,
            "quarter": ["2010Q1", "2010Q4", "2010Q3", "2010Q4", "2010Q4", "2010Q4"],
            "socio_economic_position": ["211", "111", "111", "111", "331", "111"],
        }
    )
    t1 = pl.DataFrame(
        {
            "person_id": [1, 2, 2, 3],
            "year": 2011,
            "quarter": ["2011Q4", "2011Q1", "2011Q4", "2011Q4"],
            "socio_economic_position": ["111", "111", "211", "331"],
        }
    )
    storage.write_frame(t, storage.partition_file(area, "position", 2010))
    storage.write_frame(t1, storage.partition_file(area, "position", 2011))
    metadata, section = reports.year_report(lake, "longitudinal_cohort", 2010)
    # persons 1 (111 -> 111) and 3 (331 -> 331) stay; 2 moves to 211; 4 is gone: 2 of 4 stay
    assert metadata["transitions_same_position_pct"] == 50.0
    assert any(c.startswith("Transitions 2010 -> 2011 (exports/position)") for c in section.pictures)
