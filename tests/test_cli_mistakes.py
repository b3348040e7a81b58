"""Mistakes a user makes on the command line, and builds that fail: each is named in one line.

A mistake in the arguments or the environment (a year that is not one, a file for a folder, a lake
or warehouse that is not there, an unknown project) exits with status 2 and a message naming what
is wrong, never a traceback. A build that fails prints the failing step's own message (the
asset's exception, the failed check's words) before anything else, not Dagster's wrappers.
"""

import os
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from click.testing import CliRunner
from conftest import run_cohort

from cohort.cli import main
from cohort.ops import runner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lakes(tmp_path, monkeypatch):
    """A file, a missing folder, a lake whose warehouse has no table, a lake with a warehouse."""
    # the commands point COHORT_DATA_DIR at the lake they use: restore it after the test
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "unused"))
    monkeypatch.delenv("COHORT_WAREHOUSE_DIR", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a lake\n")
    no_tables = tmp_path / "no_tables"
    (no_tables / "warehouse" / "person").mkdir(parents=True)
    (no_tables / "warehouse" / "README.txt").write_text("the extract comes next week\n")
    one_table = tmp_path / "one_table"
    (one_table / "warehouse" / "person").mkdir(parents=True)
    pl.DataFrame({"insz": ["00000000097"]}).write_parquet(one_table / "warehouse" / "person" / "data.parquet")
    return {
        "file": str(a_file),
        "missing": str(tmp_path / "no_such_lake"),
        "no_tables": str(no_tables),
        "one_table": str(one_table),
    }


MISTAKES = [
    # (arguments, environment, words the one-line message must hold)
    (["project", "build", "labour_reserve", "--years", "20x1"], {}, ["--years", "'20x1'", "not a year"]),
    (["project", "build", "labour_reserve", "--years", "2022-2020"], {}, ["--years", "2022-2020", "before"]),
    (["project", "build", "labour_reserve", "--years", ","], {}, ["--years", "no year"]),
    (
        ["project", "build", "labour_reserve", "--years", "2021", "--data-dir", "{file}"],
        {},
        ["{file}", "a file"],
    ),
    (["project", "build", "labour_reserve", "--data-dir", "{missing}"], {}, ["no warehouse", "{missing}"]),
    (["project", "build", "labour_reserve", "--data-dir", "{no_tables}"], {}, ["no warehouse", "none of"]),
    (
        ["project", "build", "labour_reserve", "--data-dir", "{no_tables}"],
        {"COHORT_WAREHOUSE_DIR": "{missing}"},
        ["no warehouse at {missing}"],
    ),
    (
        ["project", "build", "labour_reserve", "--data-dir", "{no_tables}"],
        {"COHORT_WAREHOUSE_DIR": "{file}"},
        ["{file}", "a file", "COHORT_WAREHOUSE_DIR"],
    ),
    (["project", "build", "nosuch", "--data-dir", "{one_table}"], {}, ["unknown project 'nosuch'"]),
    (
        ["project", "build", "labour_reserve", "--years", "1990", "--data-dir", "{one_table}"],
        {},
        ["1990", "not partitions"],
    ),
    (
        ["exports", "list", "--project", "nosuch", "--data-dir", "{no_tables}"],
        {},
        ["unknown project 'nosuch'"],
    ),
    (
        ["releases", "list", "--project", "nosuch", "--data-dir", "{no_tables}"],
        {},
        ["unknown project 'nosuch'"],
    ),
    (["exports", "list", "--data-dir", "{missing}"], {}, ["no lake at {missing}"]),
    (["project", "list", "--data-dir", "{file}"], {}, ["{file}", "a file"]),
    (["audit", "verify", "--data-dir", "{missing}"], {}, ["no lake at {missing}"]),
    (["demo", "--data-dir", "{file}"], {}, ["{file}", "a file"]),
    (["demo", "--data-dir", "{missing}"], {"COHORT_WAREHOUSE_DIR": "{file}"}, ["{file}", "a file"]),
    (["demo", "--project", "nosuch", "--data-dir", "{missing}"], {}, ["unknown project(s) nosuch"]),
    (["demo", "--workers", "0", "--data-dir", "{missing}"], {}, ["--workers"]),
    # an unknown project, wherever a project is named
    (["project", "build", "nosuch", "--data-dir", "{missing}"], {}, ["unknown project 'nosuch'"]),
    (["project", "dictionary", "nosuch"], {}, ["unknown project 'nosuch'", "labour_reserve"]),
    (
        ["audit", "show", "--project", "nosuch", "--data-dir", "{no_tables}"],
        {},
        ["unknown project 'nosuch'"],
    ),
    (["purge", "nosuch", "--data-dir", "{no_tables}"], {}, ["no spec", "'nosuch'"]),
    # the warehouse check: a file, no lake, a table the contract does not have
    (["warehouse", "check", "--data-dir", "{file}"], {}, ["{file}", "a file"]),
    (["warehouse", "check", "--data-dir", "{missing}"], {}, ["no warehouse at {missing}"]),
    (
        ["warehouse", "check", "--table", "nosuch", "--data-dir", "{one_table}"],
        {},
        ["--table", "nosuch", "not a table"],
    ),
    # cohort dev refuses before it starts anything
    (["dev", "--data-dir", "{file}"], {}, ["{file}", "a file"]),
    (["dev", "--port", "0", "--data-dir", "{missing}"], {}, ["--port", "0"]),
    # click's own mistakes are one line too (no usage text above them)
    (["project", "build", "labour_reserve", "--yeras", "2021"], {}, ["No such option", "--yeras"]),
    (["project", "build"], {}, ["Missing argument 'PROJECT'"]),
    (["nosuch"], {}, ["No such command 'nosuch'"]),
]


@pytest.mark.parametrize(
    ("args", "env", "words"),
    MISTAKES,
    ids=[" ".join(args) + "".join(f" {k}={v}" for k, v in env.items()) for args, env, _ in MISTAKES],
)
def test_a_mistake_exits_2_with_a_message_naming_it(lakes, monkeypatch, args, env, words):
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(**lakes))
    result = CliRunner().invoke(main, [a.format(**lakes) for a in args])
    assert result.exit_code == 2, (result.output, result.exception)
    # one line, the error itself: not the command's usage and help hint above it
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word.format(**lakes) in lines[0], result.output
    # nothing was started: no run recorded, no lake made where the mistake pointed
    assert not Path(lakes["missing"]).exists()
    assert not (Path(lakes["no_tables"]) / "dagster").exists()


