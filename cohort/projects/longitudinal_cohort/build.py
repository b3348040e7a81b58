"""Building the cohort's tables, independent of Dagster (the assets call these functions).

Every step function takes ``(step, spec[, year])``: the :class:`~cohort.projects.step.Step` that
:func:`cohort.projects.step.open_step` opened (the retention guard passed, the connection with the
warehouse views and the pseudonym macro it needs, the lake, the run id), the spec and the year.
Which of these a step needs is said by :data:`STEP_NEEDS`, so a caller opens it the one way.

The order of a build: :func:`build_sample` (the whole sample design, secure), :func:`build_mapping`
(person and employer sequence numbers for everyone who may appear), then per year
:func:`build_observed` (who is observed, secure) and :func:`build_exports` (every export table of the
year, scanned and written through :func:`cohort.privacy.scan.write_export`).

An export table is the query of ``sql/<table>.sql``. Before anything is written its columns are
compared with the spec: a column the spec does not authorise stops the build with
:class:`~cohort.projects.spec.UnauthorisedColumnError` naming the column.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from cohort import settings, storage
from cohort.privacy import pseudonym, scan
from cohort.projects.longitudinal_cohort import population, schemas
from cohort.projects.spec import ProjectSpec, UnauthorisedColumnError
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource
from cohort.settings import Lake

SQL_DIR = Path(__file__).parent / "sql"


class CohortBuildError(RuntimeError):
    """A step of the cohort build cannot run (missing input, unmapped person, ...)."""


@dataclass
class TableResult:
    table: str
    year: int
    path: Path
    rows: int
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def secure_dir(lake: Lake, spec: ProjectSpec) -> Path:
    return lake.secure / spec.id


def sample_file(lake: Lake, spec: ProjectSpec) -> Path:
    return storage.partition_file(secure_dir(lake, spec), "sample_person")


def observed_file(lake: Lake, spec: ProjectSpec, year: int) -> Path:
    return storage.partition_file(secure_dir(lake, spec), "observed_person", year)


def export_file(lake: Lake, spec: ProjectSpec, table: str, year: int) -> Path:
    return storage.partition_file(lake.exports / spec.id, table, year)


Result = TypeVar("Result")


def run(
    lake: LakeResource | Lake,
    spec: ProjectSpec,
    function: Callable[..., Result],
    year: int | None = None,
    run_id: str | None = None,
    **options: Any,
) -> Result:
    """Run one step function of this module the one way: open the step it needs
    (:data:`STEP_NEEDS`; the warehouse views hold ``year``, or every project year without one),
    call ``function(step, spec[, year], **options)``, close the step. The assets, the
    benchmarks and the tests all call the build functions through it."""
    name = getattr(function, "__name__", repr(function))
    if name not in STEP_NEEDS:
        raise ValueError(f"{name} is not a step function of the cohort build (see STEP_NEEDS)")
    needs = STEP_NEEDS[name]
    years = spec.years if year is None else [year]
    with open_step(lake, spec, run_id, years=years, what=name, **needs) as step:
        return function(step, spec, *([] if year is None else [year]), **options)


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise CohortBuildError(f"{what} is missing ({path.name} under {path.parent.name}): build it first")
    return path


# --------------------------------------------------------------------------- population
def build_sample(step: Step, spec: ProjectSpec) -> dict[str, Any]:
    """Draw the whole sample (initial 2005 sample and the top-ups) into ``secure/<project>/sample_person``.

    Returns the strata (entry year, stratum, size at scale 1.0, N_h, n_h) and the scale used.
    """
    con, lake = step.con, step.lake
    scale = settings.warehouse_scale(lake.warehouse)
    population.install_rules(con, spec)
    path = storage.write_query(con, population.sample_sql(spec, scale), sample_file(lake, spec))
    strata = con.sql(population.strata_sql(spec, scale)).pl()
    weights = con.sql(
        f"select entry_year, stratum, count(*) as n, sum(design_weight) as weight_sum "
        f"from read_parquet({storage.sql_string(path)}, hive_partitioning = false) group by all order by all"
    ).pl()
    return {"path": path, "scale": scale, "strata": strata, "weights": weights}


def build_mapping(step: Step, spec: ProjectSpec) -> dict[str, dict[str, int]]:
    """Give a sequence number to every person and employer that may appear in the delivery."""
    con, lake = step.con, step.lake
    sample = _require(sample_file(lake, spec), "the sample (sample_person)")
    con.execute(
        "CREATE TEMP TABLE mapped_persons AS "
        + population.mapped_persons_sql(sample, spec.first_year, spec.last_year)
    )
    persons = pseudonym.extend_mapping(
        con, secure_dir(lake, spec), "person", "SELECT insz FROM mapped_persons"
    )
    employers = pseudonym.extend_mapping(
        con,
        secure_dir(lake, spec),
        "employer",
        population.mapped_employers_sql("mapped_persons", spec.first_year, spec.last_year),
    )
    return {"person": persons, "employer": employers}


def build_observed(step: Step, spec: ProjectSpec, year: int) -> dict[str, Any]:
    """Write who is observed in ``year`` (secure) and return the counts for the asset metadata."""
    con, lake = step.con, step.lake
    population.install_rules(con, spec)
    sample = _require(sample_file(lake, spec), "the sample (sample_person)")
    path = storage.write_query(
        con, population.observed_sql(year, sample, spec), observed_file(lake, spec, year)
    )
    counts = con.execute(
        f"""
            with o as (select * from read_parquet({storage.sql_string(path)}, hive_partitioning = false)),
            hh as (select * from household_jan1 where year = {int(year)}),
            per_sample as (
                select s.insz, count(m.insz) filter (where m.insz <> s.insz) as members
                from (select insz from o where is_sample_person) s
                left join hh h on h.insz = s.insz
                left join hh m on m.household_id = h.household_id
                group by s.insz
            )
            select (select count(*) from o where is_sample_person),
                   (select count(*) from o where is_household_member and not is_sample_person),
                   (select count(*) from o),
                   (select avg(members) from per_sample),
                   (select max(members) from per_sample)
            """
    ).fetchall()[0]
    return {
        "path": path,
        "sample_persons": int(counts[0]),
        "household_members_only": int(counts[1]),
        "persons": int(counts[2]),
        "members_per_sample_person": float(counts[3] or 0.0),
        "max_members": int(counts[4] or 0),
    }


# --------------------------------------------------------------------------- exports
def prepare_year(step: Step, spec: ProjectSpec, year: int) -> None:
    """Rules, pseudonym mappings and the year's observation set (``observed_ids``, ``observed_quarters``)."""
    con, lake = step.con, step.lake
    population.install_rules(con, spec)
    sdir = secure_dir(lake, spec)
    pseudonym.attach_mapping(con, sdir, "person")
    pseudonym.attach_mapping(con, sdir, "employer")
    sample = _require(sample_file(lake, spec), "the sample (sample_person)")
    observed = _require(observed_file(lake, spec, year), f"the observation set of {year} (observed_person)")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW sample_person AS SELECT * FROM read_parquet({storage.sql_string(sample)}, hive_partitioning = false)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE observed_ids AS SELECT o.*, m.seq AS person_id "
        f"FROM read_parquet({storage.sql_string(observed)}, hive_partitioning = false) o LEFT JOIN person_map m ON m.hash = keyed_hash(o.insz)"
    )
    unmapped = con.execute("SELECT count(*) FROM observed_ids WHERE person_id IS NULL").fetchall()[0][0]
    if unmapped:
        raise CohortBuildError(
            f"{unmapped} persons observed in {year} have no sequence number: rebuild person_pseudonym_map"
        )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE observed_quarters AS
        SELECT o.insz, o.person_id, t.q, year_quarter(quarter_last_day({int(year)}, t.q)) AS quarter,
               quarter_last_day({int(year)}, t.q) AS quarter_end
        FROM observed_ids o, (VALUES (1), (2), (3), (4)) t(q)
        WHERE CASE t.q WHEN 1 THEN o.in_q1 WHEN 2 THEN o.in_q2 WHEN 3 THEN o.in_q3 ELSE o.in_q4 END
        """
    )


def yearly_tables(spec: ProjectSpec) -> list[str]:
    """The export tables made from the warehouse each year (not the secure ones, not the trajectory
    tables copied from the secure mobility step)."""
    return [t.name for t in spec.tables.values() if t.area == "exports" and not t.extra.get("source_table")]


def trajectory_tables(spec: ProjectSpec) -> dict[str, str]:
    """Exported trajectory table -> the secure mobility table it is copied from."""
    return {t.name: t.extra["source_table"] for t in spec.tables.values() if t.extra.get("source_table")}


def table_sql(
    spec: ProjectSpec, table: str, year: int, scale: float, sql_text: str | None = None, **paths: Path
) -> str:
    """The query of one table for one year (``sql/<table>.sql`` with the safe parameters filled in:
    the year, the warehouse scale and file paths, each path as a quoted SQL string)."""
    spec.table(table)  # an undeclared table is refused by name
    text = sql_text if sql_text is not None else (SQL_DIR / f"{table}.sql").read_text()
    return (
        text.format(
            year=int(year),
            scale=float(scale),
            status_flag_columns=status_flag_columns(spec, table),
            **{k: storage.sql_string(v) for k, v in paths.items()},
        )
        .strip()
        .rstrip(";")
    )


def status_flag_columns(spec: ProjectSpec, table: str) -> str:
    """The select list of the table's columns that read a DWH status flag (a variable's
    ``status_flag``), in the table's order, from ``s.status_flags`` through the ``flag_<name>``
    macros (cohort/projects/longitudinal_cohort/population.py installs them from the one bit rule)."""
    flags = [
        (spec.variables[c].status_flag, c) for c in spec.table(table).columns if spec.variables[c].status_flag
    ]
    return ",\n        ".join(f"flag_{flag}(s.status_flags) as {column}" for flag, column in flags)


def query_columns(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [d[0] for d in con.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0").description]


def rejecting(spec: ProjectSpec, table: str, year: int) -> storage.Validate:
    """A ``validate`` callback for the writers: :func:`check_export` on the temporary file, which is
    refused (:class:`cohort.storage.PartitionRejected`, nothing renamed into place) when it fails."""

    def validate(tmp: Path) -> None:
        errors = check_export(spec, table, year, tmp)
        if errors:
            raise storage.PartitionRejected(
                f"{spec.id} {table} {year}", {"schema": len(errors)}, "; ".join(errors[:5])
            )

    return validate


def build_table(
    step: Step, spec: ProjectSpec, table: str, year: int, scale: float, sql_text: str | None = None
) -> TableResult:
    """Authorise, validate and write (scanned, atomic, audited) one export table of one year: a
    table breaking its schema is refused before it is published."""
    start = time.perf_counter()
    sql = table_sql(spec, table, year, scale, sql_text)
    path, rows = _write_authorised(step, spec, table, year, sql)
    return TableResult(table, year, path, rows, [], time.perf_counter() - start)


def _write_authorised(step: Step, spec: ProjectSpec, table: str, year: int, sql: str) -> tuple[Path, int]:
    """Refuse a column the spec does not authorise, then write through the export scan and the
    table's schema (:func:`rejecting`); (path, rows)."""
    spec.authorise(table, query_columns(step.con, sql))
    path = export_file(step.lake, spec, table, year)
    record = scan.write_export(
        step.con,
        path,
        table,
        spec.column_kinds(table),
        step.lake,
        step.run_id,
        sql=sql,
        classes=spec.column_classes(table),
        retention_date=spec.retention_date,
        validate=rejecting(spec, table, year),
    )
    return path, record.rows


