"""The Dagster UI as a person sees it, in a real headless browser (Playwright driving the
distribution's Chromium, see cohort/ops/browser.py) against a real ``dagster dev``.

One year of the labour reserve on the small warehouse (its pseudonym mapping, the situations of
2021 and of its neighbour 2022, the mobility table and the report of 2021) is recorded in the
instance, with the secure build of the example analysis ``reserve_outflow`` for that year; then the
test opens what a newcomer opens: the asset graph of a layer, an asset's overview with its column
schema, one partition's materialisation with its picture, the project's HTML report, and an
analysis's output review as the output checker reads it in the UI.

No skip: CI installs Chromium from Debian's packages (.ci/run) and Playwright from the dev extras
(pyproject.toml); without them the test fails and says what to install.
"""

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from cohort import settings
from cohort.analysis.registry import submit
from cohort.ops import browser, devserver, runner
from cohort.ops.analyses import secure_build
from cohort.projects.spec import load_spec

pytestmark = pytest.mark.server

PROJECT = "labour_reserve"
YEAR = 2021
#: the fewest runs that give a report with pictures: (year, assets); None is the unpartitioned mapping
RUNS: list[tuple[int | None, tuple[str, ...]]] = [
    (None, ("person_mapping",)),
    (YEAR, ("situation",)),
    (YEAR + 1, ("situation",)),  # the neighbour the mobility table of YEAR reads
    (YEAR, ("mobility_next", "report")),
]
TRANSITIONS = f"Transitions {YEAR} -> {YEAR + 1} (secure/mobility_next)"
COLUMN = "sep_code"
ANALYSIS = (
    devserver.REPO_ROOT / "cohort" / "projects" / "labour_reserve_results" / "examples" / "reserve_outflow"
)


@dataclasses.dataclass(frozen=True)
class UiLake:
    home: Path
    data: Path
    warehouse: Path
    analysis_run: str = ""  # the secure build of the analysis, a run made in process


@pytest.fixture(scope="module")
def ui_lake(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> UiLake:
    """The runs of :data:`RUNS`, executed in process into a fresh instance and lake."""
    root = tmp_path_factory.mktemp("ui")
    lake = UiLake(root / "dagster_home", root / "lake", small_warehouse)
    runner.ensure_instance_home(lake.home, devserver.REPO_ROOT / "dagster.yaml")
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "DAGSTER_HOME": str(lake.home),
            "COHORT_DATA_DIR": str(lake.data),
            "COHORT_WAREHOUSE_DIR": str(small_warehouse),
            "COHORT_DEMO": "1",
        }.items():
            env.setenv(name, value)
        from cohort.definitions import defs

        materialiser = runner.Materialiser(defs, runner.instance_at(lake.home))
        for stage, (year, names) in enumerate(RUNS):
            keys = tuple(dg.AssetKey([PROJECT, name]) for name in names)
            outcome = materialiser.execute(runner.PlannedRun(PROJECT, keys, year, stage))
            assert outcome.success, outcome.error
        # a researcher's analysis submitted and built in the secure area: its review waits in the UI
        at = settings.lake(str(lake.data))
        submitted, _ = submit(ANALYSIS, at)
        built = secure_build(at, submitted, YEAR, materialiser.instance)
        assert built.failure is None and built.check_passed, built.failure
    return dataclasses.replace(lake, analysis_run=built.run_id)


@pytest.fixture(scope="module")
def server(ui_lake: UiLake) -> Iterator[devserver.DevServer]:
    with devserver.dagster_dev(
        ui_lake.home,
        ui_lake.data,
        startup_timeout=180,
        extra_env={"COHORT_WAREHOUSE_DIR": str(ui_lake.warehouse)},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    try:
        with browser.browser_page(tmp_path_factory.mktemp("chromium_profile")) as opened:
            yield opened
    except browser.BrowserMissing as missing:
        pytest.fail(f"the browser test needs Chromium and Playwright: {missing}")


def test_the_asset_graph_shows_the_layer_and_its_assets(server, page):
    browser.open_asset_graph(page, server.url, f"{PROJECT}_linked", "mobility_next")
    assert page.get_by_text("mobility_prev", exact=True).first.is_visible()
    assert page.get_by_text(f"{PROJECT}_linked").first.is_visible()


def test_an_asset_overview_shows_its_column_schema_with_the_spec_descriptions(server, page):
    variable = load_spec(PROJECT).variables[COLUMN]
    browser.open_overview(page, server.url, [PROJECT, "mobility_next"], COLUMN)
    row = page.locator("tr", has_text=variable.description.rstrip("."))
    # the schema's names can be on the page before its descriptions: wait for the row, up to 30 s
    # (it raises when the description never shows)
    row.first.wait_for(timeout=30_000)
    assert row.count() >= 1, f"no row with the description of {COLUMN}"
    assert COLUMN in row.first.inner_text()
    assert f"Authorised by {variable.paragraph}" in row.first.inner_text()
    assert page.get_by_text(load_spec(PROJECT).deliberation["number"], exact=True).first.is_visible()


def test_a_partition_materialisation_shows_its_picture(server, page):
    browser.open_materialisation(page, server.url, [PROJECT, "report"], str(YEAR), TRANSITIONS)
    assert f"Partition {YEAR} materialized" in page.inner_text("body")
    year_row = page.locator("tr").filter(has=page.get_by_text("year", exact=True)).first.inner_text()
    assert year_row.split() == ["year", str(YEAR)]  # text: not a number the UI writes "2,021"
    image = browser.show_picture(page, TRANSITIONS)
    width = image.evaluate("img => img.naturalWidth")
    assert image.get_attribute("src").startswith("data:image/png;base64,") and width > 300


def test_the_project_report_shows_its_pictures(server, ui_lake, page):
    index = ui_lake.data / "reports" / PROJECT / "index.html"
    browser.open_report(page, index)
    captions = page.locator("figcaption").all_inner_texts()
    assert TRANSITIONS in captions, captions
    widths = page.locator("figure img").evaluate_all("images => images.map(i => i.naturalWidth)")
    assert len(widths) == len(captions) and min(widths) > 100, json.dumps(widths)


def test_an_analysis_output_review_is_read_in_the_ui(server, page):
    key = ["labour_reserve_results", f"analysis_{ANALYSIS.name}_review"]
    browser.open_materialisation(page, server.url, key, str(YEAR), "review_page")
    status = page.locator("tr").filter(has=page.get_by_text("status", exact=True)).first.inner_text()
    assert status.split() == ["status", "waiting"]
    review = browser.show_markdown(page, "review").inner_text()
    assert f"Output review: analysis {ANALYSIS.name}, {YEAR}" in review
    # each table as published with the reason of every hidden cell, and the checks' verdicts
    assert "reserve_outflow" in review and "small-cell risk analysis" in review.lower()


def test_a_run_made_in_process_is_run_again_from_the_ui(server, ui_lake):
    """The command line's runs (here the analysis's secure build) are re-executed as the run page's
    *Re-execute all* does: the daemon launches the run in the code location (cohort.ops.origins)."""
    again = server.wait_run(server.reexecute(ui_lake.analysis_run), timeout=300)
    assert again["status"] == "SUCCESS", (again, server.tail())
    assert again["jobName"] == f"analysis_{ANALYSIS.name}"
    assert {"key": "dagster/parent_run_id", "value": ui_lake.analysis_run} in again["tags"]
