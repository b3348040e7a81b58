"""``cohort demo``, ``cohort project ...``, ``cohort exports list`` and ``cohort releases list``.

What users do outside the UI. Builds run in process but are recorded in the Dagster instance
(``DAGSTER_HOME``, by default ``<lake>/dagster``), so ``make dev`` shows them afterwards.
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cohort import clock, settings
from cohort import projects as project_packages
from cohort.privacy import retention
from cohort.warehouse import cli as warehouse_cli

DEMO_SCALE = 0.01
DEMO_SIGNER = "demo sign-off (COHORT_DEMO=1, not a real reviewer)"


# ---------------------------------------------------------------- shared helpers


def _lake(data_dir: str | None, must_exist: bool = False, warehouse: bool = False) -> settings.Lake:
    """The lake of ``--data-dir`` (else the environment), refused with exit status 2 when it is a
    file, missing although it is to be read (``must_exist``), or holds no warehouse to build from."""
    lake = settings.lake(data_dir)
    try:
        settings.require_lake_root(lake, must_exist=must_exist)
        if warehouse:
            from cohort.sources.contract import TABLES

            settings.require_warehouse(lake, TABLES)
    except settings.LakeError as exc:
        raise click.UsageError(str(exc)) from None
    # assets resolve the lake at run time from the environment: point them at the same place
    os.environ["COHORT_DATA_DIR"] = str(lake.root)
    return lake


def _instance(lake: settings.Lake):
    from cohort.ops import runner

    home = runner.lake_home(lake.root)
    return runner.instance_at(home), home


def _materialiser(lake: settings.Lake, signer: str | None):
    from cohort.definitions import defs  # imported late: the environment above must be set first
    from cohort.ops import runner

    instance, home = _instance(lake)
    for run_id in runner.fail_orphaned_runs(instance):
        click.secho(
            f"run {run_id} was interrupted (its process is gone): marked failed", fg="yellow", err=True
        )
    return runner.Materialiser(defs, instance, signer=signer), home


YEAR_RANGE = (1900, 2100)  # what can be a year of the warehouse at all; projects narrow it further


def _year(text: str, part: str) -> int:
    try:
        year = int(text)
    except ValueError:
        year = 0
    if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise click.BadParameter(
            f"{part!r} is not a year or a range of years (e.g. 2021, 2020-2022 or 2020,2022)",
            param_hint="'--years'",
        )
    return year


def _parse_years(text: str | None) -> list[int] | None:
    """``2020-2022`` or ``2020,2022`` or ``2020``; ``None``: every year of the project."""
    if text is None:
        return None
    years: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = part.partition("-")
        a = _year(first.strip(), part)
        b = _year(last.strip(), part) if dash else a
        if b < a:
            raise click.BadParameter(f"{part}: the last year comes before the first", param_hint="'--years'")
        years.update(range(a, b + 1))
    if not years:
        raise click.BadParameter(f"{text!r} names no year", param_hint="'--years'")
    return sorted(years)


def _run_with_progress(materialiser, runs, label: str):
    """Execute ``runs`` under a click progress bar; return the summary."""
    from cohort.ops.runner import BuildSummary

    summary = BuildSummary()
    if not runs:
        return summary

    def show(run) -> str:
        return run.label if run is not None else ""

    with click.progressbar(runs, label=label, item_show_func=show, show_pos=True, width=30) as bar:
        failed: set[str] = set()
        for run in bar:
            if run.project in failed:
                continue
            outcome = materialiser.execute(run)
            summary.outcomes.append(outcome)
            if not outcome.success:
                failed.add(run.project)
    return summary


def project_chains(runs: list, graph) -> list[list]:
    """The runs grouped per worker, in build order. A project that reads another project's
    assets joins that project's group and comes after it; unrelated projects get groups of their
    own. (No project of the code location reads another today: the labour reserve's phase-2 results
    are submitted analyses, built by their own jobs after the projects.)"""
    from cohort.sources.defs import SOURCE_PREFIX

    projects = {r.project for r in runs}
    upstream: dict[str, set[str]] = {p: set() for p in projects}
    for r in runs:
        for key in r.keys:
            for parent in graph.get(key).parent_keys:
                # every project reads the contract-checked warehouse tables, and checks them itself
                # when they changed (under a lock): that edge does not chain projects together
                if parent.path[0] not in (r.project, SOURCE_PREFIX) and parent.path[0] in projects:
                    upstream[r.project].add(parent.path[0])
    root = {p: p for p in projects}

    def find(p: str) -> str:
        while root[p] != p:
            p = root[p]
        return p

    for p, ups in upstream.items():
        for q in ups:
            root[find(p)] = find(q)
    order: list[str] = []

    def visit(p: str) -> None:
        if p not in order:
            for q in sorted(upstream[p]):
                visit(q)
            order.append(p)

    for p in sorted(projects):
        visit(p)
    chains: dict[str, list] = {}
    for p in order:
        chains.setdefault(find(p), []).extend(r for r in runs if r.project == p)
    return list(chains.values())


#: seconds one run of each project takes in the demo at scale DEMO_SCALE, for a lake whose Dagster
#: instance has no earlier run of the project (a fresh clone): the mean run of the demo measured on
#: 2 cores (docs/operations.md, "How long the demo takes"). Only their ratios matter: they order the chains.
EXPECTED_RUN_SECONDS = {  # the "after" demo of 2026-12-07: run seconds / runs per project
    "warehouse": 87.0,
    "flemish_staff_origin": 72.5,
    "labour_reserve": 18.3,
    "longitudinal_cohort": 19.4,
    "measure_profiles": 85.0,
    "regularised_foreigners": 15.0,
}
DEFAULT_RUN_SECONDS = 10.0
HISTORY_RUNS = 500  # the latest successful command-line runs read for the expected times


def run_history(instance) -> dict[str, float]:
    """Mean seconds of the latest successful command-line runs (``cohort demo``, ``cohort project
    build``) of each project recorded in ``instance``: what a run of the project takes on this
    machine at this lake's scale."""
    import dagster as dg

    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS], tags={"cohort/trigger": "cli"}),
        limit=HISTORY_RUNS,
    )
    seconds: dict[str, list[float]] = {}
    for record in records:
        project = record.dagster_run.tags.get("cohort/project")
        if project and record.start_time and record.end_time:
            seconds.setdefault(project, []).append(record.end_time - record.start_time)
    return {p: sum(v) / len(v) for p, v in seconds.items()}


