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

from cohort.privacy.disclosure._integer import remembered_tables

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
    gain: np.ndarray | None = None,
) -> Intervals:
    """LP bounds of every target cell given all equations ``A x = 0``.

    ``known``: bool per cell (published exactly, value in ``values``). Hidden cells have
    bounds ``lb``/``ub``. ``targets``: hidden cell ids to bound. ``cache`` maps a
    component's hidden-cell tuple to its results, so that repeated audits in the
    suppression loop only re-solve components that changed.

    Certification mode (``certify`` and ``start`` given): ``start`` is a feasible value per
    cell (the true table) and ``certify(target_positions, lower, upper)`` says which targets
    already have a wide enough interval. A few LPs per component push as many targets as
    they can away from the truth, up then down, each by at most ``gain`` (per cell: the
    interval width its requirement asks for; 1 when not given, two integer values for a
    count). Those LPs give feasible points; every target whose interval spanned by them
    already satisfies ``certify`` needs no LP of its own (the requirement is monotone: the
    exact interval is wider). Only the remaining targets get their own min/max LPs.
    ``exact`` says which targets carry exact LP bounds.
    """
    backend = backend or ("highs" if _HAVE_HIGHS else "linprog")
    A = sp.csr_matrix(A)
    n_cells = A.shape[1]
    hidden = np.flatnonzero(~known)
    targets = np.asarray(targets, dtype=np.int64)
    lower = np.full(len(targets), np.nan)
    upper = np.full(len(targets), np.nan)
    exact = np.ones(len(targets), dtype=bool)
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
                        gain,
                        # the audit after protect: protect's whole-number tables of this very system
                        seeds=remembered_tables(
                            sub, rhs[rows[crow]], lb[hidden[cols]], ub[hidden[cols]], hidden[cols]
                        ),
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


def _gain_witness(
    solver: _ComponentSolver, pos: np.ndarray, v: np.ndarray, gain: np.ndarray, sign: np.ndarray
) -> np.ndarray | None:
    """A feasible point that moves as many of the cells ``pos`` as it can, each by ``gain`` in
    the direction ``sign`` (+1 up, -1 down).

    ``max sum(t)`` s.t. the component's equations and ``t_c <= sign_c (x_c - v_c)``,
    ``t_c <= gain_c`` (``t_c`` free below, so a move against a cell's direction costs).
    Capping each cell's gain spreads the movement over many cells (an objective
    ``max sign @ x`` would pile it onto a few), so one LP certifies most cells that have room
    in their direction. Returns x or ``None``.
    """
    A = sp.csr_matrix(solver.A)
    m, n = A.shape
    k = len(pos)
    sel = sp.csr_matrix((np.asarray(sign, float), (np.arange(k), pos)), shape=(k, n))
    M = sp.bmat([[A, None], [sel, -sp.identity(k, format="csr")]], format="csc")
    lo = np.concatenate([solver.lb, np.full(k, -np.inf)]).astype(float)
    hi = np.concatenate([solver.ub, gain]).astype(float)
    r_lo = np.concatenate([solver.b, sign * v]).astype(float)
    r_hi = np.concatenate([solver.b, np.full(k, np.inf)]).astype(float)
    cost = np.concatenate([np.zeros(n), np.ones(k)])
    if solver.backend == "highs":
        inf = _hc.kHighsInf
        h = _hc._Highs()
        h.setOptionValue("output_flag", False)
        lp = _hc.HighsLp()
        lp.num_col_, lp.num_row_ = n + k, m + k
        lp.col_cost_ = -cost  # HiGHS minimises (the model's sense_ field is not honoured by passModel)
        lp.col_lower_ = np.where(np.isinf(lo), -inf, lo)
        lp.col_upper_ = np.where(np.isinf(hi), inf, hi)
        lp.row_lower_ = np.where(np.isinf(r_lo), -inf, r_lo)
        lp.row_upper_ = np.where(np.isinf(r_hi), inf, r_hi)
        lp.a_matrix_.format_ = _hc.MatrixFormat.kColwise
        lp.a_matrix_.start_ = M.indptr
        lp.a_matrix_.index_ = M.indices
        lp.a_matrix_.value_ = M.data
        lp.a_matrix_.num_col_ = n + k
        lp.a_matrix_.num_row_ = m + k
        h.passModel(lp)
        h.run()
        if h.modelStatusToString(h.getModelStatus()) != "Optimal":
            return None
        return np.asarray(h.getSolution().col_value, float)[:n]
    bounds = list(
        zip([None if np.isinf(x) else x for x in lo], [None if np.isinf(u) else u for u in hi], strict=True)
    )
    r = linprog(
        -cost, A_ub=-M[m:], b_ub=-(sign * v), A_eq=M[:m], b_eq=solver.b, bounds=bounds, method="highs"
    )
    return np.asarray(r.x, float)[:n] if r.status == 0 else None


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
    gain: np.ndarray | None = None,
    max_rounds: int = 10,
    seed: int = 0,
    seeds: list[np.ndarray] | None = None,
) -> np.ndarray:
    """Witness points for a component; returns the targets still needing exact LPs.

    "Push" LPs (:func:`_gain_witness`) over the targets not yet certified: all up, all down,
    then random directions. Every witness is a feasible table, so the span of the witnesses is an inner
    bound of each target's exact interval: a target it already certifies is certified for
    sure (the requirement is monotone), the others get exact min/max LPs.
    """
    pos = np.array([local[int(t)] for t in comp_targets], dtype=np.int64)
    v = start[comp_targets].astype(float)
    lo = v.copy()
    hi = v.copy()
    need = np.ones(len(comp_targets)) if gain is None else np.maximum(gain[comp_targets], 1e-6)
    open_ = np.ones(len(comp_targets), dtype=bool)
    # Feasible tables known already (``seeds``, checked by their giver) are witnesses like the push
    # LPs' points: whatever they certify needs neither a push nor an exact LP.
    for x in seeds or []:
        lo = np.minimum(lo, x[pos])
        hi = np.maximum(hi, x[pos])
    if seeds:
        open_ &= ~np.asarray(certify(comp_targets, lo, hi), dtype=bool)
    rng = np.random.default_rng(seed)
    recent: list[int] = []  # cells certified by the last rounds
    for r in range(max_rounds):
        if not open_.any():
            break
        was_open = int(open_.sum())
        # First everything up, then everything down, then random directions (cells that can
        # only move against each other in one equation get opposite directions half the time).
        k = int(open_.sum())
        sign = np.full(k, 1.0) if r == 0 else np.full(k, -1.0) if r == 1 else rng.choice([-1.0, 1.0], k)
        x = _gain_witness(solver, pos[open_], v[open_], need[open_], sign)
        if x is None:
            break
        lo = np.minimum(lo, x[pos])
        hi = np.maximum(hi, x[pos])
        ok = np.asarray(certify(comp_targets, lo, hi), dtype=bool)
        newly = int((ok & open_).sum())
        open_ &= ~ok
        recent = [*recent[-1:], newly]
        if _DEBUG:
            print(
                "witness round",
                r,
                "open before",
                was_open,
                "newly",
                newly,
                "size",
                len(comp_cells),
                flush=True,
            )  # noqa: T201
        # Stop once a push up and a push down together certify little: exact LPs are cheaper then.
        if r >= 1 and sum(recent) < 0.05 * (was_open + recent[0]):
            break
    for i in np.flatnonzero(~open_):
        t = int(comp_targets[i])
        cell_lo[t], cell_hi[t] = float(lo[i]), float(hi[i])
        inexact.add(t)
    return comp_targets[open_]
