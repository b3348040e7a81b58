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
import os
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pyarrow.parquet as pq

from cohort.classifications.codes import NOMENCLATURE, NOMENCLATURE_MAIN_GROUP
from cohort.ops import pictures
from cohort.ops.catalogue import spec_or_none
from cohort.privacy.disclosure.gate import RELEASE_MANIFEST
from cohort.resources import LakeResource
from cohort.settings import Lake

NOT_REPORTED = {"release_tables", "disclosure"}  # secure folders with true counts of anonymous tables
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


def unpartitioned_files(lake: Lake, project: str) -> dict[str, Path]:
    """The Parquet files of a project without yearly partitions (its tables cover its years at
    once), by table path, as :func:`year_files`; unfinished writes, the pseudonym mapping (``_``)
    and the protected tables of a release (true counts, read only by the release step) left out."""
    out: dict[str, Path] = {}
    for area_name, area in (("secure", lake.secure), ("exports", lake.exports)):
        base = area / project
        if not base.exists():
            continue
        for f in sorted(base.rglob("*.parquet")):
            parts = f.relative_to(base).parts
            if any(p.startswith((".", "_", "year=")) or p in NOT_REPORTED for p in parts):
                continue
            table = f.parent.relative_to(base).as_posix()
            table = (
                f"{table}/{f.stem}" if table == "." or len(list(f.parent.glob("*.parquet"))) > 1 else table
            )
            out[f"{area_name}/{table}"] = f
    return out


# ---------------------------------------------------------------- releases


def release_folders(lake: Lake, project: str, year: int | None) -> list[Path]:
    """The releases of ``year`` of the project (its release id is the year), or every release of a
    project without yearly partitions: folders under ``releases/<project>/`` with the gate's manifest."""
    base = lake.releases / project
    if year is not None:
        candidates = [base / str(year)]
    else:
        candidates = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    return [c for c in candidates if not c.name.startswith((".", "_")) and (c / RELEASE_MANIFEST).is_file()]


def _released_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return row_count(path)
    return int(pl.scan_csv(path).select(pl.len()).collect().item())


def release_part(
    lake: Lake, project: str, folder: Path
) -> tuple[dict[str, int], dict[str, Any], dict[str, str]]:
    """What the report says about one release, read from the released files only (public: the
    shown values; the protected tables with true counts stay in the secure area and are not read):
    rows per released table, the protected-cell summary per table (its ``summary.json``), and links,
    relative to the report page, to its summary, its cells' reasons, the redacted small-cell risk
    analysis and the folder itself."""
    rid = folder.relative_to(lake.releases / project).as_posix()
    page = lake.reports / project
    manifest = json.loads((folder / RELEASE_MANIFEST).read_text())
    files = [str(f) for f in manifest.get("files", [])]
    tables = sorted(
        {f.rsplit(".", 1)[0] for f in files if f.endswith((".parquet", ".csv")) and ".reasons." not in f}
    )
    rows: dict[str, int] = {}
    for table in tables:
        path = folder / f"{table}.parquet"
        path = path if path.is_file() else folder / f"{table}.csv"
        if path.is_file():
            rows[f"releases/{rid}/{table}"] = _released_rows(path)
    part: dict[str, Any] = {}
    summary_path = folder / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        part[f"Release {rid}: cells published and protected"] = pl.DataFrame(
            [
                {"table": name, **{k: t.get(k) for k in ("cells", "published", "labelled", "hidden")}}
                for name, t in sorted(summary.get("tables", {}).items())
            ]
        )
    # restricted/<entity>/<release id>/ beside the public releases (anonymous.restricted_release_id)
    restricted = sorted(
        p.parent for p in (lake.releases / project / "restricted").glob(f"*/{rid}/{RELEASE_MANIFEST}")
    )
    part[f"Release {rid}"] = {
        "signed off by": ", ".join(map(str, manifest.get("signed_off_by") or []))
        if isinstance(manifest.get("signed_off_by"), list)
        else str(manifest.get("signed_off_by") or "-"),
        "released at": str(manifest.get("released_at", "-")),
        "content hash": str(manifest.get("content_hash", ""))[:12],
        "restricted sub-releases (one per small entity)": len(restricted),
    }
    links: dict[str, str] = {}

    def link(caption: str, target: Path) -> None:
        if target.exists():
            links[caption] = os.path.relpath(target, page).replace(os.sep, "/")

    link(f"release {rid}: folder", folder)
    link(f"release {rid}: what is published and what is protected (summary.md)", folder / "summary.md")
    link(f"release {rid}: small-cell risk analysis, as released (report.md)", folder / "report.md")
    link(
        f"release {rid}: small-cell risk analysis before the sign-off (redacted)",
        page / rid / "small_cell_risk_analysis.md",
    )
    for table in tables:
        link(f"release {rid}: {table}: protected cells and why", folder / f"{table}.reasons.csv")
    return rows, part, links


