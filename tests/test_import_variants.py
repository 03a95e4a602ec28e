"""Export variants analysts really bring, each through `python -m analytics import … --json`.

Every fixture is written here by hand from the tool's documented layout (bytes exactly as the
tool writes them: encoding, BOM, delimiter, line ends). Expected respondents and item means are
worked out by hand in the comments (label tables: README "Label table").
"""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest
from click.testing import CliRunner

from analytics.cli import cli
from analytics.store import Database
from tests.fixtures import snapshot


@pytest.fixture
def dbpath(tmp_path):
    path = tmp_path / "v.duckdb"
    Database(path).close()
    return path


def cli_import(path, dbpath, *args, code=0):
    res = CliRunner().invoke(cli, ["import", str(path), "--db", str(dbpath), "--json", *map(str, args)])
    assert res.exit_code == code, (res.stdout, res.stderr)
    return json.loads(res.stdout), res.stderr


def items_by_question(rep):
    return {i["question"]: (i["n"], i["mean"]) for i in rep["items"]}


def approx(n, mean):
    return (n, pytest.approx(mean, abs=1e-6))


def write(path, text, encoding="utf-8", newline="\r\n"):
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# 1. Qualtrics legacy (2 header rows: V1..V10 ids, then names and question texts; no ImportId row)
QUALTRICS_LEGACY_V = """\
V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1_1,Q1_2,Q2
ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,EndDate,Finished,\
Please rate-I feel valued at work,Please rate-My ideas are heard,How often do you try new tools?
R_1a,Default Response Set,Anonymous,,,10.0.0.1,0,2016-03-01 09:00:00,2016-03-01 09:05:00,1,4,5,3
R_2b,Default Response Set,Anonymous,,,10.0.0.2,0,2016-03-01 10:00:00,2016-03-01 10:05:00,1,2,3,4
R_3c,Default Response Set,Anonymous,,,,1,2016-03-01 11:00:00,2016-03-01 11:05:00,1,5,5,5
R_4d,Default Response Set,Anonymous,,,10.0.0.4,0,2016-03-02 09:00:00,2016-03-02 09:05:00,0,1,1,1
R_5e,Default Response Set,Anonymous,,,10.0.0.5,0,2016-03-02 10:00:00,2016-03-02 10:05:00,1,3,,2
"""


def test_qualtrics_legacy_v_columns(tmp_path, dbpath):
    path = write(tmp_path / "legacy.csv", QUALTRICS_LEGACY_V)
    rep, _ = cli_import(path, dbpath)
    # 5 rows: R_3c Status 1 (Survey Preview) and R_4d Finished 0 dropped → R_1a, R_2b, R_5e = 3
    assert (rep["format"], rep["kind"], rep["rows"]) == ("qualtrics", "survey", 3)
    assert rep["dropped"] == {"Survey Preview": 1, "unfinished": 1}
    assert rep["errors"] == [] and rep["import_id"] == 1
    assert items_by_question(rep) == {
        "Please rate-I feel valued at work": approx(3, (4 + 2 + 3) / 3),      # 3.0
        "Please rate-My ideas are heard": approx(2, (5 + 3) / 2),             # 4.0 (R_5e blank)
        "How often do you try new tools?": approx(3, (3 + 4 + 2) / 3),        # 3.0
    }
    assert [i["item"] for i in rep["items"]] == ["Q1_1", "Q1_2", "Q2"]  # V1..V10 are metadata


# 1b. legacy with ResponseID/ResponseSet ids in row 1, choice text on a 7-point agreement scale
QUALTRICS_LEGACY_TEXT7 = """\
ResponseID,ResponseSet,StartDate,EndDate,Finished,Q1,Q2
ResponseID,ResponseSet,StartDate,EndDate,Finished,I feel valued at work,I would recommend the programme
R_1,Default Response Set,2019-05-01 09:00:00,2019-05-01 09:03:00,1,Somewhat agree,Agree
R_2,Default Response Set,2019-05-01 10:00:00,2019-05-01 10:03:00,1,Strongly agree,Neither agree nor disagree
R_3,Default Response Set,2019-05-01 11:00:00,2019-05-01 11:03:00,0,Disagree,Disagree
R_4,Default Response Set,2019-05-02 09:00:00,2019-05-02 09:03:00,1,Disagree,Somewhat disagree
"""


