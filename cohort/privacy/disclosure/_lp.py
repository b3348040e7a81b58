"""The attacker's linear programs: feasibility intervals of hidden cells.

Every published number is an equation or a bound on the cells of the release. For each
hidden target cell the attacker solves ``min x_j`` and ``max x_j`` subject to everything
published. The system is split into independent connected components (hidden cells linked
by a shared equation), and one LP model per component is reused with a changing objective
(warm-started HiGHS through SciPy), which is what makes tens of thousands of cells feasible.
"""

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

try:  # SciPy ships the HiGHS bindings; reusing one model across objectives is ~5x faster.
    from scipy.optimize._highspy import _core as _hc  # noqa: PLC2701

    _HAVE_HIGHS = hasattr(_hc, "_Highs")
except ImportError:  # pragma: no cover - depends on the SciPy build
    _hc = None
    _HAVE_HIGHS = False


_DEBUG = bool(os.environ.get("COHORT_LP_DEBUG"))  # prints certification progress


class InfeasibleRelease(ValueError):
    """The published numbers contradict each other (or the attacker's bounds)."""


@dataclass
class Intervals:
    """LP bounds for target cells (indexed like ``targets``) and per-target component ids."""

    lower: np.ndarray
    upper: np.ndarray
    component: np.ndarray
    inconsistent_rows: np.ndarray  # equations with no hidden cell whose published values do not add up
    infeasible_components: list[int]
    labels: np.ndarray  # component id per cell (-1 for published cells)
    exact: np.ndarray | None = (
        None  # per target: bounds are the LP optimum (else inner bounds that already suffice)
    )


class _ComponentSolver:
    """One LP per component; min/max of single columns with warm starts."""

    def __init__(self, A: sp.csr_matrix, b: np.ndarray, lb: np.ndarray, ub: np.ndarray, backend: str) -> None:
        self.A, self.b, self.lb, self.ub = A, b, lb, ub
        self.backend = backend
        self.prev: int | None = None
        self.fresh = True
        self.upper_now = ub
        if backend == "highs":
            A_c = sp.csc_matrix(A, dtype=float)
            m, n = A_c.shape
            h = _hc._Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("presolve", "off")  # re-solved many times from a warm basis
            lp = _hc.HighsLp()
            lp.num_col_, lp.num_row_ = n, m
            lp.col_cost_ = np.zeros(n)
            lp.col_lower_ = np.asarray(lb, float)
            lp.col_upper_ = np.where(np.isinf(ub), _hc.kHighsInf, ub).astype(float)
            lp.row_lower_ = np.asarray(b, float)
            lp.row_upper_ = np.asarray(b, float)
            lp.a_matrix_.format_ = _hc.MatrixFormat.kColwise
            lp.a_matrix_.start_ = A_c.indptr
            lp.a_matrix_.index_ = A_c.indices
            lp.a_matrix_.value_ = A_c.data
            lp.a_matrix_.num_col_ = n
            lp.a_matrix_.num_row_ = m
            h.passModel(lp)
            self.h = h

    def _run(self) -> str:
        # A fresh model: dual simplex from scratch; afterwards only the objective (or a
        # bound) changes and the primal simplex restarts from the last basis (~20x faster).
        h = self.h
        if self.fresh:
            h.setOptionValue("simplex_strategy", 1)
        h.run()
        if self.fresh:
            h.setOptionValue("simplex_strategy", 4)
            self.fresh = False
        return h.modelStatusToString(h.getModelStatus())

    def set_caps(self, cap: np.ndarray | None) -> None:
        """Cap every column (witness mode keeps the LPs bounded) or restore the true bounds."""
        n = self.A.shape[1]
        upper = self.ub if cap is None else np.minimum(self.ub, cap)
        self.upper_now = upper
        if self.backend == "highs":
            idx = np.arange(n, dtype=np.int32)
            self.h.changeColsBounds(
                n,
                idx,
                np.asarray(self.lb, float),
                np.where(np.isinf(upper), _hc.kHighsInf, upper).astype(float),
            )

    def witness(self, cost: np.ndarray) -> np.ndarray | None:
        """A feasible point maximising ``cost @ x`` (under the current caps)."""
        n = self.A.shape[1]
        if self.backend == "highs":
            h = self.h
            idx = np.arange(n, dtype=np.int32)
            h.changeColsCost(n, idx, np.asarray(cost, float))
            h.changeObjectiveSense(_hc.ObjSense.kMaximize)
            status = self._run()
            x = np.asarray(h.getSolution().col_value, float) if status == "Optimal" else None
            h.changeColsCost(n, idx, np.zeros(n))
            self.prev = None
            return x
        bounds = list(zip(self.lb, [None if np.isinf(u) else u for u in self.upper_now], strict=True))
        r = linprog(-np.asarray(cost, float), A_eq=self.A, b_eq=self.b, bounds=bounds, method="highs")
        return np.asarray(r.x, float) if r.status == 0 else None

    def bounds(self, j: int) -> tuple[float, float] | None:
        """(min, max) of column j; ``None`` when the system is infeasible."""
        if self.backend == "highs":
            h = self.h
            if self.prev is not None:
                h.changeColCost(self.prev, 0.0)
            h.changeColCost(j, 1.0)
            self.prev = j
            out = []
            for sense, unbounded in ((_hc.ObjSense.kMinimize, -np.inf), (_hc.ObjSense.kMaximize, np.inf)):
                h.changeObjectiveSense(sense)
                status = self._run()
                if status == "Optimal":
                    out.append(float(h.getInfo().objective_function_value))
                elif status == "Unbounded":
                    out.append(unbounded)
                elif status == "Infeasible":
                    return None
                else:  # fall back to a fresh solve for anything unusual
                    return self._linprog(j)
            return out[0], out[1]
        return self._linprog(j)

    def _linprog(self, j: int) -> tuple[float, float] | None:
        n = self.A.shape[1]
        c = np.zeros(n)
        c[j] = 1.0
        bounds = list(zip(self.lb, [None if np.isinf(u) else u for u in self.ub], strict=True))
        out = []
        for sign, unbounded in ((1.0, -np.inf), (-1.0, np.inf)):
            r = linprog(sign * c, A_eq=self.A, b_eq=self.b, bounds=bounds, method="highs")
            if r.status == 2:
                return None
            if r.status == 3:
                out.append(unbounded)
                continue
            if r.status != 0:
                raise RuntimeError(f"disclosure audit: LP failed for a cell: {r.message}")
            out.append(sign * float(r.fun))
        return out[0], out[1]


