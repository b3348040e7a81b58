"""Disclosure-control engine: tabulation, primary rules, secondary suppression and the LP audit.

Textbook cases (Handbook on SDC ch. 4; OpenSAFELY's two-table differencing) with intervals
computed by hand.
"""

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort.privacy.disclosure import (
    Dimension,
    DisclosureRules,
    TableSpec,
    _integer,
    _lp,
    audit,
    protect,
    split_by_entity_size,
    tabulate,
)


def micro_from_counts(counts: dict[tuple[str, ...], int], names: tuple[str, ...]) -> pl.DataFrame:
    rows = [dict(zip(names, key, strict=True)) for key, k in counts.items() for _ in range(k)]
    return pl.DataFrame(rows, schema={n: pl.String for n in names})


def cell(frame: pl.DataFrame, **codes: str) -> dict:
    f = frame
    for k, v in codes.items():
        f = f.filter(pl.col(k) == v)
    assert f.height == 1, codes
    return f.row(0, named=True)


# A 3x3 table with one small cell (row r1, column c2 = 2).
TABLE_3X3 = {
    ("r1", "c1"): 20, ("r1", "c2"): 2, ("r1", "c3"): 15,
    ("r2", "c1"): 10, ("r2", "c2"): 12, ("r2", "c3"): 8,
    ("r3", "c1"): 9, ("r3", "c2"): 11, ("r3", "c3"): 30,
}  # fmt: skip


def test_tabulate_has_every_margin_and_hierarchy_level():
    micro = pl.DataFrame({"sex": ["M", "F", "F", "M", "F"], "entity": ["E1", "E1", "E2", "E3", "E3"]})
    dims = {"entity": Dimension("entity", {"E1": "D1", "E2": "D1", "E3": "D2", "E4": "D2"})}
    t = tabulate(micro, TableSpec("t", ("sex", "entity")), dims)
    # (F, M, Total) x (E1..E4, D1, D2, Total) = 3 x 7 cells, zeros included (E4 has nobody).
    assert t.height == 21
    assert cell(t, sex="Total", entity="Total")["n"] == 5
    assert cell(t, sex="F", entity="D1")["n"] == 2
    assert cell(t, sex="M", entity="E4")["n"] == 0
    assert cell(t, sex="Total", entity="E3")["entity__parent"] == "D2"
    assert cell(t, sex="Total", entity="D2")["entity__parent"] == "Total"
    assert cell(t, sex="Total", entity="Total")["entity__parent"] is None
    assert t.schema["n"] == pl.Int64 and t.schema["sex"] == pl.String


def test_tabulate_magnitude_keeps_two_largest_contributions_at_every_level():
    micro = pl.DataFrame({"g": ["a", "a", "b", "b", "b"], "w": [1.0, 5.0, 3.0, 2.0, 9.0]})
    t = tabulate(micro, TableSpec("m", ("g",), value="w"))
    tot = cell(t, g="Total")
    assert (tot["n"], tot["value"], tot["top1"], tot["top2"]) == (5, 20.0, 9.0, 5.0)
    b = cell(t, g="b")
    assert (b["value"], b["top1"], b["top2"]) == (14.0, 9.0, 3.0)


def test_tabulate_rejects_null_codes_with_table_column_and_count():
    micro = pl.DataFrame({"sex": ["M", None, None]})
    with pytest.raises(ValueError, match=r"table t: dimension sex has 2 null"):
        tabulate(micro, TableSpec("t", ("sex",)))


def test_rules_from_mapping_reads_spec_spellings_and_refuses_typos():
    r = DisclosureRules.from_mapping(
        {"min_count": 5, "small_count_label": "1-5", "k": 85, "p": 10, "entity_min_size": 50}
    )
    assert (r.threshold, r.label, r.dominance_k, r.p_percent, r.min_entity_size) == (5, "1-5", 0.85, 0.10, 50)
    assert r.label_bounds == (1, 4)
    with pytest.raises(ValueError, match="unknown key 'treshold'"):
        DisclosureRules.from_mapping({"treshold": 5})


