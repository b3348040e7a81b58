"""Anonymous-table deliveries (seeds 000, 001, 003 and the phase-2 results of 004), declared in a spec.

A delivery is a set of tables. Each table of the spec names its population frame (a
micro-level table in the secure area, one row per unit, built by the project's SQL), its
dimensions and its statistic (``count``, or ``percentage`` of a margin), and optionally:

- ``reference_dates``: one table per date, the population frame filtered on its
  ``reference_date`` column (seed 000: four dates; seed 001: two);
- ``complete: false``: leave out the combinations nobody has (and margins that are zero). An outsider
  reads an absent combination as a zero anyway, so nothing changes for disclosure (the audit models
  exactly the published rows), but a many-dimensional cross stays small;
- ``keys`` + ``criteria``: the deliberation lists many criteria; crossing them all in one
  table gives a table with far more cells than units. ``layout: linked`` (the default when
  criteria are given) publishes one table per criterion, ``keys + [criterion]``: linked
  tables sharing the margins of the keys, which the disclosure engine protects and audits
  together. ``layout: cross`` publishes the full cross ``keys + criteria``.

The flow is that of :mod:`cohort.privacy.disclosure`: tabulate (long format, all margins),
protect (primary rules + secondary suppression over all tables of the release together),
audit (the outsider's LP attack, *kleine-celrisicoanalyse*), sign-off, release. This module
turns a spec into that flow and into three Dagster assets per release:

- ``<release>_tables``: the protected tables (true counts included, so they stay in the
  secure area), with the BLOCKING check ``small_cell_risk_analysis`` (the audit; its report,
  JSON and a readable page, redacted, is the check's metadata; the full report stays in the
  secure area; the content hash to sign is shown);
- ``release``: writes ``<lake>/releases/<project>/<release_id>/`` through the engine's gate,
  only for a passed audit and a sign-off recorded for exactly this content. A human signs off
  by launching the run with the run-config field ``signed_off_by`` (optionally
  ``content_hash``, the hash shown by the check, which must then match).
"""

import hashlib
import json
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from cohort import storage
from cohort.privacy import disclosure as dc
from cohort.privacy.preview import release_preview
from cohort.projects.spec import ProjectSpec
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource

CHECK_NAME = "small_cell_risk_analysis"
TABLES_DIR = "release_tables"
#: rules of a restricted release (seed 003 §7: the head of a small entity gets exact counts).
RESTRICTED_RULES = dc.DisclosureRules(threshold=1, label=None, p_percent=None)


# ----------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class PlannedTable:
    """One released table: its engine spec, the population frame it counts and its reference date."""

    spec: dc.TableSpec
    population: str
    reference_date: str | None = None
    complete: bool = True


def _date_tag(d: str) -> str:
    return d.replace("-", "")


def plan_tables(
    spec: ProjectSpec, names: list[str] | None = None, period: str | None = None
) -> list[PlannedTable]:
    """Expand the spec's tables (reference dates, linked criteria) into the released tables.

    ``period``: the partition of a yearly release. It becomes part of each table's population, so
    that this year's tables are not taken for the same cells as last year's release (tables are
    linked, also across earlier releases, only when their populations are equal)."""
    out: list[PlannedTable] = []
    for t in spec.tables.values():
        if t.area != "releases" or (names is not None and t.name not in names):
            continue
        x = t.extra
        population = str(x["population"])
        keys = list(x.get("keys", t.columns if not x.get("criteria") else []))
        criteria = list(x.get("criteria", []))
        layout = x.get("layout", "linked" if criteria else "cross")
        statistic = x.get("statistic", "count")
        percentage_of = tuple(x.get("percentage_of", ()))
        without_margins = tuple(x.get("without_margins", ()))
        if layout == "linked" and criteria:
            groups = [(f"{t.name}_by_{c}", [*keys, c]) for c in criteria]
            if x.get("include_keys_table"):
                groups.insert(0, (t.name, keys))
        else:
            groups = [(t.name, [*keys, *criteria])]
        dates = [str(d) for d in x.get("reference_dates", [])] or [None]
        for d in dates:
            for name, dims in groups:
                full = name if d is None else f"{name}_{_date_tag(d)}"
                pop = (
                    f"{spec.id}/{population}"
                    + (f" in {period}" if period else "")
                    + (f" at {d}" if d else "")
                )
                # a percentage of a margin only makes sense when the margin's dimensions are in the table
                pct = tuple(p for p in percentage_of if p in dims)
                stat = statistic if pct or statistic == "count" else "count"
                out.append(
                    PlannedTable(
                        spec=dc.TableSpec(
                            name=full,
                            dimensions=tuple(dims),
                            statistic=stat,
                            percentage_of=pct if stat == "percentage" else (),
                            population=pop,
                            without_margins=tuple(w for w in without_margins if w in dims),
                        ),
                        population=population,
                        reference_date=d,
                        complete=bool(x.get("complete", True)),
                    )
                )
        for c in [*keys, *criteria, *without_margins]:
            if c not in t.columns:
                raise ValueError(
                    f"project {spec.id}, table {t.name}: dimension {c} is not among its authorised columns"
                )
    return out


