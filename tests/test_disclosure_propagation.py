"""Interval propagation: an outer bound of the attacker's LP, used to find pinned cells without LP."""

import numpy as np
import scipy.sparse as sp

from cohort.privacy.disclosure._lp import feasibility_intervals
from cohort.privacy.disclosure._propagate import hidden_components, propagate_bounds


def _eqs(rows: list[dict[int, float]], n: int) -> sp.csr_matrix:
    r, c, v = zip(*[(i, j, a) for i, row in enumerate(rows) for j, a in row.items()], strict=True)
    return sp.csr_matrix((v, (r, c)), shape=(len(rows), n))


def test_a_total_equal_to_the_labels_lower_bounds_pins_them():
    # cells 0, 1 are "1-5" labels (bounds 1..4), cell 2 their published total 2: both must be 1
    A = _eqs([{0: 1, 1: 1, 2: -1}], 3)
    known = np.array([False, False, True])
    values = np.array([1.0, 1.0, 2.0])
    lo, hi = propagate_bounds(A, known, values, np.array([1.0, 1.0, 0.0]), np.array([4.0, 4.0, np.inf]))
    assert lo[:2].tolist() == [1.0, 1.0] and hi[:2].tolist() == [1.0, 1.0]
    assert lo[2] == hi[2] == 2.0


def test_bounds_contain_the_lp_interval_on_a_hidden_two_by_two():
    # 2x2 table, inner cells 0..3 hidden (>= 1), row totals 4, 5 and column totals 6, 3 (cells 4..7) published
    rows = [{0: 1, 1: 1, 4: -1}, {2: 1, 3: 1, 5: -1}, {0: 1, 2: 1, 6: -1}, {1: 1, 3: 1, 7: -1}]
    A = _eqs(rows, 8)
    values = np.array([3.0, 1.0, 3.0, 2.0, 4.0, 5.0, 6.0, 3.0])
    known = np.array([False] * 4 + [True] * 4)
    lb, ub = np.ones(8), np.full(8, np.inf)
    lo, hi = propagate_bounds(A, known, values, lb, ub)
    lp = feasibility_intervals(A, known, values, lb, ub, np.arange(4))
    assert np.all(lo[:4] <= lp.lower + 1e-9) and np.all(hi[:4] >= lp.upper - 1e-9)
    assert np.all(hi[:4] - lo[:4] >= 1)  # not pinned: the cells can move along the cycle
    comp = hidden_components(A, known)
    assert len(set(comp[:4].tolist())) == 1 and comp[4:].tolist() == [-1] * 4
