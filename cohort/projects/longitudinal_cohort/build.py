"""Building the cohort's tables, independent of Dagster (the assets call these functions).

The order of a build: :func:`build_sample` (the whole sample design, secure), :func:`build_mapping`
(person and employer sequence numbers for everyone who may appear), then per year
:func:`build_observed` (who is observed, secure) and :func:`build_exports` (every export table of the
year, scanned and written through :func:`cohort.privacy.scan.write_export`).

An export table is the query of ``sql/<table>.sql``. Before anything is written its columns are
compared with the spec: a column the spec does not authorise stops the build with
:class:`~cohort.projects.spec.UnauthorisedColumnError` naming the column.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from cohort import storage
from cohort.privacy import pseudonym, scan
from cohort.privacy.retention import refuse_if_expired
from cohort.projects.longitudinal_cohort import population, schemas
from cohort.projects.spec import ProjectSpec, UnauthorisedColumnError
from cohort.settings import Lake
from cohort.sources import checks

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


def _connect(lake: Lake, spec: ProjectSpec, years: list[int]) -> duckdb.DuckDBPyConnection:
    """A connection whose warehouse views hold only the rows that pass the contract, for the
    tables of the spec's ``warehouse`` block; ``years`` must be in each yearly table."""
    con = storage.connect()
    try:
        checks.open_warehouse(con, lake, spec.warehouse, years)
    except BaseException:
        con.close()
        raise
    return con


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise CohortBuildError(f"{what} is missing ({path.name} under {path.parent.name}): build it first")
    return path


# --------------------------------------------------------------------------- population
def build_sample(lake: Lake, spec: ProjectSpec) -> dict[str, Any]:
    """Draw the whole sample (initial 2005 sample and the top-ups) into ``secure/<project>/sample_person``.

    Returns the strata (entry year, stratum, size at scale 1.0, N_h, n_h) and the scale used.
    """
    refuse_if_expired(lake, spec.id, spec.retention_date)
    scale = population.warehouse_scale(lake.warehouse)
    con = _connect(lake, spec, spec.years)
    try:
        population.install_rules(con, spec)
        path = storage.write_query(con, population.sample_sql(spec, scale), sample_file(lake, spec))
        strata = con.sql(population.strata_sql(spec, scale)).pl()
        weights = con.sql(
            f"select entry_year, stratum, count(*) as n, sum(design_weight) as weight_sum "
            f"from read_parquet({storage.sql_string(path)}, hive_partitioning = false) group by all order by all"
        ).pl()
    finally:
        con.close()
    return {"path": path, "scale": scale, "strata": strata, "weights": weights}


def build_mapping(lake: Lake, spec: ProjectSpec) -> dict[str, dict[str, int]]:
    """Give a sequence number to every person and employer that may appear in the delivery."""
    refuse_if_expired(lake, spec.id, spec.retention_date)
    key = pseudonym.load_key(spec.id, keys_dir=lake.keys)
    con = _connect(lake, spec, spec.years)
    try:
        pseudonym.install_hmac(con, key)
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
    finally:
        con.close()
    return {"person": persons, "employer": employers}


def build_observed(lake: Lake, spec: ProjectSpec, year: int) -> dict[str, Any]:
    """Write who is observed in ``year`` (secure) and return the counts for the asset metadata."""
    refuse_if_expired(lake, spec.id, spec.retention_date)
    con = _connect(lake, spec, [year])
    try:
        population.install_rules(con, spec)
        sample = _require(sample_file(lake, spec), "the sample (sample_person)")
        path = storage.write_query(
            con, population.observed_sql(year, sample), observed_file(lake, spec, year)
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
    finally:
        con.close()
    return {
        "path": path,
        "sample_persons": int(counts[0]),
        "household_members_only": int(counts[1]),
        "persons": int(counts[2]),
        "members_per_sample_person": float(counts[3] or 0.0),
        "max_members": int(counts[4] or 0),
    }


# --------------------------------------------------------------------------- exports
def prepare_year(
    con: duckdb.DuckDBPyConnection, lake: Lake, spec: ProjectSpec, year: int, key: pseudonym.ProjectKey
) -> None:
    """Rules, pseudonym mappings and the year's observation set (``observed_ids``, ``observed_quarters``)."""
    population.install_rules(con, spec)
    pseudonym.install_hmac(con, key)
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
            year=int(year), scale=float(scale), **{k: storage.sql_string(v) for k, v in paths.items()}
        )
        .strip()
        .rstrip(";")
    )


