"""Crashes and concurrency, with real processes: a SIGKILL in the middle of writing a partition
leaves the previous version intact and invisible debris only; the rerun gives the same bytes as an
undisturbed run; two years built at once by two processes equal the two built one after the other.

The killed process runs a real Dagster materialisation (``dg.materialize`` of a partitioned asset
in ``reliability_crash_defs.py``) that writes through ``cohort.storage.write_query``.
"""

import glob
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from reliability_crash_defs import TOY_PROJECT, materialize

from cohort import settings, storage

HERE = Path(__file__).parent
SCRIPT = HERE / "reliability_crash_defs.py"
BIG = 6_000_000  # about 55 MB of Parquet: most of a second of writing


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spawn(data_dir: Path, year: int, version: int, rows: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir.parent / f"{data_dir.name}-{year}.log", "wb")  # noqa: SIM115 (the child owns it)
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(data_dir), str(year), str(version), str(rows)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_sigkill_mid_write_keeps_the_previous_partition_and_the_rerun_is_byte_identical(tmp_path):
    data = tmp_path / "data"
    lake = settings.lake(data)
    area = lake.secure / TOY_PROJECT
    target = storage.partition_file(area, "big_panel", 2005)
    assert materialize(str(data), 2005, version=1, rows=1000)
    before = _sha(target)

    proc = _spawn(data, 2005, version=2, rows=BIG)
    deadline = time.monotonic() + 60
    tmp_files: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        tmp_files = [p for p in target.parent.glob(".data.parquet.*.tmp") if p.stat().st_size > 1_000_000]
        if tmp_files:
            break
        time.sleep(0.005)
    assert tmp_files, (
        f"the write never started (exit {proc.poll()}): {(tmp_path / 'data-2005.log').read_text()[-2000:]}"
    )
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    # The previous version is intact, and readers never see the half-written file.
    assert _sha(target) == before
    assert any(p.name.endswith(".tmp") for p in target.parent.iterdir())  # really killed mid-write
    assert glob.glob(storage.table_glob(area, "big_panel")) == [str(target)]
    con = storage.connect()
    assert storage.register_tables(con, area) == ["big_panel"]
    assert con.execute("SELECT count(*), min(year) FROM big_panel").fetchall() == [(1000, 2005)]

    # The rerun gives the bytes of an undisturbed run.
    assert materialize(str(data), 2005, version=2, rows=BIG)
    fresh = tmp_path / "fresh"
    assert materialize(str(fresh), 2005, version=2, rows=BIG)
    assert _sha(target) == _sha(
        storage.partition_file(settings.lake(fresh).secure / TOY_PROJECT, "big_panel", 2005)
    )
    assert _sha(target) != before


def test_two_years_built_at_once_equal_one_after_the_other(tmp_path):
    rows = 500_000
    parallel, sequential = tmp_path / "parallel", tmp_path / "sequential"
    procs = [_spawn(parallel, year, 3, rows) for year in (2005, 2006)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    for year in (2005, 2006):
        assert materialize(str(sequential), year, 3, rows)
    for year in (2005, 2006):
        a = storage.partition_file(settings.lake(parallel).secure / TOY_PROJECT, "big_panel", year)
        b = storage.partition_file(settings.lake(sequential).secure / TOY_PROJECT, "big_panel", year)
        assert _sha(a) == _sha(b)
        assert [p.name for p in a.parent.iterdir()] == ["data.parquet"]


POLARS_WRITER = """
import sys
from pathlib import Path
import numpy as np
import polars as pl
from cohort import storage
rng = np.random.default_rng(1)
df = pl.DataFrame({"a": rng.integers(0, 2**62, 8_000_000), "b": rng.integers(0, 2**62, 8_000_000)})
storage.write_frame(df, Path(sys.argv[1]))
"""


def test_sigkill_during_a_polars_write_frame_keeps_the_previous_file(tmp_path):
    area = tmp_path / "secure" / "p"
    target = storage.partition_file(area, "t", 2005)
    storage.write_frame(pl.DataFrame({"a": [1, 2, 3]}), target)
    before = _sha(target)
    proc = subprocess.Popen([sys.executable, "-c", POLARS_WRITER, str(target)])
    deadline = time.monotonic() + 60
    seen = False
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.endswith(".tmp") for p in target.parent.iterdir()):
            seen = True
            break
        time.sleep(0.001)
    assert seen, f"the write never started (exit {proc.poll()})"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _sha(target) == before
    assert glob.glob(storage.table_glob(area, "t")) == [str(target)]
