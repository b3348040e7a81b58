"""The release gate: nothing reaches the release folder without a passed audit AND a sign-off.

Sequence: :func:`content_hash` of the protected tables -> a checker reads the audit report
and records a sign-off for exactly that hash (:func:`record_signoff`: who, when, what) ->
:func:`release` re-checks everything and only then writes
``<lake>/releases/<project>/<release_id>/`` (tables as CSV and Parquet with public columns
only, the redacted report.json and report.md), appends the release to the project's ledger
and to the lake's audit log (:mod:`cohort.privacy.audit_log`). Any failure raises
:class:`ReleaseRefused` with the reason (and is logged as a refusal).
"""

import contextlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path

import polars as pl

from cohort import clock
from cohort.privacy import audit_log
from cohort.privacy.disclosure.audit import AuditReport
from cohort.privacy.disclosure.explain import cell_reasons, release_summary, summary_markdown
from cohort.privacy.disclosure.ledger import ReleaseLedger, audience_of, content_hash, public_frame
from cohort.privacy.disclosure.tables import Dimension, TableSpec
from cohort.settings import lake as make_lake

RELEASE_MANIFEST = "release.json"


class ReleaseRefused(Exception):
    """The gate refused the release; the message says why."""


def _slug(release_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", release_id).strip("_") or "release"


def _signoff_dir(lake_root: Path, project: str) -> Path:
    return Path(lake_root) / "releases" / project / "_signoffs"


def record_signoff(lake_root: Path, project: str, release_id: str, who: str, content_hash: str) -> Path:
    """Write a sign-off file (who, when, hash of what was signed) and return its path.

    Files are never overwritten: each sign-off gets its own file under
    ``<lake>/releases/<project>/_signoffs/``.
    """
    if not who or not who.strip():
        raise ValueError("sign-off: 'who' must name the person who checked the report")
    if not re.fullmatch(r"[0-9a-f]{64}", content_hash or ""):
        raise ValueError("sign-off: content_hash must be a SHA-256 hex digest (see content_hash())")
    when = clock.now()
    folder = _signoff_dir(lake_root, project)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_slug(release_id)}--{when.strftime('%Y%m%dT%H%M%S%fZ')}--{uuid.uuid4().hex[:8]}.json"
    body = {
        "project": project,
        "release_id": release_id,
        "who": who.strip(),
        "when": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content_hash": content_hash,
    }
    with open(path, "x", encoding="utf-8") as fh:  # "x": never overwrite a sign-off
        json.dump(body, fh, indent=1, sort_keys=True)
    return path


def full_report_dir(lake_root: Path, project: str, release_id: str) -> Path:
    """Where the gate keeps the full audit report (true values of protected cells): under the
    lake's ``secure/`` folder, the only place such values may be (see data/README.md)."""
    return make_lake(lake_root).secure / project / "disclosure" / release_id


def _log(lake_root: Path, action: str, project: str, files, run_id, detail) -> None:
    """Append to the lake's hash-chained audit log (:mod:`cohort.privacy.audit_log`)."""
    audit_log.record(make_lake(lake_root), action, project, files=files, run_id=run_id, detail=detail)


def _refuse(
    lake_root: Path, project: str, release_id: str, run_id: str | None, reason: str
) -> ReleaseRefused:
    with contextlib.suppress(Exception):  # a broken log must not hide the refusal itself
        _log(lake_root, "refusal", project, [], run_id, {"release_id": release_id, "reason": reason[:500]})
    return ReleaseRefused(f"release {project}/{release_id} refused: {reason}")


def _check_signoff(signoff, project: str, release_id: str, digest: str) -> dict:
    paths = signoff if isinstance(signoff, list | tuple) else [signoff]
    if not paths or any(p is None for p in paths):
        raise ValueError(
            "no sign-off: a checker must read the report and record_signoff() for its content hash"
        )
    bodies = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise ValueError(f"sign-off file {p.name} does not exist")
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"sign-off file {p.name} is not JSON") from exc
        for k in ("project", "release_id", "who", "when", "content_hash"):
            if not body.get(k):
                raise ValueError(f"sign-off file {p.name} lacks '{k}'")
        if body["project"] != project or body["release_id"] != release_id:
            raise ValueError(
                f"sign-off {p.name} is for {body['project']}/{body['release_id']}, not {project}/{release_id}"
            )
        if body["content_hash"] != digest:
            raise ValueError(
                f"sign-off {p.name} by {body['who']} is for content {body['content_hash'][:12]}..., "
                f"but the tables to release hash to {digest[:12]}...; read the new report and sign again"
            )
        bodies.append(body)
    return {"who": sorted({b["who"] for b in bodies}), "when": max(b["when"] for b in bodies)}


