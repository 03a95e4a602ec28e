"""Each export format, read from a fixture written by hand from the tool's documented layout.

Expected respondent counts and item means are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from analytics.importing import import_file
from tests.test_import_helpers import EXPORTS, item, load_org


def test_templates_roster_pairs_sessions_metrics(db):
    rep = import_file(db, EXPORTS / "employees.csv")
    assert (rep["format"], rep["kind"], rep["rows"]) == ("template", "employees", 5)
    rows = db.query("SELECT employee_id, birth_year, generation, hire_date, manager_id FROM employees "
                    "ORDER BY employee_id").rows
    # Pew: 1998 → Gen Z, 1975 → Gen X, 1999 → Gen Z, 1970 → Gen X, 1968 → Gen X
    assert [r[2] for r in rows] == ["Gen Z", "Gen X", "Gen Z", "Gen X", "Gen X"]
    assert rows[0] == ("E001", 1998, "Gen Z", dt.date(2021, 5, 1), "E004")
    assert rows[3][4] is None
    # a formula-like cell is stored as the text it is
    assert db.query("SELECT department FROM employees WHERE employee_id = 'E005'").scalar() == \
        '=HYPERLINK("http://evil.example","x")'
    rep = import_file(db, EXPORTS / "pairs.csv")
    assert (rep["kind"], rep["rows"]) == ("pairs", 2)
    assert db.query("SELECT end_date FROM pairs WHERE pair_id = 'P2'").scalar() == dt.date(2025, 6, 30)
    rep = import_file(db, EXPORTS / "sessions.csv")
    assert (rep["kind"], rep["rows"]) == ("sessions", 3)
    assert db.query("SELECT topics, format FROM sessions WHERE session_id = 'S1'").first() == \
        (["AI tools", "social media"], "scheduled")
    assert db.query("SELECT topics FROM sessions WHERE session_id = 'S2'").scalar() is None
    rep = import_file(db, EXPORTS / "metrics.csv")  # without the optional higher_is_better, unit
    assert (rep["format"], rep["kind"], rep["rows"]) == ("template", "metrics", 3)
    # 12 + 15 + 7 = 34
    assert db.query("SELECT sum(value) FROM metrics").scalar() == 34
    assert db.query("SELECT count(DISTINCT import_id) FROM imports WHERE status = 'ok'").scalar() == 4


def test_template_survey_keeps_last_submission(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "survey_wide.csv", survey="pulse-2025-04")
    assert (rep["format"], rep["kind"]) == ("template", "survey")
    # E002 answered twice; the later row (2025-04-03: 2, 3, 3) is kept → 3 respondents
    assert rep["rows"] == 3
    assert rep["duplicates"] == {"count": 1, "examples": ["E002"]}
    # eng_1: (4 + 5 + 2) / 3; bel_1: (5 + 4 + 3) / 3; psy_1: (2 + 5 + 3) / 3
    assert item(rep, "eng_1")["mean"] == pytest.approx(11 / 3)
    assert item(rep, "bel_1")["mean"] == pytest.approx(4.0)
    assert item(rep, "psy_1")["mean"] == pytest.approx(10 / 3)
    assert db.query("SELECT value FROM responses WHERE respondent = 'E002' AND item = 'bel_1'").scalar() == 3
    assert db.query("SELECT opened, closed FROM waves WHERE survey = 'pulse-2025-04'").first() == \
        (dt.date(2025, 4, 1), dt.date(2025, 4, 3))


def test_qualtrics_three_header_rows(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "qualtrics_pulse.csv", survey="pulse-2025-03")
    assert (rep["format"], rep["kind"]) == ("qualtrics", "survey")
    # 8 rows: preview (R_2), unfinished (R_3), "Survey Test" (R_4) dropped; E001 twice (R_1, R_6) → keep R_6.
    # Kept: R_5 (E002), R_6 (E001), R_7 (masked id → own respondent), R_8 (E999, not in roster) = 4
    assert rep["rows"] == 4
    assert rep["dropped"] == {"Survey Preview": 1, "Survey Test": 1, "unfinished": 1}
    assert rep["id_column"] == "employee_id"
    assert rep["unlinked"] == {"count": 1, "examples": ["E999"]}
    q1 = "How much do you agree?\nThink of the last month - I feel I belong in my team"
    # Q1_1: Neither(3) + Strongly agree(5) + Disagree(2) + Agree(4) = 14 / 4 = 3.5
    assert item(rep, q1) | {} == item(rep, "Q1_1")
    assert (item(rep, "Q1_1")["n"], item(rep, "Q1_1")["mean"]) == (4, pytest.approx(3.5))
    # Q1_2: Agree(4) + Agree(4) + Prefer not to say(missing) + Neutral(3) = 11 / 3
    assert (item(rep, "Q1_2")["n"], item(rep, "Q1_2")["mean"]) == (3, pytest.approx(11 / 3))
    # Q2: Don’t know(missing) + Agree(4) + Strongly agree(5) + Agree(4) = 13 / 3
    assert (item(rep, "Q2")["n"], item(rep, "Q2")["mean"]) == (3, pytest.approx(13 / 3))
    resp = dict(db.query("SELECT respondent, any_value(employee_id) FROM responses GROUP BY 1").rows)
    assert resp == {"E002": "E002", "E001": "E001", "R_7ggg": None, "E999": None}
    assert db.query("SELECT source_format FROM waves").scalar() == "qualtrics"


@pytest.mark.parametrize("container", ["csv", "xlsx"])
def test_surveymonkey_csv_and_xlsx(db, tmp_path, container):
    load_org(db)
    path = EXPORTS / "surveymonkey_mentoring.csv"
    if container == "xlsx":
        path = _surveymonkey_xlsx(tmp_path / "mentoring.xlsx")
    rep = import_file(db, path, survey="mentoring")
    assert (rep["format"], rep["kind"]) == ("surveymonkey", "survey")
    # 5 rows; E002 twice (11890002, then 11890005 a day later) → 4; 11890003 has no Custom Data → own respondent
    assert rep["rows"] == 4 and rep["id_column"] == "Custom Data 1"
    # frequency table: Often 4 + Always 5 + Never 1 + Rarely 2 = 12 / 4 = 3.0
    assert item(rep, "How often do you try new tools at work?")["mean"] == pytest.approx(3.0)
    # Agree 4 + Strongly disagree 1 + Disagree 2 + Agree 4 = 11 / 4
    assert item(rep, "I feel confident using AI tools")["mean"] == pytest.approx(2.75)
    # Strongly agree 5 + N/A + Disagree 2 + Strongly agree 5 = 12 / 3
    assert (item(rep, "My manager listens to me")["n"], item(rep, "My manager listens to me")["mean"]) == \
        (3, pytest.approx(4.0))
    assert db.query("SELECT count(DISTINCT respondent) FROM responses").scalar() == 4
    assert "11890003" in {r[0] for r in db.query("SELECT DISTINCT respondent FROM responses").rows}


def _surveymonkey_xlsx(path):
    """The SurveyMonkey XLSX layout: the same two header rows, real dates, NBSP in a label."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
               "First Name", "Last Name", "Custom Data 1", "How often do you try new tools at work?",
               "How much do you agree with the following?", None, "Anything else?"])
    ws.append([None] * 9 + ["Response", "I feel confident using AI tools", "My manager listens to me",
                            "Open-Ended Response"])
    t = dt.datetime(2025, 3, 10, 9)
    rows = [(11890001, "E001", 0, "Often", "Agree", "Strongly\u00a0agree"),
            (11890002, "E002", 1, "Sometimes", "Neither agree nor disagree", "Agree"),
            (11890003, None, 2, "Always", "Strongly disagree", "N/A"),
            (11890004, "E003", 3, "Never", "Disagree", "Disagree"),
            (11890005, "E002", 4, "Rarely", "agree ", "Strongly agree")]
    for rid, emp, d, a, b, c in rows:
        ws.append([rid, 420001, t + dt.timedelta(days=d), t + dt.timedelta(days=d, minutes=5), None, None, None,
                   None, emp, a, b, c, None])
    wb.save(path)
    return path


