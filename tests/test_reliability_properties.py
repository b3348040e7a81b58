"""Property-based attacks (hypothesis) on the source checks and the export scanner.

The source properties compare the DuckDB implementation with a plain-Python oracle written
from the rules' definitions: every bad row must be in quarantine with exactly the reasons the
oracle gives, and every good row must pass.
"""

import tempfile
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import person_row, valid_row, write_table

from cohort.classifications.insz import is_valid_insz, make_enterprise_number, make_insz
from cohort.privacy import scan
from cohort.sources import checks

AS_OF = date(2026, 12, 31)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

births = st.dates(date(1930, 1, 1), date(2010, 12, 31))
people = st.lists(
    st.tuples(births, st.integers(1, 997)), min_size=1, max_size=6, unique_by=lambda p: make_insz(p[0], p[1])
)


def _run(table: str, rows: list[dict], persons: list[dict] | None = None) -> dict[int, set[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        wh, q = Path(tmp) / "wh", Path(tmp) / "q"
        if persons is not None:
            write_table(wh, "person", persons)
        write_table(wh, table, rows)
        result = checks.load_source(None, wh, table, 1.0, q, as_of=AS_OF)
        quarantine = pl.read_parquet(q / table / "data.parquet")
        got = {r["_row"]: set(r["reasons"].split(",")) for r in quarantine.iter_rows(named=True)}
        for r in quarantine.iter_rows(named=True):
            assert r["reason"] in got[r["_row"]]
        assert result.rejected == len(got) and result.accepted == len(rows) - len(got)
        assert sum(result.counts.values()) == result.rejected  # nothing dropped silently
        return got


def _insz_reason(value: str | None, col: str) -> set[str]:
    if value is None:
        return set()
    if len(value) != 11 or not value.isdigit():
        return {f"format:{col}"}
    return set() if is_valid_insz(value) else {f"insz_checksum:{col}"}


# --------------------------------------------------------------------------- person
PERSON_MUTATIONS = [
    "none",
    "checksum",
    "short",
    "long",
    "letter",
    "sex",
    "null_country",
    "future_birth",
    "death_before_birth",
    "duplicate",
]


@SETTINGS
@given(people, st.lists(st.sampled_from(PERSON_MUTATIONS), min_size=6, max_size=6))
def test_person_rows_against_the_contract(persons, mutations):
    rows: list[dict] = []
    for (birth, seq), mutation in zip(persons, mutations, strict=False):
        insz = make_insz(birth, seq)
        row = person_row(insz, birth)
        if mutation == "checksum":
            row["insz"] = insz[:9] + f"{(int(insz[9:]) + 1) % 100:02d}"
        elif mutation == "short":
            row["insz"] = insz[:10]
        elif mutation == "long":
            row["insz"] = insz + "7"
        elif mutation == "letter":
            row["insz"] = insz[:4] + "A" + insz[5:]
        elif mutation == "sex":
            row["sex"] = "X"
        elif mutation == "null_country":
            row["birth_country"] = None
        elif mutation == "future_birth":
            row["birth_date"] = AS_OF + timedelta(days=1 + seq)
        elif mutation == "death_before_birth":
            row["death_date"] = row["birth_date"] - timedelta(days=seq)
        rows.append(row)
        if mutation == "duplicate":
            rows.append(dict(row, sex="F"))
    keys = [r["insz"] for r in rows]
    expected: dict[int, set[str]] = {}
    for i, r in enumerate(rows):
        reasons = _insz_reason(r["insz"], "insz")
        if r["sex"] not in ("M", "F"):
            reasons.add("code:sex")
        if r["birth_country"] is None:
            reasons.add("null:birth_country")
        if r["birth_date"] > AS_OF:
            reasons.add("future_date:birth_date")
        if r["death_date"] is not None and r["death_date"] < r["birth_date"]:
            reasons.add("before_birth:death_date")
        if keys.count(r["insz"]) > 1:
            reasons.add("duplicate_key")
        if reasons:
            expected[i] = reasons
    assert _run("person", rows) == expected


# --------------------------------------------------------------------------- residence spells
SPELL_MUTATIONS = [
    "none",
    "none",
    "inverted",
    "overlap",
    "before_birth",
    "future",
    "null_insz",
    "bad_nis",
    "duplicate",
]


@SETTINGS
@given(
    people,
    st.lists(
        st.tuples(st.integers(1, 4000), st.integers(1, 4000), st.sampled_from(SPELL_MUTATIONS)),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_residence_spells_against_the_contract(persons, spells, last_open):
    persons_rows = [person_row(make_insz(b, s), b) for b, s in persons]
    rows: list[dict] = []
    cursor = {p["insz"]: p["birth_date"] for p in persons_rows}
    for k, (gap, length, mutation) in enumerate(spells):
        p = persons_rows[k % len(persons_rows)]
        start = cursor[p["insz"]] + timedelta(days=gap)
        end = start + timedelta(days=length)
        cursor[p["insz"]] = end  # the next spell of this person starts after this one: no overlap
        open_ended = last_open and k >= len(spells) - len(persons_rows)
        row = valid_row(
            "residence_history", insz=p["insz"], valid_from=start, valid_to=None if open_ended else end
        )
        if mutation == "inverted":
            row["valid_to"] = start - timedelta(days=gap % 3)
        elif mutation == "overlap":
            row["valid_from"] = start - timedelta(days=gap + 1)  # reaches back before the previous end
        elif mutation == "before_birth":
            row["valid_from"] = p["birth_date"] - timedelta(days=gap)
        elif mutation == "future":
            row["valid_from"] = AS_OF + timedelta(days=gap)
            row["valid_to"] = None
        elif mutation == "null_insz":
            row["insz"] = None
        elif mutation == "bad_nis":
            row["nis_code"] = "1100"
        rows.append(row)
        if mutation == "duplicate":
            rows.append(dict(row, country="NL"))

    births = {p["insz"]: p["birth_date"] for p in persons_rows}
    expected: dict[int, set[str]] = {}
    for i, r in enumerate(rows):
        reasons = set()
        if r["insz"] is None:
            reasons.add("null:insz")
        if r["nis_code"] is not None and not (len(r["nis_code"]) == 5 and r["nis_code"].isdigit()):
            reasons.add("format:nis_code")
        if r["valid_to"] is not None and r["valid_to"] <= r["valid_from"]:
            reasons.add("inverted_spell:valid_to")
        if r["valid_from"] > AS_OF:
            reasons.add("future_date:valid_from")
        if r["insz"] is not None and r["valid_from"] < births[r["insz"]]:
            reasons.add("before_birth:valid_from")
        if r["valid_to"] is not None and r["insz"] is not None and r["valid_to"] < births[r["insz"]]:
            reasons.add("before_birth:valid_to")
        if sum(1 for o in rows if (o["insz"], o["valid_from"]) == (r["insz"], r["valid_from"])) > 1:
            reasons.add("duplicate_key")
        if reasons:
            expected[i] = reasons
    sound = [i for i in range(len(rows)) if i not in expected]
    far = date(9999, 12, 31)
    for i in sound:
        a = rows[i]
        for j in sound:
            b = rows[j]
            if (
                i != j
                and a["insz"] == b["insz"]
                and a["valid_from"] < (b["valid_to"] or far)
                and b["valid_from"] < (a["valid_to"] or far)
            ):
                expected.setdefault(i, set()).add("overlapping_spell")
    assert _run("residence_history", rows, persons_rows) == expected


# --------------------------------------------------------------------------- the export scanner
def _formats(number: str) -> st.SearchStrategy[str]:
    if len(number) == 11:
        n = number
        return st.sampled_from(
            [
                n,
                f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:]}",
                f"{n[:6]}-{n[6:9]}-{n[9:]}",
                f"{n[:6]} {n[6:9]} {n[9:]}",
                f"{n[:6]}/{n[6:9]}.{n[9:]}",
            ]
        )
    return st.sampled_from(
        [number, f"{number[:4]}.{number[4:7]}.{number[7:]}", f"{number[:4]} {number[4:7]} {number[7:]}"]
    )


no_digits = st.text(alphabet=st.characters(categories=["L", "Zs"], max_codepoint=0x24F), max_size=12)


@SETTINGS
@given(births, st.integers(1, 997), st.data(), no_digits, no_digits)
def test_any_national_number_in_any_format_inside_text_blocks_the_export(birth, seq, data, before, after):
    number = make_insz(birth, seq)
    text = before + ("" if not before else " ") + data.draw(_formats(number)) + (" " if after else "") + after
    df = pl.DataFrame({"seq": [1, 2], "note": ["fine", text], "as_int": [3, int(number)]})
    result = scan.scan_export(df, {"seq": "pseudonym", "note": "text", "as_int": "code"}, "t")
    hits = {(h.column, h.rule) for h in result.hits}
    assert ("note", "national_number") in hits and ("as_int", "national_number") in hits
    blocked = str(scan.ExportBlocked(result))
    assert number not in blocked and number[:6] not in blocked  # the message masks the value


@SETTINGS
@given(st.integers(1, 9_999_999), st.data(), no_digits)
def test_any_enterprise_number_blocks_the_export(seq, data, before):
    number = make_enterprise_number(seq)
    df = pl.DataFrame({"employer": [before + " " + data.draw(_formats(number))]})
    result = scan.scan_export(df, {"employer": "code"}, "t")
    assert ("employer", "enterprise_number") in {(h.column, h.rule) for h in result.hits}


@settings(max_examples=15, deadline=None)
@given(
    st.dates(date(1900, 1, 1), date(2099, 12, 31)),
    st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d.%m.%Y"]),
    no_digits,
)
def test_day_level_dates_block_coarse_columns_and_coarse_periods_pass(day, fmt, label):
    coarse = pl.DataFrame(
        {
            "month": [day.strftime("%Y-%m")],
            "quarter": [f"{day.year}Q{(day.month - 1) // 3 + 1}"],
            "year": [day.year],
            "label": [label],
        }
    )
    kinds = {"month": "month", "quarter": "quarter", "year": "year", "label": "text"}
    assert scan.scan_export(coarse, kinds, "t").ok
    fine = coarse.with_columns(pl.lit(day.strftime(fmt)).alias("month"))
    assert ("month", "day_level_date") in {
        (h.column, h.rule) for h in scan.scan_export(fine, kinds, "t").hits
    }
    assert scan.scan_export(fine.select("month"), {"month": "day"}, "t").ok
    as_date = coarse.with_columns(pl.lit(day).alias("month"))
    assert not scan.scan_export(as_date, kinds, "t").ok


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.sampled_from(["<1000", "1000-1999", "2000+"]), min_size=1, max_size=20),
    st.floats(0, 1e6, allow_nan=False) | st.text(min_size=1, max_size=8),
)
def test_a_class_column_holds_only_its_declared_labels(values, intruder):
    labels = ["<1000", "1000-1999", "2000+"]
    df = pl.DataFrame({"wage_class": values})
    assert scan.scan_export(df, {"wage_class": labels}, "t").ok
    bad = pl.DataFrame({"wage_class": [*values, str(intruder)]})
    result = scan.scan_export(bad, {"wage_class": labels}, "t")
    assert (str(intruder) in labels) == result.ok
