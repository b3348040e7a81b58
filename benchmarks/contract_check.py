"""The contract check of one warehouse table, its phases timed: the row rules (``flags``), the
duplicate-key pass, the rest. Run it with the code to compare first on ``PYTHONPATH`` (an older
checkout) and then with this one, alternating, on the same warehouse:

    python benchmarks/contract_check.py WAREHOUSE sep_quarter

It checks every file anew (``incremental=False``) into a throw-away quarantine, with a spill folder
of its own (``COHORT_DUCKDB_MEMORY`` sets DuckDB's limit), and prints wall and CPU time, peak RSS,
the rows and the rejected rows by rule, and the wall time of each phase.
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


def phase(sql: str) -> str:
    if "TEMP TABLE _flags" in sql:
        return "flags"
    if "WITH dh AS" in sql:
        return "duplicates"
    if "file_year" in sql:
        return "file_year"
    if sql.lstrip().startswith("COPY"):
        return "write quarantine"
    return "other"


class Timed:
    """A connection that adds up the wall time of its statements by phase."""

    def __init__(self, con: Any, times: dict[str, float]) -> None:
        self.con, self.times = con, times

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        out = self.con.execute(sql, *args)
        self.times[phase(sql)] += time.perf_counter() - started
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def main(warehouse: Path, table: str) -> None:
    times: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory() as quarantine, tempfile.TemporaryDirectory() as spill:
        con = storage.connect(spill=Path(spill))
        wall, cpu = time.perf_counter(), time.process_time()
        result = checks.load_source(
            Timed(con, times), warehouse, table, 1.0, Path(quarantine), incremental=False
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(times.items()))
    print(
        f"{checks.__file__}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak {peak:.2f} GB; rows {result.rows:,}, "
        f"rejected {result.rejected} {dict(result.counts)}; {phases}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
