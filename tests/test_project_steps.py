"""One way into a project step (:func:`cohort.projects.step.open_step`): every asset of every
deliberation goes through it, so after the retention date every one of them is refused with a
``refusal`` in the audit log carrying its run id; and no project module guards, connects to the
warehouse or loads a key by itself, nor opens a connection it does not close."""

import ast
import importlib
import inspect
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cohort import storage
from cohort.privacy import audit_log
from cohort.privacy.retention import RetentionExpired
from cohort.projects.longitudinal_cohort import build as cohort_build
from cohort.projects.spec import load_spec
from cohort.projects.step import Step, open_step
from cohort.resources import LakeResource

PROJECTS = Path(__file__).resolve().parent.parent / "cohort" / "projects"
#: the deliberation packages with Dagster assets, and the module that lists them
ASSET_MODULES = {
    "longitudinal_cohort": "ASSETS",
    "labour_reserve": "ASSETS",
    "measure_profiles": ("profile", "inflow", "outflow", "extract", "release_tables", "release"),
    "regularised_foreigners": ("regularised", "release_tables", "release"),
    "flemish_staff_origin": ("staff", "release_tables", "release"),
}
#: calls only the step makes: the retention guard, the warehouse contract, the project key
STEP_ONLY = {"refuse_if_expired", "assert_within_retention", "open_warehouse", "load_key", "install_hmac"}
AFTER_EVERY_RETENTION_DATE = "2100-01-01"


def project_assets(project: str) -> list[dg.AssetsDefinition]:
    module = importlib.import_module(f"cohort.projects.{project}.assets")
    names = ASSET_MODULES[project]
    return list(getattr(module, names)) if isinstance(names, str) else [getattr(module, n) for n in names]


def test_every_project_with_assets_is_listed() -> None:
    with_assets = {p.parent.name for p in PROJECTS.glob("*/assets.py")}
    assert with_assets == set(ASSET_MODULES)


def bypasses(source: str) -> list[str]:
    """Where ``source`` guards, opens the warehouse or loads a key itself, or opens a connection
    outside a ``with`` (a connection it may leave open)."""
    tree = ast.parse(source)
    in_with = {
        id(item.context_expr) for node in ast.walk(tree) if isinstance(node, ast.With) for item in node.items
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in STEP_ONLY:
                found.append(f"line {node.lineno}: {name}()")
            elif name == "connect" and id(node) not in in_with:
                found.append(f"line {node.lineno}: a connection outside a with statement")
            elif (
                name == "connect"
                and isinstance(node.func, ast.Attribute)
                and ast.unparse(node.func.value) != "storage"
            ):
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}() instead of the step")
        elif isinstance(node, ast.ImportFrom) and (
            node.module == "cohort.privacy.retention"
            or (node.module == "cohort.privacy" and any(alias.name == "retention" for alias in node.names))
        ):
            found.append(f"line {node.lineno}: imports the retention guard")
    return found


@pytest.mark.parametrize(
    ("source", "bypass"),
    [
        ("con = storage.connect()\ncon.close()", True),
        ("with lake.connect(reads) as con:\n    pass", True),
        ("refuse_if_expired(lake, 'p', d, run_id)", True),
        ("from cohort.privacy import retention", True),
        ("pseudonym.install_hmac(con, pseudonym.load_key('p'))", True),
        ("with storage.connect() as con:\n    pass", False),
        ("with open_step(lake, SPEC, run_id) as step:\n    step.con.execute('select 1')", False),
    ],
)
def test_the_check_finds_a_bypass(source: str, bypass: bool) -> None:
    assert bool(bypasses(source)) is bypass


def test_no_project_module_bypasses_the_step() -> None:
    found = {
        str(path.relative_to(PROJECTS)): bypasses(path.read_text())
        for path in sorted(PROJECTS.rglob("*.py"))
        if path.name != "step.py"
    }
    assert {module: lines for module, lines in found.items() if lines} == {}


def test_the_step_closes_its_connection_also_when_the_step_fails(tmp_path) -> None:
    lake = LakeResource(data_dir=str(tmp_path))
    with pytest.raises(ZeroDivisionError), open_step(lake, load_spec("labour_reserve_results")) as step:
        con = step.con
        assert con.execute("select 1").fetchall() == [(1,)]
        _ = 1 / 0
    with pytest.raises(Exception, match="closed"):
        con.execute("select 1")


def _partition(asset: dg.AssetsDefinition) -> str | None:
    if asset.partitions_def is None:
        return None
    return asset.partitions_def.get_partition_keys()[0]


