"""The anonymity rules that work on small frames: the threshold, small-cell suppression, whole groups.

The guarantee itself comes from `analytics.store.released`: every figure is computed from
released data, in which each table is a union of whole reporting groups of at least
`min_group_size()` people per wave, month or cell, so any difference of two views is again a
union of such groups (docs/PRIVACY.md). What is left here:

* `min_group_size` — the one threshold, $TWOWAY_MIN_GROUP_SIZE (default 5, never below 2;
  set it higher if free-text answers are ever shown: a sentence identifies its author);
* `suppress` — blanks cells of fewer than k *units* where a table counts something other
  than reporting-group members (sessions by topic, pairs by dose band, raters of a cohort);
* `whole_groups` — keeps only whole groups of at least k eligible members in a sample the
  claims engine builds itself (people with baseline and follow-up scores);
* `check_selection` — an empty selection is refused with the reason.

Everything here works on small DataFrames of aggregates; no SQL, no streamlit.
"""

from __future__ import annotations

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


def check_selection(n: int, k: int) -> SelectionCheck:
    """Refuse a selection of fewer than `k` people (with released data: an empty one).

    Examples
    --------
    >>> check_selection(0, 5).ok, check_selection(12, 5)
    (False, SelectionCheck(ok=True, n=12, reason=''))
    """
    if n < k:
        return SelectionCheck(False, int(n), f"This selection has fewer than {k} people, the anonymity threshold.")
    return SelectionCheck(True, int(n))


def whole_groups(frame: pd.DataFrame, k: int, group_col: str | Sequence[str] = "block_id",
                 unit_col: str = "employee_id") -> pd.DataFrame:
    """Keep the rows of groups with at least `k` distinct units; drop the rest entirely.

    A sample that the engine narrows person by person (say, people with a baseline *and* a
    follow-up score) is no longer a union of whole reporting groups; keeping only groups with
    at least `k` eligible members makes it one again, so two samples differ by ≥ k people.

    Examples
    --------
    >>> f = pd.DataFrame({"block_id": [1, 1, 1, 2, 2], "employee_id": list("abcde")})
    >>> whole_groups(f, 3)["employee_id"].tolist()
    ['a', 'b', 'c']
    """
    cols = [group_col] if isinstance(group_col, str) else list(group_col)
    if frame.empty:
        return frame
    size = frame.groupby(cols, dropna=False)[unit_col].transform("nunique")
    return frame[size.to_numpy() >= k]
