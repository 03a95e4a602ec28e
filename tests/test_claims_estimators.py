"""Every claims estimator against an independent reference (hand calculation or a second library path)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from analytics.claims import did, within
from analytics.claims.scores import cronbach_alpha, reliability
from analytics.claims.verdict import equivalence_p, holm, mde, verdict
from analytics.filters import Filters
from analytics.store import Database
from analytics.store import claims as q


# -- Cronbach's alpha -------------------------------------------------------------------------
def test_alpha_textbook_hand_calculation():
    # 5 respondents × 3 items; by hand: item variances 10/4, 7.2/4, 4/4 = 2.5, 1.8, 1.0 (sum 5.3),
    # totals 6, 7, 11, 13, 15 (mean 10.4) -> variance 59.2/4 = 14.8; alpha = 3/2 * (1 - 5.3/14.8) = 0.962838
    x = np.array([[1, 2, 3], [2, 2, 3], [3, 4, 4], [4, 4, 5], [5, 5, 5]], float)
    assert x.var(axis=0, ddof=1).tolist() == pytest.approx([2.5, 1.8, 1.0])
    assert x.sum(axis=1).var(ddof=1) == pytest.approx(14.8)
    assert float(cronbach_alpha(3, 5.3, 14.8)) == pytest.approx(0.962838, abs=1e-6)
    assert math.isnan(float(cronbach_alpha(1, 1.0, 1.0)))


def _tiny_db(tmp_path) -> Database:
    """Two waves, one construct with a reverse-coded item, six linked respondents."""
    db = Database(tmp_path / "tiny.duckdb")
    emp = pd.DataFrame({"employee_id": [f"E{i}" for i in range(6)],
                        "department": ["A", "A", "A", "B", "B", "B"], "level": "L", "location": "X",
                        "generation": "Gen X", "birth_year": 1970, "hire_date": pd.Timestamp("2020-01-01"),
                        "manager_id": [None, "E0", "E0", "E0", None, "E4"]})
    db.insert_df("employees", emp)
    db.insert_df("waves", pd.DataFrame({"survey": ["s1", "s2"], "opened": [dt.date(2025, 1, 1), dt.date(2025, 4, 1)]}))
    items = pd.DataFrame({"item": ["a", "b", "c"], "construct": "engagement", "scale_min": 1.0, "scale_max": 5.0,
                          "reverse": [False, False, True]})
    for s in ("s1", "s2"):
        db.insert_df("items", items.assign(survey=s))
    answers = np.array([[1, 2, 5], [2, 2, 4], [3, 4, 3], [4, 4, 1], [5, 5, 2], [3, 3, 3]], float)
    rows = []
    for s, shift in (("s1", 0), ("s2", 0)):
        for i, a in enumerate(answers):
            for item, v in zip("abc", a):
                rows.append({"survey": s, "respondent": f"r{i}{s}", "employee_id": f"E{i}", "item": item, "value": v})
    db.insert_df("responses", pd.DataFrame(rows))
    return db


def test_construct_scores_reverse_code_in_sql(tmp_path):
    db = _tiny_db(tmp_path)
    s = q.person_scores(db, Filters(), ["engagement"])
    got = s[s["survey"] == "s1"].set_index("employee_id")["score"].sort_index()
    # by hand: reverse value' = 1 + 5 - value; E0: (1 + 2 + 1)/3, E3: (4 + 4 + 5)/3
    assert got["E0"] == pytest.approx(4 / 3)
    assert got["E3"] == pytest.approx(13 / 3)
    assert len(s) == 12


def test_reliability_matches_numpy_alpha(tmp_path):
    db = _tiny_db(tmp_path)
    x = np.array([[1, 2, 5], [2, 2, 4], [3, 4, 3], [4, 4, 1], [5, 5, 2], [3, 3, 3]], float)
    x[:, 2] = 6 - x[:, 2]
    k = 3
    ref = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    r = reliability(db).set_index("construct").loc["engagement"]
    assert r["alpha"] == pytest.approx(ref)
    assert r["n"] == 12 and r["n_items"] == 3
    assert bool(r["flag"]) == (ref < 0.6)


def test_manager_scores_come_from_direct_reports(tmp_path):
    db = _tiny_db(tmp_path)
    db.insert_df("items", pd.DataFrame({"survey": ["s1"], "item": ["L"], "construct": ["leadership"],
                                        "scale_min": [1.0], "scale_max": [5.0], "reverse": [False]}))
    db.insert_df("responses", pd.DataFrame({"survey": "s1", "respondent": ["x1", "x2", "x5"],
                                            "employee_id": ["E1", "E2", "E5"], "item": "L",
                                            "value": [4.0, 2.0, 5.0]}))
    m = q.manager_scores(db, Filters()).set_index("employee_id")
    assert m.loc["E0", "score"] == pytest.approx(3.0) and m.loc["E0", "n_raters"] == 2  # (4 + 2) / 2
    assert m.loc["E4", "score"] == pytest.approx(5.0)


# -- Holm, TOST, MDE, verdict ---------------------------------------------------------------------
def test_holm_hand_calculation():
    # sorted p: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> step-down max: 0.02, 0.03, 0.06, 0.06
    got = holm([0.01, 0.04, 0.03, 0.005, np.nan])
    assert got[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert math.isnan(got[4])


def test_equivalence_p_hand_calculation():
    # effect 0.05, se 0.05, margin 0.2: p_upper = Phi((0.05-0.2)/0.05) = Phi(-3) = 0.0013499
    assert equivalence_p(0.05, 0.05, 0.2) == pytest.approx(0.0013499, rel=1e-4)
    # equivalent to: the 90% CI lies inside (-0.2, 0.2)
    for es, se in [(0.05, 0.05), (0.1, 0.08), (-0.15, 0.02), (0.0, 0.13)]:
        inside = (es - 1.6448536 * se > -0.2) and (es + 1.6448536 * se < 0.2)
        assert (equivalence_p(es, se, 0.2) < 0.05) == inside


def test_mde_is_2_8_standard_errors():
    # R: pwr::pwr.norm.test(power=.8, sig.level=.05) -> d = (1.959964 + 0.841621) * se
    assert mde(0.1) == pytest.approx(0.2801585, rel=1e-6)


@pytest.mark.parametrize("est,padj,peq,direction,expected", [
    (0.3, 0.01, 0.9, 1, "supported"),
    (-0.3, 0.01, 0.9, 1, "contradicted"),
    (-0.3, 0.01, 0.9, -1, "supported"),
    (0.05, 0.06, 0.01, 1, "no_effect"),
    (0.05, 0.01, 0.01, 1, "supported"),   # significant but tiny: the claim's direction wins, as specified
    (0.15, 0.2, 0.3, 1, "inconclusive"),
    (np.nan, np.nan, np.nan, 1, "insufficient_data"),
])
def test_verdict_rules(est, padj, peq, direction, expected):
    assert verdict(est, padj, peq, direction) == expected


def test_verdict_insufficient_overrides():
    assert verdict(0.5, 0.001, 0.9, 1, sufficient=False) == "insufficient_data"


# -- difference-in-differences ------------------------------------------------------------------
def _two_by_two(n=40, seed=0):
    rng = np.random.default_rng(seed)
    unit = np.arange(n)
    treated = unit < n // 2
    pre = rng.normal(3, 1, n) + 0.5 * treated
    post = pre + 0.2 + 0.4 * treated + rng.normal(0, 0.5, n)
    panel = pd.DataFrame({"unit": np.r_[unit, unit], "t": np.r_[np.zeros(n, int), np.ones(n, int)],
                          "y": np.r_[pre, post]})
    units = pd.DataFrame({"unit": unit, "g": np.where(treated, 1.0, np.inf), "treated": treated, "w": 1.0})
    return panel, units, pre, post, treated


def test_did_2x2_equals_difference_of_mean_changes_and_ols_first_differences():
    panel, units, pre, post, treated = _two_by_two()
    res = did.staggered_did(panel, units, 2, min_group=5)
    manual = (post - pre)[treated].mean() - (post - pre)[~treated].mean()
    assert res.estimate == pytest.approx(manual)
    # second computation: OLS of the change on treatment with HC1 errors (one row per person, so
    # clustering by person is HC1) — statsmodels formula path
    d = pd.DataFrame({"dy": post - pre, "d": treated.astype(float)})
    ref = smf.ols("dy ~ d", data=d).fit(cov_type="HC1")
    assert res.se == pytest.approx(ref.bse["d"], rel=1e-9)
    assert res.p_value == pytest.approx(ref.pvalues["d"], rel=1e-6)
    # and the person + wave fixed-effects regression gives the same point estimate (balanced 2x2)
    long = panel.merge(units, on="unit")
    long["dp"] = (long["treated"] & (long["t"] >= 1)).astype(float)
    fe = smf.ols("y ~ C(unit) + C(t) + dp", data=long).fit()
    assert res.estimate == pytest.approx(fe.params["dp"])


def test_did_weights_give_weighted_difference():
    panel, units, pre, post, treated = _two_by_two(seed=3)
    w = np.where(treated, 1.0, np.linspace(0.5, 3, len(treated)))
    units["w"] = w
    res = did.staggered_did(panel, units, 2, min_group=5)
    change = post - pre
    manual = change[treated].mean() - np.average(change[~treated], weights=w[~treated])
    assert res.estimate == pytest.approx(manual)


def test_staggered_cells_match_pandas_group_means():
    """ATT(g,t) = cohort's mean of (Y_t − own pre-g mean) minus the same for people untreated at t."""
    rng = np.random.default_rng(5)
    n, T = 300, 4
    g = rng.choice([1.0, 2.0, 3.0, np.inf, np.inf], n)
    trait = rng.normal(0, 1, n) + 0.5 * np.isfinite(g)
    y = trait[:, None] + 0.1 * np.arange(T)[None, :] + rng.normal(0, 0.3, (n, T))
    y += 0.3 * (np.arange(T)[None, :] >= g[:, None])
    panel = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "t": np.tile(np.arange(T), n), "y": y.ravel()})
    units = pd.DataFrame({"unit": np.arange(n), "g": g, "treated": np.isfinite(g), "w": 1.0})
    res = did.staggered_did(panel, units, T, min_group=5)
    cells = res.cells.set_index(["g", "t"])["estimate"]
    ref_cohort = {}
    for g0 in (1, 2, 3):
        att = []
        for t in range(g0, T):
            base = y[:, :g0].mean(axis=1)
            ctrl = g > t
            v = (y[g == g0, t] - base[g == g0]).mean() - (y[ctrl, t] - base[ctrl]).mean()
            assert cells[(g0, t)] == pytest.approx(v)
            att.append(v)
        ref_cohort[g0] = np.mean(att)
    sizes = {g0: int((g == g0).sum()) for g0 in (1, 2, 3)}
    overall = sum(sizes[k] * ref_cohort[k] for k in sizes) / sum(sizes.values())
    assert res.estimate == pytest.approx(overall)
    assert res.cohorts.set_index("g")["estimate"].to_dict() == pytest.approx(ref_cohort)
    assert res.ci_low < 0.3 < res.ci_high


