"""The export gate: scan before write, atomic write, audit entry; a hit stops the write."""

import hashlib
from datetime import date

import polars as pl
import pytest

from cohort import settings, storage
from cohort.classifications.insz import make_enterprise_number, make_insz
from cohort.privacy import audit_log, retention, scan

KINDS = {"person_seq": "pseudonym", "year": "year", "quarter": "quarter", "wage_class": "class", "n": "count"}
CLASSES = {"wage_class": ["<1000", "1000-1999", "2000+"]}
NUMBER = make_insz(date(1985, 7, 30), 33)


def _good() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_seq": [1, 2, 3],
            "year": [2005, 2005, 2006],
            "quarter": ["2005Q1", "2005Q4", "2006Q2"],
            "wage_class": ["<1000", "2000+", None],
            "n": [7_512_345, 12, 0],
        }
    )


@pytest.fixture
def lake(tmp_path):
    return settings.lake(tmp_path / "data")


def test_a_clean_export_is_written_atomically_and_logged_with_its_hash(lake):
    path = storage.partition_file(lake.exports / "p1", "panel", 2005)
    rec = scan.write_export(_good(), path, "panel", KINDS, lake, "run-1", classes=CLASSES)
    assert path.exists() and rec.rows == 3
    assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    entries = audit_log.read_entries(lake)
    assert [e["action"] for e in entries] == ["export"]
    e = entries[0]
    assert (
        e["project"] == "p1"
        and e["run_id"] == "run-1"
        and e["what"] == ["exports/p1/panel/year=2005/data.parquet"]
    )
    assert e["files"]["exports/p1/panel/year=2005/data.parquet"] == rec.sha256
    assert e["time"].endswith("Z") and len(e["time"]) == 20 and e["user"]
    assert [p.name for p in path.parent.iterdir()] == ["data.parquet"]  # no temporary debris


def test_sql_exports_and_releases_go_through_the_same_gate(lake):
    con = storage.connect()
    con.register("g", _good())
    rec = scan.write_export(
        con,
        lake.exports / "p1" / "t.parquet",
        "t",
        KINDS,
        lake,
        "r",
        sql="SELECT * FROM g ORDER BY person_seq",
        classes=CLASSES,
    )
    assert pl.read_parquet(rec.path).height == 3
    rel = scan.write_release(
        _good().drop("person_seq"), lake.releases / "p1" / "t.parquet", "t", KINDS, lake, "r", classes=CLASSES
    )
    assert rel.audit_entry["action"] == "release"
    with pytest.raises(ValueError, match="under exports/"):
        scan.write_export(_good(), lake.root / "elsewhere.parquet", "t", KINDS, lake, "r", classes=CLASSES)


@pytest.mark.parametrize(
    ("column", "values", "kind", "rule"),
    [
        (
            "note",
            [f"born {NUMBER[:2]}.{NUMBER[2:4]}.{NUMBER[4:6]}-{NUMBER[6:9]}.{NUMBER[9:]}"],
            "code",
            "national_number",
        ),
        ("note", [NUMBER], "code", "national_number"),
        ("employer", [make_enterprise_number(403199)], "code", "enterprise_number"),
        ("employer", ["BE 0403.199.702"], "code", "enterprise_number"),
        ("start", [date(2005, 3, 14)], "month", "day_level_date"),
        ("start", ["2005-03-14"], "month", "day_level_date"),
        ("start", [20050314], "month", "day_level_date"),
        ("wage", [1534.27], ["<1000", "1000-1999", "2000+"], "outside_classes"),
        ("hash", ["a" * 64], "code", "keyed_hash"),
        ("secret", [424242], None, "undeclared_column"),
    ],
)
def test_a_hit_stops_the_write_and_logs_a_refusal(lake, column, values, kind, rule):
    df = _good().head(1).with_columns(pl.Series(column, values))
    kinds = dict(KINDS) if kind is None else {**KINDS, column: kind}
    path = lake.exports / "p1" / "panel.parquet"
    with pytest.raises(scan.ExportBlocked) as err:
        scan.write_export(df, path, "panel", kinds, lake, "run-9", classes=CLASSES)
    msg = str(err.value)
    assert "table panel blocked" in msg and f"{column}: {rule} (1 value" in msg
    assert str(values[0]) not in msg and NUMBER not in msg  # never the value itself
    assert not path.exists() and list(path.parent.iterdir()) == []  # nothing written, no debris
    entry = audit_log.read_entries(lake)[-1]
    assert entry["action"] == "refusal" and entry["run_id"] == "run-9"
    assert {"column": column, "rule": rule, "count": 1} in entry["detail"]["hits"]
    assert NUMBER not in audit_log.audit_path(lake).read_text()


def test_clean_coarse_values_pass(lake):
    assert scan.scan_export(_good(), KINDS, "panel", CLASSES).ok  # a count of 7,512,345 is not an identifier
    months = pl.DataFrame({"m": ["2005-03", "2016-12"], "y": [2005, 2016]})
    assert scan.scan_export(months, {"m": "month", "y": "year"}, "t").ok


def test_an_expired_project_cannot_export(lake):
    with pytest.raises(retention.RetentionExpired, match="retention date 2020-01-01 has passed"):
        scan.write_export(
            _good(),
            lake.exports / "old" / "t.parquet",
            "t",
            KINDS,
            lake,
            "r",
            classes=CLASSES,
            retention_date=date(2020, 1, 1),
        )
    assert not (lake.exports / "old").exists()
    assert audit_log.read_entries(lake)[-1]["detail"]["rule"] == "retention_expired"


def test_scan_of_files_on_disk(tmp_path):
    p = tmp_path / "x.csv"
    pl.DataFrame({"d": ["2005-03-14"], "k": [1]}).write_csv(p)
    result = scan.scan_export(p, {"d": "month", "k": "count"}, "x")
    assert [(h.column, h.rule) for h in result.hits] == [("d", "day_level_date")]
    with pytest.raises(ValueError, match="unknown kind"):
        scan.scan_export(p, {"d": "birthday", "k": "count"}, "x")