def test_the_real_command_line_prints_one_line_and_exits_2(tmp_path):
    # the program as a shell runs it (the cohort script, cohort.__main__): nothing but the line
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")}
    done = run_cohort(
        ["project", "build", "labour_reserve", "--years", "20x1"], env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "Error: Invalid value for '--years': '20x1' is not a year or a range of years "
        "(e.g. 2021, 2020-2022 or 2020,2022)"
    ]


def test_years_are_parsed_or_refused():
    from cohort.ops.commands import _parse_years

    assert _parse_years("2020-2022,2024") == [2020, 2021, 2022, 2024]
    assert _parse_years(" 2021 ") == [2021]
    for bad in ("20x1", "2021-", "-2021", "2020-2022-2024", "99999999", "1-99999999"):
        with pytest.raises(Exception, match="not a year"):
            _parse_years(bad)


def test_the_list_commands_still_answer_on_an_existing_lake(lakes):
    # a known project with nothing built yet is not a mistake
    result = CliRunner().invoke(
        main, ["exports", "list", "--project", "labour_reserve", "--data-dir", lakes["no_tables"]]
    )
    assert result.exit_code == 0 and "No exports" in result.output, result.output


# ---------------------------------------------------------------- a failed build in its own words


class ContractBroken(Exception):
    pass


