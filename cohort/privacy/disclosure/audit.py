"""The small-cell risk analysis (SCRA, *kleine-celrisicoanalyse*): attack a protected release
as an outsider would, and decide whether it may leave.

The attacker's knowledge is rebuilt from what is SHOWN only (the ``shown`` strings of
every table, never the true counts): exact numbers are equations' constants, a label means
[1, threshold-1], an "x" means a non-negative unknown (>= threshold for a secondary count,
see :mod:`._checks`). Every additivity relation of every table, hierarchy level and linked
table of this release AND of the earlier releases recorded in the ledger is one equation
over the same cell variables. For each protected cell the attacker's LP gives the
feasibility interval [lower, upper]; the true values (known inside the secure environment)
only serve to judge whether that interval is wide enough.
"""

import json
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from cohort import clock
from cohort.privacy.disclosure._checks import (
    HIDDEN,
    LABEL,
    PUBLISHED,
    certifier,
    primary_flags,
    reach,
    requirements,
    witness_gain,
    x_lower,
)
from cohort.privacy.disclosure._integer import integer_protection
from cohort.privacy.disclosure._lp import feasibility_intervals
from cohort.privacy.disclosure._model import ReleaseModel, build_model, cell_values
from cohort.privacy.disclosure._moves import CubeMoves
from cohort.privacy.disclosure.ledger import LEDGER_COLUMNS, content_hash
from cohort.privacy.disclosure.rules import DisclosureRules
from cohort.privacy.disclosure.tables import PARENT_SUFFIX, Dimension, TableSpec

_MAX_FINDINGS_PER_KIND = 50
#: Summary counts of primary cells: for operators only. With the counts of labels and "x" a
#: recipient could tell, say, that no "x" is a primary cell, hence every "x" is a partner and so at
#: least the threshold: a bound the audit does not give the attacker (see docs/disclosure.md).
OPERATOR_ONLY_COUNTS = ("protected_cells", "failing_cells", "exact_cells")


