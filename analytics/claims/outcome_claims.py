"""The `retention` and `promotion` claims in the engine: a staggered-entry hazard for each role.

Design (README "Retention and promotion"; docs/CLAIMS.md):

* **Who.** A role's population is the survey claims' own (`population.role_pool`): participants
  of that role in the selected cohorts, and colleagues outside the programme at the levels that
  role's participants hold, as whole reporting groups of at least k people (docs/PRIVACY.md).
* **Staggered entry.** A participant enters the risk set the month after their pair started
  (the start month counts as neither before nor after) and is compared, calendar month by
  calendar month, with comparison colleagues still at risk in the same month. Their months
  before the start are left out: a person who had left could not have started a pair, so those
  months are event-free by construction ("immortal time") and would flatter the comparison.
* **Model.** The discrete-time complementary log-log hazard of `analytics.outcomes.hazard`
  with calendar-month fixed effects and, in the matched comparison, fixed effects for the
  covariates the survey claims weight on (department, level, generation, tenure band, the
  roster's own values at entry). The survey claims use ATT odds weights on those covariates;
  here the same covariates enter the model instead, which keeps the grouped likelihood exact and
  the fit small at any size (a weighted person-month fit would need one row per person-month).
  The odds weights are still computed on the risk set, and their Kish effective size is the
  overlap check.
* **Output.** The 12-month difference in the probability of the event for the participants
  (model-based, with a simulated 95% interval) is the estimate; the hazard ratio with its Wald
  interval sits beside it. The p-value is the Wald test of the log hazard ratio.
* **Verdict.** Standardised by the SD of a 12-month yes/no outcome at the participants' own rate
  without the programme, sqrt(p0 (1 − p0)), so the engine's smallest effect of interest (0.2
  SD) reads as a probability difference — about 7 percentage points at 15% a year.
* **Small groups.** No estimate when the participants, the comparison colleagues, or the events
  among either have fewer than k people; event counts under k are never shown (null).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.claims import checks, did
from analytics.claims.definitions import Claim, Role
from analytics.claims.estimate import Diagnostics, Estimate
from analytics.claims.panel import WEIGHT_COVARIATES, Panel
from analytics.claims.population import restrict_sample
from analytics.outcomes.hazard import HazardEstimate, hazard_from_cells, risk_cells
from analytics.store import outcomes as q

#: Fixed-effect covariates of the matched comparison (the survey claims' weighting covariates).
MATCHED = ("department", "level", "generation", "tenure_band")
#: Months before each start used for the pre-start check.
PRE_MONTHS = 12
CACHE_KEY = "outcome_history"
NO_HISTORY = ("the roster history has no dated change since the programme began: leaving and promotion cannot "
              "be observed (import later rosters as dated snapshots)")


@dataclass(frozen=True)
class OutcomeData:
    """What the retention and promotion claims read from the store, once per panel (inside the release)."""

    window: tuple[int, int] | None
    rows: pd.DataFrame
    events: pd.DataFrame
    levels: tuple[str, ...]


def read(db) -> OutcomeData:
    """Read the roster history for the outcome claims (call inside `released()`, like the panel)."""
    win = q.window(db)
    if win is None:
        return OutcomeData(None, pd.DataFrame(), pd.DataFrame(), ())
    levels = q.raw_level_order(db)
    rows, events = q.history_rows(db, levels)
    return OutcomeData(win, rows, events, tuple(levels))


def _month(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates, errors="coerce")
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(float)


class _Index:
    """Rows of a frame grouped by employee (stable, ordered by `by` within each employee), for
    looking many people up at once: what a pandas merge on ``employee_id`` does, as positions.

    The outcome claims look people up in the roster history and its events several times per
    claim; at 200,000 people the merges were most of their time. The index of a frame is built
    once (`_index_of` keeps the last few) and each look-up is then one hash of the people's ids
    and a few numpy gathers.
    """

    def __init__(self, frame: pd.DataFrame, by: str | None = None):
        codes, uniq = pd.factorize(frame["employee_id"].to_numpy(object))
        valid = np.flatnonzero(codes >= 0)  # an id is never NULL (a key); a NULL would match nothing
        keys = (codes[valid],) if by is None else (frame[by].fillna(-np.inf).to_numpy(float)[valid], codes[valid])
        self.order = valid[np.lexsort(keys)]  # stable: ties keep the frame's own order
        counts = np.bincount(codes[valid], minlength=len(uniq))
        self.counts, self.starts = counts, np.cumsum(counts) - counts
        self.index = pd.Index(uniq)
        self.frame = frame
        self._cols: dict[str, np.ndarray] = {}

    def pairs(self, units) -> tuple[np.ndarray, np.ndarray]:
        """(query position, frame row) for every match of each unit, queries ascending, each
        query's rows in the index's order (the rows of an inner merge, sorted)."""
        k = self.index.get_indexer(np.asarray(units, dtype=object))
        found = k >= 0
        kk = np.where(found, k, 0)  # -1 (not found) would wrap around, or fail on an empty frame
        cnt = np.where(found, self.counts[kk], 0) if len(self.counts) else np.zeros(len(k), int)
        q = np.repeat(np.arange(len(k)), cnt)
        base = np.repeat(np.where(found, self.starts[kk], 0) if len(self.starts) else np.zeros(len(k), int), cnt)
        off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        return q, self.order[base + off]

    def col(self, name: str, dtype=float, fill: float | None = None) -> np.ndarray:
        """A column of the frame as a numpy array (NULL as `fill` when given), kept."""
        key = f"{name}:{fill}"
        if key not in self._cols:
            c = self.frame[name]
            self._cols[key] = (c.fillna(fill) if fill is not None else c).to_numpy(dtype)
        return self._cols[key]


_INDEXES: list[tuple[object, str | None, _Index]] = []


def _index_of(frame: pd.DataFrame, by: str | None = None) -> _Index:
    """The `_Index` of this very frame object, built once (the last few frames are kept)."""
    for f, b, ix in list(_INDEXES):
        if f is frame and b == by:
            return ix
    ix = _Index(frame, by)
    _INDEXES[:] = [(frame, by, ix), *_INDEXES[:3]]
    return ix


def _first_after(events: pd.DataFrame, kind: str, units: pd.Series, after: np.ndarray,
                 to_levels: set | None = None, within: bool = True) -> np.ndarray:
    """Each unit's first event of `kind` at or after its month `after` (NaN when none); with
    `to_levels`, only the events to one of those levels (`within`) or to any other (not `within`)."""
    ix = _index_of(events)
    q, r = ix.pairs(units.to_numpy(object))
    month = ix.col("month")[r]
    ok = (month >= np.asarray(after, float)[q]) & (ix.col("kind", object)[r] == kind)
    if to_levels is not None:
        into = pd.Series(ix.col("to_level", object)).isin(to_levels).to_numpy()[r]
        ok &= into if within else ~into
    out = np.full(len(units), np.inf)
    np.minimum.at(out, q[ok], month[ok])
    return np.where(np.isfinite(out), out, np.nan)


def _at(rows: pd.DataFrame, units: pd.Series, month: np.ndarray) -> pd.DataFrame:
    """Each unit's history row in force at the beginning of `month` (department, level,
    level_rank); the first row when the month precedes the history.

    A row ending in `month` (its `to_m`) still held at the month's beginning: a person promoted
    (or leaving) during their first month at risk entered it at the old level, and that month's
    event is theirs. Reading the row that *starts* in the month instead would put them at the
    level the event gave them (conditioning on the outcome): promoted people would enter at the
    top, leavers not at all, and every event in a first month at risk would be lost (docs/CLAIMS.md).
    """
    ix = _index_of(rows, "from_m")
    q, r = ix.pairs(units.to_numpy(object))
    inside = _inside(ix, q, r, month)
    # per query: the first row in force (rows in order of from_m), else the first row at all
    pick = np.full(len(units), -1)
    first_any = np.flatnonzero(np.r_[True, q[1:] != q[:-1]]) if len(q) else np.zeros(0, int)
    pick[q[first_any]] = r[first_any]
    hit = np.flatnonzero(inside)
    if len(hit):
        h = hit[np.r_[True, q[hit][1:] != q[hit][:-1]]]
        pick[q[h]] = r[h]
    has = pick >= 0
    out = {}
    for c, dtype in (("department", object), ("level", object), ("level_rank", float)):
        col = np.full(len(units), np.nan, dtype=dtype)
        col[has] = ix.col(c, dtype)[pick[has]]
        out[c] = col
    return pd.DataFrame(out)


def _first_from(rows: pd.DataFrame, units: pd.Series) -> np.ndarray:
    """Each unit's earliest history row start (-inf for a row since the start of the data, NaN
    for a person without history): the first row of the index ordered by `from_m`."""
    ix = _index_of(rows, "from_m")
    first = ix.col("from_m", fill=-np.inf)[ix.order[ix.starts]] if len(ix.order) else np.zeros(0)
    k = ix.index.get_indexer(units.to_numpy(object))
    return np.where(k >= 0, first[np.maximum(k, 0)] if len(first) else np.nan, np.nan)


def _inside(ix: _Index, q: np.ndarray, r: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Whether history row r is in force during the month of query q (from_m <= month <= to_m, NULL open)."""
    m = np.asarray(month, float)[q]
    return (ix.col("from_m", fill=-np.inf)[r] <= m) & (m <= ix.col("to_m", fill=np.inf)[r])


