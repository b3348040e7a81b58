"""Materialising projects outside the UI: the plan of runs behind ``cohort demo`` and ``cohort project build``.

A project mixes yearly assets and unpartitioned ones (the pseudonym mapping, the data
dictionary, releases), possibly in chains (population per year -> one mapping -> situation
per year). The plan puts the assets into *stages* along the dependency graph: a stage is a
set of assets of one kind (yearly or unpartitioned) whose parents are in earlier stages or in
the same stage; a yearly stage becomes one run per year, an unpartitioned stage one run. The
T-1 tables (``*_next``, see :mod:`cohort.ops.catalogue`) and the reports of a yearly stage run
in a second pass, after every year of that stage exists, so that year T sees T+1.

Runs are recorded in a real Dagster instance (``DAGSTER_HOME``, ``data/dagster`` for the
demo), so the UI shows them afterwards (``make dev``).
"""

import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from cohort.ops.catalogue import Project, projects_of, spec_or_none
from cohort.ops.origins import with_job_origins
from cohort.sources import checks

# the console logger would print every failure as a stack trace of Dagster's wrappers; the command
# line prints the failure's own message instead (failure_reasons), and the event log keeps it all
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
SIGNER_FIELD = "signed_off_by"
PID_TAG = "cohort/pid"  # the process that executes an in-process run (see fail_orphaned_runs)
PID_START_TAG = "cohort/pid_start"  # its start time, so that a reused pid is not taken for it
HOST_TAG = "cohort/host"
MESSAGE_LINES = 8  # of a failure's own message (a Pandera error lists its failure cases)


@dataclass(frozen=True)
class PlannedRun:
    """One run: a project's assets for one year (``year=None``: unpartitioned assets)."""

    project: str
    keys: tuple[dg.AssetKey, ...]
    year: int | None
    stage: int

    @property
    def label(self) -> str:
        return f"{self.project} {self.year if self.year is not None else 'all years'} (stage {self.stage})"


@dataclass
class RunOutcome:
    run: PlannedRun
    success: bool
    seconds: float
    materialisations: int
    run_id: str = ""
    error: str = ""
    finished_at: float = field(default_factory=time.time)  # wall clock, to place it in the build


