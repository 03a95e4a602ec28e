"""Where it works: each claim's effect in each subgroup of one grouping, with the subgroup rule.

A filtered view is one of many a person can open, so a subgroup's own p-value overstates the
evidence. The rule applied here: **Holm over every claim × every level of the grouping** (the
family is the whole heatmap), so the chance of any false "significant" cell on the page stays
at 5%. Alongside it, Cochran's Q tests per claim whether the subgroups' effects differ at all
(heterogeneity), which is the question a heatmap really asks.

Plug point for the claims engine v2: when `analytics.claims` exposes ``SUBGROUP_RULE`` (the
sentence of its rule for filtered views), the engine has already applied that rule inside each
filtered scorecard, so a cell's ``p_adjusted`` is used as is and the page prints the engine's
sentence: page and CLI state one rule. With ``subgroup_adjust`` as well (a callable taking a
family's p-values), that callable replaces `holm` over the grid. Without either, the rule is
Holm over the grid.

Anonymity: a cell exists only when the filtered view passes the selection check (no group
under the threshold, nothing recoverable by subtraction) and the claim could be estimated;
a refused cell keeps its reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from analytics.filters import Filters

#: Groupings the page offers (the roster dimensions and the programme cohort), with their labels.
DIMENSIONS: dict[str, str] = {"department": "Department", "generation": "Generation", "level": "Level",
                              "location": "Location", "cohort": "Programme cohort", "role": "Role"}
RULE = ("Subgroup rule: Holm's correction over every claim × subgroup on this heatmap, so the chance of any "
        "false 'significant' cell stays at 5%; Cochran's Q tests whether a claim's subgroups differ at all.")
GRID_COLUMNS = ["dimension", "value", "id", "title", "verdict", "effect_size", "es_ci_low", "es_ci_high", "es_se",
                "p_value", "p_adjusted", "n_treated", "n_comparison", "p_subgroup", "significant", "refused"]


def _rule() -> tuple[Callable[[Sequence[float]], np.ndarray] | None, str]:
    """(adjust, sentence): the grid-wide adjustment, or None when the engine's filtered scorecards
    already carry its subgroup rule in ``p_adjusted`` (see module doc)."""
    from analytics import claims

    adjust, text = getattr(claims, "subgroup_adjust", None), getattr(claims, "SUBGROUP_RULE", None)
    if text and callable(adjust):
        return adjust, str(text)
    if text:
        return None, str(text)
    return holm, RULE


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values; NaN stays NaN (statsmodels' multipletests on the finite ones).

    >>> holm([0.01, 0.04, float("nan"), 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def subgroup_filters(filters: Filters, dimension: str, values: Sequence[str]) -> list[tuple[str, Filters]]:
    """One filtered view per level: the current filters with `dimension` set to that one value.

    Levels the current filters already exclude are left out (a view of Sales does not offer a
    Marketing cell).

    >>> [v for v, _ in subgroup_filters(Filters(department=("Sales", "Finance")), "department",
    ...                                 ["Finance", "Marketing", "Sales"])]
    ['Finance', 'Sales']
    """
    if dimension not in DIMENSIONS or dimension == "role":
        raise ValueError(f"no subgroup filter for {dimension!r}")
    chosen = set(getattr(filters, dimension))
    return [(v, replace(filters, **{dimension: (v,)}, notices=())) for v in values if not chosen or v in chosen]


@dataclass(frozen=True)
class Cell:
    """One subgroup's scorecard, or why it may not be shown."""

    value: str
    card: pd.DataFrame | None
    refused: str = ""


