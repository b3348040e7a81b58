"""An outsider's attack on a release, written apart from the engine (it does not import
cohort.privacy.disclosure): it reads only the files of one release folder and bounds every hidden
cell by integer programming (scipy.optimize.milp, HiGHS).

What the outsider reads and knows:

- each table ``<name>.csv``: dimension columns, ``<dim>__parent`` for a hierarchy (null at the
  total), ``shown`` (a number, the label, or "x");
- ``report.json`` (public): the tables' dimensions, populations and ``without_margins``, and the
  rules' threshold and label;
- the published rules (docs/disclosure.md): a label means a count in [1, threshold-1]; an "x" is a
  whole number >= 1 (>= 0 when zeros are protected); an absent row is a zero; tables with the same
  population are the same numbers: a cell is identified by its population and its coordinates
  other than totals; a margin is the sum of its children along every dimension and hierarchy
  level, and a cell summed over a table's ``without_margins`` dimensions is the sum of that
  table's rows below it.

Every hidden cell (label or "x") is an integer variable, every published cell a constant, every
additivity relation an equation. :func:`attack` gives each hidden cell's integer lower and upper
bound. Feasible integer tables (witnesses: solutions of MILPs that push all cells up and down, then
push the cells still in doubt, many at once) already show for most cells that two values are
possible and that the cell can reach the threshold; only the other cells get their own maximum (and,
when a single value is still seen, minimum). Those are found LP first (one warm-started LP model
per component): an integral LP optimum is an integer table at the LP bound, and an LP bound whose
floor (ceiling for a minimum) is a value a witness already showed is the integer optimum too; only
the rest get a MILP. The bounds are the same as with a MILP for every cell. ``lower_exact`` / ``upper_exact`` say which bounds
are MILP optima; the others are the range spanned by witnesses, inside the true range, so "two
values possible" and "reaches the threshold" are proven either way, and a cell recoverable exactly
always has both bounds exact.
"""

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

#: An upper bound for cells no equation bounds; reaching it means "unbounded".
CAP = 10_000_000.0


@dataclass
class Cell:
    population: str
    coords: frozenset

    def label(self) -> str:
        return ", ".join(f"{d}={c}" for d, c in sorted(self.coords)) or "grand total"


@dataclass
class OutsiderModel:
    """The outsider's linear system: cells, their published value or bounds, and the equations."""

    cells: list[Cell]
    shown: list[str]
    value: np.ndarray  # published value (nan when hidden)
    lower: np.ndarray
    upper: np.ndarray
    equations: list[dict[int, float]]  # cell -> coefficient, sum = 0
    threshold: int
    label: str | None


def _table_files(folder: Path) -> dict[str, Path]:
    return {
        p.name.removesuffix(".csv"): p
        for p in sorted(folder.glob("*.csv"))
        if not p.name.endswith(".reasons.csv")
    }


