"""The rules applied to an analysis's tables (what ``cohort analysis run`` shows): a small count is hidden
by the threshold, a sum dominated by one contributor by the dominance rule, and a mean shows only where
its sum may be shown."""

import polars as pl
from analysis_folders import GOOD, write

from cohort.analysis.folder import load_analysis
from cohort.analysis.tabulate import preview
from cohort.privacy import disclosure as dc

RULES = dc.DisclosureRules(threshold=5, label=None)


def statuses(table) -> dict[tuple, tuple[str, str]]:
    dims = [c for c in table.shown.columns if c not in ("shown", "status")]
    return {tuple(r[d] for d in dims): (r["shown"], r["status"]) for r in table.shown.to_dicts()}


def test_small_counts_and_a_dominant_contributor_are_hidden(tmp_path):
    spec = GOOD.replace("statistic: mean", "statistic: sum")
    analysis = load_analysis(write(tmp_path / "study", spec))
    # province 10000: 3 persons left (a small cell); province 20000: 12 persons, one earning almost all
    counts = pl.DataFrame(
        {
            "province": ["10000"] * 3 + ["20000"] * 12 + ["30000"] * 12,
            "destination": ["left"] * 3 + ["to work"] * 12 + ["to work"] * 12,
        }
    )
    sums = pl.DataFrame(
        {
            "province": ["20000"] * 12 + ["30000"] * 12,
            "age": [1000.0] + [1.0] * 11 + [10.0] * 12,
        }
    )
    tables = {
        t.name: t for t in preview(analysis, {"reserve_by_province": counts, "age_mean": sums}, 2020, RULES)
    }
    count = statuses(tables["reserve_by_province"])
    assert count[("10000", "left")] == ("x", "primary")
    # the 3 of province 10000 also make its total and the total of "left": three cells of 1-4 persons
    assert tables["reserve_by_province"].primary == 3
    assert count[("20000", "to work")][1] != "primary"
    magnitude = statuses(tables["age_mean"])
    assert magnitude[("20000",)] == ("x", "primary")  # 1000 of 1011: dominance (1, 85%)
    assert magnitude[("Total",)] == ("x", "primary")  # 1000 of 1131: still dominated
    assert magnitude[("30000",)] == ("120.0", "published")


def test_a_mean_is_shown_where_its_sum_may_be(tmp_path):
    analysis = load_analysis(write(tmp_path / "study", GOOD))
    counts = pl.DataFrame({"province": ["10000"] * 6, "destination": ["left"] * 6})
    ages = pl.DataFrame({"province": ["10000"] * 6 + ["20000"] * 6, "age": [30.0] * 6 + [40.0, 50.0] * 3})
    tables = {
        t.name: t for t in preview(analysis, {"reserve_by_province": counts, "age_mean": ages}, 2020, RULES)
    }
    means = statuses(tables["age_mean"])
    assert means[("10000",)] == ("30.0", "published")
    assert means[("20000",)] == ("45.0", "published")
    assert means[("Total",)] == ("37.5", "published")
