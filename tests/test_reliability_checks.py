"""Source tables against their contract: every kind of bad input is named, counted and quarantined."""

from datetime import date

import polars as pl
import pytest
from reliability_helpers import BIRTH, EMPLOYER_ID, PERSON_ID, frame, person_row, valid_row, write_table

from cohort import storage
from cohort.classifications.insz import make_insz
from cohort.sources import checks
from cohort.sources.contract import TABLES

AS_OF = date(2026, 12, 31)


def _bad_checksum(number: str) -> str:
    return number[:-2] + f"{(int(number[-2:]) + 1) % 100:02d}"


def _load(tmp_path, table, share=1.0, con=None, **kw):
    return checks.load_source(
        con, tmp_path / "wh", table, share, tmp_path / "q", run_id="r1", as_of=AS_OF, **kw
    )


def _quarantine(tmp_path, table) -> pl.DataFrame:
    return pl.read_parquet(tmp_path / "q" / table / "data.parquet")


@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_valid_row_of_every_contract_table_passes_and_matches_pandera(tmp_path, table):
    """No false positives: the SQL translation of the contract accepts what Pandera accepts."""
    write_table(tmp_path / "wh", "person", [person_row()])
    rows = [valid_row(table)]
    write_table(tmp_path / "wh", table, rows, 2010 if TABLES[table].by_year else None)
    con = storage.connect()
    result = _load(tmp_path, table, share=0.0, con=con)
    assert (result.rows, result.rejected) == (1, 0)
    clean = con.sql(f"SELECT * FROM {table}").pl()
    TABLES[table].schema.validate(clean)  # the accepted rows satisfy the Pandera contract itself
    assert _quarantine(tmp_path, table).height == 0


@pytest.mark.parametrize(
    ("table", "overrides", "reason"),
    [
        ("person", {"insz": _bad_checksum(PERSON_ID)}, "insz_checksum:insz"),
        ("person", {"insz": PERSON_ID[:10]}, "format:insz"),
        ("person", {"insz": PERSON_ID + "0"}, "format:insz"),
        ("person", {"sex": "X"}, "code:sex"),
        ("person", {"birth_country": None}, "null:birth_country"),
        ("person", {"birth_date": date(2030, 1, 1)}, "future_date:birth_date"),
        ("person", {"death_date": date(1979, 1, 1)}, "before_birth:death_date"),
        (
            "person",
            {"mother_insz": _bad_checksum(make_insz(date(1950, 1, 1), 2))},
            "insz_checksum:mother_insz",
        ),
        ("job_quarter", {"employer_id": _bad_checksum(EMPLOYER_ID)}, "enterprise_checksum:employer_id"),
        ("job_quarter", {"employer_id": "12345"}, "format:employer_id"),
        ("job_quarter", {"quarter": 5}, "code:quarter"),
        ("job_quarter", {"days": 93}, "range:days"),
        ("job_quarter", {"gross_wage": -1.0}, "range:gross_wage"),
        ("job_quarter", {"year": 1970}, "before_birth:year"),
        ("job_quarter", {"year": 2031}, "future_date:year"),
        ("residence_history", {"valid_to": date(2010, 3, 1)}, "inverted_spell:valid_to"),
        ("residence_history", {"valid_from": date(1975, 1, 1)}, "before_birth:valid_from"),
        ("residence_history", {"valid_from": date(2027, 1, 1)}, "future_date:valid_from"),
        ("vdab_training", {"end_date": date(2010, 2, 28)}, "inverted_spell:end_date"),
        ("benefit_quarter", {"spell_end": date(2010, 3, 1)}, "inverted_spell:spell_end"),
        ("benefit_quarter", {"benefit": "lottery"}, "code:benefit"),
        ("education", {"qualification_date": date(1979, 12, 31)}, "before_birth:qualification_date"),
        ("household_jan1", {"lipro": "ABCD"}, "code:lipro"),
    ],
)
def test_each_bad_row_is_quarantined_with_its_reason(tmp_path, table, overrides, reason):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row()] if table != "person" else [])
    good = (
        valid_row(table)
        if table != "person"
        else person_row(make_insz(date(1990, 1, 1), 3), date(1990, 1, 1))
    )
    bad = valid_row(table, **overrides) if table != "person" else person_row(**overrides)
    if table == "job_quarter":  # distinct key for the good row
        good["employer_id"] = "0" + EMPLOYER_ID[1:] if bad["employer_id"] != EMPLOYER_ID else EMPLOYER_ID
        good["quarter"] = 2
    if table == "residence_history":
        good["valid_from"], good["valid_to"] = date(2000, 1, 1), date(2005, 1, 1)
    if table in ("vdab_training", "education", "benefit_quarter"):
        key_col = {"vdab_training": "module", "education": "level", "benefit_quarter": "benefit"}[table]
        good[key_col] = {"module": "m2", "level": "2", "benefit": "pension"}[key_col]
    if table == "household_jan1":  # distinct key (year, insz) in the same year's file
        good["insz"] = make_insz(date(1990, 1, 1), 3)
    year = 2010 if TABLES[table].by_year else None
    if table == "person":
        write_table(wh, "person", [good, bad])
    else:
        write_table(wh, table, [good, bad], year)
    con = storage.connect()
    result = _load(tmp_path, table, con=con)
    q = _quarantine(tmp_path, table)
    assert q["reason"].to_list() == [reason], q.select("reason", "reasons")
    assert q["_row"].to_list() == [1]
    assert result.counts == {reason: 1} and result.rejected == 1 and result.accepted == 1
    assert con.sql(f"SELECT count(*) FROM {table}").fetchall() == [(1,)]
    assert result.metadata()[f"rejected/{reason}"] == 1