def test_small_cell_in_two_way_table_gets_partners_and_exact_hand_interval():
    micro = micro_from_counts(TABLE_3X3, ("row", "col"))
    spec = TableSpec("t", ("row", "col"))
    rules = DisclosureRules(label=None)  # small counts shown "x": an outsider knows every "x" is >= 1
    p = protect({"t": tabulate(micro, spec)}, {"t": spec}, rules)["t"]
    hidden = {
        (r["row"], r["col"]): r["status"] for r in p.filter(pl.col("shown") == "x").iter_rows(named=True)
    }
    assert hidden[("r1", "c2")] == "primary"
    # Partners in its row and its column, completed to a rectangle (no lone hidden cell anywhere).
    assert hidden == {
        ("r1", "c2"): "primary",
        ("r1", "c3"): "secondary",
        ("r3", "c2"): "secondary",
        ("r3", "c3"): "secondary",
    }
    assert all(
        cell(p, row=r, col=c)["shown"] != "x" for r in ("Total", "r2") for c in ("Total", "c1", "c2", "c3")
    )
    rep = audit({"t": p}, {"t": spec}, rules)
    assert rep.passed, rep.findings
    # By hand: r1: 20 + a + b = 37; c2: a + 12 + c = 25; r3: 9 + c + d = 50, all hidden >= 1.
    # So b = 17 - a >= 1, c = 13 - a >= 1 and d = 28 + a: a in [1, 12].
    row = rep.cells.row(0, named=True)
    assert (row["lower"], row["upper"]) == pytest.approx((1.0, 12.0))
    assert rep.cells.height == 1 and row["true_value"] == 2


def test_label_keeps_its_full_range_when_partnered():
    micro = micro_from_counts(TABLE_3X3, ("row", "col"))
    spec = TableSpec("t", ("row", "col"))
    p = protect({"t": tabulate(micro, spec)}, {"t": spec}, DisclosureRules())["t"]
    assert cell(p, row="r1", col="c2")["shown"] == "1-5"
    rep = audit({"t": p}, {"t": spec}, DisclosureRules())
    assert rep.passed, rep.findings
    r = rep.cells.row(0, named=True)
    assert (r["lower"], r["upper"]) == pytest.approx((1.0, 4.0))


# One row: a = 2 and b = 3 are small, c = 20, total 25 (shown "x" without a label).
ROW = {("a",): 2, ("b",): 3, ("c",): 20}


def test_a_hidden_small_count_keeps_a_feasible_value_at_the_threshold():
    micro = micro_from_counts(ROW, ("k",))
    spec = TableSpec("t", ("k",))
    loose = DisclosureRules(label=None, threshold_protection=False)
    p = protect({"t": tabulate(micro, spec)}, {"t": spec}, loose)["t"]
    # Without the requirement a and b are hidden together: a + b = 25 - 20 = 5 pins a into [1, 4],
    # which tells the reader that the group is small. The audit under the default rules says so.
    assert [r["k"] for r in p.filter(pl.col("shown") == "x").iter_rows(named=True)] == ["a", "b"]
    strict = DisclosureRules(label=None)
    rep = audit({"t": p}, {"t": spec}, strict)
    assert not rep.passed
    assert rep.cells.filter(pl.col("cell").str.contains("k=a")).get_column("upper").to_list() == [4.0]
    # With it (the default), c is hidden too and each small count can be 5 or more.
    p = protect({"t": tabulate(micro, spec)}, {"t": spec}, strict)["t"]
    assert sorted(r["k"] for r in p.filter(pl.col("shown") == "x").iter_rows(named=True)) == ["a", "b", "c"]
    rep = audit({"t": p}, {"t": spec}, strict)
    assert rep.passed, rep.findings
    assert (rep.cells.get_column("upper") >= 5).all()
    # A project that labels small counts publishes that they are small: no such requirement there.
    p = protect({"t": tabulate(micro, spec)}, {"t": spec}, DisclosureRules())["t"]
    assert cell(p, k="c")["shown"] == "20"