def expected_seconds(chain: list, history: dict[str, float], scale: float = DEMO_SCALE) -> float:
    """How long ``chain`` should take: its runs' project times from ``history``, else the demo's
    measured times (:data:`EXPECTED_RUN_SECONDS`) in proportion to the warehouse scale."""
    return sum(
        history.get(r.project)
        or EXPECTED_RUN_SECONDS.get(r.project, DEFAULT_RUN_SECONDS) * scale / DEMO_SCALE
        for r in chain
    )


def split_year_chains(chains: list[list], independent: set[str], workers: int) -> list[list]:
    """Chains of one project whose years do not read each other (``independent``: no T-1/T+1
    tables; one stage, one run per year, e.g. seed 003's yearly releases) split into ``workers``
    chains of every ``workers``-th year, so that the workers share them; the others unchanged."""
    out: list[list] = []
    for chain in chains:
        projects = {r.project for r in chain}
        yearly = all(r.year is not None for r in chain) and len({r.stage for r in chain}) == 1
        if workers > 1 and len(chain) >= 2 * workers and yearly and projects <= independent:
            out += [chain[i::workers] for i in range(workers)]
        else:
            out.append(chain)
    return out


def _run_in_workers(
    chains: list[list],
    signer: str | None,
    home: Path,
    workers: int,
    label: str,
    history: dict[str, float] | None = None,
    scale: float = DEMO_SCALE,
):
    """Like :func:`_run_with_progress`, with each group of :func:`project_chains` in one of
    ``workers`` processes, the longest expected first (:func:`expected_seconds`): a process takes
    the next chain when it is free, so that the slow chains start early and the short ones fill
    the gaps at the end."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from cohort.ops.runner import BuildSummary, build_worker

    runs = [r for chain in chains for r in chain]
    summary = BuildSummary()
    ctx = mp.get_context("spawn")  # a clean interpreter per worker: no inherited DuckDB or sqlite handles
    with ctx.Manager() as manager, ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        queue = manager.Queue()
        futures = [
            pool.submit(build_worker, chain, signer, str(home), queue)
            for chain in sorted(chains, key=lambda c: -expected_seconds(c, history or {}, scale))
        ]
        with click.progressbar(
            length=len(runs),
            label=label,
            show_pos=True,
            width=30,
            item_show_func=lambda o: o.run.label if o is not None else "",
        ) as bar:
            while not all(f.done() for f in futures) or not queue.empty():
                try:
                    outcome = queue.get(timeout=0.5)
                except Exception:  # queue.Empty from the manager
                    continue
                summary.outcomes.append(outcome)
                bar.current_item = outcome
                bar.update(1)
        for f in futures:
            error = f.exception()
            if error is not None:  # a worker that crashed outside a run: say so, keep the others' results
                summary.crashed.append(f"{type(error).__name__}: {error}")
    return summary


def _print_summary(summary, lake: settings.Lake) -> None:
    rows = summary.by_project()
    if rows:
        click.echo("")
        # seconds: the project's runs added up; from/to: when its first run started and its last
        # ended, in seconds since the first run of the build (the workers run side by side)
        start = min(r["first_start"] for r in rows.values())
        click.echo(
            f"{'project':<28} {'years':<11} {'runs':>5} {'assets':>7} {'failed':>6} {'seconds':>8} "
            f"{'from':>6} {'to':>6}"
        )
        for project, r in sorted(rows.items(), key=lambda kv: kv[1]["first_start"]):
            years = f"{min(r['years'])}-{max(r['years'])}" if r["years"] else "-"
            click.echo(
                f"{project:<28} {years:<11} {r['runs']:>5} {r['materialisations']:>7} {r['failed']:>6} "
                f"{r['seconds']:>8.1f} {r['first_start'] - start:>6.0f} {r['last_end'] - start:>6.0f}"
            )


def _print_failures(summary) -> None:
    """Each failed run's own message first (the table, rule and count of a failed check, the
    error an asset raised), then which run it was: the stack traces stay in the run's event log."""
    for o in summary.failed:
        click.secho(o.error or "run failed", fg="red", err=True)
        click.secho(f"  (FAILED {o.run.label}; run {o.run_id or '-'}, its events in the UI)", err=True)
    for crash in summary.crashed:
        click.secho(f"a build worker failed: {crash}", fg="red", err=True)


