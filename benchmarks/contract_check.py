"""The contract check of warehouse tables, table by table and phase by phase. Run it with the code
to compare first on ``PYTHONPATH`` (an older checkout) and then with this one, alternating, on the
same warehouse:

    python benchmarks/contract_check.py WAREHOUSE                      # every contract table present
    python benchmarks/contract_check.py WAREHOUSE sep_quarter job_quarter

The tables are checked as a project step checks them: one connection, one call for all
(``load_sources``, as ``ensure_checked`` on a fresh lake), into a throw-away quarantine, with a
spill folder of its own (``COHORT_DUCKDB_MEMORY`` sets DuckDB's limit). It prints, per table, the
rows, wall and CPU time, rows per second, the rejected rows and the wall time of each phase
(named from the statements, so that an old checkout's phases are named too), then the totals and
the peak RSS.
"""

import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from cohort import storage
from cohort.sources import checks

SOURCE_VIEW = "TEMP VIEW _src_"  # the first statement of each table's check names the table


def phase(sql: str) -> str:
    """The phase of the check a statement belongs to."""
    text = sql.lstrip()
    for marker, name in (
        ("TEMP TABLE _births", "births"),
        ("_values", "text rules"),
        ("INSERT INTO _cand", "column scans"),
        ("TEMP TABLE _cand_rows", "rows found"),
        ("TEMP TABLE _flags", "flags"),
        ("WITH dh AS", "duplicates"),
        ("overlapping_spell", "overlaps"),
        ("file_year", "file_year"),
    ):
        if marker in text:
            return name
    if text.startswith("COPY"):
        return "write quarantine"
    return "other"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timed:
    """A connection that adds up the wall time of its statements by table and phase, and the
    wall and CPU time of each table from its first statement to the next table's."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.phases: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.spent: dict[str, list[float]] = {}
        self.table = ""
        self.mark = (time.perf_counter(), _cpu())

    def switch(self, table: str) -> None:
        now = (time.perf_counter(), _cpu())
        if self.table:
            spent = self.spent.setdefault(self.table, [0.0, 0.0])
            spent[0] += now[0] - self.mark[0]
            spent[1] += now[1] - self.mark[1]
        self.table, self.mark = table, now

    def execute(self, sql: str, *args: Any) -> Any:
        if SOURCE_VIEW in sql:
            self.switch(sql.split(SOURCE_VIEW, 1)[1].split(" ", 1)[0])
        started = time.perf_counter()
        out = self.con.execute(sql, *args)
        self.phases[self.table][phase(sql)] += time.perf_counter() - started
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def main(warehouse: Path, tables: list[str]) -> None:
    names = tables or [n for n in checks.TABLES if (warehouse / n).is_dir()]
    with tempfile.TemporaryDirectory() as quarantine, tempfile.TemporaryDirectory() as spill:
        con = storage.connect(spill=Path(spill))
        timed = Timed(con)
        wall, cpu = time.perf_counter(), _cpu()
        results = checks.load_sources(timed, warehouse, names, 1.0, Path(quarantine), incremental=False)
        timed.switch("")
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        con.close()
    print(f"{checks.__file__}")
    for name in names:
        r = results[name]
        w, c = timed.spent.get(name, [0.0, 0.0])
        phases = ", ".join(f"{k} {v:.1f}" for k, v in sorted(timed.phases[name].items()) if v >= 0.05)
        print(
            f"  {name}: {r.rows:,} rows, {w:.1f} s wall, {c:.1f} s CPU, {r.rows / max(w, 1e-9) / 1e6:.2f} M rows/s "
            f"wall, rejected {r.rejected} {dict(r.counts)}; phases (s wall): {phases}"
        )
    rows = sum(r.rows for r in results.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"total: {rows:,} rows, {wall:.1f} s wall, {cpu:.1f} s CPU, {rows / wall / 1e6:.2f} M rows/s wall, "
        f"peak RSS {peak:.2f} GB"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
