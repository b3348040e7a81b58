"""The Dagster UI in a real headless browser: Playwright for Python driving the distribution's Chromium.

Browser downloads are not possible on the machines this runs on, so Playwright never fetches its
own browser: it starts the Chromium of the Debian package (``apt-get install -y
--no-install-recommends chromium``, done by ``.ci/run`` in CI), headless, with a fresh profile.
Playwright itself is a development dependency (``pip install -e '.[dev]'``) and is imported on
first use only.

Used by the browser test (``tests/test_ui_browser.py``) and by the README's screenshots
(``scripts/screenshots.py``): both open the same pages with the same functions, so a picture
in the README is a page the test has checked.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

#: the Debian package's browser; COHORT_CHROMIUM names another one
CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install the distribution's Chromium: apt-get install -y --no-install-recommends chromium"
#: no sandbox (root in a container), no GPU, nothing fetched in the background
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
LOCATION = "cohort"  # the code location's name in workspace.yaml
VIEWPORT = {"width": 1600, "height": 1000}
PAGE_TIMEOUT_MS = 60_000  # the UI's first page compiles its GraphQL queries: slow on a busy machine


class BrowserMissing(RuntimeError):
    """No Chromium, or no Playwright, to drive it."""


def chromium_executable() -> Path:
    """The Chromium to drive: ``$COHORT_CHROMIUM``, else ``/usr/bin/chromium``, else one on PATH."""
    named = os.environ.get("COHORT_CHROMIUM")
    candidates = [Path(named)] if named else [CHROMIUM]
    candidates += [Path(p) for p in map(shutil.which, ("chromium", "chromium-browser")) if p]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserMissing(f"no Chromium at {', '.join(map(str, candidates))}: {INSTALL_HINT}")


def playwright_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def browser_page(profile: Path) -> Iterator[Any]:
    """A Playwright page of a headless Chromium with a fresh profile under ``profile`` (created),
    closed with its browser when the block ends."""
    executable = chromium_executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as missing:
        raise BrowserMissing(f"Playwright is not installed ({missing}): pip install -e '.[dev]'") from None
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        try:
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


# ---------------------------------------------------------------- the pages


def asset_path(key: list[str]) -> str:
    return "/".join(quote(part, safe="") for part in key)


def asset_graph_url(server: str, group: str) -> str:
    """The lineage of one asset group (a project's layer: ``labour_reserve_linked``), every asset a
    box with its latest materialisation, checks and partitions."""
    return f"{server}/locations/{LOCATION}/asset-groups/{quote(group, safe='')}/lineage"


def materialisation_url(server: str, key: list[str], partition: str) -> str:
    """The events of one partition of an asset: its latest materialisation with its metadata."""
    return f"{server}/assets/{asset_path(key)}?view=events&partition={quote(partition, safe='')}"


def overview_url(server: str, key: list[str]) -> str:
    """The asset's overview: its description, definition metadata and column schema."""
    return f"{server}/assets/{asset_path(key)}"


def open_asset_graph(page: Any, server: str, group: str, asset: str) -> None:
    """The lineage of an asset group, waiting until the box of ``asset`` is drawn."""
    page.goto(asset_graph_url(server, group))
    page.get_by_text(asset, exact=True).first.wait_for()
    wait_until_loaded(page)


def wait_until_loaded(page: Any, poll_ms: int = 250) -> None:
    """Until no part of the page says it is still loading (the graph's boxes fetch their latest
    events after they are drawn). Polled from here: the UI's Content Security Policy forbids the
    string evaluation of ``page.wait_for_function``."""
    loading = page.get_by_text("Loading")
    for _ in range(PAGE_TIMEOUT_MS // poll_ms):
        if loading.count() == 0:
            return
        page.wait_for_timeout(poll_ms)
    raise TimeoutError(f"{page.url} still loading after {PAGE_TIMEOUT_MS // 1000} s")


def open_overview(page: Any, server: str, key: list[str], column: str) -> None:
    """The asset's overview, waiting until its column schema has a row for ``column`` (the name
    alone may show elsewhere on the page before the schema's table is drawn)."""
    page.goto(overview_url(server, key))
    page.locator("tr", has=page.get_by_text(column, exact=True)).first.wait_for()


def open_materialisation(page: Any, server: str, key: list[str], partition: str, label: str) -> None:
    """One partition's materialisation, waiting until the metadata entry ``label`` is shown."""
    page.goto(materialisation_url(server, key, partition))
    page.get_by_text(label, exact=True).first.wait_for()
    wait_until_loaded(page)


def show_markdown(page: Any, label: str) -> Any:
    """Open the Markdown metadata entry ``label`` (the UI shows it as a "[Show Markdown]" link that
    opens a dialog) and return the dialog."""
    page.locator("tr", has_text=label).get_by_text("[Show Markdown]").first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    # the dialog's frame (title, Copy, Close) is drawn before the Markdown in it: wait for the content
    # (a test read "review Copy Close" once, in a CI run at load 2-3)
    dialog.locator("h1, h2, h3, p, li, table, img").first.wait_for()
    return dialog


def show_picture(page: Any, label: str) -> Any:
    """Open the picture of the metadata entry ``label`` (a Markdown entry holding an image) and
    return its ``<img>`` once it is decoded."""
    image = show_markdown(page, label).locator("img").first
    image.wait_for()
    image.evaluate("img => img.decode()")
    return image


def open_report(page: Any, index_html: Path) -> None:
    """The project's HTML report (``reports/<project>/index.html`` of the lake), waiting for its
    pictures to load."""
    page.goto(index_html.resolve().as_uri())
    page.locator("figure img").first.wait_for()
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")


def capture(page: Any, target: Path, full_page: bool = False) -> Path:
    """A PNG of the page as it is now."""
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=full_page)
    return target
