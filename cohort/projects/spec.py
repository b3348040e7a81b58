"""The project spec: a deliberation declared once, in a versioned YAML file in the package.

A spec says who receives what: the deliberation (number, date, recipient), the population,
the years, the sample design, every authorised variable (its source, its coarsening, its
kind and the paragraph of the deliberation that authorises it), the output tables and
their columns, the disclosure rules and the retention date. Assets are generated from it,
the data dictionary is generated from it, and the pipeline refuses any column that it does
not authorise (docs/design.md, decision 5).

A variable's kind (``pseudonym``, ``year``, ``quarter``, ``month``, ``class``, ``code``, ``flag``,
``count``, ``number``, ``weight``, ``marker``) says what its column may hold, written once in
cohort/classifications/kinds.py for the Pandera schema, the SQL checks and the export scan; its
``classes`` or ``codes`` say which values, ``required: true`` that it is never null. What follows from
what is written is not written again: a family of variables named once (``groups:``, e.g. the status
flags, :func:`expand_groups`) and the T+1 / T-1 copies of the carried variables (:func:`neighbour_copy`)
are written out by the loader.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cohort.classifications import classes, codes, kinds
from cohort.sources.checks import DEFAULT_MAX_REJECT_SHARE, WarehouseReads


class SpecError(ValueError):
    """The spec file itself is malformed."""


class UnauthorisedColumnError(RuntimeError):
    """A table was about to carry a column the deliberation does not authorise."""


@dataclass(frozen=True)
class Variable:
    """One authorised variable."""

    name: str
    kind: str
    source: str
    paragraph: str
    description: str
    coarsening: str = ""
    classes: tuple[str, ...] = ()
    dutch: str = ""
    # the codes a ``code`` or ``marker`` column may hold (the spec's ``codes:``, a code list of
    # cohort/classifications/codes.py by name, or the deliberation's own list); empty: not checked
    code_list: tuple[str, ...] = ()
    # never null wherever the variable is a column (the spec's ``required: true``)
    required: bool = False
    # the DWH derived status flag (a name of codes.STATUS_FLAGS, bit of sep_quarter.status_flags) a
    # ``flag`` variable reads (the spec's ``status_flag:``); the build writes its column from it
    status_flag: str = ""

    def __post_init__(self) -> None:
        if self.kind not in kinds.VARIABLE_KINDS:
            raise SpecError(
                f"variable {self.name}: unknown kind {self.kind!r} (one of {sorted(kinds.VARIABLE_KINDS)})"
            )
        if self.kind == "class" and not self.classes:
            raise SpecError(f"variable {self.name}: kind 'class' needs its classes")
        if self.code_list and self.kind not in ("code", "marker"):
            raise SpecError(f"variable {self.name}: only a code or marker has codes (a class has classes)")
        if self.status_flag and (self.kind != "flag" or self.status_flag not in codes.STATUS_FLAGS):
            raise SpecError(
                f"variable {self.name}: status_flag {self.status_flag!r} needs kind 'flag' and a status flag "
                "of cohort/classifications/codes.py STATUS_FLAGS"
            )

    @property
    def source_named(self) -> str:
        """The source as the data dictionary shows it, with the status flag a flag variable reads."""
        return f"{self.source} ({self.status_flag})" if self.status_flag else self.source

    @property
    def allowed(self) -> tuple[str, ...] | None:
        """The values the column may hold: a class's labels, a code's or marker's codes (None: any)."""
        return self.classes if self.kind == "class" else self.code_list or None


