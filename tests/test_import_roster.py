"""Roster snapshots: hires, transfers, promotions, leavers and rehires kept with their dates.

The expected history rows below are worked out by hand from the three files (see each
comment), never read back from the importer.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from analytics.cli import cli
from analytics.errors import TwowayError
from analytics.importing import ImportFailed, import_file, undo_import
from analytics.store import Database
from analytics.store import roster
from tests.fixtures import snapshot

D = dt.date
HEAD = "employee_id,department,level,location,birth_year,hire_date,manager_id"

# January: five people.
JAN = HEAD + "\nA,Sales,L1,Lisbon,1990,2019-01-01,\nB,Sales,L2,Lisbon,1985,2018-01-01,\nC,IT,L1,Porto,1995,2020-01-01,B\n" \
    "D,IT,L2,Porto,1980,2017-01-01,B\nE,Ops,L1,Lisbon,1999,2021-01-01,\n"
# April: A moves to IT, B is promoted to L3, E is missing (leaves), F is hired on 15 March.
APR = HEAD + "\nA,IT,L1,Lisbon,1990,2019-01-01,\nB,Sales,L3,Lisbon,1985,2018-01-01,\nC,IT,L1,Porto,1995,2020-01-01,B\n" \
    "D,IT,L2,Porto,1980,2017-01-01,B\nF,HR,L1,Lisbon,2000,2025-03-15,\n"
# July: C is missing (leaves), D carries a termination date (leaves 15 June), E is back (rehire).
JUL = HEAD + ",termination_date,effective_date\nA,IT,L1,Lisbon,1990,2019-01-01,,,2025-07-01\n" \
    "B,Sales,L3,Lisbon,1985,2018-01-01,,,2025-07-01\nD,IT,L2,Porto,1980,2017-01-01,B,2025-06-15,2025-07-01\n" \
    "E,Ops,L1,Lisbon,1999,2021-01-01,,,2025-07-01\nF,HR,L1,Lisbon,2000,2025-03-15,,,2025-07-01\n"

# (employee_id, valid_from, valid_to, department, level), worked by hand from the files above.
HISTORY = [
    ("A", None, D(2025, 4, 1), "Sales", "L1"), ("A", D(2025, 4, 1), None, "IT", "L1"),
    ("B", None, D(2025, 4, 1), "Sales", "L2"), ("B", D(2025, 4, 1), None, "Sales", "L3"),
    ("C", None, D(2025, 7, 1), "IT", "L1"),
    ("D", None, D(2025, 6, 15), "IT", "L2"),
    ("E", None, D(2025, 4, 1), "Ops", "L1"), ("E", D(2025, 7, 1), None, "Ops", "L1"),
    ("F", D(2025, 3, 15), None, "HR", "L1"),
]


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _rows(db):
    h = roster.history(db)
    return [(r.employee_id, None if r.valid_from is None or r.valid_from != r.valid_from else r.valid_from.date(),
             None if r.valid_to is None or r.valid_to != r.valid_to else r.valid_to.date(), r.department, r.level)
            for r in h.itertuples()]


def _load_three(db, tmp_path):
    r1 = import_file(db, _write(tmp_path, "jan.csv", JAN))
    r2 = import_file(db, _write(tmp_path, "apr.csv", APR), as_of="2025-04-01")
    r3 = import_file(db, _write(tmp_path, "jul.csv", JUL))  # date from the effective_date column
    return r1, r2, r3


def _on(db, day):
    return {r.employee_id: (r.department, r.level) for r in roster.roster_at(db, day).itertuples()}


def test_three_snapshots_reproduce_the_history(db, tmp_path):
    r1, r2, r3 = _load_three(db, tmp_path)
    assert _rows(db) == HISTORY
    assert r1["added"]["count"] == 5 and r1["snapshot"] is None
    assert (r2["added"], r2["changed"], r2["left"], r2["rehired"]) == (
        {"count": 1, "examples": ["F"]}, {"count": 2, "examples": ["A", "B"]}, {"count": 1, "examples": ["E"]},
        {"count": 0, "examples": []})
    assert (r3["snapshot"], r3["added"]["count"], r3["changed"]["count"], r3["left"], r3["rehired"]) == (
        "2025-07-01", 0, 0, {"count": 2, "examples": ["C", "D"]}, {"count": 1, "examples": ["E"]})
    # who counts, and where, on four days (by hand from HISTORY)
    assert _on(db, "2025-03-01") == {"A": ("Sales", "L1"), "B": ("Sales", "L2"), "C": ("IT", "L1"),
                                     "D": ("IT", "L2"), "E": ("Ops", "L1")}
    assert _on(db, "2025-05-01") == {"A": ("IT", "L1"), "B": ("Sales", "L3"), "C": ("IT", "L1"),
                                     "D": ("IT", "L2"), "F": ("HR", "L1")}
    assert set(_on(db, "2025-06-20")) == {"A", "B", "C", "F"}
    assert set(_on(db, "2025-08-01")) == {"A", "B", "E", "F"}
    # `employees` holds the current attributes; leavers keep their last ones with an end date
    cur = {r[0]: r[1:] for r in db.query("SELECT employee_id, department, level, termination_date FROM employees").rows}
    assert cur == {"A": ("IT", "L1", None), "B": ("Sales", "L3", None), "C": ("IT", "L1", D(2025, 7, 1)),
                   "D": ("IT", "L2", D(2025, 6, 15)), "E": ("Ops", "L1", None), "F": ("HR", "L1", None)}


def test_wave_roster_counts_each_person_where_they_were(db, tmp_path):
    _load_three(db, tmp_path)
    db.execute("INSERT INTO waves (survey, opened, closed) VALUES ('mar', DATE '2025-03-02', DATE '2025-03-20'), "
               "('may', DATE '2025-05-02', DATE '2025-05-20')")
    got = db.query(f"WITH {roster.WAVE_ROSTER_CTE} SELECT survey, department, count(*) FROM wave_roster "
                   "GROUP BY ALL ORDER BY ALL").rows
    # March: Sales A,B; IT C,D; Ops E.  May: IT A,C,D; Sales B; HR F.
    assert got == [("mar", "IT", 2), ("mar", "Ops", 1), ("mar", "Sales", 2),
                   ("may", "HR", 1), ("may", "IT", 3), ("may", "Sales", 1)]


def test_snapshot_undo_restores_the_previous_state(db, tmp_path):
    _load_three(db, tmp_path)
    with pytest.raises(TwowayError, match="later roster snapshot"):
        undo_import(db, 2)
    undo_import(db, 3)
    assert _rows(db) == [
        ("A", None, D(2025, 4, 1), "Sales", "L1"), ("A", D(2025, 4, 1), None, "IT", "L1"),
        ("B", None, D(2025, 4, 1), "Sales", "L2"), ("B", D(2025, 4, 1), None, "Sales", "L3"),
        ("C", None, None, "IT", "L1"), ("D", None, None, "IT", "L2"),
        ("E", None, D(2025, 4, 1), "Ops", "L1"), ("F", D(2025, 3, 15), None, "HR", "L1")]
    assert db.query("SELECT termination_date FROM employees WHERE employee_id = 'C'").scalar() is None
    undo_import(db, 2)
    assert _rows(db) == [(k, None, None, d, lv) for k, d, lv in
                         [("A", "Sales", "L1"), ("B", "Sales", "L2"), ("C", "IT", "L1"), ("D", "IT", "L2"),
                          ("E", "Ops", "L1")]]
    assert db.query("SELECT department FROM employees WHERE employee_id = 'A'").scalar() == "Sales"
    # and it loads again the same way
    import_file(db, tmp_path / "apr.csv", as_of="2025-04-01")
    import_file(db, tmp_path / "jul.csv")
    assert _rows(db) == HISTORY


def test_existing_ids_without_a_date_are_still_refused(db, tmp_path):
    import_file(db, _write(tmp_path, "jan.csv", JAN))
    before = snapshot(db)
    with pytest.raises(TwowayError, match=r"'A' already exists .*--as-of DATE"):
        import_file(db, _write(tmp_path, "again.csv", APR))
    assert snapshot(db) == before


def test_more_than_40_percent_leavers_needs_force(db, tmp_path):
    import_file(db, _write(tmp_path, "jan.csv", JAN))
    part = _write(tmp_path, "part.csv", HEAD + "\nA,Sales,L1,Lisbon,1990,2019-01-01,\nB,Sales,L2,Lisbon,1985,,\n")
    before = snapshot(db)
    with pytest.raises(TwowayError, match=r"would end 3 of 5 current employees \(60%\)") as info:
        import_file(db, part, as_of="2025-02-01")
    assert info.value.report["needs_force"] is True
    assert snapshot(db) == before
    rep = import_file(db, part, as_of="2025-02-01", force=True)
    assert rep["left"] == {"count": 3, "examples": ["C", "D", "E"]}
    assert set(_on(db, "2025-02-01")) == {"A", "B"}


def test_two_of_five_leavers_pass_without_force(db, tmp_path):
    import_file(db, _write(tmp_path, "jan.csv", JAN))
    three = HEAD + "\nA,Sales,L1,,,,\nB,Sales,L2,,,,\nC,IT,L1,,,,B\n"  # 2 / 5 = 40 %: not more than 40 %
    rep = import_file(db, _write(tmp_path, "three.csv", three), as_of="2025-02-01")
    assert rep["left"]["count"] == 2


@pytest.mark.parametrize("extra,match", [
    (dict(as_of="2024-12-31"), None),  # first roster: any date is fine
])
def test_first_roster_with_a_date(db, tmp_path, extra, match):
    rep = import_file(db, _write(tmp_path, "jan.csv", JAN), **extra)
    assert rep["added"]["count"] == 5
    assert set(_on(db, "2000-01-01")) == {"A", "B", "C", "D", "E"}  # the first roster holds since the start


@pytest.mark.parametrize("text,kw,match", [
    (APR, {"as_of": "2025-13-01"}, "not a date"),
    (HEAD + ",effective_date\nA,IT,L1,,,,,2025-04-01\nB,IT,L1,,,,,2025-05-01\n", {},
     r"row 3, column H 'effective_date': differs from 2025-04-01 in row 2"),
    (HEAD + ",termination_date\nA,IT,L1,,,,,2025-09-01\n", {"as_of": "2025-04-01"},
     r"row 2, column H 'termination_date': after the snapshot date"),
    (HEAD + ",email\nA,IT,L1,,,,,a@x.org\nB,IT,L1,,,,,A@X.org\n", {"as_of": "2025-04-01"},
     r"row 2, 3, column H 'email': the same e-mail address is given for more than one row"),
    (HEAD + ",email\nA,IT,L1,,,,,not-an-address\n", {"as_of": "2025-04-01"},
     r"row 2, column H 'email': not an e-mail address"),
])
def test_bad_snapshots(db, tmp_path, text, kw, match):
    import_file(db, _write(tmp_path, "jan.csv", JAN))
    import_file(db, _write(tmp_path, "feb.csv", JAN.replace("Ops", "Ops2")), as_of="2025-02-01")
    before = snapshot(db)
    with pytest.raises(TwowayError, match=match) as info:
        import_file(db, _write(tmp_path, "bad.csv", text), **kw)
    assert snapshot(db) == before
    assert "@" not in str(info.value)  # addresses are never echoed


def test_snapshot_dated_before_the_history_is_refused(db, tmp_path):
    _load_three(db, tmp_path)
    with pytest.raises(TwowayError, match="already runs to 2025-07-01"):
        import_file(db, _write(tmp_path, "old.csv", APR + "G,HR,L1,,,,\n"), as_of="2025-05-01")


def test_cli_reports_snapshot_counts(tmp_path):
    dbp = tmp_path / "c.duckdb"
    runner = CliRunner()
    res = runner.invoke(cli, ["import", str(_write(tmp_path, "jan.csv", JAN)), "--db", str(dbp), "--json"])
    assert res.exit_code == 0, res.output
    part = _write(tmp_path, "part.csv", HEAD + "\nA,Sales,L1,Lisbon,1990,2019-01-01,\nF,HR,L1,,,2025-01-10,\n")
    res = runner.invoke(cli, ["import", str(part), "--db", str(dbp), "--as-of", "2025-02-01", "--json"])
    assert res.exit_code == 1
    assert "would end 4 of 5 current employees" in res.stderr
    res = runner.invoke(cli, ["import", str(part), "--db", str(dbp), "--as-of", "2025-02-01", "--force", "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert (rep["added"], rep["left"]["count"], rep["changed"]["count"], rep["rehired"]["count"]) == (
        {"count": 1, "examples": ["F"]}, 4, 0, 0)
    with Database(dbp) as d:
        assert set(roster.roster_at(d, "2025-02-01")["employee_id"]) == {"A", "F"}


def test_month_roster_and_the_join_fragment(db, tmp_path):
    _load_three(db, tmp_path)
    db.execute("INSERT INTO metrics VALUES ('A', '2025-03', 't', 1, NULL), ('A', '2025-05', 't', 1, NULL)")
    got = db.query(f"WITH {roster.MONTH_ROSTER_CTE} SELECT period, department, count(*) FROM month_roster "
                   "GROUP BY ALL ORDER BY ALL").rows
    # 1 March: Sales A,B; IT C,D; Ops E.  1 May: IT A,C,D; Sales B; HR F (by hand from HISTORY)
    assert got == [("2025-03", "IT", 2), ("2025-03", "Ops", 1), ("2025-03", "Sales", 2),
                   ("2025-05", "HR", 1), ("2025-05", "IT", 3), ("2025-05", "Sales", 1)]
    cond = roster.EMPLOYED_ON_SQL.format(h="h", day="CAST(m.period || '-01' AS DATE)")
    rows = db.query(f"SELECT m.period, h.department FROM metrics m JOIN employee_history h "
                    f"ON h.employee_id = m.employee_id AND {cond} ORDER BY 1").rows
    assert rows == [("2025-03", "Sales"), ("2025-05", "IT")]  # A's metric counts where A was that month


def test_cli_text_output_names_the_counts(tmp_path):
    dbp = str(tmp_path / "t.duckdb")
    runner = CliRunner()
    runner.invoke(cli, ["import", str(_write(tmp_path, "jan.csv", JAN)), "--db", dbp])
    res = runner.invoke(cli, ["import", str(_write(tmp_path, "apr.csv", APR)), "--db", dbp, "--as-of", "2025-04-01"])
    assert res.exit_code == 0, res.output
    assert "snapshot 2025-04-01: added 1, changed 2, left 1, rehired 0" in res.stdout


def test_a_pinned_link_sees_the_roster_as_it_was_after_its_import(db, tmp_path):
    from analytics.store.pinning import pinned

    _load_three(db, tmp_path)
    with pinned(db, 1):  # only the January roster: nobody has left, A is still in Sales
        assert _on(db, "2025-08-01") == {"A": ("Sales", "L1"), "B": ("Sales", "L2"), "C": ("IT", "L1"),
                                         "D": ("IT", "L2"), "E": ("Ops", "L1")}


@pytest.mark.parametrize("text,kw,match", [
    # a first roster: hired in May, left in January
    (HEAD + ",termination_date\nA,IT,L1,,,2024-05-01,,2024-01-01\nB,IT,L1,,,,,\n", {},
     r"row 2, column H 'termination_date': before this person's hire_date"),
    # a dated snapshot: a new person without a hire_date starts on the snapshot date, after they left
    (APR + "G,HR,L1,,,,\n", None, None),
])
def test_a_spell_that_ends_before_it_starts_is_refused(db, tmp_path, text, kw, match):
    """A termination date before the person's start wrote a history row ending before it began
    (employed on no day, yet counted as added). It is an error naming the row and column."""
    if kw is None:  # the snapshot case
        import_file(db, _write(tmp_path, "jan.csv", JAN))
        text = HEAD + ",termination_date\n" + "\n".join(line + "," for line in APR.splitlines()[1:]) \
            + "\nG,HR,L1,,,,,2025-03-10\nH,HR,L1,,,2025-02-01,,2025-01-20\n"
        kw = {"as_of": "2025-04-01"}
        match = (r"row 7, column H 'termination_date': before this new person's start on the snapshot date "
                 r"2025-04-01 \(give their hire_date\)")
    before = snapshot(db)
    with pytest.raises(ImportFailed) as info:
        import_file(db, _write(tmp_path, "bad.csv", text), **kw)
    assert snapshot(db) == before
    errors = info.value.report["errors"]
    assert any(re.search(match, e) for e in errors), errors
    if kw:
        assert any("row 8, column H 'termination_date': before this person's hire_date" in e for e in errors), errors


def test_new_people_with_a_termination_date_are_counted_as_left(db, tmp_path):
    """A first roster listing a former employee (termination date given) reported left 0; the
    person is added and leaves on that date, so both counts name them. The 40 % check still
    counts only current employees a snapshot ends."""
    rep = import_file(db, _write(tmp_path, "jan.csv", HEAD + ",termination_date\nA,IT,L1,,,2019-01-01,,\n"
                                                       "B,IT,L1,,,2019-01-01,,2024-06-01\n"))
    assert rep["added"] == {"count": 2, "examples": ["A", "B"]} and rep["left"] == {"count": 1, "examples": ["B"]}
    assert set(_on(db, "2024-05-31")) == {"A", "B"} and set(_on(db, "2024-06-01")) == {"A"}
    # a snapshot with one current employee (A) and three new people who already left: 0 of 1 ended
    rep = import_file(db, _write(tmp_path, "feb.csv", HEAD + ",termination_date\nA,IT,L1,,,2019-01-01,,\n"
                                                       "C,IT,L1,,,2024-07-01,,2024-09-01\n"
                                                       "D,IT,L1,,,2024-07-01,,2024-09-01\n"
                                                       "E,IT,L1,,,2024-07-01,,2024-09-01\n"), as_of="2025-02-01")
    assert rep["left"]["count"] == 3 and "needs_force" not in rep