def test_duplicated_persons_go_to_quarantine_all_copies(tmp_path):
    wh = tmp_path / "wh"
    other = make_insz(date(1970, 2, 2), 5)
    write_table(wh, "person", [person_row(), person_row(sex="F"), person_row(other, date(1970, 2, 2))])
    result = _load(tmp_path, "person")
    assert result.counts == {"duplicate_key": 2}
    assert sorted(_quarantine(tmp_path, "person")["insz"].to_list()) == [PERSON_ID, PERSON_ID]


def test_overlapping_residence_spells_are_both_rejected_and_adjacent_spells_pass(tmp_path):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row()])
    rows = [
        valid_row("residence_history", valid_from=date(2000, 1, 1), valid_to=date(2005, 1, 1)),
        valid_row(
            "residence_history", valid_from=date(2005, 1, 1), valid_to=date(2008, 1, 1)
        ),  # adjacent: fine
        valid_row("residence_history", valid_from=date(2007, 6, 1), valid_to=None),  # overlaps the second
    ]
    write_table(wh, "residence_history", rows)
    _load(tmp_path, "residence_history")
    q = _quarantine(tmp_path, "residence_history")
    assert q["_row"].to_list() == [1, 2] and set(q["reason"]) == {"overlapping_spell"}


def test_dual_nationality_is_not_an_overlap_but_the_same_nationality_twice_is(tmp_path):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row()])
    rows = [
        valid_row("nationality_history", nationality="BE", valid_from=BIRTH, valid_to=None),
        valid_row("nationality_history", nationality="MA", valid_from=date(1990, 1, 1), valid_to=None),
        valid_row("nationality_history", nationality="MA", valid_from=date(1995, 1, 1), valid_to=None),
    ]
    write_table(wh, "nationality_history", rows)
    _load(tmp_path, "nationality_history")
    assert _quarantine(tmp_path, "nationality_history")["_row"].to_list() == [1, 2]


def test_above_the_threshold_the_load_fails_naming_table_rule_count_and_share(tmp_path):
    wh = tmp_path / "wh"
    write_table(
        wh, "person", [person_row(), person_row(make_insz(date(1991, 1, 1), 7), date(1991, 1, 1), sex="Q")]
    )
    with pytest.raises(checks.SourceContractError) as err:
        _load(tmp_path, "person", share=0.25)
    msg = str(err.value)
    assert (
        "person" in msg
        and "code:sex 1" in msg
        and "1 of 2 rows" in msg
        and "50.0000%" in msg
        and "25.0000%" in msg
    )
    assert (err.value.table, err.value.rule, err.value.count) == ("person", "code:sex", 1)
    assert _quarantine(tmp_path, "person").height == 1  # kept for inspection even when failing
    # below the threshold the same input goes through, with the counts in the metadata
    result = _load(tmp_path, "person", share=0.5)
    assert result.metadata()["rejected/code:sex"] == 1 and result.metadata()["rejected_share"] == 0.5