@dataclass(frozen=True)
class RiskSet:
    """The people at risk for one outcome and role, in `hazard.risk_cells` columns."""

    people: pd.DataFrame
    participants: int          # participants of the role in the selection (before leaving any out)
    left_out: int              # of them, not at risk: started outside the window, left or promoted first, at the top
    ess_comparison: float
    pre: pd.DataFrame | None   # the pre-start check's people (future participants before their start)


def risk_set(panel: Panel, data: OutcomeData, outcome: str, role: Role, matched: bool) -> RiskSet:
    """Participants from the month after their start, never-participants of the pool throughout.

    The pool is the survey claims' (participants of the role, and colleagues outside the programme
    at the levels the role's participants hold), but by the level a person held when they entered
    the risk set, not by today's level: today's level is partly the outcome (a colleague promoted
    into a senior level would otherwise join the seniors' comparison because of their promotion).
    """
    lo, hi = data.window
    r = panel.roster
    units = r["employee_id"].reset_index(drop=True)
    start_all = _month(panel.start(role.value).reset_index(drop=True))
    part_all = np.isfinite(start_all)
    rows = data.rows
    entry_hist = _first_from(rows, units)
    hire = _month(r["hire_date"].reset_index(drop=True))
    entry = np.fmax(np.where(np.isfinite(entry_hist), entry_hist, -np.inf), np.where(np.isfinite(hire), hire, -np.inf))
    entry = np.where(np.isfinite(entry), entry, lo)
    first_in = np.maximum(entry, lo)  # the first month a person could be at risk (in the roster, in the window)
    entry = np.where(part_all, start_all + 1, entry)
    entry = np.maximum(entry, lo)
    selected = r["selected"].to_numpy(bool)
    # each person's row is their own: look up only the people the view selects (a department's)
    sel = np.flatnonzero(selected)
    at_sel = _at(rows, units.iloc[sel].reset_index(drop=True), entry[sel])
    outside = ~r["any_pair"].to_numpy(bool)
    # Who may enter depends only on each person's own history and on the levels the role's
    # participants held at their start in the whole organisation (every cohort), never on the view:
    # a view then takes all or none of a reporting group's candidates, and `restrict_sample` keeps
    # whole sets of at least k (docs/PRIVACY.md, point 7). Those of them not at risk at entry (at the
    # top level for promotion, or no longer employed) are dropped after it: they would add no
    # person-months and no event, so every figure is still one of the whole sets'.
    org_col = "mentor_start_all" if role is Role.MENTORS else "mentee_start_all"
    start_org = _month(r[org_col].reset_index(drop=True)) if org_col in r else start_all
    in_role = np.isfinite(start_org)
    levels = set(_at(rows, units[in_role].reset_index(drop=True),
                     np.maximum(start_org[in_role] + 1, lo))["level"].dropna())
    level_in = np.zeros(len(units), bool)
    level_in[sel] = at_sel["level"].isin(levels).to_numpy()
    cand = selected & (part_all | (outside & level_in))
    cand = restrict_sample(panel, cand, part_all)
    idx = np.flatnonzero(cand)
    units = units.iloc[idx].reset_index(drop=True)
    part, start, entry = part_all[idx], start_all[idx], entry[idx]
    at = at_sel.iloc[np.searchsorted(sel, idx)].reset_index(drop=True)  # candidates are selected
    left = _first_after(data.events, "left", units, entry)
    people = pd.DataFrame({"unit": np.arange(len(units)), "employee_id": units, "entry": entry,
                           "start": np.where(part, start, np.nan), "department": at["department"].fillna("not recorded"),
                           "level": at["level"].fillna("not recorded"), "level_rank": at["level_rank"],
                           "generation": r["w_generation"].iloc[idx].fillna("not recorded").to_numpy(object)
                           if "w_generation" in r else "all",
                           "tenure_band": r["tenure_band"].iloc[idx].fillna("not recorded").to_numpy(object),
                           "participant": part})
    for c in ("department", "level", "generation", "tenure_band"):
        people[c] = people[c].astype(str).to_numpy(object)
    if outcome == "retention":
        people["exit"], people["censor"] = left, np.nan
        ok = np.ones(len(people), bool)
    else:
        people["exit"] = _first_after(data.events, "promoted", units, entry)
        people["censor"] = left
        top = max(len(data.levels) - 1, 0)
        ok = people["level_rank"].notna().to_numpy() & (people["level_rank"].fillna(top).to_numpy() < top)
    employed = _employed(rows, units, entry) & np.isfinite(entry) & (entry <= hi)
    keep = ok & employed
    n_part = int(part.sum())
    left_out = int((part & ~keep).sum())
    ris = people[keep].reset_index(drop=True)
    ris["unit"] = np.arange(len(ris))
    segs = segments(ris, rows, hi)
    w = np.ones(len(ris))
    units_w = r.iloc[idx[keep]][list(WEIGHT_COVARIATES)].reset_index(drop=True)
    units_w["participant"] = ris["participant"].to_numpy(bool)
    if units_w["participant"].any() and not units_w["participant"].all():
        w = did.propensity_weights(units_w, covariates=WEIGHT_COVARIATES)
    ess = checks.kish_ess(w[~ris["participant"].to_numpy(bool)]) if matched else float(
        (~ris["participant"]).sum())
    pre = None
    if outcome == "promotion":
        future = people[part].assign(first_in=first_in[idx][part])
        pre = _pre_people(data, future, ris[~ris["participant"]], lo, levels)
    return RiskSet(segs, n_part, left_out, ess, pre)


