"""The labour-reserve build steps as plain functions over a DuckDB connection (seed 004, deliberation 26/104).

The Dagster assets (``assets.py``) and the benchmark call these; each step is one DuckDB SQL
over the warehouse's Parquet files (``sql/*.sql``), pre-aggregated per source, written atomically.

Choices where the deliberation is silent (also in docs/labour_reserve.md):

- Reference day: 31 December of T (last day of Q4); quarter totals (FTE, wage) over Q4.
- Neighbour years: the situation is built for 2019-2027, one year beyond each end of the
  project years, so that 2020's T-1 and 2026's T+1 are ordinary files. A year the warehouse
  does not have (2027 today) is not built, and the mobility tables mark it ``not_yet_observed``.
- Households: ``household_jan1`` of year T (1 January of T) gives household type, children and
  work intensity: it is always available with year T, so a year's table never waits for T+1. The
  spec's ``household_reference`` (days_after 0) sets it through the rule every project shares,
  :func:`cohort.projects.spec.household_year`.
- Work intensity: per member the share of the year worked (per quarter: salaried FTE plus one
  for a main self-employed activity, capped at 1; mean of the four quarters), averaged over
  the eligible members. Europe 2020: members aged 18-59 on 31 December, students 18-24
  excluded. EU 2030: 18-64, students 18-24, pensioners and inactive 60-64 in a household with a
  pensioner excluded. A student is a member aged 18-24 whose Q4 position is 36 (child
  entitled to child benefit); a pensioner has position 34. Classes: the spec's
  ``coarsening_rules`` (``at_most`` bounds), like every class variable of the situation.
- Wage deciles: ``ntile(10)`` of the Q4 average daily wage over every employee of the year's
  full population (ties broken by pseudonym); phase 1 copies the value from phase 2's table.
"""

from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from cohort import storage
from cohort.classifications import classes, codes, origin
from cohort.privacy import pseudonym
from cohort.projects.spec import ProjectSpec, class_sql, household_year, load_spec, population_ages
from cohort.projects.step import Step
from cohort.sources import checks

PROJECT = "labour_reserve"

LIPRO_HOUSEHOLD_TYPE = {
    "SING": "single",
    "MAR0": "married_couple_no_children",
    "MAR+": "married_couple_with_children",
    "CMAR": "married_couple_with_children",
    "UNM0": "cohabiting_couple_no_children",
    "UNM+": "cohabiting_couple_with_children",
    "CUNM": "cohabiting_couple_with_children",
    "H1PA": "one_parent_family",
    "C1PA": "one_parent_family",
    "NFRP": "other",
    "OTHR": "other",
    "COLL": "collective",
}


class BuildError(RuntimeError):
    """A step cannot run on this warehouse (missing year, missing mapping...)."""


def spec() -> ProjectSpec:
    return load_spec(PROJECT)


@cache
def sql_text(name: str) -> str:
    return resources.files("cohort.projects.labour_reserve").joinpath("sql", f"{name}.sql").read_text()


def reference_day(year: int) -> date:
    """The situation day of year T: the last day of Q4."""
    return date(year, 12, 31)


def situation_years(s: ProjectSpec) -> list[int]:
    """Project years plus one neighbour year on each side."""
    return list(range(s.first_year - 1, s.last_year + 2))


def population_sql(year: int, s: ProjectSpec | None = None) -> str:
    ref = reference_day(year)
    min_age, max_age = population_ages(s or spec())
    return sql_text("population").format(
        year=int(year), ref=ref.isoformat(), min_age=min_age, max_age=max_age
    )


def install_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Arrondissement -> province, LIPRO -> household type (temp tables)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE province_of_arrondissement (arrondissement VARCHAR, province VARCHAR)"
    )
    con.executemany(
        "INSERT INTO province_of_arrondissement VALUES (?, ?)", list(codes.ARRONDISSEMENTS.items())
    )
    con.execute("CREATE OR REPLACE TEMP TABLE lipro_household_type (lipro VARCHAR, household_type VARCHAR)")
    con.executemany("INSERT INTO lipro_household_type VALUES (?, ?)", list(LIPRO_HOUSEHOLD_TYPE.items()))


def codes_sql(s: ProjectSpec, variable: str) -> str:
    """The code list of ``variable`` in the spec (its ``codes:``) as SQL literals, comma-separated."""
    listed = s.variables[variable].code_list
    if not listed:
        raise BuildError(f"labour_reserve: the spec gives {variable} no code list")
    return ", ".join(storage.sql_string(code) for code in listed)


