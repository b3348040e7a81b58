"""Tables of a release: their dimensions, their specification and their tabulation.

A table is kept in *long format*: one row per cell, INCLUDING every margin and subtotal.
Every dimension takes its codes, its hierarchy parents (e.g. entity -> policy domain,
*entiteit -> beleidsdomein*) and its total label. Keeping all levels as rows of one frame
is what lets suppression and audit see every additivity relation (cell = sum of its
children, along every dimension and every hierarchy level) of the release at once.

For a hierarchical dimension the frame also carries a ``<dimension>__parent`` column (the
parent code of the row's code; null for the total), so that a table is self-describing and
:func:`~cohort.privacy.disclosure.suppression.protect` and
:func:`~cohort.privacy.disclosure.audit.audit` can rebuild the hierarchy equations from the
frame alone.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

#: Suffix of the column that carries a hierarchical dimension's parent code.
PARENT_SUFFIX = "__parent"
#: Columns of a tabulated or protected frame that are not dimensions.
RESERVED_COLUMNS = frozenset(
    {
        "table",
        "n",
        "value",
        "top1",
        "top2",
        "status",
        "forced",
        "shown",
        "percentage",
        "shown_percentage",
        "population",
    }
)


@dataclass(frozen=True)
class Dimension:
    """One classifying variable of a table (a column of the microdata).

    Attributes:
        name: the column name in the microdata and in the table.
        hierarchy: child code -> parent code, e.g. entity -> policy domain. Chains are
            allowed (entity -> domain -> ...); the top parents roll up into the total.
            Codes must be unique over all levels. Leaf codes declared here appear in the
            table even when nobody has them (as zero cells).
        total_label: the code of the margin (all codes together).
        codes: optional complete list of leaf codes (so that empty categories appear as
            zero cells even if nobody falls in them).
        shared_codes: code -> shared token, for codes that denote exactly the same units
            in another dimension of the same variable (e.g. "unknown origin" in both the
            EU-15 and the EU classification of origin). Cells with the same shared token and
            the same other coordinates are treated as ONE number by suppression and audit,
            so that one table cannot reveal what the other hides.
    """

    name: str
    hierarchy: dict[str, str] | None = None
    total_label: str = "Total"
    codes: tuple[str, ...] | None = None
    shared_codes: dict[str, str] | None = field(default=None)

    def parent_map(self, leaf_codes: Iterable[str]) -> dict[str, str | None]:
        """code -> parent code over every level (the total maps to ``None``).

        Raises ValueError on cycles, on codes that occur at two levels, or on a code equal
        to the total label.
        """
        parents: dict[str, str | None] = {self.total_label: None}
        hierarchy = dict(self.hierarchy or {})
        for child, parent in hierarchy.items():
            if child == self.total_label or parent == self.total_label:
                if parent == self.total_label:
                    continue  # an explicit "child -> Total" is the same as a top code
                raise ValueError(f"dimension {self.name}: code {child!r} equals the total label")
        for code in leaf_codes:
            if code == self.total_label:
                raise ValueError(f"dimension {self.name}: code {code!r} equals the total label")
            if hierarchy and code not in hierarchy:
                if code in set(hierarchy.values()):
                    raise ValueError(
                        f"dimension {self.name}: code {code!r} is a hierarchy parent but occurs as a leaf in the data"
                    )
                raise ValueError(f"dimension {self.name}: code {code!r} has no parent in the hierarchy")
            parents[code] = hierarchy.get(code, self.total_label)
        for child, parent in hierarchy.items():
            parents[child] = parent
            if parent != self.total_label and parent not in hierarchy:
                parents[parent] = self.total_label
        # Cycle check: every chain must reach the total.
        for code in list(parents):
            seen = set()
            cur: str | None = code
            while cur is not None:
                if cur in seen:
                    raise ValueError(f"dimension {self.name}: hierarchy has a cycle through {cur!r}")
                seen.add(cur)
                cur = parents.get(cur)
        return parents

    def leaves(self, observed: Iterable[str]) -> list[str]:
        """Leaf codes: the declared ones (``codes``, hierarchy children) plus the observed ones."""
        out = set(observed)
        if self.codes:
            out |= set(self.codes)
        if self.hierarchy:
            parents = set(self.hierarchy.values())
            out |= {c for c in self.hierarchy if c not in parents}
        return sorted(out)


@dataclass(frozen=True)
class TableSpec:
    """What one released table shows.

    Attributes:
        name: the table's name (file name of the release).
        dimensions: the classifying columns, in display order.
        statistic: ``"count"`` (number of units) or ``"percentage"`` (counts AND their
            percentages, the percentage of each cell relative to the margin over
            ``percentage_of``).
        percentage_of: the dimensions whose margin is the 100% (e.g. ``("origin",)`` gives
            the origin distribution within each entity).
        value: magnitude variable summed in the cells (magnitude table) or ``None``.
        population: a description of the units counted, including the reference date.
            Tables with the same population are LINKED: a cell with the same coordinates
            (dimensions at their total dropped) is the same number in each of them.
        without_margins: dimensions this table shows at their leaf codes only, with no total
            or subtotal over them (a "combination" table whose margins are other tables of the
            release). The disclosure model still knows that every linked cell aggregating over
            them is the sum of this table's cells.
    """

    name: str
    dimensions: tuple[str, ...]
    statistic: str = "count"
    percentage_of: tuple[str, ...] = ()
    value: str | None = None
    population: str = ""
    without_margins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.statistic not in ("count", "percentage"):
            raise ValueError(
                f"table {self.name}: statistic must be 'count' or 'percentage', got {self.statistic!r}"
            )
        if len(set(self.dimensions)) != len(self.dimensions):
            raise ValueError(f"table {self.name}: repeated dimension in {self.dimensions}")
        bad = [d for d in self.percentage_of if d not in self.dimensions]
        if bad:
            raise ValueError(f"table {self.name}: percentage_of names unknown dimensions {bad}")
        bad = [d for d in self.without_margins if d not in self.dimensions or d in self.percentage_of]
        if bad:
            raise ValueError(
                f"table {self.name}: without_margins names {bad}: not a dimension of the table, or the base of its percentages"
            )
        if self.statistic == "percentage" and not self.percentage_of:
            raise ValueError(f"table {self.name}: a percentage table needs percentage_of")
        clash = [d for d in self.dimensions if d in RESERVED_COLUMNS or d.endswith(PARENT_SUFFIX)]
        if clash:
            raise ValueError(f"table {self.name}: dimension names {clash} are reserved")

    @property
    def is_magnitude(self) -> bool:
        return self.value is not None


def _dims_for(spec: TableSpec, dimensions: dict[str, Dimension] | None) -> list[Dimension]:
    dimensions = dimensions or {}
    return [dimensions.get(d, Dimension(d)) for d in spec.dimensions]


def tabulate(
    micro: pl.DataFrame,
    spec: TableSpec,
    dimensions: dict[str, Dimension] | None = None,
    *,
    complete: bool = True,
    max_cells: int = 20_000_000,
) -> pl.DataFrame:
    """Count (or sum) the microdata into one long-format table with every margin.

    One row per cell including all margins and subtotals: every dimension takes its leaf
    codes, its hierarchy parents and its total label. Columns: ``table``, the dimension
    columns (String), ``<dim>__parent`` for hierarchical dimensions, ``n`` (Int64 number
    of units) and, for magnitude tables, ``value`` (Float64 sum) with ``top1``/``top2`` (the
    two largest contributions; each microdata row is one contributor, so aggregate the
    microdata to contributors first when a contributor has several rows per cell).

    Dimensions in ``spec.without_margins`` keep their leaf codes only (no roll-up over them).

    ``complete`` (default) adds zero cells for every combination of leaf codes, because an
    outsider reads an absent combination as a zero anyway; ``max_cells`` guards against a
    combinatorial explosion with a clear error.

    Raises ValueError when a dimension column is missing or holds nulls (naming the table,
    the column and the number of nulls), or when a hierarchy does not cover the data.
    """
    dims = _dims_for(spec, dimensions)
    missing = [d.name for d in dims if d.name not in micro.columns]
    if spec.value is not None and spec.value not in micro.columns:
        missing.append(spec.value)
    if missing:
        raise ValueError(f"table {spec.name}: microdata lacks columns {missing}")
    names = [d.name for d in dims]
    for d in dims:
        nulls = micro.get_column(d.name).null_count()
        if nulls:
            raise ValueError(
                f"table {spec.name}: dimension {d.name} has {nulls} null values; code them (e.g. 'unknown') before tabulating"
            )
    cast = [pl.col(d).cast(pl.String) for d in names]
    if spec.is_magnitude:
        nulls = micro.get_column(spec.value).null_count()
        if nulls:
            raise ValueError(f"table {spec.name}: magnitude variable {spec.value} has {nulls} null values")
        base = (
            micro.select([*cast, pl.col(spec.value).cast(pl.Float64).alias("value")])
            .group_by(names)
            .agg(
                n=pl.len().cast(pl.Int64),
                value=pl.col("value").sum(),
                tops=pl.col("value").top_k(2),
            )
            .with_columns(pl.col("tops").list.sort(descending=True))
            .with_columns(
                top1=pl.col("tops").list.get(0, null_on_oob=True),
                top2=pl.col("tops").list.get(1, null_on_oob=True),
            )
            .drop("tops")
        )
    else:
        base = micro.select(cast).group_by(names).agg(n=pl.len().cast(pl.Int64))

    parent_maps: dict[str, dict[str, str | None]] = {}
    leaves: dict[str, list[str]] = {}
    for d in dims:
        observed = base.get_column(d.name).unique().to_list() if names else []
        leaves[d.name] = d.leaves(observed)
        parent_maps[d.name] = d.parent_map(leaves[d.name])

    if complete and names:
        size = 1
        for d in names:
            size *= max(len(leaves[d]), 1)
        if size > max_cells:
            raise ValueError(
                f"table {spec.name}: {size} leaf cells exceed max_cells={max_cells}; pass complete=False or coarsen"
            )
        grid = pl.DataFrame({names[0]: leaves[names[0]]}, schema={names[0]: pl.String})
        for d in names[1:]:
            grid = grid.join(pl.DataFrame({d: leaves[d]}, schema={d: pl.String}), how="cross")
        base = grid.join(base, on=names, how="left").with_columns(pl.col("n").fill_null(0))
        if spec.is_magnitude:
            base = base.with_columns(pl.col("value").fill_null(0.0))

    frame = base
    aggs = [pl.col("n").sum()]
    if spec.is_magnitude:
        aggs += [
            pl.col("value").sum(),
            pl.concat_list("top1", "top2")
            .explode()
            .drop_nulls()
            .top_k(2)
            .sort(descending=True)
            .alias("tops"),
        ]
    for d in dims:
        if d.name in spec.without_margins:
            continue
        pm = parent_maps[d.name]
        # leaf -> every strict ancestor (including the total): one join rolls a leaf up to all levels.
        pairs: list[tuple[str, str]] = []
        for leaf in leaves[d.name]:
            cur = pm.get(leaf)
            while cur is not None:
                pairs.append((leaf, cur))
                cur = pm.get(cur)
        bridge = pl.DataFrame(pairs, schema={d.name: pl.String, "__anc": pl.String}, orient="row")
        others = [c for c in names if c != d.name]
        up = frame.join(bridge, on=d.name, how="inner").drop(d.name).rename({"__anc": d.name})
        up = up.group_by([*others, d.name]).agg(aggs)
        if spec.is_magnitude:
            up = up.with_columns(
                top1=pl.col("tops").list.get(0, null_on_oob=True),
                top2=pl.col("tops").list.get(1, null_on_oob=True),
            ).drop("tops")
        frame = pl.concat([frame, up.select(frame.columns)], how="vertical")

    if not names:  # a table without dimensions is just the grand total
        frame = base
    out_cols = [pl.lit(spec.name).alias("table")]
    for d in dims:
        out_cols.append(pl.col(d.name))
        if d.hierarchy and d.name not in spec.without_margins:
            pm = {k: v for k, v in parent_maps[d.name].items()}
            out_cols.append(
                pl.col(d.name)
                .replace_strict(pm, default=None, return_dtype=pl.String)
                .alias(d.name + PARENT_SUFFIX)
            )
    out_cols.append(pl.col("n").cast(pl.Int64))
    if spec.is_magnitude:
        out_cols += [pl.col(c).cast(pl.Float64) for c in ("value", "top1", "top2")]
    out = frame.select(out_cols)
    # Deterministic order: grand total first, then by codes.
    sort_keys = [pl.col(d.name) != d.total_label for d in dims] + [pl.col(d.name) for d in dims]
    return out.sort(sort_keys) if dims else out
