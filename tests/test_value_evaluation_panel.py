"""The Claims page's evaluation map (Kirkpatrick panel) and reference bands, in AppTest."""

from __future__ import annotations

import math

import pytest

from analytics.claims import scorecard
from analytics.outcomes.evaluation_map import MEASURES, evaluation_map
from analytics.store import Database
from tests.fixtures_dashboard import app_db_path, app_env, open_app  # noqa: F401
from ui.verdicts import label


def panel_lines(at) -> list[str]:
    return [m.value for m in at.markdown if m.value[:1] in ("✓", "○")]


def test_the_panel_places_every_measure_on_its_level_with_the_scorecards_verdict(app_env):
    at = open_app({}, "pages/claims.py")
    assert not at.exception, at.exception
    heads = [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]
    assert heads == ["**1 · Reaction**", "**2 · Learning**", "**3 · Behaviour**", "**4 · Results**"]
    with Database.reader(app_env) as db:
        card = scorecard(db, min_group=5).set_index("id")
    lines = panel_lines(at)
    assert len(lines) == len(MEASURES)
    for m, line in zip(MEASURES, lines):
        assert m.measure in line
        if m.claim is None:  # level 1: the demo's session log holds ratings
            assert line.startswith("✓") and "descriptive" in line
        elif m.claim in card.index and card.loc[m.claim, "verdict"] != "insufficient_data":
            assert line == f"✓ {m.measure}: {label(card.loc[m.claim, 'verdict'])}"
        else:  # e.g. retention on a roster without dated changes
            assert line.startswith("○") and "no evidence yet" in line


def test_level_1_without_ratings_is_missing_evidence():
    m = evaluation_map(None, rated_sessions=False)
    assert not m.loc[m["level"] == 1, "evidence"].any()
    assert (m["verdict"] == "not measured").all() and not m["evidence"].any()


def test_the_forest_plot_carries_the_published_band_beside_attitude_claims(app_env):
    at = open_app({}, "pages/claims.py")
    fig = at.get("plotly_chart")[0].proto.spec
    import json

    traces = [t for t in json.loads(fig)["data"] if t.get("name") == "Published range (meta-analysis)"]
    # Eby et al. (2008) r = .03 to .15 → d = 2r / sqrt(1 − r²)
    lo, hi = 2 * 0.03 / math.sqrt(1 - 0.03 ** 2), 2 * 0.15 / math.sqrt(1 - 0.15 ** 2)
    assert len(traces) == 2
    for t in traces:
        assert t["x"] == pytest.approx([lo, hi])
    with Database.reader(app_env) as db:
        titles = scorecard(db, min_group=5).set_index("id")["title"]
    assert {t["y"][0] for t in traces} == {titles["engagement"], titles["belonging"]}
    sources = next(e for e in at.expander if e.label == "Published effect sizes and their sources")
    table = sources.dataframe[0].value
    assert "Eby" in table["source"].iloc[0]
