"""Benchmark of the disclosure-control engine: secondary suppression and LP audit times.

    python benchmarks/disclosure.py            # both scenarios
    python benchmarks/disclosure.py big        # one ~50,000-cell table
    python benchmarks/disclosure.py seed003    # a release shaped like deliberation 003
    python benchmarks/disclosure.py seed003 4000   # the same with 4,000 staff (a smaller scale)
    python benchmarks/disclosure.py seed003 4000 lognormal   # the frame used before issue 25
    python benchmarks/disclosure.py headlines      # 30 small linked hierarchies: headline totals kept?

Scenario "big": one three-way table (100 municipalities in 10 provinces x 40 activities x
10 classes; 50,061 cells with every margin and subtotal) of synthetic counts whose means
are log-normal, so that about a fifth of the inner cells are small counts (1-4).

Scenario "seed003": the release of deliberation 003 at scale 1.0 (40,200 staff, the scale-1.0
size of the synthetic warehouse's Flemish government), built by the project's own code
(`build_release`: 14 table families at 3 levels, policy domains, entities under 50 pooled with
their own restricted releases) from a synthetic staff frame, then protected and audited as the
`release_tables` asset does. The frame's entities are the warehouse's
(`cohort.warehouse.agency.flemish_entities` at scale staff / 40,000: at a smaller size fewer
entities of the same sizes); `lognormal` instead spreads the staff over 60 entities in 12 domains
of log-normal sizes whatever their number (the frame before issue 25: at 4,000 staff most
entities are under 50).
"""

import sys
import time
from pathlib import Path

# benchmarks/ also holds cohort.py (another benchmark): keep it from shadowing the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from cohort.privacy.disclosure import Dimension, DisclosureRules, TableSpec, audit, protect, tabulate  # noqa: E402
from cohort.privacy.disclosure.explain import release_summary  # noqa: E402


def _micro_from_cells(cells: pl.DataFrame, counts: np.ndarray) -> pl.DataFrame:
    idx = np.repeat(np.arange(cells.height), counts)
    return cells[idx]


def big_table(seed: int = 1) -> tuple[dict, dict, dict]:
    rng = np.random.default_rng(seed)
    mun = [f"M{i:03d}" for i in range(100)]
    hierarchy = {m: f"P{i // 10:02d}" for i, m in enumerate(mun)}
    act = [f"A{i:02d}" for i in range(40)]
    cls = [f"C{i}" for i in range(10)]
    grid = pl.DataFrame({"municipality": mun}).join(pl.DataFrame({"activity": act}), how="cross")
    grid = grid.join(pl.DataFrame({"class": cls}), how="cross")
    lam = rng.lognormal(mean=1.6, sigma=1.3, size=grid.height)
    counts = rng.poisson(lam)
    micro = _micro_from_cells(grid, counts)
    dims = {"municipality": Dimension("municipality", hierarchy)}
    spec = TableSpec("big", ("municipality", "activity", "class"), population="synthetic")
    return {"big": micro}, {"big": spec}, dims


def seed003_staff(seed: int = 3, staff: int = 40_200, frame: str = "warehouse") -> pl.DataFrame:
    """A staff frame of ``staff`` people in the columns of the project's `staff` asset."""
    rng = np.random.default_rng(seed)
    if frame == "warehouse":
        from cohort.warehouse.agency import flemish_entities

        ents = flemish_entities(staff / 40_000, seed).filter(pl.col("size") > 0)
        entities = ents.get_column("entity").to_list()
        domain_of = dict(zip(entities, ents.get_column("policy_domain").to_list(), strict=True))
        size = ents.get_column("size").to_numpy().astype(np.float64)
    else:
        # 60 entities of very unequal size spread over 12 domains (a few under 50 staff).
        entities = [f"ENT{i:02d}" for i in range(60)]
        domain_of = {e: f"BD{i % 12:02d}" for i, e in enumerate(entities)}
        size = rng.lognormal(0, 1.2, size=60)
    ent = rng.choice(entities, staff, p=size / size.sum())
    codes = ["EU-15", "non-EU-15", "unknown: parents unknown", "unknown: grandparents unknown"]
    o15 = rng.choice(codes, staff, p=[0.88, 0.07, 0.03, 0.02])
    # The EU cascade: EU-15 members are EU; part of non-EU-15 is EU (the 2004+ members).
    eu = np.where(
        o15 == "EU-15",
        "EU",
        np.where(o15 == "non-EU-15", np.where(rng.random(staff) < 0.3, "EU", "non-EU"), o15),
    )
    return pl.DataFrame(
        {
            "policy_domain": [domain_of[e] for e in ent],
            "entity": ent,
            "origin_eu15": o15,
            "origin_eu": eu,
            "sex": rng.choice(["F", "M"], staff, p=[0.55, 0.45]),
            "age_class": rng.choice(
                ["18-24", "25-34", "35-44", "45-54", "55-65"], staff, p=[0.05, 0.25, 0.27, 0.25, 0.18]
            ),
            "level": rng.choice(["A", "B", "C", "D"], staff, p=[0.4, 0.25, 0.25, 0.1]),
            "position": rng.choice(["S", "C"], staff, p=[0.7, 0.3]),
            "regime": rng.choice(["FT", "PT"], staff, p=[0.75, 0.25]),
        }
    )


