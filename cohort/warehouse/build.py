"""Build the synthetic warehouse on disk: demography, then the labour-market tables, each table
written through ``cohort.storage`` in the layout of ``cohort.sources.contract``, plus a
``_manifest.json`` that says what was built.

Same arguments, same bytes: every frame is sorted on its key (then on its other columns) before
it is written, and the manifest holds no timestamp.
"""

import json
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import polars as pl

from cohort import storage
from cohort.settings import WAREHOUSE_MANIFEST
from cohort.sources.contract import TABLES
from cohort.warehouse.defects import inject_defects
from cohort.warehouse.demography import GENERATOR_VERSION, simulate_demography
from cohort.warehouse.labour import window_persons
from cohort.warehouse.labour_simulation import simulate_labour
from cohort.warehouse.malloc import return_freed_memory
from cohort.warehouse.model import Demography

Progress = Callable[[str, float], None]
MANIFEST = WAREHOUSE_MANIFEST


def sort_for_write(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """Deterministic row order: the contract key first, then every other column.

    Sorted on the key alone first; only when two rows share a key are the other columns used as
    well (the result is the same, and a sort on every column of a year of ``sep_quarter`` at
    scale 1.0 costs minutes and gigabytes for nothing when the key is already unique)."""
    key = [c for c in TABLES[table].key if c in df.columns] if table in TABLES else []
    rest = [c for c in df.columns if c not in key]
    if not key or df.height < 2:
        return df.sort(key + rest, nulls_last=True, maintain_order=True) if key + rest else df
    # the generators mostly hand over parts already in key order: checking costs a tenth of a sort
    before, tie = _order_on(key)
    out_of_order, has_tie = df.select(before.any().alias("before"), tie.any().alias("tie")).row(0)
    if out_of_order:
        df = df.sort(key, nulls_last=True, maintain_order=True)
        has_tie = df.select(tie.any()).item()
    if has_tie:
        df = df.sort(key + rest, nulls_last=True, maintain_order=True)
    return df


def _order_on(key: list[str]) -> tuple[pl.Expr, pl.Expr]:
    """Per row: does it come before the previous row on ``key`` (nulls last), and does it have the
    previous row's key. The first row is neither."""
    before, same = pl.lit(False), pl.lit(True)
    for c in key:
        col, prev = pl.col(c), pl.col(c).shift(1)
        less = (col.is_not_null() & prev.is_null()) | (col < prev).fill_null(False)
        before = before | (same & less)
        same = same & col.eq_missing(prev)
    first = pl.int_range(pl.len()) == 0
    return before & ~first, same & ~first


def _key_bounds(table: str, df: pl.DataFrame) -> tuple[tuple, tuple]:
    """The key of the first and of the last row of a sorted frame, comparable as tuples (a null
    sorts last, as in ``sort_for_write``)."""
    key = [c for c in TABLES[table].key if c in df.columns]

    def comparable(row: tuple) -> tuple:
        return tuple((v is None, v if v is not None else 0) for v in row)

    return comparable(df.select(key).row(0)), comparable(df.select(key).row(-1))


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


def _labour_frames(demo: Demography) -> Iterator[tuple[str, int | None, pl.DataFrame]]:
    return simulate_labour(demo)


def _labour_view(out: Path, demo: Demography) -> Demography:
    """What the labour model reads, taken back from the tables just written: the persons it can
    see (``labour.in_window``: alive during the years and resident or BIS) with their residence and
    register spells and their ``persons_extra`` row, and the nationality spells of those of them
    born abroad with a foreign nationality. Read lazily with the filter pushed into the
    scan, so the ancestors (45 % of ``person`` at scale 1.0) never come back into memory."""

    def scan(table: str) -> pl.LazyFrame:
        return pl.scan_parquet(storage.partition_file(out, table))

    persons = window_persons(scan("person"), scan("residence_history"), demo.first_year, demo.last_year)
    person = persons.collect()
    keep = person.select("insz")
    # nationality spells only of those born abroad with a foreign nationality: the agency lists
    # (regularised persons) need their naturalisation dates, and the Belgians by birth (most of
    # the table) need not come back into memory
    migrants = person.filter((pl.col("birth_country") != "BE") & (pl.col("first_nationality") != "BE"))
    return replace(
        demo,
        person=person,
        nationality_history=scan("nationality_history")
        .join(migrants.select("insz").lazy(), on="insz", how="semi")
        .collect(),
        residence_history=scan("residence_history").join(keep.lazy(), on="insz", how="semi").collect(),
        register_history=scan("register_history").join(keep.lazy(), on="insz", how="semi").collect(),
        persons_extra=demo.persons_extra.join(keep, on="insz", how="semi", maintain_order="left"),
    )


class LakeWriter:
    """Writes the generated tables as they come, on background threads.

    A table partition may come in parts, in key order (``person`` in slices of persons, a year of
    ``sep_quarter`` a quarter at a time): each part is sorted (``sort_for_write``) and appended to
    the partition's file, which is closed, and so appears, once a part of another partition
    arrives (of another year; for an unpartitioned table, of any other table). So a partition is
    never held whole in memory, and its rows are in the order of the whole partition sorted at
    once (parts never split a key).

    The parts are written while the simulation goes on: sorting and Parquet encoding release the
    GIL. Each partition is given, when its first part comes, to the writer thread with the fewest
    writes waiting, and all its parts and its closing go to that thread in the order they came:
    so a file's bytes do not depend on the threads, and two files (a quarter's ``job_quarter`` and
    ``benefit_quarter``) are encoded at once where one writer would keep the simulation waiting.
    At most ``depth`` writes wait in all (each holds its part), which bounds the memory; an error
    in a write is raised by the next ``put`` or by ``flush``, and no write queued after it runs.
    ``_appenders`` and ``_last_key`` hold one entry per partition, touched only by its thread;
    ``_open``, ``_closed``, ``_thread_of`` and ``counts`` only on the caller's.
    """

    def __init__(self, out: Path, depth: int = 2, writers: int = 2) -> None:
        self.out = out
        self.counts: dict[str, int] = {}
        self._pools = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"warehouse-writer-{i}")
            for i in range(writers)
        ]
        self._pending: deque[tuple[int, Future]] = deque()
        self._depth = depth
        self._appenders: dict[tuple[str, int | None], storage.FrameAppender] = {}
        self._last_key: dict[tuple[str, int | None], tuple] = {}
        self._open: list[tuple[str, int | None]] = []
        self._closed: set[tuple[str, int | None]] = set()
        self._thread_of: dict[tuple[str, int | None], int] = {}
        self._failed = False

    def put(self, table: str, year: int | None, df: pl.DataFrame) -> list[tuple[str, int | None]]:
        """Queue a part of ``table`` (``year`` None for an unpartitioned table); returns the
        partitions this closes."""
        if table not in TABLES:
            raise ValueError(f"generator yielded unknown table {table!r}")
        if TABLES[table].by_year != (year is not None):
            raise ValueError(
                f"{table}: year {year!r} does not match the contract (by_year={TABLES[table].by_year})"
            )
        key = (table, year)
        if key in self._closed:
            raise ValueError(f"generator yielded {table} {year} again after it was written")
        done = [k for k in self._open if k[1] != year or (year is None and k != key)]
        for k in done:
            self._submit(k, self._close, k)
            self._open.remove(k)
            self._closed.add(k)
        if key not in self._open:
            self._open.append(key)
            self._thread_of[key] = self._least_busy()
        self._submit(key, self._append, key, df)
        self.counts[table] = self.counts.get(table, 0) + df.height
        return done

    def flush(self) -> list[tuple[str, int | None]]:
        """Close every open partition and wait for all writes; returns the partitions closed."""
        done = list(self._open)
        for k in done:
            self._submit(k, self._close, k)
            self._closed.add(k)
        self._open.clear()
        while self._pending:
            self._pending.popleft()[1].result()
        return done

    def shutdown(self) -> None:
        """Stop the threads; after an error, the files of unfinished partitions are removed."""
        for _, f in self._pending:
            f.cancel()
        for pool in self._pools:
            pool.shutdown(wait=True)
        self._pending.clear()
        for appender in self._appenders.values():
            appender.abort()
        self._appenders.clear()

    def _least_busy(self) -> int:
        waiting = [0] * len(self._pools)
        for i, f in self._pending:
            waiting[i] += not f.done()
        return waiting.index(min(waiting))

    def _submit(self, key: tuple[str, int | None], fn: Callable, *args: object) -> None:
        while len(self._pending) >= self._depth:
            self._pending.popleft()[1].result()
        i = self._thread_of[key]
        self._pending.append((i, self._pools[i].submit(self._run, fn, *args)))

    def _run(self, fn: Callable, *args: object) -> None:
        # once a write has failed, nothing queued after it runs: a partition that lost a part
        # must not be closed into place (the first error is the one raised, in queue order)
        if self._failed:
            return
        try:
            fn(*args)
        except BaseException:
            self._failed = True
            raise

    def _append(self, key: tuple[str, int | None], df: pl.DataFrame) -> None:
        table = key[0]
        df = sort_for_write(table, _conform(table, df))
        if df.height:
            first, last = _key_bounds(table, df)
            if key in self._last_key and first < self._last_key[key]:
                raise ValueError(f"generator yielded the parts of {table} {key[1]} out of key order")
            self._last_key[key] = last
        if key not in self._appenders:
            # min/max only where they prune: on the key the rows are ordered by (an eighth of the
            # encoding time saved on the quarterly tables)
            self._appenders[key] = storage.FrameAppender(
                storage.partition_file(self.out, table, key[1]), statistics=list(TABLES[table].key)
            )
        self._appenders[key].append(df)

    def _close(self, key: tuple[str, int | None]) -> None:
        self._appenders.pop(key).close()


