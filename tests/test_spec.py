"""The spec mechanism: a deliberation declared once; unauthorised columns are refused by name."""

import ast
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from cohort.classifications import classes, codes, kinds
from cohort.projects import schemas
from cohort.projects.spec import (
    SpecError,
    UnauthorisedColumnError,
    data_dictionary,
    load_spec,
    parse_spec,
    population_ages,
)

RAW = {
    "id": "toy",
    "version": 2,
    "deliberation": {"number": "99/001", "date": "2020-01-01", "title": "A toy"},
    "recipient": "A university",
    "kind": "pseudonymised",
    "years": {"first": 2020, "last": 2022},
    "retention_date": "2030-12-31",
    "population": "Everyone",
    "variables": [
        {
            "name": "person_id",
            "kind": "pseudonym",
            "source": "person.insz",
            "paragraph": "§3",
            "description": "Sequence number",
            "dutch": "volgnummer",
        },
        {
            "name": "age_class",
            "kind": "class",
            "source": "person.birth_date",
            "paragraph": "§3",
            "description": "Age",
            "classes": ["15-24", "25-64"],
        },
        {"name": "year", "kind": "year", "source": "-", "paragraph": "§4", "description": "Year"},
    ],
    "tables": [
        {
            "name": "persons",
            "description": "One row per person and year",
            "columns": ["person_id", "year", "age_class"],
            "grain": "person-year",
        }
    ],
    "mobility": {"carried": ["age_class"]},
}


def test_parse_and_query() -> None:
    spec = parse_spec(RAW)
    assert spec.years == [2020, 2021, 2022]
    assert spec.retention_date == date(2030, 12, 31)
    assert spec.column_kinds("persons") == {"person_id": "pseudonym", "year": "year", "age_class": "class"}
    assert spec.column_classes("persons") == {"age_class": ("15-24", "25-64")}
    assert spec.extra == {"mobility": {"carried": ["age_class"]}}
    assert spec.table("persons").extra == {"grain": "person-year"}


def test_unauthorised_columns_are_named() -> None:
    spec = parse_spec(RAW)
    spec.check_columns("persons", ["person_id", "year"])
    with pytest.raises(UnauthorisedColumnError, match="insz, birth_date"):
        spec.check_columns("persons", ["person_id", "insz", "birth_date"])
    with pytest.raises(UnauthorisedColumnError, match="not declared"):
        spec.check_columns("households", ["person_id"])


def test_malformed_specs_are_refused() -> None:
    bad_table = {**RAW, "tables": [{"name": "t", "columns": ["person_id", "wage"]}]}
    with pytest.raises(SpecError, match="wage"):
        parse_spec(bad_table)
    bad_kind = {**RAW, "variables": [{**RAW["variables"][0], "kind": "exact_amount"}]}
    with pytest.raises(SpecError, match="unknown kind"):
        parse_spec(bad_kind)
    no_classes = {**RAW, "variables": [{**RAW["variables"][1], "classes": []}]}
    with pytest.raises(SpecError, match="needs its classes"):
        parse_spec(no_classes)


def test_data_dictionary_lists_every_variable_with_its_paragraph() -> None:
    md, doc = data_dictionary(parse_spec(RAW))
    assert "| `age_class` | class | Age | 15-24, 25-64 | person.birth_date | §3 |" in md
    assert "*volgnummer*" in md
    cols = doc["tables"][0]["columns"]
    assert [c["name"] for c in cols] == ["person_id", "year", "age_class"]
    assert doc["retention_date"] == "2030-12-31"


def _with_copies(**changes: object) -> dict:
    """RAW with a situation table, a carried variable and the mobility tables derived from them."""
    raw = {
        **RAW,
        "variables": [
            *RAW["variables"],
            {"name": "next_status", "kind": "marker", "source": "-", "paragraph": "§4", "description": "T+1"},
            {"name": "prev_status", "kind": "marker", "source": "-", "paragraph": "§4", "description": "T-1"},
        ],
        "tables": [
            {"name": "situation", "description": "A year", "columns": ["person_id", "year", "age_class"]},
            {"name": "mobility_next", "description": "T and T+1"},
            {"name": "mobility_prev", "description": "T and T-1"},
            {"name": "panel_next", "description": "Some rows", "same_columns_as": "mobility_next"},
        ],
        "mobility": {"carried": ["age_class"], "copies": {"paragraph": "§5"}},
    }
    raw.update(changes)
    return raw


