"""SQL for the claims engine: construct scores per person × wave, programme timing, doses.

Every function aggregates in DuckDB and returns a small-per-row DataFrame (one row per
person-wave-construct at most, never raw response rows). Filters reach SQL only through
`Filters.employee_where()` and bound parameters; construct and column names come from the
fixed vocabulary.
"""

from __future__ import annotations

import pandas as pd

from analytics.filters import Filters, LIST_KEYS
from analytics.store.database import Database
from analytics.store.schema import SCORE_SQL
from analytics.vocab import CONSTRUCTS


def _constructs(constructs) -> list[str]:
    out = [c for c in constructs]
    bad = [c for c in out if c not in CONSTRUCTS]
    if bad or not out:
        raise ValueError(f"unknown construct(s) {bad or constructs!r}")
    return out


def _date_clause(filters: Filters, alias: str = "w") -> tuple[str, list]:
    clauses, params = [f"{alias}.opened IS NOT NULL"], []
    if filters.date_from:
        clauses.append(f"{alias}.opened >= ?")
        params.append(filters.date_from)
    if filters.date_to:
        clauses.append(f"{alias}.opened <= ?")
        params.append(filters.date_to)
    return " AND ".join(clauses), params


def waves(db: Database, filters: Filters = Filters()) -> pd.DataFrame:
    """Survey waves inside the date range, oldest first: survey, opened, n_linked, n_unlinked."""
    dsql, dparams = _date_clause(filters)
    return db.query_df(
        f"""SELECT w.survey, w.opened,
                   count(DISTINCT r.employee_id) AS n_linked,
                   count(DISTINCT r.respondent) FILTER (WHERE r.employee_id IS NULL) AS n_unlinked
            FROM waves w LEFT JOIN responses r ON r.survey = w.survey
            WHERE {dsql}
            GROUP BY w.survey, w.opened
            ORDER BY w.opened, w.survey""",
        dparams,
    )


_SCORE = SCORE_SQL


def person_scores(db: Database, filters: Filters, constructs) -> pd.DataFrame:
    """Construct score of each linked respondent per wave: employee_id, survey, construct, score.

    Score = mean of the person's mapped items in that wave after reverse coding
    (value' = scale_min + scale_max − value). Roster filters select the respondent; the cohort
    filter is applied later by the engine (comparison colleagues must stay in).
    """
    cons = _constructs(constructs)
    where, wparams = filters.employee_where("e", include_cohort=False)
    dsql, dparams = _date_clause(filters)
    marks = ", ".join("?" * len(cons))
    return db.query_df(
        f"""SELECT r.employee_id, r.survey, i.construct, avg({_SCORE}) AS score
            FROM responses r
            JOIN items i ON i.survey = r.survey AND i.item = r.item
            JOIN waves w ON w.survey = r.survey
            JOIN employees e ON e.employee_id = r.employee_id
            WHERE r.value IS NOT NULL AND i.construct IN ({marks}) AND {dsql} AND {where}
            GROUP BY r.employee_id, r.survey, i.construct""",
        cons + dparams + wparams,
    )


def person_scores_wide(db: Database, filters: Filters, constructs) -> pd.DataFrame:
    """The same scores, one row per person × wave with one column per construct (NULL = not answered).

    Wide rows keep the transfer to pandas small on big organisations (one employee id per
    person-wave instead of one per construct). Column names come from the fixed vocabulary.
    """
    cons = _constructs(constructs)
    where, wparams = filters.employee_where("e", include_cohort=False)
    dsql, dparams = _date_clause(filters)
    cols = ", ".join(f"avg(v) FILTER (WHERE construct = '{c}') AS {c}" for c in cons)
    marks = ", ".join("?" * len(cons))
    return db.query_df(
        f"""WITH v AS (
                SELECT r.employee_id, r.survey, i.construct, {_SCORE} AS v
                FROM responses r
                JOIN items i ON i.survey = r.survey AND i.item = r.item
                JOIN waves w ON w.survey = r.survey
                WHERE r.value IS NOT NULL AND r.employee_id IS NOT NULL AND i.construct IN ({marks}) AND {dsql})
            SELECT v.employee_id, v.survey, {cols}
            FROM v JOIN employees e ON e.employee_id = v.employee_id
            WHERE {where}
            GROUP BY v.employee_id, v.survey""",
        cons + dparams + wparams,
    )