def spec_dimensions(
    spec: ProjectSpec, runtime: dict[str, dc.Dimension] | None = None
) -> dict[str, dc.Dimension]:
    """The engine dimensions declared in the spec's ``dimensions:`` section (hierarchies, codes,
    total labels), overridden by ``runtime`` ones (hierarchies only known from the data)."""
    dims: dict[str, dc.Dimension] = {}
    for name, d in (spec.extra.get("dimensions") or {}).items():
        d = d or {}
        dims[name] = dc.Dimension(
            name=name,
            hierarchy=dict(d["hierarchy"]) if d.get("hierarchy") else None,
            total_label=str(d.get("total_label", "Total")),
            codes=tuple(str(c) for c in d["codes"]) if d.get("codes") else None,
        )
    dims.update(runtime or {})
    return dims


def spec_rules(spec: ProjectSpec) -> dc.DisclosureRules:
    return dc.DisclosureRules.from_mapping(spec.disclosure.get("rules", spec.disclosure))


# ----------------------------------------------------------------------------- tabulate + protect
@dataclass
class ReleaseTables:
    """Everything one release needs: tabulated (or protected) tables, their specs, the dimensions,
    the rules and the forced primary cells; plus restricted sub-releases (seed 003)."""

    tables: dict[str, pl.DataFrame]
    specs: dict[str, dc.TableSpec]
    dimensions: dict[str, dc.Dimension]
    rules: dc.DisclosureRules
    forced: dict[str, set[str]] = field(default_factory=dict)
    restricted: dict[str, "ReleaseTables"] = field(default_factory=dict)


def tabulate_plan(
    frames: dict[str, pl.DataFrame], plan: list[PlannedTable], dimensions: dict[str, dc.Dimension]
) -> tuple[dict[str, pl.DataFrame], dict[str, dc.TableSpec]]:
    """Tabulate every planned table from its population frame (filtered on its reference date)."""
    tables, specs = {}, {}
    for p in plan:
        micro = frames[p.population]
        if p.reference_date is not None:
            micro = micro.filter(pl.col("reference_date").cast(pl.String) == p.reference_date)
        tables[p.spec.name] = dc.tabulate(micro, p.spec, dimensions, complete=p.complete)
        specs[p.spec.name] = p.spec
    return tables, specs


def protect_release(rt: ReleaseTables) -> ReleaseTables:
    """Protect a release and its restricted sub-releases (each with its own rules)."""
    protected = dc.protect(rt.tables, rt.specs, rt.rules, rt.dimensions, forced=rt.forced or None)
    return ReleaseTables(
        protected,
        rt.specs,
        rt.dimensions,
        rt.rules,
        rt.forced,
        {k: protect_release(v) for k, v in rt.restricted.items()},
    )


