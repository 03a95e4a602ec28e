"""The within-programme claims drawn as people read them: mean gain by band of the predictor.

The dose claim ("more mentoring, more gain") becomes participants' mean engagement gain in bands
of sessions; the safety claim becomes each department's mean gain against that department's
baseline psychological safety. Both come from the per-person gains the claims engine already
computes for the regression (`claim_gains`), so the chart and the verdict rest on the same people.
Descriptive: the verdict comes from the engine's regression, not from these bands.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analytics import privacy
from analytics.filters import Filters

#: Session-count bands: lower edges; the last band is open ("20 or more"). Zero is its own band,
#: so the bands hold exactly the participants the dose regression uses.
SESSION_EDGES: tuple[int, ...] = (0, 1, 5, 10, 20)
BAND_COLUMNS = ["band", "gain", "ci_low", "ci_high", "n"]


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    m = float(np.mean(x))
    if len(x) < 2:
        return m, np.nan, np.nan
    if np.ptp(x) == 0:  # everyone gained the same: the interval is that point (scipy would give NaN)
        return m, m, m
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=m, scale=stats.sem(x))
    return m, float(lo), float(hi)


def band_labels(edges: Sequence[int]) -> list[str]:
    """'No sessions', '1–4 sessions', …, '20 or more sessions'.

    >>> band_labels((0, 1, 5, 10))
    ['No sessions', '1–4 sessions', '5–9 sessions', '10 or more sessions']
    """
    def one(a: int, b: int) -> str:
        if b - a == 1:
            return "No sessions" if a == 0 else f"{a} session{'s' if a != 1 else ''}"
        return f"{a}–{b - 1} sessions"

    labels = [one(a, b) for a, b in zip(edges[:-1], edges[1:])]
    return labels + [f"{edges[-1]} or more sessions"]


def dose_bands(gains: pd.DataFrame, min_group: int, edges: Sequence[int] = SESSION_EDGES) -> pd.DataFrame:
    """Mean gain with its 95% CI (t) per band of `n_sessions`; bands under the threshold blanked.

    Examples
    --------
    >>> g = pd.DataFrame({"n_sessions": [1, 2, 3, 4, 6, 7, 8, 9, 12, 15],
    ...                   "gain": [0, 0.2, 0.4, 0.2, 1, 1, 1, 1, 2, 2]})
    >>> out = dose_bands(g, 2, edges=(1, 5, 10))
    >>> out[["band", "gain", "n"]].values.tolist()
    [['1–4 sessions', 0.2, 4.0], ['5–9 sessions', 1.0, 4.0], ['10 or more sessions', 2.0, 2.0]]
    """
    d = gains.dropna(subset=["n_sessions", "gain"])
    d = d[d["n_sessions"] >= edges[0]]
    labels = band_labels(edges)
    idx = np.searchsorted(np.asarray(edges), d["n_sessions"].to_numpy(float), side="right") - 1
    rows = []
    for i, label in enumerate(labels):
        x = d.loc[idx == i, "gain"].to_numpy(float)
        if len(x) == 0:
            continue
        m, lo, hi = _mean_ci(x)
        rows.append({"band": label, "gain": m, "ci_low": lo, "ci_high": hi, "n": len(x)})
    out = pd.DataFrame(rows, columns=BAND_COLUMNS)
    return privacy.suppress(out, min_group, value_cols=["gain", "ci_low", "ci_high"])


def safety_points(gains: pd.DataFrame, min_group: int) -> pd.DataFrame:
    """Per department: its baseline psychological safety and its participants' mean gain (95% CI).

    >>> g = pd.DataFrame({"department": list("aaabbb"), "dept_safety": [3.0] * 3 + [4.0] * 3,
    ...                   "gain": [0.0, 0.1, 0.2, 0.5, 0.6, 0.7]})
    >>> safety_points(g, 3)[["department", "dept_safety", "gain", "n"]].round(2).values.tolist()
    [['a', 3.0, 0.1, 3.0], ['b', 4.0, 0.6, 3.0]]
    """
    d = gains.dropna(subset=["department", "dept_safety", "gain"])
    rows = []
    for dept, part in d.groupby("department", sort=True):
        m, lo, hi = _mean_ci(part["gain"].to_numpy(float))
        rows.append({"department": dept, "dept_safety": float(part["dept_safety"].iloc[0]), "gain": m,
                     "ci_low": lo, "ci_high": hi, "n": len(part)})
    out = pd.DataFrame(rows, columns=["department", "dept_safety", "gain", "ci_low", "ci_high", "n"])
    return privacy.suppress(out, min_group, value_cols=["dept_safety", "gain", "ci_low", "ci_high"])


def claim_gains(db, claim_id: str, filters: Filters, min_group: int) -> pd.DataFrame | None:
    """The per-person gains behind a within-programme claim, from the engine's own run.

    The triple-difference gains of `estimate.within_frame` on the cached `engine.run` panel (read
    from released data inside the run): no second estimation, and the bands hold the people the
    verdict rests on.
    """
    from analytics.claims import CLAIMS_BY_ID, engine, estimate

    r = engine.run(db, filters, engine.resolve_min_group(min_group), 0.2)
    gains = estimate.within_frame(r.panel, CLAIMS_BY_ID[claim_id], r.min_group)[0]
    return gains if isinstance(gains, pd.DataFrame) else None


def bands_for(db, claim_id: str, filters: Filters, min_group: int) -> pd.DataFrame | None:
    """The chart frame for a within claim: dose bands, safety points, or None for other claims."""
    if claim_id not in ("dose_response", "psych_safety_moderation"):
        return None
    from analytics.store import stored_results

    view = stored_results.view_key(filters)
    if view is not None:  # the unfiltered and one-department bands are stored with a published snapshot
        from analytics.claims.engine import resolve_min_group

        stored = stored_results.gain_bands(db, claim_id, resolve_min_group(min_group), view)
        if stored is not None:
            return None if stored.empty and stored.attrs.get("none") else stored
    gains = claim_gains(db, claim_id, filters, min_group)
    if gains is None:
        return None
    return dose_bands(gains, min_group) if claim_id == "dose_response" else safety_points(gains, min_group)
