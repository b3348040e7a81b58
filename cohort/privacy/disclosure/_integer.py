"""Integrality where it matters: do the protected counts keep their protection in WHOLE-NUMBER tables?

The LP attack (:mod:`._lp`) bounds a cell over real-valued tables. An outsider knows that counts
are whole numbers, and an integer bound can be tighter than the LP bound when the equations are
not totally unimodular (three-way tables, linked tables, hierarchies): the LP may reach the
threshold at 4.5 only, or the true value +- 1 only with fractions. So after the LP has passed a
count, this module proves its protection with feasible integer tables (MILP, HiGHS through
``scipy.optimize.milp``):

- a cell that must reach a value (:func:`._checks.reach`: a hidden primary count, the
  threshold) needs an integer table in which it is at least that value;
- every other protected count needs an integer table in which it differs from its true value
  (up or down: two whole numbers stay possible).

It proves many cells per MILP: a "push" MILP moves as many open cells as it can towards their
goals (``max sum y_c``, ``y_c <= s_c x_c``, ``y_c <= s_c goal_c``, integer ``x``); cells that
reach their goal are proven, the rest are pushed again, and only cells no push reaches get a MILP
of their own (is ``x_c >= goal_c`` feasible at all?). A cell that fails there fails for certain:
no whole-number table meets its requirement.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components


def _milp(
    cost: np.ndarray, A: sp.csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, extra: list
) -> np.ndarray | None:
    constraints = ([LinearConstraint(A, b, b)] if A.shape[0] else []) + extra
    res = milp(
        cost,
        constraints=constraints,
        bounds=Bounds(lo, hi),
        integrality=np.ones(len(cost)),
        options={"disp": False},
    )
    return None if res.status != 0 or res.x is None else np.round(res.x)


class _Piece(NamedTuple):
    """One component: its equations ``A x = b`` and the bounds of its hidden cells."""

    A: sp.csr_matrix
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _push(piece: _Piece, cols: np.ndarray, goal: np.ndarray, sign: float) -> np.ndarray | None:
    """An integer table moving the cells ``cols`` towards ``goal`` (``sign`` +1: up, -1: down)."""
    A, b, lo, hi = piece
    n, k = A.shape[1], len(cols)
    big = sp.csr_matrix((A.data, A.indices, A.indptr), shape=(A.shape[0], n + k))
    # y_c - sign x_c <= 0
    link = sp.csr_matrix(
        (
            np.r_[np.ones(k), np.full(k, -sign)],
            (np.r_[np.arange(k), np.arange(k)], np.r_[n + np.arange(k), cols]),
        ),
        shape=(k, n + k),
    )
    y_hi = sign * goal
    y_lo = np.minimum(sign * lo[cols], sign * hi[cols])
    y_lo = np.where(np.isfinite(y_lo), y_lo, -1e9)
    cost = np.r_[np.zeros(n), -np.ones(k)]
    x = _milp(
        cost,
        big,
        b,
        np.r_[lo, np.minimum(y_lo, y_hi)],
        np.r_[hi, y_hi],
        [LinearConstraint(link, -np.inf, 0.0)],
    )
    return None if x is None else x[:n]


def _reaches(x: np.ndarray, goal: np.ndarray, sign: float) -> np.ndarray:
    return sign * x >= sign * goal - 1e-6


def _prove(piece: _Piece, cols: np.ndarray, goal: np.ndarray, sign: float) -> np.ndarray:
    """Which of ``cols`` some integer table moves to ``goal`` (push MILPs, then one MILP per cell)."""
    A, b, lo, hi = piece
    done = np.zeros(len(cols), dtype=bool)
    open_ = sign * goal <= sign * np.where(sign > 0, hi[cols], lo[cols]) + 1e-9  # else impossible by bounds
    while (open_ & ~done).any():
        todo = np.flatnonzero(open_ & ~done)
        x = _push(piece, cols[todo], goal[todo], sign)
        if x is None:
            break
        hit = _reaches(x[cols], goal, sign) & open_
        if not (hit & ~done).any():
            break
        done |= hit
    for i in np.flatnonzero(open_ & ~done):
        lo_i, hi_i = lo.copy(), hi.copy()
        if sign > 0:
            lo_i[cols[i]] = goal[i]
        else:
            hi_i[cols[i]] = goal[i]
        x = _milp(np.zeros(A.shape[1]), A, b, lo_i, hi_i, [])
        if x is not None:
            done |= _reaches(x[cols], goal, sign) & open_
    return done


def integer_protection(
    A: sp.csr_matrix,
    known: np.ndarray,
    values: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    targets: np.ndarray,
    true: np.ndarray,
    need_upper: np.ndarray,
) -> np.ndarray:
    """Per target (hidden protected counts), True when whole-number tables keep its protection:
    it can reach ``need_upper`` (where finite) and it can take another value than ``true``.

    ``A x = 0`` are all equations of the release; ``known`` cells are published with ``values``;
    hidden cells lie in ``bounds`` (lower, upper).
    """
    lb, ub = bounds
    targets = np.asarray(targets, dtype=np.int64)
    ok = np.ones(len(targets), dtype=bool)
    if len(targets) == 0:
        return ok
    A = sp.csr_matrix(A)
    hidden = np.flatnonzero(~known)
    known_idx = np.flatnonzero(known)
    rhs = -(A[:, known_idx] @ values[known_idx]) if len(known_idx) else np.zeros(A.shape[0])
    AU = sp.csr_matrix(A[:, hidden])
    rows = np.flatnonzero(np.diff(AU.indptr) > 0)
    AUr = AU[rows]
    pattern = sp.csr_matrix((np.ones(AUr.nnz), AUr.indices, AUr.indptr), shape=AUr.shape)
    graph = sp.bmat([[None, pattern.T], [pattern, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    k = len(hidden)
    col_label, row_label = labels[:k], labels[k:]
    pos = np.full(A.shape[1], -1, dtype=np.int64)
    pos[hidden] = np.arange(k)
    tpos = pos[targets]
    if (tpos < 0).any():
        raise ValueError("integer protection: a target cell is published, not hidden")
    lo_all = np.asarray(lb, float)[hidden]
    hi_all = np.where(np.isinf(ub), 1e9, np.asarray(ub, float))[hidden]
    AUr_csc = AUr.tocsc()
    col_order = np.argsort(col_label, kind="stable")
    col_sorted = col_label[col_order]
    row_order = np.argsort(row_label, kind="stable")
    row_sorted = row_label[row_order]
    t_label = col_label[tpos]
    for comp in np.unique(t_label):
        cols = np.sort(
            col_order[np.searchsorted(col_sorted, comp) : np.searchsorted(col_sorted, comp, "right")]
        )
        crow = row_order[np.searchsorted(row_sorted, comp) : np.searchsorted(row_sorted, comp, "right")]
        sub = sp.csr_matrix(AUr_csc[:, cols][crow])
        b = rhs[rows[crow]]
        lo, hi = lo_all[cols], hi_all[cols]
        which = np.flatnonzero(t_label == comp)
        local = np.searchsorted(cols, tpos[which])
        v = np.round(np.nan_to_num(true[targets[which]]))
        need = need_upper[targets[which]]
        up_goal = np.where(np.isfinite(need), np.maximum(need, v + 1), v + 1)
        piece = _Piece(sub, b, lo, hi)
        up = _prove(piece, local, up_goal, 1.0)
        # a cell that must reach a value has no other way; the others may move down instead
        down_todo = np.flatnonzero(~up & ~np.isfinite(need))
        down = np.zeros(len(which), dtype=bool)
        if len(down_todo):
            down[down_todo] = _prove(piece, local[down_todo], v[down_todo] - 1, -1.0)
        ok[which] = up | down
    return ok
