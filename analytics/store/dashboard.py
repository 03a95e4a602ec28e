"""SQL behind the dashboard pages: filter choices, construct scores, programme activity,
objective metrics and data quality.

Every function takes a `Database` and a roster WHERE fragment with its bound parameters
(from `Filters.employee_where`), aggregates in DuckDB and returns a small DataFrame of counts,
means and standard deviations. Grouping columns come only from `GROUP_COLUMNS`.

Who counts when: survey figures read the released `wave_roster` (each person's attributes at
each wave, only people employed then), metric figures `month_roster` (at each month), the
headcount `roster_now` (the roster on the data date) and programme figures `employees` (pairs
and sessions whoever is still employed; a pair belongs to its mentee's group). The WHERE fragment is
applied to whichever of these is aliased `e`, so a filter on department selects the people who
were in that department at that wave or month. These relations exist inside
`analytics.store.released.released()` only, which is where `analytics.views` calls this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

import pandas as pd

from analytics.store import compact
from analytics.store.database import Database, Results

#: Roster columns a page may group by (identifiers never come from user input).
GROUP_COLUMNS: tuple[str, ...] = compact.LABEL_COLUMNS
_WAVES = """
    wv AS (SELECT survey, opened, closed FROM waves
           WHERE (CAST(? AS DATE) IS NULL OR opened >= ?) AND (CAST(? AS DATE) IS NULL OR opened <= ?))