def run_seed003(staff: int, kind: str = "warehouse") -> None:
    """The project's own path: tabulate (pooling, restricted releases), protect, audit."""
    from cohort.projects import anonymous
    from cohort.projects.flemish_staff_origin.assets import build_release

    frame = seed003_staff(staff=staff, frame=kind)
    sizes = frame.group_by("entity").len().get_column("len")
    print(
        f"frame ({kind}): {frame.get_column('policy_domain').n_unique()} policy domains, {sizes.len()} entities, "
        f"{int(sizes.filter(sizes >= 50).sum()) / frame.height:.0%} of the staff in entities of 50 and more"
    )
    t0 = time.perf_counter()
    rt = build_release(frame, year=2024)
    t1 = time.perf_counter()
    prot = anonymous.protect_release(rt)
    t2 = time.perf_counter()
    verdict = anonymous.audit_release(prot)
    t3 = time.perf_counter()
    s = verdict.report.summary
    rows = sum(t.height for t in rt.tables.values())
    print(
        f"== seed-003 release of {staff:,} staff (the project's build_release, protect_release, audit_release)"
    )
    print(
        f"public release: {len(rt.tables)} tables, {rows:,} rows ({s['cells']:,} distinct cells), "
        f"{s['protected_cells']:,} protected, {s['suppressed']:,} shown x; {len(rt.restricted)} restricted releases"
    )
    print(f"tabulate {t1 - t0:.2f} s | protect {t2 - t1:.2f} s | audit {t3 - t2:.2f} s")
    print(
        f"audit: passed={verdict.passed}, failing {s['failing_cells']}, exact bounds for {s['exact_cells']} cells"
    )
    print_totals(prot.tables["origin_eu15"], frame.get_column("policy_domain").unique().to_list())
    print_utility(release_summary(prot.tables, prot.specs, prot.rules.label, prot.dimensions))


def print_totals(table: pl.DataFrame, domains: list[str]) -> None:
    """Whether the grand total and each policy-domain total (origin Total) are published (issue 25)."""
    head = table.filter(pl.col("origin_eu15") == "Total")
    grand = head.filter(pl.col("organisation__parent").is_null()).get_column("shown").to_list()
    dom = head.filter(pl.col("organisation").is_in(domains)).get_column("shown")
    print(
        f"totals: grand total {'published' if grand and grand[0] != 'x' else 'hidden'}, "
        f"policy-domain totals published {int((dom != 'x').sum())} of {len(domains)}"
    )


def print_utility(summary: dict) -> None:
    """The release's utility figures, as its summary.md gives them (published values only)."""
    print("utility (cells published / labelled / hidden per level of the hierarchy; share of the population")
    print("in hidden cells; the hidden cell that may be largest, bounded from published values):")
    for name, t in summary["tables"].items():
        levels = "; ".join(
            f"{d} level {lv}: {k['published']}/{k['labelled']}/{k['hidden']}"
            for d, per in t["levels"].items()
            for lv, k in per.items()
        )
        share = t["hidden_share_of_population"]
        largest = t.get("largest_hidden")
        big = (
            "none hidden"
            if not largest
            else f"{largest['cell']} (no published bound)"
            if largest["at_most"] is None
            else f"{largest['cell']} <= {largest['at_most']:g}"
        )
        print(
            f"  {name}: {t['published']}/{t['labelled']}/{t['hidden']} of {t['cells']}"
            f" | {levels or 'no hierarchy'} | hidden share {'n/a (total hidden)' if share is None else f'{share} %'}"
            f" | largest hidden: {big}"
        )


