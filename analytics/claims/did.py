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

All ATT(g, t) are the coefficients of one saturated weighted least-squares fit (a cell
dummy and a cell × treated dummy per cell) with errors clustered by person. A saturated
regression is a set of weighted means, so it is computed in closed form: each cell effect is
a difference of two weighted means, and each person's contribution to it (their influence
function, ψ = w·(Δy − cell mean)/Σw, negative for comparison people) gives the
cluster-robust covariance V = c·ΨᵀΨ, with statsmodels' small-sample factor
c = G/(G−1)·(N−1)/(N−K) — identical to `sm.WLS(...).fit(cov_type="cluster")`, without
building the design matrix (200,000 people × a dozen cells). Cohort and overall effects
are linear combinations of the cell effects: θ(g) = mean_t ATT(g, t),
θ = Σ_g n_g θ(g) / Σ_g n_g ("group" aggregation).

Base period: each person's own mean over the waves before g (`PRE_MEAN`, the default: it
uses every pre-wave and so has less noise), or the wave just before the start (`LAST`,
Callaway & Sant'Anna's universal base period).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analytics.claims._threads import single_threaded
from analytics.claims.panel import COVARIATES, timing_group  # noqa: F401  (timing_group: public here too)

Z = stats.norm.ppf(0.975)


# -- timing and weights -----------------------------------------------------------------------


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
    # integer codes per covariate (missing is its own level), then one code per covariate cell
    codes_by = []
    for c in cov:
        k = pd.factorize(units[c], sort=True)[0]
        codes_by.append(np.where(k < 0, k.max() + 1, k))  # missing: a level of its own, last
    dims = [int(c.max()) + 1 for c in codes_by]
    flat = np.ravel_multi_index(codes_by, dims)
    cell_keys, codes = np.unique(flat, return_inverse=True)
    succ = np.bincount(codes, weights=d, minlength=len(cell_keys))
    count = np.bincount(codes, minlength=len(cell_keys)).astype(float)
    levels = np.unravel_index(cell_keys, dims)
    cols = []
    for lv, k in zip(levels, dims):
        for j in range(1, k):  # drop the first level of each covariate
            col = (lv == j).astype(float)
            if col.std() > 0:
                cols.append(col)
    x = np.column_stack([np.ones(len(cell_keys))] + cols)
    endog = np.column_stack([succ, count - succ])
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
class BasePeriod(str, Enum):
    """What a person's outcome after the start is compared with."""

    PRE_MEAN = "pre_mean"   # the person's own mean over every wave before the start
    LAST = "last"           # the wave just before the start (Callaway & Sant'Anna's universal base)


def _combo_stats(est: float, var: float) -> tuple[float, float, float, float, float]:
    se = float(np.sqrt(max(var, 0.0)))
    p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else float("nan")
    return float(est), se, float(est - Z * se), float(est + Z * se), p


@dataclass(frozen=True)
class CellFit:
    """Cell effects of one saturated fit, with each person's influence on each cell.

    `cells` has g, t, e (= t − g), estimate, se, n_treated, n_comparison; `psi` is
    (n_people × n_cells); the covariance of the cell effects is `factor · psiᵀ psi`.
    """

    cells: pd.DataFrame
    b: np.ndarray
    psi: np.ndarray
    factor: float
    comparison: np.ndarray      # bool per person: in some cell as a comparison person
    people: np.ndarray          # bool per person: in some cell at all
    cov: np.ndarray             # factor · ΨᵀΨ, the cluster-robust covariance of the cell effects

    def combo(self, a: np.ndarray) -> tuple[float, float, float, float, float]:
        """(estimate, se, ci_low, ci_high, p) of the linear combination a·b."""
        a = np.asarray(a, float)
        return _combo_stats(float(a @ self.b), float(a @ self.cov @ a))

    def influence(self, a: np.ndarray) -> np.ndarray:
        """Each person's influence on a·b, scaled so that Σ infl² is its variance."""
        return np.sqrt(self.factor) * (self.psi @ np.asarray(a, float))