def situation_sql(year: int, s: ProjectSpec | None = None) -> str:
    """The SQL of the situation of ``year`` (needs the warehouse views, :func:`install_lookups`,
    ``person_map`` and ``keyed_hash``)."""
    s = s or spec()
    ref = reference_day(year)
    bloc = sorted(codes.eu_members(ref))
    bloc_list = "[" + ", ".join(f"'{c}'" for c in bloc) + "]"
    # one column per flag of the spec's status_flags group, named by the spec (groups.status_flags.name;
    # the loader admits only identifiers there)
    flags = ",\n        ".join(
        f"{classes.status_flag_sql('coalesce(j.status_flags, 0)', flag)} AS {column}"
        for flag, column in s.groups["status_flags"].items()
    )
    return sql_text("situation").format(
        year=int(year),
        ref=ref.isoformat(),
        household_year=household_year(s, ref),
        jan1=date(household_year(s, ref), 1, 1).isoformat(),
        population=population_sql(year, s),
        foreign_origin=origin.flemish_foreign_origin_sql("own[1]", "own[2]", "father_first", "mother_first"),
        foreign_origin_country=origin.flemish_origin_country_sql(
            "own[1]", "own[2]", "father_first", "mother_first"
        ),
        allochtone=origin.allochtone_sql("own", "parents", "grandparents", bloc),
        outside_bloc_list=origin.outside_sql("g", bloc),
        outside_bloc_item=f"x IS NOT NULL AND NOT list_contains({bloc_list}, x)",
        age_class=class_sql(s, "age_class", "j.age"),
        children_class=class_sql(s, "children_class", "j.children"),
        status_flag_columns=flags,
        incapacity_benefits=codes_sql(s, "incapacity_benefit_type"),
        social_assistance_benefits=codes_sql(s, "social_assistance_type"),
        registration_months_class=class_sql(
            s, "registration_months_class", f"date_diff('month', j.registration_date, date '{ref}')"
        ),
        unemployment_months_class=class_sql(
            s, "unemployment_months_class", f"date_diff('month', j.unemployment_start, date '{ref}')"
        ),
        daily_wage_class=class_sql(s, "daily_wage_class", "j.daily_wage"),
        wi_2020_class=class_sql(s, "work_intensity_eu2020", "j.wi_2020"),
        wi_2030_class=class_sql(s, "work_intensity_eu2030", "j.wi_2030"),
        # a code outside the country lookup, or none, is in the class Unknown (a release dimension)
        **{
            column: classes.country_class_sql(f"j.{country}", missing=classes.UNKNOWN_COUNTRY)
            for column, country in (
                ("nationality_class", "nationality"),
                ("birth_country_class", "birth_country"),
                ("foreign_origin_class", "foreign_origin_country"),
                ("allochtone_class", "allochtone_country"),
            )
        },
    )


def membership_sql(years: list[int]) -> str:
    """Population membership of every year in ``years`` in one pass (``sql/population_membership.sql``):
    columns ``insz, birth_date, death_date, be_<year>, in_<year>``."""
    years = sorted(int(y) for y in years)
    refs = {y: reference_day(y).isoformat() for y in years}
    min_age, max_age = population_ages(spec())

    def covers(d: str) -> str:
        return f"valid_from <= date '{d}' AND (valid_to IS NULL OR valid_to > date '{d}')"

    residence = ",\n        ".join(f"bool_or({covers(d)}) AS be_{y}" for y, d in refs.items())
    register = ",\n        ".join(
        f"arg_max(register, valid_from) FILTER (WHERE {covers(d)}) AS reg_{y}" for y, d in refs.items()
    )
    members = ",\n        ".join(
        f"coalesce(r.be_{y}, false) AS be_{y},\n        "
        f"coalesce(r.be_{y} AND resident_register(g.reg_{y}) "
        f"AND (p.death_date IS NULL OR p.death_date > date '{d}') "
        f"AND completed_age(p.birth_date, date '{d}') BETWEEN {min_age} AND {max_age}, false) AS in_{y}"
        for y, d in refs.items()
    )
    return sql_text("population_membership").format(
        residence_flags=residence,
        register_columns=register,
        membership_columns=members,
        first_ref=refs[years[0]],
        last_ref=refs[years[-1]],
    )


def absence_sql(year: int) -> str:
    return sql_text("population_absence").format(
        year=int(year),
        prev_year=year - 1,
        next_year=year + 1,
        ref=reference_day(year).isoformat(),
        membership=membership_sql([year - 1, year, year + 1]),
        min_age=population_ages(spec())[0],
        max_age=population_ages(spec())[1],
    )


