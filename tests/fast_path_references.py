"""The straightforward versions of the engine's fast paths, kept for `tests/test_claims_fast_paths.py`
to compare the fast ones with: the previous pandas merges of the outcome claims' history look-ups
and `segments`, and the Lee bounds with one bootstrap weight matrix per cell and group. They are
the code the fast paths replaced, not an independent derivation: the independent checks are the
hand-worked and planted-truth tests of each estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.claims import checks


def _first_after_reference(events: pd.DataFrame, kind: str, units: pd.Series, after: np.ndarray) -> np.ndarray:
    """`_first_after` by a pandas merge (the previous code)."""
    ev = events[events["kind"] == kind][["employee_id", "month"]]
    frame = pd.DataFrame({"employee_id": units.to_numpy(), "after": after, "pos": np.arange(len(units))})
    m = frame.merge(ev, on="employee_id", how="inner")
    m = m[m["month"] >= m["after"]]
    first = m.groupby("pos")["month"].min()
    out = np.full(len(units), np.nan)
    out[first.index.to_numpy(int)] = first.to_numpy(float)
    return out


def _at_reference(rows: pd.DataFrame, units: pd.Series, month: np.ndarray) -> pd.DataFrame:
    """`_at` by a pandas merge (the previous code)."""
    frame = pd.DataFrame({"employee_id": units.to_numpy(), "m": month, "pos": np.arange(len(units))})
    r = rows.assign(from_m=rows["from_m"].fillna(-np.inf), to_m=rows["to_m"].fillna(np.inf))
    m = frame.merge(r, on="employee_id", how="left")
    inside = (m["from_m"] <= m["m"]) & (m["m"] <= m["to_m"])
    m = m.assign(order=np.where(inside, 0, 1)).sort_values(["pos", "order", "from_m"])
    first = m.drop_duplicates("pos").set_index("pos").reindex(np.arange(len(units)))
    return first[["department", "level", "level_rank"]].reset_index(drop=True)


def _segments_reference(people: pd.DataFrame, rows: pd.DataFrame, hi: int) -> pd.DataFrame:
    """`segments` by pandas merges and group shifts (the previous code)."""
    end = np.fmin(np.fmin(people["exit"].to_numpy(float), people["censor"].to_numpy(float)), float(hi))
    p = people.assign(_end=end, _exit=people["exit"])
    r = rows[["employee_id", "from_m", "to_m", "department", "level"]].sort_values(
        ["employee_id", "from_m"], na_position="first")
    nxt = r.groupby("employee_id")["from_m"].shift(-1)
    r = r.assign(continues=nxt.notna() & (nxt == r["to_m"]), from_m=r["from_m"].fillna(-np.inf),
                 to_m=r["to_m"].fillna(np.inf))
    m = p.drop(columns=["department", "level"]).merge(r, on="employee_id", how="inner")
    event_here = m["_exit"].notna() & (m["_exit"] == m["to_m"])
    hi_row = np.where(m["continues"] & ~event_here, m["to_m"] - 1, m["to_m"])
    seg_lo = np.maximum(m["entry"].to_numpy(float), m["from_m"].to_numpy(float))
    seg_hi = np.minimum(m["_end"].to_numpy(float), hi_row)
    # the month of a change belongs to one row only: the earlier (it holds the event, if any)
    m = m.assign(_lo=seg_lo, _hi=seg_hi).sort_values(["unit", "_lo", "_hi"], kind="stable")
    prev = m.groupby("unit")["_hi"].shift(1).to_numpy(float)
    seg_lo = np.where(np.isfinite(prev), np.maximum(m["_lo"].to_numpy(float), prev + 1), m["_lo"].to_numpy(float))
    seg_hi = m["_hi"].to_numpy(float)
    ok = seg_lo <= seg_hi
    m = m.loc[ok].assign(entry=seg_lo[ok], censor=seg_hi[ok]).drop(columns=["_lo", "_hi"])
    ex = m["_exit"].to_numpy(float)
    m["exit"] = np.where((ex >= m["entry"]) & (ex <= m["censor"]), ex, np.nan)
    m["department"] = m["department"].fillna("not recorded").astype(str).to_numpy(object)
    m["level"] = m["level"].fillna("not recorded").astype(str).to_numpy(object)
    return m.drop(columns=["_end", "_exit", "continues", "from_m", "to_m"]).reset_index(drop=True)


def _employed_reference(rows: pd.DataFrame, units: pd.Series, month: np.ndarray) -> np.ndarray:
    """`_employed` by a pandas merge (the previous code)."""
    frame = pd.DataFrame({"employee_id": units.to_numpy(), "m": month, "pos": np.arange(len(units))})
    r = rows.assign(from_m=rows["from_m"].fillna(-np.inf), to_m=rows["to_m"].fillna(np.inf))
    m = frame.merge(r, on="employee_id", how="inner")
    hit = m.loc[(m["from_m"] <= m["m"]) & (m["m"] <= m["to_m"]), "pos"].unique()
    out = np.zeros(len(units), bool)
    out[hit] = True
    return out


def _trimmed_means(x, W, q: float, drop: str) -> np.ndarray:
    """`trimmed_mean` for each row of the weight matrix W (bootstrap replicates), sorting x once."""
    order = np.argsort(x if drop == "top" else -x, kind="stable")
    return checks._trim_sorted(x[order], W[:, order], q)


def _lee_bounds_reference(specs, weights_over_cells, w, n_boot: int = checks.LEE_BOOTSTRAP,
               seed: int = 20240) -> tuple[float, float, float, float, float, float, float]:
    """The straightforward `lee_bounds` (one weight matrix per cell and group), kept as the
    reference its test compares the fast version with."""
    gap = float(sum(a * meta["response_gap"] for a, (meta, *_rest) in zip(weights_over_cells, specs)))
    gap_se = checks._gap_se(specs, weights_over_cells)
    nan = float("nan")
    if not checks.response_material(gap, gap_se):  # the trimming (sorting every cell) only when it matters
        return gap, gap_se, nan, nan, 0.0, nan, nan
    n = len(w)
    mult = np.random.default_rng(seed).poisson(1.0, (n_boot, n)).astype(float)
    lo, hi, q_mean = 0.0, 0.0, 0.0
    lo_b, hi_b = np.zeros(n_boot), np.zeros(n_boot)
    for a, (meta, dy, trt, ctrl) in zip(weights_over_cells, specs):
        if a == 0:
            continue
        g_k = meta["response_gap"]
        yt, wt = dy[trt], np.ones(int(trt.sum()))
        yc, wc = dy[ctrl], w[ctrl]
        Wt, Wc = mult[:, trt] * wt, mult[:, ctrl] * wc
        mt, mc = np.average(yt, weights=wt), np.average(yc, weights=wc)
        with np.errstate(invalid="ignore", divide="ignore"):
            mt_b, mc_b = Wt @ yt / Wt.sum(axis=1), Wc @ yc / Wc.sum(axis=1)
        if g_k > 0 and meta["response_treated"] > 0:
            q = min((g_k + checks.Z * meta["response_gap_se"]) / meta["response_treated"], 0.9)
            q_mean += a * q
            lo += a * (checks.trimmed_mean(yt, wt, q, "top") - mc)
            hi += a * (checks.trimmed_mean(yt, wt, q, "bottom") - mc)
            lo_b += a * (_trimmed_means(yt, Wt, q, "top") - mc_b)
            hi_b += a * (_trimmed_means(yt, Wt, q, "bottom") - mc_b)
        elif g_k < 0 and meta["response_comparison"] > 0:
            q = min((-g_k + checks.Z * meta["response_gap_se"]) / meta["response_comparison"], 0.9)
            q_mean += a * q
            lo += a * (mt - checks.trimmed_mean(yc, wc, q, "bottom"))
            hi += a * (mt - checks.trimmed_mean(yc, wc, q, "top"))
            lo_b += a * (mt_b - _trimmed_means(yc, Wc, q, "bottom"))
            hi_b += a * (mt_b - _trimmed_means(yc, Wc, q, "top"))
        else:
            lo += a * (mt - mc)
            hi += a * (mt - mc)
            lo_b += a * (mt_b - mc_b)
            hi_b += a * (mt_b - mc_b)
    se_lo, se_hi = float(np.nanstd(lo_b, ddof=1)), float(np.nanstd(hi_b, ddof=1))
    return float(gap), float(gap_se), float(lo), float(hi), float(q_mean), se_lo, se_hi


def _restrict_sample_reference(panel, people, participant=None):
    """`population.restrict_sample` as it was: grouping the reporting groups' text ids in pandas."""
    import numpy as np
    import pandas as pd

    from analytics.privacy import whole_groups

    k = panel.cache.get("min_group")
    if k is None or "block_id" not in panel.roster or not people.any():
        return people
    part = np.zeros(len(people), bool) if participant is None else participant
    frame = pd.DataFrame({"block_id": panel.roster["block_id"].to_numpy()[people], "participant": part[people],
                          "unit": np.flatnonzero(people)})
    keep = whole_groups(frame, int(k), ["block_id", "participant"], "unit")["unit"].to_numpy()
    out = np.zeros(len(people), bool)
    out[keep] = True
    return out
