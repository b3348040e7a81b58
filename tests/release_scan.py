"""Look for the true values of protected cells in files outside the secure area.

The secrets are read from the secure side only: ``<lake>/secure/<project>/release_tables/<release>/``
holds every protected table of a release (true count ``n``, ``status``) with its specs and dimensions
(``_release.json``). A protected cell is any cell not published (primary, label, or secondary
partner): a secondary partner's value gives its primary cell away as surely as the primary's own.

A number alone proves nothing (every file is full of small numbers), so a file leaks when it ties a
protected cell to its true value:

- a table (CSV or Parquet of a release, the rows of the ledger): the row of the cell (same population,
  same coordinates; linked tables share a cell) holds the value in any non-dimension column;
- a JSON record (a dict): it names the cell (its dimension columns, or an engine-style ``cell`` label
  ``dim=code, dim=code`` with a ``table`` of that population) and holds the value in a field;
- a line of text (Markdown, logs, metadata, JSON strings): it names the cell by its label and holds the
  value as a number.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cohort.projects.anonymous import restricted_release_id

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


@dataclass
class Secrets:
    """The protected cells of the releases in a lake, as (population, coordinates) -> true values."""

    values: dict[tuple[str, frozenset], set[float]] = field(default_factory=dict)
    #: engine-style label ("dim=code, dim=code", or "grand total") -> true values, any population
    labels: dict[str, set[float]] = field(default_factory=dict)
    #: (release folder relative to the releases root, table name) -> population
    populations: dict[tuple[str, str], str] = field(default_factory=dict)
    #: table name -> populations (tables of other releases may share a name)
    table_populations: dict[str, set[str]] = field(default_factory=dict)
    #: dimension -> its total label (every dimension of every table; "Total" unless declared)
    totals: dict[str, str] = field(default_factory=dict)
    #: the cells' coordinates ``dim=code`` as one pattern, made on first use (:func:`_without_coordinates`)
    coordinates: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return sum(len(v) for v in self.values.values())


def cell_key(coords: dict[str, Any], totals: dict[str, str]) -> frozenset:
    return frozenset(
        (d, str(v)) for d, v in coords.items() if v is not None and str(v) != totals.get(d, "Total")
    )


def label(key: frozenset) -> str:
    """The engine's way of naming a cell in reports (cohort.privacy.disclosure.audit)."""
    return ", ".join(f"{d}={v}" for d, v in sorted(key)) or "grand total"


def read_secrets(lake_root: Path) -> Secrets:
    """Every protected cell of every release whose protected tables are in the secure area."""
    out = Secrets()
    secure = Path(lake_root) / "secure"
    for meta_path in sorted(secure.glob("*/release_tables/**/_release.json")):
        folder = meta_path.parent
        project = folder.relative_to(secure).parts[0]
        release = folder.relative_to(secure / project / "release_tables").as_posix()
        public_id, *restricted = release.split("/restricted/")
        if restricted:  # kept with its public release (anonymous.save_release), released apart from it
            release = restricted_release_id(public_id, restricted[0])
        meta = json.loads(meta_path.read_text())
        totals = {d: "Total" for spec in meta["specs"].values() for d in spec["dimensions"]}
        totals |= {d: m["total_label"] for d, m in meta["dimensions"].items()}
        out.totals.update(totals)
        for name, spec in meta["specs"].items():
            population = spec["population"]
            out.populations[(f"{project}/{release}", name)] = population
            out.table_populations.setdefault(name, set()).add(population)
            frame = pl.read_parquet(folder / f"{name}.parquet")
            hidden = frame.filter(pl.col("status") != "published")
            for row in hidden.select([*spec["dimensions"], "n"]).iter_rows(named=True):
                n = float(row.pop("n"))
                key = cell_key(row, totals)
                out.values.setdefault((population, key), set()).add(n)
                out.labels.setdefault(label(key), set()).add(n)
    return out


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str) and _NUMBER.fullmatch(v.strip()):
        return float(v)
    return None


def scan_table(
    frame: pl.DataFrame, population: str, secrets: Secrets, where: str, dims: list[str] | None = None
) -> list[str]:
    """Rows of a released or recorded table that hold the true value of their protected cell."""
    dims = dims if dims is not None else [d for d in frame.columns if d in secrets.totals]
    others = [c for c in frame.columns if c not in dims and not c.endswith("__parent")]
    found = []
    for row in frame.iter_rows(named=True):
        truth = secrets.values.get((population, cell_key({d: row[d] for d in dims}, secrets.totals)))
        if not truth:
            continue
        for c in others:
            if _as_number(row[c]) in truth:
                found.append(
                    f"{where}: {label(cell_key({d: row[d] for d in dims}, secrets.totals))} {c}={row[c]}"
                )
    return found


