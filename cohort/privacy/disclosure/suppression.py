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
   of its equations (no headline total while anything else is open there, see
   :func:`headline_tier`; then the tightest equation) or, if none is left there, anywhere
   around its component. Back to 2, until every protected cell passes or nothing is left
   to suppress.

"Cheapest" (issue 25, as HiTaS and τ-ARGUS's cost rising with the level): the lowest
``height`` (how aggregated a cell is over every dimension of its population, the same in
every linked table: see :mod:`._model`), then the smallest count. The totals a deliberation
asks for (``DisclosureRules.published_totals``: seed 003's administration and policy domains) are
no partner at all until nothing else is left (:func:`published_total_cells`).

Each round hides at least one more cell, so the loop ends; if a requirement cannot be met
(for instance a relative protection interval larger than anything hiding can give), the
result keeps failing cells and the gate's audit refuses it.
"""

import logging
import time
from collections.abc import Mapping

import numpy as np
import polars as pl
import scipy.sparse as sp

from cohort.privacy.disclosure._checks import (
    HIDDEN,
    LABEL,
    attacker_bounds,
    certifier,
    primary_flags,
    reach,
    requirements,
    witness_gain,
    x_lower,
)
from cohort.privacy.disclosure._integer import integer_protection
from cohort.privacy.disclosure._lp import feasibility_intervals
from cohort.privacy.disclosure._model import ReleaseModel, build_model, cell_values, parent_map, row_cells
from cohort.privacy.disclosure._moves import CubeMoves
from cohort.privacy.disclosure._propagate import hidden_components, propagate_bounds
from cohort.privacy.disclosure.rules import DisclosureRules
from cohort.privacy.disclosure.tables import Dimension, TableSpec

log = logging.getLogger(__name__)

#: Labels hidden per round for a cell boxed in by labels (see ``_partners_for_failing``).
_LABELS_PER_ROUND = 10
#: While rounds hide only such labels and the cells pinned do not get fewer, each round hides twice
#: as many as the one before, up to this many times ``_LABELS_PER_ROUND``. At seed 003's 4,000 staff
#: (issue 25) 59 pinned cells took some 170 rounds of 10 labels each, a round's propagation and
#: partner search each time: with a cap of 4, 34 s -> 27 s of CPU and the same 8,356 rows "x"; a cap
#: of 16 overshot (8,506 rows "x"; the demo's 2013 release 3,043 instead of 2,933).
_LABELS_GROWTH_CAP = 4


def headline_tier(model: ReleaseModel) -> np.ndarray:
    """Per cell: 2 for the grand total of its population, 1 for a cell one step below it, else 0.

    The step is measured by the model's ``height`` (the sum, over every dimension of the
    population, of how far up its hierarchy the cell's code sits), so "one step below" is a
    policy-domain total (seed 003) or the whole administration by one criterion (women, the
    "unknown" origins): the figures a reader looks for first (the deliberation asks for them
    "voor de volledige Vlaamse administratie, per beleidsdomein"), each one number in all linked
    tables. As in HiTaS (and τ-ARGUS's cost rising with the level of a cell), their cost outranks
    any number of inner cells: a partner sort takes a headline only when nothing else will do.
    """
    height = model.cells.get_column("height").to_numpy()
    population = model.cells.select(pl.col("key").str.split("|").list.slice(0, 2).list.join("|")).to_series()
    top = (
        pl.DataFrame({"population": population, "height": height})
        .select(pl.col("height").max().over("population"))
        .to_series()
        .to_numpy()
    )
    tier = np.clip(height - (top - 2), 0, 2).astype(np.int64)
    # A cell equal to a headline (an equation of two cells: a policy domain's only pool, say) is
    # the same number: hiding it hides the headline, so it takes the headline's tier.
    first, second = _equal_pairs(model)
    while len(first):
        top_pair = np.maximum(tier[first], tier[second])
        if (tier[first] == top_pair).all() and (tier[second] == top_pair).all():
            break
        np.maximum.at(tier, first, top_pair)
        np.maximum.at(tier, second, top_pair)
    return tier


def _equal_pairs(model: ReleaseModel) -> tuple[np.ndarray, np.ndarray]:
    """The cells of every two-cell equation (a cell equal to another: a domain's only entity)."""
    pairs = model.A[np.flatnonzero(np.diff(model.A.indptr) == 2)].tocoo()
    return pairs.col[0::2], pairs.col[1::2]


def published_total_cells(
    model: ReleaseModel,
    tables: dict[str, pl.DataFrame],
    specs: dict[str, TableSpec],
    published_totals: Mapping[str, int] | None,
    dimensions: dict[str, Dimension] | None = None,
) -> np.ndarray:
    """Per cell: True for a total the rules keep published (``DisclosureRules.published_totals``):
    a code of dimension ``d`` at most ``depth`` steps below its total, every other dimension of its
    table at its total, and every cell equal to one (hiding it would give the total away)."""
    out = np.zeros(model.n_cells, dtype=bool)
    if not published_totals:
        return out
    dimensions = dimensions or {}
    for name, frame in tables.items():
        for d, depth in published_totals.items():
            if d not in specs[name].dimensions:
                continue
            dim = dimensions.get(d, Dimension(d))
            pm = parent_map(name, frame, d, dim)
            near = [c for c in pm if _depth(pm, c) <= int(depth)]
            others = [
                pl.col(o).cast(pl.String) == dimensions.get(o, Dimension(o)).total_label
                for o in specs[name].dimensions
                if o != d
            ]
            mask = frame.select(
                pl.all_horizontal([pl.col(d).cast(pl.String).is_in(near), *others])
            ).to_series()
            out[row_cells(model, name)[mask.to_numpy()]] = True
    first, second = _equal_pairs(model)
    while len(first):
        either = out[first] | out[second]
        if (out[first] == either).all() and (out[second] == either).all():
            break
        out[first] |= either
        out[second] |= either
    return out


def _depth(pm: dict[str, str | None], code: str) -> int:
    """Steps from ``code`` up to the total of its hierarchy ``pm`` (code -> parent)."""
    steps, cur = 0, pm.get(code)
    while cur is not None:
        steps, cur = steps + 1, pm.get(cur)
    return steps


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


def _expand(absA: sp.csr_matrix, eqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``eqs``, cell) for every cell of every equation in ``eqs``."""
    sizes = np.diff(absA.indptr)[eqs]
    rep = np.repeat(np.arange(len(eqs)), sizes)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return rep, absA.indices[np.repeat(absA.indptr[eqs], sizes) + offs]


def _partners_for_failing(
    absA: sp.csr_matrix,
    hidden: np.ndarray,
    labelled: np.ndarray,
    failing: np.ndarray,
    eligible: np.ndarray,
    level: np.ndarray,
    cost: np.ndarray,
    labels: np.ndarray,
    tier: np.ndarray,
    labels_per_round: int = _LABELS_PER_ROUND,
) -> tuple[np.ndarray, np.ndarray]:
    """One more protection step per failing cell: (cells to hide, labels to turn into "x").

    First a published partner in the failing cell's equations: no headline total (``tier``, see
    :func:`headline_tier`) when anything else is open there, then the tightest equation (fewest
    hidden cells), inner cells before margins (``level``: the model's height), the smallest. When
    the only partner left is a headline total and the same equation holds another label, that
    label is hidden completely instead (seed 003: a domain total is the sum of dozens of "1-5"
    combinations of the five criteria and pins them at 1; one "x" among them frees the sum at the
    cost of a count the reader only knew to be under 5). When its equations hold nothing published,
    a label there that gives the others away (typically a "1-5" margin whose "1-5" children are
    each >= 1) is hidden completely; failing that, the best published cell around its component.

    Set-wise (one sort over all (failing cell, equation, candidate) triples), not per cell:
    a release with tens of thousands of failing cells is one pass.
    """
    failing = np.unique(np.asarray(failing, dtype=np.int64))
    if len(failing) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    absC = absA.tocsc()
    hid_cnt = absA @ hidden.astype(np.float64)
    open_ = ~hidden & eligible
    # (failing cell, equation) pairs, then every open cell of each such equation.
    fe = absC[:, failing].tocoo()
    f_of, e_of = failing[fe.col], fe.row
    rep, c_of = _expand(absA, e_of)
    keep = open_[c_of]
    picks = np.zeros(0, np.int64)
    found = np.zeros(0, np.int64)
    early_upgrades: list[int] = []
    if keep.any():
        tri = pl.DataFrame(
            {
                "f": f_of[rep[keep]],
                # a headline total only when no equation of the cell offers anything else
                "tier": tier[c_of[keep]],
                "hid": hid_cnt[e_of[rep[keep]]],
                "level": level[c_of[keep]],
                "cost": cost[c_of[keep]],
                "e": e_of[rep[keep]],
                "c": c_of[keep],
            }
        )
        first = (
            tri.sort(["f", "tier", "hid", "level", "cost", "e", "c"])
            .group_by("f", maintain_order=True)
            .first()
        )
        picks = first.get_column("c").to_numpy()
        found = first.get_column("f").to_numpy()
        # A headline partner is the last resort: a label of the same equation, hidden completely,
        # frees that equation as well (its "x" has no upper bound).
        head = np.flatnonzero(first.get_column("tier").to_numpy() > 0)
        if len(head):
            spared = np.zeros(len(picks), dtype=bool)
            for i, e in zip(head, first.get_column("e").to_numpy()[head], strict=True):
                cols = absA.indices[absA.indptr[e] : absA.indptr[e + 1]]
                cols = cols[labelled[cols] & (tier[cols] == 0) & (cols != found[i])]
                if len(cols):
                    upgrade = _best(cols, level, -cost, prefer_margins=True)
                    spared[i] = True
                    early_upgrades.append(upgrade)
            picks = picks[~spared]
    # Two steps away: a published cell in an equation of one of its hidden neighbours (the
    # margin that bounds a group of cells all sitting at their lower bounds, typically).
    rest = np.setdiff1d(failing, found)
    if len(rest):
        fe = absC[:, rest].tocoo()
        rep1, c1 = _expand(absA, fe.row)
        f1 = rest[fe.col][rep1]
        hid1 = hidden[c1] & (c1 != f1)
        f1, c1 = f1[hid1], c1[hid1]
        ce = absC[:, np.unique(c1)].tocoo() if len(c1) else None
        if ce is not None and ce.nnz:
            pairs = pl.DataFrame({"f": f1, "c1": c1}).unique()
            nb = pl.DataFrame({"c1": np.unique(c1)[ce.col], "e2": ce.row})
            fe2 = pairs.join(nb, on="c1").select("f", "e2").unique()
            e2 = fe2.get_column("e2").to_numpy()
            rep2, c2 = _expand(absA, e2)
            ok2 = open_[c2]
            if ok2.any():
                two = (
                    pl.DataFrame(
                        {
                            "f": fe2.get_column("f").to_numpy()[rep2[ok2]],
                            "level": level[c2[ok2]],
                            "cost": cost[c2[ok2]],
                            "c": c2[ok2],
                        }
                    )
                    .sort(["f", "level", "cost", "c"])
                    .group_by("f", maintain_order=True)
                    .first()
                )
                picks = np.concatenate([picks, two.get_column("c").to_numpy()])
                found = np.concatenate([found, two.get_column("f").to_numpy()])
    rest = np.setdiff1d(failing, found)
    # Nothing published left in its equations: the labels there give each other away (a "1-5"
    # margin whose "1-5" children are each >= 1, say). Hide one of them completely, margins first,
    # the cell itself last.
    upgrades: list[int] = early_upgrades
    far: list[int] = []
    for f in rest:
        eqs = absC.indices[absC.indptr[f] : absC.indptr[f + 1]]
        eqs = eqs[np.argsort(hid_cnt[eqs], kind="stable")]
        for e in eqs:
            cols = absA.indices[absA.indptr[e] : absA.indptr[e + 1]]
            cols = cols[labelled[cols] & (cols != f)]
            if len(cols):
                upgrades.append(_best(cols, level, -cost, prefer_margins=True))
                break
        else:
            far.append(int(f))
    # No label either: the best published cell around its component (one per component).
    far_arr = np.asarray(far, dtype=np.int64)
    comps = np.unique(labels[far_arr][labels[far_arr] >= 0]) if len(far_arr) else np.zeros(0, np.int64)
    around_done = np.zeros(0, np.int64)
    if len(comps):
        members = np.flatnonzero(np.isin(labels, comps))
        me = absC[:, members].tocoo()
        ce = pl.DataFrame({"comp": labels[members[me.col]], "e": me.row}).unique()
        rep, cols = _expand(absA, ce.get_column("e").to_numpy())
        keep = open_[cols]
        if keep.any():
            comp_of = ce.get_column("comp").to_numpy()[rep[keep]]
            best = (
                pl.DataFrame(
                    {"comp": comp_of, "level": level[cols[keep]], "cost": cost[cols[keep]], "c": cols[keep]}
                )
                .sort(["comp", "level", "cost", "c"])
                .group_by("comp", maintain_order=True)
                .first()
            )
            picks = np.concatenate([picks, best.get_column("c").to_numpy()])
            around_done = far_arr[np.isin(labels[far_arr], best.get_column("comp").to_numpy())]
    # Last resort: the cell's own label; for a cell that has none (an "x" that must reach the
    # threshold, boxed in by a small labelled margin, say), the labels of its component: a "1-5"
    # domain total caps every pool below it under 5.
    for f in np.setdiff1d(far_arr, around_done):
        if labelled[f]:
            upgrades.append(int(f))
        elif labels[f] >= 0:
            # margins first, a few per round: one per round took 500 rounds at 4,000 staff (seed
            # 003), all of them at once hid every label of the release
            near = np.flatnonzero((labels == labels[f]) & labelled)
            upgrades += near[np.lexsort((near, -cost[near], -level[near]))][:labels_per_round].tolist()
    return np.unique(picks.astype(np.int64)), np.unique(np.asarray(upgrades, dtype=np.int64))


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
    countable = all(specs[k].is_magnitude or "n" in f.columns for k, f in tables.items())
    if (
        countable
        and not forced
        and not any(_sensitive_rows(f, specs[k], rules).any() for k, f in tables.items())
    ):
        # Nothing is sensitive under these rules (an entity's own exact tables, say): every cell is
        # published as counted, and there is no linear system to build or solve.
        return {k: _published_as_counted(f, specs[k], dimensions or {}, rules) for k, f in tables.items()}
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
    # The cost of hiding a cell rises with its height (how aggregated it is, the same in every
    # linked table): every partner sort takes inner cells before margins, margins before headline
    # totals (the old per-table count of margin coordinates made a domain total tie with inner
    # margins of wider tables); within a height the smallest count goes first.
    level = model.cells.get_column("height").to_numpy()
    tier = headline_tier(model)
    cost = np.nan_to_num(true, nan=0.0)
    # Never pick a zero or small count as a partner: then every non-forced "x" count is
    # >= threshold, which is what the audit lets the attacker assume.
    eligible = np.where(mag, True, n >= max(1, rules.threshold)) & ~primary
    # A deliberation that asks for its totals (``published_totals``, seed 003) keeps them out of the
    # partners: the cells below them must protect each other. Set aside, not dropped: if a round
    # finds nothing else to hide, they come back as the last resort.
    kept = published_total_cells(model, tables, specs, rules.published_totals, dimensions) & eligible
    eligible &= ~kept
    absA = sp.csr_matrix((np.ones(model.A.nnz), model.A.indices, model.A.indptr), shape=model.A.shape)
    hidden = primary.copy()
    targets = np.flatnonzero(primary)
    shown_label = labelled.copy()  # labels the engine may still have to hide completely
    cache: dict = {}
    start = np.nan_to_num(true)
    t0 = time.perf_counter()
    need = reach(primary, mag, labelled, forced_c, rules)
    gain = witness_gain(req_lo, req_hi, true, mag, need)

    certify = certifier(true, req_lo, req_hi, mag, need, rules)
    moves: CubeMoves | None = None  # built once, the first time the MILP proof runs
    # Targets the LP has certified in an earlier round. The loop only hides more cells and only
    # widens bounds (a label hidden completely), so every table feasible before stays feasible and
    # an interval can only widen: a certified target stays certified, and the LP of later rounds
    # needs only the others (the same verdicts, hence the same partners; issue 25's speed).
    lp_ok = np.zeros(len(targets), dtype=bool)
    label_batch, last_pinned = _LABELS_PER_ROUND, 0

    for round_no in range(max_rounds):
        hidden, _stuck = _singleton_fixpoint(absA, hidden, eligible, level, cost)
        log.info(
            "protect round %d: %d cells, %d protected, %d hidden, %.1f s",
            round_no,
            model.n_cells,
            len(targets),
            int(hidden.sum()),
            time.perf_counter() - t0,
        )
        if len(targets) == 0:
            break
        # Cheap pass first: a cell pinned by the equations one at a time (interval propagation)
        # is certainly recomputable; give those partners before paying for any LP.
        plo, phi = propagate_bounds(model.A, ~hidden, start, lb, ub)
        pinned = targets[~certify(targets, plo[targets], phi[targets])]
        if len(pinned):
            comp = hidden_components(model.A, ~hidden)
            new, upgrades = _partners_for_failing(
                absA, hidden, shown_label, pinned, eligible, level, cost, comp, tier, label_batch
            )
            # labels only, and no fewer cells pinned than last round: a longer run of the same
            # search, so the next batch is larger (``_LABELS_GROWTH_CAP``)
            labels_only = len(new) == 0 and len(upgrades) > 0 and len(pinned) >= last_pinned
            label_batch = (
                min(2 * label_batch, _LABELS_GROWTH_CAP * _LABELS_PER_ROUND)
                if labels_only
                else _LABELS_PER_ROUND
            )
            last_pinned = len(pinned)
            log.debug(
                "protect: %d pinned by propagation; %d partners, %d labels hidden",
                len(pinned),
                len(new),
                len(upgrades),
            )
            if len(new) or len(upgrades):
                hidden[new] = True
                if len(upgrades):
                    shown_label[upgrades] = False
                    lb[upgrades], ub[upgrades] = x_lower(rules), np.inf
                    cache.clear()
                continue
        open_t = targets[~lp_ok]
        res = feasibility_intervals(
            model.A, ~hidden, start, lb, ub, open_t, cache=cache, certify=certify, start=start, gain=gain
        )
        passed = certify(open_t, res.lower, res.upper)
        lp_ok[np.flatnonzero(~lp_ok)[passed]] = True
        failing = open_t[~passed]
        if len(failing) == 0:
            # The LP passes every cell; whole-number tables must too (the outsider knows counts
            # are integers): the MILP proof of :mod:`._integer`, once per round that gets here.
            counts = targets[~mag[targets]]
            if moves is None:
                moves = CubeMoves(model, tables, specs, dimensions)
            whole = integer_protection(model.A, ~hidden, start, (lb, ub), counts, true, need, moves)
            failing = counts[~whole]
            log.info("protect round %d: %d counts fail in whole numbers only", round_no, len(failing))
            if len(failing) == 0:
                break
        new, upgrades = _partners_for_failing(
            absA, hidden, shown_label, failing, eligible, level, cost, res.labels, tier
        )
        if len(new) == 0 and len(upgrades) == 0:
            if kept.any():
                log.warning(
                    "protect: %d protected cells need more than the cells below the published totals; "
                    "those totals become partners (published_totals)",
                    len(failing),
                )
                eligible |= kept
                kept[:] = False
                continue
            log.warning(
                "protect: %d protected cells cannot be protected further; the audit will refuse", len(failing)
            )
            break
        hidden[new] = True
        if len(upgrades):
            shown_label[upgrades] = False
            lb[upgrades], ub[upgrades] = x_lower(rules), np.inf
            cache.clear()  # bounds changed: earlier component results no longer hold
    else:
        log.warning(
            "protect: stopped after %d rounds; the audit decides whether the release is safe", max_rounds
        )
    status_cell = np.where(primary, 1, np.where(hidden, 2, 0))
    return _frames_out(
        model, tables, specs, dimensions or {}, rules, status_cell, shown_label, mag, true, forced_c
    )


def _sensitive_rows(frame: pl.DataFrame, spec: TableSpec, rules: DisclosureRules) -> np.ndarray:
    """Primary flags of the rows of one frame (the cell-level rule of :func:`primary_flags`)."""

    def col(c: str) -> np.ndarray:
        if c not in frame.columns:
            return np.full(frame.height, np.nan)
        return frame.get_column(c).cast(pl.Float64).to_numpy()

    mag = np.full(frame.height, spec.is_magnitude)
    primary, _, _ = primary_flags(
        col("n"), col("value"), col("top1"), col("top2"), mag, np.zeros(frame.height, dtype=bool), rules
    )
    return primary


def _published_as_counted(
    frame: pl.DataFrame, spec: TableSpec, dimensions: dict[str, Dimension], rules: DisclosureRules
) -> pl.DataFrame:
    values = frame.get_column("value" if spec.is_magnitude else "n").to_list()
    f = frame.with_columns(
        status=pl.lit("published", dtype=pl.String),
        shown=pl.Series([_fmt_number(v, spec.is_magnitude) for v in values], dtype=pl.String),
        forced=pl.lit(False, dtype=pl.Boolean),
    )
    return _with_percentages(f, spec, dimensions, rules) if spec.statistic == "percentage" else f


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