def test_qualtrics_legacy_responseset_seven_point_text(tmp_path, dbpath):
    path = write(tmp_path / "legacy7.csv", QUALTRICS_LEGACY_TEXT7)
    rep, _ = cli_import(path, dbpath)
    # R_3 unfinished → 3 respondents; 7-point table (Somewhat …): Q1 5 + 7 + 2 = 14; Q2 6 + 4 + 3 = 13
    assert (rep["format"], rep["kind"], rep["rows"]) == ("qualtrics", "survey", 3)
    assert items_by_question(rep) == {"I feel valued at work": approx(3, 14 / 3),
                                      "I would recommend the programme": approx(3, 13 / 3)}
    assert {tuple(i["scale"]) for i in rep["items"]} == {(1, 7)}


# 1c. Qualtrics' default 5-point agreement (Somewhat…, no plain Agree/Disagree), as choice text
QUALTRICS_SOMEWHAT = """\
StartDate,EndDate,Status,Finished,RecordedDate,ResponseId,Q1_1,Q1_2
Start Date,End Date,Response Type,Finished,Recorded Date,Response ID,Agreement - I feel valued,\
Agreement - My ideas are heard
"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""status""}",\
"{""ImportId"":""finished""}","{""ImportId"":""recordedDate""}","{""ImportId"":""_recordId""}",\
"{""ImportId"":""QID1_1""}","{""ImportId"":""QID1_2""}"
2025-06-01 09:00:00,2025-06-01 09:02:00,IP Address,True,2025-06-01 09:02:01,R_1,Somewhat agree,Strongly agree
2025-06-01 10:00:00,2025-06-01 10:02:00,IP Address,True,2025-06-01 10:02:01,R_2,Neither agree nor disagree,\
Somewhat disagree
2025-06-01 11:00:00,2025-06-01 11:02:00,IP Address,True,2025-06-01 11:02:01,R_3,Strongly disagree,Somewhat agree
"""


def test_qualtrics_default_five_point_somewhat_text(tmp_path, dbpath):
    rep, _ = cli_import(write(tmp_path / "q5.csv", QUALTRICS_SOMEWHAT), dbpath)
    # 1 Strongly disagree, 2 Somewhat disagree, 3 Neither, 4 Somewhat agree, 5 Strongly agree
    # Q1_1: 4 + 3 + 1 = 8/3; Q1_2: 5 + 2 + 4 = 11/3 — on 1–5, not the 7-point table
    assert (rep["format"], rep["rows"]) == ("qualtrics", 3)
    assert items_by_question(rep) == {"Agreement - I feel valued": approx(3, 8 / 3),
                                      "Agreement - My ideas are heard": approx(3, 11 / 3)}
    assert {tuple(i["scale"]) for i in rep["items"]} == {(1, 5)}

