"""The phase-1 panel rule (seed 004 §2, §15) on synthetic situation files large enough that the panel
is a true sample: persons are followed while they stay, leavers are replaced by new entrants
first, the size holds, and the choice is reproducible."""

from datetime import date

import polars as pl

from cohort import settings, storage
from cohort.projects.labour_reserve import build
from cohort.projects.step import Step


def _situations(secure, years=(2020, 2021, 2022)):
    # 3000 persons in 2020; every year persons 1..150 of the previous range leave and 150 new ones enter
    members = {}
    for i, y in enumerate(years):
        ids = list(range(1 + 150 * i, 3001 + 150 * i))
        members[y] = set(ids)
        df = pl.DataFrame(
            {"person_id": ids, "year": [y] * len(ids)}, schema={"person_id": pl.Int64, "year": pl.Int16}
        )
        storage.write_frame(df, storage.partition_file(secure, "situation", y))
    return members


def test_panel_follows_stayers_and_tops_up_from_entrants(tmp_path):
    import duckdb

    secure = tmp_path / "secure" / "labour_reserve"
    members = _situations(secure)
    # the step a project asset gets (cohort.projects.step.open_step), here over a plain connection
    step = Step(duckdb.connect(), settings.lake(tmp_path), None, date(2026, 6, 30))
    info = build.build_panel(step, build.spec(), [2020, 2021, 2022, 2023])  # 2023 not built: skipped
    panel = pl.read_parquet(info["path"])
    by_year = {y: set(panel.filter(pl.col("year") == y)["person_id"]) for y in (2020, 2021, 2022)}
    n = build.panel_size(3000)
    assert n == 200  # 10,000 x 3000 / 7.5 million = 4, raised to the minimum of 200
    assert set(info["years"]) == {2020, 2021, 2022}
    for y in (2020, 2021, 2022):
        assert len(by_year[y]) == n
        assert by_year[y] <= members[y]
    for prev, y in ((2020, 2021), (2021, 2022)):
        stayers = by_year[prev] & members[y]
        assert stayers <= by_year[y]  # nobody who stays is dropped
        added = by_year[y] - by_year[prev]
        entrants = members[y] - members[prev]
        assert len(added) == n - len(stayers)
        assert added <= entrants  # top-up from the year's new entrants first
    # reproducible: the same input gives the same panel
    again = build.build_panel(step, build.spec(), [2020, 2021, 2022])
    assert pl.read_parquet(again["path"]).equals(panel)


def test_panel_size_scales_with_population():
    assert build.panel_size(7_500_000) == 10_000
    assert build.panel_size(75_000) == 200
    assert build.panel_size(150) == 150
