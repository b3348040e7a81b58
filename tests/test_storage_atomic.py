"""Nothing invalid is left in place: the storage writers validate the temporary file before the
rename, a refused write leaves the previous version (or nothing), several files are written all or
nothing, and the temporary files of a killed writer are removed by the next write of the target.
Real DuckDB, real Parquet, real processes."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from cohort import storage
from cohort.privacy import audit_log, scan
from cohort.settings import lake as make_lake


def _refuse_duplicates(tmp: Path) -> None:
    """A blocking rule of the kind the projects apply: the key ``person_id`` is unique."""
    frame = pl.read_parquet(tmp)
    duplicates = frame.height - frame["person_id"].n_unique()
    if duplicates:
        raise storage.PartitionRejected("test situation 2021", {"person_id/duplicate": duplicates})


def _by_query(path: Path, ids: list[int], validate: storage.Validate | None) -> None:
    con = storage.connect()
    try:
        values = ", ".join(f"({i})" for i in ids)
        storage.write_query(
            con, f"SELECT * FROM (VALUES {values}) t(person_id) ORDER BY 1", path, validate=validate
        )
    finally:
        con.close()


def _by_frame(path: Path, ids: list[int], validate: storage.Validate | None) -> None:
    storage.write_frame(pl.DataFrame({"person_id": ids}), path, validate=validate)


def _by_appender(path: Path, ids: list[int], validate: storage.Validate | None) -> None:
    appender = storage.FrameAppender(path)
    appender.append(pl.DataFrame({"person_id": ids[:1]}))
    appender.append(pl.DataFrame({"person_id": ids[1:]}))
    appender.close(validate=validate)


WRITERS = [_by_query, _by_frame, _by_appender]
Writer = Callable[[Path, list[int], storage.Validate | None], None]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) if folder.exists() else []


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_a_refused_write_keeps_the_previous_version_and_leaves_no_tmp(tmp_path: Path, write: Writer) -> None:
    path = storage.partition_file(tmp_path, "situation", 2021)
    write(path, [1, 2, 3], _refuse_duplicates)
    before = path.read_bytes()
    with pytest.raises(
        storage.PartitionRejected, match=r"test situation 2021 refused.*person_id/duplicate: 1"
    ):
        write(path, [1, 2, 2], _refuse_duplicates)
    assert path.read_bytes() == before
    assert pl.read_parquet(path)["person_id"].to_list() == [1, 2, 3]
    assert _leftovers(path.parent) == []


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_a_refused_first_write_leaves_no_file_and_no_folder(tmp_path: Path, write: Writer) -> None:
    path = storage.partition_file(tmp_path, "situation", 2022)
    with pytest.raises(storage.PartitionRejected):
        write(path, [4, 4], _refuse_duplicates)
    assert not path.exists()
    assert not path.parent.exists()  # no empty year=2022 folder either
    assert list((tmp_path / "situation").iterdir()) == []


def _dead_pid() -> int:
    """The pid of a process that has ended (a killed writer)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftover_tmp_of_a_dead_writer_is_removed_and_a_live_ones_stays(tmp_path: Path) -> None:
    path = storage.partition_file(tmp_path, "situation", 2021)
    path.parent.mkdir(parents=True)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        dead = _dead_pid()
        dead_tmp = path.parent / f".data.parquet.{dead}.0123abcd.tmp"
        live_tmp = path.parent / f".data.parquet.{live.pid}.89abcdef.tmp"
        other_target = path.parent / f".other.parquet.{dead}.0123abcd.tmp"  # another file's tmp
        not_a_tmp = path.parent / f".data.parquet.{dead}.notours.tmp"
        for p in (dead_tmp, live_tmp, other_target, not_a_tmp):
            p.write_bytes(b"half a year")
        storage.write_frame(pl.DataFrame({"person_id": [1]}), path)
        assert not dead_tmp.exists()
        assert live_tmp.exists() and other_target.exists() and not_a_tmp.exists()
        assert pl.read_parquet(path)["person_id"].to_list() == [1]
    finally:
        live.kill()
        live.wait()


def test_all_or_nothing_puts_every_file_back_when_one_is_refused(tmp_path: Path) -> None:
    kept = storage.partition_file(tmp_path, "person", 2008)
    storage.write_frame(pl.DataFrame({"person_id": [1, 2]}), kept)
    old_inode = kept.stat().st_ino
    new = storage.partition_file(tmp_path, "household", 2008)
    refused = storage.partition_file(tmp_path, "position", 2008)
    with pytest.raises(storage.PartitionRejected), storage.all_or_nothing([kept, new, refused]):
        storage.write_frame(pl.DataFrame({"person_id": [7, 8]}), kept)
        storage.write_frame(pl.DataFrame({"person_id": [9]}), new)
        storage.write_frame(pl.DataFrame({"person_id": [5, 5]}), refused, validate=_refuse_duplicates)
    assert kept.stat().st_ino == old_inode  # the previous version itself, not a rewrite
    assert pl.read_parquet(kept)["person_id"].to_list() == [1, 2]
    assert not new.exists() and not new.parent.exists()
    assert not refused.exists()
    assert all(_leftovers(d) == [] for d in (kept.parent, new.parent, refused.parent))
    # and when the block succeeds every new version stays, with no backup left beside it
    with storage.all_or_nothing([kept, new]):
        storage.write_frame(pl.DataFrame({"person_id": [7, 8]}), kept)
        storage.write_frame(pl.DataFrame({"person_id": [9]}), new)
    assert pl.read_parquet(kept)["person_id"].to_list() == [7, 8] and new.exists()
    assert _leftovers(kept.parent) == [] and _leftovers(new.parent) == []


def test_an_export_refused_by_its_validation_is_neither_published_nor_logged(tmp_path: Path) -> None:
    lake = make_lake(tmp_path)
    path = lake.exports / "some_project" / "situation" / "data.parquet"
    kinds = {"person_id": "pseudonym"}
    scan.write_export(pl.DataFrame({"person_id": [1, 2]}), path, "situation", kinds, lake, "run-1")
    before = path.read_bytes()
    logged = len(audit_log.read_entries(lake))
    with pytest.raises(storage.PartitionRejected, match="person_id/duplicate: 1"):
        scan.write_export(
            pl.DataFrame({"person_id": [3, 3]}),
            path,
            "situation",
            kinds,
            lake,
            "run-2",
            validate=_refuse_duplicates,
        )
    assert path.read_bytes() == before
    assert len(audit_log.read_entries(lake)) == logged  # no export entry for a file that never left
    assert _leftovers(path.parent) == []
