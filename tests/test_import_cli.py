"""`python -m analytics import / undo / imports`, idempotency, undo, saved mappings, and the
real exports of ../shared/real-exports (read from there, never copied into the project)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.cli import cli
from analytics.importing import import_file, undo_import
from analytics.store import Database
from tests.fixtures import snapshot
from tests.test_import_helpers import EXPORTS, load_org

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(__file__).parents[1].parent / "shared" / "real-exports"


def run(*args, cwd=None):
    """The command exactly as a script runs it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "analytics", *map(str, args)], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=300)


def _real_cases():
    if not (REAL / "expected.json").is_file():
        return []
    return json.loads((REAL / "expected.json").read_text(encoding="utf-8"))["good"]


@pytest.mark.skipif(not (REAL / "expected.json").is_file(),
                    reason=f"real exports not present at {REAL} (CI keeps ../shared beside the checkout)")
@pytest.mark.parametrize("case", _real_cases(), ids=lambda c: c["file"][:30])
def test_real_exports(case, tmp_path):
    db = tmp_path / "real.duckdb"
    tol = json.loads((REAL / "expected.json").read_text(encoding="utf-8"))["tolerance"]
    for extra in (["--dry-run"], []):
        res = run("import", case["file"], "--db", db, "--json", *extra, *case["args"], cwd=REAL)
        assert res.returncode == 0, res.stderr
        rep = json.loads(res.stdout)
        assert (rep["format"], rep["kind"], rep["rows"]) == (case["format"], case["kind"], case["respondents"])
        assert rep["errors"] == []
        by_q = {i["question"]: i for i in rep["items"]}
        for question, mean in case["items"].items():
            assert by_q[question]["mean"] == pytest.approx(mean, abs=tol)
            assert by_q[question]["n"] == case["item_n"][question]
        if extra:
            assert rep["import_id"] is None and not db.exists()
        else:
            assert rep["import_id"] == 1
    # what was written agrees with the report
    with Database(db) as d:
        for question, mean in case["items"].items():
            got = d.query("SELECT avg(r.value), count(r.value) FROM responses r JOIN items i USING (survey, item) "
                          "WHERE i.question = ?", [question]).first()
            assert got[0] == pytest.approx(mean, abs=tol) and got[1] == case["item_n"][question]
        assert d.query("SELECT count(DISTINCT respondent) FROM responses").scalar() == case["respondents"]


