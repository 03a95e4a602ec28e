"""Who is treated and who is comparison, for one claim and one role.

A role's comparison pool is the people who could have been in that role: colleagues outside
the programme at the levels that role's participants hold (juniors for mentors, seniors for
mentees). Participants in another role, or in cohorts outside the cohort filter, are neither
treated nor comparison. Each role gets its own propensity model, fitted on its own pool.

`restrict_sample` is the one place where the person-level analysis sample can be narrowed
further (the privacy layer keeps only whole reporting groups there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.claims import did
from analytics.claims.definitions import Claim, Outcome, Role
from analytics.claims.panel import WEIGHT_COVARIATES, MetricPanel, Panel, month_group, timing_group
from analytics.privacy import whole_groups


#: The roster filters a claim selects people by, at their baseline (`store.claims.panel_roster`).
SELECTION_KEYS: tuple[str, ...] = ("department", "location", "generation", "level")

#: The note of every claim in a view filtered by a roster attribute (docs/CLAIMS.md, "Who is in a
#: filtered claim"). Said in every such view, whoever moved, so it reveals nothing about anyone.
SELECTION_NOTE = ("Filtered view: people are in it by their department, location, generation and level at their "
                  "baseline (their first survey wave linked to the roster) and are followed at every later wave "
                  "while employed, wherever they moved; someone who moved into the selection after their baseline "
                  "counts in the view of where they were then. A transfer or promotion after the start can itself "
                  "be an effect of the programme, so selecting people by it would bias the estimate. The survey "
                  "pages, by contrast, count each answer in the group the person was in at that wave.")


def selects_by_attributes(filters) -> bool:
    """Whether `filters` select people by a roster attribute (then `SELECTION_NOTE` applies)."""
    return any(getattr(filters, key) for key in SELECTION_KEYS)


#: panel.cache key of the reporting groups as integer codes (filter-free: kept by `panel.select`).
BLOCK_CODES = "block_codes"


def block_codes(panel: Panel) -> np.ndarray:
    """Each person's reporting group (`block_id`) as an integer code, one group for "none" (-1),
    as `whole_groups` keeps missing keys together: the same partition, without turning 200,000
    strings into Python objects for every sample."""
    if BLOCK_CODES not in panel.cache:
        panel.cache[BLOCK_CODES] = pd.factorize(panel.roster["block_id"], use_na_sentinel=True)[0]
    return panel.cache[BLOCK_CODES]


def restrict_sample(panel: Panel, people: np.ndarray, participant: np.ndarray | None = None) -> np.ndarray:
    """The boolean mask of people a claim may analyse, given the candidate mask: whole reporting
    groups only.

    A sample narrowed person by person (a role's pool, people with a baseline and a follow-up
    score) is no longer a union of whole reporting groups, so two filtered views could differ by
    one person. Keeping only (reporting group, participant) sets with at least the anonymity
    threshold of members (`analytics.privacy.whole_groups`) makes every sample a union of sets of
    ≥ k people again (docs/PRIVACY.md); everything downstream (weights, cells, counts) is computed
    on the mask this returns.
    """
    k = panel.cache.get("min_group")
    if k is None or "block_id" not in panel.roster or not people.any():
        return people
    part = np.zeros(len(people), bool) if participant is None else participant
    frame = pd.DataFrame({"block_id": block_codes(panel)[people], "participant": part[people],
                          "unit": np.flatnonzero(people)})
    keep = whole_groups(frame, int(k), ["block_id", "participant"], "unit")["unit"].to_numpy()
    out = np.zeros(len(people), bool)
    out[keep] = True
    return out


@dataclass(frozen=True)
class Population:
    """Treated and comparison people for one claim × role × outcome, as arrays over `idx`.

    y : (n, n_periods) outcome (NaN = missing); g : first treated period (inf = never, ≥ n_periods
    = starts after the window); treated : participants of this role starting inside the
    window; w : covariate weights (1 for participants); sd : the SD that standardises effects.
    """

    claim_id: str
    role: Role
    outcome: str
    idx: np.ndarray
    y: np.ndarray
    g: np.ndarray
    treated: np.ndarray
    participant: np.ndarray
    w: np.ndarray
    sd: float
    dropped_no_baseline: int
    monthly: bool = False

    @property
    def n_periods(self) -> int:
        return self.y.shape[1]


def role_pool(panel: Panel, role: Role) -> tuple[np.ndarray, np.ndarray]:
    """(candidate mask, participant mask) over every employee for a role.

    Candidates: selected employees who are participants of this role, or outside the programme
    at a level this role's participants (in the whole organisation) hold.
    """
    key = ("pool", role)
    if key in panel.cache:
        return panel.cache[key]
    r = panel.roster
    start = panel.start(role.value)
    participant = start.notna().to_numpy()
    selected = r["selected"].to_numpy(bool)
    outside = ~r["any_pair"].to_numpy(bool)
    # the levels of every participant of the role (all cohorts), not the view's: each person's
    # candidacy then depends on their own attributes only, so a view takes all or none of a
    # reporting group's candidates before `restrict_sample` (docs/PRIVACY.md, point 7)
    cols = {Role.MENTORS: ["mentor_start_all"], Role.MENTEES: ["mentee_start_all"]}.get(
        role, ["mentor_start_all", "mentee_start_all"])
    in_role = (r[cols].notna().any(axis=1).to_numpy() if set(cols) <= set(r.columns)
               else participant & selected)
    levels = set(r.loc[in_role, "level"].dropna())
    at_level = r["level"].isin(levels).to_numpy() if levels else np.zeros(len(r), bool)
    cand = selected & (participant | (outside & at_level))
    panel.cache[key] = (restrict_sample(panel, cand, participant), participant)
    return panel.cache[key]


def _timing(panel: Panel, role: Role, metric: MetricPanel | None) -> np.ndarray:
    """First treated wave (or month) of everyone for a role, computed once per role and calendar."""
    key = ("g", role, None if metric is None else metric.periods)
    if key not in panel.cache:
        start = panel.start(role.value)
        if metric is not None:
            panel.cache[key] = month_group(start, metric.periods)
        elif panel.n_waves:
            panel.cache[key] = timing_group(start, panel.waves["opened"])
        else:
            panel.cache[key] = np.full(panel.n_people, np.inf)
    return panel.cache[key]


def role_weights(panel: Panel, role: Role) -> np.ndarray:
    """Propensity (ATT odds) weights for a role, over every employee (1 outside the pool).

    Fitted once per role on the role's pool among people who answered any survey wave, so
    every claim of that role uses the same comparison weighting.
    """
    key = ("weights", role, panel.filters.method)
    if key in panel.cache:
        return panel.cache[key]
    cand, participant = role_pool(panel, role)
    w = np.ones(panel.n_people)
    if panel.filters.method == "weighted":
        answered = np.zeros(panel.n_people, bool)
        for s in panel.scores.values():
            answered |= np.isfinite(s).any(axis=1)
        fit_on = cand & answered
        part = participant[fit_on]
        if part.any() and not part.all():
            units = panel.roster.loc[fit_on, list(WEIGHT_COVARIATES)].copy()
            units["participant"] = part
            w[fit_on] = did.propensity_weights(units, covariates=WEIGHT_COVARIATES)
    panel.cache[key] = w
    return w


def _first_sd(y: np.ndarray) -> float:
    for t in range(y.shape[1]):
        col = y[:, t]
        col = col[np.isfinite(col)]
        if len(col) >= 2:
            return float(col.std(ddof=1))
    return float("nan")


def build_population(panel: Panel, claim: Claim, role: Role, metric: MetricPanel | None = None) -> Population:
    """The population of one claim × role: survey construct, reports' ratings, or a metric."""
    key = ("pop", claim.construct if metric is None else metric.name, claim.measured_by, role)
    if key in panel.cache:
        return panel.cache[key]
    cand, participant = role_pool(panel, role)
    g_all = _timing(panel, role, metric)
    if metric is not None:
        y_all = metric.values
        if not metric.higher_is_better:
            y_all = -y_all  # a positive effect is always an improvement
        outcome = metric.name
    else:
        y_all = panel.leadership if claim.measured_by is Outcome.REPORTS else panel.scores[claim.construct]
        outcome = claim.construct
    has_y = np.isfinite(y_all).any(axis=1) if y_all.shape[1] else np.zeros(panel.n_people, bool)
    no_base = participant & (g_all <= (1 if metric is not None else 0))
    keep = restrict_sample(panel, cand & has_y & ~no_base, participant)
    idx = np.flatnonzero(keep)
    y = y_all[idx]
    g = g_all[idx]
    part = participant[idx]
    treated = part & np.isfinite(g) & (g >= 1) & (g < y.shape[1])
    w = role_weights(panel, role)[idx]
    if metric is None and claim.measured_by is Outcome.REPORTS and panel.n_waves:
        # standardise by the SD of individual ratings, not of managers' mean ratings
        rating = panel.scores["leadership"]
        mgr = panel.roster["manager_idx"].to_numpy(float)
        rated = np.zeros(panel.n_people, bool)
        rated[idx] = True
        mine = np.isfinite(mgr) & rated[np.where(np.isfinite(mgr), mgr, 0).astype(int)]
        sd = _first_sd(rating[mine])
    else:
        sd = _first_sd(y)
    pop = Population(claim.id, role, outcome, idx, y, g, treated, part, w, sd,
                     int((cand & has_y & no_base).sum()), metric is not None)
    panel.cache[key] = pop
    return pop