# 2. Qualtrics (3 header rows) with Status as text, Finished True/False, fraud-score columns and
# two columns both exported as Q1 (two questions given the same export tag).
QUALTRICS_TEXT = """\
StartDate,EndDate,Status,Progress,Finished,RecordedDate,ResponseId,Q_RecaptchaScore,Q_RelevantIDDuplicate,\
Q_RelevantIDDuplicateScore,Q1,Q1,Q2
Start Date,End Date,Response Type,Progress,Finished,Recorded Date,Response ID,Q_RecaptchaScore,\
Q_RelevantIDDuplicate,Q_RelevantIDDuplicateScore,My team listens to me,I can be myself at work,\
I would recommend the programme
"{""ImportId"":""startDate"",""timeZone"":""America/Denver""}","{""ImportId"":""endDate"",""timeZone"":""America/Denver""}",\
"{""ImportId"":""status""}","{""ImportId"":""progress""}","{""ImportId"":""finished""}",\
"{""ImportId"":""recordedDate"",""timeZone"":""America/Denver""}","{""ImportId"":""_recordId""}",\
"{""ImportId"":""Q_RecaptchaScore""}","{""ImportId"":""Q_RelevantIDDuplicate""}",\
"{""ImportId"":""Q_RelevantIDDuplicateScore""}","{""ImportId"":""QID1""}","{""ImportId"":""QID5""}",\
"{""ImportId"":""QID2""}"
2025-03-01 09:00:00,2025-03-01 09:04:00,IP Address,100,True,2025-03-01 09:04:01,R_a,1,false,0,Agree,Strongly agree,Agree
2025-03-01 09:10:00,2025-03-01 09:14:00,Survey Preview,100,True,2025-03-01 09:14:01,R_b,1,false,0,\
Strongly agree,Strongly agree,Strongly agree
2025-03-01 09:20:00,2025-03-01 09:21:00,Spam,100,True,2025-03-01 09:21:01,R_c,0.1,true,100,\
Strongly disagree,Strongly disagree,Strongly disagree
2025-03-01 09:30:00,2025-03-01 09:31:00,IP Address,40,False,2025-03-02 09:31:01,R_d,0.9,false,0,Disagree,Disagree,
2025-03-02 10:00:00,2025-03-02 10:04:00,IP Address,100,True,2025-03-02 10:04:01,R_e,0.9,false,0,\
Neither agree nor disagree,Agree,Strongly disagree
2025-03-02 11:00:00,2025-03-02 11:04:00,IP Address,100,True,2025-03-02 11:04:01,R_f,1,false,5,\
Strongly agree,Disagree,Agree
"""


def test_qualtrics_text_status_and_duplicate_ids(tmp_path, dbpath):
    path = write(tmp_path / "qtext.csv", QUALTRICS_TEXT)
    rep, _ = cli_import(path, dbpath)
    # 6 rows: R_b preview, R_c spam, R_d unfinished dropped → R_a, R_e, R_f = 3
    assert (rep["format"], rep["kind"], rep["rows"]) == ("qualtrics", "survey", 3)
    assert rep["dropped"] == {"Survey Preview": 1, "Spam": 1, "unfinished": 1}
    assert items_by_question(rep) == {
        "My team listens to me": approx(3, (4 + 3 + 5) / 3),                # 4.0
        "I can be myself at work": approx(3, (5 + 4 + 2) / 3),              # 11/3
        "I would recommend the programme": approx(3, (4 + 1 + 4) / 3),     # 3.0
    }
    assert [i["item"] for i in rep["items"]] == ["Q1", "Q1#QID5", "Q2"]  # fraud scores are metadata


def test_qualtrics_system_columns_are_metadata_without_import_ids(tmp_path, dbpath):
    # the same file without its ImportId row (2 header rows): Q_… columns must still not be items
    lines = QUALTRICS_TEXT.splitlines()
    text = "\n".join(lines[:2] + lines[3:]) + "\n"
    text = text.replace(",Q1,Q1,", ",Q1,Q3,", 1)
    rep, _ = cli_import(write(tmp_path / "q2row.csv", text), dbpath, "--dry-run")
    assert rep["rows"] == 3 and [i["item"] for i in rep["items"]] == ["Q1", "Q3", "Q2"]


# 3. SurveyMonkey: the matrix heading spans its columns (merged cells in XLSX, blank cells in CSV)
SM_CSV = """\
Respondent ID,Collector ID,Start Date,End Date,Custom Data 1,How often do you try new tools?,\
How much do you agree with the following?,,
,,,,,Response,I feel valued,My ideas are heard,I would recommend the programme
101,420001,03/10/2025 09:00:00 AM,03/10/2025 09:05:00 AM,E001,Often,Agree,Strongly agree,Agree
102,420001,03/10/2025 10:00:00 AM,03/10/2025 10:05:00 AM,E002,Never,Disagree,Neither agree nor disagree,Strongly agree
103,420001,03/11/2025 11:00:00 AM,03/11/2025 11:05:00 AM,E003,Sometimes,Strongly agree,Agree,
"""
# q1 frequency: Often 4 + Never 1 + Sometimes 3 = 8/3; matrix: 4+2+5 = 11/3; 5+3+4 = 12/3; 4+5 = 9/2 (n 2)
SM_EXPECTED = {"How often do you try new tools?": approx(3, 8 / 3), "I feel valued": approx(3, 11 / 3),
               "My ideas are heard": approx(3, 4.0), "I would recommend the programme": approx(2, 4.5)}


