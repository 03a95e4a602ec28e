"""One test of one claim: the `Estimate` (a frozen dataclass) and how a population becomes one."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analytics.claims import checks, did
from analytics.claims.definitions import Role
from analytics.claims.population import Population

NAN = float("nan")


@dataclass(frozen=True)
class Diagnostics:
    """The checks behind one estimate (see `analytics.claims.checks`).

    response_gap: treated minus comparison share of post-start answers; bounds_low/high: Lee
    bounds widened by 1.96 × their bootstrap SE, in SD (None unless the gap is material);
    sensitivity_breakdown: M̄ of relative magnitudes, or SD per wave of a linear trend when
    pre-trends cannot be tested (`sensitivity_kind`).
    """

    pretrend_testable: bool = False
    pretrend_p: float = NAN
    pretrend_estimate: float = NAN
    dropped_no_baseline: int = 0
    response_gap: float = NAN
    response_material: bool = False
    bounds_low: float = NAN
    bounds_high: float = NAN
    sensitivity_breakdown: float = NAN
    sensitivity_kind: str = ""
    sensitivity_overturned: bool = False
    ess_comparison: float = NAN
    ess_required: int = 0
    pre_step: float = NAN
    bias_slope: float = NAN

    def as_json(self) -> dict:
        keys = ("pretrend_testable", "pretrend_p", "dropped_no_baseline", "response_gap", "bounds_low",
                "bounds_high", "sensitivity_breakdown", "ess_comparison", "sensitivity_kind", "sensitivity_overturned")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class Estimate:
    """One test: a claim × role (× metric), raw and standardised, with its checks and verdict.

    `influence` holds each person's standardised influence on the effect (indexed like the
    panel), so two estimates' covariance — e.g. mentors vs mentees sharing comparison
    colleagues — is Σ infl_a · infl_b. Verdict fields are filled by the scorecard after Holm.
    """

    claim_id: str
    role: Role
    metric: str | None
    primary: bool
    estimate: float = NAN
    se: float = NAN
    ci_low: float = NAN
    ci_high: float = NAN
    p_value: float = NAN
    effect_size: float = NAN
    es_se: float = NAN
    es_ci_low: float = NAN
    es_ci_high: float = NAN
    n_treated: int = 0
    n_comparison: int = 0
    n_people: int = 0
    sd: float = NAN
    reason: str = ""
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    p_adjusted: float = NAN
    p_equivalence: float = NAN
    mde: float = NAN
    verdict: str = "insufficient_data"
    magnitude: str = "unclear"
    unit: str | None = None
    influence: np.ndarray | None = field(default=None, repr=False, compare=False)
    result: object = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.reason and math.isfinite(self.estimate)

    def with_(self, **kw) -> "Estimate":
        return replace(self, **kw)


def estimate_did(pop: Population, min_group: int, primary: bool, base=did.BasePeriod.PRE_MEAN,
                 metric: str | None = None, unit: str | None = None) -> Estimate:
    """Run the staggered DiD on one population and its checks (ESS, response, sensitivity inputs)."""
    monthly = pop.monthly
    res = did.did_arrays(pop.y, pop.g, pop.treated, pop.w, min_group, base,
                         collapse_skip=1 if monthly else None, with_pretrend=not monthly)
    head = dict(claim_id=pop.claim_id, role=pop.role, metric=metric, primary=primary, unit=unit, result=res)
    sd = pop.sd
    diag = dict(dropped_no_baseline=pop.dropped_no_baseline, ess_required=checks.min_ess(min_group))
    if res.n_treated < min_group or res.n_comparison < min_group or not math.isfinite(res.estimate) \
            or not sd > 0:
        reason = (f"fewer than {min_group} treated or comparison people with before and after values"
                  if pop.n_periods else "no survey waves with answers linked to the roster")
        return Estimate(**head, reason=reason, diagnostics=Diagnostics(**diag),
                        n_treated=res.n_treated if res.n_treated >= min_group else 0,
                        n_comparison=res.n_comparison if res.n_comparison >= min_group else 0)
    fit, a = res.fit, res.weights
    diag["ess_comparison"] = checks.kish_ess(pop.w[fit.comparison])
    gap, gap_se, lo, hi, q, se_lo, se_hi = checks.lee_bounds(res.specs, a, pop.w)
    diag["response_gap"] = gap
    if checks.response_material(gap, gap_se):
        # each bound widened by its own sampling error (bootstrap), never less than the estimate's:
        # the bounds rest on the kept share 1 − q of one group, so their error grows like 1/(1 − q)
        floor = res.se / (1 - q)
        diag.update(response_material=True, bounds_low=(lo - checks.Z * max(se_lo, floor)) / sd,
                    bounds_high=(hi + checks.Z * max(se_hi, floor)) / sd)
    if monthly:
        # months after the start: the violation of a linear trend accumulates over them
        T = pop.n_periods
        e = [(T - int(c["g"]) - 1) / 2 for _, c in fit.cells.iterrows()]
        diag["bias_slope"] = checks.bias_slope(e, a)
        pt = _monthly_pretrend(pop, min_group)
        if pt is not None:
            diag.update(pretrend_testable=True, pretrend_p=pt[1], pretrend_estimate=pt[0])
    else:
        diag["bias_slope"] = checks.bias_slope(fit.cells["e"].to_numpy(float), a)
        if res.pretrend is not None:
            diag.update(pretrend_testable=True, pretrend_p=res.pretrend.p_value,
                        pretrend_estimate=res.pretrend.estimate)
            diag["pre_step"] = checks.pre_step(_points_by_e(res.placebo)) if res.placebo is not None else NAN
    infl = np.zeros(0)
    if fit is not None:
        infl = fit.influence(a) / sd
    return Estimate(**head, estimate=res.estimate, se=res.se, ci_low=res.ci_low, ci_high=res.ci_high,
                    p_value=res.p_value, effect_size=res.estimate / sd, es_se=res.se / sd,
                    es_ci_low=res.ci_low / sd, es_ci_high=res.ci_high / sd, n_treated=res.n_treated,
                    n_comparison=res.n_comparison, n_people=res.n_people, sd=sd,
                    diagnostics=Diagnostics(**diag), influence=_spread(infl, pop))


def _spread(infl: np.ndarray, pop: Population) -> dict:
    """Influence as {person idx: value} arrays (idx, values) for cross-estimate covariances."""
    return (pop.idx, infl) if len(infl) else (pop.idx[:0], infl)


def _points_by_e(fit: did.CellFit) -> dict:
    """Aggregate placebo cells by event time, weighting cohorts by their treated counts."""
    out = {}
    cells = fit.cells
    for e, grp in cells.groupby("e"):
        n = grp["n_treated"].to_numpy(float)
        out[int(e)] = float(np.dot(n, grp["estimate"]) / n.sum())
    return out


def _monthly_pretrend(pop: Population, min_group: int):
    """Metric pre-trend: late-pre minus early-pre months, cohort vs never-treated, joint Wald p.

    For each start cohort with at least two months before its start month, each person's mean
    over the later half of those months minus the earlier half; under parallel trends the
    cohort and comparison differences agree.
    """
    from scipy import stats

    y, g, tr, w = pop.y, pop.g, pop.treated, pop.w
    T = y.shape[1]
    never = ~np.isfinite(g) | (g >= T)
    specs = []
    for g0 in sorted(int(x) for x in np.unique(g[tr & np.isfinite(g)])):
        pre = g0 - 1  # months before the start month
        if pre < 2:
            continue
        half = pre // 2
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            early = np.nanmean(y[:, :half], axis=1)
            late = np.nanmean(y[:, half:pre], axis=1)
        dy = late - early
        ok = np.isfinite(dy)
        trt = tr & (g == g0) & ok
        ctrl = never & ok
        if trt.sum() >= min_group and ctrl.sum() >= min_group:
            specs.append(({"g": g0, "t": None, "e": None}, dy, trt, ctrl))
    fit = did.fit_cells(specs, len(y), w)
    if fit is None:
        return None
    n = fit.cells["n_treated"].to_numpy(float)
    est = fit.combo(n / n.sum())[0]
    try:
        chi2 = float(fit.b @ np.linalg.solve(fit.cov, fit.b))
        p = float(stats.chi2.sf(chi2, len(fit.b)))
    except np.linalg.LinAlgError:
        p = NAN
    return est, p


def covariance(a: Estimate, b: Estimate) -> float:
    """Covariance of two standardised estimates from their influence on shared people."""
    if a.influence is None or b.influence is None:
        return 0.0
    (ia, va), (ib, vb) = a.influence, b.influence
    common, pa, pb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
    return float(np.dot(va[pa], vb[pb])) if len(common) else 0.0


def within_frame(panel, claim, min_group: int) -> tuple[pd.DataFrame, Population, int]:
    """Participants' triple-difference gains with their doses, pair, department and its baseline safety.

    Returns the frame, the population and the number of comparison people whose change was
    subtracted. The three within-programme claims share it (they differ only in the predictor),
    so it is built once per panel; callers must not modify it.
    """
    from analytics.claims import within
    from analytics.claims.population import build_population

    key = ("within_frame", claim.construct, min_group)
    if key in panel.cache:
        return panel.cache[key]
    pop = build_population(panel, claim, Role.POOLED)
    gains = within.gains_arrays(pop.y, pop.g, pop.treated)
    dept = _design_department(panel)[pop.idx]
    comparison = ~pop.participant
    cc = within.comparison_change(pop.y, sorted(int(x) for x in gains["g"].unique()), comparison, dept, min_group)
    gains["idx"] = pop.idx[gains["row"].to_numpy(int)]
    gains["department"] = dept[gains["row"].to_numpy(int)]
    gains["comparison_change"] = [cc.get((d, int(g)), np.nan) for d, g in zip(gains["department"], gains["g"])]
    gains["gain_participant"] = gains["gain"]
    gains["gain"] = gains["gain_participant"] - gains["comparison_change"]
    used = np.isin(dept, list({d for d, _ in cc})) & comparison & np.isfinite(pop.y).any(axis=1)
    gains = gains.merge(panel.doses, on="idx", how="left")
    gains["pair_idx"] = panel.roster["pair_idx"].to_numpy(float)[gains["idx"].to_numpy(int)]
    if panel.n_waves:
        ps = panel.scores["psychological_safety"][:, 0]
        sel = panel.roster["selected"].to_numpy(bool) & np.isfinite(ps)
        dept_all = _design_department(panel)
        f = pd.DataFrame({"department": dept_all[sel], "y": ps[sel]}).groupby("department")["y"].agg(["mean", "size"])
        safety = f.loc[f["size"] >= min_group, "mean"]
        gains["dept_safety"] = gains["department"].map(safety)
    else:
        gains["dept_safety"] = np.nan
    panel.cache[key] = (gains, pop, int(used.sum()))
    return panel.cache[key]


def estimate_within(panel, claim, min_group: int) -> tuple[Estimate, dict]:
    """The within-programme claim on the triple difference, clustered where its predictor varies."""
    gains, pop, n_comp = within_frame(panel, claim, min_group)
    est, res = _within_test(gains, claim, min_group, n_comp, Role.POOLED, True, pop.dropped_no_baseline)
    return est, {"gains": gains, "pop": pop, "res": res}


def within_role_tests(panel, claim, min_group: int) -> list[Estimate]:
    """The same regression among mentors only and among mentees only: context rows, not primary.

    The claim's verdict rests on all participants (one test, the pair counted once through
    clustering); these rows say whether the slope holds for each side of the pair. A person in
    both roles counts in both rows.
    """
    gains, pop, n_comp = within_frame(panel, claim, min_group)
    out = []
    for role in (Role.MENTORS, Role.MENTEES):
        started = panel.start(role.value).notna().to_numpy()
        part = gains[started[gains["idx"].to_numpy(int)]]
        out.append(_within_test(part, claim, min_group, n_comp, role, False, 0)[0])
    return out


def _within_test(gains, claim, min_group: int, n_comp: int, role: Role, primary: bool,
                 dropped: int) -> tuple[Estimate, dict]:
    from analytics.claims import within

    d = gains.dropna(subset=[claim.predictor, "gain"])
    dept_level = claim.predictor == "dept_safety"
    res = within.gain_regression(d, claim.predictor, cluster="department" if dept_level else "pair_idx",
                                 wild=dept_level)
    need = max(min_group, 10)
    head = dict(claim_id=claim.id, role=role, metric=None, primary=primary, unit=claim.predictor_unit)
    diag = Diagnostics(dropped_no_baseline=dropped)
    if res["n"] < need or not np.isfinite(res["estimate"]):
        reason = (f"the {claim.predictor_label} does not vary in this selection" if res["n"] >= need else
                  f"fewer than {need} participants with before and after scores, a department comparison "
                  f"and a {claim.predictor_label}")
        return Estimate(**head, reason=reason, diagnostics=diag,
                        n_treated=res["n"] if res["n"] >= min_group else 0), res
    return Estimate(**head, estimate=res["estimate"], se=res["se"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                    p_value=res["p_value"], effect_size=res["effect_size"], es_se=res["es_se"],
                    es_ci_low=res["es_ci_low"], es_ci_high=res["es_ci_high"], n_treated=res["n"],
                    n_comparison=n_comp, n_people=res["n"] + n_comp, sd=float(d["gain"].std()),
                    diagnostics=diag), res


def _design_department(panel) -> np.ndarray:
    """Each person's department as the within-programme design uses it: the roster's own value.

    Released labels merge the departments of small reporting groups into "Other", which would
    pool unrelated departments' comparison changes and flatten department safety. The design
    only shapes one slope over all participants; no department figure is shown from it (the
    same limit as the covariate weights, docs/PRIVACY.md).
    """
    col = "w_department" if "w_department" in panel.roster else "department"
    return panel.roster[col].to_numpy(object)