"""


def _group(column: str) -> str:
    if column not in GROUP_COLUMNS:
        raise ValueError(f"cannot group by {column!r}")
    return column


def _wave_params(date_from: dt.date | None, date_to: dt.date | None) -> list:
    return [date_from, date_from, date_to, date_to]


def _cohort_clause(cohorts: Sequence[str], alias: str = "p") -> tuple[str, list]:
    if not cohorts:
        return "TRUE", []
    return f"{alias}.cohort IN ({', '.join('?' * len(cohorts))})", list(cohorts)


# -- filter choices ---------------------------------------------------------------------------------
def filter_values(db: Database) -> dict[str, list[str]]:
    """The values each roster filter may take, sorted: every released label of today's groups,
    of any wave, any month and the data date (so a department that no longer exists appears)."""
    # the labels are collected once per data version (`compact.c_labels`)
    out: dict[str, list[str]] = {col: [] for col in GROUP_COLUMNS}
    for col, value in db.query("SELECT col, value FROM c_labels ORDER BY col, value").rows:
        out[col].append(value)
    out["cohort"] = [r[0] for r in db.query(
        "SELECT DISTINCT cohort FROM pairs WHERE cohort IS NOT NULL ORDER BY 1").rows]
    return out


def waves(db: Database) -> pd.DataFrame:
    """Survey waves in time order: survey, title, opened, closed, invited."""
    return db.query_df("SELECT survey, title, opened, closed, invited FROM waves ORDER BY opened NULLS LAST, survey")


def selection_size(db: Database, where: str, params: list) -> int:
    """People a selection holds in any period (`where` over `e`): today's groups, any survey wave,
    any metrics month or the data date, so a department that exists only in the past is not an
    empty view.
    Only compared with k (`privacy.check_selection`), never shown.

    `compact.c_people` holds each person's distinct label sets over those four rosters, and
    `where` reads only a person's labels and id, so the people it selects in any roster are the
    people with a row there it selects."""
    return int(db.query(f"SELECT count(DISTINCT employee_id) FROM c_people e WHERE {where}", params).scalar())


def unlinked_respondents(db: Database) -> dict[str, int]:
    """Per wave: respondents nobody could link to an employee (organisation-wide; waves with none left out)."""
    from analytics.store.programme import unlinked

    return {s: n for s, n in unlinked(db).items() if n}


# -- survey constructs ------------------------------------------------------------------------------
def _cells(where: str, extra: str = "") -> str:
    """CTE `sel`: the cells (`analytics.store.compact`) of the selection's people at each wave, with
    their labels then.

    `where` (over `wave_roster` `e`: attributes at the wave) and `extra` columns are the same for
    everyone in a cell, so a cell's labels are any member's.
    """
    return f"""sel AS (SELECT c.cell_id, any_value(e.department) AS department, any_value(e.level) AS level,
                       any_value(e.location) AS location, any_value(e.generation) AS generation{extra}
                FROM wave_roster e JOIN c_cell c ON c.survey = e.survey AND c.employee_id = e.employee_id
                WHERE {where} GROUP BY c.cell_id)"""


def construct_stats(db: Database, where: str, params: list, date_from: dt.date | None = None,
                    date_to: dt.date | None = None, by: Sequence[str] = (), participants: bool = False,
                    constructs: Sequence[str] = (), cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """n, mean and sd of construct scores per wave × construct (× `by` columns × participant flag).

    Only people in the selection at that wave count (`where` over `wave_roster` `e`: the subject's
    attributes at the wave; people not employed then are not there). With `participants=True`
    a column `participant` tells mentors/mentees (of `cohorts`, or of any cohort) from everyone
    else — a descriptive split, not a matched comparison. Scores are the person-level scores of
    `compact.SCORES`, read as per-cell sums (`compact.c_scores`) and combined exactly.
    """
    by = [_group(c) for c in by]
    c_clause, c_params = _cohort_clause(cohorts)
    part = (f", bool_or(e.employee_id IN (SELECT mentor_id FROM pairs p WHERE {c_clause} "
            f"UNION SELECT mentee_id FROM pairs p WHERE {c_clause})) AS participant") if participants else ""
    part_params = [*c_params, *c_params] if participants else []
    cons = ""
    cons_params: list = []
    if constructs:
        cons = f"AND s.construct IN ({', '.join('?' * len(constructs))})"
        cons_params = list(constructs)
    keys = ["survey", "opened", "construct", *by, *(["participant"] if participants else [])]
    rows = f"""(SELECT s.survey, wv.opened, s.construct{''.join(f', sel.{c}' for c in by)}
                       {', sel.participant' if participants else ''}, s.n, s.mean, s.m2
                FROM c_scores s JOIN sel ON sel.cell_id = s.cell_id JOIN wv ON wv.survey = s.survey
                WHERE TRUE {cons})"""
    sql = f"""
        WITH {_WAVES}, {_cells(where, part)}
        SELECT * FROM ({compact.combine(rows, keys)})
        ORDER BY opened, construct{''.join(f', {c}' for c in keys[3:])}
    """
    return db.query_df(sql, [*_wave_params(date_from, date_to), *part_params, *params, *cons_params])


def response_rates(db: Database, where: str, params: list, date_from: dt.date | None = None,
                   date_to: dt.date | None = None) -> pd.DataFrame:
    """Per wave: invited, head count of the selection at that wave, respondents (linked to the
    selection at that wave), and respondents nobody could link to an employee (organisation-wide).

    Respondents are counted per cell once per data version (`compact.c_respondents`).
    """
    return db.query_df(
        f"""
        WITH {_WAVES}, emp AS (SELECT survey, employee_id FROM wave_roster e WHERE {where}),
        hc AS (SELECT survey, count(*) AS headcount FROM emp GROUP BY survey),
        cells AS (SELECT DISTINCT c.cell_id FROM c_cell c JOIN emp ON emp.survey = c.survey
                                                         AND emp.employee_id = c.employee_id)
        SELECT w.survey, w.title, w.opened, w.closed, w.invited,
               coalesce((SELECT hc.headcount FROM hc WHERE hc.survey = w.survey), 0)::BIGINT AS headcount,
               coalesce((SELECT sum(rc.respondents) FROM c_respondents rc
                         WHERE rc.survey = w.survey AND rc.cell_id IN (SELECT cell_id FROM cells)), 0)::BIGINT AS respondents,
               coalesce((SELECT u.unlinked FROM c_unlinked u WHERE u.survey = w.survey), 0)::BIGINT AS unlinked
        FROM wv JOIN waves w ON w.survey = wv.survey
        ORDER BY w.opened NULLS LAST, w.survey
        """,
        [*_wave_params(date_from, date_to), *params])


# -- programme activity ---------------------------------------------------------------------------
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


def latest_date(db: Database) -> dt.date | None:
    """The date of the latest data (last session or survey close): "now" for a historical store."""
    return db.query("SELECT greatest((SELECT max(date) FROM sessions), (SELECT max(closed) FROM waves))").scalar()


def _groups(where: str) -> str:
    """Today's reporting groups (`block_id`) holding someone `where` selects (over `employees` `e`).

    The programme tables are kept per group of the pair's mentee and per cohort
    (`compact.c_session_months`, `c_session_mix`, `c_pairs`). A roster filter reads a person's
    group labels only, so it selects whole groups; the cohort filter's clause of
    `Filters.employee_where` ("has a pair in one of the cohorts") holds for the mentee of every
    pair of those cohorts. So "the mentee is in the selection and the pair in the cohorts" is
    "the mentee's group is one of these and the pair in the cohorts", when `where` is the
    `employee_where()` of filters whose cohorts are the ones passed with it.
    """
    return f"SELECT block_id FROM employees e WHERE {where}"


def sessions_by_month(db: Database, where: str, params: list, cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """Per month and format: sessions, pairs meeting, people in those pairs, total minutes.

    Summed over the groups and cohorts of the selection (`compact.c_session_months`); the pairs
    of two groups or two cohorts are different pairs, so their counts add up."""
    c_clause, cp = _cohort_clause(cohorts, "c")
    return db.query_df(
        f"""SELECT month, format, sum(sessions)::BIGINT AS sessions, sum(pairs)::BIGINT AS pairs,
                   (2 * sum(pairs))::BIGINT AS n, sum(minutes) AS minutes
        FROM c_session_months c WHERE {c_clause} AND c.block_id IN ({_groups(where)})
        GROUP BY ALL ORDER BY month, format""",
        [*cp, *params])


def _pair_rows(db: Database, where: str, params: list, as_of: dt.date, inactive_days: int,
               cohorts: Sequence[str]) -> tuple[str, list]:
    """SELECT of one row per pair of the selection (see `pair_activity`) and its parameters.

    Read from the pairs' totals kept once per data version (`compact.c_pairs`), which count every
    released session: the data date (`latest_date`, what the page passes) is on or after all of
    them. An earlier `as_of` counts the sessions up to it from the sessions themselves.
    """
    c_clause, cp = _cohort_clause(cohorts)
    last = db.query("SELECT max(last_date) FROM c_pairs").scalar()
    if last is None or last <= as_of:
        return (f"""SELECT cohort, block, sessions, minutes, days_since_last, ongoing, mentor_rating, mentee_rating,
                   mentor_ratings, mentee_ratings, ongoing AND days_since_last > ? AS inactive
            FROM (SELECT p.cohort, p.block_id AS block, p.sessions, p.minutes,
                         date_diff('day', coalesce(p.last_date, p.start_date), ?::DATE) AS days_since_last,
                         (p.end_date IS NULL OR p.end_date >= ?::DATE) AS ongoing,
                         p.mentor_rating, p.mentee_rating, p.mentor_ratings, p.mentee_ratings
                  FROM c_pairs p
                  WHERE p.start_date <= ?::DATE AND {c_clause}
                    AND p.mentee_id IN (SELECT employee_id FROM employees e WHERE {where}))""",
                [int(inactive_days), as_of, as_of, as_of, *cp, *params])
    cte, cp = _pairs_cte(where, cohorts)
    return (f"""WITH {cte}
        SELECT *, ongoing AND days_since_last > ? AS inactive FROM (
        SELECT p.cohort, any_value(e.block_id) AS block, count(s.session_id) AS sessions, coalesce(sum(s.duration_min), 0) AS minutes,
               date_diff('day', coalesce(max(s.date), p.start_date), ?::DATE) AS days_since_last,
               (p.end_date IS NULL OR p.end_date >= ?::DATE) AS ongoing,
               avg(s.mentor_rating) AS mentor_rating, avg(s.mentee_rating) AS mentee_rating,
               count(s.mentor_rating) AS mentor_ratings, count(s.mentee_rating) AS mentee_ratings
        FROM prs p LEFT JOIN ses s ON s.pair_id = p.pair_id AND s.date <= ?::DATE
        JOIN employees e ON e.employee_id = p.mentee_id
        WHERE p.start_date <= ?::DATE
        GROUP BY p.pair_id, p.cohort, p.start_date, p.end_date)""",
            [*params, *cp, int(inactive_days), as_of, as_of, as_of, as_of])


def pair_activity(db: Database, where: str, params: list, as_of: dt.date, inactive_days: int = 60,
                  cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """One row per pair (no identities): cohort, the mentee's reporting group (block), sessions,
    minutes, days since last session, whether it is ongoing and inactive, mean mentor and mentee
    ratings (`compact.c_pairs`; see `_pair_rows`)."""
    rows, rp = _pair_rows(db, where, params, as_of, inactive_days, cohorts)
    return db.query_df(rows, rp)


def pair_summary(db: Database, where: str, params: list, as_of: dt.date, inactive_days: int = 60,
                 cohorts: Sequence[str] = (), bins: Sequence[int] = ()) -> dict[str, pd.DataFrame]:
    """The activity page's pair figures, aggregated in DuckDB from the rows of `pair_activity`.

    ``cohorts``: per cohort (NULL last) pairs, sessions, sessions_per_pair, median_sessions, hours,
    inactive_pairs, ongoing_pairs, mean mentor and mentee ratings of the pairs' means, and the
    pairs with a rating by each (mentor_raters, mentee_raters). ``dose``: pairs per reporting
    group (block) and band, band ``i`` holding the pairs with ``bins[i] <= sessions < bins[i+1]``
    (`pandas.cut(..., right=False)`; pairs outside every band are left out).
    """
    rows, rp = _pair_rows(db, where, params, as_of, inactive_days, cohorts)
    cohort_table = db.query_df(
        f"""SELECT cohort, count(*) AS pairs, sum(sessions)::BIGINT AS sessions, avg(sessions) AS sessions_per_pair,
                   median(sessions)::DOUBLE AS median_sessions, sum(minutes) / 60 AS hours,
                   count(*) FILTER (WHERE inactive) AS inactive_pairs, count(*) FILTER (WHERE ongoing) AS ongoing_pairs,
                   avg(mentor_rating) AS mentor_rating, avg(mentee_rating) AS mentee_rating,
                   count(*) FILTER (WHERE mentor_ratings > 0) AS mentor_raters,
                   count(*) FILTER (WHERE mentee_ratings > 0) AS mentee_raters
            FROM ({rows}) GROUP BY cohort ORDER BY cohort NULLS LAST""", rp)
    edges = [int(b) for b in bins]
    band = " ".join(f"WHEN sessions >= ? AND sessions < ? THEN {i}" for i in range(len(edges) - 1))
    dose = db.query_df(
        f"""SELECT block, band, count(*) AS pairs
            FROM (SELECT block, CASE {band} END AS band FROM ({rows})) WHERE band IS NOT NULL
            GROUP BY ALL ORDER BY block, band""",
        [*[e for i in range(len(edges) - 1) for e in (edges[i], edges[i + 1])], *rp]) if len(edges) > 1 else \
        pd.DataFrame({"block": [], "band": [], "pairs": []})
    return {"cohorts": cohort_table, "dose": dose}


def session_mix(db: Database, where: str, params: list, cohorts: Sequence[str] = (), min_pairs: int = 1) -> pd.DataFrame:
    """Sessions by kind ('format', 'channel', 'topic') and value, with the pairs involved.

    Counted per reporting group of the mentee first: a (group, kind, value) cell with fewer than
    `min_pairs` pairs is left out, so two views never differ by a handful of pairs' topics. The
    cells are sums over the cohorts of the selection of `compact.c_session_mix` (a pair has one
    cohort, so its distinct pairs add up).
    """
    c_clause, cp = _cohort_clause(cohorts, "c")
    return db.query_df(
        f"""WITH cells AS (
          SELECT block_id, kind, value, sum(sessions) AS sessions, sum(pairs) AS pairs
          FROM c_session_mix c WHERE {c_clause} AND c.block_id IN ({_groups(where)}) GROUP BY ALL)
        SELECT kind, value, sum(sessions)::BIGINT AS sessions, sum(pairs)::BIGINT AS pairs
        FROM cells WHERE pairs >= ? GROUP BY ALL
        ORDER BY kind, sessions DESC""",
        [*cp, *params, int(min_pairs)])


# -- objective metrics --------------------------------------------------------------------------------
def metric_defs(db: Database) -> pd.DataFrame:
    """The metrics with released values (`compact.c_metrics` has one row per person and metric)."""
    return db.query_df(
        "SELECT DISTINCT m.metric, coalesce(d.higher_is_better, TRUE) AS higher_is_better, d.unit "
        "FROM (SELECT DISTINCT metric FROM c_metrics) m LEFT JOIN metric_defs d USING (metric) ORDER BY 1")


def _metric_cells(where: str, keys: str) -> str:
    """n (people), rows, mean and sd of the metric values per `keys` (columns of
    `compact.c_metric_cells`), summed over the month groups `where` (over `month_roster` labels,
    alias `e`; no cohort clause) selects, combined as `compact.combine` does."""
    return f"""WITH cells AS (SELECT * FROM c_metric_cells
                            WHERE block_id IN (SELECT block_id FROM c_month_blocks e WHERE {where})),
        g AS (SELECT *, sum(n * mean) OVER w / sum(n) OVER w AS gmean FROM cells WINDOW w AS (PARTITION BY {keys}))
        SELECT {keys}, sum(people)::BIGINT AS people, sum(n)::BIGINT AS n, any_value(gmean) AS mean,
               CASE WHEN sum(n) > 1 THEN sqrt(sum(m2 + n * (mean - gmean) * (mean - gmean)) / (sum(n) - 1)) END AS sd
        FROM g GROUP BY {keys}"""


def metric_by_period(db: Database, where: str, params: list, cohorts: Sequence[str] = ()) -> pd.DataFrame:
    """Per metric, month and participant flag: n people, mean, sd (`where` over `month_roster`
    `e`: attributes in that month; people not employed then do not count).

    Without a cohort filter this sums the cells kept once per data version
    (`compact.c_metric_cells`: per month group, month, metric and participant), which is exact:
    a roster filter selects whole month groups, and a person is in one group a month."""
    if not cohorts:
        return db.query_df(
            f"""SELECT metric, period, participant, people AS n, mean, sd
            FROM ({_metric_cells(where, "metric, period, participant")}) ORDER BY metric, period""", params)
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
    Without a cohort filter the phases are those of `compact.c_metric_cells`, summed as in
    `metric_by_period`.
    """
    if not cohorts:
        return db.query_df(
            f"""SELECT metric, participant, phase, n, mean, sd
            FROM ({_metric_cells(where, "metric, participant, phase")})
            ORDER BY metric, participant DESC, phase DESC""", params)
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


