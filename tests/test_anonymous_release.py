"""The anonymous-release flow shared by seeds 000, 001, 003 and 004 phase 2: plan, protect, audit, sign-off, gate."""

import json

import numpy as np
import polars as pl
import pytest

from cohort.privacy import disclosure as dc
from cohort.projects import anonymous
from cohort.projects.spec import load_spec

RULES = dc.DisclosureRules(threshold=5, label=None, p_percent=None)


def toy_release(seed: int = 1) -> anonymous.ReleaseTables:
    """Two linked tables on one population: region x sex and region x age (percentages of the age margin)."""
    rng = np.random.default_rng(seed)
    n = 300
    micro = pl.DataFrame(
        {
            "region": rng.choice(["north", "south", "east"], n, p=[0.5, 0.45, 0.05]),
            "sex": rng.choice(["F", "M"], n),
            "age": rng.choice(["young", "middle", "old"], n, p=[0.3, 0.6, 0.1]),
        }
    )
    specs = {
        "by_sex": dc.TableSpec("by_sex", ("region", "sex"), population="toy"),
        "by_age": dc.TableSpec(
            "by_age", ("region", "age"), statistic="percentage", percentage_of=("age",), population="toy"
        ),
    }
    tables = {k: dc.tabulate(micro, s) for k, s in specs.items()}
    return anonymous.ReleaseTables(tables, specs, {}, RULES)


def test_protected_release_passes_and_is_written_only_with_a_sign_off(tmp_path):
    rt = anonymous.protect_release(toy_release())
    verdict = anonymous.audit_release(rt)
    assert verdict.passed
    with pytest.raises(dc.ReleaseRefused, match="signed_off_by"):
        anonymous.publish(rt, tmp_path, "toy", "r1", who="")
    assert not (tmp_path / "releases" / "toy" / "r1").exists()
    with pytest.raises(dc.ReleaseRefused, match="sign again"):
        anonymous.publish(rt, tmp_path, "toy", "r1", who="checker", expected_hash="0" * 64)
    written = anonymous.publish(
        rt, tmp_path, "toy", "r1", who="checker", expected_hash=anonymous.release_hash(rt)
    )
    folder = tmp_path / "releases" / "toy" / "r1"
    assert folder / "release.json" in written
    manifest = json.loads((folder / "release.json").read_text())
    assert manifest["signed_off_by"] == ["checker"] and manifest["content_hash"] == anonymous.release_hash(rt)
    # no true counts or statuses leave
    pub = pl.read_parquet(folder / "by_sex.parquet")
    assert "n" not in pub.columns and "status" not in pub.columns
    # every shown count is hidden, zero, or at least the threshold
    for t in ("by_sex", "by_age"):
        shown = pl.read_csv(folder / f"{t}.csv", infer_schema=False).get_column("shown").to_list()
        assert all(s == "x" or int(s) == 0 or int(s) >= 5 for s in shown)
    # the small region is protected in both linked tables
    east = rt.tables["by_sex"].filter((pl.col("region") == "east") & (pl.col("n").is_between(1, 4)))
    assert east.height == 0 or set(east.get_column("shown")) == {"x"}


def test_percentages_agree_with_the_published_counts():
    rt = anonymous.protect_release(toy_release(2))
    t = rt.tables["by_age"]
    margins = t.filter(pl.col("age") == "Total").select("region", pl.col("shown").alias("margin"))
    shown = t.filter(pl.col("shown_percentage") != "x").join(margins, on="region")
    assert shown.height > 0
    for row in shown.iter_rows(named=True):
        assert row["shown"] != "x" and row["margin"] != "x"
        pct = 100 * int(row["shown"]) / int(row["margin"])
        assert abs(float(row["shown_percentage"]) - pct) <= 0.05 + 1e-9


def _unsuppress(frame: pl.DataFrame, idx: int) -> pl.DataFrame:
    hit = pl.int_range(pl.len()) == idx
    return frame.with_columns(
        shown=pl.when(hit).then(pl.col("n").cast(pl.String)).otherwise(pl.col("shown")),
        status=pl.when(hit).then(pl.lit("published")).otherwise(pl.col("status")),
    )


