"""Everything behind one scorecard row, as a typed `ClaimDetail`.

Every table drops groups smaller than the minimum group size, so nothing here can identify a
person; the naive contrasts are returned only as labelled, biased context. This module reads
the engine's cached `Run` and never imports the scorecard.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from scipy import stats

from analytics.claims import did, within
from analytics.claims.definitions import CLAIMS_BY_ID, Claim, Design, Role
from analytics.claims.engine import ClaimResult, Run, resolve_min_group, run
from analytics.claims.estimate import within_frame
from analytics.claims.event_study import COLUMNS as EVENT_COLUMNS
from analytics.claims.event_study import metric_event_study, population_event_study
from analytics.claims.population import Population, build_population
from analytics.claims.scorecard import scorecard
from analytics.errors import TwowayError
from analytics.filters import Filters

TREND_COLUMNS = ["wave", "wave_date", "group", "mean", "ci_low", "ci_high", "n", "role"]
BALANCE_COLUMNS = ["variable", "participants", "comparison_raw", "comparison_weighted", "smd_raw", "smd_weighted"]
NAIVE_COLUMNS = ["comparison", "estimate", "ci_low", "ci_high", "p_value", "n", "label"]
COHORT_COLUMNS = ["cohort", "first_wave", "estimate", "ci_low", "ci_high", "p_value", "n_treated", "n_comparison",
                  "weight", "role"]
METRIC_COLUMNS = ["metric", "role", "primary", "unit", "higher_is_better", "estimate", "ci_low", "ci_high", "p_value",
                  "p_adjusted", "effect_size", "es_ci_low", "es_ci_high", "mde", "n_treated", "n_comparison",
                  "verdict", "magnitude"]


@dataclass(frozen=True)
class PreTrendSummary:
    """The placebo pre-trend check of the headline role, with its sentence."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n_waves: int
    sentence: str


@dataclass(frozen=True)
class ClaimDetail:
    """The tables behind one claim. `trends`, `balance`, `naive` and `cohorts` are for the headline
    role; `roles` lists every test (as in the scorecard's by_role); `event_study` is tidy (one row
    per claim × role × event time). The month-by-month event study of the objective metrics is
    not part of it (it costs more than the whole detail at scale): ask `event_study(..., metric=)`."""

    row: dict
    trends: pd.DataFrame
    balance: pd.DataFrame
    pretrend: PreTrendSummary | None
    naive: pd.DataFrame
    cohorts: pd.DataFrame
    roles: pd.DataFrame
    event_study: pd.DataFrame
    notes: tuple[str, ...]
    by_generation: pd.DataFrame | None = None
    generation_gap: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    metrics_by_role: pd.DataFrame | None = None
    within: pd.DataFrame | None = None
    trends_by_role: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, key: str):
        """Read-only key access for older callers (analytics.views reads detail["trends"])."""
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)


def empty_balance() -> pd.DataFrame:
    return pd.DataFrame(columns=BALANCE_COLUMNS)


def empty_naive() -> pd.DataFrame:
    return pd.DataFrame(columns=NAIVE_COLUMNS)


def empty_cohorts() -> pd.DataFrame:
    return pd.DataFrame(columns=COHORT_COLUMNS)


