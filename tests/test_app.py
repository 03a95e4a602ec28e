"""The dashboard entry point starts on a store and shows figures computed from it."""

from __future__ import annotations

import shutil

import duckdb
from streamlit.testing.v1 import AppTest

from tests.fixtures import ROOT


def test_app_starts_without_exceptions_and_shows_real_figures(demo_path, tmp_path, monkeypatch):
    # The app keeps its connection open for the process, so it gets its own copy of the file.
    path = tmp_path / "app.duckdb"
    shutil.copy(demo_path, path)
    with duckdb.connect(str(path), read_only=True) as con:
        employees = con.execute("SELECT count(*) FROM employees").fetchone()[0]
        participants = con.execute(
            "SELECT count(*) FROM (SELECT mentor_id FROM pairs UNION SELECT mentee_id FROM pairs)").fetchone()[0]
    monkeypatch.setenv("TWOWAY_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Employees"] == f"{employees:,}"
    assert shown["Programme participants"] == f"{participants:,}"


def test_demo_is_built_on_first_start_when_no_database_is_set(tmp_path, monkeypatch):
    import ui.state

    monkeypatch.delenv("TWOWAY_DB", raising=False)
    monkeypatch.setattr(ui.state, "DEMO_DB", tmp_path / "demo.duckdb")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert (tmp_path / "demo.duckdb").exists()
    assert {m.label: m.value for m in at.metric}["Employees"] == "2,000"


def test_a_database_that_cannot_be_opened_is_one_clear_message(tmp_path, monkeypatch):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database\n" * 100)
    monkeypatch.setenv("TWOWAY_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith(f"Twoway cannot open its data: cannot open {path} as a Twoway database")