# -- the person × wave panel (indexed queries: every row carries the person's row number) ---------
def _roster_cte() -> str:
    """Every employee with a stable row number (idx); the panel covers everyone so that raters
    outside a roster filter still rate the managers inside it."""
    return "sel AS (SELECT employee_id, (row_number() OVER (ORDER BY employee_id) - 1)::INTEGER AS idx FROM employees)"


def panel_waves(db: Database, filters: Filters = Filters()) -> pd.DataFrame:
    """Waves inside the date range, oldest first: survey, opened (t is the row order)."""
    dsql, dparams = _date_clause(filters)
    return db.query_df(f"SELECT w.survey, w.opened FROM waves w WHERE {dsql} ORDER BY w.opened, w.survey", dparams)


def unlinked_respondents(db: Database, surveys) -> int:
    """Respondents without an employee id in these waves (anonymous answers)."""
    surveys = list(surveys)
    if not surveys:
        return 0
    marks = ", ".join("?" * len(surveys))
    return int(db.query(f"SELECT count(DISTINCT survey || '/' || respondent) FROM responses "
                        f"WHERE employee_id IS NULL AND survey IN ({marks})", surveys).scalar() or 0)


def panel_roster(db: Database, filters: Filters) -> pd.DataFrame:
    """One row per employee (idx order) with covariates, manager idx and programme timing by role.

    Department, level, location and generation are the person's at their *baseline*: the first
    survey wave linked to the roster (one with linked answers, `c_panel`) at which they were
    employed (the released `wave_roster`, so call this inside `released()`), or today's for
    someone in no such wave; an anonymous wave is never a baseline, as it is in no panel. `selected` marks the employees passing
    the roster filters by those attributes: a claim follows a person from their baseline, so a
    transfer after it (which the programme itself may have caused) neither moves them into
    another department's sample nor cuts their follow-up. mentor_start / mentee_start are
    the earliest pair start in each role over the selected cohorts (all cohorts without a
    cohort filter); any_pair marks anyone in the programme in any cohort, and mentor_start_all /
    mentee_start_all give their earliest start in each role over every cohort (what a view may not
    change: who the role's participants are organisation-wide); pair_idx numbers the person's earliest pair (to cluster a mentor and mentee of one pair together).
    """
    where, wparams = filters.employee_where("e", include_cohort=False)
    cohort_sql, cparams = _pairs_cohort_where(filters)
    return db.query_df(
        f"""WITH {_roster_cte()},
            pr AS (SELECT *, (row_number() OVER (ORDER BY pair_id) - 1)::INTEGER AS pair_idx FROM pairs {cohort_sql}),
            p AS (
                SELECT mentor_id AS employee_id, 'mentor' AS role, cohort, start_date, pair_idx FROM pr
                UNION ALL
                SELECT mentee_id, 'mentee', cohort, start_date, pair_idx FROM pr),
            agg AS (
                SELECT employee_id,
                       min(start_date) FILTER (WHERE role = 'mentor') AS mentor_start,
                       min(start_date) FILTER (WHERE role = 'mentee') AS mentee_start,
                       arg_min(cohort, start_date) AS cohort,
                       arg_min(pair_idx, start_date) AS pair_idx
                FROM p GROUP BY employee_id),
            anyp AS (SELECT employee_id,
                            min(start_date) FILTER (WHERE role = 'mentor') AS mentor_start_all,
                            min(start_date) FILTER (WHERE role = 'mentee') AS mentee_start_all
                     FROM (SELECT mentor_id AS employee_id, 'mentor' AS role, start_date FROM pairs
                           UNION ALL SELECT mentee_id, 'mentee', start_date FROM pairs)
                     GROUP BY employee_id),
            base AS (SELECT wr.employee_id, wr.department, wr.level, wr.location, wr.generation
                     FROM wave_roster wr JOIN waves w ON w.survey = wr.survey
                     -- waves linked to the roster only: an anonymous wave is never a baseline
                     WHERE wr.survey IN (SELECT survey FROM c_panel)
                     QUALIFY row_number() OVER (PARTITION BY wr.employee_id
                                                ORDER BY w.opened NULLS LAST, w.survey) = 1),
            att AS (SELECT c.employee_id, c.hire_date, c.manager_id,
                           CASE WHEN b.employee_id IS NULL THEN c.department ELSE b.department END AS department,
                           CASE WHEN b.employee_id IS NULL THEN c.level ELSE b.level END AS level,
                           CASE WHEN b.employee_id IS NULL THEN c.location ELSE b.location END AS location,
                           CASE WHEN b.employee_id IS NULL THEN c.generation ELSE b.generation END AS generation
                    FROM employees c LEFT JOIN base b ON b.employee_id = c.employee_id),
            reports AS (
                SELECT manager_id AS employee_id, count(*) AS n_reports
                FROM employees WHERE manager_id IS NOT NULL GROUP BY manager_id)
            SELECT sel.idx, e.employee_id, e.department, e.level, e.location, e.generation, e.hire_date,
                   m.idx AS manager_idx, coalesce(reports.n_reports, 0) AS n_reports,
                   agg.mentor_start, agg.mentee_start, agg.cohort, agg.pair_idx,
                   anyp.employee_id IS NOT NULL AS any_pair,
                   anyp.mentor_start_all, anyp.mentee_start_all,
                   coalesce({where}, FALSE) AS selected
            FROM att e
            JOIN sel ON sel.employee_id = e.employee_id
            LEFT JOIN sel m ON m.employee_id = e.manager_id
            LEFT JOIN agg ON agg.employee_id = e.employee_id
            LEFT JOIN anyp ON anyp.employee_id = e.employee_id
            LEFT JOIN reports ON reports.employee_id = e.employee_id
            ORDER BY sel.idx""",
        cparams + wparams,
    )


