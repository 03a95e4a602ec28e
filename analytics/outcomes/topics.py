"""Which session topics go with larger gains? An exploratory, multiplicity-controlled screen.

Pairs choose what to talk about (AI tools, social media, work-life balance, transparency …), so a
topic's association with a larger gain may say more about who chooses it than about the topic.
The screen therefore never gives a causal verdict: it is labelled exploratory, it controls the
family-wise error over every topic × role it tests (Holm), and it only tests a topic where both
the participants who discussed it and those who did not are at least the anonymity threshold.

Model, per role: OLS of each participant's gain (mean after start minus mean before) on one
topic indicator, the baseline score and the start cohort, with HC3 robust errors and t reference — the same
design as the engine's within-programme claims, so the numbers read alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analytics.claims.verdict import ALPHA, holm

COLUMNS = ["role", "topic", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "n_with", "n_without",
           "flag", "reason"]


def topic_screen(people: pd.DataFrame, topics: list[str], k: int) -> pd.DataFrame:
    """Association of each topic with the gain, per role, exploratory.

    Parameters
    ----------
    people : one row per participant and role: ``role``, ``gain``, ``baseline``, ``cohort`` and one
        0/1 column per topic (discussed in at least one session before the last wave).
    topics : the topic columns to screen.
    k : anonymity threshold; a topic is not tested (and nothing about it is shown) in a role where
        fewer than `k` participants did or did not discuss it.

    Returns
    -------
    One row per role and topic (`COLUMNS`): the gain difference with its 95% CI, p, Holm-adjusted
    p over every tested row, counts, ``flag`` ("larger gain" / "smaller gain" / "no clear
    association") and ``reason`` when not tested.
    """
    rows = []
    for role, grp in people.groupby("role", sort=True):
        grp = grp.dropna(subset=["gain", "baseline"])
        cohorts = pd.get_dummies(grp["cohort"].astype(str), drop_first=True, dtype=float).to_numpy().reshape(len(grp), -1)
        for topic in topics:
            n_with = int(grp[topic].sum())
            n_without = int(len(grp) - n_with)
            row = {"role": role, "topic": topic, "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                   "p_value": np.nan, "n_with": n_with, "n_without": n_without, "reason": ""}
            if min(n_with, n_without) < k:
                row.update(n_with=np.nan, n_without=np.nan,
                           reason=f"not tested: fewer than {k} participants with or without this topic")
                rows.append(row)
                continue
            X = np.column_stack([np.ones(len(grp)), grp[topic].to_numpy(float), grp["baseline"].to_numpy(float),
                                 cohorts[grp.index.get_indexer(grp.index)]])
            fit = sm.OLS(grp["gain"].to_numpy(float), X).fit(cov_type="HC3", use_t=True)
            lo, hi = fit.conf_int()[1]
            row.update(estimate=float(fit.params[1]), ci_low=float(lo), ci_high=float(hi),
                       p_value=float(fit.pvalues[1]))
            rows.append(row)
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("p_adjusted", "flag")])
    out["p_adjusted"] = holm(out["p_value"]) if len(out) else []
    out["flag"] = np.select(
        [out["p_adjusted"] < ALPHA, out["p_adjusted"].isna()],
        [np.where(out["estimate"] > 0, "larger gain", "smaller gain"), "not tested"], "no clear association")
    return out[COLUMNS]
