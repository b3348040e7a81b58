"""Model parameters as an output kind: linear and logistic regression coefficients, checked as ACRO checks
them before they may leave.

A model's query returns one row per unit with its outcome, its numeric regressors and its categorical
regressors (``factors``, dummy-coded against their first level in sorted order). A model is refused
(nothing of it is released, only the names of the checks it failed) when:

- its residual degrees of freedom (units minus the rank of the design) are below the project's
  minimum (``disclosure.models.min_residual_df``; ACRO's default ``safe_dof_threshold`` is 10): with
  few degrees of freedom the coefficients come close to the units' own values;
- a level of a factor holds fewer units than the project's count threshold: its dummy's coefficient
  is then the mean of a few persons (a small cell in disguise);
- a logistic model's outcome has fewer than the threshold in one of its two classes, or the fit does
  not converge (a separated design: some coefficient runs off towards a unit's class).

The checks name the level or the rule, never a count under the threshold.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

KINDS = ("linear", "logistic")
#: ACRO's default minimum of residual degrees of freedom (its ``safe_dof_threshold``).
DEFAULT_MIN_RESIDUAL_DF = 10
INTERCEPT = "(intercept)"
MAX_ITERATIONS = 50


@dataclass(frozen=True)
class ModelSpec:
    """One regression the analysis wants to publish.

    Attributes:
        name: the model's name (its file in the release).
        sql: the query; one row per unit with exactly the columns of :attr:`columns`.
        kind: ``linear`` (least squares) or ``logistic`` (outcome 0/1, maximum likelihood).
        outcome: the dependent column.
        regressors: numeric independent columns.
        factors: categorical independent columns (dummy-coded, first level in sorted order as reference).
        description: what the model estimates.
    """

    name: str
    sql: str
    kind: str
    outcome: str
    regressors: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    description: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.outcome, *self.regressors, *self.factors)


@dataclass(frozen=True)
class ModelCheck:
    """One rule applied to a model: its name, whether it passed, and why (no count under the threshold)."""

    rule: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ModelResult:
    """A fitted (or refused) model: its checks and, only when every check passed, its coefficients."""

    name: str
    kind: str
    units: int | None
    residual_df: int | None
    checks: tuple[ModelCheck, ...]
    coefficients: pl.DataFrame | None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict:
        """What may be shown to the reviewer and released: the coefficients only of a passed model,
        the units and degrees of freedom only when they are at or above the thresholds."""
        return {
            "name": self.name,
            "kind": self.kind,
            "passed": self.passed,
            "units": self.units if self.passed else None,
            "residual_df": self.residual_df if self.passed else None,
            "checks": [{"rule": c.rule, "passed": c.passed, "detail": c.detail} for c in self.checks],
            "coefficients": self.coefficients.to_dicts()
            if self.passed and self.coefficients is not None
            else None,
        }


def _design(frame: pl.DataFrame, spec: ModelSpec) -> tuple[np.ndarray, list[str]]:
    columns = [np.ones(frame.height)]
    terms = [INTERCEPT]
    for r in spec.regressors:
        columns.append(frame.get_column(r).cast(pl.Float64).to_numpy())
        terms.append(r)
    for f in spec.factors:
        values = frame.get_column(f).cast(pl.String)
        for level in sorted(values.unique().to_list())[1:]:
            columns.append((values == level).cast(pl.Float64).to_numpy())
            terms.append(f"{f}={level}")
    return np.column_stack(columns), terms


def _linear(x: np.ndarray, y: np.ndarray, df: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residuals = y - x @ beta
    variance = float(residuals @ residuals) / df
    errors = np.sqrt(np.diag(variance * np.linalg.inv(x.T @ x)))
    t = beta / errors
    return beta, errors, 2 * stats.t.sf(np.abs(t), df)


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Newton-Raphson (iteratively reweighted least squares); None when it does not converge, which
    is what a separated design does (its likelihood has no maximum: a coefficient runs off)."""
    beta = np.zeros(x.shape[1])
    try:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for _ in range(MAX_ITERATIONS):
                p = 1 / (1 + np.exp(-(x @ beta)))
                information = x.T @ (x * (p * (1 - p))[:, None])
                step = np.linalg.solve(information, x.T @ (y - p))
                beta = beta + step
                # a fitted probability within e^-30 of 0 or 1: the design separates the classes
                if not np.all(np.isfinite(beta)) or np.max(np.abs(x @ beta)) > 30:
                    return None
                if np.max(np.abs(step)) < 1e-8:
                    break
            else:
                return None
            p = 1 / (1 + np.exp(-(x @ beta)))
            errors = np.sqrt(np.diag(np.linalg.inv(x.T @ (x * (p * (1 - p))[:, None]))))
    except np.linalg.LinAlgError:
        return None
    z = beta / errors
    return beta, errors, 2 * stats.norm.sf(np.abs(z))


