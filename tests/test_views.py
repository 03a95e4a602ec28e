"""Page aggregates against independent pandas computations on the demo tables.

Figures are computed from released data (docs/PRIVACY.md); the expected values apply the same
written rule in plain pandas (`tests.released_reference`) to the raw tables.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import views
from analytics.filters import Filters
from analytics.report import Section, render
from analytics.safe_export import neutralise, to_csv_bytes
from analytics.store import Database
from tests.released_reference import person_scores as released_scores
from tests.released_reference import release


@pytest.fixture(scope="module")
def store(demo_path):
    db = Database(demo_path, read_only=True)
    yield db
    db.close()


@pytest.fixture(scope="module")
def raw(demo_path):
    with duckdb.connect(str(demo_path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df()
                for t in ("employees", "employee_history", "pairs", "sessions", "waves", "items", "responses", "metrics")}


@pytest.fixture(scope="module")
def rel(raw):
    return {k: release(raw, k) for k in (2, 5, 40)}


def person_scores(raw, construct):
    """Construct score per respondent and wave: mean of reverse-coded items (pandas only)."""
    items = raw["items"][raw["items"]["construct"] == construct]
    r = raw["responses"].merge(items, on=["survey", "item"]).dropna(subset=["value", "employee_id"])
    r["v"] = np.where(r["reverse"], r["scale_min"] + r["scale_max"] - r["value"], r["value"])
    return r.groupby(["survey", "employee_id"], as_index=False)["v"].mean()


def test_construct_trend_matches_a_pandas_recomputation(store, rel):
    r5 = rel[5]
    dept = r5["employees"]["department"].value_counts().index[0]
    f = Filters(department=(dept,))
    got = views.construct_trends(store, f, 5, constructs=("engagement",))
    # each person counts in the department of their group at the wave (wave_roster)
    scores = released_scores(r5, "engagement").merge(r5["wave_roster"], on=["survey", "employee_id"])
    scores = scores[scores["department"] == dept]
    assert len(got) == scores["survey"].nunique() > 0
    for survey, part in scores.groupby("survey"):
        row = got[got["survey"] == survey].iloc[0]
        assert row["n"] == len(part)
        assert row["mean"] == pytest.approx(part["v"].mean())
        # R: t.test(x)$conf.int
        half = stats.t.ppf(0.975, len(part) - 1) * part["v"].std(ddof=1) / np.sqrt(len(part))
        assert row["ci_low"] == pytest.approx(part["v"].mean() - half)


def test_heatmap_cells_are_whole_groups_of_at_least_k(store, rel):
    for k in (5, 40):
        heat = views.construct_heatmap(store, Filters(), k, "level")
        assert not heat["suppressed"].any()  # nothing to hide: every cell is built from groups of >= k
        assert (heat["n"] >= k).all() and heat["mean"].notna().all()
        survey = heat["survey"].iloc[0]
        scores = released_scores(rel[k], "belonging").merge(rel[k]["wave_roster"], on=["survey", "employee_id"])
        expected = scores[scores["survey"] == survey].groupby(scores["level"].fillna("not recorded"))["v"]
        got = heat[heat["construct"] == "belonging"].set_index("level")
        assert got["n"].to_dict() == expected.size().to_dict()
        assert got["mean"].to_numpy() == pytest.approx(expected.mean().reindex(got.index).to_numpy())
    # a higher threshold merges more: fewer distinct levels survive at 40 than at 5
    assert (views.construct_heatmap(store, Filters(), 40, "level")["level"].nunique()
            < views.construct_heatmap(store, Filters(), 5, "level")["level"].nunique())


def test_response_rates_count_respondents_of_the_selection(store, rel):
    r5 = rel[5]
    gen = "Gen Z"
    f = Filters(generation=(gen,))
    got = views.response_rates(store, f, 5)
    wr = r5["wave_roster"]
    assert len(got)
    for row in got.itertuples():
        # the selection at that wave: people employed then whose group then is Gen Z
        people = set(wr.loc[(wr["survey"] == row.survey) & (wr["generation"] == gen), "employee_id"])
        assert people
        resp = r5["responses"][(r5["responses"]["survey"] == row.survey)
                               & r5["responses"]["employee_id"].isin(people)]
        assert row.respondents == resp["respondent"].nunique()
        assert row.rate == pytest.approx(resp["respondent"].nunique() / len(people))


def test_sessions_per_month_add_up_to_the_released_sessions_of_selected_pairs(store, rel):
    f = Filters(cohort=("2025-A",))
    monthly = views.activity(store, f, 2)["monthly"]
    pairs = rel[2]["pairs"][rel[2]["pairs"]["cohort"] == "2025-A"]
    expected = rel[2]["sessions"][rel[2]["sessions"]["pair_id"].isin(pairs["pair_id"])]
    assert monthly["sessions"].sum() == len(expected) > 0


def test_inactive_pairs_are_ongoing_pairs_without_a_session_in_sixty_days(store, rel):
    r = rel[2]
    act = views.activity(store, Filters(), 2)["inactive"]
    as_of = max(r["sessions"]["date"].max(), r["waves"]["closed"].max())
    as_of = pd.Timestamp(as_of)
    last = r["sessions"].groupby("pair_id")["date"].max()
    p = r["pairs"].set_index("pair_id")
    p = p[pd.to_datetime(p["start_date"]) <= as_of]
    ongoing = p["end_date"].isna() | (pd.to_datetime(p["end_date"]) >= as_of)
    last_seen = pd.to_datetime(last.reindex(p.index)).fillna(pd.to_datetime(p["start_date"]))
    inactive = ongoing & ((as_of - last_seen).dt.days > 60)
    assert act["pairs"] == len(p) and act["ongoing"] == int(ongoing.sum()) and act["inactive"] == int(inactive.sum())


def test_a_tiny_raw_group_is_never_a_selection_of_its_own(store, raw, rel):
    e = raw["employees"]
    combo = e.groupby(["department", "level"]).size()
    tiny = combo[combo < 5]
    assert len(tiny)
    released = rel[5]["employees"]
    for dept, level in tiny.index:
        check = views.check_selection(store, Filters(department=(dept,), level=(level,)), 5)
        expected = int(((released["department"] == dept) & (released["level"] == level)).sum())
        assert check.n == expected and (check.n == 0 or check.n >= 5)
        assert check.ok == (expected >= 5)


def test_headline_participants_are_whole_groups(store, rel):
    r5 = rel[5]
    e = r5["roster_now"]  # the head count is the roster on the data date, with the labels then
    part = set(r5["pairs"]["mentor_id"]) | set(r5["pairs"]["mentee_id"])
    for loc, people in e.groupby("location"):
        out = views.headline(store, Filters(location=(loc,)), 5)
        expected = int(people["employee_id"].isin(part).sum())
        assert out["employees"] == len(people)
        assert out["participants"] == (expected if expected else 0)
        assert expected == 0 or expected >= 5


def test_headline_with_a_cohort_counts_only_that_cohorts_pairs_and_sessions(db):
    # B1 and B2 are mentored twice: by A1/A2 in cohort X and by C1/C2 in cohort Y (later). With
    # k = 2 every reporting group (mentors of X, mentors of Y, mentees of X) has two people.
    # Filtered to X, the overview counts the four people of X's pairs, its two active pairs and
    # their three recent sessions, not the cohort-Y pairs (worked by hand).
    from tests.fixtures import add_employees

    add_employees(db, [{"employee_id": e, "department": "Sales"} for e in ("A1", "A2", "B1", "B2", "C1", "C2")])
    db.insert_df("pairs", pd.DataFrame({
        "pair_id": ["P1", "P2", "P3", "P4"], "mentor_id": ["A1", "A2", "C1", "C2"],
        "mentee_id": ["B1", "B2", "B1", "B2"], "cohort": ["X", "X", "Y", "Y"],
        "start_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01", "2025-02-01"]),
        "end_date": [None] * 4}))
    db.insert_df("sessions", pd.DataFrame({
        "session_id": ["s1", "s2", "s3", "s4", "s5"], "pair_id": ["P1", "P1", "P2", "P3", "P4"],
        "date": pd.to_datetime(["2025-06-01", "2025-06-20", "2025-06-10", "2025-06-05", "2025-06-30"]),
        "format": ["informal"] * 5}))
    out = views.headline(db, Filters(cohort=("X",)), 2)
    assert (out["participants"], out["active_pairs"], out["sessions_quarter"]) == (4, 2, 3)


def test_csv_export_is_formula_safe():
    df = pd.DataFrame({"department": ["=cmd|' /C calc'!A0", "Sales", "@SUM(A1)"], "estimate": [-0.5, 1.0, 2.0]})
    text = to_csv_bytes(df).decode("utf-8-sig")
    assert "'=cmd" in text and "'@SUM" in text and "\n=" not in text
    assert ",-0.5" in text  # numbers are data, not formulas
    assert neutralise("+1") == "'+1"


def test_html_report_is_self_contained_and_escaped():
    import plotly.express as px

    fig = px.line(pd.DataFrame({"x": [1, 2], "y": [3, 4]}), x="x", y="y")
    html = render("Report <b>", [Section("A <script>", "text & more", fig, pd.DataFrame({"v": ["<i>"]}))],
                  "Department: Sales", 5, generated=dt.datetime(2026, 1, 2, 3, 4))
    assert "plotly.js v" in html or "Plotly" in html
    assert "<script src=" not in html and 'src="http' not in html  # nothing fetched at view time
    assert len(html) > 1_000_000  # plotly.js itself is inlined
    assert "A &lt;script&gt;" in html and "&lt;i&gt;" in html and "Report &lt;b&gt;" in html


def test_belonging_gap_is_youngest_minus_oldest_where_both_are_shown(store, rel):
    r5 = rel[5]
    # the 18 Boomers of this small demo are too few per reporting group: merged into "Other",
    # so the default Gen Z - Boomer gap is empty here (docs/PRIVACY.md, accuracy cost)
    assert "Boomer" not in set(r5["employees"]["generation"])
    # so the default gap falls back to the oldest generation shown, and says so (with the demo's
    # leavers, who stop answering, Gen X of this small demo can read "Other" too)
    shown = set(r5["employees"]["generation"])
    oldest = next(g for g in ("Gen X", "Millennial") if g in shown)
    fallback = views.belonging_gap(store, Filters(), 5)
    assert len(fallback) >= 2 and set(fallback["old"]) == {oldest} and set(fallback["young"]) == {"Gen Z"}
    scores = released_scores(r5, "belonging").merge(r5["wave_roster"], on=["survey", "employee_id"])
    means = scores.groupby(["survey", "generation"])["v"].agg(["mean", "size"])
    for row in fallback.itertuples():
        assert row.gap == pytest.approx(means.loc[(row.survey, "Gen Z"), "mean"] - means.loc[(row.survey, oldest), "mean"])
    gap = views.belonging_gap(store, Filters(), 5, old="Millennial")
    assert set(gap["old"]) == {"Millennial"}
    assert len(gap) >= 2
    for row in gap.itertuples():
        young, old = means.loc[(row.survey, "Gen Z")], means.loc[(row.survey, "Millennial")]
        assert young["size"] >= 5 and old["size"] >= 5
        assert row.gap == pytest.approx(young["mean"] - old["mean"])
