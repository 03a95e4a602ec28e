"""The claims engine's fast paths give the same figures as the straightforward code they replaced.

Each fast version is compared with its reference (kept beside it, private) on small random
organisations: same inputs, same numbers to round-off (1e-9). The references are the code the
engine ran before (the previous release), whose own tests fix their meaning.
"""

from __future__ import annotations

import numpy as np
import pytest

from analytics.claims import checks
from tests import fast_path_references as reference


def _lee_problem(rng, n=400, cells=4, sign=1.0):
    specs = []
    for k in range(cells):
        trt = rng.random(n) < 0.3
        ctrl = ~trt & (rng.random(n) < 0.8)
        dy = np.where(trt | ctrl, rng.normal(0.2 * k, 1.0, n), np.nan)  # NaN outside the cell
        gap = sign * (0.15 + 0.03 * k)
        if k == cells - 1:
            gap = 0.0  # a cell with no gap: untrimmed difference
        meta = {"response_gap": gap, "response_gap_se": 0.01, "response_treated": 0.7,
                "response_comparison": 0.8, "response_influence": None}
        specs.append((meta, dy, trt, ctrl))
    a = [0.4, 0.0, 0.35, 0.25]  # the second cell has no weight: skipped by both
    return specs, a, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("sign", [1.0, -1.0])  # treated answered more (trim them) / comparison did
def test_lee_bounds_equal_the_reference(sign):
    rng = np.random.default_rng(7)
    specs, a, w = _lee_problem(rng, sign=sign)
    fast = checks.lee_bounds(specs, a, w, n_boot=50)
    ref = reference._lee_bounds_reference(specs, a, w, n_boot=50)
    assert not np.isnan(fast[2])  # the bounds were computed (material gap)
    np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-12)


# -- the hazard's cloglog fit: normal-equation IRLS vs statsmodels' GLM ------------------------------
def _cells(rng, n=3000, months=12):
    import pandas as pd

    from analytics.outcomes import hazard

    people = pd.DataFrame({"unit": np.arange(n), "entry": rng.integers(0, 4, n),
                           "start": np.where(rng.random(n) < 0.3, -1.0, np.nan),
                           "d": rng.choice(["a", "b", "c"], n), "g": rng.choice(["x", "y"], n)})
    rate = 0.03 * np.where(np.isfinite(people["start"]), 0.6, 1.0) * np.where(people["d"] == "a", 1.5, 1.0)
    people["exit"] = np.where(rng.random(n) < rate * months, rng.integers(0, months, n), np.nan)
    people.loc[people["exit"] < people["entry"], "exit"] = np.nan
    return hazard.risk_cells(people, 0, months - 1, ("d", "g"))


def test_hazard_fit_equals_statsmodels_glm():
    import dataclasses

    import statsmodels.api as sm

    from analytics.outcomes import hazard

    rc = _cells(np.random.default_rng(3))
    fast = hazard.hazard_from_cells(rc, ("d", "g"), n_draws=300)

    def glm(y, X):  # the reference: statsmodels' own IRLS (SVD least squares each step)
        fit = sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit()
        return fit.params, fit.cov_params()

    real = hazard._cloglog_fit
    try:
        hazard._cloglog_fit = glm
        ref = hazard.hazard_from_cells(rc, ("d", "g"), n_draws=300)
    finally:
        hazard._cloglog_fit = real
    a, b = dataclasses.asdict(fast), dataclasses.asdict(ref)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12), k


def test_hazard_fit_hands_a_rank_deficient_design_to_statsmodels():
    import pandas as pd
    import statsmodels.api as sm

    from analytics.outcomes import hazard

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"const": 1.0, "treated": rng.integers(0, 2, 200).astype(float),
                      "d_b": rng.integers(0, 2, 200).astype(float)})
    X["copy"] = X["d_b"]  # collinear: the normal equations are singular
    n = rng.integers(20, 40, 200)
    ev = rng.binomial(n, 0.1)
    y = np.column_stack([ev, n - ev]).astype(float)
    params, cov = hazard._cloglog_fit(y, X)
    fit = sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit()
    np.testing.assert_allclose(params.to_numpy(), fit.params.to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cov.to_numpy(), fit.cov_params().to_numpy(), rtol=1e-9, atol=1e-12)