@dataclass
class AuditReport:
    """Verdict of :func:`audit`.

    Attributes:
        passed: True when no protected cell can be recomputed or narrowed below its
            protection requirement and no rule check failed.
        cells: one row per protected (primary) cell: ``table``, ``cell`` (its coordinates),
            ``shown``, ``true_value``, ``lower``/``upper`` (the attacker's LP bounds),
            ``required_lower``/``required_upper``, ``ok``, ``exact`` (the bounds are the LP
            optimum; otherwise they are bounds reached by feasible points, already wide
            enough, and the true interval is at least as wide).
        findings: human-readable reasons for every failure (empty when passed).
        summary: counts and timings.
    """

    passed: bool
    cells: pl.DataFrame
    findings: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def to_json(self, redacted: bool = False, public: bool = False) -> dict:
        """The report as a JSON-able dict.

        ``redacted=True`` gives the version that may leave the secure environment (operators'
        reports): verdict, method and counts only (no true values, no list of the protected
        cells, no confidential dominance parameters). ``public=True`` (the copy in the release
        folder, for recipients) also leaves out the counts of primary cells
        (:data:`OPERATOR_ONLY_COUNTS`).
        """
        summary = dict(self.summary)
        if public:
            redacted = True
            for k in OPERATOR_ONLY_COUNTS:
                summary.pop(k, None)
        if redacted:
            rules = dict(summary.get("rules", {}))
            for k in ("dominance_n", "dominance_k", "p_percent", "protection_interval"):
                rules.pop(k, None)
            summary["rules"] = rules
            return {"passed": self.passed, "summary": summary, "findings_count": len(self.findings)}
        cells = self.cells.with_columns(
            [
                pl.col(c).cast(pl.Float64)
                for c in ("true_value", "lower", "upper", "required_lower", "required_upper")
            ]
        )
        rows = cells.to_dicts()
        for r in rows:
            for k, v in r.items():
                if isinstance(v, float) and not np.isfinite(v):
                    r[k] = None if np.isnan(v) else ("inf" if v > 0 else "-inf")
        return {"passed": self.passed, "summary": summary, "findings": list(self.findings), "cells": rows}

    def to_markdown(self, redacted: bool = False, public: bool = False) -> str:
        """A readable page for the checkers who sign off (``redacted``: for operators outside the
        secure area; ``public``: for recipients, see :meth:`to_json`)."""
        s = self.summary
        if public:
            redacted = True
            s = {k: v for k, v in s.items() if k not in OPERATOR_ONLY_COUNTS}
        verdict = "PASSED" if self.passed else "REFUSED"
        lines = [
            f"# Small-cell risk analysis: {verdict}",
            "",
            f"Audited at {s.get('audited_at', '?')} in {s.get('seconds', 0):.2f} s.",
            "",
            "| | |",
            "|---|---|",
        ]
        for k in (
            "tables",
            "cells",
            "published",
            "labelled",
            "suppressed",
            "protected_cells",
            "failing_cells",
            "earlier_releases",
            "equations",
            "components",
        ):
            if k in s:
                lines.append(f"| {k.replace('_', ' ')} | {s[k]} |")
        rules = s.get("rules", {})
        lines += [
            "",
            "## Method",
            "",
            f"- Counts 1 to {rules.get('threshold', '?') - 1 if isinstance(rules.get('threshold'), int) else '?'} "
            f"are primary-sensitive and shown as '{rules.get('label')}' or 'x'; zeros are "
            f"{'protected' if rules.get('protect_zeros') else 'shown'}.",
            "- Every published number of every table, margin, hierarchy level, linked table and "
            "earlier release is one linear constraint; for each protected cell the attacker's "
            "minimum and maximum are computed by linear programming (HiGHS).",
            "- A protected cell fails when its interval holds a single integer (exact "
            "recomputation) or is narrower than its protection requirement.",
            "",
        ]
        if redacted:
            lines.append(f"Findings: {len(self.findings)}.")
            return "\n".join(lines) + "\n"
        lines += ["## Findings", ""]
        lines += [f"- {f}" for f in self.findings] or ["- none"]
        bad = self.cells.filter(~pl.col("ok"))
        if bad.height:
            lines += [
                "",
                "## Failing cells (first 50)",
                "",
                "| table | cell | shown | true | lower | upper | required |",
                "|---|---|---|---|---|---|---|",
            ]
            for r in bad.head(50).iter_rows(named=True):
                lines.append(
                    f"| {r['table']} | {r['cell']} | {r['shown']} | {r['true_value']:g} | {r['lower']:g} | {r['upper']:g} "
                    f"| [{r['required_lower']:g}, {r['required_upper']:g}] |"
                )
        return "\n".join(lines) + "\n"

    def write(self, folder, redacted: bool = False) -> list:
        """Write report.json and report.md into ``folder``; returns the paths."""
        from pathlib import Path

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        pj, pm = folder / "report.json", folder / "report.md"
        pj.write_text(json.dumps(self.to_json(redacted), indent=2, sort_keys=True, default=str))
        pm.write_text(self.to_markdown(redacted))
        return [pj, pm]


def _infer_spec(name: str, frame: pl.DataFrame) -> TableSpec:
    """Spec of a table known only by its frame (earlier releases read from the ledger)."""
    dims = tuple(c for c in frame.columns if c not in LEDGER_COLUMNS and not c.endswith(PARENT_SUFFIX))
    population = frame.get_column("population")[0] if "population" in frame.columns and frame.height else ""
    value = None
    if "magnitude_of" in frame.columns and frame.height:
        value = frame.get_column("magnitude_of")[0]
    without: tuple[str, ...] = ()
    if "without_margins" in frame.columns and frame.height:
        without = tuple(d for d in (frame.get_column("without_margins")[0] or "").split(",") if d)
    return TableSpec(
        name=name, dimensions=dims, population=population or "", value=value, without_margins=without
    )


def _cell_label(key: str) -> str:
    parts = key.split("|", 2)
    coords = parts[2] if len(parts) == 3 else key
    measure = parts[1] if len(parts) == 3 else ""
    text = coords.replace(";", ", ") or "grand total"
    return text if measure in ("n", "") else f"{measure}: {text}"