def project_ids() -> list[str]:
    """The projects that have a spec (``cohort/projects/<id>/spec.yaml``), sorted; read from the
    package's folders, so that a name is checked without loading Dagster."""
    folder = Path(project_packages.__file__ or "").parent
    return sorted(p.parent.name for p in folder.glob("*/spec.yaml"))


def unknown_project(project_id: str) -> str | None:
    """The one-line refusal of a name that is no project (a typo), else ``None``."""
    if project_id in project_ids():
        return None
    return f"unknown project {project_id!r} (projects: {', '.join(project_ids()) or 'none'})"


def _require_project(project_id: str | None, area: Path) -> None:
    """A ``--project`` that names no project (no spec, nothing of it in ``area``) is a typo: say so
    rather than "nothing built yet"."""
    if project_id is None or (area / project_id).is_dir():
        return
    refusal = unknown_project(project_id)
    if refusal:
        raise click.BadParameter(refusal, param_hint="'--project'")


def _print_quarantine(lake: settings.Lake, tables) -> None:
    """The warehouse rows the build could not use, per table and rule (kept in quarantine/)."""
    from cohort.sources.checks import quarantine_lines

    lines = quarantine_lines(lake.quarantine, tables)
    if lines:
        click.echo("Rows that break the warehouse contract, left out and kept with their reason:")
        for line in lines:
            click.echo(f"    {line}")


def _table_folders(area: Path) -> list[tuple[str, str, list[int], int, int]]:
    """(project, table, years, rows, bytes) of every table folder under ``area``."""
    import pyarrow.parquet as pq

    out = []
    if not area.exists():
        return out
    for project_dir in sorted(p for p in area.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        tables: dict[str, dict[str, Any]] = {}
        for f in sorted(project_dir.rglob("*.parquet")):
            if f.name.startswith("."):
                continue
            parent = f.parent
            year = None
            if parent.name.startswith("year="):
                year = int(parent.name.split("=", 1)[1])
                parent = parent.parent
            table = parent.relative_to(project_dir).as_posix() or "."
            row = tables.setdefault(table, {"years": set(), "rows": 0, "bytes": 0})
            if year is not None:
                row["years"].add(year)
            row["rows"] += pq.ParquetFile(f).metadata.num_rows
            row["bytes"] += f.stat().st_size
        for table, row in sorted(tables.items()):
            out.append((project_dir.name, table, sorted(row["years"]), row["rows"], row["bytes"]))
    return out


def _years_text(years: list[int]) -> str:
    if not years:
        return "-"
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ",".join(map(str, years))


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


# ---------------------------------------------------------------- cohort demo


def _warehouse_ready(lake: settings.Lake, scale: float, seed: int | None) -> dict | None:
    path = lake.warehouse / "_manifest.json"
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    same_scale = abs(float(manifest.get("scale", -1)) - scale) < 1e-12
    same_seed = seed is None or int(manifest.get("seed", -1)) == seed
    # a warehouse of an older demo, built before it carried its delivery errors, is built again
    return manifest if same_scale and same_seed and "defects" in manifest else None


def default_seed() -> int:
    """The warehouse builder's default seed (``cohort warehouse build``)."""
    return warehouse_cli.DEFAULT_SEED


def build_demo_warehouse(lake: settings.Lake, scale: float, seed: int | None) -> tuple[bool, float]:
    """Build the synthetic warehouse (with a progress bar) unless one with the same scale and
    seed is there. Returns (built, seconds)."""
    seed = default_seed() if seed is None else seed
    if _warehouse_ready(lake, scale, seed):
        return False, 0.0
    from cohort.warehouse import build  # the generator's NumPy model loads only when a warehouse is built

    started = time.perf_counter()
    with click.progressbar(
        length=1000,
        label=f"    warehouse scale {scale} seed {seed}",
        width=30,
        item_show_func=lambda label: label or "",
    ) as bar:

        def progress(label: str, fraction: float) -> None:
            bar.current_item = label
            bar.update(max(0, int(fraction * 1000) - bar.pos))

        build.build_warehouse(lake.warehouse, scale=scale, seed=seed, progress=progress, defects=True)
    return True, time.perf_counter() - started


def _warehouse_runs(materialiser, lake: settings.Lake, built: bool) -> list:
    """Record the warehouse built outside Dagster as a materialisation of ``synthetic_warehouse``
    (so the UI shows it), and plan the contract check of its tables and its calibration report
    when the code location has them."""
    import dagster as dg

    from cohort.ops.runner import PlannedRun
    from cohort.sources.defs import SOURCE_PREFIX

    keys = materialiser.graph.get_all_asset_keys()
    manifest = json.loads((lake.warehouse / "_manifest.json").read_text())
    wh = dg.AssetKey("synthetic_warehouse")
    if wh in keys and (built or materialiser.instance.get_latest_materialization_event(wh) is None):
        materialiser.instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=wh,
                description="built by `cohort demo` (cohort.warehouse.build.build_warehouse)",
                metadata={
                    "scale": manifest.get("scale"),
                    "seed": manifest.get("seed"),
                    "years": f"{manifest.get('first_year')}-{manifest.get('last_year')}",
                    "total_rows": sum(manifest.get("tables", {}).values()),
                },
            )
        )
    # the contract check of every source table, so the UI shows the quarantine before any project
    planned = tuple(sorted(k for k in keys if len(k.path) == 2 and k.path[0] == SOURCE_PREFIX))
    calibration = dg.AssetKey("warehouse_calibration")
    planned += (calibration,) if calibration in keys else ()
    return [PlannedRun(SOURCE_PREFIX, planned, None, 0)] if planned else []