# -- the outcome claims' history look-ups: numpy index vs pandas merges ------------------------------
def _history(rng, n=300):
    import pandas as pd

    rows, events = [], []
    for i in range(n):
        eid = f"E{i:04d}"
        k = rng.integers(1, 4)
        cuts = np.sort(rng.choice(np.arange(1, 30), size=k - 1, replace=False)) if k > 1 else []
        bounds = [np.nan, *cuts.tolist(), np.nan] if k > 1 else [np.nan, np.nan]
        for j in range(k):
            lo, hi = bounds[j], bounds[j + 1]
            if rng.random() < 0.1 and j == k - 1:
                hi = float(rng.integers(30, 40))  # left
            rows.append({"employee_id": eid, "from_m": lo, "to_m": hi, "department": rng.choice(["a", "b"]),
                         "level": rng.choice(["L0", "L1", "L2"]), "level_rank": float(rng.integers(0, 3))})
        for _ in range(rng.integers(0, 3)):
            events.append({"employee_id": eid, "month": float(rng.integers(0, 40)),
                           "kind": rng.choice(["left", "promoted"]), "to_level": rng.choice(["L1", "L2", None])})
    return pd.DataFrame(rows), pd.DataFrame(events)


def test_history_lookups_equal_the_merges():
    import pandas as pd

    from analytics.claims import outcome_claims as oc

    rng = np.random.default_rng(11)
    rows, events = _history(rng)
    units = pd.Series([*(f"E{i:04d}" for i in rng.integers(0, 300, 500)), "nobody", "E9999"])
    month = rng.integers(-2, 42, len(units)).astype(float)
    month[::17] = np.nan
    pd.testing.assert_frame_equal(oc._at(rows, units, month).astype(object),
                                  reference._at_reference(rows, units, month).astype(object))
    assert (oc._employed(rows, units, month) == reference._employed_reference(rows, units, month)).all()
    for kind in ("left", "promoted"):
        np.testing.assert_array_equal(oc._first_after(events, kind, units, month),
                                      reference._first_after_reference(events, kind, units, month))
    levels = {"L1"}
    within = events[events["to_level"].isin(levels)]
    beyond = events[~events["to_level"].isin(levels)]
    np.testing.assert_array_equal(oc._first_after(events, "promoted", units, month, levels, True),
                                  reference._first_after_reference(within, "promoted", units, month))
    np.testing.assert_array_equal(oc._first_after(events, "promoted", units, month, levels, False),
                                  reference._first_after_reference(beyond, "promoted", units, month))


def test_segments_equal_the_merges():
    import pandas as pd

    from analytics.claims import outcome_claims as oc

    rng = np.random.default_rng(12)
    rows, _ = _history(rng)
    n = 400
    entry = rng.integers(0, 25, n).astype(float)
    exit_ = np.where(rng.random(n) < 0.4, entry + rng.integers(0, 15, n), np.nan)
    people = pd.DataFrame({"unit": np.arange(n), "employee_id": [f"E{i:04d}" for i in rng.integers(0, 320, n)],
                           "entry": entry, "start": np.where(rng.random(n) < 0.3, entry - 1, np.nan),
                           "department": "x", "level": "y", "participant": rng.random(n) < 0.3,
                           "exit": exit_, "censor": np.where(rng.random(n) < 0.2, entry + 5, np.nan)})
    fast, ref = oc.segments(people, rows, 36), reference._segments_reference(people, rows, 36)
    assert len(fast) > n // 2
    pd.testing.assert_frame_equal(fast, ref, check_dtype=False)


def test_history_lookups_on_an_organisation_without_events():
    """No leaver and no promotion at all (a small roster history): every look-up finds nothing, as
    the merge does (the index of an empty frame once failed on a person it did not hold)."""
    import pandas as pd

    from analytics.claims import outcome_claims as oc

    rows, events = _history(np.random.default_rng(12), n=20)
    none = events.iloc[0:0]
    units = pd.Series(["E0001", "E0003", "nobody"])
    month = np.array([1.0, np.nan, 3.0])
    for kind in ("left", "promoted"):
        got = oc._first_after(none, kind, units, month)
        np.testing.assert_array_equal(got, reference._first_after_reference(none, kind, units, month))
        assert np.isnan(got).all()
    empty = rows.iloc[0:0]
    assert not oc._employed(empty, units, month).any()


