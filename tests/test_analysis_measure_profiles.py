"""Seed 001 (measure_profiles) as an analysable project, on the demo warehouse (scale 0.01, the session's
``demo_warehouse``): its frames and preparation extract built by the project's Dagster assets on a real
(test) instance, then the example analysis ``examples/outflow_to_work`` run on the extract and submitted,
built on the full frames (not partitioned: the frames cover 2015 once), reviewed, approved and released.

- the extract follows the warehouse's scale and stays under the spec's share of each frame;
- the secure frames are seen with exactly the extract's columns, so one SQL text runs in both settings,
  and the released tables and model come from that SQL on the full frames;
- a measure_profiles analysis cannot read another project's table (nor its file)."""

import json
import os
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from analysis_folders import extract_only, write
from click.testing import CliRunner
from conftest import run_cohort

from cohort import settings, storage
from cohort.analysis.assets import submitted_analysis_assets
from cohort.analysis.folder import folder_hash, load_analysis
from cohort.analysis.registry import submission
from cohort.analysis.sandbox import SandboxRefusal, run_query, sandbox
from cohort.analysis.sources import analysable_projects
from cohort.analysis.tabulate import run_analysis
from cohort.cli import main
from cohort.projects.measure_profiles import assets as mp
from cohort.projects.measure_profiles import researcher_view
from cohort.resources import LakeResource

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[1] / "cohort/projects/measure_profiles/examples/outflow_to_work"
FRAMES = researcher_view.FRAMES
IN_WORK = ("employee", "self-employed", "employee and self-employed")