@click.command("demo")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option(
    "--scale",
    default=DEMO_SCALE,
    type=click.FloatRange(min=0, min_open=True),
    show_default=True,
    help="Synthetic warehouse scale (1.0 = Belgium).",
)
@click.option("--seed", default=None, type=int, help="Warehouse seed (default: the warehouse builder's).")
@click.option("--project", "projects", multiple=True, help="Only these projects (default: every project).")
@click.option(
    "--workers",
    default=2,
    type=click.IntRange(min=1),
    show_default=True,
    help="Projects built side by side, each in its own process (1: one after the other).",
)
def demo(
    data_dir: str | None, scale: float, seed: int | None, projects: tuple[str, ...], workers: int
) -> None:
    """Build the demo end to end: synthetic warehouse, every project partition, releases, reports.

    Uses the demo key (COHORT_DEMO=1: a local key under data/keys, never for real data) and
    signs the anonymous releases off as the demo. Runs are recorded in data/dagster, so
    `make dev` shows them in the UI.
    """
    started = time.perf_counter()
    unknown = sorted(set(projects) - set(project_ids()))
    if unknown:
        raise click.BadParameter(
            f"unknown project(s) {', '.join(unknown)} (projects: {', '.join(project_ids())})",
            param_hint="'--project'",
        )
    os.environ["COHORT_DEMO"] = "1"
    lake = _lake(data_dir)
    click.echo(f"Lake: {lake.root}")
    click.echo(
        "Demo mode: pseudonymisation keys are made locally under keys/ (never use them for real data)."
    )

    click.echo(f"1/5 Synthetic warehouse at scale {scale}")
    built, seconds = build_demo_warehouse(lake, scale, seed)
    click.echo(f"    built in {seconds:.1f} s" if built else "    already there (same scale and seed), kept")

    from cohort.ops.replay import plan_replay, publish_held_back  # loads Dagster

    materialiser, home = _materialiser(lake, DEMO_SIGNER)
    runs = _warehouse_runs(materialiser, lake, built)
    chosen = [p for p in materialiser.projects() if not projects or p.id in projects]
    replay = plan_replay(materialiser, chosen, lake.warehouse)
    try:
        summary = _build_demo(materialiser, home, runs, chosen, replay, workers, scale)
    finally:
        publish_held_back(lake.warehouse)  # the warehouse has every year again, whatever happened
    _print_failures(summary)
    _print_summary(summary, lake)
    _print_quarantine(lake, None)
    if replay is not None:
        click.echo("Automation (Runs page: tags dagster/schedule_name, dagster/sensor_name; Backfills tab):")
        for line in replay.summary_lines():
            click.echo(f"    {line}")

    # after the projects, their releases and automation: the analyses read the built tables
    analyses = (
        [] if summary.failed or summary.crashed else _demo_analyses(lake, chosen, materialiser.instance)
    )
    if any(not a.failed for a in analyses):
        click.echo(
            "Analyses (UI: the analysis_<name>_review assets; decide with the jobs analysis_review_decision and "
            "analysis_release, or on the command line):"
        )
        for item in analyses:
            if item.failed:
                continue
            released = f", released under {lake.releases / item.project / item.name}" if item.released else ""
            click.echo(f"    {item.name}: review {item.review}{released}, review screen {item.page}")
            if item.review.startswith("waiting"):
                for command in item.commands(lake):
                    click.echo(f"      {command}")

    click.echo("5/5 Where things are:")
    for name, path in (
        ("exports", lake.exports),
        ("releases", lake.releases),
        ("reports", lake.reports),
        ("quarantine", lake.quarantine),
    ):
        click.echo(f"    {name:<9} {path}")
    for p in chosen:
        index = lake.reports / p.id / "index.html"
        if index.exists():
            click.echo(f"    report    {index}")
    # the researchers' analyses, per project that holds their results (labour_reserve_results has no
    # report of its own: this page is its report)
    from cohort.analysis.review import ANALYSES_INDEX

    for index in sorted(lake.reports.glob(f"*/{ANALYSES_INDEX}")):
        click.echo(f"    analyses  {index}")
    click.echo(f"    runs      {home} (see them with `make dev`, http://127.0.0.1:3000)")
    click.echo(f"Done in {time.perf_counter() - started:.1f} s.")
    if summary.failed or summary.crashed or any(a.failed for a in analyses):
        raise SystemExit(1)


