"""Which project's tables an analysis may read, and where they are: the trusted side of the sandbox.

The researcher names a project in ``analysis.yaml``; only the tables listed here for that project are
put on the analysis's connection, under the same names and with the same columns in both settings, so
that one SQL text runs on the extract (``<lake>/exports/<project>/<extract folder>/<prefix><table>``,
what the researcher received) and on the full tables (``<lake>/secure/<project>/<table>``, in the
secure area only, through the project's view of them when its extract has other columns).

Two projects are analysable:

- ``labour_reserve`` (seed 004): ``mobility_next`` and ``mobility_prev``, yearly; the extract is the
  phase-1 export (same tables, same columns); results go under ``labour_reserve_results``.
- ``measure_profiles`` (seed 001): the frames ``profile``, ``inflow`` and ``outflow``, one table each
  for 2015 (not yearly: no partitions); the extract is ``exports/measure_profiles/extract_<frame>``,
  the secure frames are seen through :func:`cohort.projects.measure_profiles.researcher_view.secure_view_sql`
  (the extract's columns only); results go under ``measure_profiles``, in the ledger of its own
  release (advice 16/39), with its disclosure rules.
"""

from dataclasses import dataclass, field
from pathlib import Path

from cohort import settings, storage
from cohort.analysis.models import DEFAULT_MIN_RESIDUAL_DF
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous
from cohort.projects.measure_profiles import researcher_view
from cohort.projects.spec import load_spec


@dataclass(frozen=True)
class AnalysableProject:
    """A project whose tables analyses may read.

    Attributes:
        project: the project id (its folder under ``secure/`` and ``exports/``).
        tables: the tables put on the analysis's connection (yearly: partitions with a column ``year``).
        extract_folder: the folder of the extract under ``exports/<project>/`` ("" for that folder itself).
        rules_from: the project whose spec holds the disclosure rules of the analyses' results.
        first_year, last_year: the years an analysis is run for in the secure area (yearly), or the
            years its one table covers.
        yearly: whether the tables are partitioned by year; an analysis of a project that is not runs
            once on its whole tables (no partition, no ``--year``).
        extract_prefix: the extract's table of ``t`` is ``<extract_prefix><t>``.
        secure_views: table -> the trusted query that makes the analysis's table of the secure files
            (``{source}``: the files), to give it the extract's columns; a table not listed is read whole.
    """

    project: str
    tables: tuple[str, ...]
    extract_folder: str
    rules_from: str
    first_year: int
    last_year: int
    yearly: bool = True
    extract_prefix: str = ""
    secure_views: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def rules(self) -> dc.DisclosureRules:
        return anonymous.spec_rules(load_spec(self.rules_from))

    def keys(self) -> set[str]:
        """The key columns of the tables (the project's variables of kind ``pseudonym``: ``person_id``,
        seed 001's ``record_number``): an analysis may join and filter on them, never put their values in
        a result, not even as the labels of a table (:func:`cohort.analysis.sandbox.keys_in_result`)."""
        return {v.name for v in load_spec(self.project).variables.values() if v.kind == "pseudonym"}

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
        """table -> its Parquet files in the researcher's extract (the labour reserve's phase 1, seed 001's
        preparation extract)."""
        return {t: storage.table_files(self.extract_area(lake), self.extract_prefix + t) for t in self.tables}

    def extract_area(self, lake: settings.Lake) -> Path:
        """The folder of the extract (``Path / ""`` is the path itself)."""
        return lake.exports / self.project / self.extract_folder

    def secure_files(self, lake: settings.Lake) -> dict[str, list[Path]]:
        """table -> its Parquet files in the secure area (phase 2: the full population)."""
        return {t: storage.table_files(lake.secure / self.project, t) for t in self.tables}

    def secure_queries(self) -> dict[str, str]:
        """table -> the query making the analysis's table of its secure files (``{source}``), where the
        secure table has other columns than the extract."""
        return dict(self.secure_views)

    def covers(self) -> str:
        """The years the tables cover: ``2015``, ``2020-2022``."""
        return (
            f"{self.first_year}"
            if self.first_year == self.last_year
            else f"{self.first_year}-{self.last_year}"
        )


def _labour_reserve() -> AnalysableProject:
    results = load_spec("labour_reserve_results")
    return AnalysableProject(
        project=str(results.extra["source_project"]),
        # seed 004 §2: the phase-1 extract holds the same two tables (same columns and pseudonyms) as phase 2
        tables=("mobility_next", "mobility_prev"),
        extract_folder="phase1",
        rules_from=results.id,
        first_year=results.first_year,
        last_year=results.last_year,
    )


def _measure_profiles() -> AnalysableProject:
    # seed 001 §2: the frames stay at the KSZ, the researchers prepare on "een extract van enkele duizenden
    # records" (exports/measure_profiles/extract_<frame>) and take out only aggregated results
    spec = researcher_view.spec()
    return AnalysableProject(
        project=spec.id,
        tables=researcher_view.FRAMES,
        extract_folder="",
        rules_from=spec.id,
        first_year=spec.first_year,
        last_year=spec.last_year,
        yearly=False,
        extract_prefix=researcher_view.extract_table(""),
        secure_views=tuple(
            (f, researcher_view.secure_view_sql(f, "{source}", spec)) for f in researcher_view.FRAMES
        ),
    )


def analysable_projects() -> dict[str, AnalysableProject]:
    """The projects analyses may read, by id."""
    found = [_labour_reserve(), _measure_profiles()]
    return {p.project: p for p in found}