def _sm_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Respondent ID", "Collector ID", "Start Date", "End Date", "Custom Data 1",
               "How often do you try new tools?", "How much do you agree with the following?"])
    ws.merge_cells("G1:I1")  # as SurveyMonkey writes it: the text only in G1, H1:I1 merged and empty
    ws.append([None] * 5 + ["Response", "I feel valued", "My ideas are heard", "I would recommend the programme"])
    t = dt.datetime(2025, 3, 10, 9)
    for rid, emp, d, *answers in [(101, "E001", 0, "Often", "Agree", "Strongly agree", "Agree"),
                                  (102, "E002", 0, "Never", "Disagree", "Neither agree nor disagree",
                                   "Strongly agree"),
                                  (103, "E003", 1, "Sometimes", "Strongly agree", "Agree", None)]:
        start = t + dt.timedelta(days=d, hours=rid - 101)
        ws.append([rid, 420001, start, start + dt.timedelta(minutes=5), emp, *answers])
    wb.save(path)
    return path


def test_surveymonkey_merged_matrix_xlsx_equals_csv(tmp_path, dbpath):
    csv_rep, _ = cli_import(write(tmp_path / "sm.csv", SM_CSV), dbpath, "--dry-run")
    xlsx_rep, _ = cli_import(_sm_xlsx(tmp_path / "sm.xlsx"), dbpath, "--dry-run")
    for rep in (csv_rep, xlsx_rep):
        assert (rep["format"], rep["kind"], rep["rows"]) == ("surveymonkey", "survey", 3)
        assert items_by_question(rep) == SM_EXPECTED
    assert [i["item"] for i in xlsx_rep["items"]] == [i["item"] for i in csv_rep["items"]] == \
        ["q1", "q2_1", "q2_2", "q2_3"]


# 4. Google Forms: grid rows, a checkbox question, a number question, e-mail collection
GOOGLE = """\
"Timestamp","Email address","How much do you agree? [I feel valued]","How much do you agree? [My ideas are heard]",\
"Which topics did you cover?","How many sessions did you attend?"
"2025/03/01 9:00:01 AM GMT+1","ana@example.com","Agree","Strongly agree","AI tools, Social media","3"
"2025/03/01 9:30:45 AM GMT+1","ben@example.com","Neutral","Agree","AI tools","12"
"2025/03/02 4:15:00 PM GMT+1","ana@example.com","Strongly agree","Agree","AI tools, Data","4"
"2025/03/03 8:00:00 AM GMT+1","cem@example.com","Disagree","","Social media","1\""""


def test_google_forms_grid_checkbox_email_id(tmp_path, dbpath):
    path = write(tmp_path / "gf.csv", GOOGLE, newline="\n")  # LF, no final newline, as Google writes it
    rep, _ = cli_import(path, dbpath, "--id-column", "Email address")
    # ana answered twice: the later (2025/03/02) row kept → ben, ana, cem = 3
    assert (rep["format"], rep["kind"], rep["rows"]) == ("google_forms", "survey", 3)
    assert rep["duplicates"] == {"count": 1, "examples": []}  # an unlinked address is never shown
    assert items_by_question(rep) == {
        "How much do you agree? [I feel valued]": approx(3, (3 + 5 + 2) / 3),   # Neutral, SA, Disagree
        "How much do you agree? [My ideas are heard]": approx(2, (4 + 4) / 2),  # Agree, Agree, blank
    }
    # checkbox answers and a count beyond 0–10 (ben: 12) are not rating items
    assert rep["skipped_columns"] == ["Which topics did you cover?", "How many sessions did you attend?"]


