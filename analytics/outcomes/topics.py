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


def participant_gains(panel, construct: str) -> pd.DataFrame:
    """Each participant's gain on `construct` per role: mean of the waves opened on or after their
    first start in that role minus the mean of the waves before it (needs both), the baseline
    (that before-mean) and the cohort. Columns: employee_id, role, gain, baseline, cohort.

    Only whole reporting groups with at least the anonymity threshold of such participants are
    kept (`analytics.claims.population.restrict_sample`), as in the claims engine's samples.
    """
    from analytics.claims.population import restrict_sample

    scores = panel.scores.get(construct)
    if scores is None or panel.n_waves == 0:
        return pd.DataFrame(columns=["employee_id", "role", "gain", "baseline", "cohort"])
    opened = pd.to_datetime(panel.waves["opened"]).to_numpy(dtype="datetime64[ns]")
    frames = []
    for role in ("mentors", "mentees"):
        start = pd.to_datetime(panel.start(role)).to_numpy(dtype="datetime64[ns]")
        has = ~np.isnat(start)
        after = opened[None, :] >= start[:, None]
        with np.errstate(invalid="ignore"):
            pre = np.where(~after & has[:, None], scores, np.nan)
            post = np.where(after & has[:, None], scores, np.nan)
            n_pre, n_post = np.sum(~np.isnan(pre), 1), np.sum(~np.isnan(post), 1)
            base = np.nansum(pre, 1) / np.where(n_pre > 0, n_pre, np.nan)
            late = np.nansum(post, 1) / np.where(n_post > 0, n_post, np.nan)
        keep = has & (n_pre > 0) & (n_post > 0) & panel.roster["selected"].to_numpy(bool)
        # narrowed person by person (a score before and after the start), so whole reporting groups
        # only (docs/PRIVACY.md, point 8): two views' screens then differ by ≥ k participants
        if hasattr(panel, "cache"):  # an engine panel (a hand-built one has no reporting groups)
            keep = restrict_sample(panel, keep, has)
        frames.append(pd.DataFrame({"employee_id": panel.roster["employee_id"].to_numpy()[keep], "role": role,
                                    "gain": (late - base)[keep], "baseline": base[keep],
                                    "cohort": panel.roster["cohort"].to_numpy()[keep]}))
    return pd.concat(frames, ignore_index=True)


def session_topic_screen(db, filters, k: int, construct: str = "engagement") -> pd.DataFrame:
    """`topic_screen` on this database: gains from the claims engine's released panel, topics from
    the released session log (sessions before the last wave), per role, exploratory.

    Topics are the analyst's own labels from the session log; a topic is screened in a role only
    where at least `k` participants did and did not discuss it (`topic_screen`), so no row
    describes fewer than `k` people.
    """
    from analytics.claims.engine import run
    from analytics.store.released import released
    from analytics.store.topics import discussed

    panel = run(db, filters, k, 0.2).panel
    people = participant_gains(panel, construct)
    if people.empty:
        return pd.DataFrame(columns=COLUMNS)
    last = pd.to_datetime(panel.waves["opened"]).max().date()
    with released(db, k, filters.as_of):
        talks = discussed(db, last)
    topics = sorted(talks["topic"].unique())
    if not topics:
        return pd.DataFrame(columns=COLUMNS)
    wide = (talks.assign(x=1).pivot_table(index=["employee_id", "role"], columns="topic", values="x", aggfunc="max",
                                         fill_value=0).reset_index())
    wide.columns = [str(c) for c in wide.columns]
    people = people.merge(wide, on=["employee_id", "role"], how="left")
    people[topics] = people[topics].fillna(0).astype(int)
    people["cohort"] = people["cohort"].fillna("no cohort")
    return topic_screen(people, topics, k)
