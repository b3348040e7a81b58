"""What a researcher reads beside the tables: why each cell is protected, and what the release lost.

Two products, both computed so that they tell an outsider nothing the shown tables do not already
tell (see docs/disclosure.md, "Reasons and summary"):

- :func:`cell_reasons`: one row per protected cell of a table (identified by its dimension values)
  with what is shown and why. A cell shown as the label is ``primary`` (a count under the threshold:
  the label says so already); a hidden cell of a pool holding a single entity is ``primary`` (the
  entity-size rule, public, names the pool). Every other hidden cell is ``suppressed``: a small count,
  or a partner hidden to protect one, without saying which. Saying "secondary partner" would tell the
  reader the count is at least the threshold (partners are never small counts), and saying "primary"
  that it is under it; either bound can recompute a neighbour, or pin the cell itself into
  [1, threshold-1], the very fact the rule hides.
- :func:`release_summary` / :func:`summary_markdown`: per table, cells published, labelled and hidden
  per level of each hierarchy, and the share of the population in hidden cells, computed from the
  SHOWN values only (grand total minus the published finest cells), so only when the grand total is
  published; with a hidden total the share would give the total away.
"""

from typing import Any

import polars as pl

from cohort.privacy.disclosure.tables import PARENT_SUFFIX, Dimension, TableSpec

#: Columns of a reasons file beside the dimensions (and their parents).
REASON_COLUMNS = ("shown", "protection", "reason")
PRIMARY = "primary"
SUPPRESSED = "suppressed"


def _total_label(frame: pl.DataFrame, dim: str, dimensions: dict[str, Dimension]) -> str:
    if dim in dimensions:
        return dimensions[dim].total_label
    parent = dim + PARENT_SUFFIX
    if parent in frame.columns:
        tops = frame.filter(pl.col(parent).is_null()).get_column(dim).unique().to_list()
        if len(tops) == 1:
            return str(tops[0])
    return "Total"


def _dimension_columns(frame: pl.DataFrame, spec: TableSpec) -> list[str]:
    cols = []
    for d in spec.dimensions:
        cols.append(d)
        if d + PARENT_SUFFIX in frame.columns:
            cols.append(d + PARENT_SUFFIX)
    return cols


def cell_reasons(frame: pl.DataFrame, spec: TableSpec, label: str | None) -> pl.DataFrame:
    """The protected cells of one protected table with their protection and reason; no value."""
    hidden = frame.filter(pl.col("status") != "published")
    forced = pl.col("forced") if "forced" in hidden.columns else pl.lit(False)
    is_label = pl.lit(False) if not label else pl.col("shown") == label
    what = "magnitude" if spec.is_magnitude else "count"
    return hidden.select(
        *_dimension_columns(frame, spec),
        pl.col("shown").cast(pl.String),
        protection=pl.when(is_label | forced).then(pl.lit(PRIMARY)).otherwise(pl.lit(SUPPRESSED)),
        reason=pl.when(is_label)
        .then(pl.lit(f"threshold: a {what} under the threshold, shown as the label"))
        .when(forced)
        .then(pl.lit("entity size: a pool that holds a single small entity"))
        .otherwise(
            pl.lit(f"hidden: a {what} protected by the rules or a partner that protects one (not told which)")
        ),
    )


def _levels(frame: pl.DataFrame, dim: str, total: str) -> pl.Series:
    """Depth of each row's code in the dimension's hierarchy (0: the total)."""
    parent = dim + PARENT_SUFFIX
    if parent not in frame.columns:
        return (frame.get_column(dim) != total).cast(pl.Int64)
    up = dict(
        zip(
            frame.get_column(dim).to_list(),
            frame.get_column(parent).to_list(),
            strict=True,
        )
    )
    depth: dict[str, int] = {}

    def level(code: str) -> int:
        if code not in depth:
            p = up.get(code)
            depth[code] = 0 if p is None else 1 + level(p)
        return depth[code]

    return pl.Series([level(c) for c in frame.get_column(dim).to_list()], dtype=pl.Int64)


def _number(shown: pl.Expr) -> pl.Expr:
    return shown.cast(pl.Float64, strict=False)


def _hidden_share(
    frame: pl.DataFrame, spec: TableSpec, totals: dict[str, str], grand_total: float | None
) -> float | None:
    """Share of the population in hidden finest cells, from shown values: (total - published finest
    cells) / total. None when the total is not published."""
    if grand_total is None or grand_total <= 0:
        return None
    finest = pl.lit(True)
    for d in spec.dimensions:
        if d in spec.without_margins:
            continue
        parents = set()
        if d + PARENT_SUFFIX in frame.columns:
            parents = set(frame.get_column(d + PARENT_SUFFIX).drop_nulls().to_list())
        finest = finest & (pl.col(d) != totals[d]) & ~pl.col(d).is_in(list(parents))
    shown_sum = frame.filter(finest).select(_number(pl.col("shown")).fill_null(0).sum()).item()
    return max(0.0, (grand_total - float(shown_sum)) / grand_total)