@pytest.fixture(scope="module")
def measure_lake(demo_warehouse, tmp_path_factory) -> Path:
    """The three secure frames and the extract of measure_profiles, built through Dagster on the demo
    warehouse (the release of advice 16/39 is not built: the analysis does not need it)."""
    root = tmp_path_factory.mktemp("measure_lake")
    (root / "warehouse").symlink_to(demo_warehouse, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp_env, dg.instance_for_test() as instance:
        mp_env.setenv("COHORT_DEMO", "1")
        mp_env.delenv("COHORT_WAREHOUSE_DIR", raising=False)
        run = dg.materialize(
            [mp.profile, mp.inflow, mp.outflow, mp.extract],
            resources={"lake": LakeResource(data_dir=str(root))},
            instance=instance,
        )
        assert run.success
    return root


@pytest.fixture(scope="module")
def extract_lake(measure_lake, tmp_path_factory) -> Path:
    """What the researcher has: the extract under exports/, no secure area."""
    return extract_only(measure_lake, tmp_path_factory.mktemp("measure_extract"))


def frame(lake: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(lake / "secure" / "measure_profiles" / name / "data.parquet")


def extract(lake: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(lake / "exports" / "measure_profiles" / f"extract_{name}" / "data.parquet")


def test_the_extract_is_a_small_part_of_each_frame_at_demo_scale(measure_lake, demo_warehouse):
    spec = researcher_view.spec()
    x = spec.extra["extract"]
    share = float(x["max_share"])
    assert share <= 0.5 and int(x["records"]) == 3000  # "enkele duizenden" at scale 1.0
    scale = settings.warehouse_scale(demo_warehouse)
    assert scale == 0.01
    for name in FRAMES:
        full, sample = frame(measure_lake, name), extract(measure_lake, name)
        # the frame at demo scale is large enough that the share does not bind: the scaled size does
        assert full.height * share > int(x["min_records"])
        assert sample.height == researcher_view.extract_size(full.height, scale)
        assert sample.height < share * full.height, (name, sample.height, full.height)
        assert sample.columns == list(spec.table(f"extract_{name}").columns)
        assert sample.get_column("record_number").sort().to_list() == list(range(1, sample.height + 1))
    # the numbers of the spec at other scales: a real extract gets its few thousand, a tiny frame a share
    assert researcher_view.extract_size(300_000, 1.0) == 3000
    assert researcher_view.extract_size(40, 0.01) == int(share * 40)


def test_the_secure_frames_are_seen_with_the_extract_columns(measure_lake):
    """The sandbox of the secure build holds each frame under its name with the extract's columns and
    types, a record number 1..n, and nothing more (not the secure-only measure_type)."""
    source = analysable_projects()["measure_profiles"]
    lake = settings.lake(str(measure_lake))
    with sandbox(source.secure_files(lake), None, source.secure_queries()) as con:
        for name in FRAMES:
            secure = run_query(con, f"select * from {name}", name)
            assert secure.schema == extract(measure_lake, name).schema
            assert secure.height == frame(measure_lake, name).height
            numbers = secure.get_column("record_number").sort().to_list()
            assert numbers == list(range(1, secure.height + 1))
        with pytest.raises(SandboxRefusal, match="measure_type"):
            run_query(con, "select measure_type from profile", "secure_only")
    # the numbering is the same on every build of the same frame (a hash order, not a random one)
    with sandbox(source.secure_files(lake), None, source.secure_queries()) as con:
        again = run_query(con, "select * from profile order by record_number", "again")
    with sandbox(source.secure_files(lake), None, source.secure_queries()) as con:
        assert run_query(con, "select * from profile order by record_number", "again").equals(again)


def cli(args: list[str], lake: Path, cwd: Path):
    return run_cohort(["analysis", *args, "--data-dir", str(lake)], {**os.environ}, cwd)


def positions(outflow: pl.DataFrame) -> dict[tuple[str, str], int]:
    """The outflow by quarter and position after, counted here in Polars (not by the example's SQL)."""
    position = (
        pl.when(pl.col("sep_1q_after").is_in(IN_WORK))
        .then(pl.lit("in work"))
        .when(pl.col("sep_1q_after").str.starts_with("job seeker"))
        .then(pl.lit("job seeker"))
        .otherwise(pl.lit("other"))
    )
    counts = outflow.group_by("outflow_quarter", position.alias("position_after")).len()
    return {(q, p): n for q, p, n in counts.iter_rows()}


def test_the_example_runs_on_the_extract_and_is_released_from_the_same_sql(
    measure_lake, extract_lake, tmp_path
):
    """run on the extract -> submit -> build on the full frames (no partition) -> a release before
    approval refused -> review -> approve -> release; each step a `cohort analysis ...` process."""
    tried = cli(["run", str(EXAMPLE)], extract_lake, tmp_path)
    assert tried.returncode == 0, tried.stderr
    out = tried.stdout
    assert "on the extract of measure_profiles, 2015 (not yearly)" in out
    # the grand total of the run is the extract's outflow rows: the SQL ran on the extract
    lines = out.split("outflow_position (count)")[1].splitlines()
    total = next(x for x in lines if x.split()[:2] == ["Total", "Total"])
    assert total.split()[2] == str(extract(extract_lake, "outflow").height)
    yearly = cli(["run", str(EXAMPLE), "--year", "2015"], extract_lake, tmp_path)
    assert yearly.returncode == 2 and "not yearly" in yearly.stderr and "without --year" in yearly.stderr

    submitted = cli(["submit", str(EXAMPLE)], measure_lake, tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    assert (
        "(not partitioned: its tables cover 2015): cohort analysis build outflow_to_work" in submitted.stdout
    )
    record = json.loads((measure_lake / "analyses/outflow_to_work/submission.json").read_text())
    # the code that runs in the secure area is the folder that ran on the extract, byte for byte
    assert record["project"] == "measure_profiles" and record["content_hash"] == folder_hash(EXAMPLE)
    # its asset: not partitioned (the frames cover 2015 once), under measure_profiles
    tables, review_asset = submitted_analysis_assets(
        submission(settings.lake(str(measure_lake)), "outflow_to_work")
    )
    assert tables.partitions_def is None and review_asset.partitions_def is None
    assert tables.key == dg.AssetKey(["measure_profiles", "analysis_outflow_to_work_tables"])
    assert review_asset.key == dg.AssetKey(["measure_profiles", "analysis_outflow_to_work_review"])
    built = cli(["build", "outflow_to_work"], measure_lake, tmp_path)
    assert built.returncode == 0 and "small-cell risk analysis passed" in built.stdout, built.stderr
    assert "Next: cohort analysis review outflow_to_work\n" in built.stdout
    # the secure build is a run of the analysis's own job in the lake's instance (the UI's Runs page),
    # and its review asset carries the review the command line shows
    with dg.DagsterInstance.from_config(str(measure_lake / "dagster")) as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name="analysis_outflow_to_work"))
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.run_id in built.stdout
        shown = instance.get_latest_materialization_event(review_asset.key).asset_materialization.metadata
    assert shown["status"].value == "waiting"
    assert shown["review"].value.startswith("# Output review: analysis outflow_to_work\n")
    refused = cli(["build", "outflow_to_work", "--year", "2015"], measure_lake, tmp_path)
    assert refused.returncode == 2 and "leave out the year (--year)" in refused.stderr

    released = measure_lake / "releases" / "measure_profiles" / "outflow_to_work"
    early = cli(["release", "outflow_to_work"], measure_lake, tmp_path)
    assert early.returncode == 1 and "is not approved: 0 of 1 approval(s)" in early.stderr
    assert not released.exists()
    review = cli(["review", "outflow_to_work"], measure_lake, tmp_path)
    assert review.returncode == 0, review.stderr
    assert review.stdout.startswith("# Output review: analysis outflow_to_work\n")
    assert "the ledger of measure_profiles" in review.stdout
    assert (measure_lake / "reports/measure_profiles/outflow_to_work/review.html").is_file()
    approved = cli(
        ["approve", "outflow_to_work", "--reviewer", "An Peeters", "--reason", "checked"],
        measure_lake,
        tmp_path,
    )
    assert approved.returncode == 0 and "review approved (1 of 1" in approved.stdout, approved.stderr
    done = cli(["release", "outflow_to_work"], measure_lake, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((released / "release.json").read_text())["signed_off_by"] == ["An Peeters"]
    ledger = (measure_lake / "releases" / "measure_profiles" / "_ledger.jsonl").read_text()
    assert '"outflow_to_work"' in ledger

    # the released table is the example's SQL on the FULL outflow frame: its published cells are the
    # counts of the frame (computed here independently), its grand total the frame's rows
    outflow = frame(measure_lake, "outflow")
    expected = positions(outflow)
    published = pl.read_parquet(released / "outflow_position.parquet")
    cells = {(q, p): s for q, p, s in published.iter_rows() if q != "Total" and p != "Total" and s != "x"}
    assert cells and all(int(s) == expected.get(k, 0) for k, s in cells.items())
    grand = published.filter((pl.col("outflow_quarter") == "Total") & (pl.col("position_after") == "Total"))
    assert grand.get_column("shown").to_list() == [str(outflow.height)]
    # ... and the same SQL, loaded from the same folder, gives the extract's counts on the extract
    source = analysable_projects()["measure_profiles"]
    on_extract = run_analysis(
        load_analysis(EXAMPLE), source.extract_files(settings.lake(str(extract_lake))), None
    )
    counted = on_extract["outflow_position"].group_by("outflow_quarter", "position_after").len()
    assert {(q, p): n for q, p, n in counted.iter_rows()} == positions(extract(extract_lake, "outflow"))
    # the model was fitted on every outflow of the frame
    [model] = json.loads((released / "models.json").read_text())
    assert model["name"] == "to_work" and model["passed"] and model["units"] == outflow.height
    assert (released / "to_work.coefficients.csv").is_file()


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("select sex from mobility_next", "Table with name mobility_next does not exist"),
        ("select sex from read_parquet('{other}')", "file system operations are disabled"),
        ("select sex from '{other}'", "file system operations are disabled"),
    ],
)
def test_a_measure_profiles_analysis_cannot_read_another_projects_table(
    measure_lake, extract_lake, tmp_path, sql, reason
):
    """The labour reserve's table is in the same lake; a measure_profiles analysis naming it (or its file)
    is refused on the extract (`cohort analysis run`, exit 2) and in the secure area's sandbox."""
    other = measure_lake / "secure" / "labour_reserve" / "mobility_next" / "year=2020" / "data.parquet"
    storage.write_frame(pl.DataFrame({"year": [2020], "person_id": [1], "sex": ["F"]}), other)
    folder = write(
        tmp_path / "peek",
        "project: measure_profiles\ntables:\n  - name: peek\n    sql: peek.sql\n    dimensions: [sex]\n",
        {"peek.sql": sql.format(other=other)},
    )
    result = CliRunner().invoke(main, ["analysis", "run", str(folder), "--data-dir", str(extract_lake)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "peek: " in lines[0] and reason in lines[0], result.output
    source = analysable_projects()["measure_profiles"]
    secure = source.secure_files(settings.lake(str(measure_lake)))
    with pytest.raises(SandboxRefusal, match=reason):
        run_analysis(load_analysis(folder), secure, None, source.secure_queries())