def _demo_analyses(lake: settings.Lake, chosen: list, instance) -> list:
    """Step 4: the example analyses of the built projects, run on the extract, submitted, built in
    the secure area and reviewed: the first approved and released, the second rejected, the others
    left for review (:mod:`cohort.ops.analyses`)."""
    started = time.perf_counter()
    from cohort.ops.analyses import DEMO_DECISIONS, examples, take_example

    folders = examples({p.id for p in chosen})
    names = ", ".join(f.name for f in folders) or "none (no example analysis reads the projects built)"
    click.echo(f"4/5 Analyses: {names}")
    done = []
    for n, folder in enumerate(folders):
        item = take_example(folder, lake, instance, DEMO_DECISIONS[n] if n < len(DEMO_DECISIONS) else None)
        done.append(item)
        where = f"{item.project}{f' {item.year}' if item.year is not None else ''}"
        if item.failed:
            click.secho(f"    FAILED {item.name} ({where}): {item.built}", fg="red", err=True)
            continue
        click.echo(
            f"    {item.name} ({where}): on the extract {item.extract}; submitted "
            f"({item.content_hash[:12]}...); built in the secure area, {item.built}; review {item.review} "
            f"({item.seconds:.1f} s)"
        )
    if folders:
        click.echo(f"    the analyses took {time.perf_counter() - started:.1f} s")
    return done


def _build_demo(materialiser, home: Path, runs: list, chosen: list, replay, workers: int, scale: float):
    """Step 2 (the projects' runs, side by side in ``workers`` processes) and, when ``replay``
    is given, step 3: the last two warehouse years left to automation (:mod:`cohort.ops.replay`)."""
    if replay is not None:
        replay.baseline()  # the warehouse without its last year: the sensor's first tick
    for p in chosen:
        held = replay.held_years(p) if replay else set()
        runs += materialiser.plan(p, [y for y in p.years if y not in held] if held else None)
    click.echo(f"2/5 Projects: {', '.join(p.id for p in chosen) or 'none yet'} ({len(runs)} runs)")
    if replay is not None:
        click.echo(
            f"    {replay.last_year - 1} and {replay.last_year} of {', '.join(p.id for p in replay.projects)} "
            "are left to the schedules and the sensor (step 3)"
        )
    for p in chosen:
        note = retention.expired_note(p.id, p.spec.retention_date)
        if note:
            click.echo(f"    {note}")
    chains = project_chains(runs, materialiser.graph)
    independent = {p.id for p in chosen if not p.next_roots}
    chains = split_year_chains(chains, independent, workers)
    if workers > 1 and len(chains) > 1:
        history = run_history(materialiser.instance)
        summary = _run_in_workers(chains, DEMO_SIGNER, home, workers, "    building", history, scale)
    else:
        summary = _run_with_progress(materialiser, [r for c in chains for r in c], "    building")
    if replay is not None and not (summary.failed or summary.crashed):
        click.echo("3/5 Automation, as the daemon would run it (Dagster evaluates each tick):")
        summary.outcomes += _replay_automation(materialiser, replay)
        from cohort.sources.defs import SOURCE_PREFIX

        checked = [r for r in runs if r.project == SOURCE_PREFIX and r.year is None]
        if checked and not summary.failed:  # the contract check of the warehouse as it is now, with L
            summary.outcomes += [materialiser.execute(r) for r in checked]
    return summary


