"""Released data (analytics.store.released): the SQL against the pandas rule, pins, the catalog."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from analytics import views
from analytics.filters import Filters
from analytics.store import Database
from analytics.store.released import active, released
from tests.fixtures import add_employees
from tests.released_reference import blocks as release_blocks
from tests.released_reference import release


@pytest.fixture(scope="module")
def raw(demo_path):
    with duckdb.connect(str(demo_path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df()
                for t in ("employees", "employee_history", "pairs", "sessions", "waves", "items", "responses", "metrics")}


@pytest.mark.parametrize("k", [3, 5, 12])
def test_released_tables_match_the_rule_written_in_pandas(demo_path, raw, k):
    expected = release(raw, k)
    with Database(demo_path, read_only=True) as db, released(db, k):
        for table in ("employees", "responses", "metrics", "pairs", "sessions"):
            assert db.query(f"SELECT count(*) FROM {table}").scalar() == len(expected[table]), table
        got = db.query_df("SELECT employee_id, department, location, generation, level FROM employees ORDER BY 1")
        sizes = db.query_df("SELECT block_id, count(*) AS n FROM employees GROUP BY 1")
    want = (expected["employees"][["employee_id", "department", "location", "generation", "level"]]
            .sort_values("employee_id").reset_index(drop=True))
    pd.testing.assert_frame_equal(got.fillna("-"), want.fillna("-"), check_dtype=False)
    assert (sizes["n"] >= k).all()
    # who counts at each wave and month, with the labels of their group then
    cols = ["employee_id", "department", "location", "generation", "level"]
    for rel, col in (("wave_roster", "survey"), ("month_roster", "period"), ("roster_now", "period")):
        with Database(demo_path, read_only=True) as db, released(db, k):
            got = db.query_df(f"SELECT {col}, {', '.join(cols)} FROM {rel} ORDER BY 1, 2")
            cells = db.query_df(f"SELECT block_id, count(*) AS n FROM {rel} GROUP BY 1")
        want = expected[rel][[col, *cols]].sort_values([col, "employee_id"]).reset_index(drop=True)
        assert len(got) > 0
        pd.testing.assert_frame_equal(got.fillna("-"), want.fillna("-"), check_dtype=False)
        assert (cells["n"] >= k).all()


def test_every_released_cell_has_k_people_or_none(demo_path):
    with Database(demo_path, read_only=True) as db, released(db, 5):
        cells = db.query_df("""
            SELECT e.block_id, r.survey, i.construct, count(DISTINCT r.employee_id) AS n
            FROM responses r JOIN items i USING (survey, item) JOIN employees e USING (employee_id)
            WHERE i.construct <> 'leadership' GROUP BY ALL""")
        metric_cells = db.query_df("""SELECT e.block_id, m.period, m.metric, count(DISTINCT m.employee_id) AS n
                                      FROM metrics m JOIN employees e USING (employee_id) GROUP BY ALL""")
    assert len(cells) and (cells["n"] >= 5).all()
    assert len(metric_cells) and (metric_cells["n"] >= 5).all()


def _tiny_store(db: Database) -> None:
    """Six Sales associates (import 1); five have a metric value in January (import 2), the sixth
    gets one later (import 3)."""
    for i in (1, 2, 3):
        db.execute("INSERT INTO imports VALUES (?, 'f.csv', 'x', 'metrics', 1, ?, 'ok', NULL)",
                   [i, dt.datetime(2025, 1, i)])
    add_employees(db, [{"employee_id": f"E{i}", "department": "Sales", "level": "Associate", "import_id": 1}
                       for i in range(6)])
    db.insert_df("metrics", pd.DataFrame({"employee_id": [f"E{i}" for i in range(6)], "period": "2025-01",
                                          "metric": "tasks", "value": [1.0, 2.0, 3.0, 4.0, 5.0, 60.0],
                                          "import_id": [2, 2, 2, 2, 2, 3]}))
    db.bump_data_version()


def test_a_pinned_version_differing_by_fewer_than_k_people_is_withheld(db):
    # Worked by hand, k = 5: at import 2 the cell (Sales associates, 2025-01, tasks) has 5 people
    # (mean 3); import 3 adds the sixth (mean 75/6 = 12.5). Showing both would give
    # 6·12.5 − 5·3 = 60, the sixth person's value, so the pinned view leaves the cell out.
    _tiny_store(db)
    latest = views.productivity(db, Filters(), 5)["by_period"]
    assert latest["n"].tolist() == [6] and latest["mean"].tolist() == pytest.approx([12.5])
    assert views.productivity(db, Filters(as_of=2), 5)["by_period"].empty
    # with k = 2 one newcomer is still fewer than 2: the cell is withheld at import 2 as well
    assert views.productivity(db, Filters(as_of=2), 2)["by_period"].empty
    assert views.productivity(db, Filters(as_of=1), 5)["by_period"].empty  # no values yet at import 1


def test_released_data_on_a_read_only_store_writes_nothing_to_the_file(demo_path):
    with Database(demo_path, read_only=True) as db:
        with released(db, 5):
            assert active(db)
            with released(db, 5, as_of=1):  # re-entrant
                assert db.query("SELECT count(*) FROM employees").scalar() > 0
            assert "block_id" in db.query_df("SELECT * FROM employees LIMIT 1").columns
        assert not active(db)
        assert "block_id" not in db.query_df("SELECT * FROM employees LIMIT 1").columns  # the raw table again
    with duckdb.connect(str(demo_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()[0] == 0


def test_a_person_whose_pair_partner_is_withheld_is_withheld_too(db):
    """k = 2. Mentors M1, M2, P and mentees E1, E2, E3 all have pairs in cohort A (same
    department and wave, so one mentor group and one mentee group of three). Q is P's mentee and
    E3's mentor: alone in the role "both", withheld. Without the partner rule the pairs P–Q and
    Q–E3 could not be released, so a "cohort A" filter (which reads released pairs) would take
    M1 and M2 but not P from the mentors' group: a view differing from its group by one person.
    With it, P and E3 are withheld too, and the groups left (M1 M2; E1 E2) are whole (worked by
    hand; the pandas restatement must agree)."""
    people = ["M1", "M2", "P", "E1", "E2", "E3", "Q", "N1", "N2"]
    add_employees(db, [{"employee_id": e, "department": "Sales", "level": "L1", "location": "Lisbon",
                        "generation": "Gen X"} for e in people])
    db.insert_df("pairs", pd.DataFrame({
        "pair_id": ["A1", "A2", "A3", "A4"], "mentor_id": ["M1", "M2", "P", "Q"],
        "mentee_id": ["E1", "E2", "Q", "E3"], "cohort": "A",
        "start_date": pd.to_datetime(["2025-01-10"] * 4), "end_date": [None] * 4}))
    db.bump_data_version()
    with released(db, 2):
        kept = [r[0] for r in db.query("SELECT employee_id FROM employees ORDER BY 1").rows]
        pairs = [r[0] for r in db.query("SELECT pair_id FROM pairs ORDER BY 1").rows]
    assert kept == ["E1", "E2", "M1", "M2", "N1", "N2"]
    assert pairs == ["A1", "A2"]
    assert views.headline(db, Filters(cohort=("A",)), 2)["participants"] == 4  # M1 M2 E1 E2
    raw = {t: db.query_df(f"SELECT * FROM {t}") for t in ("employees", "pairs", "waves", "items", "responses")}
    b = release_blocks(raw, 2)
    assert sorted(b.loc[b["withheld"], "employee_id"]) == ["E3", "P", "Q"]


def test_a_group_still_small_after_every_merge_joins_its_cohorts_smallest_group(db):
    """k = 3. Mentors M1-M3 (Sales, L1) and M4 (Sales, L2, say promoted after the start) have
    pairs in cohort A with mentees E1-E4 (one group of four). M4's group stays at one person after
    location, generation, level and department read "Other". It used to be withheld, and with it
    its partner E4, which selected the promotion claim's sample on the outcome (docs/CLAIMS.md).
    Now the smallest other mentors' group of the same cohort and wave (M1-M3) reads "Other" in all
    four too and takes it in: one group of four mentors, nobody withheld, every pair released
    (worked by hand; the pandas restatement must agree)."""
    rows = ([{"employee_id": f"M{i}", "level": "L1"} for i in (1, 2, 3)] + [{"employee_id": "M4", "level": "L2"}]
            + [{"employee_id": f"E{i}", "level": "L3"} for i in (1, 2, 3, 4)]
            + [{"employee_id": f"N{i}", "level": "L1"} for i in (1, 2, 3)])
    add_employees(db, [{**r, "department": "Sales", "location": "Lisbon", "generation": "Gen X"} for r in rows])
    db.insert_df("pairs", pd.DataFrame({
        "pair_id": [f"A{i}" for i in (1, 2, 3, 4)], "mentor_id": [f"M{i}" for i in (1, 2, 3, 4)],
        "mentee_id": [f"E{i}" for i in (1, 2, 3, 4)], "cohort": "A",
        "start_date": pd.to_datetime(["2025-01-10"] * 4), "end_date": [None] * 4}))
    db.bump_data_version()
    with released(db, 3):
        got = db.query_df("SELECT employee_id, department, location, generation, level, block_id FROM employees "
                          "ORDER BY 1")
        pairs = [r[0] for r in db.query("SELECT pair_id FROM pairs ORDER BY 1").rows]
    assert got["employee_id"].tolist() == [*(f"E{i}" for i in (1, 2, 3, 4)), *(f"M{i}" for i in (1, 2, 3, 4)),
                                          "N1", "N2", "N3"]
    m = got[got["employee_id"].str.startswith("M")]
    assert (m[["department", "location", "generation", "level"]] == "Other").all().all()
    assert m["block_id"].nunique() == 1
    e = got[got["employee_id"].str.startswith(("E", "N"))]
    assert (e["department"] == "Sales").all() and (e["level"] != "Other").all()  # big enough: untouched
    assert pairs == ["A1", "A2", "A3", "A4"]
    raw = {t: db.query_df(f"SELECT * FROM {t}") for t in ("employees", "pairs", "waves", "items", "responses")}
    b = release_blocks(raw, 3)
    assert not b["withheld"].any()
    assert (b.loc[b["employee_id"].str.startswith("M"), ["department", "location", "generation", "level"]]
            == "Other").all().all()


def test_a_claims_count_of_people_left_out_under_k_is_null():
    """`dropped_no_baseline` (participants without a score before their start) is a head count shown
    in every claim's diagnostics (`claims --json`, by_role); 1 to k−1 of them must read null.
    Before this change the survey claims showed it as is (only the hazard claims masked it)."""
    from analytics.claims.definitions import Role
    from analytics.claims.estimate import Diagnostics, Estimate
    from analytics.claims.scorecard import diagnostics_json

    def shown(n, k=5):
        t = Estimate("engagement", Role.MENTEES, None, True, diagnostics=Diagnostics(dropped_no_baseline=n))
        return diagnostics_json(t, k)["dropped_no_baseline"]

    # hand: 0 and anything ≥ k are shown; 1..k−1 are withheld
    assert [shown(n) for n in (0, 1, 4, 5, 12)] == [0, None, None, 5, 12]
    assert shown(2, k=2) == 2 and shown(1, k=2) is None


def test_a_claims_note_never_gives_a_count_of_people_left_out_under_k():
    """The claims' notes (scorecard ``notes``, `claims` text, board report) name the participants
    left out for want of a baseline; 1 to k−1 of them read "Fewer than k". Before this change a
    survey or within-programme claim's note gave the exact number (say "3 mentees …")."""
    from types import SimpleNamespace

    from analytics.claims.definitions import CLAIMS_BY_ID, Role
    from analytics.claims.estimate import Diagnostics, Estimate
    from analytics.claims.sentences import claim_notes

    def notes(claim_id, n, k=5):
        t = Estimate(claim_id, Role.MENTEES, None, True, diagnostics=Diagnostics(dropped_no_baseline=n))
        result = SimpleNamespace(claim=CLAIMS_BY_ID[claim_id], extra={}, tests=[t], difference=None, headline=t)
        return " ".join(claim_notes(result, SimpleNamespace(filters=Filters()), k, 0.2, 1))  # unfiltered view

    for claim_id in ("engagement", "dose_response"):  # a DiD claim and a within-programme claim
        assert "Fewer than 5" in notes(claim_id, 3) and "3 " not in notes(claim_id, 3), notes(claim_id, 3)
        assert "7 " in notes(claim_id, 7) and "Fewer than" not in notes(claim_id, 7)
        assert "left out" not in notes(claim_id, 0)
