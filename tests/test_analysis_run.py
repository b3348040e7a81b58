"""``cohort analysis run`` on the extract the researcher has: the labour reserve's phase-1 exports of
2020, built by the project's Dagster assets on the hand-built warehouse. The command shows each table as
the rules would leave it; it needs only ``exports/`` (a lake without ``secure/``), and a bad folder or a
query the sandbox refuses ends in one line and exit status 2."""

import json
import os
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from analysis_folders import extract_only
from click.testing import CliRunner
from conftest import run_cohort
from hand_labour_warehouse import build_hand_warehouse

from cohort.cli import main
from cohort.projects.labour_reserve import assets as lr
from cohort.resources import LakeResource

SPEC = """
project: labour_reserve
title: Destination by sex, and mean FTE by province
tables:
  - name: destination_by_sex
    sql: destination.sql
    dimensions: [sex, destination]
  - name: fte_by_province
    sql: fte.sql
    statistic: mean
    dimensions: [province]
    value: fte
"""
DESTINATION = """
select coalesce(sex, 'unknown') as sex,
       case when next_status = 'observed' then 'observed' else 'left' end as destination
from mobility_next
where next_status <> 'not_yet_observed'
"""
FTE = "select coalesce(province, 'unknown') as province, fte from mobility_next where fte is not null"


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory) -> Path:
    """The labour reserve of 2020 built through Dagster on the hand warehouse: the secure tables and
    the phase-1 exports."""
    root = tmp_path_factory.mktemp("analysis_build")
    build_hand_warehouse(root / "warehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COHORT_DEMO", "1")
        mp.delenv("COHORT_KEY_LABOUR_RESERVE", raising=False)
        mp.delenv("COHORT_KEY_DIR", raising=False)
        lake = LakeResource(data_dir=str(root))
        steps = [
            ([lr.person_mapping.key], None),
            *(([lr.situation.key, lr.population_absence.key], y) for y in ("2019", "2020", "2021")),
            ([lr.phase1_panel.key], None),
            ([lr.mobility_next.key, lr.mobility_prev.key, lr.phase1_next.key, lr.phase1_prev.key], "2020"),
        ]
        with dg.instance_for_test() as instance:
            for keys, year in steps:
                run = dg.materialize(
                    lr.ASSETS, selection=keys, partition_key=year, resources={"lake": lake}, instance=instance
                )
                assert run.success
    return root


@pytest.fixture(scope="module")
def extract_lake(built_lake, tmp_path_factory) -> Path:
    """A lake holding ONLY the researcher's extract: the phase-1 exports, without the secure area."""
    return extract_only(built_lake, tmp_path_factory.mktemp("analysis_extract"))


def folder(tmp_path: Path, statistic: str = "mean") -> Path:
    out = tmp_path / "my_analysis"
    out.mkdir()
    (out / "analysis.yaml").write_text(SPEC.replace("statistic: mean", f"statistic: {statistic}"))
    (out / "destination.sql").write_text(DESTINATION)
    (out / "fte.sql").write_text(FTE)
    return out


def cli(args: list[str], lake: Path, cwd: Path):
    return run_cohort(["analysis", *args, "--data-dir", str(lake)], {**os.environ}, cwd)