# -- data quality -------------------------------------------------------------------------------------
def latest_import_id(db: Database) -> int | None:
    return db.query("SELECT max(import_id) FROM imports WHERE status = 'ok'").scalar()


def unmapped_items(db: Database) -> pd.DataFrame:
    """Per wave: items with and without a construct."""
    return db.query_df(
        "SELECT survey, count(*) FILTER (WHERE construct IS NOT NULL) AS mapped, "
        "count(*) FILTER (WHERE construct IS NULL) AS unmapped FROM items GROUP BY ALL ORDER BY survey")


def counts(db: Database, where: str, params: list, as_of: dt.date, cohorts: Sequence[str] = ()) -> Results:
    """Head count, programme participants, active pairs and sessions in the quarter before `as_of`.

    The head count and participants are people employed on the data date, with the attributes
    they had then (`roster_now`); participants are those of them in any pair of the chosen cohorts
    (mentors too). Pairs and sessions are those of `_pairs_cte`, as on the activity page (cohort
    filter included), whether or not their members are still employed.
    """
    cte, cp = _pairs_cte(where, cohorts)
    c_clause, c_params = _cohort_clause(cohorts)
    return db.query(
        f"""
        WITH {cte}, now AS (SELECT employee_id FROM roster_now e WHERE {where})
        SELECT
          (SELECT count(*) FROM now) AS employees,
          (SELECT count(*) FROM now WHERE employee_id IN (SELECT mentor_id FROM pairs p WHERE {c_clause}
             UNION SELECT mentee_id FROM pairs p WHERE {c_clause})) AS participants,
          (SELECT count(*) FROM prs WHERE start_date <= ? AND (end_date IS NULL OR end_date >= ?)) AS active_pairs,
          (SELECT count(*) FROM ses s WHERE s.date > ?::DATE - INTERVAL 91 DAY AND s.date <= ?) AS sessions_quarter
        """,
        [*params, *cp, *params, *c_params, *c_params, as_of, as_of, as_of, as_of],
    )
