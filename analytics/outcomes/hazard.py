"""Does the programme keep people (retention) and move them up (promotion)? A staggered hazard.

Leaving and promotion are events in time, observed only while a person is employed, and
people join the programme at different dates. Comparing leavers among participants with
leavers among everyone else mixes up who joins (the engaged, who stay anyway) with what
joining does, and counts the months before a person joined as if they were "treated".

The design here is a discrete-time hazard on person-months with a time-varying treatment
(Prentice & Gloeckler 1978; Allison 1982): every month, the people still at risk who have
started the programme are compared with colleagues still at risk *in the same calendar month*
who have not (yet). Calendar-month fixed effects absorb company-wide swings (a hiring freeze, a
re-organisation), covariate fixed effects and the engine's covariate weights make the
comparison resemble participants, and the month a person starts does not count as treated
(they are at risk as treated from the month after). With the complementary log-log link the
treatment coefficient is the log of a hazard ratio of the underlying continuous-time
proportional-hazards model, so ``exp(beta)`` is reported as the hazard ratio. Errors are
clustered by person (one person contributes many months).

The 12-month difference in the probability of the event is what a budget uses: for the
participants' own calendar months, the fitted monthly hazards with and without treatment are
turned into ``1 - prod(1 - h)`` over the twelve months after each start, averaged over
participants, and the interval comes from simulating the coefficients from their estimated
sampling distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

#: Months after the start over which the probability difference is reported.
HORIZON_MONTHS = 12
#: Coefficient draws for the probability-difference interval (fixed seed: same data, same figure).
N_DRAWS = 2000


@dataclass(frozen=True)
class HazardEstimate:
    """A participation effect on a monthly event hazard.

    Attributes
    ----------
    hazard_ratio, hr_ci_low, hr_ci_high : exp(beta) and its 95% Wald interval.
    log_hr, se : the coefficient on "has started" and its person-clustered standard error.
    p_value : two-sided Wald p-value of log_hr = 0.
    prob_treated, prob_untreated : probability of the event within `horizon` months after the
        start, for the participants, with and without the programme (model-based).
    prob_diff, prob_diff_ci_low, prob_diff_ci_high : prob_treated - prob_untreated, 95% interval
        by simulation from the coefficients' sampling distribution.
    n_treated, n_comparison : people who were at risk as participants / only as non-participants.
    events_treated, events_comparison : events counted in treated / untreated person-months.
    person_months : rows of the fitted model.
    horizon : months of `prob_*`.
    """

    hazard_ratio: float
    hr_ci_low: float
    hr_ci_high: float
    log_hr: float
    se: float
    p_value: float
    prob_treated: float
    prob_untreated: float
    prob_diff: float
    prob_diff_ci_low: float
    prob_diff_ci_high: float
    n_treated: int
    n_comparison: int
    events_treated: int
    events_comparison: int
    person_months: int
    horizon: int = HORIZON_MONTHS


def _follow_up(people: pd.DataFrame, first_month: int, last_month: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) month each person is followed: from entry (not before the window) to the
    window's end, their exit or their censoring month, whichever comes first."""
    lo = np.maximum(people["entry"].astype(float).to_numpy(), first_month)
    end = np.full(len(people), float(last_month))
    for col in ("exit", "censor"):
        if col in people:
            v = people[col].astype(float).to_numpy()
            end = np.where(np.isfinite(v), np.minimum(end, v), end)
    return lo, end