# -- roster-filtered views selected from the unfiltered panel vs built by their own queries ------------
ROSTER_VIEWS = [{"department": ("Engineering",)}, {"level": ("Manager", "Director")},
                {"department": ("Sales", "Marketing"), "generation": ("Gen Z", "Millennial")},
                {"location": ("Nowhere",)}]


@pytest.mark.parametrize("view", ROSTER_VIEWS, ids=lambda v: "+".join(v))
def test_a_roster_filtered_panel_selected_from_the_unfiltered_one_equals_its_own_build(demo_path, view):
    import pandas as pd

    from analytics.claims.panel import build_panel, select
    from analytics.filters import Filters
    from analytics.store import Database
    from analytics.store.released import released

    db = Database.reader(demo_path)
    try:
        with released(db, 5):
            built = build_panel(db, Filters(**view))
            chosen = select(build_panel(db, Filters()), Filters(**view))
    finally:
        db.close()
    assert built.roster["selected"].any() or view == {"location": ("Nowhere",)}
    pd.testing.assert_frame_equal(chosen.roster, built.roster, check_exact=True)
    assert chosen.filters == built.filters
    for name in built.scores:
        np.testing.assert_array_equal(chosen.scores[name], built.scores[name])
    np.testing.assert_array_equal(chosen.leadership, built.leadership)
    assert [m.name for m in chosen.metrics] == [m.name for m in built.metrics]
    for a, b in zip(chosen.metrics, built.metrics):
        np.testing.assert_array_equal(a.values, b.values)
    pd.testing.assert_frame_equal(chosen.waves, built.waves)
    pd.testing.assert_frame_equal(chosen.doses.sort_values("idx", ignore_index=True),  # (a query in no order)
                                  built.doses.sort_values("idx", ignore_index=True))


def test_a_roster_filtered_scorecard_is_the_same_whichever_way_its_panel_was_made(demo_path, monkeypatch):
    """The engine selects a department's panel from the cached unfiltered one; forcing it to
    build the panel by query instead gives the same scorecard, figure for figure."""
    from analytics.claims import engine
    from analytics.filters import Filters
    from analytics.store import Database

    view = Filters(department=("Engineering",))
    db = Database.reader(demo_path)
    try:
        engine.forget(db)
        fast = engine.run(db, view, 5, 0.2)
        assert any(key[0] == id(db) for key in engine._PANELS)  # it went through the unfiltered panel
        engine.forget(db)
        monkeypatch.setattr(engine, "shares_base", lambda filters: False)
        slow = engine.run(db, view, 5, 0.2)
        assert not any(key[0] == id(db) for key in engine._PANELS)
        from analytics.claims.scorecard import claim_row
        from analytics.store.stored_results import same_value

        rows = [[claim_row(res, r.sesoi, r.min_group, True) for res in r.results.values()] for r in (fast, slow)]
        assert len(rows[0]) == 12 and any(row["verdict"] != "insufficient_data" for row in rows[0])
        assert same_value(rows[0], rows[1])  # every figure, NaN for NaN
    finally:
        engine.forget(db)
        db.close()


def test_whole_groups_on_integer_group_codes_equal_the_text_ids(demo_path):
    from analytics.claims.panel import build_panel
    from analytics.claims.population import restrict_sample
    from analytics.filters import Filters
    from analytics.store import Database
    from analytics.store.released import released

    db = Database.reader(demo_path)
    try:
        with released(db, 5):
            panel = build_panel(db, Filters())
    finally:
        db.close()
    panel.roster.loc[panel.roster.index[:7], "block_id"] = None  # people outside every group: one group
    panel.cache["min_group"] = 5
    rng = np.random.default_rng(3)
    kept = 0
    for share in (0.2, 0.5, 0.9):
        people = rng.random(panel.n_people) < share
        part = rng.random(panel.n_people) < 0.3
        fast = restrict_sample(panel, people, part)
        np.testing.assert_array_equal(fast, reference._restrict_sample_reference(panel, people, part))
        kept += int(fast.sum())
        assert (fast <= people).all() and fast.sum() < people.sum()  # some groups were too small
    assert kept > 0
