"""Construct reliability: Cronbach's alpha from per-wave item variances aggregated in DuckDB."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.store import claims as q

ALPHA_FLAG = 0.6


def cronbach_alpha(k, sum_item_var, total_var):
    """Cronbach's alpha = k/(k−1) · (1 − Σ item variances / variance of the sum score).

    Works elementwise on arrays. Undefined (NaN) for k < 2 or a zero total variance.

    Examples
    --------
    >>> round(float(cronbach_alpha(3, 2.0, 4.0)), 3)
    0.75
    """
    k = np.asarray(k, dtype=float)
    s = np.asarray(sum_item_var, dtype=float)
    t = np.asarray(total_var, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((k >= 2) & (t > 0), k / (k - 1) * (1 - s / t), np.nan)
    return out


def reliability(db, filters: Filters = Filters(), min_group: int | None = None) -> pd.DataFrame:
    """Internal consistency per construct: construct, n_items, n, alpha, flag (alpha < 0.6).

    Alpha is computed per survey wave on complete answers (items may differ between waves)
    and averaged over waves weighted by respondents; `alpha_min` is the worst wave.
    """
    from analytics.privacy import min_group_size
    from analytics.store.released import released

    with released(db, min_group_size(min_group), filters.as_of):  # anonymity: released answers only
        v = q.item_variances(db, filters)
    return alpha_table(v)


#: Columns of `alpha_table`.
ALPHA_COLUMNS = ["construct", "n_items", "n", "alpha", "flag", "alpha_min", "n_waves"]


def alpha_table(v: pd.DataFrame) -> pd.DataFrame:
    """One row per construct from per-wave item variances (construct, k, n, sum_item_var,
    total_var): alpha of each wave, averaged over waves weighted by respondents, and flagged."""
    if v.empty:
        return pd.DataFrame(columns=ALPHA_COLUMNS)
    v = v.assign(alpha=cronbach_alpha(v["k"], v["sum_item_var"], v["total_var"]))
    rows = []
    for construct, g in v.groupby("construct", sort=True):
        ok = g["alpha"].notna()
        alpha = float(np.average(g.loc[ok, "alpha"], weights=g.loc[ok, "n"])) if ok.any() else float("nan")
        rows.append({"construct": construct, "n_items": int(g["k"].max()), "n": int(g["n"].sum()),
                     "alpha": alpha, "flag": bool(np.isfinite(alpha) and alpha < ALPHA_FLAG),
                     "alpha_min": float(g["alpha"].min()), "n_waves": int(len(g))})
    return pd.DataFrame(rows, columns=ALPHA_COLUMNS)
