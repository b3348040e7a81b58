"""Rules shared by suppression and audit: what an outsider knows about a hidden cell, and
how wide its feasibility interval must stay.

Attacker knowledge (tau-ARGUS style: a label is a suppression with known bounds):

- a labelled count ("1-5") lies in [1, threshold-1];
- a count shown "x" is >= 1 when zeros are shown (the engine never hides a zero then: a
  zero is never a primary cell nor chosen as a partner), else >= 0. No more: an "x" may be
  a secondary cell (>= threshold) but also a forced cell (entity pool) or a label the engine
  had to hide completely (when labels alone give each other away, e.g. a "1-5" total whose
  "1-5" children must each be >= 1), so the outsider cannot assume "x" >= threshold;
- magnitudes are non-negative.

Requirement per protected cell with true value v:

- counts: at least two integer values stay feasible (no exact recomputation), and the
  interval covers [v - q*v, v + q*v] (q = ``protection_interval``), capped to the label
  range for labelled cells (the label itself is all an outsider may learn); with sliding
  protection (default) only the interval's width must reach that interval's width;
- hidden primary counts shown "x" (not labelled; with ``threshold_protection``): the upper
  bound reaches the threshold (:func:`reach`), judged on its own, never sliding: an interval
  [1, 4] is as wide as [2, 5] but tells the reader that the count is under 5;
- magnitudes: the interval covers v +- the handbook's protection level (p% rule:
  p*x1 - (X - x1 - x2); (n,k) rule: (x1+..+xn)/k - X), and q*v; its width must be > 0.
"""

from collections.abc import Callable

import numpy as np

from cohort.privacy.disclosure.rules import DisclosureRules

PUBLISHED, LABEL, HIDDEN = 0, 1, 2


def x_lower(rules: DisclosureRules) -> int:
    """Lower bound an outsider may assume for a count shown "x"."""
    return 0 if rules.protect_zeros else 1