@pytest.mark.parametrize("project", sorted(ASSET_MODULES))
def test_after_the_retention_date_every_asset_is_refused_with_its_audit_entry(
    project: str, tmp_path, monkeypatch
) -> None:
    """Each asset in a run of its own, on an empty lake: the guard runs before anything is read,
    so the step fails with :class:`RetentionExpired`, and the audit log holds its refusal with the
    run id."""
    monkeypatch.setenv("COHORT_TODAY", AFTER_EVERY_RETENTION_DATE)
    monkeypatch.delenv("COHORT_DEMO", raising=False)
    lake = LakeResource(data_dir=str(tmp_path / "lake"), warehouse_dir=str(tmp_path / "warehouse"))
    assets = project_assets(project)
    job = dg.Definitions(assets=assets, resources={"lake": lake}).resolve_implicit_global_asset_job_def()
    runs = {}
    for asset in assets:  # an in-memory instance per run: nothing to keep
        result = job.execute_in_process(
            asset_selection=list(asset.keys),
            partition_key=_partition(asset),
            raise_on_error=False,
        )
        failures = [e for e in result.all_events if e.is_step_failure]
        name = min(k.to_user_string() for k in asset.keys)
        assert not result.success and len(failures) == 1, name
        error, raised = failures[0].step_failure_data.error, []
        while error is not None:  # Dagster wraps what the step raised
            raised.append(error.cls_name)
            error = error.cause
        assert RetentionExpired.__name__ in raised, (name, raised)
        runs[name] = result.run_id
    refusals = {e["run_id"]: e for e in audit_log.read_entries(lake.paths()) if e["action"] == "refusal"}
    assert set(refusals) == set(runs.values())  # one refusal per run, each with its run id
    for entry in refusals.values():
        assert entry["project"] == project
        assert entry["detail"]["rule"] == "retention_expired"


def test_the_cohort_steps_share_one_signature_and_run_refuses_anything_else() -> None:
    """Every step that :func:`cohort.projects.longitudinal_cohort.build.run` opens takes
    ``(step, spec[, year])``; a function that is not one of them is refused by name."""
    for name in cohort_build.STEP_NEEDS:
        parameters = list(inspect.signature(getattr(cohort_build, name)).parameters.values())
        assert [p.annotation for p in parameters[:2]] == [Step, cohort_build.ProjectSpec], name
        assert len(parameters) < 3 or parameters[2].name == "year", name
    with pytest.raises(ValueError, match="check_export is not a step function"):
        cohort_build.run(LakeResource(), load_spec("longitudinal_cohort"), cohort_build.check_export)


def test_a_step_spills_inside_the_secure_area_and_leaves_no_spill_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a memory limit DuckDB writes what does not fit to disk; those blocks are rows of the
    step's tables, so they go to a folder of the step's own in the secure area, never to ``.tmp``
    in the folder the command was started from, and the folder is gone when the step ends."""
    started_in = tmp_path / "started_here"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    monkeypatch.setenv("COHORT_DUCKDB_MEMORY", "32MB")
    lake = LakeResource(data_dir=str(tmp_path / "lake"))
    with open_step(lake, None) as step:
        # about 200 MB of rows held in a temporary table: more than the limit, so blocks go to disk
        step.con.execute(
            "CREATE TEMP TABLE wide AS SELECT range AS id, repeat('x', 100) AS pad FROM range(2000000)"
        )
        assert step.con.execute("SELECT count(*) FROM wide").fetchone() == (2000000,)
        spill_root = step.lake.secure / "_spill"
        spilled = [p for p in spill_root.rglob("*") if p.is_file()]
        assert spilled, "nothing was spilled: the test no longer exercises the spill folder"
        assert not (started_in / ".tmp").exists()
    assert not spill_root.exists()


def test_a_connection_that_names_no_spill_folder_never_spills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checking connection (a file's validation, the export scan, an analysis's sandbox) names
    no spill folder: above its memory limit it fails with DuckDB's out-of-memory error rather than
    writing rows to ``.tmp`` in the folder the command was started from (DuckDB's own default)."""
    monkeypatch.chdir(tmp_path)
    with storage.connect(memory_limit="32MB") as con, pytest.raises(duckdb.OutOfMemoryException):
        con.execute(
            "CREATE TEMP TABLE wide AS SELECT range AS id, repeat('x', 100) AS pad FROM range(2000000)"
        )
    assert list(tmp_path.iterdir()) == []


def test_a_spill_folder_is_the_connections_own_and_goes_when_it_ends(tmp_path: Path) -> None:
    """Each connection that may spill gets ``<area>/_spill/<random>``; the folder goes when the
    connection is done, and ``_spill`` with the last one, never while another still uses it."""
    with storage.spill_folder(tmp_path) as first:
        with storage.spill_folder(tmp_path) as second:
            assert first != second
            assert first.parent == second.parent == tmp_path / "_spill"
            assert first.is_dir() and second.is_dir()
            (second / "block.tmp").write_bytes(b"rows")
        assert not second.exists() and first.is_dir()
    assert list(tmp_path.iterdir()) == []