def release(
    protected: dict[str, pl.DataFrame],
    report: AuditReport,
    project: str,
    release_id: str,
    lake_root: Path,
    signoff: Path | list[Path] | None,
    *,
    specs: dict[str, TableSpec] | None = None,
    run_id: str | None = None,
    formats: tuple[str, ...] = ("csv", "parquet"),
    audience: str | None = None,
    dimensions: dict[str, Dimension] | None = None,
) -> list[Path]:
    """Write ``<lake>/releases/<project>/<release_id>/`` only if the audit passed and a valid
    sign-off for exactly this content hash exists; otherwise raise :class:`ReleaseRefused`.

    Writes ``<table>.csv`` / ``<table>.parquet`` (public columns only: dimensions, shown
    values, shown percentages; never true counts nor statuses), beside each table
    ``<table>.reasons.csv`` (its protected cells and why, :func:`.explain.cell_reasons`), the
    human ``summary.md`` / ``summary.json`` (:func:`.explain.release_summary`; ``dimensions``
    give custom total labels), the redacted ``report.json`` / ``report.md``, and ``release.json`` (manifest with the content hash
    and the sign-off). The full report (true values) goes to the secure side
    ``<lake>/secure/<project>/disclosure/<release_id>/`` (:func:`full_report_dir`). A release id is written once:
    an existing manifest refuses the release. Appends to the ledger and the audit log.
    """
    lake_root = Path(lake_root)
    run_id = run_id or os.environ.get("DAGSTER_RUN_ID") or uuid.uuid4().hex
    specs = specs or _specs_from_report(report)
    digest = content_hash(protected, specs)
    if not report.passed:
        reasons = "; ".join(report.findings[:5]) or "audit failed"
        raise _refuse(
            lake_root, project, release_id, run_id, f"the small-cell risk analysis failed: {reasons}"
        )
    reported = report.summary.get("content_hash")
    if reported and reported != digest:
        raise _refuse(lake_root, project, release_id, run_id, "the audit report was made for other content")
    try:
        signed = _check_signoff(signoff, project, release_id, digest)
    except ValueError as exc:
        raise _refuse(lake_root, project, release_id, run_id, str(exc)) from None
    folder = lake_root / "releases" / project / release_id
    if (folder / RELEASE_MANIFEST).exists():
        raise _refuse(
            lake_root, project, release_id, run_id, "this release id was already released (never overwritten)"
        )
    tmp = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        names = []
        label = (report.summary.get("rules") or {}).get("label")
        for name, frame in sorted(protected.items()):
            pub = public_frame(frame, specs.get(name))
            if "csv" in formats:
                pub.write_csv(tmp / f"{name}.csv")
                names.append(f"{name}.csv")
            if "parquet" in formats:
                pub.write_parquet(tmp / f"{name}.parquet")
                names.append(f"{name}.parquet")
            cell_reasons(frame, specs[name], label).write_csv(tmp / f"{name}.reasons.csv")
            names.append(f"{name}.reasons.csv")
        summary = release_summary(protected, specs, label, dimensions)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
        (tmp / "summary.md").write_text(summary_markdown(summary, f"{project} / {release_id}"))
        names += ["summary.json", "summary.md"]
        (tmp / "report.json").write_text(
            json.dumps(report.to_json(public=True), indent=2, sort_keys=True, default=str)
        )
        (tmp / "report.md").write_text(report.to_markdown(public=True))
        names += ["report.json", "report.md"]
        manifest = {
            "project": project,
            "release_id": release_id,
            "content_hash": digest,
            "signed_off_by": signed["who"],
            "signed_off_at": signed["when"],
            "released_at": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "run_id": run_id,
            "files": sorted(names),
        }
        (tmp / RELEASE_MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        names.append(RELEASE_MANIFEST)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for n in names:  # rename file by file: an older layout kept restricted sub-releases inside the folder
            os.replace(tmp / n, folder / n)
            written.append(folder / n)
        # The manifest goes last, so a crash never leaves a "released" folder without its tables.
        written.sort(key=lambda p: p.name == RELEASE_MANIFEST)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.write(full_report_dir(lake_root, project, release_id), redacted=False)
    ReleaseLedger(lake_root, project).append(
        release_id, protected, specs, digest, run_id, audience or audience_of(release_id)
    )
    _log(
        lake_root,
        "release",
        project,
        written,
        run_id,
        {"release_id": release_id, "content_hash": digest, "signed_off_by": signed["who"]},
    )
    return written


def _specs_from_report(report: AuditReport) -> dict[str, TableSpec]:
    out = {}
    for name, s in (report.summary.get("specs") or {}).items():
        out[name] = TableSpec(
            name=name,
            dimensions=tuple(s["dimensions"]),
            statistic=s.get("statistic", "count"),
            percentage_of=tuple(s.get("percentage_of", ())),
            value=s.get("value"),
            population=s.get("population", ""),
            without_margins=tuple(s.get("without_margins", ())),
        )
    return out
