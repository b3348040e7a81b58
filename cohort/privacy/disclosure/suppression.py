"""Primary and secondary cell suppression over a whole release (all tables together).

The heuristic (sound, not optimal; it always terminates):

1. Primary rules per cell (:mod:`._checks`): small counts (labelled or hidden), zeros when
   protected, dominated magnitude cells, forced cells (entity pools).
2. Singleton fixpoint: any additivity equation of the release (a row, column or hierarchy
   relation in any table; linked tables share their cells) that holds exactly ONE hidden
   cell would give it away by subtraction, so the cheapest other eligible cell of that
   equation is suppressed as well (inner cells before margins, cells that also fix another
   such equation first, then the smallest). Repeat until no equation has a lone hidden cell.
3. LP audit of every protected cell against everything published (:mod:`._lp`). For each
   cell whose interval is still too narrow, suppress the cheapest eligible published cell
   in its tightest equation (or, if none is left there, anywhere around its component).
   Back to 2, until every protected cell passes or nothing is left to suppress.

Each round hides at least one more cell, so the loop ends; if a requirement cannot be met
(for instance a relative protection interval larger than anything hiding can give), the
result keeps failing cells and the gate's audit refuses it.
"""

import logging

import numpy as np
import polars as pl
import scipy.sparse as sp

from cohort.privacy.disclosure._checks import (
    HIDDEN,
    LABEL,
    attacker_bounds,
    judge,
    primary_flags,
    requirements,
    x_lower,
)
from cohort.privacy.disclosure._lp import feasibility_intervals
from cohort.privacy.disclosure._model import ReleaseModel, build_model, cell_values, row_cells
from cohort.privacy.disclosure._propagate import hidden_components, propagate_bounds
from cohort.privacy.disclosure.rules import DisclosureRules
from cohort.privacy.disclosure.tables import Dimension, TableSpec

log = logging.getLogger(__name__)


def _forced_cells(
    model: ReleaseModel, tables: dict[str, pl.DataFrame], forced: dict[str, set[str]] | None
) -> np.ndarray:
    out = np.zeros(model.n_cells, dtype=bool)
    if not forced:
        return out
    for name, frame in tables.items():
        conds = [
            pl.col(d).cast(pl.String).is_in(sorted(codes))
            for d, codes in forced.items()
            if d in frame.columns
        ]
        if not conds:
            continue
        mask = frame.select(pl.any_horizontal(conds)).to_series().to_numpy()
        out[row_cells(model, name)[mask]] = True
    return out


def _singleton_fixpoint(
    absA: sp.csr_matrix, hidden: np.ndarray, eligible: np.ndarray, level: np.ndarray, cost: np.ndarray
) -> tuple[np.ndarray, int]:
    """Hide partners until no equation holds exactly one hidden cell. Returns (hidden, #stuck eqs)."""
    hidden = hidden.copy()
    absT = absA.T.tocsr()
    stuck = 0
    while True:
        cnt = absA @ hidden.astype(np.float64)
        single = np.flatnonzero(np.abs(cnt - 1.0) < 0.5)
        if len(single) == 0:
            return hidden, 0
        sub = absA[single].tocoo()
        cand = ~hidden[sub.col] & eligible[sub.col]
        indicator = np.zeros(absA.shape[0])
        indicator[single] = 1.0
        bonus = absT @ indicator  # how many lone-hidden equations each cell belongs to
        if not cand.any():
            return hidden, len(single)
        df = pl.DataFrame(
            {
                "eq": sub.row[cand],
                "cell": sub.col[cand],
                "level": level[sub.col[cand]],
                "bonus": -bonus[sub.col[cand]],
                "cost": cost[sub.col[cand]],
            }
        )
        pick = df.sort(["eq", "level", "bonus", "cost", "cell"]).group_by("eq", maintain_order=True).first()
        stuck = len(single) - pick.height
        new = np.unique(pick.get_column("cell").to_numpy())
        if len(new) == 0:
            return hidden, stuck
        hidden[new] = True


def _best(cols: np.ndarray, level: np.ndarray, cost: np.ndarray, prefer_margins: bool = False) -> int:
    lv = -level[cols] if prefer_margins else level[cols]
    return int(cols[np.lexsort((cols, cost[cols], lv))[0]])


