"""Survey exports linked to the roster by e-mail (case ignored), duplicates kept last, addresses never shown.

Fixtures: tests/data/exports/employees_email.csv (E001 ana@, E002 bruno@, E003 Carla@Corp.Example,
E004 dora@), google_forms_email.csv and microsoft_forms_email.csv; the expected figures are
worked by hand in the comments.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analytics.cli import cli
from analytics.importing import import_file
from tests.test_import_helpers import EXPORTS


@pytest.fixture
def org(db):
    import_file(db, EXPORTS / "employees_email.csv")
    return db


def _no_address(*texts):
    for t in texts:
        assert "@" not in t, t


def test_google_forms_links_by_email(org):
    rep = import_file(org, EXPORTS / "google_forms_email.csv", survey="gf")
    # ana twice (Agree, then Strongly agree: the later kept), BRUNO@Corp.Example = bruno@, an unknown
    # stranger, carla@ = Carla@Corp.Example: 4 respondents, 3 linked; mean (5 + 2 + 3 + 4) / 4 = 3.5
    assert (rep["format"], rep["rows"], rep["person_key"], rep["id_column"]) == ("google_forms", 4, "email",
                                                                                 "Email address")
    assert rep["linked"] == 3 and rep["unlinked"] == {"count": 1, "examples": []}
    assert rep["duplicates"] == {"count": 1, "examples": ["E001"]}
    assert [i["mean"] for i in rep["items"]] == [3.5]
    got = org.query("SELECT employee_id, value FROM responses ORDER BY employee_id NULLS LAST").rows
    assert got == [("E001", 5.0), ("E002", 2.0), ("E003", 4.0), (None, 3.0)]
    # no address is stored or reported; the unlinked person has a pseudonym
    stored = [r[0] for r in org.query("SELECT respondent FROM responses").rows]
    _no_address(json.dumps(rep, default=str), *stored)
    assert sum(s.startswith("email:") for s in stored) == 1


def test_microsoft_forms_links_by_email(org, tmp_path):
    res = CliRunner().invoke(cli, ["import", str(EXPORTS / "microsoft_forms_email.csv"), "--db",
                                   str(tmp_path / "test.duckdb"), "--survey", "msf", "--json"])
    # the CLI uses its own file; import into the fixture's database through the API too
    assert res.exit_code == 0, res.output
    rep = import_file(org, EXPORTS / "microsoft_forms_email.csv", survey="msf")
    # ana (Agree 4); "anonymous" is nobody: its own respondent (Agree 4); BRUNO@ then bruno@CORP (Strongly
    # agree 5 kept); Dora@ (Neither 3); an unknown address (Disagree 2): 5 respondents, 3 linked,
    # mean (4 + 4 + 5 + 3 + 2) / 5 = 3.6
    assert (rep["format"], rep["rows"], rep["person_key"]) == ("microsoft_forms", 5, "email")
    assert rep["linked"] == 3 and rep["unlinked"]["count"] == 1 and rep["duplicates"]["count"] == 1
    assert rep["items"][0]["mean"] == pytest.approx(3.6)
    assert {r[0] for r in org.query("SELECT employee_id FROM responses WHERE employee_id IS NOT NULL").rows} == {
        "E001", "E002", "E004"}
    _no_address(json.dumps(rep, default=str), " ".join(rep["warnings"]))


def test_cli_never_prints_addresses(tmp_path):
    dbp = str(tmp_path / "c.duckdb")
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(EXPORTS / "employees_email.csv"), "--db", dbp]).exit_code == 0
    for extra in (["--json"], []):
        res = runner.invoke(cli, ["import", str(EXPORTS / "google_forms_email.csv"), "--db", dbp, "--dry-run",
                                  "--survey", "gf", *extra])
        assert res.exit_code == 0, res.output
        _no_address(res.stdout, res.stderr)
    res = runner.invoke(cli, ["import", str(EXPORTS / "google_forms_email.csv"), "--db", dbp, "--dry-run",
                              "--survey", "gf", "--json"])
    assert "e-mail address(es) are not in the roster" in res.stderr or "e-mail address(es)" in res.stdout


def test_id_column_still_overrides(org, tmp_path):
    text = ('"Timestamp","Email address","Employee ID","I feel I belong in my team"\n'
            '"2025/03/01 9:00:01 AM","ana@corp.example","E004","Agree"\n'
            '"2025/03/01 9:05:00 AM","bruno@corp.example","E005","Disagree"\n')
    (tmp_path / "both.csv").write_text(text)
    rep = import_file(org, tmp_path / "both.csv", survey="a", dry_run=True)
    assert (rep["person_key"], rep["id_column"]) == ("employee_id", "Employee ID")  # an id column wins
    rep = import_file(org, tmp_path / "both.csv", survey="b", id_column="Email address")
    assert (rep["person_key"], rep["linked"]) == ("Email address", 2)
    assert sorted(r[0] for r in org.query("SELECT employee_id FROM responses").rows) == ["E001", "E002"]


def test_no_email_column_keeps_the_old_keys(org):
    rep = import_file(org, EXPORTS / "google_forms_belonging.csv", survey="gfb")
    assert rep["person_key"] == "employee_id"


def test_response_key_when_nothing_identifies_people(org, tmp_path):
    (tmp_path / "anon.csv").write_text('"Timestamp","I feel I belong in my team"\n"2025/03/01 9:00:01 AM","Agree"\n'
                                       '"2025/03/01 9:00:02 AM","Agree"\n')
    rep = import_file(org, tmp_path / "anon.csv", survey="anon", dry_run=True)
    assert (rep["person_key"], rep["rows"], rep["linked"]) == ("response", 2, 0)


def test_roster_email_changes_with_a_snapshot_still_link_the_old_address(db, tmp_path):
    import_file(db, EXPORTS / "employees_email.csv")
    new = (EXPORTS / "employees_email.csv").read_text().replace("ana@corp.example", "ana.lima@corp.example")
    (tmp_path / "apr.csv").write_text(new)
    rep = import_file(db, tmp_path / "apr.csv", as_of="2025-04-01")
    assert rep["changed"] == {"count": 1, "examples": ["E001"]}
    rep = import_file(db, EXPORTS / "google_forms_email.csv", survey="gf")
    assert rep["linked"] == 3  # ana@ was E001's address until April


def test_the_upload_preview_never_shows_addresses(org):
    from analytics.importing import preview

    prev = preview(org, EXPORTS / "google_forms_email.csv")
    assert (prev["head"]["Email address"] == "(e-mail address)").all()
    _no_address(prev["head"].to_csv())


def test_the_unlinked_warning_says_what_to_do_for_this_roster(org):
    """The roster has e-mails, so an unknown address is not a missing column: the warning said
    "add an email column to the roster" even then."""
    rep = import_file(org, EXPORTS / "google_forms_email.csv", survey="gf", dry_run=True)
    warning = next(w for w in rep["warnings"] if "stay unlinked" in w)
    assert "check the roster's email column" in warning and "add an email column" not in warning


def test_without_roster_addresses_the_warning_asks_for_the_column(db, tmp_path):
    (tmp_path / "emp.csv").write_text("employee_id,department\nE001,Sales\n")
    import_file(db, tmp_path / "emp.csv")
    rep = import_file(db, EXPORTS / "google_forms_email.csv", survey="gf", dry_run=True)
    assert rep["linked"] == 0
    assert any("add an email column to the roster" in w for w in rep["warnings"]), rep["warnings"]


def test_an_email_column_that_mostly_holds_no_addresses_says_why_nobody_is_linked(org, tmp_path):
    """Google Forms' 'Email address' with one value in three not an address is not used (90 %
    needed): the report said only "no person id column", as if the export had none."""
    (tmp_path / "gf.csv").write_text('"Timestamp","Email address","I feel I belong in my team"\n'
                                     '"2025/03/01 9:00:01 AM","ana@corp.example","Agree"\n'
                                     '"2025/03/01 9:00:02 AM","bruno@corp.example","Agree"\n'
                                     '"2025/03/01 9:00:03 AM","not given","Disagree"\n')
    rep = import_file(org, tmp_path / "gf.csv", survey="gf", dry_run=True)
    assert rep["person_key"] == "response" and rep["linked"] == 0
    assert any("'Email address': only 2 of 3 values look like e-mail addresses" in w for w in rep["warnings"])
    _no_address(json.dumps(rep, default=str))


def test_addresses_in_a_named_id_column_are_never_stored_or_shown(org, tmp_path):
    """--id-column naming a column that is mostly not addresses (so not e-mail mode): the addresses
    in it were stored as respondents and printed as unlinked examples. Each value that is an
    address links by e-mail (or gets a pseudonym); other values stay ids."""
    (tmp_path / "gf.csv").write_text('"Timestamp","Contact","I feel I belong in my team"\n'
                                     '"2025/03/01 9:00:01 AM","ANA@corp.example","Agree"\n'
                                     '"2025/03/01 9:00:02 AM","stranger@else.example","Agree"\n'
                                     '"2025/03/01 9:00:03 AM","E004","Disagree"\n'
                                     '"2025/03/01 9:00:04 AM","desk 12","Disagree"\n')
    rep = import_file(org, tmp_path / "gf.csv", survey="gf", id_column="Contact")
    # ANA@ is E001 (case ignored), E004 is an id; the stranger and "desk 12" stay unlinked
    assert (rep["person_key"], rep["linked"], rep["unlinked"]["count"]) == ("Contact", 2, 2)
    assert rep["unlinked"]["examples"] == ["desk 12"]
    stored = [r[0] for r in org.query("SELECT DISTINCT respondent FROM responses").rows]
    _no_address(json.dumps(rep, default=str), *stored)
    assert sorted(r[0] for r in org.query("SELECT DISTINCT employee_id FROM responses WHERE employee_id IS NOT NULL"
                                          ).rows) == ["E001", "E004"]


def test_an_organisation_whose_employee_ids_are_addresses_still_links_by_id(db, tmp_path):
    (tmp_path / "emp.csv").write_text("employee_id,department\nana@corp.example,Sales\nbruno@corp.example,IT\n")
    import_file(db, tmp_path / "emp.csv")
    (tmp_path / "s.csv").write_text("employee_id,submitted_at,q1\nana@corp.example,2025-03-01,4\n"
                                    "bruno@corp.example,2025-03-01,3\n")
    rep = import_file(db, tmp_path / "s.csv", survey="s")
    assert (rep["person_key"], rep["linked"]) == ("employee_id", 2)
