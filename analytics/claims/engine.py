"""The pipeline, top to bottom: Panel → Population per claim and role → Estimate → verdicts → results.

1. `build_panel` — person × wave scores, roles, start dates, covariates (once per filter).
2. `build_population` — who is treated and who is comparison, per claim × role (× metric).
3. `estimate_did` / `estimate_within` — one `Estimate` per test, with its checks.
4. `judge` — Holm over every primary test of the scorecard (times the subgroup factor in a
   filtered view), equivalence, magnitude, MDE, the checks that cap a verdict, the headline
   rule, the pooled summary with the role-difference test, and the notes.

Both `scorecard` and `detail` read the cached `Run` this module produces, so neither imports
the other.
"""

from __future__ import annotations

import contextlib
import gc
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from scipy import stats

from analytics import privacy
from analytics.claims import anonymous, checks, did, outcome_claims
from analytics.claims._threads import single_blas_thread
from analytics.claims.definitions import CLAIMS, Claim, Design, Role
from analytics.claims.estimate import (Diagnostics, Estimate, covariance, estimate_did, estimate_within,
                                       within_role_tests)
from analytics.claims.panel import Panel, base_filters, build_panel, select, shares_base
from analytics.claims.population import BLOCK_CODES, block_codes, build_population
from analytics.claims.verdict import (ALPHA, equivalence_p, headline, holm, magnitude, mde, subgroup_factor,
                                      verdict)
from analytics.filters import Filters

Z = stats.norm.ppf(0.975)


def resolve_min_group(min_group: int | None) -> int:
    """The anonymity threshold the dashboard uses (`analytics.privacy.min_group_size`)."""
    if min_group is not None and int(min_group) < 1:
        raise ValueError("min_group must be at least 1")
    return privacy.min_group_size(min_group)