def fit_cells(specs, n: int, w: np.ndarray) -> CellFit | None:
    """The closed-form saturated WLS for cells given as (meta, dy, treated mask, comparison mask)."""
    if not specs:
        return None
    psi = np.zeros((n, len(specs)))
    b = np.empty(len(specs))
    people = np.zeros(n, bool)
    comparison = np.zeros(n, bool)
    n_obs = 0
    rows = []
    for k, (meta, dy, trt, ctrl) in enumerate(specs):
        wt, wc = w[trt], w[ctrl]
        mt = float(np.dot(wt, dy[trt]) / wt.sum())
        mc = float(np.dot(wc, dy[ctrl]) / wc.sum())
        b[k] = mt - mc
        psi[trt, k] = wt * (dy[trt] - mt) / wt.sum()
        psi[ctrl, k] = -wc * (dy[ctrl] - mc) / wc.sum()
        people |= trt | ctrl
        comparison |= ctrl
        n_obs += int(trt.sum() + ctrl.sum())
        rows.append(dict(meta, n_treated=int(trt.sum()), n_comparison=int(ctrl.sum())))
    n_clusters, k_params = int(people.sum()), 2 * len(specs)
    factor = (n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k_params)
              if n_clusters > 1 and n_obs > k_params else float("nan"))
    cov = factor * (psi.T @ psi)
    cells = pd.DataFrame(rows)
    cells["estimate"] = b
    cells["se"] = np.sqrt(np.clip(np.diag(cov), 0, None))
    return CellFit(cells, b, psi, factor, comparison, people, cov)


class _Prefix:
    """Running sums and counts of each person's answered periods: any mean over the first k
    periods (or from period k on) in O(n), instead of one nanmean per cohort."""

    def __init__(self, y: np.ndarray):
        fin = np.isfinite(y)
        self.sum = np.concatenate([np.zeros((len(y), 1)), np.cumsum(np.where(fin, y, 0.0), axis=1)], axis=1)
        self.count = np.concatenate([np.zeros((len(y), 1)), np.cumsum(fin, axis=1)], axis=1)
        self.share = self.count / np.maximum(np.arange(y.shape[1] + 1), 1)  # share answered in the first k

    def first(self, k: int) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count[:, k] > 0, self.sum[:, k] / self.count[:, k], np.nan)

    def from_(self, k: int) -> np.ndarray:
        s, c = self.sum[:, -1] - self.sum[:, k], self.count[:, -1] - self.count[:, k]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, s / c, np.nan)


def _pre_base(y: np.ndarray, g0: int, base: BasePeriod, skip: int = 0, prefix: _Prefix | None = None) -> np.ndarray:
    if base is BasePeriod.LAST:
        return y[:, g0 - 1 - skip].copy()
    return (prefix or _Prefix(y)).first(g0 - skip)


def _response(pre: np.ndarray, answered, treated, comparison, w) -> dict:
    """Differential response in one cell: the change from before the start to this wave in the
    share answering, treated minus (weighted) comparison, over everyone in either group.

    A stable difference in how often people answer (participants answer more, before and after)
    does not bias a comparison of each person with their own baseline; a change after the start
    that differs between the groups can, so that is what is measured. `pre` is each person's
    share of pre-start waves answered.
    """
    d = answered.astype(float) - pre
    out = {}
    infl = np.zeros(len(d))
    for name, wm, sign in (("treated", treated.astype(float), 1.0), ("comparison", w * comparison, -1.0)):
        W = wm.sum()
        if W <= 0:
            return {"response_gap": 0.0, "response_gap_se": float("inf"), "response_treated": 1.0,
                    "response_comparison": 1.0, "response_influence": None}
        m = float(wm @ d / W)
        v = float((wm ** 2) @ ((d - m) ** 2) / W ** 2)
        infl += sign * wm * (d - m) / W
        out[name] = (m, v, float(wm @ answered / W))
    (mt, vt, rt), (mc, vc, rc) = out["treated"], out["comparison"]
    # each person's influence on the gap: cells sharing people combine into an aggregate SE that
    # keeps their correlation (checks.lee_bounds)
    return {"response_gap": mt - mc, "response_gap_se": float(np.sqrt(vt + vc)), "response_treated": rt,
            "response_comparison": rc, "response_influence": infl}


