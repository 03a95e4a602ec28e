"""The person × wave panel: built once per database state and filter, reused by every claim and role.

Everything the estimators need sits here as numpy arrays indexed by a person's row number
(`idx`, the employee's position in employee-id order), so populations are boolean masks and
fancy indexing instead of joins. Scores are aggregated in DuckDB (`analytics.store.claims`);
only numbers cross into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.store import claims as q
from analytics.store.released import block_ids
from analytics.vocab import CONSTRUCTS

TENURE_BANDS = (-np.inf, 1, 2, 3, 5, 10, np.inf)
TENURE_LABELS = ("<1y", "1-2y", "2-3y", "3-5y", "5-10y", "10y+")
COVARIATES = ("department", "level", "generation", "tenure_band")
#: What the covariate weights are fitted on: the roster's own values (never shown; docs/PRIVACY.md).
WEIGHT_COVARIATES = ("w_department", "w_level", "w_generation", "tenure_band")


@dataclass(frozen=True)
class MetricPanel:
    """One objective metric: person × month values with its direction from `metric_defs`."""

    name: str
    periods: tuple[str, ...]
    values: np.ndarray            # (n_people, n_months), NaN = no value
    higher_is_better: bool
    unit: str | None


@dataclass(frozen=True)
class Panel:
    """Person × wave scores, roles, start dates and covariates for one filter selection.

    Attributes
    ----------
    waves : DataFrame survey, opened — waves with answers linked to the roster, oldest first.
    roster : DataFrame, one row per employee in idx order (covariates, role starts, `selected`).
    scores : construct -> (n_people, n_waves) array of each person's own score (NaN = no answer);
        'leadership' is the person's rating *of their manager*.
    leadership : (n_people, n_waves) mean leadership rating each person receives from direct reports.
    metrics : the objective metrics.
    doses : DataFrame idx, n_sessions, hours, share_informal.
    """

    filters: Filters
    waves: pd.DataFrame
    roster: pd.DataFrame
    scores: dict
    leadership: np.ndarray
    leadership_raters: np.ndarray
    metrics: tuple[MetricPanel, ...]
    doses: pd.DataFrame
    n_unlinked: int
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_waves(self) -> int:
        return len(self.waves)

    @property
    def n_people(self) -> int:
        return len(self.roster)

    def start(self, role: str) -> pd.Series:
        """Earliest pair start in a role ('mentors', 'mentees'; anything else: either role)."""
        if role in ("mentors", "mentees"):
            return self.roster["mentor_start" if role == "mentors" else "mentee_start"]
        return self.roster[["mentor_start", "mentee_start"]].min(axis=1)


def timing_group(start, wave_dates) -> np.ndarray:
    """Index of the first wave opened on or after each start date (len(waves) if none; inf if no start).

    Examples
    --------
    >>> import datetime as d
    >>> w = [d.date(2025, 1, 15), d.date(2025, 4, 15)]
    >>> timing_group(pd.Series([d.date(2025, 2, 1), None, d.date(2025, 4, 15), d.date(2025, 9, 1)]), w).tolist()
    [1.0, inf, 1.0, 2.0]
    """
    s = pd.to_datetime(pd.Series(start), errors="coerce")
    wd = pd.to_datetime(pd.Series(list(wave_dates))).to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(wd, s.to_numpy(dtype="datetime64[ns]"), side="left").astype(float)
    idx[s.isna().to_numpy()] = np.inf
    return idx


def month_group(start, periods) -> np.ndarray:
    """Index of the first month *after* each start month (the start month itself is neither
    before nor after: people spend part of it in the programme); inf if no start.

    Examples
    --------
    >>> import datetime as d
    >>> month_group(pd.Series([d.date(2025, 2, 10), None]), ["2025-01", "2025-02", "2025-03"]).tolist()
    [2.0, inf]
    """
    s = pd.to_datetime(pd.Series(start), errors="coerce").to_numpy(dtype="datetime64[ns]")
    months = s.astype("datetime64[M]")
    cal = np.array([np.datetime64(p, "M") for p in periods])
    idx = np.searchsorted(cal, months, side="left").astype(float) + 1
    idx[np.isnat(s)] = np.inf
    return idx


def _wide(frame: pd.DataFrame, n: int, t: np.ndarray, column: str, n_cols: int) -> np.ndarray:
    out = np.full((n, n_cols), np.nan)
    out[frame["idx"].to_numpy(int), t] = frame[column].to_numpy(float)
    return out


#: The roster filters: they only mark who is `selected` (by baseline attributes, which are in the
#: roster), so a view filtered by them alone shares every array with the unfiltered panel.
ROSTER_KEYS = ("department", "location", "generation", "level")


def shares_base(filters: Filters) -> bool:
    """True when `filters` changes nothing in the panel but `selected` (see `select`): no cohort
    (it moves the role starts) and no date range (it changes the waves and months)."""
    return not filters.cohort and filters.date_from is None and filters.date_to is None


def base_filters(filters: Filters) -> Filters:
    """The unfiltered view a `shares_base` view is selected from (same pinned version)."""
    return Filters(as_of=filters.as_of)


def select(base: Panel, filters: Filters, keep: tuple = ()) -> Panel:
    """The panel of a roster-filtered view, from the unfiltered panel of the same data.

    `build_panel` covers every employee whatever the filter (raters outside a filter still rate
    the managers inside it; the comparison pools use organisation-wide levels), and a roster
    filter only sets `selected` from the baseline attributes the roster already holds, exactly as
    `store.claims.panel_roster`'s SQL does (``coalesce(e.department IN (…) AND …, FALSE)``). So a
    view such as one department — every Where-page cell, every filtered Claims page — costs no
    query at all once the unfiltered panel is built (2–3 s at 200,000 people). The arrays are
    shared, read-only; the cache starts empty but for the `keep` entries (filter-free data such
    as the outcome histories).

    Examples
    --------
    >>> roster = pd.DataFrame({"department": ["Sales", None, "IT"], "level": ["L1", "L2", "L1"],
    ...                        "location": "X", "generation": "G", "selected": True})
    >>> base = Panel(Filters(), pd.DataFrame(), roster, {}, np.empty((3, 0)), np.empty((3, 0)), (),
    ...              pd.DataFrame(), 0)
    >>> select(base, Filters(level=("L1",), department=("Sales", "HR"))).roster["selected"].tolist()
    [True, False, False]
    """
    if not shares_base(filters):
        raise ValueError("select() takes roster filters only (no cohort, no date range)")
    mask = np.ones(len(base.roster), dtype=bool)
    for key in ROSTER_KEYS:
        values = getattr(filters, key)
        if values:
            mask &= base.roster[key].isin(list(values)).to_numpy(dtype=bool, na_value=False)
    roster = base.roster.copy(deep=False)
    roster["selected"] = mask
    cache = {k: base.cache[k] for k in keep if k in base.cache}
    return replace(base, filters=filters, roster=roster, cache=cache)


def build_panel(db, filters: Filters) -> Panel:
    """Run the panel queries once and lay the results out as arrays (see `Panel`)."""
    q.quiet(db)
    roster = q.panel_roster(db, filters)
    # reporting groups (samples are whole groups: today's block and the block at the person's
    # baseline wave) and the roster's own department, level and generation at baseline for the
    # covariate weights only (released labels merge small groups into "Other",
    # which would make "Other" a marker of participation); see analytics.store.released.block_ids
    roster = roster.merge(block_ids(db), on="employee_id", how="left", validate="one_to_one")
    n = len(roster)
    waves = q.panel_waves(db, filters)
    scores_long = q.panel_scores(db, filters, CONSTRUCTS)
    linked = set(scores_long["survey"].unique())
    n_unlinked = q.unlinked_respondents(db, [s for s in waves["survey"] if s not in linked])
    waves = waves[waves["survey"].isin(linked)].reset_index(drop=True)
    t_of = {s: i for i, s in enumerate(waves["survey"])}
    scores_long = scores_long[scores_long["survey"].isin(t_of)]
    t = scores_long["survey"].map(t_of).to_numpy(int)
    scores = {c: _wide(scores_long, n, t, c, len(waves)) for c in CONSTRUCTS}

    # leadership each manager receives: mean of their direct reports' ratings, per wave, each
    # rating going to the rater's manager at that wave
    rating = scores["leadership"]
    mgr_at = _wide(scores_long, n, t, "manager_idx", len(waves))
    lead_sum = np.zeros((n, len(waves)))
    lead_n = np.zeros((n, len(waves)))
    for k in range(len(waves)):
        ok = np.isfinite(mgr_at[:, k]) & np.isfinite(rating[:, k])
        m = mgr_at[ok, k].astype(int)
        lead_sum[:, k] = np.bincount(m, weights=rating[ok, k], minlength=n)
        lead_n[:, k] = np.bincount(m, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        leadership = np.where(lead_n > 0, lead_sum / np.maximum(lead_n, 1), np.nan)

    ref = pd.Timestamp(waves["opened"].iloc[0]) if len(waves) else pd.Timestamp.today()
    roster["tenure"] = (ref - pd.to_datetime(roster["hire_date"])).dt.days / 365.25
    roster["tenure_band"] = pd.cut(roster["tenure"], TENURE_BANDS, labels=TENURE_LABELS).astype(object)
    roster["selected"] = roster["selected"].astype(bool)
    roster["any_pair"] = roster["any_pair"].astype(bool)

    metrics = []
    periods = q.panel_metric_periods(db, filters)
    if len(periods):
        months = sorted(periods["period"].unique())
        col_of = {p: f"m{k}" for k, p in enumerate(months)}
        wide_all = q.panel_metrics(db, months)
        for name, mp in periods.groupby("metric", sort=True):
            per = tuple(mp["period"])
            wide = wide_all[wide_all["metric"] == name]
            vals = np.full((n, len(per)), np.nan)
            vals[wide["idx"].to_numpy(int)] = wide[[col_of[p] for p in per]].to_numpy(float)
            metrics.append(MetricPanel(name, per, vals, bool(mp["higher_is_better"].iloc[0]),
                                       mp["unit"].iloc[0] if mp["unit"].notna().any() else None))

    until = waves["opened"].iloc[-1] if len(waves) else None
    doses = q.panel_doses(db, until=until)
    return Panel(filters, waves, roster, scores, leadership, lead_n, tuple(metrics), doses, n_unlinked)