# ---------------------------------------------------------------- what the spec says


def spec_intro(project: str) -> list[str]:
    """Paragraphs on top of the report: the deliberation and population of the spec, and the rules
    a reader needs to read the tables (the origin classification and the EU membership date of the
    origin tables)."""
    spec = spec_or_none(project)
    if spec is None:
        return []
    out = [f"Deliberation {spec.title} ({spec.kind}, for {spec.recipient})."]
    if spec.population:
        out.append(f"Population: {' '.join(str(spec.population).split())}")
    origin = spec.extra.get("origin_rule")
    if origin:
        out.append(f"Origin classification: {' '.join(str(origin).split())}")
        classes = [
            f"{v.name}: {', '.join(v.classes)}"
            for v in spec.variables.values()
            if v.name.startswith("origin")
        ]
        if classes:
            out.append("Origin classes: " + "; ".join(classes) + ".")
        membership = spec.extra.get("eu_membership")
        if membership:
            out.append(
                f"EU membership: the member states at the {membership} date "
                f"({'the day the tables are generated' if membership == 'generation' else '31 December of the year'})."
            )
    return out


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


def year_report(lake: Lake, project: str, year: int | None) -> tuple[dict[str, Any], pictures.Section]:
    """Metadata and report section of one year of a project (``None``: a project without yearly
    partitions, whose tables cover all its years at once)."""
    files = year_files(lake, project, year) if year is not None else unpartitioned_files(lake, project)
    counts = {table: row_count(f) for table, f in files.items()}
    tables: dict[str, Any] = {}
    links: dict[str, str] = {}
    for folder in release_folders(lake, project, year):
        released, part, release_links = release_part(lake, project, folder)
        counts.update(released)
        tables.update(part)
        links.update(release_links)
    metadata: dict[str, Any] = {
        # text: a number would be plotted by the UI and written "2,021"
        "year": dg.MetadataValue.text(str(year) if year is not None else "all years"),
        "tables": len(counts),
        "rows": dg.MetadataValue.json(counts),
        "total_rows": sum(counts.values()),
    }
    if links:
        metadata["release_files"] = dg.MetadataValue.json(links)
    pics: dict[str, bytes] = {}
    tables = {"Rows per table": counts, **tables}
    if year is None:  # the pictures below are of one year
        files = {}

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
    found = _transitions(lake, project, year, files) if year is not None else None
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
        title=f"{year}" if year is not None else "All years",
        text=f"{len(counts)} tables, {sum(counts.values()):,} rows.",
        pictures=pics,
        tables=tables,
        key=str(year) if year is not None else "all_years",
        links=links,
    )
    return metadata, section


def report_asset(
    project: str,
    partitions_def: dg.PartitionsDefinition | None,
    deps: list[dg.AssetKey],
    description: str = "",
) -> dg.AssetsDefinition:
    """The ``<project>/report`` asset: one yearly section of the project's HTML report (the one
    section of a project without yearly partitions: ``partitions_def=None``)."""

    @dg.asset(
        key=[project, "report"],
        partitions_def=partitions_def,
        deps=deps,
        group_name=f"{project}_reports",
        kinds={"html", "polars"},
        description=(
            f"Report of {'one year' if partitions_def is not None else 'all years'} of {project}: row counts, strata and weights, pictures (population "
            f"pyramid, T->T+1 transitions, sample composition), releases with their protected cells, quarantine "
            f"and calibration. Written to "
            f"reports/{project}/index.html. {description}"
        ).strip(),
    )
    def _report(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        paths = lake.paths()
        year = int(context.partition_key) if context.has_partition_key else None
        metadata, section = year_report(paths, project, year)
        index = pictures.write_report(
            project,
            [section],
            reports_dir=paths.reports,
            title=f"{project}: {'yearly ' if year is not None else ''}report",
            intro=spec_intro(project),
        )
        # relative to the lake root: the same page whatever machine or mount the lake is on
        metadata["report"] = dg.MetadataValue.path(index.relative_to(paths.root).as_posix())
        return dg.MaterializeResult(metadata=metadata)

    return _report
