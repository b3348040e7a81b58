"""An analysis's codes come from its own SQL, not from a spec: its release is scanned like an export
(cohort/privacy/scan.py) before anything is written, and a hit is refused naming the table, the column,
the rule and the count, never the value."""

import polars as pl
import pytest

from cohort.analysis.review import ReviewError, scan_outputs
from cohort.analysis.sources import analysable_projects
from cohort.privacy import disclosure as dc
from cohort.projects import anonymous

RULES = analysable_projects()["labour_reserve"].rules()


def protected(codes: list[str]) -> anonymous.ReleaseTables:
    spec = dc.TableSpec("by_code", ("code",))
    table = dc.tabulate(pl.DataFrame({"code": codes}), spec)
    return anonymous.protect_release(
        anonymous.ReleaseTables({"by_code": table}, {"by_code": spec}, {}, RULES)
    )


def test_a_national_number_as_a_label_is_refused_and_its_value_not_shown():
    release = protected(["85073003328"] * 6 + ["A"] * 6)  # an INSZ with a valid check digit, 6 units
    with pytest.raises(ReviewError) as refused:
        scan_outputs(release, [], "analysis study 2020")
    message = str(refused.value)
    assert "analysis study 2020: by_code" in message and "code: national_number (1 value" in message
    assert "85073003328" not in message and message.endswith("nothing is released")


def test_a_model_term_is_scanned_too_and_ordinary_codes_pass():
    release = protected(["10000"] * 6 + ["21000"] * 6 + ["2015Q2"] * 6)  # province codes, a quarter
    scan_outputs(release, [], "analysis study 2020")  # nothing to find: no exception
    dated = {"name": "m", "passed": True, "coefficients": [{"term": "2005-03-14", "coefficient": 0.5}]}
    with pytest.raises(ReviewError, match=r"m.coefficients.*term: day_level_date \(1 value"):
        scan_outputs(release, [dated], "analysis study 2020")
    # a refused model releases nothing but its checks: its coefficients are not scanned
    scan_outputs(release, [{**dated, "passed": False}], "analysis study 2020")
