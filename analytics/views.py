"""What each dashboard page shows, as small guarded DataFrames.

Pages call these functions with a `Filters` and the anonymity threshold `k`. Each function
enters `analytics.store.released.released(db, k, filters.as_of)` itself, so every figure is
computed from released data only — whole reporting groups of at least `k` people, and for a
pinned link the data version it names (see docs/PRIVACY.md); no caller can skip that. Frames
keep `suppressed` and `reason` columns (`analytics.privacy.suppress`) for the few counts that
still need a small-cell rule. Means carry 95% t-intervals (scipy).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from analytics import privacy
from analytics.filters import LIST_KEYS, Filters
from analytics.store import Database
from analytics.store import dashboard as sql
from analytics.store.released import active, released
from analytics.vocab import GENERATION_NAMES
from analytics.waves import own_wave_span, own_waves

F = TypeVar("F", bound=Callable)

#: Days without a session after which an ongoing pair counts as inactive.
INACTIVE_DAYS = 60


# -- filters ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FilterOptions:
    """The values each filter may take, and the survey waves in time order."""

    values: dict[str, list[str]]
    waves: pd.DataFrame

    def allowed(self) -> dict[str, list[str]]:
        return {k: self.values.get(k, []) for k in LIST_KEYS}


#: Results of views on published snapshots, most recently used last (see `memo`).
_MEMO: "OrderedDict[tuple, object]" = OrderedDict()
_MEMO_LOCK = threading.Lock()
MEMO_SIZE = 256


def memo(fn: F) -> F:
    """Remember a view's result on a published snapshot, keyed by the snapshot's token.

    A snapshot never changes once published (a new import publishes a new one, with a new
    token), so a second request for the same view, filters and threshold in this process — the
    CLI's or the library's as much as the dashboard's, whose `st.cache_data` sits in front —
    is a dict look-up. The live file and files opened directly are never memoised (a writer
    may change them without a new token), nor are calls inside an outer `released()` block
    (they read that block's release). Callers get a copy, so mutating a result is harmless.
    The key includes the ``TWOWAY_*`` settings, which shape some figures.
    """

    @functools.wraps(fn)
    def wrapper(db: Database, *args, **kwargs):
        if getattr(db, "snapshot", None) is None or active(db):  # inside a release: its own data
            return fn(db, *args, **kwargs)
        try:
            key = (fn.__module__, fn.__qualname__, str(db.path), db.data_token(),
                   tuple(sorted((n, v) for n, v in os.environ.items() if n.startswith("TWOWAY_"))),
                   tuple(a.key() if isinstance(a, Filters) else a for a in args),
                   tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # an unhashable argument: compute
            return fn(db, *args, **kwargs)
        with _MEMO_LOCK:
            if key in _MEMO:
                _MEMO.move_to_end(key)
                return copy.deepcopy(_MEMO[key])
        out = fn(db, *args, **kwargs)
        with _MEMO_LOCK:
            _MEMO[key] = copy.deepcopy(out)
            while len(_MEMO) > MEMO_SIZE:
                _MEMO.popitem(last=False)
        return out

    return wrapper  # type: ignore[return-value]


def guarded(fn: F) -> F:
    """Run a view `fn(db, filters, k, ...)` on the data released for (k, filters.as_of) (memoised
    per published snapshot: `memo`)."""

    @functools.wraps(fn)
    def wrapper(db: Database, filters: Filters, k: int, *args, **kwargs):
        with released(db, privacy.min_group_size(k), filters.as_of):
            return fn(db, filters, privacy.min_group_size(k), *args, **kwargs)

    return memo(wrapper)  # type: ignore[return-value]


@memo
def filter_options(db: Database, k: int | None = None, as_of: int | None = None) -> FilterOptions:
    """The filter values of the released data: reporting-group labels ("Other" where merged), and
    the waves the wave slider offers: those opening within the organisation's own waves' period
    (`analytics.waves.own_wave_span`), so a foreign or test survey from years before or after
    never stretches it; every wave when no wave is linked to the roster (an anonymous survey)."""
    with released(db, privacy.min_group_size(k), as_of):
        waves = sql.waves(db)
        span = own_wave_span(db)
        if span is not None:
            opened = pd.to_datetime(waves["opened"])
            inside = opened.isna() | opened.between(pd.Timestamp(span[0]), pd.Timestamp(span[1]))
            waves = waves[inside.to_numpy()].reset_index(drop=True)
        return FilterOptions(sql.filter_values(db), waves)


@guarded
def check_selection(db: Database, filters: Filters, k: int) -> privacy.SelectionCheck:
    """May this filtered view be shown at all? Only an empty selection is refused: every released
    selection is a union of reporting groups of at least `k` people, and so is the difference
    between any two selections."""
    where, params = filters.employee_where()
    return privacy.check_selection(sql.selection_size(db, where, params), k)


def _t_interval(df: pd.DataFrame) -> pd.DataFrame:
    n = pd.to_numeric(df["n"], errors="coerce").astype(float)
    se = df["sd"].astype(float) / np.sqrt(n)
    with np.errstate(invalid="ignore"):
        q = stats.t.ppf(0.975, np.maximum(n - 1, 1))
    half = np.where(n > 1, q * se, np.nan)
    return df.assign(ci_low=df["mean"] - half, ci_high=df["mean"] + half)


# -- headline -----------------------------------------------------------------------------------
@guarded
def headline(db: Database, filters: Filters, k: int) -> dict:
    """Participants, active pairs, sessions in the last 91 days, latest wave's response rate.

    "Now" is the date of the latest data, so an old store reads the same whenever it is opened.
    Counts of fewer than `k` people are withheld (None) with the reason.
    """
    where, params = filters.employee_where()
    as_of = sql.latest_date(db) or dt.date.today()
    row = sql.counts(db, where, params, as_of, filters.cohort).dicts()[0]
    rates = response_rates(db, filters, k)
    latest = rates[rates["respondents"].notna() & rates["rate"].notna()].tail(1)  # own waves only (see below)
    out = {"as_of": as_of, "employees": row["employees"], "participants": row["participants"],
           "active_pairs": row["active_pairs"], "sessions_quarter": row["sessions_quarter"],
           "response_rate": None, "response_survey": None, "respondents": None, "invited": None,
           "notes": []}
    if not latest.empty:
        r = latest.iloc[0]
        out.update(response_rate=r["rate"], response_survey=r["survey"], respondents=int(r["respondents"]),
                   invited=int(r["invited_selected"]))
    if 0 < row["employees"] < k:
        out.update(employees=None, participants=None, active_pairs=None, sessions_quarter=None)
        out["notes"].append(f"The selection: {privacy.reason_small(k)}.")
    elif 0 < row["participants"] < k:
        # pairs and sessions of a handful of participants would describe those people
        out.update(participants=None, active_pairs=None, sessions_quarter=None)
        out["notes"].append(f"Programme figures: {privacy.reason_small(k, 'participants in this view')}.")
    return out


# -- survey constructs --------------------------------------------------------------------------
@guarded
def construct_trends(db: Database, filters: Filters, k: int, participants: bool = False,
                     constructs: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each construct per wave for the selection (split participants/everyone else if asked).

    Columns: survey, opened, construct, [group], n, mean, sd, ci_low, ci_high, suppressed, reason.
    Both groups are unions of whole reporting groups (role is part of a group's key), so
    neither they nor their difference from another view describe fewer than k people.
    """
    where, params = filters.employee_where()
    df = sql.construct_stats(db, where, params, filters.date_from, filters.date_to,
                             participants=participants, constructs=constructs, cohorts=filters.cohort)
    if participants:
        df["group"] = df.pop("participant").map({True: "participants", False: "everyone else"})
    df = _t_interval(df)
    return privacy.suppress(df, k, value_cols=["mean", "sd", "ci_low", "ci_high"],
                            complementary=False)


@guarded
def construct_heatmap(db: Database, filters: Filters, k: int, group: str, survey: str | None = None) -> pd.DataFrame:
    """Mean of each construct by `group` (department, generation, level, location) in one wave
    (default: the latest wave in the selected range). Cells under `k` people are blanked, and
    so are the cells that would reveal them by subtraction from the construct's total."""
    where, params = filters.employee_where()
    df = sql.construct_stats(db, where, params, filters.date_from, filters.date_to, by=[group],
                             cohorts=filters.cohort)
    if df.empty:
        return df.assign(ci_low=[], ci_high=[], suppressed=[], reason=[])
    if survey is None:
        survey = df.sort_values("opened")["survey"].iloc[-1]
    df = df[df["survey"] == survey].copy()
    df[group] = df[group].fillna("not recorded")
    df = _t_interval(df)
    return privacy.suppress(df, k, value_cols=["mean", "sd", "ci_low", "ci_high"], complementary=False)


@guarded
def group_trend(db: Database, filters: Filters, k: int, group: str = "generation",
                construct: str = "belonging") -> pd.DataFrame:
    """One construct per wave for each value of `group` (the generation gap in belonging, say)."""
    where, params = filters.employee_where()
    df = sql.construct_stats(db, where, params, filters.date_from, filters.date_to, by=[group],
                             constructs=(construct,), cohorts=filters.cohort)
    df[group] = df[group].fillna("not recorded")
    df = _t_interval(df)
    return privacy.suppress(df, k, value_cols=["mean", "sd", "ci_low", "ci_high"], complementary=False)


def generation_gap(trend: pd.DataFrame, young: str = "Gen Z", old: str = "Boomer") -> pd.DataFrame:
    """Per wave: youngest minus oldest generation's mean, where both are shown.

    When `old` is shown in no wave (the anonymity layer merges a small generation into "Other"),
    the oldest generation older than `young` that is shown stands in, so the gap still reads
    "youngest minus oldest shown"; the ``young`` and ``old`` columns say which two were used.

    Examples
    --------
    >>> t = pd.DataFrame({"survey": ["W1"] * 3, "opened": ["2025-01-01"] * 3,
    ...                   "generation": ["Gen Z", "Gen X", "Other"], "mean": [4.0, 3.5, 3.0]})
    >>> generation_gap(t)[["survey", "gap", "young", "old"]].values.tolist()
    [['W1', 0.5, 'Gen Z', 'Gen X']]
    """
    columns = ["survey", "opened", "gap", "young", "old"]
    if trend.empty or "generation" not in trend:
        return pd.DataFrame(columns=columns)
    wide = trend.pivot_table(index=["survey", "opened"], columns="generation", values="mean", dropna=False)
    shown = {g for g in wide.columns if wide[g].notna().any()}
    if old not in shown and young in GENERATION_NAMES:
        older = [g for g in GENERATION_NAMES[:GENERATION_NAMES.index(young)] if g in shown]
        old = older[0] if older else old
    if young not in shown or old not in shown:
        return pd.DataFrame(columns=columns)
    gap = (wide[young] - wide[old]).rename("gap").reset_index().dropna()
    return gap.assign(young=young, old=old)[columns]


@guarded
def belonging_gap(db: Database, filters: Filters, k: int, young: str = "Gen Z", old: str = "Boomer") -> pd.DataFrame:
    """Per wave: belonging of the youngest minus the oldest generation shown (both groups guarded)."""
    return generation_gap(group_trend(db, filters, k, "generation", "belonging"), young, old)


@guarded
def response_rates(db: Database, filters: Filters, k: int) -> pd.DataFrame:
    """Per wave: respondents in the selection, the invited base and the rate (None for a wave
    with no respondent linked to the roster: `analytics.waves.own_waves`).

    With no filters the invited count of the wave is the base; with filters it is the
    selection's head count (the survey tool does not say whom it invited by department).
    """
    where, params = filters.employee_where()
    df = sql.response_rates(db, where, params, filters.date_from, filters.date_to)
    base = df["invited"] if filters.is_empty() else df["headcount"]
    df["invited_selected"] = base.where(base.notna(), df["headcount"])
    df["rate"] = df["respondents"] / df["invited_selected"].replace(0, np.nan)
    # a wave nobody in the roster answered (foreign, test, anonymous) is "not linked", never a 0 % rate
    df["rate"] = df["rate"].where(df["survey"].isin(own_waves(db)))
    df["n"] = df["respondents"]
    return privacy.suppress(df, k, n_col="n", value_cols=["respondents", "rate"], complementary=False)


# -- engagement vs comparison (the overview chart) ----------------------------------------------
@guarded
def engagement_comparison(db: Database, filters: Filters, k: int) -> tuple[pd.DataFrame, str]:
    """Engagement per wave, participants vs a comparison group, and which comparison it is.

    The matched comparison comes from the claims engine; if it is unavailable the split is
    participants vs everyone else (unmatched), and the label says so.
    """
    try:
        from analytics.claims import claim_detail

        trends = claim_detail(db, "engagement", filters, min_group=k)["trends"]
        if trends is not None and not trends.empty:
            trends = trends.rename(columns={"wave": "survey", "wave_date": "opened"}).copy()
            trends["group"] = trends["group"].replace({"comparison": "matched comparison"})
            return (privacy.suppress(trends, k, value_cols=["mean", "ci_low", "ci_high"], complementary=False),
                    "matched comparison group (claims engine)")
    except ImportError:
        pass
    df = construct_trends(db, filters, k, participants=True, constructs=("engagement",))
    return df, "everyone else in the selection (unmatched: participants chose to join)"


# -- programme activity ------------------------------------------------------------------------
@guarded
def activity(db: Database, filters: Filters, k: int) -> dict[str, pd.DataFrame]:
    """Sessions per month, dose per pair, session mix, inactive pairs, ratings and cohorts.

    n counts people (two per pair). Ratings are withheld for fewer than `k` raters.
    """
    where, params = filters.employee_where()
    as_of = sql.latest_date(db) or dt.date.today()
    monthly = sql.sessions_by_month(db, where, params, filters.cohort)
    monthly = privacy.suppress(monthly, k, value_cols=["sessions", "pairs", "minutes"], complementary=False)

    bins = [0, 1, 3, 6, 10, 15, 10_000]
    labels = ["0", "1–2", "3–5", "6–9", "10–14", "15+"]
    # the pair figures are aggregated in DuckDB (`sql.pair_summary`), one row per pair never leaves it
    summary = sql.pair_summary(db, where, params, as_of, INACTIVE_DAYS, filters.cohort, bins)
    # counted per reporting group first: a (group, band) cell of fewer than k people is left out,
    # so two views never differ by a handful of pairs in one band
    cells = summary["dose"]
    cells = cells[cells["pairs"] * 2 >= k]
    per_band = cells.groupby("band")["pairs"].sum()
    dose = pd.DataFrame({"sessions per pair": labels,
                         "pairs": [int(per_band.get(i, 0)) for i in range(len(labels))]})
    dose["n"] = dose["pairs"] * 2
    dose = privacy.suppress(dose, k, value_cols=["pairs"], unit="people", complementary=False)

    mix = sql.session_mix(db, where, params, filters.cohort, min_pairs=(k + 1) // 2)
    mix["n"] = mix["pairs"] * 2
    mix = privacy.suppress(mix, k, value_cols=["sessions", "pairs"], complementary=False)

    cohorts = summary["cohorts"]
    total_pairs = int(cohorts["pairs"].sum())
    ongoing, inactive_pairs = int(cohorts["ongoing_pairs"].sum()), int(cohorts["inactive_pairs"].sum())
    cohorts["cohort"] = cohorts["cohort"].fillna("no cohort")
    cohorts["n"] = cohorts["pairs"] * 2
    cohorts = privacy.suppress(cohorts, k, value_cols=["pairs", "sessions", "sessions_per_pair", "median_sessions",
                                                       "hours", "inactive_pairs", "ongoing_pairs",
                                                       "mentor_rating", "mentee_rating"])
    for who in ("mentor", "mentee"):
        few = cohorts[f"{who}_raters"] < k
        cohorts.loc[few, f"{who}_rating"] = np.nan
    ratings = cohorts.melt(id_vars=["cohort", "suppressed", "reason"], value_vars=["mentor_rating", "mentee_rating"],
                           var_name="rated_by", value_name="rating")
    ratings["rated_by"] = ratings["rated_by"].str.replace("_rating", "s", regex=False)
    raters = cohorts.melt(id_vars=["cohort"], value_vars=["mentor_raters", "mentee_raters"],
                          var_name="rated_by", value_name="raters")
    raters["rated_by"] = raters["rated_by"].str.replace("_raters", "s", regex=False)
    ratings = ratings.merge(raters, on=["cohort", "rated_by"])
    ratings.loc[ratings["rating"].isna() & ~ratings["suppressed"] & (ratings["raters"] < k), "reason"] = \
        privacy.reason_small(k, "raters")
    inactive = {"as_of": as_of, "pairs": total_pairs, "ongoing": ongoing, "inactive": inactive_pairs,
                "days": INACTIVE_DAYS}
    if 0 < total_pairs * 2 < k:
        inactive.update(pairs=None, ongoing=None, inactive=None)
    return {"monthly": monthly, "dose": dose, "mix": mix, "cohorts": cohorts.drop(columns=["n"]),
            "ratings": ratings, "inactive": inactive}


# -- productivity ------------------------------------------------------------------------------
@guarded
def productivity(db: Database, filters: Filters, k: int) -> dict[str, pd.DataFrame]:
    """Each objective metric per month and before/after, participants vs everyone else."""
    where, params = filters.employee_where()
    defs = sql.metric_defs(db)
    label = {True: "participants", False: "everyone else"}
    by_period = sql.metric_by_period(db, where, params, filters.cohort)
    by_period["group"] = by_period.pop("participant").map(label)
    by_period = privacy.suppress(_t_interval(by_period), k, value_cols=["mean", "sd", "ci_low", "ci_high"],
                                 complementary=False)
    before_after = sql.metric_before_after(db, where, params, filters.cohort)
    before_after["group"] = before_after.pop("participant").map(label)
    # no interval: the months of one person are not independent draws (the productivity claim
    # gives the effect with its 95% CI); the columns stay so tables and charts keep their shape
    before_after = before_after.assign(ci_low=np.nan, ci_high=np.nan)
    before_after = privacy.suppress(before_after, k, value_cols=["mean", "sd", "ci_low", "ci_high"],
                                    complementary=False)
    return {"defs": defs, "by_period": by_period, "before_after": before_after}


# -- data quality --------------------------------------------------------------------------------
@memo
def data_quality(db: Database, filters: Filters, k: int) -> dict[str, pd.DataFrame]:
    """Response rates per wave, unlinked respondents, item mapping and import history.

    Respondents nobody could link to an employee belong to no reporting group, so they are not
    in the released data; their organisation-wide count per wave (the same in every view) is
    read first, from the imported data, as a data-quality fact.
    """
    from analytics.store.imports import history

    unlinked = sql.unlinked_respondents(db)
    with released(db, privacy.min_group_size(k), filters.as_of):
        rates = response_rates(db, filters, k)
        rates["unlinked"] = rates["survey"].map(unlinked).fillna(0).astype(int)
        return {"rates": rates, "items": sql.unmapped_items(db), "imports": history(db)}


@guarded
def reliability(db: Database, filters: Filters, k: int) -> pd.DataFrame:
    """Cronbach's alpha per construct on released answers; alphas of fewer than `k` answers blanked.

    Columns: construct, n_items, n, alpha, flag (alpha < 0.6), alpha_min (the worst wave), n_waves.
    Alpha is computed per wave on complete answers (items may differ between waves) and averaged
    over waves weighted by respondents. The variances come from sums aggregated in DuckDB once
    per data version (`analytics.store.quality`), so a filtered view costs no pass over the answers.
    """
    from analytics.claims.scores import alpha_table
    from analytics.store import quality

    table = alpha_table(quality.item_variances(db, filters))
    values = [c for c in table.columns if c not in ("construct", "n", "n_items", "n_waves", "flag")]
    return privacy.suppress(table, k, value_cols=values, complementary=False)
