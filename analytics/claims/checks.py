"""The checks that can change a verdict: effective comparison size, differential response, sensitivity.

* Kish's effective n of the weighted comparison group, (Σw)²/Σw²: a comparison mean carried by
  a handful of heavily weighted people is, in effect, those people's answers.
* Differential response: how the share answering changes after the start, treated vs
  comparison; when that differs materially (by at least 5 percentage points, and beyond chance),
  Lee (2009) trimming bounds on the effect, each widened by 1.96 times its own bootstrap SE
  (so they cover sampling error too, the trimming quantile's included).
* Sensitivity in the spirit of Rambachan & Roth (2023, HonestDiD): the relative-magnitudes
  restriction Δ^RM(M̄) bounds each post-start violation of parallel trends, per wave, by M̄
  times the largest wave-to-wave change in the pre-start differences; the breakdown value is
  the largest M̄ at which the verdict still stands. With a single pre-wave there is nothing to
  scale by, so the breakdown is a linear trend (SD per wave) continued from before the start.
  The breakdown changes a verdict in one stated case (`sensitivity_overturns`): the pre-start
  scores already moved apart (joint placebo p < 0.05) and a post-start violation no larger than
  the largest pre-start step (M̄ < 1) would overturn a significant result: it becomes inconclusive.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Minimum effective comparison size: max(ESS_FLOOR, ESS_PER_GROUP × the minimum group size).
ESS_FLOOR = 20
ESS_PER_GROUP = 4
#: A differential change in response (treated minus comparison) at least this large is material.
RESPONSE_GAP_MATERIAL = 0.05
Z = stats.norm.ppf(0.975)


def kish_ess(w) -> float:
    """Kish's effective sample size (Σw)²/Σw².

    Examples
    --------
    >>> kish_ess([1, 1, 1, 1])
    4.0
    >>> round(kish_ess([10, 1, 1, 1]), 2)   # one person carries most of the weight: 13² / 103
    1.64
    """
    w = np.asarray(w, float)
    if len(w) == 0 or not np.any(w > 0):
        return 0.0
    return float(w.sum() ** 2 / (w ** 2).sum())


def min_ess(min_group: int) -> int:
    """The effective comparison size below which no verdict beyond 'inconclusive' is given."""
    return max(ESS_FLOOR, ESS_PER_GROUP * int(min_group))


def trimmed_mean(x, w, q: float, drop: str) -> float:
    """Weighted mean of x after removing the share q of total weight from the top or bottom.

    Examples
    --------
    >>> trimmed_mean([1, 2, 3, 4], [1, 1, 1, 1], 0.25, "top")
    2.0
    >>> trimmed_mean([1, 2, 3, 4], [1, 1, 1, 1], 0.25, "bottom")
    3.0
    """
    x, w = np.asarray(x, float), np.asarray(w, float)
    order = np.argsort(x if drop == "top" else -x, kind="stable")
    x, w = x[order], w[order]
    keep_w = (1 - q) * w.sum()
    cum = np.cumsum(w)
    part = np.clip(keep_w - (cum - w), 0, w)  # weight kept of each value, lowest (or highest) first
    return float(np.dot(part, x) / part.sum()) if part.sum() > 0 else float("nan")


#: Bootstrap replicates for the Lee bounds' sampling error (only computed when the gap is material).
LEE_BOOTSTRAP = 200




def _trim_sorted(xs: np.ndarray, Ws: np.ndarray, q: float) -> np.ndarray:
    """Each row's weighted mean of `xs` (sorted so that the part to drop comes last) after dropping
    the share `q` of the row's weight from the end."""
    cum = np.cumsum(Ws, axis=1)
    keep = (1 - q) * Ws.sum(axis=1, keepdims=True)
    part = np.clip(keep - (cum - Ws), 0, Ws)
    tot = part.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, part @ xs / tot, np.nan)


