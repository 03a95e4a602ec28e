"""The answer first (issue 12): bottom line, effect charts, Where it works, links, formats, reports.

Expected values are worked out by hand or with a second library (comments name the reference
call); page tests use AppTest on the small demo.
"""

from __future__ import annotations

import io
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics import board_report, bottom_line, gain_bands, subgroups
from analytics.formatting import csv_float, for_people, number
from analytics.safe_export import to_csv_bytes
from tests.fixtures_dashboard import app_db_path, app_env, open_app, raw_scalar, shown_numbers  # noqa: F401


# -- wording and numbers -----------------------------------------------------------------------
def test_summary_sentence_counts_every_verdict():
    card = pd.DataFrame({"verdict": ["supported"] * 5 + ["no_effect"] * 2 + ["inconclusive"] * 2
                         + ["insufficient_data"]})
    assert bottom_line.summary_sentence(card) == ("5 of 10 claims supported, 2 no effect, 2 inconclusive; "
                                                  "1 has not enough data to judge.")


def test_numbers_for_people_never_use_an_exponent():
    assert number(1270.456) == "1,270.46" and number(-0.31) == "−0.31" and number(float("nan")) == "—"
    frame = pd.DataFrame({"estimate": [1270.456, -0.000012], "p_value": [6e-12, 0.0312], "n": [1892.0, 7.0]})
    text = to_csv_bytes(for_people(frame)).decode("utf-8-sig")
    assert "e-" not in text and "e+" not in text, text
    assert text.splitlines()[0] == "Estimate,p,People"
    assert text.splitlines()[1:] == ["1270.456,0.0,1892", "0.0,0.0312,7"]
    assert csv_float(1e-12) == "0" and csv_float(1270.0) == "1270"


def test_counts_add_up_or_say_why():
    # 314 participants + 1,578 comparison = 1,892 people (hand sum)
    assert bottom_line.counts_sentence({"n": 1892, "n_treated": 314, "n_comparison": 1578}).startswith(
        "1,892 people: 314 participants + 1,578")
    # the staggered design compares later starters before they start: 314 + 1,758 − 1,892 = 180 in both
    text = bottom_line.counts_sentence({"n": 1892, "n_treated": 314, "n_comparison": 1758})
    assert "180 are counted in both groups" in text and "1,892 different people" in text


def test_plain_reading_gives_points_and_sd():
    text = bottom_line.plain_reading({"estimate": 0.3, "effect_size": 0.29, "es_ci_low": 0.18, "es_ci_high": 0.40})
    assert text.startswith("About 0.30 points on the 1–5 scale (0.29 SD)")
    assert "0.18 and 0.40 SD" in text


def test_who_for_reads_the_per_role_rows_when_the_engine_gives_them():
    row = {"verdict": "supported", "by_role": [{"role": "mentors", "primary": True, "verdict": "supported"},
                                              {"role": "mentees", "primary": True, "verdict": "supported"}]}
    assert bottom_line.who_for(row) == "Mentors and mentees"
    assert bottom_line.who_for({"verdict": "supported"}, "managers").startswith("Mentees (seniors)")