def test_integer_proof_catches_what_the_lp_passes():
    # x = y + z and y = z: x is even. With x in [3, 5] the LP lets it take [3, 5] (y = z = 1.5 at 3),
    # but the only whole number is 4, its true value: exactly recomputable.
    A = np.array([[1.0, -1.0, -1.0], [0.0, 1.0, -1.0]])
    known = np.zeros(3, dtype=bool)
    lb, ub = np.array([3.0, 1.0, 1.0]), np.array([5.0, np.inf, np.inf])
    true = np.array([4.0, 2.0, 2.0])
    lp = _lp.feasibility_intervals(A, known, np.zeros(3), lb, ub, np.array([0]))
    assert (lp.lower[0], lp.upper[0]) == pytest.approx((3.0, 5.0))
    none = np.full(3, -np.inf)
    ok = _integer.integer_protection(A, known, np.zeros(3), (lb, ub), np.array([0, 1]), true, none)
    assert ok.tolist() == [False, False]  # and y = x / 2 = 2
    # Up to 7: x is 4 or 6, so two values stay, but a requirement to reach 7 holds for the LP only.
    ub[0] = 7.0
    lp = _lp.feasibility_intervals(A, known, np.zeros(3), lb, ub, np.array([0]))
    assert lp.upper[0] == pytest.approx(7.0)
    ok = _integer.integer_protection(A, known, np.zeros(3), (lb, ub), np.array([0]), true, none)
    assert ok.tolist() == [True]
    need = np.array([7.0, -np.inf, -np.inf])
    assert _integer.integer_protection(
        A, known, np.zeros(3), (lb, ub), np.array([0]), true, need
    ).tolist() == [False]
    need[0] = 6.0
    assert _integer.integer_protection(
        A, known, np.zeros(3), (lb, ub), np.array([0]), true, need
    ).tolist() == [True]