def trends(pop: Population, panel, min_group: int) -> pd.DataFrame:
    """Mean outcome per wave: the role's participants (starting inside the window) and weighted comparison."""
    rows = []
    comp = ~pop.participant
    for t, (survey, opened) in enumerate(zip(panel.waves["survey"], panel.waves["opened"])):
        if t >= pop.n_periods:
            break
        y = pop.y[:, t]
        ok = np.isfinite(y)
        for group, mask, weighted in (("participants", pop.treated & ok, False), ("comparison", comp & ok, True)):
            if mask.sum() < min_group:
                continue
            m, lo, hi = did.weighted_mean_ci(y[mask], pop.w[mask] if weighted else None)
            rows.append({"wave": survey, "wave_date": opened, "group": group, "mean": m, "ci_low": lo,
                         "ci_high": hi, "n": int(mask.sum()), "role": pop.role.value})
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def balance(pop: Population, panel, min_group: int) -> pd.DataFrame:
    """Covariate shares and baseline construct scores: participants vs comparison, raw and weighted."""
    r = panel.roster.iloc[pop.idx]
    tr, co = pop.treated, ~pop.participant
    if tr.sum() < min_group or co.sum() < min_group:
        return empty_balance()
    wc = pop.w[co]
    rows = []

    def add(name, x):
        x = np.asarray(x, float)
        xt, xc = x[tr], x[co]
        ok_t, ok_c = np.isfinite(xt), np.isfinite(xc)
        if ok_t.sum() < min_group or ok_c.sum() < min_group:
            return
        rows.append({"variable": name, "participants": float(xt[ok_t].mean()),
                     "comparison_raw": float(xc[ok_c].mean()),
                     "comparison_weighted": float(np.average(xc[ok_c], weights=wc[ok_c])),
                     "smd_raw": did.smd(xt[ok_t], xc[ok_c]), "smd_weighted": did.smd(xt[ok_t], xc[ok_c], wc[ok_c])})

    for col in ("department", "level", "generation"):
        for value in sorted(r[col].dropna().unique()):
            add(f"{col}: {value}", (r[col] == value).to_numpy(float))
    add("tenure (years)", r["tenure"].to_numpy(float))
    add("baseline outcome (this claim)", pop.y[:, 0] if pop.n_periods else np.full(len(pop.idx), np.nan))
    if panel.n_waves:
        for c, s in panel.scores.items():
            if c != "leadership":
                add(f"baseline {c}", s[pop.idx, 0])
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def naive(pop: Population, min_group: int) -> pd.DataFrame:
    """The two comparisons people usually make, both biased here (labelled so)."""
    rows = []
    last = pop.n_periods - 1
    if last < 0:
        return empty_naive()
    y = pop.y[:, last]
    a = y[pop.participant & (pop.g <= last) & (pop.g >= 1) & np.isfinite(y)]
    b = y[~pop.participant & np.isfinite(y)]
    if len(a) >= min_group and len(b) >= min_group:
        r = stats.ttest_ind(a, b, equal_var=False)  # Welch
        ci = r.confidence_interval()
        rows.append({"comparison": "participants vs others after", "estimate": float(a.mean() - b.mean()),
                     "ci_low": float(ci.low), "ci_high": float(ci.high), "p_value": float(r.pvalue),
                     "n": int(len(a) + len(b)),
                     "label": "biased: participants differed before they started (self-selection)"})
    gains = within.gains_arrays(pop.y, pop.g, pop.treated)
    if len(gains) >= min_group:
        r = stats.ttest_1samp(gains["gain"], 0.0)  # = paired t-test of after vs before
        ci = r.confidence_interval()
        rows.append({"comparison": "participants before vs after", "estimate": float(gains["gain"].mean()),
                     "ci_low": float(ci.low), "ci_high": float(ci.high), "p_value": float(r.pvalue),
                     "n": int(len(gains)),
                     "label": "biased: includes the organisation-wide change over the same months"})
    return pd.DataFrame(rows, columns=NAIVE_COLUMNS)


def cohorts(pop: Population, res: did.DidResult, panel) -> pd.DataFrame:
    """Per start group: the cohort label(s), first post wave, estimate, CI, sizes, weight."""
    c = res.cohorts
    if c is None or len(c) == 0:
        return empty_cohorts()
    labels_all = panel.roster["cohort"].to_numpy(object)[pop.idx]
    rows = []
    for r in c.itertuples():
        labels = pd.Series(labels_all[pop.participant & (pop.g == r.g)]).dropna().unique()
        rows.append({"cohort": ", ".join(sorted(map(str, labels))) or f"start group {r.g}",
                     "first_wave": int(r.g), "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "p_value": r.p_value, "n_treated": int(r.n_treated), "n_comparison": int(r.n_comparison),
                     "weight": r.weight, "role": pop.role.value})
    return pd.DataFrame(rows, columns=COHORT_COLUMNS)


