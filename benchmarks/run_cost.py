"""Where one Dagster run of a project spends its time: the fixed cost of every run against its own
work. Prints figures; asserts nothing.

Usage::

    python benchmarks/run_cost.py --data-dir <demo lake> --project labour_reserve --year 2021
    python benchmarks/run_cost.py --data-dir <demo lake> --project flemish_staff_origin --year 2024 --profile

On a lake whose warehouse exists (``cohort demo`` or ``cohort warehouse build``), with the demo key
(``COHORT_DEMO=1``: local keys under the lake, never a real key):

1. ``start``: a fresh interpreter that only imports ``cohort.definitions`` (the code location),
   against the same interpreter doing nothing; which heavy libraries the import loads.
2. ``setup``: in this process, the Dagster instance and the :class:`cohort.ops.runner.Materialiser`
   (what ``cohort project build`` does before its first run).
3. ``fixed``: the project's data dictionary (an asset made from the spec, reading no data) run
   ``--repeat`` times through the project's named job: what any run costs before its own work
   (creating the run, its event log, the step's bookkeeping).
4. ``runs``: the runs ``cohort project build PROJECT --years YEAR`` plans, each with its wall and
   CPU time. With ``--profile`` they run under :mod:`cProfile` (CPU clock) and the CPU is split by
   the functions named in :data:`PARTS`; the profiler slows Python code more than DuckDB's, so
   the split is a guide, and the unprofiled CPU is the figure.

CPU is user + system of this process (DuckDB's threads included), from ``getrusage``.
"""

import argparse
import cProfile
import os
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

#: where the CPU of a run goes, by the function that does it (``pstats`` file:line(name) patterns):
#: the parts do not nest in one another, so their sum is at most the run's CPU
PARTS = {
    "contract check (open_warehouse)": ("cohort/sources/checks.py", "open_warehouse"),
    "pandera validation": ("pandera/api/polars/container.py", "validate"),
    "export scan (scan_export)": ("cohort/privacy/scan.py", "scan_export"),
    "pictures (matplotlib)": ("cohort/ops/pictures.py", "_png"),
    "run creation (create_run_for_job)": (
        "dagster/_core/instance/methods/run_methods.py",
        "create_run_for_job",
    ),
    "event log writes (handle_new_event)": (
        "dagster/_core/instance/methods/event_methods.py",
        "handle_new_event",
    ),
}
HEAVY = ("matplotlib", "scipy", "playwright", "pandera", "polars", "pandas", "duckdb", "sklearn")


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _subprocess_cost(code: str, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall, CPU and standard output of a fresh interpreter running ``code``."""
    before = _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - before, done.stdout.strip()


def start_cost(env: dict[str, str]) -> None:
    bare = _subprocess_cost("pass", env)
    load = _subprocess_cost(
        f"import sys, cohort.definitions; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))",
        env,
    )
    print(f"start  bare interpreter: {bare[0]:6.2f} s wall {bare[1]:6.2f} s CPU")
    print(f"start  import cohort.definitions: {load[0]:6.2f} s wall {load[1]:6.2f} s CPU (loads: {load[2]})")


def _parts(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative CPU of each part of :data:`PARTS` in ``stats``."""
    out = dict.fromkeys(PARTS, 0.0)
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for part, (file_end, function) in PARTS.items():
            if name == function and filename.endswith(file_end):
                out[part] += cumulative
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", required=True, help="a lake whose warehouse exists")
    parser.add_argument("--project", default="labour_reserve")
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--repeat", type=int, default=5, help="runs of the data dictionary (fixed cost)")
    parser.add_argument("--profile", action="store_true", help="split each run's CPU (cProfile)")
    parser.add_argument("--skip-start", action="store_true", help="do not time a fresh interpreter")
    args = parser.parse_args()

    os.environ["COHORT_DEMO"] = "1"
    os.environ["COHORT_DATA_DIR"] = str(Path(args.data_dir).resolve())
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()[0]:.1f}")
    if not args.skip_start:
        start_cost(env)

    started, cpu = time.perf_counter(), _cpu()
    import dagster as dg

    from cohort import settings
    from cohort.definitions import defs
    from cohort.ops import commands, runner

    imported = time.perf_counter(), _cpu()
    lake = settings.lake(args.data_dir)
    instance = runner.instance_at(runner.ensure_instance_home(lake.root / "dagster"))
    materialiser = runner.Materialiser(defs, instance, signer=commands.DEMO_SIGNER)
    project = materialiser.project(args.project)
    print(
        f"setup  import in this process: {imported[0] - started:6.2f} s wall {imported[1] - cpu:6.2f} s CPU; "
        f"instance and materialiser: {time.perf_counter() - imported[0]:6.2f} s wall {_cpu() - imported[1]:6.2f} s CPU"
    )

    dictionary = dg.AssetKey([args.project, "data_dictionary"])
    if dictionary in project.keys:
        run = runner.PlannedRun(args.project, (dictionary,), None, 0)
        times = []
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), _cpu()
            outcome = materialiser.execute(run)
            times.append((time.perf_counter() - wall, _cpu() - cpu, outcome.success))
        middle = sorted(times)[len(times) // 2]
        print(
            f"fixed  data dictionary run x{args.repeat}: median {middle[0]:5.2f} s wall, "
            f"CPU {', '.join(f'{t[1]:.2f}' for t in times)} s; all succeeded: {all(t[2] for t in times)}"
        )

    total_wall, total_cpu = 0.0, 0.0
    totals = dict.fromkeys(PARTS, 0.0)
    for run in materialiser.plan(project, [args.year]):
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        wall, cpu = time.perf_counter(), _cpu()
        if profiler:
            profiler.enable()
        outcome = materialiser.execute(run)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        total_wall += wall
        total_cpu += cpu
        keys = ", ".join(k.path[-1] for k in run.keys)
        print(
            f"run    {run.label:<40} {wall:7.2f} s wall {cpu:7.2f} s CPU  {'ok' if outcome.success else 'FAILED'}  {keys}"
        )
        if not outcome.success:
            print(f"       {outcome.error.splitlines()[0] if outcome.error else ''}")
        if profiler:
            parts = _parts(pstats.Stats(profiler))
            for part, seconds in parts.items():
                totals[part] += seconds
            print("       " + "; ".join(f"{p.split(' (')[0]} {s:.2f}" for p, s in parts.items() if s >= 0.01))
    print(f"runs   total {total_wall:7.2f} s wall {total_cpu:7.2f} s CPU")
    if args.profile:
        for part, seconds in totals.items():
            print(f"part   {part:<40} {seconds:7.2f} s CPU (profiled)")
    print(f"end    load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
