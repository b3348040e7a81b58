"""The sandbox an analysis's SQL runs on: its project's tables are there, and every way out is refused
with a message (read a file, write one, attach a database, change a setting, load an extension,
read another project's table)."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from cohort import storage
from cohort.analysis.sandbox import (
    SandboxRefusal,
    UncheckableQuery,
    columns_read,
    keys_in_result,
    run_query,
    sandbox,
)


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


@pytest.mark.parametrize(
    ("queries", "expected"),
    [
        # a CTE, an alias, a FILTER, a qualified name: every name used as a column, nothing else
        (
            [
                "with a as (select m.province as p, sex from mobility_next m where sep_code like '1%') "
                "select p, count(*) filter (where fte_next > 0) from a group by all"
            ],
            {"m", "province", "sex", "sep_code", "p", "fte_next"},
        ),
        (["select count(*) as n from mobility_prev"], set()),  # rows counted, no column named
        (["select x from t", "select y from u"], {"x", "y"}),
        (["select * from t"], None),
        (["select columns('fte.*') from t"], None),
        (["select #1 from t"], None),
        (["select m from mobility_next m"], None),  # the whole row of m, as a struct
        (["select count(*) from a natural join b"], None),  # joins on every shared column
        (["select x from a join b using (person_id)"], {"x", "person_id"}),
        (["pivot t on sex using count(*)"], None),
        (["with c as (select 1 as x) select c from c"], None),
        (["copy t to 'x.csv'"], None),  # not a SELECT: copied whole, the sandbox refuses it when it runs
        (["select from where"], None),
    ],
)
def test_the_columns_a_query_reads(queries, expected):
    assert columns_read(queries) == expected


KEYS = {"person_id"}


@pytest.mark.parametrize(
    ("query", "columns", "carried"),
    [
        ("select province from m", ["province"], set()),
        # a key used to join, to filter, in a semi-join or to order: no value of it reaches the result
        (
            "select a.province from m a join p using (person_id) where person_id in (select person_id from p) "
            "order by person_id",
            ["province"],
            set(),
        ),
        (
            "with c as (select person_id, province from m) select c.province from c join p using (person_id)",
            ["province"],
            set(),
        ),
        (
            "select coalesce(province, 'u') as province, sex from m where next_status = 'observed'",
            ["province", "sex"],
            set(),
        ),
        # the key itself, renamed, cast, in a struct, ranked, through a CTE's or a subquery's column aliases,
        # through a UNION's second branch, passed on by a star
        ("select person_id as province from m", ["province"], {"province"}),
        ("select cast(person_id as varchar) as person_id, sex from m", ["person_id", "sex"], {"person_id"}),
        ("select s.a as province from (select {'a': person_id} as s from m)", ["province"], {"province"}),
        ("select row_number() over (order by person_id) as province from m", ["province"], {"province"}),
        (
            "with c(x, province) as (select sex, person_id from m) select province from c",
            ["province"],
            {"province"},
        ),
        ("select t.a as province from (select person_id from m) t(a)", ["province"], {"province"}),
        ("select province from m union all select person_id from p", ["province"], {"province"}),
        ("select * from (select person_id as province from m)", ["province"], {"province"}),
        ("select * from m", ["person_id"], {"person_id"}),
    ],
)
def test_a_key_cannot_reach_a_result_column(query, columns, carried):
    """keys_in_result follows the values of the key column through every select list of the query: what it
    reports is refused before the query runs (cohort/analysis/tabulate.py), on the extract as in the secure
    area, so that no pseudonym becomes the label of a published cell."""
    assert keys_in_result(query, KEYS, columns) == carried


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("select person_id + 1 from m", "needs a name"),
        ("select u.x as province from m, unnest([person_id]) as u(x)", "table function or PIVOT"),
        ("select province from (from m pivot (count(*) for person_id in (1, 2)))", "table function or PIVOT"),
        ("select * rename (person_id as province) from m", "name every column"),
        ("select columns(*) from m", "name every column"),
        ("select #1 as province from m", "name every column"),
        ("pivot m on person_id using count(*)", "only one SELECT statement"),
        ("select province from m; select sex from m", "only one SELECT statement"),
    ],
)
def test_a_query_whose_result_cannot_be_followed_is_refused(query, message):
    with pytest.raises(UncheckableQuery, match=message):
        keys_in_result(query, KEYS, ["province"])


def test_the_sandbox_copies_only_the_columns_named_and_keeps_the_rows(tmp_path: Path):
    files = tmp_path / "t" / "data.parquet"
    storage.write_frame(
        pl.DataFrame({"year": [2020] * 3, "x": [1, 2, 3], "secret_wide": ["a", "b", "c"]}), files
    )
    both = {"t": [files], "u": [files]}
    with sandbox(both, 2020, columns={"x", "unrelated"}) as con:
        assert run_query(con, "select column_name from (describe t)", "q")["column_name"].to_list() == ["x"]
        # a table none of whose columns is named keeps one column, so that its rows can be counted
        assert run_query(con, "select count(*) as n from u", "q")["n"].to_list() == [3]
    with sandbox(both, 2020) as con:  # no column list: the whole table
        assert len(run_query(con, "select * from t", "q").columns) == 3


def test_the_full_tables_spill_into_the_folder_given_and_not_elsewhere(tmp_path: Path, monkeypatch):
    """A year of the full tables is larger than the sandbox's memory: it spills into the folder the secure
    build gives it (inside the secure area); without one it stops with DuckDB's out-of-memory error."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COHORT_DUCKDB_MEMORY", "32MB")
    wide = tmp_path / "secure" / "p" / "wide" / "data.parquet"
    wide.parent.mkdir(parents=True)
    with storage.connect(memory_limit="1GB") as con:  # about 200 MB of rows once read
        con.execute(
            "COPY (SELECT range AS id, 2020 AS year, md5(range::varchar) || md5((range + 1)::varchar) AS pad "
            f"FROM range(2000000)) TO {storage.sql_string(str(wide))} (FORMAT parquet)"
        )
    with (
        storage.spill_folder(tmp_path / "secure") as spill,
        sandbox({"wide": [wide]}, 2020, spill=spill) as con,
    ):
        assert run_query(con, "select count(*) as n from wide where pad like '%%'", "q")["n"].to_list() == [
            2000000
        ]
        assert any(p.is_file() for p in spill.rglob("*")), "nothing spilled: the test no longer exercises it"
    assert not (tmp_path / "secure" / "_spill").exists() and not (tmp_path / ".tmp").exists()
    with pytest.raises(duckdb.OutOfMemoryException), sandbox({"wide": [wide]}, 2020):
        pass