def textbook_release() -> anonymous.ReleaseTables:
    """One 3 x 2 table with a single small cell: the minimal protection is a rectangle of four hidden cells."""
    counts = {("A", "F"): 3, ("A", "M"): 20, ("B", "F"): 30, ("B", "M"): 25, ("C", "F"): 40, ("C", "M"): 35}
    micro = pl.DataFrame([{"region": r, "sex": s} for (r, s), k in counts.items() for _ in range(k)])
    specs = {"t": dc.TableSpec("t", ("region", "sex"), population="textbook")}
    return anonymous.ReleaseTables({"t": dc.tabulate(micro, specs["t"])}, specs, {}, RULES)


def test_a_release_with_one_recomputable_cell_is_refused(tmp_path):
    rt = anonymous.protect_release(textbook_release())
    assert anonymous.audit_release(rt).passed
    t = rt.tables["t"]
    assert t.filter((pl.col("region") == "A") & (pl.col("sex") == "F")).get_column("shown").to_list() == ["x"]
    # tamper: publish one secondary cell with its true value; for at least one of them a primary cell then
    # follows by subtraction (a minimal pattern has no spare partner), and the gate must refuse that release
    refused = 0
    for name, frame in rt.tables.items():
        for idx in (
            frame.with_row_index().filter(pl.col("status") == "secondary").get_column("index").to_list()
        ):
            tampered = anonymous.ReleaseTables(
                {**rt.tables, name: _unsuppress(frame, idx)}, rt.specs, {}, rt.rules
            )
            if anonymous.audit_release(tampered).passed:
                continue
            with pytest.raises(dc.ReleaseRefused, match="small-cell risk analysis failed"):
                anonymous.publish(tampered, tmp_path, "toy", f"r{refused}", who="checker")
            assert not (tmp_path / "releases" / "toy" / f"r{refused}" / "release.json").exists()
            refused += 1
    assert refused > 0


def test_saved_release_reads_back_with_the_same_content_hash(tmp_path):
    rt = anonymous.protect_release(toy_release())
    sub = toy_release(3)
    rt.restricted = {
        "Entity 1/x": anonymous.protect_release(
            anonymous.ReleaseTables(sub.tables, sub.specs, {}, anonymous.RESTRICTED_RULES)
        )
    }
    anonymous.save_release(rt, tmp_path / "t")
    back = anonymous.load_release(tmp_path / "t")
    assert anonymous.release_hash(back) == anonymous.release_hash(rt)
    assert (tmp_path / "t" / "restricted" / "Entity_1_x" / "_release.json").is_file()


def test_plans_expand_reference_dates_and_linked_criteria():
    spec = load_spec("regularised_foreigners")
    plan = anonymous.plan_tables(spec)
    assert len(plan) == 3 * 6 * 4  # three tables, six criteria, four reference dates
    names = {p.spec.name for p in plan}
    assert "sector_by_sex_20131231" in names and "household_position_by_nationality_class_20140630" in names
    # tables of one date are linked (same population); dates are different populations
    pops = {p.spec.population for p in plan}
    assert len(pops) == 4
    assert all(p.spec.dimensions[-1] in spec.table(p.spec.name.split("_by_")[0]).columns for p in plan)
    staff = anonymous.plan_tables(load_spec("flemish_staff_origin"))
    assert len(staff) == 14  # the fourteen families of section 4
    assert all(p.spec.statistic == "percentage" for p in staff)


def test_shared_classifications():
    import duckdb

    con = duckdb.connect()
    codes_ = ["111", "121", "142", "211", "214", "331", "34", "4", None]
    got = con.execute(
        f"select {anonymous.sep_class_sql('c')} from unnest(?::varchar[]) t(c)", [codes_]
    ).fetchall()
    assert [r[0] for r in got] == [
        "employee",
        "self-employed",
        "employee and self-employed",
        "job seeker with benefit",
        "job seeker without benefit",
        "social assistance",
        "other inactive",
        "unknown",
        "unknown",
    ]
    got = con.execute(
        f"select {anonymous.nace_section_sql('n')} from unnest(?::varchar[]) t(n)",
        [["01110", "47111", "84130", "99000"]],
    ).fetchall()
    assert [r[0] for r in got] == ["A", "G", "O", "U"]