@dataclass(frozen=True)
class OutputTable:
    """One output table: its grain, its columns (all must be authorised variables), and where it goes."""

    name: str
    description: str
    columns: tuple[str, ...]
    area: str = "exports"  # "exports" (leaves to the recipient) or "secure" (stays in the secure area)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectSpec:
    """A deliberation, as the pipeline reads it."""

    id: str
    version: int
    deliberation: dict[str, Any]
    recipient: str
    kind: str  # "pseudonymised" or "anonymous"
    first_year: int
    last_year: int
    retention_date: date
    population: str
    variables: dict[str, Variable]
    tables: dict[str, OutputTable]
    sample: dict[str, Any] = field(default_factory=dict)
    disclosure: dict[str, Any] = field(default_factory=dict)
    # the warehouse tables the project reads, and the share of bad rows it tolerates in each
    warehouse: WarehouseReads = field(default_factory=WarehouseReads)
    # each variable group of the spec (see :func:`expand_groups`) as code -> variable name, in code order
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @property
    def title(self) -> str:
        return f"{self.deliberation.get('number', self.id)}: {self.deliberation.get('title', '')}".strip(": ")

    def table(self, name: str) -> OutputTable:
        try:
            return self.tables[name]
        except KeyError:
            raise UnauthorisedColumnError(
                f"project {self.id}: table {name!r} is not declared in the spec"
            ) from None

    def check_columns(self, table: str, columns: list[str] | tuple[str, ...]) -> None:
        """Refuse a column that is not authorised for ``table``, naming every such column."""
        declared = set(self.table(table).columns)
        extra = [c for c in columns if c not in declared]
        if extra:
            raise UnauthorisedColumnError(
                f"project {self.id} (deliberation {self.deliberation.get('number', '?')}), table {table}: "
                f"column(s) {', '.join(extra)} not authorised by the spec"
            )

    def authorise(self, table: str, columns: list[str] | tuple[str, ...]) -> None:
        """The strict form, for a table as written: the columns of ``table`` exactly, in the spec's
        order (:meth:`check_columns` first, so an unauthorised column is named as such)."""
        self.check_columns(table, columns)
        declared = list(self.table(table).columns)
        if list(columns) != declared:
            missing = [c for c in declared if c not in columns]
            raise UnauthorisedColumnError(
                f"project {self.id}, table {table}: columns differ from the spec "
                + (f"(missing: {', '.join(missing)})" if missing else "(order)")
            )

    def column_kinds(self, table: str) -> dict[str, str]:
        """Kind of each column of ``table`` (for the export scanner)."""
        return {c: self.variables[c].kind for c in self.table(table).columns}

    def column_classes(self, table: str) -> dict[str, tuple[str, ...]]:
        """The declared values of the columns of ``table`` that have them (for the export scan): a
        class column's classes, a code or marker column's code list (:attr:`Variable.allowed`)."""
        return {
            c: allowed
            for c in self.table(table).columns
            if (allowed := self.variables[c].allowed) is not None
        }


def household_year(spec: ProjectSpec, reference: date) -> int:
    """The year of the ``household_jan1`` snapshot that stands for the household on ``reference``.

    One rule for every project: the household register is a snapshot on 1 January, so the household
    of a reference date is the snapshot of the last 1 January on or before the reference date plus
    ``days_after`` days, the spec's ``household_reference.days_after`` (0 or 1). With 0 a reference
    date takes the snapshot of its own year; with 1 a 31 December takes the next day's snapshot, the
    1 January after it (docs/labour_reserve.md, "Household reference date")."""
    raw = spec.extra.get("household_reference")
    days = raw.get("days_after") if isinstance(raw, dict) else None
    if days not in (0, 1) or isinstance(days, bool):
        raise SpecError(
            f"spec {spec.id}: household_reference.days_after must be 0 or 1 (the rule of "
            f"cohort.projects.spec.household_year), not {days!r}"
        )
    return (reference + timedelta(days=days)).year


def population_ages(spec: ProjectSpec) -> tuple[int, int]:
    """The spec's ``population_ages: [first, last]``: the completed ages, both included, of the
    project's population on its reference date (seed 004 §3: 15-64; seed 003 §3: 18-65). Every
    query of the project's population formats these two numbers; none writes them itself."""
    raw = spec.extra.get("population_ages")
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(a, int) and not isinstance(a, bool) for a in raw)
        or not 0 <= raw[0] <= raw[1]
    ):
        raise SpecError(
            f"spec {spec.id}: population_ages must be [first, last], two whole ages in order, not {raw!r}"
        )
    return int(raw[0]), int(raw[1])


def class_sql(spec: ProjectSpec, variable: str, expr: str) -> str:
    """The SQL class of ``expr`` by the spec's ``coarsening_rules`` of ``variable``, labelled by the
    variable's classes: one compiler for every project (cohort.classifications.classes.coarsening_sql)."""
    rule = (spec.extra.get("coarsening_rules") or {}).get(variable)
    if rule is None or variable not in spec.variables:
        raise SpecError(f"spec {spec.id}: no coarsening rule for the variable {variable}")
    try:
        return classes.coarsening_sql(expr, rule, spec.variables[variable].classes)
    except ValueError as exc:
        raise SpecError(f"spec {spec.id}, coarsening rule {variable}: {exc}") from None


