"""The release as one linear system: every distinct cell of every table is one variable,
every additivity relation (a margin or subtotal equals the sum of its children, along each
dimension and hierarchy level of each table) is one equation.

Cells of LINKED tables (same population) with the same coordinates, dimensions at their
total left out, are the same variable: this is what makes suppression consistent across
tables and what lets the audit see differencing between tables.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from cohort.privacy.disclosure.tables import PARENT_SUFFIX, Dimension, TableSpec


@dataclass
class ReleaseModel:
    """Cells, rows and equations of a set of tables.

    Attributes:
        rows: one row per table row: ``table``, ``row`` (position in its frame), ``cell``.
        cells: one row per variable: ``cell``, ``key``, ``magnitude`` (bool), ``height`` (see
            :func:`_heights`: how far up the hierarchies of its population's dimensions the cell
            sits, the same in every linked table; the grand total is highest), ``table``/``row``
            of its first occurrence (for readable names).
        A: equations x cells (+1 children, -1 margin); ``A @ x = 0`` for the true values.
        equations: a readable name per equation.
    """

    rows: pl.DataFrame
    cells: pl.DataFrame
    A: sp.csr_matrix
    equations: list[str]

    @property
    def n_cells(self) -> int:
        return self.cells.height


def parent_map(table: str, frame: pl.DataFrame, dim: str, dimension: Dimension) -> dict[str, str | None]:
    col = dim + PARENT_SUFFIX
    total = dimension.total_label
    if col in frame.columns:
        pairs = frame.select(pl.col(dim), pl.col(col)).unique()
        pm: dict[str, str | None] = {}
        for code, parent in pairs.iter_rows():
            if code in pm and pm[code] != parent:
                raise ValueError(f"table {table}: code {code!r} of {dim} has two parents in {col}")
            pm[code] = parent
        return pm
    codes = [c for c in frame.get_column(dim).unique().to_list() if c is not None]
    if dimension.hierarchy:
        parents = set(dimension.hierarchy.values())
        leaves = [c for c in codes if c != total and c not in parents]
        return dimension.parent_map(leaves)
    return {c: (None if c == total else total) for c in codes} | {total: None}


def _heights(pm: dict[str, str | None]) -> dict[str, int]:
    """code -> its height in the hierarchy ``pm`` (code -> parent): 0 for a leaf, else 1 + the
    height of its highest child; the total is the highest code."""
    children: dict[str, list[str]] = {}
    for code, parent in pm.items():
        if parent is not None:
            children.setdefault(parent, []).append(code)
    out: dict[str, int] = {}

    def height(code: str) -> int:
        if code not in out:
            out[code] = 1 + max(height(c) for c in children[code]) if code in children else 0
        return out[code]

    for code in pm:
        height(code)
    return out


def _table_frame(name: str, frame: pl.DataFrame, spec: TableSpec, dimensions: dict[str, Dimension]):
    """Keys and equation entries of one table."""
    dims = list(spec.dimensions)
    missing = [d for d in dims if d not in frame.columns]
    if missing:
        raise ValueError(f"table {name}: frame lacks dimension columns {missing}")
    nulls = {d: frame.get_column(d).null_count() for d in dims if frame.get_column(d).null_count()}
    if nulls:
        raise ValueError(f"table {name}: null codes in dimension columns {nulls}")
    population = spec.population
    if "population" in frame.columns and frame.height:
        population = frame.get_column("population")[0] or population
    measure = f"sum:{spec.value}" if spec.is_magnitude else "n"
    dmap = {d: dimensions.get(d, Dimension(d)) for d in dims}
    f = frame.select(
        [pl.col(d).cast(pl.String) for d in dims] + [c for c in frame.columns if c.endswith(PARENT_SUFFIX)]
    )
    f = f.with_row_index("__row")
    pmaps = {d: parent_map(name, frame, d, dmap[d]) for d in dims}

    def key_and_height(codes: dict[str, pl.Expr]) -> tuple[pl.Expr, pl.Expr]:
        """The cell key (population, measure, sorted non-total coordinates) and its height within
        this table's dimensions."""
        tokens, height_terms = [], []
        for d in dims:
            dim, col = dmap[d], codes[d]
            shared = dim.shared_codes or {}
            tok = pl.lit(d + "=") + col
            if shared:
                tok = (
                    pl.when(col.is_in(list(shared)))
                    .then(pl.lit("~") + col.replace_strict(shared, default=None, return_dtype=pl.String))
                    .otherwise(tok)
                )
            tokens.append(pl.when(col == dim.total_label).then(None).otherwise(tok))
            height_terms.append(col.replace_strict(heights[d], default=0, return_dtype=pl.Int64))
        prefix = f"{population}|{measure}|"
        if not dims:
            return pl.lit(prefix), pl.lit(0, dtype=pl.Int64)
        if any(dmap[d].shared_codes for d in dims):
            joined = pl.concat_list(tokens).list.drop_nulls().list.sort().list.join(";")
        else:
            # The same sorted join without list operations (several times faster): tokens start
            # with "<dimension>=", so ordering the dimensions by that prefix orders the tokens.
            order = sorted(range(len(dims)), key=lambda i: dims[i] + "=")
            joined = pl.concat_str([tokens[i] for i in order], separator=";", ignore_nulls=True)
        return pl.lit(prefix) + joined, pl.sum_horizontal(height_terms).cast(pl.Int64)

    heights = {d: _heights(pmaps[d]) for d in dims}
    key, height = key_and_height({d: pl.col(d) for d in dims})
    keyed = f.with_columns(__key=key, __height=height)
    # Cells of linked tables that sum this table's cells over its dimensions without margins:
    # every combination of each such coordinate or one of its ancestors (the total included),
    # the cell itself left out. build_model keeps those that are cells of the release.
    aggregates = pl.DataFrame(schema={"agg_key": pl.String, "row": pl.UInt32, "over": pl.String})
    flat = [d for d in spec.without_margins if d in dims]
    if flat:
        proj = keyed.select("__row", *[pl.col(d).alias(f"__o_{d}") for d in dims])
        for d in flat:
            pairs = []
            for code in keyed.get_column(d).unique().to_list():
                cur: str | None = code
                while cur is not None:
                    pairs.append((code, cur))
                    cur = pmaps[d].get(cur)
                if pairs[-1][1] != dmap[d].total_label:
                    pairs.append((code, dmap[d].total_label))
            bridge = pl.DataFrame(pairs, schema={f"__o_{d}": pl.String, d: pl.String}, orient="row")
            proj = proj.join(bridge, on=f"__o_{d}", how="inner")
        changed = pl.any_horizontal([pl.col(d) != pl.col(f"__o_{d}") for d in flat])
        codes = {d: pl.col(d) if d in flat else pl.col(f"__o_{d}") for d in dims}
        agg_key, _ = key_and_height(codes)
        over = pl.concat_str(
            [pl.when(pl.col(d) != pl.col(f"__o_{d}")).then(pl.lit(d)) for d in flat],
            separator=", ",
            ignore_nulls=True,
        )
        aggregates = proj.filter(changed).select(agg_key=agg_key, row=pl.col("__row"), over=over)
    entries: list[pl.LazyFrame] = []
    lazy = keyed.lazy()  # one collect for all dimensions (small tables are dominated by per-query overhead)
    for d in dims:
        if d in spec.without_margins:
            continue  # no margin over it in this table: its sums are other tables' cells (aggregates)
        pm = pmaps[d]
        others = [x for x in dims if x != d]
        has_children = sorted({p for p in pm.values() if p is not None})
        parent = pl.col(d).replace_strict(pm, default=None, return_dtype=pl.String)
        # A readable equation name that is also its identity: table, dimension, margin code, other coordinates.
        where: list[pl.Expr] = []
        for i, o in enumerate(others):
            where += [pl.lit(("; " if i else " at ") + o + "="), pl.col(o)]

        def eq_name(margin: pl.Expr, d: str = d, where: list[pl.Expr] = where) -> pl.Expr:
            return pl.concat_str(
                [pl.lit(f"{name}: {d}="), margin, pl.lit(f" is the sum of its {d} children"), *where]
            )

        child = lazy.filter(parent.is_not_null()).select(
            eq=eq_name(parent), row=pl.col("__row"), coef=pl.lit(1, dtype=pl.Int8)
        )
        par = lazy.filter(pl.col(d).is_in(has_children)).select(
            eq=eq_name(pl.col(d)), row=pl.col("__row"), coef=pl.lit(-1, dtype=pl.Int8)
        )
        entries += [child, par]
    if entries:
        eqs = pl.concat(entries).collect()
    else:
        eqs = pl.DataFrame(schema={"eq": pl.String, "row": pl.UInt32, "coef": pl.Int8})
    return (
        keyed.select(row="__row", key="__key", height="__height"),
        eqs.with_columns(table=pl.lit(name)),
        aggregates.with_columns(table=pl.lit(name)),
        {d: heights[d].get(dmap[d].total_label, 0) for d in dims},
        f"{population}|{measure}|",
    )


