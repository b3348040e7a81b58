"""Model parameters as an analysis output (cohort/analysis/models.py): the coefficients agree with an
independent computation, and a model is refused, with nothing of it released, when its residual degrees of
freedom are too few, a factor level or an outcome class is small, or the fit runs off (separation)."""

import math

import numpy as np
import polars as pl
import pytest
from analysis_folders import write
from scipy import stats

from cohort.analysis.folder import AnalysisError, load_analysis
from cohort.analysis.models import ModelSpec, fit_model

THRESHOLD, MIN_DF = 5, 10


def linear(**kwargs) -> ModelSpec:
    return ModelSpec(name="m", sql="select 1", kind="linear", outcome="y", **kwargs)


def logistic(**kwargs) -> ModelSpec:
    return ModelSpec(name="m", sql="select 1", kind="logistic", outcome="y", **kwargs)


def test_linear_coefficients_agree_with_a_simple_regression():
    generator = np.random.default_rng(7)
    x = np.arange(30, dtype=float)
    y = 2.0 + 0.5 * x + generator.normal(0, 1, 30)
    result = fit_model(pl.DataFrame({"y": y, "x": x}), linear(regressors=("x",)), THRESHOLD, MIN_DF)
    assert result.passed and result.units == 30 and result.residual_df == 28
    reference = stats.linregress(x, y)
    rows = {r["term"]: r for r in result.coefficients.to_dicts()}
    assert rows["x"]["coefficient"] == pytest.approx(reference.slope, abs=1e-6)
    assert rows["(intercept)"]["coefficient"] == pytest.approx(reference.intercept, abs=1e-6)
    assert rows["x"]["std_error"] == pytest.approx(reference.stderr, abs=1e-6)
    assert rows["x"]["p_value"] == pytest.approx(reference.pvalue, abs=1e-6)


def test_logistic_coefficients_of_a_factor_are_its_log_odds():
    # sex F: 6 of 20 have the outcome; sex M: 12 of 20 -> intercept logit(0.3), M: logit(0.6) - logit(0.3)
    frame = pl.DataFrame(
        {
            "y": [1] * 6 + [0] * 14 + [1] * 12 + [0] * 8,
            "sex": ["F"] * 20 + ["M"] * 20,
        }
    )
    result = fit_model(frame, logistic(factors=("sex",)), THRESHOLD, MIN_DF)
    assert result.passed, result.checks
    rows = {r["term"]: r["coefficient"] for r in result.coefficients.to_dicts()}

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    assert rows["(intercept)"] == pytest.approx(logit(0.3), abs=1e-5)
    assert rows["sex=M"] == pytest.approx(logit(0.6) - logit(0.3), abs=1e-5)


def refused_rules(result) -> set[str]:
    return {c.rule for c in result.checks if not c.passed}


def test_too_few_residual_degrees_of_freedom_refuse_the_model():
    # 11 units, 2 parameters: 9 residual degrees of freedom, one short of the minimum
    frame = pl.DataFrame({"y": [float(i % 3) for i in range(11)], "x": [float(i) for i in range(11)]})
    result = fit_model(frame, linear(regressors=("x",)), THRESHOLD, MIN_DF)
    assert refused_rules(result) == {"residual degrees of freedom"}
    assert result.coefficients is None
    shown = result.to_json()
    assert shown["coefficients"] is None and shown["units"] is None and shown["residual_df"] is None
    # one more unit and the same model passes
    bigger = pl.DataFrame({"y": [float(i % 3) for i in range(12)], "x": [float(i) for i in range(12)]})
    assert fit_model(bigger, linear(regressors=("x",)), THRESHOLD, MIN_DF).passed


def test_a_small_level_of_a_factor_refuses_the_model_and_is_named_without_its_count():
    frame = pl.DataFrame(
        {
            "y": [float(i) for i in range(40)],
            "province": ["10000"] * 20 + ["20000"] * 16 + ["30000"] * 4,
        }
    )
    result = fit_model(frame, linear(factors=("province",)), THRESHOLD, MIN_DF)
    assert refused_rules(result) == {"factor province"}
    [check] = [c for c in result.checks if c.rule == "factor province"]
    assert "30000" in check.detail and "10000" not in check.detail and " 4 " not in check.detail
    assert result.to_json()["coefficients"] is None


def test_a_small_outcome_class_or_a_separated_design_refuses_a_logistic_model():
    rare = pl.DataFrame({"y": [1] * 3 + [0] * 37, "x": [float(i % 7) for i in range(40)]})
    assert refused_rules(fit_model(rare, logistic(regressors=("x",)), THRESHOLD, MIN_DF)) == {
        "outcome classes"
    }
    # x above 19.5 always has the outcome: the likelihood has no maximum, the coefficient runs off
    separated = pl.DataFrame({"y": [0] * 20 + [1] * 20, "x": [float(i) for i in range(40)]})
    result = fit_model(separated, logistic(regressors=("x",)), THRESHOLD, MIN_DF)
    assert refused_rules(result) == {"convergence"} and result.coefficients is None


def test_a_regressor_that_is_not_a_number_is_a_mistake():
    frame = pl.DataFrame({"y": [1.0, 2.0], "sex": ["F", "M"]})
    with pytest.raises(ValueError, match="m: sex is String, not a number"):
        fit_model(frame, linear(regressors=("sex",)), THRESHOLD, MIN_DF)


MODELS = """
project: labour_reserve
tables:
  - name: reserve_by_province
    sql: reserve.sql
    dimensions: [province, destination]
models:
  - name: fte_model
    sql: model.sql
    kind: {kind}
    outcome: fte
    {terms}
"""


def test_models_are_declared_in_the_folder(tmp_path):
    files = {"reserve.sql": "select 1", "model.sql": "select 2"}
    good = MODELS.format(kind="linear", terms="regressors: [age]\n    factors: [sex]")
    analysis = load_analysis(write(tmp_path / "good", good, files))
    [model] = analysis.models
    assert (model.kind, model.columns) == ("linear", ("fte", "age", "sex"))
    for name, spec, message in [
        ("kind", MODELS.format(kind="probit", terms="regressors: [age]"), "models[0].kind: 'probit'"),
        ("terms", MODELS.format(kind="logistic", terms=""), "models[0]: a model needs regressors"),
        (
            "twice",
            MODELS.format(kind="linear", terms="regressors: [fte]"),
            "models[0]: a column is named twice",
        ),
    ]:
        with pytest.raises(AnalysisError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_analysis(write(tmp_path / name, spec, files))