def test_staggered_avoids_twfe_negative_weighting_bias():
    """Effects that grow with time since start: TWFE is biased, the cohort comparison is not."""
    n, T = 150, 4
    g = np.repeat([1.0, 3.0, np.inf], n // 3)
    t = np.arange(T)
    effect = np.where(t[None, :] >= g[:, None], 0.5 * (t[None, :] - g[:, None] + 1), 0.0)
    y = 0.2 * t[None, :] + effect  # noiseless: the estimator must be exact
    panel = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "t": np.tile(t, n), "y": y.ravel()})
    units = pd.DataFrame({"unit": np.arange(n), "g": g, "treated": np.isfinite(g), "w": 1.0})
    res = did.staggered_did(panel, units, T, min_group=5)
    # truth: cohort 1 average effect over t=1..3 = mean(0.5, 1.0, 1.5) = 1.0; cohort 3: 0.5; sizes equal
    assert res.estimate == pytest.approx(0.75)
    long = panel.merge(units, on="unit")
    long["dp"] = (long["t"] >= long["g"]).astype(float)
    twfe = smf.ols("y ~ C(unit) + C(t) + dp", data=long).fit().params["dp"]
    assert abs(twfe - 0.75) > 0.1


def test_pretrend_detects_diverging_pre_trends():
    rng = np.random.default_rng(2)
    n, T = 400, 4
    g = np.where(np.arange(n) < 150, 3.0, np.inf)
    t = np.arange(T)
    y = rng.normal(0, 0.3, (n, T)) + 0.3 * t[None, :] * np.isfinite(g)[:, None]  # treated already rising
    panel = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "t": np.tile(t, n), "y": y.ravel()})
    units = pd.DataFrame({"unit": np.arange(n), "g": g, "treated": np.isfinite(g), "w": 1.0})
    pt = did.staggered_did(panel, units, T).pretrend
    assert pt.n_waves == 3 and pt.p_value < 0.001
    # by hand: placebo = E[(Y2 − Yt) | treated] − E[(Y2 − Yt) | control] = 0.3*(2−t), averaged over t=0,1: 0.45
    assert pt.estimate == pytest.approx(0.45, abs=0.08)
    y2 = rng.normal(0, 0.3, (n, T))
    panel2 = panel.assign(y=y2.ravel())
    assert did.staggered_did(panel2, units, T).pretrend.p_value > 0.001