# The calendar neighbours of a year's situation, by the direction a mobility table looks in
# (cohort/projects/mobility.py), and how a variable's copy of that year is named and described.
NEIGHBOUR_LABELS: dict[str, str] = {"next": "T+1", "prev": "T-1"}


def status_column(direction: str) -> str:
    """The marker column of a mobility direction: ``next_status`` / ``prev_status``."""
    return f"{direction}_status"


def copy_name(variable: str, direction: str) -> str:
    """The name of the T+1 (``next``) or T-1 (``prev``) copy of a carried variable: ``<variable>_<direction>``."""
    return f"{variable}_{direction}"


def added_columns(direction: str, carried: tuple[str, ...] | list[str], flags: Any) -> list[str]:
    """The columns a mobility direction adds to the year-T columns, in output order: the marker, the
    copies of the carried variables, then the flags derived from the marker (names of ``flags``)."""
    return [status_column(direction), *(copy_name(c, direction) for c in carried), *flags]


def neighbour_copy(base: Variable, direction: str, paragraph: str) -> Variable:
    """The T+1 / T-1 copy of a carried variable, derived from it rather than written in the spec: same
    kind, source, classes and coarsening; the paragraph that authorises the neighbour tables before
    the variable's own; the description and the Dutch name say which year ("of T" becomes "of T+1"); the
    same code list, but never required (a neighbour year may be unobserved)."""
    label = NEIGHBOUR_LABELS[direction]
    return replace(
        base,
        name=copy_name(base.name, direction),
        paragraph=f"{paragraph}; {base.paragraph}",
        description=f"{label}: " + re.sub(r"\bof T\b", f"of {label}", base.description),
        dutch=f"{base.dutch} ({label})" if base.dutch else "",
        required=False,
    )


def _neighbour_copies(raw: dict[str, Any], variables: dict[str, Variable]) -> dict[str, list[str]]:
    """Add the T+1 / T-1 copies of the ``mobility.carried`` variables to ``variables`` when the spec asks
    for them (``mobility.copies``), and return the columns of the two mobility tables: the situation
    table's columns plus :func:`added_columns`."""
    mobility = raw.get("mobility") or {}
    copies = mobility.get("copies")
    if not copies:
        return {}
    unknown = set(copies) - {"paragraph"}
    if unknown:
        raise SpecError(f"spec {raw.get('id')}, mobility.copies: unknown key(s) {sorted(unknown)}")
    carried = list(mobility.get("carried", ()))
    missing = [c for c in carried if c not in variables]
    if missing:
        raise SpecError(f"spec {raw.get('id')}, mobility.carried: not variables: {missing}")
    situation = next(
        (t for t in raw.get("tables", []) if t["name"] == mobility.get("situation_table", "situation")), None
    )
    if situation is None:
        raise SpecError(f"spec {raw.get('id')}: mobility.copies needs the situation table in tables")
    columns = {}
    for direction in NEIGHBOUR_LABELS:
        for name in carried:
            copy = neighbour_copy(variables[name], direction, str(copies["paragraph"]))
            if copy.name in variables:
                raise SpecError(
                    f"spec {raw.get('id')}: {copy.name} is derived from {name}; do not declare it"
                )
            variables[copy.name] = copy
        table = mobility.get(f"{direction}_table", f"mobility_{direction}")
        flags = mobility.get(f"flags_{direction}") or {}
        columns[table] = [*situation["columns"], *added_columns(direction, carried, flags)]
    return columns


# the fields of a group's member variables; each is a template filled per member (see :func:`expand_groups`)
GROUP_FIELDS = ("name", "kind", "source", "paragraph", "description", "dutch")


def _group_members(project: Any, name: str, group: Any) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """One group of the spec's ``groups:``: its members as code -> variable name, and their variables."""
    if not isinstance(group, dict):
        raise SpecError(f"spec {project}, groups.{name}: a mapping of {('members', *GROUP_FIELDS)}")
    unknown = set(group) - {"members", *GROUP_FIELDS}
    if unknown:
        raise SpecError(f"spec {project}, groups.{name}: unknown key(s) {sorted(unknown)}")
    try:
        members = codes.code_list(str(group["members"]))
        templates = {key: str(group[key]) for key in GROUP_FIELDS if key in group}
        variables = [
            {
                key: template.format(code=code, position=position, words=code.replace("_", " "))
                for key, template in templates.items()
            }
            for position, code in enumerate(members)
        ]
    except (KeyError, IndexError, ValueError) as exc:
        raise SpecError(f"spec {project}, groups.{name}: {exc}") from None
    # the names become SQL column names (cohort/projects/labour_reserve/build.py): identifiers only
    odd = [v["name"] for v in variables if not v["name"].isidentifier()]
    if odd:
        raise SpecError(f"spec {project}, groups.{name}: member names must be identifiers, not {odd[:3]}")
    return {code: v["name"] for code, v in zip(members, variables, strict=True)}, variables