def _replay_automation(materialiser, replay) -> list:
    """Steps 3-5 of :mod:`cohort.ops.replay`: the schedules' tick, the sensor's, then the sign-offs."""
    outcomes: list = []

    def done(outcome) -> None:
        outcomes.append(outcome)
        mark = "ok" if outcome.success else "FAILED"
        click.echo(
            f"      {mark:<6} {outcome.run.label if outcome.run.keys else outcome.run.project + ' request'}"
            f" ({outcome.seconds:.1f} s)"
        )

    click.echo(f"    schedules: tick of 15 January {replay.last_year}, 06:00 (Europe/Brussels)")
    replay.tick_schedules(done)
    if not any(not o.success for o in outcomes):
        click.echo(f"    warehouse_year_sensor: the warehouse publishes {replay.last_year}")
        replay.tick_sensor(done)
    if not any(not o.success for o in outcomes):
        from cohort.ops.replay import publish_held_back

        publish_held_back(replay.warehouse)  # published by the sensor's tick already, unless it did not tick
        rest = replay.remaining_runs()
        click.echo(
            f"    the releases of {replay.last_year - 1}-{replay.last_year}, signed off as the demo ({len(rest)} runs)"
        )
        for run in rest:
            done(materialiser.execute(run))
            if not outcomes[-1].success:
                break
    return outcomes


# ---------------------------------------------------------------- cohort dev


def dev_demo_mode(lake: settings.Lake) -> tuple[bool, str]:
    """Whether ``cohort dev`` serves ``lake`` in demo mode, and the sentence that says so.

    On the demo's synthetic warehouse demo mode is on unless COHORT_DEMO turns it off explicitly:
    the UI must build what ``cohort demo`` built, with the same local keys, and its runs (webserver,
    daemon, code server, run workers) see it through the environment they inherit. Elsewhere
    COHORT_DEMO decides, as for every command."""
    from cohort.privacy.pseudonym import demo_mode

    explicit = os.environ.get("COHORT_DEMO", "").strip()
    synthetic = settings.synthetic_warehouse(lake)
    on = demo_mode() or (synthetic and not explicit)
    if synthetic:
        where = f"the demo lake {lake.root} (synthetic warehouse)"
    elif lake.warehouse.is_dir():
        where = f"lake {lake.root} (warehouse {lake.warehouse})"
    else:
        where = f"lake {lake.root} (no warehouse yet at {lake.warehouse}: `make demo` builds one)"
    if on:
        how = f"demo mode on (COHORT_DEMO=1: local keys under {lake.keys}, never for real data)"
    else:
        how = f"demo mode off{f' (COHORT_DEMO={explicit})' if explicit else ''}: keys from COHORT_KEY_<PROJECT> or COHORT_KEY_DIR"
    return on, f"Serving {where}, {how}."


