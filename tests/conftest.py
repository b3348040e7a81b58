"""Shared fixtures: small synthetic warehouses built once per test session, and the hand-made
cohort scenario of ``hand_cohort.py`` built once (``cohort``).

``demo_warehouse``: scale 0.01, seed 7, 2005-2026 (the calibration scale: every shared target
must pass on it). ``small_warehouse``: scale 0.002, seed 3, 2005-2026 (fast structural tests).
Both are built into a session temporary folder, never into the repository's ``data/``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hand_cohort import KEY_HEX, BuiltCohort, write_cohort_warehouse

from cohort.warehouse.build import build_warehouse

# Tests never depend on the real date: "today" (cohort.clock) is fixed inside every project's
# retention, and tests of what happens after a retention date set their own. Subprocesses (the
# command line, dagster dev) inherit it.
SUITE_TODAY = "2026-06-30"
os.environ["COHORT_TODAY"] = SUITE_TODAY


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_warehouse")
    build_warehouse(out, scale=0.01, seed=7, first_year=2005, last_year=2026)
    return out


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small_warehouse")
    build_warehouse(out, scale=0.002, seed=3, first_year=2005, last_year=2026)
    return out


COHORT = str(Path(sys.executable).parent / "cohort")  # the command line of this environment


def run_cohort(
    args: list[str], env: dict[str, str], cwd: Path | str, timeout: float = 600
) -> subprocess.CompletedProcess:
    """The real ``cohort`` command line in a subprocess; ``env`` replaces the environment, except
    that the suite's clock stays (a test must not depend on the real date)."""
    env = {**env, "COHORT_TODAY": env.get("COHORT_TODAY", SUITE_TODAY)}
    return subprocess.run([COHORT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> BuiltCohort:
    """The scenario warehouse with the sample, the mappings, every year's observation set and the
    exports of :data:`EXPORT_YEARS`, built once for the whole session (several modules use it)."""
    root = tmp_path_factory.mktemp("cohort_lake")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COHORT_KEY_LONGITUDINAL_COHORT", KEY_HEX)
        warehouse, names, expected = write_cohort_warehouse(root / "warehouse")
        return BuiltCohort(root, warehouse, names, expected).build()