def by_generation(panel, claim: Claim, min_group: int, base) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The DiD per role and generation, plus the gap between generations among participants.

    The gap is the spread (highest minus lowest generation) of participants' mean score before
    and after their start, over generations with at least `min_group` participants.
    """
    rows, gain_rows = [], []
    for role in claim.roles:
        pop = build_population(panel, claim, role)
        gen = panel.roster["generation"].to_numpy(object)[pop.idx]
        gains = within.gains_arrays(pop.y, pop.g, pop.treated)
        gains["generation"] = gen[gains["row"].to_numpy(int)]
        gain_rows.append(gains)
        for value in sorted(pd.Series(gen).dropna().unique()):
            m = gen == value
            res = did.did_arrays(pop.y[m], pop.g[m], pop.treated[m], pop.w[m], min_group, base, with_pretrend=False)
            if res.n_treated < min_group or res.n_comparison < min_group or not np.isfinite(res.estimate):
                continue
            rows.append({"role": role.value, "generation": value, "estimate": res.estimate, "ci_low": res.ci_low,
                         "ci_high": res.ci_high, "p_value": res.p_value, "n_treated": res.n_treated,
                         "n_comparison": res.n_comparison})
    table = pd.DataFrame(rows, columns=["role", "generation", "estimate", "ci_low", "ci_high", "p_value",
                                        "n_treated", "n_comparison"])
    g = pd.concat(gain_rows, ignore_index=True) if gain_rows else pd.DataFrame()
    gap = None
    if len(g):
        per = g.groupby("generation").agg(mean_before=("baseline", "mean"), mean_after=("post", "mean"),
                                          n=("gain", "size"))
        ok = per[per["n"] >= min_group]
        if len(ok) >= 2:
            before = float(ok["mean_before"].max() - ok["mean_before"].min())
            after = float(ok["mean_after"].max() - ok["mean_after"].min())
            gap = pd.DataFrame([{"generations": ", ".join(ok.index), "gap_before": before, "gap_after": after,
                                 "change": after - before}])
    return table, gap


def pretrend_sentence(pt: did.PreTrend) -> str:
    """The pre-trend check in words."""
    p = pt.p_value
    head = (f"Over {pt.n_waves} waves before their start, participants' scores moved "
            f"{'in step with' if p >= 0.05 else 'differently from'} the comparison group's "
            f"(placebo difference {pt.estimate:.2f}, 95% CI {pt.ci_low:.2f} to {pt.ci_high:.2f}, "
            f"joint p = {p:.2f})")
    return head + ("." if p >= 0.05 else "; the parallel-trends assumption is doubtful, read the estimate with care.")


def metrics_table(result: ClaimResult, primary_only: bool) -> pd.DataFrame:
    rows = []
    for t in result.metric_tests:
        if primary_only and not t.primary:
            continue
        if not t.ok:
            continue
        rows.append({"metric": t.metric, "role": t.role.value, "primary": t.primary, "unit": t.unit,
                     "higher_is_better": None,
                     "estimate": t.estimate, "ci_low": t.ci_low, "ci_high": t.ci_high, "p_value": t.p_value,
                     "p_adjusted": t.p_adjusted, "effect_size": t.effect_size, "es_ci_low": t.es_ci_low,
                     "es_ci_high": t.es_ci_high, "mde": t.mde, "n_treated": t.n_treated,
                     "n_comparison": t.n_comparison, "verdict": t.verdict, "magnitude": t.magnitude})
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def within_table(gains: pd.DataFrame, claim: Claim, min_group: int) -> pd.DataFrame:
    """The within-programme regression (triple difference) for each available predictor of this claim."""
    predictors = {"dose_response": [("n_sessions", "number of sessions"), ("hours", "hours of mentoring")],
                  "informal_learning": [("share_informal", "share of informal sessions")],
                  "psych_safety_moderation": [("dept_safety", "baseline psychological safety of the department")]}
    rows = []
    for col, label in predictors.get(claim.id, []):
        d = gains.dropna(subset=[col, "gain"])
        if len(d) < max(min_group, 10):
            continue
        dept = col == "dept_safety"
        r = within.gain_regression(d, col, cluster="department" if dept else "pair_idx", wild=dept)
        rows.append({"predictor": label, **{k: r[k] for k in ("estimate", "ci_low", "ci_high", "p_value", "n",
                                                              "effect_size", "es_ci_low", "es_ci_high",
                                                              "n_clusters")}})
    return pd.DataFrame(rows, columns=["predictor", "estimate", "ci_low", "ci_high", "p_value", "n", "effect_size",
                                       "es_ci_low", "es_ci_high", "n_clusters"])


def event_study_frame(r: Run, claim: Claim, base=did.BasePeriod.PRE_MEAN) -> pd.DataFrame:
    """Tidy event study for every role of a comparison claim (empty for within-programme claims)."""
    if claim.design is not Design.DID:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    fits = {}
    if base is did.BasePeriod.PRE_MEAN:  # the scorecard's fits use this base: reuse them
        fits = {t.role: t.result.fit for t in r.results[claim.id].survey_tests if t.result is not None}
    parts = [population_event_study(claim, build_population(r.panel, claim, role), r.min_group, base,
                                    fit=fits.get(role)) for role in claim.roles]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=EVENT_COLUMNS)


def metric_event_study_frame(r: Run, claim: Claim, metric: str | None = None) -> pd.DataFrame:
    """Tidy monthly event study for every objective metric (or the one named) × role of a claim."""
    if claim.design is not Design.DID or not claim.metrics:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    known = [m.name for m in r.panel.metrics]
    if metric is not None and metric not in known:
        raise TwowayError(f"unknown metric {metric!r} for {claim.id}; metrics: {', '.join(known) or 'none'}")
    parts = [metric_event_study(claim, build_population(r.panel, claim, role, metric=m), r.min_group, m.name)
             for m in r.panel.metrics if metric is None or m.name == metric for role in claim.roles]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=EVENT_COLUMNS)


def _lookup(claim_id: str) -> Claim:
    if claim_id not in CLAIMS_BY_ID:
        raise TwowayError(f"unknown claim {claim_id!r}; claims: {', '.join(CLAIMS_BY_ID)}")
    return CLAIMS_BY_ID[claim_id]


def event_study(db, claim_id: str, filters: Filters = Filters(), min_group: int | None = None,
                sesoi: float = 0.2, base: did.BasePeriod = did.BasePeriod.PRE_MEAN,
                metric: str | None = None) -> pd.DataFrame:
    """The event-study frame of one claim (every role; e < 0 are the placebo points).

    With `metric`, the monthly event study of that objective metric instead (claims with metrics)."""
    claim = _lookup(claim_id)
    from analytics.claims.scorecard import _stored_view

    view = _stored_view(filters, sesoi, base)
    if metric is None and view is not None:  # stored at publish time
        from analytics.store import stored_results

        stored = stored_results.event_study(db, claim_id, resolve_min_group(min_group), view)
        if stored is not None:
            return stored
    r = run(db, filters, resolve_min_group(min_group), sesoi)
    if metric is not None:
        if not claim.metrics:
            raise TwowayError(f"claim {claim_id!r} has no objective metrics")
        return metric_event_study_frame(r, claim, metric)
    return event_study_frame(r, claim, did.BasePeriod(base))


def metric_event_studies(db, claim_id: str, filters: Filters = Filters(), min_group: int | None = None,
                         sesoi: float = 0.2) -> pd.DataFrame:
    """The monthly event studies of every objective metric of a claim (every role), one tidy frame."""
    claim = _lookup(claim_id)
    from analytics.claims.scorecard import _stored_view

    view = _stored_view(filters, sesoi, None)
    if view is not None:  # stored at publish time
        from analytics.store import stored_results

        stored = stored_results.metric_event_studies(db, claim_id, resolve_min_group(min_group), view)
        if stored is not None:
            return stored
    return metric_event_study_frame(run(db, filters, resolve_min_group(min_group), sesoi), claim)


def claim_detail(db, claim_id: str, filters: Filters = Filters(), min_group: int | None = None,
                 sesoi: float = 0.2) -> ClaimDetail:
    """Everything behind one scorecard row (see `ClaimDetail`). No table has a group below `min_group`."""
    claim = _lookup(claim_id)
    k = resolve_min_group(min_group)
    from analytics.claims.scorecard import _stored_view

    view = _stored_view(filters, sesoi, did.BasePeriod.PRE_MEAN)
    if view is not None:
        from analytics.store import stored_results  # stored at publish time

        stored = stored_results.claim_detail(db, claim_id, k, view)
        if stored is not None:
            return stored
    card = scorecard(db, filters, k, sesoi)
    r = run(db, filters, k, sesoi)
    result = r.results[claim_id]
    row = card.loc[card["id"] == claim_id].iloc[0].to_dict()
    roles = pd.DataFrame([{k2: v for k2, v in e.items() if k2 != "diagnostics"} for e in row["by_role"]])
    common = dict(row=row, roles=roles, notes=result.notes)
    if claim.design is Design.WITHIN:
        gains, pop, _ = within_frame(r.panel, claim, k)
        return ClaimDetail(trends=trends(pop, r.panel, k), balance=empty_balance(), pretrend=None,
                           naive=empty_naive(), cohorts=empty_cohorts(), event_study=pd.DataFrame(columns=EVENT_COLUMNS),
                           within=within_table(gains, claim, k), **common)
    if claim.design is Design.HAZARD:  # retention / promotion: the per-role rows and notes are the evidence
        return ClaimDetail(trends=pd.DataFrame(columns=TREND_COLUMNS), balance=empty_balance(), pretrend=None,
                           naive=empty_naive(), cohorts=empty_cohorts(),
                           event_study=pd.DataFrame(columns=EVENT_COLUMNS), **common)
    head_role = result.headline.role if result.headline.metric is None else claim.primary[0]
    if head_role is Role.POOLED:
        head_role = claim.primary[0]
    pop = build_population(r.panel, claim, head_role)
    head = next(t for t in result.survey_tests if t.role is head_role)
    res = head.result
    pt = None
    if res is not None and res.pretrend is not None and row["verdict"] != "insufficient_data":
        p = res.pretrend
        pt = PreTrendSummary(p.estimate, p.ci_low, p.ci_high, p.p_value, p.n_waves, pretrend_sentence(p))
    all_trends = pd.concat([trends(build_population(r.panel, claim, role), r.panel, k) for role in claim.roles],
                           ignore_index=True)
    out = dict(trends=trends(pop, r.panel, k), trends_by_role=all_trends, balance=balance(pop, r.panel, k),
               pretrend=pt, naive=naive(pop, k), cohorts=cohorts(pop, res, r.panel) if res is not None else
               empty_cohorts(), event_study=event_study_frame(r, claim))
    if claim_id == "belonging":
        out["by_generation"], out["generation_gap"] = by_generation(r.panel, claim, k, did.BasePeriod.PRE_MEAN)
    if claim.metrics:
        hib = {m.name: m.higher_is_better for m in r.panel.metrics}
        m_all = metrics_table(result, primary_only=False)
        m_all["higher_is_better"] = m_all["metric"].map(hib).astype(object)
        out["metrics_by_role"] = m_all
        out["metrics"] = m_all[m_all["primary"]].reset_index(drop=True)
    return ClaimDetail(**common, **out)

