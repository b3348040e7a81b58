"""The cohort end to end on the synthetic ``small_warehouse`` (scale 0.002): the sample design holds on
realistic data (strata sizes, weights, top-ups of 18-year-olds) and one year's delivery passes its
checks, with the household members linked to their sample persons."""

import polars as pl
import pytest

from cohort import settings, storage
from cohort.projects.longitudinal_cohort import build, population
from cohort.projects.spec import load_spec
from cohort.settings import lake

SPEC = load_spec("longitudinal_cohort")


@pytest.fixture(scope="module")
def small_cohort(small_warehouse, tmp_path_factory):
    root = tmp_path_factory.mktemp("small_cohort")
    lk = lake(root, small_warehouse)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COHORT_KEY_LONGITUDINAL_COHORT", "a1" * 32)
        build.run(lk, SPEC, build.build_sample)
        build.run(lk, SPEC, build.build_mapping)
        for y in (2005, 2006):
            build.run(lk, SPEC, build.build_observed, y)
        results = build.run(lk, SPEC, build.build_exports, 2006)
    return lk, results


def test_sample_design_on_the_synthetic_warehouse(small_cohort) -> None:
    lk, _ = small_cohort
    scale = settings.warehouse_scale(lk.warehouse)
    sample = pl.read_parquet(build.sample_file(lk, SPEC))
    strata = sample.group_by("entry_year", "stratum").agg(
        n=pl.len(),
        N=pl.col("frame_size").first(),
        n_h=pl.col("sample_size").first(),
        w=pl.col("design_weight").sum(),
    )
    alloc = {(y, s): a for y, s, a in population.allocation(SPEC)}
    for r in strata.iter_rows(named=True):
        assert (
            r["n"] == r["n_h"] == min(r["N"], max(1, round(alloc[(r["entry_year"], r["stratum"])] * scale)))
        )
        assert abs(r["w"] - r["N"]) < 1e-6
    assert strata.filter(pl.col("entry_year") == 2005).height == 6  # every initial stratum is populated
    con = storage.connect()
    storage.register_tables(con, lk.warehouse, ["person"])
    con.register("s", sample)
    wrong = con.execute("""select count(*) from s join person p using (insz)
        where s.entry_year > 2005 and completed_age(p.birth_date, make_date(s.entry_year, 1, 1)) <> 18""").fetchall()[
        0
    ][0]
    assert wrong == 0 and sample.filter(pl.col("entry_year") > 2005).height > 0


def test_one_year_of_delivery_passes_its_checks(small_cohort) -> None:
    lk, results = small_cohort
    assert {r.table for r in results} == set(build.yearly_tables(SPEC)) | {"situation"}
    assert all(r.errors == [] for r in results), [r.errors for r in results if r.errors]
    person = pl.read_parquet(build.export_file(lk, SPEC, "person", 2006))
    household = pl.read_parquet(build.export_file(lk, SPEC, "household", 2006))
    assert person.filter(pl.col("is_household_member")).height > 0
    members = set(person.filter(pl.col("is_household_member"))["person_id"])
    assert members <= set(household["person_id"])  # every household member is linked to a sample person
    position = pl.read_parquet(build.export_file(lk, SPEC, "position", 2006))
    assert (
        position["quarter"].str.starts_with("2006Q").all()
        and position["socio_economic_position"].drop_nulls().len() > 0
    )
    for r in results:
        assert all(t not in (pl.Date, pl.Datetime) for t in pl.read_parquet_schema(r.path).values())
