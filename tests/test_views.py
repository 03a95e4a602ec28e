"""Page aggregates against independent pandas computations on the raw demo tables."""

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


@pytest.fixture(scope="module")
def store(demo_path):
    db = Database(demo_path, read_only=True)
    yield db
    db.close()


@pytest.fixture(scope="module")
def raw(demo_path):
    with duckdb.connect(str(demo_path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t}").df()
                for t in ("employees", "pairs", "sessions", "waves", "items", "responses")}


def person_scores(raw, construct):
    """Construct score per respondent and wave: mean of reverse-coded items (pandas only)."""
    items = raw["items"][raw["items"]["construct"] == construct]
    r = raw["responses"].merge(items, on=["survey", "item"]).dropna(subset=["value", "employee_id"])
    r["v"] = np.where(r["reverse"], r["scale_min"] + r["scale_max"] - r["value"], r["value"])
    return r.groupby(["survey", "employee_id"], as_index=False)["v"].mean()


def test_construct_trend_matches_a_pandas_recomputation(store, raw):
    dept = raw["employees"]["department"].value_counts().index[0]
    f = Filters(department=(dept,))
    got = views.construct_trends(store, f, 5, constructs=("engagement",))
    scores = person_scores(raw, "engagement").merge(raw["employees"], on="employee_id")
    scores = scores[scores["department"] == dept]
    for survey, part in scores.groupby("survey"):
        row = got[got["survey"] == survey].iloc[0]
        assert row["n"] == len(part)
        assert row["mean"] == pytest.approx(part["v"].mean())
        # R: t.test(x)$conf.int
        half = stats.t.ppf(0.975, len(part) - 1) * part["v"].std(ddof=1) / np.sqrt(len(part))
        assert row["ci_low"] == pytest.approx(part["v"].mean() - half)


def test_heatmap_never_shows_a_small_cell_and_guards_each_construct(store):
    for k in (5, 40):
        heat = views.construct_heatmap(store, Filters(), k, "level")
        shown = heat[~heat["suppressed"]]
        assert (shown["n"] >= k).all()
        assert shown["mean"].notna().all()
        for _, part in heat.groupby("construct"):
            hidden = part[part["suppressed"]]
            if 0 < len(hidden) < len(part):
                assert len(hidden) >= 2
    high = views.construct_heatmap(store, Filters(), 40, "level")
    assert high["suppressed"].any() and high.loc[high["suppressed"], "reason"].str.startswith("hidden").all()


def test_response_rates_count_respondents_of_the_selection(store, raw):
    gen = "Gen Z"
    f = Filters(generation=(gen,))
    got = views.response_rates(store, f, 5)
    people = set(raw["employees"].loc[raw["employees"]["generation"] == gen, "employee_id"])
    for row in got.itertuples():
        resp = raw["responses"][(raw["responses"]["survey"] == row.survey)
                                & raw["responses"]["employee_id"].isin(people)]
        assert row.respondents == resp["respondent"].nunique()
        assert row.rate == pytest.approx(resp["respondent"].nunique() / len(people))


def test_sessions_per_month_add_up_to_the_sessions_of_selected_pairs(store, raw):
    f = Filters(cohort=("2025-A",))
    monthly = views.activity(store, f, 2)["monthly"]
    pairs = raw["pairs"][raw["pairs"]["cohort"] == "2025-A"]
    expected = raw["sessions"][raw["sessions"]["pair_id"].isin(pairs["pair_id"])]
    assert monthly["sessions"].sum() == len(expected)


def test_inactive_pairs_are_ongoing_pairs_without_a_session_in_sixty_days(store, raw):
    act = views.activity(store, Filters(), 2)["inactive"]
    as_of = max(raw["sessions"]["date"].max(), raw["waves"]["closed"].max())
    as_of = pd.Timestamp(as_of)
    last = raw["sessions"].groupby("pair_id")["date"].max()
    p = raw["pairs"].set_index("pair_id")
    p = p[pd.to_datetime(p["start_date"]) <= as_of]
    ongoing = p["end_date"].isna() | (pd.to_datetime(p["end_date"]) >= as_of)
    last_seen = pd.to_datetime(last.reindex(p.index)).fillna(pd.to_datetime(p["start_date"]))
    inactive = ongoing & ((as_of - last_seen).dt.days > 60)
    assert act["pairs"] == len(p) and act["ongoing"] == int(ongoing.sum()) and act["inactive"] == int(inactive.sum())


def test_refused_selection_for_a_tiny_group(store, raw):
    e = raw["employees"]
    combo = e.groupby(["department", "level"]).size()
    dept, level = combo[combo < 5].index[0]
    check = views.check_selection(store, Filters(department=(dept,), level=(level,)), 5)
    assert not check.ok


def test_headline_hides_programme_figures_of_a_handful_of_participants(store, raw):
    e = raw["employees"]
    part = set(raw["pairs"]["mentor_id"]) | set(raw["pairs"]["mentee_id"])
    e = e.assign(p=e["employee_id"].isin(part))
    by = e.groupby("location").agg(n=("p", "size"), parts=("p", "sum"))
    k = int(by["parts"].min()) + 1
    loc = by["parts"].idxmin()
    out = views.headline(store, Filters(location=(loc,)), k)
    assert out["participants"] is None and out["active_pairs"] is None and out["notes"]


def test_headline_with_a_cohort_counts_only_that_cohorts_pairs_and_sessions(db):
    # B is mentored twice: by A in cohort X and by C in cohort Y. Filtered to X, the overview
    # counts one active pair and its two recent sessions, not B's cohort-Y pair (worked by hand).
    from tests.fixtures import add_employees

    add_employees(db, [{"employee_id": e, "department": "Sales"} for e in "ABC"])
    db.insert_df("pairs", pd.DataFrame({
        "pair_id": ["P1", "P2"], "mentor_id": ["A", "C"], "mentee_id": ["B", "B"], "cohort": ["X", "Y"],
        "start_date": pd.to_datetime(["2025-01-01", "2025-01-01"]), "end_date": [None, None]}))
    db.insert_df("sessions", pd.DataFrame({
        "session_id": ["s1", "s2", "s3", "s4"], "pair_id": ["P1", "P1", "P2", "P2"],
        "date": pd.to_datetime(["2025-06-01", "2025-06-20", "2025-06-10", "2025-06-30"]),
        "format": ["informal"] * 4}))
    out = views.headline(db, Filters(cohort=("X",)), 2)
    assert (out["participants"], out["active_pairs"], out["sessions_quarter"]) == (2, 1, 2)


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


def test_belonging_gap_is_youngest_minus_oldest_where_both_are_shown(store, raw):
    gap = views.belonging_gap(store, Filters(), 5)
    assert len(gap) >= 2
    scores = person_scores(raw, "belonging").merge(raw["employees"], on="employee_id")
    means = scores.groupby(["survey", "generation"])["v"].agg(["mean", "size"])
    for row in gap.itertuples():
        young, old = means.loc[(row.survey, "Gen Z")], means.loc[(row.survey, "Boomer")]
        assert young["size"] >= 5 and old["size"] >= 5
        assert row.gap == pytest.approx(young["mean"] - old["mean"])