@dataclass
class BuildSummary:
    outcomes: list[RunOutcome] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)  # workers that died outside a run

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if not o.success]

    def by_project(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for o in self.outcomes:
            row = out.setdefault(
                o.run.project,
                {
                    "runs": 0,
                    "failed": 0,
                    "materialisations": 0,
                    "seconds": 0.0,
                    "years": set(),
                    "first_start": o.finished_at - o.seconds,
                    "last_end": o.finished_at,
                },
            )
            row["first_start"] = min(row["first_start"], o.finished_at - o.seconds)
            row["last_end"] = max(row["last_end"], o.finished_at)
            row["runs"] += 1
            row["failed"] += not o.success
            row["materialisations"] += o.materialisations
            row["seconds"] += o.seconds
            if o.run.year is not None:
                row["years"].add(o.run.year)
        return out


def _kind(graph: Any, key: dg.AssetKey) -> str:
    pd = graph.get(key).partitions_def
    return repr(pd) if pd is not None else ""


def _stages(graph: Any, keys: Sequence[dg.AssetKey]) -> dict[dg.AssetKey, int]:
    """Stage of each key: a parent of another kind (partition set or unpartitioned) pushes an
    asset one stage later; parents of the same kind share the stage (one run per year)."""
    inside = set(keys)
    stage: dict[dg.AssetKey, int] = {}

    def visit(key: dg.AssetKey, seen: tuple[dg.AssetKey, ...] = ()) -> int:
        if key in stage:
            return stage[key]
        kind = _kind(graph, key)
        s = 0
        for p in graph.get(key).parent_keys:
            if p in inside and p not in seen:
                ps = visit(p, (*seen, key))
                s = max(s, ps if _kind(graph, p) == kind else ps + 1)
        stage[key] = s
        return s

    for k in keys:
        visit(k)
    return stage


def plan_project(
    project: Project, graph: Any, years: Iterable[int] | None = None, include_signoff: bool = True
) -> list[PlannedRun]:
    """The runs that build ``project`` for ``years`` (default: every partition).

    ``years`` are years of the project's main partition set; another set (e.g. the labour
    reserve's situation 2019-2027) is built for the same years and their neighbours."""
    wanted = set(years) if years is not None else None
    keys = [k for k in project.keys if include_signoff or k not in project.signoff]
    stage = _stages(graph, keys)
    runs: list[PlannedRun] = []
    for s in sorted(set(stage.values())):
        in_stage = [k for k in keys if stage[k] == s]
        kinds = sorted({_kind(graph, k) for k in in_stage})
        for kind in kinds:
            group = [k for k in in_stage if _kind(graph, k) == kind]
            if not kind:
                runs.append(PlannedRun(project.id, tuple(group), None, s))
                continue
            pd = graph.get(group[0]).partitions_def
            all_years = [int(y) for y in pd.get_partition_keys()]
            if wanted is None:
                run_years = all_years
            elif pd == project.partitions_def:
                run_years = [y for y in all_years if y in wanted]
            else:
                run_years = [y for y in all_years if y in wanted or y - 1 in wanted or y + 1 in wanted]
            # T-1 tables whose T+1 parents are built in this very pass wait for a second pass
            late = {
                k
                for k in group
                if k in project.next_roots and any(p in group for p in graph.get(k).parent_keys)
            }
            late |= {k for k in group if late and (k in project.next_tables)}
            first = tuple(k for k in group if k not in late)
            second = tuple(k for k in group if k in late)
            for pass_keys in (first, second):
                if pass_keys:
                    runs += [PlannedRun(project.id, pass_keys, y, s) for y in run_years]
    return with_neighbour_situations(project, graph, runs, wanted)


def _situation_key(project: Project) -> dg.AssetKey | None:
    """The yearly situation asset the project's T+1/T-1 tables read (``mobility:`` in its spec)."""
    mobility = project.spec.extra.get("mobility")
    if not isinstance(mobility, dict):
        return None
    key = dg.AssetKey([project.id, str(mobility.get("situation_table", "situation"))])
    return key if key in project.keys else None


def published(runs: list[PlannedRun], warehouse_years: list[int]) -> list[PlannedRun]:
    """``runs`` without those of a year after the warehouse's last: from 1 January the running
    year is a partition (the labour reserve's situation of T+1), but its data come later. Such a
    year is not a fault; its neighbours mark it ``not_yet_observed``. A gap inside the warehouse's
    years stays in the plan, and its build names what is missing."""
    if not warehouse_years:
        return runs
    last = max(warehouse_years)
    return [r for r in runs if r.year is None or r.year <= last]


def with_neighbour_situations(
    project: Project, graph: Any, runs: list[PlannedRun], wanted: set[int] | None
) -> list[PlannedRun]:
    """Add to ``runs`` the situation of every calendar neighbour (T-1, T+1) of the wanted years
    that the plan does not build yet, so that a build of one year of a project with T+1/T-1 tables
    finds its neighbours (``--years 2005`` of the cohort builds the 2006 situation first).

    A neighbour run holds only the situation and what it is made from in the same stage (its
    yearly parents, the whole multi-asset it belongs to), never the neighbour's own T±1 tables;
    it comes before the stage's other runs. Neighbours outside the situation's partitions are
    left to the mobility step (``not_yet_observed``)."""
    situation = _situation_key(project)
    if wanted is None or situation is None:
        return runs
    pd = graph.get(situation).partitions_def
    if pd is None:
        return runs
    needed = {situation}
    todo = [situation]
    while todo:  # the situation, its yearly ancestors of the same partitions, their multi-assets
        node = graph.get(todo.pop())
        for k in {*node.parent_keys, *node.execution_set_asset_keys}:
            if k not in needed and k in project.keys and graph.get(k).partitions_def == pd:
                needed.add(k)
                todo.append(k)
    partition_years = {int(y) for y in pd.get_partition_keys()}
    planned = {r.year for r in runs if situation in r.keys}
    neighbours = sorted({y + d for y in wanted for d in (-1, 1)} & partition_years - planned)
    if not neighbours:
        return runs
    out: list[PlannedRun] = []
    added: set[dg.AssetKey] = set()
    for run in runs:
        keys = tuple(k for k in run.keys if k in needed and k not in added)
        if keys and run.year is not None:
            out += [PlannedRun(project.id, keys, y, run.stage) for y in neighbours]
            added.update(keys)
        out.append(run)
    return out


def run_config_for(
    assets_defs: Sequence[dg.AssetsDefinition], keys: Iterable[dg.AssetKey], signer: str | None
) -> dict[str, Any]:
    """Console logs at WARNING, and the sign-off field of release assets filled with ``signer``."""
    config: dict[str, Any] = {**QUIET}
    if not signer:
        return config
    wanted = set(keys)
    ops: dict[str, Any] = {}
    for a in assets_defs:
        if not wanted & set(a.keys):
            continue
        schema = a.op.config_schema
        fields = getattr(getattr(schema, "config_type", None), "fields", {}) or {}
        if SIGNER_FIELD in fields:
            ops[a.op.name] = {"config": {SIGNER_FIELD: signer}}
    if ops:
        config["ops"] = ops
    return config


class Materialiser:
    """Executes planned runs in process against one Dagster instance."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, signer: str | None = None):
        self.defs = defs
        self.instance = instance
        self.signer = signer
        self.graph = defs.resolve_asset_graph()
        # the definitions as written (not the repository's copies, which carry bound resources)
        self.assets_defs = [a for a in (defs.assets or []) if isinstance(a, dg.AssetsDefinition)]
        self.checks_defs = [c for c in (defs.asset_checks or []) if isinstance(c, dg.AssetChecksDefinition)]
        self.resources = defs.resources or {}
        # the named jobs that hold assets (not Dagster's hidden __ASSET_JOB), by the keys they select
        self.jobs = {
            job.name: (frozenset(job.asset_layer.selected_asset_keys), job.partitions_def is not None)
            for job in defs.get_repository_def().get_all_jobs()
            if not job.name.startswith("__") and job.asset_layer.selected_asset_keys
        }

    def job_for(self, run: PlannedRun) -> str | None:
        """The smallest named job (cohort.ops.defs) that holds every asset of ``run`` and is
        partitioned as it is: the run is recorded under that job's name, so the UI lists it with the
        job and can run it again. ``None`` when no job holds it."""
        wanted = set(run.keys)
        fitting = [
            (len(keys), name)
            for name, (keys, partitioned) in self.jobs.items()
            if wanted <= keys and partitioned == (run.year is not None)
        ]
        return min(fitting)[1] if fitting else None

    def projects(self) -> list[Project]:
        return projects_of(self.defs)

    def project(self, project_id: str) -> Project:
        for p in self.projects():
            if p.id == project_id:
                return p
        known = ", ".join(p.id for p in self.projects()) or "none"
        if spec_or_none(project_id) is not None:
            # labour_reserve_results: a deliberation whose results are the researchers' own analyses
            raise KeyError(
                f"{project_id} builds nothing of its own: its results are the analyses researchers submit "
                f"(cohort analysis run | submit | build | review | release; docs/analysis.md). "
                f"Projects with assets: {known}"
            )
        raise KeyError(f"unknown project {project_id!r} (projects with assets: {known})")

    def plan(self, project: Project, years: Iterable[int] | None = None) -> list[PlannedRun]:
        """:func:`plan_project`, without the partitions of years the warehouse has not published
        yet (see :func:`published`)."""
        runs = plan_project(project, self.graph, years, include_signoff=bool(self.signer))
        lake = self.resources.get("lake")
        return published(runs, checks.warehouse_years(lake.paths().warehouse)) if lake is not None else runs

    def execute(self, run: PlannedRun, extra_tags: dict[str, str] | None = None) -> RunOutcome:
        started = time.perf_counter()
        checks = [c for c in self.checks_defs if {ck.asset_key for ck in c.check_keys} & set(run.keys)]
        partition_key = str(run.year) if run.year is not None else None
        run_config = run_config_for(self.assets_defs, run.keys, self.signer)
        tags = {
            "cohort/trigger": "cli",
            "cohort/project": run.project,
            **process_tags(),
            **(extra_tags or {}),
        }
        job_name = self.job_for(run)
        try:
            with with_job_origins(self.instance):  # so that the UI can run it again
                result = self._execute(run, job_name, partition_key, run_config, tags, checks)
        except Exception as exc:  # definition errors: report them with the run, keep going
            return RunOutcome(
                run, False, time.perf_counter() - started, 0, error=f"{type(exc).__name__}: {exc}"
            )
        error = "" if result.success else "\n".join(failure_reasons(result.all_events)) or "run failed"
        return RunOutcome(
            run,
            result.success,
            time.perf_counter() - started,
            len(result.get_asset_materialization_events()),
            result.run_id,
            error,
        )

    def _execute(
        self,
        run: PlannedRun,
        job_name: str | None,
        partition_key: str | None,
        run_config: dict[str, Any],
        tags: dict[str, str],
        checks: list[dg.AssetChecksDefinition],
    ) -> Any:
        """One run of the named job ``job_name`` with only this run's assets (and their checks)."""
        if job_name is not None:  # a run of a named job, with only this run's assets (and their checks)
            return self.defs.resolve_job_def(job_name).execute_in_process(
                run_config=run_config,
                instance=self.instance,
                partition_key=partition_key,
                asset_selection=list(run.keys),
                tags=tags,
                raise_on_error=False,
            )
        # an asset outside every job: Dagster's ephemeral asset job
        return dg.materialize(
            [*self.assets_defs, *checks],
            selection=dg.AssetSelection.assets(*run.keys),
            partition_key=partition_key,
            instance=self.instance,
            resources=self.resources,
            run_config=run_config,
            tags=tags,
            raise_on_error=False,
        )

    def execute_job(
        self, job_name: str, run_config: dict[str, Any], tags: dict[str, str], label: str
    ) -> RunOutcome:
        """One run of the named job ``job_name`` as a schedule requested it (its run config and the
        tags Dagster gave the request), recorded like the planned runs."""
        started = time.perf_counter()
        run = PlannedRun(tags.get("cohort/project", job_name), (), None, 0)
        try:
            with with_job_origins(self.instance):
                result = self.defs.resolve_job_def(job_name).execute_in_process(
                    run_config={**QUIET, **run_config},
                    instance=self.instance,
                    tags={**process_tags(), **tags},
                    raise_on_error=False,
                )
        except Exception as exc:
            return RunOutcome(
                run, False, time.perf_counter() - started, 0, error=f"{label}: {type(exc).__name__}: {exc}"
            )
        error = "" if result.success else "\n".join(failure_reasons(result.all_events)) or f"{label} failed"
        return RunOutcome(run, result.success, time.perf_counter() - started, 0, result.run_id, error)

    def execute_all(
        self,
        runs: Sequence[PlannedRun],
        on_done: Callable[[RunOutcome], None] | None = None,
        stop_on_failure: bool = True,
    ) -> BuildSummary:
        summary = BuildSummary()
        failed_projects: set[str] = set()
        for run in runs:
            if run.project in failed_projects:
                continue  # later stages of a failed project would fail for the same reason
            outcome = self.execute(run)
            summary.outcomes.append(outcome)
            if not outcome.success and stop_on_failure:
                failed_projects.add(run.project)
            if on_done:
                on_done(outcome)
        return summary


def _own_message(error: Any) -> str:
    """The message of the exception that started a chain of Dagster wrappers
    (``DagsterExecutionStepExecutionError`` -> the asset's own error), without its module path."""
    while error.cause is not None:
        error = error.cause
    text = error.message.strip()
    cls = error.cls_name or ""
    for prefix in (f"{cls}: ", f"{cls}:"):
        head, found, rest = text.partition(prefix)
        if found and (not head or head.endswith(".")):
            text = f"{cls}: {rest}"  # "cohort.projects.x.BuildError: ..." -> "BuildError: ..."
            break
    lines = text.splitlines()
    if len(lines) > MESSAGE_LINES:
        lines = [
            *lines[:MESSAGE_LINES],
            f"... ({len(lines) - MESSAGE_LINES} more lines in the run's event log)",
        ]
    return "\n".join(lines)


def _first_line(value: Any, width: int = 200) -> str:
    lines = str(value).strip().splitlines() or [""]
    text = lines[0]
    return text if len(text) <= width and len(lines) == 1 else text[:width] + " ..."


def _check_message(evaluation: Any) -> str:
    """A failed check in its own words: its description, else its metadata."""
    where = evaluation.asset_key.to_user_string()
    if evaluation.partition:
        where += f" {evaluation.partition}"
    said = (evaluation.description or "").strip()
    if not said:  # the metadata that says something: counts of zero and empty texts say nothing wrong
        values = {k: getattr(v, "value", v) for k, v in (evaluation.metadata or {}).items()}
        said = ", ".join(
            f"{k}={_first_line(v)}" for k, v in values.items() if v not in (0, 0.0, "", None, [], {})
        )
    return f"{where}: check {evaluation.check_name} failed" + (f": {said}" if said else "")


def failure_reasons(events: Iterable[Any]) -> list[str]:
    """What went wrong in a run, in the failing step's own words: each failed blocking check's
    description (rather than Dagster's "1 blocking asset check failed") and each failed step's
    original exception (rather than "Error occurred while executing op ...")."""
    checks: list[str] = []
    steps: list[str] = []
    for e in events:
        data = e.event_specific_data
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and data is not None and not data.passed:
            if getattr(data, "blocking", False) or str(getattr(data, "severity", "")).endswith("ERROR"):
                checks.append(_check_message(data))
        elif e.event_type_value == "STEP_FAILURE" and getattr(data, "error", None) is not None:
            error = data.error  # type: ignore[union-attr]
            if checks and error.cls_name == "DagsterAssetCheckFailedError":
                continue  # the wrapper of the checks above
            steps.append(f"{e.step_key}: {_own_message(error)}")
    return checks + steps


# ---------------------------------------------------------------- runs whose process died


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot ("" if unknown): with the pid,
    it names one process, even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # the command name (field 2) may hold spaces and parentheses: count from its end
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_tags() -> dict[str, str]:
    """Tags that name the process executing an in-process run."""
    pid = os.getpid()
    return {PID_TAG: str(pid), PID_START_TAG: _process_start(pid), HOST_TAG: socket.gethostname()}


def _process_alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process holds the pid now (ours would answer)
        return False
    return not start or _process_start(pid) in ("", start)


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark as failed the runs of ``instance`` that an in-process build on this machine started
    and whose process is gone (killed, out of memory, power cut): they would stay STARTED forever.

    Only runs tagged with :func:`process_tags` are judged; runs launched by the daemon or the UI
    are Dagster's own run monitoring's business. Returns the ids of the runs marked."""
    host = socket.gethostname()
    marked: list[str] = []
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
            tags={HOST_TAG: host},
        )
    )
    for record in records:
        run = record.dagster_run
        if run.parent_run_id is not None:
            # a re-execution from the UI (cohort.ops.origins) copies its parent's tags, our process tags
            # included, but runs in a process of the run launcher: not ours to judge
            continue
        pid = run.tags.get(PID_TAG, "")
        if not pid.isdigit() or _process_alive(int(pid), run.tags.get(PID_START_TAG, "")):
            continue
        instance.report_run_failed(
            run,
            message=f"the process that executed this run (pid {pid} on {host}) ended without finishing "
            "it (killed?); marked failed at the start of the next in-process build",
        )
        marked.append(run.run_id)
    return marked


def instance_config(template: Path | None = None) -> dict[str, Any]:
    """The repository's ``dagster.yaml`` without its storage paths (which are relative to the
    repository root), so that a home anywhere keeps its SQLite storage under itself."""
    source = template if template is not None else Path.cwd() / "dagster.yaml"
    if source.exists():
        config = yaml.safe_load(source.read_text()) or {}
    else:  # outside the repository: two runs at a time, as in the repository's file
        config = {"concurrency": {"runs": {"max_concurrent_runs": 2}, "pools": {"default_limit": 2}}}
    for relative in ("storage", "local_artifact_storage"):
        config.pop(relative, None)
    config.setdefault("telemetry", {"enabled": False})
    return config


def ensure_instance_home(
    home: Path, template: Path | None = None, overrides: dict[str, Any] | None = None
) -> Path:
    """Make ``home`` a Dagster home: create it and write its ``dagster.yaml`` (the repository's
    settings, see :func:`instance_config`) unless it already has one."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or overrides:
        config = {**instance_config(template), **(overrides or {})}
        target.write_text(
            "# written by cohort.ops.runner from the repository's dagster.yaml\n"
            + yaml.safe_dump(config, sort_keys=False)
        )
    return home


def instance_at(home: Path) -> dg.DagsterInstance:
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def lake_home(lake_root: Path) -> Path:
    """The Dagster home whose runs the UI of this lake shows: ``DAGSTER_HOME`` when set, else
    ``<lake>/dagster`` (what ``make dev`` / ``cohort dev`` open), made a home when it is not one yet."""
    return ensure_instance_home(Path(os.environ.get("DAGSTER_HOME") or lake_root / "dagster").resolve())


def build_worker(project_runs: list[PlannedRun], signer: str | None, home: str, queue: Any) -> None:
    """Run one project's planned runs in this (worker) process, reporting each outcome on ``queue``.

    Used by ``cohort demo --workers N``: projects are independent (own folders, own mapping), so
    they can be built side by side; the runs of one project stay in order."""
    from cohort.definitions import defs

    m = Materialiser(defs, instance_at(Path(home)), signer=signer)
    for run in project_runs:
        outcome = m.execute(run)
        queue.put(outcome)
        if not outcome.success:
            break
