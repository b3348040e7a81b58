"""The connection an analysis's SQL runs on: it sees only its project's tables and can do nothing else.

The trusted side loads the project's tables into an in-memory database, then switches off every way
out and locks the settings (DuckDB 2.0 settings ``enable_external_access``, ``autoload_known_extensions``,
``autoinstall_known_extensions``, ``python_enable_replacements``, ``lock_configuration``). The tables are COPIED in before locking: a
view over ``read_parquet`` would read its files at query time, which the locked connection refuses
(tests/test_analysis_sandbox.py shows it). With external access off, reading or writing any file
(``read_csv``, ``read_parquet``, ``read_text``, ``glob``, ``COPY ... TO``, ``EXPORT``), ``ATTACH``,
``INSTALL`` and ``LOAD`` are refused; with the configuration locked, ``SET``, ``RESET`` and ``PRAGMA``
that change a setting are refused. Other projects' tables are simply not there, and neither are the
data frames of the Python code that runs the analysis (replacement scans are off).
"""

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from cohort import storage

#: Settings switched off, then locked, in this order (lock_configuration last).
LOCKDOWN = (
    ("autoinstall_known_extensions", False),
    ("autoload_known_extensions", False),
    ("allow_community_extensions", False),
    # a replacement scan would let the SQL name any polars/pandas/Arrow frame of the calling Python code;
    # DuckDB 2.0 already stops them when external access is off, this keeps them off if that changes
    ("python_enable_replacements", False),
    ("enable_external_access", False),
    ("lock_configuration", True),
)


#: parse-tree classes of an expression that may read every column of a relation
EVERY_COLUMN = {"STAR", "POSITIONAL_REFERENCE"}
#: parse-tree types of a relation in FROM whose columns cannot be followed by name to what they read
OPAQUE_TABLES = {"TABLE_FUNCTION", "PIVOT", "UNPIVOT"}
#: keys of a parse-tree node that is no expression naming a relation (a table, its alias, a CTE)
RELATION_KEYS = {"table_name", "alias", "key"}


def _serialized(query: str) -> dict:
    """DuckDB's parse tree of ``query`` as JSON (``json_serialize_sql`` on a connection of its own: parsing
    only, nothing runs); its ``error`` is true when DuckDB does not serialise the statement."""
    with duckdb.connect(":memory:") as con:
        return json.loads(con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()[0])


def _nodes(tree: object) -> Iterator[dict]:
    """Every mapping of a parse tree."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            yield node
            todo.extend(node.values())


def columns_read(queries: Iterable[str]) -> set[str] | None:
    """Every name the queries use as a column (each part of ``a.b.c``), so that the sandbox copies only
    those columns of its tables; None when a query may read every column (``*``, ``COLUMNS(...)``, a
    positional ``#n``, a table or an alias used as a row value, a NATURAL join, which joins on whatever
    columns the two sides share) or is not a SELECT DuckDB can serialise (a PIVOT statement, a COPY):
    the sandbox then copies everything, and running the query reports its own error. Parsing only: DuckDB's
    ``json_serialize_sql`` on a connection of its own, nothing is run."""
    names: set[str] = set()
    relations: set[str] = set()
    whole_rows: set[str] = set()
    for query in queries:
        tree = _serialized(query)
        if tree.get("error"):
            return None
        for node in _nodes(tree):
            if node.get("class") in EVERY_COLUMN:
                return None
            if node.get("class") == "COLUMN_REF":
                parts = [str(part) for part in node.get("column_names", [])]
                names.update(parts)
                if len(parts) == 1:
                    whole_rows.add(parts[0])
            if node.get("type") == "JOIN":
                if node.get("ref_type") == "NATURAL":  # joins on every column the two sides share
                    return None
                names.update(str(c) for c in node.get("using_columns") or [])  # USING (a, b)
            if "class" not in node:  # a table reference or a CTE; an expression's alias names a column
                relations.update(
                    str(v) for k, v in node.items() if k in RELATION_KEYS and isinstance(v, str) and v
                )
    # "SELECT m FROM mobility_next m" reads the whole row of m
    return None if whole_rows & relations else names


class SandboxRefusal(RuntimeError):
    """The analysis's SQL tried something the sandbox does not allow, or failed."""


