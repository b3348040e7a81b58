"""Partner cost (issue 25): a cell's height in its hierarchies, and the headline totals (the grand
total, the policy-domain totals) as the last partner, HiTaS-style."""

import numpy as np
import polars as pl

from cohort.privacy.disclosure import Dimension, DisclosureRules, TableSpec, audit, protect, tabulate
from cohort.privacy.disclosure._model import build_model, row_cells
from cohort.privacy.disclosure.suppression import headline_tier

HIERARCHY = {"E1": "D1", "E2": "D2", "E3": "D2"}  # D1 holds a single entity: D1 and E1 are one number


def _tables() -> tuple[dict, dict, dict]:
    # staff per entity: (women, men); two counts under the threshold
    staff = {"E1": (2, 30), "E2": (3, 25), "E3": (18, 22)}
    entities = [e for e, sexes in staff.items() for k in sexes for _ in range(k)]
    sexes = [s for sexes in staff.values() for s, k in zip("FM", sexes, strict=True) for _ in range(k)]
    micro = pl.DataFrame({"entity": entities, "sex": sexes})
    dims = {"entity": Dimension("entity", HIERARCHY)}
    specs = {
        "t": TableSpec("t", ("entity", "sex"), population="staff"),
        "by_entity": TableSpec("by_entity", ("entity",), population="staff"),  # linked to t
    }
    return {k: tabulate(micro, s, dims) for k, s in specs.items()}, specs, dims


def _per_row(values, frame: pl.DataFrame, dims: list[str]) -> dict:
    return {tuple(r): int(v) for r, v in zip(frame.select(dims).iter_rows(), values, strict=True)}


def test_height_is_how_aggregated_a_cell_is_whatever_linked_table_shows_it():
    tables, specs, dims = _tables()
    model = build_model(tables, specs, dims)
    height = model.cells.get_column("height").to_numpy()
    t = _per_row(height[row_cells(model, "t")], tables["t"], ["entity", "sex"])
    one = _per_row(height[row_cells(model, "by_entity")], tables["by_entity"], ["entity"])
    # entity: leaf 0, domain 1, total 2; sex: leaf 0, total 1
    assert t[("Total", "Total")] == 3 and t[("D2", "Total")] == 2 and t[("E2", "Total")] == 1
    assert t[("E2", "F")] == 0 and t[("Total", "F")] == 2
    # by_entity lacks sex, i.e. shows every cell at sex=Total: the same cells, the same heights
    assert one[("Total",)] == 3 and one[("D2",)] == 2 and one[("E3",)] == 1


def test_the_headline_tier_marks_the_grand_total_the_domain_totals_and_what_equals_them():
    tables, specs, dims = _tables()
    model = build_model(tables, specs, dims)
    got = _per_row(headline_tier(model)[row_cells(model, "t")], tables["t"], ["entity", "sex"])
    assert got[("Total", "Total")] == 2
    assert got[("D1", "Total")] == got[("D2", "Total")] == 1
    assert got[("E1", "Total")] == 1  # D1's only child: hiding it hides D1
    assert got[("E2", "Total")] == got[("E3", "Total")] == 0
    assert got[("E2", "F")] == got[("D2", "F")] == 0
    assert got[("Total", "F")] == 1  # the administration by one criterion: one step below the total


def test_small_counts_are_protected_with_inner_partners_and_every_headline_published():
    tables, specs, dims = _tables()
    rules = DisclosureRules(threshold=5, label="1-5")
    protected = protect(tables, specs, rules, dims)
    t = protected["t"]
    shown = {(e, s): v for e, s, v in zip(t["entity"], t["sex"], t["shown"], strict=True)}
    assert shown[("E1", "F")] == shown[("E2", "F")] == "1-5"
    assert shown[("Total", "Total")] == "100"
    assert shown[("D1", "Total")] == "32" and shown[("D2", "Total")] == "68"
    hidden = {k for k, v in shown.items() if v in ("x", "1-5")}
    assert len(hidden) > 2  # the labels got partners (else each is its row total minus the other cell)
    report = audit(protected, specs, rules, dimensions=dims)
    assert report.passed, report.findings


def _three_domains(seed: int) -> tuple[dict, dict, dict]:
    """Three policy domains of 2-3 entities (8-59 staff) by sex and age in three linked tables
    (the scenario of ``benchmarks/disclosure.py headlines``)."""
    rng = np.random.default_rng(seed)
    hierarchy, sizes = {}, {}
    for d in range(3):
        for e in range(int(rng.integers(2, 4))):
            hierarchy[f"E{d}{e}"] = f"D{d}"
            sizes[f"E{d}{e}"] = int(rng.integers(8, 60))
    rows: list[tuple[str, str, str]] = []
    for e, n in sizes.items():
        p = rng.dirichlet([1, 1, 1])
        rows += [(e, "F" if rng.random() < 0.5 else "M", str(rng.choice(3, p=p))) for _ in range(n)]
    micro = pl.DataFrame(rows, schema=["entity", "sex", "age"], orient="row")
    dims = {"entity": Dimension("entity", hierarchy)}
    specs = {
        "by_entity": TableSpec("by_entity", ("entity",), population="staff"),
        "t": TableSpec("t", ("entity", "sex", "age"), population="staff"),
        "u": TableSpec("u", ("entity", "age"), population="staff"),
    }
    return {k: tabulate(micro, s, dims) for k, s in specs.items()}, specs, dims


def test_linked_tables_keep_the_grand_and_domain_totals_when_inner_partners_exist():
    # Before issue 25 this release lost two domain totals: the old cost (margin coordinates counted
    # in the table a cell was first read from) ranked a domain total with inner margins, and the
    # tightest equation was chosen before the cheapest partner.
    tables, specs, dims = _three_domains(1)
    rules = DisclosureRules(threshold=5, label="1-5")
    protected = protect(tables, specs, rules, dims)
    b = protected["by_entity"]
    shown = dict(zip(b["entity"], b["shown"], strict=True))
    assert [shown[c] for c in ("Total", "D0", "D1", "D2")] == [
        str(int(tables["by_entity"].filter(pl.col("entity") == c)["n"][0]))
        for c in ("Total", "D0", "D1", "D2")
    ]
    assert sum((p["shown"] != tables[k]["n"].cast(pl.String)).sum() for k, p in protected.items()) > 0
    report = audit(protected, specs, rules, dimensions=dims)
    assert report.passed, report.findings
