"""The dashboard's previous per-view SQL (before the compact tables of issue #11) and the activity
view's previous pandas grouping of one row per pair, kept for `tests/test_page_fast_paths.py` to
compare the fast paths with: each reads the released views (sessions, metric values, rosters)
directly, as the pages did. They are the code the fast paths replaced, run inside `released()`
like them, not an independent derivation (the test adds a few of those)."""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import numpy as np
import pandas as pd

from analytics import privacy
from analytics.filters import Filters
from analytics.store.dashboard import GROUP_COLUMNS, _cohort_clause, latest_date
from analytics.store.database import Database
from analytics.views import INACTIVE_DAYS


def filter_values(db: Database) -> dict[str, list[str]]:
    """The values each roster filter may take, sorted: every released label of today's groups,
    of any wave, any month and the data date (so a department that no longer exists appears)."""
    out: dict[str, list[str]] = {}
    for col in GROUP_COLUMNS:
        out[col] = [r[0] for r in db.query(
            f"SELECT {col} FROM employees WHERE {col} IS NOT NULL UNION SELECT {col} FROM wave_roster "
            f"WHERE {col} IS NOT NULL UNION SELECT {col} FROM month_roster WHERE {col} IS NOT NULL "
            f"UNION SELECT {col} FROM roster_now WHERE {col} IS NOT NULL ORDER BY 1").rows]
    out["cohort"] = [r[0] for r in db.query(
        "SELECT DISTINCT cohort FROM pairs WHERE cohort IS NOT NULL ORDER BY 1").rows]
    return out


def selection_size(db: Database, where: str, params: list) -> int:
    """People a selection holds in any period (`where` over `e`): today's groups, any survey wave,
    any metrics month or the data date, so a department that exists only in the past is not an
    empty view.
    Only compared with k (`privacy.check_selection`), never shown."""
    return int(db.query(
        f"""SELECT count(*) FROM (SELECT employee_id FROM employees e WHERE {where}
                                 UNION SELECT employee_id FROM wave_roster e WHERE {where}
                                 UNION SELECT employee_id FROM month_roster e WHERE {where}
                                 UNION SELECT employee_id FROM roster_now e WHERE {where})""",
        [*params, *params, *params, *params]).scalar())


def _pairs_cte(where: str, cohorts: Sequence[str]) -> tuple[str, list]:
    """Pairs whose mentee is in the selection (and in the chosen cohorts).

    A pair belongs to its mentee's reporting group (see `analytics.store.released`): "pairs with
    either member in the selection" would make two views differ by pairs of a mentor group and a
    mentee group together, which can be a single pair.
    """
    c_clause, c_params = _cohort_clause(cohorts)
    return (f"""sel AS (SELECT employee_id FROM employees e WHERE {where}),
        prs AS (SELECT p.* FROM pairs p WHERE {c_clause}
                AND p.mentee_id IN (SELECT employee_id FROM sel)),
        ses AS (SELECT s.* FROM sessions s WHERE s.pair_id IN (SELECT pair_id FROM prs))""", c_params)