def person_months(people: pd.DataFrame, first_month: int, last_month: int) -> pd.DataFrame:
    """Expand one row per person into one row per month at risk.

    Parameters
    ----------
    people : columns ``unit`` (id), ``entry`` (first month at risk, integer month index),
        ``exit`` (month of the event, or NaN), ``censor`` (last month observed without the event,
        e.g. the month before leaving when the event is a promotion, or NaN for the end of data),
        ``start`` (programme start month, or NaN), plus any covariate and ``weight`` columns,
        which are carried along.
    first_month, last_month : the observation window (inclusive).

    Returns
    -------
    One row per person and month at risk: ``unit, month, event (0/1), treated (0/1)`` and the
    carried columns. ``treated`` is 1 from the month after ``start`` on, so the start month
    itself is not "after".

    Examples
    --------
    >>> p = pd.DataFrame({"unit": [1, 2], "entry": [0, 0], "exit": [3, np.nan],
    ...                   "censor": [np.nan, np.nan], "start": [1, np.nan]})
    >>> pm = person_months(p, 0, 4)
    >>> pm[pm.unit == 1][["month", "event", "treated"]].values.tolist()
    [[0, 0, 0], [1, 0, 0], [2, 0, 1], [3, 1, 1]]
    >>> int(pm[pm.unit == 2]["month"].max()), int(pm["event"].sum())
    (4, 1)
    """
    need = {"unit", "entry", "exit", "start"}
    missing = need - set(people.columns)
    if missing:
        raise ValueError(f"people needs columns {sorted(missing)}")
    p = people.copy()
    lo, end = _follow_up(p, first_month, last_month)
    ex = p["exit"].astype(float).to_numpy()
    length = np.maximum(end - lo + 1, 0).astype(int)
    rows = np.repeat(np.arange(len(p)), length)
    offset = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    out = p.iloc[rows].reset_index(drop=True)
    out["month"] = (lo[rows] + offset).astype(int)
    out["event"] = (np.isfinite(ex[rows]) & (out["month"].to_numpy() == ex[rows])).astype(int)
    st = p["start"].astype(float).to_numpy()[rows]
    out["treated"] = (np.isfinite(st) & (out["month"].to_numpy() > st)).astype(int)
    return out.drop(columns=[c for c in ("entry", "exit", "censor") if c in out.columns])


def staggered_hazard(pm: pd.DataFrame, covariates: tuple[str, ...] = (), weight: str | None = None,
                     horizon: int = HORIZON_MONTHS, seed: int = 0, n_draws: int = N_DRAWS) -> HazardEstimate:
    """Fit the discrete-time cloglog hazard with calendar-month and covariate fixed effects.

    Parameters
    ----------
    pm : person-months from `person_months` (``unit, month, event, treated`` + covariates).
    covariates : categorical columns entered as fixed effects (department, level band, …).
    weight : optional column of person weights (the engine's covariate odds weights).
    horizon : months for the probability difference.
    seed, n_draws : seed and size of the coefficient simulation behind the probability interval.

    Raises
    ------
    ValueError
        When there are no treated or no untreated person-months, or no events.
    """
    if pm.empty or pm["treated"].nunique() < 2:
        raise ValueError("need person-months both with and without the programme")
    if pm["event"].sum() == 0:
        raise ValueError("no events to model")
    terms = ["month", *covariates]
    # A calendar month without any event has an infinite negative effect; dropping its rows
    # changes nothing in the likelihood of the other months.
    event_months = set(pm.loc[pm["event"] == 1, "month"].astype(str))
    data = pm.loc[pm["month"].astype(str).isin(event_months)]
    if weight is None:
        # Person-months are conditionally independent given survival, so the grouped binomial
        # likelihood of (event, at risk) per cell is the person-month likelihood and its
        # information matrix the right variance (Allison 1982) — and far smaller to fit.
        cells = (data.assign(**{t: data[t].astype(str) for t in terms})
                 .groupby([*terms, "treated"], observed=True)["event"].agg(["sum", "count"]).reset_index())
        X = _design(cells, terms)
        y = np.column_stack([cells["sum"], cells["count"] - cells["sum"]]).astype(float)
        fit = sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.CLogLog())).fit()
    else:
        # Weighted person-months are not independent draws: cluster by person (sandwich).
        X = _design(data.assign(**{t: data[t].astype(str) for t in terms}), terms)
        fit = sm.GLM(data["event"].astype(float), X, family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                     freq_weights=data[weight].astype(float).to_numpy()).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(data["unit"].to_numpy())[0]})
    beta, se = float(fit.params["treated"]), float(fit.bse["treated"])
    z = stats.norm.ppf(0.975)

    # Probabilities for participants over the `horizon` months after their start, from one
    # design row per distinct (first treated month, covariates) and horizon month.
    names = list(fit.params.index)
    design0, counts = _horizon_design(pm, names, covariates, sorted(int(m) for m in event_months), horizon)
    p1, p0 = _probabilities(fit.params.to_numpy()[None, :], names, design0, counts, horizon)
    draws = np.random.default_rng(seed).multivariate_normal(fit.params.to_numpy(), fit.cov_params().to_numpy(),
                                                              size=n_draws)
    s1, s0 = _probabilities(draws, names, design0, counts, horizon)
    sims = s1 - s0
    p1, p0 = float(p1[0]), float(p0[0])
    n_tr = int(pm.loc[pm["treated"] == 1, "unit"].nunique())
    n_rows = int(len(data))
    return HazardEstimate(
        hazard_ratio=float(np.exp(beta)), hr_ci_low=float(np.exp(beta - z * se)),
        hr_ci_high=float(np.exp(beta + z * se)), log_hr=beta, se=se,
        p_value=float(2 * stats.norm.sf(abs(beta / se))),
        prob_treated=p1, prob_untreated=p0, prob_diff=p1 - p0,
        prob_diff_ci_low=float(np.quantile(sims, 0.025)), prob_diff_ci_high=float(np.quantile(sims, 0.975)),
        n_treated=n_tr, n_comparison=int(pm["unit"].nunique()) - n_tr,
        events_treated=int(pm.loc[pm["treated"] == 1, "event"].sum()),
        events_comparison=int(pm.loc[pm["treated"] == 0, "event"].sum()),
        person_months=n_rows, horizon=horizon)