class UncheckableQuery(ValueError):
    """A query :func:`keys_in_result` cannot follow; the message says what to write instead."""


def _parse(query: str) -> dict:
    """:func:`_serialized`, or :class:`UncheckableQuery` when DuckDB does not serialise ``query`` (not a
    SELECT, a PIVOT statement, a syntax error) or it holds more than one statement."""
    tree = _serialized(query)
    if tree.get("error"):
        reason = str(tree.get("error_message") or "not a SELECT").splitlines()[0]
        raise UncheckableQuery(f"only one SELECT statement is allowed ({reason})")
    if len(tree.get("statements", [])) != 1:
        raise UncheckableQuery("only one SELECT statement is allowed")
    return tree


def _names_used(expression: dict) -> tuple[set[str], bool]:
    """The names an expression reads (every part of ``a.b.c``), and whether it reads what cannot be
    followed by name: a ``*`` or ``COLUMNS(...)`` inside an expression, a positional ``#n``."""
    names: set[str] = set()
    opaque = False
    for node in _nodes(expression):
        if node.get("class") == "COLUMN_REF":
            names.update(str(part) for part in node.get("column_names", []))
        elif node.get("class") in EVERY_COLUMN:
            opaque = True
    return names, opaque


def _item_output(item: dict) -> str | None:
    """The name a select-list item gives its column: its alias, else a plain column's own name; None for
    an unnamed expression (DuckDB names it by its text)."""
    if item.get("alias"):
        return str(item["alias"])
    if item.get("class") == "COLUMN_REF" and item.get("column_names"):
        return str(item["column_names"][-1])
    return None


def _star_passes_names(item: dict) -> bool:
    """A ``*``, ``t.*`` or ``* EXCLUDE (...)`` item passes its relation's columns on under their own
    names; with REPLACE, RENAME or COLUMNS(...) names and values no longer go together."""
    return not (
        item.get("replace_list") or item.get("rename_list") or item.get("columns") or item.get("expr")
    )


def _listed(keys: set[str]) -> str:
    return ", ".join(sorted(keys)) or "a key"


def keys_in_result(query: str, keys: set[str], columns: Iterable[str]) -> set[str]:
    """The result ``columns`` of ``query`` (the declared ones) that may carry the values of a key column (``keys``: the
    pseudonyms of the project's tables), followed through every select list of the query by name: a
    result column is tainted when its expression reads a key or a tainted column of an inner select, a
    CTE or a subquery (also under column aliases, renamed as a whole; in a UNION every column of a
    branch that reads one). Reads that only filter, join or order rows (WHERE, ON, USING, GROUP BY,
    HAVING, ORDER BY) carry no value into the result and are allowed. Conservative by construction: a
    name once tainted is tainted everywhere in the query. :class:`UncheckableQuery` when the query
    cannot be followed: not a
    SELECT DuckDB serialises, a positional reference or ``*`` inside an expression, ``* REPLACE`` /
    ``RENAME`` / ``COLUMNS(...)``, an unnamed expression that reads a key, or a table function or PIVOT
    in FROM that reads one."""
    tree = _parse(query)
    tainted = set(keys)
    # (items of a select list, the names they are renamed to as a whole: column aliases of a
    # subquery or CTE, the first branch's names of a UNION)
    lists: list[tuple[list[dict], list[str]]] = []
    for node in _nodes(tree):
        if "select_list" in node:
            lists.append((node["select_list"], []))
        if (
            node.get("type") == "SUBQUERY"
            and node.get("column_name_alias")
            and isinstance(node.get("subquery"), dict)
        ):
            renamed = [str(a) for a in node["column_name_alias"]]
            lists += [(n["select_list"], renamed) for n in _nodes(node["subquery"]) if "select_list" in n]
        query_node = node.get("query_node")
        if isinstance(query_node, dict) and node.get("aliases"):  # WITH c(a, b) AS (...)
            renamed = [str(a) for a in node["aliases"]]
            lists += [(n["select_list"], renamed) for n in _nodes(query_node) if "select_list" in n]
        if node.get("type") == "SET_OPERATION_NODE" and node.get("children"):
            first = node["children"][0]
            renamed = [name for item in first.get("select_list", []) if (name := _item_output(item))]
            lists += [
                (n["select_list"], renamed)
                for child in node["children"]
                for n in _nodes(child)
                if "select_list" in n
            ]
    # a table function (UNNEST, ...) or a PIVOT in FROM makes columns whose names say nothing of what
    # they read (a PIVOT on a key even names its columns after the key's values)
    opaque_tables = [node for node in _nodes(tree) if node.get("type") in OPAQUE_TABLES]
    changed = True
    while changed:
        changed = False
        if any(_names_used(node)[0] & tainted for node in opaque_tables):
            raise UncheckableQuery(
                f"a table function or PIVOT in FROM reads {_listed(keys)}: its columns cannot be followed"
            )
        for items, renamed in lists:
            for item in items:
                if item.get("class") == "STAR" and _star_passes_names(item):
                    continue  # its columns keep their names, and so their taint
                names, opaque = _names_used(item)
                if opaque or item.get("class") in EVERY_COLUMN:
                    raise UncheckableQuery(
                        "name every column of a select list: a positional #n, a * inside an expression, "
                        "* REPLACE / RENAME and COLUMNS(...) cannot be followed"
                    )
                if not names & tainted:
                    continue
                output = _item_output(item)
                if output is None:
                    raise UncheckableQuery(f"an expression that reads {_listed(keys)} needs a name (AS ...)")
                new = {output, *renamed} - tainted
                if new:
                    tainted |= new
                    changed = True
    return set(columns) & tainted


