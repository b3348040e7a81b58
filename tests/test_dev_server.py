"""``cohort dev`` as a newcomer starts it: from a shell whose PATH does not hold the venv's bin/,
on the demo's lake. Its first line names the lake and says demo mode is on; a year of the labour
reserve materialised through the GraphQL API (``launchRun``, as the UI's *Materialize* does)
succeeds, which needs the demo's local key in the run's processes; SIGTERM stops the whole process
group and ``cohort dev`` exits 0, leaving no dagster process behind.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SUITE_TODAY

from cohort import settings
from cohort.ops import devserver
from cohort.ops.commands import dev_demo_mode

pytestmark = pytest.mark.server

COHORT = str(Path(sys.executable).parent / "cohort")  # the real command line of this environment
PROJECT = "labour_reserve"
YEAR = "2021"


def _defined() -> bool:
    from cohort.definitions import PROJECTS

    return PROJECT in PROJECTS


def _shell_environment() -> dict[str, str]:
    """A login shell's environment: no venv bin/ on PATH, no demo mode, no key, no Dagster home.
    PYTHONPATH stays: in a worktree it is what points the interpreter at the code under test."""
    dropped = {"COHORT_DEMO", "COHORT_WAREHOUSE_DIR", "COHORT_DATA_DIR", "DAGSTER_HOME", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("COHORT_KEY")}
    env.update(PATH="/usr/bin:/bin", DAGSTER_DISABLE_TELEMETRY="1", COHORT_TODAY=SUITE_TODAY)
    return env


@pytest.fixture
def demo_lake(small_warehouse: Path, tmp_path: Path) -> Path:
    """A lake whose warehouse is the synthetic generator's (a link to the session's small one)."""
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "warehouse").symlink_to(small_warehouse, target_is_directory=True)
    return lake


@contextmanager
def cohort_dev(lake: Path, log: Path) -> Iterator[devserver.DevServer]:
    """``cohort dev --data-dir LAKE -p PORT`` as a subprocess in a process group of its own, so
    that the test can clean up whatever happens."""
    port = devserver.free_port()
    env = _shell_environment()
    assert not any(Path(p, "dagster").exists() for p in env["PATH"].split(os.pathsep))
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [COHORT, "dev", "--data-dir", str(lake), "-p", str(port)],
            cwd=lake,  # not the repository: it finds its workspace.yaml itself
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield devserver.DevServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc: no extra dependency)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """True for a process that still runs (a zombie waiting for its parent to reap it is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_gone(pids: set[int], timeout: float) -> set[int]:
    deadline = time.monotonic() + timeout  # reparented children may take a moment to be reaped
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return {p for p in pids if _alive(p)}


@pytest.mark.skipif(not _defined(), reason="labour reserve not in the code location")
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.skipif(
    "libfaketime" in os.environ.get("LD_PRELOAD", ""),
    reason="the Dagster daemon's timed waits never return under libfaketime (tests/test_ops_webserver.py)",
)
def test_cohort_dev_without_the_venv_on_path_builds_a_year_in_demo_mode_and_stops_on_sigterm(
    demo_lake: Path, tmp_path: Path
):
    log = tmp_path / "cohort_dev.log"
    with cohort_dev(demo_lake, log) as server:
        server.wait_ready(timeout=180)
        first_line = log.read_text().splitlines()[0]
        assert first_line.startswith(f"Serving the demo lake {demo_lake} "), first_line
        assert "demo mode on" in first_line, first_line

        # a year of the labour reserve, with the pseudonym mapping it reads: both hash the national
        # number with the project's key, which only demo mode makes (under the lake's keys/)
        keys = [[PROJECT, "person_mapping"], [PROJECT, "situation"]]
        run = server.wait_run(server.launch_run(keys, YEAR), timeout=240)
        assert run["status"] == "SUCCESS", (run, server.tail())
        assert {"key": "dagster/partition", "value": YEAR} in run["tags"]
        assert any((demo_lake / "keys").iterdir())
        situation = demo_lake / "secure" / PROJECT / "situation" / f"year={YEAR}" / "data.parquet"
        assert situation.stat().st_size > 0
        assert [m["partition"] for m in server.materialisations([PROJECT, "situation"], [YEAR])] == [YEAR]

        started = _descendants(server.process.pid)
        assert len(started) >= 3, started  # dagster dev, its webserver and daemon at least
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0, server.tail()
        assert not _wait_gone(started, timeout=10), server.tail()
    assert "Traceback" not in log.read_text()


def test_the_first_line_says_which_lake_and_whether_demo_mode_is_on(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    monkeypatch.delenv("COHORT_WAREHOUSE_DIR", raising=False)
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "warehouse").symlink_to(small_warehouse, target_is_directory=True)
    on, line = dev_demo_mode(settings.lake(demo))
    assert on and line.startswith(f"Serving the demo lake {demo} ") and "demo mode on" in line

    # an explicit COHORT_DEMO=0 is obeyed, even on the synthetic warehouse
    monkeypatch.setenv("COHORT_DEMO", "0")
    on, line = dev_demo_mode(settings.lake(demo))
    assert not on and "demo mode off (COHORT_DEMO=0)" in line

    # a warehouse that is not the generator's: demo mode only when asked for
    real = tmp_path / "real"
    (real / "warehouse" / "person").mkdir(parents=True)
    monkeypatch.delenv("COHORT_DEMO")
    on, line = dev_demo_mode(settings.lake(real))
    assert not on and line.startswith(f"Serving lake {real} ") and "demo mode off" in line
    monkeypatch.setenv("COHORT_DEMO", "1")
    on, line = dev_demo_mode(settings.lake(real))
    assert on and "demo mode on" in line

    # no warehouse yet (`make dev` before `make demo`): said so
    monkeypatch.delenv("COHORT_DEMO")
    on, line = dev_demo_mode(settings.lake(tmp_path / "empty"))
    assert not on and "no warehouse yet" in line
