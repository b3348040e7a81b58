"""Output review of a submitted analysis: what the secure build left, the reviewers' decisions, and the
release of an approved output.

After the ``analysis_<name>_tables`` asset ran for a year (tables protected and audited, models checked
and fitted, everything in the secure area), a reviewer:

1. reads the review (:func:`review_markdown` / :func:`review_html`, written under
   ``<lake>/reports/<project>/<name>/<year>/``): each table as it would be published, with why each
   hidden cell is hidden (a rule, or the protection of another cell; never its value); the small-cell
   risk analysis's verdict; what the release adds to the ledger; each model's checks and, only for a
   model that passed them, its coefficients;
2. approves or rejects it (:func:`record_decision`), for exactly the content hash shown: a decision
   is a file under ``<lake>/analyses/<name>/reviews/``, never overwritten;
3. once the project's number of distinct reviewers approved and none rejected that content,
   :func:`release_approved` releases it: the count and sum tables through the engine's gate
   (:func:`cohort.projects.anonymous.publish`: sign-off by the approvers, audit, ledger, audit log),
   then, in the same folder, each mean table (the means of the cells the gate published) and each
   model that passed its checks. A rejected or unapproved output writes nothing under ``releases/``.
"""

import hashlib
import html
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cohort import clock, settings, storage
from cohort.analysis.models import ModelResult
from cohort.analysis.registry import Submission, SubmissionRefused
from cohort.analysis.sources import analysable_projects
from cohort.privacy import audit_log, scan
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous

MODELS_DIR = "analysis_models"
MODELS_FILE = "models.json"
REVIEWS = "reviews"
DECISIONS = ("approved", "rejected")
WHY_HIDDEN = {"published": "", "primary": "hidden by a rule", "secondary": "hidden to protect another cell"}


class ReviewError(ValueError):
    """A review step that cannot be done (not built yet, not approved, rejected, ...); says why."""


#: the decisions' file prefix of an output that is not yearly (seed 001: one run on the whole frames)
NOT_YEARLY = "all"


def release_id(name: str, year: int | None) -> str:
    """``<analysis>/<year>``; ``<analysis>`` for a project whose tables are not yearly."""
    return f"{name}/{year}" if year is not None else name


def period_key(year: int | None) -> str:
    return str(year) if year is not None else NOT_YEARLY


def year_option(year: int | None) -> str:
    """The ``--year`` of the commands for this output (none when the project is not yearly)."""
    return f" --year {year}" if year is not None else ""


def output_year(submitted: Submission, year: int | None) -> int | None:
    """The year of a yearly project's output (needed, one of its years); None for a project whose
    tables are not yearly (a year refused: there is no partition to name). :class:`ReviewError` with
    the rule otherwise; the command line's ``--year`` and the UI's review jobs both check it here."""
    source = analysable_projects()[submitted.project]
    if not source.yearly:
        if year is not None:
            raise ReviewError(
                f"analysis {submitted.name}: {submitted.project}'s tables are not yearly (they cover "
                f"{source.covers()}): leave out the year (--year)"
            )
        return None
    if year is None:
        raise ReviewError(
            f"analysis {submitted.name}: a year (--year) is needed: {submitted.project} is yearly"
        )
    if not source.first_year <= year <= source.last_year:
        raise ReviewError(
            f"analysis {submitted.name}: {year} is not a year of {source.rules_from} "
            f"({source.first_year}-{source.last_year})"
        )
    return year


def models_dir(lake: settings.Lake, project: str, rid: str) -> Path:
    """Where the secure build keeps the models' checks and coefficients (secure area)."""
    return lake.secure / project / MODELS_DIR / rid