@contextmanager
def sandbox(
    tables: dict[str, list[Path]],
    year: int | None = None,
    queries: dict[str, str] | None = None,
    spill: Path | None = None,
    columns: set[str] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked in-memory connection holding ``tables`` (name -> Parquet files), only the rows of
    ``year`` when given. ``queries``: table -> the query that makes the table of its files
    (``{source}`` stands for them), e.g. the extract's columns of a secure frame; the others are
    copied whole. The names, the queries and the paths come from the trusted side (the registry
    :mod:`cohort.analysis.sources` and the lake); names and paths are quoted, never pasted.

    ``spill``: where the copied tables may go beyond the memory limit (a :func:`cohort.storage.spill_folder`
    inside the area they come from). The full tables of a year are larger than a sandbox's memory
    (the labour reserve's two mobility tables at scale 1.0: 2 x 7.3 million rows of 144 columns, out of
    memory under 6 GB); the extract fits without. The locked settings keep the analysis from changing it.

    ``columns``: copy only these columns of each table (:func:`columns_read` of the analysis's queries), at
    least one so that a table whose rows are only counted keeps them; None copies every column."""
    # the lake's usual in-memory connection: its size settings and the rules' macros (completed_age, ...)
    con = storage.connect(spill=spill)
    try:
        for name, files in tables.items():
            if not files:
                continue
            listed = ", ".join(storage.sql_string(str(f)) for f in files)
            source = f"read_parquet([{listed}], hive_partitioning = false, union_by_name = true)"
            if year is not None:
                source = f"(SELECT * FROM {source} WHERE year = {int(year)})"
            query = (queries or {}).get(name, "SELECT * FROM {source}").replace("{source}", source)
            if columns is not None:
                present = [row[0] for row in con.execute(f"DESCRIBE {query}").fetchall()]
                kept = [c for c in present if c in columns] or present[:1]
                query = f"SELECT {', '.join(storage.sql_identifier(c) for c in kept)} FROM ({query})"
            con.execute(f"CREATE TABLE {storage.sql_identifier(name)} AS {query}")
        for setting, value in LOCKDOWN:
            con.execute(f"SET {setting} = {'true' if value else 'false'}")
        yield con
    finally:
        con.close()


def run_query(con: duckdb.DuckDBPyConnection, sql: str, label: str) -> pl.DataFrame:
    """Run an analysis query on the sandbox; a refused or failing statement becomes a
    :class:`SandboxRefusal` naming the query (``label``) and DuckDB's reason."""
    try:
        return con.sql(sql).pl()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        kind = "refused" if isinstance(exc, duckdb.PermissionException) or "locked" in reason else "failed"
        raise SandboxRefusal(f"{label}: {kind}: {reason}") from None