# ------------------------------------------------------------------------------------- pseudonyms
def prepare(step: Step, spec: ProjectSpec, mapping: bool = True) -> None:
    """Ready a step's connection (:func:`cohort.projects.step.open_step` with the warehouse views
    and the keyed hash): the lookups and, with ``mapping``, ``person_map``."""
    step.con.execute("SET enable_progress_bar = false")
    install_lookups(step.con)
    if mapping:
        pseudonym.attach_mapping(step.con, step.lake.secure / spec.id, "person")


def build_person_mapping(step: Step, spec: ProjectSpec, years: list[int]) -> dict[str, int]:
    """Extend the project's person mapping with everyone in the population of any of ``years``."""
    if not years:
        raise BuildError("labour_reserve person_mapping: the warehouse has none of the situation years")
    ids = f"SELECT insz FROM ({membership_sql(years)}) WHERE " + " OR ".join(f"in_{int(y)}" for y in years)
    return pseudonym.extend_mapping(step.con, step.lake.secure / spec.id, "person", ids)


def _require_year(warehouse: Path, year: int, table: str) -> None:
    if year not in checks.warehouse_years(warehouse):
        raise BuildError(
            f"labour_reserve {table} {year}: the warehouse has no year {year} (no sep_quarter/year={year}); "
            "a neighbour year that is not there yet stays 'not_yet_observed' in the mobility tables"
        )


def _parquet(path: Path) -> str:
    return f"read_parquet({storage.sql_string(path)}, hive_partitioning = false)"


def build_situation(
    step: Step, spec: ProjectSpec, year: int, validate: storage.Validate | None = None
) -> dict[str, Any]:
    """Write ``secure/labour_reserve/situation/year=YYYY``; refuse persons without a pseudonym.
    ``validate(tmp)`` (the blocking rules, :func:`schemas.rejecting`) runs before the rename: a
    refused year leaves no new file (the previous version, if any, stays)."""
    con, secure_project_dir = step.con, step.lake.secure / spec.id
    _require_year(step.lake.warehouse, year, "situation")
    sql = situation_sql(year, spec)
    cols = [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()]
    spec.authorise("situation", cols)
    path = storage.partition_file(secure_project_dir, "situation", year)

    def checked(tmp: Path) -> None:
        missing = con.execute(
            f"SELECT count(*) FILTER (WHERE person_id IS NULL) FROM {_parquet(tmp)}"
        ).fetchall()
        if missing[0][0]:
            raise BuildError(
                f"labour_reserve situation {year}: {missing[0][0]} person(s) of the population have no pseudonym; "
                "materialise person_mapping first (it covers every year the warehouse has)"
            )
        if validate is not None:
            validate(tmp)

    storage.write_query(con, sql, path, validate=checked)
    rows = con.execute(f"SELECT count(*) FROM {_parquet(path)}").fetchall()[0][0]
    return {"path": path, "rows": int(rows), "columns": cols}


