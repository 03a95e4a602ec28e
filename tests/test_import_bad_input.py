"""Bad input: one clear error naming what and where, and the database exactly as before."""

from __future__ import annotations

import json
import zipfile

import pytest

from analytics.errors import TwowayError
from analytics.importing import ImportFailed, import_file
from tests.fixtures import snapshot
from tests.test_import_helpers import EXPORTS, load_org


@pytest.fixture
def org(db):
    load_org(db)
    return db


def _fails(db, path, match, **kw):
    before = snapshot(db)
    with pytest.raises(TwowayError, match=match) as info:
        import_file(db, path, **kw)
    assert snapshot(db) == before
    return info.value


def test_empty_file(org, tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    _fails(org, tmp_path / "e.csv", "is empty")


def test_only_blank_lines(org, tmp_path):
    (tmp_path / "e.csv").write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    _fails(org, tmp_path / "e.csv", "no rows")


@pytest.mark.parametrize("name,text", [
    ("employees.csv", "employee_id,department,level,location,birth_year,hire_date,manager_id\n"),
    ("survey.csv", "employee_id,submitted_at,q1\n"),
])
def test_header_only(org, tmp_path, name, text):
    (tmp_path / name).write_text(text)
    _fails(org, tmp_path / name, "no data rows|no responses")


def test_qualtrics_header_only(org, tmp_path):
    lines = (EXPORTS / "qualtrics_pulse.csv").read_bytes().split(b"\r\n")
    (tmp_path / "q.csv").write_bytes(b"\r\n".join(lines[:3]) + b"\r\n")  # the 3 header records (CRLF; row 2 has LFs inside)
    _fails(org, tmp_path / "q.csv", "3 header rows but no responses")


def test_truncated_csv_last_row_cut(org, tmp_path):
    data = (EXPORTS / "pairs.csv").read_bytes()
    (tmp_path / "p.csv").write_bytes(data[:-25])  # cut inside the last row
    err = _fails(org, tmp_path / "p.csv", r"row 3 .*fewer than the 6 of the header \(is the file truncated")
    assert "row 3" in str(err)


def test_truncated_inside_quotes(org, tmp_path):
    (tmp_path / "s.csv").write_text('employee_id,submitted_at,q1\nE001,2025-01-01,4\nE002,"2025-01-02,5\nE003,x,3\n')
    _fails(org, tmp_path / "s.csv", r"row 3 \(line 4\): 2 fields, fewer than the 3")


def test_truncated_xlsx(org, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["employee_id", "department"])
    wb.active.append(["Z1", "Ops"])
    wb.save(tmp_path / "full.xlsx")
    data = (tmp_path / "full.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    _fails(org, tmp_path / "cut.xlsx", "not a readable XLSX|damaged")


def _roster_with_formula(path, saved_result: str | None):
    """A two-person roster whose second department is the formula ="Ops" (openpyxl writes no
    result for it, as scripts do); `saved_result` writes the result Excel would have saved."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["employee_id", "department"])
    wb.active.append(["Z1", "Sales"])
    wb.active.append(["Z2", '="Ops"'])
    wb.save(path)
    if saved_result is not None:
        with zipfile.ZipFile(path) as zf:
            parts = {m: zf.read(m) for m in zf.namelist()}
        sheet = parts["xl/worksheets/sheet1.xml"].decode()
        assert '<c r="B3"><f>"Ops"</f><v /></c>' in sheet
        parts["xl/worksheets/sheet1.xml"] = sheet.replace(
            '<c r="B3"><f>"Ops"</f><v /></c>', f'<c r="B3" t="str"><f>"Ops"</f><v>{saved_result}</v></c>').encode()
        with zipfile.ZipFile(path, "w") as zf:
            for m, data in parts.items():
                zf.writestr(m, data)


def test_a_formula_without_a_saved_result_is_refused_not_read_as_blank(db, tmp_path):
    _roster_with_formula(tmp_path / "r.xlsx", saved_result=None)
    _fails(db, tmp_path / "r.xlsx", r"r\.xlsx, row 3, column B: a formula with no saved result")


def test_a_formula_with_its_saved_result_imports_that_result(db, tmp_path):
    _roster_with_formula(tmp_path / "r.xlsx", saved_result="Ops")
    import_file(db, tmp_path / "r.xlsx")
    assert db.query("SELECT employee_id, department FROM employees ORDER BY 1").dicts() == [
        {"employee_id": "Z1", "department": "Sales"}, {"employee_id": "Z2", "department": "Ops"}]


def test_binary_file(org, tmp_path):
    (tmp_path / "b.csv").write_bytes(bytes(range(256)) * 40)
    _fails(org, tmp_path / "b.csv", "binary data")


def test_zip_that_is_not_a_workbook(org, tmp_path):
    with zipfile.ZipFile(tmp_path / "z.xlsx", "w") as z:
        z.writestr("hello.txt", "hi")
    _fails(org, tmp_path / "z.xlsx", "not a readable XLSX")


def test_legacy_xls(org, tmp_path):
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    _fails(org, tmp_path / "old.xls", r"\.xls")


def test_duplicated_columns(org, tmp_path):
    (tmp_path / "d.csv").write_text("employee_id,submitted_at,q1,Q1\nE001,2025-01-01,4,5\n")
    _fails(org, tmp_path / "d.csv", "columns C and D are both named")


def test_duplicated_qualtrics_column_ids(org, tmp_path):
    text = (EXPORTS / "qualtrics_pulse.csv").read_text(encoding="utf-8")
    text = text.replace(",Q1_1,Q1_2,", ",Q1_1,Q1_1,", 1).replace('""QID1_2""', '""QID1_1""', 1)
    (tmp_path / "q.csv").write_text(text, encoding="utf-8", newline="")
    _fails(org, tmp_path / "q.csv", "same id 'Q1_1'")


def test_line_with_tens_of_thousands_of_columns(org, tmp_path):
    wide = ",".join(["4"] * 40_000)
    (tmp_path / "w.csv").write_text(f"employee_id,submitted_at,q1\nE001,2025-01-01,4\nE002,2025-01-01,{wide}\n")
    _fails(org, tmp_path / "w.csv", r"row 3 .*40,002 fields, more than the 3")
    (tmp_path / "h.csv").write_text(",".join(f"c{i}" for i in range(30_000)) + "\n" + ",".join(["1"] * 30_000))
    _fails(org, tmp_path / "h.csv", "row 1: 30,000 columns")


def test_file_over_size_limit(org, tmp_path, monkeypatch):
    monkeypatch.setenv("TWOWAY_MAX_UPLOAD_MB", "0.001")  # ~1 kB
    (tmp_path / "big.csv").write_text("employee_id,department\n" + "".join(f"Y{i},Ops\n" for i in range(200)))
    _fails(org, tmp_path / "big.csv", "over the 0.001 MB limit")


def test_out_of_range_value_names_row_and_column(org, tmp_path):
    # agreement labels put the survey on 1–5; a 6 is an error, never clipped
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1,q2\nE001,2025-01-01,Agree,4\n"
                                    "E002,2025-01-01,Disagree,6\nE003,2025-01-01,Agree,5\n")
    err = _fails(org, tmp_path / "s.csv", r"row 3, column D 'q2': value 6 is outside the item's scale 1–5")
    assert isinstance(err, ImportFailed) and err.report["import_id"] is None


def test_out_of_range_against_mapping_scale(org, tmp_path):
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1\nE001,2025-01-01,4\nE002,2025-01-01,0\n")
    _fails(org, tmp_path / "s.csv", "row 3, column C 'q1': value 0 is outside the item's scale 1–4",
           mapping={"q1": {"construct": "engagement", "scale": [1, 4]}})


def test_unknown_label_in_mapped_item(org, tmp_path):
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1\nE001,2025-01-01,Agree\nE002,2025-01-01,Agre\n")
    _fails(org, tmp_path / "s.csv", "row 3, column C 'q1': answer 'Agre' is not a number or a known label",
           mapping={"q1": "engagement"})


def test_mapping_key_that_matches_nothing(org):
    _fails(org, EXPORTS / "survey_wide.csv", "mapping entry 'eng_9' matches no question",
           mapping={"eng_9": "engagement"})


def test_bad_mapping_json(org):
    _fails(org, EXPORTS / "survey_wide.csv", "not valid JSON", mapping="{bad json")
    _fails(org, EXPORTS / "survey_wide.csv", "unknown construct 'happiness'", mapping='{"eng_1": "happiness"}')


@pytest.mark.parametrize("text,match", [
    ("pair_id,mentor_id,mentee_id,cohort,start_date,end_date\nP9,E001,E404,c,2025-01-01,\n",
     r"row 2, column C 'mentee_id': unknown employee_id 'E404'"),
    ("session_id,pair_id,date,duration_min,format,channel,topics,mentor_rating,mentee_rating\n"
     "S9,P1,2025-01-01,30,scheduled,x,,4,4\nS10,P404,2025-01-01,30,scheduled,x,,4,4\n",
     r"row 3, column B 'pair_id': unknown pair_id 'P404'"),
    ("employee_id,period,metric,value\nE001,2025-01,t,1\nNOPE,2025-01,t,1\n",
     r"row 3, column A 'employee_id': unknown employee_id 'NOPE'"),
    ("employee_id,department,level,location,birth_year,hire_date,manager_id\nE100,Ops,L1,X,1990,2020-01-01,E404\n",
     r"row 2, column G 'manager_id': unknown employee_id 'E404'"),
])
def test_unknown_ids_are_errors(org, tmp_path, text, match):
    (tmp_path / "f.csv").write_text(text)
    _fails(org, tmp_path / "f.csv", match)


@pytest.mark.parametrize("text,match", [
    ("employee_id,department,level,location,birth_year,hire_date,manager_id\nE001,Ops,L1,X,1990,2020-01-01,\n",
     "'E001' already exists"),
    ("employee_id,department,level,location,birth_year,hire_date,manager_id\nE100,Ops,L1,X,19x0,2020-01-01,\n",
     "row 2, column E 'birth_year': not a number"),
    ("employee_id,department,level,location,birth_year,hire_date,manager_id\nE100,Ops,L1,X,1990,31 Feb,\n",
     "row 2, column F 'hire_date': not a date"),
    ("employee_id,department\nE100,Ops\nE100,IT\n", "row 2, 3, column A 'employee_id': 'E100' appears more than once"),
    ("employee_id,period,metric,value\nE001,2025-13,t,1\n", "column B 'period': not a month"),
    ("session_id,pair_id,date,duration_min,format,channel,topics,mentor_rating,mentee_rating\n"
     "S9,P1,2025-01-01,30,webinar,x,,4,9\n", "column E 'format': not one of scheduled, informal"),
    ("department,level\nOps,L1\n", None),
])
def test_bad_values_in_tables(org, tmp_path, text, match):
    (tmp_path / "f.csv").write_text(text)
    if match is None:  # no id column at all: a survey with no rating items
        _fails(org, tmp_path / "f.csv", "no rating items")
    else:
        _fails(org, tmp_path / "f.csv", match)


def test_failure_on_a_late_row_writes_nothing(org, tmp_path):
    """Atomicity: 5,000 good rows and one bad one at the end leave no rows and no import."""
    rows = "".join(f"E00{1 + i % 3},2025-{1 + i % 12:02d},m{i},{i}\n" for i in range(5000))
    (tmp_path / "m.csv").write_text("employee_id,period,metric,value\n" + rows + "E001,2025-01,late,not-a-number\n")
    before = org.table_counts()
    _fails(org, tmp_path / "m.csv", "row 5002, column D 'value': not a number")
    assert org.table_counts() == before


def test_failure_inside_the_write_rolls_back(org, monkeypatch):
    """Even an error raised while writing (after all checks passed) leaves nothing behind."""
    from analytics.store import imports as store

    real = store.record_import

    def boom(*a, **k):
        real(*a, **k)
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "record_import", boom)
    before = snapshot(org)
    with pytest.raises(RuntimeError):
        import_file(org, EXPORTS / "metrics.csv")
    assert snapshot(org) == before


def test_json_report_lists_errors(org, tmp_path):
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1,q2\nE001,2025-01-01,Agree,7\nE002,,Agree,9\n")
    with pytest.raises(ImportFailed) as info:
        import_file(org, tmp_path / "s.csv")
    rep = info.value.report
    assert rep["errors"] and rep["import_id"] is None
    json.dumps(rep, default=str)  # serialisable as the CLI prints it
