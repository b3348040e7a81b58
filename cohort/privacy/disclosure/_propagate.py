"""Interval propagation over the equations of a release: a cheap outer bound of the attacker's LP.

Each equation ``sum a_j x_j = r`` (hidden cells ``x``, published numbers moved into ``r``) bounds
every one of its cells by what the others can take: ``a_j x_j in [r - max(others), r - min(others)]``.
Repeated until nothing tightens, as an LP presolver does. Every feasible table lies within these
bounds, so a protected cell that they already pin (a published total equal to the sum of its
"1-5" children's lower bounds, say) is certainly recomputable by the LP attacker too: the
suppression loop can give it a partner without solving any LP. The converse does not hold
(the LP sees combinations of equations), which is why the LP audit still has the last word.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


def propagate_bounds(
    A: sp.csr_matrix,
    known: np.ndarray,
    values: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray]:
    """Outer bounds (lower, upper) per cell; published cells get their value."""
    A = sp.csr_matrix(A)
    lower = np.where(known, values, np.nan).astype(float)
    upper = lower.copy()
    hidden = np.flatnonzero(~known)
    if len(hidden) == 0:
        return lower, upper
    # The published part moved to the right-hand side, and the hidden cells' terms, without slicing
    # A by columns (the slices took a third of a call at seed 003's 4,000 staff): the same sums (a
    # hidden cell adds an exact 0.0) and the same terms in the same order.
    if not A.has_sorted_indices:
        A = A.sorted_indices()  # a copy: the caller's matrix stays as it is
    rhs = -(A @ np.where(known, values, 0.0).astype(float))
    coo = A.tocoo()
    keep = ~known[coo.col]
    local = np.full(A.shape[1], -1, dtype=np.int64)
    local[hidden] = np.arange(len(hidden))
    rows, cols, a = coo.row[keep], local[coo.col[keep]], coo.data[keep]
    m = A.shape[0]
    lo = np.asarray(lb, float)[hidden].copy()
    hi = np.asarray(ub, float)[hidden].copy()
    pos = a > 0
    with np.errstate(invalid="ignore"):
        for _ in range(max_iter):
            at_lo, at_hi = lo[cols], hi[cols]
            tlo = a * np.where(pos, at_lo, at_hi)  # smallest value of the term
            thi = a * np.where(pos, at_hi, at_lo)  # largest
            lo_inf, hi_inf = np.isinf(tlo), np.isinf(thi)
            tlo0, thi0 = np.where(lo_inf, 0.0, tlo), np.where(hi_inf, 0.0, thi)
            smin, nmin = np.bincount(rows, tlo0, m), np.bincount(rows, lo_inf, m)
            smax, nmax = np.bincount(rows, thi0, m), np.bincount(rows, hi_inf, m)
            others_min = np.where(nmin[rows] - lo_inf == 0, smin[rows] - tlo0, -np.inf)
            others_max = np.where(nmax[rows] - hi_inf == 0, smax[rows] - thi0, np.inf)
            term_lo, term_hi = rhs[rows] - others_max, rhs[rows] - others_min
            x_lo = np.where(pos, term_lo / a, term_hi / a)
            x_hi = np.where(pos, term_hi / a, term_lo / a)
            new_lo, new_hi = lo.copy(), hi.copy()
            np.maximum.at(new_lo, cols, x_lo)
            np.minimum.at(new_hi, cols, x_hi)
            changed = (new_lo > lo + tol * np.maximum(1.0, np.abs(lo))) | (
                new_hi < hi - tol * np.maximum(1.0, np.abs(hi))
            )
            lo, hi = new_lo, new_hi
            if not changed.any():
                break
    lower[hidden], upper[hidden] = lo, hi
    return lower, upper


def hidden_components(A: sp.csr_matrix, known: np.ndarray) -> np.ndarray:
    """Component id per cell (hidden cells linked by a shared equation); -1 for published cells."""
    labels = np.full(A.shape[1], -1, dtype=np.int64)
    hidden = np.flatnonzero(~known)
    if len(hidden) == 0:
        return labels
    H = sp.csr_matrix(A[:, hidden])
    H = H[np.diff(H.indptr) > 0]
    pattern = sp.csr_matrix((np.ones(H.nnz), H.indices, H.indptr), shape=H.shape)
    graph = sp.bmat([[None, pattern.T], [pattern, None]], format="csr")
    _, lab = connected_components(graph, directed=False)
    labels[hidden] = lab[: len(hidden)]
    return labels
