"""summary.md says why a release is dominated by suppression, from its shown cells only (issue 25)."""

from cohort.privacy.disclosure.explain import summary_markdown, suppression_causes


def _table(cells: int, published: int, labelled: int, total_published: bool) -> dict:
    return {
        "cells": cells,
        "published": published,
        "labelled": labelled,
        "hidden": cells - published - labelled,
        "levels": {},
        "hidden_share_of_population": 10.0 if total_published else None,
        "grand_total_published": total_published,
        "largest_hidden": None,
    }


def _summary(tables: dict) -> dict:
    return {
        "tables": tables,
        "cells": sum(t["cells"] for t in tables.values()),
        "published": sum(t["published"] for t in tables.values()),
        "label": "1-5",
    }


def test_a_release_dominated_by_suppression_names_its_heaviest_tables_and_hidden_totals():
    summary = _summary(
        {
            "by_combination": _table(1000, 0, 600, total_published=False),
            "by_sex": _table(100, 60, 10, total_published=True),
            "overall": _table(20, 5, 2, total_published=False),
        }
    )
    causes = suppression_causes(summary)
    # 600 + 400 of the 1,000 + 40 + 15 protected cells: the combination table alone holds more than half
    assert causes[0].startswith(
        "- 1,000 of the 1,055 protected cells are in `by_combination` (1,000 of 1,000 cells)"
    )
    assert "by_sex" not in causes[0]
    assert causes[1].startswith("- 612 protected cells are small counts shown as '1-5'")
    assert causes[2] == (
        "- The grand total is hidden in 2 of 3 tables (for them the share of the population in hidden cells is not given)."
    )
    text = summary_markdown(summary, "release")
    assert "dominated by suppression" in text and causes[0] in text


def test_a_release_mostly_published_gives_no_causes():
    summary = _summary({"overall": _table(20, 15, 2, total_published=True)})
    text = summary_markdown(summary, "release")
    assert "dominated" not in text and "protected cells are in" not in text