def _knowledge(
    model: ReleaseModel, frames: dict[str, pl.DataFrame], mag: np.ndarray, rules: DisclosureRules
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(kind, value, lb, ub) per cell from the shown strings of every table; plus findings."""
    parts = []
    for name, frame in frames.items():
        if "shown" not in frame.columns:
            raise ValueError(f"audit: table {name} has no 'shown' column (run protect first)")
        parts.append(
            pl.DataFrame({"shown": frame.get_column("shown").cast(pl.String)})
            .with_row_index("row")
            .with_columns(table=pl.lit(name))
        )
    df = pl.concat(parts).join(model.rows.select("table", "row", "cell"), on=["table", "row"], how="inner")
    label = rules.label or ""
    df = df.with_columns(
        num=pl.when((pl.col("shown") != "x") & (pl.col("shown") != label)).then(
            pl.col("shown").cast(pl.Float64, strict=False)
        )
    )
    unreadable = df.filter(pl.col("num").is_null() & (pl.col("shown") != "x") & (pl.col("shown") != label))
    findings = []
    if unreadable.height:
        findings.append(
            f"{unreadable.height} shown values are neither a number, '{label}' nor 'x' "
            f"(e.g. {unreadable.get_column('shown')[0]!r} in table {unreadable.get_column('table')[0]})"
        )
    n = model.n_cells
    kind = np.full(n, HIDDEN, dtype=np.int8)
    value = np.zeros(n)
    is_label = (
        df.filter(pl.col("shown") == label).get_column("cell").to_numpy()
        if label
        else np.array([], dtype=np.int64)
    )
    kind[is_label] = LABEL
    pub = df.filter(pl.col("num").is_not_null())
    agg = pub.group_by("cell").agg(
        lo=pl.col("num").min(), hi=pl.col("num").max(), tables=pl.col("table").unique()
    )
    conflict = agg.filter(
        (pl.col("hi") - pl.col("lo")).abs() > 1e-6 * pl.max_horizontal(pl.lit(1.0), pl.col("hi").abs())
    )
    for r in conflict.head(_MAX_FINDINGS_PER_KIND).iter_rows(named=True):
        # Findings travel outside the secure area (a refusal's reason, the audit log, the command
        # line), so they name cells, never numbers: the values are in the full report's cells.
        findings.append(
            f"cell {_cell_label(model.cells.get_column('key')[r['cell']])} is published with different values "
            f"in tables {sorted(r['tables'])}"
        )
    pc = agg.get_column("cell").to_numpy()
    kind[pc] = PUBLISHED
    value[pc] = agg.get_column("lo").to_numpy()
    # An "x" count is >= 1 when zeros are shown (never hidden then), else >= 0 (see _checks).
    lb = np.where(kind == HIDDEN, float(x_lower(rules)), 0.0)
    ub = np.full(n, np.inf)
    lo_lab, hi_lab = rules.label_bounds
    lab = kind == LABEL
    lb[lab] = np.maximum(lb[lab], lo_lab) if lab.any() else lb[lab]
    ub[lab] = hi_lab
    lb[mag] = 0.0
    ub[mag & (kind != PUBLISHED)] = np.inf
    return kind, value, lb, ub, findings


def audit(
    protected: dict[str, pl.DataFrame],
    specs: dict[str, TableSpec],
    rules: DisclosureRules,
    earlier: list[dict[str, pl.DataFrame]] | None = None,
    dimensions: dict[str, Dimension] | None = None,
    *,
    exact: bool | None = None,
    exact_limit: int = 2000,
) -> AuditReport:
    """Attack the release: LP feasibility intervals of every protected cell.

    Builds ALL additivity constraints of everything published (across tables, margins,
    hierarchy levels, and earlier releases from the ledger), and for each protected cell
    computes min/max by linear programming (HiGHS through SciPy, one reused model per
    independent component), plus explicit checks: differencing (an equation with a single
    hidden cell), the same cell hidden in one table but published in another or in an
    earlier release, primary-sensitive values shown exactly, percentages shown for hidden
    counts or denominators. A protected cell fails if its interval holds a single integer
    (exactly recomputable) or is narrower than the protection requirement. Labelled cells:
    the attacker knows the value is in [1, threshold-1].

    ``protected`` must hold the true ``n`` (and ``value``/``top1``/``top2`` for magnitude
    tables) next to ``shown``: the audit runs inside the secure environment.

    ``exact``: compute the exact LP interval of every protected cell (True), or certify
    large releases with a few aggregate LPs per component and exact LPs only where those do
    not already prove the interval wide enough (False); ``None`` (default) is exact up to
    ``exact_limit`` hidden protected cells. The ``exact`` column of the report says which.
    """
    t0 = time.perf_counter()
    earlier = earlier or []
    frames: dict[str, pl.DataFrame] = dict(protected)
    all_specs: dict[str, TableSpec] = {k: specs[k] for k in protected if k in specs}
    missing = [k for k in protected if k not in specs]
    if missing:
        raise ValueError(f"audit: no TableSpec for tables {missing}")

    def population_of(frame: pl.DataFrame, spec: TableSpec) -> str:
        if "population" in frame.columns and frame.height:
            return frame.get_column("population")[0] or spec.population
        return spec.population

    current_populations = {population_of(protected[k], all_specs[k]) for k in protected}
    unlinked = 0
    for i, rel in enumerate(earlier):
        for name, frame in rel.items():
            spec = specs.get(name)
            spec = (
                spec if spec is not None and "population" not in frame.columns else _infer_spec(name, frame)
            )
            if population_of(frame, spec) not in current_populations:
                # Another population (last year's staff, say): no cell in common with this
                # release, so its equations are a separate system that cannot narrow any cell here.
                unlinked += 1
                continue
            key = f"earlier[{i}]/{name}"
            frames[key] = frame
            all_specs[key] = spec
    model = build_model(frames, all_specs, dimensions)
    mag = model.cells.get_column("magnitude").to_numpy()
    keys_list = model.cells.get_column("key").to_list()
    kind, value, lb, ub, findings = _knowledge(model, frames, mag, rules)

    current = {k: v for k, v in frames.items() if k in protected}
    n = cell_values(model, current, "n")
    val = cell_values(model, current, "value")
    top1 = cell_values(model, current, "top1")
    top2 = cell_values(model, current, "top2")
    in_current = ~np.isnan(n) | ~np.isnan(val)
    true = np.where(mag, val, n)
    # Protected cells: what protect marked primary, plus whatever the rules say is sensitive
    # (recomputed here, so a release that skipped the rules is caught).
    cur_rows = model.rows.filter(pl.col("table").is_in(list(protected)))
    marked = np.zeros(model.n_cells, dtype=bool)
    for name, frame in protected.items():
        if "status" in frame.columns:
            st = frame.get_column("status").to_numpy() == "primary"
            cells = cur_rows.filter(pl.col("table") == name).sort("row").get_column("cell").to_numpy()
            marked[cells[st]] = True
    ruled, labelled_rule, _ = primary_flags(
        np.nan_to_num(n, nan=-1), val, top1, top2, mag, np.zeros(model.n_cells, dtype=bool), rules
    )
    protected_cells = (marked | ruled) & in_current
    labelled = (kind == LABEL) | (labelled_rule & protected_cells)
    req_lo, req_hi = requirements(true, top1, top2, mag, labelled, rules)
    # Forced cells (a pool of a single small entity) must reach the threshold even where the rules
    # label small counts; protect marks them in its "forced" column.
    forced = np.zeros(model.n_cells, dtype=bool)
    for name, frame in protected.items():
        if "forced" in frame.columns:
            cells = cur_rows.filter(pl.col("table") == name).sort("row").get_column("cell").to_numpy()
            forced[cells[frame.get_column("forced").fill_null(False).to_numpy()]] = True
    need = reach((marked | ruled) & (kind == HIDDEN), mag, labelled_rule, forced, rules)

    # Integrity: a published number must be the true value.
    pub_cur = (kind == PUBLISHED) & in_current & ~np.isnan(true)
    wrong = np.flatnonzero(
        pub_cur & (np.abs(value - np.nan_to_num(true)) > 1e-6 * np.maximum(1.0, np.abs(np.nan_to_num(true))))
    )
    for c in wrong[:_MAX_FINDINGS_PER_KIND]:
        findings.append(
            f"cell {_cell_label(keys_list[int(c)])} is shown with a value that is not its true value"
        )

    targets = np.flatnonzero(protected_cells)
    lower = np.full(model.n_cells, np.nan)
    upper = np.full(model.n_cells, np.nan)
    shown_exact = targets[kind[targets] == PUBLISHED]
    lower[shown_exact] = upper[shown_exact] = value[shown_exact]
    for c in shown_exact[:_MAX_FINDINGS_PER_KIND]:
        findings.append(f"protected cell {_cell_label(keys_list[int(c)])} is published exactly")
    hidden_t = targets[kind[targets] != PUBLISHED]
    known = kind == PUBLISHED
    use_exact = exact if exact is not None else len(hidden_t) <= exact_limit
    start = np.nan_to_num(true)

    certify = certifier(true, req_lo, req_hi, mag, need, rules)

    res = feasibility_intervals(
        model.A,
        known,
        value,
        lb,
        ub,
        hidden_t,
        certify=None if use_exact else certify,
        start=start,
        gain=witness_gain(req_lo, req_hi, true, mag, need),
    )
    lower[hidden_t], upper[hidden_t] = res.lower, res.upper
    is_exact = np.ones(model.n_cells, dtype=bool)
    if res.exact is not None:
        is_exact[hidden_t] = res.exact
    for r in res.inconsistent_rows[:_MAX_FINDINGS_PER_KIND]:
        findings.append(f"published numbers do not add up: {model.equations[r]}")
    if res.infeasible_components:
        # What is shown contradicts the rules' promise (e.g. a small count shown "x" where the rules
        # label small counts, so "x" should mean >= threshold). An attacker then drops that
        # assumption: re-solve those cells with every "x" only known to be >= 0.
        findings.append(
            f"{len(res.infeasible_components)} groups of hidden cells contradict the published rules "
            "(an 'x' that cannot be >= the threshold, or numbers that do not add up)"
        )
        redo = np.isin(res.component, res.infeasible_components)
        relaxed = np.where(kind == HIDDEN, 0.0, lb)
        res2 = feasibility_intervals(model.A, known, value, relaxed, ub, hidden_t[redo])
        lower[hidden_t[redo]], upper[hidden_t[redo]] = res2.lower, res2.upper

    # Explicit differencing: an equation with exactly one hidden cell gives it away.
    absA = abs(model.A)
    hidden_vec = (~known).astype(float)
    cnt = absA @ hidden_vec
    lone = np.flatnonzero(np.abs(cnt - 1) < 0.5)
    if len(lone):
        sub = absA[lone].tocoo()
        sel = ~known[sub.col] & protected_cells[sub.col]
        seen = set()
        for r, c in zip(lone[sub.row[sel]], sub.col[sel], strict=True):
            if c in seen or len(seen) >= _MAX_FINDINGS_PER_KIND:
                continue
            seen.add(c)
            findings.append(f"differencing: '{model.equations[r]}' reveals {_cell_label(keys_list[int(c)])}")

    # Linked and earlier tables: the same cell hidden here but published elsewhere.
    status_rows = []
    for name, frame in frames.items():
        status_rows.append(
            frame.select(shown=pl.col("shown").cast(pl.String))
            .with_row_index("row")
            .with_columns(table=pl.lit(name))
        )
    rows = pl.concat(status_rows).join(model.rows.select("table", "row", "cell"), on=["table", "row"])
    label = rules.label or ""
    mixed = (
        rows.with_columns(hid=(pl.col("shown") == "x") | (pl.col("shown") == label))
        .group_by("cell")
        .agg(
            hid_in=pl.col("table").filter(pl.col("hid")).unique().sort(),
            pub_in=pl.col("table").filter(~pl.col("hid")).unique().sort(),
        )
        .filter((pl.col("hid_in").list.len() > 0) & (pl.col("pub_in").list.len() > 0))
    )
    for r in mixed.head(_MAX_FINDINGS_PER_KIND).iter_rows(named=True):
        findings.append(
            f"cell {_cell_label(model.cells.get_column('key')[r['cell']])} is hidden in {r['hid_in']} "
            f"but published in {r['pub_in']}"
        )

    # Percentages must not be shown where the count or its denominator is hidden.
    for name, frame in protected.items():
        spec = specs[name]
        if spec.statistic != "percentage" or "shown_percentage" not in frame.columns:
            continue
        findings += _percentage_findings(name, frame, spec, dimensions or {}, rules)

    ok_t = certify(targets, lower[targets], upper[targets])
    # Integrality: the LP passes a count over real-valued tables; the outsider knows counts are whole
    # numbers, so every count the LP passes must also keep its protection in an integer table.
    counts = ok_t & ~mag[targets] & (kind[targets] != PUBLISHED)
    if res.infeasible_components:
        counts &= ~np.isin(res.labels[targets], res.infeasible_components)
    moves = CubeMoves(model, current, all_specs, dimensions)
    whole = integer_protection(model.A, known, value, (lb, ub), targets[counts], true, need, moves)
    integer_fail = targets[counts][~whole]
    for c in integer_fail[:_MAX_FINDINGS_PER_KIND]:
        findings.append(
            f"protected cell {_cell_label(keys_list[int(c)])} keeps its protection in real-valued tables only"
        )
    ok_t[np.flatnonzero(counts)[~whole]] = False
    keys = model.cells.get_column("key").to_numpy()
    first_table = cur_rows.group_by("cell").agg(pl.col("table").first()).sort("cell")
    table_of = dict(
        zip(first_table.get_column("cell").to_list(), first_table.get_column("table").to_list(), strict=True)
    )
    shown_kind = np.array(["number", "label", "x"])
    cells_df = pl.DataFrame(
        {
            "table": [table_of.get(int(c), "") for c in targets],
            "cell": [_cell_label(keys[c]) for c in targets],
            "shown": shown_kind[kind[targets]] if len(targets) else np.array([], dtype=str),
            "true_value": true[targets],
            "lower": lower[targets],
            "upper": upper[targets],
            "required_lower": req_lo[targets],
            "required_upper": req_hi[targets],
            "ok": ok_t,
            "exact": is_exact[targets],
        },
        schema={
            "table": pl.String,
            "cell": pl.String,
            "shown": pl.String,
            "true_value": pl.Float64,
            "lower": pl.Float64,
            "upper": pl.Float64,
            "required_lower": pl.Float64,
            "required_upper": pl.Float64,
            "ok": pl.Boolean,
            "exact": pl.Boolean,
        },
    )
    n_fail = int((~ok_t).sum())
    if n_fail:
        findings.append(
            f"{n_fail} of {len(targets)} protected cells can be recomputed or narrowed below their protection interval"
        )
    summary = {
        "content_hash": content_hash(protected, specs),
        "specs": {
            k: {
                "dimensions": list(s.dimensions),
                "statistic": s.statistic,
                "percentage_of": list(s.percentage_of),
                "value": s.value,
                "population": s.population,
                "without_margins": list(s.without_margins),
            }
            for k, s in specs.items()
            if k in protected
        },
        "audited_at": clock.now().isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 3),
        "tables": len(protected),
        "cells": int(in_current.sum()),
        "published": int((known & in_current).sum()),
        "labelled": int(((kind == LABEL) & in_current).sum()),
        "suppressed": int(((kind == HIDDEN) & in_current).sum()),
        "protected_cells": len(targets),
        "failing_cells": n_fail,
        "earlier_releases": len(earlier),
        "earlier_tables_of_other_populations": unlinked,
        "equations": int(model.A.shape[0]),
        "components": int(len(np.unique(res.component))) if len(hidden_t) else 0,
        "exact_cells": int(is_exact[targets].sum()),
        "rules": {
            "threshold": rules.threshold,
            "label": rules.label,
            "protect_zeros": rules.protect_zeros,
            "dominance_n": rules.dominance_n,
            "dominance_k": rules.dominance_k,
            "p_percent": rules.p_percent,
            "protection_interval": rules.protection_interval,
            "threshold_protection": rules.threshold_protection,
        },
    }
    return AuditReport(passed=not findings, cells=cells_df, findings=findings, summary=summary)


def _percentage_findings(
    name: str, frame: pl.DataFrame, spec: TableSpec, dimensions: dict[str, Dimension], rules: DisclosureRules
) -> list[str]:
    dims = list(spec.dimensions)
    totals = {d: dimensions.get(d, Dimension(d)).total_label for d in spec.percentage_of}
    label = rules.label or ""
    is_num = (pl.col("shown") != "x") & (pl.col("shown") != label)
    den = frame.select([pl.col(d).alias(f"__k_{d}") for d in dims] + [is_num.alias("__den_num")])
    keyf = frame.with_columns(
        [pl.lit(totals[d]).alias(f"__k_{d}") if d in totals else pl.col(d).alias(f"__k_{d}") for d in dims]
    ).with_columns(__num=is_num)
    j = keyf.join(den, on=[f"__k_{d}" for d in dims], how="left")
    bad = j.filter(
        (pl.col("shown_percentage") != "x") & ~(pl.col("__num") & pl.col("__den_num").fill_null(False))
    )
    if bad.height:
        return [
            f"table {name}: {bad.height} percentages are shown although their count or denominator is hidden"
        ]
    return []
