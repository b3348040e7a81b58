"""Submitted analyses: each frozen, by content hash, into ``<lake>/analyses/<name>/``.

``submit`` copies the folder (every file but hidden ones) into the registry and records its SHA-256
(:func:`cohort.analysis.folder.folder_hash`) in ``submission.json``. What runs in the secure area is
that frozen copy, and only while it still has the recorded hash. A folder whose content changed after
it was submitted is refused under the same name (the checker approved the code that was submitted):
submit the new version under a new name.
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from cohort import clock, settings
from cohort.analysis.folder import PLAIN_NAME, Analysis, folder_hash, load_analysis

REGISTRY = "analyses"
CODE = "code"
SUBMISSION = "submission.json"


class SubmissionRefused(ValueError):
    """A submission the registry does not accept, or a frozen analysis that no longer matches its hash."""


@dataclass(frozen=True)
class Submission:
    """One submitted analysis: its name, project, content hash and when it was submitted."""

    name: str
    project: str
    content_hash: str
    submitted_at: str
    code: Path

    def load(self) -> Analysis:
        """The frozen analysis, refused when its files no longer have the submitted hash."""
        now = folder_hash(self.code)
        if now != self.content_hash:
            raise SubmissionRefused(
                f"analysis {self.name}: its frozen code hashes to {now[:12]}..., not the submitted "
                f"{self.content_hash[:12]}...: it was changed after submission"
            )
        return load_analysis(self.code, self.name)


def registry_dir(lake: settings.Lake) -> Path:
    return lake.root / REGISTRY


def submit(folder: Path, lake: settings.Lake) -> tuple[Submission, bool]:
    """Freeze ``folder`` into the registry; returns the submission and whether it is new. The same
    content submitted again is a no-op; other content under a submitted name is refused."""
    analysis = load_analysis(folder)  # only a valid folder is frozen
    if not PLAIN_NAME.match(analysis.name) or analysis.name == "restricted":
        # the name becomes an asset name and a release folder ("restricted/" marks per-entity releases)
        raise SubmissionRefused(
            f"analysis folder name {analysis.name!r}: use a plain name (lower-case letters, digits, _), not 'restricted'"
        )
    if all(t.statistic == "mean" for t in analysis.tables):
        # the gate releases the count and sum tables (and appends them to the ledger); mean tables and
        # models are released beside them (cohort/analysis/review.py)
        raise SubmissionRefused(
            f"analysis {analysis.name}: only mean tables; a release needs at least one count or sum table "
            "(see docs/analysis.md)"
        )
    digest = folder_hash(folder)
    target = registry_dir(lake) / analysis.name
    existing = submission(lake, analysis.name)
    if existing is not None:
        if existing.content_hash == digest:
            return existing, False
        raise SubmissionRefused(
            f"analysis {analysis.name} was submitted on {existing.submitted_at} with content "
            f"{existing.content_hash[:12]}...; this folder hashes to {digest[:12]}...: it changed since. "
            "Submit the new version under another folder name"
        )
    staging = target.with_name(f".{analysis.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(folder, staging / CODE, ignore=shutil.ignore_patterns(".*"))
    if folder_hash(staging / CODE) != digest:  # the folder changed while it was copied
        shutil.rmtree(staging)
        raise SubmissionRefused(
            f"analysis {analysis.name}: the folder changed while it was submitted; try again"
        )
    record = {
        "name": analysis.name,
        "project": analysis.project.project,
        "content_hash": digest,
        "submitted_at": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tables": [t.name for t in analysis.tables],
    }
    (staging / SUBMISSION).write_text(json.dumps(record, indent=1, sort_keys=True))
    staging.rename(target)
    found = submission(lake, analysis.name)
    assert found is not None
    return found, True


def submission(lake: settings.Lake, name: str) -> Submission | None:
    path = registry_dir(lake) / name / SUBMISSION
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    return Submission(
        name=record["name"],
        project=record["project"],
        content_hash=record["content_hash"],
        submitted_at=record["submitted_at"],
        code=path.parent / CODE,
    )


def submissions(lake: settings.Lake) -> list[Submission]:
    """Every submitted analysis, by name."""
    base = registry_dir(lake)
    if not base.is_dir():
        return []
    found = (
        submission(lake, p.name) for p in sorted(base.iterdir()) if p.is_dir() and not p.name.startswith(".")
    )
    return [s for s in found if s is not None]
