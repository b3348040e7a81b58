"""Names and paths from outside are read as names: no SQL is built from them.

A warehouse folder, a ``--data-dir`` or a ``COHORT_WAREHOUSE_DIR`` whose name holds quotes,
semicolons or SQL is quoted wherever it reaches DuckDB (``storage.sql_identifier`` /
``storage.sql_string``), so the command reads it or refuses it cleanly and runs nothing; the
DuckDB sizing variables are checked before they reach a ``SET``.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import run_cohort

from cohort import storage
from cohort.privacy import pseudonym
from cohort.sources import checks

# Each would run its own SQL, or break the statement, if it were pasted into SQL text.
PWN = "zz AS SELECT 1; COPY (SELECT 42 AS pwned) TO 'pwned.csv'; --"
PWN_STRING = "x') ; COPY (SELECT 42 AS pwned) TO 'pwned.csv'; --"
NASTY = [PWN, PWN_STRING, "it's", 'a"b', "semi;colon", "back\\slash", "tab\tand newline\n"]


def _no_pwned_file(*roots: Path) -> None:
    """No ``pwned.csv`` in the given folders (searched through) nor in the working folder or the
    temporary folder (where a relative or bare COPY target would land)."""
    for root in roots:
        assert not list(Path(root).rglob("pwned*")), root
    for top in (Path.cwd(), Path(tempfile.gettempdir())):
        assert not list(top.glob("pwned*")), top


def _nasty_root(tmp_path: Path) -> Path:
    """A folder whose path holds every kind of quote, a semicolon and SQL."""
    root = tmp_path / PWN / "it's" / 'a"b'
    root.mkdir(parents=True)
    return root


# --------------------------------------------------------------------------- the helpers
@pytest.mark.parametrize("text", NASTY)
def test_quoted_texts_and_names_come_back_as_themselves(text):
    con = duckdb.connect()
    assert con.execute(f"SELECT {storage.sql_string(text)}").fetchall() == [(text,)]
    assert con.execute(f"SELECT {storage.sql_literal(text)}").fetchall() == [(text,)]
    name = storage.sql_identifier(text)
    con.execute(f"CREATE VIEW {name} AS SELECT 1 AS {name}")
    rel = con.execute(f"SELECT * FROM {name}")
    assert rel.description[0][0] == text and rel.fetchall() == [(1,)]
    assert [
        r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    ] == [text]


def test_literals_of_other_types_are_exact_or_refused():
    con = duckdb.connect()
    values = [True, False, 0, -7, 2.5, Path("/x/it's")]
    got = con.execute("SELECT " + ", ".join(storage.sql_literal(v) for v in values)).fetchall()[0]
    assert got == (True, False, 0, -7, 2.5, "/x/it's")
    for bad in (float("nan"), float("inf"), None, object()):
        with pytest.raises(TypeError, match="no SQL literal"):
            storage.sql_literal(bad)
    with pytest.raises(ValueError, match="NUL"):
        storage.sql_string("a\0b")


# --------------------------------------------------------------------------- storage
def test_a_lake_folder_and_path_named_like_sql_are_read_as_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # glob characters too: DuckDB would expand them in a pattern, the views list the files
    area = _nasty_root(tmp_path) / "glob[1]*?" / "secure"
    frame = pl.DataFrame({"year": [2021, 2021], "n": [1, 2]})
    for name in ("plain", PWN, "it's"):
        storage.write_frame(frame, storage.partition_file(area, name, 2021))
    con = storage.connect()
    # by default only plain folder names become views; the others are not tables of the lake
    assert storage.register_tables(con, area) == ["plain"]
    assert con.execute("SELECT sum(n) FROM plain").fetchall() == [(3,)]
    # asked for by name, an odd folder is a view of exactly that name, reading its own files
    assert storage.register_tables(con, area, [PWN, "it's"]) == ["it's", PWN]
    assert con.execute(f"SELECT sum(n) FROM {storage.sql_identifier(PWN)}").fetchall() == [(3,)]
    # a write into such a folder lands where it should
    out = storage.partition_file(area, "it's", 2022)
    storage.write_query(con, f"SELECT * FROM {storage.sql_identifier(PWN)} ORDER BY n", out)
    assert pl.read_parquet(out, glob=False)["n"].to_list() == [1, 2]
    _no_pwned_file(tmp_path)


def test_only_contract_tables_of_the_warehouse_become_views(tmp_path, small_warehouse, monkeypatch):
    monkeypatch.chdir(tmp_path)
    wh = _nasty_root(tmp_path) / "warehouse"
    shutil.copytree(small_warehouse / "person", wh / "person")
    shutil.copytree(small_warehouse / "person", wh / PWN)
    shutil.copytree(small_warehouse / "person", wh / "not_a_source")
    con = storage.connect()
    assert checks.register_warehouse(con, wh) == ["person"]
    rows = con.execute("SELECT count(*) FROM person").fetchall()[0][0]
    assert rows == pl.scan_parquet(small_warehouse / "person").select(pl.len()).collect().item() > 0
    _no_pwned_file(tmp_path)


def test_pseudonym_mappings_live_under_a_path_named_like_sql(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secure = _nasty_root(tmp_path) / "secure" / "proj"
    con = storage.connect()
    pseudonym.install_hmac(con, pseudonym.ProjectKey("proj", bytes(range(32)), "test"))
    con.register("ids", pl.DataFrame({"insz": ["1", "2", "3"]}))
    assert pseudonym.extend_mapping(con, secure, "person", "SELECT insz FROM ids") == {
        "existing": 0,
        "added": 3,
    }
    con.register("more", pl.DataFrame({"insz": ["3", "4"]}))
    assert pseudonym.extend_mapping(con, secure, "person", "SELECT insz FROM more") == {
        "existing": 3,
        "added": 1,
    }
    view = pseudonym.attach_mapping(con, secure, "person")
    assert con.execute(f"SELECT count(*), max(seq) FROM {view}").fetchall() == [(4, 4)]
    _no_pwned_file(tmp_path)


# --------------------------------------------------------------------------- DuckDB sizing
@pytest.mark.parametrize(
    "value",
    ["1GB'; COPY (SELECT 42 AS pwned) TO 'pwned.csv'; --", "lots", "5", "-1GB", "1 GB 2", "80%"],
)
def test_a_bad_memory_limit_is_refused_by_name(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COHORT_DUCKDB_MEMORY", value)
    with pytest.raises(ValueError, match="COHORT_DUCKDB_MEMORY must be a number and a unit"):
        storage.connect()
    _no_pwned_file(tmp_path)


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "4; SELECT 1"])
def test_a_bad_thread_count_is_refused_by_name(value, monkeypatch):
    monkeypatch.setenv("COHORT_DUCKDB_THREADS", value)
    with pytest.raises(ValueError, match="COHORT_DUCKDB_THREADS must be a positive whole number"):
        storage.connect()


def test_good_sizes_are_applied(monkeypatch):
    monkeypatch.setenv("COHORT_DUCKDB_MEMORY", " 512MiB ")
    monkeypatch.setenv("COHORT_DUCKDB_THREADS", "3")
    con = storage.connect()
    memory, threads = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchall()[0]
    assert memory == "512.0 MiB" and threads == 3
    monkeypatch.setenv("COHORT_DUCKDB_MEMORY", "1.5gb")
    monkeypatch.delenv("COHORT_DUCKDB_THREADS")
    assert storage.connect().execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != memory


# --------------------------------------------------------------------------- the command line
def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("COHORT_", "DAGSTER_"))}
    return run_cohort(args, {**full, **env}, cwd=cwd)


@pytest.mark.parametrize("odd_path", [False, True], ids=["plain_path", "odd_path"])
def test_calibrate_reads_a_warehouse_named_like_sql_and_runs_nothing(tmp_path, small_warehouse, odd_path):
    # plain path: only the folder name is SQL (pasted, it would write pwned.csv in the working folder)
    wh = (_nasty_root(tmp_path) if odd_path else tmp_path / "plain") / "warehouse"
    shutil.copytree(small_warehouse, wh)
    # a folder in the warehouse whose name is SQL, with a Parquet file (so it would be registered)
    shutil.copytree(small_warehouse / "person", wh / PWN)
    result = _run(["warehouse", "calibrate", "--warehouse", str(wh)], cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr  # 1: a row out of tolerance at this tiny scale
    assert "rows within tolerance" in result.stdout
    assert "no such" not in result.stdout.lower()
    _no_pwned_file(tmp_path)


def test_a_build_from_a_data_dir_and_warehouse_named_like_sql_runs_nothing(tmp_path, small_warehouse):
    root = _nasty_root(tmp_path)
    wh = root / "extract" / "warehouse"
    shutil.copytree(small_warehouse, wh)
    shutil.copytree(small_warehouse / "person", wh / PWN)
    data = root / "data"
    result = _run(
        ["project", "build", "regularised_foreigners", "--data-dir", str(data)],
        cwd=tmp_path,
        COHORT_WAREHOUSE_DIR=str(wh),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    frame = data / "secure" / "regularised_foreigners" / "regularised" / "data.parquet"
    assert pl.read_parquet(frame).height > 0
    _no_pwned_file(tmp_path)
