"""Comparison claims for anonymous surveys: a repeated cross-section difference-in-differences.

When a survey has no person ids but asks "are you part of the programme?" (mentor / mentee /
no, optionally the cohort or start quarter), each wave is a fresh cross-section of groups. Per
role, the effect is the change in the gap between that role's respondents and the
non-participants, from waves before their cohort's start to waves after it:

    y_cell = wave effect + group effect + tau * post_cell

estimated by least squares over respondents (group = role and cohort; post = the wave is on or
after the group's start), with heteroskedasticity-robust (HC1) standard errors. Only cell
aggregates are needed (count, mean and sum of squared deviations of the construct score per
wave and group, `analytics.store.cross_section.participation_cells`): for regressors constant
within a cell, the respondent-level estimate and its HC1 covariance depend on the data only
through those three numbers, so the fit is run on pseudo-respondents that reproduce them
exactly (checked against a fit on the raw respondents in the tests).

This is a weaker design than the panel estimators: no person is followed, and the groups can
change from wave to wave (who answers, and who says they take part). Cells of fewer than the
anonymity threshold are never used or reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

DESIGN = "repeated cross-section difference-in-differences of group means"
CAVEAT = ("a weaker design: no person is followed, and the groups can change from wave to wave")
ROLES = ("mentor", "mentee")
ALPHA = 0.05


@dataclass(frozen=True)
class CrossSectionEffect:
    """One role's effect on one construct.

    Attributes
    ----------
    construct, role : what was estimated ("mentor" or "mentee").
    estimate, se, ci_low, ci_high, p_value : tau on the construct's scale, its HC1 standard error,
        95% CI and two-sided p (NaN when not identified).
    effect, se_effect : tau and its SE in pooled within-group standard deviations.
    n_treated, n_comparison : respondents of the role, and non-participants, in the cells used.
    n_waves, cells_used, cells_dropped : waves and cells used; cells left out for fewer than k
        respondents or no timing.
    verdict : "supported" (positive, p < 0.05), "contradicted" (negative, p < 0.05),
        "inconclusive", or "insufficient_data" (with `reason`).
    design, sentence : the design's name, and a plain sentence that states its weakness.
    """

    construct: str
    role: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    effect: float
    se_effect: float
    n_treated: int
    n_comparison: int
    n_waves: int
    cells_used: int
    cells_dropped: int
    verdict: str
    reason: str | None
    design: str
    sentence: str

    def row(self) -> dict:
        return asdict(self)


def _pseudo(n: np.ndarray, mean: np.ndarray, ss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cell index, y) of respondents reproducing each cell's count, mean and sum of squared
    deviations exactly: two values mean ± sqrt(ss / 2), the rest at the mean."""
    cell = np.repeat(np.arange(len(n)), n)
    y = mean[cell].astype(float)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    two = n >= 2
    a = np.sqrt(np.maximum(ss[two], 0.0) / 2)
    y[first[two]] += a
    y[first[two] + 1] -= a
    return cell, y


def _insufficient(construct: str, role: str, reason: str, dropped: int, **counts) -> CrossSectionEffect:
    nan = float("nan")
    return CrossSectionEffect(construct, role, nan, nan, nan, nan, nan, nan, nan, counts.get("n_treated", 0),
                              counts.get("n_comparison", 0), counts.get("n_waves", 0), counts.get("cells_used", 0),
                              dropped, "insufficient_data", reason, DESIGN,
                              f"Not enough data to compare {role}s with non-participants on {construct} ({reason}); "
                              f"this survey has no person ids, so the comparison would be a {DESIGN}, {CAVEAT}.")


