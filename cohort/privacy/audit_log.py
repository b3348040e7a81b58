"""The append-only audit log (verantwoordingslog): every export, release, purge and refusal.

One JSON object per line in ``<lake>/audit/audit_log.jsonl``::

    {"action": "export", "files": {"exports/p/t/year=2005/data.parquet": "<sha256>"},
     "prev": "<sha256 of the previous line>", "project": "p", "run_id": "...",
     "time": "2026-11-22T22:40:01Z", "user": "analyst", "what": ["exports/p/t/year=2005/data.parquet"]}

Why a hash chain: each line carries the SHA-256 of the line before it (the first line carries
64 zeros), so editing, inserting or deleting any line but the last breaks the chain, which
:func:`verify_chain` reports with the line number. The file is only ever opened with
``O_APPEND`` under an exclusive ``flock``, so concurrent processes cannot interleave lines or
fork the chain. What the chain cannot prove on its own: that the *tail* was not cut off. Keep
the head hash (``cohort audit verify`` prints it) somewhere else, e.g. in the ticket of the
delivery, to close that gap.

Entries never hold data values or keys: only paths relative to the lake root, file hashes,
the project, the run and the user.
"""

import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cohort import clock
from cohort.settings import Lake

AUDIT_FILE = "audit_log.jsonl"
GENESIS = "0" * 64
ACTIONS = frozenset({"export", "release", "purge", "refusal"})


class AuditChainBroken(RuntimeError):
    """The audit log was edited: a line does not carry the hash of the line before it."""


def audit_path(lake_or_dir: Lake | Path) -> Path:
    """The log file of a lake (or of an audit folder given directly)."""
    if isinstance(lake_or_dir, Lake):
        return lake_or_dir.audit / AUDIT_FILE
    p = Path(lake_or_dir)
    return p if p.suffix == ".jsonl" else p / AUDIT_FILE


def current_user() -> str:
    """``COHORT_USER`` if set (service accounts), else the login name."""
    user = os.environ.get("COHORT_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def line_hash(line: bytes) -> str:
    """Hash of one log line as stored, without its newline."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _last_line(fd: int) -> bytes | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    # Read backwards in blocks until a newline before the last line is found.
    block = 8192
    end = size
    buf = b""
    while end > 0:
        start = max(0, end - block)
        buf = os.pread(fd, end - start, start) + buf
        end = start
        stripped = buf.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1]
    return buf.rstrip(b"\n")


def _relative(path: Path, root: Path | None) -> str:
    p = Path(path).resolve()
    if root is not None:
        try:
            return p.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return p.name  # never an absolute path of this machine in the log


def record(
    lake_or_dir: Lake | Path,
    action: str,
    project: str | None,
    files: Iterable[Path] = (),
    run_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    hashes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Append one entry and return it.

    ``files`` are hashed now (they must exist); ``hashes`` adds entries for files already gone
    (a purge records what it removed). ``detail`` is free JSON for the reason of a refusal, the
    table name, counts... never data values. Paths are stored relative to the lake root.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r} (one of {sorted(ACTIONS)})")
    path = audit_path(lake_or_dir)
    root = lake_or_dir.root if isinstance(lake_or_dir, Lake) else None
    file_hashes = {_relative(f, root): sha256_file(Path(f)) for f in files}
    file_hashes.update(hashes or {})
    entry: dict[str, Any] = {
        "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "action": action,
        "project": project,
        "what": sorted(file_hashes),
        "files": dict(sorted(file_hashes.items())),
        "run_id": run_id,
        "user": current_user(),
    }
    if detail:
        entry["detail"] = dict(detail)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Read the previous line through a separate read-only descriptor position (pread), under the lock.
        rfd = os.open(path, os.O_RDONLY)
        try:
            last = _last_line(rfd)
        finally:
            os.close(rfd)
        entry["prev"] = GENESIS if last is None else line_hash(last)
        line = json.dumps(entry, sort_keys=True, ensure_ascii=True, default=str).encode() + b"\n"
        os.write(fd, line)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return entry


def read_entries(lake_or_dir: Lake | Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an empty list when nothing was logged yet)."""
    path = audit_path(lake_or_dir)
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str  # hash of the last line: keep it elsewhere to detect a cut-off tail


def verify_chain(lake_or_dir: Lake | Path) -> ChainReport:
    """Check every line's ``prev`` against the hash of the line before; raise :class:`AuditChainBroken`."""
    path = audit_path(lake_or_dir)
    prev = GENESIS
    n = 0
    if path.exists():
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh, start=1):
                line = raw.rstrip(b"\n")
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    raise AuditChainBroken(f"{path.name}: line {n} is not a JSON entry") from None
                if entry.get("prev") != prev:
                    raise AuditChainBroken(
                        f"{path.name}: line {n} does not follow line {n - 1} (hash chain broken: "
                        "a line was edited, inserted or removed)"
                    )
                prev = line_hash(line)
    return ChainReport(entries=n, head=prev)
