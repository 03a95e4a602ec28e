"""The anonymity guard: no chart, table or export shows a group smaller than the threshold.

Three layers, because each one alone leaks:

* **primary suppression** — a cell (a group's mean, count or share) computed from fewer than
  `min_group_size()` people is blanked, with the reason;
* **complementary suppression** — when the cells of one partition (the departments of one wave,
  say) sum to a total that is shown or can be computed elsewhere, one blank cell could be
  recovered by subtraction; so further cells are blanked (smallest first) until at least two
  are blank and the blank ones together hold at least the threshold;
* **selection guard** — a filtered view is refused when it differs from a wider view (the
  same filters with one or more of them removed) by between 1 and threshold-1 people, because
  "Sales" minus "Sales, every level but Director" would otherwise describe Sales directors.

Everything here works on small DataFrames of aggregates; no SQL, no streamlit.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from analytics.vocab import DEFAULT_MIN_GROUP_SIZE

ENV_VAR = "TWOWAY_MIN_GROUP_SIZE"
#: Column names added to every guarded table.
SUPPRESSED, REASON = "suppressed", "reason"


def min_group_size(override: int | None = None) -> int:
    """The anonymity threshold: `override`, else $TWOWAY_MIN_GROUP_SIZE, else 5; never below 2.

    Below 2 a "group" is one person, which no setting should allow.

    Examples
    --------
    >>> min_group_size(7), min_group_size(1)
    (7, 2)
    """
    if override is not None:
        return max(2, int(override))
    raw = os.environ.get(ENV_VAR, "")
    try:
        return max(2, int(raw)) if raw.strip() else DEFAULT_MIN_GROUP_SIZE
    except ValueError:
        return DEFAULT_MIN_GROUP_SIZE


def reason_small(k: int, unit: str = "people") -> str:
    return f"hidden: fewer than {k} {unit}"


def reason_complement(k: int) -> str:
    return f"hidden so that a group of fewer than {k} cannot be worked out by subtraction"


def suppress(
    df: pd.DataFrame,
    k: int,
    n_col: str = "n",
    value_cols: Sequence[str] = (),
    partition: Sequence[str] | None = None,
    unit: str = "people",
    complementary: bool = True,
) -> pd.DataFrame:
    """Blank cells computed from fewer than `k` people, and the cells that would reveal them.

    Parameters
    ----------
    df : one row per cell, with its head count in `n_col`.
    k : the threshold (see `min_group_size`).
    value_cols : columns blanked (set to NaN) in suppressed rows; `n_col` is blanked too.
    partition : columns identifying the sets of cells that add up to a visible total (e.g.
        ``["wave"]`` for departments within a wave). ``None``: the whole frame is one partition.
        Rows with a missing n (already unknown) are ignored.
    complementary : apply complementary suppression inside each partition.

    Returns
    -------
    A copy with columns `suppressed` (bool) and `reason` (str, "" when shown).

    Examples
    --------
    >>> t = pd.DataFrame({"g": list("abcd"), "n": [40, 30, 3, 20], "mean": [3.1, 3.4, 4.9, 3.0]})
    >>> out = suppress(t, 5, value_cols=["mean"])
    >>> list(out["suppressed"])  # c is small; d, the next smallest, hides it from subtraction
    [False, False, True, True]
    """
    out = df.copy()
    n = pd.to_numeric(out[n_col], errors="coerce")
    small = n.notna() & (n > 0) & (n < k)
    out[SUPPRESSED] = small.astype(bool)
    out[REASON] = ""
    out.loc[small, REASON] = reason_small(k, unit)
    if complementary and len(out):
        groups = [out.index] if not partition else [
            idx for _, idx in out.groupby(list(partition), dropna=False, sort=False).groups.items()
        ]
        for idx in groups:
            _complement(out, n, idx, k)
    for col in [*value_cols, n_col]:
        if col in out.columns:
            out[col] = out[col].astype("float64") if out[col].dtype.kind in "iub" else out[col]
            out.loc[out[SUPPRESSED], col] = float("nan")
    return out


def _complement(out: pd.DataFrame, n: pd.Series, idx: Iterable, k: int) -> None:
    idx = [i for i in idx if pd.notna(n.loc[i]) and n.loc[i] > 0]
    hidden = [i for i in idx if out.at[i, SUPPRESSED]]
    if not hidden:
        return
    shown = sorted((i for i in idx if not out.at[i, SUPPRESSED]), key=lambda i: n.loc[i])
    while shown and (len(hidden) < 2 or sum(n.loc[i] for i in hidden) < k):
        i = shown.pop(0)
        out.at[i, SUPPRESSED] = True
        out.at[i, REASON] = reason_complement(k)
        hidden.append(i)


@dataclass(frozen=True)
class SelectionCheck:
    """Whether a filtered view may be shown, and why not."""

    ok: bool
    n: int
    reason: str = ""


def check_selection(cells: pd.DataFrame, restricted: Sequence[str], k: int) -> SelectionCheck:
    """Refuse a selection that is small, or that differs from a wider view by a small group.

    Parameters
    ----------
    cells : one row per combination of "matches filter d" flags, with the columns named in
        `restricted` (bool) and `n` (people). Rows whose flags are all True are the selection.
    restricted : the filter dimensions that are actually restricted in this view.
    k : the threshold.

    A wider view drops any non-empty subset of the restrictions; its head count is the sum over
    rows matching the remaining ones. If ``0 < wider - selected < k`` the difference describes
    fewer than `k` people, so the selection is refused.

    Examples
    --------
    >>> cells = pd.DataFrame({"department": [True, True, False], "level": [True, False, True],
    ...                       "n": [97, 3, 500]})
    >>> check_selection(cells, ["department", "level"], 5).ok
    False
    """
    restricted = list(restricted)
    if cells.empty:
        return SelectionCheck(False, 0, reason_small(k))
    flags = cells[restricted].astype(bool) if restricted else pd.DataFrame(index=cells.index)
    n = pd.to_numeric(cells["n"]).fillna(0)
    selected = int(n[flags.all(axis=1)].sum()) if restricted else int(n.sum())
    if selected < k:
        return SelectionCheck(False, selected, f"This selection has fewer than {k} people, the anonymity threshold.")
    for r in range(1, len(restricted) + 1):
        for dropped in itertools.combinations(restricted, r):
            keep = [d for d in restricted if d not in dropped]
            wider = int(n[flags[keep].all(axis=1)].sum()) if keep else int(n.sum())
            diff = wider - selected
            if 0 < diff < k:
                return SelectionCheck(
                    False, selected,
                    f"This selection differs from the wider view without the {', '.join(dropped)} filter "
                    f"by fewer than {k} people, so comparing the two would reveal a small group. "
                    f"Widen or narrow the {', '.join(dropped)} filter.")
    return SelectionCheck(True, selected)