def _largest_hidden_bound(
    frame: pl.DataFrame, spec: TableSpec, totals: dict[str, str]
) -> dict[str, Any] | None:
    """The hidden cell that may be the largest, by a bound any reader computes from the table: a
    hidden cell is at most its published parent (along any dimension with margins) minus its
    published siblings. Never a true value: that would leave the secure area (docs/disclosure.md).
    None when the table hides nothing; ``at_most`` None when no hidden cell has a published parent."""
    dims = [d for d in spec.dimensions if d not in spec.without_margins]
    all_dims = list(spec.dimensions)
    parent_of: dict[str, dict[str, str]] = {}
    for d in dims:
        if d + PARENT_SUFFIX in frame.columns:
            pairs = frame.select(d, d + PARENT_SUFFIX).unique().drop_nulls()
            parent_of[d] = dict(pairs.iter_rows())
        else:
            parent_of[d] = {c: totals[d] for c in frame.get_column(d).unique().to_list() if c != totals[d]}
    shown: dict[tuple, str] = {tuple(r[:-1]): r[-1] for r in frame.select(*all_dims, "shown").iter_rows()}

    def number(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None

    # published children per (dimension, parent coordinates)
    published_below: dict[tuple[str, tuple], float] = {}
    for coords, text in shown.items():
        value = number(text)
        for d in dims:
            at = all_dims.index(d)
            parent = parent_of[d].get(coords[at])
            if parent is None or value is None:
                continue
            key = (d, coords[:at] + (parent,) + coords[at + 1 :])
            published_below[key] = published_below.get(key, 0.0) + value
    best: tuple[float, str] | None = None
    for coords, text in shown.items():
        if text != "x":  # a label is under the threshold anyway
            continue
        bound = float("inf")
        for d in dims:
            at = all_dims.index(d)
            parent = parent_of[d].get(coords[at])
            if parent is None:
                continue
            up = coords[:at] + (parent,) + coords[at + 1 :]
            total = number(shown.get(up, "x"))
            if total is not None:
                bound = min(bound, total - published_below.get((d, up), 0.0))
        name = ", ".join(f"{d}={c}" for d, c in zip(all_dims, coords, strict=True))
        if best is None or bound > best[0]:
            best = (bound, name)
    if best is None:
        return None
    return {"cell": best[1], "at_most": None if best[0] == float("inf") else best[0]}


def release_summary(
    protected: dict[str, pl.DataFrame],
    specs: dict[str, TableSpec],
    label: str | None,
    dimensions: dict[str, Dimension] | None = None,
) -> dict[str, Any]:
    """Per table: cells published / labelled / hidden, per level of each hierarchy, and the hidden
    share of the population (only from shown values, only when the grand total is published)."""
    dimensions = dimensions or {}
    # The grand total of a population is one cell shared by its linked tables; a table without it
    # (one without margins) uses the one another table of the release publishes.
    grand: dict[str, float] = {}
    tables: dict[str, Any] = {}
    for name, frame in sorted(protected.items()):
        spec = specs[name]
        totals = {d: _total_label(frame, d, dimensions) for d in spec.dimensions}
        at_total = pl.lit(True)
        for d in spec.dimensions:
            at_total = at_total & (pl.col(d) == totals[d])
        top = frame.filter(at_total).select(_number(pl.col("shown"))).to_series()
        if len(top) == 1 and top[0] is not None:
            grand[spec.population] = float(top[0])
    for name, frame in sorted(protected.items()):
        spec = specs[name]
        totals = {d: _total_label(frame, d, dimensions) for d in spec.dimensions}
        kind = (
            pl.when(pl.col("shown") == "x")
            .then(pl.lit("hidden"))
            .when(pl.lit(bool(label)) & (pl.col("shown") == (label or "")))
            .then(pl.lit("labelled"))
            .otherwise(pl.lit("published"))
        )
        counted = frame.select(pl.col(d) for d in spec.dimensions).with_columns(
            kind=frame.select(kind.alias("kind")).to_series()
        )
        by_kind = dict(counted.group_by("kind").len().iter_rows())
        levels = {}
        for d in spec.dimensions:
            if d + PARENT_SUFFIX not in frame.columns:
                continue
            with_level = counted.with_columns(level=_levels(frame, d, totals[d]))
            rows = with_level.group_by("level", "kind").len().sort("level")
            per_level: dict[str, dict[str, int]] = {}
            for lv, k, n in rows.iter_rows():
                per_level.setdefault(str(lv), {"published": 0, "labelled": 0, "hidden": 0})[k] = int(n)
            levels[d] = per_level
        share = _hidden_share(frame, spec, totals, grand.get(spec.population))
        tables[name] = {
            "cells": frame.height,
            "published": int(by_kind.get("published", 0)),
            "labelled": int(by_kind.get("labelled", 0)),
            "hidden": int(by_kind.get("hidden", 0)),
            "levels": levels,
            "hidden_share_of_population": None if share is None else round(100 * share, 1),
            "grand_total_published": spec.population in grand,
            "largest_hidden": _largest_hidden_bound(frame, spec, totals),
        }
    cells = sum(t["cells"] for t in tables.values())
    published = sum(t["published"] for t in tables.values())
    return {"tables": tables, "cells": cells, "published": published, "label": label}


def suppression_causes(summary: dict[str, Any]) -> list[str]:
    """Why a release is dominated by suppression, in sentences read off its shown cells only (the
    counts of the summary's table; nothing about which "x" is primary, see ``OPERATOR_ONLY_COUNTS``):
    the tables that hold most protected cells, the share of those that are labelled small counts,
    and the tables whose grand total is hidden."""
    tables = summary["tables"]
    protected = {n: t["labelled"] + t["hidden"] for n, t in tables.items()}
    total = sum(protected.values())
    if not total:
        return []
    out: list[str] = []
    # the fewest tables that together hold at least half of the protected cells
    heavy, held = [], 0
    for name in sorted(protected, key=lambda n: (-protected[n], n)):
        if held >= total / 2:
            break
        heavy.append(name)
        held += protected[name]
    out.append(
        f"- {held:,} of the {total:,} protected cells are in "
        + ", ".join(f"`{n}` ({protected[n]:,} of {tables[n]['cells']:,} cells)" for n in heavy)
        + ": the most detailed tables, whose cells split the population into the smallest groups."
    )
    labelled = sum(t["labelled"] for t in tables.values())
    if summary.get("label") and labelled:
        out.append(
            f"- {labelled:,} protected cells are small counts shown as {summary['label']!r}; the 'x' "
            "cells are the others the rules protect and the cells hidden so that none of them can be "
            "recomputed from the margins."
        )
    no_total = [n for n, t in tables.items() if not t.get("grand_total_published", True)]
    if no_total:
        out.append(
            f"- The grand total is hidden in {len(no_total)} of {len(tables)} tables (for them the share "
            "of the population in hidden cells is not given)."
        )
    return out


def summary_markdown(summary: dict[str, Any], title: str) -> str:
    """The human summary of a release (summary.md)."""
    cells, published = summary["cells"], summary["published"]
    label = summary.get("label")
    lines = [
        f"# {title}: what is published and what is protected",
        "",
        f"{published:,} of {cells:,} cells are published as numbers"
        + (f" ({100 * published / cells:.0f} %)." if cells else "."),
        f"Protected cells are shown {'as ' + repr(label) + ' (a count under the threshold) or ' if label else ''}"
        "as 'x' (hidden). Each table's `<table>.reasons.csv` lists its protected cells and why.",
        "",
    ]
    if cells and published < cells / 2:
        lines += [
            "**This release is dominated by suppression**: fewer than half its cells are published. "
            "The tables are detailed for the size of the population (small groups in many cells, "
            "and the partners that protect them).",
            *suppression_causes(summary),
            "",
        ]
    lines += [
        "| table | cells | published | labelled | hidden | population in hidden cells |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in summary["tables"].items():
        share = t["hidden_share_of_population"]
        share_text = "not given (the total is not published)" if share is None else f"{share:.1f} %"
        lines.append(
            f"| {name} | {t['cells']} | {t['published']} | {t['labelled']} | {t['hidden']} | {share_text} |"
        )
    level_rows = [
        f"| {name} | {d} | {lv} | {k['published']} | {k['labelled']} | {k['hidden']} |"
        for name, t in summary["tables"].items()
        for d, per in t["levels"].items()
        for lv, k in per.items()
    ]
    if level_rows:
        lines += [
            "",
            "Per hierarchy level (0: the total, 1: its first subdivision, ...):",
            "",
            "| table | dimension | level | published | labelled | hidden |",
            "|---|---|---|---|---|---|",
            *level_rows,
        ]
    largest = [
        f"| {name} | {t['largest_hidden']['cell']} | "
        + (
            "no published margin bounds it"
            if t["largest_hidden"]["at_most"] is None
            else f"at most {t['largest_hidden']['at_most']:g}"
        )
        + " |"
        for name, t in summary["tables"].items()
        if t.get("largest_hidden")
    ]
    if largest:
        lines += [
            "",
            "The hidden cell that may be the largest, by a bound read off the published table (its "
            "published parent minus its published siblings; never its true value):",
            "",
            "| table | cell | bound |",
            "|---|---|---|",
            *largest,
        ]
    lines += [
        "",
        "The share of the population in hidden cells is the grand total minus the published finest "
        "cells, so anyone can compute it from the tables; it is left out when the grand total is "
        "hidden, as it would then give the total away.",
    ]
    return "\n".join(lines) + "\n"