def segments(people: pd.DataFrame, rows: pd.DataFrame, hi: int) -> pd.DataFrame:
    """Split each person's time at risk at their history rows, so department and level are the
    ones in force each month (a colleague promoted to a level with a lower leaving rate must not
    lend that rate to their old level).

    A row covers its months up to the month before the next row starts; the month in which the
    counted event happens stays with the row it ends. Each segment ends censored unless the event
    falls in it. The participant's profile for the 12-month figures is their first segment's.
    """
    end = np.fmin(np.fmin(people["exit"].to_numpy(float), people["censor"].to_numpy(float)), float(hi))
    ix = _index_of(rows, "from_m")
    q, r = ix.pairs(people["employee_id"].to_numpy(object))  # each person's rows, in order of from_m
    from_m, to_m = ix.col("from_m", fill=-np.inf)[r], ix.col("to_m", fill=np.inf)[r]
    ex = people["exit"].to_numpy(float)[q]
    event_here = np.isfinite(ex) & (ex == to_m)
    hi_row = np.where(_continues(ix)[r] & ~event_here, to_m - 1, to_m)
    seg_lo = np.maximum(people["entry"].to_numpy(float)[q], from_m)
    seg_hi = np.minimum(end[q], hi_row)
    # the month of a change belongs to one row only: the earlier (it holds the event, if any)
    unit = people["unit"].to_numpy()[q]
    o = np.lexsort((seg_hi, seg_lo, unit))  # stable
    q, r, unit, seg_lo, seg_hi, ex = q[o], r[o], unit[o], seg_lo[o], seg_hi[o], ex[o]
    same = np.r_[False, unit[1:] == unit[:-1]]
    prev = np.where(same, np.r_[np.nan, seg_hi[:-1]], np.nan)
    seg_lo = np.where(np.isfinite(prev), np.maximum(seg_lo, prev + 1), seg_lo)
    ok = seg_lo <= seg_hi
    m = people.drop(columns=["department", "level"]).iloc[q[ok]].reset_index(drop=True)
    m["entry"], m["censor"] = seg_lo[ok], seg_hi[ok]
    ex = ex[ok]
    m["exit"] = np.where((ex >= m["entry"].to_numpy()) & (ex <= m["censor"].to_numpy()), ex, np.nan)
    for c in ("department", "level"):
        v = pd.Series(ix.col(c, object)[r[ok]]).fillna("not recorded").astype(str).to_numpy(object)
        m[c] = v
    return m