def build_warehouse(
    out_dir: str | Path,
    scale: float,
    seed: int,
    first_year: int = 2005,
    last_year: int = 2026,
    progress: Progress | None = None,
    with_labour: bool = True,
    defects: bool = False,
) -> dict:
    """Simulate and write the warehouse into ``out_dir``; returns the manifest. ``with_labour=False``
    writes the National Register tables only (quick structural checks of the demography);
    ``defects`` adds a few documented delivery errors (:mod:`cohort.warehouse.defects`), listed
    in the manifest under ``defects``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return_freed_memory()
    say = progress or (lambda label, frac: None)
    n_years = last_year - first_year + 1
    lake = LakeWriter(out)

    def year_done(keys: list[tuple[str, int | None]]) -> None:
        for table, year in keys:
            if year is not None and table != "household_jan1":
                say(f"{table} {year}", 0.5 + 0.45 * (year - first_year + 1) / n_years)

    labour: Iterator[tuple[str, int | None, pl.DataFrame]] = iter(())
    try:
        say("demography", 0.0)
        # the whole-period tables go to disk as they are built (see simulate_demography)
        demo = simulate_demography(
            scale, seed, first_year, last_year, sink=lambda table, part: lake.put(table, None, part)
        )
        say("demography", 0.35)
        for i, (year, hh) in enumerate(demo.household_years()):
            lake.put("household_jan1", year, hh)
            del hh
            say(f"households {year}", 0.35 + 0.15 * (i + 1) / n_years)
        demo.household_years = lambda: iter(())  # frees the arrays the household closure holds
        lake.flush()  # the labour model reads person and the spells back from disk
        if with_labour:
            demo = _labour_view(out, demo)
        say("labour market", 0.5)
        # the labour model reads the person and spell frames once, at its start; dropping our
        # reference lets them be freed before the quarters run
        labour = _labour_frames(demo) if with_labour else iter(())
        del demo
        for table, year, df in labour:
            year_done(lake.put(table, year, df))
            del df
        year_done(lake.flush())
    finally:
        # a labour model stopped by an error ends here, not whenever its frame is collected: it
        # holds the quarters' arrays and the process-wide malloc policy of its quarters
        close = getattr(labour, "close", None)
        if close is not None:
            close()
        lake.shutdown()

    injected = inject_defects(out, seed, first_year, last_year) if defects else {}
    counts = dict(lake.counts)
    for table, rules in injected.items():  # a row delivered twice adds one row per pair
        counts[table] += rules.get("duplicate_key", 0) // 2
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "scale": scale,
        "seed": seed,
        "first_year": first_year,
        "last_year": last_year,
        "years": list(range(first_year, last_year + 1)),
        "labour_model": with_labour,
        "tables": dict(sorted(counts.items())),
        "defects": injected,
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
