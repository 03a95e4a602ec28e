"""Real-browser tests: a shared link opened in headless Chromium, and an upload on the Upload page.

Runs `streamlit run app.py` on a small demo organisation built with the CLI, drives Debian's
chromium through Playwright's Python package, and saves screenshots under tests/artifacts/.
The last test uploads a file through the Upload page, the one flow AppTest cannot drive.
With TWOWAY_UPDATE_SCREENSHOTS=1 a second test refreshes docs/screenshots/{overview,claims,where}.png.
The Overview's first screen is checked at 1440×900 and 390×844: every claim's verdict is in it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("browser-db") / "demo.duckdb"
    # the README's screenshots show the organisation the dashboard ships with (2,000 people)
    employees = "2000" if os.environ.get("TWOWAY_UPDATE_SCREENSHOTS") == "1" else "600"
    subprocess.run([sys.executable, "-m", "analytics", "demo", "--db", str(db), "--employees", employees],
                   cwd=ROOT, check=True, capture_output=True)
    return db


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    yield from _serve(demo_db, tmp_path_factory.mktemp("browser"))


@pytest.fixture
def fresh_server(demo_db, tmp_path):
    """A server that has seen no request yet: its first request is the test's deep link."""
    yield from _serve(demo_db, tmp_path)


def _serve(db: Path, tmp: Path):
    port = free_port()
    env = {**os.environ, "TWOWAY_DB": str(db)}
    env.pop("TWOWAY_MIN_GROUP_SIZE", None)
    log = open(tmp / "streamlit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def settle(page, timeout_ms: int = 30_000) -> None:
    """Let requests finish; on a loaded machine a page may keep fetching longer than that, and
    what the tests need (heading, chart, rows) is awaited explicitly anyway."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
    except PlaywrightTimeout:
        pass


def open_page(browser, url: str, height: int = 1000):
    page = browser.new_page(viewport={"width": 1440, "height": height})
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot", timeout=120_000)
    settle(page)
    page.wait_for_timeout(800)  # let plotly finish its transition
    return page


def chips(page, label: str) -> list[str]:
    """The selected values shown in the sidebar multiselect labelled `label`."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    tags = box.locator(".react-aria-ComboBox [data-tag]")
    return [tags.nth(i).get_attribute("aria-label") for i in range(tags.count())]


def bottom_line_boxes(page) -> dict[str, dict]:
    """Each claim row of the Overview's bottom line: its verdict text and where it sits on screen."""
    rows = page.locator("table.tw-bl tbody tr")
    out = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        chip = row.locator("td").first
        out[row.get_attribute("data-claim")] = {"verdict": chip.inner_text().strip(), "box": chip.bounding_box()}
    return out


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_overview_first_screen_holds_every_verdict(fresh_server, browser, width, height):
    """/overview as the very first request of a fresh server; no scrolling needed for the verdicts."""
    from analytics.claims import CLAIMS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{fresh_server}/overview")
    page.locator("table.tw-bl").wait_for(timeout=120_000)
    settle(page)
    assert page.url.endswith("/overview")
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("heading", name="Does reverse mentoring work here?").is_visible()
    summary = page.get_by_role("heading", name=re.compile(r"^\d+ of 12 claims supported"))
    assert summary.is_visible() and summary.bounding_box()["y"] + summary.bounding_box()["height"] <= height
    rows = bottom_line_boxes(page)
    assert set(rows) == {c.id for c in CLAIMS}
    labels = {"Supported", "Contradicted", "No effect", "Inconclusive", "Not enough data"}
    for claim, row in rows.items():
        assert row["verdict"] in labels, (claim, row)
        box = row["box"]
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, (claim, box)
        assert box["x"] + box["width"] <= width, (claim, box)
    # the page does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=str(ARTIFACTS / f"overview-first-screen-{width}x{height}.png"))
    page.close()


def test_every_page_path_works_as_a_first_request_and_copy_link_is_labelled(fresh_server, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{fresh_server}/where?group=generation")
    page.get_by_role("heading", name="Where it works").wait_for(timeout=120_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.endswith("/where?group=generation")
    frame = page.frame_locator('[data-testid="stSidebar"] iframe').first
    button = frame.get_by_role("button", name="Copy link to this view")
    assert button.is_visible()
    button.click()
    frame.get_by_text("Copied").wait_for(timeout=10_000)
    assert page.evaluate("navigator.clipboard.readText()") == page.url  # the link as the address bar shows it
    for path, heading in (("/claims?tab=Reports", "The claims, tested"), ("/overview", "Does reverse mentoring work here?"),
                          ("/engagement?group=level", "Engagement & culture"), ("/activity", "Programme activity"),
                          ("/productivity", "Productivity"), ("/", "Does reverse mentoring work here?")):
        page.goto(f"{fresh_server}{path}")
        page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
        assert page.get_by_text("Page not found").count() == 0, path
    assert page.url.endswith("/overview")  # the root names its page
    context.close()


def test_the_board_report_downloads_as_pdf_from_the_page(server, browser):
    """The PDF is printed by the server when the button is clicked (Chromium inside Streamlit)."""
    import io

    from pypdf import PdfReader

    page = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page.goto(f"{server}/claims?tab=Reports")
    button = page.get_by_role("button", name="Board report (PDF)")
    button.wait_for(timeout=120_000)
    with page.expect_download(timeout=180_000) as info:
        button.click()
    download = info.value
    assert re.fullmatch(r"twoway-claims-board-report-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    reader = PdfReader(io.BytesIO(open(download.path(), "rb").read()))
    first = reader.pages[0].extract_text().replace("ﬀ", "ff")
    assert re.search(r"\d+ of 12 claims supported", " ".join(first.split()))
    page.close()


def test_a_shared_link_opens_with_its_filters_and_a_chart(server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = f"{server}/engagement?department=Sales&department=Engineering&generation=Millennial&evil=%27%3BDROP"
    # The first request this fresh server sees is a deep link: Streamlit would run
    # pages/engagement.py on its own; it must still come through app.py (navigation, roles).
    page = open_page(browser, url, height=1400)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 1
    assert page.get_by_role("heading", name="Engagement & culture").is_visible()
    assert chips(page, "Department") == ["Engineering", "Sales"]
    assert chips(page, "Generation") == ["Millennial"]
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.get_by_text("Ignored unknown filter 'evil'").is_visible()
    # the address bar now holds the clean, canonical link
    assert page.url.endswith("/engagement?department=Engineering&department=Sales&generation=Millennial")
    assert "generation=Millennial" in page.locator('[data-testid="stSidebar"] code').inner_text()
    page.screenshot(path=str(ARTIFACTS / "shared-link.png"))

    # and the other way round: changing a filter rewrites the address bar
    page.get_by_role("button", name="Remove Sales").first.click()
    page.wait_for_url("**/engagement?department=Engineering&generation=Millennial", timeout=60_000)
    assert chips(page, "Department") == ["Engineering"]

    # moving to another page keeps the filters, in the widgets and in the link
    page.get_by_role("link", name="Programme activity").click()
    page.get_by_role("heading", name="Programme activity").wait_for(timeout=60_000)
    page.wait_for_url("**/activity?department=Engineering&generation=Millennial", timeout=60_000)
    assert chips(page, "Department") == ["Engineering"] and chips(page, "Generation") == ["Millennial"]
    page.close()


@pytest.mark.skipif(os.environ.get("TWOWAY_UPDATE_SCREENSHOTS") != "1",
                    reason="set TWOWAY_UPDATE_SCREENSHOTS=1 to refresh docs/screenshots (two more page loads)")
def test_overview_and_claims_pages_render_for_screenshots(server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path, height in (("overview", "/overview", 900), ("claims", "/claims", 1700),
                               ("where", "/where", 1100)):
        page = open_page(browser, f"{server}{path}", height=height)
        assert page.locator('[data-testid="stException"]').count() == 0
        shot = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(shot))
        page.close()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / f"{name}.png")


def test_an_analyst_uploads_and_imports_a_survey_export_from_the_page(server, browser):
    """The one step AppTest cannot drive: a real file through st.file_uploader, then Import."""
    export = ROOT / "tests" / "data" / "exports" / "google_forms_belonging.csv"
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{server}/upload")
    page.get_by_role("heading", name="Upload data").wait_for(timeout=120_000)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(export))
    page.get_by_role("heading", name="1 · What Twoway found").wait_for(timeout=60_000)
    page.locator('[data-testid="stMetricValue"]', has_text="google_forms").wait_for(timeout=30_000)
    page.get_by_role("button", name="Import", exact=True).click()
    # three hand-counted respondents (tests/test_import_formats.py works out the same file)
    page.get_by_text("3 respondents in").wait_for(timeout=60_000)
    assert page.get_by_text("Imported as #").is_visible()
    page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)
    page.close()
