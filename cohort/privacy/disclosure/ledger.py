"""Append-only ledger of every released cell, per project.

``<lake>/releases/<project>/_ledger.jsonl`` holds one JSON line per release: its id, time,
run id, audience, content hash, and for every table its population, dimensions and the
SHOWN cells (codes and shown strings, never true values). The audit of a later release
reads it back (:func:`earlier_releases`) and adds every earlier published number to the
attacker's knowledge, so that a cell hidden now but published before, or a difference
between two releases, is caught (repeated-release differencing).
"""

import fcntl
import hashlib
import json
import os
from pathlib import Path

import polars as pl

from cohort import clock
from cohort.privacy.disclosure.tables import PARENT_SUFFIX, RESERVED_COLUMNS, TableSpec

LEDGER_FILE = "_ledger.jsonl"


def audience_of(release_id: str) -> str:
    """``restricted`` for sub-releases under a ``restricted/`` folder, else ``public``."""
    return "restricted" if "restricted" in Path(release_id).parts else "public"


def public_columns(frame: pl.DataFrame, spec: TableSpec | None = None) -> list[str]:
    """The columns of a protected table that may leave: dimensions, parents, shown values."""
    if spec is not None:
        dims = list(spec.dimensions)
    else:
        dims = [c for c in frame.columns if c not in LEDGER_COLUMNS and not c.endswith(PARENT_SUFFIX)]
    cols = []
    for d in dims:
        cols.append(d)
        if d + PARENT_SUFFIX in frame.columns:
            cols.append(d + PARENT_SUFFIX)
    cols.append("shown")
    if "shown_percentage" in frame.columns:
        cols.append("shown_percentage")
    return cols


#: Columns of a frame read back from the ledger that are not dimensions.
LEDGER_COLUMNS = RESERVED_COLUMNS | {"lb", "magnitude_of", "without_margins"}


def public_frame(frame: pl.DataFrame, spec: TableSpec | None = None) -> pl.DataFrame:
    """Only what may leave: dimensions (and their parents), shown values and percentages."""
    return frame.select(public_columns(frame, spec))


def content_hash(protected: dict[str, pl.DataFrame], specs: dict[str, TableSpec] | None = None) -> str:
    """SHA-256 of what would be published: table names, public columns and shown cells.

    True counts never enter the hash, so the hash itself can be shown to a checker.
    """
    h = hashlib.sha256()
    for name in sorted(protected):
        spec = (specs or {}).get(name)
        frame = public_frame(protected[name], spec)
        h.update(json.dumps([name, frame.columns]).encode())
        h.update(frame.write_csv().encode())
    return h.hexdigest()


class ReleaseLedger:
    """The append-only ledger of one project (one JSON line per release)."""

    def __init__(self, lake_root: Path, project: str) -> None:
        self.lake_root = Path(lake_root)
        self.project = project

    @property
    def path(self) -> Path:
        return self.lake_root / "releases" / self.project / LEDGER_FILE

    def entries(self) -> list[dict]:
        """Every release recorded, oldest first."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"release ledger {self.path.name}, line {i}: not JSON ({exc})") from exc
        return out

    def release_ids(self) -> set[str]:
        return {e["release_id"] for e in self.entries()}

    def append(
        self,
        release_id: str,
        protected: dict[str, pl.DataFrame],
        specs: dict[str, TableSpec],
        content_hash: str,
        run_id: str | None = None,
        audience: str | None = None,
    ) -> dict:
        """Record one release (under an exclusive lock, append-only). Returns the entry."""
        tables = {}
        for name, frame in sorted(protected.items()):
            spec = specs.get(name)
            cols = public_columns(frame, spec)
            pub = frame.select(cols)
            tables[name] = {
                "population": spec.population if spec else "",
                "dimensions": list(spec.dimensions)
                if spec
                else [
                    c
                    for c in cols
                    if c not in ("shown", "shown_percentage") and not c.endswith(PARENT_SUFFIX)
                ],
                "statistic": spec.statistic if spec else "count",
                "magnitude_of": spec.value if spec else None,
                "without_margins": list(spec.without_margins) if spec else [],
                "columns": cols,
                "rows": [list(r) for r in pub.iter_rows()],
            }
        entry = {
            "release_id": release_id,
            "time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "run_id": run_id,
            "audience": audience or audience_of(release_id),
            "content_hash": content_hash,
            "tables": tables,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, ensure_ascii=True, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return entry


def _frames_of(entry: dict) -> dict[str, pl.DataFrame]:
    out = {}
    for name, t in entry["tables"].items():
        schema = {c: pl.String for c in t["columns"]}
        frame = pl.DataFrame(t["rows"], schema=schema, orient="row")
        frame = frame.with_columns(
            population=pl.lit(t.get("population") or "", dtype=pl.String),
            magnitude_of=pl.lit(t.get("magnitude_of"), dtype=pl.String),
            without_margins=pl.lit(",".join(t.get("without_margins") or []), dtype=pl.String),
        )
        out[name] = frame
    return out


def earlier_releases(
    lake_root: Path, project: str, exclude: str | None = None, audience: str = "public"
) -> list[dict[str, pl.DataFrame]]:
    """The published tables of every earlier release of ``project`` (for :func:`audit`).

    ``exclude``: a release id to leave out (and its sub-releases), e.g. the one being
    re-audited. ``audience``: only releases that reached the same audience (restricted
    per-entity releases are not known to the public). Frames carry the dimension columns,
    ``shown``, and ``population`` / ``magnitude_of`` so the audit can link them.
    """
    out = []
    for e in ReleaseLedger(lake_root, project).entries():
        rid = e["release_id"]
        if exclude is not None and (rid == exclude or rid.startswith(exclude.rstrip("/") + "/")):
            continue
        if audience and e.get("audience", audience_of(rid)) != audience:
            continue
        out.append(_frames_of(e))
    return out