def effect_cells(y, g, treated, w, min_group=5, base=BasePeriod.PRE_MEAN, collapse_skip=None, base_skip=0,
                 max_after=None):
    """ATT(g, t) cells (or one collapsed post-mean cell per cohort) and the kept cohorts.

    collapse_skip=None: one cell per cohort g and wave t ≥ g, comparison = people not (yet)
    treated at t. collapse_skip=k: one cell per cohort, each person's mean over periods ≥ g
    minus their mean over periods < g − k (the k periods before g are left out: a start month
    is neither before nor after), comparison = people never treated in the window.
    `base_skip` (cells per period only) leaves the same k periods out of the base, for a monthly
    event study whose start month is neither before nor after; `max_after` keeps cells with
    t − g ≤ max_after only (an event study's window).
    Returns (CellFit or None, [(g, n_g, [cell indices])], the cell specs).
    """
    n, T = y.shape
    cohorts = sorted(int(x) for x in np.unique(g[treated & np.isfinite(g) & (g >= 1) & (g < T)]))
    never = ~np.isfinite(g) | (g >= T)
    specs, kept = [], []
    skip = collapse_skip if collapse_skip is not None else int(base_skip)
    prefix = _Prefix(y)
    for g0 in cohorts:
        if g0 - skip < 1:
            continue
        in_c = treated & (g == g0)
        b0 = _pre_base(y, g0, BasePeriod.PRE_MEAN if collapse_skip is not None else base, skip, prefix)
        has_b = np.isfinite(b0)
        treat = in_c & has_b
        n_g = int((treat & (prefix.count[:, -1] > prefix.count[:, g0])).sum())
        if n_g < min_group:
            continue
        pre_share = prefix.share[:, g0]
        if collapse_skip is not None:
            post = prefix.from_(g0)
            periods = [(None, post, never)]
        else:
            last = T if max_after is None else min(T, g0 + int(max_after) + 1)
            periods = [(t, y[:, t], g > t) for t in range(g0, last)]
        ks = []
        for t, yt, ctrl_mask in periods:
            ok = np.isfinite(yt)
            trt = treat & ok
            ctrl = ctrl_mask & ~in_c & has_b & ok
            if trt.sum() < min_group or ctrl.sum() < min_group:
                continue
            ks.append(len(specs))
            meta = {"g": g0, "t": t, "e": None if t is None else t - g0,
                    **_response(pre_share, ok, in_c, ctrl_mask & ~in_c, w)}
            specs.append((meta, yt - b0, trt, ctrl))
        if ks:
            kept.append((g0, n_g, ks))
    return fit_cells(specs, n, w), kept, specs


