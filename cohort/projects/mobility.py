"""Mobility tables: a year's situation next to the situation of the calendar year after (T+1) or
before (T-1), for any project that keeps a yearly situation table.

What it builds
--------------
A project keeps one *situation* table per year in its secure area::

    <lake>/secure/<project>/<situation_table>/year=YYYY/data.parquet

one row per pseudonym (``key``, e.g. ``person_id``) and year. For a year T this module writes

- ``mobility_next`` (``secure/<project>/<next table>/year=T``): every row and column of T's
  situation, plus the *carried* columns of year T+1 as ``<column>_next`` and a marker
  ``next_status``;
- ``mobility_prev``: the same with T-1, ``<column>_prev`` and ``prev_status``.

The neighbours are **calendar** years (2020's T-1 is 2019, 2016's T+1 is 2017 even when 2017 is
not a partition), joined in DuckDB SQL on the pseudonym, never by Dagster partition offsets
(docs/design.md, decision 3: a partition mapping skips gaps and clamps at the ends).

Markers (``next_status`` / ``prev_status``), see :data:`NEXT_MARKERS` / :data:`PREV_MARKERS`:

=====================  ======================================================================
``observed``           the person is in the neighbour year's situation; carried columns hold
                       that year's values
``not_yet_observed``   the neighbour year's situation does not exist (the warehouse does not
                       have that year yet); every carried column is null
``not_in_population``  the neighbour year exists, the person is not in its population, and
                       the project gives no (or no other) reason; carried columns null
``died``               (next) reason ``died`` in the project's absence table for T+1
``emigrated``          (next) reason ``abroad`` in T+1
``aged_out``           (next) reason ``above_age`` in T+1
``immigrated``         (prev) reason ``abroad`` in T-1 (the person arrived since)
``aged_in``            (prev) reason ``below_age`` in T-1 (the person reached the age band)
=====================  ======================================================================

Reasons are optional. A project that can say *why* a person is missing from a year writes an
*absence* table per year, ``secure/<project>/<reasons_table>/year=YYYY/data.parquet`` with the
columns ``(<key>, reason)``, ``reason`` one of :data:`ABSENCE_REASONS` (``died``, ``abroad``,
``above_age``, ``below_age``, ``excluded``), one row per person known to the project but not in
that year's population. The module translates a reason into the marker of each direction
(``abroad`` is ``emigrated`` looking forward and ``immigrated`` looking back); a reason that
makes no sense in a direction (``died`` looking back) becomes ``not_in_population``.

Boolean *status flags* can be derived from the marker, e.g. the death indicator of T+1 that
seed 004 asks for: ``flags_next: {died_next: died}`` adds ``died_next = (next_status = 'died')``
(null when the year is not yet observed).

Declaring it in a spec
----------------------
In the project's ``spec.yaml`` (a top-level section, read by :meth:`MobilitySpec.from_project`)::

    mobility:
      situation_table: situation        # the yearly table in secure/<project>/
      key: person_id                    # pseudonym column (unique per year)
      carried: [education_level, sep_code, province, household_type]
      reasons_table: population_absence # optional
      next_table: mobility_next         # default names
      prev_table: mobility_prev
      flags_next: {died_next: died}     # optional
      flags_prev: {}
      copies: {paragraph: "§4"}         # optional: derive the <column>_next / _prev variables

With ``copies`` the spec loader (:func:`cohort.projects.spec.neighbour_copy`) derives the variables of
the copies from the carried ones, and the columns of ``next_table`` / ``prev_table`` (which then list
none) from the situation table and :func:`cohort.projects.spec.added_columns`.
Every output column must also be an authorised column of the spec's ``next_table`` /
``prev_table`` entries (``tables:``), including the markers: the asset refuses anything else.

API
---
- :func:`build_mobility` (``con, mspec, secure_project_dir, year, direction, ...``): pure
  DuckDB, writes one year's table and returns its row count and marker counts.
- :func:`mobility_sql`: the SQL itself, the table's definition (for benchmarks and reading);
  :func:`build_mobility` writes its rows without sorting them all again (:func:`_positional_sql`).
- :func:`check_mobility`: the generic value checks, in SQL, of a written year.
- :func:`mobility_assets` (``mspec`` or the ``ProjectSpec``, ``situation_asset``, ``partitions_def``, ...): the two Dagster
  assets ``<project>/mobility_next`` and ``<project>/mobility_prev``. Each depends on the
  situation asset (and on the absence asset, if any) through
  ``TimeWindowPartitionMapping(start_offset=-1, end_offset=1)``: that mapping serves lineage and
  staleness only (when T+1 arrives, Dagster marks T's ``mobility_next`` stale); the data join
  remains the calendar join. Each asset carries a blocking check ``<table>_valid`` computed in
  the same step (generic SQL checks + spec authorisation + the project's own ``validate`` hook,
  e.g. a Pandera schema), on the temporary file before it is renamed into place: a year that
  breaks a rule is never written and fails its step.

Neighbour years outside the project's years (2019 for 2020, 2027 for 2026) are simply files of
the situation table: a project makes its situation partitions cover them (see the labour
reserve, whose situation runs 2019-2027) or leaves them absent (``not_yet_observed``). Pass
``neighbour_expected(lake, year)`` to tell a neighbour that is merely not built yet (an error:
build it first) from one that the warehouse does not have (``not_yet_observed``).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dagster as dg
import duckdb

from cohort import storage
from cohort.classifications.codes import NEXT_MARKERS, PREV_MARKERS
from cohort.privacy.preview import export_preview
from cohort.projects.spec import ProjectSpec, added_columns, copy_name, status_column
from cohort.projects.step import open_step
from cohort.resources import LakeResource

Direction = Literal["next", "prev"]

ABSENCE_REASONS: tuple[str, ...] = ("died", "abroad", "above_age", "below_age", "excluded")
# absence reason -> marker, per direction; reasons not listed become not_in_population
_REASON_MARKER: dict[str, dict[str, str]] = {
    "next": {"died": "died", "abroad": "emigrated", "above_age": "aged_out"},
    "prev": {"abroad": "immigrated", "below_age": "aged_in"},
}


class MobilityError(RuntimeError):
    """A mobility table cannot be built (missing situation of year T, neighbour not built, bad spec)."""


@dataclass(frozen=True)
class MobilitySpec:
    """Which table is the situation, which columns travel to the neighbours, and the output names."""

    project: str
    carried: tuple[str, ...]
    situation_table: str = "situation"
    key: str = "person_id"
    reasons_table: str | None = None
    next_table: str = "mobility_next"
    prev_table: str = "mobility_prev"
    flags_next: Mapping[str, str] = field(default_factory=dict)
    flags_prev: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.carried:
            raise MobilityError(f"project {self.project}: mobility needs at least one carried column")
        if self.key in self.carried:
            raise MobilityError(f"project {self.project}: the key {self.key} cannot be carried")
        for direction, flags in (("next", self.flags_next), ("prev", self.flags_prev)):
            markers = NEXT_MARKERS if direction == "next" else PREV_MARKERS
            bad = {k: v for k, v in flags.items() if v not in markers}
            if bad:
                raise MobilityError(
                    f"project {self.project}: flags_{direction} {bad} use markers outside {markers}"
                )

    @classmethod
    def from_project(cls, spec: ProjectSpec) -> "MobilitySpec":
        """Read the ``mobility:`` section of a project spec."""
        raw = spec.extra.get("mobility")
        if not raw:
            raise MobilityError(f"project {spec.id}: the spec has no 'mobility:' section")
        known = {
            "situation_table",
            "key",
            "carried",
            "reasons_table",
            "next_table",
            "prev_table",
            "flags_next",
            "flags_prev",
            "copies",  # read by the spec loader, which derives the copies' variables and the tables' columns
        }
        unknown = set(raw) - known
        if unknown:
            raise MobilityError(f"project {spec.id}: unknown keys in 'mobility:': {sorted(unknown)}")
        return cls(
            project=spec.id,
            carried=tuple(raw["carried"]),
            situation_table=raw.get("situation_table", "situation"),
            key=raw.get("key", "person_id"),
            reasons_table=raw.get("reasons_table"),
            next_table=raw.get("next_table", "mobility_next"),
            prev_table=raw.get("prev_table", "mobility_prev"),
            flags_next=dict(raw.get("flags_next") or {}),
            flags_prev=dict(raw.get("flags_prev") or {}),
        )

    def table(self, direction: Direction) -> str:
        return self.next_table if direction == "next" else self.prev_table

    def flags(self, direction: Direction) -> Mapping[str, str]:
        return self.flags_next if direction == "next" else self.flags_prev

    def added_columns(self, direction: Direction) -> list[str]:
        """The columns a direction adds to the year-T columns, in output order."""
        return added_columns(direction, self.carried, self.flags(direction))


def neighbour_year(year: int, direction: Direction) -> int:
    """The calendar neighbour: T+1 for ``next``, T-1 for ``prev`` (never a partition offset)."""
    return year + 1 if direction == "next" else year - 1


def situation_file(secure_project_dir: Path, mspec: MobilitySpec, year: int) -> Path:
    return storage.partition_file(secure_project_dir, mspec.situation_table, year)


_q = storage.sql_identifier
_lit = storage.sql_string


def _column_types(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    rows = con.execute(
        f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))}, hive_partitioning = false)"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def mobility_sql(
    con: duckdb.DuckDBPyConnection,
    mspec: MobilitySpec,
    secure_project_dir: Path,
    year: int,
    direction: Direction,
) -> tuple[str, bool]:
    """The SQL of one year's mobility table, and whether the neighbour year was found.

    Reads the situation of ``year`` and of its calendar neighbour (and the neighbour's absence
    reasons if the spec names a reasons table) straight from Parquet. Rows are ordered by key.
    This is the table's definition; :func:`build_mobility` writes the same rows in the same order
    without sorting every column (see :func:`_positional_sql`).
    """
    return _joined_sql(con, mspec, secure_project_dir, year, direction, base_columns=None)


def added_sql(
    con: duckdb.DuckDBPyConnection,
    mspec: MobilitySpec,
    secure_project_dir: Path,
    year: int,
    direction: Direction,
) -> tuple[str, bool]:
    """The columns the direction adds (:meth:`MobilitySpec.added_columns`) next to the key, named
    :data:`ADDED_KEY`, one row per row of ``year``'s situation, ordered by key: the narrow part of
    :func:`mobility_sql` (the same join and the same expressions, written once in :func:`_joined_sql`)."""
    return _joined_sql(con, mspec, secure_project_dir, year, direction, base_columns=ADDED_KEY)


# the key's name in the narrow table of the added columns; dropped before anything is written
ADDED_KEY = "_mobility_key"
# the temporary table holding that narrow table during a build (one step, one connection)
ADDED_TABLE = "_mobility_added"


def _joined_sql(
    con: duckdb.DuckDBPyConnection,
    mspec: MobilitySpec,
    secure_project_dir: Path,
    year: int,
    direction: Direction,
    base_columns: str | None,
) -> tuple[str, bool]:
    """:func:`mobility_sql` (``base_columns`` None: every column of the situation) or
    :func:`added_sql` (``base_columns``: only the key, under that name)."""
    base = situation_file(secure_project_dir, mspec, year)
    if not base.exists():
        raise MobilityError(
            f"project {mspec.project}: no {mspec.situation_table} for {year} ({base.name} missing): "
            f"build the situation of {year} before its {mspec.table(direction)}"
        )
    types = _column_types(con, base)
    missing = [c for c in (mspec.key, *mspec.carried) if c not in types]
    if missing:
        raise MobilityError(
            f"project {mspec.project}: {mspec.situation_table} {year} lacks the column(s) {missing} named in 'mobility:'"
        )
    nyear = neighbour_year(year, direction)
    nfile = situation_file(secure_project_dir, mspec, nyear)
    found = nfile.exists()
    key = _q(mspec.key)
    status = status_column(direction)
    base_select = "b.*" if base_columns is None else f"b.{key} AS {_q(base_columns)}"
    order = key if base_columns is None else _q(base_columns)
    if found:
        reasons_cte = ""
        reason_join = ""
        reason_case = ""
        rfile = (
            storage.partition_file(secure_project_dir, mspec.reasons_table, nyear)
            if mspec.reasons_table
            else None
        )
        if rfile is not None and rfile.exists():
            reasons_cte = (
                f", reasons AS (SELECT {key} AS k, any_value(reason) AS reason "
                f"FROM read_parquet({_lit(str(rfile))}, hive_partitioning = false) GROUP BY {key})"
            )
            reason_join = "LEFT JOIN reasons r ON r.k = b." + key
            whens = " ".join(
                f"WHEN r.reason = {_lit(reason)} THEN {_lit(marker)}"
                for reason, marker in _REASON_MARKER[direction].items()
            )
            reason_case = whens
        nb_cols = ", ".join(f"{_q(c)} AS {_q('nb_' + c)}" for c in mspec.carried)
        status_expr = (
            f"CASE WHEN n.{_q('nb_present')} THEN 'observed' {reason_case} ELSE 'not_in_population' END"
        )
        carried_sel = ", ".join(f"n.{_q('nb_' + c)} AS {_q(copy_name(c, direction))}" for c in mspec.carried)
        sql = f"""
            WITH base AS (SELECT * FROM read_parquet({_lit(str(base))}, hive_partitioning = false)),
            neighbour AS (SELECT {key} AS nb_key, true AS nb_present, {nb_cols}
                          FROM read_parquet({_lit(str(nfile))}, hive_partitioning = false)){reasons_cte},
            joined AS (
                SELECT {base_select}, {status_expr} AS {_q(status)}, {carried_sel}
                FROM base b
                LEFT JOIN neighbour n ON n.nb_key = b.{key}
                {reason_join}
            )
            SELECT *{_flags_sql(mspec, direction)} FROM joined ORDER BY {order}
        """
    else:
        nulls = ", ".join(f"CAST(NULL AS {types[c]}) AS {_q(copy_name(c, direction))}" for c in mspec.carried)
        sql = f"""
            WITH joined AS (
                SELECT {base_select}, 'not_yet_observed' AS {_q(status)}, {nulls}
                FROM read_parquet({_lit(str(base))}, hive_partitioning = false) b
            )
            SELECT *{_flags_sql(mspec, direction)} FROM joined ORDER BY {order}
        """
    return sql, found


def _positional_sql(
    con: duckdb.DuckDBPyConnection,
    mspec: MobilitySpec,
    secure_project_dir: Path,
    year: int,
    direction: Direction,
) -> str | None:
    """The rows of :func:`mobility_sql` in the same order, without its sort of every column: the
    added columns are sorted alone by key into :data:`ADDED_TABLE` and put next to the
    situation's rows by position, which is the same thing when the situation file is already
    ordered by key (situations are written ``ORDER BY`` their key). That is checked on the key
    alone first; None (sort everything, :func:`mobility_sql`) when it does not hold, e.g. a
    damaged file, so that the table and its checks stay those of the definition. The query
    itself stops with an error on a row whose keys differ, so a misplaced row is never written.
    """
    sql, _found = added_sql(con, mspec, secure_project_dir, year, direction)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(ADDED_TABLE)} AS {sql}")
    base = f"read_parquet({_lit(str(situation_file(secure_project_dir, mspec, year)))}, hive_partitioning = false)"
    key, added_key = _q(mspec.key), _q(ADDED_KEY)
    misplaced = con.execute(
        f"SELECT count(*) FROM (SELECT {key} FROM {base}) b POSITIONAL JOIN "
        f"(SELECT {added_key} FROM {_q(ADDED_TABLE)}) a WHERE b.{key} IS DISTINCT FROM a.{added_key}"
    ).fetchall()[0][0]
    if misplaced:
        con.execute(f"DROP TABLE {_q(ADDED_TABLE)}")
        return None
    where = f"{mspec.project} {mspec.table(direction)} {year}: a row of the situation met the added columns of another key"
    return (
        f"SELECT b.*, a.* EXCLUDE ({added_key}) FROM {base} b POSITIONAL JOIN {_q(ADDED_TABLE)} a "
        f"WHERE CASE WHEN b.{key} IS NOT DISTINCT FROM a.{added_key} THEN true ELSE error({_lit(where)}) END"
    )


def _flags_sql(mspec: MobilitySpec, direction: Direction) -> str:
    status = _q(status_column(direction))
    parts = [
        f", CASE WHEN {status} = 'not_yet_observed' THEN NULL ELSE {status} = {_lit(marker)} END AS {_q(name)}"
        for name, marker in mspec.flags(direction).items()
    ]
    return "".join(parts)


def build_mobility(
    con: duckdb.DuckDBPyConnection,
    mspec: MobilitySpec,
    secure_project_dir: Path,
    year: int,
    direction: Direction,
    out_path: Path | None = None,
    authorised: Callable[[list[str]], None] | None = None,
    validate: storage.Validate | None = None,
) -> dict[str, Any]:
    """Write the ``direction`` mobility table of ``year`` (default path
    ``secure/<project>/<table>/year=YYYY/data.parquet``) and return ``rows``, ``neighbour_year``,
    ``neighbour_found``, ``columns`` and the count of each marker.

    ``authorised(columns)`` is called with the output columns before anything is written (pass
    ``lambda cols: spec.authorise(table, cols)`` to refuse an unauthorised, missing or misplaced column).
    ``validate(tmp)`` runs on the written temporary file before it is renamed into place (see
    :func:`cohort.storage.write_query`): a refused year leaves the previous version untouched.
    """
    sql, found = mobility_sql(con, mspec, secure_project_dir, year, direction)
    columns = [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()]
    if authorised is not None:
        authorised(columns)
    path = out_path or storage.partition_file(secure_project_dir, mspec.table(direction), year)
    # the same rows in the same order as ``sql``, without sorting all its columns (at full size
    # that sort was 43 % of the step)
    positional = _positional_sql(con, mspec, secure_project_dir, year, direction)
    try:
        if (
            positional is not None
            and [r[0] for r in con.execute(f"DESCRIBE {positional}").fetchall()] != columns
        ):
            raise MobilityError(
                f"project {mspec.project}: the positional {mspec.table(direction)} differs in its columns"
            )
        storage.write_query(con, positional or sql, path, validate=validate)
    finally:
        if positional is not None:
            con.execute(f"DROP TABLE IF EXISTS {_q(ADDED_TABLE)}")
    status = status_column(direction)
    counts = dict(
        con.execute(
            f"SELECT {_q(status)}, count(*) FROM read_parquet({_lit(str(path))}, hive_partitioning = false) GROUP BY ALL ORDER BY 1"
        ).fetchall()
    )
    return {
        "path": path,
        "rows": int(sum(counts.values())),
        "neighbour_year": neighbour_year(year, direction),
        "neighbour_found": found,
        "columns": columns,
        "markers": {k: int(v) for k, v in counts.items()},
    }


def check_mobility(
    con: duckdb.DuckDBPyConnection,
    mspec: MobilitySpec,
    secure_project_dir: Path,
    year: int,
    direction: Direction,
    path: Path | None = None,
) -> dict[str, int]:
    """Generic value checks of a written year, in DuckDB SQL (cheap on millions of rows).

    Returns violation counts (all must be 0): ``row_count_differs`` (|rows - rows of T's
    situation|), ``duplicate_keys``, ``null_keys``, ``unknown_markers``, ``carried_not_null``
    (a carried value on a row whose neighbour is not observed), ``observed_without_neighbour``
    (an ``observed`` row whose key is absent from the neighbour file).
    """
    path = path or storage.partition_file(secure_project_dir, mspec.table(direction), year)
    base = situation_file(secure_project_dir, mspec, year)
    nfile = situation_file(secure_project_dir, mspec, neighbour_year(year, direction))
    key = _q(mspec.key)
    status = _q(status_column(direction))
    markers = NEXT_MARKERS if direction == "next" else PREV_MARKERS
    any_carried = " OR ".join(f"{_q(copy_name(c, direction))} IS NOT NULL" for c in mspec.carried)
    t = f"read_parquet({_lit(str(path))}, hive_partitioning = false)"
    row = con.execute(
        f"""
        SELECT count(*) - count(DISTINCT {key}),
               count(*) FILTER (WHERE {key} IS NULL),
               count(*) FILTER (WHERE {status} IS NULL OR {status} NOT IN ({", ".join(map(_lit, markers))})),
               count(*) FILTER (WHERE {status} <> 'observed' AND ({any_carried})),
               abs(count(*) - (SELECT count(*) FROM read_parquet({_lit(str(base))}, hive_partitioning = false)))
        FROM {t}
        """
    ).fetchall()[0]
    result = {
        "duplicate_keys": int(row[0]),
        "null_keys": int(row[1]),
        "unknown_markers": int(row[2]),
        "carried_not_null": int(row[3]),
        "row_count_differs": int(row[4]),
        "observed_without_neighbour": 0,
    }
    if nfile.exists():
        result["observed_without_neighbour"] = int(
            con.execute(
                f"SELECT count(*) FROM {t} m WHERE {status} = 'observed' AND NOT EXISTS "
                f"(SELECT 1 FROM read_parquet({_lit(str(nfile))}, hive_partitioning = false) n WHERE n.{key} = m.{key})"
            ).fetchall()[0][0]
        )
    else:
        result["observed_without_neighbour"] = int(
            con.execute(f"SELECT count(*) FROM {t} WHERE {status} <> 'not_yet_observed'").fetchall()[0][0]
        )
    return result


# ---------------------------------------------------------------------------------------- Dagster

Validator = Callable[[Path, int, Direction], tuple[bool, dict[str, Any]]]


def _summary(metadata: Mapping[str, Any], most: int = 300) -> str:
    """The non-zero entries of a validator's metadata, short (for a refusal message)."""
    shown = {
        k: v for k, v in metadata.items() if v and k != "rows" and not k.endswith(("rows_checked", "report"))
    }
    text = ", ".join(f"{k}={v}" for k, v in shown.items())
    return text[:most]


