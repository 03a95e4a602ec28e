"""The board report as PDF: the HTML report printed by headless Chromium through Playwright.

Why Chromium: the report's charts are plotly.js; a real browser draws them exactly as the
dashboard does, and print-to-PDF keeps text selectable (the tests read it back with pypdf).
Chromium is Debian's (``/usr/bin/chromium``, or ``TWOWAY_CHROMIUM``), the same the browser
tests use; Playwright's Python package drives it.
"""

from __future__ import annotations

import os
from pathlib import Path

from analytics.errors import TwowayError

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    return os.environ.get("TWOWAY_CHROMIUM") or CHROMIUM


def available() -> bool:
    """True when a PDF can be printed here (Chromium and Playwright are installed)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(chromium_path()).exists()


def html_to_pdf(page_html: str, timeout_ms: int = 60_000) -> bytes:
    """Print `page_html` to an A4 PDF once every chart has been drawn.

    Runs in a worker thread of its own: Playwright's sync API refuses a thread with a running
    asyncio loop (a download callback may run on the web server's loop).
    Raises `TwowayError` with one clear line when Chromium or Playwright is missing.
    """
    if not available():
        raise TwowayError(f"PDF export needs Chromium at {chromium_path()} and the playwright package")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="twoway-pdf") as pool:
        return pool.submit(_print, page_html, timeout_ms).result()


def _print(page_html: str, timeout_ms: int) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.set_content(page_html, wait_until="load", timeout=timeout_ms)
            charts = page.locator(".plotly-graph-div").count()
            if charts:  # plotly draws after load: wait until each chart has its SVG
                page.wait_for_function(f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {charts}",
                                       timeout=timeout_ms)
            page.emulate_media(media="print")
            return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