def fit_model(frame: pl.DataFrame, spec: ModelSpec, threshold: int, min_residual_df: int) -> ModelResult:
    """Check and fit one model on its design rows (rows with a missing value are left out)."""
    rows = frame.select(spec.columns).drop_nulls()
    for column in (spec.outcome, *spec.regressors):
        kind = rows.schema[column]
        if not (kind.is_numeric() or kind == pl.Boolean):
            raise ValueError(
                f"{spec.name}: {column} is {kind}, not a number"
                + (" (declare a category among the factors)" if column != spec.outcome else "")
            )
    checks: list[ModelCheck] = []
    for f in spec.factors:
        levels = rows.group_by(f).len()
        small = sorted(str(v) for v in levels.filter(pl.col("len") < threshold).get_column(f).to_list())
        checks.append(
            ModelCheck(
                f"factor {f}",
                not small,
                f"levels with fewer than {threshold} units: {', '.join(small)}"
                if small
                else f"every level has at least {threshold} units",
            )
        )
    if spec.kind == "logistic":
        outcome = rows.get_column(spec.outcome).cast(pl.Float64)
        binary = bool(outcome.is_in([0.0, 1.0]).all())
        ones = int((outcome == 1.0).sum())
        both = binary and min(ones, rows.height - ones) >= threshold
        checks.append(
            ModelCheck(
                "outcome classes",
                both,
                f"both outcome classes have at least {threshold} units"
                if both
                else (
                    f"an outcome class has fewer than {threshold} units"
                    if binary
                    else "the outcome of a logistic model must be 0 or 1"
                ),
            )
        )
    x, terms = _design(rows, spec)
    y = rows.get_column(spec.outcome).cast(pl.Float64).to_numpy()
    rank = int(np.linalg.matrix_rank(x)) if rows.height else 0
    df = rows.height - rank
    full_rank = rows.height > 0 and rank == x.shape[1]
    checks.append(
        ModelCheck(
            "design",
            full_rank,
            "the design is of full rank" if full_rank else "the design is not of full rank (collinear terms)",
        )
    )
    enough = df >= min_residual_df
    checks.append(
        ModelCheck(
            "residual degrees of freedom",
            enough,
            f"at least {min_residual_df}" if enough else f"fewer than the minimum of {min_residual_df}",
        )
    )
    coefficients = None
    if all(c.passed for c in checks):
        fitted = _linear(x, y, df) if spec.kind == "linear" else _logistic(x, y)
        if fitted is None:
            checks.append(ModelCheck("convergence", False, "the fit did not converge (a separated design)"))
        else:
            beta, errors, p_values = fitted
            coefficients = pl.DataFrame(
                {
                    "term": terms,
                    "coefficient": np.round(beta, 6),
                    "std_error": np.round(errors, 6),
                    "p_value": np.round(p_values, 6),
                }
            )
    return ModelResult(
        name=spec.name,
        kind=spec.kind,
        units=rows.height,
        residual_df=df,
        checks=tuple(checks),
        coefficients=coefficients,
    )
