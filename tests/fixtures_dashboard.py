"""Shared helpers for the dashboard tests (AppTest and browser)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures import ROOT

APP = str(ROOT / "app.py")
PAGES = ["pages/overview.py", "pages/claims.py", "pages/engagement.py", "pages/activity.py",
         "pages/productivity.py", "pages/data.py", "pages/where.py"]


@pytest.fixture(scope="session")
def app_db_path(demo_path, tmp_path_factory) -> Path:
    """A copy of the small demo for the app (it keeps its connection open for the process)."""
    path = tmp_path_factory.mktemp("appdb") / "app.duckdb"
    shutil.copy(demo_path, path)
    return path


@pytest.fixture
def app_env(app_db_path, demo_path, monkeypatch):
    """Point the app at its copy; returns the original (same rows) for independent queries."""
    monkeypatch.setenv("TWOWAY_DB", str(app_db_path))
    monkeypatch.delenv("TWOWAY_MIN_GROUP_SIZE", raising=False)
    monkeypatch.delenv("TWOWAY_ROLES", raising=False)
    return demo_path


def open_app(params: dict | None = None, page: str | None = None, **setup) -> AppTest:
    """Run the app as a new session opened from a link with `params` (and optionally a page)."""
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in setup.items():
        setattr(at, k, v)
    if page:  # url_path == file name, so the page resolves before the first run: one run, like a link
        at.switch_page(page)
    return at.run()


def raw_scalar(path: Path, sql: str, params=()):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()[0]


def widget_values(at: AppTest) -> dict:
    return {k: list(at.multiselect(key=f"flt_{k}").value)
            for k in ("department", "location", "generation", "level", "cohort")}


def shown_numbers(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}