def test_neighbour_copies_are_derived_from_the_carried_variables() -> None:
    spec = parse_spec(_with_copies())
    base, copy = spec.variables["age_class"], spec.variables["age_class_next"]
    assert (copy.kind, copy.classes, copy.source) == (base.kind, base.classes, base.source)
    assert copy.paragraph == "§5; §3"
    assert spec.variables["age_class_prev"].description == "T-1: Age"
    assert spec.table("mobility_next").columns == (
        "person_id",
        "year",
        "age_class",
        "next_status",
        "age_class_next",
    )
    assert spec.table("mobility_prev").columns == (
        "person_id",
        "year",
        "age_class",
        "prev_status",
        "age_class_prev",
    )
    assert spec.table("panel_next").columns == spec.table("mobility_next").columns


def test_a_derived_copy_or_derived_column_list_cannot_also_be_written() -> None:
    declared = _with_copies()
    declared["variables"] = [*declared["variables"], {**RAW["variables"][1], "name": "age_class_next"}]
    with pytest.raises(SpecError, match="age_class_next is derived from age_class"):
        parse_spec(declared)
    listed = _with_copies()
    listed["tables"] = [*listed["tables"][:1], {**listed["tables"][1], "columns": ["person_id"]}]
    with pytest.raises(SpecError, match="mobility_next: its columns are derived"):
        parse_spec(listed)
    with pytest.raises(SpecError, match="not variables"):
        parse_spec(_with_copies(mobility={"carried": ["nothing"], "copies": {"paragraph": "§5"}}))


def _schema_spec() -> dict:
    """RAW with a variable of each kind the schema compiler treats differently."""
    more = [
        {"name": "quarter", "kind": "quarter", "source": "-", "paragraph": "§4", "description": "Quarter"},
        {"name": "start_month", "kind": "month", "source": "-", "paragraph": "§4", "description": "Month"},
        {"name": "jobs", "kind": "count", "source": "-", "paragraph": "§4", "description": "Jobs"},
        {"name": "weight", "kind": "weight", "source": "-", "paragraph": "§2", "description": "Weight"},
        {"name": "employed", "kind": "flag", "source": "-", "paragraph": "§4", "description": "Employed"},
        {
            "name": "sex",
            "kind": "code",
            "codes": "SEX",
            "source": "-",
            "paragraph": "§3",
            "description": "Sex",
        },
    ]
    columns = ["person_id", "year", "age_class", *(v["name"] for v in more)]
    table = {"name": "persons", "description": "A year", "columns": columns, "not_null": ["year"]}
    return {**RAW, "variables": [*RAW["variables"], *more], "tables": [table], "mobility": {}}


GOOD_ROWS = {
    "person_id": pl.Series([1, 2], dtype=pl.Int64),
    "year": pl.Series([2021, 2021], dtype=pl.Int16),
    "age_class": ["15-24", None],
    "quarter": ["2021Q4", "2021Q1"],
    "start_month": ["2021-12", None],
    "jobs": pl.Series([0, 3], dtype=pl.Int32),
    "weight": [1.0, 12.5],
    "employed": [True, None],
    "sex": ["M", "F"],
}


def test_the_compiled_schema_takes_a_good_frame_and_names_each_broken_rule() -> None:
    spec = parse_spec(_schema_spec())
    schema = schemas.table_schema(spec, "persons", year=2021, key=["person_id"])
    assert schemas.failure_messages(schema, pl.DataFrame(GOOD_ROWS)) == []
    bad = pl.DataFrame(
        {
            **GOOD_ROWS,
            "person_id": pl.Series([0, 0], dtype=pl.Int64),  # not a sequence number, and twice
            "year": pl.Series([2021, None], dtype=pl.Int16),  # not_null, and pinned to 2021
            "age_class": ["15-24", "65+"],  # outside the declared classes
            "quarter": ["2021Q5", "2020Q1"],  # not a quarter; another year
            "start_month": ["2021-13", None],
            "jobs": pl.Series([-1, 3], dtype=pl.Int32),
            "weight": [0.5, 12.5],  # a design weight is at least 1
            "sex": ["M", "X"],  # outside the code list
        }
    )
    failed = {message.split(":")[0] for message in schemas.failure_messages(schema, bad)}
    assert {"person_id", "year", "age_class", "quarter", "start_month", "jobs", "weight", "sex"} <= failed
    assert schemas.failure_messages(schema, pl.DataFrame(GOOD_ROWS).drop("sex")) != []  # strict
    swapped = pl.DataFrame(GOOD_ROWS).select("year", "person_id", *list(GOOD_ROWS)[2:])
    assert schemas.failure_messages(schema, swapped) != []  # ordered
    typed = pl.DataFrame({**GOOD_ROWS, "employed": ["yes", None]})
    assert any(m.startswith("employed") for m in schemas.failure_messages(schema, typed))  # dtype by kind


