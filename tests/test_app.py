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
    # released data (docs/PRIVACY.md): whoever is in a group too small to merge is left out
    from tests.released_reference import release

    with duckdb.connect(str(path), read_only=True) as con:
        raw = {t: con.execute(f"SELECT * FROM {t}").df()
               for t in ("employees", "employee_history", "pairs", "sessions", "waves", "items", "responses",
                         "metrics")}
    rel = release(raw, 5)
    employees = len(rel["roster_now"])  # the head count: people employed on the data date
    in_pairs = set(rel["pairs"]["mentor_id"]) | set(rel["pairs"]["mentee_id"])
    participants = int(rel["roster_now"]["employee_id"].isin(in_pairs).sum())  # still employed, with a pair
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
    # released data (docs/PRIVACY.md): of the 2,000, whoever is in a group too small to merge is left out
    import duckdb

    from tests.released_reference import release

    import shutil

    shutil.copy(tmp_path / "demo.duckdb", tmp_path / "copy.duckdb")  # the app holds the file open
    with duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True) as con:
        raw = {t: con.execute(f"SELECT * FROM {t}").df()
               for t in ("employees", "employee_history", "pairs", "sessions", "waves", "items", "responses",
                         "metrics")}
    released = len(release(raw, 5)["roster_now"])  # employed on the data date: the demo's leavers are not
    assert 1_500 <= released <= 2_000
    assert {m.label: m.value for m in at.metric}["Employees"] == f"{released:,}"


def test_a_database_that_cannot_be_opened_is_one_clear_message(tmp_path, monkeypatch):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database\n" * 100)
    monkeypatch.setenv("TWOWAY_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith(f"Twoway cannot open its data: cannot open {path} as a Twoway database")