@dataclass(frozen=True)
class RoleDifference:
    """Mentees minus mentors, standardised, with the covariance of shared comparison people."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class ClaimResult:
    """Every test of one claim, the pooled summary, the deciding (headline) test and the verdict."""

    claim: Claim
    tests: tuple[Estimate, ...]
    pooled: Estimate | None
    difference: RoleDifference | None
    headline: Estimate
    verdict: str
    notes: tuple[str, ...]
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def survey_tests(self) -> tuple[Estimate, ...]:
        return tuple(t for t in self.tests if t.metric is None)

    @property
    def metric_tests(self) -> tuple[Estimate, ...]:
        return tuple(t for t in self.tests if t.metric is not None)


@dataclass(frozen=True)
class Run:
    """Everything one scorecard computed, shared with the claim details."""

    panel: Panel
    results: dict
    min_group: int
    sesoi: float
    factor: int
    n_primary: int


# -- estimation -----------------------------------------------------------------------------------
ANONYMOUS = "the survey is anonymous, so participants cannot be told apart"


def _estimates(panel: Panel, claim: Claim, min_group: int, base,
               cross: dict | None = None) -> tuple[list[Estimate], dict]:
    tests, extra = _estimates_of(panel, claim, min_group, base)
    if cross and claim.construct in cross and anonymous.applies(claim):
        # an anonymous survey with the participation question: the repeated cross-section design
        # where the linked waves give the claim no usable test, else a note that it was not used
        survey, more = anonymous.choose(panel, claim, [t for t in tests if t.metric is None],
                                        cross[claim.construct], min_group)
        if "design" in more or panel.n_waves:
            return survey + [t for t in tests if t.metric is not None], {**extra, **more}
    if panel.n_waves == 0 and panel.n_unlinked and claim.design is not Design.HAZARD:
        tests = [t.with_(reason=ANONYMOUS) if t.metric is None else t for t in tests]
    return tests, extra


def _estimates_of(panel: Panel, claim: Claim, min_group: int, base) -> tuple[list[Estimate], dict]:
    if claim.design is Design.WITHIN:
        est, extra = estimate_within(panel, claim, min_group)
        return [est, *within_role_tests(panel, claim, min_group)], extra
    if claim.design is Design.HAZARD:
        return [outcome_claims.estimate_outcome(panel, claim, role, min_group) for role in claim.roles], {}
    out = []
    for role in claim.roles:
        pop = build_population(panel, claim, role)
        out.append(estimate_did(pop, min_group, role in claim.primary, base))
    if claim.metrics:
        for m in panel.metrics:
            for role in claim.roles:
                pop = build_population(panel, claim, role, metric=m)
                out.append(estimate_did(pop, min_group, role in claim.primary, base, metric=m.name, unit=m.unit))
    return out, {}


# -- judging --------------------------------------------------------------------------------------
def _judge_test(t: Estimate, claim: Claim, p_adj: float, sesoi: float, min_group: int, m_family: int) -> Estimate:
    p_eq = equivalence_p(t.effect_size, t.es_se, sesoi)
    v = verdict(t.estimate, p_adj, p_eq, claim.direction, sufficient=t.ok)
    d = t.diagnostics
    if v != "insufficient_data" and claim.design in (Design.DID, Design.HAZARD):
        if math.isfinite(d.ess_comparison) and d.ess_comparison < d.ess_required and v != "inconclusive":
            v = "inconclusive"
        if d.response_material and v in ("supported", "contradicted") and d.bounds_low <= 0 <= d.bounds_high:
            v = "inconclusive"
        if d.response_material and v == "no_effect" and not (-sesoi < d.bounds_low and d.bounds_high < sesoi):
            v = "inconclusive"
    mag = magnitude(t.effect_size, t.es_ci_low, t.es_ci_high, sesoi)
    # sensitivity: how large a violation of parallel trends would overturn this verdict
    brk, kind = float("nan"), ""
    if claim.design is Design.DID and v in ("supported", "contradicted", "no_effect") and math.isfinite(t.se):
        mult = p_adj / t.p_value if t.p_value > 0 and math.isfinite(p_adj) else 1.0
        z_crit = float(stats.norm.isf(ALPHA / 2 / max(mult, 1.0)))
        what = "equivalent" if v == "no_effect" else "significant"
        brk = checks.breakdown(t.estimate, t.se, z_crit, what, sesoi * t.sd, d.pre_step, d.bias_slope, t.sd)
        kind = "relative_magnitude" if math.isfinite(d.pre_step) else (
            "linear_trend_sd_per_month" if t.metric else "linear_trend_sd_per_wave")
        overturned = checks.sensitivity_overturns(v, kind, brk, d.pretrend_testable, d.pretrend_p)
        if overturned:
            v = "inconclusive"
    else:
        overturned = False
    diag = Diagnostics(**{**d.__dict__, "sensitivity_breakdown": brk, "sensitivity_kind": kind,
                          "sensitivity_overturned": overturned})
    return t.with_(p_adjusted=p_adj, p_equivalence=p_eq, verdict=v, magnitude=mag, diagnostics=diag,
                   mde=mde(t.es_se, alpha=ALPHA / max(m_family, 1)))


def _pooled(tests: list[Estimate], claim: Claim, factor: int, m_family: int, sesoi: float):
    ms = {t.role: t for t in tests if t.metric is None}
    a, b = ms.get(Role.MENTORS), ms.get(Role.MENTEES)
    if not (a and b and a.ok and b.ok):
        return None, None
    cov = covariance(a, b)
    wa = a.n_treated / (a.n_treated + b.n_treated)
    wb = 1 - wa
    es = wa * a.effect_size + wb * b.effect_size
    var = wa ** 2 * a.es_se ** 2 + wb ** 2 * b.es_se ** 2 + 2 * wa * wb * cov
    se = math.sqrt(max(var, 0.0))
    raw = wa * a.estimate + wb * b.estimate
    raw_var = (wa * a.se) ** 2 + (wb * b.se) ** 2 + 2 * wa * wb * cov * a.sd * b.sd
    raw_se = math.sqrt(max(raw_var, 0.0))
    p = float(2 * stats.norm.sf(abs(raw / raw_se))) if raw_se > 0 else float("nan")
    pooled = Estimate(claim.id, Role.POOLED, None, False, estimate=raw, se=raw_se, ci_low=raw - Z * raw_se,
                      ci_high=raw + Z * raw_se, p_value=p, effect_size=es, es_se=se, es_ci_low=es - Z * se,
                      es_ci_high=es + Z * se, n_treated=a.n_treated + b.n_treated,
                      n_comparison=max(a.n_comparison, b.n_comparison), n_people=max(a.n_people, b.n_people),
                      sd=(a.sd + b.sd) / 2,
                      diagnostics=Diagnostics(ess_comparison=min(a.diagnostics.ess_comparison,
                                                                 b.diagnostics.ess_comparison),
                                              ess_required=a.diagnostics.ess_required))
    p_adj = min(1.0, p * factor * m_family) if math.isfinite(p) else float("nan")
    pooled = _judge_test(pooled, claim, p_adj, sesoi, 0, m_family)
    d = b.effect_size - a.effect_size
    dse = math.sqrt(max(a.es_se ** 2 + b.es_se ** 2 - 2 * cov, 0.0))
    dp = float(2 * stats.norm.sf(abs(d / dse))) if dse > 0 else float("nan")
    return pooled, RoleDifference(d, dse, d - Z * dse, d + Z * dse, dp)


def _deciding(primary: list[Estimate], v: str) -> Estimate:
    """The primary test the headline numbers describe: the one that decided the verdict."""
    same = [t for t in primary if t.verdict == v]
    if v in ("supported", "contradicted"):
        return min(same, key=lambda t: (t.p_adjusted, t.metric is not None))
    if v == "no_effect":
        return max(same, key=lambda t: (t.p_equivalence if math.isfinite(t.p_equivalence) else 1.0))
    pool = [t for t in primary if t.verdict == "inconclusive"] or [t for t in primary if t.ok] or primary
    return min(pool, key=lambda t: (t.metric is not None, t.p_adjusted if math.isfinite(t.p_adjusted) else 2.0))


def judge(panel: Panel, raw: dict, min_group: int, sesoi: float, factor: int) -> dict:
    """Verdicts for every claim from the raw estimates (see the module docstring)."""
    from analytics.claims.sentences import claim_notes

    family = [(cid, i) for cid, (tests, _) in raw.items() for i, t in enumerate(tests) if t.primary]
    m_family = len([1 for cid, i in family if math.isfinite(raw[cid][0][i].p_value)])
    padj = holm([raw[cid][0][i].p_value for cid, i in family], factor=factor)
    adjusted = {key: p for key, p in zip(family, padj)}
    results = {}
    for claim in CLAIMS:
        tests, extra = raw[claim.id]
        judged = []
        for i, t in enumerate(tests):
            if (claim.id, i) in adjusted:
                p = adjusted[(claim.id, i)]
            else:  # not in the family: Bonferroni with the family's size, for context only
                p = min(1.0, t.p_value * factor * max(m_family, 1)) if math.isfinite(t.p_value) else float("nan")
            judged.append(_judge_test(t, claim, p, sesoi, min_group, m_family * factor))
        # no pooled summary for the cross-section design: its roles share the non-participants'
        # cells, and without person-level influence their covariance is not available
        pooled, diff = (_pooled(judged, claim, factor, m_family, sesoi)
                        if claim.design is Design.DID and "design" not in extra else (None, None))
        primary = [t for t in judged if t.primary]
        v = headline([t.verdict for t in primary])
        head = _deciding(primary, v)
        res = ClaimResult(claim, tuple(judged), pooled, diff, head, v, (), extra)
        notes = claim_notes(res, panel, min_group, sesoi, factor) + list(extra.get("notes", ()))
        results[claim.id] = ClaimResult(claim, tuple(judged), pooled, diff, head, v, tuple(notes), extra)
    return results


# -- cache (the dashboard asks for the scorecard and then for each claim's detail) --------------
_CACHE: "OrderedDict[tuple, Run]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _key(db, filters, min_group, sesoi, base):
    return (id(db), str(getattr(db, "path", "")), db.data_version(), filters.key(), min_group, float(sesoi),
            str(base))


@contextlib.contextmanager
def _no_gc():
    """Pause the cyclic garbage collector while the engine allocates its many short-lived objects,
    and freeze what existed before, so the explicit `gc.collect()` inside statsmodels' Holm step
    only looks at new objects (full collections took a second of a 2,000-person scorecard).
    Reference counting still frees everything."""
    was = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if was:
            gc.enable()


#: Unfiltered panels, by data state, threshold and pinned version: every roster-filtered view of
#: that state is selected from one of them (`panel.select`) instead of querying again.
_PANELS: "OrderedDict[tuple, Panel]" = OrderedDict()
_PANELS_SIZE = 2


def _panel_key(db, filters: Filters, min_group: int) -> tuple:
    return (id(db), str(getattr(db, "path", "")), db.data_version(), min_group, filters.as_of)


def _panel(db, filters: Filters, min_group: int) -> Panel:
    """The view's panel (inside `released()`): selected from the cached unfiltered panel for a
    roster-filtered view, built (and, when unfiltered, kept) otherwise."""
    if not shares_base(filters):
        return build_panel(db, filters)
    key = _panel_key(db, filters, min_group)
    with _CACHE_LOCK:
        base = _PANELS.get(key)
        if base is not None:
            _PANELS.move_to_end(key)
    if base is None:
        base = build_panel(db, base_filters(filters))
        if any(c.design is Design.HAZARD for c in CLAIMS):  # leavers and promotions, released people only
            base.cache[outcome_claims.CACHE_KEY] = outcome_claims.read(db)
        block_codes(base)  # once, for every view selected from it
        with _CACHE_LOCK:
            _PANELS[key] = base
            while len(_PANELS) > _PANELS_SIZE:
                _PANELS.popitem(last=False)
    return select(base, filters, keep=(outcome_claims.CACHE_KEY, BLOCK_CODES))


def forget(db) -> None:
    """Drop every cached run and panel of `db` (a publishing process has no further use for them)."""
    with _CACHE_LOCK:
        for cache in (_CACHE, _PANELS):
            for key in [key for key in cache if key[0] == id(db)]:
                cache.pop(key, None)


def run(db, filters: Filters, min_group: int, sesoi: float, base=did.BasePeriod.PRE_MEAN) -> Run:
    """The whole pipeline for one database state and filter (cached)."""
    base = did.BasePeriod(base)
    key = _key(db, filters, min_group, sesoi, base)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    from analytics.store.dashboard import filter_values
    from analytics.store.released import released

    with single_blas_thread(), _no_gc():
        # anonymity: the panel is read from released data only (docs/PRIVACY.md); every figure
        # below is computed from these arrays, so nothing downstream can reach raw rows
        with released(db, min_group, filters.as_of):
            panel = _panel(db, filters, min_group)
            if outcome_claims.CACHE_KEY not in panel.cache and any(c.design is Design.HAZARD for c in CLAIMS):
                panel.cache[outcome_claims.CACHE_KEY] = outcome_claims.read(db)  # leavers and promotions, released people only
            factor = subgroup_factor(filters, filter_values(db)) if not filters.is_empty() else 1
            cross = anonymous.cross_section_frames(db, panel, filters, min_group, CLAIMS)
        panel.cache["min_group"] = min_group
        raw = {c.id: _estimates(panel, c, min_group, base, cross) for c in CLAIMS}
        results = judge(panel, raw, min_group, sesoi, factor)
    n_primary = sum(1 for r in results.values() for t in r.tests if t.primary and math.isfinite(t.p_value))
    value = Run(panel, results, min_group, float(sesoi), factor, n_primary)
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value