def test_class_rules_of_a_spec_compile_in_both_forms_with_the_variables_labels() -> None:
    labels = ["very_low", "low", "high"]
    upper = classes.coarsening_sql("x", {"at_most": [0.2, 0.5]}, labels)
    lower = classes.coarsening_sql("x", {"breaks": [0, 0.2, 0.5]}, labels)
    values = [None, 0.0, 0.2, 0.3, 0.5, 0.9]
    rows = duckdb.sql(f"SELECT {upper}, {lower} FROM unnest(?::DOUBLE[]) t(x)", params=[values]).fetchall()
    assert rows == [
        (None, None),
        ("very_low", "very_low"),
        ("very_low", "low"),  # at_most includes its bound, breaks start the next class at it
        ("low", "low"),
        ("low", "high"),
        ("high", "high"),
    ]
    with pytest.raises(ValueError, match="one per bound"):
        classes.coarsening_sql("x", {"at_most": [0.2, 0.5, 0.7]}, labels)
    with pytest.raises(ValueError, match="either breaks or at_most"):
        classes.coarsening_sql("x", {"breaks": [0], "at_most": [1]}, labels)
    # every rule of the labour reserve compiles with its variable's classes
    spec = load_spec("labour_reserve")
    for name, rule in spec.extra["coarsening_rules"].items():
        assert classes.coarsening_sql("x", rule, spec.variables[name].classes).startswith("CASE")


def _with_group(**changes: object) -> dict:
    """:func:`_with_copies` with the status flags as a group, named once and used in three places."""
    raw = _with_copies()
    group = {
        "members": "STATUS_FLAGS",
        "name": "status_{code}",
        "kind": "flag",
        "source": "status_flags bit {position}",
        "paragraph": "§3, footnote 1",
        "description": "Status: {words}",
    }
    raw["groups"] = {"status_flags": group}
    raw["variables"] = [*raw["variables"], {"group": "status_flags"}]
    situation = raw["tables"][0]
    raw["tables"] = [
        {**situation, "columns": [*situation["columns"], {"group": "status_flags"}]},
        *raw["tables"][1:],
    ]
    raw["mobility"] = {**raw["mobility"], "carried": ["age_class", {"group": "status_flags"}]}
    raw.update(changes)
    return raw


def test_a_group_is_written_out_wherever_it_is_named() -> None:
    spec = parse_spec(_with_group())
    names = [f"status_{flag}" for flag in codes.STATUS_FLAGS]
    assert spec.groups["status_flags"] == dict(zip(codes.STATUS_FLAGS, names, strict=True))
    # in place of the group, in the order of the code list
    assert list(spec.variables)[3 : 5 + len(names)] == ["next_status", "prev_status", *names]
    older = spec.variables["status_older_job_seeker"]
    assert (older.kind, older.paragraph) == ("flag", "§3, footnote 1")
    assert older.source == f"status_flags bit {codes.STATUS_FLAGS.index('older_job_seeker')}"
    assert older.description == "Status: older job seeker"
    assert spec.table("situation").columns == ("person_id", "year", "age_class", *names)
    next_columns = spec.table("mobility_next").columns
    assert next_columns[-len(names) :] == tuple(f"{name}_next" for name in names)  # carried: derived copies
    assert spec.extra["mobility"]["carried"] == ["age_class", *names]  # what cohort.projects.mobility reads
    assert spec.variables["status_known_at_rva_prev"].description == "T-1: Status: known at rva"


def test_a_malformed_group_is_refused() -> None:
    with pytest.raises(SpecError, match="no group 'flags'"):
        parse_spec(_with_group(mobility={"carried": [{"group": "flags"}]}))
    raw = _with_group()
    raw["groups"] = {"status_flags": {**raw["groups"]["status_flags"], "members": "NO_SUCH_LIST"}}
    with pytest.raises(SpecError, match="no code list 'NO_SUCH_LIST'"):
        parse_spec(raw)
    raw["groups"] = {"status_flags": {**_with_group()["groups"]["status_flags"], "bits": 3}}
    with pytest.raises(SpecError, match="unknown key"):
        parse_spec(raw)
    raw["groups"] = {"status_flags": {**_with_group()["groups"]["status_flags"], "name": "status"}}
    with pytest.raises(SpecError, match="duplicated variable names"):
        parse_spec(raw)


