"""An analysis folder: ``analysis.yaml`` plus one SQL file per output table, loaded and validated.

Every mistake is reported as one line naming the file, the key and the problem, e.g.
``analysis.yaml: tables[1].value: a mean table needs the magnitude column it averages``.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cohort.analysis.models import KINDS, ModelSpec
from cohort.analysis.sources import AnalysableProject, analysable_projects
from cohort.privacy import disclosure as dc

SPEC_FILE = "analysis.yaml"
STATISTICS = ("count", "sum", "mean")
PLAIN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TOP_KEYS = {"project", "title", "tables", "models"}
TABLE_KEYS = {"name", "sql", "statistic", "dimensions", "value", "description"}
MODEL_KEYS = {"name", "sql", "kind", "outcome", "regressors", "factors", "description"}


class AnalysisError(ValueError):
    """A mistake in an analysis folder: ``<file>: <key>: <problem>``."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


@dataclass(frozen=True)
class OutputTable:
    """One table the analysis wants to publish.

    Attributes:
        name: the table's name (its file in the release).
        sql: the query text; it returns one row per unit with the dimension columns (and ``value``).
        statistic: ``count`` (frequency table), ``sum`` or ``mean`` (magnitude tables, under the
            dominance and p% rules; a mean is shown only where its sum may be).
        dimensions: the classifying columns, in display order.
        value: the magnitude column summed or averaged (sum and mean tables).
        description: what the table shows.
    """

    name: str
    sql: str
    statistic: str
    dimensions: tuple[str, ...]
    value: str | None = None
    description: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the query must return, and no others."""
        return (*self.dimensions, self.value) if self.value else self.dimensions

    def table_spec(self, population: str) -> dc.TableSpec:
        return dc.TableSpec(
            name=self.name, dimensions=self.dimensions, value=self.value, population=population
        )


@dataclass(frozen=True)
class Analysis:
    """A loaded, validated analysis folder."""

    folder: Path
    name: str
    project: AnalysableProject
    title: str
    tables: tuple[OutputTable, ...]
    models: tuple[ModelSpec, ...] = ()

    @property
    def outputs(self) -> tuple[OutputTable | ModelSpec, ...]:
        """Every output (tables, then models): each has a name, a query and the columns it returns."""
        return (*self.tables, *self.models)


def _mapping(value: Any, file: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise AnalysisError(file, key, f"expected a mapping, got {type(value).__name__}")
    return value


def _text(value: Any, file: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnalysisError(file, key, "expected a non-empty text")
    return value.strip()


def _name(value: Any, file: str, key: str) -> str:
    text = _text(value, file, key)
    if not PLAIN_NAME.match(text):
        raise AnalysisError(
            file,
            key,
            f"{text!r} is not a plain name (lower-case letters, digits and _, starting with a letter)",
        )
    return text


def _unknown(raw: dict, known: set[str], file: str, where: str) -> None:
    extra = sorted(str(k) for k in raw if k not in known)
    if extra:
        raise AnalysisError(file, f"{where}{extra[0]}", f"unknown key (known: {', '.join(sorted(known))})")


def _sql_file(folder: Path, value: Any, key: str) -> str:
    relative = _text(value, SPEC_FILE, key)
    path = Path(relative)
    if path.is_absolute() or ".." in path.parts or path.suffix != ".sql":
        raise AnalysisError(SPEC_FILE, key, f"{relative!r} must be a .sql file inside the analysis folder")
    full = folder / path
    if not full.is_file():
        raise AnalysisError(SPEC_FILE, key, f"{relative} does not exist in {folder}")
    text = full.read_text(encoding="utf-8")
    if not text.strip():
        raise AnalysisError(relative, "(file)", "the query is empty")
    return text


def _table(folder: Path, raw: Any, index: int) -> OutputTable:
    where = f"tables[{index}]"
    raw = _mapping(raw, SPEC_FILE, where)
    _unknown(raw, TABLE_KEYS, SPEC_FILE, f"{where}.")
    name = _name(raw.get("name"), SPEC_FILE, f"{where}.name")
    statistic = raw.get("statistic", "count")
    if statistic not in STATISTICS:
        raise AnalysisError(
            SPEC_FILE, f"{where}.statistic", f"{statistic!r} is not one of {', '.join(STATISTICS)}"
        )
    dims = raw.get("dimensions")
    if not isinstance(dims, list) or not dims:
        raise AnalysisError(SPEC_FILE, f"{where}.dimensions", "expected a non-empty list of column names")
    dimensions = tuple(_name(d, SPEC_FILE, f"{where}.dimensions[{i}]") for i, d in enumerate(dims))
    if len(set(dimensions)) != len(dimensions):
        raise AnalysisError(SPEC_FILE, f"{where}.dimensions", "a column is named twice")
    value = raw.get("value")
    if statistic == "count":
        if value is not None:
            raise AnalysisError(SPEC_FILE, f"{where}.value", "a count table has no magnitude column")
    else:
        if value is None:
            raise AnalysisError(
                SPEC_FILE, f"{where}.value", f"a {statistic} table needs the magnitude column it adds up"
            )
        value = _name(value, SPEC_FILE, f"{where}.value")
        if value in dimensions:
            raise AnalysisError(SPEC_FILE, f"{where}.value", f"{value} is also a dimension")
    table = OutputTable(
        name=name,
        sql=_sql_file(folder, raw.get("sql"), f"{where}.sql"),
        statistic=statistic,
        dimensions=dimensions,
        value=value,
        description=str(raw.get("description") or ""),
    )
    try:
        table.table_spec("check")
    except ValueError as exc:  # reserved dimension names (n, value, status, ...)
        raise AnalysisError(SPEC_FILE, f"{where}.dimensions", str(exc)) from None
    return table


def _names(raw: Any, file: str, key: str, required: bool) -> tuple[str, ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or (required and not raw):
        raise AnalysisError(
            file, key, "expected a " + ("non-empty " if required else "") + "list of column names"
        )
    return tuple(_name(v, file, f"{key}[{i}]") for i, v in enumerate(raw))


def _model(folder: Path, raw: Any, index: int) -> ModelSpec:
    where = f"models[{index}]"
    raw = _mapping(raw, SPEC_FILE, where)
    _unknown(raw, MODEL_KEYS, SPEC_FILE, f"{where}.")
    name = _name(raw.get("name"), SPEC_FILE, f"{where}.name")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise AnalysisError(SPEC_FILE, f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    outcome = _name(raw.get("outcome"), SPEC_FILE, f"{where}.outcome")
    regressors = _names(raw.get("regressors"), SPEC_FILE, f"{where}.regressors", required=False)
    factors = _names(raw.get("factors"), SPEC_FILE, f"{where}.factors", required=False)
    columns = [outcome, *regressors, *factors]
    if len(columns) == 1:
        raise AnalysisError(SPEC_FILE, where, "a model needs regressors or factors")
    if len(set(columns)) != len(columns):
        raise AnalysisError(SPEC_FILE, where, "a column is named twice among outcome, regressors and factors")
    return ModelSpec(
        name=name,
        sql=_sql_file(folder, raw.get("sql"), f"{where}.sql"),
        kind=kind,
        outcome=outcome,
        regressors=regressors,
        factors=factors,
        description=str(raw.get("description") or ""),
    )


def load_analysis(folder: Path | str, name: str | None = None) -> Analysis:
    """Load and validate an analysis folder; raises :class:`AnalysisError` on the first mistake.
    ``name``: the analysis's name (default the folder's; a frozen copy keeps its submitted name)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisError(str(folder), "(folder)", "not a folder")
    spec_path = folder / SPEC_FILE
    if not spec_path.is_file():
        raise AnalysisError(SPEC_FILE, "(file)", f"missing in {folder}")
    try:
        raw = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AnalysisError(SPEC_FILE, "(file)", f"not valid YAML: {str(exc).splitlines()[0]}") from None
    raw = _mapping(raw, SPEC_FILE, "(top level)")
    _unknown(raw, TOP_KEYS, SPEC_FILE, "")
    project_id = _text(raw.get("project"), SPEC_FILE, "project")
    projects = analysable_projects()
    if project_id not in projects:
        raise AnalysisError(
            SPEC_FILE,
            "project",
            f"{project_id!r} has no analysable tables (known: {', '.join(sorted(projects))})",
        )
    items, model_items = raw.get("tables"), raw.get("models", [])
    # at least one table: the tables carry the release through protect, the attack audit and the gate
    # (cohort/projects/anonymous.py); models are checked and released beside them
    if not isinstance(items, list) or not items:
        raise AnalysisError(SPEC_FILE, "tables", "expected a non-empty list of output tables")
    if not isinstance(model_items, list):
        raise AnalysisError(SPEC_FILE, "models", "expected a list of models")
    tables = tuple(_table(folder, item, i) for i, item in enumerate(items))
    models = tuple(_model(folder, item, i) for i, item in enumerate(model_items))
    names = [t.name for t in (*tables, *models)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise AnalysisError(SPEC_FILE, "tables", f"output {twice[0]} is declared twice")
    return Analysis(
        folder=folder.resolve(),
        name=name or folder.resolve().name,
        project=projects[project_id],
        title=str(raw.get("title") or name or folder.resolve().name),
        tables=tables,
        models=models,
    )


def folder_hash(folder: Path) -> str:
    """SHA-256 over every file of the folder (relative path and bytes; hidden files left out), so that
    any change to the YAML or a query, or an added file, gives another hash."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        data = path.read_bytes()
        digest.update(f"{relative.as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