def placebo_cells(y, g, treated, w, min_group=5, base=BasePeriod.LAST, base_skip=0, max_before=None):
    """Pre-start cells: cohort vs people not yet treated when the cohort starts (g' > g).

    base LAST: Y_t − Y_{g−1} for t ≤ g − 2 (the wave before the start is the reference, 0);
    base PRE_MEAN: Y_t − own pre-start mean for t < g (cohorts with ≥ 2 pre-waves only; with
    one pre-wave the difference is 0 by construction). `base_skip` leaves the last k periods
    before g out (the start month of a monthly metric): they are neither placebo nor base;
    `max_before` keeps that many placebo periods before them.
    """
    n, T = y.shape
    fin = np.isfinite(y)
    skip = int(base_skip)
    cohorts = sorted(int(x) for x in np.unique(g[treated & np.isfinite(g) & (g >= 2 + skip) & (g < T)]))
    specs = []
    for g0 in cohorts:
        in_c = treated & (g == g0)
        b0 = _pre_base(y, g0, base, skip)
        ts = range(g0 - 1 - skip) if base is BasePeriod.LAST else range(g0 - skip)
        if max_before is not None:  # e = t − g ≥ −(max_before + skip)
            ts = [t for t in ts if t - g0 >= -(int(max_before) + skip)]
        for t in ts:
            ok = np.isfinite(b0) & fin[:, t]
            trt = in_c & ok
            ctrl = (g > g0) & ~in_c & ok
            if trt.sum() < min_group or ctrl.sum() < min_group:
                continue
            specs.append(({"g": g0, "t": t, "e": t - g0}, y[:, t] - b0, trt, ctrl))
    return fit_cells(specs, n, w)


@dataclass(frozen=True)
class PreTrend:
    """Placebo check of parallel pre-trends (cohorts with at least two waves before their start).

    estimate: size-weighted mean placebo difference in (Y_{g−1} − Y_t), t < g − 1 (positive:
    participants were already rising faster); p_value: joint Wald test that every placebo is 0.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_waves: int
    n_cells: int


def pretrend_test(y, g, treated, w, min_group=5, fit=None) -> PreTrend | None:
    """The joint placebo test (see `PreTrend`); None when no cohort has two pre-waves.

    `fit` may pass in the placebo cells (base: the wave before the start) when already computed."""
    fit = fit if fit is not None else placebo_cells(y, g, treated, w, min_group, BasePeriod.LAST)
    if fit is None:
        return None
    b = -fit.b  # report Y_{g−1} − Y_t: positive = already rising faster before the start
    n_t = fit.cells["n_treated"].to_numpy(float)
    est, se, lo, hi, _ = fit.combo(-n_t / n_t.sum())
    try:
        chi2 = float(b @ np.linalg.solve(fit.cov, b))
        p = float(stats.chi2.sf(chi2, len(b)))
    except np.linalg.LinAlgError:
        p = float("nan")
    return PreTrend(est, se, lo, hi, p, int(fit.cells["g"].max()), len(b))


@dataclass(frozen=True)
class DidResult:
    """The staggered DiD of one population.

    `n_people` counts each person once (a later starter is first a comparison colleague, so
    n_treated + n_comparison can exceed it). `weights` is the aggregation vector over the
    cells of `fit` (θ = weights · b). Estimates are NaN when no cohort is large enough.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_comparison: int
    n_people: int
    cohorts: pd.DataFrame
    cells: pd.DataFrame
    pretrend: PreTrend | None
    fit: CellFit | None = field(default=None, repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)
    kept: tuple = field(default=(), repr=False)
    specs: tuple = field(default=(), repr=False)
    placebo: CellFit | None = field(default=None, repr=False)


COHORT_FRAME = ["g", "estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_comparison", "weight"]