def lee_bounds(specs, weights_over_cells, w, n_boot: int = LEE_BOOTSTRAP,
               seed: int = 20240) -> tuple[float, float, float, float, float, float, float]:
    """(response gap, its SE, lower, upper, mean trimmed share, SE of lower, SE of upper) of the
    aggregated effect under Lee trimming, per cell.

    The gap is the change in the share answering after the start, treated minus comparison.
    In each cell the group that kept answering more is trimmed by its excess share (the gap
    over its answer rate), from the top (lower bound) and from the bottom (upper bound) of its
    outcome-change distribution; cell bounds are aggregated with the estimate's own cell
    weights. The gap's SE sums each person's influence over the cells (so cells sharing people
    keep their correlation); the sum of the cell SEs, an upper bound, is the fallback.

    The bounds' sampling error is not the estimate's: a trimmed mean also carries the error of
    the quantile it cuts at (Lee 2009, Prop. 3). It comes from a Poisson bootstrap over people
    (one multiplier per person, shared by every cell, so cells sharing people stay correlated),
    with the trimmed shares held fixed. The shares themselves are estimated: each cell trims at
    the upper 95% limit of its excess share (gap + 1.96 SE over the answer rate), so an
    underestimated share cannot leave the bounds too narrow — on simulated organisations the
    point share left them leaning by about a third of an SE towards the observed effect.
    """
    gap = float(sum(a * meta["response_gap"] for a, (meta, *_rest) in zip(weights_over_cells, specs)))
    gap_se = _gap_se(specs, weights_over_cells)
    nan = float("nan")
    if not response_material(gap, gap_se):  # the trimming (sorting every cell) only when it matters
        return gap, gap_se, nan, nan, 0.0, nan, nan
    n = len(w)
    w = np.asarray(w, float)
    mult = np.random.default_rng(seed).poisson(1.0, (n_boot, n)).astype(float)
    # Every replicate's untrimmed group means at once: one product of the multipliers with the
    # (masked, weighted) outcomes and weights of every cell and group, instead of copying the
    # multipliers of each group (replicates x people) once per cell.
    live = [(a, spec) for a, spec in zip(weights_over_cells, specs) if a != 0]
    cols = []
    for _a, (_meta, dy, trt, ctrl) in live:
        cols += [np.where(trt, dy, 0.0), trt.astype(float), np.where(ctrl, w * dy, 0.0), np.where(ctrl, w, 0.0)]
    sums = mult @ np.column_stack(cols) if cols else np.zeros((n_boot, 0))
    lo, hi, q_mean = 0.0, 0.0, 0.0
    lo_b, hi_b = np.zeros(n_boot), np.zeros(n_boot)
    for j, (a, (meta, dy, trt, ctrl)) in enumerate(live):
        g_k = meta["response_gap"]
        t_idx, c_idx = np.flatnonzero(trt), np.flatnonzero(ctrl)
        yt, wt = dy[t_idx], np.ones(len(t_idx))
        yc, wc = dy[c_idx], w[c_idx]
        mt, mc = np.average(yt, weights=wt), np.average(yc, weights=wc)
        s = sums[:, 4 * j:4 * j + 4]
        with np.errstate(invalid="ignore", divide="ignore"):
            mt_b, mc_b = s[:, 0] / s[:, 1], s[:, 2] / s[:, 3]
        if g_k > 0 and meta["response_treated"] > 0:
            q = min((g_k + Z * meta["response_gap_se"]) / meta["response_treated"], 0.9)
            q_mean += a * q
            lo += a * (trimmed_mean(yt, wt, q, "top") - mc)
            hi += a * (trimmed_mean(yt, wt, q, "bottom") - mc)
            lo_b += a * (_trimmed_means_of(mult, t_idx, yt, wt, q, "top") - mc_b)
            hi_b += a * (_trimmed_means_of(mult, t_idx, yt, wt, q, "bottom") - mc_b)
        elif g_k < 0 and meta["response_comparison"] > 0:
            q = min((-g_k + Z * meta["response_gap_se"]) / meta["response_comparison"], 0.9)
            q_mean += a * q
            lo += a * (mt - trimmed_mean(yc, wc, q, "bottom"))
            hi += a * (mt - trimmed_mean(yc, wc, q, "top"))
            lo_b += a * (mt_b - _trimmed_means_of(mult, c_idx, yc, wc, q, "bottom"))
            hi_b += a * (mt_b - _trimmed_means_of(mult, c_idx, yc, wc, q, "top"))
        else:
            lo += a * (mt - mc)
            hi += a * (mt - mc)
            lo_b += a * (mt_b - mc_b)
            hi_b += a * (mt_b - mc_b)
    se_lo, se_hi = float(np.nanstd(lo_b, ddof=1)), float(np.nanstd(hi_b, ddof=1))
    return float(gap), float(gap_se), float(lo), float(hi), float(q_mean), se_lo, se_hi


def _trimmed_means_of(mult: np.ndarray, idx: np.ndarray, x: np.ndarray, w: np.ndarray, q: float,
                      drop: str) -> np.ndarray:
    """`_trimmed_means(x, mult[:, idx] * w, q, drop)`, gathering the multipliers once, already sorted."""
    order = np.argsort(x if drop == "top" else -x, kind="stable")
    return _trim_sorted(x[order], mult[:, idx[order]] * w[order], q)




