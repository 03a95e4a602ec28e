"""The scorecard: every claim judged with its design, effect size, power and a verdict.

Data come from `analytics.store.claims` as person × wave construct scores (aggregated in
DuckDB); this module decides who is treated and who is comparison for each claim, runs the
estimator (`did.staggered_did` or `within.gain_regression`), adjusts p-values across the
scorecard (Holm) and turns the numbers into a verdict and a sentence.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import privacy
from analytics.claims import did, within
from analytics.claims._threads import single_blas_thread
from analytics.claims.definitions import CLAIMS, CLAIMS_BY_ID, Claim
from analytics.claims.sentences import method_text, sentence
from analytics.claims.verdict import equivalence_p, holm, mde, verdict
from analytics.errors import TwowayError
from analytics.filters import Filters
from analytics.store import claims as q
from analytics.store.released import WEIGHT_COVARIATES, block_ids, released
from analytics.vocab import CONSTRUCTS

#: Constructs scored for the respondent themself; leadership counts for the respondent's manager.
SURVEY_CONSTRUCTS = tuple(c for c in CONSTRUCTS if c != "leadership")
COLUMNS = ["id", "title", "outcome", "verdict", "estimate", "ci_low", "ci_high", "se", "p_value", "p_adjusted",
           "n", "n_treated", "n_comparison", "effect_size", "es_ci_low", "es_ci_high", "es_se", "p_equivalence", "mde",
           "baseline_sd",
           "sentence", "method", "design", "direction", "reason"]


def resolve_min_group(min_group: int | None) -> int:
    """The anonymity threshold the dashboard uses (`analytics.privacy.min_group_size`)."""
    if min_group is not None and int(min_group) < 1:
        raise ValueError("min_group must be at least 1")
    return privacy.min_group_size(min_group)


# -- data ---------------------------------------------------------------------------------------
@dataclass
class _Data:
    filters: Filters
    waves: pd.DataFrame           # survey, opened, t
    units: pd.DataFrame           # roster + timing, one row per employee; unit = row number
    panels: dict                  # construct -> DataFrame(unit, t, y); 'leadership' per manager
    doses: pd.DataFrame           # unit, n_sessions, hours, share_informal
    n_unlinked: int
    weights: dict = None          # population -> Series of covariate weights by unit
    min_group: int = 2            # anonymity threshold: samples are whole reporting groups of this size

    def __post_init__(self):
        if self.weights is None:
            self.weights = {}

    @property
    def n_periods(self) -> int:
        return len(self.waves)


TENURE_BANDS = (-np.inf, 1, 2, 3, 5, 10, np.inf)
TENURE_LABELS = ("<1y", "1-2y", "2-3y", "3-5y", "5-10y", "10y+")


def _codes(ids: pd.Series, index: pd.Index) -> np.ndarray:
    return index.get_indexer(pd.Index(ids.astype(object)))


def _load(db, filters: Filters) -> _Data:
    q.quiet(db)
    w = q.waves(db, filters)
    n_unlinked = int(w["n_unlinked"].sum()) if len(w) else 0
    w = w[w["n_linked"] > 0].reset_index(drop=True)
    w["t"] = np.arange(len(w))
    t_of = dict(zip(w["survey"], w["t"]))
    u = q.units(db, filters).reset_index(drop=True)
    u = u.merge(block_ids(db), on="employee_id", how="left")  # anonymity: samples are whole groups
    u["unit"] = np.arange(len(u))
    index = pd.Index(u["employee_id"].astype(object))
    ref = pd.Timestamp(w["opened"].iloc[0]) if len(w) else pd.Timestamp.today()
    u["tenure"] = (ref - pd.to_datetime(u["hire_date"])).dt.days / 365.25
    u["tenure_band"] = pd.cut(u["tenure"], TENURE_BANDS, labels=TENURE_LABELS).astype(object)
    panels: dict[str, pd.DataFrame] = {}
    if len(w):
        s = q.person_scores_wide(db, filters, SURVEY_CONSTRUCTS)
        s = s[s["survey"].isin(t_of)]
        unit = _codes(s["employee_id"], index)
        t = s["survey"].map(t_of).to_numpy(int)
        for c in SURVEY_CONSTRUCTS:
            y = s[c].to_numpy(float)
            ok = np.isfinite(y) & (unit >= 0)
            panels[c] = pd.DataFrame({"unit": unit[ok], "t": t[ok], "y": y[ok]})
        m = q.manager_scores(db, filters)
        m = m[m["survey"].isin(t_of)]
        mu = _codes(m["employee_id"], index)
        panels["leadership"] = pd.DataFrame({"unit": mu, "t": m["survey"].map(t_of).to_numpy(int),
                                             "y": m["score"].to_numpy(float),
                                             "n_raters": m["n_raters"].to_numpy()})[mu >= 0]
    else:
        for c in SURVEY_CONSTRUCTS + ("leadership",):
            panels[c] = pd.DataFrame({"unit": pd.Series(dtype=int), "t": pd.Series(dtype=int),
                                      "y": pd.Series(dtype=float)})
    until = w["opened"].iloc[-1] if len(w) else None
    doses = q.session_doses(db, filters, until=until)
    doses["unit"] = _codes(doses["employee_id"], index)
    doses = doses[doses["unit"] >= 0].drop(columns="employee_id")
    return _Data(filters, w, u, panels, doses, n_unlinked)


@dataclass
class _Population:
    units: pd.DataFrame   # unit, g, treated, participant, w, covariates
    panel: pd.DataFrame   # unit, t, y


def _population(data: _Data, claim: Claim, construct: str | None = None) -> _Population:
    """Who is treated and who is comparison for a claim, with timing groups and weights."""
    u = data.units
    start_col = {"participants": "first_start", "mentors": "mentor_start", "managers": "mentee_start"}[
        claim.population]
    start = u[start_col]
    participant = start.notna()
    keep = ~(u["any_pair"].astype(bool) & ~participant)  # other programme roles are neither
    u = u.loc[keep].copy()
    u["participant"] = participant[keep].to_numpy()
    u["g"] = did.timing_group(u[start_col], data.waves["opened"]) if data.n_periods else np.inf
    u = u[~(u["participant"] & (u["g"] == 0))]  # started before the first wave: no "before"
    c = "leadership" if claim.population == "managers" else (construct or claim.construct)
    panel = data.panels[c][["unit", "t", "y"]]
    has = np.zeros(len(data.units), bool)
    has[panel["unit"].to_numpy()] = True
    u = u[has[u["unit"].to_numpy()]].reset_index(drop=True)
    # anonymity: the sample is whole reporting groups with >= k eligible members per role, where
    # eligible means a baseline and a follow-up score (treated: before and from their start wave;
    # everyone else: scores in two waves), so samples of two views differ by >= k people
    waves = panel.groupby("unit")["t"].agg(["min", "max", "nunique"]).reindex(u["unit"])
    starts_inside = u["participant"].to_numpy() & (u["g"].to_numpy(float) < data.n_periods)
    eligible = np.where(starts_inside,
                        (waves["min"].to_numpy(float) < u["g"].to_numpy(float))
                        & (waves["max"].to_numpy(float) >= u["g"].to_numpy(float)),
                        waves["nunique"].to_numpy(float) >= 2)
    u = privacy.whole_groups(u[eligible], data.min_group, ["block_id", "participant"], "unit").reset_index(drop=True)
    keep_u = np.zeros(len(data.units), bool)
    keep_u[u["unit"].to_numpy()] = True
    panel = panel[keep_u[panel["unit"].to_numpy()]]
    u["treated"] = u["participant"]
    u["w"] = u["unit"].map(_weights(data, claim.population, u)).fillna(1.0).to_numpy(float)
    return _Population(u, panel)


def _weights(data: _Data, population: str, u: pd.DataFrame) -> pd.Series:
    """Covariate weights per unit, fitted once per population on everyone with survey answers."""
    if population in data.weights:
        return data.weights[population]
    if data.filters.method != "weighted" or not u["participant"].any() or u["participant"].all():
        w = pd.Series(1.0, index=u["unit"])
    else:
        if population == "managers":
            fit_units = u
        else:
            answered = np.zeros(len(data.units), bool)
            for c in SURVEY_CONSTRUCTS:
                answered[data.panels[c]["unit"].to_numpy()] = True
            answered[u["unit"].to_numpy()] = True
            frame = _population_frame(data, population)
            fit_units = frame[answered[frame["unit"].to_numpy()]]
        w = pd.Series(did.propensity_weights(fit_units, covariates=WEIGHT_COVARIATES), index=fit_units["unit"].to_numpy())
    data.weights[population] = w
    return w


def _population_frame(data: _Data, population: str) -> pd.DataFrame:
    u = data.units
    start_col = {"participants": "first_start", "mentors": "mentor_start", "managers": "mentee_start"}[population]
    participant = u[start_col].notna()
    keep = ~(u["any_pair"].astype(bool) & ~participant)
    out = u.loc[keep].copy()
    out["participant"] = participant[keep].to_numpy()
    return out


def _baseline_sd(pop: _Population) -> float:
    p = pop.panel
    for t in sorted(p["t"].unique()):
        y = p.loc[p["t"] == t, "y"]
        if len(y) >= 2:
            return float(y.std(ddof=1))
    return float("nan")


# -- one claim ----------------------------------------------------------------------------------
def _row_nan(claim: Claim, reason: str, **extra) -> dict:
    row = {c: np.nan for c in COLUMNS}
    row.update(id=claim.id, title=claim.title, outcome=claim.outcome, design=claim.design,
               direction=claim.direction, reason=reason, n=0, n_treated=0, n_comparison=0)
    row.update(extra)
    return row


def _did_claim(data: _Data, claim: Claim, min_group: int) -> tuple[dict, dict]:
    pop = _population(data, claim)
    res = did.staggered_did(pop.panel, pop.units[["unit", "g", "treated", "w"]], data.n_periods, min_group)
    sd = _baseline_sd(pop)
    n_t, n_c = res["n_treated"], res["n_comparison"]
    if n_t < min_group or n_c < min_group or not np.isfinite(res["estimate"]) or not sd > 0:
        reason = (f"fewer than {min_group} treated or comparison people with before and after scores"
                  if data.n_periods else "no survey waves with answers linked to the roster")
        if data.n_periods == 0 and data.n_unlinked:
            reason = "the survey is anonymous, so participants cannot be told apart"
        return _row_nan(claim, reason, n_treated=n_t if n_t >= min_group else 0,
                        n_comparison=n_c if n_c >= min_group else 0), {"pop": pop, "res": res}
    row = _row_nan(claim, "")
    row.update(estimate=res["estimate"], ci_low=res["ci_low"], ci_high=res["ci_high"], se=res["se"],
               p_value=res["p_value"], n=res["n_people"], n_treated=n_t, n_comparison=n_c,
               effect_size=res["estimate"] / sd, es_ci_low=res["ci_low"] / sd, es_ci_high=res["ci_high"] / sd,
               es_se=res["se"] / sd, mde=mde(res["se"] / sd), baseline_sd=sd)
    return row, {"pop": pop, "res": res}


def _within_frame(data: _Data, claim: Claim, min_group: int) -> tuple[pd.DataFrame, _Population]:
    pop = _population(data, claim, construct="engagement")
    gains = within.person_gains(pop.panel, pop.units, data.n_periods)
    gains = gains.merge(data.doses, on="unit", how="left")
    gains = gains.merge(pop.units[["unit", "department"]], on="unit", how="left")
    ps = data.panels["psychological_safety"]
    ps = ps[ps["t"] == 0].merge(data.units[["unit", "department"]], on="unit")
    dept = ps.groupby("department")["y"].agg(["mean", "size"])
    dept = dept[dept["size"] >= min_group]["mean"].rename("dept_safety")
    gains = gains.merge(dept, left_on="department", right_index=True, how="left")
    return gains, pop


def _within_claim(data: _Data, claim: Claim, min_group: int) -> tuple[dict, dict]:
    gains, pop = _within_frame(data, claim, min_group)
    d = gains.dropna(subset=[claim.predictor])
    res = within.gain_regression(d, claim.predictor)
    need = max(min_group, 10)
    if res["n"] < need or not np.isfinite(res["estimate"]):
        reason = (f"the {claim.predictor_label} does not vary in this selection" if res["n"] >= need else
                  f"fewer than {need} participants with before and after scores and a {claim.predictor_label}")
        return _row_nan(claim, reason, n_treated=res["n"] if res["n"] >= min_group else 0), \
            {"gains": gains, "pop": pop, "res": res}
    row = _row_nan(claim, "")
    row.update(estimate=res["estimate"], ci_low=res["ci_low"], ci_high=res["ci_high"], se=res["se"],
               p_value=res["p_value"], n=res["n"], n_treated=res["n"], n_comparison=0,
               effect_size=res["effect_size"], es_ci_low=res["es_ci_low"], es_ci_high=res["es_ci_high"],
               es_se=res["es_se"], mde=mde(res["es_se"]), baseline_sd=float(d["gain"].std()))
    return row, {"gains": gains, "pop": pop, "res": res}


def _analyse(data: _Data, claim: Claim, min_group: int):
    if claim.design == "did":
        return _did_claim(data, claim, min_group)
    return _within_claim(data, claim, min_group)


def _finish(rows: list[dict], sesoi: float, min_group: int, weighted: bool) -> pd.DataFrame:
    padj = holm([r["p_value"] for r in rows])
    for r, p in zip(rows, padj):
        claim = CLAIMS_BY_ID[r["id"]]
        r["p_adjusted"] = p
        r["p_equivalence"] = equivalence_p(r["effect_size"], r["es_se"], sesoi)
        r["verdict"] = verdict(r["estimate"], p, r["p_equivalence"], claim.direction, sufficient=not r["reason"])
        r["sentence"] = sentence(claim, r, sesoi, min_group)
        r["method"] = method_text(claim, weighted)
    out = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("n", "n_treated", "n_comparison"):
        out[c] = out[c].fillna(0).astype(int)
    return out


# -- cache (the dashboard asks for the scorecard and then for each claim's detail) --------------
_CACHE: "OrderedDict[tuple, tuple]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _key(db, filters, min_group, sesoi):
    return (id(db), str(getattr(db, "path", "")), db.data_version(), filters.key(), min_group, float(sesoi))


def _run(db, filters: Filters, min_group: int, sesoi: float):
    key = _key(db, filters, min_group, sesoi)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    data = _load(db, filters)
    data.min_group = min_group
    rows, parts = [], {}
    with single_blas_thread():
        for claim in CLAIMS:
            row, part = _analyse(data, claim, min_group)
            rows.append(row)
            parts[claim.id] = part
        card = _finish(rows, sesoi, min_group, filters.method == "weighted")
    value = (data, card, parts)
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


# -- public API ---------------------------------------------------------------------------------
def scorecard(db, filters: Filters = Filters(), min_group: int | None = None, sesoi: float = 0.2) -> pd.DataFrame:
    """One row per claim (in `CLAIMS` order) with estimate, CI, p, Holm-adjusted p, effect size, MDE,
    verdict and a sentence. See docs/CLAIMS.md for how each verdict is reached.

    Parameters
    ----------
    db : analytics.store.Database
    filters : Filters applied to every analysis (roster filters, cohort, date range, method).
    min_group : anonymity threshold and minimum group size (default $TWOWAY_MIN_GROUP_SIZE or 5).
    sesoi : smallest effect size of interest in SD, the equivalence margin for 'no_effect'.
    """
    if not sesoi or not np.isfinite(sesoi) or sesoi <= 0:
        raise ValueError("sesoi must be a positive number of SDs")
    min_group = resolve_min_group(min_group)
    with released(db, min_group, filters.as_of):  # anonymity: only released data (docs/PRIVACY.md)
        return _run(db, filters, min_group, sesoi)[1].copy()


def claim_detail(db, claim_id: str, filters: Filters = Filters(), min_group: int | None = None,
                 sesoi: float = 0.2) -> dict:
    """Everything behind one scorecard row: trends, balance, pre-trends, naive contrasts, cohorts.

    Keys: row, trends, balance, pretrend, naive, cohorts, by_generation (belonging only),
    generation_gap (belonging only), metrics (productivity only), within (within-programme
    claims only). No table contains a group smaller than `min_group`.
    """
    if claim_id not in CLAIMS_BY_ID:
        raise TwowayError(f"unknown claim {claim_id!r}; claims: {', '.join(CLAIMS_BY_ID)}")
    min_group = resolve_min_group(min_group)
    with released(db, min_group, filters.as_of):  # anonymity: only released data (docs/PRIVACY.md)
        return _claim_detail(db, claim_id, filters, min_group, sesoi)


def _claim_detail(db, claim_id: str, filters: Filters, min_group: int, sesoi: float) -> dict:
    data, card, parts = _run(db, filters, min_group, sesoi)
    claim = CLAIMS_BY_ID[claim_id]
    row = card.loc[card["id"] == claim_id].iloc[0].to_dict()
    part = parts[claim_id]
    from analytics.claims import detail

    out = {"row": row, "trends": None, "balance": None, "pretrend": None, "naive": None, "cohorts": None,
           "by_generation": None, "generation_gap": None, "metrics": None, "within": None}
    if claim.design == "did":
        pop, res = part["pop"], part["res"]
        out["trends"] = detail.trends(pop, data, min_group)
        out["balance"] = detail.balance(pop, data, min_group)
        pt = res["pretrend"] if row["verdict"] != "insufficient_data" else None
        out["pretrend"] = dict(pt, sentence=detail.pretrend_sentence(pt)) if pt else None
        out["naive"] = detail.naive(pop, data, min_group)
        out["cohorts"] = detail.cohorts(pop, res)
        if claim_id == "belonging":
            out["by_generation"], out["generation_gap"] = detail.by_generation(data, claim, min_group)
        if claim_id == "productivity":
            out["metrics"] = detail.metrics(db, data, filters, min_group, sesoi)
    else:
        pop = part["pop"]
        out["trends"] = detail.trends(pop, data, min_group)
        out["balance"] = detail.empty_balance()
        out["naive"] = detail.empty_naive()
        out["cohorts"] = detail.empty_cohorts()
        out["within"] = detail.within_table(part["gains"], claim, min_group)
    return out