def read_release(folder: Path) -> OutsiderModel:
    """The outsider's system of one release folder (its tables and its public report only)."""
    report = json.loads((folder / "report.json").read_text())["summary"]
    specs = report["specs"]
    rules = report["rules"]
    threshold, label = int(rules["threshold"]), rules.get("label")
    x_lower = 0.0 if rules.get("protect_zeros") else 1.0
    index: dict[tuple[str, frozenset], int] = {}
    cells: list[Cell] = []
    shown: list[str] = []

    def cell(population: str, coords: frozenset, text: str | None) -> int:
        key = (population, coords)
        if key not in index:
            index[key] = len(cells)
            cells.append(Cell(population, coords))
            shown.append(text if text is not None else "")
        i = index[key]
        if text is not None:
            if shown[i] and shown[i] != text:
                raise ValueError(f"cell {cells[i].label()} is shown as {shown[i]!r} and {text!r}")
            shown[i] = text
        return i

    equations: list[dict[int, float]] = []
    rows_of: dict[str, list[tuple[dict[str, str], int]]] = {}
    totals_of: dict[str, dict[str, str | None]] = {}
    for name, path in _table_files(folder).items():
        spec = specs[name]
        dims = spec["dimensions"]
        wm = set(spec.get("without_margins") or [])
        frame = pl.read_csv(path, infer_schema=False)
        totals: dict[str, str | None] = {}
        parents: dict[str, dict[str, str | None]] = {}
        for d in dims:
            if d in wm:
                totals[d] = None
            elif d + "__parent" in frame.columns:
                pairs = frame.select(d, d + "__parent").unique()
                parents[d] = dict(pairs.iter_rows())
                tops = [c for c, p in parents[d].items() if p is None]
                if len(tops) != 1:
                    raise ValueError(f"table {name}: dimension {d} has no single total")
                totals[d] = tops[0]
            else:
                totals[d] = "Total"
                if "Total" not in set(frame.get_column(d)):
                    raise ValueError(f"table {name}: dimension {d} shows no total 'Total'")
        rows = []
        for r in frame.iter_rows(named=True):
            coords = {d: r[d] for d in dims}
            key = frozenset((d, c) for d, c in coords.items() if c != totals[d])
            rows.append((coords, cell(spec["population"], key, r["shown"])))
        rows_of[name] = rows
        totals_of[name] = totals
        by_coords = {tuple(c[d] for d in dims): i for c, i in rows}
        # margins: along each dimension with margins, a parent code is the sum of its children
        for d in dims:
            if d in wm:
                continue
            children: dict[str, list[str]] = {}
            for c, p in (parents.get(d) or {}).items():
                if p is not None:
                    children.setdefault(p, []).append(c)
            if d not in parents:
                children = {"Total": sorted({c[d] for c, _ in rows if c[d] != "Total"})}
            at = dims.index(d)
            for coords, i in rows:
                kids = children.get(coords[d])
                if not kids:
                    continue
                eq = {i: -1.0}
                base = [coords[e] for e in dims]
                for k in kids:
                    base[at] = k
                    j = by_coords.get(tuple(base))  # an absent row is a zero
                    if j is not None:
                        eq[j] = eq.get(j, 0.0) + 1.0
                equations.append(eq)
    # without_margins: a linked cell summed over some of those dimensions is the sum of the rows below it
    for name, rows in rows_of.items():
        spec = specs[name]
        wm = [d for d in spec["dimensions"] if d in set(spec.get("without_margins") or [])]
        if not wm:
            continue
        totals = totals_of[name]
        groups: dict[frozenset, list[int]] = {}
        for coords, i in rows:
            fixed = frozenset((d, c) for d, c in coords.items() if d not in wm and c != totals[d])
            for size in range(len(wm)):
                for kept in itertools.combinations(wm, size):
                    key = fixed | frozenset((d, coords[d]) for d in kept)
                    groups.setdefault(key, []).append(i)
        for key, members in groups.items():
            k = index.get((spec["population"], key))
            if k is None:
                continue
            eq = {k: -1.0}
            for j in members:
                eq[j] = eq.get(j, 0.0) + 1.0
            equations.append(eq)
    n = len(cells)
    value = np.full(n, np.nan)
    lower = np.zeros(n)
    upper = np.full(n, CAP)
    for i, s in enumerate(shown):
        if s == "x":
            lower[i] = x_lower
        elif label and s == label:
            lower[i], upper[i] = 1.0, threshold - 1.0
        else:
            value[i] = lower[i] = upper[i] = float(s)
    return OutsiderModel(cells, shown, value, lower, upper, equations, threshold, label)


def _solve(
    c: np.ndarray, A: csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, extra: list | None = None
) -> np.ndarray:
    constraints = [LinearConstraint(A, b, b)] if A.shape[0] else []
    res = milp(c, constraints=constraints + (extra or []), bounds=Bounds(lo, hi), integrality=np.ones(len(c)))
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"attacker: the published tables admit no integer solution ({res.message})")
    return np.round(res.x)


