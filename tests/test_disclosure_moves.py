"""Whole-number witnesses without a component-wide MILP (cohort/privacy/disclosure/_moves.py) and the
witnesses the audit takes over from protect: they change how a cell is proven, never whether."""

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from cohort.privacy.disclosure import Dimension, DisclosureRules, TableSpec, _integer, _lp, protect, tabulate
from cohort.privacy.disclosure._model import build_model, cell_values
from cohort.privacy.disclosure._moves import CubeMoves


def _cross(seed: int, hierarchy: bool = True) -> tuple[dict, dict, dict]:
    """A 3-way table (entity with domains, sex, age) of skewed counts, many of them small."""
    rng = np.random.default_rng(seed)
    entities = [f"E{i}" for i in range(5)]
    keys = [(e, s, a) for e in entities for s in ("F", "M") for a in ("y", "m", "o")]
    counts = rng.poisson(rng.lognormal(1.0, 1.0, len(keys)))
    rows = [
        dict(zip(("entity", "sex", "age"), k, strict=True))
        for k, n in zip(keys, counts, strict=True)
        for _ in range(n)
    ]
    micro = pl.DataFrame(rows, schema={"entity": pl.String, "sex": pl.String, "age": pl.String})
    dims = (
        {"entity": Dimension("entity", {e: f"D{i % 2}" for i, e in enumerate(entities)})} if hierarchy else {}
    )
    spec = TableSpec("t", ("entity", "sex", "age"), population="p")
    return {"t": tabulate(micro, spec, dims)}, {"t": spec}, dims


@pytest.mark.parametrize("hierarchy", [False, True])
def test_every_box_keeps_every_equation(hierarchy):
    # A box is a move of the table only if the sums of every equation stay: A d = 0. Wrong partner
    # codes (a subtotal paired as a leaf) or a wrong sign would break one.
    tables, specs, dims = _cross(3, hierarchy)
    model = build_model(tables, specs, dims)
    moves = CubeMoves(model, tables, specs, dims)
    boxes = 0
    for cell in range(model.n_cells):
        box = moves.find(cell, lambda c, s: True)
        if box is None:
            continue
        d = np.zeros(model.n_cells)
        for c, s in box.items():
            d[c] += s
        assert d[cell] == 1
        assert np.array_equal(model.A @ d, np.zeros(model.A.shape[0])), cell
        boxes += 1
    # every cell of a flat 3-way table lies on a box; with domains, the domain subtotals do not
    if hierarchy:
        assert 0 < boxes < model.n_cells
    else:
        assert boxes == model.n_cells


def test_a_box_never_crosses_a_cell_that_cannot_move():
    tables, specs, dims = _cross(4, hierarchy=False)
    model = build_model(tables, specs, dims)
    moves = CubeMoves(model, tables, specs, dims)
    frozen = {5, 17, 40}
    box = moves.find(0, lambda c, s: c not in frozen)
    assert box is not None and not frozen & set(box)
    assert moves.find(0, lambda c, s: False) is None


def _system(tables, specs, dims, rules):
    """The integer-proof inputs of a protected release, as protect builds them."""
    prot = protect(tables, specs, rules, dims)
    model = build_model(tables, specs, dims)
    true = cell_values(model, tables, "n")
    row_of = model.rows.filter(pl.col("table") == "t").sort("row").get_column("cell").to_numpy()
    status = prot["t"].get_column("status").to_numpy()
    hidden = np.zeros(model.n_cells, dtype=bool)
    hidden[row_of[status != "published"]] = True
    primary = np.zeros(model.n_cells, dtype=bool)
    primary[row_of[status == "primary"]] = True
    lb = np.where(hidden, 1.0, 0.0)
    ub = np.full(model.n_cells, np.inf)
    need = np.where(primary, float(rules.threshold), -np.inf)
    return model, ~hidden, true, (lb, ub), np.flatnonzero(primary), need


