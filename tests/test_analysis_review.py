"""The review and release of an analysis's output on hand-built rows (cohort/analysis/review.py): a mean
table is released as the means of the cells its sums may show, a dominated cell stays hidden, a model that
passed its checks is released with its coefficients, and an approval counts only for the content the
reviewer saw."""

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from analysis_folders import write

from cohort import settings
from cohort.analysis import assets as analysis_assets
from cohort.analysis import review
from cohort.analysis.registry import submission, submit
from cohort.analysis.tabulate import build_release, fit_models
from cohort.ops.analyses import run_review_job
from cohort.projects import anonymous

SPEC = """
project: labour_reserve
tables:
  - name: reserve_by_province
    sql: reserve.sql
    dimensions: [province, destination]
  - name: fte_by_province
    sql: fte.sql
    statistic: mean
    dimensions: [province]
    value: fte
models:
  - name: fte_model
    sql: model.sql
    kind: linear
    outcome: fte
    regressors: [age]
"""
FILES = {"reserve.sql": "select 1", "fte.sql": "select 2", "model.sql": "select 3"}


def frames() -> dict[str, pl.DataFrame]:
    """Provinces 10000 and 30000: 20 persons each; province 20000: 12 persons, one holding almost all of
    the province's FTE (a dominated sum)."""
    fte = [0.5, 1.0] * 10 + [40.0] + [0.1] * 11 + [0.8, 1.0] * 10
    province = ["10000"] * 20 + ["20000"] * 12 + ["30000"] * 20
    return {
        "reserve_by_province": pl.DataFrame(
            {"province": province, "destination": ["to work", "still in the reserve"] * 26}
        ),
        "fte_by_province": pl.DataFrame({"province": province, "fte": fte}),
        "fte_model": pl.DataFrame(
            {"fte": [0.2 * a + (a % 3) for a in range(20, 50)], "age": [float(a) for a in range(20, 50)]}
        ),
    }


def secure_build(lake: settings.Lake, tmp_path: Path):
    """What the analysis's Dagster asset leaves in the secure area, on hand-built rows."""
    submitted, _ = submit(write(tmp_path / "hand_study", SPEC, FILES), lake)
    analysis = submitted.load()
    source = analysis.project
    rules = source.rules()
    rid = review.release_id(submitted.name, 2020)
    rt = anonymous.protect_release(build_release(analysis, frames(), 2020, rules))
    folder = anonymous.tables_dir(lake.secure / source.rules_from, rid)
    anonymous.save_release(rt, folder)
    anonymous.save_verdict(anonymous.audit_release(rt, []), folder)
    models = fit_models(analysis, frames(), rules, source.min_residual_df())
    review.save_models(models, review.models_dir(lake, source.rules_from, rid))
    return submitted, models


@pytest.fixture
def lake(tmp_path: Path) -> settings.Lake:
    (tmp_path / "lake").mkdir()
    return settings.lake(str(tmp_path / "lake"))


def test_an_approved_output_releases_means_and_a_passed_model(lake, tmp_path):
    submitted, [model] = secure_build(lake, tmp_path)
    built = review.built_output(lake, submitted, 2020)
    assert built.passed and review.review_state(lake, built).status == "waiting"
    released = lake.releases / "labour_reserve_results" / "hand_study" / "2020"
    with pytest.raises(review.ReviewError, match="is not approved"):
        review.release_approved(lake, built)
    assert not released.exists()
    review.record_decision(lake, built, "approved", "An Peeters", "checked")
    review.release_approved(lake, built)
    means = {r["province"]: r["shown"] for r in pl.read_csv(released / "fte_by_province.csv").to_dicts()}
    assert means["20000"] == "x"  # 40 of 41.1: dominated by one person
    # secondary suppression hides one more cell so that 20000 cannot be recomputed from the total;
    # every cell shown is the mean of its persons
    expected = (
        frames()["fte_by_province"].group_by("province").agg(pl.col("fte").mean().round(2).cast(pl.String))
    )
    everyone = frames()["fte_by_province"].select(pl.col("fte").mean().round(2).cast(pl.String)).item()
    expected = dict(expected.iter_rows()) | {"Total": everyone}
    shown = {p: m for p, m in means.items() if m != "x"}
    assert len(shown) == 2 and all(m == expected[p] for p, m in shown.items()), shown
    assert "fte" not in pl.read_csv(released / "fte_by_province.csv").columns
    assert model.passed
    coefficients = pl.read_csv(released / "fte_model.coefficients.csv")
    assert coefficients.get_column("term").to_list() == ["(intercept)", "age"]
    assert coefficients.filter(pl.col("term") == "age")["coefficient"].item() == pytest.approx(0.2, abs=0.05)
    [shown] = json.loads((released / "models.json").read_text())
    assert shown["units"] == 30 and shown["residual_df"] == 28
    manifest = json.loads((released / "release.json").read_text())
    assert manifest["signed_off_by"] == ["An Peeters"]