def estimate_role(cells: pd.DataFrame, construct: str, role: str, *, programme_start=None,
                  cells_dropped: int = 0) -> CrossSectionEffect:
    """The repeated cross-section DiD for one role from cell aggregates.

    Parameters
    ----------
    cells : columns wave_date, role ("mentor"/"mentee"/"none"), cohort, start, n, mean, ss; one row
        per wave and group, already without cells under the anonymity threshold.
    programme_start : the start date of role groups whose respondents gave no cohort timing.
    cells_dropped : cells the store left out (fewer than k respondents), for the report.

    Examples
    --------
    >>> import pandas as pd, datetime as dt
    >>> d1, d2 = dt.date(2024, 1, 1), dt.date(2024, 7, 1)
    >>> cells = pd.DataFrame({"wave_date": [d1, d1, d2, d2], "role": ["none", "mentor"] * 2,
    ...     "cohort": [None, "A"] * 2, "start": [None, dt.date(2024, 4, 1)] * 2,
    ...     "n": [20, 10, 20, 10], "mean": [3.0, 3.2, 3.1, 3.8], "ss": [10.0, 5.0, 10.0, 5.0]})
    >>> r = estimate_role(cells, "agility", "mentor")
    >>> round(r.estimate, 6)   # (3.8 - 3.1) - (3.2 - 3.0)
    0.5
    """
    dropped = int(cells_dropped)
    use = cells[cells["role"].isin(["none", role])].copy()
    if use.empty or not (use["role"] == role).any():
        return _insufficient(construct, role, f"no wave has {role}s in groups of at least the anonymity threshold",
                             dropped)
    if not (use["role"] == "none").any():
        return _insufficient(construct, role, "no wave has non-participants in groups of at least the anonymity "
                             "threshold", dropped)
    start = use["start"].where(use["start"].notna(), programme_start) if programme_start is not None \
        else use["start"]
    untimed = (use["role"] == role) & start.isna()
    if untimed.any():
        dropped += int(untimed.sum())
        use, start = use[~untimed], start[~untimed]
    if not (use["role"] == role).any():
        return _insufficient(construct, role, "no cohort or programme start date to time the groups", dropped)
    wave = pd.to_datetime(use["wave_date"])
    use["post"] = ((use["role"] == role) & (wave >= pd.to_datetime(start))).astype(float)
    use["group"] = np.where(use["role"] == role, role + ":" + use["cohort"].fillna("").astype(str), "none")
    use["wave"] = wave.astype(str)
    treated = use[use["role"] == role]
    counts = {"n_treated": int(treated["n"].sum()), "n_comparison": int(use.loc[use["role"] == "none", "n"].sum()),
              "n_waves": int(use["wave"].nunique()), "cells_used": int(len(use))}
    if not (treated["post"] == 1).any() or not (treated["post"] == 0).any():
        what = "before" if not (treated["post"] == 0).any() else "after"
        return _insufficient(construct, role, f"no {role} answers {what} their start, so the groups cannot be "
                             "compared before and after", dropped, **counts)
    use = use.reset_index(drop=True)
    design = pd.get_dummies(use[["wave", "group"]], drop_first=True, dtype=float)
    design.insert(0, "const", 1.0)
    design["post"] = use["post"].to_numpy()
    cell, y = _pseudo(use["n"].to_numpy(dtype=int), use["mean"].to_numpy(dtype=float),
                      use["ss"].to_numpy(dtype=float))
    X = pd.DataFrame(design.to_numpy()[cell], columns=design.columns)
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        return _insufficient(construct, role, "the timing of the groups does not separate the effect from "
                             "the waves and groups", dropped, **counts)
    fit = sm.OLS(y, X).fit(cov_type="HC1")
    est, se = float(fit.params["post"]), float(fit.bse["post"])
    lo, hi = (float(v) for v in fit.conf_int(alpha=ALPHA).loc["post"])
    p = float(fit.pvalues["post"])
    within_df = float(use["n"].sum() - len(use))
    sd = math.sqrt(float(use["ss"].sum()) / within_df) if within_df > 0 else float("nan")
    effect = est / sd if sd and sd > 0 else float("nan")
    se_effect = se / sd if sd and sd > 0 else float("nan")
    if p < ALPHA:
        verdict = "supported" if est > 0 else "contradicted"
    else:
        verdict = "inconclusive"
    change = "higher" if est > 0 else "lower"
    sentence = (f"After their cohort started, {role}s' {construct} was {abs(est):.2f} points {change} relative to "
                f"non-participants than before (95% CI {lo:.2f} to {hi:.2f}; {verdict.replace('_', ' ')}). "
                f"This survey has no person ids, so this is a {DESIGN}: {CAVEAT}.")
    return CrossSectionEffect(construct, role, est, se, lo, hi, p, effect, se_effect, verdict=verdict, reason=None,
                              design=DESIGN, sentence=sentence, cells_dropped=dropped, **counts)


def cross_section_did(cells: pd.DataFrame, construct: str, *, programme_start=None,
                      cells_dropped: int = 0) -> pd.DataFrame:
    """One tidy row per role (mentor, mentee): the `CrossSectionEffect` fields."""
    return pd.DataFrame([estimate_role(cells, construct, r, programme_start=programme_start,
                                       cells_dropped=cells_dropped).row() for r in ROLES])


def from_store(db, construct: str, k: int) -> pd.DataFrame:
    """Both roles' effects on one construct, from the database (cells under `k` never leave it)."""
    from analytics.store import cross_section as sql

    cells, dropped = sql.participation_cells(db, construct, k)
    return cross_section_did(cells, construct, programme_start=sql.programme_start(db), cells_dropped=dropped)