def _pairs_cohort_where(filters: Filters) -> tuple[str, list]:
    """"WHERE cohort IN (?, …)" over pairs for the cohort filter ("" without one), with its params."""
    if not filters.cohort:
        return "", []
    return f"WHERE cohort IN ({', '.join('?' * len(filters.cohort))})", list(filters.cohort)


def panel_scores(db: Database, filters: Filters, constructs) -> pd.DataFrame:
    """Construct scores of every linked respondent per wave, by index: idx, survey, one column per
    construct, and manager_idx, the respondent's manager *at that wave* (whom their leadership
    rating is about; from the released `wave_roster`, so call it inside `released()`).

    Scores are the mean of the person's mapped items after reverse coding; NULL = not answered.
    They are aggregated once per data version from the released answers (`compact.c_panel`),
    so pandas receives only numbers. Column names come from the fixed vocabulary.
    """
    cons = _constructs(constructs)
    dsql, dparams = _date_clause(filters)
    return db.query_df(
        f"""WITH {_roster_cte()}
            SELECT sel.idx, a.survey, {', '.join(f'a.{c}' for c in cons)}, m.idx AS manager_idx
            FROM c_panel a JOIN sel ON sel.employee_id = a.employee_id
            LEFT JOIN wave_roster wr ON wr.survey = a.survey AND wr.employee_id = a.employee_id
            LEFT JOIN sel m ON m.employee_id = wr.manager_id
            WHERE a.survey IN (SELECT w.survey FROM waves w WHERE {dsql})""",
        dparams,
    )


def _period_clause(filters: Filters) -> tuple[str, list]:
    """" AND m.period >= ? AND m.period <= ?" for the date range (months as YYYY-MM), with params."""
    clauses, params = [], []
    if filters.date_from:
        clauses.append("m.period >= ?")
        params.append(filters.date_from.strftime("%Y-%m"))
    if filters.date_to:
        clauses.append("m.period <= ?")
        params.append(filters.date_to.strftime("%Y-%m"))
    return "".join(f" AND {c}" for c in clauses), params