def test_an_approval_counts_only_for_the_content_reviewed(lake, tmp_path):
    submitted, _ = secure_build(lake, tmp_path)
    built = review.built_output(lake, submitted, 2020)
    review.record_decision(lake, built, "approved", "An Peeters", "checked")
    assert review.review_state(lake, built).status == "approved"
    # the secure build changes after the approval (a model's output): the approval no longer counts
    models = review.models_dir(lake, "labour_reserve_results", built.release_id) / review.MODELS_FILE
    changed = json.loads(models.read_text())
    changed[0]["coefficients"][1]["coefficient"] = 9.0
    models.write_text(json.dumps(changed))
    rebuilt = review.built_output(lake, submitted, 2020)
    assert rebuilt.content_hash != built.content_hash
    assert review.review_state(lake, rebuilt).status == "waiting"
    text, page = review.write_review(lake, rebuilt)
    assert "[other content]" in text and page.name == "review.html"
    assert "the release adds 1 table(s) (" in text  # the mean table goes beside the ledger
    with pytest.raises(review.ReviewError, match="0 of 1 approval"):
        review.release_approved(lake, rebuilt)
    assert not (lake.releases / "labour_reserve_results" / "hand_study").exists()


def test_two_approvals_need_two_distinct_reviewers(lake, tmp_path):
    submitted, _ = secure_build(lake, tmp_path)
    built = review.built_output(lake, submitted, 2020)
    review.record_decision(lake, built, "approved", "An Peeters", "checked")
    review.record_decision(lake, built, "approved", "An Peeters", "checked again")
    assert review.review_state(lake, built, needed=2).status == "waiting"
    review.record_decision(lake, built, "approved", "Bo Claes", "checked too")
    state = review.review_state(lake, built, needed=2)
    assert (state.status, state.approvers) == ("approved", ("An Peeters", "Bo Claes"))
    with pytest.raises(review.ReviewError, match="names its reviewer"):
        review.record_decision(lake, built, "approved", " ", "no name")


# ----------------------------------------------------------------------------- the review desk in the UI
def desk(lake: settings.Lake, instance, job: str, op: str, **config) -> tuple[bool, str]:
    """One launch of a review job, as the UI's launchpad makes it, recorded in ``instance``."""
    return run_review_job(lake, instance, job, op, config, {"cohort/trigger": "test"})


DECIDE = (analysis_assets.REVIEW_DECISION_JOB, "record_review_decision")
RELEASE = (analysis_assets.RELEASE_JOB, "release_reviewed_output")