def test_run_shows_what_the_rules_would_hide(extract_lake, tmp_path):
    result = cli(["run", str(folder(tmp_path))], extract_lake, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (extract_lake / "secure").exists()
    out = result.stdout
    assert "years [2020]" in out and "counts 1-4 hidden" in out
    # independent count of the frequency cells (every margin included) with 1 to 4 persons
    micro = pl.read_parquet(
        extract_lake / "exports/labour_reserve/phase1/mobility_next/year=2020/data.parquet"
    )
    micro = micro.filter(pl.col("next_status") != "not_yet_observed").select(
        sex=pl.col("sex").fill_null("unknown"),
        destination=pl.when(pl.col("next_status") == "observed")
        .then(pl.lit("observed"))
        .otherwise(pl.lit("left")),
    )
    counts = [
        *micro.group_by("sex", "destination").len()["len"],
        *micro.group_by("sex").len()["len"],
        *micro.group_by("destination").len()["len"],
        micro.height,
    ]
    small = sum(1 for n in counts if 1 <= n <= 4)
    assert small > 0  # the hand warehouse is tiny: the rule has work to do
    line = next(x for x in out.splitlines() if x.startswith("2020 destination_by_sex (count)"))
    assert f"{small} hidden by a rule" in line, line
    assert "2020 fte_by_province (mean)" in out
    assert "hidden: rule" in out
    # a hidden cell shows 'x', never a number, on its line
    for row in out.splitlines():
        if row.rstrip().endswith("hidden: rule"):
            assert row.split()[-3] == "x", row


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda f: (f / "analysis.yaml").write_text("project: nobody\ntables: []\n"),
            "analysis.yaml: project:",
        ),
        (lambda f: (f / "fte.sql").unlink(), "analysis.yaml: tables[1].sql: fte.sql does not exist"),
        (
            lambda f: (f / "destination.sql").write_text("select * from read_csv('/etc/passwd')"),
            "destination_by_sex: refused: Permission Error",
        ),
        (
            lambda f: (f / "destination.sql").write_text("select sex, person_id from mobility_next"),
            "destination_by_sex: the query must return exactly the columns",
        ),
        (  # the pseudonyms as the labels of a table: refused before anything runs
            lambda f: (f / "destination.sql").write_text(
                "select sex, cast(person_id as varchar) as destination from mobility_next"
            ),
            "destination_by_sex: refused: destination would carry the values of person_id, a key of labour_reserve",
        ),
    ],
)
def test_a_bad_folder_or_a_refused_query_is_one_line_and_exit_2(extract_lake, tmp_path, mutate, message):
    target = folder(tmp_path)
    mutate(target)
    # in process (the same click command line, without a second interpreter start)
    result = CliRunner().invoke(main, ["analysis", "run", str(target), "--data-dir", str(extract_lake)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output


MODEL = """
models:
  - name: fte_model
    sql: fte_model.sql
    kind: linear
    outcome: fte
    factors: [sex]
"""


def with_model(tmp_path: Path, name: str) -> Path:
    """The analysis (count and mean tables) plus a regression, in a folder called ``name``."""
    out = folder(tmp_path)
    (out / "analysis.yaml").write_text(SPEC + MODEL)
    (out / "fte_model.sql").write_text(
        "select fte, coalesce(sex, 'unknown') as sex from mobility_next where fte is not null"
    )
    return out.rename(out.with_name(name))


def test_the_whole_path_through_the_command_line(built_lake, extract_lake, tmp_path):
    """run on the extract -> submit -> build in the secure area -> review -> approve -> release; each step
    a `cohort analysis ...` process (a release before approval: the next test)."""
    study = with_model(tmp_path, "study")
    tried = cli(["run", str(study)], extract_lake, tmp_path)
    assert tried.returncode == 0, tried.stderr
    # the hand warehouse has 8 persons in 2020: the model is refused on the extract already
    assert "2020 fte_model (linear regression)\n  refused" in tried.stdout
    assert "FAILED residual degrees of freedom" in tried.stdout
    submitted = cli(["submit", str(study)], built_lake, tmp_path)
    assert submitted.returncode == 0 and "study: submitted" in submitted.stdout, submitted.stderr
    built = cli(["build", "study", "--year", "2020"], built_lake, tmp_path)
    assert built.returncode == 0 and "small-cell risk analysis passed" in built.stdout, built.stderr
    released = built_lake / "releases" / "labour_reserve_results" / "study" / "2020"
    review = cli(["review", "study", "--year", "2020"], built_lake, tmp_path)
    assert review.returncode == 0, review.stderr
    assert "small-cell risk analysis: **passed**" in review.stdout and "review: **waiting**" in review.stdout
    assert "## Model fte_model (linear regression): REFUSED (not released)" in review.stdout
    reports = built_lake / "reports" / "labour_reserve_results" / "study" / "2020"
    assert (reports / "review.md").read_text() in review.stdout
    assert "<h2>Table destination_by_sex (count)</h2>" in (reports / "review.html").read_text()
    # a hidden cell is shown as x with its reason, never with its value
    hidden = [r for r in review.stdout.splitlines() if r.endswith(("hidden by a rule |", "another cell |"))]
    assert hidden and all(r.split("|")[-3].strip() == "x" for r in hidden)
    approved = cli(
        ["approve", "study", "--year", "2020", "--reviewer", "An Peeters", "--reason", "checked"],
        built_lake,
        tmp_path,
    )
    assert approved.returncode == 0 and "review approved (1 of 1" in approved.stdout, approved.stderr
    done = cli(["release", "study", "--year", "2020"], built_lake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in released.iterdir() if p.suffix in (".csv", ".json") and "." not in p.stem} == {
        "destination_by_sex.csv",
        "fte_by_province.csv",
        "models.json",
        "release.json",
        "report.json",
        "summary.json",
    }
    assert not list(released.glob("*coefficients*"))  # the refused model leaves only its checks
    [model] = json.loads((released / "models.json").read_text())
    assert model["passed"] is False and model["coefficients"] is None and model["units"] is None
    manifest = json.loads((released / "release.json").read_text())
    assert manifest["signed_off_by"] == ["An Peeters"]
    published = pl.read_parquet(released / "destination_by_sex.parquet")
    assert set(published.columns) == {"sex", "destination", "shown"}
    # the grand total is the secure year's population observed in T+1 (shown only from the threshold on)
    secure = pl.read_parquet(built_lake / "secure/labour_reserve/mobility_next/year=2020/data.parquet")
    total = published.filter((pl.col("sex") == "Total") & (pl.col("destination") == "Total"))["shown"]
    observed = secure.filter(pl.col("next_status") != "not_yet_observed").height
    assert total.to_list() == [str(observed) if observed >= 5 else "x"]
    ledger = (built_lake / "releases" / "labour_reserve_results" / "_ledger.jsonl").read_text()
    assert "study/2020" in ledger


def test_a_rejected_output_is_not_released(built_lake, tmp_path):
    """The same steps in process (the same click commands): an output not approved yet is not released,
    a rejection stops the release, and a later approval of the same content does not undo it."""
    lake = str(built_lake)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["analysis", *args, "--data-dir", lake])

    assert invoke("submit", str(with_model(tmp_path, "refused_study"))).exit_code == 0
    assert invoke("build", "refused_study", "--year", "2020").exit_code == 0
    # a year whose secure tables were not built: refused, not released as a table of zeros
    empty = invoke("build", "refused_study", "--year", "2021")
    assert empty.exit_code == 1 and "the secure area has no labour_reserve tables of 2021" in empty.stderr
    early = invoke("release", "refused_study", "--year", "2020")
    assert early.exit_code == 1 and "is not approved: 0 of 1 approval(s)" in early.stderr
    assert not (built_lake / "releases" / "labour_reserve_results" / "refused_study").exists()
    rejected = invoke(
        "reject", "refused_study", "--year", "2020", "--reviewer", "Bo Claes", "--reason", "too detailed"
    )
    assert rejected.exit_code == 0 and "review rejected" in rejected.output
    invoke("approve", "refused_study", "--year", "2020", "--reviewer", "An Peeters", "--reason", "fine")
    refused = invoke("release", "refused_study", "--year", "2020")
    assert refused.exit_code == 1
    assert "was rejected by Bo Claes (too detailed): nothing is released" in refused.stderr
    assert not (built_lake / "releases" / "labour_reserve_results" / "refused_study").exists()


def test_after_the_retention_date_the_review_desk_reads_nothing(built_lake, tmp_path, monkeypatch):
    """The command line's review, decisions and release check the retention date of the project that
    holds the results (labour_reserve_results: 31 December 2032), as the secure build and the UI's jobs
    do: after it each is refused in one line with exit status 1, nothing is written under releases/,
    and the refusal is in the audit log."""
    from cohort.privacy import audit_log

    lake = str(built_lake)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["analysis", *args, "--data-dir", lake])

    assert invoke("submit", str(with_model(tmp_path, "late_study"))).exit_code == 0
    assert invoke("build", "late_study", "--year", "2020").exit_code == 0
    assert invoke("review", "late_study", "--year", "2020").exit_code == 0  # on the last day it may
    monkeypatch.delenv("COHORT_DEMO", raising=False)  # real data: no demo exception
    monkeypatch.setenv("COHORT_TODAY", "2033-01-01")
    decision = ["--reviewer", "An Peeters", "--reason", "checked"]
    for args in (("review",), ("approve", *decision), ("reject", *decision), ("release",)):
        refused = invoke(*args[:1], "late_study", "--year", "2020", *args[1:])
        assert refused.exit_code == 1, refused.output
        assert "retention date 2032-12-31 has passed" in refused.stderr
    assert not (built_lake / "releases" / "labour_reserve_results" / "late_study").exists()
    assert not (built_lake / "analyses" / "late_study" / "reviews").exists()
    attempted = [
        e["detail"]["attempted"]
        for e in audit_log.read_entries(LakeResource(data_dir=lake).paths())
        if e["action"] == "refusal" and e["project"] == "labour_reserve_results"
    ]
    assert attempted[-4:] == ["analysis review", "analysis approve", "analysis reject", "analysis release"]


EXAMPLES = Path(__file__).resolve().parents[1] / "cohort/projects/labour_reserve_results/examples"


@pytest.mark.parametrize("example", ["reserve_outflow", "sep_transition"])
def test_the_example_analyses_run_on_the_extract(extract_lake, example):
    """The built-in phase-2 analyses as researcher folders: each runs in the sandbox on the extract;
    on 8 persons their models are refused."""
    result = CliRunner().invoke(
        main, ["analysis", "run", str(EXAMPLES / example), "--data-dir", str(extract_lake)]
    )
    assert result.exit_code == 0, result.output
    assert "regression)\n  refused: it would not be released" in result.output
    assert "hidden by a rule" in result.output