def _words(path: Path) -> set[str]:
    return set(re.findall(r"\w+", path.read_text(encoding="utf-8")))


# The files that may name a status flag besides codes.py, each for a reason: the warehouse sets the
# bits; the longitudinal cohort delivers a selection of them under names of its own deliberation.
STATUS_FLAG_READERS = {
    "cohort/classifications/codes.py",
    "cohort/warehouse/labour_frames.py",
    "cohort/projects/longitudinal_cohort/spec.yaml",
}


def test_the_status_flags_are_written_once() -> None:
    """No file of the package lists the status flags again (as themselves or as ``status_<flag>``):
    the labour reserve's spec names the group once and the loader writes it out."""
    root = Path(__file__).resolve().parents[1]
    names = set(codes.STATUS_FLAGS) | {f"status_{flag}" for flag in codes.STATUS_FLAGS}
    found = {
        path.relative_to(root).as_posix(): sorted(_words(path) & names)
        for suffix in ("py", "sql", "yaml")
        for path in (root / "cohort").rglob(f"*.{suffix}")
    }
    assert {path: words for path, words in found.items() if words and path not in STATUS_FLAG_READERS} == {}
    assert len(load_spec("labour_reserve").groups["status_flags"]) == len(codes.STATUS_FLAGS)


def test_the_cohorts_status_flag_columns_are_written_from_the_spec() -> None:
    """The cohort's position query names no status flag: the build writes a column per variable with a
    ``status_flag``, in the table's order, and a flag that codes.STATUS_FLAGS does not hold is refused."""
    from cohort.projects.longitudinal_cohort import build as cohort_build

    spec = load_spec("longitudinal_cohort")
    flagged = [c for c in spec.table("position").columns if spec.variables[c].status_flag]
    assert len(flagged) == 15 and "working_with_full_early_retirement" in flagged
    sql = cohort_build.table_sql(spec, "position", 2010, 0.01)
    assert "flag_working_with_full_swt(s.status_flags) as working_with_full_early_retirement" in sql
    written = [
        line.strip().rstrip(",").rsplit(" as ", 1)[1]
        for line in sql.splitlines()
        if "(s.status_flags) as" in line
    ]
    assert written == flagged
    raw = _with_copies()
    for bad in (
        {"kind": "flag", "status_flag": "no_such_flag"},
        {"kind": "code", "status_flag": "activation_rva"},
    ):
        raw["variables"] = [*raw["variables"], {"name": "f", "source": "-", "paragraph": "§3", **bad}]
        with pytest.raises(SpecError, match="status_flag"):
            parse_spec(raw)
        raw["variables"] = raw["variables"][:-1]


def test_a_variable_takes_its_code_list_and_requirement_from_the_spec() -> None:
    raw = _with_copies()
    raw["variables"] = [
        *raw["variables"],
        {"name": "sex", "kind": "code", "codes": "SEX", "required": True, "source": "-", "paragraph": "§3"},
        {"name": "support", "kind": "code", "codes": ["a", "b"], "source": "-", "paragraph": "§3"},
    ]
    raw["mobility"] = {**raw["mobility"], "carried": ["age_class", "sex"]}
    spec = parse_spec(raw)
    assert (spec.variables["sex"].allowed, spec.variables["sex"].required) == (("M", "F"), True)
    assert spec.variables["support"].allowed == ("a", "b")
    assert spec.variables["age_class"].allowed == ("15-24", "25-64")  # a class: its labels
    assert spec.variables["year"].allowed is None
    copy = spec.variables["sex_next"]
    assert (copy.allowed, copy.required) == (("M", "F"), False)  # a neighbour year may be unobserved
    for bad, message in (
        ({"codes": "NO_SUCH_LIST"}, "no code list 'NO_SUCH_LIST'"),
        ({"codes": "code_list"}, "no code list"),  # only the module's upper-case lists
        ({"codes": []}, "codes is a code list's name or a list"),
        ({"kind": "flag"}, "only a code or marker has codes"),
        ({"required": "yes"}, "required is true or false"),
    ):
        changed = {**raw, "variables": [*raw["variables"][:-1], {**raw["variables"][-1], **bad}]}
        with pytest.raises(SpecError, match=message):
            parse_spec(changed)


