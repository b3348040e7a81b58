"""Build the synthetic warehouse on disk: demography, then the labour-market tables, each table
written through ``cohort.storage`` in the layout of ``cohort.sources.contract``, plus a
``_manifest.json`` that says what was built.

Same arguments, same bytes: every frame is sorted on its key (then on its other columns) before
it is written, and the manifest holds no timestamp.
"""

import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from cohort import storage
from cohort.sources.contract import TABLES
from cohort.warehouse.demography import GENERATOR_VERSION, simulate_demography

Progress = Callable[[str, float], None]
MANIFEST = "_manifest.json"


def sort_for_write(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Deterministic row order: the contract key first, then every other column."""
    key = [c for c in TABLES[table].key if c in df.columns] if table in TABLES else []
    rest = [c for c in df.columns if c not in key]
    return df.sort(key + rest, nulls_last=True, maintain_order=True)


def _conform(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Columns in contract order (a frame with other columns is a programming error)."""
    cols = TABLES[table].columns
    missing = set(cols) - set(df.columns)
    extra = set(df.columns) - set(cols)
    if missing or extra:
        raise ValueError(
            f"{table}: frame does not follow the contract (missing {sorted(missing)}, extra {sorted(extra)})"
        )
    return df.select(cols)


def labour_available() -> bool:
    return importlib.util.find_spec("cohort.warehouse.labour") is not None


def _labour_frames(demo) -> Iterator[tuple[str, int | None, pl.DataFrame]]:
    if not labour_available():
        return iter(())
    from cohort.warehouse.labour import simulate_labour  # written by the labour-market model

    return simulate_labour(demo)


def build_warehouse(
    out_dir: str | Path,
    scale: float,
    seed: int,
    first_year: int = 2005,
    last_year: int = 2026,
    progress: Progress | None = None,
    with_labour: bool = True,
) -> dict:
    """Simulate and write the warehouse into ``out_dir``; returns the manifest. ``with_labour=False``
    writes the National Register tables only (quick structural checks of the demography)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda label, frac: None)
    counts: dict[str, int] = {}

    def write(table: str, year: int | None, df: pl.DataFrame) -> None:
        df = sort_for_write(table, _conform(table, df))
        storage.write_frame(df, storage.partition_file(out, table, year))
        counts[table] = counts.get(table, 0) + df.height

    say("demography", 0.0)
    demo = simulate_demography(scale, seed, first_year, last_year)
    n_years = last_year - first_year + 1
    say("demography", 0.35)
    for table in ("person", "nationality_history", "residence_history", "register_history"):
        write(table, None, getattr(demo, table))
    for i, (year, hh) in enumerate(demo.household_years()):
        write("household_jan1", year, hh)
        say(f"households {year}", 0.35 + 0.15 * (i + 1) / n_years)

    # labour-market tables: unpartitioned tables may come in several frames; a partitioned
    # table's year is written when the next year (or the end) arrives
    say("labour market", 0.5)
    pending: dict[tuple[str, int | None], list[pl.DataFrame]] = {}
    last_year_of: dict[str, int] = {}

    def flush(key: tuple[str, int | None]) -> None:
        frames = pending.pop(key)
        write(key[0], key[1], pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0])

    for table, year, df in _labour_frames(demo) if with_labour else ():
        if table not in TABLES:
            raise ValueError(f"labour model yielded unknown table {table!r}")
        if TABLES[table].by_year != (year is not None):
            raise ValueError(
                f"{table}: year {year!r} does not match the contract (by_year={TABLES[table].by_year})"
            )
        if year is not None:
            prev = last_year_of.get(table)
            if prev is not None and prev != year and (table, prev) in pending:
                flush((table, prev))
                say(f"{table} {prev}", 0.5 + 0.45 * (prev - first_year + 1) / n_years)
            last_year_of[table] = year
        pending.setdefault((table, year), []).append(df)
    for key in sorted(pending, key=lambda k: (k[0], k[1] if k[1] is not None else -1)):
        flush(key)

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "scale": scale,
        "seed": seed,
        "first_year": first_year,
        "last_year": last_year,
        "years": list(range(first_year, last_year + 1)),
        "labour_model": with_labour and labour_available(),
        "tables": dict(sorted(counts.items())),
    }
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.replace(out / MANIFEST)
    say("done", 1.0)
    return manifest


def read_manifest(warehouse: str | Path) -> dict:
    """The manifest of a built warehouse; an empty dict for a real extract without one."""
    path = Path(warehouse) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}
