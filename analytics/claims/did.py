"""Staggered difference-in-differences with covariate weighting (Callaway & Sant'Anna style).

Why not one two-way fixed-effects regression: with staggered starts, TWFE uses already-treated
people as controls for later starters, and its implicit weights can turn negative
(Goodman-Bacon 2021). Instead each start group g (people whose first post-start wave is g)
is compared, wave by wave, only with people not (yet) treated at that wave:

    ATT(g, t) = E_w[Y_t − Ȳ_pre(g) | cohort g] − E_w[Y_t − Ȳ_pre(g) | not treated by t],  t ≥ g

where Ȳ_pre(g) is the person's own mean over the waves before g (differencing removes every
stable person trait, which is what self-selection loads on, so no person dummies are needed)
and E_w weights comparison people by their odds of participating given department, level,
generation and tenure (inverse-probability weighting for the treated, Abadie 2005). The
baseline outcome is deliberately *not* a covariate (Daw & Hatfield 2018).

All ATT(g, t) come from one saturated weighted least-squares fit (statsmodels WLS, a cell
dummy and a cell × treated dummy per cell) with errors clustered by person, so the
covariance between cells that share comparison people is estimated, and the cohort and
overall effects are linear combinations of the cell effects:
θ(g) = mean_t ATT(g, t), θ = Σ_g n_g θ(g) / Σ_g n_g ("group" aggregation).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analytics.claims._threads import single_threaded

Z = stats.norm.ppf(0.975)


# -- timing and weights -----------------------------------------------------------------------
def timing_group(start, wave_dates) -> np.ndarray:
    """Index of the first wave opened on or after each start date (len(waves) if none; inf if no start).

    Examples
    --------
    >>> import datetime as d
    >>> w = [d.date(2025, 1, 15), d.date(2025, 4, 15)]
    >>> timing_group(pd.Series([d.date(2025, 2, 1), None, d.date(2025, 4, 15), d.date(2025, 9, 1)]), w).tolist()
    [1.0, inf, 1.0, 2.0]
    """
    s = pd.to_datetime(pd.Series(start), errors="coerce")
    wd = pd.to_datetime(pd.Series(list(wave_dates))).to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(wd, s.to_numpy(dtype="datetime64[ns]"), side="left").astype(float)
    idx[s.isna().to_numpy()] = np.inf
    return idx


COVARIATES = ("department", "level", "generation", "tenure_band")


@single_threaded
def propensity_weights(units: pd.DataFrame, treated_col: str = "participant", max_p: float = 0.95,
                       covariates=COVARIATES) -> np.ndarray:
    """ATT weights: 1 for participants, p/(1−p) for everyone else (p from a logit on covariates).

    The logit (statsmodels GLM, binomial family) models participation on department, level,
    generation and tenure band. Because every covariate is categorical it is fitted on the
    covariate cells (successes and failures per cell), which is the same maximum-likelihood fit
    as one row per person but fast on 200,000 people. A ridge-penalised fit is the fallback
    when the design is degenerate. p is capped at `max_p`, so no comparison person weighs more
    than 19 participants.
    """
    d = units[treated_col].to_numpy(bool)
    cov = [c for c in covariates if c in units]
    if not cov or d.all() or not d.any():
        return np.ones(len(units))
    key = pd.DataFrame({c: units[c].astype(object).where(units[c].notna(), "(missing)").astype(str)
                        for c in cov})
    key["_d"] = d
    cells = key.groupby(cov, sort=True)["_d"].agg(["sum", "count"]).reset_index()
    codes = key.groupby(cov, sort=True).ngroup().to_numpy()
    x = pd.get_dummies(cells[cov], drop_first=True, dtype=float)
    x = sm.add_constant(x.loc[:, x.std(ddof=0) > 0], has_constant="add").to_numpy(float)
    endog = np.column_stack([cells["sum"], cells["count"] - cells["sum"]]).astype(float)
    p = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.GLM(endog, x, family=sm.families.Binomial()).fit(maxiter=100)
            p = np.asarray(fit.predict(x))
            if not np.all(np.isfinite(p)):
                p = None
        except Exception:  # singular design or perfect separation
            p = None
        if p is None:
            fit = sm.GLM(endog, x, family=sm.families.Binomial()).fit_regularized(alpha=1e-4, L1_wt=0.0)
            p = np.asarray(fit.predict(x))
    p = np.clip(p, 1e-9, max_p)[codes]
    return np.where(d, 1.0, p / (1 - p))


# -- the estimator ----------------------------------------------------------------------------
def _wide(panel: pd.DataFrame, unit_index: pd.Index, n_periods: int) -> np.ndarray:
    y = np.full((len(unit_index), n_periods), np.nan)
    rows = unit_index.get_indexer(panel["unit"])
    ok = rows >= 0
    y[rows[ok], panel["t"].to_numpy(int)[ok]] = panel["y"].to_numpy(float)[ok]
    return y


def _fit_cells(dy, cell, d, w, cluster, n_cells):
    """Saturated WLS: cell dummies + cell×treated dummies, errors clustered by person."""
    x = np.zeros((len(dy), 2 * n_cells))
    x[np.arange(len(dy)), cell] = 1.0
    x[np.arange(len(dy)), n_cells + cell] = d
    fit = sm.WLS(dy, x, weights=w, hasconst=True).fit(method="qr", cov_type="cluster", cov_kwds={"groups": cluster})
    b = np.asarray(fit.params)[n_cells:]
    v = np.asarray(fit.cov_params())[n_cells:, n_cells:]
    return b, v, fit


def _combo(b, v, a):
    est = float(a @ b)
    se = float(np.sqrt(max(a @ v @ a, 0.0)))
    p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return est, se, est - Z * se, est + Z * se, p


@single_threaded
def staggered_did(panel: pd.DataFrame, units: pd.DataFrame, n_periods: int, min_group: int = 5,
                  collapse_post: bool = False, with_pretrend: bool = True) -> dict:
    """Staggered DiD of `panel` (unit, t, y) for the treated units in `units`.

    Parameters
    ----------
    panel : DataFrame with unit, t (0-based period index), y.
    units : DataFrame with unit, g (first treated period; ≥ n_periods or inf = untreated in the
        window), treated (bool: part of the claim's treated population), w (weight, > 0).
        Comparison units are those not in a treated cohort at period t (g > t).
    n_periods : number of periods.
    min_group : start cohorts with fewer treated people (or cells with fewer comparison
        people) are left out, so no reported group is smaller than the anonymity threshold.
    collapse_post : average each person's post periods into one difference per cohort and
        use only never-treated comparison people (fewer cells; used for monthly metrics).
    with_pretrend : also run the placebo pre-trend test (skipped for monthly metrics, where
        it would need one cell per cohort and pre-month).

    Returns
    -------
    dict with estimate, se, ci_low, ci_high, p_value, n_treated, n_comparison, n_people (each
    person once: a later starter is first a comparison colleague), cohorts
    (DataFrame g, estimate, se, ci_low, ci_high, p_value, n_treated, n_comparison, weight),
    cells (DataFrame g, t, estimate, se, n_treated, n_comparison), and pretrend.
    Estimates are NaN when no cohort is large enough.
    """
    units = units.reset_index(drop=True)
    uidx = pd.Index(units["unit"])
    if not uidx.is_unique:
        raise ValueError("units must be unique")
    y = _wide(panel, uidx, n_periods)
    g = units["g"].to_numpy(float)
    tr = units["treated"].to_numpy(bool)
    w = units["w"].to_numpy(float)
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be positive and finite")
    cohorts = sorted(int(x) for x in np.unique(g[tr & np.isfinite(g) & (g >= 1) & (g < n_periods)]))

    dy_parts, cell_parts, d_parts, w_parts, c_parts, cells, kept = [], [], [], [], [], [], []
    for g0 in cohorts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # people without a pre-wave: NaN
            base = np.nanmean(y[:, :g0], axis=1)
        post_cols = range(g0, n_periods)
        treat = tr & (g == g0) & np.isfinite(base)
        if collapse_post:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                post = np.nanmean(y[:, g0:], axis=1)
            periods = [(None, post, ~np.isfinite(g) | (g >= n_periods))]
        else:
            periods = [(t, y[:, t], g > t) for t in post_cols]
        n_g = int((treat & np.isfinite(y[:, g0:]).any(axis=1)).sum())
        if n_g < min_group:
            continue
        cohort_cells = []
        for t, yt, ctrl_mask in periods:
            ctrl = ctrl_mask & ~(tr & (g == g0)) & np.isfinite(base) & np.isfinite(yt)
            trt = treat & np.isfinite(yt)
            if trt.sum() < min_group or ctrl.sum() < min_group:
                continue
            sel = trt | ctrl
            k = len(cells)
            dy_parts.append(yt[sel] - base[sel])
            cell_parts.append(np.full(sel.sum(), k))
            d_parts.append(trt[sel].astype(float))
            w_parts.append(w[sel])
            c_parts.append(np.flatnonzero(sel))
            cells.append({"g": g0, "t": t, "n_treated": int(trt.sum()), "n_comparison": int(ctrl.sum())})
            cohort_cells.append(k)
        if cohort_cells:
            kept.append((g0, n_g, cohort_cells))

    out = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
           "n_treated": 0, "n_comparison": 0, "n_people": 0,
           "cohorts": pd.DataFrame(columns=["g", "estimate", "se", "ci_low", "ci_high", "p_value",
                                            "n_treated", "n_comparison", "weight"]),
           "cells": pd.DataFrame(cells), "pretrend": None}
    out["pretrend"] = pretrend(y, g, tr, w, min_group) if with_pretrend else None
    if not cells:
        return out
    dy = np.concatenate(dy_parts)
    cell = np.concatenate(cell_parts)
    d = np.concatenate(d_parts)
    ww = np.concatenate(w_parts)
    clus = np.concatenate(c_parts)
    b, v, _ = _fit_cells(dy, cell, d, ww, clus, len(cells))
    ses = np.sqrt(np.clip(np.diag(v), 0, None))
    cells_df = pd.DataFrame(cells)
    cells_df["estimate"], cells_df["se"] = b, ses

    total = sum(n for _, n, _ in kept)
    overall = np.zeros(len(cells))
    rows = []
    ctrl_units = np.unique(clus[d == 0])
    for g0, n_g, ks in kept:
        a = np.zeros(len(cells))
        a[ks] = 1.0 / len(ks)
        est, se, lo, hi, p = _combo(b, v, a)
        n_c = int(max(cells_df.loc[ks, "n_comparison"]))
        rows.append({"g": g0, "estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p,
                     "n_treated": n_g, "n_comparison": n_c, "weight": n_g / total})
        overall += a * n_g / total
    est, se, lo, hi, p = _combo(b, v, overall)
    # People who start later serve as not-yet-treated comparison first: count each person once.
    out.update(estimate=est, se=se, ci_low=lo, ci_high=hi, p_value=p, n_treated=int(total),
               n_comparison=int(len(ctrl_units)), n_people=int(len(np.unique(clus))),
               cohorts=pd.DataFrame(rows), cells=cells_df)
    return out


def pretrend(y: np.ndarray, g: np.ndarray, tr: np.ndarray, w: np.ndarray, min_group: int = 5) -> dict | None:
    """Placebo test of parallel pre-trends for cohorts with at least two pre-waves.

    For each such cohort g and earlier wave t < g−1, the placebo effect is the weighted
    difference between cohort and not-yet-treated people in (Y_{g−1} − Y_t): a positive value
    means participants were already rising faster before their start. Returns the
    size-weighted mean placebo (estimate, ci), the p-value of the joint Wald test that all
    placebo effects are zero, and n_waves (most pre-waves of any cohort); None when no
    cohort has two pre-waves.
    """
    n_periods = y.shape[1]
    cohorts = sorted(int(x) for x in np.unique(g[tr & np.isfinite(g) & (g >= 2) & (g < n_periods)]))
    parts, cells = [], []
    for g0 in cohorts:
        base = y[:, g0 - 1]
        for t in range(g0 - 1):
            ok = np.isfinite(base) & np.isfinite(y[:, t])
            trt = tr & (g == g0) & ok
            ctrl = (g > g0) & ~(tr & (g == g0)) & ok
            if trt.sum() < min_group or ctrl.sum() < min_group:
                continue
            sel = trt | ctrl
            parts.append((base[sel] - y[sel, t], np.full(sel.sum(), len(cells)), trt[sel].astype(float), w[sel],
                          np.flatnonzero(sel)))
            cells.append({"g": g0, "t": t, "n_treated": int(trt.sum())})
    if not cells:
        return None
    dy, cell, d, ww, clus = (np.concatenate([p[i] for p in parts]) for i in range(5))
    b, v, _ = _fit_cells(dy, cell, d, ww, clus, len(cells))
    n = np.array([c["n_treated"] for c in cells], float)
    est, se, lo, hi, _ = _combo(b, v, n / n.sum())
    try:
        chi2 = float(b @ np.linalg.solve(v, b))
        p = float(stats.chi2.sf(chi2, len(b)))
    except np.linalg.LinAlgError:
        p = float("nan")
    return {"estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p,
            "n_waves": int(max(cohorts)), "n_cells": len(cells)}


# -- descriptive companions -------------------------------------------------------------------
def weighted_mean_ci(y, w=None) -> tuple[float, float, float]:
    """Mean with a 95% CI: WLS of y on a constant with HC1 errors (= the classic s/√n when unweighted)."""
    y = np.asarray(y, float)
    if len(y) < 2:
        return (float(np.mean(y)) if len(y) else np.nan, np.nan, np.nan)
    w = np.ones_like(y) if w is None else np.asarray(w, float)
    fit = sm.WLS(y, np.ones((len(y), 1)), weights=w).fit(cov_type="HC1")
    lo, hi = fit.conf_int()[0]
    return float(fit.params[0]), float(lo), float(hi)


def smd(x_t, x_c, w_c=None) -> float:
    """Standardised mean difference: (mean_t − weighted mean_c) / √((var_t + var_c)/2), unweighted variances."""
    x_t, x_c = np.asarray(x_t, float), np.asarray(x_c, float)
    if len(x_t) < 2 or len(x_c) < 2:
        return float("nan")
    m_c = np.average(x_c, weights=w_c) if w_c is not None else x_c.mean()
    s = np.sqrt((x_t.var(ddof=1) + x_c.var(ddof=1)) / 2)
    return float((x_t.mean() - m_c) / s) if s > 0 else 0.0