def _key_of(asset: dg.AssetsDefinition | dg.AssetKey) -> dg.AssetKey:
    return asset if isinstance(asset, dg.AssetKey) else asset.key


def mobility_assets(
    mspec: "MobilitySpec | ProjectSpec",
    situation_asset: dg.AssetsDefinition | dg.AssetKey,
    partitions_def: dg.PartitionsDefinition,
    *,
    reasons_asset: dg.AssetsDefinition | dg.AssetKey | None = None,
    project_spec: ProjectSpec | None = None,
    group_name: str | None = None,
    validate: Validator | None = None,
    neighbour_expected: Callable[[LakeResource, int], bool] | None = None,
) -> list[dg.AssetsDefinition]:
    """The ``<project>/<next_table>`` and ``<project>/<prev_table>`` assets.

    - ``situation_asset`` (and ``reasons_asset``) are the upstream yearly assets; the dependency
      is declared with ``TimeWindowPartitionMapping(start_offset=-1, end_offset=1)`` so that a
      new or rebuilt neighbour year marks the table stale. Their partitions may extend beyond
      ``partitions_def`` (e.g. situation 2019-2027 for mobility 2020-2026).
    - ``project_spec``: when given, every output column must be authorised for the table, and
      every step is a step of that project (:func:`cohort.projects.step.open_step`: refused with an
      audit entry after its retention date).
    - ``validate(path, year, direction) -> (passed, metadata)``: the project's own check of the
      written temporary file (e.g. its Pandera schema), run with the generic rules before the
      rename: a year that fails is refused (no file, the previous version kept, the step fails
      naming the rules); the metadata goes to the blocking check ``<table>_valid``.
    - ``neighbour_expected(lake, year)``: True when the neighbour year should exist (the
      warehouse has it); a missing situation file is then an error rather than
      ``not_yet_observed``.

    ``mspec`` may also be the project's :class:`ProjectSpec`: its ``mobility:`` section is read
    and the spec itself is used for the authorisation check (unless ``project_spec`` is given).
    """
    if isinstance(mspec, ProjectSpec):
        project_spec = project_spec or mspec
        mspec = MobilitySpec.from_project(mspec)
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=1)
    deps = [dg.AssetDep(_key_of(situation_asset), partition_mapping=mapping)]
    if reasons_asset is not None:
        deps.append(dg.AssetDep(_key_of(reasons_asset), partition_mapping=mapping))
    return [
        _direction_asset(
            mspec,
            direction,
            deps,
            partitions_def,
            project_spec,
            group_name,
            validate,
            neighbour_expected,
        )
        for direction in ("next", "prev")
    ]