def hand_release(
    rows: list[tuple], dims: tuple[str, ...], name: str = "t", population: str = ""
) -> pl.DataFrame:
    """A protected table written by hand: (codes..., n, status, shown)."""
    schema = {**{d: pl.String for d in dims}, "n": pl.Int64, "status": pl.String, "shown": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(table=pl.lit(name))


def test_geurts_feasibility_intervals_match_the_handbook():
    # Handbook on SDC 4.2.2 (Geurts 1992): 2x2 inner cells hidden, margins 7, 3 / 6, 4 published.
    rows = [
        ("a", "p", 4, "primary", "x"), ("a", "q", 3, "primary", "x"), ("a", "Total", 7, "published", "7"),
        ("b", "p", 2, "primary", "x"), ("b", "q", 1, "primary", "x"), ("b", "Total", 3, "published", "3"),
        ("Total", "p", 6, "published", "6"), ("Total", "q", 4, "published", "4"), ("Total", "Total", 10, "published", "10"),
    ]  # fmt: skip
    spec = TableSpec("t", ("r", "c"))
    # protect_zeros: an "x" may then be anything >= 0, as in the handbook's example; threshold 3
    # so that the published margins 3 and 4 are not small counts themselves.
    rules = DisclosureRules(threshold=3, protect_zeros=True)
    rep = audit({"t": hand_release(rows, ("r", "c"))}, {"t": spec}, rules)
    got = {r["cell"]: (r["lower"], r["upper"]) for r in rep.cells.iter_rows(named=True)}
    assert got == {
        "c=p, r=a": (3.0, 6.0),
        "c=q, r=a": (1.0, 4.0),
        "c=p, r=b": (0.0, 3.0),
        "c=q, r=b": (0.0, 3.0),
    }
    assert rep.passed, rep.findings


def test_lp_backends_agree():
    A = np.array(
        [
            [1, 1, 0, 0, -1, 0, 0, 0],
            [0, 0, 1, 1, 0, -1, 0, 0],
            [1, 0, 1, 0, 0, 0, -1, 0],
            [0, 1, 0, 1, 0, 0, 0, -1],
        ],
        float,
    )
    values = np.array([0, 0, 0, 0, 7, 3, 6, 4], float)
    known = np.array([False] * 4 + [True] * 4)
    lb, ub = np.zeros(8), np.full(8, np.inf)
    out = [
        _lp.feasibility_intervals(A, known, values, lb, ub, np.arange(4), backend=b)
        for b in ("linprog", "highs" if _lp._HAVE_HIGHS else "linprog")
    ]
    for res in out:
        assert list(res.lower) == [3, 1, 0, 0] and list(res.upper) == [6, 4, 3, 3]


def test_lone_hidden_cell_in_a_row_is_recomputable_and_fails():
    rows = [
        ("a", "p", 2, "primary", "x"), ("a", "q", 30, "published", "30"), ("a", "Total", 32, "published", "32"),
        ("b", "p", 10, "published", "10"), ("b", "q", 8, "published", "8"), ("b", "Total", 18, "published", "18"),
        ("Total", "p", 12, "published", "12"), ("Total", "q", 38, "published", "38"), ("Total", "Total", 50, "published", "50"),
    ]  # fmt: skip
    rep = audit({"t": hand_release(rows, ("r", "c"))}, {"t": TableSpec("t", ("r", "c"))}, DisclosureRules())
    assert not rep.passed
    r = rep.cells.row(0, named=True)
    assert (r["lower"], r["upper"], r["ok"]) == (2.0, 2.0, False)
    assert any(f.startswith("differencing:") and "c=p, r=a" in f for f in rep.findings)


def test_a_label_undone_by_subtraction_fails():
    # "1-5" alone in a row with an exact total: the label collapses to the true value.
    rows = [
        ("a", "p", 3, "primary", "1-5"), ("a", "q", 30, "published", "30"), ("a", "Total", 33, "published", "33"),
        ("Total", "p", 3, "primary", "1-5"), ("Total", "q", 30, "published", "30"), ("Total", "Total", 33, "published", "33"),
    ]  # fmt: skip
    rep = audit({"t": hand_release(rows, ("r", "c"))}, {"t": TableSpec("t", ("r", "c"))}, DisclosureRules())
    assert not rep.passed
    assert set(zip(rep.cells["lower"], rep.cells["upper"], strict=True)) == {(3.0, 3.0)}


def test_differencing_across_two_tables_sharing_a_margin_is_caught():
    # OpenSAFELY's example: totals by age in one table, sex x age in another whose female row and
    # age margins are hidden. Alone, each table is safe; together, female 21-30 = 8 - 7 = 1.
    by_age = hand_release(
        [("21-30", 8, "published", "8"), ("31-40", 10, "published", "10"), ("Total", 18, "published", "18")],
        ("age",),
        "by_age",
    )
    by_sex_age = hand_release(
        [
            ("M", "21-30", 7, "published", "7"),
            ("M", "31-40", 5, "published", "5"),
            ("M", "Total", 12, "published", "12"),
            ("F", "21-30", 1, "primary", "1-5"),
            ("F", "31-40", 5, "secondary", "x"),
            ("F", "Total", 6, "secondary", "x"),
            ("Total", "21-30", 8, "secondary", "x"),
            ("Total", "31-40", 10, "secondary", "x"),
            ("Total", "Total", 18, "secondary", "x"),
        ],  # fmt: skip
        ("sex", "age"),
        "by_sex_age",
    )
    specs = {
        "by_age": TableSpec("by_age", ("age",), population="staff"),
        "by_sex_age": TableSpec("by_sex_age", ("sex", "age"), population="staff"),
    }
    alone = audit({"by_sex_age": by_sex_age}, specs, DisclosureRules())
    assert alone.passed, alone.findings
    both = audit({"by_age": by_age, "by_sex_age": by_sex_age}, specs, DisclosureRules())
    assert not both.passed
    f = cell(both.cells, cell="age=21-30, sex=F")
    assert (f["lower"], f["upper"]) == (1.0, 1.0)
    assert any("hidden in ['by_sex_age'] but published in ['by_age']" in x for x in both.findings)
    # Protected together, the shared margin gets one status in both tables and the release passes.
    micro = micro_from_counts(
        {("M", "21-30"): 7, ("M", "31-40"): 5, ("F", "21-30"): 1, ("F", "31-40"): 5}, ("sex", "age")
    )
    tables = {k: tabulate(micro, s) for k, s in specs.items()}
    prot = protect(tables, specs, DisclosureRules())
    rep = audit(prot, specs, DisclosureRules())
    assert rep.passed, rep.findings
    a = cell(prot["by_age"], age="21-30")["shown"]
    b = cell(prot["by_sex_age"], sex="Total", age="21-30")["shown"]
    assert a == b


COMBO_SPECS = {
    "by_sex": TableSpec("by_sex", ("sex",), population="staff"),
    "by_age": TableSpec("by_age", ("age",), population="staff"),
    "combo": TableSpec("combo", ("sex", "age"), population="staff", without_margins=("sex", "age")),
}


def test_a_combination_table_without_margins_is_linked_to_the_margins_published_elsewhere():
    # The combination table shows sex x age without any total; its totals are the other two tables.
    micro = micro_from_counts({("F", "y"): 2, ("F", "o"): 9, ("M", "y"): 7, ("M", "o"): 6}, ("sex", "age"))
    combo = tabulate(micro, COMBO_SPECS["combo"])
    assert combo.height == 4 and "Total" not in set(combo["sex"]) | set(combo["age"])
    # Only the small combination hidden, everything else exact: F-y = F total - F-o = 11 - 9.
    tables = {k: tabulate(micro, s) for k, s in COMBO_SPECS.items()}
    shown = {
        k: t.with_columns(
            status=pl.when(pl.col("n").is_between(1, 4))
            .then(pl.lit("primary"))
            .otherwise(pl.lit("published")),
            shown=pl.when(pl.col("n").is_between(1, 4))
            .then(pl.lit("x"))
            .otherwise(pl.col("n").cast(pl.String)),
        )
        for k, t in tables.items()
    }
    rep = audit(shown, COMBO_SPECS, DisclosureRules(label=None))
    assert not rep.passed
    fy = cell(rep.cells, cell="age=y, sex=F")
    assert (fy["lower"], fy["upper"]) == (2.0, 2.0)
    # Protected together, the partners make it pass, and no margin is invented in the combination table.
    prot = protect(tables, COMBO_SPECS, DisclosureRules(label=None))
    assert audit(prot, COMBO_SPECS, DisclosureRules(label=None)).passed
    assert prot["combo"].height == 4
    assert cell(prot["combo"], sex="F", age="y")["shown"] == "x"
    assert (
        cell(prot["by_sex"], sex="F")["shown"] == "x" or cell(prot["combo"], sex="F", age="o")["shown"] == "x"
    )


def test_earlier_release_read_from_the_ledger_keeps_its_combination_table_unmargined(tmp_path):
    from cohort.privacy.disclosure import ReleaseLedger, content_hash, earlier_releases

    micro = micro_from_counts({("F", "y"): 12, ("F", "o"): 9, ("M", "y"): 7, ("M", "o"): 6}, ("sex", "age"))
    tables = {k: tabulate(micro, s) for k, s in COMBO_SPECS.items()}
    prot = protect(tables, COMBO_SPECS, DisclosureRules())
    ReleaseLedger(tmp_path, "p").append("r1", prot, COMBO_SPECS, content_hash(prot, COMBO_SPECS))
    earlier = earlier_releases(tmp_path, "p")
    assert earlier[0]["combo"].get_column("without_margins")[0] == "sex,age"
    # Read back with its spec, the earlier release adds up; without it the audit would see
    # "children without a total" that sum to nothing and refuse.
    rep = audit(prot, COMBO_SPECS, DisclosureRules(), earlier=earlier)
    assert rep.passed, rep.findings


def test_hierarchy_lone_suppressed_entity_gets_a_partner_in_its_domain():
    hierarchy = {"E1": "D1", "E2": "D1", "E3": "D1", "E4": "D2", "E5": "D2"}
    micro = micro_from_counts({("E1",): 3, ("E2",): 20, ("E3",): 30, ("E4",): 15, ("E5",): 25}, ("entity",))
    dims = {"entity": Dimension("entity", hierarchy)}
    spec = TableSpec("t", ("entity",))
    p = protect({"t": tabulate(micro, spec, dims)}, {"t": spec}, DisclosureRules(), dims)["t"]
    status = dict(zip(p["entity"], p["status"], strict=True))
    assert status["E1"] == "primary" and status["E2"] == "secondary"
    assert {k for k, v in status.items() if v != "published"} == {
        "E1",
        "E2",
    }  # D1 and the total stay published
    rep = audit({"t": p}, {"t": spec}, DisclosureRules(), dimensions=dims)
    assert rep.passed and (rep.cells["lower"][0], rep.cells["upper"][0]) == (1.0, 4.0)
    # Without the partner the domain subtotal gives E1 away.
    leak = p.with_columns(
        shown=pl.when(pl.col("entity") == "E2").then(pl.lit("20")).otherwise(pl.col("shown"))
    )
    bad = audit({"t": leak}, {"t": spec}, DisclosureRules(), dimensions=dims)
    assert not bad.passed and any("entity=D1 is the sum of its entity children" in f for f in bad.findings)


def test_dominance_flags_a_dominated_magnitude_cell_with_handbook_protection_level():
    micro = pl.DataFrame(
        {
            "sector": ["s1"] * 3 + ["s2"] * 6 + ["s3"] * 5,
            "wage": [100.0, 5.0, 3.0, 10, 12, 9, 11, 10, 8, 20, 21, 19, 22, 18],
        }
    )
    spec = TableSpec("w", ("sector",), value="wage")
    rules = DisclosureRules(threshold=3, dominance_n=1, dominance_k=0.85, p_percent=0.10)
    p = protect({"w": tabulate(micro, spec)}, {"w": spec}, rules)["w"]
    assert cell(p, sector="s1")["status"] == "primary"
    assert cell(p, sector="s2")["status"] == "secondary"  # the cheaper partner (sum 60 against 100)
    assert cell(p, sector="s3")["shown"] == "100.0" and cell(p, sector="Total")["shown"] == "268.0"
    assert cell(p, sector="s1")["shown"] == "x"
    rep = audit({"w": p}, {"w": spec}, rules)
    assert rep.passed, rep.findings
    s1 = cell(rep.cells, cell="sum:wage: sector=s1")
    # X = 108, x1 = 100, x2 = 5: p% level 0.1*100 - 3 = 7; (1, 0.85) level 100/0.85 - 108 = 9.647.
    assert s1["required_upper"] == pytest.approx(108 + 100 / 0.85 - 108)
    assert s1["upper"] >= s1["required_upper"] and s1["lower"] <= s1["required_lower"]


def test_percentages_only_from_published_counts_and_hidden_with_them():
    micro = micro_from_counts(
        {
            ("E1", "o1"): 2,
            ("E1", "o2"): 20,
            ("E1", "o3"): 18,
            ("E2", "o1"): 10,
            ("E2", "o2"): 30,
            ("E2", "o3"): 10,
        },
        ("entity", "origin"),
    )
    spec = TableSpec("p", ("entity", "origin"), statistic="percentage", percentage_of=("origin",))
    p = protect({"p": tabulate(micro, spec)}, {"p": spec}, DisclosureRules())["p"]
    assert cell(p, entity="E2", origin="o2")["shown_percentage"] == "60.0"
    assert cell(p, entity="E2", origin="Total")["shown_percentage"] == "100.0"
    for r in p.filter(pl.col("shown").is_in(["x", "1-5"])).iter_rows(named=True):
        assert r["shown_percentage"] == "x" and r["percentage"] is None
    assert audit({"p": p}, {"p": spec}, DisclosureRules()).passed
    leak = p.with_columns(
        shown_percentage=pl.when(pl.col("shown") == "1-5")
        .then(pl.lit("5.0"))
        .otherwise(pl.col("shown_percentage"))
    )
    bad = audit({"p": leak}, {"p": spec}, DisclosureRules())
    assert any("percentages are shown although" in f for f in bad.findings)


def test_entity_size_rule_pools_small_entities_and_protects_single_entity_pools():
    hierarchy = {"E1": "D1", "E2": "D1", "E3": "D1", "E4": "D2", "E5": "D2", "E6": "D2"}
    sizes = {"E1": 60, "E2": 70, "E3": 12, "E4": 80, "E5": 9, "E6": 7}
    micro = pl.DataFrame(
        {
            "entity": [e for e, k in sizes.items() for _ in range(k)],
            "sex": [("F", "M")[i % 2] for e, k in sizes.items() for i in range(k)],
        }
    )
    split = split_by_entity_size(micro, "entity", 50, hierarchy)
    assert set(split.restricted) == {"E3", "E5", "E6"}
    assert split.pools == {"D1: other entities (<50)": ("E3",), "D2: other entities (<50)": ("E5", "E6")}
    assert split.forced == frozenset({"D1: other entities (<50)"})
    assert split.hierarchy["D2: other entities (<50)"] == "D2"
    dims = {"entity": Dimension("entity", split.hierarchy)}
    spec = TableSpec("t", ("sex", "entity"))
    t = tabulate(split.public, spec, dims)
    assert not set(t["entity"]) & {"E3", "E5", "E6"}
    p = protect({"t": t}, {"t": spec}, DisclosureRules(), dims, forced={"entity": set(split.forced)})["t"]
    pool = p.filter(pl.col("entity") == "D1: other entities (<50)")
    assert set(pool["shown"]) == {"x"} and set(pool["status"]) == {"primary"}
    rep = audit({"t": p}, {"t": spec}, DisclosureRules(), dimensions=dims)
    assert rep.passed, rep.findings
    assert rep.cells.filter(pl.col("cell").str.contains("D1: other")).height == 3


def test_shared_codes_link_two_classifications_of_one_variable():
    # "unknown" is the same people in the EU-15 and the EU classification of origin.
    micro = pl.DataFrame(
        {
            "o15": ["EU-15"] * 30 + ["non-EU-15"] * 25 + ["unknown"] * 3,
            "oeu": ["EU"] * 30 + ["EU"] * 10 + ["non-EU"] * 15 + ["unknown"] * 3,
            "sex": (["F", "M"] * 29),
        }
    )
    dims = {
        "o15": Dimension("o15", shared_codes={"unknown": "origin-unknown"}),
        "oeu": Dimension("oeu", shared_codes={"unknown": "origin-unknown"}),
    }
    specs = {
        "a": TableSpec("a", ("o15", "sex"), population="s"),
        "b": TableSpec("b", ("oeu", "sex"), population="s"),
    }
    tables = {k: tabulate(micro, s, dims) for k, s in specs.items()}
    prot = protect(tables, specs, DisclosureRules(), dims)
    for sex in ("F", "M", "Total"):
        assert (
            cell(prot["a"], o15="unknown", sex=sex)["shown"]
            == cell(prot["b"], oeu="unknown", sex=sex)["shown"]
        )
    assert audit(prot, specs, DisclosureRules(), dimensions=dims).passed


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(st.integers(min_value=0, max_value=12), min_size=12, max_size=12),
    zeros=st.booleans(),
    label=st.sampled_from(["1-5", None]),
)
def test_protect_always_yields_a_release_that_passes_the_audit(counts, zeros, label):
    # Random sparse 3 x 2 x 2 tables with a hierarchy on the first dimension, in two linked tables.
    keys = [(e, s, a) for e in ("E1", "E2", "E3") for s in ("F", "M") for a in ("y", "o")]
    micro = micro_from_counts(dict(zip(keys, counts, strict=True)), ("entity", "sex", "age"))
    if micro.height == 0:
        return
    dims = {"entity": Dimension("entity", {"E1": "D1", "E2": "D1", "E3": "D2"})}
    specs = {
        "full": TableSpec("full", ("entity", "sex", "age"), population="p"),
        "by_sex": TableSpec("by_sex", ("entity", "sex"), population="p"),
    }
    rules = DisclosureRules(protect_zeros=zeros, label=label)
    tables = {k: tabulate(micro, s, dims) for k, s in specs.items()}
    prot = protect(tables, specs, rules, dims)
    rep = audit(prot, specs, rules, dimensions=dims)
    assert rep.passed, rep.findings