def test_the_labour_reserve_checks_its_code_lists_and_required_columns_from_the_spec(tmp_path: Path) -> None:
    """The Pandera schema and the SQL pass over every row read the same rules, from the spec."""
    from cohort import storage
    from cohort.projects.labour_reserve import schemas as labour_schemas

    spec = load_spec("labour_reserve")
    assert spec.variables["residence_reason"].allowed == codes.code_list("RESIDENCE_REASON")
    assert spec.variables["province_next"].allowed == tuple(codes.PROVINCES)
    assert {n for n, v in spec.variables.items() if v.required} >= {"person_id", "sex", "next_status"}
    columns = spec.table("situation").columns

    def dtype(name: str) -> type[pl.DataType]:
        return kinds.KINDS[spec.variables[name].kind].dtype

    frame = pl.DataFrame({name: pl.Series([None, None], dtype=dtype(name)) for name in columns}).with_columns(
        person_id=pl.Series([1, 2], dtype=pl.Int64),
        sex=pl.Series(["M", "X"]),
        residence_reason=pl.Series(["no such reason", None]),
    )
    path = tmp_path / "situation.parquet"
    frame.write_parquet(path)
    con = storage.connect()
    try:
        found = labour_schemas.sql_violations(con, spec, "situation", path)
    finally:
        con.close()
    assert found["sex/outside_list"] == 1
    assert found["residence_reason/outside_list"] == 1
    assert found["age_class/null"] == 2 and "residence_reason/null" not in found
    failed = {
        m.split(":")[0] for m in schemas.failure_messages(labour_schemas.schema_for(spec, "situation"), frame)
    }
    assert {"sex", "residence_reason", "age_class"} <= failed


def _code_lists() -> dict[frozenset[str], str]:
    """Every code list of cohort/classifications/codes.py (two codes or more), by its set of codes."""
    found = {}
    for name in dir(codes):
        try:
            values = codes.code_list(name)
        except ValueError:
            continue
        if len(values) >= 2:
            found[frozenset(values)] = name
    return found