def check_export(spec: ProjectSpec, table: str, year: int, path: Path) -> list[str]:
    """The blocking check of a written partition: read it back, Pandera schema and spec authorisation."""
    if not path.exists():
        return [f"{table} {year}: no file"]
    df = pl.read_parquet(path)
    try:
        spec.check_columns(table, df.columns)
    except UnauthorisedColumnError as exc:
        return [str(exc)]
    return schemas.validate(spec, table, df, year)


def build_exports(
    step: Step,
    spec: ProjectSpec,
    year: int,
    tables: list[str] | None = None,
    sql_overrides: dict[str, str] | None = None,
) -> list[TableResult]:
    """Every export table of ``year`` (or the listed ``tables``), in the step's one DuckDB session.

    All or nothing: when one table is refused (its scan, its schema) or the step fails, every
    table of the year is put back as it was before the step, so a failed year leaves none of
    its new exports and never a mix of two builds."""
    lake = step.lake
    scale = settings.warehouse_scale(lake.warehouse)
    names = tables or yearly_tables(spec)
    targets = [export_file(lake, spec, t, year) for t in names]
    if tables is None:
        targets.append(storage.partition_file(secure_dir(lake, spec), "situation", year))
    with storage.all_or_nothing(targets):
        prepare_year(step, spec, year)
        results = [build_table(step, spec, t, year, scale, (sql_overrides or {}).get(t)) for t in names]
        if tables is None:
            results.append(build_situation(step, spec, year))
    return results


