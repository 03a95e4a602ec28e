"""Who counts at each wave and month (issue #10, "Who counts"): the dashboard's survey and metric
figures use each person's attributes at that wave or month, and only people employed then.

A small roster is imported as two snapshots with a transfer and a leaver between two waves.
Every expected figure below is worked out by hand from the files and answers in this module,
never read back from the code.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import views
from analytics.filters import Filters
from analytics.importing import import_file
from analytics.store import roster
from analytics.store.released import released

K = 2
HEAD = "employee_id,department,level,location,birth_year,hire_date,manager_id"
# January: Sales S1 S2 S3 X; IT I1 I2 L; Ops O1 O2 (one level, location and generation throughout,
# nobody in the programme, so each department at each wave is one reporting group).
PEOPLE = {"S1": "Sales", "S2": "Sales", "S3": "Sales", "X": "Sales", "I1": "IT", "I2": "IT", "L": "IT",
          "O1": "Ops", "O2": "Ops"}
JAN = HEAD + "\n" + "".join(f"{e},{d},L1,Lisbon,1990,2015-01-01,\n" for e, d in PEOPLE.items())
# 1 April: X moves Sales -> IT, O1 and O2 move Ops -> Sales, L is missing (leaves on 1 April).
APR_PEOPLE = {**PEOPLE, "X": "IT", "O1": "Sales", "O2": "Sales"}
del APR_PEOPLE["L"]
APR = HEAD + "\n" + "".join(f"{e},{d},L1,Lisbon,1990,2015-01-01,\n" for e, d in APR_PEOPLE.items())

# One engagement item (1-5). March wave (before the snapshot) and May wave (after it).
MAR = {"S1": 1, "S2": 2, "S3": 3, "X": 5, "I1": 4, "I2": 4, "L": 1, "O1": 2, "O2": 4}
MAY = {"S1": 2, "S2": 2, "S3": 2, "X": 5, "I1": 3, "I2": 3, "L": 5, "O1": 4, "O2": 4}  # L has left: not counted
# One metric in March and May (the month's first day decides where a person counts).
TASKS_MAR = {"S1": 2, "S2": 4, "S3": 6, "X": 10, "I1": 1, "I2": 3, "L": 5, "O1": 7, "O2": 9}
TASKS_MAY = {"S1": 2, "S2": 4, "S3": 6, "X": 20, "I1": 1, "I2": 3, "L": 100, "O1": 7, "O2": 9}


@pytest.fixture
def org(db, tmp_path):
    (tmp_path / "jan.csv").write_text(JAN)
    (tmp_path / "apr.csv").write_text(APR)
    import_file(db, tmp_path / "jan.csv")
    import_file(db, tmp_path / "apr.csv", as_of="2025-04-01")
    db.execute("INSERT INTO waves (survey, title, opened, closed, invited) VALUES "
               "('mar', 'March', DATE '2025-03-02', DATE '2025-03-20', 9), "
               "('may', 'May', DATE '2025-05-02', DATE '2025-05-20', 8)")
    db.execute("INSERT INTO items (survey, item, construct, scale_min, scale_max) VALUES "
               "('mar', 'q1', 'engagement', 1, 5), ('may', 'q1', 'engagement', 1, 5)")
    rows = [(w, e, e, "q1", float(v)) for w, ans in (("mar", MAR), ("may", MAY)) for e, v in ans.items()]
    db.insert_df("responses", pd.DataFrame(rows, columns=["survey", "respondent", "employee_id", "item", "value"]))
    rows = [(e, p, "tasks", float(v)) for p, vals in (("2025-03", TASKS_MAR), ("2025-05", TASKS_MAY))
            for e, v in vals.items()]
    db.insert_df("metrics", pd.DataFrame(rows, columns=["employee_id", "period", "metric", "value"]))
    db.bump_data_version()
    return db


def _means(df: pd.DataFrame, by: str) -> dict:
    return {(r["survey"], r[by]): (int(r["n"]), pytest.approx(r["mean"])) for _, r in df.iterrows()}


def test_the_snapshots_say_who_was_where(org):
    # the premise, from the files: X in Sales in March and in IT in May; L gone by May
    mar = dict(roster.roster_at(org, "2025-03-02")[["employee_id", "department"]].itertuples(index=False))
    may = dict(roster.roster_at(org, "2025-05-02")[["employee_id", "department"]].itertuples(index=False))
    assert mar == PEOPLE and may == APR_PEOPLE


def test_construct_means_count_each_person_in_their_department_at_each_wave(org):
    heat = pd.concat([views.construct_heatmap(org, Filters(), K, "department", survey=w) for w in ("mar", "may")])
    # March: Sales S1 S2 S3 X = (1+2+3+5)/4 = 2.75; IT I1 I2 L = (4+4+1)/3 = 3; Ops O1 O2 = (2+4)/2 = 3.
    # May: Sales S1 S2 S3 O1 O2 = (2+2+2+4+4)/5 = 2.8; IT I1 I2 X = (3+3+5)/3 = 11/3; L has left.
    assert _means(heat, "department") == {
        ("mar", "Sales"): (4, 2.75), ("mar", "IT"): (3, 3.0), ("mar", "Ops"): (2, 3.0),
        ("may", "Sales"): (5, 2.8), ("may", "IT"): (3, 11 / 3)}


def test_a_department_filter_selects_who_was_there_at_each_wave(org):
    it = views.construct_trends(org, Filters(department=("IT",)), K, constructs=("engagement",))
    assert _means(it.assign(department="IT"), "department") == {("mar", "IT"): (3, 3.0), ("may", "IT"): (3, 11 / 3)}
    # Ops no longer exists in May, yet its March figure stays reachable: the filter lists past labels
    assert "Ops" in views.filter_options(org, K).values["department"]
    ops = views.construct_trends(org, Filters(department=("Ops",)), K, constructs=("engagement",))
    assert ops[["survey", "n", "mean"]].values.tolist() == [["mar", 2, 3.0]]


def test_response_rates_use_the_headcount_at_each_wave(org):
    rates = views.response_rates(org, Filters(department=("Sales",)), K).set_index("survey")
    # March: 4 of the 4 people then in Sales answered; May: 5 of 5 (S1 S2 S3 O1 O2)
    assert rates.loc["mar", ["headcount", "respondents"]].tolist() == [4, 4]
    assert rates.loc["may", ["headcount", "respondents"]].tolist() == [5, 5]
    everyone = views.response_rates(org, Filters(), K).set_index("survey")
    # L's May answer does not count: L left on 1 April (8 employed then, 8 respondents)
    assert everyone.loc["may", ["headcount", "respondents"]].tolist() == [8, 8]
    assert everyone.loc["mar", ["headcount", "respondents"]].tolist() == [9, 9]


def test_metric_figures_use_the_department_in_each_month(org):
    sales = views.productivity(org, Filters(department=("Sales",)), K)["by_period"].set_index("period")
    # 2025-03: S1 S2 S3 X = (2+4+6+10)/4 = 5.5; 2025-05: S1 S2 S3 O1 O2 = (2+4+6+7+9)/5 = 5.6
    assert sales.loc["2025-03", ["n", "mean"]].tolist() == [4, pytest.approx(5.5)]
    assert sales.loc["2025-05", ["n", "mean"]].tolist() == [5, pytest.approx(5.6)]
    it = views.productivity(org, Filters(department=("IT",)), K)["by_period"].set_index("period")
    # 2025-05: I1 I2 X = (1+3+20)/3 = 8; L's 100 does not count (left on 1 April)
    assert it.loc["2025-05", ["n", "mean"]].tolist() == [3, pytest.approx(8.0)]
    assert it.loc["2025-03", ["n", "mean"]].tolist() == [3, pytest.approx(3.0)]  # I1 I2 L = (1+3+5)/3


def test_the_released_wave_roster_is_whole_groups_of_each_wave(org):
    with released(org, K):
        got = org.query("SELECT survey, department, count(*) FROM wave_roster GROUP BY ALL ORDER BY ALL").rows
        cols = set(org.query_df("SELECT * FROM wave_roster LIMIT 0").columns)
    assert got == [("mar", "IT", 3), ("mar", "Ops", 2), ("mar", "Sales", 4), ("may", "IT", 3), ("may", "Sales", 5)]
    assert not cols & {"birth_year", "email"}


def test_a_group_too_small_at_one_wave_is_merged_at_that_wave_only(org):
    # k = 3: Ops (2 people) is too small in March, so its people read as "Other" then (merged with
    # nobody, hence withheld: their answers are not released); in May O1 and O2 are in Sales.
    heat = pd.concat([views.construct_heatmap(org, Filters(), 3, "department", survey=w) for w in ("mar", "may")])
    assert _means(heat, "department") == {
        ("mar", "Sales"): (4, 2.75), ("mar", "IT"): (3, 3.0),
        ("may", "Sales"): (5, 2.8), ("may", "IT"): (3, 11 / 3)}


def test_before_after_counts_each_month_in_the_group_it_was_in(org):
    # No pairs, so every month is "after" and everyone is "everyone else". The unit is a value (a
    # person-month) in the group the person was in that month. Sales: March S1 2, S2 4, S3 6, X 10;
    # May S1 2, S2 4, S3 6, O1 7, O2 9: n 9, sum 50.
    sales = views.productivity(org, Filters(department=("Sales",)), K)["before_after"]
    assert sales[["phase", "n"]].values.tolist() == [["after", 9]]
    assert sales["mean"].iloc[0] == pytest.approx(50 / 9)
    # everyone: March 2+4+6+10+1+3+5+7+9 = 47 (9 values); May without L (left in April):
    # 2+4+6+20+1+3+7+9 = 52 (8 values): n 17, sum 99
    total = views.productivity(org, Filters(), K)["before_after"]
    assert total["n"].tolist() == [17] and total["mean"].iloc[0] == pytest.approx(99 / 17)


def test_the_claims_panel_follows_each_person_from_the_department_they_were_in_at_baseline(org):
    """The engine's person × wave panel for `claims --where department=…`: a person is selected
    by their attributes at their first wave (a transfer after it, perhaps caused by the
    programme, neither moves them into another sample nor cuts their follow-up), and only
    answers given while employed count."""
    import numpy as np

    from analytics.claims.panel import build_panel

    def panel_for(dept):
        with released(org, K):
            p = build_panel(org, Filters(department=(dept,)))
        return p, p.roster["employee_id"].tolist(), {s: j for j, s in enumerate(p.waves["survey"])}

    it, ids, t = panel_for("IT")
    # in March (everyone's first wave) IT was I1 I2 L; X was in Sales
    assert sorted(it.roster.loc[it.roster["selected"], "employee_id"]) == ["I1", "I2", "L"]
    assert set(it.roster.loc[it.roster["selected"], "department"]) == {"IT"}
    eng = it.scores["engagement"]
    answered = {s: sorted(ids[i] for i in np.flatnonzero(np.isfinite(eng[:, j]))) for s, j in t.items()}
    # L answered in May too, but had left on 1 April: that answer is not there
    assert answered["may"] == ["I1", "I2", "O1", "O2", "S1", "S2", "S3", "X"]
    assert [eng[ids.index(e), t["mar"]] for e in ("I1", "I2", "L")] == [4.0, 4.0, 1.0]  # MAR
    assert [eng[ids.index(e), t["may"]] for e in ("I1", "I2")] == [3.0, 3.0]  # MAY
    sales, ids, t = panel_for("Sales")
    # S1 S2 S3 X were in Sales in March; O1 O2 joined Sales in April (their baseline is Ops)
    assert sorted(sales.roster.loc[sales.roster["selected"], "employee_id"]) == ["S1", "S2", "S3", "X"]
    x = ids.index("X")
    assert sales.scores["engagement"][x, t["may"]] == 5.0  # X's May answer is X's follow-up
    ops, _, _ = panel_for("Ops")
    assert sorted(ops.roster.loc[ops.roster["selected"], "employee_id"]) == ["O1", "O2"]


def test_the_headcount_is_the_roster_on_the_data_date(org):
    # the data date is the May wave's close (20 May): L has left, X is in IT, O1 and O2 in Sales
    assert views.headline(org, Filters(), K)["employees"] == 8
    assert views.headline(org, Filters(department=("Sales",)), K)["employees"] == 5  # S1 S2 S3 O1 O2
    assert views.headline(org, Filters(department=("IT",)), K)["employees"] == 3  # I1 I2 X
    # Ops exists only in March: nobody is there now, yet the view is not refused as empty
    assert views.headline(org, Filters(department=("Ops",)), K)["employees"] == 0
    assert views.check_selection(org, Filters(department=("Ops",)), K).ok


def test_a_late_value_for_a_new_hire_moves_a_pinned_figure_by_whole_cells(org, tmp_path):
    """Pinned links around a late import: N joins Sales in June; June's values of S1 and S2 come in
    one import (A), N's in a later one (B). At version A the June Sales cell is withheld (a later
    change of 1 contributor, under K = 2); at the latest it holds S1, S2 and N. The figure must
    differ by that whole cell: with people as units it would differ by one person, N, whose value
    the mean difference then gives away."""
    (tmp_path / "jun.csv").write_text(APR + "N,Sales,L1,Lisbon,1990,2025-06-01,\n")
    import_file(org, tmp_path / "jun.csv", as_of="2025-06-01")
    (tmp_path / "a.csv").write_text("employee_id,period,metric,value\nS1,2025-06,tasks,3\nS2,2025-06,tasks,5\n")
    (tmp_path / "b.csv").write_text("employee_id,period,metric,value\nN,2025-06,tasks,40\n")
    a = import_file(org, tmp_path / "a.csv", kind="metrics")["import_id"]
    import_file(org, tmp_path / "b.csv", kind="metrics")
    sales = Filters(department=("Sales",))
    old = views.productivity(org, Filters(department=("Sales",), as_of=a), K)["before_after"]
    new = views.productivity(org, sales, K)["before_after"]
    # by hand: at A the Sales values are March 2, 4, 6, 10 and May 2, 4, 6, 7, 9 (n 9, sum 50); at the
    # latest June adds 3, 5, 40 (n 12, sum 98): the difference is the whole June cell of three people
    assert old[["n"]].values.tolist() == [[9]] and old["mean"].iloc[0] == pytest.approx(50 / 9)
    assert new[["n"]].values.tolist() == [[12]] and new["mean"].iloc[0] == pytest.approx(98 / 12)
    assert new["n"].iloc[0] - old["n"].iloc[0] >= K


# -- the scorecard before and after a transfer (issue #10, "Round trip") -------------------------------
# Sales S1…S8, X1, X2 and IT I1…I8 in January (one level, location and generation); pairs in
# both departments start on 1 April (mentor → mentee: S1→S2, S3→S4, S5→S6, I1→I2, I3→I4,
# I5→I6); X1 and X2 move Sales → IT on 1 August. Waves in March, June and September, one
# agility item. Mentees' and the comparison colleagues' answers are set by hand below.
PROG = {**{f"S{i}": "Sales" for i in range(1, 9)}, "X1": "Sales", "X2": "Sales",
        **{f"I{i}": "IT" for i in range(1, 9)}}
PROG_AUG = {**PROG, "X1": "IT", "X2": "IT"}
AGILITY = {"S2": [2, 3, 4], "S4": [3, 4, 4], "S6": [2, 3, 4],           # Sales mentees
           "S7": [3, 3, 3], "S8": [3, 4, 3], "X1": [3, 3, 5], "X2": [2, 2, 5],  # Sales at baseline, outside
           "S1": [4, 2, 3], "S3": [1, 5, 2], "S5": [3, 3, 4],           # Sales mentors
           "I1": [2, 4, 4], "I2": [5, 1, 3], "I3": [3, 3, 3], "I4": [4, 2, 5], "I5": [1, 4, 2], "I6": [2, 2, 4],
           "I7": [3, 5, 1], "I8": [4, 4, 4]}


@pytest.fixture
def programme(db, tmp_path):
    (tmp_path / "jan.csv").write_text(HEAD + "\n" + "".join(
        f"{e},{d},L1,Lisbon,1990,2015-01-01,\n" for e, d in PROG.items()))
    import_file(db, tmp_path / "jan.csv")
    db.insert_df("pairs", pd.DataFrame({
        "pair_id": [f"P{i}" for i in range(6)], "mentor_id": ["S1", "S3", "S5", "I1", "I3", "I5"],
        "mentee_id": ["S2", "S4", "S6", "I2", "I4", "I6"], "cohort": "A", "start_date": pd.Timestamp("2025-04-01")}))
    for s, day in (("mar", "2025-03-02"), ("jun", "2025-06-02"), ("sep", "2025-09-02")):
        db.execute("INSERT INTO waves (survey, title, opened, closed) VALUES (?, ?, ?::DATE, ?::DATE + 10)",
                   [s, s, day, day])
        db.execute("INSERT INTO items (survey, item, construct, scale_min, scale_max) "
                   "VALUES (?, 'q1', 'agility', 1, 5)", [s])
    rows = [(s, f"{e}-{s}", e, "q1", float(v[j])) for e, v in AGILITY.items()
            for j, s in enumerate(("mar", "jun", "sep"))]
    db.insert_df("responses", pd.DataFrame(rows, columns=["survey", "respondent", "employee_id", "item", "value"]))
    db.bump_data_version()
    (tmp_path / "aug.csv").write_text(HEAD + "\n" + "".join(
        f"{e},{d},L1,Lisbon,1990,2015-01-01,\n" for e, d in PROG_AUG.items()))
    return db, tmp_path / "aug.csv"


def test_a_scorecard_before_and_after_the_transfer_counts_each_person_where_they_were_at_baseline(programme):
    """The claim follows each person from the department they were in at their baseline wave
    (March), at every later wave, wherever they moved: X1 and X2 are Sales comparison colleagues
    before and after their move, their September answers (given in IT) included, and never in
    IT's sample; the survey figures count those answers in IT. See docs/CLAIMS.md ("Who is in a
    filtered claim") for why the claim does not mask each wave by the department then."""
    from analytics.claims import scorecard
    from analytics.claims.population import SELECTION_NOTE

    db, august = programme

    def card(dept):
        f = Filters(department=(dept,), method="unweighted") if dept else Filters(method="unweighted")
        row = scorecard(db, f, min_group=K).set_index("id").loc["agility"]
        return row, {e["role"]: e for e in row["by_role"]}

    before = {d: card(d) for d in ("Sales", "IT")}
    import_file(db, august, as_of="2025-08-01")
    after = {d: card(d) for d in ("Sales", "IT")}
    for dept, (n_treated, n_comparison) in {"Sales": (3, 4), "IT": (3, 2)}.items():
        # Sales: mentees S2 S4 S6 against S7 S8 X1 X2; IT: I2 I4 I6 against I7 I8 (X1, X2 not: baseline Sales)
        for when in (before, after):
            row, roles = when[dept]
            assert (roles["mentees"]["n_treated"], roles["mentees"]["n_comparison"]) == (n_treated, n_comparison)
            assert SELECTION_NOTE in row["notes"]
    # hand: changes from March, mentees S2 S4 S6: June +1 +1 +1 (mean 1), September +2 +1 +2 (5/3);
    # comparison S7 S8 X1 X2: June 0 +1 0 0 (1/4), September 0 0 +2 +3 (5/4, X1's and X2's answers
    # given in IT). ATT = mean over June and September of (1 − 1/4) and (5/3 − 5/4) = 7/12. Masking
    # September by the department then would drop X1 and X2 there: (3/4 + 5/3) / 2 = 29/24.
    assert after["Sales"][1]["mentees"]["estimate"] == pytest.approx(7 / 12)
    assert before["Sales"][1]["mentees"]["estimate"] == pytest.approx(7 / 12)
    unfiltered, _ = card(None)
    assert SELECTION_NOTE not in unfiltered["notes"]
    # the survey figures: September's Sales is S1…S8 (8), IT is I1…I8 with X1 and X2 (10)
    trends = {d: views.construct_trends(db, Filters(department=(d,)), K, constructs=("agility",)).set_index("survey")
              for d in ("Sales", "IT")}
    assert trends["Sales"].loc["sep", "n"] == 8 and trends["IT"].loc["sep", "n"] == 10
    assert trends["Sales"].loc["mar", "n"] == 10 and trends["IT"].loc["mar", "n"] == 8