def test_timing_group_first_wave_on_or_after_start():
    waves = [dt.date(2025, 1, 15), dt.date(2025, 4, 15), dt.date(2025, 7, 15)]
    got = did.timing_group(pd.Series([dt.date(2025, 1, 15), dt.date(2025, 1, 16), None, dt.date(2026, 1, 1)]), waves)
    assert got.tolist() == [0.0, 1.0, math.inf, 3.0]


def test_propensity_weights_balance_a_saturated_model_exactly():
    # With department as the only covariate the logit is saturated, so the odds-weighted
    # comparison has exactly the participants' department shares (a property, computed by hand).
    rng = np.random.default_rng(0)
    dept = rng.choice(["A", "B", "C"], 3000, p=[0.5, 0.3, 0.2])
    p = pd.Series(dept).map({"A": 0.05, "B": 0.2, "C": 0.4}).to_numpy()
    part = rng.random(3000) < p
    u = pd.DataFrame({"department": dept, "participant": part})
    w = did.propensity_weights(u)
    assert np.all(w[part] == 1.0)
    for d in "ABC":
        share_t = (dept[part] == d).mean()
        share_w = np.average(dept[~part] == d, weights=w[~part])
        assert share_w == pytest.approx(share_t, abs=1e-6)


def test_weighted_mean_ci_unweighted_is_normal_interval():
    y = np.array([3.0, 4.0, 2.5, 5.0, 3.5, 4.5])
    m, lo, hi = did.weighted_mean_ci(y)
    half = stats.norm.ppf(0.975) * stats.sem(y)   # scipy: s / sqrt(n)
    assert (m, lo, hi) == pytest.approx((y.mean(), y.mean() - half, y.mean() + half))


