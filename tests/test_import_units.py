"""Building blocks of the importer: labels, numbers, dates, mappings, suggestions, encodings,
formula neutralising, progress."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analytics.errors import TwowayError
from analytics.importing import import_file, load_mapping, neutralise_formulas, survey_family, to_safe_csv
from analytics.importing.dates import parse_datetimes
from analytics.importing.labels import label_table_for, normalise, parse_number
from analytics.importing.reading import read_table
from analytics.importing.templates import TEMPLATE_KINDS, blank_template
from tests.test_import_helpers import EXPORTS, item, load_org


@pytest.mark.parametrize("raw,expected", [
    ("Strongly agree", "strongly agree"), ("  STRONGLY\u00a0\u00a0agree ", "strongly agree"),
    ("Don\u2019t know", "don't know"), ("Don't  know", "don't know"),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_label_tables_pick_the_covering_scale():
    assert label_table_for({"agree", "strongly agree", "n/a"}) == "agreement_5"
    assert label_table_for({"agree", "somewhat agree"}) == "agreement_7"
    assert label_table_for({"never", "often"}) == "frequency_5"
    assert label_table_for({"blue", "green"}) is None


def test_parse_number():
    assert parse_number(" 4 ") == 4.0 and parse_number("1e1") == 10.0
    assert parse_number("3,5") is None and parse_number("3,5", decimal_comma=True) == 3.5
    assert parse_number("inf") is None and parse_number("four") is None


def test_parse_datetimes_formats():
    s = pd.Series(["2022/03/26 11:00:19 PM AST", "43290.5", "2021-07-14 03:29:02", "", "soon"])
    got = parse_datetimes(s)
    assert got[0] == pd.Timestamp("2022-03-26 23:00:19")
    # Excel serial 43290.5 = 1899-12-30 + 43290.5 days = 2018-07-09 12:00
    assert got[1] == pd.Timestamp("2018-07-09 12:00")
    assert got[2] == pd.Timestamp("2021-07-14 03:29:02")
    assert pd.isna(got[3]) and pd.isna(got[4])


def test_mapping_forms():
    m = load_mapping('{"Q1": "engagement", "Q2": {"construct": "leadership", "reverse": true, "scale": [0, 10], '
                     '"labels": {"Don\u2019t  know": null, "Always": 10}}, "Q3": null}')
    assert m["Q1"].construct == "engagement" and not m["Q1"].reverse
    assert m["Q2"].reverse and m["Q2"].scale == (0.0, 10.0)
    assert m["Q2"].labels == {"don't know": None, "always": 10.0}
    assert m["Q3"].construct is None
    for bad, msg in [('["x"]', "JSON object"), ('{"Q": {"scale": [5, 1]}}', "min < max"),
                     ('{"Q": {"reverse": "yes"}}', "true or false"), ('{"Q": {"colour": 1}}', "unknown field"),
                     ('{"Q": {"labels": {"A": "one"}}}', "number or null"), ("nofile.json", "no such file")]:
        with pytest.raises(TwowayError, match=msg):
            load_mapping(bad)


def test_survey_family():
    assert survey_family("Engagement pulse 2025-03") == "engagement-pulse"
    assert survey_family("engagement_pulse_wave_3") == "engagement-pulse"
    assert survey_family("2025") == "2025"


def test_neutralise_formulas():
    df = pd.DataFrame({"a": ["=1+1", "+cmd", "-2", "@SUM(A1)", "plain", None, "-x"], "n": range(7)})
    out = neutralise_formulas(df)
    got = out["a"].tolist()
    # OWASP: every text cell starting with = + - @ is prefixed, "-2" as text included
    assert got[:5] + got[6:] == ["'=1+1", "'+cmd", "'-2", "'@SUM(A1)", "plain", "'-x"] and pd.isna(got[5])
    assert out["n"].tolist() == list(range(7))
    assert df["a"][0] == "=1+1"  # the input is not modified
    assert to_safe_csv(pd.DataFrame({"=x": ["=y"]})).decode("utf-8-sig").splitlines() == ["'=x", "'=y"]


def test_blank_templates_import_cleanly(db, tmp_path):
    for kind in TEMPLATE_KINDS:
        (tmp_path / f"{kind}.csv").write_bytes(blank_template(kind, example=False))
        assert read_table(tmp_path / f"{kind}.csv").cells.shape[0] == 1
    # the example rows are valid data once the ids they refer to exist
    (tmp_path / "emp.csv").write_text("employee_id,department\nE0042,Sales\nE0007,IT\n")
    import_file(db, tmp_path / "emp.csv")
    for kind in ("employees", "pairs", "sessions", "metrics", "survey"):
        (tmp_path / f"ex_{kind}.csv").write_bytes(blank_template(kind))
        assert import_file(db, tmp_path / f"ex_{kind}.csv")["kind"] == kind


def test_cp1252_detected_after_the_first_block(db, tmp_path):
    """A Windows-1252 byte far into the file (past the sniffed sample) still decodes."""
    rows = "".join(f"Z{i},Ops\r\n" for i in range(20_000))
    data = ("employee_id,department\r\n" + rows + "Z-last,Équipe\r\n").encode("cp1252")
    (tmp_path / "late.csv").write_bytes(data)
    rep = import_file(db, tmp_path / "late.csv")
    assert rep["encoding"] == "cp1252" and rep["rows"] == 20_001
    assert db.query("SELECT department FROM employees WHERE employee_id = 'Z-last'").scalar() == "Équipe"


@pytest.mark.parametrize("late", [False, True])
def test_bytes_neither_utf8_nor_cp1252_are_one_message_naming_the_line(db, tmp_path, late):
    """0x81 is undefined in Windows-1252 too (as are 0x8D, 0x8F, 0x90, 0x9D): the CLI printed a
    UnicodeDecodeError traceback. Now one message names the line and column, nothing written."""
    from tests.fixtures import snapshot

    rows = "".join(f"Z{i},Ops\r\n" for i in range(20_000)) if late else ""
    data = ("employee_id,department\r\n" + rows).encode() + b"Z-bad,Ab\x81c\r\n"
    (tmp_path / "odd.csv").write_bytes(data)
    line = 2 + (20_000 if late else 0)
    before = snapshot(db)
    with pytest.raises(TwowayError, match=rf"odd.csv, line {line}, column B: byte 0x81 is not text in UTF-8 or "
                                          r"Windows-1252 \(save the file as CSV UTF-8\)"):
        import_file(db, tmp_path / "odd.csv")
    assert snapshot(db) == before


def test_typo_in_a_label_column_without_mapping_is_an_error(db, tmp_path):
    load_org(db)
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1\nE001,2025-01-01,Agree\nE002,2025-01-01,Agre\n"
                                    "E003,2025-01-01,Strongly agree\n")
    with pytest.raises(TwowayError, match="row 3, column C 'q1': answer 'Agre'"):
        import_file(db, tmp_path / "s.csv")


def test_leading_number_labels_and_reverse_is_stored_not_applied(db, tmp_path):
    load_org(db)
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1\nE001,2025-01-01,5 - Strongly agree\n"
                                    "E002,2025-01-01,2 - Disagree\n")
    rep = import_file(db, tmp_path / "s.csv", mapping={"q1": {"construct": "belonging", "reverse": True}})
    assert item(rep, "q1")["mean"] == pytest.approx(3.5)  # (5 + 2) / 2, raw answers
    assert db.query("SELECT reverse, construct FROM items").first() == (True, "belonging")
    assert sorted(r[0] for r in db.query("SELECT value FROM responses").rows) == [2.0, 5.0]


def test_progress_reports_increase_to_one(db, tmp_path):
    load_org(db)
    calls = []
    import_file(db, EXPORTS / "qualtrics_pulse.csv", progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(isinstance(m, str) for _, m in calls)


def test_duplicate_submissions_keep_last_by_time_then_file_order(db, tmp_path):
    load_org(db)
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1\n"
                                    "E001,2025-01-02,5\n"   # latest in time → kept although first in file
                                    "E001,2025-01-01,1\n"
                                    "E002,,2\n"             # no time: file order decides → the next row wins
                                    "E002,,4\n")
    rep = import_file(db, tmp_path / "s.csv", mapping={"q1": {"construct": "engagement", "scale": [1, 5]}})
    assert rep["rows"] == 2 and rep["duplicates"]["count"] == 2
    assert dict(db.query("SELECT respondent, value FROM responses").rows) == {"E001": 5.0, "E002": 4.0}


def test_waves_dates_from_submissions(db):
    load_org(db)
    import_file(db, EXPORTS / "surveymonkey_mentoring.csv", survey="sm")
    # kept rows end 03/10, 03/11, 03/11, 03/12 (US month/day)
    assert db.query("SELECT opened, closed, source_format FROM waves").first() == \
        (dt.date(2025, 3, 10), dt.date(2025, 3, 12), "surveymonkey")
