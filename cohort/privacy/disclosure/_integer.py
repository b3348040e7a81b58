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

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    from cohort.privacy.disclosure._moves import CubeMoves


#: A push MILP stops at this relative gap to its LP bound: it only has to find a whole-number table
#: that moves many cells, not the one that moves most (a cell it leaves is pushed again or gets its
#: own feasibility MILP, which decides it exactly). Seed 003's demo release of 2024 (issue 25): the
#: pushes took 5.4 s to optimality, 2.3 s at this gap, the same cells proven and hidden.
_PUSH_GAP = 0.5


def _milp(
    cost: np.ndarray,
    A: sp.csr_matrix,
    b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    extra: list,
    gap: float | None = None,
) -> np.ndarray | None:
    constraints = ([LinearConstraint(A, b, b)] if A.shape[0] else []) + extra
    options: dict = {"disp": False}
    if gap is not None:
        options["mip_rel_gap"] = gap
    res = milp(
        cost,
        constraints=constraints,
        bounds=Bounds(lo, hi),
        integrality=np.ones(len(cost)),
        options=options,
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
        gap=_PUSH_GAP,
    )
    return None if x is None else x[:n]


def _reaches(x: np.ndarray, goal: np.ndarray, sign: float) -> np.ndarray:
    return sign * x >= sign * goal - 1e-6


def _prove(
    piece: _Piece, cols: np.ndarray, goal: np.ndarray, sign: float, found: list[np.ndarray]
) -> np.ndarray:
    """Which of ``cols`` some integer table moves to ``goal`` (push MILPs, then one MILP per cell);
    the tables that proved something are appended to ``found``."""
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
        found.append(x)
        done |= hit
    for i in np.flatnonzero(open_ & ~done):
        lo_i, hi_i = lo.copy(), hi.copy()
        if sign > 0:
            lo_i[cols[i]] = goal[i]
        else:
            hi_i[cols[i]] = goal[i]
        x = _milp(np.zeros(A.shape[1]), A, b, lo_i, hi_i, [])
        if x is not None:
            found.append(x)
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
    moves: "CubeMoves | None" = None,
) -> np.ndarray:
    """Per target (hidden protected counts), True when whole-number tables keep its protection:
    it can reach ``need_upper`` (where finite) and it can take another value than ``true``.

    ``A x = 0`` are all equations of the release; ``known`` cells are published with ``values``;
    hidden cells lie in ``bounds`` (lower, upper). ``moves``: the tables' box moves
    (:mod:`._moves`), tried first in every component where the true table is a feasible whole-number
    table; the cells they do not prove get the MILPs. The verdict per cell is the same either way.
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
        up = np.zeros(len(which), dtype=bool)
        down = np.zeros(len(which), dtype=bool)
        may_go_down = ~np.isfinite(need)
        key = _component_key(piece, hidden[cols])
        found: list[np.ndarray] = []
        for x in _WITNESSES.get(key, []):
            if _is_table(piece, x):  # checked here: a remembered table counts only if it holds
                found.append(x)
                up |= _reaches(x[local], up_goal, 1.0)
                down |= may_go_down & _reaches(x[local], v - 1, -1.0)
        start = np.nan_to_num(np.asarray(true, float)[hidden[cols]], nan=-1.0)
        if (
            moves is not None
            and len(cols) >= _MOVES_FROM
            and not (up | down).all()
            and _is_table(piece, start)
        ):
            pos_in = np.full(A.shape[1], -1, dtype=np.int64)
            pos_in[hidden[cols]] = np.arange(len(cols))
            todo = np.flatnonzero(~up & ~down)
            up[todo] = _by_moves(
                piece, moves, hidden[cols], pos_in, start, local[todo], up_goal[todo], 1.0, found
            )
            todo = np.flatnonzero(~up & ~down & may_go_down)
            if len(todo):
                down[todo] = _by_moves(
                    piece, moves, hidden[cols], pos_in, start, local[todo], v[todo] - 1, -1.0, found
                )
        rest = np.flatnonzero(~up & ~down)
        if len(rest):
            up[rest] = _prove(piece, local[rest], up_goal[rest], 1.0, found)
        # a cell that must reach a value has no other way; the others may move down instead
        down_todo = np.flatnonzero(~up & ~down & may_go_down)
        if len(down_todo):
            down[down_todo] = _prove(piece, local[down_todo], v[down_todo] - 1, -1.0, found)
        ok[which] = up | down
        _remember(key, found)
    return ok


#: Components of fewer hidden cells go straight to the push MILPs: small, they prove every cell in a
#: push or two, faster than a search per cell (30 small linked hierarchies of benchmarks/disclosure.py).
_MOVES_FROM = 100
#: A push that proves less than this share of the open cells is the last push before the searches.
_PUSH_SHARE = 0.25

#: Whole-number tables that proved cells lately, per component (:func:`_component_key`). A release
#: is proven twice on the same system: by protect, then by its audit; the audit tries protect's
#: tables first and keeps each only after :func:`_is_table` checks it against its own equations and
#: bounds, so a table remembered for another system proves nothing. In memory only, never written
#: (the tables lie near the true counts), and only for the last few components.
_WITNESSES: "OrderedDict[bytes, list[np.ndarray]]" = OrderedDict()
_REMEMBERED_COMPONENTS = 8


def _component_key(piece: _Piece, cells: np.ndarray) -> bytes:
    """The identity of a component's system: its cells, equations, published sums and bounds."""
    h = hashlib.sha256()
    A = sp.csr_matrix(piece.A)
    for part in (cells, A.indptr, A.indices, A.data, piece.b, piece.lo, piece.hi):
        h.update(np.ascontiguousarray(part).tobytes())
        h.update(b"|")
    return h.digest()


