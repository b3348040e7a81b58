"""The ``report`` asset of every project: what a partition holds, as metadata and as an HTML page.

For one year it reads the project's written partitions back from the lake (never from another
asset's return value, so it works whoever built them and in whatever process) and records:

- row counts of every table of the year (secure area and exports),
- strata of the sample: persons and summed design weights per stratum,
- pictures: the population pyramid of the year, the T -> T+1 transition matrix of
  socio-economic positions as a heat map, and the sample composition (phase-1 panel or the
  stratified cohort sample),
- the quarantine of the warehouse (rejected source rows per table and rule) and the
  warehouse's calibration results when its manifest carries them.

Everything goes into the materialisation's metadata (pictures as PNG in Markdown) and into
``<lake>/reports/<project>/index.html`` (one section per year, see
:func:`cohort.ops.pictures.write_report`).

Which columns make which picture is decided by name, with the names the project specs use:
age (``age``, ``age_class`` or ``birth_quarter``/``birth_year``), ``sex``, a position column
(``sep_code`` / ``socio_economic_position``) with its ``*_next``, a stratum (``sample_stratum``
/ ``stratum``) and a weight (``design_weight`` / ``weight``).
"""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pyarrow.parquet as pq

from cohort.classifications.codes import NOMENCLATURE, NOMENCLATURE_MAIN_GROUP
from cohort.ops import pictures
from cohort.resources import LakeResource
from cohort.settings import Lake

POSITION_COLUMNS = ("sep_code", "socio_economic_position", "position")
STRATUM_COLUMNS = ("sample_stratum", "stratum")
WEIGHT_COLUMNS = ("design_weight", "weight")
AGE_COLUMNS = ("age", "age_class")
#: the labels on the transition heat maps' axes: the DWH nomenclature, its main groups, and the
#: destination of persons not observed in T+1
POSITION_LABELS = {
    **NOMENCLATURE_MAIN_GROUP,
    **NOMENCLATURE,
    pictures.NO_DESTINATION: "not observed in T+1",
}


# ---------------------------------------------------------------- reading the lake


def year_files(lake: Lake, project: str, year: int) -> dict[str, Path]:
    """Every Parquet file of ``year`` of the project, by table path (``secure/situation``,
    ``exports/phase1/mobility_next``), in a stable order."""
    out: dict[str, Path] = {}
    for area_name, area in (("secure", lake.secure), ("exports", lake.exports)):
        base = area / project
        if not base.exists():
            continue
        for f in sorted(base.rglob(f"year={year}/*.parquet")):
            if f.name.startswith("."):
                continue
            table = f.parent.parent.relative_to(base).as_posix()
            out[f"{area_name}/{table}"] = f
    return out


def row_count(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def _columns(path: Path) -> list[str]:
    return list(pq.read_schema(path).names)


def _first(cols: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in cols), None)


def _read(path: Path, columns: list[str]) -> pl.DataFrame:
    return pl.read_parquet(path, columns=columns)


def _with_age(frame: pl.DataFrame, year: int) -> tuple[pl.DataFrame, str | None]:
    """The frame with an age column (exact age in completed years or an age class)."""
    cols = frame.columns
    if "age" in cols or "age_class" in cols:
        return frame, _first(cols, AGE_COLUMNS)
    for c in ("birth_year", "birth_quarter"):
        if c in cols:
            birth = pl.col(c).cast(pl.Utf8).str.slice(0, 4).cast(pl.Int64, strict=False)
            return frame.with_columns((pl.lit(year) - birth).alias("age")), "age"
    return frame, None


def quarantine_counts(lake: Lake) -> dict[str, int]:
    """Rejected source rows per table and rule (``<table>: <reason>``)."""
    out: dict[str, int] = {}
    if not lake.quarantine.exists():
        return out
    for f in sorted(lake.quarantine.glob("*/*.parquet")):
        try:
            frame = pl.read_parquet(f, columns=["reason"])
        except Exception:  # a quarantine without reasons still counts its rows
            out[f.parent.name] = row_count(f)
            continue
        for reason, n in frame.group_by("reason").len().sort("reason").iter_rows():
            out[f"{f.parent.name}: {reason}"] = int(n)
    return out