@pytest.mark.parametrize("seed", [1, 2, 5, 8])
def test_moves_reach_the_milp_verdict(seed, monkeypatch):
    tables, specs, dims = _cross(seed)
    rules = DisclosureRules(threshold=5, label=None)
    model, known, true, bounds, targets, need = _system(tables, specs, dims, rules)
    assert len(targets)
    monkeypatch.setattr(_integer, "_WITNESSES", _integer.OrderedDict())
    monkeypatch.setattr(_integer, "_MOVES_FROM", 0)  # these components are small: search them too
    plain = _integer.integer_protection(model.A, known, np.nan_to_num(true), bounds, targets, true, need)
    _integer._WITNESSES.clear()
    moves = CubeMoves(model, tables, specs, dims)
    fast = _integer.integer_protection(
        model.A, known, np.nan_to_num(true), bounds, targets, true, need, moves
    )
    assert fast.tolist() == plain.tolist()
    # with a threshold no hidden count can reach, neither proves anything
    _integer._WITNESSES.clear()
    high = np.where(np.isfinite(need), 1e7, need)
    none = _integer.integer_protection(
        model.A, known, np.nan_to_num(true), bounds, targets, true, high, moves
    )
    assert not none.any()


def test_a_remembered_witness_counts_only_where_it_holds(monkeypatch):
    # x = y + z, y = z (x even), x in [3, 5] with true value 4: only 4 is possible. A table of a
    # looser system (x up to 7, where x = 6 is possible) must not prove the tight one, even when it
    # is offered for it (every system given the same key here).
    monkeypatch.setattr(_integer, "_WITNESSES", _integer.OrderedDict())
    monkeypatch.setattr(_integer, "_component_key", lambda piece, cells: b"same")
    A = np.array([[1.0, -1.0, -1.0], [0.0, 1.0, -1.0]])
    known = np.zeros(3, dtype=bool)
    true = np.array([4.0, 2.0, 2.0])
    none = np.full(3, -np.inf)
    loose = (np.array([3.0, 1.0, 1.0]), np.array([7.0, np.inf, np.inf]))
    assert _integer.integer_protection(A, known, np.zeros(3), loose, np.array([0]), true, none).tolist() == [
        True
    ]
    assert [w.tolist() for w in _integer._WITNESSES[b"same"]] == [[6.0, 3.0, 3.0]]
    tight = (np.array([3.0, 1.0, 1.0]), np.array([5.0, np.inf, np.inf]))
    assert _integer.integer_protection(A, known, np.zeros(3), tight, np.array([0]), true, none).tolist() == [
        False
    ]
    # the loose system itself is proven again from the remembered table alone (no MILP)
    _integer._WITNESSES[b"same"] = [np.array([6.0, 3.0, 3.0])]
    monkeypatch.setattr(_integer, "_milp", lambda *a: pytest.fail("a MILP ran"))
    assert _integer.integer_protection(A, known, np.zeros(3), loose, np.array([0]), true, none).tolist() == [
        True
    ]


def test_the_lp_audit_takes_remembered_tables_as_witnesses_only_where_they_hold(monkeypatch):
    # x = y + z, y = z, true (4, 2, 2), x in [3, 7]: the table (6, 3, 3) moves every cell, so the
    # LP certification needs no LP of its own when it is remembered for this system; a table that
    # breaks an equation (5, 3, 2) is not taken, and the LPs run as before.
    monkeypatch.setattr(_integer, "_WITNESSES", _integer.OrderedDict())
    monkeypatch.setattr(_integer, "_component_key", lambda piece, cells: b"same")
    A = sp.csr_matrix(np.array([[1.0, -1.0, -1.0], [0.0, 1.0, -1.0]]))
    true = np.array([4.0, 2.0, 2.0])
    lb, ub = np.array([3.0, 1.0, 1.0]), np.array([7.0, np.inf, np.inf])

    def certify(cells: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        return upper - lower >= 1 - 1e-9  # two whole numbers

    def run() -> np.ndarray:
        res = _lp.feasibility_intervals(
            A, np.zeros(3, dtype=bool), np.zeros(3), lb, ub, np.arange(3), certify=certify, start=true
        )
        return certify(np.arange(3), res.lower, res.upper)

    _integer._WITNESSES[b"same"] = [np.array([6.0, 3.0, 3.0])]
    with monkeypatch.context() as m:
        m.setattr(_lp, "_gain_witness", lambda *a, **k: pytest.fail("a push LP ran"))
        m.setattr(_lp._ComponentSolver, "bounds", lambda *a, **k: pytest.fail("an exact LP ran"))
        assert run().all()
    _integer._WITNESSES[b"same"] = [np.array([5.0, 3.0, 2.0])]
    solved = []
    real = _lp._ComponentSolver.bounds
    monkeypatch.setattr(_lp._ComponentSolver, "bounds", lambda self, j: solved.append(j) or real(self, j))
    monkeypatch.setattr(_lp, "_gain_witness", lambda *a, **k: None)  # no push: the exact LPs decide
    assert run().all() and sorted(solved) == [0, 1, 2]