def query_columns(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [d[0] for d in con.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0").description]


def authorise(spec: ProjectSpec, table: str, columns: list[str]) -> None:
    """Refuse a column the spec does not authorise (named), a missing one, or a different order."""
    spec.check_columns(table, columns)
    declared = list(spec.table(table).columns)
    if columns != declared:
        missing = [c for c in declared if c not in columns]
        raise UnauthorisedColumnError(
            f"project {spec.id}, table {table}: columns differ from the spec "
            + (f"(missing: {', '.join(missing)})" if missing else "(order)")
        )


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
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    spec: ProjectSpec,
    table: str,
    year: int,
    scale: float,
    run_id: str | None = None,
    sql_text: str | None = None,
) -> TableResult:
    """Authorise, validate and write (scanned, atomic, audited) one export table of one year: a
    table breaking its schema is refused before it is published."""
    start = time.perf_counter()
    sql = table_sql(spec, table, year, scale, sql_text)
    path, rows = _write_authorised(con, lake, spec, table, year, sql, run_id)
    return TableResult(table, year, path, rows, [], time.perf_counter() - start)


def _write_authorised(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    spec: ProjectSpec,
    table: str,
    year: int,
    sql: str,
    run_id: str | None,
) -> tuple[Path, int]:
    """Refuse a column the spec does not authorise, then write through the export scan and the
    table's schema (:func:`rejecting`); (path, rows)."""
    authorise(spec, table, query_columns(con, sql))
    path = export_file(lake, spec, table, year)
    record = scan.write_export(
        con,
        path,
        table,
        spec.column_kinds(table),
        lake,
        run_id,
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
    lake: Lake,
    spec: ProjectSpec,
    year: int,
    run_id: str | None = None,
    tables: list[str] | None = None,
    sql_overrides: dict[str, str] | None = None,
) -> list[TableResult]:
    """Every export table of ``year`` (or the listed ``tables``), in one DuckDB session.

    All or nothing: when one table is refused (its scan, its schema) or the step fails, every
    table of the year is put back as it was before the step, so a failed year leaves none of
    its new exports and never a mix of two builds."""
    refuse_if_expired(lake, spec.id, spec.retention_date)
    key = pseudonym.load_key(spec.id, keys_dir=lake.keys)
    scale = population.warehouse_scale(lake.warehouse)
    names = tables or yearly_tables(spec)
    targets = [export_file(lake, spec, t, year) for t in names]
    if tables is None:
        targets.append(storage.partition_file(secure_dir(lake, spec), "situation", year))
    con = _connect(lake, spec, [year])
    try:
        with storage.all_or_nothing(targets):
            prepare_year(con, lake, spec, year, key)
            results = [
                build_table(con, lake, spec, t, year, scale, run_id, (sql_overrides or {}).get(t))
                for t in names
            ]
            if tables is None:
                results.append(build_situation(con, lake, spec, year))
        return results
    finally:
        con.close()


def build_situation(con: duckdb.DuckDBPyConnection, lake: Lake, spec: ProjectSpec, year: int) -> TableResult:
    """The secure yearly situation of the trajectory tables, from the year's person and position exports."""
    start = time.perf_counter()
    sql = table_sql(
        spec,
        "situation",
        year,
        1.0,
        person_file=_require(export_file(lake, spec, "person", year), "person"),
        position_file=_require(export_file(lake, spec, "position", year), "position"),
    )
    authorise(spec, "situation", query_columns(con, sql))
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


def export_trajectory(
    lake: Lake, spec: ProjectSpec, table: str, year: int, run_id: str | None = None
) -> TableResult:
    """Copy one year of a secure trajectory table (``situation_next`` / ``situation_prev``) to the exports,
    through the scan."""
    refuse_if_expired(lake, spec.id, spec.retention_date)
    start = time.perf_counter()
    source = _require(
        storage.partition_file(secure_dir(lake, spec), trajectory_tables(spec)[table], year),
        f"{trajectory_tables(spec)[table]} {year}",
    )
    con = storage.connect()
    try:
        sql = f"SELECT * FROM read_parquet({storage.sql_string(source)}, hive_partitioning = false) ORDER BY person_id"
        path, rows = _write_authorised(con, lake, spec, table, year, sql, run_id)
    finally:
        con.close()
    return TableResult(table, year, path, rows, [], time.perf_counter() - start)


def build_trajectories(
    lake: Lake, spec: ProjectSpec, year: int, run_id: str | None = None
) -> list[TableResult]:
    """Both trajectory tables of ``year`` without Dagster: the secure mobility step
    (:func:`cohort.projects.mobility.build_mobility`) then the scanned export. The neighbouring years'
    situations must be built first (a missing one is marked ``not_yet_observed``)."""
    from cohort.projects import mobility

    refuse_if_expired(lake, spec.id, spec.retention_date)
    mspec = mobility.MobilitySpec.from_project(spec)
    out = []
    for direction, table in (("next", "mobility_next"), ("prev", "mobility_prev")):
        secure_table = mspec.table(direction)

        def authorised(cols: list[str], t: str = secure_table) -> None:
            spec.check_columns(t, cols)

        con = storage.connect()
        try:
            mobility.build_mobility(
                con,
                mspec,
                secure_dir(lake, spec),
                year,
                direction,
                authorised=authorised,
                validate=rejecting(spec, secure_table, year),
            )
        finally:
            con.close()
        out.append(export_trajectory(lake, spec, table, year, run_id))
    return out


def write_data_dictionary(lake: Lake, spec: ProjectSpec) -> tuple[Path, Path]:
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
    base = lake.exports / spec.id
    base.mkdir(parents=True, exist_ok=True)
    md_path, json_path = base / "data_dictionary.md", base / "data_dictionary.json"
    texts = {
        md_path: markdown + "\n".join(extra_md) + "\n",
        json_path: json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
    }
    for path, text in texts.items():
        storage.write_text(path, text)
    return md_path, json_path
