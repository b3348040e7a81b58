"""``cohort analysis submit``: the folder is frozen into the lake's registry with its content hash; the same
content again is a no-op, a changed folder under the same name is refused in one line (exit 2), and a
frozen copy changed after submission is refused when it is loaded to run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_folders import GOOD, write
from click.testing import CliRunner

from cohort import settings
from cohort.analysis.folder import folder_hash
from cohort.analysis.registry import SubmissionRefused, submission
from cohort.cli import main


def submit(folder: Path, lake: Path):
    return CliRunner().invoke(main, ["analysis", "submit", str(folder), "--data-dir", str(lake)])


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    root.mkdir()
    return root


SUMS = GOOD.replace("statistic: mean", "statistic: sum")


def test_submit_records_the_hash_and_freezes_the_folder(tmp_path, lake):
    folder = write(tmp_path / "reserve_study", SUMS)
    result = submit(folder, lake)
    assert result.exit_code == 0, result.output
    digest = folder_hash(folder)
    assert f"submitted; content hash {digest}" in result.output
    record = json.loads((lake / "analyses" / "reserve_study" / "submission.json").read_text())
    assert record["content_hash"] == digest and record["project"] == "labour_reserve"
    frozen = lake / "analyses" / "reserve_study" / "code"
    assert (frozen / "reserve.sql").read_text() == "select 1"
    assert folder_hash(frozen) == digest
    again = submit(folder, lake)
    assert again.exit_code == 0 and "already submitted with this content" in again.output


def test_a_changed_folder_is_refused_under_the_same_name(tmp_path, lake):
    folder = write(tmp_path / "reserve_study", SUMS)
    assert submit(folder, lake).exit_code == 0
    (folder / "reserve.sql").write_text("select 2")
    result = submit(folder, lake)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "it changed since" in lines[0], result.output
    # the registry still holds the submitted version
    assert (lake / "analyses" / "reserve_study" / "code" / "reserve.sql").read_text() == "select 1"


def test_a_frozen_copy_changed_after_submission_does_not_load(tmp_path, lake):
    folder = write(tmp_path / "reserve_study", SUMS)
    assert submit(folder, lake).exit_code == 0
    found = submission(settings.lake(str(lake)), "reserve_study")
    assert found is not None and found.load().name == "reserve_study"
    (found.code / "age.sql").write_text("select * from mobility_next")
    with pytest.raises(SubmissionRefused, match="changed after submission"):
        found.load()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SUMS.replace("labour_reserve", "nobody"), "analysis.yaml: project:"),
        (
            GOOD.replace(
                "- name: reserve_by_province",
                "- statistic: mean\n    value: age\n    name: reserve_by_province",
            ),
            "only mean tables",
        ),
    ],
)
def test_a_bad_folder_or_a_mean_table_is_not_submitted(tmp_path, lake, spec, message):
    result = submit(write(tmp_path / "reserve_study", spec), lake)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (lake / "analyses").exists()


def test_the_code_location_has_the_assets_of_the_analyses_submitted_on_its_lake(tmp_path, lake):
    """cohort.definitions reads the registry of COHORT_DATA_DIR when it is loaded (a fresh process:
    the module is loaded once per process)."""
    assert submit(write(tmp_path / "reserve_study", SUMS), lake).exit_code == 0
    code = (
        "from cohort.definitions import defs\n"
        "print(sorted(k.to_user_string() for k in defs.resolve_all_asset_keys() if 'reserve_study' in k.to_user_string()))\n"
        "print(sorted(j.name for j in defs.get_repository_def().get_all_jobs() if j.name.startswith('analysis_')))\n"
        "from cohort.ops.catalogue import projects_of\n"
        "print(sorted(p.id for p in projects_of(defs)))\n"
        "print(sorted(j.name for j in defs.get_repository_def().get_all_jobs()"
        " if not j.name.startswith('__') and any('reserve_study' in k.to_user_string() for k in j.asset_layer.selected_asset_keys)))"
    )
    env = {**os.environ, "COHORT_DATA_DIR": str(lake)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assets, jobs, projects, selecting = done.stdout.strip().splitlines()
    assert assets == str(
        [
            "labour_reserve_results/analysis_reserve_study_review",
            "labour_reserve_results/analysis_reserve_study_tables",
        ]
    )
    # its secure build's job, and the review desk's two jobs (shared by every analysis)
    assert jobs == str(["analysis_release", "analysis_reserve_study", "analysis_review_decision"])
    # the analysis is no project's: labour_reserve_results (a spec without assets of its own) does not become
    # a project with a job, a schedule and a report because an analysis puts assets under its name, and
    # no project job builds the analysis (only its own job, then a reviewer)
    assert "labour_reserve_results" not in projects and "labour_reserve" in projects
    assert selecting == str(["analysis_reserve_study"])