def build_model(
    frames: dict[str, pl.DataFrame],
    specs: dict[str, TableSpec],
    dimensions: dict[str, Dimension] | None = None,
) -> ReleaseModel:
    """The linear system of all tables in ``frames`` (spec looked up by table name)."""
    dimensions = dimensions or {}
    keyed_parts, eq_parts, agg_parts = [], [], []
    totals: dict[str, dict[str, dict[str, int]]] = {}  # population prefix -> table -> dim -> total's height
    for name, frame in frames.items():
        spec = specs.get(name)
        if spec is None:
            raise ValueError(f"table {name}: no TableSpec given")
        keyed, eqs, aggregates, total_heights, prefix = _table_frame(name, frame, spec, dimensions)
        totals.setdefault(prefix, {})[name] = total_heights
        keyed_parts.append(keyed.with_columns(table=pl.lit(name)))
        eq_parts.append(eqs)
        agg_parts.append(aggregates)
    # A linked cell's height must not depend on the table it is read from: a dimension that a
    # table lacks is at its total there, so it adds its total's height (taken over the linked
    # tables). The grand total is then the highest cell of its population, a policy-domain total
    # one below it, whatever table shows them.
    missing_height: dict[str, int] = {}
    for per_table in totals.values():
        universe: dict[str, int] = {}
        for th in per_table.values():
            for d, h in th.items():
                universe[d] = max(universe.get(d, 0), h)
        for name, th in per_table.items():
            missing_height[name] = sum(h for d, h in universe.items() if d not in th)
    rows = (
        pl.concat(keyed_parts)
        if keyed_parts
        else pl.DataFrame(
            schema={
                "row": pl.UInt32,
                "key": pl.String,
                "height": pl.Int64,
                "table": pl.String,
            }
        )
    )
    rows = rows.with_columns(
        pl.col("height") + pl.col("table").replace_strict(missing_height, default=0, return_dtype=pl.Int64)
    )
    cells = (
        rows.group_by("key", maintain_order=True)
        .agg(
            height=pl.col("height").max(),
            table=pl.col("table").first(),
            row=pl.col("row").first(),
        )
        .with_row_index("cell")
        .with_columns(
            pl.col("cell").cast(pl.Int64), magnitude=pl.col("key").str.contains("|sum:", literal=True)
        )
    )
    rows = rows.join(cells.select("key", "cell"), on="key", how="left").select("table", "row", "cell", "key")
    eqs = (
        pl.concat(eq_parts)
        if eq_parts
        else pl.DataFrame(schema={"eq": pl.String, "row": pl.UInt32, "coef": pl.Int8, "table": pl.String})
    )
    eqs = eqs.join(rows.select("table", "row", "cell"), on=["table", "row"], how="left").select(
        "eq", "cell", "coef"
    )
    aggregates = pl.concat(agg_parts) if agg_parts else pl.DataFrame()
    if aggregates.height:
        # A linked cell that sums a table over its dimensions without margins: one equation
        # (that cell = the sum of the table's cells below it), named after both.
        hit = aggregates.join(cells.select(agg_key="key", margin="cell"), on="agg_key", how="inner").join(
            rows.select("table", "row", "cell"), on=["table", "row"], how="left"
        )
        name = pl.concat_str(
            [pl.col("table"), pl.lit(": "), pl.col("agg_key"), pl.lit(" is the sum over "), pl.col("over")]
        )
        terms = hit.select(eq=name, cell="cell", coef=pl.lit(1, dtype=pl.Int8))
        margins = hit.select(eq=name, cell="margin", coef=pl.lit(-1, dtype=pl.Int8)).unique()
        eqs = pl.concat([eqs, terms, margins])
    # One equation per distinct set of terms (linked tables repeat the same relations).
    sig = (
        eqs.group_by("eq", maintain_order=True)
        .agg(terms=(pl.col("cell") * 2 + (pl.col("coef") > 0).cast(pl.Int64)).sort())
        .with_columns(sig=pl.col("terms").cast(pl.List(pl.String)).list.join(","))
        .unique("sig", keep="first", maintain_order=True)
        .with_row_index("eq_id")
    )
    eqs = eqs.join(sig.select("eq", "eq_id"), on="eq", how="inner")
    # Repeated terms of one equation (a cell linked to itself) cancel or add: sum them.
    eqs = eqs.group_by("eq_id", "cell").agg(pl.col("coef").cast(pl.Int64).sum()).filter(pl.col("coef") != 0)
    A = sp.csr_matrix(
        (
            eqs.get_column("coef").to_numpy().astype(float),
            (eqs.get_column("eq_id").to_numpy().astype(np.int64), eqs.get_column("cell").to_numpy()),
        ),
        shape=(sig.height, cells.height),
    )
    names = sig.get_column("eq").to_list()
    return ReleaseModel(rows=rows, cells=cells, A=A, equations=names)