def test_google_forms(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "google_forms_belonging.csv", survey="gf")
    assert (rep["format"], rep["kind"], rep["rows"]) == ("google_forms", "survey", 3)
    assert rep["id_column"] == "Employee ID" and rep["linked"] == 3
    # Agree 4 + Strongly agree 5 + Disagree 2 = 11 / 3
    assert item(rep, "I feel I belong in my team")["mean"] == pytest.approx(11 / 3)
    # grid row "Question [Row]": Strongly agree 5 + Neutral 3 + Agree 4 = 12 / 3
    assert item(rep, "I can speak up in meetings without fear [Team meetings]")["mean"] == pytest.approx(4.0)
    # checkbox answers joined by commas are not a rating item
    assert rep["skipped_columns"] == ["Which topics did you cover?"]
    assert db.query("SELECT opened, closed FROM waves").first() == (dt.date(2025, 3, 1), dt.date(2025, 3, 2))


def test_microsoft_forms_xlsx_seven_point(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ID", "Start time", "Completion time", "Email", "Name", "I feel confident using new software",
               "My manager gives me useful feedback", "Comments"])
    t = dt.datetime(2025, 3, 3, 14, 0)
    for i, (a, b, note) in enumerate([("Somewhat agree", "Agree", "ok"),
                                      ("Strongly agree", "Neither agree nor disagree", "=1+1"),
                                      ("Disagree", "Somewhat disagree", None)], start=1):
        ws.append([i, t, t + dt.timedelta(minutes=3), f"p{i}@example.com", f"Person {i}", a, b, note])
    ws.cell(row=3, column=8).data_type = "s"  # a comment that looks like a formula, saved as text as Forms does
    wb.save(tmp_path / "forms.xlsx")
    rep = import_file(db, tmp_path / "forms.xlsx", survey="msf")
    assert (rep["format"], rep["kind"], rep["rows"]) == ("microsoft_forms", "survey", 3)
    # 7-point agreement (a "Somewhat" label is present): 5 + 7 + 2 = 14 / 3; 6 + 4 + 3 = 13 / 3
    assert item(rep, "I feel confident using new software")["mean"] == pytest.approx(14 / 3)
    assert item(rep, "My manager gives me useful feedback")["mean"] == pytest.approx(13 / 3)
    assert item(rep, "I feel confident using new software")["scale"] == [1, 7]
    # the Email column identifies people (none is in this empty roster): three pseudonyms, no address stored
    who = [r[0] for r in db.query("SELECT DISTINCT respondent FROM responses").rows]
    assert rep["person_key"] == "email" and len(who) == 3
    assert all(w.startswith("email:") and "@" not in w for w in who)