@click.command("dev", context_settings={"ignore_unknown_options": True})
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option("--port", "-p", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(data_dir: str | None, port: int, dagster_args: tuple[str, ...]) -> None:
    """The Dagster UI and daemon on http://127.0.0.1:PORT, with the instance in <lake>/dagster.

    Gives the instance the repository's dagster.yaml settings (concurrency limits) first, then
    runs `dagster dev -w workspace.yaml` with this interpreter (whatever PATH holds); extra
    arguments go to `dagster dev`. On the demo's synthetic warehouse, demo mode is on (its local
    keys); the first line says which lake and whether demo mode is on. Ctrl-C or SIGTERM stops
    everything and exits 0.
    """
    from cohort.ops import devserver, runner

    lake = _lake(data_dir)
    workspace = devserver.workspace_file()
    if not workspace.is_file():
        raise click.UsageError(f"no workspace.yaml beside the package or in {Path.cwd()}: run from a clone")
    demo, first_line = dev_demo_mode(lake)
    click.echo(first_line)
    home = Path(os.environ.get("DAGSTER_HOME") or lake.root / "dagster").resolve()
    runner.ensure_instance_home(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "COHORT_DATA_DIR": str(lake.root)}
    if demo:
        env["COHORT_DEMO"] = "1"
    args = ["dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port), *dagster_args]
    click.echo(f"DAGSTER_HOME={home}; dagster {' '.join(args)} (Ctrl-C stops it)")
    # run from the home: a dagster.yaml in the working folder that is not DAGSTER_HOME's only draws a warning
    raise SystemExit(devserver.serve(args, cwd=home, env=env))


# ---------------------------------------------------------------- cohort project ...


@click.group("project")
def project() -> None:
    """A project (deliberation): list, build years, show its data dictionary."""


@project.command("list")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
def project_list(data_dir: str | None) -> None:
    """The projects of the code location, their years and what is built."""
    lake = _lake(data_dir, must_exist=True)
    from cohort.definitions import defs
    from cohort.ops.catalogue import projects_of, spec_or_none

    releases = _releases(lake.releases)
    click.echo(
        f"{'project':<28} {'kind':<14} {'years':<11} {'assets':>6}  built years  releases  "
        f"{'retention':<10} {'days left':>9}  deliberation"
    )
    projects = projects_of(defs)
    for p in projects:
        project_years = range(p.spec.first_year, p.spec.last_year + 1)
        built = _built_years(lake, p.id, project_years, yearly=p.partitions_def is not None)
        # the releases themselves; their restricted sub-releases (one per small entity) are in `releases list`
        released = sum(1 for r in releases if r.project == p.id and "/" not in r.release_id)
        spec_years = f"{p.spec.first_year}-{p.spec.last_year}"
        left = clock.days_left(p.spec.retention_date)
        click.echo(
            f"{p.id:<28} {p.spec.kind:<14} {spec_years:<11} {len(p.keys):>6}  {_years_text(built):<11}  "
            f"{released or '-':>8}  "
            f"{p.spec.retention_date.isoformat():<10} {left if left >= 0 else 'expired':>9}  {p.spec.title}"
        )
    # a spec without assets of its own (labour_reserve_results): its results are submitted analyses,
    # released under it as <analysis>/<year>
    listed = {p.id for p in projects}
    for project_id in project_ids():
        spec = spec_or_none(project_id)
        if project_id in listed or spec is None:
            continue
        released = sum(1 for r in releases if r.project == project_id)
        left = clock.days_left(spec.retention_date)
        click.echo(
            f"{project_id:<28} {spec.kind:<14} {spec.first_year}-{spec.last_year:<6} {0:>6}  {'analyses':<11}  "
            f"{released or '-':>8}  "
            f"{spec.retention_date.isoformat():<10} {left if left >= 0 else 'expired':>9}  {spec.title}"
        )


def _built_years(lake: settings.Lake, project_id: str, years: range, yearly: bool) -> list[int]:
    """The project ``years`` of ``project_id`` with something on the lake: its year folders
    (``year=YYYY`` of the secure and exported tables, ``YYYY`` of the anonymous projects' release
    tables and releases). A project without yearly partitions (its tables cover its years at once,
    like ``measure_profiles``) is built for all its years once any of its tables is there."""
    found: set[int] = set()
    anything = False
    for area in (lake.secure, lake.exports, lake.releases):
        root = area / project_id
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if any(part.startswith((".", "_")) for part in path.relative_to(root).parts):
                continue  # unfinished writes, the pseudonym mapping, sign-offs: not a built table
            if path.is_file():
                anything = anything or path.suffix in (".parquet", ".csv")
            elif path.is_dir():
                name = path.name.removeprefix("year=")
                if name.isdigit() and int(name) in years:
                    found.add(int(name))
    return list(years) if not yearly and anything else sorted(found)


@project.command("build")
@click.argument("project_id", metavar="PROJECT")
@click.option("--years", default=None, help="Years to build: 2020-2022, 2020,2022 or 2020 (default: all).")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option(
    "--signed-off-by",
    default=None,
    help="Sign off the anonymous releases as this person (else releases wait for a sign-off).",
)
def project_build(
    project_id: str, years: str | None, data_dir: str | None, signed_off_by: str | None
) -> None:
    """Build PROJECT for some years: every asset, in dependency order, one run per year and stage."""
    started = time.perf_counter()
    refusal = unknown_project(project_id)
    if refusal:
        raise click.UsageError(refusal)
    wanted = _parse_years(years)
    lake = _lake(data_dir, warehouse=True)
    materialiser, home = _materialiser(lake, signed_off_by)
    try:
        p = materialiser.project(project_id)
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from None
    if wanted is not None:
        outside = [y for y in wanted if y not in p.years]
        if outside:
            raise click.UsageError(
                f"{project_id}: year(s) {', '.join(map(str, outside))} are not partitions of the project "
                f"({_years_text(p.years)})"
            )
    try:  # before any run starts, so that nothing is written and the user reads one line
        retention.refuse_if_expired(lake, p.id, p.spec.retention_date, what="build")
    except retention.RetentionExpired as exc:
        click.echo(f"Refused: {exc}", err=True)
        raise SystemExit(1) from None
    runs = materialiser.plan(p, wanted)
    click.echo(
        f"{project_id}: {len(runs)} runs for {_years_text(wanted or p.years)} (runs recorded in {home})"
    )
    summary = _run_with_progress(materialiser, runs, "building")
    _print_failures(summary)
    _print_summary(summary, lake)
    _print_quarantine(lake, p.spec.warehouse.tables)
    click.echo(
        f"Exports in {lake.exports / project_id}, reports in {lake.reports / project_id}. "
        f"Done in {time.perf_counter() - started:.1f} s."
    )
    if summary.failed:
        raise SystemExit(1)


@project.command("dictionary")
@click.argument("project_id", metavar="PROJECT")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON form instead of Markdown.")
def project_dictionary(project_id: str, as_json: bool) -> None:
    """Print the data dictionary of PROJECT: every table and variable, with the paragraph that authorises it."""
    from cohort.ops.catalogue import spec_or_none
    from cohort.projects.spec import data_dictionary

    refusal = unknown_project(project_id)
    if refusal:
        raise click.UsageError(refusal)
    spec = spec_or_none(project_id)
    if spec is None:
        raise click.UsageError(f"no spec for project {project_id!r} (cohort/projects/{project_id}/spec.yaml)")
    markdown, doc = data_dictionary(spec)
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False) if as_json else markdown)