def build_situation(step: Step, spec: ProjectSpec, year: int) -> TableResult:
    """The secure yearly situation of the trajectory tables, from the year's person and position exports."""
    con, lake = step.con, step.lake
    start = time.perf_counter()
    sql = table_sql(
        spec,
        "situation",
        year,
        1.0,
        person_file=_require(export_file(lake, spec, "person", year), "person"),
        position_file=_require(export_file(lake, spec, "position", year), "position"),
    )
    spec.authorise("situation", query_columns(con, sql))
    path = storage.write_query(
        con,
        sql,
        storage.partition_file(secure_dir(lake, spec), "situation", year),
        validate=rejecting(spec, "situation", year),
    )
    rows = int(
        con.execute(
            f"SELECT count(*) FROM read_parquet({storage.sql_string(path)}, hive_partitioning = false)"
        ).fetchall()[0][0]
    )
    return TableResult("situation", year, path, rows, [], time.perf_counter() - start)


def export_trajectory(step: Step, spec: ProjectSpec, year: int, table: str) -> TableResult:
    """Copy one year of a secure trajectory table (``situation_next`` / ``situation_prev``) to the exports,
    through the scan."""
    start = time.perf_counter()
    source = _require(
        storage.partition_file(secure_dir(step.lake, spec), trajectory_tables(spec)[table], year),
        f"{trajectory_tables(spec)[table]} {year}",
    )
    sql = f"SELECT * FROM read_parquet({storage.sql_string(source)}, hive_partitioning = false) ORDER BY person_id"
    path, rows = _write_authorised(step, spec, table, year, sql)
    return TableResult(table, year, path, rows, [], time.perf_counter() - start)