def _continues(ix: _Index) -> np.ndarray:
    """Per history row: the person's next row (in order of from_m) starts in the month this one ends."""
    if "continues" not in ix._cols:
        o = ix.order
        fm, tm = ix.frame["from_m"].to_numpy(float)[o], ix.frame["to_m"].to_numpy(float)[o]
        codes = np.repeat(np.arange(len(ix.counts)), ix.counts)
        nxt = np.r_[fm[1:], np.nan]
        nxt[np.r_[codes[1:] != codes[:-1], True]] = np.nan  # last row of a person: no next
        out = np.zeros(len(ix.frame), bool)
        out[o] = np.isfinite(nxt) & (nxt == tm)
        ix._cols["continues"] = out
    return ix._cols["continues"]


def _employed(rows: pd.DataFrame, units: pd.Series, month: np.ndarray) -> np.ndarray:
    """Whether each unit has a history row in force during `month` (employed at some point of it:
    a person who leaves during their first month at risk is at risk in it, and leaves in it)."""
    ix = _index_of(rows, "from_m")
    q, r = ix.pairs(units.to_numpy(object))
    out = np.zeros(len(units), bool)
    out[q[_inside(ix, q, r, month)]] = True
    return out


def _pre_people(data: OutcomeData, future: pd.DataFrame, comparison: pd.DataFrame, lo: int,
                levels: set) -> pd.DataFrame:
    """Future participants in the `PRE_MONTHS` before their start (marked as 'treated'), against the
    comparison colleagues over the same calendar months.

    Only promotions that stay within the role's levels count here, and a promotion out of them
    ends a person's time at risk: a future participant held one of those levels at their start,
    so they could not have been promoted out of them before it (the comparison is held to the same
    rule, so the check compares like with like).

    Every participant of the role enters, from the later of 12 months before their start and
    their first month in the roster, at the level they held then (unless it is the top): not only
    those still below the top at their start. Keeping only those would keep exactly the future
    participants *not* promoted to the top before their start — a selection on the pre-start
    outcome that made the check lean low under the null (docs/CLAIMS.md).
    """
    def first(within: bool, units: pd.Series, after: np.ndarray) -> np.ndarray:
        return _first_after(data.events, "promoted", units, after, levels, within)

    f = future.copy()
    f["entry"] = np.maximum(np.maximum(f["start"] - PRE_MONTHS, lo), f.pop("first_in"))
    units = f["employee_id"].reset_index(drop=True)
    at = _at(data.rows, units, f["entry"].to_numpy(float))
    top = max(len(data.levels) - 1, 0)
    below_top = (at["level_rank"].notna() & (at["level_rank"].fillna(top) < top)).to_numpy()
    keep = below_top & (f["entry"] < f["start"]).to_numpy()  # at risk below the top before the start
    f, at = f[keep].reset_index(drop=True), at[keep].reset_index(drop=True)
    units = f["employee_id"].reset_index(drop=True)
    f["department"] = at["department"].fillna("not recorded").astype(str).to_numpy(object)
    f["level"] = at["level"].fillna("not recorded").astype(str).to_numpy(object)
    e = f["entry"].to_numpy(float)
    f["exit"] = first(True, units, e)
    f["censor"] = np.fmin(np.fmin(_first_after(data.events, "left", units, e), first(False, units, e)),
                          f["start"].to_numpy(float) - 1)
    # in risk_cells a participant is treated throughout: mark them with a start before entry
    f["start"] = f["entry"] - 1
    c = comparison.copy()
    cu = c["employee_id"].reset_index(drop=True)
    ce = c["entry"].to_numpy(float)
    c["exit"] = first(True, cu, ce)
    c["censor"] = np.fmin(_first_after(data.events, "left", cu, ce), first(False, cu, ce))
    both = pd.concat([f, c], ignore_index=True).assign(unit=lambda d: np.arange(len(d)))
    return segments(both, data.rows, data.window[1])