def _direction_asset(
    mspec: MobilitySpec,
    direction: Direction,
    deps: list[dg.AssetDep],
    partitions_def: dg.PartitionsDefinition,
    project_spec: ProjectSpec | None,
    group_name: str | None,
    validate: Validator | None,
    neighbour_expected: Callable[[LakeResource, int], bool] | None,
) -> dg.AssetsDefinition:
    table = mspec.table(direction)
    key = dg.AssetKey([mspec.project, table])
    check_name = f"{table}_valid"
    word = "following" if direction == "next" else "previous"
    description = (
        f"One row per person of the year's {mspec.situation_table} (pseudonym `{mspec.key}`): the year-T variables, "
        f"plus {', '.join(mspec.carried)} of the {word} calendar year as `<variable>_{direction}`, and "
        f"`{direction}_status` saying whether that year was observed, not yet observed, or why the person "
        f"is not in its population. Calendar join in DuckDB on the pseudonym (year {'+' if direction == 'next' else '-'}1)."
    )
    if project_spec is not None and table in project_spec.tables and project_spec.tables[table].description:
        description = project_spec.tables[table].description

    @dg.asset(
        key=key,
        deps=deps,
        partitions_def=partitions_def,
        group_name=group_name,
        description=description,
        kinds={"duckdb", "parquet"},
        check_specs=[
            dg.AssetCheckSpec(
                check_name,
                asset=key,
                blocking=True,
                description=f"Generic mobility rules, spec authorisation and the table's schema for {table}.",
            )
        ],
    )
    def _asset(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        with open_step(lake, project_spec, context.run.run_id, what=f"build {table}") as step:
            # the guard first: after the retention date nothing of the step runs
            con = step.con
            year = int(context.partition_key)
            secure = lake.paths().secure / mspec.project
            nyear = neighbour_year(year, direction)
            if (
                neighbour_expected is not None
                and not situation_file(secure, mspec, nyear).exists()
                and neighbour_expected(lake, nyear)
            ):
                raise MobilityError(
                    f"project {mspec.project}: the warehouse has {nyear} but its {mspec.situation_table} is not built; "
                    f"materialise {mspec.situation_table} for {nyear} before {table} {year} "
                    f"(`cohort project build {mspec.project} --years {year}` builds the neighbours it needs)"
                )
            authorised = (
                (lambda cols: project_spec.authorise(table, cols)) if project_spec is not None else None
            )
            meta: dict[str, Any] = {}

            def rejecting(tmp: Path) -> None:
                # the blocking rules, run on the temporary file: a year that breaks one is never
                # renamed into place, and the step fails naming the rules and their counts
                violations = check_mobility(con, mspec, secure, year, direction, tmp)
                meta.update({f"violations/{k}": v for k, v in violations.items()})
                broken: dict[str, int | str] = {k: v for k, v in violations.items() if v}
                if validate is not None:
                    ok, extra = validate(tmp, year, direction)
                    meta.update(extra)
                    if not ok:
                        broken["project_rules"] = _summary(extra)
                if broken:
                    raise storage.PartitionRejected(f"{mspec.project} {table} {year}", broken)

            info = build_mobility(
                con, mspec, secure, year, direction, authorised=authorised, validate=rejecting
            )
        passed = True  # a partition that broke a rule was refused above
        context.log.info(
            f"{table} {year}: {info['rows']} rows, neighbour {nyear} found={info['neighbour_found']}"
        )
        return dg.MaterializeResult(
            metadata={
                "rows": info["rows"],
                # text, not a number: the UI would plot it and write it "2,021"
                "neighbour_year": dg.MetadataValue.text(str(nyear)),
                "neighbour_found": info["neighbour_found"],
                "markers": dg.MetadataValue.json(info["markers"]),
                "path": dg.MetadataValue.path(str(info["path"].relative_to(lake.paths().root))),
                **export_preview(info["path"], lake.paths()),  # none of a secure table
            },
            check_results=[dg.AssetCheckResult(check_name=check_name, passed=passed, metadata=meta)],
        )

    return _asset
