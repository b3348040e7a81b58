"""Totals a deliberation asks for stay published (issue 25, seed 003's ``published_totals``): the grand
total and the policy-domain totals are never secondary partners, and what is released stays safe
against the outsider's integer attack (tests/attacker.py, written apart from the engine)."""

import dataclasses
import logging
from pathlib import Path

import attacker
import numpy as np
import polars as pl
import pytest
import release_scan

from cohort.privacy.disclosure import (
    Dimension,
    DisclosureRules,
    TableSpec,
    audit,
    content_hash,
    protect,
    record_signoff,
    release,
    tabulate,
)
from cohort.privacy.disclosure._model import build_model, row_cells
from cohort.privacy.disclosure.suppression import published_total_cells
from cohort.projects.flemish_staff_origin.assets import ORG, SPEC, build_release

ADMIN = "Flemish government"
#: (policy domain, entity) -> staff. Dom A: an entity of 60 and one of 20 (under 50: a pool of a single
#: entity, all its cells hidden and each able to reach 5); Dom B: a single entity of 55.
SIZES = {("Dom A", "Big A"): 60, ("Dom A", "Small A"): 20, ("Dom B", "Only B"): 55}
CRITERIA = ["sex", "age_class", "level", "position", "regime"]


def _staff(seed: int = 0) -> pl.DataFrame:
    """A hand-made staff frame in the columns of the project's ``staff`` asset."""
    rng = np.random.default_rng(seed)
    o15_codes = ["EU-15", "non-EU-15", "unknown: parents unknown", "unknown: grandparents unknown"]
    rows = []
    for (domain, entity), n in SIZES.items():
        for _ in range(n):
            o15 = str(rng.choice(o15_codes, p=[0.85, 0.09, 0.04, 0.02]))
            eu = {"EU-15": "EU", "non-EU-15": "EU" if rng.random() < 0.3 else "non-EU"}.get(o15, o15)
            rows.append(
                (
                    domain,
                    entity,
                    str(rng.choice(["F", "M"])),
                    str(rng.choice(["18-24", "25-34", "35-44", "45-54", "55-65"])),
                    str(rng.choice(list("ABCD"), p=[0.4, 0.3, 0.2, 0.1])),
                    str(rng.choice(["S", "C"])),
                    str(rng.choice(["FT", "PT"], p=[0.75, 0.25])),
                    o15,
                    eu,
                )
            )
    return pl.DataFrame(
        rows,
        schema=["policy_domain", "entity", *CRITERIA, "origin_eu15", "origin_eu"],
        orient="row",
    )


def _totals(frame: pl.DataFrame) -> dict[str, str]:
    """Shown value of the grand total and the two domain totals (every other dimension at its total)."""
    others = [c for c in frame.columns if c in (*CRITERIA, "origin_eu15", "origin_eu")]
    head = frame.filter(pl.col(ORG).is_in([ADMIN, "Dom A", "Dom B"]), *[pl.col(c) == "Total" for c in others])
    return dict(zip(head.get_column(ORG), head.get_column("shown"), strict=True))


@pytest.fixture(scope="module")
def staff_release():
    rt = build_release(_staff(), year=2024)
    assert rt.rules.published_totals == {ORG: 1}  # the spec's rule reaches the engine
    assert rt.forced == {ORG: {"Dom A: other entities (<50)"}}  # the single-entity pool
    return rt


def test_the_spec_keeps_the_administration_and_domain_totals_where_the_rule_off_hides_them(staff_release):
    rt = staff_release
    before = dataclasses.replace(rt.rules, published_totals=None)  # the engine before the rule
    old = protect(rt.tables, rt.specs, before, rt.dimensions, forced=rt.forced)
    assert set(_totals(old["origin_eu15"]).values()) == {"x"}  # all three hidden
    new = protect(rt.tables, rt.specs, rt.rules, rt.dimensions, forced=rt.forced)
    shown = _totals(new["origin_eu15"])
    truth = _totals(rt.tables["origin_eu15"].with_columns(shown=pl.col("n").cast(pl.String)))
    assert shown == truth  # published, and as counted
    assert _totals(new["origin_eu_by_sex"]) == truth  # one number in every linked table
    report = audit(new, rt.specs, rt.rules, dimensions=rt.dimensions)
    assert report.passed, report.findings[:5]
    staff_release.protected = new
    staff_release.report = report


