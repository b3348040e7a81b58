"""Screenshots of the Dagster UI for the README: the asset graph and one materialisation's metadata.

Builds a small lake in a temporary folder (synthetic warehouse at scale 0.002, two years of one
project, recorded in a temporary Dagster instance), starts ``dagster dev`` on a loopback port
as the end-to-end test does, and captures two pages with headless Chromium:

- ``docs/img/asset_graph.png``: the asset graph, one box per project and layer (asset group);
- ``docs/img/materialization.png``: the latest materialisation of the project's ``report`` asset
  with its metadata (row counts, pictures).

Usage (from the repository root; Chromium must be installed, e.g. ``apt-get install chromium``)::

    python scripts/screenshots.py [--project labour_reserve] [--years 2021-2022] [--keep]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,1000",
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("Chromium not found: install it (apt-get install -y chromium) and run again.")


def screenshot(url: str, target: Path, profile: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={target}", url]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB  <- {url}")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="labour_reserve")
    parser.add_argument("--years", default="2021-2022")
    parser.add_argument("--scale", type=float, default=0.002)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary lake and print where it is.")
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))

    tmp = Path(tempfile.mkdtemp(prefix="cohort_screens_"))
    data, home, profile = tmp / "lake", tmp / "dagster_home", tmp / "chromium"
    try:
        build_lake(data, home, args.project, years, args.scale)
        from cohort.ops import devserver

        with devserver.dagster_dev(home, data) as server:
            # the global lineage: one box per project and layer (asset group)
            graph_url = f"{server.url}/asset-groups?asset-selection=key%3A{args.project}%2F*"
            screenshot(graph_url, OUT / "asset_graph.png", profile)
            report_url = f"{server.url}/assets/{args.project}/report?partition={years[-1]}&view=events"
            screenshot(report_url, OUT / "materialization.png", profile)
        for name in ("asset_graph.png", "materialization.png"):
            shrink(OUT / name)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