# 5. Microsoft Forms XLSX: text Likert answers; "anonymous" in Email is nobody's id
def _msforms_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ID", "Start time", "Completion time", "Email", "Name", "Last modified time", "I feel valued",
               "My ideas are heard", "Any comments?"])
    t = dt.datetime(2025, 4, 1, 9)
    rows = [("ana@contoso.com", "Ana Lima", "Agree", "Strongly agree", "Great"),
            ("anonymous", None, "Neither agree nor disagree", "Disagree", None),
            ("ben@contoso.com", "Ben Ode", "Strongly agree", "Agree", None),
            ("anonymous", None, "Disagree", "Strongly disagree", "meh"),
            ("ana@contoso.com", "Ana Lima", "Strongly agree", "Agree", None)]
    for i, (email, name, a, b, note) in enumerate(rows, start=1):
        start = t + dt.timedelta(hours=i)
        ws.append([i, start, start + dt.timedelta(minutes=4), email, name, None, a, b, note])
    wb.save(path)
    return path


def test_microsoft_forms_email_id_and_anonymous(tmp_path, dbpath):
    rep, _ = cli_import(_msforms_xlsx(tmp_path / "msf.xlsx"), dbpath, "--id-column", "Email")
    # ana twice → her later row (ID 5) kept; the two "anonymous" rows are two people → IDs 2, 3, 4, 5 = 4
    assert (rep["format"], rep["kind"], rep["rows"]) == ("microsoft_forms", "survey", 4)
    assert items_by_question(rep) == {
        "I feel valued": approx(4, (3 + 5 + 2 + 5) / 4),      # 3.75
        "My ideas are heard": approx(4, (2 + 4 + 1 + 4) / 4),  # 2.75
    }
    assert rep["duplicates"]["count"] == 1 and rep["skipped_columns"] == ["Any comments?"]


# 6. Excel on Windows: cp1252, ";", decimal commas, CRLF, trailing ";;;", an empty row and a blank line
EXCEL = """\
employee_id;submitted_at;I feel valued;I don’t feel heard;Hours mentoring per month;;;
E001;01.03.2025;4;Don’t know;1,5;;;
E002;02.03.2025;5;2;2,25;;;
E003;02.03.2025;3;4;0,5;;;
;;;;;;;

"""


@pytest.mark.parametrize("variant", ["plain", "sep_line"])
def test_excel_windows_cp1252_semicolon(tmp_path, dbpath, variant):
    # "sep_line": Excel's "sep=;" hint line first, and the header without the trailing ";;;"
    text = EXCEL if variant == "plain" else "sep=;\n" + EXCEL.replace("month;;;", "month", 1)
    path = write(tmp_path / "excel.csv", text, encoding="cp1252")
    assert b"\x92" in path.read_bytes() and b";;;\r\n" in path.read_bytes()
    rep, _ = cli_import(path, dbpath, "--survey", "excel")
    assert (rep["format"], rep["kind"], rep["rows"]) == ("template", "survey", 3)
    # "Don’t know" (curly) is missing; hours have decimals so are not a rating item unless mapped
    assert items_by_question(rep) == {"I feel valued": approx(3, (4 + 5 + 3) / 3),
                                      "I don’t feel heard": approx(2, (2 + 4) / 2)}
    assert rep["skipped_columns"] == ["Hours mentoring per month"]
    mapping = {"I feel valued": "belonging", "Hours mentoring per month": {"construct": "engagement",
                                                                          "scale": [0, 10]}}
    rep, _ = cli_import(path, dbpath, "--survey", "excel-2", "--mapping", json.dumps(mapping), "--dry-run")
    # decimal commas: (1.5 + 2.25 + 0.5) / 3 = 4.25 / 3
    assert items_by_question(rep) == {"I feel valued": approx(3, 4.0),
                                      "Hours mentoring per month": approx(3, 4.25 / 3)}