@dg.asset(key=["toy", "situation"])
def broken_situation() -> None:
    raise ContractBroken("sep_quarter year=2021: rule unique_key: 3 rows share (insz, quarter)")


@dg.asset(
    key=["toy", "panel"],
    check_specs=[dg.AssetCheckSpec("panel_valid", asset=["toy", "panel"], blocking=True)],
)
def panel() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="panel_valid",
                passed=False,
                description="rule position_code: 17 rows have a code outside the code list",
                metadata={"failed_rows": 17},
            )
        ]
    )


@dg.asset(key=["toy", "after_panel"], deps=[panel])
def after_panel() -> None: ...


@dg.asset(
    key=["toy", "mobility"],
    check_specs=[dg.AssetCheckSpec("mobility_valid", asset=["toy", "mobility"], blocking=True)],
)
def mobility() -> dg.MaterializeResult:
    # as the projects' validators report: counts per rule in the metadata, no description
    metadata = {"spec/missing": 0, "sql/duplicate_key": 3, "pandera/report": "column 'x' failed\n  5 cases"}
    return dg.MaterializeResult(
        check_results=[dg.AssetCheckResult(check_name="mobility_valid", passed=False, metadata=metadata)]
    )


def test_a_failed_step_and_a_failed_check_are_reported_in_their_own_words():
    defs = dg.Definitions(assets=[broken_situation, panel, after_panel, mobility])
    with dg.instance_for_test() as instance:
        m = runner.Materialiser(defs, instance)
        step = m.execute(runner.PlannedRun("toy", (broken_situation.key,), None, 0))
        check = m.execute(runner.PlannedRun("toy", (panel.key, after_panel.key), None, 0))
        counts = m.execute(runner.PlannedRun("toy", (mobility.key,), None, 0))
    assert not step.success and not check.success and not counts.success
    # the asset's own exception, its class without the module path, first
    assert step.error.startswith(
        "toy__situation: ContractBroken: sep_quarter year=2021: rule unique_key: 3 rows"
    )
    assert "Error occurred while executing" not in step.error
    # the failed blocking check's own description, not Dagster's "1 blocking asset check failed"
    assert check.error.splitlines()[0] == (
        "toy/panel: check panel_valid failed: rule position_code: 17 rows have a code outside the code list"
    )
    assert "blocking asset check" not in check.error
    # a check without a description: the rules it counted, not the ones that found nothing
    assert counts.error.splitlines()[0] == (
        "toy/mobility: check mobility_valid failed: sql/duplicate_key=3, pandera/report=column 'x' failed ..."
    )


def _damaged_copy(warehouse: Path, into: Path, without: str) -> Path:
    """A warehouse of links to ``warehouse``'s tables, one table left out (cheap, read only)."""
    target = into / "warehouse"
    target.mkdir(parents=True)
    for item in warehouse.iterdir():
        if item.name != without:
            (target / item.name).symlink_to(item, target_is_directory=item.is_dir())
    return target


def test_a_build_on_a_warehouse_without_a_table_names_the_table_first(small_warehouse, tmp_path):
    lake = tmp_path / "lake"
    _damaged_copy(small_warehouse, lake, without="education")
    env = {**os.environ, "COHORT_DEMO": "1", "DAGSTER_HOME": str(tmp_path / "dagster")}
    env.pop("COHORT_WAREHOUSE_DIR", None)
    done = run_cohort(
        ["project", "build", "labour_reserve", "--years", "2021", "--data-dir", str(lake)], env, cwd=ROOT
    )
    assert done.returncode == 1, (done.stdout[-2000:], done.stderr[-3000:])
    first = done.stderr.strip().splitlines()[0]
    assert "education" in first, done.stderr
    # no stack trace, no wrapper of Dagster's on the console: the event log keeps them
    for noise in (
        "Traceback",
        "Stack Trace",
        "Error occurred while executing",
        "DagsterExecutionStepExecutionError",
    ):
        assert noise not in done.stderr, done.stderr
    assert "FAILED labour_reserve" in done.stderr