def feasibility_intervals(
    A: sp.csr_matrix,
    known: np.ndarray,
    values: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    targets: np.ndarray,
    *,
    backend: str | None = None,
    cache: dict | None = None,
    tol: float = 1e-6,
    certify=None,
    start: np.ndarray | None = None,
    seed: int = 0,
) -> Intervals:
    """LP bounds of every target cell given all equations ``A x = 0``.

    ``known``: bool per cell (published exactly, value in ``values``). Hidden cells have
    bounds ``lb``/``ub``. ``targets``: hidden cell ids to bound. ``cache`` maps a
    component's hidden-cell tuple to its results, so that repeated audits in the
    suppression loop only re-solve components that changed.

    Certification mode (``certify`` and ``start`` given): ``start`` is a feasible value per
    cell (the true table) and ``certify(target_positions, lower, upper)`` says which targets
    already have a wide enough interval. A few LPs per component with aggregate objectives
    (maximise / minimise the sum of the targets, random signs) give feasible points far from
    the truth; every target whose interval spanned by those points already satisfies
    ``certify`` needs no LP of its own (the requirement is monotone: the exact interval is
    wider). Only the remaining targets get their own min/max LPs. ``exact`` says which
    targets carry exact LP bounds.
    """
    backend = backend or ("highs" if _HAVE_HIGHS else "linprog")
    A = sp.csr_matrix(A)
    n_cells = A.shape[1]
    hidden = np.flatnonzero(~known)
    targets = np.asarray(targets, dtype=np.int64)
    lower = np.full(len(targets), np.nan)
    upper = np.full(len(targets), np.nan)
    exact = np.ones(len(targets), dtype=bool)
    rng = np.random.default_rng(seed)
    comp_of_target = np.full(len(targets), -1, dtype=np.int64)
    known_idx = np.flatnonzero(known)
    rhs = -(A[:, known_idx] @ values[known_idx]) if len(known_idx) else np.zeros(A.shape[0])
    AU = sp.csr_matrix(A[:, hidden])
    touches = np.diff(AU.indptr) > 0
    inconsistent = np.flatnonzero(~touches & (np.abs(rhs) > tol * np.maximum(1.0, np.abs(rhs))))
    cell_labels = np.full(n_cells, -1, dtype=np.int64)
    if len(hidden) == 0:
        return Intervals(lower, upper, comp_of_target, inconsistent, [], cell_labels, exact)
    rows = np.flatnonzero(touches)
    AUr = AU[rows]
    m, k = AUr.shape
    pattern = sp.csr_matrix((np.ones(AUr.nnz), AUr.indices, AUr.indptr), shape=(m, k))
    graph = sp.bmat([[None, pattern.T], [pattern, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    col_label, row_label = labels[:k], labels[k:]
    cell_labels[hidden] = col_label
    pos = np.full(n_cells, -1, dtype=np.int64)
    pos[hidden] = np.arange(k)
    tpos = pos[targets]
    if (tpos < 0).any():
        raise ValueError("disclosure audit: a target cell is published, not hidden")
    t_label = col_label[tpos]
    comp_of_target[:] = t_label
    # Group columns and rows by component once (argsort), not per component (quadratic).
    col_order = np.argsort(col_label, kind="stable")
    col_sorted = col_label[col_order]
    row_order = np.argsort(row_label, kind="stable")
    row_sorted = row_label[row_order]
    infeasible: list[int] = []
    AUr_csc = None
    for comp in np.unique(t_label):
        cols = col_order[
            np.searchsorted(col_sorted, comp, "left") : np.searchsorted(col_sorted, comp, "right")
        ]
        crow = row_order[
            np.searchsorted(row_sorted, comp, "left") : np.searchsorted(row_sorted, comp, "right")
        ]
        which = np.flatnonzero(t_label == comp)
        comp_targets = np.unique(targets[which])
        key = (tuple(hidden[cols].tolist()), tuple(comp_targets.tolist()))
        cached = cache.get(key) if cache is not None else None
        if cached is not None:
            cell_lo, cell_hi, bad, inexact = cached
        else:
            cell_lo: dict[int, float] = {}
            cell_hi: dict[int, float] = {}
            inexact: set[int] = set()
            bad = False
            if len(crow) == 0:  # isolated hidden cell: only its own bounds
                for c in cols:
                    cell_lo[int(hidden[c])], cell_hi[int(hidden[c])] = (
                        float(lb[hidden[c]]),
                        float(ub[hidden[c]]),
                    )
            else:
                if AUr_csc is None:
                    AUr_csc = AUr.tocsc()
                sub = sp.csr_matrix(AUr_csc[:, cols][crow])
                solver = _ComponentSolver(sub, rhs[rows[crow]], lb[hidden[cols]], ub[hidden[cols]], backend)
                local = {int(hidden[c]): i for i, c in enumerate(cols)}
                todo = comp_targets
                if certify is not None and start is not None and len(comp_targets) > 2:
                    todo = _certify_component(
                        solver,
                        hidden[cols],
                        comp_targets,
                        local,
                        start,
                        certify,
                        cell_lo,
                        cell_hi,
                        inexact,
                        rng,
                    )
                for t in todo:
                    res = solver.bounds(local[int(t)])
                    if res is None:
                        bad = True
                        break
                    cell_lo[int(t)], cell_hi[int(t)] = res
                    inexact.discard(int(t))
            if cache is not None:
                cache[key] = (cell_lo, cell_hi, bad, inexact)
        if bad:
            infeasible.append(int(comp))
            continue
        for i in which:
            t = int(targets[i])
            exact[i] = t not in inexact
            lower[i], upper[i] = cell_lo[t], cell_hi[t]
    return Intervals(lower, upper, comp_of_target, inconsistent, infeasible, cell_labels, exact)


def _certify_component(
    solver: _ComponentSolver,
    comp_cells: np.ndarray,
    comp_targets: np.ndarray,
    local: dict[int, int],
    start: np.ndarray,
    certify,
    cell_lo: dict[int, float],
    cell_hi: dict[int, float],
    inexact: set[int],
    rng: np.random.Generator,
    max_rounds: int = 8,
) -> np.ndarray:
    """Witness points for a component; returns the targets still needing exact LPs."""
    pos = np.array([local[int(t)] for t in comp_targets], dtype=np.int64)
    lo = start[comp_targets].astype(float).copy()
    hi = lo.copy()
    base = np.nan_to_num(start[comp_cells].astype(float), nan=0.0)
    cap = np.maximum(4.0 * np.abs(base), 4.0 * float(np.max(np.abs(base), initial=1.0)) + 10.0)
    open_ = np.ones(len(comp_targets), dtype=bool)
    signs = [1.0, -1.0]
    solver.set_caps(cap)
    for r in range(max_rounds):
        if not open_.any():
            break
        if r < len(signs):
            w = np.full(open_.sum(), signs[r])
        else:
            w = rng.choice([-1.0, 1.0], size=int(open_.sum()))
        cost = np.zeros(len(comp_cells))
        cost[pos[open_]] = w
        x = solver.witness(cost)
        if x is None:
            break
        lo = np.minimum(lo, x[pos])
        hi = np.maximum(hi, x[pos])
        ok = np.asarray(certify(comp_targets, lo, hi), dtype=bool)
        newly = ok & open_
        was_open = int(open_.sum())
        if _DEBUG:
            print(
                "witness round",
                r,
                "open before",
                was_open,
                "newly",
                int(newly.sum()),
                "size",
                len(comp_cells),
            )
        open_ &= ~ok
        # A witness LP costs tens of single-cell LPs: stop once it certifies little.
        if r >= len(signs) - 1 and (int(newly.sum()) < 0.1 * was_open or int(open_.sum()) < 40):
            break
    solver.set_caps(None)
    for i in np.flatnonzero(~open_):
        t = int(comp_targets[i])
        cell_lo[t], cell_hi[t] = float(lo[i]), float(hi[i])
        inexact.add(t)
    return comp_targets[open_]
