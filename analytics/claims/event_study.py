"""Event study: the effect by wave relative to each person's start, for each claim and role.

e = t − g: −2, −1 are the waves before the start (placebo points: they should be near 0 when
parallel trends hold), 0 the first wave on or after the start, +1, +2 … later waves. For an
objective metric the periods are months: e = 0 is the first full month after the start month,
e = −1 the start month itself, which (as in the scorecard) is neither before nor after and gets
no point; the base is each person's mean over the months before it. Each point
averages the cohorts that reach it, weighted by cohort size, with a cluster-robust 95% CI from
the same closed-form fit as the scorecard. With the wave-before-start base period the point
e = −1 is the reference (0 by construction, no CI).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.claims import did
from analytics.claims.definitions import Claim, Design
from analytics.claims.population import Population

COLUMNS = ["claim", "role", "e", "kind", "estimate", "se", "ci_low", "ci_high", "p_value", "effect_size",
           "es_ci_low", "es_ci_high", "n_treated", "n_comparison", "n_cohorts", "base", "metric", "period"]


def _points(fit: did.CellFit, kind: str, sd: float, claim: Claim, pop: Population, base,
            metric: str | None = None) -> list[dict]:
    rows = []
    cells = fit.cells
    for e, grp in cells.groupby("e", sort=True):
        n = grp["n_treated"].to_numpy(float)
        a = np.zeros(len(cells))
        a[grp.index.to_numpy()] = n / n.sum()
        est, se, lo, hi, p = fit.combo(a)
        rows.append({"claim": claim.id, "role": pop.role.value, "e": int(e), "kind": kind, "estimate": est,
                     "se": se, "ci_low": lo, "ci_high": hi, "p_value": p, "effect_size": est / sd,
                     "es_ci_low": lo / sd, "es_ci_high": hi / sd, "n_treated": int(n.sum()),
                     "n_comparison": int(grp["n_comparison"].max()), "n_cohorts": int(len(grp)),
                     "base": base.value, "metric": metric, "period": "month" if metric else "wave"})
    return rows


def population_event_study(claim: Claim, pop: Population, min_group: int,
                           base: did.BasePeriod = did.BasePeriod.PRE_MEAN, fit: did.CellFit | None = None,
                           ) -> pd.DataFrame:
    """The tidy event-study frame of one claim × role population (COLUMNS).

    `fit` may pass in the scorecard's own effect cells for this base period (no refit)."""
    if claim.design is not Design.DID or pop.n_periods == 0 or not pop.sd > 0:
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    if fit is None:
        fit, _, _ = did.effect_cells(pop.y, pop.g, pop.treated, pop.w, min_group, base)
    if fit is not None:
        rows += _points(fit, "effect", pop.sd, claim, pop, base)
    plac = did.placebo_cells(pop.y, pop.g, pop.treated, pop.w, min_group, base)
    if plac is not None:
        rows += _points(plac, "placebo", pop.sd, claim, pop, base)
    if base is did.BasePeriod.LAST and rows:
        rows.append({"claim": claim.id, "role": pop.role.value, "e": -1, "kind": "reference", "estimate": 0.0,
                     "se": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_value": float("nan"), "effect_size": 0.0,
                     "es_ci_low": 0.0, "es_ci_high": 0.0, "n_treated": 0, "n_comparison": 0, "n_cohorts": 0,
                     "base": base.value, "metric": None, "period": "wave"})
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values("e", kind="stable").reset_index(drop=True)


#: The monthly event study's window: months before the start month, and months after it.
MONTHS_BEFORE, MONTHS_AFTER = 6, 12


def metric_event_study(claim: Claim, pop: Population, min_group: int, metric: str) -> pd.DataFrame:
    """The tidy event-study frame (COLUMNS) of one objective metric × role population, by month.

    Base: each person's mean over the months before their start month (the scorecard's rule);
    placebo points for the earlier months, against the same base. Points from MONTHS_BEFORE
    before the start month to MONTHS_AFTER after it (the base still uses every earlier month).
    """
    if claim.design is not Design.DID or pop.n_periods == 0 or not pop.sd > 0:
        return pd.DataFrame(columns=COLUMNS)
    base = did.BasePeriod.PRE_MEAN
    rows = []
    fit, _, _ = did.effect_cells(pop.y, pop.g, pop.treated, pop.w, min_group, base, base_skip=1,
                                 max_after=MONTHS_AFTER - 1)
    if fit is not None:
        rows += _points(fit, "effect", pop.sd, claim, pop, base, metric)
    plac = did.placebo_cells(pop.y, pop.g, pop.treated, pop.w, min_group, base, base_skip=1,
                             max_before=MONTHS_BEFORE)
    if plac is not None:
        rows += _points(plac, "placebo", pop.sd, claim, pop, base, metric)
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values("e", kind="stable").reset_index(drop=True)