def _coordinates_pattern(secrets: Secrets) -> re.Pattern[str] | None:
    """The coordinates ``dim=code`` of the protected cells, exactly as a cell's name writes them."""
    if secrets.coordinates is None:
        pairs = {f"{d}={c}" for _, key in secrets.values for d, c in key}
        alternatives = "|".join(re.escape(p) for p in sorted(pairs, key=len, reverse=True))
        secrets.coordinates = re.compile(alternatives) if alternatives else re.compile(r"(?!)")
    return secrets.coordinates


def _without_coordinates(line: str, secrets: Secrets) -> str:
    """``line`` without the coordinates of the cells it names: a code holds digits that are no value
    (the age class 18-24 of a cell's name is neither 18 nor 24 persons)."""
    return _coordinates_pattern(secrets).sub(" ", line)


def scan_text(text: str, secrets: Secrets, where: str) -> list[str]:
    """Lines that name a protected cell by its label and carry its true value as a number."""
    found = []
    for line in text.splitlines():
        numbers = {float(m) for m in _NUMBER.findall(_without_coordinates(line, secrets))}
        if not numbers:
            continue
        for name, truth in secrets.labels.items():
            if name in line and numbers & truth:
                found.append(f"{where}: {line.strip()[:200]}")
                break
    return found


def scan_json(value: Any, secrets: Secrets, where: str) -> list[str]:
    """Records (dicts) that name a protected cell and hold its value; strings are scanned as text."""
    found: list[str] = []
    if isinstance(value, dict):
        dims = {k: v for k, v in value.items() if k in secrets.totals and isinstance(v, str)}
        populations: set[str] = set()
        coords: frozenset | None = None
        if dims:
            coords = cell_key(dims, secrets.totals)
            populations = (
                set().union(*secrets.table_populations.values()) if secrets.table_populations else set()
            )
        elif isinstance(value.get("cell"), str):
            text = value["cell"]
            pairs = [p.split("=", 1) for p in text.split(", ")] if text != "grand total" else []
            if all(len(p) == 2 for p in pairs):
                coords = frozenset((d, v) for d, v in pairs)
                populations = secrets.table_populations.get(
                    str(value.get("table", "")), set()
                ) or set().union(*secrets.table_populations.values())
        if coords is not None:
            truth = (
                set().union(*(secrets.values.get((p, coords), set()) for p in populations))
                if populations
                else set()
            )
            for k, v in value.items():
                if k not in dims and _as_number(v) in truth:
                    found.append(f"{where}: {label(coords)} {k}={v}")
        for k, v in value.items():
            found += scan_json(v, secrets, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += scan_json(v, secrets, f"{where}[{i}]")
    elif isinstance(value, str):
        found += scan_text(value, secrets, where)
    return found


def scan_ledger(path: Path, secrets: Secrets, where: str) -> list[str]:
    found = []
    for i, line in enumerate(path.read_text().splitlines()):
        if not line.strip():
            continue
        entry = json.loads(line)
        for name, t in entry.get("tables", {}).items():
            frame = pl.DataFrame(t["rows"], schema={c: pl.String for c in t["columns"]}, orient="row")
            found += scan_table(
                frame, t.get("population", ""), secrets, f"{where}:{i + 1}/{name}", t["dimensions"]
            )
        rest = {k: v for k, v in entry.items() if k != "tables"}
        found += scan_json(rest, secrets, f"{where}:{i + 1}")
    return found


def scan_file(path: Path, secrets: Secrets, releases_root: Path | None = None) -> list[str]:
    """Every leak of a protected cell's true value in one file."""
    where = path.as_posix()
    suffix = path.suffix.lower()
    if path.name.endswith(".jsonl"):
        return scan_ledger(path, secrets, where)
    if suffix in (".csv", ".parquet"):
        frame = (
            pl.read_csv(path, infer_schema=False) if suffix == ".csv" else pl.read_parquet(path)
        ).with_columns(pl.all().cast(pl.String))
        release = ""
        if releases_root is not None and path.is_relative_to(releases_root):
            release = path.parent.relative_to(releases_root).as_posix()
        population = secrets.populations.get((release, path.stem))
        candidates = [population] if population else sorted(secrets.table_populations.get(path.stem, set()))
        return [leak for p in candidates for leak in scan_table(frame, p, secrets, where)]
    text = path.read_text(errors="replace")
    if suffix == ".json":
        try:
            return scan_json(json.loads(text), secrets, where)
        except json.JSONDecodeError:
            pass
    return scan_text(text, secrets, where)


def scan_tree(root: Path, secrets: Secrets, releases_root: Path | None = None) -> list[str]:
    """Every leak in every file under ``root``."""
    found = []
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        found += scan_file(path, secrets, releases_root)
    return found
