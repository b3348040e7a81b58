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

import os
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