def panel_metric_periods(db: Database, filters: Filters) -> pd.DataFrame:
    """Months with metric values inside the date range: metric, period, higher_is_better, unit."""
    extra, params = _period_clause(filters)
    return db.query_df(
        f"""SELECT m.metric, m.period, coalesce(any_value(d.higher_is_better), TRUE) AS higher_is_better,
                   any_value(d.unit) AS unit
            FROM metrics m LEFT JOIN metric_defs d ON d.metric = m.metric
            WHERE m.value IS NOT NULL{extra}
            GROUP BY m.metric, m.period ORDER BY m.metric, m.period""",
        params,
    )


def panel_metrics(db: Database, periods) -> pd.DataFrame:
    """Every metric as a person × month table, one scan: idx, metric, then m0 … m{P−1} for the
    given months (monthly mean; NULL = none)."""
    periods = list(periods)
    # the person × month table built once per data version (`compact.c_metrics`), when it has every month
    col_of = dict(db.query("SELECT period, j FROM c_metric_months").rows) if periods else {}
    if periods and all(p in col_of for p in periods):
        cols = ", ".join(f"m.p{int(col_of[p])} AS m{k}" for k, p in enumerate(periods))
        any_value = " OR ".join(f"m.p{int(col_of[p])} IS NOT NULL" for p in periods)
        return db.query_df(
            f"""WITH {_roster_cte()}
                SELECT sel.idx, m.metric, {cols}
                FROM c_metrics m JOIN sel ON sel.employee_id = m.employee_id
                WHERE {any_value}""")
    cols = ", ".join(f"avg(m.value) FILTER (WHERE m.period = ?)::DOUBLE AS m{k}" for k in range(len(periods)))
    marks = ", ".join("?" * len(periods))
    return db.query_df(
        f"""WITH {_roster_cte()}
            SELECT sel.idx, m.metric, {cols}
            FROM metrics m JOIN sel ON sel.employee_id = m.employee_id
            WHERE m.value IS NOT NULL AND m.period IN ({marks})
            GROUP BY sel.idx, m.metric""",
        periods + periods,
    )


def panel_doses(db: Database, until=None) -> pd.DataFrame:
    """Per programme participant, by index: idx, n_sessions, hours, share_informal over all their pairs.

    Only sessions on or before `until` (the last analysed wave) count: a session after the
    last survey cannot have caused the measured gain.
    """
    date_sql, dparams = ("AND s.date <= ?", [until]) if until is not None else ("", [])
    return db.query_df(
        f"""WITH {_roster_cte()},
            p AS (SELECT pair_id, mentor_id AS employee_id FROM pairs UNION ALL SELECT pair_id, mentee_id FROM pairs)
            SELECT sel.idx,
                   count(s.session_id) AS n_sessions,
                   coalesce(sum(s.duration_min), 0) / 60.0 AS hours,
                   avg(CASE s.format WHEN 'informal' THEN 1.0 WHEN 'scheduled' THEN 0.0 END) AS share_informal
            FROM p
            JOIN sel ON sel.employee_id = p.employee_id
            LEFT JOIN sessions s ON s.pair_id = p.pair_id {date_sql}
            GROUP BY sel.idx""",
        dparams,
    )


def quiet(db: Database) -> None:
    """No progress bar on stderr from long aggregations (the CLI prints JSON there)."""
    db.execute("SET enable_progress_bar = false")