def absence_violations(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """The rules of a ``population_absence`` file: reasons outside the mobility vocabulary, persons twice."""
    from cohort.projects import mobility

    reasons = ", ".join("'" + r + "'" for r in mobility.ABSENCE_REASONS)
    unknown, duplicates = con.execute(
        f"SELECT count(*) FILTER (WHERE reason IS NULL OR reason NOT IN ({reasons})), "
        f"count(*) - count(DISTINCT person_id) FROM {_parquet(path)}"
    ).fetchall()[0]
    return {"reason/outside_list": int(unknown), "person_id/duplicate": int(duplicates)}


def build_absence(step: Step, spec: ProjectSpec, year: int) -> dict[str, Any]:
    """Write ``secure/labour_reserve/population_absence/year=YYYY``: why persons of the neighbouring
    years' populations are missing from this year's (died, abroad, above_age, below_age, excluded).
    A file breaking :func:`absence_violations` is refused before the rename."""
    con, secure_project_dir = step.con, step.lake.secure / spec.id
    _require_year(step.lake.warehouse, year, "population_absence")
    path = storage.partition_file(secure_project_dir, "population_absence", year)

    def checked(tmp: Path) -> None:
        broken = {rule: n for rule, n in absence_violations(con, tmp).items() if n}
        if broken:
            raise storage.PartitionRejected(f"labour_reserve population_absence {year}", broken)

    storage.write_query(con, absence_sql(year), path, validate=checked)
    counts = dict(
        con.execute(
            f"SELECT reason, count(*) FROM read_parquet({storage.sql_string(path)}, hive_partitioning = false) GROUP BY ALL"
        ).fetchall()
    )
    return {
        "path": path,
        "rows": int(sum(counts.values())),
        "reasons": {k: int(v) for k, v in counts.items()},
    }


# ------------------------------------------------------------------------------------- phase 1
def panel_size(population: int, s: ProjectSpec | None = None) -> int:
    """About 10,000 at full scale (7.5 million), proportional below, at least ``min_size``, at most everyone."""
    sample = (s or spec()).sample
    n = round(sample["phase1_size"] * population / sample["reference_population"])
    return int(min(population, max(sample["min_size"], n)))


def build_panel(step: Step, spec: ProjectSpec, years: list[int]) -> dict[str, Any]:
    """Choose the phase-1 panel: one row per (year, person_id), see the comment on ``sample:`` in the spec.

    A person stays while in the population; leavers are replaced first by the year's new
    entrants, then by others, in the order of ``md5(seed:person_id)``: the same warehouse and
    key give the same panel, and adding a year never changes the earlier ones.
    """
    con, secure_project_dir = step.con, step.lake.secure / spec.id
    seed = int(spec.sample["seed"])
    years = [y for y in years if storage.partition_file(secure_project_dir, "situation", y).exists()]
    if not years:
        raise BuildError("labour_reserve phase1_panel: no situation year is built yet")

    def sit(y: int) -> str:
        return f"read_parquet({storage.sql_string(storage.partition_file(secure_project_dir, 'situation', y))}, hive_partitioning = false)"

    order = f"md5('{seed}:' || person_id::VARCHAR)"
    first = years[0]
    pop_first = con.execute(f"SELECT count(*) FROM {sit(first)}").fetchall()[0][0]
    n = panel_size(int(pop_first), spec)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _panel AS SELECT CAST({first} AS SMALLINT) AS year, person_id "
        f"FROM {sit(first)} ORDER BY {order} LIMIT {n}"
    )
    per_year = {first: {"size": n, "kept": 0, "added": n}}
    for prev, y in zip(years, years[1:], strict=False):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _kept AS SELECT p.person_id FROM _panel p "
            f"SEMI JOIN {sit(y)} t ON t.person_id = p.person_id WHERE p.year = {prev}"
        )
        kept = con.execute("SELECT count(*) FROM _kept").fetchall()[0][0]
        top_up = max(0, n - int(kept))
        con.execute(
            f"""
            INSERT INTO _panel
            SELECT CAST({y} AS SMALLINT), person_id FROM _kept
            UNION ALL
            SELECT * FROM (
                SELECT CAST({y} AS SMALLINT), t.person_id
                FROM {sit(y)} t
                ANTI JOIN _kept k ON k.person_id = t.person_id
                LEFT JOIN (SELECT person_id, true AS was_in FROM {sit(prev)}) w ON w.person_id = t.person_id
                ORDER BY coalesce(w.was_in, false), md5('{seed}:' || t.person_id::VARCHAR)
                LIMIT {top_up}
            )
            """
        )
        per_year[y] = {"size": int(kept) + top_up, "kept": int(kept), "added": top_up}
    path = storage.partition_file(secure_project_dir, "phase1_panel")
    storage.write_query(con, "SELECT year, person_id FROM _panel ORDER BY year, person_id", path)
    con.execute("DROP TABLE _panel")
    return {"path": path, "years": per_year}


def phase1_export_path(exports: Path, direction: str, year: int) -> Path:
    """Where a year of ``phase1_<direction>`` goes: the table's ``path`` in the spec, under exports/<project>."""
    folder = Path(str(spec().table(f"phase1_{direction}").extra["path"]))
    if folder.is_absolute() or ".." in folder.parts:
        raise BuildError(
            f"labour_reserve phase1_{direction}: path {folder} must stay inside exports/{PROJECT}"
        )
    return exports / PROJECT / folder / f"year={year}" / "data.parquet"


def phase1_sql(secure_project_dir: Path, direction: str, year: int) -> str:
    table = storage.partition_file(secure_project_dir, f"mobility_{direction}", year)
    panel = storage.partition_file(secure_project_dir, "phase1_panel")
    return (
        f"SELECT t.* FROM read_parquet({storage.sql_string(table)}, hive_partitioning = false) t "
        f"SEMI JOIN (SELECT person_id FROM read_parquet({storage.sql_string(panel)}, hive_partitioning = false) WHERE year = {int(year)}) p "
        "ON p.person_id = t.person_id ORDER BY t.person_id"
    )