def cell_values(model: ReleaseModel, frames: dict[str, pl.DataFrame], column: str) -> np.ndarray:
    """Per-cell values of ``column`` (NaN where absent); raises on conflicting linked cells."""
    parts = []
    for name, frame in frames.items():
        if column in frame.columns:
            parts.append(
                frame.select(pl.col(column).cast(pl.Float64).alias("v"))
                .with_row_index("row")
                .with_columns(table=pl.lit(name))
            )
    out = np.full(model.n_cells, np.nan)
    if not parts:
        return out
    vals = pl.concat(parts).join(model.rows, on=["table", "row"], how="inner")
    per = vals.group_by("cell").agg(
        lo=pl.col("v").min(), hi=pl.col("v").max(), tables=pl.col("table").unique()
    )
    bad = per.filter((pl.col("hi") - pl.col("lo")).abs() > 1e-9)
    if bad.height:
        r = bad.row(0, named=True)
        key = model.cells.get_column("key")[r["cell"]]
        raise ValueError(
            f"tables {sorted(r['tables'])}: linked cell {key!r} has different {column} values "
            f"({r['lo']} vs {r['hi']}); {bad.height} such cells. Tables with the same population must describe the same units."
        )
    out[per.get_column("cell").to_numpy()] = per.get_column("lo").to_numpy()
    return out


def row_cells(model: ReleaseModel, name: str) -> np.ndarray:
    """The cell id of each row of table ``name`` (in frame order)."""
    r = model.rows.filter(pl.col("table") == name).sort("row")
    return r.get_column("cell").to_numpy()