def test_empty_truncated_and_zero_byte_files_are_refused_by_name(tmp_path):
    wh = tmp_path / "wh"
    path = write_table(wh, "person", [person_row()])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(checks.SourceContractError, match="person: rule unreadable_file: 1 Parquet") as err:
        _load(tmp_path, "person")
    assert err.value.count == 1
    path.write_bytes(b"")
    with pytest.raises(checks.SourceContractError, match="unreadable_file"):
        _load(tmp_path, "person")
    write_table(wh, "person", [])
    with pytest.raises(checks.SourceContractError, match="person: rule empty_file: 1"):
        _load(tmp_path, "person")
    assert _load(tmp_path, "person", allow_empty=True).rows == 0


def test_missing_table_wrong_type_missing_and_extra_columns(tmp_path):
    wh = tmp_path / "wh"
    with pytest.raises(checks.SourceContractError, match="person: rule missing_table"):
        _load(tmp_path, "person")
    df = frame("person", [person_row()])
    storage.write_frame(df.with_columns(pl.col("birth_date").cast(pl.String)), wh / "person" / "data.parquet")
    with pytest.raises(
        checks.SourceContractError, match=r"schema:wrong_type: 1 column\(s\): birth_date \(expected DATE\)"
    ):
        _load(tmp_path, "person")
    storage.write_frame(df.drop("sex"), wh / "person" / "data.parquet")
    with pytest.raises(checks.SourceContractError, match="schema:missing_column: 1 column"):
        _load(tmp_path, "person")
    storage.write_frame(df.with_columns(secret=pl.lit(1)), wh / "person" / "data.parquet")
    with pytest.raises(checks.SourceContractError, match="schema:extra_column"):
        _load(tmp_path, "person")


def test_clean_view_in_another_connection_and_refusal_after_the_files_change(tmp_path):
    wh = tmp_path / "wh"
    write_table(
        wh, "person", [person_row(), person_row(make_insz(date(1991, 1, 1), 7), date(1991, 1, 1), sex="Q")]
    )
    _load(tmp_path, "person")
    con = storage.connect()
    checks.clean_view(con, wh, "person", tmp_path / "q")
    assert con.sql("SELECT insz FROM person").fetchall() == [(PERSON_ID,)]
    write_table(wh, "person", [person_row()])  # the extract changed after the check
    with pytest.raises(checks.SourceContractError, match="stale_check"):
        checks.clean_view(con, wh, "person", tmp_path / "q")
    with pytest.raises(checks.SourceContractError, match="not_checked"):
        checks.clean_view(con, wh, "education", tmp_path / "q")


def test_yearly_partitions_are_checked_together_and_rows_traced_to_their_file(tmp_path):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row()])
    write_table(wh, "sep_quarter", [valid_row("sep_quarter", year=2010)], 2010)
    write_table(
        wh,
        "sep_quarter",
        [
            valid_row("sep_quarter", year=2011),
            valid_row("sep_quarter", year=2011, quarter=2, nomenclature="999"),
        ],
        2011,
    )
    (wh / "sep_quarter" / "year=2012").mkdir()
    (wh / "sep_quarter" / "year=2012" / ".data.parquet.123.abcd.tmp").write_bytes(b"half a write")
    result = _load(tmp_path, "sep_quarter")
    assert (result.files, result.rows, result.counts) == (2, 3, {"code:nomenclature": 1})
    assert _quarantine(tmp_path, "sep_quarter")["_file"].to_list() == ["sep_quarter/year=2011/data.parquet"]


def test_load_sources_checks_every_table_and_reports_all_failures(tmp_path):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row(sex="Q")])
    write_table(wh, "education", [valid_row("education", level="99")])
    with pytest.raises(checks.SourceContractError) as err:
        checks.load_sources(None, wh, None, 0.0, tmp_path / "q", as_of=AS_OF)
    assert "person" in str(err.value) and "education" in str(err.value) and err.value.count == 2


