"""The Scorecard: one row per claim (a DataFrame the CLI and the pages use), from the engine's `Run`.

The headline columns (estimate, CI, p, n, …) describe the primary test that decided the
verdict (`headline_role`, `headline_metric`); `by_role`, `metrics`, `diagnostics` and `notes`
hold every test of the claim, the checks and the plain sentences.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.claims import anonymous, did
from analytics.claims.definitions import Design, Role
from analytics.claims.outcome_claims import masked_diagnostics, outcome_keys
from analytics.claims.engine import ClaimResult, Run, resolve_min_group, run
from analytics.claims.estimate import Estimate
from analytics.claims.sentences import method_text, sentence, test_phrase
from analytics.filters import Filters

COLUMNS = ["id", "title", "outcome", "verdict", "estimate", "ci_low", "ci_high", "se", "p_value", "p_adjusted",
           "n", "n_treated", "n_comparison", "effect_size", "es_ci_low", "es_ci_high", "es_se", "p_equivalence", "mde",
           "baseline_sd", "sentence", "method", "design", "direction", "reason", "magnitude", "headline_role",
           "headline_metric", "by_role", "metrics", "diagnostics", "notes"]
#: Keys of each entry of `by_role` (and of `metrics`, which adds `metric`, `unit`, `higher_is_better`).
ROLE_KEYS = ("role", "primary", "verdict", "estimate", "ci_low", "ci_high", "effect_size", "es_ci_low", "es_ci_high",
             "p_value", "p_adjusted", "n_treated", "n_comparison", "ess_comparison", "n", "magnitude", "mde",
             "p_equivalence", "sentence", "diagnostics")


def _num(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def diagnostics_json(t: Estimate, min_group: int | None) -> dict:
    """A test's diagnostics as shown: the count of people left out for want of a baseline is null
    when it is under the anonymity threshold (docs/PRIVACY.md: no count of 1 to k−1 people)."""
    out = t.diagnostics.as_json()
    n = out.get("dropped_no_baseline")
    if min_group is not None and n and 0 < n < min_group:
        out["dropped_no_baseline"] = None
    return out


def test_entry(t: Estimate, result: ClaimResult, sesoi: float, min_group: int | None = None) -> dict:
    """One test as a plain dict (the `by_role` / `metrics` entries)."""
    out = {"role": t.role.value, "primary": bool(t.primary), "verdict": t.verdict,
           "estimate": t.estimate, "ci_low": t.ci_low, "ci_high": t.ci_high, "effect_size": t.effect_size,
           "es_ci_low": t.es_ci_low, "es_ci_high": t.es_ci_high, "p_value": t.p_value, "p_adjusted": t.p_adjusted,
           "n_treated": int(t.n_treated), "n_comparison": int(t.n_comparison),
           "ess_comparison": t.diagnostics.ess_comparison, "n": int(t.n_people), "magnitude": t.magnitude,
           "mde": t.mde, "p_equivalence": t.p_equivalence,
           "sentence": test_phrase(result.claim, t, sesoi), "diagnostics": diagnostics_json(t, min_group)}
    if t.metric is not None:
        out.update(metric=t.metric, unit=t.unit)
    if result.claim.design is Design.HAZARD:  # hazard ratio and event counts (null under the threshold)
        out.update(outcome_keys(t))
    return out


def claim_row(result: ClaimResult, sesoi: float, min_group: int, weighted: bool) -> dict:
    claim, h = result.claim, result.headline
    insufficient = result.verdict == "insufficient_data"
    by_role = [test_entry(t, result, sesoi, min_group) for t in result.survey_tests]
    if result.pooled is not None:
        by_role.append(test_entry(result.pooled, result, sesoi, min_group))
    metrics = [test_entry(t, result, sesoi, min_group) for t in result.metric_tests]
    row = {"id": claim.id, "title": claim.title, "outcome": claim.outcome, "verdict": result.verdict,
           "design": claim.design.value, "direction": claim.direction,
           "reason": h.reason if insufficient else "",
           "sentence": sentence(result, sesoi, min_group),
           "method": anonymous.METHOD if result.extra.get("design") else method_text(claim, weighted),
           "magnitude": h.magnitude, "headline_role": h.role.value, "headline_metric": h.metric,
           "by_role": by_role, "metrics": metrics,
           "diagnostics": masked_diagnostics(h) if claim.design is Design.HAZARD else diagnostics_json(h, min_group),
           "notes": list(result.notes)}
    nan = float("nan")
    if insufficient:
        row.update(estimate=nan, ci_low=nan, ci_high=nan, se=nan, p_value=nan, p_adjusted=nan, effect_size=nan,
                   es_ci_low=nan, es_ci_high=nan, es_se=nan, p_equivalence=nan, mde=nan, baseline_sd=nan,
                   n=0, n_treated=h.n_treated, n_comparison=h.n_comparison)
    else:
        row.update(estimate=h.estimate, ci_low=h.ci_low, ci_high=h.ci_high, se=h.se, p_value=h.p_value,
                   p_adjusted=h.p_adjusted, effect_size=h.effect_size, es_ci_low=h.es_ci_low,
                   es_ci_high=h.es_ci_high, es_se=h.es_se, p_equivalence=h.p_equivalence, mde=h.mde,
                   baseline_sd=h.sd, n=h.n_people, n_treated=h.n_treated, n_comparison=h.n_comparison)
    return row


def frame(r: Run, weighted: bool) -> pd.DataFrame:
    return _frame_of([claim_row(res, r.sesoi, r.min_group, weighted) for res in r.results.values()])


def _frame_of(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("n", "n_treated", "n_comparison"):
        out[c] = out[c].fillna(0).astype(int)
    return out


def _stored_view(filters: Filters, sesoi: float, base) -> str | None:
    """The view a published snapshot stores for this request (`stored_results.view_key`), or None."""
    from analytics.store.stored_results import view_key

    return view_key(filters, sesoi, base)


def _check(sesoi: float) -> None:
    if not sesoi or not np.isfinite(sesoi) or sesoi <= 0:
        raise ValueError("sesoi must be a positive number of SDs")


def scorecard(db, filters: Filters = Filters(), min_group: int | None = None, sesoi: float = 0.2,
              base: did.BasePeriod = did.BasePeriod.PRE_MEAN) -> pd.DataFrame:
    """One row per claim (in `CLAIMS` order) with the headline verdict, its numbers and a sentence.

    See README "How a verdict is reached" and docs/CLAIMS.md.

    Parameters
    ----------
    db : analytics.store.Database
    filters : Filters applied to every analysis (roster filters, cohort, date range, method).
    min_group : anonymity threshold and minimum group size (default $TWOWAY_MIN_GROUP_SIZE or 5).
    sesoi : smallest effect size of interest in SD, the equivalence margin for 'no_effect'.
    base : base period (each person's pre-start mean, or the wave before the start).
    """
    _check(sesoi)
    min_group = resolve_min_group(min_group)
    view = _stored_view(filters, sesoi, base)
    if view is not None:  # stored at publish time (analytics.store.stored_results)
        from analytics.store import stored_results

        rows = stored_results.scorecard_rows(db, min_group, view)
        if rows is not None:
            return _frame_of(rows)
    r = run(db, filters, min_group, sesoi, base)
    key = ("frame", filters.method)
    if key not in r.panel.cache:
        r.panel.cache[key] = frame(r, filters.method == "weighted")
    return r.panel.cache[key].copy()


def roles_frame(db, filters: Filters = Filters(), min_group: int | None = None, sesoi: float = 0.2) -> pd.DataFrame:
    """Every test of every claim as one tidy row (claim, role, metric, verdict, effect, CI, p, n …)."""
    _check(sesoi)
    r = run(db, filters, resolve_min_group(min_group), sesoi)
    rows = []
    for cid, res in r.results.items():
        tests = list(res.tests) + ([res.pooled] if res.pooled is not None else [])
        for t in tests:
            e = test_entry(t, res, sesoi)
            e.pop("diagnostics")
            rows.append({"claim": cid, "metric": t.metric, **e})
    return pd.DataFrame(rows)


__all__ = ["scorecard", "roles_frame", "COLUMNS", "ROLE_KEYS", "Role"]