def test_generic_cp1252_semicolon_decimal_comma_metrics(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "generic_metrics_cp1252.csv")
    assert (rep["format"], rep["kind"], rep["rows"]) == ("generic", "metrics", 4)
    assert (rep["encoding"], rep["delimiter"]) == ("cp1252", ";")
    # 3,5 + 4,25 + 10 + (-1,5) = 16.25
    assert db.query("SELECT sum(value) FROM metrics").scalar() == pytest.approx(16.25)


def test_generic_utf16_tab_survey(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "generic_survey_utf16.csv", survey="generic")
    assert (rep["format"], rep["kind"], rep["rows"], rep["delimiter"]) == ("generic", "survey", 3, "\t")
    # 5 + 3 + 4 = 12 / 3; 4 + (blank) + 2 = 6 / 2
    assert item(rep, "I feel part of the team")["mean"] == pytest.approx(4.0)
    assert (item(rep, "I am confident with new technology")["n"],
            item(rep, "I am confident with new technology")["mean"]) == (2, pytest.approx(3.0))
    # European dates 31.03.2025 / 01.04.2025
    assert db.query("SELECT opened, closed FROM waves").first() == (dt.date(2025, 3, 31), dt.date(2025, 4, 1))


def test_template_survey_utf8_bom_semicolon(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "template_survey_bom_semicolon.csv", survey="bom")
    assert (rep["format"], rep["encoding"], rep["rows"]) == ("template", "utf-8-sig", 2)
    assert item(rep, "eng_1")["mean"] == pytest.approx(4.5)  # (4 + 5) / 2
    assert rep["linked"] == 2


def test_generic_xlsx_roster(db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Employee ID", "Department", "Level", "Location", "Birth year", "Hire date", "Manager ID", "Desk"])
    ws.append(["X1", "Ops", "L1", "Faro", 1990, dt.datetime(2020, 1, 2), None, "3F"])
    ws.append(["X2", "Ops", "L3", "Faro", 1985.0, dt.datetime(2012, 6, 1), "X1", "3G"])
    wb.save(tmp_path / "roster.xlsx")
    rep = import_file(db, tmp_path / "roster.xlsx")
    assert (rep["format"], rep["kind"], rep["rows"]) == ("generic", "employees", 2)
    assert db.query("SELECT birth_year, hire_date, manager_id FROM employees WHERE employee_id = 'X2'").first() == \
        (1985, dt.date(2012, 6, 1), "X1")