def content_hash(protected: dict[str, pl.DataFrame], specs: dict[str, dc.TableSpec]) -> str:
    """The engine's SHA-256 of what would be published (specs and shown cells, never true counts)."""
    return dc.content_hash(protected, specs)


def release_hash(rt: ReleaseTables) -> str:
    """One hash over the public release and every restricted sub-release."""
    parts = [content_hash(rt.tables, rt.specs)] + [
        f"{k}:{release_hash(v)}" for k, v in sorted(rt.restricted.items())
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest() if rt.restricted else parts[0]


# ----------------------------------------------------------------------------- secure storage
def slug(code: str) -> str:
    """A folder name for an entity code (restricted releases)."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_")
    return s or "entity"


def restricted_release_id(release_id: str, code: str) -> str:
    """The id, and so the folder under ``releases/<project>/``, of entity ``code``'s restricted
    sub-release of ``release_id``: ``restricted/<entity>/<release_id>``. Apart from the public
    release's folder, never inside it: a year folder copied whole for the public recipient must not
    carry an entity's exact counts, and each entity's head gets one folder with every year."""
    return f"restricted/{slug(code)}/{release_id}"


def tables_dir(secure_project: Path, release_id: str) -> Path:
    return secure_project / TABLES_DIR / release_id


def save_release(rt: ReleaseTables, folder: Path) -> list[Path]:
    """Write protected tables (with true counts: secure area only) and their specs."""
    written = []
    for name, frame in sorted(rt.tables.items()):
        written.append(storage.write_frame(frame, folder / f"{name}.parquet"))
    meta = {
        "specs": {
            n: {
                "dimensions": list(s.dimensions),
                "statistic": s.statistic,
                "percentage_of": list(s.percentage_of),
                "population": s.population,
                "without_margins": list(s.without_margins),
            }
            for n, s in rt.specs.items()
        },
        "dimensions": {
            n: {
                "hierarchy": d.hierarchy,
                "total_label": d.total_label,
                "codes": list(d.codes) if d.codes else None,
            }
            for n, d in rt.dimensions.items()
        },
        "rules": {k: v for k, v in rt.rules.__dict__.items()},
        "forced": {k: sorted(v) for k, v in rt.forced.items()},
        "restricted": {k: slug(k) for k in sorted(rt.restricted)},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_release.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    for code, sub in rt.restricted.items():
        written += save_release(sub, folder / "restricted" / slug(code))
    return written


def load_release(folder: Path) -> ReleaseTables:
    """Read back what :func:`save_release` wrote."""
    meta = json.loads((folder / "_release.json").read_text())
    specs = {
        n: dc.TableSpec(
            name=n,
            dimensions=tuple(s["dimensions"]),
            statistic=s["statistic"],
            percentage_of=tuple(s["percentage_of"]),
            population=s["population"],
            without_margins=tuple(s.get("without_margins", ())),
        )
        for n, s in meta["specs"].items()
    }
    dims = {
        n: dc.Dimension(
            name=n,
            hierarchy=d["hierarchy"],
            total_label=d["total_label"],
            codes=tuple(d["codes"]) if d["codes"] else None,
        )
        for n, d in meta["dimensions"].items()
    }
    tables = {n: pl.read_parquet(folder / f"{n}.parquet") for n in specs}
    restricted = {code: load_release(folder / "restricted" / s) for code, s in meta["restricted"].items()}
    return ReleaseTables(
        tables,
        specs,
        dims,
        dc.DisclosureRules(**meta["rules"]),
        {k: set(v) for k, v in meta["forced"].items()},
        restricted,
    )


# ----------------------------------------------------------------------------- audit
@dataclass
class Verdict:
    """The audit of a release and of its restricted sub-releases."""

    report: Any  # dc.AuditReport
    restricted: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.report.passed) and all(r.passed for r in self.restricted.values())


def save_verdict(v: Verdict, folder: Path) -> Path:
    """Keep the audit of the stored tables next to them (secure area) for the release step."""
    path = folder / "_verdict.pickle"
    tmp = folder / f".{path.name}.tmp"
    tmp.write_bytes(pickle.dumps(v))
    tmp.replace(path)
    return path


def load_verdict(folder: Path) -> Verdict | None:
    path = folder / "_verdict.pickle"
    return pickle.loads(path.read_bytes()) if path.is_file() else None


def audit_release(rt: ReleaseTables, earlier: list[dict[str, pl.DataFrame]] | None = None) -> Verdict:
    report = dc.audit(rt.tables, rt.specs, rt.rules, earlier=earlier, dimensions=rt.dimensions)
    return Verdict(
        report,
        {k: dc.audit(v.tables, v.specs, v.rules, dimensions=v.dimensions) for k, v in rt.restricted.items()},
    )


def _report_json(v: Verdict, redacted: bool) -> dict:
    out = v.report.to_json(redacted=redacted)
    if v.restricted:
        # The redacted report leaves the secure area: a restricted release's findings are counted,
        # not listed, as the public one's are (AuditReport.to_json).
        out = {
            "public": out,
            "restricted": {
                k: {"passed": bool(r.passed)}
                | ({"findings_count": len(r.findings)} if redacted else {"findings": list(r.findings)})
                for k, r in sorted(v.restricted.items())
            },
        }
    return out


def _report_markdown(v: Verdict, redacted: bool) -> str:
    md = v.report.to_markdown(redacted=redacted)
    if v.restricted:
        md += "\n\n## Restricted releases (entities under the size limit)\n\n| entity release | passed |\n|---|---|\n"
        md += "\n".join(f"| {slug(k)} | {r.passed} |" for k, r in sorted(v.restricted.items()))
    return md


def write_reports(
    v: Verdict, lake: LakeResource, project: str, release_id: str, digest: str
) -> dict[str, Path]:
    """Full report (with true values) in the secure area; the redacted one under ``reports/``."""
    paths = lake.paths()
    full = tables_dir(paths.secure / project, release_id) / "_scra_full.json"
    red_dir = paths.reports / project / release_id
    red_dir.mkdir(parents=True, exist_ok=True)
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(json.dumps({"content_hash": digest, **_report_json(v, False)}, indent=1, default=str))
    (red_dir / f"{CHECK_NAME}.json").write_text(
        json.dumps(
            {"content_hash": digest, "passed": v.passed, **_report_json(v, True)}, indent=1, default=str
        )
    )
    (red_dir / f"{CHECK_NAME}.md").write_text(
        f"# Small-cell risk analysis: {project} / {release_id}\n\n- passed: **{v.passed}**\n"
        f"- content hash to sign: `{digest}`\n\n" + _report_markdown(v, True)
    )
    return {"full": full, "json": red_dir / f"{CHECK_NAME}.json", "markdown": red_dir / f"{CHECK_NAME}.md"}


# ----------------------------------------------------------------------------- release
class ReleaseConfig(dg.Config):
    """Sign-off of a release (*goedkeuring*): who checked the small-cell risk analysis report."""

    signed_off_by: str = ""
    content_hash: str = ""


def signoff_help(project: str) -> str:
    op = f"{project}__release"
    return (
        f"no sign-off: read the small_cell_risk_analysis report of {project} (check metadata, or "
        f"<lake>/reports/{project}/<release>/), then launch the release with run config "
        f"ops: {{{op}: {{config: {{signed_off_by: '<your name>', content_hash: '<hash shown by the check>'}}}}}}"
    )


def already_released(lake_root: Path, project: str, release_id: str, rt: ReleaseTables) -> bool:
    """True when exactly this content was released before under this id (a re-run is then a no-op);
    the gate itself refuses to overwrite a release id with other content."""
    manifest = Path(lake_root) / "releases" / project / release_id / "release.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("content_hash") == content_hash(rt.tables, rt.specs)


def publish(
    rt: ReleaseTables,
    lake_root: Path,
    project: str,
    release_id: str,
    who: str,
    expected_hash: str = "",
    earlier: list[dict[str, pl.DataFrame]] | None = None,
    run_id: str | None = None,
    verdict: Verdict | None = None,
) -> list[Path]:
    """Record the sign-off for the content hash about to be written and release through the engine's
    gate; restricted sub-releases go to ``restricted/<entity>/<release_id>/`` (:func:`restricted_release_id`) through the same gate with
    their own rules. ``verdict``: the stored audit of exactly these tables (the gate refuses a report
    made for other content); without it the release is audited here."""
    if not who.strip():
        raise dc.ReleaseRefused(signoff_help(project))
    digest = release_hash(rt)
    if expected_hash and expected_hash != digest:
        raise dc.ReleaseRefused(
            f"{project}/{release_id}: the sign-off is for content {expected_hash[:12]}..., "
            f"but the tables to release hash to {digest[:12]}...; check the new report and sign again"
        )
    if verdict is None or set(verdict.restricted) != set(rt.restricted):
        verdict = audit_release(rt, earlier)
    written: list[Path] = []
    for code, sub in sorted(rt.restricted.items()):
        sub_id = restricted_release_id(release_id, code)
        sub_hash = content_hash(sub.tables, sub.specs)
        signoff = dc.record_signoff(lake_root, project, sub_id, who, sub_hash)
        written += dc.release(
            sub.tables,
            verdict.restricted[code],
            project,
            sub_id,
            lake_root,
            signoff,
            specs=sub.specs,
            run_id=run_id,
            dimensions=sub.dimensions,
        )
    signoff = dc.record_signoff(lake_root, project, release_id, who, content_hash(rt.tables, rt.specs))
    written += dc.release(
        rt.tables,
        verdict.report,
        project,
        release_id,
        lake_root,
        signoff,
        specs=rt.specs,
        run_id=run_id,
        dimensions=rt.dimensions,
    )
    return written


# ----------------------------------------------------------------------------- Dagster assets
def release_assets(
    spec: ProjectSpec,
    build: Callable[[Step, str | None], ReleaseTables],
    *,
    deps: list[Any],
    release_id: Callable[[str | None], str],
    partitions_def: dg.PartitionsDefinition | None = None,
    release_name: str = "release",
    group_name: str | None = None,
) -> list[dg.AssetsDefinition]:
    """The ``<release>_tables`` asset (with its blocking small-cell risk analysis) and the
    ``release`` asset of one anonymous delivery, in the group ``group_name`` (default
    ``<project>_releases``). ``build(step, partition_key)`` reads the population frames and returns
    the tabulated (not yet protected) release.

    ``build(step, partition_key)`` runs in the step of the ``<release>_tables`` asset
    (:func:`cohort.projects.step.open_step`): after the retention date neither asset runs, and the
    refusal is in the audit log with the run id."""
    project = spec.id
    tables_name = f"{release_name}_tables"

    @dg.asset(
        name=tables_name,
        key_prefix=[project],
        group_name=group_name or f"{project}_releases",
        deps=deps,
        partitions_def=partitions_def,
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=dg.AssetKey([project, tables_name]),
                blocking=True,
                description="Small-cell risk analysis (kleine-celrisicoanalyse): the "
                "outsider's LP attack on everything the release would publish. Blocking.",
            )
        ],
        description=f"Protected tables of {spec.title}: one file per released table, one row per cell including "
        "every margin, with the true count (so it stays in the secure area) and what would be shown.",
    )
    def _tables(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
        key = context.partition_key if partitions_def is not None else None
        rid = release_id(key)
        with open_step(lake, spec, context.run.run_id, what=f"build {tables_name}") as step:
            rt = protect_release(build(step, key))
        folder = tables_dir(lake.paths().secure / project, rid)
        save_release(rt, folder)
        digest = release_hash(rt)
        verdict = audit_release(rt, dc.earlier_releases(lake.paths().root, project, exclude=rid))
        save_verdict(verdict, folder)
        paths = write_reports(verdict, lake, project, rid, digest)
        n_cells = sum(t.height for t in rt.tables.values())
        hidden = sum(t.filter(pl.col("status") != "published").height for t in rt.tables.values())
        return dg.MaterializeResult(
            metadata={
                "release_id": rid,
                "tables": len(rt.tables),
                "cells": n_cells,
                "protected_cells": hidden,
                "restricted_releases": len(rt.restricted),
                "content_hash": digest,
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=CHECK_NAME,
                    passed=verdict.passed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "content_hash": digest,
                        "report": dg.MetadataValue.md(paths["markdown"].read_text()),
                        "report_json": dg.MetadataValue.json(json.loads(paths["json"].read_text())),
                        "report_path": str(paths["json"].relative_to(lake.paths().root)),
                    },
                )
            ],
        )

    @dg.asset(
        name=release_name,
        key_prefix=[project],
        group_name=f"{project}_releases",
        deps=[dg.AssetKey([project, tables_name])],
        partitions_def=partitions_def,
        description=f"The anonymous release of {spec.title} under <lake>/releases/{project}/<release>/: written "
        "by the gate only when the small-cell risk analysis passed and a sign-off (run config signed_off_by) is "
        "recorded for exactly this content.",
    )
    def _release(
        context: dg.AssetExecutionContext, config: ReleaseConfig, lake: LakeResource
    ) -> dg.MaterializeResult:
        # the whole step inside: after the retention date nothing is read or written
        with open_step(lake, spec, context.run.run_id, what="release"):
            key = context.partition_key if partitions_def is not None else None
            rid = release_id(key)
            if not config.signed_off_by.strip():
                raise dg.Failure(description=signoff_help(project))
            folder = tables_dir(lake.paths().secure / project, rid)
            rt = load_release(folder)
            root = lake.paths().root
            if already_released(root, project, rid, rt):
                context.log.info(f"{project}/{rid} was already released with this content: nothing to do")
                written: list[Path] = []
            else:
                written = publish(
                    rt,
                    root,
                    project,
                    rid,
                    config.signed_off_by,
                    config.content_hash,
                    dc.earlier_releases(root, project, exclude=rid),
                    run_id=context.run.run_id,
                    verdict=load_verdict(folder),
                )
        return dg.MaterializeResult(
            metadata={
                "release_id": rid,
                "files": len(written),
                "signed_off_by": config.signed_off_by,
                "content_hash": release_hash(rt),
                "folder": str((root / "releases" / project / rid).relative_to(root)),
                **release_preview(root / "releases" / project / rid, lake.paths()),
            }
        )

    return [_tables, _release]


# ----------------------------------------------------------------------------- shared classifications
#: Socio-economic position in classes (the DWH nomenclature grouped; seeds 000, 001 and 004).
SEP_CLASSES = (
    "employee",
    "self-employed",
    "employee and self-employed",
    "job seeker with benefit",
    "job seeker without benefit",
    "social assistance",
    "other inactive",
    "unknown",
)


def sep_class_sql(code: str) -> str:
    """SQL for the class of a nomenclature code (null: not known in the warehouse -> ``unknown``)."""
    return (
        f"case when {code} in ('111', '112') then 'employee' "
        f"when {code} in ('121', '122', '123', '131', '132', '133') then 'self-employed' "
        f"when {code} in ('141', '142', '143') then 'employee and self-employed' "
        f"when {code} in ('211', '212', '213') then 'job seeker with benefit' "
        f"when {code} = '214' then 'job seeker without benefit' "
        f"when {code} in ('331', '332') then 'social assistance' "
        f"when {code} like '3%' then 'other inactive' "
        "else 'unknown' end"
    )


def nace_section_sql(nace: str) -> str:
    """SQL for the NACE-BEL section letter of a NACE-BEL code (its first two digits)."""
    from cohort.classifications import codes

    pairs = []
    for division in range(1, 100):
        try:
            pairs.append((f"{division:02d}", codes.nace_section(f"{division:02d}")))
        except ValueError:
            continue
    whens = " ".join(f"when '{d}' then '{s}'" for d, s in pairs)
    return f"case substr({nace}, 1, 2) {whens} else 'unknown' end"
