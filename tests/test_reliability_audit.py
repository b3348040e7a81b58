"""The audit log is append-only and tamper-evident; retention refuses and purge removes and logs."""

import hashlib
import json
import subprocess
import sys
import textwrap
from datetime import date

import polars as pl
import pytest
from click.testing import CliRunner

from cohort import settings, storage
from cohort.ops import cli
from cohort.privacy import audit_log, retention


@pytest.fixture
def lake(tmp_path):
    return settings.lake(tmp_path / "data")


def _file(path, content: bytes = b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_entries_chain_and_any_edit_insert_or_removal_is_detected(lake):
    for i in range(4):
        audit_log.record(
            lake, "export", "p1", [_file(lake.exports / "p1" / f"f{i}.parquet", bytes([i]))], run_id=f"r{i}"
        )
    report = audit_log.verify_chain(lake)
    assert report.entries == 4
    log = audit_log.audit_path(lake)
    lines = log.read_bytes().splitlines(keepends=True)
    assert json.loads(lines[0])["prev"] == audit_log.GENESIS
    assert report.head == audit_log.line_hash(lines[-1])

    edited = lines.copy()
    edited[1] = edited[1].replace(b'"run_id": "r1"', b'"run_id": "rX"')
    log.write_bytes(b"".join(edited))
    with pytest.raises(audit_log.AuditChainBroken, match="line 3 does not follow line 2"):
        audit_log.verify_chain(lake)
    log.write_bytes(b"".join(lines[:1] + lines[2:]))  # a line removed
    with pytest.raises(audit_log.AuditChainBroken, match="line 2"):
        audit_log.verify_chain(lake)
    log.write_bytes(b"".join(lines))
    assert audit_log.verify_chain(lake).entries == 4


def test_concurrent_writers_keep_one_unbroken_chain(lake):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from cohort import settings
        from cohort.privacy import audit_log
        lake = settings.lake({str(lake.root)!r})
        import sys
        for i in range(25):
            audit_log.record(lake, "release", "p" + sys.argv[1], run_id=str(i))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(k)]) for k in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert audit_log.verify_chain(lake).entries == 75


def test_audit_never_stores_absolute_paths_and_rejects_unknown_actions(lake):
    entry = audit_log.record(lake, "export", "p1", [_file(lake.exports / "p1" / "a.parquet")])
    assert entry["what"] == ["exports/p1/a.parquet"]
    assert str(lake.root) not in audit_log.audit_path(lake).read_text()
    with pytest.raises(ValueError):
        audit_log.record(lake, "delete", "p1")


def test_retention_refuses_after_the_date_only():
    retention.assert_within_retention("p1", date(2030, 1, 1), today=date(2030, 1, 1))
    with pytest.raises(retention.RetentionExpired, match="p1: retention date 2030-01-01 has passed"):
        retention.assert_within_retention("p1", date(2030, 1, 1), today=date(2030, 1, 2))


def _project_data(lake, project):
    storage.write_frame(
        pl.DataFrame({"seq": [1]}), storage.partition_file(lake.secure / project, "panel", 2005)
    )
    _file(lake.secure / project / "_mapping" / "person" / "data.parquet", b"map")
    _file(lake.exports / project / "panel" / "data.parquet", b"exp")
    _file(lake.releases / project / "table.parquet", b"anonymous")
    _file(lake.keys / f"{project}.key", b"00" * 32)


def test_purge_removes_pseudonymised_data_keeps_releases_and_logs_hashes(lake):
    _project_data(lake, "p1")
    _project_data(lake, "p2")
    with pytest.raises(retention.PurgeRefused, match="retention runs until 2030-01-01"):
        retention.purge_project(lake, "p1", date(2030, 1, 1), today=date(2029, 12, 31))
    assert (lake.secure / "p1").exists()
    result = retention.purge_project(lake, "p1", date(2030, 1, 1), today=date(2030, 1, 2), run_id="purge-1")
    assert (
        not (lake.secure / "p1").exists()
        and not (lake.exports / "p1").exists()
        and not (lake.keys / "p1.key").exists()
    )
    assert (lake.releases / "p1" / "table.parquet").exists() and (lake.secure / "p2").exists()
    assert result.removed_files == 4
    entry = audit_log.read_entries(lake)[-1]
    assert entry["action"] == "purge" and entry["project"] == "p1"
    assert entry["files"]["exports/p1/panel/data.parquet"] == hashlib.sha256(b"exp").hexdigest()
    assert "exports/p1/panel/data.parquet" in entry["what"] and len(entry["files"]) == 4
    assert [e["action"] for e in audit_log.read_entries(lake)] == ["refusal", "purge"]
    assert audit_log.verify_chain(lake).entries == 2
    forced = retention.purge_project(lake, "p2", date(2030, 1, 1), force=True, today=date(2020, 1, 1))
    assert forced.audit_entry["detail"]["forced"] is True and not (lake.secure / "p2").exists()


@pytest.mark.parametrize("bad", ["../data", "", "p1/../../x", ".hidden", "a b"])
def test_purge_refuses_project_ids_that_could_leave_the_lake(lake, bad):
    with pytest.raises(retention.PurgeRefused, match="invalid project id"):
        retention.purge_project(lake, bad, date(2000, 1, 1), force=True)


def test_cli_purge_verify_and_show(lake):
    _project_data(lake, "p1")
    runner = CliRunner()
    args = ["--data-dir", str(lake.root)]
    refused = runner.invoke(cli.purge, ["p1", "--retention-date", "2999-01-01", *args])
    assert refused.exit_code == 1 and "needs --force" in refused.output
    done = runner.invoke(cli.purge, ["p1", "--retention-date", "2000-01-01", *args])
    assert done.exit_code == 0 and "purged p1: 4 files" in done.output
    ok = runner.invoke(cli.audit_group, ["verify", *args])
    assert ok.exit_code == 0 and "2 entries" in ok.output
    shown = runner.invoke(cli.audit_group, ["show", "--project", "p1", *args])
    assert "purge" in shown.output and "refusal" in shown.output
    log = audit_log.audit_path(lake)
    log.write_text(log.read_text().replace("purge", "export", 1))
    broken = runner.invoke(cli.audit_group, ["verify", *args])
    assert broken.exit_code == 1 and "hash chain broken" in broken.output


def test_cohort_purge_reads_the_retention_date_from_the_project_spec(lake):
    from cohort.cli import main

    result = CliRunner().invoke(main, ["purge", "longitudinal_cohort", "--data-dir", str(lake.root)])
    entry = audit_log.read_entries(lake)[-1]
    assert entry["project"] == "longitudinal_cohort" and entry["detail"]["retention_date"] == "2026-12-31"
    # refused before the date (exit 1, a refusal entry), a purge after it
    assert (result.exit_code, entry["action"]) in ((1, "refusal"), (0, "purge"))
    unknown = CliRunner().invoke(main, ["purge", "no_such_project", "--data-dir", str(lake.root)])
    assert unknown.exit_code == 2 and "--retention-date" in unknown.output
