"""Where things live. Every path derives from two environment variables so that a test,
a CI run or a production deployment can point the same code somewhere else:

- ``COHORT_DATA_DIR``: the lake root (default ``./data``). Holds ``warehouse/`` (the source
  extract, unless overridden), ``secure/`` (pseudonymised tables that never leave),
  ``exports/`` (deliveries), ``releases/`` (anonymous tables that passed the gate),
  ``reports/``, ``quarantine/``, ``audit/``, ``keys/`` (demo keys only) and ``dagster/``.
- ``COHORT_WAREHOUSE_DIR``: the source extract (default ``$COHORT_DATA_DIR/warehouse``).
  Point it at a folder of Parquet files that follow ``cohort.sources.contract`` to run on a
  real extract; nothing else changes.
"""

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Lake:
    """The folders of one lake. Build it with :func:`lake` rather than by hand."""

    root: Path
    warehouse: Path

    @property
    def secure(self) -> Path:
        return self.root / "secure"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def audit(self) -> Path:
        return self.root / "audit"

    @property
    def keys(self) -> Path:
        return self.root / "keys"


def lake(
    data_dir: str | os.PathLike[str] | None = None, warehouse_dir: str | os.PathLike[str] | None = None
) -> Lake:
    """The lake named by the arguments, else by the environment, else ``./data``."""
    root = Path(data_dir or os.environ.get("COHORT_DATA_DIR") or "data").resolve()
    wh = warehouse_dir or os.environ.get("COHORT_WAREHOUSE_DIR") or root / "warehouse"
    return Lake(root=root, warehouse=Path(wh).resolve())


class LakeError(ValueError):
    """A lake root or a warehouse folder that cannot be used: the message names the path and why."""


def require_lake_root(lake: Lake, must_exist: bool = False) -> Lake:
    """``lake`` when its root is a folder (or, unless ``must_exist``, not there yet: builds make it)
    and its warehouse is not a file.

    A file given as the root, or a root that does not exist when one is read, is a user mistake
    (``--data-dir`` / ``COHORT_DATA_DIR``) that should be named, not met later as an OSError."""
    root = lake.root
    if root.exists() and not root.is_dir():
        raise LakeError(f"{root} is a file, not a lake folder (--data-dir / COHORT_DATA_DIR)")
    if must_exist and not root.exists():
        raise LakeError(f"no lake at {root}: the folder does not exist (--data-dir / COHORT_DATA_DIR)")
    if lake.warehouse.exists() and not lake.warehouse.is_dir():
        raise LakeError(
            f"the warehouse {lake.warehouse} is a file, not a folder of tables (COHORT_WAREHOUSE_DIR)"
        )
    return lake


def require_warehouse(lake: Lake, tables: Iterable[str]) -> Lake:
    """``lake`` when its warehouse folder holds at least one of ``tables`` as Parquet files.

    Whether each table follows the contract is the warehouse checks' business; this only stops a
    build that points at the wrong folder (``COHORT_WAREHOUSE_DIR``, ``--data-dir``) before any
    run starts, with the folder named."""
    require_lake_root(lake)
    wh = lake.warehouse
    if not wh.exists():
        raise LakeError(
            f"no warehouse at {wh}: the folder does not exist (build one with `cohort demo` or "
            "`cohort warehouse build`, or point COHORT_WAREHOUSE_DIR at an extract)"
        )
    names = sorted(tables)
    if not any(any((wh / name).rglob("*.parquet")) for name in names if (wh / name).is_dir()):
        raise LakeError(
            f"no warehouse at {wh}: none of its folders is a source table with Parquet files "
            f"(expected {', '.join(names[:4])}, ... as in cohort.sources.contract)"
        )
    return lake


WAREHOUSE_MANIFEST = "_manifest.json"  # written by the synthetic generator beside its tables


def warehouse_scale(warehouse_dir: Path) -> float:
    """Scale of a synthetic warehouse from its ``_manifest.json``; a real extract (no manifest) is 1.0."""
    manifest = Path(warehouse_dir) / WAREHOUSE_MANIFEST
    if not manifest.exists():
        return 1.0
    return float(json.loads(manifest.read_text()).get("scale", 1.0))


def synthetic_warehouse(lake: Lake) -> bool:
    """True when the lake's warehouse was written by this package's synthetic generator (its
    manifest names the generator), i.e. it is the demo's, not a real extract."""
    try:
        manifest = json.loads((lake.warehouse / WAREHOUSE_MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "generator_version" in manifest