def headline_hierarchy(seed: int) -> tuple[dict, dict, dict]:
    """Three policy domains of 2-3 entities (8-59 staff each) by sex and age class, in three linked
    tables (entity; entity x age; entity x sex x age): small counts in every domain, and a
    protection that keeps the grand total and the domain totals usually exists."""
    rng = np.random.default_rng(seed)
    hierarchy, sizes = {}, {}
    for d in range(3):
        for e in range(int(rng.integers(2, 4))):
            hierarchy[f"E{d}{e}"] = f"D{d}"
            sizes[f"E{d}{e}"] = int(rng.integers(8, 60))
    rows: list[tuple[str, str, str]] = []
    for e, n in sizes.items():
        p = rng.dirichlet([1, 1, 1])
        rows += [(e, "F" if rng.random() < 0.5 else "M", str(rng.choice(3, p=p))) for _ in range(n)]
    micro = pl.DataFrame(rows, schema=["entity", "sex", "age"], orient="row")
    dims = {"entity": Dimension("entity", hierarchy)}
    specs = {
        "by_entity": TableSpec("by_entity", ("entity",), population="staff"),
        "t": TableSpec("t", ("entity", "sex", "age"), population="staff"),
        "u": TableSpec("u", ("entity", "age"), population="staff"),
    }
    return {k: micro for k in specs}, specs, dims


def run_headlines(rules: DisclosureRules, n: int = 30) -> None:
    """How often every headline total (the grand total, the three domain totals) stays published."""
    kept, hidden, cells, seconds = 0, 0, 0, 0.0
    for seed in range(n):
        micros, specs, dims = headline_hierarchy(seed)
        tables = {k: tabulate(micros[k], s, dims) for k, s in specs.items()}
        t0 = time.perf_counter()
        prot = protect(tables, specs, rules, dims)
        seconds += time.perf_counter() - t0
        b = prot["by_entity"]
        head = b.filter(pl.col("entity").is_in(["Total", "D0", "D1", "D2"]))
        kept += int((head.get_column("shown") != "x").all())
        hidden += sum(int((p.get_column("shown") == "x").sum()) for p in prot.values())
        cells += sum(p.height for p in prot.values())
    print(
        f"== {n} small linked hierarchies (3 domains, 2-3 entities each; tables entity, entity x age, entity x sex x age)"
    )
    print(
        f"every headline total published in {kept} of {n}; rows shown x {hidden:,} of {cells:,}; protect {seconds:.1f} s"
    )


def run(name: str, micros: dict, specs: dict, dims: dict, rules: DisclosureRules) -> None:
    t0 = time.perf_counter()
    tables = {k: tabulate(micros[k], s, dims) for k, s in specs.items()}
    t1 = time.perf_counter()
    cells = sum(t.height for t in tables.values())
    small = sum(int(t.filter(pl.col("n").is_between(1, rules.threshold - 1)).height) for t in tables.values())
    prot = protect(tables, specs, rules, dims)
    t2 = time.perf_counter()
    rep = audit(prot, specs, rules, dimensions=dims)
    t3 = time.perf_counter()
    status = pl.concat([p.select("status") for p in prot.values()])["status"].value_counts()
    counts = dict(zip(status["status"], status["count"], strict=True))
    s = rep.summary
    print(f"== {name}")
    print(
        f"tables {len(tables)}, rows {cells:,} (distinct cells {s['cells']:,}), small counts (rows) {small:,}"
    )
    print(f"status per row: {counts}")
    print(
        f"tabulate {t1 - t0:.2f} s | protect (primary + secondary, with its own LP checks) {t2 - t1:.2f} s | audit {t3 - t2:.2f} s"
    )
    print(
        f"audit: passed={rep.passed} protected cells {s['protected_cells']:,}, failing {s['failing_cells']}, "
        f"equations {s['equations']:,}, components {s['components']:,}, exact bounds for {s.get('exact_cells', '?')} cells"
    )
    if not rep.passed:
        print("findings:", rep.findings[:5])


def main(argv: list[str]) -> None:
    which = argv[1:] or ["big", "seed003"]
    rules = DisclosureRules(threshold=5, label="1-5")
    if "headlines" in which:
        run_headlines(rules)
    if "big" in which:
        run("one table of ~50,000 cells", *big_table(), rules)
    if "seed003" in which:
        numbers = [int(a) for a in which if a.isdigit()]
        run_seed003(numbers[0] if numbers else 40_200, "lognormal" if "lognormal" in which else "warehouse")


if __name__ == "__main__":
    main(sys.argv)