def attacker_bounds(
    kind: np.ndarray, magnitude: np.ndarray, forced: np.ndarray, rules: DisclosureRules
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell bounds (used for hidden cells only)."""
    lb = np.zeros(len(kind))
    ub = np.full(len(kind), np.inf)
    lo_lab, hi_lab = rules.label_bounds
    is_label = (kind == LABEL) & ~magnitude
    lb[is_label], ub[is_label] = lo_lab, hi_lab
    is_x = (kind == HIDDEN) & ~magnitude
    lb[is_x] = x_lower(rules)
    return lb, ub


def primary_flags(
    n: np.ndarray,
    value: np.ndarray,
    top1: np.ndarray,
    top2: np.ndarray,
    magnitude: np.ndarray,
    forced: np.ndarray,
    rules: DisclosureRules,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(primary, labelled, dominated) flags per cell."""
    t = rules.threshold
    small = (n >= 1) & (n <= t - 1)
    zero = n == 0
    count_primary = ~magnitude & (small | (zero & rules.protect_zeros))
    labelled = ~magnitude & small & rules.uses_label & ~forced
    x1 = np.nan_to_num(top1, nan=0.0)
    x2 = np.nan_to_num(top2, nan=0.0)
    tot = np.nan_to_num(value, nan=0.0)
    dominated = np.zeros(len(n), dtype=bool)
    pos = magnitude & (tot > 0)
    top_n = x1 + (x2 if rules.dominance_n == 2 else 0.0)
    dominated |= pos & (top_n > rules.dominance_k * tot)
    if rules.p_percent is not None:
        dominated |= pos & ((tot - x1 - x2) < rules.p_percent * x1)
    mag_primary = magnitude & (small | dominated)
    # Forced cells (entity pools): hidden unless empty; an empty cell is a zero like any other.
    forced_primary = forced & ((n > 0) | (zero & rules.protect_zeros & ~magnitude))
    primary = count_primary | mag_primary | forced_primary
    return primary, labelled, dominated & magnitude


def requirements(
    true: np.ndarray,
    top1: np.ndarray,
    top2: np.ndarray,
    magnitude: np.ndarray,
    labelled: np.ndarray,
    rules: DisclosureRules,
) -> tuple[np.ndarray, np.ndarray]:
    """(required_lower, required_upper): the interval must reach at least these."""
    q = rules.protection_interval
    v = np.nan_to_num(true, nan=0.0)
    rel = q * np.maximum(np.abs(v), 1.0 * ~magnitude)
    x1 = np.nan_to_num(top1, nan=0.0)
    x2 = np.nan_to_num(top2, nan=0.0)
    upl = np.zeros(len(v))
    if rules.p_percent is not None:
        upl = np.maximum(upl, rules.p_percent * x1 - (v - x1 - x2))
    top_n = x1 + (x2 if rules.dominance_n == 2 else 0.0)
    upl = np.maximum(upl, top_n / rules.dominance_k - v)
    level = np.where(magnitude, np.maximum(upl, rel), rel)
    lo = np.maximum(v - level, 0.0)
    hi = v + level
    lo_lab, hi_lab = rules.label_bounds
    lo = np.where(labelled, np.clip(lo, lo_lab, hi_lab), lo)
    hi = np.where(labelled, np.clip(hi, lo_lab, hi_lab), hi)
    return lo, hi


def reach(
    primary: np.ndarray,
    magnitude: np.ndarray,
    labelled: np.ndarray,
    forced: np.ndarray,
    rules: DisclosureRules,
) -> np.ndarray:
    """Per cell, the value its feasible upper bound must reach (-inf: no such requirement).

    A primary count hidden as "x" must be able to be ``threshold`` or more: otherwise the reader
    knows it is small, the very fact the frequency rule hides. A count the rules show as the label
    is exempt (the label tells it is small; the project's deliberation publishes that), and so is a
    label the engine had to hide completely; a cell of a forced pool (a single small entity) is not:
    its figures are for the entity's head only.
    """
    need = np.full(len(primary), -np.inf)
    if rules.threshold_protection and rules.threshold > 1:
        mask = primary & ~magnitude & (forced | ~labelled)
        need[mask] = float(rules.threshold)
    return need


def judge(
    lower: np.ndarray,
    upper: np.ndarray,
    true: np.ndarray,
    req_lo: np.ndarray,
    req_hi: np.ndarray,
    magnitude: np.ndarray,
    tol: float = 1e-6,
    sliding: bool = True,
    need_upper: np.ndarray | None = None,
) -> np.ndarray:
    """True where a protected cell keeps its protection (``need_upper``: see :func:`reach`)."""
    scale = np.maximum(1.0, np.abs(np.nan_to_num(true, nan=0.0)))
    eps = tol * scale
    if sliding:
        covers = (upper - lower) >= (req_hi - req_lo) - eps
    else:
        covers = (lower <= req_lo + eps) & (upper >= req_hi - eps)
    # Counts: two integer values must stay feasible. The LP interval contains the truth v,
    # so it suffices that it reaches v-1 or v+1.
    v = np.nan_to_num(true, nan=0.0)
    two_ints = (upper >= v + 1 - eps) | (lower <= v - 1 + eps)
    wide = (upper - lower) > eps
    ok = covers & np.where(magnitude, wide, two_ints)
    if need_upper is not None:
        ok &= upper >= need_upper - eps
    return ok & ~np.isnan(lower) & ~np.isnan(upper)


def certifier(
    true: np.ndarray,
    req_lo: np.ndarray,
    req_hi: np.ndarray,
    magnitude: np.ndarray,
    need_upper: np.ndarray,
    rules: DisclosureRules,
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """``certify(cells, lower, upper)``: :func:`judge` for the given cells (all arrays per cell)."""

    def certify(cells: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        return judge(
            lower,
            upper,
            true[cells],
            req_lo[cells],
            req_hi[cells],
            magnitude[cells],
            sliding=rules.sliding_protection,
            need_upper=need_upper[cells],
        )

    return certify


def witness_gain(
    req_lo: np.ndarray,
    req_hi: np.ndarray,
    true: np.ndarray,
    magnitude: np.ndarray,
    need_upper: np.ndarray | None = None,
) -> np.ndarray:
    """How far a witness table must move each protected cell to prove its protection: the
    required interval width, at least one unit for a count (two integer values), and up to the
    threshold for a hidden primary count (:func:`reach`)."""
    width = np.maximum(req_hi - req_lo, 0.0)
    tiny = 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(true, nan=0.0)))
    gain = np.where(magnitude, np.maximum(width, tiny), np.maximum(width, 1.0))
    if need_upper is not None:
        gain = np.maximum(gain, need_upper - np.nan_to_num(true, nan=0.0))
    return gain
