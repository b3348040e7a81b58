"""Screenshots of the Dagster UI for the README: the asset graph and one materialisation's picture.

Builds a small lake in a temporary folder (synthetic warehouse at scale 0.002, years of one
project, recorded in a temporary Dagster instance), starts ``dagster dev`` on a loopback port
as the end-to-end test does, and captures two pages with headless Chromium, opened by the same
functions as the browser test (``cohort/ops/browser.py``, ``tests/test_ui_browser.py``):

- ``docs/img/asset_graph.png``: the asset graph of the project's exports (an asset group);
- ``docs/img/materialization.png``: the latest materialisation of the project's ``report`` asset,
  its transition heat map open over its metadata;
- ``docs/img/analysis_review_ui.png`` (the labour reserve only): the output review of the example
  analysis ``reserve_outflow``, submitted and built for the first year, as the UI shows its
  ``analysis_reserve_outflow_review`` asset with the review open;
- with ``--review PAGE``, only ``docs/img/analysis_review.png``: the output review screen of a built
  analysis (``cohort analysis review`` writes it as ``<lake>/reports/<project>/<name>/<year>/review.html``,
  docs/analysis.md), nothing built.

Usage (from the repository root; needs the dev extras (Playwright) and the distribution's
Chromium: ``apt-get install -y --no-install-recommends chromium``)::

    python scripts/screenshots.py [--project labour_reserve] [--years 2021-2022] [--keep | --reuse DIR]
    python scripts/screenshots.py --review <lake>/reports/labour_reserve_results/<name>/<year>/review.html
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cohort.ops import browser

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
ANALYSIS = ROOT / "cohort" / "projects" / "labour_reserve_results" / "examples" / "reserve_outflow"


def shrink(path: Path, limit: int = 500_000) -> None:
    """Keep committed PNGs small: re-encode with a palette when over ``limit`` bytes."""
    if path.stat().st_size <= limit:
        return
    from PIL import Image

    with Image.open(path) as img:
        img.convert("RGB").quantize(colors=128).save(path, optimize=True)


def build_lake(data: Path, home: Path, project: str, years: list[int], scale: float) -> None:
    os.environ.update({"COHORT_DATA_DIR": str(data), "DAGSTER_HOME": str(home), "COHORT_DEMO": "1"})
    from cohort.ops import runner
    from cohort.warehouse.build import build_warehouse

    started = time.perf_counter()
    build_warehouse(data / "warehouse", scale=scale, seed=7)
    print(f"warehouse (scale {scale}) in {time.perf_counter() - started:.0f} s")
    runner.ensure_instance_home(home, ROOT / "dagster.yaml")
    from cohort.definitions import defs

    m = runner.Materialiser(defs, runner.instance_at(home), signer="screenshot script (demo)")
    runs = m.plan(m.project(project), years)
    summary = m.execute_all(runs)
    failed = summary.failed
    print(
        f"{project} {years[0]}-{years[-1]}: {len(runs)} runs, {len(failed)} failed, "
        f"{time.perf_counter() - started:.0f} s"
    )
    if failed:
        sys.exit(f"build failed: {failed[0].run.label}: {failed[0].error}")
    if project == "labour_reserve":  # an analysis waiting for review (docs/analysis.md)
        from cohort import settings
        from cohort.analysis.registry import submit
        from cohort.ops.analyses import secure_build

        submitted, _ = submit(ANALYSIS, settings.lake(str(data)))
        built = secure_build(settings.lake(str(data)), submitted, years[0], m.instance)
        if built.failure is not None:
            sys.exit(f"analysis {ANALYSIS.name}: {built.failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="labour_reserve")
    parser.add_argument("--years", default="2021-2022")
    parser.add_argument("--scale", type=float, default=0.002)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary lake and print where it is.")
    parser.add_argument("--reuse", type=Path, help="A folder kept by --keep: capture again without building.")
    parser.add_argument("--review", type=Path, help="Capture only this analysis review page (review.html).")
    args = parser.parse_args()
    if args.review is not None:
        capture_review(args.review)
        return
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))

    tmp = args.reuse or Path(tempfile.mkdtemp(prefix="cohort_screens_"))
    data, home, profile = tmp / "lake", tmp / "dagster_home", tmp / "chromium"
    try:
        if args.reuse is None:
            build_lake(data, home, args.project, years, args.scale)
        from cohort.ops import devserver

        with (
            devserver.dagster_dev(home, data, startup_timeout=180) as server,
            browser.browser_page(profile) as page,
        ):
            browser.open_asset_graph(page, server.url, f"{args.project}_exports", "phase1_next")
            report(browser.capture(page, OUT / "asset_graph.png"))
            year = years[0] if len(years) > 1 else years[-1]  # a year with its T+1 built
            transitions = f"Transitions {year} -> {year + 1} (secure/mobility_next)"
            browser.open_materialisation(page, server.url, [args.project, "report"], str(year), transitions)
            browser.show_picture(page, transitions)
            report(browser.capture(page, OUT / "materialization.png"))
            names = ["asset_graph.png", "materialization.png"]
            if args.project == "labour_reserve":
                key = ["labour_reserve_results", f"analysis_{ANALYSIS.name}_review"]
                browser.open_materialisation(page, server.url, key, str(years[0]), "review_page")
                browser.show_markdown(page, "review").get_by_text("Decisions").first.wait_for()
                report(browser.capture(page, OUT / "analysis_review_ui.png"))
                names.append("analysis_review_ui.png")
        for name in names:
            shrink(OUT / name)
    except browser.BrowserMissing as missing:
        sys.exit(str(missing))
    finally:
        if args.keep or args.reuse:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def capture_review(page_file: Path) -> None:
    """The review screen of an analysis, as a reviewer's browser shows it (the whole page)."""
    with tempfile.TemporaryDirectory(prefix="cohort_review_") as tmp:
        try:
            with browser.browser_page(Path(tmp) / "chromium") as page:
                page.goto(page_file.resolve().as_uri())
                page.get_by_role("heading", name="Decisions").wait_for()
                report(browser.capture(page, OUT / "analysis_review.png", full_page=True))
        except browser.BrowserMissing as missing:
            sys.exit(str(missing))
    shrink(OUT / "analysis_review.png")


def report(path: Path) -> None:
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