def manager_scores(db: Database, filters: Filters, construct: str = "leadership") -> pd.DataFrame:
    """Leadership of each manager per wave, from their direct reports' answers.

    Returns employee_id (the manager), survey, score (mean of the reports' construct scores)
    and n_raters. Roster filters select the *manager*, who is the unit of the claim.
    """
    (cons,) = _constructs([construct])
    where, wparams = filters.employee_where("m", include_cohort=False)
    dsql, dparams = _date_clause(filters)
    return db.query_df(
        f"""WITH rater AS (
                SELECT r.employee_id, r.survey, avg({_SCORE}) AS score
                FROM responses r
                JOIN items i ON i.survey = r.survey AND i.item = r.item
                JOIN waves w ON w.survey = r.survey
                WHERE r.value IS NOT NULL AND r.employee_id IS NOT NULL AND i.construct = ? AND {dsql}
                GROUP BY r.employee_id, r.survey)
            SELECT m.employee_id, rater.survey, avg(rater.score) AS score, count(*) AS n_raters
            FROM rater
            JOIN employees d ON d.employee_id = rater.employee_id
            JOIN employees m ON m.employee_id = d.manager_id
            WHERE {where}
            GROUP BY m.employee_id, rater.survey""",
        [cons] + dparams + wparams,
    )


def units(db: Database, filters: Filters) -> pd.DataFrame:
    """One row per employee passing the roster filters, with covariates and programme timing.

    Columns: employee_id, department, level, location, generation, hire_date, n_reports,
    first_start / mentor_start / mentee_start (earliest pair start in each role, over the
    selected cohorts when a cohort filter is set), cohort (label of the earliest pair),
    any_pair (in the programme at all, any cohort).
    """
    where, wparams = filters.employee_where("e", include_cohort=False)
    cohort_sql, cparams = _pairs_cohort_where(filters)
    return db.query_df(
        f"""WITH p AS (
                SELECT mentor_id AS employee_id, 'mentor' AS role, cohort, start_date FROM pairs {cohort_sql}
                UNION ALL
                SELECT mentee_id, 'mentee', cohort, start_date FROM pairs {cohort_sql}),
            agg AS (
                SELECT employee_id,
                       min(start_date) AS first_start,
                       min(start_date) FILTER (WHERE role = 'mentor') AS mentor_start,
                       min(start_date) FILTER (WHERE role = 'mentee') AS mentee_start,
                       arg_min(cohort, start_date) AS cohort
                FROM p GROUP BY employee_id),
            anyp AS (
                SELECT mentor_id AS employee_id FROM pairs UNION SELECT mentee_id FROM pairs),
            reports AS (
                SELECT manager_id AS employee_id, count(*) AS n_reports
                FROM employees WHERE manager_id IS NOT NULL GROUP BY manager_id)
            SELECT e.employee_id, e.department, e.level, e.location, e.generation, e.hire_date,
                   coalesce(reports.n_reports, 0) AS n_reports,
                   agg.first_start, agg.mentor_start, agg.mentee_start, agg.cohort,
                   anyp.employee_id IS NOT NULL AS any_pair
            FROM employees e
            LEFT JOIN agg ON agg.employee_id = e.employee_id
            LEFT JOIN anyp ON anyp.employee_id = e.employee_id
            LEFT JOIN reports ON reports.employee_id = e.employee_id
            WHERE {where}""",
        cparams * 2 + wparams,
    )


def session_doses(db: Database, filters: Filters, until=None) -> pd.DataFrame:
    """Per programme participant: n_sessions, hours and share_informal over all their pairs.

    Only sessions on or before `until` (the last analysed wave) count: a session after the
    last survey cannot have caused the measured gain.
    """
    where, wparams = filters.employee_where("e", include_cohort=False)
    date_sql, dparams = ("AND s.date <= ?", [until]) if until is not None else ("", [])
    return db.query_df(
        f"""WITH p AS (SELECT pair_id, mentor_id AS employee_id FROM pairs
                       UNION ALL SELECT pair_id, mentee_id FROM pairs)
            SELECT p.employee_id,
                   count(s.session_id) AS n_sessions,
                   coalesce(sum(s.duration_min), 0) / 60.0 AS hours,
                   avg(CASE s.format WHEN 'informal' THEN 1.0 WHEN 'scheduled' THEN 0.0 END) AS share_informal
            FROM p
            JOIN employees e ON e.employee_id = p.employee_id
            LEFT JOIN sessions s ON s.pair_id = p.pair_id {date_sql}
            WHERE {where}
            GROUP BY p.employee_id""",
        dparams + wparams,
    )