def effect_grid(dimension: str, cells: Sequence[Cell]) -> pd.DataFrame:
    """Tidy claim × subgroup effects with the subgroup rule applied.

    `significant` is True when the rule's adjusted p (`p_subgroup`) is below 0.05; refused or
    unestimable cells have NaN effects and the reason in `refused`. With the claims engine's
    `SUBGROUP_RULE`, a filtered view's scorecard already carries the rule in ``p_adjusted``.

    >>> card = pd.DataFrame({"id": ["a", "b"], "title": ["A", "B"], "verdict": ["supported", "no_effect"],
    ...     "effect_size": [0.5, 0.0], "es_ci_low": [0.3, -0.1], "es_ci_high": [0.7, 0.1], "es_se": [0.1, 0.05],
    ...     "p_value": [0.001, 0.9], "p_adjusted": [0.002, 0.9], "n_treated": [40, 40],
    ...     "n_comparison": [100, 100], "reason": ["", ""]})
    >>> g = effect_grid("department", [Cell("Sales", card), Cell("Tiny", None, "fewer than 5 people")])
    >>> g[["value", "id", "p_subgroup", "significant"]].values.tolist()
    [['Sales', 'a', 0.002, True], ['Sales', 'b', 0.9, False], ['Tiny', nan, nan, False]]
    """
    rows: list[dict] = []
    for cell in cells:
        if cell.card is None or cell.refused:
            rows.append({"dimension": dimension, "value": cell.value, "id": None, "title": None,
                         "verdict": None, "refused": cell.refused or "not shown"})
            continue
        for r in cell.card.to_dict("records"):
            ok = r.get("verdict") != "insufficient_data" and _finite(r.get("effect_size"))
            rows.append({"dimension": dimension, "value": cell.value, "id": r["id"], "title": r["title"],
                         "verdict": r.get("verdict"),
                         **{k: (r.get(k) if ok else np.nan) for k in ("effect_size", "es_ci_low", "es_ci_high",
                                                                       "es_se", "p_value", "p_adjusted")},
                         "n_treated": r.get("n_treated"), "n_comparison": r.get("n_comparison"),
                         "refused": "" if ok else (r.get("reason") or "not enough data")})
    grid = pd.DataFrame(rows, columns=GRID_COLUMNS)
    adjust, _ = _rule()
    if adjust is None:  # the engine applied its rule inside each filtered view
        grid["p_subgroup"] = pd.to_numeric(grid["p_adjusted"], errors="coerce")
    else:
        grid["p_subgroup"] = adjust(grid["p_value"].astype(float).to_numpy()) if len(grid) else []
    grid["significant"] = (grid["p_subgroup"] < 0.05).fillna(False).astype(bool)
    return grid


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def heterogeneity(grid: pd.DataFrame) -> pd.DataFrame:
    """Cochran's Q per claim: do its subgroups' standardised effects differ more than chance?

    Q = Σ w (d − d̄)², w = 1/se², d̄ the inverse-variance mean; p from χ² with (levels − 1) df
    (statsmodels' meta-analysis homogeneity test).

    >>> g = pd.DataFrame({"id": ["a", "a"], "title": ["A", "A"], "effect_size": [0.0, 0.6], "es_se": [0.1, 0.1]})
    >>> h = heterogeneity(g)
    >>> round(float(h["q"].iloc[0]), 2), int(h["df"].iloc[0]), bool(h["p_value"].iloc[0] < 0.001)
    (18.0, 1, True)
    """
    out = []
    ok = grid.dropna(subset=["effect_size", "es_se"])
    ok = ok[ok["es_se"] > 0]
    for (cid, title), part in ok.groupby(["id", "title"], sort=False):
        if len(part) < 2:
            continue
        test = combine_effects(part["effect_size"].to_numpy(float),
                               part["es_se"].to_numpy(float) ** 2).test_homogeneity()
        out.append({"id": cid, "title": title, "q": float(test.statistic), "df": int(test.df),
                    "p_value": float(test.pvalue), "levels": len(part)})
    return pd.DataFrame(out, columns=["id", "title", "q", "df", "p_value", "levels"])


def role_grid(card: pd.DataFrame) -> pd.DataFrame:
    """Claim × role effects from the per-role engine's ``by_role`` rows (empty before it lands).

    The roles are estimated in one fit per claim by the engine, with its own Holm family, so the
    engine's adjusted p is used as is.
    """
    rows = []
    if "by_role" in card.columns:
        for r in card.to_dict("records"):
            for role in r.get("by_role") or []:
                ok = _finite(role.get("effect_size"))
                rows.append({"dimension": "role", "value": role.get("role"), "id": r["id"], "title": r["title"],
                             "verdict": role.get("verdict"),
                             **{k: role.get(k, np.nan) if ok else np.nan
                                for k in ("effect_size", "es_ci_low", "es_ci_high", "es_se", "p_value", "p_adjusted")},
                             "n_treated": role.get("n_treated"), "n_comparison": role.get("n_comparison"),
                             "p_subgroup": role.get("p_adjusted", np.nan), "refused": "" if ok else "not enough data"})
    grid = pd.DataFrame(rows, columns=GRID_COLUMNS)
    grid["significant"] = (pd.to_numeric(grid["p_subgroup"]) < 0.05).fillna(False).astype(bool)
    return grid


def rule_text() -> str:
    """The sentence the page and the report print under the heatmap."""
    return _rule()[1]