# 7. UTF-16 LE tab-separated with BOM (Qualtrics "Export as TSV")
QUALTRICS_TSV = """\
StartDate\tEndDate\tStatus\tFinished\tRecordedDate\tResponseId\tQ1_1\tQ1_2
Start Date\tEnd Date\tResponse Type\tFinished\tRecorded Date\tResponse ID\tHow much do you agree? - I feel valued\t\
How much do you agree? - My ideas are heard
{"ImportId":"startDate","timeZone":"Europe/Berlin"}\t{"ImportId":"endDate","timeZone":"Europe/Berlin"}\t\
{"ImportId":"status"}\t{"ImportId":"finished"}\t{"ImportId":"recordedDate","timeZone":"Europe/Berlin"}\t\
{"ImportId":"_recordId"}\t{"ImportId":"QID1_1"}\t{"ImportId":"QID1_2"}
2025-05-01 09:00:00\t2025-05-01 09:03:00\t0\t1\t2025-05-01 09:03:01\tR_1\t4\t5
2025-05-01 10:00:00\t2025-05-01 10:03:00\t0\t1\t2025-05-01 10:03:01\tR_2\t2\t3
2025-05-01 11:00:00\t2025-05-01 11:03:00\t1\t1\t2025-05-01 11:03:01\tR_3\t1\t1
2025-05-02 09:00:00\t2025-05-02 09:03:00\t0\t1\t2025-05-02 09:03:01\tR_4\t5\t
"""


def test_qualtrics_utf16_tsv(tmp_path, dbpath):
    path = write(tmp_path / "q.tsv", "\ufeff" + QUALTRICS_TSV, encoding="utf-16-le")
    assert path.read_bytes()[:2] == b"\xff\xfe"
    rep, _ = cli_import(path, dbpath)
    # R_3 preview dropped → 3; Q1_1 4 + 2 + 5 = 11/3; Q1_2 5 + 3 = 8/2 (R_4 blank)
    assert (rep["format"], rep["kind"], rep["rows"], rep["import_id"]) == ("qualtrics", "survey", 3, 1)
    assert items_by_question(rep) == {"How much do you agree? - I feel valued": approx(3, 11 / 3),
                                      "How much do you agree? - My ideas are heard": approx(2, 4.0)}


def test_surveymonkey_utf16_tsv(tmp_path, dbpath):
    path = write(tmp_path / "sm.txt", "\ufeff" + SM_CSV.replace(",", "\t"), encoding="utf-16-le")
    rep, _ = cli_import(path, dbpath, "--dry-run")
    assert (rep["format"], rep["rows"]) == ("surveymonkey", 3) and items_by_question(rep) == SM_EXPECTED


# Broken variants: exit 1, a message naming row and column, the database unchanged
@pytest.mark.parametrize("case", ["truncated", "truncated_in_quote", "ragged_excel", "ragged_utf16", "utf16_cut"])
def test_broken_variants_exit_1_and_leave_db(tmp_path, dbpath, case):
    cli_import(write(tmp_path / "ok.csv", QUALTRICS_LEGACY_V), dbpath)
    with Database(dbpath) as d:
        before = snapshot(d)
    if case == "truncated":  # the last record cut after "…,Social media" (no number column)
        path = write(tmp_path / "b.csv", GOOGLE[:GOOGLE.rindex(",")], newline="\n")
        want = ["row 5", "column F"]
    elif case == "truncated_in_quote":  # cut inside a quoted cell
        path = write(tmp_path / "b.csv", GOOGLE[:GOOGLE.rindex("Social") + 3], newline="\n")
        want = ["row 5", "column E"]
    elif case == "ragged_excel":  # one row with an extra field
        path = write(tmp_path / "b.csv", EXCEL.replace("E002;02.03.2025;5;2;2,25;;;", "E002;02.03.2025;5;2;2,25;;;;9"),
                     encoding="cp1252")
        want = ["row 3", "column I"]
    elif case == "utf16_cut":  # cut inside a character: "…R_4\t5\t" loses a byte of the tab after R_4
        path = write(tmp_path / "b.tsv", "\ufeff" + QUALTRICS_TSV, encoding="utf-16-le")
        path.write_bytes(path.read_bytes()[:-9])
        want = ["row 7", "column G"]
    else:
        bad = QUALTRICS_TSV.replace("R_2\t2\t3", "R_2\t2")
        path = write(tmp_path / "b.tsv", "\ufeff" + bad, encoding="utf-16-le")
        want = ["row 5", "column H"]
    rep, err = cli_import(path, dbpath, code=1)
    assert rep["import_id"] is None and len(rep["errors"]) == 1
    for w in want:
        assert w in rep["errors"][0] and w in err
    with Database(dbpath) as d:
        assert snapshot(d) == before