def test_the_outsider_recovers_nothing_from_that_release(staff_release, tmp_path: Path):
    rt = staff_release
    protected = getattr(rt, "protected", None) or protect(
        rt.tables, rt.specs, rt.rules, rt.dimensions, forced=rt.forced
    )
    report = getattr(rt, "report", None) or audit(protected, rt.specs, rt.rules, dimensions=rt.dimensions)
    signoff = record_signoff(tmp_path, SPEC.id, "2024", "test checker", content_hash(protected, rt.specs))
    release(protected, report, SPEC.id, "2024", tmp_path, signoff, specs=rt.specs, dimensions=rt.dimensions)
    bounds = attacker.attack(attacker.read_release(tmp_path / "releases" / SPEC.id / "2024"))
    totals = {d: rt.dimensions[d].total_label if d in rt.dimensions else "Total" for d in [ORG, *CRITERIA]}
    truth: dict[tuple[str, frozenset], tuple[str, float, bool]] = {}
    for name, frame in protected.items():
        dims = list(rt.specs[name].dimensions)
        population = rt.specs[name].population
        for row in frame.select(*dims, "status", "n", "forced").iter_rows(named=True):
            key = release_scan.cell_key({d: row[d] for d in dims}, totals)
            truth[(population, key)] = (row["status"], float(row["n"]), bool(row["forced"]))
    rows = [
        truth[(p, frozenset(tuple(pair) for pair in c))]
        for p, c in bounds.select("population", "coords").rows()
    ]
    bounds = bounds.with_columns(
        status=pl.Series([s for s, _, _ in rows]),
        true=pl.Series([v for _, v, _ in rows], dtype=pl.Float64),
        forced=pl.Series([f for _, _, f in rows], dtype=pl.Boolean),
    )
    assert bounds.height > 0 and set(bounds.get_column("status")) <= {"primary", "secondary"}
    assert bounds.filter(pl.col("lower_exact") & (pl.col("true") < pl.col("lower"))).height == 0
    assert bounds.filter(pl.col("upper_exact") & (pl.col("true") > pl.col("upper"))).height == 0
    assert bounds.filter(pl.col("lower") == pl.col("upper")).select("cell", "shown").rows() == []
    # the single-entity pool's hidden counts can each reach the threshold (labels elsewhere may be small)
    pinned = bounds.filter(pl.col("forced") & (pl.col("status") == "primary") & (pl.col("upper") < 5))
    assert pinned.select("cell", "upper").rows() == []


def test_the_kept_totals_are_the_hierarchy_down_to_the_depth_and_what_equals_them():
    micro = pl.DataFrame({"entity": ["E1"] * 30 + ["E2"] * 25 + ["E3"] * 40, "sex": ["F", "M"] * 47 + ["F"]})
    dims = {"entity": Dimension("entity", {"E1": "D1", "E2": "D2", "E3": "D2"})}
    specs = {"t": TableSpec("t", ("entity", "sex"), population="staff")}
    tables = {"t": tabulate(micro, specs["t"], dims)}
    model = build_model(tables, specs, dims)
    cells = row_cells(model, "t")

    def kept(depth: int) -> set[tuple[str, str]]:
        mask = published_total_cells(model, tables, specs, {"entity": depth}, dims)[cells]
        return set(tables["t"].filter(pl.Series(mask)).select("entity", "sex").iter_rows())

    assert kept(0) == {("Total", "Total")}
    # D1's only entity E1 is D1 under another name: hiding it would hide D1
    assert kept(1) == {("Total", "Total"), ("D1", "Total"), ("D2", "Total"), ("E1", "Total")}
    assert published_total_cells(model, tables, specs, None, dims).sum() == 0


def test_a_kept_total_is_hidden_when_nothing_else_protects_a_cell(caplog):
    # E1 is its domain's only entity and holds 2 staff: its label would be the domain total's value.
    micro = pl.DataFrame({"entity": ["E1", "E1", *["E2"] * 30]})
    dims = {"entity": Dimension("entity", {"E1": "D1", "E2": "D2"})}
    specs = {"t": TableSpec("t", ("entity",), population="staff")}
    tables = {"t": tabulate(micro, specs["t"], dims)}
    rules = DisclosureRules(threshold=5, label="1-5", published_totals={"entity": 1})
    with caplog.at_level(logging.WARNING, logger="cohort.privacy.disclosure.suppression"):
        out = protect(tables, specs, rules, dims)
    shown = dict(zip(out["t"]["entity"], out["t"]["shown"], strict=True))
    # first E1's label is hidden completely (an "x" is still D1's value), then the kept total goes
    assert shown["E1"] == "x" and shown["D1"] == "x"
    assert "published_totals" in caplog.text
    assert audit(out, specs, rules, dimensions=dims).passed


def test_the_rule_is_read_from_a_spec_and_a_negative_depth_refused():
    assert DisclosureRules.from_mapping({"published_totals": {"organisation": 1}}).published_totals == {
        "organisation": 1
    }
    with pytest.raises(ValueError, match="published_totals"):
        DisclosureRules(published_totals={"organisation": -1})