def _yaml_lists(node: object, where: str) -> Iterator[tuple[str, frozenset[str]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _yaml_lists(value, f"{where}.{key}")
    elif isinstance(node, list):
        if len(node) >= 2 and all(isinstance(item, str) for item in node):
            yield where, frozenset(node)
        for item in node:
            yield from _yaml_lists(item, where)


def test_no_code_list_is_written_a_second_time() -> None:
    """A list or tuple of strings in the package's Python, or a list in a spec, that holds exactly the
    codes of a code list of codes.py is a second writing of it: a spec names the list (``codes:``)."""
    root = Path(__file__).resolve().parents[1]
    lists = _code_lists()
    assert {"SEX", "RESIDENCE_REASON", "NEXT_MARKERS", "STATUS_FLAGS"} <= set(lists.values())
    found: set[tuple[str, str]] = set()
    for path in sorted((root / "cohort").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative == "cohort/classifications/codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.List | ast.Tuple | ast.Set) and len(node.elts) >= 2:
                items = [
                    e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
                if len(items) == len(node.elts) and frozenset(items) in lists:
                    where = "cohort/warehouse/" if relative.startswith("cohort/warehouse/") else relative
                    found.add((where, lists[frozenset(items)]))
    for path in sorted((root / "cohort").rglob("*.yaml")):
        relative = path.relative_to(root).as_posix()
        for _, values in _yaml_lists(
            yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader), relative
        ):
            if values in lists:
                found.add((relative, lists[values]))
    assert found == set()


def test_the_country_variables_name_the_country_classes() -> None:
    """Every country variable of the projects names the labels of
    cohort.classifications.classes.COUNTRY_CLASS (plus Unknown) as ``classes: COUNTRY_CLASSES``: no spec
    writes them out, so a spec whose labels drifted from the lookup's is not possible."""
    labour_reserve = load_spec("labour_reserve")
    names = ("nationality_class", "birth_country_class", "foreign_origin_class", "allochtone_class")
    assert {labour_reserve.variables[name].classes for name in names} == {classes.COUNTRY_CLASSES}
    assert set(classes.COUNTRY_CLASS.values()) | {"Unknown"} == set(classes.COUNTRY_CLASSES)
    named = {
        project: [
            v.name for v in load_spec(project).variables.values() if v.classes == classes.COUNTRY_CLASSES
        ]
        for project in ("labour_reserve", "measure_profiles", "regularised_foreigners")
    }
    assert named["measure_profiles"] == ["origin_class", "nationality_class", "birth_country_class"]
    assert named["regularised_foreigners"] == ["birth_country_class", "nationality_class"]
    specs = sorted((Path(__file__).resolve().parents[1] / "cohort" / "projects").glob("*/spec.yaml"))
    assert len(specs) >= 5
    assert [path for path in specs if "Neighbouring country" in path.read_text(encoding="utf-8")] == []


def test_a_spec_names_a_list_instead_of_writing_it() -> None:
    """``classes:`` of a variable and ``codes:`` of a release dimension may name a list: class labels
    of classes.py keep their order, a code list of codes.py is sorted (the order a release shows its
    codes), so SEX, whose codebook order is M, F, gives F, M; an unknown name is refused."""
    raw = yaml.safe_load(load_spec("regularised_foreigners").path.read_text(encoding="utf-8"))
    assert codes.code_list("SEX") == ("M", "F")
    raw["dimensions"]["sex_of_head"] = {"codes": "SEX"}  # a dimension without a variable of its name
    parsed = parse_spec(raw)
    assert parsed.extra["dimensions"]["sex_of_head"] == {"codes": ["F", "M"]}
    assert parsed.variables["sex"].classes == ("F", "M")
    assert parsed.extra["dimensions"]["sex"] == {"codes": ["F", "M"]}  # the variable's classes
    assert parsed.variables["nationality_class"].classes == classes.COUNTRY_CLASSES
    raw["dimensions"]["sex_of_head"] = {"codes": "GENDERS"}
    with pytest.raises(SpecError, match="dimension sex_of_head"):
        parse_spec(raw)


def test_the_labour_reserves_sql_takes_its_code_lists_from_the_spec() -> None:
    """A code list the deliberation defines (``codes: [...]`` in the spec) is not spelled again in the
    project's SQL: the situation query takes it from the spec."""
    from cohort.projects.labour_reserve import build

    spec = load_spec("labour_reserve")
    sql_folder = Path(build.__file__).parent / "sql"
    texts = {path.name: path.read_text(encoding="utf-8") for path in sql_folder.glob("*.sql")}
    situation = build.situation_sql(2022, spec)
    for name in ("incapacity_benefit_type", "social_assistance_type"):
        spelled = ", ".join(f"'{code}'" for code in spec.variables[name].code_list)
        assert [file for file, text in texts.items() if spelled in text] == []
        assert f"in ({spelled}" in situation or f", {spelled})" in situation


def test_a_dimension_takes_the_classes_of_its_variable() -> None:
    """A release dimension named after a class variable gets that variable's classes as its codes,
    in their order; writing the codes again beside them is refused (the labels live once)."""
    spec = load_spec("flemish_staff_origin")
    dimensions = spec.extra["dimensions"]
    assert dimensions["origin_eu15"]["codes"] == list(spec.variables["origin_eu15"].classes)
    assert dimensions["sex"]["codes"] == ["F", "M"]
    assert "Total" in dimensions["origin_eu15"]["hierarchy"].values()
    raw = yaml.safe_load(spec.path.read_text())
    raw["dimensions"]["age_class"] = {"codes": ["18-24", "25-65"]}
    with pytest.raises(SpecError, match="dimension age_class: its codes are the classes of the variable"):
        parse_spec(raw)


def test_the_population_ages_are_read_from_the_spec() -> None:
    assert population_ages(load_spec("labour_reserve")) == (15, 64)
    assert population_ages(load_spec("flemish_staff_origin")) == (18, 65)
    raw = yaml.safe_load(load_spec("labour_reserve").path.read_text())
    for bad in ([64, 15], [15], "15-64", [15, True]):
        raw["population_ages"] = bad
        with pytest.raises(SpecError, match="population_ages must be"):
            population_ages(parse_spec(raw))


def test_a_written_table_is_authorised_exactly() -> None:
    """``check_columns`` refuses a column the spec does not authorise; ``authorise`` (a table as
    written) also refuses a missing column and another order, each named."""
    spec = load_spec("labour_reserve")
    columns = list(spec.table("situation").columns)
    spec.authorise("situation", columns)
    spec.check_columns("situation", columns[:-1])  # a subset passes the lenient form
    with pytest.raises(UnauthorisedColumnError, match=f"missing: {columns[-1]}"):
        spec.authorise("situation", columns[:-1])
    with pytest.raises(UnauthorisedColumnError, match="order"):
        spec.authorise("situation", [columns[1], columns[0], *columns[2:]])
    with pytest.raises(UnauthorisedColumnError, match="national_number not authorised"):
        spec.authorise("situation", [*columns, "national_number"])