def remembered_tables(
    A: sp.csr_matrix, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, cells: np.ndarray
) -> list[np.ndarray]:
    """The whole-number tables remembered for the component ``A x = b``, ``lo <= x <= hi`` of the
    hidden cells ``cells`` (built as :func:`integer_protection` builds it; an infinite upper bound
    as there), each checked against that system before it is returned. Every one is a feasible
    table, so the LP audit may use them as witnesses before it solves an LP of its own."""
    piece = _Piece(
        sp.csr_matrix(A), np.asarray(b, float), np.asarray(lo, float), np.where(np.isinf(hi), 1e9, hi)
    )
    return [x for x in _WITNESSES.get(_component_key(piece, cells), []) if _is_table(piece, x)]


def _remember(key: bytes, found: list[np.ndarray]) -> None:
    if not found:
        return
    _WITNESSES[key] = found
    _WITNESSES.move_to_end(key)
    while len(_WITNESSES) > _REMEMBERED_COMPONENTS:
        _WITNESSES.popitem(last=False)


def _is_table(piece: _Piece, x: np.ndarray) -> bool:
    """``x`` is a whole-number table of the component: integers, within bounds, every equation exact."""
    A, b, lo, hi = piece
    return bool(
        np.all(x == np.round(x))
        and np.all(x >= lo)
        and np.all(x <= hi)
        and np.array_equal(A @ x, np.asarray(b, float))
    )


def _by_moves(
    piece: _Piece,
    moves: "CubeMoves",
    cells: np.ndarray,
    pos_in: np.ndarray,
    start: np.ndarray,
    cols: np.ndarray,
    goal: np.ndarray,
    sign: float,
    found: list[np.ndarray],
) -> np.ndarray:
    """Which of ``cols`` (positions in the component, whose cell ids are ``cells``) a checked box
    move of the true table ``start`` takes to ``goal`` (``sign`` +1: up, -1: down).

    Each move found is checked in full before it counts (:func:`_is_table` of the moved table), so a
    wrong move, or one that some equation outside its table (a linked table, an earlier release)
    forbids, only costs the MILP the cell then gets."""
    done = np.zeros(len(cols), dtype=bool)
    lo, hi = piece.lo, piece.hi
    # Push MILPs first, as long as each proves a good share of the open cells (cells that do not
    # compete go many at once); a push that proves few means the rest compete, one search each.
    while (~done).sum() > 1:
        todo = np.flatnonzero(~done)
        x = _push(piece, cols[todo], goal[todo], sign)
        if x is None or not _is_table(piece, x):
            break
        new = _reaches(x[cols], goal, sign) & ~done
        if new.any():
            found.append(x)
        done |= new
        if new.sum() < _PUSH_SHARE * len(todo):
            break
    for i in np.flatnonzero(~done):
        if done[i]:
            continue
        step = sign * (goal[i] - start[cols[i]])
        if step < 1:
            done[i] = True  # already there: the true table is the witness
            continue

        def movable(cell: int, s: int, step: float = step) -> bool:
            j = pos_in[cell]
            if j < 0:  # published, or hidden in another component
                return False
            x = start[j] + sign * s * step
            return bool(lo[j] <= x <= hi[j])

        box = moves.find(int(cells[cols[i]]), movable)
        x = None
        if box is not None:
            d = np.zeros(len(start))
            for cell, s in box.items():
                d[pos_in[cell]] += s
            x = start + sign * step * d
        else:
            x = _local_milp(piece, moves, cells, pos_in, start, int(cols[i]), goal[i], sign)
        if x is not None and _is_table(piece, x):
            found.append(x)
            done |= _reaches(x[cols], goal, sign)
    return done


def _local_milp(
    piece: _Piece,
    moves: "CubeMoves",
    cells: np.ndarray,
    pos_in: np.ndarray,
    start: np.ndarray,
    col: int,
    goal: float,
    sign: float,
) -> np.ndarray | None:
    """A whole-number table that takes ``col`` to ``goal`` by changing only the hidden cells of a
    small box around it (:meth:`CubeMoves.region`), every other cell at its value in ``start``;
    ``None`` when there is none in the box (the component-wide MILP then decides)."""
    A, b, lo, hi = piece

    def room(cell: int) -> float:
        j = pos_in[cell]  # a published cell, or one of another component, cannot move
        return 0.0 if j < 0 else float(min(start[j] - lo[j], hi[j] - start[j])) + 1.0

    region = [pos_in[c] for c in moves.region(int(cells[col]), room)]
    free = np.unique(np.asarray([j for j in region if j >= 0], dtype=np.int64))
    if len(free) < 2:
        return None
    A_csc = A.tocsc()
    touched = np.unique(A_csc[:, free].tocoo().row)
    rows = A[touched]
    fixed = np.ones(len(start), dtype=bool)
    fixed[free] = False
    rhs = np.asarray(b, float)[touched] - rows[:, np.flatnonzero(fixed)] @ start[fixed]
    lo_f, hi_f = lo[free].copy(), hi[free].copy()
    at = int(np.searchsorted(free, col))
    if sign > 0:
        lo_f[at] = max(lo_f[at], goal)
    else:
        hi_f[at] = min(hi_f[at], goal)
    if lo_f[at] > hi_f[at]:
        return None
    y = _milp(np.zeros(len(free)), sp.csr_matrix(rows[:, free]), rhs, lo_f, hi_f, [])
    if y is None:
        return None
    x = start.copy()
    x[free] = y
    return x