def save_models(results: list[ModelResult], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODELS_FILE
    tmp = folder / f".{MODELS_FILE}.tmp"
    tmp.write_text(json.dumps([r.to_json() for r in results], indent=1, sort_keys=True))
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class BuiltOutput:
    """What the secure build of one year left for review."""

    submitted: Submission
    year: int | None  # None: the project's tables are not yearly
    project: str  # the project whose ledger and releases hold the analysis (labour_reserve_results)
    release: anonymous.ReleaseTables
    passed: bool  # the small-cell risk analysis
    findings: int
    models: list[dict]
    statistics: dict[str, str]  # table -> count / sum / mean

    @property
    def release_id(self) -> str:
        return release_id(self.submitted.name, self.year)

    @property
    def label(self) -> str:
        """``<analysis> <year>``, or ``<analysis>`` alone when not yearly (messages)."""
        return self.submitted.name + (f" {self.year}" if self.year is not None else "")

    @property
    def ledger_tables(self) -> list[str]:
        """The tables the gate releases and the ledger records (count and sum tables; the means go
        beside them)."""
        return sorted(n for n in self.release.tables if self.statistics.get(n, "count") != "mean")

    @property
    def content_hash(self) -> str:
        """What a reviewer approves: the tables as published and the models as they would be released."""
        digest = hashlib.sha256(anonymous.release_hash(self.release).encode())
        digest.update(json.dumps(self.models, sort_keys=True).encode())
        return digest.hexdigest()


def built_output(lake: settings.Lake, submitted: Submission, year: int | None) -> BuiltOutput:
    """The secure build of ``submitted`` for ``year`` (None: a project that is not yearly);
    :class:`ReviewError` when it was not built."""
    source = analysable_projects()[submitted.project]
    project = source.rules_from
    rid = release_id(submitted.name, year)
    folder = anonymous.tables_dir(lake.secure / project, rid)
    if not (folder / "_release.json").is_file():
        raise ReviewError(
            f"analysis {submitted.name}"
            + (f": {year}" if year is not None else "")
            + " was not built in the secure area yet "
            f"(cohort analysis build {submitted.name}{year_option(year)})"
        )
    verdict = anonymous.load_verdict(folder)
    models_file = models_dir(lake, project, rid) / MODELS_FILE
    analysis = submitted.load()
    return BuiltOutput(
        submitted=submitted,
        year=year,
        project=project,
        release=anonymous.load_release(folder),
        passed=bool(verdict is not None and verdict.passed),
        findings=len(verdict.report.findings) if verdict is not None else 0,
        models=json.loads(models_file.read_text()) if models_file.is_file() else [],
        statistics={t.name: t.statistic for t in analysis.tables},
    )


# ----------------------------------------------------------------------------- decisions
def reviews_dir(lake: settings.Lake, name: str) -> Path:
    return lake.root / "analyses" / name / REVIEWS


def record_decision(
    lake: settings.Lake, built: BuiltOutput, decision: str, reviewer: str, reason: str
) -> Path:
    """One reviewer's decision on exactly the content reviewed; each in its own file, never overwritten."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if not reviewer.strip() or not reason.strip():
        raise ReviewError("a decision names its reviewer and gives a reason")
    when = clock.now()
    folder = reviews_dir(lake, built.submitted.name)
    folder.mkdir(parents=True, exist_ok=True)
    path = (
        folder / f"{period_key(built.year)}--{when.strftime('%Y%m%dT%H%M%S%fZ')}--{uuid.uuid4().hex[:8]}.json"
    )
    body = {
        "analysis": built.submitted.name,
        "year": built.year,
        "decision": decision,
        "reviewer": reviewer.strip(),
        "reason": reason.strip(),
        "content_hash": built.content_hash,
        "when": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with open(path, "x", encoding="utf-8") as fh:  # "x": a decision is never overwritten
        json.dump(body, fh, indent=1, sort_keys=True)
    return path


def decisions(lake: settings.Lake, built: BuiltOutput) -> list[dict]:
    """The decisions on this year's output (the whole output when not yearly), oldest first (any
    content hash)."""
    folder = reviews_dir(lake, built.submitted.name)
    found = [json.loads(p.read_text()) for p in sorted(folder.glob(f"{period_key(built.year)}--*.json"))]
    return sorted(found, key=lambda d: d["when"])


@dataclass(frozen=True)
class ReviewState:
    """Where the review of one output stands: ``waiting``, ``approved`` or ``rejected``."""

    status: str
    approvers: tuple[str, ...]
    needed: int
    rejection: dict | None = None


def review_state(lake: settings.Lake, built: BuiltOutput, needed: int | None = None) -> ReviewState:
    """Decisions for other content do not count (a rebuilt output is reviewed again); one rejection
    of this content stops it; it is approved once ``needed`` distinct reviewers approved it (default
    the project's ``disclosure.review.approvals``)."""
    if needed is None:
        needed = analysable_projects()[built.submitted.project].approvals_needed()
    current = [d for d in decisions(lake, built) if d["content_hash"] == built.content_hash]
    rejected = [d for d in current if d["decision"] == "rejected"]
    if rejected:
        return ReviewState("rejected", (), needed, rejected[-1])
    approvers = tuple(sorted({d["reviewer"] for d in current if d["decision"] == "approved"}))
    return ReviewState("approved" if len(approvers) >= needed else "waiting", approvers, needed)


# ----------------------------------------------------------------------------- what the reviewer sees
def published_table(frame: pl.DataFrame, spec: dc.TableSpec, statistic: str) -> pl.DataFrame:
    """The table as it would be published (a mean table: the mean of each published cell) with why
    each hidden cell is hidden; never a hidden cell's value."""
    shown = pl.col("shown").cast(pl.String)
    if statistic == "mean":
        shown = (
            pl.when((pl.col("status") == "published") & (pl.col("n") > 0))
            .then((pl.col("value") / pl.col("n")).round(2).cast(pl.String))
            .otherwise(shown)
        )
    return frame.select(
        *spec.dimensions,
        shown.alias("shown"),
        pl.col("status").replace_strict(WHY_HIDDEN, default="").alias("why hidden"),
    )


def _rows(frame: pl.DataFrame) -> list[list[str]]:
    return [[str(v) for v in row] for row in frame.iter_rows()]


def review_markdown(built: BuiltOutput, state: ReviewState, history: list[dict]) -> str:
    rt = built.release
    ledger = built.ledger_tables
    cells = sum(rt.tables[n].height for n in ledger)
    lines = [
        f"# Output review: analysis {built.submitted.name}"
        + (f", {built.year}" if built.year is not None else ""),
        "",
        f"- submitted code: `{built.submitted.content_hash}` ({built.submitted.submitted_at})",
        f"- content to approve: `{built.content_hash}`",
        f"- small-cell risk analysis: **{'passed' if built.passed else 'FAILED'}**"
        + (f" ({built.findings} findings)" if built.findings else ""),
        f"- the release adds {len(ledger)} table(s) ({cells} cells) to the ledger of {built.project}",
        f"- review: **{state.status}**"
        + (f" by {', '.join(state.approvers)}" if state.approvers else "")
        + f" ({state.needed} distinct approval(s) needed)",
        "",
    ]
    for name in sorted(rt.tables):
        statistic = built.statistics.get(name, "count")
        table = published_table(rt.tables[name], rt.specs[name], statistic)
        hidden = table.filter(pl.col("why hidden") != "").height
        lines += [f"## Table {name} ({statistic}): {table.height} cells, {hidden} hidden", ""]
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        lines += ["| " + " | ".join(r) + " |" for r in _rows(table)]
        lines.append("")
    for model in built.models:
        verdict = "passed" if model["passed"] else "REFUSED (not released)"
        lines += [f"## Model {model['name']} ({model['kind']} regression): {verdict}", ""]
        lines += [
            f"- {'ok' if c['passed'] else 'FAILED'} {c['rule']}: {c['detail']}" for c in model["checks"]
        ]
        if model["coefficients"]:
            lines += [
                "",
                f"units {model['units']}, residual degrees of freedom {model['residual_df']}",
                "",
                "| term | coefficient | std_error | p_value |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {c['term']} | {c['coefficient']} | {c['std_error']} | {c['p_value']} |"
                for c in model["coefficients"]
            ]
        lines.append("")
    lines += ["## Decisions", ""]
    lines += [
        f"- {d['when']} {d['reviewer']}: {d['decision']} ({d['reason']})"
        + ("" if d["content_hash"] == built.content_hash else " [other content]")
        for d in history
    ] or ["- none yet"]
    return "\n".join(lines) + "\n"


STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.4em 0 1em}td,th{border:1px solid #bbb;padding:.15em .5em;text-align:right}
th{background:#eee}td.primary{background:#f7c6c6}td.secondary{background:#fbe3c0}
.ok{color:#176117}.bad{color:#a11;font-weight:bold}section{display:inline-block;vertical-align:top;margin-right:2em}
.state{display:inline-block;padding:.1em .5em;border-radius:.3em;background:#eef}code{font-size:85%}
.legend span{padding:0 .4em;margin-right:1em}"""


def _html_table(header: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    """A table; ``classes``: per cell, the CSS class marking a hidden cell (its status)."""
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for i, row in enumerate(rows):
        marks = classes[i] if classes else [""] * len(row)
        out.append(
            "<tr>"
            + "".join(
                f"<td class={m} title='{WHY_HIDDEN[m]}'>{html.escape(v)}</td>"
                if m
                else f"<td>{html.escape(v)}</td>"
                for v, m in zip(row, marks, strict=True)
            )
            + "</tr>"
        )
    return "".join(out) + "</table>"


def crossed(
    frame: pl.DataFrame, spec: dc.TableSpec, statistic: str
) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The published table as a cross (the last dimension across): header, shown values, and per
    cell its status class (primary / secondary hidden); a table of one dimension stays a column."""
    table = published_table(frame, spec, statistic).with_columns(
        status=frame.get_column("status").replace({"published": ""})
    )
    dims = list(spec.dimensions)
    if len(dims) == 1:
        return (
            [dims[0], "shown"],
            [[str(a), str(b)] for a, b in table.select(dims[0], "shown").iter_rows()],
            [["", str(c)] for c in table.get_column("status").to_list()],
        )
    across, down = dims[-1], dims[:-1]
    levels = list(dict.fromkeys(table.get_column(across).to_list()))
    cells = {
        tuple(r[:-2]): (r[-2], r[-1]) for r in table.select(*down, across, "shown", "status").iter_rows()
    }
    keys = list(dict.fromkeys(tuple(r) for r in table.select(down).iter_rows()))
    rows = [[*map(str, k), *(str(cells.get((*k, level), ("", ""))[0]) for level in levels)] for k in keys]
    marks = [["" for _ in k] + [str(cells.get((*k, level), ("", ""))[1]) for level in levels] for k in keys]
    return [*down, *map(str, levels)], rows, marks


def review_html(built: BuiltOutput, state: ReviewState, history: list[dict]) -> str:
    """The review screen: the same content as :func:`review_markdown`, as one self-contained page."""
    rt = built.release
    ledger = built.ledger_tables
    cells = sum(rt.tables[n].height for n in ledger)
    audit_class = "ok" if built.passed else "bad"
    parts = [
        f"<h1>Output review: analysis {html.escape(built.submitted.name)}"
        + (f", {built.year}" if built.year is not None else "")
        + "</h1>",
        "<ul>",
        f"<li>review: <span class=state>{html.escape(state.status)}</span>"
        + (f" by {html.escape(', '.join(state.approvers))}" if state.approvers else "")
        + f" ({state.needed} distinct approval(s) needed)</li>",
        f"<li>small-cell risk analysis: <span class={audit_class}>"
        f"{'passed' if built.passed else 'FAILED'}</span></li>",
        f"<li>the release adds {len(ledger)} table(s) ({cells} cells) to the ledger of "
        f"{html.escape(built.project)}</li>",
        f"<li>content to approve: <code>{built.content_hash}</code></li>",
        f"<li>submitted code: <code>{built.submitted.content_hash}</code></li>",
        "</ul>",
        "<p class=legend><span class=primary style='background:#f7c6c6'>x: hidden by a rule</span>"
        "<span style='background:#fbe3c0'>x: hidden to protect another cell</span>"
        "(the value of a hidden cell is never shown)</p>",
    ]
    for name in sorted(rt.tables):
        statistic = built.statistics.get(name, "count")
        header, rows, marks = crossed(rt.tables[name], rt.specs[name], statistic)
        hidden = sum(1 for row in marks for m in row if m)
        parts.append(f"<section><h2>Table {html.escape(name)} ({statistic})</h2>")
        parts.append(f"<p>{hidden} of {rt.tables[name].height} cells hidden</p>")
        parts.append(_html_table(header, rows, marks) + "</section>")
    for model in built.models:
        verdict = "passed" if model["passed"] else "refused: not released"
        parts.append(
            f"<section><h2>Model {html.escape(model['name'])} ({model['kind']} regression): "
            f"<span class={'ok' if model['passed'] else 'bad'}>{verdict}</span></h2>"
        )
        checks = [["ok" if c["passed"] else "FAILED", c["rule"], c["detail"]] for c in model["checks"]]
        parts.append(_html_table(["check", "rule", "detail"], checks))
        if model["coefficients"]:
            parts.append(f"<p>units {model['units']}, residual degrees of freedom {model['residual_df']}</p>")
            parts.append(
                _html_table(
                    ["term", "coefficient", "std_error", "p_value"],
                    [
                        [str(c["term"]), str(c["coefficient"]), str(c["std_error"]), str(c["p_value"])]
                        for c in model["coefficients"]
                    ],
                )
            )
        parts.append("</section>")
    parts.append("<h2>Decisions</h2>")
    parts.append(
        _html_table(
            ["when", "reviewer", "decision", "reason"],
            [[d["when"], d["reviewer"], d["decision"], d["reason"]] for d in history],
        )
        if history
        else "<p>none yet: <code>cohort analysis approve|reject "
        f"{html.escape(built.submitted.name)}{year_option(built.year)} --reviewer NAME --reason TEXT</code></p>"
    )
    title = f"Review of {html.escape(built.label)}"
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"
    )


#: beside each review: its state in JSON, read by :func:`write_index`
REVIEW_SUMMARY = "review.json"
#: the index of a project's reviewed analyses, under ``reports/<project>/``
ANALYSES_INDEX = "analyses.html"


def write_review(lake: settings.Lake, built: BuiltOutput) -> tuple[str, Path]:
    """Write the review (markdown and HTML) under ``<lake>/reports/<project>/<release id>/``
    (``<name>/<year>``, or ``<name>`` when not yearly)."""
    state, history = review_state(lake, built), decisions(lake, built)
    text = review_markdown(built, state, history)
    folder = lake.reports / built.project / built.release_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "review.md").write_text(text)
    page = folder / "review.html"
    page.write_text(review_html(built, state, history))
    try:
        title = built.submitted.load().title
    except SubmissionRefused as exc:  # code changed after its build: the index shows why, it does not fail
        title = str(exc)
    summary = {
        "analysis": built.submitted.name,
        "year": built.year,
        "title": title,
        "status": state.status,
        "approvers": list(state.approvers),
        "needed": state.needed,
        "small_cell_risk_analysis": "passed" if built.passed else "failed",
        "content_hash": built.content_hash,
    }
    (folder / REVIEW_SUMMARY).write_text(json.dumps(summary, indent=1, sort_keys=True))
    write_index(lake, built.project)
    return text, page


def write_index(lake: settings.Lake, project: str) -> Path:
    """``<lake>/reports/<project>/analyses.html``: every analysis output reviewed under ``project`` (the
    labour reserve's phase-2 results, seed 001's measure profiles), its review state and a link to its
    review screen and, once released, its release folder; rewritten with each review and release. For
    ``labour_reserve_results``, which builds nothing of its own, this is the project's report page."""
    root = lake.reports / project
    rows = []
    for path in sorted(root.glob(f"*/**/{REVIEW_SUMMARY}")):
        review = json.loads(path.read_text())
        folder = path.parent.relative_to(root)
        released = lake.releases / project / folder
        status = "released" if (released / "release.json").exists() else str(review["status"])
        rows.append(
            "<tr>"
            f"<td><a href='{html.escape(str(folder / 'review.html'))}'>{html.escape(str(review['analysis']))}</a></td>"
            f"<td>{html.escape(str(review['year'] or ''))}</td><td>{html.escape(str(review['title']))}</td>"
            f"<td class={'ok' if status in ('approved', 'released') else 'bad' if status == 'rejected' else 'state'}>"
            f"{html.escape(status)}</td>"
            f"<td>{html.escape(', '.join(review['approvers']))} ({len(review['approvers'])} of {review['needed']})</td>"
            f"<td>{html.escape(str(review['small_cell_risk_analysis']))}</td>"
            f"<td>{html.escape(str(released.relative_to(lake.root)) if status == 'released' else '')}</td>"
            "</tr>"
        )
    header = "".join(
        f"<th>{h}</th>"
        for h in (
            "analysis",
            "year",
            "title",
            "review",
            "approved by",
            "small-cell risk analysis",
            "released in",
        )
    )
    page = root / ANALYSES_INDEX
    root.mkdir(parents=True, exist_ok=True)
    page.write_text(
        f"<!doctype html><html><head><meta charset=utf-8><title>Analyses of {html.escape(project)}</title>"
        f"<style>{STYLE} td, th {{text-align: left}}</style></head><body>"
        f"<h1>Researchers' analyses: {html.escape(project)}</h1>"
        "<p>Each output of a submitted analysis built in the secure area, as its reviewers see it: only "
        "published values and the reasons of hidden cells, never a hidden cell's value.</p>"
        f"<table><tr>{header}</tr>{''.join(rows)}</table></body></html>"
    )
    return page


# ----------------------------------------------------------------------------- release
def scan_outputs(release: anonymous.ReleaseTables, models: list[dict], label: str) -> None:
    """The export scan (cohort/privacy/scan.py) over everything a release of an analysis would write: the
    public columns of every table and the coefficients of every model. A project's release publishes the
    classes its own SQL makes; an analysis's labels come from the researcher's SQL, so they are scanned
    like an export (national and enterprise numbers, keyed hashes, day-level dates in any form, nested
    types).
    :class:`ReviewError` naming the table, the column, the rule and the count (never the value)."""
    frames = {name: dc.public_frame(frame, release.specs[name]) for name, frame in release.tables.items()}
    for model in models:
        if model.get("passed") and model.get("coefficients"):
            frames[f"{model['name']}.coefficients"] = pl.DataFrame(model["coefficients"])
    for name, frame in frames.items():
        kinds = {c: "number" if frame.schema[c].is_numeric() else "text" for c in frame.columns}
        result = scan.scan_export(frame, kinds, f"{label}: {name}")
        if not result.ok:
            raise ReviewError(f"{result.message()}: nothing is released")


def release_approved(lake: settings.Lake, built: BuiltOutput, run_id: str | None = None) -> list[Path]:
    """Release an approved output: count and sum tables through the gate, then mean tables and passed
    models beside them. :class:`ReviewError` (nothing written) unless approved for this content."""
    state = review_state(lake, built)
    if state.status == "rejected":
        assert state.rejection is not None
        raise ReviewError(
            f"analysis {built.label} was rejected by {state.rejection['reviewer']} "
            f"({state.rejection['reason']}): nothing is released"
        )
    if state.status != "approved":
        raise ReviewError(
            f"analysis {built.label} is not approved: {len(state.approvers)} of "
            f"{state.needed} approval(s) for content {built.content_hash[:12]}...; nothing is released"
        )
    if not built.passed:
        raise ReviewError(f"analysis {built.label}: the small-cell risk analysis failed")
    try:
        scan_outputs(built.release, built.models, f"analysis {built.label}")
    except ReviewError as exc:
        audit_log.record(
            lake,
            "refusal",
            built.project,
            run_id=run_id,
            detail={"rule": "export_scan", "attempted": "analysis release", "release_id": built.release_id},
        )
        raise exc from None
    rt = built.release
    gated = anonymous.ReleaseTables(
        {n: rt.tables[n] for n in built.ledger_tables},
        {n: rt.specs[n] for n in built.ledger_tables},
        rt.dimensions,
        rt.rules,
    )
    if not gated.tables:
        raise ReviewError(
            f"analysis {built.submitted.name}: the gate releases count and sum tables; an analysis of "
            "means only has nothing for it to carry"
        )
    root = lake.root
    written = anonymous.publish(
        gated,
        root,
        built.project,
        built.release_id,
        ", ".join(state.approvers),
        earlier=dc.earlier_releases(root, built.project, exclude=built.release_id),
        run_id=run_id,
    )
    folder = root / "releases" / built.project / built.release_id
    beside = []
    for name in sorted(set(rt.tables) - set(built.ledger_tables)):
        table = published_table(rt.tables[name], rt.specs[name], "mean").drop("why hidden")
        beside.append(storage.write_frame(table, folder / f"{name}.parquet"))
        table.write_csv(folder / f"{name}.csv")
        beside.append(folder / f"{name}.csv")
    for model in built.models:
        if model["passed"] and model["coefficients"]:
            path = folder / f"{model['name']}.coefficients.csv"
            pl.DataFrame(model["coefficients"]).write_csv(path)
            beside.append(path)
    (folder / "models.json").write_text(json.dumps(built.models, indent=1, sort_keys=True))
    beside.append(folder / "models.json")
    audit_log.record(
        lake,
        "release",
        built.project,
        files=beside,
        run_id=run_id,
        detail={
            "release_id": built.release_id,
            "beside_the_gate": "mean tables and model parameters of an approved analysis",
            "approved_by": list(state.approvers),
            "content_hash": built.content_hash,
        },
    )
    write_index(lake, built.project)  # the index shows it released
    return [*written, *beside]