class _LP:
    """The LP relaxation of one component, built once and re-solved per objective from the last basis
    (HiGHS through SciPy's bindings), so that a bound costs a few simplex iterations."""

    def __init__(self, A: csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        from scipy.optimize._highspy import _core as highs  # noqa: PLC2701 (the bindings SciPy ships)

        self.highs = highs
        self.h = h = highs._Highs()
        h.setOptionValue("output_flag", False)
        lp = highs.HighsLp()
        m, n = A.shape
        A_c = A.tocsc()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_, lp.col_upper_ = np.asarray(lo, float), np.asarray(hi, float)
        lp.row_lower_ = lp.row_upper_ = np.asarray(b, float)
        lp.a_matrix_.format_ = highs.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A_c.indptr, A_c.indices, A_c.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
        h.passModel(lp)
        self.prev: int | None = None

    def optimum(self, k: int, sense: float) -> np.ndarray | None:
        h = self.h
        if self.prev is not None:
            h.changeColCost(self.prev, 0.0)
        h.changeColCost(k, 1.0)
        self.prev = k
        h.changeObjectiveSense(self.highs.ObjSense.kMaximize if sense > 0 else self.highs.ObjSense.kMinimize)
        h.run()
        if h.modelStatusToString(h.getModelStatus()) != "Optimal":
            return None
        return np.asarray(h.getSolution().col_value, float)


def _extreme(
    k: int, sense: float, lp: _LP, A: csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, seen: float
) -> tuple[float, np.ndarray | None]:
    """The integer maximum (``sense`` +1) or minimum (-1) of cell ``k``: the LP relaxation first, a
    MILP only where the LP does not settle it. Returns (bound, an integer table attaining it or None).

    The LP optimum bounds the integer one (its floor for a maximum). It settles the integer optimum
    when its solution is integral (an integer table at the LP bound) or when its floor is the value
    ``seen`` in a witness (an integer table already attains it); otherwise the MILP decides."""
    x = lp.optimum(k, sense)
    if x is not None:
        if np.abs(x - np.round(x)).max(initial=0.0) < 1e-6:
            return float(np.round(x[k])), np.round(x)
        if sense * np.floor(sense * x[k] + 1e-6) == seen:
            return float(seen), None
    c = np.zeros(A.shape[1])
    c[k] = -sense
    x = _solve(c, A, b, lo, hi)
    return float(x[k]), x


def _push(
    A: csr_matrix,
    b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    cells: np.ndarray,
    start: np.ndarray,
    goal: np.ndarray,
) -> np.ndarray:
    """A feasible integer table that moves ``cells`` from ``start`` towards ``goal`` as far as it can
    (max sum of y, y_c <= sign_c (x_c - start_c), y_c <= |goal_c - start_c|): one MILP for many cells."""
    n, k = A.shape[1], len(cells)
    sign = np.sign(goal - start)
    gain = np.abs(goal - start)
    # y_c - sign_c x_c <= -sign_c start_c
    link = csr_matrix(
        coo_matrix(
            (
                np.concatenate([np.ones(k), -sign]),
                (np.r_[np.arange(k), np.arange(k)], np.r_[n + np.arange(k), cells]),
            ),
            shape=(k, n + k),
        )
    )
    big = csr_matrix((A.data, A.indices, A.indptr), shape=(A.shape[0], n + k))
    y_lo = np.minimum(sign * (lo[cells] - start), sign * (hi[cells] - start))
    c = np.concatenate([np.zeros(n), -np.ones(k)])
    x = _solve(
        c,
        big,
        b,
        np.concatenate([lo, np.minimum(y_lo, 0.0)]),
        np.concatenate([hi, gain]),
        [LinearConstraint(link, -np.inf, -sign * start)],
    )
    return x[:n]


def attack(model: OutsiderModel, witnesses: int = 2, seed: int = 0) -> pl.DataFrame:
    """Integer lower and upper bound of every hidden cell (one row per hidden cell)."""
    hidden = np.flatnonzero(np.isnan(model.value))
    pos = {int(c): k for k, c in enumerate(hidden)}
    rows, cols, vals, rhs = [], [], [], []
    for eq in model.equations:
        const = 0.0
        terms = []
        for c, a in eq.items():
            if c in pos:
                terms.append((pos[c], a))
            else:
                const += a * model.value[c]
        if not terms:
            if abs(const) > 1e-6:
                raise ValueError("attacker: published numbers do not add up")
            continue
        r = len(rhs)
        for k, a in terms:
            rows.append(r)
            cols.append(k)
            vals.append(a)
        rhs.append(-const)
    m, n = len(rhs), len(hidden)
    A = csr_matrix(coo_matrix((vals, (rows, cols)), shape=(m, n)))
    b = np.asarray(rhs)
    lo, hi = model.lower[hidden], model.upper[hidden]
    # independent pieces: hidden cells joined by an equation
    link = (abs(A).T @ abs(A)).tocsr() if m else csr_matrix((n, n))
    _, comp = connected_components(link, directed=False)
    seen_lo = np.full(n, np.inf)
    seen_hi = np.full(n, -np.inf)
    lower_exact = np.zeros(n, dtype=bool)
    upper_exact = np.zeros(n, dtype=bool)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    rng = np.random.default_rng(seed)
    t = float(model.threshold)
    for part in np.unique(comp):
        cols_p = np.flatnonzero(comp == part)
        rows_p = np.flatnonzero(abs(A[:, cols_p]).sum(axis=1).A1 > 0)
        Ap = csr_matrix(A[rows_p][:, cols_p])
        bp, lop, hip = b[rows_p], lo[cols_p], hi[cols_p]
        s_lo, s_hi = seen_lo[cols_p], seen_hi[cols_p]  # copies, updated in place, written back below

        def record(x: np.ndarray, s_lo: np.ndarray = s_lo, s_hi: np.ndarray = s_hi) -> None:
            np.minimum(s_lo, x, out=s_lo)
            np.maximum(s_hi, x, out=s_hi)

        objectives = [np.ones(len(cols_p)), -np.ones(len(cols_p))]
        objectives += [rng.choice([-1.0, 1.0], len(cols_p)) for _ in range(witnesses)]
        for c in objectives:
            record(_solve(-c, Ap, bp, lop, hip))
        # A cell is settled when two values are seen and it reached the threshold (or cannot: a label).
        # Push the others in groups, up towards the threshold (or one above the value seen), then down.
        for direction in (1.0, -1.0, 1.0):
            while True:
                up_goal = np.minimum(np.maximum(s_hi + 1.0, np.where(hip >= t, t, 0.0)), hip)
                down_goal = np.maximum(s_lo - 1.0, lop)
                if direction > 0:
                    todo = np.flatnonzero((s_hi < up_goal) & ((s_hi <= s_lo) | ((hip >= t) & (s_hi < t))))
                    goal, start = up_goal[todo], s_hi[todo]
                else:
                    todo = np.flatnonzero((s_hi <= s_lo) & (s_lo > down_goal))
                    goal, start = down_goal[todo], s_lo[todo]
                if len(todo) == 0:
                    break
                before = (s_lo.copy(), s_hi.copy())
                record(_push(Ap, bp, lop, hip, todo, start, goal))
                if np.array_equal(before[0], s_lo) and np.array_equal(before[1], s_hi):
                    break
        lp = _LP(Ap, bp, lop, hip)
        for k in range(len(cols_p)):
            col = cols_p[k]
            # the maximum when the cell never reached the threshold in a witness, or showed one value only
            if (s_hi[k] < t <= hip[k]) or s_hi[k] <= s_lo[k]:
                high[col], x = _extreme(k, 1.0, lp, Ap, bp, lop, hip, s_hi[k])
                upper_exact[col] = True
                if x is not None:
                    record(x)
            if s_hi[k] <= s_lo[k]:  # still one value: is it the only one?
                low[col], x = _extreme(k, -1.0, lp, Ap, bp, lop, hip, s_lo[k])
                lower_exact[col] = True
                if x is not None:
                    record(x)
        seen_lo[cols_p], seen_hi[cols_p] = s_lo, s_hi
    low = np.where(lower_exact, low, seen_lo)
    high = np.where(upper_exact, high, seen_hi)
    high = np.where(high >= CAP, np.inf, high)
    return pl.DataFrame(
        {
            "population": [model.cells[c].population for c in hidden],
            "cell": [model.cells[c].label() for c in hidden],
            "coords": [sorted(model.cells[c].coords) for c in hidden],
            "shown": [model.shown[c] for c in hidden],
            "lower": low,
            "upper": high,
            "lower_exact": lower_exact,
            "upper_exact": upper_exact,
        },
        schema_overrides={"coords": pl.List(pl.List(pl.String))},
    )