def _expand(project: Any, where: str, items: Any, members: dict[str, list[Any]]) -> list[Any]:
    """``items`` with every ``{group: <name>}`` replaced by that group's members, in place."""
    out: list[Any] = []
    for item in items or ():
        if isinstance(item, dict) and set(item) == {"group"}:
            if item["group"] not in members:
                raise SpecError(f"spec {project}, {where}: no group {item['group']!r} under groups")
            out.extend(members[item["group"]])
        else:
            out.append(item)
    return out


def expand_groups(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The spec with its variable groups written out, and each group as code -> variable name.

    A group (``groups: {<name>: {members: <code list>, name: ..., kind: ..., ...}}``) is a family of
    variables the deliberation names once, one variable per code of a code list of
    cohort/classifications/codes.py (``members``: ``STATUS_FLAGS``, a list of :func:`codes.code_list`).
    Its fields are templates filled per member with ``{code}``, ``{position}`` (0-based, e.g. the bit
    of a status flag) and ``{words}`` (the code with spaces for underscores). Wherever ``- group:
    <name>`` stands in ``variables``, in a table's ``columns`` or in ``mobility.carried``, the loader
    puts the members there, in the order of the code list."""
    project = raw.get("id")
    groups: dict[str, dict[str, str]] = {}
    variables: dict[str, list[Any]] = {}
    for name, group in (raw.get("groups") or {}).items():
        groups[name], variables[name] = _group_members(project, name, group)
    names = {name: list(members.values()) for name, members in groups.items()}
    out = dict(raw)
    out["variables"] = _expand(project, "variables", raw.get("variables"), variables)
    out["tables"] = [
        {**t, "columns": _expand(project, f"table {t.get('name')}", t["columns"], names)}
        if "columns" in t
        else t
        for t in raw.get("tables") or ()
    ]
    if isinstance(raw.get("mobility"), dict) and "carried" in raw["mobility"]:
        out["mobility"] = {
            **raw["mobility"],
            "carried": _expand(project, "mobility.carried", raw["mobility"]["carried"], names),
        }
    return out, groups


def _code_list(name: str, raw: Any) -> tuple[str, ...]:
    """The ``codes:`` of a variable: the name of a code list of cohort/classifications/codes.py, or the
    list itself when the deliberation defines it (e.g. the types of OCMW support)."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        try:
            return codes.code_list(raw)
        except ValueError as exc:
            raise SpecError(f"variable {name}: {exc}") from None
    if isinstance(raw, list) and raw:
        return tuple(str(code) for code in raw)
    raise SpecError(f"variable {name}: codes is a code list's name or a list of codes, not {raw!r}")


def named_list(where: str, name: str) -> tuple[str, ...]:
    """A list that a spec names instead of writing it out (a variable's ``classes: COUNTRY_CLASSES`` or
    ``classes: SEX``, a release dimension's ``codes: SEX``): a list of class labels of
    cohort/classifications/classes.py in its own order, else the codes of a code list of
    cohort/classifications/codes.py in sorted order. Sorted because a release shows a dimension's codes
    sorted anyway (``Dimension.leaves`` in cohort/privacy/disclosure/tables.py), so that the data
    dictionary, the release and its ``_release.json`` keep the bytes they had when the spec wrote the
    codes out; a code list's own order is its codebook's (``M`` before ``F``)."""
    labels = getattr(classes, name, None) if re.fullmatch(r"[A-Z][A-Z0-9_]*", name) else None
    if isinstance(labels, tuple) and labels and all(isinstance(label, str) for label in labels):
        return labels
    try:
        return tuple(sorted(codes.code_list(name)))
    except ValueError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _classes(name: str, raw: Any) -> tuple[str, ...]:
    """The ``classes:`` of a variable: its labels, or the name of a list written once (:func:`named_list`)."""
    if isinstance(raw, str):
        return named_list(f"variable {name}", raw)
    return tuple(str(c) for c in raw)


def _dimensions(project: Any, raw: Any, variables: dict[str, Variable]) -> Any:
    """The ``dimensions:`` of a release with the codes of each written out, so that the release
    engine reads the codes themselves: a dimension named after a class variable takes that
    variable's classes (the labels are written once, on the variable; a ``codes:`` beside them is
    refused), another one its ``codes:`` (a list, or the name of one, :func:`named_list`)."""
    if not isinstance(raw, dict):
        return raw
    out = {}
    for name, dimension in raw.items():
        where = f"spec {project}, dimension {name}"
        dimension = dict(dimension or {}) if isinstance(dimension, dict) or dimension is None else dimension
        if isinstance(dimension, dict):
            variable = variables.get(name)
            if variable is not None and variable.classes:
                if "codes" in dimension:
                    raise SpecError(
                        f"{where}: its codes are the classes of the variable {name}; remove codes: here"
                    )
                dimension["codes"] = list(variable.classes)
            elif isinstance(dimension.get("codes"), str):
                dimension["codes"] = list(named_list(where, dimension["codes"]))
        out[name] = dimension
    return out


def _variable(raw: dict[str, Any]) -> Variable:
    if not isinstance(raw.get("required", False), bool):
        raise SpecError(f"variable {raw.get('name', '?')}: required is true or false")
    try:
        return Variable(
            name=raw["name"],
            kind=raw["kind"],
            source=str(raw.get("source", "")),
            paragraph=str(raw["paragraph"]),
            description=str(raw.get("description", "")),
            coarsening=str(raw.get("coarsening", "")),
            classes=_classes(raw.get("name", "?"), raw.get("classes", ())),
            dutch=str(raw.get("dutch", "")),
            code_list=_code_list(raw.get("name", "?"), raw.get("codes")),
            required=raw.get("required", False),
            status_flag=str(raw.get("status_flag", "")),
        )
    except KeyError as missing:
        raise SpecError(f"variable {raw.get('name', '?')}: missing field {missing}") from None


def _warehouse_reads(raw: dict[str, Any], project: str | None) -> WarehouseReads:
    """The ``warehouse:`` block: ``tables`` (the contract tables the project reads) and
    ``max_reject_share`` (default :data:`DEFAULT_MAX_REJECT_SHARE` when the spec is silent)."""
    unknown = set(raw) - {"tables", "max_reject_share"}
    if unknown:
        raise SpecError(f"spec {project}, warehouse: unknown key(s) {sorted(unknown)}")
    try:
        return WarehouseReads(
            tables=tuple(raw.get("tables", ())),
            max_reject_share=float(raw.get("max_reject_share", DEFAULT_MAX_REJECT_SHARE)),
        )
    except ValueError as exc:
        raise SpecError(f"spec {project}, warehouse: {exc}") from None


def parse_spec(raw: dict[str, Any], path: Path | None = None) -> ProjectSpec:
    """Build a :class:`ProjectSpec` from parsed YAML, checking that every table column is a variable."""
    raw, groups = expand_groups(raw)
    variables = {v.name: v for v in map(_variable, raw.get("variables", []))}
    if len(variables) != len(raw.get("variables", [])):
        raise SpecError(f"spec {raw.get('id')}: duplicated variable names")
    # derived columns: the mobility tables' (from the carried variables) and ``same_columns_as``
    derived = _neighbour_copies(raw, variables)
    tables = {}
    for t in raw.get("tables", []):
        known = {"name", "description", "columns", "area", "same_columns_as"}
        if t["name"] in derived and "columns" in t:
            raise SpecError(
                f"spec {raw.get('id')}, table {t['name']}: its columns are derived; do not list them"
            )
        if "same_columns_as" in t:
            if t["same_columns_as"] not in tables:
                raise SpecError(
                    f"spec {raw.get('id')}, table {t['name']}: same_columns_as {t['same_columns_as']!r} "
                    "is not a table declared before it"
                )
            derived[t["name"]] = list(tables[t["same_columns_as"]].columns)
        table = OutputTable(
            name=t["name"],
            description=str(t.get("description", "")),
            columns=tuple(derived.get(t["name"], t.get("columns", ()))),
            area=t.get("area", "exports"),
            extra={k: v for k, v in t.items() if k not in known},
        )
        undeclared = [c for c in table.columns if c not in variables]
        if undeclared:
            raise SpecError(
                f"spec {raw.get('id')}, table {table.name}: columns without a variable: {undeclared}"
            )
        tables[table.name] = table
    known_top = {
        "id",
        "version",
        "deliberation",
        "recipient",
        "kind",
        "years",
        "retention_date",
        "population",
        "variables",
        "tables",
        "sample",
        "disclosure",
        "warehouse",
        "groups",
    }
    retention = raw["retention_date"]
    return ProjectSpec(
        id=raw["id"],
        version=int(raw.get("version", 1)),
        deliberation=dict(raw.get("deliberation", {})),
        recipient=str(raw.get("recipient", "")),
        kind=raw.get("kind", "pseudonymised"),
        first_year=int(raw["years"]["first"]),
        last_year=int(raw["years"]["last"]),
        retention_date=retention if isinstance(retention, date) else date.fromisoformat(str(retention)),
        population=str(raw.get("population", "")),
        variables=variables,
        tables=tables,
        sample=dict(raw.get("sample", {}) or {}),
        disclosure=dict(raw.get("disclosure", {}) or {}),
        warehouse=_warehouse_reads(raw.get("warehouse") or {}, raw.get("id")),
        groups=groups,
        extra={
            k: _dimensions(raw.get("id"), v, variables) if k == "dimensions" else v
            for k, v in raw.items()
            if k not in known_top
        },
        path=path,
    )


#: libyaml's safe loader where PyYAML was built with it (the same documents, ten times less CPU
#: per process start: every run's definitions load reads all specs), else the pure-Python one
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec_file(path: Path) -> ProjectSpec:
    with open(path) as fh:
        return parse_spec(yaml.load(fh, Loader=_SAFE_LOADER), path)


@cache
def load_spec(project_package: str) -> ProjectSpec:
    """The spec shipped in ``cohort/projects/<project_package>/spec.yaml``."""
    ref = resources.files(f"cohort.projects.{project_package}").joinpath("spec.yaml")
    with resources.as_file(ref) as path:
        return load_spec_file(Path(path))


def data_dictionary(spec: ProjectSpec) -> tuple[str, dict[str, Any]]:
    """The data dictionary of a project as (Markdown, JSON-able dict): every table, every variable,
    its classes, its source, its coarsening and the paragraph that authorises it."""
    doc: dict[str, Any] = {
        "project": spec.id,
        "spec_version": spec.version,
        "deliberation": {k: str(v) for k, v in spec.deliberation.items()},
        "recipient": spec.recipient,
        "years": [spec.first_year, spec.last_year],
        "retention_date": spec.retention_date.isoformat(),
        "population": spec.population,
        "tables": [],
    }
    lines = [
        f"# Data dictionary: {spec.title}",
        "",
        f"- Recipient: {spec.recipient}",
        f"- Years: {spec.first_year}-{spec.last_year}; retention until {spec.retention_date.isoformat()}",
        f"- Population: {spec.population}",
        f"- Spec version: {spec.version}",
        "",
    ]
    for table in spec.tables.values():
        lines += [
            f"## {table.name}",
            "",
            table.description,
            "",
            "| variable | kind | description | classes / coarsening | source | authorised by |",
            "|---|---|---|---|---|---|",
        ]
        cols = []
        for name in table.columns:
            v = spec.variables[name]
            classes = ", ".join(v.classes) if v.classes else v.coarsening
            desc = v.description + (f" (*{v.dutch}*)" if v.dutch else "")
            lines.append(f"| `{v.name}` | {v.kind} | {desc} | {classes} | {v.source_named} | {v.paragraph} |")
            cols.append(
                {
                    "name": v.name,
                    "kind": v.kind,
                    "description": v.description,
                    "dutch": v.dutch,
                    "classes": list(v.classes),
                    "coarsening": v.coarsening,
                    "source": v.source_named,
                    "paragraph": v.paragraph,
                }
            )
        lines.append("")
        doc["tables"].append(
            {"name": table.name, "description": table.description, "area": table.area, "columns": cols}
        )
    declared = spec.extra.get("not_supplied") or []
    if declared:
        # what the deliberation authorises and the delivery does not carry, with the reason, so the
        # recipient reads it where the variables are (tests/test_deliberation_variables.py keeps them complete)
        lines += ["## Variables of the deliberation not supplied", "", "| variable | reason |", "|---|---|"]
        lines += [f"| {n['variable']} | {n['not_supplied_reason']} |" for n in declared]
        lines.append("")
        doc["not_supplied"] = [dict(n) for n in declared]
    return "\n".join(lines), doc