def estimate_outcome(panel: Panel, claim: Claim, role: Role, min_group: int) -> Estimate:
    """One role's retention or promotion test as an engine `Estimate` (see the module docstring)."""
    data: OutcomeData | None = panel.cache.get(CACHE_KEY)
    head = dict(claim_id=claim.id, role=role, metric=None, primary=role in claim.primary, unit="probability")
    diag = dict(ess_required=checks.min_ess(min_group))
    if data is None or data.window is None:
        return Estimate(**head, reason=NO_HISTORY, diagnostics=Diagnostics(**diag), result=Outcome(None, None, min_group))
    matched = panel.filters.method == "weighted"
    rs = risk_set(panel, data, claim.construct, role, matched)
    diag["dropped_no_baseline"] = rs.left_out
    covs = tuple(c for c in MATCHED if matched and rs.people[c].nunique() > 1)
    lo, hi = data.window
    rc = risk_cells(rs.people, lo, hi, covs)
    small = min(rc.n_treated, rc.n_comparison, rc.events_treated, rc.events_comparison) < min_group
    counts = dict(n_treated=rc.n_treated if rc.n_treated >= min_group else 0,
                  n_comparison=rc.n_comparison if rc.n_comparison >= min_group else 0)
    if small:
        what = "leavers" if claim.construct == "retention" else "promotions"
        reason = f"fewer than {min_group} participants, comparison colleagues or {what} among either"
        return Estimate(**head, reason=reason, diagnostics=Diagnostics(**diag), **counts,
                        result=Outcome(None, None, min_group))
    diag["ess_comparison"] = rs.ess_comparison
    try:
        h = hazard_from_cells(rc, covs)
    except ValueError as exc:
        return Estimate(**head, reason=str(exc), diagnostics=Diagnostics(**diag), **counts,
                        result=Outcome(None, None, min_group))
    pre = _pretrend(rs, data, covs, min_group)
    if pre is not None:
        diag.update(pretrend_testable=True, pretrend_p=pre.p_value, pretrend_estimate=pre.log_hr)
    p0 = h.prob_untreated
    sd = math.sqrt(p0 * (1 - p0)) if 0 < p0 < 1 else float("nan")
    if not sd > 0:
        return Estimate(**head, reason="the comparison's 12-month probability is 0 or 1", **counts,
                        diagnostics=Diagnostics(**diag), result=Outcome(None, None, min_group))
    es_se = (h.prob_diff_ci_high - h.prob_diff_ci_low) / (2 * checks.Z) / sd
    return Estimate(**head, estimate=h.prob_diff, se=es_se * sd, ci_low=h.prob_diff_ci_low,
                    ci_high=h.prob_diff_ci_high, p_value=h.p_value, effect_size=h.prob_diff / sd, es_se=es_se,
                    es_ci_low=h.prob_diff_ci_low / sd, es_ci_high=h.prob_diff_ci_high / sd, n_treated=h.n_treated,
                    n_comparison=h.n_comparison, n_people=h.n_treated + h.n_comparison, sd=sd,
                    diagnostics=Diagnostics(**diag), result=Outcome(h, pre, min_group))


