"""The topic screen wired to the session log: gains by hand, the guard, the multiplicity control."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.filters import Filters
from analytics.outcomes.topics import participant_gains, session_topic_screen
from analytics.store import Database


class FakePanel(SimpleNamespace):
    def start(self, role):
        return self.roster["mentor_start" if role == "mentors" else "mentee_start"]


def test_participant_gains_by_hand():
    waves = pd.DataFrame({"survey": ["a", "b", "c"], "opened": pd.to_datetime(["2025-01-15", "2025-04-15",
                                                                              "2025-07-15"])})
    roster = pd.DataFrame({"employee_id": ["A", "B", "C", "D"],
                           "mentor_start": pd.to_datetime([None, "2025-03-01", None, None]),
                           "mentee_start": pd.to_datetime(["2025-04-15", None, "2025-01-01", "2025-06-01"]),
                           "cohort": ["x", "y", "z", "w"], "selected": [True, True, True, False]})
    scores = np.array([[3.0, 4.0, 5.0],      # A mentee from wave b (opened on the start day counts as after)
                       [2.0, np.nan, 4.0],   # B mentor from wave b: before 2, after 4
                       [3.0, 3.0, 3.0],      # C started before every wave: no before, dropped
                       [1.0, 1.0, 5.0]])     # D not selected
    out = participant_gains(FakePanel(scores={"engagement": scores}, waves=waves, roster=roster, n_waves=3),
                            "engagement").set_index("employee_id")
    assert sorted(out.index) == ["A", "B"]
    assert out.loc["A", "role"] == "mentees" and out.loc["A", "gain"] == pytest.approx(4.5 - 3.0)
    assert out.loc["A", "baseline"] == 3.0
    assert out.loc["B", "role"] == "mentors" and out.loc["B", "gain"] == pytest.approx(2.0)


@pytest.fixture(scope="module")
def demo_screen(demo_path):
    with Database.reader(demo_path) as db:
        return {k: session_topic_screen(db, Filters(), k) for k in (5, 20)}


def test_the_screen_covers_the_session_topics_per_role_with_holm(demo_screen, demo_path):
    out = demo_screen[5]
    with duckdb.connect(str(demo_path), read_only=True) as con:
        topics = {r[0] for r in con.execute("SELECT DISTINCT unnest(topics) FROM sessions").fetchall()}
    assert set(out["topic"]) <= topics and len(out) == 2 * len(set(out["topic"]))
    assert set(out["role"]) == {"mentors", "mentees"}
    tested = out.dropna(subset=["p_value"])
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-12).all()
    # Holm over every tested row: the smallest p is multiplied by the number of tests
    m = len(tested)
    assert tested["p_adjusted"].min() == pytest.approx(min(1.0, tested["p_value"].min() * m))
    assert set(out["flag"]) <= {"larger gain", "smaller gain", "no clear association", "not tested"}


def test_no_row_describes_fewer_than_k_people(demo_screen):
    for k, out in demo_screen.items():
        shown = out.dropna(subset=["n_with"])
        assert (shown["n_with"] >= k).all() and (shown["n_without"] >= k).all()
        hidden = out[out["n_with"].isna()]
        assert hidden["estimate"].isna().all() and (hidden["flag"] == "not tested").all()
