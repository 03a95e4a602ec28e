"""The tables behind one claim: trends, balance, naive contrasts, cohorts, generations, metrics.

Every table drops groups smaller than the minimum group size, so nothing here can identify
a person; the naive contrasts are returned only as labelled, biased context.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analytics.claims import did, within
from analytics.claims.verdict import equivalence_p, mde, verdict

TREND_COLUMNS = ["wave", "wave_date", "group", "mean", "ci_low", "ci_high", "n"]
BALANCE_COLUMNS = ["variable", "participants", "comparison_raw", "comparison_weighted", "smd_raw", "smd_weighted"]
NAIVE_COLUMNS = ["comparison", "estimate", "ci_low", "ci_high", "p_value", "n", "label"]
COHORT_COLUMNS = ["cohort", "first_wave", "estimate", "ci_low", "ci_high", "p_value", "n_treated", "n_comparison",
                  "weight"]


def empty_balance() -> pd.DataFrame:
    return pd.DataFrame(columns=BALANCE_COLUMNS)


def empty_naive() -> pd.DataFrame:
    return pd.DataFrame(columns=NAIVE_COLUMNS)


def empty_cohorts() -> pd.DataFrame:
    return pd.DataFrame(columns=COHORT_COLUMNS)


def _treated_mask(pop, n_periods) -> pd.Series:
    u = pop.units
    return u["participant"] & (u["g"] >= 1) & (u["g"] < n_periods)


def trends(pop, data, min_group: int) -> pd.DataFrame:
    """Mean outcome per wave: participants (who start inside the window) and weighted comparison."""
    u = pop.units
    treated = u.loc[_treated_mask(pop, data.n_periods), "unit"]
    comp = u.loc[~u["participant"], ["unit", "w"]]
    rows = []
    for t, (survey, opened) in enumerate(zip(data.waves["survey"], data.waves["opened"])):
        p = pop.panel[pop.panel["t"] == t]
        for group, frame in (("participants", p[p["unit"].isin(treated)].assign(w=1.0)),
                             ("comparison", p.merge(comp, on="unit"))):
            if len(frame) < min_group:
                continue
            m, lo, hi = did.weighted_mean_ci(frame["y"], frame["w"])
            rows.append({"wave": survey, "wave_date": opened, "group": group, "mean": m, "ci_low": lo,
                         "ci_high": hi, "n": int(len(frame))})
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def balance(pop, data, min_group: int) -> pd.DataFrame:
    """Covariate shares and baseline construct scores: participants vs comparison, raw and weighted."""
    u = pop.units
    t_mask = _treated_mask(pop, data.n_periods)
    tr, co = u[t_mask], u[~u["participant"]]
    if len(tr) < min_group or len(co) < min_group:
        return empty_balance()
    rows = []

    def add(name, xt, xc, wc):
        ok_t, ok_c = np.isfinite(xt), np.isfinite(xc)
        xt, xc, wc = xt[ok_t], xc[ok_c], wc[ok_c]
        if len(xt) < min_group or len(xc) < min_group:
            return
        rows.append({"variable": name, "participants": float(xt.mean()), "comparison_raw": float(xc.mean()),
                     "comparison_weighted": float(np.average(xc, weights=wc)),
                     "smd_raw": did.smd(xt, xc), "smd_weighted": did.smd(xt, xc, wc)})

    for col in ("department", "level", "generation"):
        for value in sorted(u[col].dropna().unique()):
            add(f"{col}: {value}", (tr[col] == value).to_numpy(float), (co[col] == value).to_numpy(float),
                co["w"].to_numpy(float))
    add("tenure (years)", tr["tenure"].to_numpy(float), co["tenure"].to_numpy(float), co["w"].to_numpy(float))
    firsts = [("outcome (this claim)", pop.panel)] + [(c, p) for c, p in data.panels.items() if c != "leadership"]
    for construct, panel in firsts:
        s = panel[panel["t"] == 0].groupby("unit")["y"].mean()
        add(f"baseline {construct}", tr["unit"].map(s).to_numpy(float), co["unit"].map(s).to_numpy(float),
            co["w"].to_numpy(float))
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def naive(pop, data, min_group: int) -> pd.DataFrame:
    """The two comparisons people usually make, both biased here (labelled so)."""
    rows = []
    u = pop.units
    last = data.n_periods - 1
    p_last = pop.panel[pop.panel["t"] == last]
    treated_by_last = u.loc[u["participant"] & (u["g"] <= last) & (u["g"] >= 1), "unit"]
    a = p_last.loc[p_last["unit"].isin(treated_by_last), "y"].to_numpy()
    b = p_last.loc[p_last["unit"].isin(u.loc[~u["participant"], "unit"]), "y"].to_numpy()
    if len(a) >= min_group and len(b) >= min_group:
        r = stats.ttest_ind(a, b, equal_var=False)  # Welch
        ci = r.confidence_interval()
        rows.append({"comparison": "participants vs others after", "estimate": float(a.mean() - b.mean()),
                     "ci_low": float(ci.low), "ci_high": float(ci.high), "p_value": float(r.pvalue),
                     "n": int(len(a) + len(b)),
                     "label": "biased: participants differed before they started (self-selection)"})
    gains = within.person_gains(pop.panel, pop.units, data.n_periods)
    if len(gains) >= min_group:
        r = stats.ttest_1samp(gains["gain"], 0.0)  # = paired t-test of after vs before
        ci = r.confidence_interval()
        rows.append({"comparison": "participants before vs after", "estimate": float(gains["gain"].mean()),
                     "ci_low": float(ci.low), "ci_high": float(ci.high), "p_value": float(r.pvalue),
                     "n": int(len(gains)),
                     "label": "biased: includes the organisation-wide change over the same months"})
    return pd.DataFrame(rows, columns=NAIVE_COLUMNS)


def cohorts(pop, res) -> pd.DataFrame:
    """Per start group: the cohort label(s), first post wave, estimate, CI, sizes, weight."""
    c = res["cohorts"]
    if c is None or len(c) == 0:
        return empty_cohorts()
    u = pop.units
    rows = []
    for r in c.itertuples():
        labels = u.loc[u["participant"] & (u["g"] == r.g), "cohort"].dropna().unique()
        rows.append({"cohort": ", ".join(sorted(map(str, labels))) or f"start group {r.g}",
                     "first_wave": int(r.g), "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "p_value": r.p_value, "n_treated": int(r.n_treated), "n_comparison": int(r.n_comparison),
                     "weight": r.weight})
    return pd.DataFrame(rows, columns=COHORT_COLUMNS)


def by_generation(data, claim, min_group: int):
    """Belonging DiD per generation, plus the gap between generations among participants.

    The gap is the spread (highest minus lowest generation) of participants' mean belonging
    before and after their start, over generations with at least `min_group` participants.
    """
    from analytics.claims.scorecard import _population

    pop = _population(data, claim)
    rows = []
    for gen in sorted(pop.units["generation"].dropna().unique()):
        u = pop.units[pop.units["generation"] == gen]
        panel = pop.panel[pop.panel["unit"].isin(u["unit"])]
        res = did.staggered_did(panel, u[["unit", "g", "treated", "w"]], data.n_periods, min_group)
        if res["n_treated"] < min_group or res["n_comparison"] < min_group or not np.isfinite(res["estimate"]):
            continue
        g = within.person_gains(panel, u, data.n_periods)
        rows.append({"generation": gen, "estimate": res["estimate"], "ci_low": res["ci_low"],
                     "ci_high": res["ci_high"], "p_value": res["p_value"], "n_treated": res["n_treated"],
                     "n_comparison": res["n_comparison"],
                     "mean_before": float(g["baseline"].mean()) if len(g) >= min_group else np.nan,
                     "mean_after": float(g["post"].mean()) if len(g) >= min_group else np.nan})
    table = pd.DataFrame(rows, columns=["generation", "estimate", "ci_low", "ci_high", "p_value", "n_treated",
                                        "n_comparison", "mean_before", "mean_after"])
    gap = None
    ok = table.dropna(subset=["mean_before", "mean_after"])
    if len(ok) >= 2:
        before = float(ok["mean_before"].max() - ok["mean_before"].min())
        after = float(ok["mean_after"].max() - ok["mean_after"].min())
        gap = pd.DataFrame([{"generations": ", ".join(ok["generation"]), "gap_before": before, "gap_after": after,
                             "change": after - before}])
    return table, gap


def pretrend_sentence(pt: dict | None) -> str | None:
    """The pre-trend check in words."""
    if not pt:
        return None
    p = pt["p_value"]
    head = (f"Over {pt['n_waves']} waves before their start, participants' scores moved "
            f"{'in step with' if p >= 0.05 else 'differently from'} the comparison group's "
            f"(placebo difference {pt['estimate']:.2f}, 95% CI {pt['ci_low']:.2f} to {pt['ci_high']:.2f}, "
            f"joint p = {p:.2f})")
    return head + ("." if p >= 0.05 else "; the parallel-trends assumption is doubtful, read the estimate with care.")


def metrics(db, data, filters, min_group: int, sesoi: float) -> pd.DataFrame:
    """Each objective metric: participants' change around their start month vs never-treated colleagues.

    Monthly values are sign-flipped for lower-is-better metrics, so a positive estimate is always
    an improvement. The estimate uses the same weighted staggered DiD with start month as the
    timing group and each person's post months averaged (never-treated comparison).
    """
    from analytics.claims.definitions import CLAIMS_BY_ID
    from analytics.claims.scorecard import _population_frame, _weights
    from analytics.store import claims as q

    cols = ["metric", "unit", "higher_is_better", "estimate", "ci_low", "ci_high", "p_value", "effect_size",
            "es_ci_low", "es_ci_high", "mde", "n_treated", "n_comparison", "verdict"]
    m = q.metric_panel(db, filters)
    if m.empty:
        return pd.DataFrame(columns=cols)
    claim = CLAIMS_BY_ID["productivity"]
    u = _population_frame(data, "participants")
    u["w"] = u["unit"].map(_weights(data, "participants", u)).fillna(1.0)
    rows = []
    for metric, mm in m.groupby("metric", sort=True):
        periods = sorted(mm["period"].unique())
        t_of = {p: i for i, p in enumerate(periods)}
        hib = bool(mm["higher_is_better"].iloc[0])
        codes = pd.Index(data.units["employee_id"].astype(object)).get_indexer(
            pd.Index(mm["employee_id"].astype(object)))
        panel = pd.DataFrame({"unit": codes, "t": mm["period"].map(t_of).to_numpy(int),
                              "y": mm["value"].to_numpy(float) * (1 if hib else -1)})[codes >= 0]
        uu = u[u["unit"].isin(panel["unit"].unique())].copy()
        start_month = pd.to_datetime(uu["first_start"]).dt.strftime("%Y-%m")
        idx = np.searchsorted(np.array(periods, dtype=object), start_month.fillna("9999-99").to_numpy(object))
        uu["g"] = np.where(start_month.isna(), np.inf, idx.astype(float))
        uu = uu[~(uu["participant"] & (uu["g"] == 0))]
        uu["treated"] = uu["participant"]
        res = did.staggered_did(panel[panel["unit"].isin(uu["unit"])], uu[["unit", "g", "treated", "w"]],
                                len(periods), min_group, collapse_post=True, with_pretrend=False)
        first = panel[panel["t"] == 0]["y"]
        sd = float(first.std()) if len(first) >= 2 else np.nan
        if res["n_treated"] < min_group or res["n_comparison"] < min_group or not np.isfinite(res["estimate"]) \
                or not sd > 0:
            continue
        es_se = res["se"] / sd
        p_eq = equivalence_p(res["estimate"] / sd, es_se, sesoi)
        rows.append({"metric": metric, "unit": mm["unit"].iloc[0], "higher_is_better": hib,
                     "estimate": res["estimate"], "ci_low": res["ci_low"], "ci_high": res["ci_high"],
                     "p_value": res["p_value"], "effect_size": res["estimate"] / sd,
                     "es_ci_low": res["ci_low"] / sd, "es_ci_high": res["ci_high"] / sd, "mde": mde(es_se),
                     "n_treated": res["n_treated"], "n_comparison": res["n_comparison"],
                     "verdict": verdict(res["estimate"], res["p_value"], p_eq, claim.direction)})
    return pd.DataFrame(rows, columns=cols)


def within_table(gains: pd.DataFrame, claim, min_group: int) -> pd.DataFrame:
    """The within-programme regression for each available predictor of this claim."""
    predictors = {"dose_response": [("n_sessions", "number of sessions"), ("hours", "hours of mentoring")],
                  "informal_learning": [("share_informal", "share of informal sessions")],
                  "psych_safety_moderation": [("dept_safety", "baseline psychological safety of the department")]}
    rows = []
    for col, label in predictors.get(claim.id, []):
        d = gains.dropna(subset=[col])
        if len(d) < max(min_group, 10):
            continue
        r = within.gain_regression(d, col)
        rows.append({"predictor": label, **{k: r[k] for k in ("estimate", "ci_low", "ci_high", "p_value", "n",
                                                              "effect_size", "es_ci_low", "es_ci_high")}})
    return pd.DataFrame(rows, columns=["predictor", "estimate", "ci_low", "ci_high", "p_value", "n", "effect_size",
                                       "es_ci_low", "es_ci_high"])