# ---------------------------------------------------------------- cohort exports / releases


@click.group("exports")
def exports() -> None:
    """Person-level deliveries in the lake's exports/ folder."""


@exports.command("list")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option("--project", "project_id", default=None, help="Only this project.")
def exports_list(data_dir: str | None, project_id: str | None) -> None:
    """Every exported table: its years, rows and size."""
    lake = _lake(data_dir, must_exist=True)
    _require_project(project_id, lake.exports)
    rows = [r for r in _table_folders(lake.exports) if project_id is None or r[0] == project_id]
    if not rows:
        click.echo(f"No exports under {lake.exports} yet (run `cohort demo` or `cohort project build`).")
        return
    click.echo(f"{'project':<28} {'table':<28} {'years':<11} {'rows':>10} {'size':>9}")
    for proj, table, years, n, size in rows:
        click.echo(f"{proj:<28} {table:<28} {_years_text(years):<11} {n:>10,} {_size(size):>9}")
    click.echo(f"{len(rows)} tables in {lake.exports}")


@click.group("releases")
def releases() -> None:
    """Anonymous tables that passed the small-cell risk analysis and were signed off (releases/)."""


@releases.command("list")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option("--project", "project_id", default=None, help="Only this project.")
def releases_list(data_dir: str | None, project_id: str | None) -> None:
    """Every release: its files and who signed it off."""
    lake = _lake(data_dir, must_exist=True)
    _require_project(project_id, lake.releases)
    found = [r for r in _releases(lake.releases) if project_id is None or r.project == project_id]
    if not found:
        click.echo(f"No releases{f' of {project_id}' if project_id else ''} under {lake.releases} yet.")
        return
    # as wide as the ids, up to a point: a long entity name of a restricted sub-release overflows alone
    width = min(40, max(len("release"), *(len(r.release_id) for r in found)))
    click.echo(f"{'project':<28} {'release':<{width}} {'files':>5} {'size':>9}  signed off by")
    for r in found:
        size = sum(f.stat().st_size for f in r.files)
        click.echo(
            f"{r.project:<28} {r.release_id:<{width}} {len(r.files):>5} {_size(size):>9}  {r.signed_off_by}"
        )
    click.echo(f"{len(found)} releases in {lake.releases}")


@dataclass(frozen=True)
class Release:
    """One release on the lake: ``releases/<project>/<release_id>/`` with the gate's manifest."""

    project: str
    release_id: str  # a restricted sub-release's id holds its path: ``restricted/<entity>/2024``
    files: tuple[Path, ...]  # its own files (a sub-release's are its own)
    signed_off_by: str


def _releases(area: Path) -> list[Release]:
    """Every release under ``area``: a folder holding the gate's manifest (``release.json``),
    at any depth. The sign-offs (``_signoffs/``) and unfinished (dot) folders are not releases."""
    from cohort.privacy.disclosure.gate import RELEASE_MANIFEST

    out: list[Release] = []
    if not area.is_dir():
        return out
    for project_dir in sorted(p for p in area.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        for manifest in sorted(project_dir.rglob(RELEASE_MANIFEST)):
            folder = manifest.parent
            parts = folder.relative_to(project_dir).parts
            if not parts or any(part.startswith((".", "_")) for part in parts):
                continue
            files = tuple(sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")))
            out.append(Release(project_dir.name, "/".join(parts), files, _signers(manifest)))
    return out


def _signers(manifest: Path) -> str:
    """Who signed the release off, as the gate recorded it in its manifest (one name or several)."""
    try:
        who = json.loads(manifest.read_text()).get("signed_off_by")
    except (ValueError, OSError, AttributeError):
        return "-"
    if isinstance(who, list):
        return ", ".join(str(name) for name in who) or "-"
    return str(who) if who else "-"


commands = [demo, dev, project, exports, releases]