def test_smd_hand_calculation():
    # means 2 and 4, variances 1 and 1 -> (2 - 4)/1 = -2
    assert did.smd([1, 2, 3], [3, 4, 5]) == pytest.approx(-2.0)


# -- within-programme regressions ---------------------------------------------------------------
def test_gain_regression_matches_least_squares():
    rng = np.random.default_rng(4)
    n = 120
    d = pd.DataFrame({"x": rng.poisson(10, n).astype(float), "baseline": rng.normal(3.5, 0.5, n),
                      "g": rng.choice([1, 2, 3], n)})
    d["gain"] = 0.03 * d["x"] - 0.3 * (d["baseline"] - 3.5) + 0.1 * d["g"] + rng.normal(0, 0.4, n)
    r = within.gain_regression(d, "x")
    X = np.column_stack([np.ones(n), d["x"], d["baseline"], d["g"] == 2, d["g"] == 3]).astype(float)
    beta = np.linalg.lstsq(X, d["gain"].to_numpy(), rcond=None)[0]  # numpy least squares
    assert r["estimate"] == pytest.approx(beta[1])
    assert r["effect_size"] == pytest.approx(beta[1] * d["x"].std() / d["gain"].std())
    # HC3 by hand: (X'X)^-1 X' diag(e^2/(1-h)^2) X (X'X)^-1
    e = d["gain"].to_numpy() - X @ beta
    xtx = np.linalg.inv(X.T @ X)
    h = np.einsum("ij,jk,ik->i", X, xtx, X)
    v = xtx @ (X.T * (e ** 2 / (1 - h) ** 2)) @ X @ xtx
    assert r["se"] == pytest.approx(np.sqrt(v[1, 1]))


def test_person_gains_by_hand():
    panel = pd.DataFrame({"unit": ["a"] * 4 + ["b"] * 4, "t": [0, 1, 2, 3] * 2,
                          "y": [1.0, 2.0, 4.0, 6.0, 3.0, 3.0, 3.0, 3.0]})
    units = pd.DataFrame({"unit": ["a", "b"], "g": [2.0, np.inf], "treated": [True, False]})
    g = within.person_gains(panel, units, 4)
    # a: before mean(1, 2) = 1.5, after mean(4, 6) = 5 -> gain 3.5; b is not treated
    assert g.set_index("unit").loc["a", ["baseline", "post", "gain"]].tolist() == [1.5, 5.0, 3.5]
    assert len(g) == 1