def test_google_forms_german_locale(tmp_path, dbpath):
    # a form in German: "Zeitstempel", "E-Mail-Adresse", day-first dates; the grid as in GOOGLE
    text = (GOOGLE.replace('"Timestamp","Email address"', '"Zeitstempel","E-Mail-Adresse"')
            .replace("2025/03/01 9:00:01 AM GMT+1", "01.03.2025 09:00:01")
            .replace("2025/03/01 9:30:45 AM GMT+1", "01.03.2025 09:30:45")
            .replace("2025/03/02 4:15:00 PM GMT+1", "02.03.2025 16:15:00")
            .replace("2025/03/03 8:00:00 AM GMT+1", "03.03.2025 08:00:00"))
    rep, _ = cli_import(write(tmp_path / "gf_de.csv", text, newline="\n"), dbpath, "--id-column", "E-Mail-Adresse")
    # the same answers as test_google_forms_grid_checkbox_email_id: ana's later row kept → 3
    assert (rep["format"], rep["rows"]) == ("google_forms", 3)
    assert rep["duplicates"] == {"count": 1, "examples": []}  # an unlinked address is never shown
    assert items_by_question(rep) == {"How much do you agree? [I feel valued]": approx(3, 10 / 3),
                                      "How much do you agree? [My ideas are heard]": approx(2, 4.0)}


def test_google_forms_two_questions_with_the_same_title(tmp_path, dbpath):
    text = ('"Timestamp","Rate the session","Rate the session"\n'
            '"2025/03/01 9:00:01 AM GMT+1","4","2"\n"2025/03/01 9:05:01 AM GMT+1","5","3"')
    rep, _ = cli_import(write(tmp_path / "dup.csv", text, newline="\n"), dbpath, "--dry-run")
    # two items: (4 + 5) / 2 = 4.5 and (2 + 3) / 2 = 2.5
    assert rep["rows"] == 2
    assert [(i["item"], i["n"], i["mean"]) for i in rep["items"]] == \
        [("Rate the session", 2, 4.5), ("Rate the session (2)", 2, 2.5)]


def test_qualtrics_loop_and_merge_columns_and_blank_last_line(tmp_path, dbpath):
    # loop & merge: the same question per loop, ids 1_Q1 / 2_Q1, ImportIds 1_QID1 / 2_QID1;
    # the file ends with a line holding only spaces
    text = ('ResponseId,Finished,1_Q1,2_Q1\n'
            'Response ID,Finished,Mentor A - I learned something new,Mentor B - I learned something new\n'
            '"{""ImportId"":""_recordId""}","{""ImportId"":""finished""}","{""ImportId"":""1_QID1""}",'
            '"{""ImportId"":""2_QID1""}"\n'
            'R_1,1,4,2\nR_2,1,5,3\nR_3,1,3,\n   \n')
    rep, _ = cli_import(write(tmp_path / "loop.csv", text), dbpath, "--dry-run")
    # 3 respondents; 1_Q1: (4 + 5 + 3) / 3 = 4; 2_Q1: (2 + 3) / 2 = 2.5
    assert (rep["format"], rep["rows"]) == ("qualtrics", 3)
    assert [(i["item"], i["n"], i["mean"]) for i in rep["items"]] == [("1_Q1", 3, 4.0), ("2_Q1", 2, 2.5)]
