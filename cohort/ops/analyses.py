"""The demo's secure-room analyses (docs/analysis.md): the example folders that ship with the
projects, taken through the path a researcher takes once the projects are built, up to the output
checker's desk.

For each example of a project the demo built: ``cohort analysis run`` (the queries on the extract,
with what the small-cell risk analysis would do to them), ``cohort analysis submit`` (frozen by
content hash into ``<lake>/analyses/``) and ``cohort analysis build`` (the asset on the full tables
in the secure area: tables protected, models checked, the attack audit), through the same functions
as those commands, then the review screen is written (what ``cohort analysis review`` writes).

The demo stops there: approving or rejecting is an output checker's decision, with their name and
reason, and the demo signs nothing off in a reviewer's name. Its summary prints the commands that
review, approve or reject, and release. (The releases of the projects themselves are signed off as
the demo, ``DEMO_SIGNER``, because nothing is built after a release without one.)

A yearly project's examples (the labour reserve's) run on one year: the first year of the extract,
whose neighbours are built and which the demo's automation step does not build again.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

from cohort import settings
from cohort.analysis.cli import secure_build
from cohort.analysis.folder import AnalysisError, load_analysis
from cohort.analysis.registry import SubmissionRefused, submit
from cohort.analysis.review import ReviewError, built_output, review_state, write_review, year_option
from cohort.analysis.sandbox import SandboxRefusal
from cohort.analysis.sources import AnalysableProject, analysable_projects
from cohort.analysis.tabulate import fit_models, preview, run_analysis, years_of

PROJECTS_DIR = Path(__file__).resolve().parents[1] / "projects"


def examples(project_ids: set[str]) -> list[Path]:
    """The example analysis folders shipped with the projects (``<project>/examples/<name>/``)
    whose tables are of a project in ``project_ids``, by name."""
    found = []
    for folder in sorted(PROJECTS_DIR.glob("*/examples/*/analysis.yaml")):
        try:
            if load_analysis(folder.parent).project.project in project_ids:
                found.append(folder.parent)
        except AnalysisError:
            continue  # a broken example is the analysis tests' to find, not the demo's
    return sorted(found, key=lambda f: f.name)


@dataclass
class DemoAnalysis:
    """One example taken through the demo, for its summary."""

    name: str
    project: str
    year: int | None
    extract: str = ""  # what the rules did on the extract
    content_hash: str = ""
    built: str = ""  # the secure build's verdict, or why it failed
    review: str = ""  # the review's state
    page: Path | None = None  # the review screen
    failed: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def commands(self, lake: settings.Lake) -> list[str]:
        at = f"{year_option(self.year)} --data-dir {lake.root}"
        return [
            f"cohort analysis review {self.name}{at}",
            f'cohort analysis approve {self.name}{at} --reviewer "<your name>" --reason "<why>"',
            f'cohort analysis reject {self.name}{at} --reviewer "<your name>" --reason "<why>"',
            f"cohort analysis release {self.name}{at}",
        ]


def _year(source: AnalysableProject, lake: settings.Lake) -> int | None:
    if not source.yearly:
        return None
    years = [y for y in years_of(source.extract_files(lake)) if source.first_year <= y <= source.last_year]
    return min(years) if years else None


def _on_extract(folder: Path, source: AnalysableProject, lake: settings.Lake, year: int | None) -> str:
    """What ``cohort analysis run`` shows, in one line: cells shown and hidden, models refused."""
    analysis = load_analysis(folder)
    rules = source.rules()
    frames = run_analysis(analysis, source.extract_files(lake), year)
    tables = preview(analysis, frames, year, rules)
    models = fit_models(analysis, frames, rules, source.min_residual_df())
    shown = sum(t.published for t in tables)
    cells = sum(t.cells for t in tables)
    refused = [m.name for m in models if not m.passed]
    text = f"{shown} of {cells} cells shown"
    if models:
        text += f", {len(models) - len(refused)} of {len(models)} models passed"
    return text


def take_example(folder: Path, lake: settings.Lake) -> DemoAnalysis:
    """Run ``folder`` on the extract, submit it, build it in the secure area and write its review."""
    started = time.perf_counter()
    source = analysable_projects()[load_analysis(folder).project.project]
    year = _year(source, lake)
    item = DemoAnalysis(folder.name, source.project, year)
    try:
        if source.yearly and year is None:
            raise ReviewError(f"no extract of {source.project} under {source.extract_area(lake)}")
        item.extract = _on_extract(folder, source, lake, year)
        submitted, new = submit(folder, lake)
        item.content_hash = submitted.content_hash
        if not new:
            item.notes.append("already submitted with this content")
        built = secure_build(lake, submitted, year)
        if built.failure is not None:
            raise ReviewError(f"the secure build failed: {built.failure}")
        item.built = f"small-cell risk analysis {'passed' if built.check_passed else 'FAILED'}"
        output = built_output(lake, submitted, year)
        _text, item.page = write_review(lake, output)
        state = review_state(lake, output)
        item.review = f"{state.status} ({len(state.approvers)} of {state.needed} approval(s))"
    except (ReviewError, SubmissionRefused, SandboxRefusal, AnalysisError, ValueError) as exc:
        item.failed, item.built = True, str(exc)
    item.seconds = time.perf_counter() - started
    return item