def sessions_by_month(db: Database, where: str, params: list, cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """Per month and format: sessions, pairs meeting, people in those pairs, total minutes."""
    cte, cp = _pairs_cte(where, cohorts)
    return db.query_df(
        f"""WITH {cte}
        SELECT date_trunc('month', s.date)::DATE AS month, s.format, count(*) AS sessions,
               count(DISTINCT s.pair_id) AS pairs, 2 * count(DISTINCT s.pair_id) AS n,
               sum(s.duration_min) AS minutes
        FROM ses s GROUP BY ALL ORDER BY month, s.format""",
        [*params, *cp])


def pair_activity(db: Database, where: str, params: list, as_of: dt.date, inactive_days: int = 60,
                  cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """One row per pair (no identities): cohort, the mentee's reporting group (block), sessions,
    minutes, days since last session, whether it is ongoing and inactive, mean mentor and mentee
    ratings."""
    cte, cp = _pairs_cte(where, cohorts)
    return db.query_df(
        f"""WITH {cte}
        SELECT p.cohort, any_value(e.block_id) AS block, count(s.session_id) AS sessions, coalesce(sum(s.duration_min), 0) AS minutes,
               date_diff('day', coalesce(max(s.date), p.start_date), ?::DATE) AS days_since_last,
               (p.end_date IS NULL OR p.end_date >= ?::DATE) AS ongoing,
               avg(s.mentor_rating) AS mentor_rating, avg(s.mentee_rating) AS mentee_rating,
               count(s.mentor_rating) AS mentor_ratings, count(s.mentee_rating) AS mentee_ratings
        FROM prs p LEFT JOIN ses s ON s.pair_id = p.pair_id AND s.date <= ?::DATE
        JOIN employees e ON e.employee_id = p.mentee_id
        WHERE p.start_date <= ?::DATE
        GROUP BY p.pair_id, p.cohort, p.start_date, p.end_date""",
        [*params, *cp, as_of, as_of, as_of, as_of]).assign(
            inactive=lambda d: d["ongoing"] & (d["days_since_last"] > inactive_days))


def session_mix(db: Database, where: str, params: list, cohorts: Sequence[str] = (), min_pairs: int = 1) -> pd.DataFrame:
    """Sessions by kind ('format', 'channel', 'topic') and value, with the pairs involved.

    Counted per reporting group of the mentee first: a (group, kind, value) cell with fewer than
    `min_pairs` pairs is left out, so two views never differ by a handful of pairs' topics.
    """
    cte, cp = _pairs_cte(where, cohorts)
    return db.query_df(
        f"""WITH {cte},
        sb AS (SELECT s.*, e.block_id FROM ses s JOIN prs p ON p.pair_id = s.pair_id
               JOIN employees e ON e.employee_id = p.mentee_id),
        cells AS (
          SELECT block_id, 'format' AS kind, format AS value, count(*) AS sessions, count(DISTINCT pair_id) AS pairs
            FROM sb GROUP BY ALL
          UNION ALL
          SELECT block_id, 'channel', coalesce(channel, 'not recorded'), count(*), count(DISTINCT pair_id)
            FROM sb GROUP BY ALL
          UNION ALL
          SELECT block_id, 'topic', topic, count(*), count(DISTINCT pair_id)
            FROM (SELECT block_id, pair_id, unnest(topics) AS topic FROM sb) GROUP BY ALL)
        SELECT kind, value, sum(sessions)::BIGINT AS sessions, sum(pairs)::BIGINT AS pairs
        FROM cells WHERE pairs >= ? GROUP BY ALL
        ORDER BY kind, sessions DESC""",
        [*params, *cp, int(min_pairs)])


def metric_defs(db: Database) -> pd.DataFrame:
    return db.query_df(
        "SELECT DISTINCT m.metric, coalesce(d.higher_is_better, TRUE) AS higher_is_better, d.unit "
        "FROM metrics m LEFT JOIN metric_defs d USING (metric) ORDER BY 1")


def metric_by_period(db: Database, where: str, params: list, cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """Per metric, month and participant flag: n people, mean, sd (`where` over `month_roster`
    `e`: attributes in that month; people not employed then do not count)."""
    c_clause, c_params = _cohort_clause(cohorts)
    return db.query_df(
        f"""
        WITH part AS (SELECT mentor_id AS employee_id FROM pairs p WHERE {c_clause}
                      UNION SELECT mentee_id FROM pairs p WHERE {c_clause})
        SELECT m.metric, m.period, e.employee_id IN (SELECT employee_id FROM part) AS participant,
               count(DISTINCT m.employee_id) AS n, avg(m.value) AS mean, stddev_samp(m.value) AS sd
        FROM metrics m JOIN month_roster e ON e.period = m.period AND e.employee_id = m.employee_id
        WHERE m.value IS NOT NULL AND {where}
        GROUP BY ALL ORDER BY m.metric, m.period""",
        [*c_params, *c_params, *params])


def metric_before_after(db: Database, where: str, params: list, cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """Per metric, participant flag and phase (before/after): n values (person-months), their mean, sd.

    A participant's phase is relative to the start of their first pair; everyone else is split
    at the earliest pair start among the chosen cohorts, so both groups share the calendar.
    A month counts when the person was in the selection in that month (`month_roster`). The unit
    is a released value, one person-month: every figure is then a sum over released (group,
    month, metric) cells, so two views — or two pinned versions of one view — differ by whole
    cells, never by part of a person. (A mean of person means did not: a late value for someone
    with no other month in the phase added one whole person to the figure between versions.)
    """
    c_clause, c_params = _cohort_clause(cohorts)
    return db.query_df(
        f"""
        WITH starts AS (SELECT id AS employee_id, min(start_date) AS start
                        FROM (SELECT mentor_id AS id, start_date FROM pairs p WHERE {c_clause}
                              UNION ALL SELECT mentee_id, start_date FROM pairs p WHERE {c_clause})
                        GROUP BY id),
        cut AS (SELECT min(start) AS first_start FROM starts),
        val AS (
          SELECT m.metric, st.start IS NOT NULL AS participant,
                 CASE WHEN strptime(m.period || '-01', '%Y-%m-%d')::DATE
                           < date_trunc('month', coalesce(st.start, (SELECT first_start FROM cut)))
                      THEN 'before' ELSE 'after' END AS phase,
                 m.value
          FROM metrics m JOIN month_roster e ON e.period = m.period AND e.employee_id = m.employee_id
               LEFT JOIN starts st ON st.employee_id = m.employee_id
          WHERE m.value IS NOT NULL AND {where})
        SELECT metric, participant, phase, count(*) AS n, avg(value) AS mean, stddev_samp(value) AS sd
        FROM val GROUP BY ALL ORDER BY metric, participant DESC, phase DESC""",
        [*c_params, *c_params, *params])


def activity(db: Database, filters: Filters, k: int) -> dict[str, pd.DataFrame]:
    """`analytics.views.activity` as it was (inside `released()`): the pair rows grouped in pandas.

    Sessions per month, dose per pair, session mix, inactive pairs, ratings and cohorts.

    n counts people (two per pair). Ratings are withheld for fewer than `k` raters.
    """
    where, params = filters.employee_where()
    as_of = latest_date(db) or dt.date.today()
    monthly = sessions_by_month(db, where, params, filters.cohort)
    monthly = privacy.suppress(monthly, k, value_cols=["sessions", "pairs", "minutes"], complementary=False)

    pairs = pair_activity(db, where, params, as_of, INACTIVE_DAYS, filters.cohort)
    bins = [0, 1, 3, 6, 10, 15, 10_000]
    labels = ["0", "1–2", "3–5", "6–9", "10–14", "15+"]
    # counted per reporting group first: a (group, band) cell of fewer than k people is left out,
    # so two views never differ by a handful of pairs in one band
    band = pd.cut(pairs["sessions"], bins=bins, labels=labels, right=False)
    cells = pairs.assign(band=band).groupby(["block", "band"], observed=False).size()
    cells = cells[cells * 2 >= k]
    dose = (cells.groupby(level="band", observed=False).sum().reindex(labels, fill_value=0)
            .rename_axis("sessions per pair").reset_index(name="pairs"))
    dose["n"] = dose["pairs"] * 2
    dose = privacy.suppress(dose, k, value_cols=["pairs"], unit="people", complementary=False)

    mix = session_mix(db, where, params, filters.cohort, min_pairs=(k + 1) // 2)
    mix["n"] = mix["pairs"] * 2
    mix = privacy.suppress(mix, k, value_cols=["sessions", "pairs"], complementary=False)

    cohorts = (pairs.groupby("cohort", dropna=False)
               .agg(pairs=("sessions", "size"), sessions=("sessions", "sum"),
                    sessions_per_pair=("sessions", "mean"), median_sessions=("sessions", "median"),
                    hours=("minutes", lambda m: m.sum() / 60), inactive_pairs=("inactive", "sum"),
                    ongoing_pairs=("ongoing", "sum"),
                    mentor_rating=("mentor_rating", "mean"), mentee_rating=("mentee_rating", "mean"),
                    mentor_raters=("mentor_ratings", lambda s: int((s > 0).sum())),
                    mentee_raters=("mentee_ratings", lambda s: int((s > 0).sum())))
               .reset_index())
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
    total_pairs = len(pairs)
    inactive = {"as_of": as_of, "pairs": total_pairs, "ongoing": int(pairs["ongoing"].sum()),
                "inactive": int(pairs["inactive"].sum()), "days": INACTIVE_DAYS}
    if 0 < total_pairs * 2 < k:
        inactive.update(pairs=None, ongoing=None, inactive=None)
    return {"monthly": monthly, "dose": dose, "mix": mix, "cohorts": cohorts.drop(columns=["n"]),
            "ratings": ratings, "inactive": inactive}
