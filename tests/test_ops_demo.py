"""``cohort demo`` end to end on a tiny warehouse, as a newcomer runs it: its runs are runs of the
code location's named jobs (the UI lists them under Jobs and can run them again), and every
project it builds gets a report page that links its release.

Two small anonymous projects at scale 0.001 keep it fast (one run each, plus the contract check
of the warehouse); the yearly projects' jobs are chosen by the same rule (``Materialiser.job_for``,
tested on the real plan in ``test_every_planned_run_of_every_project_has_a_named_job``).

At its end the demo takes the example analysis of ``measure_profiles`` (seed 001) through the
researcher's and the output checker's path: run on the extract, submitted, built in the secure area
(a run of its own job), reviewed, approved by the demo's reviewer and released, each desk step a run
of the UI's review jobs.
"""

import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest
from conftest import run_cohort

from cohort import settings
from cohort.analysis.assets import submitted_analyses_defs
from cohort.analysis.folder import folder_hash
from cohort.analysis.registry import submission
from cohort.analysis.review import built_output, decisions, review_state
from cohort.ops.analyses import DEMO_REVIEWER
from cohort.ops.catalogue import projects_of
from cohort.ops.runner import Materialiser, plan_project

PROJECTS = ["measure_profiles", "regularised_foreigners"]
EPHEMERAL = "__ephemeral_asset_job__"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The lake of the tiny demo and what the demo printed."""
    lake = tmp_path_factory.mktemp("tiny_demo")
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "COHORT_WAREHOUSE_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    args = ["demo", "--data-dir", str(lake), "--scale", "0.001", "--workers", "1"]
    for project in PROJECTS:
        args += ["--project", project]
    done = run_cohort(args, env=env, cwd=Path(__file__).parents[1], timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return lake, done.stdout


@pytest.fixture(scope="module")
def demo_lake(demo: tuple[Path, str]) -> Path:
    return demo[0]


def test_the_demo_runs_are_runs_of_named_jobs(demo_lake: Path):
    from cohort.definitions import defs

    # the code location's jobs, with those of the analyses submitted on this lake (which the UI loads
    # from the lake it is started on, as cohort.definitions does)
    analyses = submitted_analyses_defs(settings.lake(str(demo_lake))).jobs or []
    jobs = {job.name for job in [*defs.get_repository_def().get_all_jobs(), *analyses]}
    assert "analysis_outflow_to_work" in jobs
    with dg.DagsterInstance.from_config(str(demo_lake / "dagster")) as instance:
        runs = instance.get_runs()
    assert runs
    names = {run.job_name for run in runs}
    assert EPHEMERAL not in names and names <= jobs, names
    assert "warehouse_check_job" in names
    for project in PROJECTS:
        (run,) = [
            r for r in runs if r.tags.get("cohort/project") == project and r.tags["cohort/trigger"] == "cli"
        ]
        # the release waits for a sign-off: the demo's run is one of the job that holds it
        assert run.job_name == f"{project}_release_job" and run.status == dg.DagsterRunStatus.SUCCESS


def test_every_planned_run_of_every_project_has_a_named_job():
    from cohort.definitions import defs

    materialiser = Materialiser(defs, dg.DagsterInstance.ephemeral())
    for project in projects_of(defs):
        for run in plan_project(project, materialiser.graph):
            job = materialiser.job_for(run)
            assert job is not None and job.startswith(project.id), (run.label, job)


def test_every_project_of_the_demo_has_a_report_that_links_its_release(demo_lake: Path):
    for project in PROJECTS:
        index = demo_lake / "reports" / project / "index.html"
        page = index.read_text()
        assert "0 tables" not in page and re.search(r"<p>\d+ tables, [\d,]+ rows\.</p>", page)
        links = re.findall(r'<a href="([^"#]+)">', page)
        targets = {(index.parent / link).resolve() for link in links}
        assert all(t.exists() for t in targets), links
        release = demo_lake / "releases" / project
        assert any(t.name == "summary.md" and release in t.parents for t in targets), links
        assert any(t.name.endswith(".reasons.csv") for t in targets), links
        # nothing of the secure area is linked
        assert not any((demo_lake / "secure") in t.parents for t in targets)


def test_chains_are_scheduled_by_expected_time_and_independent_years_are_shared():
    from cohort.ops.commands import expected_seconds, split_year_chains
    from cohort.ops.runner import PlannedRun

    def runs(project: str, years: list[int | None], stage: int = 0) -> list[PlannedRun]:
        return [PlannedRun(project, (dg.AssetKey([project, "t"]),), y, stage) for y in years]

    staff = runs("flemish_staff_origin", list(range(2013, 2027)))
    cohort = runs("longitudinal_cohort", [None]) + runs("longitudinal_cohort", list(range(2005, 2012)), 1)
    chains = split_year_chains([staff, cohort], {"flemish_staff_origin", "longitudinal_cohort"}, workers=2)
    # the yearly releases go to both workers, every other year; a chain of stages stays whole
    assert [[r.year for r in c] for c in chains[:2]] == [
        list(range(2013, 2027, 2)),
        list(range(2014, 2027, 2)),
    ]
    assert chains[2] == cohort
    assert split_year_chains([staff], set(), workers=2) == [staff]  # not independent: whole
    # by expected time, not by run count: 3 runs of 40 s outweigh 8 runs of 10 s
    slow, many = runs("measure_profiles", [None, None, None]), runs("longitudinal_cohort", [None] * 8)
    assert expected_seconds(slow, {}) > expected_seconds(many, {})
    # the times this machine recorded win over the defaults, and the defaults follow the scale
    assert expected_seconds(slow, {"measure_profiles": 1.0}) == 3.0
    assert expected_seconds(slow, {}, scale=0.02) == 2 * expected_seconds(slow, {})


def test_the_summary_places_each_project_in_the_build():
    from cohort.ops.runner import BuildSummary, PlannedRun, RunOutcome

    def outcome(project: str, seconds: float, finished_at: float) -> RunOutcome:
        run = PlannedRun(project, (dg.AssetKey([project, "t"]),), 2020, 0)
        return RunOutcome(run, True, seconds, 1, finished_at=finished_at)

    summary = BuildSummary([outcome("a", 10, 110), outcome("a", 5, 200), outcome("b", 50, 150)])
    rows = summary.by_project()
    assert (rows["a"]["first_start"], rows["a"]["last_end"], rows["a"]["seconds"]) == (100, 200, 15)
    assert (rows["b"]["first_start"], rows["b"]["last_end"]) == (100, 150)


EXAMPLE = (
    Path(__file__).parents[1] / "cohort" / "projects" / "measure_profiles" / "examples" / "outflow_to_work"
)


def test_the_example_analysis_is_built_reviewed_approved_and_released_through_the_jobs(
    demo: tuple[Path, str],
):
    lake, out = demo
    at = settings.lake(str(lake))
    found = submission(at, "outflow_to_work")
    assert found is not None and found.project == "measure_profiles"
    assert found.content_hash == folder_hash(EXAMPLE)  # the shipped folder, frozen as submitted
    built = built_output(at, found, None)  # raises when the secure build did not run
    # the demo's reviewer approved exactly the content built, and the approved output was released
    [decision] = decisions(at, built)
    assert (decision["decision"], decision["reviewer"]) == ("approved", DEMO_REVIEWER)
    assert decision["content_hash"] == built.content_hash
    assert review_state(at, built).status == "approved"
    released = lake / "releases" / "measure_profiles" / "outflow_to_work"
    assert json.loads((released / "release.json").read_text())["signed_off_by"] == [DEMO_REVIEWER]
    review = lake / "reports" / "measure_profiles" / "outflow_to_work" / "review.html"
    assert f"content to approve: <code>{built.content_hash}</code>" in review.read_text()
    # every step a run of a named job in the lake's instance, as the UI's Runs page lists them
    with dg.DagsterInstance.from_config(str(lake / "dagster")) as instance:
        runs = [r for r in instance.get_runs() if r.tags.get("cohort/trigger") == "demo"]
    assert [r.job_name for r in reversed(runs)] == [
        "analysis_outflow_to_work",
        "analysis_review_decision",
        "analysis_release",
    ]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    steps = out[out.index("4/5 Analyses") : out.index("5/5 Where things are")]
    assert (
        "outflow_to_work (measure_profiles): on the extract" in steps and "review approved (1 of 1" in steps
    )
    assert f"released under {released}" in steps