def test_cli_import_json_and_text(tmp_path):
    db = tmp_path / "c.duckdb"
    r = CliRunner().invoke(cli, ["import", str(EXPORTS / "employees.csv"), "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert list(rep)[:6] == ["format", "kind", "rows", "items", "errors", "import_id"]
    assert (rep["format"], rep["kind"], rep["rows"], rep["import_id"]) == ("template", "employees", 5, 1)
    r = CliRunner().invoke(cli, ["import", str(EXPORTS / "pairs.csv"), "--db", str(db)])
    assert r.exit_code == 0 and "Imported as #2" in r.stdout
    r = CliRunner().invoke(cli, ["imports", "--db", str(db), "--json"])
    assert [h["import_id"] for h in json.loads(r.stdout)] == [2, 1]


def test_cli_bad_input_exit_status_and_message(tmp_path):
    db = tmp_path / "c.duckdb"
    assert run("import", EXPORTS / "employees.csv", "--db", db).returncode == 0
    with Database(db) as d:
        before = snapshot(d)
    bad = tmp_path / "bad.csv"
    bad.write_text("pair_id,mentor_id,mentee_id,cohort,start_date,end_date\nP1,E001,E002,c,2025-01-01,\n"
                   "P2,E001,GHOST,c,2025-01-01,\n")
    res = run("import", bad, "--db", db)
    assert res.returncode == 1
    assert "row 3, column C 'mentee_id': unknown employee_id 'GHOST'" in res.stderr
    assert "Traceback" not in res.stderr
    res = run("import", bad, "--db", db, "--json")
    assert res.returncode == 1
    rep = json.loads(res.stdout)
    assert rep["import_id"] is None and "GHOST" in rep["errors"][0]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = run("import", empty, "--db", db, "--json")
    assert res.returncode == 1 and json.loads(res.stdout)["errors"] == ["empty.csv is empty"]
    with Database(db) as d:
        assert snapshot(d) == before


def test_dry_run_creates_no_database(tmp_path):
    res = run("import", EXPORTS / "survey_wide.csv", "--db", tmp_path / "new.duckdb", "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["rows"] == 3 and not (tmp_path / "new.duckdb").exists()


def test_dry_run_writes_nothing(tmp_path):
    db = tmp_path / "c.duckdb"
    run("import", EXPORTS / "employees.csv", "--db", db)
    with Database(db) as d:
        before = snapshot(d)
    res = run("import", EXPORTS / "qualtrics_pulse.csv", "--db", db, "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["import_id"] is None and rep["rows"] == 4
    with Database(db) as d:
        assert snapshot(d) == before


def test_reimport_same_file_changes_nothing(db):
    load_org(db)
    first = import_file(db, EXPORTS / "qualtrics_pulse.csv")
    before = snapshot(db)
    again = import_file(db, EXPORTS / "qualtrics_pulse.csv", survey="another-name")
    assert again["duplicate"] and again["duplicate_of"] == first["import_id"] and again["import_id"] is None
    assert snapshot(db) == before
    # through the CLI: exit 0, reported as a duplicate
    db.close()
    res = run("import", EXPORTS / "qualtrics_pulse.csv", "--db", db.path, "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["duplicate_of"] == first["import_id"]


def test_undo_removes_exactly_one_import(db):
    load_org(db)
    base = snapshot(db)
    version = db.data_version()
    rep = import_file(db, EXPORTS / "survey_wide.csv", survey="w1")
    assert db.query("SELECT count(*) FROM responses").scalar() == 9  # 3 respondents × 3 items
    out = undo_import(db, rep["import_id"])
    assert out["deleted"] == {"waves": 1, "items": 3, "responses": 9}
    assert db.data_version() == version + 2
    after = snapshot(db)
    assert db.query("SELECT status FROM imports WHERE import_id = ?", [rep["import_id"]]).scalar() == "undone"
    assert {k: v for k, v in after.items() if k not in ("imports", "meta")} == \
        {k: v for k, v in base.items() if k not in ("imports", "meta")}
    # the same file can be imported again once undone
    assert import_file(db, EXPORTS / "survey_wide.csv", survey="w1")["import_id"] == rep["import_id"] + 1
    with pytest.raises(Exception, match="already undone"):
        undo_import(db, rep["import_id"])


def test_undo_refused_while_later_imports_depend(db):
    load_org(db)
    roster = db.query("SELECT import_id FROM imports WHERE kind = 'employees'").scalar()
    with pytest.raises(Exception, match="undo those first"):
        undo_import(db, roster)


def test_undo_refused_while_a_later_roster_names_its_people_as_managers(db, tmp_path):
    import_file(db, EXPORTS / "employees.csv")
    newcomer = tmp_path / "newcomer.csv"
    newcomer.write_text("employee_id,department,manager_id\nE900,Sales,E004\n", encoding="utf-8")
    import_file(db, newcomer)
    with pytest.raises(Exception, match=r"employees \(as their manager\).*undo those first"):
        undo_import(db, 1)
    assert db.query("SELECT count(*) FROM employees").scalar() == 6


def test_cli_undo(tmp_path):
    db = tmp_path / "u.duckdb"
    run("import", EXPORTS / "employees.csv", "--db", db)
    res = run("undo", "1", "--db", db, "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["deleted"] == {"employees": 5, "employee_history": 5}
    res = run("undo", "7", "--db", db)
    assert res.returncode == 1 and "no import #7" in res.stderr


def test_confirmed_mapping_is_saved_and_reused_for_next_wave(db, tmp_path):
    load_org(db)
    mapping = {"eng_1": "engagement", "bel_1": {"construct": "belonging"}, "psy_1":
               {"construct": "psychological_safety", "reverse": True}}
    import_file(db, EXPORTS / "survey_wide.csv", survey="pulse-2025-q1", mapping=json.dumps(mapping))
    wave2 = tmp_path / "w2.csv"
    wave2.write_text("employee_id,submitted_at,eng_1,bel_1,psy_1\nE001,2025-07-01,5,5,1\n")
    rep = import_file(db, wave2, survey="pulse-2025-q2")
    assert rep["mapping_source"] == "saved:pulse"
    got = db.query("SELECT item, construct, reverse FROM items WHERE survey = 'pulse-2025-q2' ORDER BY item").rows
    assert got == [("bel_1", "belonging", False), ("eng_1", "engagement", False),
                   ("psy_1", "psychological_safety", True)]


def test_mapping_from_file_with_labels_and_scale(db, tmp_path):
    load_org(db)
    (tmp_path / "m.json").write_text(json.dumps({
        "How often do you try new tools at work?": {"construct": "agility", "scale": [1, 4], "labels": {
            "Never": 1, "Rarely": 2, "Sometimes": 3, "Often": 4, "Always": 4}},
        "I feel confident using AI tools": "confidence"}))
    rep = import_file(db, EXPORTS / "surveymonkey_mentoring.csv", mapping=str(tmp_path / "m.json"))
    freq = [i for i in rep["items"] if i["item"] == "q1"][0]
    # own labels: Often 4 + Always 4 + Never 1 + Rarely 2 = 11 / 4
    assert freq["mean"] == pytest.approx(2.75) and freq["scale"] == [1, 4]
    assert [i["item"] for i in rep["items"]] == ["q1", "q2_1"]  # only mapped items are imported


def test_id_column_by_header_text(db):
    load_org(db)
    rep = import_file(db, EXPORTS / "qualtrics_pulse.csv", id_column="Response ID", dry_run=True)
    # every kept response is its own respondent: R_1 and R_6 are different responses → 5 rows kept
    assert rep["rows"] == 5 and rep["id_column"] == "ResponseId"
    with pytest.raises(Exception, match="no such column"):
        import_file(db, EXPORTS / "qualtrics_pulse.csv", id_column="nope", dry_run=True)


def test_kind_override(db):
    load_org(db)
    with pytest.raises(Exception, match="qualtrics survey export; it cannot be imported as employees"):
        import_file(db, EXPORTS / "qualtrics_pulse.csv", kind="employees")
    rep = import_file(db, EXPORTS / "metrics.csv", kind="metrics", dry_run=True)
    assert rep["kind"] == "metrics"


def test_cli_undo_of_the_demo_organisation_needs_force(tmp_path):
    db = tmp_path / "d.duckdb"
    assert run("demo", "--db", db, "--employees", "60").returncode == 0
    refused = run("undo", "1", "--db", db)
    assert refused.returncode == 1 and "demo organisation" in refused.stderr and "--force" in refused.stderr
    assert json.loads(run("imports", "--db", db, "--json").stdout)[0]["status"] == "ok"
    res = run("undo", "1", "--db", db, "--force", "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["status"] == "undone"