def test_a_planned_spell_end_after_the_extract_is_accepted_but_a_future_start_is_not(tmp_path):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row()])
    rows = [
        valid_row(
            "benefit_quarter",
            year=2026,
            quarter=4,
            spell_start=date(2026, 10, 15),
            spell_end=date(2027, 1, 28),
        ),
        valid_row("benefit_quarter", year=2026, quarter=3, spell_start=date(2027, 1, 2), spell_end=None),
    ]
    write_table(wh, "benefit_quarter", rows, 2026)
    result = _load(tmp_path, "benefit_quarter")
    assert result.counts == {"future_date:spell_start": 1}
    assert _quarantine(tmp_path, "benefit_quarter")["_row"].to_list() == [1]


def test_corrupt_pages_behind_a_valid_footer_are_refused(tmp_path):
    wh = tmp_path / "wh"
    path = write_table(
        wh, "person", [person_row(make_insz(date(1980, 1, 1 + i % 28), 1 + i)) for i in range(2000)]
    )
    data = bytearray(path.read_bytes())
    for i in range(200, len(data) // 2):
        data[i] = (data[i] * 7 + 13) % 256
    path.write_bytes(bytes(data))
    with pytest.raises(checks.SourceContractError, match="person: rule unreadable_file"):
        _load(tmp_path, "person")


def test_in_a_dagster_asset_the_run_fails_above_the_threshold_and_reports_counts_below(tmp_path):
    import dagster as dg

    class Threshold(dg.Config):
        max_reject_share: float

    @dg.asset
    def checked_person(config: Threshold) -> dg.MaterializeResult:
        con = storage.connect()
        result = checks.load_source(
            con, tmp_path / "wh", "person", config.max_reject_share, tmp_path / "q", as_of=AS_OF
        )
        n = con.sql("SELECT count(*) FROM person").fetchall()[0][0]
        return dg.MaterializeResult(metadata={**result.metadata(), "used_rows": n})

    write_table(
        tmp_path / "wh",
        "person",
        [person_row(), person_row(make_insz(date(1991, 1, 1), 7), date(1991, 1, 1), sex="Q")],
    )

    def run(share):
        return dg.materialize(
            [checked_person],
            run_config=dg.RunConfig({"checked_person": Threshold(max_reject_share=share)}),
            raise_on_error=False,
        )

    ok = run(0.5)
    meta = ok.asset_materializations_for_node("checked_person")[0].metadata
    assert ok.success and meta["rejected/code:sex"].value == 1 and meta["used_rows"].value == 1
    failed = run(0.1)
    error = failed.get_step_failure_events()[0].event_specific_data.error
    assert not failed.success and error.cause.cls_name == "SourceContractError"
    assert (
        "source table person: 1 of 2 rows rejected" in error.cause.message
        and "code:sex 1" in error.cause.message
    )


def test_a_stray_file_outside_the_layout_is_refused_not_ignored(tmp_path):
    wh = tmp_path / "wh"
    write_table(wh, "person", [person_row()])
    write_table(wh, "sep_quarter", [valid_row("sep_quarter")], 2010)
    write_table(wh, "sep_quarter", [valid_row("sep_quarter", year=2011)])  # no year=YYYY folder
    with pytest.raises(
        checks.SourceContractError,
        match=r"sep_quarter: rule layout: 1 Parquet file.*sep_quarter/data.parquet",
    ):
        _load(tmp_path, "sep_quarter")


def test_ensure_checked_reuses_a_valid_check_and_redoes_a_stale_one(tmp_path):
    wh, q = tmp_path / "wh", tmp_path / "q"
    write_table(
        wh, "person", [person_row(), person_row(make_insz(date(1991, 1, 1), 7), date(1991, 1, 1), sex="Q")]
    )
    con = storage.connect()
    first = checks.ensure_checked(con, wh, ["person"], 0.5, q, as_of=AS_OF)["person"]
    assert first["rejected/code:sex"] == 1 and "reused_check" not in first
    again = checks.ensure_checked(con, wh, ["person"], 0.5, q, as_of=AS_OF)["person"]
    assert again["reused_check"] and again["rejected/code:sex"] == 1
    assert con.sql("SELECT count(*) FROM person").fetchall() == [(1,)]
    with pytest.raises(checks.SourceContractError):  # a stricter threshold is not satisfied by the old check
        checks.ensure_checked(con, wh, ["person"], 0.1, q, as_of=AS_OF)
    write_table(wh, "person", [person_row()])
    fresh = checks.ensure_checked(con, wh, ["person"], 0.0, q, as_of=AS_OF)["person"]
    assert "reused_check" not in fresh and fresh["rejected_rows"] == 0
