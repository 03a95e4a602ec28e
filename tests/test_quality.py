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


# -- each wave's groups (issue #10, "Who counts"): a transfer between two waves ------------------------
HEAD = "employee_id,department,level,location,birth_year,hire_date,manager_id"
# January: E0…E5 in A, F0…F3 in B; on 1 April E5 moves to B (one level, location, generation).
JAN = {**{f"E{i}": "A" for i in range(6)}, **{f"F{i}": "B" for i in range(4)}}
APR = {**JAN, "E5": "B"}
# items a, b, c (c reverse-coded, 1–5); March wave before the transfer, May wave after it
MAR = {"E0": [1, 2, 5], "E1": [2, 2, 4], "E2": [3, 4, 3], "E3": [4, 4, 1], "E4": [5, 5, 2], "E5": [3, 3, 3],
       "F0": [2, 3, 3], "F1": [4, 4, 2], "F2": [1, 2, 4], "F3": [5, 4, 1]}
MAY = {"E0": [2, 2, 4], "E1": [2, 3, 4], "E2": [3, 3, 3], "E3": [4, 5, 2], "E4": [5, 4, 1], "E5": [1, 2, 5],
       "F0": [3, 3, 3], "F1": [4, 5, 1], "F2": [2, 1, 5], "F3": [4, 4, 2]}


@pytest.fixture
def moved(db, tmp_path):
    from analytics.importing import import_file

    for name, people, as_of in (("jan", JAN, None), ("apr", APR, "2025-04-01")):
        (tmp_path / f"{name}.csv").write_text(HEAD + "\n" + "".join(
            f"{e},{d},L1,Lisbon,1990,2015-01-01,\n" for e, d in people.items()))
        import_file(db, tmp_path / f"{name}.csv", **({"as_of": as_of} if as_of else {}))
    db.execute("INSERT INTO waves (survey, title, opened, closed, invited) VALUES "
               "('mar', 'March', DATE '2025-03-02', DATE '2025-03-20', 10), "
               "('may', 'May', DATE '2025-05-02', DATE '2025-05-20', 10)")
    for s in ("mar", "may"):
        db.execute("INSERT INTO items (survey, item, construct, scale_min, scale_max, reverse) VALUES "
                   "(?, 'a', 'engagement', 1, 5, FALSE), (?, 'b', 'engagement', 1, 5, FALSE), "
                   "(?, 'c', 'engagement', 1, 5, TRUE)", [s, s, s])
    rows = [(s, f"{e}-{s}", e, item, float(v)) for s, answers in (("mar", MAR), ("may", MAY))
            for e, a in answers.items() for item, v in zip("abc", a)]
    db.insert_df("responses", pd.DataFrame(rows, columns=["survey", "respondent", "employee_id", "item", "value"]))
    db.bump_data_version()
    return db


def test_alpha_counts_each_respondent_in_the_department_they_were_in_at_each_wave(moved):
    # hand: A is E0…E5 in March and E0…E4 in May (E5 moved to B on 1 April); B is F0…F3 in March
    # and F0…F3 + E5 in May. Alpha per wave, averaged weighted by respondents.
    a1, a2 = _alpha([MAR[e] for e in ("E0", "E1", "E2", "E3", "E4", "E5")]), _alpha([MAY[f"E{i}"] for i in range(5)])
    b1, b2 = _alpha([MAR[f"F{i}"] for i in range(4)]), _alpha([MAY[e] for e in ("F0", "F1", "F2", "F3", "E5")])
    want = {"A": (11, (6 * a1 + 5 * a2) / 11, min(a1, a2)), "B": (9, (4 * b1 + 5 * b2) / 9, min(b1, b2))}
    for dept, (n, alpha, worst) in want.items():
        for how, frame in (("stored sums", views.reliability(moved, Filters(department=(dept,)), 2)),
                           ("direct", direct_reliability(moved, Filters(department=(dept,)), min_group=2))):
            r = frame.set_index("construct").loc["engagement"]
            assert (r["n"], r["n_waves"]) == (n, 2), (dept, how)
            assert r["alpha"] == pytest.approx(alpha), (dept, how)
            assert r["alpha_min"] == pytest.approx(worst), (dept, how)
    # everyone: the same 10 respondents per wave, whatever their department
    every = views.reliability(moved, Filters(), 2).set_index("construct").loc["engagement"]
    every_mar, every_may = _alpha(list(MAR.values())), _alpha(list(MAY.values()))
    assert every["n"] == 20 and every["alpha"] == pytest.approx((every_mar + every_may) / 2)


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
