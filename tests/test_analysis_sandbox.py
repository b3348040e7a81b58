"""The sandbox an analysis's SQL runs on: its project's tables are there, and every way out is refused
with a message (read a file, write one, attach a database, change a setting, load an extension,
read another project's table)."""

from pathlib import Path

import polars as pl
import pytest

from cohort import storage
from cohort.analysis.sandbox import SandboxRefusal, run_query, sandbox


@pytest.fixture
def lake(tmp_path: Path) -> dict[str, Path]:
    """Two projects' tables: the analysis reads project ``mine``; ``other`` holds a secret."""
    mine = tmp_path / "secure" / "mine"
    for year, rows in ((2020, [1, 2, 3]), (2021, [4, 5])):
        storage.write_frame(
            pl.DataFrame({"year": [year] * len(rows), "x": rows}),
            mine / "t" / f"year={year}" / "data.parquet",
        )
    other = tmp_path / "secure" / "other" / "secret" / "data.parquet"
    storage.write_frame(pl.DataFrame({"secret": ["do not read"]}), other)
    return {"mine": mine, "other": other, "root": tmp_path}


def test_the_project_table_is_there_and_only_the_year_asked(lake):
    with sandbox({"t": storage.table_files(lake["mine"], "t")}, 2020) as con:
        frame = run_query(con, "select x from t order by x", "q")
    assert frame.get_column("x").to_list() == [1, 2, 3]


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
        ("select * from read_text('/etc/passwd')", "file system operations are disabled"),
        ("select * from read_parquet('{other}')", "file system operations are disabled"),
        ("select * from glob('/etc/*')", "file system operations are disabled"),
        ("copy t to '{root}/leak.csv'", "file system operations are disabled"),
        ("select 1; copy (select 1) to '{root}/leak.csv'", "file system operations are disabled"),
        ("export database '{root}/leak'", "file system operations are disabled"),
        ("attach '{root}/leak.duckdb' as leak", "file system operations are disabled"),
        ("set enable_external_access = true", "the configuration has been locked"),
        ("reset lock_configuration", "the configuration has been locked"),
        ("set threads = 1", "the configuration has been locked"),
        ("pragma enable_profiling", "the configuration has been locked"),
        ("install httpfs", "file system operations are disabled"),
        ("load httpfs", "Loading external extensions is disabled"),
        ("select * from secret", "Table with name secret does not exist"),
        ("select * from '{other}'", "file system operations are disabled"),
    ],
)
def test_each_way_out_is_refused_with_a_message(lake, attack, reason):
    sql = attack.format(other=lake["other"], root=lake["root"])
    with (
        sandbox({"t": storage.table_files(lake["mine"], "t")}) as con,
        pytest.raises(SandboxRefusal) as caught,
    ):
        run_query(con, sql, "attack")
    message = str(caught.value)
    assert message.startswith("attack: ") and reason in message, message
    assert not list(lake["root"].glob("leak*"))


def test_the_frames_of_the_python_side_are_not_visible(lake):
    """DuckDB would otherwise read a polars frame named in the SQL from the calling Python scope."""
    import duckdb

    secret_frame = pl.read_parquet(lake["other"])
    assert secret_frame.height == 1
    files = {"t": storage.table_files(lake["mine"], "t")}
    with sandbox(files) as con, pytest.raises(duckdb.CatalogException, match="secret_frame does not exist"):
        con.sql("select * from secret_frame").pl()


def test_a_view_over_files_would_not_survive_the_lock(tmp_path):
    """Why the sandbox copies the tables in: a read_parquet view reads at query time, which the
    locked connection refuses (so the tables cannot be left as views over the lake)."""
    import duckdb

    path = storage.write_frame(pl.DataFrame({"x": [1]}), tmp_path / "t" / "data.parquet")
    con = duckdb.connect(":memory:")
    con.execute(f"create view v as select * from read_parquet({storage.sql_string(path)})")
    con.execute("set enable_external_access = false")
    with pytest.raises(duckdb.PermissionException):
        con.execute("select * from v").fetchall()
    con.close()