def test_the_ui_jobs_approve_and_release_an_output_and_show_the_review(lake, tmp_path):
    submitted, _ = secure_build(lake, tmp_path)
    built = review.built_output(lake, submitted, 2020)
    released = lake.releases / "labour_reserve_results" / "hand_study" / "2020"
    with dg.instance_for_test() as instance:
        early = desk(lake, instance, *RELEASE, analysis="hand_study", year=2020)
        assert early == (False, early[1]) and "is not approved: 0 of 1 approval(s)" in early[1]
        assert not released.exists()
        ok, why = desk(
            lake,
            instance,
            *DECIDE,
            analysis="hand_study",
            year=2020,
            decision="approved",
            reviewer="An Peeters",
            reason="checked",
        )
        assert ok, why
        assert review.review_state(lake, built).status == "approved"
        # the review asset's partition shows the review with the decision, as the UI's asset page does
        key = dg.AssetKey(["labour_reserve_results", "analysis_hand_study_review"])
        [event] = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=5).records
        shown = event.asset_materialization
        assert shown.partition == "2020" and shown.description == "approved by An Peeters"
        assert shown.metadata["status"].value == "approved" and shown.metadata["approvals"].value == "1 of 1"
        assert shown.metadata["review"].value.endswith("An Peeters: approved (checked)\n")
        assert desk(lake, instance, *RELEASE, analysis="hand_study", year=2020) == (True, "")
        jobs = sorted(r.job_name for r in instance.get_runs())
        assert jobs == ["analysis_release", "analysis_release", "analysis_review_decision"]
    assert json.loads((released / "release.json").read_text())["signed_off_by"] == ["An Peeters"]
    # the project's page of analyses (labour_reserve_results has no report of its own): released, linked
    index = (lake.reports / "labour_reserve_results" / review.ANALYSES_INDEX).read_text()
    row = next(r for r in index.split("<tr>") if "hand_study" in r)
    assert "href='hand_study/2020/review.html'" in row and ">released<" in row
    assert "An Peeters (1 of 1)" in row and "releases/labour_reserve_results/hand_study/2020" in row


def test_an_output_rejected_in_the_ui_is_not_released(lake, tmp_path):
    secure_build(lake, tmp_path)
    with dg.instance_for_test() as instance:
        rejected = desk(
            lake,
            instance,
            *DECIDE,
            analysis="hand_study",
            year=2020,
            decision="rejected",
            reviewer="Bo Claes",
            reason="a cell too small",
        )
        assert rejected == (True, "")
        ok, why = desk(lake, instance, *RELEASE, analysis="hand_study", year=2020)
        assert not ok and "was rejected by Bo Claes (a cell too small)" in why
        # a wrong year or an unknown analysis is refused with its rule, before anything is written
        ok, why = desk(lake, instance, *RELEASE, analysis="hand_study", year=2031)
        assert not ok and "2031 is not a year of labour_reserve_results" in why
        ok, why = desk(
            lake,
            instance,
            *DECIDE,
            analysis="nosuch",
            year=2020,
            decision="approved",
            reviewer="A",
            reason="b",
        )
        assert not ok and "no analysis 'nosuch' was submitted" in why
        with pytest.raises(dg.DagsterInvalidConfigError):  # a decision is approved or rejected, nothing else
            desk(
                lake,
                instance,
                *DECIDE,
                analysis="hand_study",
                year=2020,
                decision="maybe",
                reviewer="A",
                reason="b",
            )
    assert not (lake.releases / "labour_reserve_results" / "hand_study").exists()
    built = review.built_output(lake, submission(lake, "hand_study"), 2020)
    assert [d["decision"] for d in review.decisions(lake, built)] == ["rejected"]


def test_the_index_of_analyses_shows_a_frozen_code_changed_after_its_build(lake, tmp_path):
    """The review and its index are written from the secure build; a frozen analysis whose files were
    changed since it was submitted shows that in the index instead of failing the review."""
    submitted, _ = secure_build(lake, tmp_path)
    built = review.built_output(lake, submitted, 2020)
    with (submitted.code / "analysis.yaml").open("a") as changed:
        changed.write("# edited after submission\n")
    review.write_review(lake, built)
    index = (lake.reports / "labour_reserve_results" / review.ANALYSES_INDEX).read_text()
    row = next(r for r in index.split("<tr>") if "hand_study" in r)
    assert "it was changed after submission" in row and ">waiting<" in row