def build_trajectory(step: Step, spec: ProjectSpec, year: int, table: str) -> TableResult:
    """One trajectory table of ``year`` (``mobility_next`` / ``mobility_prev``) in one step: the secure
    mobility step (:func:`cohort.projects.mobility.build_mobility`) then the scanned export. The
    neighbouring years' situations must be built first (a missing one is marked ``not_yet_observed``);
    the Dagster graph runs the two halves as two assets."""
    from cohort.projects import mobility

    mspec = mobility.MobilitySpec.from_project(spec)
    direction = "next" if table == "mobility_next" else "prev"
    secure_table = mspec.table(direction)
    mobility.build_mobility(
        step.con,
        mspec,
        secure_dir(step.lake, spec),
        year,
        direction,
        authorised=lambda cols: spec.check_columns(secure_table, cols),
        validate=rejecting(spec, secure_table, year),
    )
    return export_trajectory(step, spec, year, table)


def write_data_dictionary(step: Step, spec: ProjectSpec) -> tuple[Path, Path]:
    """The data dictionary (Markdown and JSON) next to the exports, with the spec's extra sections."""
    import json

    from cohort.projects.spec import data_dictionary

    markdown, doc = data_dictionary(spec)
    extra_md = ["", "## Sample design", ""]
    for k in ("frame", "origin_rule", "weights"):
        extra_md.append(f"- **{k}**: {spec.sample[k]}")
    alloc = spec.sample["allocation"]
    extra_md += ["", "| sample | stratum | sample size at scale 1.0 |", "|---|---|---|"]
    for part, sizes in alloc.items():
        extra_md += [f"| {part} | {s} | {n} |" for s, n in sizes.items()]
    extra_md += ["", "## Follow-up", ""] + [f"- **{k}**: {v}" for k, v in spec.extra["follow_up"].items()]
    extra_md += ["", "## Coarsening rules (class = [lower, upper) of the breaks)", ""]
    extra_md += [f"- `{k}`: breaks {r['breaks']}" for k, r in spec.extra["coarsening_rules"].items()]
    doc["sample"] = {k: spec.sample[k] for k in ("frame", "origin_rule", "weights", "allocation", "seed")}
    doc["follow_up"] = spec.extra["follow_up"]
    doc["coarsening_rules"] = spec.extra["coarsening_rules"]
    base = step.lake.exports / spec.id
    base.mkdir(parents=True, exist_ok=True)
    md_path, json_path = base / "data_dictionary.md", base / "data_dictionary.json"
    texts = {
        md_path: markdown + "\n".join(extra_md) + "\n",
        json_path: json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
    }
    for path, text in texts.items():
        storage.write_text(path, text)
    return md_path, json_path


#: every step function of this module and what it needs opened (:func:`cohort.projects.step.open_step`):
#: the contract-checked warehouse views, the pseudonym macro; ``{}``: its connection and the lake only.
STEP_NEEDS: dict[str, dict[str, bool]] = {
    build_sample.__name__: {"warehouse": True},
    build_mapping.__name__: {"warehouse": True, "pseudonyms": True},
    build_observed.__name__: {"warehouse": True},
    build_exports.__name__: {"warehouse": True, "pseudonyms": True},
    export_trajectory.__name__: {},
    build_trajectory.__name__: {},
    write_data_dictionary.__name__: {},
}