def did_arrays(y, g, treated, w, min_group=5, base=BasePeriod.PRE_MEAN, collapse_skip=None,
               with_pretrend=True) -> DidResult:
    """Staggered DiD on a person × period array (see the module docstring)."""
    g = np.asarray(g, float)
    treated = np.asarray(treated, bool)
    w = np.asarray(w, float)
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be positive and finite")
    fit, kept, specs = effect_cells(y, g, treated, w, min_group, base, collapse_skip)
    plac = placebo_cells(y, g, treated, w, min_group, BasePeriod.LAST) if with_pretrend else None
    pt = pretrend_test(y, g, treated, w, min_group, fit=plac) if plac is not None else None
    nan = float("nan")
    if fit is None:
        return DidResult(nan, nan, nan, nan, nan, 0, 0, 0, pd.DataFrame(columns=COHORT_FRAME),
                         pd.DataFrame(columns=["g", "t", "e", "n_treated", "n_comparison", "estimate", "se"]), pt,
                         placebo=plac)
    total = sum(n for _, n, _ in kept)
    overall = np.zeros(len(fit.b))
    rows = []
    for g0, n_g, ks in kept:
        a = np.zeros(len(fit.b))
        a[ks] = 1.0 / len(ks)
        est, se, lo, hi, p = fit.combo(a)
        rows.append({"g": g0, "estimate": est, "se": se, "ci_low": lo, "ci_high": hi, "p_value": p,
                     "n_treated": n_g, "n_comparison": int(fit.cells["n_comparison"].to_numpy()[ks].max()),
                     "weight": n_g / total})
        overall += a * n_g / total
    est, se, lo, hi, p = fit.combo(overall)
    return DidResult(est, se, lo, hi, p, int(total), int(fit.comparison.sum()), int(fit.people.sum()),
                     pd.DataFrame(rows, columns=COHORT_FRAME), fit.cells, pt, fit, overall, tuple(kept), tuple(specs),
                     plac)


def _wide(panel: pd.DataFrame, unit_index: pd.Index, n_periods: int) -> np.ndarray:
    y = np.full((len(unit_index), n_periods), np.nan)
    rows = unit_index.get_indexer(panel["unit"])
    ok = rows >= 0
    y[rows[ok], panel["t"].to_numpy(int)[ok]] = panel["y"].to_numpy(float)[ok]
    return y


@single_threaded
def staggered_did(panel: pd.DataFrame, units: pd.DataFrame, n_periods: int, min_group: int = 5,
                  collapse_post: bool = False, with_pretrend: bool = True,
                  base: BasePeriod = BasePeriod.PRE_MEAN) -> DidResult:
    """Staggered DiD of a long `panel` (unit, t, y) for the treated units in `units`.

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
        use only never-treated comparison people (fewer cells; monthly metrics).
    with_pretrend : also run the placebo pre-trend test.
    base : the base period (`BasePeriod`).
    """
    units = units.reset_index(drop=True)
    uidx = pd.Index(units["unit"])
    if not uidx.is_unique:
        raise ValueError("units must be unique")
    y = _wide(panel, uidx, n_periods)
    return did_arrays(y, units["g"].to_numpy(float), units["treated"].to_numpy(bool), units["w"].to_numpy(float),
                      min_group, base, 0 if collapse_post else None, with_pretrend)


# -- descriptive companions -------------------------------------------------------------------
def weighted_mean_ci(y, w=None) -> tuple[float, float, float]:
    """Mean with a 95% CI: the WLS-on-a-constant estimate with HC1 errors, in closed form.

    For a constant-only WLS, HC1 is n/(n−1)·Σw²(y−m)²/(Σw)², which is the classic s²/n when
    unweighted (checked against scipy's standard error in the tests).
    """
    y = np.asarray(y, float)
    if len(y) < 2:
        return (float(np.mean(y)) if len(y) else np.nan, np.nan, np.nan)
    w = np.ones_like(y) if w is None else np.asarray(w, float)
    W = w.sum()
    m = float(w @ y / W)
    n = len(y)
    se = float(np.sqrt(n / (n - 1) * ((w ** 2) @ ((y - m) ** 2)) / W ** 2))
    return m, m - Z * se, m + Z * se


def smd(x_t, x_c, w_c=None) -> float:
    """Standardised mean difference: (mean_t − weighted mean_c) / √((var_t + var_c)/2), unweighted variances."""
    x_t, x_c = np.asarray(x_t, float), np.asarray(x_c, float)
    if len(x_t) < 2 or len(x_c) < 2:
        return float("nan")
    m_c = np.average(x_c, weights=w_c) if w_c is not None else x_c.mean()
    s = np.sqrt((x_t.var(ddof=1) + x_c.var(ddof=1)) / 2)
    return float((x_t.mean() - m_c) / s) if s > 0 else 0.0
