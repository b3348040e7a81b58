"""Delivery errors in the synthetic warehouse, like those of a real extract, so that the contract
check and its quarantine are seen working end to end in the demo and the UI.

A real extract carries a few rows that break its own rules: an INSZ typed with a wrong check
digit, a death registered before the birth, a wage sent in cents or with its sign flipped, a
code the nomenclature does not have, a quarter delivered twice. :func:`inject_defects` puts
about one such row per :data:`ROWS_PER_DEFECT` rows into a few files (seeded: same warehouse,
same defects), far below a project's default threshold
(:data:`cohort.sources.checks.DEFAULT_MAX_REJECT_SHARE`, one row in a thousand), and returns what
it did, per table and rule, for the warehouse manifest. Each defect breaks exactly one rule,
so the quarantine's counts per rule must equal the manifest's.

``cohort warehouse build``, the ``synthetic_warehouse`` asset and ``cohort demo`` inject them by
default; :func:`cohort.warehouse.build.build_warehouse` called from Python (tests, benchmarks)
does not unless asked.
"""

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cohort import storage
from cohort.classifications.insz import insz_valid_expr

ROWS_PER_DEFECT = 20_000
UNKNOWN_NOMENCLATURE = "999"  # not a code of the DWH nomenclature
UNKNOWN_CAREER_BREAK_REASON = "sabbatical"  # not a code of codes.CAREER_BREAK_REASON


def _pick(rng: np.random.Generator, candidates: int, rows: int) -> np.ndarray:
    """Row positions among ``candidates`` for one defect kind: about one per ROWS_PER_DEFECT of
    ``rows``, at least one, at most the candidates there are."""
    n = min(candidates, max(1, rows // ROWS_PER_DEFECT))
    return np.sort(rng.choice(candidates, size=n, replace=False)) if n else np.array([], dtype=np.int64)


def _mark(df: pl.DataFrame, where: pl.Expr, rng: np.random.Generator, rows: int) -> pl.Series:
    """A boolean mask of the rows chosen for a defect among those where ``where`` holds."""
    candidates = df.with_row_index("_i").filter(where)["_i"]
    chosen = candidates.gather(_pick(rng, candidates.len(), rows))
    return pl.Series(np.isin(np.arange(df.height), chosen.to_numpy()))


def _person(df: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, int]]:
    # an INSZ typed with a wrong check digit (check digits + 1, mod 100), where that number is
    # wrong under both rules and nobody else's
    cc = (pl.col("insz").str.slice(9, 2).cast(pl.Int32) + 1) % 100
    typed = pl.col("insz").str.slice(0, 9) + cc.cast(pl.String).str.zfill(2)
    typo = _mark(df, ~insz_valid_expr(typed) & ~typed.is_in(df["insz"].implode()), rng, df.height)
    # a death registered before the birth
    dead = _mark(df, pl.col("death_date").is_not_null() & ~pl.lit(typo), rng, df.height)
    out = df.with_columns(
        pl.when(typo).then(typed).otherwise(pl.col("insz")).alias("insz"),
        pl.when(dead)
        .then(pl.col("birth_date") - timedelta(days=1))
        .otherwise(pl.col("death_date"))
        .alias("death_date"),
    )
    return out, {"insz_checksum:insz": int(typo.sum()), "before_birth:death_date": int(dead.sum())}


def _job(df: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, int]]:
    # a wage sent in cents (only where that leaves the plausible range) or with its sign flipped
    cents = _mark(df, pl.col("gross_wage") > 10_000, rng, df.height)
    flipped = _mark(df, (pl.col("gross_wage") > 0) & ~cents, rng, df.height)
    wage = (
        pl.when(cents)
        .then(pl.col("gross_wage") * 100)
        .when(flipped)
        .then(-pl.col("gross_wage"))
        .otherwise(pl.col("gross_wage"))
    )
    return df.with_columns(wage.alias("gross_wage")), {"range:gross_wage": int(cents.sum() + flipped.sum())}


def _sep(df: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, int]]:
    unknown = _mark(df, pl.lit(True), rng, df.height)
    code = pl.when(unknown).then(pl.lit(UNKNOWN_NOMENCLATURE)).otherwise(pl.col("nomenclature"))
    return df.with_columns(code.alias("nomenclature")), {"code:nomenclature": int(unknown.sum())}


def _benefit(df: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, dict[str, int]]:
    # a career-break reason the RVA's code list does not have (a new column of the contract, issue 24)
    unknown = _mark(df, pl.col("career_break_reason").is_not_null(), rng, df.height)
    reason = (
        pl.when(unknown).then(pl.lit(UNKNOWN_CAREER_BREAK_REASON)).otherwise(pl.col("career_break_reason"))
    )
    # a row delivered twice: both copies break the key (which copy is right is not ours to guess)
    twice = _mark(df, ~pl.lit(unknown), rng, df.height)
    df = df.with_columns(reason.alias("career_break_reason"))
    out = pl.concat([df, df.filter(twice)]).sort(["quarter", "insz", "benefit"], maintain_order=True)
    return out, {"duplicate_key": 2 * int(twice.sum()), "code:career_break_reason": int(unknown.sum())}


DEFECTS = {"person": _person, "job_quarter": _job, "sep_quarter": _sep, "benefit_quarter": _benefit}


def defect_years(first_year: int, last_year: int) -> list[int]:
    """The years of the yearly tables that get defects: a quarter and three quarters into the
    period (2010 and 2020 for 2005-2026), so that every project's years hold some."""
    span = last_year - first_year
    return sorted({first_year + span // 4, first_year + 3 * span // 4})


def inject_defects(warehouse: Path, seed: int, first_year: int, last_year: int) -> dict[str, dict[str, int]]:
    """Rewrite a few files of ``warehouse`` with delivery errors; return ``{table: {rule: rows}}``."""
    rng = np.random.default_rng([seed, 4711])
    done: dict[str, dict[str, int]] = {}
    for table, defect in DEFECTS.items():
        years = [None] if table == "person" else defect_years(first_year, last_year)
        for year in years:
            path = storage.partition_file(Path(warehouse), table, year)
            if not path.exists():
                continue
            df = pl.read_parquet(path)
            damaged, counts = defect(df, rng)
            storage.write_frame(damaged, path)
            for rule, n in counts.items():
                if n:
                    done.setdefault(table, {})
                    done[table][rule] = done[table].get(rule, 0) + n
    return done