def calibration_results(lake: Lake, year: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The warehouse calibration (``reports/warehouse_calibration.json``, written by the warehouse's
    ``warehouse_calibration`` asset): a summary, and the rows of ``year``."""
    path = lake.reports / "warehouse_calibration.json"
    if not path.exists():
        return {}, []
    try:
        records = json.loads(path.read_text())
    except ValueError:
        return {}, []
    if not isinstance(records, list):
        return {}, []
    records = [r for r in records if isinstance(r, dict)]
    outside = [r for r in records if r.get("ok") is False]
    summary = {
        "metrics": len(records),
        "within_tolerance": sum(1 for r in records if r.get("ok") is True),
        "outside_tolerance": [
            f"{r.get('metric')} {r.get('scope', '')} {r.get('year', '')}".strip() for r in outside
        ][:20],
    }
    rows = [
        {k: r.get(k) for k in ("metric", "scope", "target", "generated", "tolerance", "ok")}
        for r in records
        if year is not None and r.get("year") == year
    ]
    return summary, rows


def _last_quarter(path: Path, pos: str) -> pl.DataFrame:
    """Each person's position in the last quarter of the file's year."""
    frame = _read(path, ["person_id", "quarter", pos])
    return (
        frame.sort("person_id", "quarter")
        .group_by("person_id", maintain_order=True)
        .last()
        .select("person_id", pos)
    )


def _transitions(
    lake: Lake, project: str, year: int, files: dict[str, Path]
) -> tuple[str, str, pl.DataFrame] | None:
    """(table, position column, frame with ``<pos>`` and ``<pos>_next``) for the heat map.

    A mobility table carries ``<pos>_next`` itself; otherwise a quarterly table of positions
    (``person_id``, ``quarter``, position) is read for T and T+1 and each person's last quarter
    of each year is compared (persons missing in T+1 show as "(none)")."""
    for table, f in files.items():
        cols = _columns(f)
        pos = next((c for c in POSITION_COLUMNS if c in cols and f"{c}_next" in cols), None)
        if pos and table.startswith("secure/"):
            return table, pos, _read(f, [pos, f"{pos}_next"])
    following = year_files(lake, project, year + 1)
    for table, f in files.items():
        cols = _columns(f)
        pos = next((c for c in POSITION_COLUMNS if c in cols), None)
        if not pos or "person_id" not in cols or "quarter" not in cols or table not in following:
            continue
        now = _last_quarter(f, pos)
        nxt = _last_quarter(following[table], pos).rename({pos: f"{pos}_next"})
        return table, pos, now.join(nxt, on="person_id", how="left").select(pos, f"{pos}_next")
    return None


# ---------------------------------------------------------------- the report of one year


def same_position_share(matrix: pl.DataFrame) -> float | None:
    """Percentage of the persons of year T who hold the same position in T+1, or None when nobody
    is observed in T+1 (the last year of the warehouse: every destination is "(none)")."""
    if matrix.filter(pl.col("destination") != pictures.NO_DESTINATION).is_empty():
        return None
    stay = matrix.filter(pl.col("origin") == pl.col("destination"))["n"].sum()
    return round(100 * float(stay) / float(matrix["n"].sum()), 1)


def year_report(lake: Lake, project: str, year: int) -> tuple[dict[str, Any], pictures.Section]:
    """Metadata and report section of one year of a project."""
    files = year_files(lake, project, year)
    counts = {table: row_count(f) for table, f in files.items()}
    metadata: dict[str, Any] = {
        # text: a number would be plotted by the UI and written "2,021"
        "year": dg.MetadataValue.text(str(year)),
        "tables": len(counts),
        "rows": dg.MetadataValue.json(counts),
        "total_rows": sum(counts.values()),
    }
    pics: dict[str, bytes] = {}
    tables: dict[str, Any] = {"Rows per table": counts}

    # the population of the year: the largest yearly table with an age and a sex column
    person_like = [
        (counts[t], t)
        for t, f in files.items()
        if "sex" in _columns(f) and (_first(_columns(f), AGE_COLUMNS + ("birth_quarter", "birth_year")))
    ]
    if person_like:
        _, table = max(person_like)
        cols = _columns(files[table])
        wanted = [
            c for c in (*AGE_COLUMNS, "birth_quarter", "birth_year", "sex", "is_sample_person") if c in cols
        ]
        frame = _read(files[table], wanted)
        if "is_sample_person" in frame.columns:
            frame = frame.filter(pl.col("is_sample_person"))
            who = "sample persons"
        else:
            who = "persons"
        frame, age = _with_age(frame, year)
        if age:
            pics[f"Population pyramid {year} ({who}, {table})"] = pictures.population_pyramid(
                frame, age=age, sex="sex", title=f"{project} {year}: {who}"
            )

    # strata and weights of the sample
    for table, f in files.items():
        cols = _columns(f)
        stratum, weight = _first(cols, STRATUM_COLUMNS), _first(cols, WEIGHT_COLUMNS)
        if stratum and weight:
            frame = _read(f, [stratum, weight]).filter(pl.col(stratum).is_not_null())
            comp = pictures.composition(frame, [stratum], weight)
            tables[f"Strata ({table})"] = comp
            metadata["strata"] = dg.MetadataValue.json(
                {
                    g: {"persons": int(n), "weight_sum": round(float(w), 1)}
                    for g, n, w in comp.select("group", "n", "weight_sum").iter_rows()
                }
            )
            pics[f"Sample composition {year} ({table})"] = pictures.sample_composition(
                frame, stratum, weight, title=f"{project} {year}: sample by stratum"
            )
            break

    # the phase-1 panel of a project that has one
    phase1 = [t for t in files if "/phase1/" in f"/{t}/" and t.endswith("mobility_next")] or [
        t for t in files if "/phase1" in t
    ]
    if phase1:
        f = files[phase1[0]]
        cols = _columns(f)
        by = [c for c in ("age_class", "sex") if c in cols] or cols[:1]
        frame = _read(f, by)
        pics[f"Phase-1 sample composition {year}"] = pictures.sample_composition(
            frame, by, title=f"{project} {year}: phase-1 panel ({len(frame):,} persons)"
        )
        metadata["phase1_persons"] = len(frame)

    # transitions T -> T+1 of the socio-economic position
    found = _transitions(lake, project, year, files)
    if found is not None:
        table, pos, frame = found
        pics[f"Transitions {year} -> {year + 1} ({table})"] = pictures.transition_heatmap(
            frame,
            pos,
            f"{pos}_next",
            title=f"{project}: {pos} {year} -> {year + 1} (row %)",
            labels=POSITION_LABELS,
        )
        share = same_position_share(pictures.transition_matrix(frame, pos, f"{pos}_next"))
        if share is not None:  # no year T+1 yet: no share, rather than a share of 0 on the plot
            metadata["transitions_same_position_pct"] = share

    quarantine = quarantine_counts(lake)
    metadata["quarantined_source_rows"] = dg.MetadataValue.json(quarantine)
    if quarantine:
        tables["Quarantined source rows (table: rule)"] = quarantine
    calibration, calibration_rows = calibration_results(lake, year)
    if calibration:
        metadata["warehouse_calibration"] = dg.MetadataValue.json(calibration)
        tables["Warehouse calibration (all years)"] = {
            "metrics": calibration["metrics"],
            "within tolerance": calibration["within_tolerance"],
            "outside tolerance": ", ".join(calibration["outside_tolerance"]) or "none",
        }
    if calibration_rows:
        tables[f"Warehouse calibration {year}"] = pl.DataFrame(calibration_rows)

    for caption, png in pics.items():
        metadata[caption] = pictures.md_image(png, caption)
    section = pictures.Section(
        title=f"{year}",
        text=f"{len(counts)} tables, {sum(counts.values()):,} rows.",
        pictures=pics,
        tables=tables,
        key=str(year),
    )
    return metadata, section


def report_asset(
    project: str, partitions_def: dg.PartitionsDefinition, deps: list[dg.AssetKey], description: str = ""
) -> dg.AssetsDefinition:
    """The ``<project>/report`` asset: one yearly section of the project's HTML report."""

    @dg.asset(
        key=[project, "report"],
        partitions_def=partitions_def,
        deps=deps,
        group_name=f"{project}_reports",
        kinds={"html", "polars"},
        description=(
            f"Report of one year of {project}: row counts, strata and weights, pictures (population "
            f"pyramid, T->T+1 transitions, sample composition), quarantine and calibration. Written to "
            f"reports/{project}/index.html. {description}"
        ).strip(),
    )
    def _report(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        paths = lake.paths()
        year = int(context.partition_key)
        metadata, section = year_report(paths, project, year)
        index = pictures.write_report(
            project, [section], reports_dir=paths.reports, title=f"{project}: yearly report"
        )
        # relative to the lake root: the same page whatever machine or mount the lake is on
        metadata["report"] = dg.MetadataValue.path(index.relative_to(paths.root).as_posix())
        return dg.MaterializeResult(metadata=metadata)

    return _report