def _pretrend(rs: RiskSet, data: OutcomeData, covs: tuple[str, ...], min_group: int) -> HazardEstimate | None:
    """Before their start: the future participants' hazard vs the comparison's (promotion only).

    Not testable for leaving: everyone who started a pair was still employed at their start.
    """
    if rs.pre is None:
        return None
    lo, hi = data.window
    pre = rs.pre
    rc = risk_cells(pre, lo, hi, tuple(c for c in covs if pre[c].nunique() > 1))
    if min(rc.n_treated, rc.n_comparison, rc.events_treated, rc.events_comparison) < min_group:
        return None
    try:
        return hazard_from_cells(rc, tuple(c for c in covs if pre[c].nunique() > 1), n_draws=200)
    except ValueError:
        return None


@dataclass(frozen=True)
class Outcome:
    """The hazard behind an outcome test (`Estimate.result`), with the pre-start check (None when
    there is no estimate) and the anonymity threshold its counts are shown against."""

    hazard: HazardEstimate | None
    pretrend: HazardEstimate | None
    min_group: int


def masked_diagnostics(t: Estimate) -> dict:
    """The diagnostics JSON of an outcome test, with the count of people left out null when it is
    under the anonymity threshold (the notes say "fewer than k")."""
    out = t.diagnostics.as_json()
    k = t.result.min_group if isinstance(t.result, Outcome) else None
    n = out.get("dropped_no_baseline")
    if k is None or (n and n < k):
        out["dropped_no_baseline"] = None
    return out


def outcome_keys(t: Estimate) -> dict:
    """The outcome keys of a `by_role` entry: hazard ratio and event counts (null under k)."""
    res = t.result
    out = {"hazard_ratio": None, "hr_ci_low": None, "hr_ci_high": None, "events_treated": None,
           "events_comparison": None, "prob_treated": None, "prob_untreated": None,
           "diagnostics": masked_diagnostics(t)}
    if isinstance(res, Outcome) and res.hazard is not None:
        h, k = res.hazard, res.min_group
        out.update(hazard_ratio=h.hazard_ratio, hr_ci_low=h.hr_ci_low, hr_ci_high=h.hr_ci_high,
                   events_treated=h.events_treated if h.events_treated >= k else None,
                   events_comparison=h.events_comparison if h.events_comparison >= k else None,
                   prob_treated=h.prob_treated, prob_untreated=h.prob_untreated)
    return out
