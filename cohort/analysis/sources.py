"""Which project's tables an analysis may read, and where they are: the trusted side of the sandbox.

The researcher names a project in ``analysis.yaml``; only the tables listed here for that project are
put on the analysis's connection, under the same names in both settings, so that one SQL text runs on
the extract (``<lake>/exports/<project>/<extract folder>/<table>``, what the researcher received) and
on the full tables (``<lake>/secure/<project>/<table>``, in the secure area only).
"""

from dataclasses import dataclass
from pathlib import Path

from cohort import settings, storage
from cohort.analysis.models import DEFAULT_MIN_RESIDUAL_DF
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous
from cohort.projects.spec import load_spec


@dataclass(frozen=True)
class AnalysableProject:
    """A project whose tables analyses may read.

    Attributes:
        project: the project id (its folder under ``secure/`` and ``exports/``).
        tables: the tables put on the analysis's connection (yearly partitions, column ``year``).
        extract_folder: the folder of the extract under ``exports/<project>/``.
        rules_from: the project whose spec holds the disclosure rules of the analyses' results.
        first_year, last_year: the years an analysis is run for in the secure area.
    """

    project: str
    tables: tuple[str, ...]
    extract_folder: str
    rules_from: str
    first_year: int
    last_year: int

    def rules(self) -> dc.DisclosureRules:
        return anonymous.spec_rules(load_spec(self.rules_from))

    def min_residual_df(self) -> int:
        """The fewest residual degrees of freedom a released model may have (the project's
        ``disclosure.models.min_residual_df``, else ACRO's default)."""
        models = load_spec(self.rules_from).disclosure.get("models") or {}
        return int(models.get("min_residual_df", DEFAULT_MIN_RESIDUAL_DF))

    def approvals_needed(self) -> int:
        """How many distinct reviewers must approve an analysis's output before it is released
        (the project's ``disclosure.review.approvals``, else one)."""
        review = load_spec(self.rules_from).disclosure.get("review") or {}
        return max(1, int(review.get("approvals", 1)))

    def extract_files(self, lake: settings.Lake) -> dict[str, list[Path]]:
        """table -> its Parquet files in the researcher's extract (phase 1)."""
        area = lake.exports / self.project / self.extract_folder
        return {t: storage.table_files(area, t) for t in self.tables}

    def secure_files(self, lake: settings.Lake) -> dict[str, list[Path]]:
        """table -> its Parquet files in the secure area (phase 2: the full population)."""
        return {t: storage.table_files(lake.secure / self.project, t) for t in self.tables}


def _labour_reserve() -> AnalysableProject:
    results = load_spec("labour_reserve_results")
    return AnalysableProject(
        project="labour_reserve",
        # seed 004 §2: the phase-1 extract holds the same two tables (same columns and pseudonyms) as phase 2
        tables=("mobility_next", "mobility_prev"),
        extract_folder="phase1",
        rules_from=results.id,
        first_year=results.first_year,
        last_year=results.last_year,
    )


def analysable_projects() -> dict[str, AnalysableProject]:
    """The projects analyses may read, by id."""
    found = [_labour_reserve()]
    return {p.project: p for p in found}