def _partners_for_failing(
    absA: sp.csr_matrix,
    hidden: np.ndarray,
    labelled: np.ndarray,
    failing: np.ndarray,
    eligible: np.ndarray,
    level: np.ndarray,
    cost: np.ndarray,
    labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One more protection step per failing cell: (cells to hide, labels to turn into "x").

    First a published partner in the failing cell's tightest equation, else around its
    component. When nothing published is left in reach, a label that gives the others away
    (typically a "1-5" margin whose "1-5" children are each >= 1) is hidden completely.
    """
    absC = absA.tocsc()
    hid_cnt = absA @ hidden.astype(np.float64)
    picks: list[int] = []
    upgrades: list[int] = []
    for f in failing:
        eqs = absC.indices[absC.indptr[f] : absC.indptr[f + 1]]
        eqs = eqs[np.argsort(hid_cnt[eqs], kind="stable")]
        best = None
        for e in eqs:
            cols = absA.indices[absA.indptr[e] : absA.indptr[e + 1]]
            cols = cols[~hidden[cols] & eligible[cols]]
            if len(cols):
                best = _best(cols, level, cost)
                break
        around = None
        if best is None and labels[f] >= 0:
            members = np.flatnonzero(labels == labels[f])
            around = np.unique(absC[:, members].tocoo().row)
            cols = np.unique(absA[around].indices)
            cols = cols[~hidden[cols] & eligible[cols]]
            if len(cols):
                best = _best(cols, level, cost)
        if best is not None:
            picks.append(best)
            continue
        # Nothing published left in reach: hide a label completely, margins first, the cell itself last.
        for e in eqs:
            cols = absA.indices[absA.indptr[e] : absA.indptr[e + 1]]
            cols = cols[labelled[cols] & (cols != f)]
            if len(cols):
                upgrades.append(_best(cols, level, -cost, prefer_margins=True))
                break
        else:
            if labelled[f]:
                upgrades.append(int(f))
    return np.unique(np.asarray(picks, dtype=np.int64)), np.unique(np.asarray(upgrades, dtype=np.int64))


def _fmt_number(v: float, magnitude: bool) -> str:
    if not magnitude:
        return str(int(round(v)))
    return repr(float(v))


def protect(
    tables: dict[str, pl.DataFrame],
    specs: dict[str, TableSpec],
    rules: DisclosureRules,
    dimensions: dict[str, Dimension] | None = None,
    *,
    forced: dict[str, set[str]] | None = None,
    max_rounds: int = 500,
) -> dict[str, pl.DataFrame]:
    """Apply the primary rules and secondary suppression to every table of one release.

    Adds to each frame ``status`` ("published" | "primary" | "secondary"), ``forced`` (Boolean:
    the cell belongs to a forced code; internal, like ``status``) and ``shown``
    (String: the number; ``rules.label`` for a primary-sensitive count shown as a label;
    ``"x"`` for a suppressed cell). For magnitude tables ``shown`` is the sum (``value``).
    Percentage tables also get ``percentage`` (Float64, null unless shown) and
    ``shown_percentage`` (String), computed only from published counts and hidden ("x")
    whenever the count or its denominator is not published.

    Secondary suppression is done ACROSS ALL TABLES of the release together (shared
    margins, hierarchy levels, linked tables with the same population), so that no
    protected cell can be recomputed exactly or narrowed below its protection interval.
    ``forced``: dimension -> codes whose cells are all primary (e.g. a pool made of a single
    small entity, see :func:`~cohort.privacy.disclosure.entity.split_by_entity_size`).
    ``dimensions``: needed only for custom total labels or shared codes (hierarchies travel
    in the ``<dim>__parent`` columns written by ``tabulate``).
    """
    missing = [t for t in tables if t not in specs]
    if missing:
        raise ValueError(f"protect: no TableSpec for tables {missing}")
    model = build_model(tables, specs, dimensions)
    mag = model.cells.get_column("magnitude").to_numpy()
    n = cell_values(model, tables, "n")
    value = cell_values(model, tables, "value")
    top1 = cell_values(model, tables, "top1")
    top2 = cell_values(model, tables, "top2")
    if np.isnan(n[~mag]).any():
        raise ValueError("protect: count tables need their true counts in column n (use tabulate)")
    true = np.where(mag, value, n)
    resid = model.A @ np.nan_to_num(true)
    bad = np.flatnonzero(np.abs(resid) > 1e-6 * max(1.0, float(np.nanmax(np.abs(true), initial=1.0))))
    if len(bad):
        raise ValueError(
            f"protect: {len(bad)} margins are not the sum of their children, e.g. '{model.equations[bad[0]]}' "
            f"(off by {resid[bad[0]]:g}); declare hierarchies (tabulate with dimensions) and use complete tables"
        )
    forced_c = _forced_cells(model, tables, forced)
    primary, labelled, _ = primary_flags(n, value, top1, top2, mag, forced_c, rules)
    lb, ub = attacker_bounds(np.where(labelled, LABEL, HIDDEN), mag, forced_c, rules)
    req_lo, req_hi = requirements(true, top1, top2, mag, labelled, rules)
    level = model.cells.get_column("level").to_numpy()
    cost = np.nan_to_num(true, nan=0.0)
    # Never pick a zero or small count as a partner: then every non-forced "x" count is
    # >= threshold, which is what the audit lets the attacker assume.
    eligible = np.where(mag, True, n >= max(1, rules.threshold)) & ~primary
    absA = sp.csr_matrix((np.ones(model.A.nnz), model.A.indices, model.A.indptr), shape=model.A.shape)
    hidden = primary.copy()
    targets = np.flatnonzero(primary)
    shown_label = labelled.copy()  # labels the engine may still have to hide completely
    cache: dict = {}
    start = np.nan_to_num(true)

    def certify(t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return judge(lo, hi, true[t], req_lo[t], req_hi[t], mag[t], sliding=rules.sliding_protection)

    for _ in range(max_rounds):
        hidden, _stuck = _singleton_fixpoint(absA, hidden, eligible, level, cost)
        if len(targets) == 0:
            break
        # Cheap pass first: a cell pinned by the equations one at a time (interval propagation)
        # is certainly recomputable; give those partners before paying for any LP.
        plo, phi = propagate_bounds(model.A, ~hidden, start, lb, ub)
        pinned = targets[~certify(targets, plo[targets], phi[targets])]
        if len(pinned):
            comp = hidden_components(model.A, ~hidden)
            new, upgrades = _partners_for_failing(
                absA, hidden, shown_label, pinned, eligible, level, cost, comp
            )
            if len(new) or len(upgrades):
                hidden[new] = True
                if len(upgrades):
                    shown_label[upgrades] = False
                    lb[upgrades], ub[upgrades] = x_lower(rules), np.inf
                    cache.clear()
                continue
        res = feasibility_intervals(
            model.A, ~hidden, start, lb, ub, targets, cache=cache, certify=certify, start=start
        )
        ok = judge(
            res.lower,
            res.upper,
            true[targets],
            req_lo[targets],
            req_hi[targets],
            mag[targets],
            sliding=rules.sliding_protection,
        )
        failing = targets[~ok]
        if len(failing) == 0:
            break
        new, upgrades = _partners_for_failing(
            absA, hidden, shown_label, failing, eligible, level, cost, res.labels
        )
        if len(new) == 0 and len(upgrades) == 0:
            log.warning(
                "protect: %d protected cells cannot be protected further; the audit will refuse", len(failing)
            )
            break
        hidden[new] = True
        if len(upgrades):
            shown_label[upgrades] = False
            lb[upgrades], ub[upgrades] = x_lower(rules), np.inf
            cache.clear()  # bounds changed: earlier component results no longer hold
    status_cell = np.where(primary, 1, np.where(hidden, 2, 0))
    return _frames_out(
        model, tables, specs, dimensions or {}, rules, status_cell, shown_label, mag, true, forced_c
    )


def _frames_out(
    model: ReleaseModel,
    tables: dict[str, pl.DataFrame],
    specs: dict[str, TableSpec],
    dimensions: dict[str, Dimension],
    rules: DisclosureRules,
    status_cell: np.ndarray,
    labelled: np.ndarray,
    mag: np.ndarray,
    true: np.ndarray,
    forced_c: np.ndarray,
) -> dict[str, pl.DataFrame]:
    names = np.array(["published", "primary", "secondary"])
    out: dict[str, pl.DataFrame] = {}
    for name, frame in tables.items():
        spec = specs[name]
        cells = row_cells(model, name)
        st = status_cell[cells]
        shown = [
            rules.label if labelled[c] else ("x" if st[i] else _fmt_number(true[c], bool(mag[c])))
            for i, c in enumerate(cells)
        ]
        f = frame.with_columns(
            status=pl.Series(names[st], dtype=pl.String),
            shown=pl.Series(shown, dtype=pl.String),
            forced=pl.Series(forced_c[cells], dtype=pl.Boolean),
        )
        if spec.statistic == "percentage":
            f = _with_percentages(f, spec, dimensions, rules)
        out[name] = f
    return out


def _with_percentages(
    f: pl.DataFrame, spec: TableSpec, dimensions: dict[str, Dimension], rules: DisclosureRules
) -> pl.DataFrame:
    """Percentages from published counts only; hidden with their count or denominator."""
    if spec.is_magnitude:
        raise ValueError(f"table {spec.name}: percentages are only defined for count tables")
    dims = list(spec.dimensions)
    totals = {d: dimensions.get(d, Dimension(d)).total_label for d in spec.percentage_of}
    den = f.select(
        [pl.lit(totals[d]).alias(d) if d in totals else pl.col(d) for d in dims]
        + [pl.col("n").alias("__den_n"), pl.col("status").alias("__den_status")]
    ).unique(dims)
    keyf = f.with_columns(
        [pl.lit(totals[d]).alias(f"__k_{d}") if d in totals else pl.col(d).alias(f"__k_{d}") for d in dims]
    )
    joined = keyf.join(
        den.rename({d: f"__k_{d}" for d in dims}),
        on=[f"__k_{d}" for d in dims],
        how="left",
        maintain_order="left",
    )
    shown_ok = (
        (pl.col("status") == "published") & (pl.col("__den_status") == "published") & (pl.col("__den_n") > 0)
    )
    pct = pl.when(shown_ok).then((100.0 * pl.col("n") / pl.col("__den_n")).round(rules.percentage_decimals))
    joined = joined.with_columns(percentage=pct.cast(pl.Float64))
    joined = joined.with_columns(
        shown_percentage=pl.when(pl.col("percentage").is_not_null())
        .then(pl.col("percentage").round(rules.percentage_decimals).cast(pl.String))
        .otherwise(pl.lit("x"))
    )
    return joined.drop(
        [c for c in joined.columns if c.startswith("__k_") or c in ("__den_n", "__den_status")]
    )
