"""Reliability from per-block sums aggregated once per data version (analytics.store.quality)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analytics import views
from analytics.claims import reliability as direct_reliability
from analytics.filters import Filters
from analytics.store import Database


def _store(tmp_path) -> Database:
    """One department of six people, two waves, one construct with a reverse-coded item."""
    db = Database(tmp_path / "alpha.duckdb")
    db.insert_df("employees", pd.DataFrame({"employee_id": [f"E{i}" for i in range(6)], "department": "A",
                                            "level": "L", "location": "X", "generation": "Gen X"}))
    db.insert_df("waves", pd.DataFrame({"survey": ["s1", "s2"], "opened": [dt.date(2025, 1, 1), dt.date(2025, 4, 1)]}))
    items = pd.DataFrame({"item": ["a", "b", "c"], "construct": "engagement", "scale_min": 1.0, "scale_max": 5.0,
                          "reverse": [False, False, True]})
    for s in ("s1", "s2"):
        db.insert_df("items", items.assign(survey=s))
    x = {"s1": [[1, 2, 5], [2, 2, 4], [3, 4, 3], [4, 4, 1], [5, 5, 2], [3, 3, 3]],
         "s2": [[2, 2, 4], [2, 3, 4], [3, 3, 3], [4, 5, 2], [5, 4, 1], [1, 2, 5]]}
    rows = [{"survey": s, "respondent": f"r{i}{s}", "employee_id": f"E{i}", "item": item, "value": v}
            for s, a in x.items() for i, answer in enumerate(a) for item, v in zip("abc", answer)]
    db.insert_df("responses", pd.DataFrame(rows))
    return db


def _alpha(a) -> float:
    a = np.array(a, float)
    a[:, 2] = 6 - a[:, 2]  # reverse-coded on a 1–5 scale
    k = a.shape[1]
    # R: psych::alpha(a)$total$raw_alpha
    return k / (k - 1) * (1 - a.var(axis=0, ddof=1).sum() / a.sum(axis=1).var(ddof=1))


def test_alpha_from_sums_matches_numpy(tmp_path):
    db = _store(tmp_path)
    s1 = _alpha([[1, 2, 5], [2, 2, 4], [3, 4, 3], [4, 4, 1], [5, 5, 2], [3, 3, 3]])
    s2 = _alpha([[2, 2, 4], [2, 3, 4], [3, 3, 3], [4, 5, 2], [5, 4, 1], [1, 2, 5]])
    for filters in (Filters(), Filters(department=("A",))):
        r = views.reliability(db, filters, 5).set_index("construct").loc["engagement"]
        assert r["alpha"] == pytest.approx((s1 + s2) / 2)  # equal weights: six respondents each
        assert r["alpha_min"] == pytest.approx(min(s1, s2))
        assert r["n"] == 12 and r["n_waves"] == 2 and r["n_items"] == 3
    late = views.reliability(db, Filters(date_from=dt.date(2025, 3, 1)), 5).set_index("construct")
    assert late.loc["engagement", "alpha"] == pytest.approx(s2) and late.loc["engagement", "n"] == 6
    assert views.reliability(db, Filters(department=("B",)), 5).empty
    db.close()


@pytest.mark.parametrize("filters", [Filters(), Filters(department=("Sales",)),
                                     Filters(generation=("Millennial",)),
                                     Filters(date_from=dt.date(2025, 1, 1))])
def test_matches_the_direct_query(demo_path, filters):
    """The per-block sums give what one pass over the selection's answers gives (claims.reliability)."""
    db = Database.reader(demo_path)
    cohort = db.query("SELECT min(cohort) FROM pairs").scalar()
    for f in (filters, Filters(cohort=(cohort,))):
        got = views.reliability(db, f, 5).set_index("construct")
        ref = direct_reliability(db, f, min_group=5).set_index("construct")
        assert list(got.index) == list(ref.index) and not got.empty
        assert (got["n"] == ref["n"]).all() and (got["n_waves"] == ref["n_waves"]).all()
        shown = ~got["suppressed"].astype(bool)
        assert np.allclose(got.loc[shown, "alpha"], ref.loc[shown, "alpha"])
        assert np.allclose(got.loc[shown, "alpha_min"], ref.loc[shown, "alpha_min"])
    db.close()


def test_wave_links_kept_per_snapshot_equal_a_fresh_read(demo_path):
    from analytics.store.programme import wave_links

    reader = Database.reader(demo_path)
    first = wave_links(reader)
    first.loc[:, "respondents"] = -1  # the caller's copy: the kept frame is not changed
    again = wave_links(reader)
    import duckdb

    with duckdb.connect(str(reader.file), read_only=True) as con:
        # R: table(responses$survey) of distinct respondents, by hand in SQL over the snapshot file
        ref = con.execute("SELECT survey, count(DISTINCT respondent) FROM responses GROUP BY survey").fetchall()
    assert dict(ref) == {s: n for s, n in zip(again["survey"], again["respondents"]) if n}
    reader.close()
