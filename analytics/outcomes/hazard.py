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
    lo = np.maximum(p["entry"].astype(float).to_numpy(), first_month)
    end = np.full(len(p), float(last_month))
    ex = p["exit"].astype(float).to_numpy()
    end = np.where(np.isfinite(ex), np.minimum(end, ex), end)
    if "censor" in p:
        ce = p["censor"].astype(float).to_numpy()
        end = np.where(np.isfinite(ce), np.minimum(end, ce), end)
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