def _design(frame: pd.DataFrame, terms: list[str]) -> pd.DataFrame:
    """Constant, the treatment indicator and one dummy per level of each term (first dropped)."""
    dummies = pd.get_dummies(frame[terms], columns=terms, drop_first=True, dtype=float)
    X = pd.concat([frame[["treated"]].astype(float), dummies], axis=1)
    X.insert(0, "const", 1.0)
    return X.loc[:, (X != 0).any(axis=0)]


def _horizon_design(pm: pd.DataFrame, names: list[str], covariates: tuple[str, ...], months: list[int],
                    horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Design rows (treated = 0) for each distinct participant profile and each of the `horizon`
    months after its start; calendar months beyond the data use the last modelled month.

    Returns the (profiles·horizon × parameters) matrix and each profile's number of people.
    """
    first = pm.loc[pm["treated"] == 1].groupby("unit")["month"].min().rename("first")
    prof = pm.drop_duplicates("unit").set_index("unit").loc[first.index, list(covariates)].join(first)
    prof = prof.astype(str).value_counts().reset_index(name="people")
    return _profile_design(prof, names, covariates, months, horizon)


def _probabilities(beta: np.ndarray, names: list[str], design0: np.ndarray, people: np.ndarray,
                   horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean probability of the event within `horizon` months, with and without the programme,
    for each coefficient vector (row of `beta`)."""
    eta0 = beta @ design0.T                                   # draws × (profiles·horizon)
    eta1 = eta0 + beta[:, [names.index("treated")]]
    out = []
    for eta in (eta1, eta0):
        survive = np.exp(-np.exp(eta)).reshape(len(beta), -1, horizon).prod(axis=2)  # P(no event)
        out.append(((1 - survive) * people).sum(axis=1) / people.sum())
    return out[0], out[1]


# -- the same model from people, without expanding person-months ------------------------------------
@dataclass(frozen=True)
class RiskCells:
    """Person-months aggregated to cells, and the participants' profiles for the 12-month figures.

    cells : one row per (calendar month, covariates, treated) with ``sum`` (events) and ``count``
        (people at risk) — the grouped binomial data of the discrete-time hazard.
    profiles : one row per distinct (first treated month, covariates) of the participants, with
        ``people``.
    n_treated, n_comparison : people with at least one treated / only untreated months at risk.
    events_treated, events_comparison : events in treated / untreated months.
    """

    cells: pd.DataFrame
    profiles: pd.DataFrame
    n_treated: int
    n_comparison: int
    events_treated: int
    events_comparison: int


def risk_cells(people: pd.DataFrame, first_month: int, last_month: int,
               covariates: tuple[str, ...] = ()) -> RiskCells:
    """Aggregate `person_months(people, …)` to (month, covariates, treated) cells in O(people).

    Identical to grouping the expanded person-months (the test checks it), but memory grows
    with people, not with people × months, so a 200,000-person roster over three years stays
    small. People's ``start`` must be before their ``entry`` (treated throughout) or NaN
    (never treated): the staggered-entry design of `analytics.claims.outcome_claims`.

    Examples
    --------
    >>> p = pd.DataFrame({"unit": [1, 2, 3], "entry": [0, 2, 0], "exit": [1, np.nan, np.nan],
    ...                   "start": [np.nan, 1, np.nan], "d": ["a", "a", "b"]})
    >>> rc = risk_cells(p, 0, 3, ("d",))
    >>> rc.cells.sort_values(["month", "d", "treated"])[["month", "d", "treated", "sum", "count"]].values.tolist()[:4]
    [[0, 'a', 0, 0, 1], [0, 'b', 0, 0, 1], [1, 'a', 0, 1, 1], [1, 'b', 0, 0, 1]]
    >>> (rc.n_treated, rc.n_comparison, rc.events_treated, rc.events_comparison)
    (1, 2, 0, 1)
    """
    lo, end = _follow_up(people, first_month, last_month)
    ex = people["exit"].astype(float).to_numpy()
    st = people["start"].astype(float).to_numpy()
    if np.any(np.isfinite(st) & (st >= lo)):
        raise ValueError("risk_cells needs participants to enter after their start month")
    at_risk = end >= lo
    treated = np.isfinite(st).astype(int)
    event = np.isfinite(ex) & (ex <= end) & at_risk & (ex == end)
    # one integer code per (covariates, treated) profile, from per-column codes (no string tuples)
    col_codes, col_values = [], []
    for c in covariates:
        k, values = pd.factorize(people.loc[at_risk, c].astype(object).to_numpy(), sort=True)
        col_codes.append(k)
        col_values.append(np.asarray(values, dtype=object).astype(str))
    col_codes.append(treated[at_risk])
    col_values.append(np.array([0, 1]))
    dims = [max(len(v), 1) for v in col_values]
    flat = np.ravel_multi_index(col_codes, dims) if at_risk.any() else np.zeros(0, int)
    uniq_flat, codes = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(uniq_flat, dims)
    n_months = last_month - first_month + 1
    n_prof = len(uniq_flat)
    diff = np.zeros((n_prof, n_months + 1))
    a = (lo[at_risk] - first_month).astype(int)
    b = (end[at_risk] - first_month).astype(int) + 1
    np.add.at(diff, (codes, a), 1)
    np.add.at(diff, (codes, b), -1)
    count = np.cumsum(diff, axis=1)[:, :n_months]
    ev = np.zeros((n_prof, n_months))
    e_rows = event[at_risk]
    np.add.at(ev, (codes[e_rows], b[e_rows] - 1), 1)
    prof, month = np.nonzero(count > 0)
    frame = pd.DataFrame({name: col_values[j][parts[j][prof]] for j, name in enumerate([*covariates, "treated"])})
    frame["month"] = (month + first_month).astype(int)
    frame["sum"] = ev[prof, month].astype(int)
    frame["count"] = count[prof, month].astype(int)
    frame["treated"] = frame["treated"].astype(int)
    tr = at_risk & (treated == 1)
    # a person may come as several rows (segments of a time-varying covariate): count people once,
    # and take each participant's profile from their first row at risk
    unit = people["unit"].to_numpy()
    order = np.lexsort((lo, unit))
    first_row = np.zeros(len(people), bool)
    seen = pd.Series(unit[order]).duplicated().to_numpy()
    first_row[order[~seen & tr[order]]] = True
    sel = tr & first_row
    first = pd.DataFrame({"first": lo[sel].astype(int)}).join(
        people.loc[sel, list(covariates)].astype(str).reset_index(drop=True))
    profiles = first.astype(str).value_counts().reset_index(name="people")
    n_tr = int(pd.unique(unit[tr]).size)
    n_co = int(pd.unique(unit[at_risk & (treated == 0)]).size)
    return RiskCells(frame[["month", *covariates, "treated", "sum", "count"]], profiles, n_tr, n_co,
                     int(event[tr].sum()), int(event[at_risk & (treated == 0)].sum()))


def hazard_from_cells(rc: RiskCells, covariates: tuple[str, ...] = (), horizon: int = HORIZON_MONTHS,
                      seed: int = 0, n_draws: int = N_DRAWS) -> HazardEstimate:
    """`staggered_hazard` on aggregated cells: the grouped binomial cloglog fit with calendar-month
    and covariate fixed effects (exact for person-months, Allison 1982), HR and the 12-month
    probability difference for the participants' own profiles.

    Raises
    ------
    ValueError
        When there are no treated or no untreated people at risk, or no events.
    """
    cells = rc.cells
    if cells.empty or cells["treated"].nunique() < 2:
        raise ValueError("need person-months both with and without the programme")
    if cells["sum"].sum() == 0:
        raise ValueError("no events to model")
    terms = ["month", *covariates]
    event_months = sorted(int(m) for m in cells.loc[cells["sum"] > 0, "month"].unique())
    # A calendar month, or a covariate level, without any event has an infinite negative effect;
    # dropping its rows changes nothing in the likelihood of the rest. Participants in such a
    # level have no chance of the event with or without the programme.
    dead = {}
    alive = cells["month"].isin(event_months).to_numpy().copy()
    for c in covariates:
        tot = cells.groupby(c)["sum"].sum()
        dead[c] = set(tot.index[tot.to_numpy() == 0])
        alive &= ~cells[c].isin(dead[c]).to_numpy()
    data = cells[alive].assign(month=lambda d: d["month"].astype(str))
    data = data.groupby([*terms, "treated"], observed=True)[["sum", "count"]].sum().reset_index()
    X = _design(data, terms)
    y = np.column_stack([data["sum"], data["count"] - data["sum"]]).astype(float)
    params, cov = _cloglog_fit(y, X)
    beta, se = float(params["treated"]), float(np.sqrt(cov.loc["treated", "treated"]))
    z = stats.norm.ppf(0.975)
    names = list(params.index)
    prof = rc.profiles
    never = np.zeros(len(prof), bool)
    for c in covariates:
        never |= prof[c].astype(str).isin(dead[c]).to_numpy()
    total = prof["people"].to_numpy(float).sum()
    prof = prof[~never].reset_index(drop=True)
    if not len(prof):
        raise ValueError("no participant can have the event in this model")
    counts = prof["people"].to_numpy(float)
    p1, p0 = _additive_probabilities(params.to_numpy()[None, :], names, prof, covariates, event_months, horizon)
    draws = np.random.default_rng(seed).multivariate_normal(params.to_numpy(), _psd(cov.to_numpy()), size=n_draws)
    s1, s0 = _additive_probabilities(draws, names, prof, covariates, event_months, horizon)
    share = counts.sum() / total  # participants who cannot have the event count as 0 in both
    p1, p0, s1, s0 = p1 * share, p0 * share, s1 * share, s0 * share
    sims = s1 - s0
    p1, p0 = float(p1[0]), float(p0[0])
    return HazardEstimate(
        hazard_ratio=float(np.exp(beta)), hr_ci_low=float(np.exp(beta - z * se)),
        hr_ci_high=float(np.exp(beta + z * se)), log_hr=beta, se=se,
        p_value=float(2 * stats.norm.sf(abs(beta / se))),
        prob_treated=p1, prob_untreated=p0, prob_diff=p1 - p0,
        prob_diff_ci_low=float(np.quantile(sims, 0.025)), prob_diff_ci_high=float(np.quantile(sims, 0.975)),
        n_treated=rc.n_treated, n_comparison=rc.n_comparison, events_treated=rc.events_treated,
        events_comparison=rc.events_comparison, person_months=int(cells["count"].sum()), horizon=horizon)


def _cloglog_fit(y: np.ndarray, X: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Coefficients and covariance of the grouped binomial cloglog GLM (``y``: events, non-events).

    The same iterations as ``sm.GLM(y, X, family=Binomial(CLogLog())).fit()`` — its starting
    values, its Fisher-scoring (IRLS) steps and its stopping rule (deviance change under 1e-8,
    at most 100 steps), and its covariance (X'WX)^-1 at the final weights — but each weighted
    least-squares step is solved through the normal equations (the p x p matrix X'WX) instead of
    an SVD of the whole (cells x p) design: at 200,000 people (40,000 cells, 60 columns) that
    is the difference between seconds and a tenth of one. The figures agree to round-off (the
    test compares both). A design that is not of full rank goes to statsmodels, whose
    pseudo-inverse handles it.
    """
    family = sm.families.Binomial(link=sm.families.links.CLogLog())
    x = X.to_numpy(float)
    if np.linalg.matrix_rank(x.T @ x) < x.shape[1]:
        fit = sm.GLM(y, X, family=family).fit()
        return fit.params, fit.cov_params()
    endog, n_trials = family.initialize(y, np.ones(len(y)))
    ones = np.ones(len(endog))
    mu = family.starting_mu(endog)
    lin_pred = family.predict(mu)
    deviance = [np.inf, family.deviance(endog, mu, ones, ones, 1.0)]
    for _ in range(100):
        w = n_trials * family.weights(mu)
        z = lin_pred + family.link.deriv(mu) * (endog - mu)
        xw = x * w[:, None]
        gram = xw.T @ x
        params = np.linalg.solve(gram, xw.T @ z)
        lin_pred = x @ params
        mu = family.fitted(lin_pred)
        deviance.append(family.deviance(endog, mu, ones, ones, 1.0))
        if np.allclose(deviance[-2], deviance[-1], atol=1e-8, rtol=0.0):
            break
    # statsmodels' reported fit: the last step's least squares again, with its covariance
    xw = x * w[:, None]
    gram = xw.T @ x
    params = np.linalg.solve(gram, xw.T @ z)
    cov = np.linalg.inv(gram)
    names = list(X.columns)
    return pd.Series(params, index=names), pd.DataFrame(cov, index=names, columns=names)


def _psd(cov: np.ndarray) -> np.ndarray:
    """The covariance with its (round-off) negative eigenvalues set to 0, so simulated coefficients
    stay finite when a rarely-hit fixed effect is barely identified."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    return (vecs * np.clip(vals, 0, None)) @ vecs.T


#: Linear predictors are capped here before exponentiating (exp(exp(30)) is already certainty).
ETA_CAP = 30.0


def _additive_probabilities(beta: np.ndarray, names: list[str], prof: pd.DataFrame, covariates: tuple[str, ...],
                            months: list[int], horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """`_probabilities` using that the linear predictor is additive: with the cloglog link,
    P(no event over the horizon) = exp(-exp(const + covariates [+ treated]) · Σ_h exp(month_{first+h})),
    so each draw needs one sum per first month and one covariate sum per profile, not a
    (profiles × horizon) design matrix. Same figures as `_probabilities`, far cheaper."""
    index = {n: i for i, n in enumerate(names)}
    firsts = sorted(set(int(f) for f in prof["first"]))
    # month effect of each (first month, h): the last modelled month on or before it
    month_cols = np.zeros((len(firsts), horizon), int) - 1
    for a, f in enumerate(firsts):
        for h in range(horizon):
            m = max((x for x in months if x <= f + h), default=months[0])
            month_cols[a, h] = index.get(f"month_{m}", -1)
    padded = np.concatenate([beta, np.zeros((len(beta), 1))], axis=1)  # column -1: the reference month (0)
    month_sum = np.exp(np.minimum(padded[:, month_cols], ETA_CAP)).sum(axis=2)   # draws × firsts
    cov = np.zeros((len(prof), len(names) + 1))
    cov[:, index["const"]] = 1.0
    for c in covariates:
        cols = np.array([index.get(f"{c}_{v}", len(names)) for v in prof[c].astype(str)])
        cov[np.arange(len(prof)), cols] = 1.0
    cov = cov[:, :len(names)]
    lin = beta @ cov.T                                                      # draws × profiles
    where = np.searchsorted(firsts, prof["first"].astype(int).to_numpy())
    ms = month_sum[:, where]
    people = prof["people"].to_numpy(float)
    t = beta[:, [index["treated"]]]
    out = []
    for eta in (lin + t, lin):
        # mean of 1 - exp(-exp(eta) * ms) over people, in place (draws x profiles is large)
        e = np.minimum(eta, ETA_CAP)
        np.exp(e, out=e)
        e *= ms
        np.negative(e, out=e)
        np.exp(e, out=e)
        out.append(1 - (e @ people) / people.sum())
    return out[0], out[1]


def _profile_design(prof: pd.DataFrame, names: list[str], covariates: tuple[str, ...], months: list[int],
                    horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """`_horizon_design` from participant profiles (first treated month, covariates, people)."""
    index = {n: i for i, n in enumerate(names)}
    rows = np.zeros((len(prof) * horizon, len(names)))
    rows[:, index["const"]] = 1.0
    for r, profile in enumerate(prof.itertuples(index=False)):
        values = dict(zip(prof.columns, profile))
        for h in range(horizon):
            target = int(values["first"]) + h
            month = max((m for m in months if m <= target), default=months[0])
            for name in [f"month_{month}", *(f"{c}_{values[c]}" for c in covariates)]:
                if name in index:
                    rows[r * horizon + h, index[name]] = 1.0
    return rows, prof["people"].to_numpy(dtype=float)
