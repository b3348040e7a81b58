"""The release gate, the sign-off and the ledger of earlier releases."""

import json

import polars as pl
import pytest

from cohort.privacy.disclosure import (
    DisclosureRules,
    ReleaseLedger,
    ReleaseRefused,
    TableSpec,
    audit,
    content_hash,
    earlier_releases,
    protect,
    record_signoff,
    release,
    tabulate,
)

COUNTS = {
    ("F", "young"): 3,
    ("F", "old"): 20,
    ("M", "young"): 15,
    ("M", "old"): 30,
    ("X", "young"): 12,
    ("X", "old"): 9,
}
SPEC = TableSpec("staff_by_sex_age", ("sex", "age"), population="staff at 2024-12-31")
SPECS = {SPEC.name: SPEC}


def micro() -> pl.DataFrame:
    rows = [{"sex": s, "age": a} for (s, a), k in COUNTS.items() for _ in range(k)]
    return pl.DataFrame(rows)


def protected_release(rules: DisclosureRules | None = None) -> dict[str, pl.DataFrame]:
    return protect({SPEC.name: tabulate(micro(), SPEC)}, SPECS, rules or DisclosureRules())


def test_release_is_written_only_after_audit_and_signoff(tmp_path):
    prot = protected_release()
    rep = audit(prot, SPECS, DisclosureRules())
    assert rep.passed, rep.findings
    digest = content_hash(prot, SPECS)
    signoff = record_signoff(tmp_path, "p003", "2024", "A. Checker", digest)
    body = json.loads(signoff.read_text())
    assert body["who"] == "A. Checker" and body["content_hash"] == digest and body["when"].endswith("Z")
    written = release(prot, rep, "p003", "2024", tmp_path, signoff)
    folder = tmp_path / "releases" / "p003" / "2024"
    assert {p.name for p in written} == {
        "staff_by_sex_age.csv", "staff_by_sex_age.parquet", "staff_by_sex_age.reasons.csv",
        "summary.json", "summary.md", "report.json", "report.md", "release.json"
    }  # fmt: skip
    csv = pl.read_csv(folder / "staff_by_sex_age.csv", infer_schema=False)
    # Only public columns leave: never the true counts, the statuses or the forced flags.
    assert csv.columns == ["sex", "age", "shown"]
    assert "1-5" in csv["shown"].to_list() and "3" not in csv["shown"].to_list()
    # Beside the table, its protected cells and why: the label is a primary cell (the label says so),
    # the hidden partners are only "suppressed" (saying "secondary" would tell that they are >= 5).
    reasons = pl.read_csv(folder / "staff_by_sex_age.reasons.csv", infer_schema=False)
    assert reasons.columns == ["sex", "age", "shown", "protection", "reason"]
    hidden = prot[SPEC.name].filter(pl.col("status") != "published")
    assert (
        reasons.select("sex", "age").sort("sex", "age").equals(hidden.select("sex", "age").sort("sex", "age"))
    )
    for row in reasons.iter_rows(named=True):
        assert row["protection"] == ("primary" if row["shown"] == "1-5" else "suppressed")
        assert row["reason"].startswith("threshold") == (row["shown"] == "1-5")
    assert ("F", "young", "1-5", "primary") in reasons.select("sex", "age", "shown", "protection").rows()
    # The summary: hidden share from the shown values (the grand total, 89, is published).
    summary = json.loads((folder / "summary.json").read_text())["tables"][SPEC.name]
    shown = csv.filter((pl.col("sex") != "Total") & (pl.col("age") != "Total"))
    published = sum(int(v) for v in shown.get_column("shown") if v not in ("x", "1-5"))
    assert summary["hidden_share_of_population"] == round(100 * (89 - published) / 89, 1) > 0
    assert summary["labelled"] == 1 and summary["hidden"] == csv.filter(pl.col("shown") == "x").height
    assert "population in hidden cells" in (folder / "summary.md").read_text()
    # The hidden cell that may be the largest: the largest bound a reader gets from the table (a
    # published row or column total minus its published cells), never its true value.
    numbers = {(r["sex"], r["age"]): r["shown"] for r in csv.iter_rows(named=True)}

    def bound(sex: str, age: str) -> float:
        out = float("inf")
        for total, siblings in (
            ((sex, "Total"), [(sex, a) for s_, a in numbers if s_ == sex and a not in ("Total", age)]),
            (("Total", age), [(s_, age) for s_, a in numbers if a == age and s_ not in ("Total", sex)]),
        ):
            if numbers[total].isdigit():
                out = min(
                    out, int(numbers[total]) - sum(int(numbers[c]) for c in siblings if numbers[c].isdigit())
                )
        return out

    hidden_x = [k for k, v in numbers.items() if v == "x" and "Total" not in k]
    assert hidden_x and summary["largest_hidden"]["at_most"] == max(bound(*k) for k in hidden_x)
    assert "may be the largest" in (folder / "summary.md").read_text()
    public_report = json.loads((folder / "report.json").read_text())
    assert public_report["passed"] is True and "cells" not in public_report
    assert "dominance_k" not in public_report["summary"]["rules"]
    assert "protected_cells" not in public_report["summary"]  # how many x are primary: operators only
    assert public_report["summary"]["suppressed"] == csv.filter(pl.col("shown") == "x").height
    manifest = json.loads((folder / "release.json").read_text())
    assert manifest["content_hash"] == digest and manifest["signed_off_by"] == ["A. Checker"]
    # Full report with true values on the secure side only.
    full = json.loads((tmp_path / "secure" / "p003" / "disclosure" / "2024" / "report.json").read_text())
    assert full["cells"][0]["true_value"] == 3.0
    assert not (tmp_path / "reports").exists()  # nothing of it outside the secure area
    # Ledger and audit log.
    entries = ReleaseLedger(tmp_path, "p003").entries()
    assert [e["release_id"] for e in entries] == ["2024"] and entries[0]["content_hash"] == digest
    log = (tmp_path / "audit" / "audit_log.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["action"] == "release"
    # A release id is never written twice.
    with pytest.raises(ReleaseRefused, match="already released"):
        release(
            prot,
            rep,
            "p003",
            "2024",
            tmp_path,
            record_signoff(tmp_path, "p003", "2024", "A. Checker", digest),
        )


def test_gate_refuses_a_release_with_a_recomputable_cell(tmp_path):
    # Unprotected except for one small cell suppressed alone in its row.
    t = tabulate(micro(), SPEC).with_columns(
        status=pl.when(pl.col("n").is_between(1, 4)).then(pl.lit("primary")).otherwise(pl.lit("published")),
    )
    t = t.with_columns(
        shown=pl.when(pl.col("status") == "primary").then(pl.lit("x")).otherwise(pl.col("n").cast(pl.String))
    )
    prot = {SPEC.name: t}
    rep = audit(prot, SPECS, DisclosureRules())
    assert not rep.passed
    assert any("differencing" in f for f in rep.findings)
    signoff = record_signoff(tmp_path, "p003", "2024", "A. Checker", content_hash(prot, SPECS))
    with pytest.raises(ReleaseRefused, match="small-cell risk analysis failed"):
        release(prot, rep, "p003", "2024", tmp_path, signoff)
    assert not (tmp_path / "releases" / "p003" / "2024").exists()
    log = [json.loads(x) for x in (tmp_path / "audit" / "audit_log.jsonl").read_text().splitlines()]
    assert log[-1]["action"] == "refusal"


def test_signoff_for_other_content_or_missing_signoff_refuses(tmp_path):
    prot = protected_release()
    rep = audit(prot, SPECS, DisclosureRules())
    other = prot[SPEC.name].with_columns(
        shown=pl.when(pl.col("shown") == "x").then(pl.lit("x")).otherwise(pl.col("shown"))
    )
    other = other.with_columns(
        shown=pl.when((pl.col("sex") == "M") & (pl.col("age") == "old"))
        .then(pl.lit("31"))
        .otherwise(pl.col("shown"))
    )
    wrong = record_signoff(tmp_path, "p003", "2024", "A. Checker", content_hash({SPEC.name: other}, SPECS))
    with pytest.raises(ReleaseRefused, match="sign again"):
        release(prot, rep, "p003", "2024", tmp_path, wrong)
    with pytest.raises(ReleaseRefused, match="no sign-off"):
        release(prot, rep, "p003", "2024", tmp_path, None)
    elsewhere = record_signoff(tmp_path, "p003", "2023", "A. Checker", content_hash(prot, SPECS))
    with pytest.raises(ReleaseRefused, match="not p003/2024"):
        release(prot, rep, "p003", "2024", tmp_path, elsewhere)
    with pytest.raises(ValueError, match="who"):
        record_signoff(tmp_path, "p003", "2024", " ", content_hash(prot, SPECS))
    assert not (tmp_path / "releases" / "p003" / "2024").exists()


def test_earlier_release_that_published_a_now_suppressed_cell_fails_the_audit(tmp_path):
    # Release 1 went out under other rules (nothing small), e.g. before the threshold was set.
    lenient = DisclosureRules(threshold=1, label=None, p_percent=None)
    first = protected_release(lenient)
    rep1 = audit(first, SPECS, lenient)
    assert rep1.passed
    release(
        first,
        rep1,
        "p003",
        "r1",
        tmp_path,
        record_signoff(tmp_path, "p003", "r1", "A", content_hash(first, SPECS)),
    )
    # Release 2 hides F/young, but the ledger remembers it was published as 3.
    second = protected_release()
    assert audit(second, SPECS, DisclosureRules()).passed
    earlier = earlier_releases(tmp_path, "p003")
    assert len(earlier) == 1 and set(earlier[0]) == {SPEC.name}
    rep2 = audit(second, SPECS, DisclosureRules(), earlier=earlier)
    assert not rep2.passed
    f = rep2.cells.filter(pl.col("cell") == "age=young, sex=F").row(0, named=True)
    assert (f["lower"], f["upper"], f["ok"]) == (3.0, 3.0, False)
    assert any("published in ['earlier[0]/staff_by_sex_age']" in x for x in rep2.findings)
    # Excluding the release being redone, and restricted sub-releases, from the public history.
    assert earlier_releases(tmp_path, "p003", exclude="r1") == []
    release(first, rep1, "p003", "r9/restricted/E1", tmp_path,
            record_signoff(tmp_path, "p003", "r9/restricted/E1", "A", content_hash(first, SPECS)))  # fmt: skip
    assert len(earlier_releases(tmp_path, "p003")) == 1
    assert len(earlier_releases(tmp_path, "p003", audience="restricted")) == 1
