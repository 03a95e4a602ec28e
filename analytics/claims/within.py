"""Within-programme regressions: does the gain depend on how (much) people were mentored?

There is no comparison group for "more sessions" or "more informal sessions", so these
claims compare participants with each other: OLS of a person's engagement gain (mean after
their start minus mean before) on the predictor, controlling for the baseline (the pre-start
mean) and the start group (people who started earlier have more post waves and live through
a different part of the organisation-wide drift). Errors are heteroskedasticity-robust (HC3).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from analytics.claims._threads import single_threaded


def person_gains(panel: pd.DataFrame, units: pd.DataFrame, n_periods: int) -> pd.DataFrame:
    """Per treated person: unit, g, baseline (mean before g), post (mean from g on), gain."""
    u = units[units["treated"] & np.isfinite(units["g"]) & (units["g"] >= 1) & (units["g"] < n_periods)]
    p = panel.merge(u[["unit", "g"]], on="unit")
    p["after"] = p["t"] >= p["g"]
    m = p.pivot_table(index=["unit", "g"], columns="after", values="y", aggfunc="mean")
    m = m.rename(columns={False: "baseline", True: "post"}).reset_index()
    for c in ("baseline", "post"):
        if c not in m:
            m[c] = np.nan
    m = m.dropna(subset=["baseline", "post"])
    m["gain"] = m["post"] - m["baseline"]
    return m[["unit", "g", "baseline", "post", "gain"]]


@single_threaded
def gain_regression(df: pd.DataFrame, predictor: str = "x") -> dict:
    """OLS gain ~ predictor + baseline (+ start group dummies), HC3 errors.

    Returns the predictor's slope in raw units (gain per unit of predictor) and standardised
    (gain SDs per SD of the predictor) with 95% CIs, the p-value and n. NaN when the predictor
    does not vary.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "baseline": rng.normal(size=200), "g": 1})
    >>> d["gain"] = 0.5 * d["x"] + rng.normal(size=200)
    >>> r = gain_regression(d)
    >>> r["ci_low"] < 0.5 < r["ci_high"]
    True
    """
    d = df.dropna(subset=["gain", predictor, "baseline"]).copy()
    nan = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
           "n": int(len(d)), "effect_size": np.nan, "es_ci_low": np.nan, "es_ci_high": np.nan, "es_se": np.nan}
    if len(d) < 5 or d[predictor].nunique() < 2:
        return nan
    d = d.rename(columns={predictor: "x_"})
    formula = "gain ~ x_ + baseline" + (" + C(g)" if d["g"].nunique() > 1 else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # HC3 divides by 1 − leverage (0 in tiny samples)
        fit = smf.ols(formula, data=d).fit(cov_type="HC3")
    b, se = float(fit.params["x_"]), float(fit.bse["x_"])
    if not np.isfinite(se) or se <= 0:
        return nan
    lo, hi = (float(v) for v in fit.conf_int().loc["x_"])
    scale = float(d["x_"].std() / d["gain"].std()) if d["gain"].std() > 0 else np.nan
    return {"estimate": b, "se": se, "ci_low": lo, "ci_high": hi, "p_value": float(fit.pvalues["x_"]),
            "n": int(fit.nobs), "effect_size": b * scale, "es_ci_low": lo * scale, "es_ci_high": hi * scale,
            "es_se": se * scale}
