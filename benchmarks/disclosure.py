"""Benchmark of the disclosure-control engine: secondary suppression and LP audit times.

    python benchmarks/disclosure.py            # both scenarios
    python benchmarks/disclosure.py big        # one ~50,000-cell table
    python benchmarks/disclosure.py seed003    # a release shaped like deliberation 003

Scenario "big": one three-way table (100 municipalities in 10 provinces x 40 activities x
10 classes; 50,061 cells with every margin and subtotal) of synthetic counts whose means
are log-normal, so that about a fifth of the inner cells are small counts (1-4).

Scenario "seed003": the origin tables of Flemish government staff (deliberation 003):
2 origin classifications (EU-15 / EU cascade, each with "unknown" split in two) x
7 breakdowns (none, sex, age class, level, position, regime, and their combination) =
14 table families, each at 3 levels (administration, 12 policy domains, 60 entities) in
one table per family, all linked (same population) and protected together.
"""

import sys
import time
from pathlib import Path

# benchmarks/ also holds cohort.py (another benchmark): keep it from shadowing the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from cohort.privacy.disclosure import Dimension, DisclosureRules, TableSpec, audit, protect, tabulate  # noqa: E402


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


def seed003_release(seed: int = 3, staff: int = 30_000) -> tuple[dict, dict, dict]:
    rng = np.random.default_rng(seed)
    domains = [f"BD{i:02d}" for i in range(12)]
    # 60 entities of very unequal size spread over the 12 domains.
    entities = [f"ENT{i:02d}" for i in range(60)]
    hierarchy = {e: domains[i % 12] for i, e in enumerate(entities)}
    size = rng.lognormal(0, 1.2, size=60)
    ent = rng.choice(entities, staff, p=size / size.sum())
    o15 = rng.choice(
        ["EU-15", "non-EU-15", "unknown: parents", "unknown: grandparents"], staff, p=[0.88, 0.07, 0.03, 0.02]
    )
    # The EU cascade: EU-15 members are EU; part of non-EU-15 is EU (the 2004+ members).
    eu = np.where(
        o15 == "EU-15",
        "EU",
        np.where(o15 == "non-EU-15", np.where(rng.random(staff) < 0.3, "EU", "non-EU"), o15),
    )
    micro = pl.DataFrame(
        {
            "entity": ent,
            "origin_eu15": o15,
            "origin_eu": eu,
            "sex": rng.choice(["F", "M"], staff, p=[0.55, 0.45]),
            "age_class": rng.choice(
                ["18-24", "25-34", "35-44", "45-54", "55-65"], staff, p=[0.05, 0.25, 0.27, 0.25, 0.18]
            ),
            "level": rng.choice(["A", "B", "C", "D"], staff, p=[0.4, 0.25, 0.25, 0.1]),
            "position": rng.choice(["statutory", "contractual"], staff, p=[0.7, 0.3]),
            "regime": rng.choice(["full-time", "part-time"], staff, p=[0.75, 0.25]),
        }
    )
    unknown = {"unknown: parents": "unknown", "unknown: grandparents": "unknown"}
    shared = {
        "unknown: parents": "origin unknown: parents",
        "unknown: grandparents": "origin unknown: grandparents",
        "unknown": "origin unknown",
    }
    dims = {
        "entity": Dimension("entity", hierarchy),
        "origin_eu15": Dimension(
            "origin_eu15", {"EU-15": "Total", "non-EU-15": "Total", **unknown}, shared_codes=shared
        ),
        "origin_eu": Dimension(
            "origin_eu", {"EU": "Total", "non-EU": "Total", **unknown}, shared_codes=shared
        ),
    }
    breakdowns = {
        "all": (),
        "sex": ("sex",),
        "age": ("age_class",),
        "level": ("level",),
        "position": ("position",),
        "regime": ("regime",),
        "combination": ("sex", "age_class", "level", "position", "regime"),
    }
    specs = {}
    for origin in ("origin_eu15", "origin_eu"):
        for name, extra in breakdowns.items():
            t = f"{origin}_by_{name}"
            specs[t] = TableSpec(
                t,
                ("entity", origin, *extra),
                statistic="percentage",
                percentage_of=(origin,),
                population="staff 18-65 at 31/12",
            )
    return {k: micro for k in specs}, specs, dims


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
    if "big" in which:
        run("one table of ~50,000 cells", *big_table(), rules)
    if "seed003" in which:
        run("release shaped like seed 003", *seed003_release(), rules)


if __name__ == "__main__":
    main(sys.argv)
