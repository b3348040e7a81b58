"""A small analysis folder (two tables over the labour reserve) for the tests of ``cohort.analysis``."""

import shutil
from pathlib import Path

GOOD = """
project: labour_reserve
title: Reserve by province
tables:
  - name: reserve_by_province
    sql: reserve.sql
    dimensions: [province, destination]
  - name: age_mean
    sql: age.sql
    statistic: mean
    dimensions: [province]
    value: age
"""


def write(folder: Path, spec: str, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "analysis.yaml").write_text(spec)
    for name, text in (files or {"reserve.sql": "select 1", "age.sql": "select 2"}).items():
        (folder / name).write_text(text)
    return folder


def extract_only(lake: Path, into: Path) -> Path:
    """A lake holding ONLY the researcher's extract: the exports of ``lake``, without its secure area."""
    shutil.copytree(lake / "exports", into / "exports")
    return into