def _gap_se(specs, weights_over_cells) -> float:
    infl = None
    for a, (meta, *_rest) in zip(weights_over_cells, specs):
        v = meta.get("response_influence")
        if v is None:
            return float(sum(a * m["response_gap_se"] for a, (m, *_r) in zip(weights_over_cells, specs)))
        if a:
            infl = a * v if infl is None else infl + a * v
    return float(np.sqrt(infl @ infl)) if infl is not None else float("inf")


def response_material(gap: float, se: float) -> bool:
    """A gap is material when it is both large (≥ RESPONSE_GAP_MATERIAL) and not chance (|z| ≥ 1.96)."""
    return bool(abs(gap) >= RESPONSE_GAP_MATERIAL and se > 0 and abs(gap) / se >= Z)


def pre_step(placebo_points) -> float:
    """Largest wave-to-wave change of the pre-start differences (δ_{−1} = 0 is the reference).

    `placebo_points` maps event time e ≤ −2 to the placebo estimate (base: the wave before the start).

    Examples
    --------
    >>> pre_step({-3: 0.05, -2: -0.02})   # steps: -3→-2 is 0.07, -2→-1 is 0.02
    0.07
    """
    if not placebo_points:
        return float("nan")
    pts = dict(placebo_points)
    pts[-1] = 0.0
    es = sorted(pts)
    return float(round(max(abs(pts[b] - pts[a]) for a, b in zip(es, es[1:])), 12))


def bias_slope(cell_e, weights_over_cells) -> float:
    """Σ_k a_k (e_k + 1): how a per-wave violation accumulates into the aggregated effect."""
    return float(sum(a * (e + 1) for a, e in zip(weights_over_cells, cell_e)))


def breakdown(estimate: float, se: float, z_crit: float, kind: str, margin: float | None, step: float,
              slope: float, sd: float) -> float:
    """The violation size at which the verdict would change (see the module docstring).

    kind 'significant': the bias that pulls the CI (at the adjusted level z_crit) onto zero;
    kind 'equivalent': the bias that pushes the 90% CI past the equivalence margin. Returned as
    M̄ (relative magnitudes) when `step` is finite, else as SD per wave of a linear trend.

    Examples
    --------
    >>> breakdown(0.5, 0.1, 1.96, "significant", None, 0.1, 2.0, 1.0)   # (0.5 − 0.196) / (0.1 · 2)
    1.52
    """
    if not (np.isfinite(estimate) and np.isfinite(se) and slope > 0):
        return float("nan")
    if kind == "significant":
        room = abs(estimate) - z_crit * se
    elif kind == "equivalent" and margin is not None:
        room = margin - abs(estimate) - stats.norm.ppf(0.95) * se
    else:
        return float("nan")
    room = max(room, 0.0)
    if np.isfinite(step) and step > 0:
        return float(round(room / (step * slope), 10))
    if np.isfinite(step):   # pre-trends exactly flat: any violation relative to them is infinite
        return float("inf") if room > 0 else 0.0
    return float(room / slope / sd) if sd > 0 else float("nan")


#: M̄ below this overturns a significant verdict when the pre-trend test also rejects.
BREAKDOWN_BENCHMARK = 1.0


def sensitivity_overturns(verdict: str, kind: str, breakdown_value: float, pretrend_testable: bool,
                          pretrend_p: float) -> bool:
    """Whether the sensitivity check turns a significant verdict into 'inconclusive'.

    Only when the data show a violation (the pre-trend test rejects at 5%) and a post-start
    violation of the same size (M̄ < 1, relative magnitudes) would explain the result. A noisy
    pre-period alone does not overturn: the largest estimated pre-step is mostly noise when
    the pre-trend test passes, and M̄ < 1 is then common even for real effects (simulated:
    0.95 → 0.23 'supported' for a planted +0.4 SD under parallel trends).

    Examples
    --------
    >>> sensitivity_overturns("supported", "relative_magnitude", 0.4, True, 0.01)
    True
    >>> sensitivity_overturns("supported", "relative_magnitude", 0.4, True, 0.30)   # pre-trends pass
    False
    >>> sensitivity_overturns("no_effect", "relative_magnitude", 0.4, True, 0.01)
    False
    """
    return bool(verdict in ("supported", "contradicted") and kind == "relative_magnitude" and pretrend_testable
                and np.isfinite(pretrend_p) and pretrend_p < 0.05 and np.isfinite(breakdown_value)
                and breakdown_value < BREAKDOWN_BENCHMARK)
