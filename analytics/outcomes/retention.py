"""Retention and promotion for each side of the pair, from the roster history.

For each role the treated are the people who started a pair in that role; the comparison
pool is the people who could have been in that role — colleagues at the levels that role's
participants come from — who had not (yet) started. Both are followed month by month from the
programme's observation window (`store.outcomes.window`) while employed; `hazard.staggered_hazard`
compares, within each calendar month, those who had started with those who had not, with
department and level fixed effects.

Leavers are few by nature, so the anonymity threshold applies to events, not only to people:
a role with fewer than k participants, fewer than k comparison colleagues, or fewer than k
events among either group gets no estimate at all ("insufficient data"), and no count under k
is ever returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.outcomes.hazard import HazardEstimate, person_months, staggered_hazard
from analytics.store import Database
from analytics.store import outcomes as q

OUTCOMES = ("retention", "promotion")
ROLES = ("mentors", "mentees")


@dataclass(frozen=True)
class OutcomeEffect:
    """One outcome for one role: the hazard estimate, or why there is none."""

    outcome: str
    role: str
    estimate: HazardEstimate | None
    reason: str = ""


def hazard_input(people: pd.DataFrame, outcome: str, role: str, window: tuple[int, int]) -> pd.DataFrame:
    """The people at risk for `outcome` in `role`'s population, in `person_months`' columns.

    Retention: the event is leaving. Promotion: the event is the first move to a higher level,
    people are followed until they leave (censored), and people already at the top level are
    never at risk.
    """
    if outcome not in OUTCOMES or role not in ROLES:
        raise ValueError(f"unknown outcome/role {outcome!r}/{role!r}")
    start = people["start_mentor" if role == "mentors" else "start_mentee"]
    other = people["start_mentee" if role == "mentors" else "start_mentor"]
    treated_levels = set(people.loc[start.notna(), "level"].dropna())
    # who could have been in this role: the levels this role's participants come from, and not
    # a participant in the other role only
    pool = people["level"].isin(treated_levels) & ~(other.notna() & start.isna())
    p = people.loc[pool].copy()
    lo, hi = window
    p = p[(p["entry"] <= hi) & (p["left"].isna() | (p["left"] >= lo))]
    p["start"] = (start.loc[p.index]).astype(float)
    if outcome == "retention":
        p["exit"] = p["left"].astype(float)
        p["censor"] = np.nan
    else:
        top = people["level_rank"].max()
        p = p[p["level_rank"] < top]
        p["exit"] = p["promoted"].astype(float)
        p["censor"] = p["left"].astype(float)
    p["entry"] = p["entry"].astype(float)
    return p[["unit", "entry", "exit", "censor", "start", "department", "level"]].fillna(
        {"department": "not recorded", "level": "not recorded"})


def outcome_effects(db: Database, k: int) -> list[OutcomeEffect]:
    """Retention and promotion effects for mentors and for mentees (see the module docstring)."""
    win = q.window(db)
    out: list[OutcomeEffect] = []
    if win is None:
        reason = ("the roster history has no dated change since the programme began: leaving and promotion "
                  "cannot be observed (import later rosters as dated snapshots)")
        return [OutcomeEffect(o, r, None, reason) for o in OUTCOMES for r in ROLES]
    people = q.people(db, q.level_order(db))
    for outcome in OUTCOMES:
        for role in ROLES:
            data = hazard_input(people, outcome, role, win)
            pm = person_months(data, *win)
            treated_people = pm.loc[pm["treated"] == 1, "unit"].nunique()
            comparison_people = pm["unit"].nunique() - treated_people
            events_t = int(pm.loc[pm["treated"] == 1, "event"].sum())
            events_c = int(pm.loc[pm["treated"] == 0, "event"].sum())
            if min(treated_people, comparison_people, events_t, events_c) < k:
                out.append(OutcomeEffect(outcome, role, None,
                                         f"fewer than {k} participants, comparison colleagues or events in a group"))
                continue
            covariates = tuple(c for c in ("department", "level") if pm[c].nunique() > 1)
            out.append(OutcomeEffect(outcome, role, staggered_hazard(pm, covariates=covariates)))
    return out


def engine_effects(db: Database, k: int, filters=None, sesoi: float = 0.2) -> list[OutcomeEffect]:
    """The scorecard's own retention and promotion tests, as `OutcomeEffect`s.

    Unlike `outcome_effects` (kept for compatibility: raw roster history, the library's own risk
    sets), these are the engine's estimates — released people only, the survey claims' pools and
    covariates, the staggered-entry design (`analytics.claims.outcome_claims`) — so an ROI built
    on them rests on the same figures the Claims page shows.
    """
    from analytics.claims.engine import resolve_min_group, run
    from analytics.filters import Filters

    r = run(db, filters or Filters(), resolve_min_group(k), sesoi)
    out = []
    for outcome in OUTCOMES:
        for t in r.results[outcome].tests:
            h = getattr(t.result, "hazard", None)
            out.append(OutcomeEffect(outcome, t.role.value, h, "" if h is not None else (t.reason or "no estimate")))
    return out