def metric_panel(db: Database, filters: Filters) -> pd.DataFrame:
    """Objective metrics per employee × month: employee_id, metric, period, value, higher_is_better.

    The date range limits months (a month counts when it overlaps the range).
    """
    where, wparams = filters.employee_where("e", include_cohort=False)
    extra, params = _period_clause(filters)
    return db.query_df(
        f"""SELECT m.employee_id, m.metric, m.period, avg(m.value) AS value,
                   coalesce(any_value(d.higher_is_better), TRUE) AS higher_is_better,
                   any_value(d.unit) AS unit
            FROM metrics m
            JOIN employees e ON e.employee_id = m.employee_id
            LEFT JOIN metric_defs d ON d.metric = m.metric
            WHERE m.value IS NOT NULL AND {where}{extra}
            GROUP BY m.employee_id, m.metric, m.period""",
        wparams + params,
    )


def item_variances(db: Database, filters: Filters = Filters()) -> pd.DataFrame:
    """Ingredients of Cronbach's alpha per survey × construct, from complete answers only.

    Returns survey, construct, k (items), n (complete respondents), sum_item_var (sum of the
    items' sample variances) and total_var (sample variance of the sum score), so alpha is
    k/(k−1)·(1 − sum_item_var/total_var) without bringing item rows into pandas.
    A roster filter selects each wave's respondents by their attributes at that wave (the released
    `wave_roster`, so call this inside `released()`). Unlinked (anonymous) answers count only
    when no roster filter is set.
    """
    where, wparams = filters.employee_where("e", include_cohort=True)
    dsql, dparams = _date_clause(filters)
    roster = [getattr(filters, k) for k in LIST_KEYS]
    if any(roster):
        # each wave's respondents with the attributes they had then (issue #10, "Who counts")
        emp_sql = f"JOIN wave_roster e ON e.survey = r.survey AND e.employee_id = r.employee_id AND {where}"
        eparams = wparams
    else:
        emp_sql, eparams = "", []
    return db.query_df(
        f"""WITH k AS (
                SELECT survey, construct, count(*) AS k FROM items
                WHERE construct IS NOT NULL GROUP BY survey, construct),
            v AS (
                SELECT r.survey, r.respondent, i.construct, r.item, avg({_SCORE}) AS value
                FROM responses r
                JOIN items i ON i.survey = r.survey AND i.item = r.item
                JOIN waves w ON w.survey = r.survey
                {emp_sql}
                WHERE r.value IS NOT NULL AND i.construct IS NOT NULL AND {dsql}
                GROUP BY r.survey, r.respondent, i.construct, r.item),
            complete AS (
                SELECT v.survey, v.respondent, v.construct, sum(v.value) AS total
                FROM v JOIN k ON k.survey = v.survey AND k.construct = v.construct
                GROUP BY v.survey, v.respondent, v.construct, k.k
                HAVING count(*) = k.k),
            iv AS (
                SELECT v.survey, v.construct, v.item, var_samp(v.value) AS item_var
                FROM v JOIN complete c
                  ON c.survey = v.survey AND c.respondent = v.respondent AND c.construct = v.construct
                GROUP BY v.survey, v.construct, v.item),
            ivs AS (
                SELECT survey, construct, sum(item_var) AS sum_item_var FROM iv GROUP BY survey, construct),
            tot AS (
                SELECT c.survey, c.construct, count(*) AS n, var_samp(c.total) AS total_var
                FROM complete c GROUP BY c.survey, c.construct)
            SELECT tot.survey, tot.construct, k.k, tot.n, ivs.sum_item_var, tot.total_var
            FROM tot
            JOIN k ON k.survey = tot.survey AND k.construct = tot.construct
            JOIN ivs ON ivs.survey = tot.survey AND ivs.construct = tot.construct
            ORDER BY tot.construct, tot.survey""",
        eparams + dparams,
    )
