"""The Upload data page through Streamlit's AppTest.

AppTest cannot drive `st.file_uploader`, so these tests stage a file the way the uploader does
(`session_state["upload_staged"]`) and drive everything after it: detection, the mapping editor,
check, import with the progress bar, the history, and undo.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.importing import import_file, preview
from analytics.store import Database
from tests.test_import_helpers import EXPORTS

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def page_db(tmp_path, monkeypatch):
    path = tmp_path / "page.duckdb"
    monkeypatch.setenv("TWOWAY_DB", str(path))
    with Database(path) as db:
        for name in ("employees.csv", "pairs.csv"):
            import_file(db, EXPORTS / name)
    return path


def _app(staged=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if staged is not None:
        at.session_state["upload_staged"] = staged
    at.switch_page("pages/upload.py")
    return at.run()


def _stage(db_path: Path, name: str) -> dict:
    with Database(db_path) as db:
        return {"key": None, "path": EXPORTS / name, "name": name, "preview": preview(db, EXPORTS / name)}


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_page_renders_history_and_templates(page_db):
    at = _app()
    assert not at.exception
    assert _texts(at.title) == ["Upload data"]
    hist = at.dataframe[0].value
    assert list(hist["file_name"]) == ["pairs.csv", "employees.csv"]
    undo = at.selectbox(key="undo_id")
    assert list(undo.options) == ["#2 · pairs.csv · pairs · 2 rows", "#1 · employees.csv · employees · 5 rows"]
    assert undo.value is None  # starts empty: nothing is pre-selected for undo
    assert not [b for b in at.button if b.key == "undo"]


def test_page_undo_needs_confirmation(page_db):
    at = _app()
    at.selectbox(key="undo_id").select(2).run()
    # the confirmation names the import, its file, its rows and what will be removed
    assert any("Undo import #2 — pairs.csv (pairs, 2 rows)? This removes 2 pairs." in w for w in _texts(at.warning))
    assert at.button(key="undo").disabled  # not until confirmed (AppTest, like a browser, cannot click it)
    with Database(page_db) as db:
        assert db.query("SELECT status FROM imports WHERE import_id = 2").scalar() == "ok"
    at.checkbox(key="undo_confirm_2").check().run()
    assert not at.button(key="undo").disabled
    at.button(key="undo").click().run()
    assert not at.exception
    assert any("Import #2 undone: 2 pairs removed." in s for s in _texts(at.success))
    with Database(page_db) as db:
        assert db.query("SELECT status FROM imports WHERE import_id = 2").scalar() == "undone"
        assert db.query("SELECT count(*) FROM pairs").scalar() == 0
    # the box is empty again afterwards, not on another import
    assert at.selectbox(key="undo_id").value is None
    assert list(at.selectbox(key="undo_id").options) == ["#1 · employees.csv · employees · 5 rows"]


def test_page_protects_imports_others_depend_on(page_db):
    at = _app()
    at.selectbox(key="undo_id").select(1).run()
    assert not at.exception
    assert any("cannot be undone here: other imports refer to its rows" in i for i in _texts(at.info))
    assert not [b for b in at.button if b.key == "undo"]


@pytest.fixture
def small_demo(tmp_path, monkeypatch):
    from analytics.demo import build_demo

    path = tmp_path / "demo.duckdb"
    build_demo(path, seed=3, n_employees=60)
    monkeypatch.setenv("TWOWAY_DB", str(path))
    monkeypatch.delenv("TWOWAY_MIN_GROUP_SIZE", raising=False)
    return path


def test_page_protects_the_demo(small_demo):
    at = _app()
    at.selectbox(key="undo_id").select(1).run()
    assert any("it is the demo organisation" in i for i in _texts(at.info))
    assert not [b for b in at.button if b.key == "undo"]


def test_page_undo_box_never_defaults_to_an_old_import(page_db):
    at = _app(_stage(page_db, "sessions.csv"))
    at.selectbox(key="undo_id").select(1).run()  # the analyst looked at an old import …
    at.button(key="import").click().run()  # … then imported a new file
    assert not at.exception
    assert any("Imported as #3" in s for s in _texts(at.success))
    assert at.selectbox(key="undo_id").value is None
    assert not [b for b in at.button if b.key == "undo"]


def test_page_staged_survey_check_and_import(page_db):
    at = _app(_stage(page_db, "qualtrics_pulse.csv"))
    assert not at.exception
    assert at.metric[0].value == "qualtrics"
    assert at.selectbox(key="kind").value == "survey"
    assert at.text_input(key="survey").value == "qualtrics_pulse"
    at.text_input(key="survey").input("pulse-2025-03")
    at.button(key="check").click().run()
    assert not at.exception
    assert "Ready: 4 respondents." in _texts(at.success)
    with Database(page_db) as db:
        assert db.query("SELECT count(*) FROM responses").scalar() == 0  # check writes nothing
    at.button(key="import").click().run()
    assert not at.exception
    assert any(s.startswith("Imported as #3: 4 respondents") for s in _texts(at.success))
    with Database(page_db) as db:
        assert db.query("SELECT count(DISTINCT respondent) FROM responses WHERE survey = 'pulse-2025-03'").scalar() == 4
        # the editor's suggestions were confirmed as they were: saved for the next wave
        assert db.query("SELECT count(*) FROM saved_mappings").scalar() == 1


def test_page_staged_bad_file_reports_and_writes_nothing(page_db, tmp_path):
    bad = tmp_path / "pairs_bad.csv"
    bad.write_text("pair_id,mentor_id,mentee_id,cohort,start_date,end_date\nP7,E001,E404,c,2025-01-01,\n")
    with Database(page_db) as db:
        staged = {"key": None, "path": bad, "name": bad.name, "preview": preview(db, bad)}
        before = db.table_counts()
    at = _app(staged)
    at.button(key="import").click().run()
    assert not at.exception
    assert "Nothing was imported: the file has problems." in _texts(at.error)
    assert any("unknown employee_id 'E404'" in e for e in _texts(at.error))
    with Database(page_db) as db:
        assert db.table_counts() == before


def test_page_advanced_mapping_json(page_db):
    at = _app(_stage(page_db, "surveymonkey_mentoring.csv"))
    at.text_area(key="mapping_json").input(
        '{"How often do you try new tools at work?": {"construct": "agility", "scale": [1, 4], '
        '"labels": {"Never": 1, "Rarely": 2, "Sometimes": 3, "Often": 4, "Always": 4}}}')
    at.button(key="import").click().run()
    assert not at.exception
    with Database(page_db) as db:
        # Often 4 + Always 4 + Never 1 + Rarely 2 = 11 / 4 (only the mapped item is imported)
        assert db.query("SELECT avg(value), count(DISTINCT item) FROM responses").first() == (2.75, 1)


def test_save_upload_copies_and_enforces_the_limit(tmp_path, monkeypatch):
    import io

    from analytics.errors import TwowayError
    from analytics.importing.uploads import discard_upload, save_upload

    path = save_upload(io.BytesIO(b"a,b\n1,2\n"), "../../etc/passwd x.csv", dest_dir=tmp_path)
    assert path.read_bytes() == b"a,b\n1,2\n" and path.parent.parent == tmp_path and path.name == "passwd x.csv"
    monkeypatch.setenv("TWOWAY_MAX_UPLOAD_MB", "0.000001")
    with pytest.raises(TwowayError, match="over the"):
        save_upload(io.BytesIO(b"x" * 100), "big.csv", dest_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 1  # the partial copy was removed
    discard_upload(path)


def test_page_mapping_json_is_never_read_as_a_path(page_db):
    at = _app(_stage(page_db, "survey_wide.csv"))
    at.text_area(key="mapping_json").input("/etc/passwd").run()
    assert not at.exception
    assert any("must be a JSON object" in e for e in _texts(at.error))
    with Database(page_db) as db:
        assert db.query("SELECT count(*) FROM responses").scalar() == 0


def test_page_roster_snapshot_with_confirm_step(page_db, tmp_path):
    import datetime as dt

    part = tmp_path / "roster-apr.csv"
    part.write_text("employee_id,department,level\nE001,IT,L3\nE004,Sales,L5\n")  # 3 of 5 would leave
    with Database(page_db) as db:
        staged = {"key": None, "path": part, "name": part.name, "preview": preview(db, part)}
    at = _app(staged)
    at.date_input(key="as_of").set_value(dt.date(2025, 4, 1)).run()
    at.button(key="check").click().run()
    assert any("would end 3 of 5 current employees (60%)" in e for e in _texts(at.error))
    at.checkbox(key="force").check().run()  # the confirm step appears only after the refusal
    at.button(key="import").click().run()
    assert not at.exception
    assert any("Imported as #3" in s for s in _texts(at.success))
    with Database(page_db) as db:
        assert db.query("SELECT count(*) FROM employees_at(DATE '2025-04-02')").scalar() == 2
        assert db.query("SELECT department FROM employees WHERE employee_id = 'E001'").scalar() == "IT"


def _overview_rate() -> str:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception
    return {m.label: m.value for m in at.metric}["Survey response rate"]


def test_a_foreign_three_person_survey_leaves_the_overview_rate_as_it_was(small_demo, tmp_path):
    before = _overview_rate()
    assert before.endswith("%") and before != "0%"
    foreign = tmp_path / "foreign.csv"  # three unlinked people, after the organisation's last wave
    foreign.write_text('"Timestamp","I feel I belong in my team"\n"2026/01/10 9:00:01 AM","Agree"\n'
                       '"2026/01/10 9:00:02 AM","Agree"\n"2026/01/10 9:00:03 AM","Disagree"\n')
    with Database(small_demo) as db:
        import_file(db, foreign, survey="foreign-test")
    assert _overview_rate() == before
    # the Data page flags it as not linked (and never shows its 3 respondents)
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    assert any("may not belong to the programme" in w for w in _texts(at.warning))
    # tables carry human column names (analytics.formatting.for_people)
    flagged = next(d.value for d in at.dataframe if "Flag" in d.value.columns)
    row = flagged.set_index("Survey").loc["foreign-test"]
    assert row["Flag"].startswith("not linked") and "fewer than 5 respondents" in row["Flag"]
    assert row["Linked"] in (0, "0") and (pd.isna(row["Respondents"]) or row["Respondents"] in ("", "—"))


def test_check_is_not_ready_when_frequency_answers_fit_four_and_five_points(page_db, tmp_path):
    """Never/Rarely/Sometimes only: the labels do not say whether the scale ends at Frequently (4)
    or Always (5), so Check warns instead of "Ready"; stating the scale in the table makes it ready."""
    path = tmp_path / "freq.csv"
    path.write_text("employee_id,submitted_at,How often do you try new tools?\nE001,2025-01-01,Never\n"
                    "E002,2025-01-01,Rarely\nE003,2025-01-01,Sometimes\n")
    with Database(page_db) as db:
        staged = {"key": None, "path": path, "name": path.name, "preview": preview(db, path)}
    at = _app(staged)
    at.button(key="check").click().run()
    assert not at.exception
    assert not [s for s in _texts(at.success) if s.startswith("Ready")]
    assert any("not stated by a mapping or by labels" in w for w in _texts(at.warning))
    assert any("4-point" in w and "5-point" in w for w in _texts(at.warning))
    at.text_area(key="mapping_json").input(
        '{"How often do you try new tools?": {"construct": "agility", "scale": [1, 4]}}')
    at.button(key="check").click().run()
    assert "Ready: 3 respondents." in _texts(at.success)


def test_a_foreign_survey_from_years_before_does_not_stretch_the_wave_slider(small_demo, tmp_path):
    """Issue #10: a 3-person test survey from 2018 stretched the wave slider back to 2018. The
    slider spans the organisation's own waves (those with respondents linked to the roster)."""
    from analytics import views
    from analytics.store import dashboard

    with Database(small_demo) as db:
        own = dashboard.waves(db)["survey"].tolist()
    foreign = tmp_path / "foreign.csv"
    foreign.write_text('"Timestamp","I feel I belong in my team"\n"2018/01/10 9:00:01 AM","Agree"\n'
                       '"2018/01/10 9:00:02 AM","Agree"\n"2018/01/10 9:00:03 AM","Disagree"\n')
    with Database(small_demo) as db:
        import_file(db, foreign, survey="foreign-2018")
        assert views.filter_options(db, 5).waves["survey"].tolist() == own
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception
    slider = next(s for s in at.select_slider if s.label == "Survey waves")
    assert list(slider.value) == [own[0], own[-1]] and "Jan 2018" not in slider.options