# -- subgroup rule and heterogeneity ----------------------------------------------------------------
def test_holm_matches_r():
    # R: p.adjust(c(0.01, 0.04, 0.03), "holm") -> 0.03 0.06 0.06
    assert np.allclose(subgroups.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


def test_cochran_q_by_hand():
    # d = (0, 0.3, 0.9), se = (0.1, 0.2, 0.3): w = (100, 25, 11.11); d̄ = (0 + 7.5 + 10) / 136.11 = 0.12857
    # Q = 100·0.12857² + 25·0.17143² + 11.11·0.77143² = 1.6531 + 0.7347 + 6.6122 = 9.0000; p = chi2.sf(9, 2)
    grid = pd.DataFrame({"id": ["a"] * 3, "title": ["A"] * 3, "effect_size": [0.0, 0.3, 0.9],
                         "es_se": [0.1, 0.2, 0.3]})
    h = subgroups.heterogeneity(grid).iloc[0]
    assert h["q"] == pytest.approx(9.0, abs=1e-3) and h["df"] == 2
    assert h["p_value"] == pytest.approx(np.exp(-9 / 2), rel=1e-6)  # chi2 with 2 df: sf(x) = exp(-x/2)


SUBGROUP_CARD = pd.DataFrame({"id": ["a"], "title": ["A"], "verdict": ["supported"], "effect_size": [0.5],
                              "es_ci_low": [0.3], "es_ci_high": [0.7], "es_se": [0.1], "p_value": [0.02],
                              "p_adjusted": [0.3], "n_treated": [40], "n_comparison": [90], "reason": [""]})


def test_refused_subgroups_keep_their_reason_and_count_in_no_family(monkeypatch):
    import analytics.claims

    monkeypatch.delattr(analytics.claims, "SUBGROUP_RULE", raising=False)  # no engine rule: Holm over the grid
    monkeypatch.delattr(analytics.claims, "subgroup_adjust", raising=False)
    grid = subgroups.effect_grid("department", [subgroups.Cell("Sales", SUBGROUP_CARD),
                                                subgroups.Cell("Tiny", SUBGROUP_CARD),
                                                subgroups.Cell("Legal", None, "fewer than 5 people")])
    assert grid.loc[grid["value"] == "Legal", "refused"].iloc[0] == "fewer than 5 people"
    # two testable cells: Holm multiplies the smaller p by 2 -> 0.04 (R: p.adjust(c(.02,.02), "holm"))
    assert grid["p_subgroup"].dropna().tolist() == pytest.approx([0.04, 0.04])
    assert subgroups.rule_text() == subgroups.RULE


def test_the_engines_subgroup_rule_is_used_when_it_states_one(monkeypatch):
    import analytics.claims

    # the engine v2 applies its rule inside each filtered scorecard: its p_adjusted is the cell's p
    monkeypatch.setattr(analytics.claims, "SUBGROUP_RULE", "Engine rule.", raising=False)
    monkeypatch.delattr(analytics.claims, "subgroup_adjust", raising=False)
    grid = subgroups.effect_grid("department", [subgroups.Cell("Sales", SUBGROUP_CARD)])
    assert grid["p_subgroup"].tolist() == [0.3] and not grid["significant"].any()
    assert subgroups.rule_text() == "Engine rule."


# -- dose and safety bands ------------------------------------------------------------------------
def test_dose_bands_by_hand():
    gains = pd.DataFrame({"n_sessions": [1, 2, 3, 4, 5, 6, 7, 8, 9, 25], "gain": [0, .2, .4, .2, 1, 1, 1, 1, 1.5, 9]})
    out = gain_bands.dose_bands(gains, 1, edges=(1, 5, 20))
    first = out.iloc[0]
    # R: t.test(c(0, .2, .4, .2))$conf.int -> 0.2 ± qt(.975, 3) * sd/2
    half = stats.t.ppf(0.975, 3) * np.std([0, .2, .4, .2], ddof=1) / 2
    assert first["band"] == "1–4 sessions" and first["n"] == 4 and first["gain"] == pytest.approx(0.2)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx((0.2 - half, 0.2 + half))
    assert out["n"].tolist() == [4, 5, 1]


def test_bands_come_from_the_engines_own_people(demo_path):
    from analytics.claims import scorecard
    from analytics.filters import Filters
    from analytics.store import Database

    with Database(demo_path) as db:
        card = scorecard(db, Filters(), min_group=5)
        bands = gain_bands.bands_for(db, "dose_response", Filters(), 5)
        gains = gain_bands.claim_gains(db, "dose_response", Filters(), 5)
    n_reg = int(card.loc[card["id"] == "dose_response", "n_treated"].iloc[0])  # the participants it rests on
    # the bands hold exactly the participants the regression used (no sessions is a band of its own)
    assert int(bands["n"].sum()) == len(gains.dropna(subset=["n_sessions", "gain"])) == n_reg
    assert bands["band"].iloc[0] == "No sessions"
    assert not bands["suppressed"].any() or (bands.loc[~bands["suppressed"], "n"] >= 5).all()


# -- board report ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def board(demo_path):
    from analytics.claims import scorecard
    from analytics.filters import Filters
    from analytics.store import Database
    from ui import charts

    with Database(demo_path) as db:
        card = scorecard(db, Filters(), min_group=5)
    html = board_report.render(card, filters_text="Everyone", min_group=5, data_date=pd.Timestamp("2025-12-15").date(),
                               overview_figure=charts.forest(card),
                               sections=[board_report.ClaimSection(c) for c in card["id"]],
                               colours=charts.VERDICT_COLOURS, method_texts=["How verdicts are reached."])
    return card, html


def test_html_board_report_is_self_contained_with_the_bottom_line(board):
    card, html = board
    # nothing is fetched from the network: no external script or stylesheet; plotly.js is inlined once
    assert not re.search(r"<script[^>]*\ssrc=", html) and not re.search(r"<link[^>]*href=[\"']?https?:", html)
    assert html.count("Plotly.newPlot") >= 1 and len(re.findall(r"/\*\*\s*\n?\s*\* plotly\.js v", html)) <= 1
    assert bottom_line.summary_sentence(card) in html
    assert "Data as of 15 December 2025" in html and "Anonymity" in html and "Methods appendix" in html
    assert len(html.encode()) < 6_000_000  # stated in the README (about 4.8 MB, mostly plotly.js)


pdf_needed = pytest.mark.skipif(not __import__("analytics.pdf_report", fromlist=["x"]).available(),
                                reason="Chromium or playwright missing")


@pdf_needed
def test_pdf_board_report_opens_with_the_summary_on_page_one(board):
    from pypdf import PdfReader

    from analytics import pdf_report

    card, html = board
    pdf = pdf_report.html_to_pdf(html)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1 + len(card)  # page 1, a section per claim, the appendix
    # Chromium typesets ff/fi as ligatures: read them back as letters
    text = " ".join(reader.pages[0].extract_text().split()).replace("ﬀ", "ff").replace("ﬁ", "fi")
    assert bottom_line.summary_sentence(card) in text
    for row in card.itertuples():
        assert row.title in text, row.title
        if pd.notna(row.effect_size):  # the PDF's numbers are the scorecard's, rounded to 2 decimals
            assert number(row.effect_size, signed=True).replace("−", "-") in text.replace("−", "-"), row.title
    assert reader.pages[0].extract_text().count("\n") > 10
    # the chart is in the PDF: plotly's SVG becomes vector drawing commands on page 1
    content = reader.pages[0].get_contents().get_data()
    assert content.count(b" re") + content.count(b" l\n") > 20


# -- pages ----------------------------------------------------------------------------------------
def test_overview_first_content_is_the_bottom_line(app_env):
    at = open_app({}, "pages/overview.py")
    assert not at.exception, at.exception
    from analytics.claims import scorecard
    from analytics.filters import Filters
    from analytics.store import Database

    with Database(app_env) as db:
        card = scorecard(db, Filters(), min_group=5)
    bodies = [m.value for m in at.markdown]
    summary = next(b for b in bodies if b.startswith("#### "))
    assert summary == "#### " + bottom_line.summary_sentence(card)
    rows = next(b for b in bodies if "tw-bl" in b)
    assert bodies.index(summary) < bodies.index(rows)  # the sentence, then the rows, before anything else
    for r in card.itertuples():
        assert f"data-claim='{r.id}'" in rows
    assert len(re.findall(r"<tr data-claim=", rows)) == len(card)
    caption = at.caption[0].value
    assert caption.startswith("Data as of") and "Scope: Everyone" in caption and "Anonymity" in caption


def test_overview_activity_changes_are_worked_out_from_the_raw_rows(app_env):
    at = open_app({}, "pages/overview.py")
    # from the released pairs and sessions (docs/PRIVACY.md), worked out again in pandas
    from tests.released_reference import release

    with duckdb.connect(str(app_env), read_only=True) as con:
        raw = {t: con.execute(f"SELECT * FROM {t}").df()
               for t in ("employees", "pairs", "sessions", "waves", "items", "responses", "metrics")}
    rel = release(raw, 5)
    pairs, done = rel["pairs"], pd.to_datetime(rel["sessions"]["date"])
    as_of = max(done.max(), pd.to_datetime(raw["waves"]["closed"]).max())
    before = as_of - pd.Timedelta(days=91)
    start, end = pd.to_datetime(pairs["start_date"]), pd.to_datetime(pairs["end_date"])
    active = lambda d: int(((start <= d) & (end.isna() | (end >= d))).sum())  # noqa: E731
    sessions = lambda d: int(((done > d - pd.Timedelta(days=91)) & (done <= d)).sum())  # noqa: E731
    metrics = {m.label: m for m in at.metric}
    assert metrics["Active pairs"].value == f"{active(as_of):,}"
    want = active(as_of) - active(before)
    assert metrics["Active pairs"].delta == (f"{want:+,}" if want else None)
    want = sessions(as_of) - sessions(before)
    assert metrics["Sessions this quarter"].delta == (f"{want:+,}" if want else None)


# on the 600-person demo the released data keep Engineering's participants apart and merge the
# other departments' into "Other" (docs/PRIVACY.md): those two are the departments with effects
@pytest.mark.parametrize("params", [{}, {"department": ["Engineering", "Other"]}], ids=["everyone", "filtered"])
def test_where_it_works_draws_an_effect_heatmap_under_the_guard(app_env, params):
    at = open_app(params, "pages/where.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "Where it works"
    assert any("Holm" in c.value for c in at.caption)  # the subgroup rule is stated
    assert at.get("plotly_chart")
    frames = [d.value for d in at.dataframe]
    assert any("Cochran's Q" in f.columns for f in frames)
    if params:
        titles = [s.value for s in at.subheader]
        assert "Effect of each claim by department" in titles
        links = [p.proto.label for p in at.get("page_link")]
        assert {"Engineering", "Other"} <= set(links) and "Finance" not in links


def test_where_grouping_lives_in_the_link_both_ways(app_env):
    at = open_app({"group": "generation"}, "pages/where.py")
    assert not at.exception, at.exception
    assert "Effect of each claim by generation" in [s.value for s in at.subheader]
    at.segmented_control(key="where_group").set_value("level").run()
    assert at.query_params["group"] == "level"
    again = open_app(dict(at.query_params), "pages/where.py")
    assert "Effect of each claim by level" in [s.value for s in again.subheader]
    assert again.segmented_control(key="where_group").value == "level"
    assert "group=level" in again.sidebar.code[0].value  # the copy link carries it too


def test_where_refuses_hostile_parameters(app_env):
    at = open_app({"group": "<script>alert(1)</script>", "department": "x' OR 1=1"}, "pages/where.py")
    assert not at.exception, at.exception
    notices = " ".join(w.value for w in at.warning)
    assert "Ignored group" in notices and "department" in notices
    assert "group" not in at.query_params
    assert "Effect of each claim by department" in [s.value for s in at.subheader]


def test_where_offers_no_cell_for_a_location_under_the_threshold(app_env, monkeypatch):
    # with released data (docs/PRIVACY.md) a location of fewer than k people is merged into
    # "Other" before any view sees it: the heatmap's columns are the released labels, and no
    # raw location under the threshold is named anywhere on the page
    import json

    from tests.released_reference import release

    monkeypatch.setenv("TWOWAY_MIN_GROUP_SIZE", "120")
    at = open_app({"group": "location"}, "pages/where.py")
    assert not at.exception, at.exception
    with duckdb.connect(str(app_env), read_only=True) as con:
        raw = {t: con.execute(f"SELECT * FROM {t}").df()
               for t in ("employees", "pairs", "sessions", "waves", "items", "responses", "metrics")}
    sizes = raw["employees"]["location"].value_counts()
    small = set(sizes[sizes < 120].index)
    released = set(release(raw, 120)["employees"]["location"])
    assert small and not small & released
    heat = [json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart")]
    assert heat and set(heat[0]["x"]) == released
    texts = [c.value for c in at.caption] + [p.proto.label for p in at.get("page_link")] + [json.dumps(heat)]
    assert not any(loc in t for loc in small for t in texts)


def test_claims_tab_and_claim_live_in_the_link(app_env):
    at = open_app({"tab": "Reports"}, "pages/claims.py")
    assert not at.exception, at.exception
    assert at.tabs[2].label == "Reports"
    assert "Board report (HTML)" in [b.proto.label for b in at.get("download_button")]
    at = open_app({"claim": "belonging"}, "pages/claims.py")
    assert "claim=belonging" in at.sidebar.code[0].value
    at = open_app({"tab": "Nope", "claim": "nope"}, "pages/claims.py")
    notices = " ".join(w.value for w in at.warning)
    assert "Ignored tab" in notices and "Ignored claim" in notices
    assert "tab" not in at.query_params and "claim" not in at.query_params


def test_engagement_heatmap_grouping_is_in_the_link(app_env):
    at = open_app({"group": "generation"}, "pages/engagement.py")
    assert not at.exception, at.exception
    assert at.segmented_control(key="heatmap_group").value == "generation"
    at.segmented_control(key="heatmap_group").set_value("level").run()
    assert at.query_params["group"] == "level"


def test_a_refused_view_says_why_and_links_to_the_nearest_allowed_view(app_env):
    # a small department x level cell of two values the filters offer on their own (a level with
    # few people everywhere, e.g. the top one, reads "Other" and would just be ignored)
    dept, level = raw_scalar(app_env, """SELECT [department, level] FROM employees
                               WHERE level IN (SELECT level FROM employees GROUP BY level HAVING count(*) >= 40)
                               GROUP BY department, level
                               HAVING count(*) BETWEEN 1 AND 4 ORDER BY count(*), department, level LIMIT 1""")
    at = open_app({"department": dept, "level": level}, "pages/where.py")
    assert not at.exception
    assert at.error and "fewer than 5 people" in at.error[0].value
    assert any("anonymity threshold" in m.value for m in at.markdown)
    links = [p.proto for p in at.get("page_link")]
    nearest = [p for p in links if p.label.startswith("Open the nearest allowed view")]
    assert nearest, [p.label for p in links]
    # dropping the level (the last restriction) is nearest: the department alone is allowed
    assert nearest[0].label == f"Open the nearest allowed view: Department: {dept}"
    assert nearest[0].page == "where" and nearest[0].query_string == f"department={dept.replace(' ', '+')}"


def test_csv_names_say_page_table_and_date():
    from analytics.filters import Filters
    from ui.exports import ViewReport

    r = ViewReport("Where it works", Filters(), 5, data_date=pd.Timestamp("2025-12-15").date())
    assert r.file_name("Effect of each claim by level") == \
        "twoway-where-it-works-effect-of-each-claim-by-level-2025-12-15.csv"


def test_labels_are_one_per_concept(app_env):
    from ui import charts

    assert charts.pretty("gen z") == "Gen Z" and charts.pretty("Gen X") == "Gen X"
    at = open_app({}, "pages/activity.py")
    labels = [m.label for m in at.metric]
    assert "Active pairs" in labels and "Ongoing pairs" not in labels
    # Okabe–Ito: every verdict has its own colour from the colour-blind-safe set
    assert len(set(charts.VERDICT_COLOURS.values())) == len(charts.VERDICT_COLOURS)
    assert set(charts.VERDICT_COLOURS.values()) <= set(charts.OKABE_ITO.values())


# -- charts ---------------------------------------------------------------------------------------
def test_forest_keeps_claims_without_an_estimate_and_draws_the_sesoi_band():
    from ui import charts

    card = pd.DataFrame({"id": ["a", "b"], "title": ["Claim A", "Claim B"], "verdict": ["supported", "insufficient_data"],
                         "effect_size": [0.4, np.nan], "es_ci_low": [0.2, np.nan], "es_ci_high": [0.6, np.nan]})
    fig = charts.forest(card, sesoi=0.2)
    assert list(fig.layout.yaxis.categoryarray) == ["Claim B", "Claim A"]  # both rows, scorecard order top down
    labelled = [t for t in fig.data if t.mode == "text"]
    assert labelled and list(labelled[0].text) == ["Not enough data"] and list(labelled[0].y) == ["Claim B"]
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert bands and (bands[0].x0, bands[0].x1) == (-0.2, 0.2)


def test_event_study_chart_marks_the_start_and_the_placebo_points():
    from ui import charts

    # the engine v2's tidy frame: one row per role × waves since the start
    frame = pd.DataFrame({"role": ["mentors"] * 4 + ["mentees"] * 4, "e": [-2, -1, 0, 1] * 2,
                          "effect_size": [0.0, 0.02, 0.3, 0.4, -0.01, 0.0, 0.2, 0.25],
                          "es_ci_low": [-0.1] * 8, "es_ci_high": [0.5] * 8})
    fig = charts.event_study(frame)
    assert [t.name for t in fig.data] == ["Mentors (juniors)", "Mentees (seniors)"]
    assert list(fig.data[0].marker.symbol) == ["circle-open", "circle-open", "circle", "circle"]
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]
    assert any(s.x0 == -0.5 for s in lines)  # the start sits between the last wave before and the first after
    assert any(s.type == "rect" and (s.y0, s.y1) == (-0.2, 0.2) for s in fig.layout.shapes)


def test_effect_heatmap_escapes_group_names_and_links_each_number():
    from ui import charts

    grid = pd.DataFrame({"value": ["<b>x</b>", "Sales"], "id": ["a", "a"], "title": ["A", "A"],
                         "effect_size": [0.3, np.nan], "significant": [True, False]})
    from ui.text import plain_figure

    # as ViewReport.chart draws it: the data escaped once (plain_figure), then our own markup
    fig = plain_figure(charts.effect_heatmap(grid))
    charts.link_cells(fig, grid, {("a", "<b>x</b>"): "claims?department=%3Cb%3Ex%3C%2Fb%3E&claim=a"})
    assert list(fig.data[0].x) == ["&lt;b&gt;x&lt;/b&gt;", "Sales"]
    assert [a.x for a in fig.layout.annotations] == ["&lt;b&gt;x&lt;/b&gt;", "Sales"]
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0].startswith('<a href="claims?department=%3Cb%3Ex%3C%2Fb%3E&claim=a"') and "<b>+0.30*</b>" in texts[0]
    assert texts[1] == "—"
    # a URL that is not our own percent-encoded Claims link is never put in the markup
    fig = plain_figure(charts.effect_heatmap(grid))
    charts.link_cells(fig, grid, {("a", "<b>x</b>"): 'http://evil.example/" onclick="x'})
    assert fig.layout.annotations[0].text == "<b>+0.30*</b>"