def test_certified_audit_agrees_with_exact_audit():
    # Certification (aggregate LPs, then exact LPs only where needed) must reach the same verdicts,
    # and its inner bounds must lie within the exact LP bounds.
    rng = np.random.default_rng(7)
    keys = [(f"E{i}", s, a) for i in range(6) for s in ("F", "M") for a in ("y", "m", "o")]
    counts = rng.poisson(rng.lognormal(1.2, 1.0, len(keys)))
    micro = micro_from_counts(dict(zip(keys, counts.tolist(), strict=True)), ("entity", "sex", "age"))
    dims = {"entity": Dimension("entity", {f"E{i}": f"D{i % 2}" for i in range(6)})}
    spec = TableSpec("t", ("entity", "sex", "age"))
    prot = protect({"t": tabulate(micro, spec, dims)}, {"t": spec}, DisclosureRules(), dims)
    exact = audit(prot, {"t": spec}, DisclosureRules(), dimensions=dims, exact=True)
    fast = audit(prot, {"t": spec}, DisclosureRules(), dimensions=dims, exact=False)
    assert exact.passed and fast.passed
    assert exact.cells["exact"].all() and exact.cells.height > 5
    j = exact.cells.join(fast.cells, on=["table", "cell"], suffix="_fast")
    assert (j["ok"] == j["ok_fast"]).all()
    assert (j["lower"] <= j["lower_fast"] + 1e-6).all() and (j["upper"] >= j["upper_fast"] - 1e-6).all()
    # Leak one hidden cell: both modes must refuse.
    hidden = prot["t"].filter(pl.col("status") == "secondary").row(0, named=True)
    leak = prot["t"].with_columns(
        shown=pl.when(
            (pl.col("entity") == hidden["entity"])
            & (pl.col("sex") == hidden["sex"])
            & (pl.col("age") == hidden["age"])
        )
        .then(pl.lit(str(hidden["n"])))
        .otherwise(pl.col("shown"))
    )
    for mode in (True, False):
        rep = audit({"t": leak}, {"t": spec}, DisclosureRules(), dimensions=dims, exact=mode)
        assert not rep.passed
