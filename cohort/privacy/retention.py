"""Retention (bewaartermijn): after a project's retention date nothing is built or exported for
it any more, and its pseudonymised data can be purged.

A purge removes ``<lake>/secure/<project>`` (research tables and the pseudonym mapping) and
``<lake>/exports/<project>`` (pseudonymised deliveries), and a demo key under
``<lake>/keys/<project>.key``. Anonymous tables under ``releases/`` stay: they are not personal
data. The hash of every removed file goes to the audit log, so what was destroyed can be
shown later. A production key lives outside the lake (``COHORT_KEY_<PROJECT>`` or
``COHORT_KEY_DIR``): destroying it is the key custodian's job, and the purge says so.
"""

import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cohort import clock
from cohort.privacy import audit_log
from cohort.privacy.pseudonym import demo_mode
from cohort.settings import Lake, synthetic_warehouse

# A project id becomes a folder name: refuse anything that could climb out of the lake.
PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class RetentionExpired(RuntimeError):
    """The project's retention date has passed: building or exporting it is refused."""


class PurgeRefused(RuntimeError):
    """A purge before the retention date without ``force``, or of an invalid project id."""


def check_project_id(project_id: str) -> str:
    if not PROJECT_ID.match(project_id or ""):
        raise PurgeRefused(f"invalid project id {project_id!r}: letters, digits, '-' and '_' only")
    return project_id


def assert_within_retention(project_id: str, retention_date: date, today: date | None = None) -> None:
    """Raise :class:`RetentionExpired` when ``today`` (default: :func:`cohort.clock.today`) is after
    ``retention_date``. The retention date itself is the last day on which the project may be built
    or exported."""
    today = today or clock.today()
    if today > retention_date:
        raise RetentionExpired(
            f"project {project_id}: retention date {retention_date.isoformat()} has passed "
            f"(today {today.isoformat()}); building and exporting are refused. "
            f"Purge its pseudonymised data with `cohort purge {project_id}`."
        )


def synthetic_demo(lake: Lake) -> bool:
    """True in demo mode on a warehouse this package generated (its manifest names the generator).

    The deliberation's retention date binds real personal data. The demo's data are synthetic,
    so the demo still builds a project after its date (and says so) instead of losing the
    product's showcase on the first of January; a real extract has no generator manifest and is
    refused, demo mode or not.
    """
    return demo_mode() and synthetic_warehouse(lake)


def expired_note(project_id: str, retention_date: date, today: date | None = None) -> str | None:
    """The demo's one line about a project past its retention date, or None while it runs."""
    left = clock.days_left(retention_date, today)
    if left >= 0:
        return None
    return (
        f"{project_id}: retention date {retention_date.isoformat()} passed {-left} day(s) ago; built "
        "anyway because the demo's warehouse is synthetic. On real data every build of it is refused "
        f"and `cohort purge {project_id}` destroys its pseudonymised data."
    )


def refuse_if_expired(
    lake: Lake,
    project_id: str,
    retention_date: date,
    run_id: str | None = None,
    today: date | None = None,
    what: str = "build",
) -> None:
    """The retention guard every build and export step calls first.

    After the retention date it logs a ``refusal`` in the audit log and raises
    :class:`RetentionExpired`, except on the demo's synthetic warehouse (:func:`synthetic_demo`).
    """
    try:
        assert_within_retention(project_id, retention_date, today)
    except RetentionExpired:
        if synthetic_demo(lake):
            return
        audit_log.record(
            lake,
            "refusal",
            project_id,
            run_id=run_id,
            detail={
                "rule": "retention_expired",
                "attempted": what,
                "retention_date": retention_date.isoformat(),
            },
        )
        raise


@dataclass(frozen=True)
class PurgeResult:
    project: str
    removed_files: int
    removed_dirs: list[str]
    audit_entry: dict


def _project_paths(lake: Lake, project_id: str) -> list[Path]:
    return [lake.secure / project_id, lake.exports / project_id, lake.keys / f"{project_id}.key"]


def purge_project(
    lake: Lake,
    project_id: str,
    retention_date: date,
    force: bool = False,
    today: date | None = None,
    run_id: str | None = None,
) -> PurgeResult:
    """Remove the project's pseudonymised data and log the purge (with the hash of every removed file).

    Refused (:class:`PurgeRefused`, logged as a ``refusal``) before the retention date unless ``force``.
    Purging twice is harmless: the second purge logs that nothing was left.
    """
    check_project_id(project_id)
    today = today or clock.today()
    if today <= retention_date and not force:
        audit_log.record(
            lake,
            "refusal",
            project_id,
            run_id=run_id,
            detail={"rule": "purge_before_retention_date", "retention_date": retention_date.isoformat()},
        )
        raise PurgeRefused(
            f"project {project_id}: retention runs until {retention_date.isoformat()}; "
            "purging earlier needs --force (for instance when the deliberation is withdrawn)"
        )
    targets = [p for p in _project_paths(lake, project_id) if p.exists()]
    files = sorted(f for t in targets for f in ([t] if t.is_file() else t.rglob("*")) if f.is_file())
    # Hash before deleting: the log keeps a fingerprint of what was destroyed, never its content.
    hashes = {
        f.resolve().relative_to(lake.root.resolve()).as_posix(): audit_log.sha256_file(f) for f in files
    }
    for t in targets:
        if t.is_dir():
            shutil.rmtree(t)
        else:
            t.unlink()
    entry = audit_log.record(
        lake,
        "purge",
        project_id,
        run_id=run_id,
        hashes=hashes,
        detail={
            "retention_date": retention_date.isoformat(),
            "forced": bool(force and today <= retention_date),
            "removed": [t.relative_to(lake.root).as_posix() for t in targets],
            "note": "keys kept outside the lake must be destroyed by their custodian",
        },
    )
    return PurgeResult(project_id, len(files), [t.relative_to(lake.root).as_posix() for t in targets], entry)
