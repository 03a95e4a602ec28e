"""SQL for the headline figures on the home page."""

from __future__ import annotations

import datetime as dt

from analytics.store.database import Database, Results
from analytics.vocab import generation_sql  # noqa: F401  (documented cut-offs live in vocab)

#: Grouping columns a caller may ask for (identifiers never come from user input).
GROUP_COLUMNS = ("department", "level", "location", "generation")


def counts(db: Database, where: str, params: list, as_of: dt.date) -> Results:
    """Head count, programme participants, active pairs and sessions in the quarter before `as_of`."""
    return db.query(
        f"""
        WITH emp AS (SELECT employee_id FROM employees e WHERE {where}),
        prs AS (SELECT * FROM pairs
                WHERE mentor_id IN (SELECT employee_id FROM emp) OR mentee_id IN (SELECT employee_id FROM emp))
        SELECT
          (SELECT count(*) FROM emp) AS employees,
          (SELECT count(DISTINCT id) FROM (SELECT mentor_id AS id FROM prs UNION ALL SELECT mentee_id FROM prs)
             WHERE id IN (SELECT employee_id FROM emp)) AS participants,
          (SELECT count(*) FROM prs WHERE start_date <= ? AND (end_date IS NULL OR end_date >= ?)) AS active_pairs,
          (SELECT count(*) FROM sessions s WHERE s.pair_id IN (SELECT pair_id FROM prs)
             AND s.date > ?::DATE - INTERVAL 91 DAY AND s.date <= ?) AS sessions_quarter
        """,
        [*params, as_of, as_of, as_of, as_of],
    )


def latest_activity_date(db: Database) -> dt.date | None:
    return db.query(
        "SELECT greatest((SELECT max(date) FROM sessions), (SELECT max(closed) FROM waves))"
    ).scalar()


def response_rates(db: Database, where: str, params: list) -> Results:
    """Respondents and invitees per wave, for the selected people (invited = roster head count)."""
    return db.query(
        f"""
        WITH emp AS (SELECT employee_id FROM employees e WHERE {where})
        SELECT w.survey, w.opened, w.invited,
               count(DISTINCT r.respondent) AS respondents,
               count(DISTINCT r.employee_id) AS linked,
               (SELECT count(*) FROM emp) AS selected_headcount
        FROM waves w LEFT JOIN responses r ON r.survey = w.survey
             AND (r.employee_id IN (SELECT employee_id FROM emp))
        GROUP BY w.survey, w.opened, w.invited
        ORDER BY w.opened NULLS LAST, w.survey
        """,
        params,
    )


def construct_by_group(db: Database, construct: str, group: str, where: str, params: list) -> Results:
    """Mean construct score (items reverse-coded, per respondent first) by group, latest wave."""
    if group not in GROUP_COLUMNS:
        raise ValueError(f"cannot group by {group!r}")
    return db.query(
        f"""
        WITH latest AS (SELECT w.survey FROM waves w
                        WHERE EXISTS (SELECT 1 FROM items i WHERE i.survey = w.survey AND i.construct = ?)
                        ORDER BY w.opened DESC NULLS LAST LIMIT 1),
        scores AS (
          SELECT r.employee_id,
                 avg(CASE WHEN i.reverse THEN i.scale_min + i.scale_max - r.value ELSE r.value END) AS score
          FROM responses r JOIN items i ON i.survey = r.survey AND i.item = r.item
          WHERE r.survey IN (SELECT survey FROM latest) AND i.construct = ? AND r.value IS NOT NULL
            AND r.employee_id IS NOT NULL
          GROUP BY r.employee_id)
        SELECT e.{group} AS grp, count(*) AS n, avg(s.score) AS mean, stddev_samp(s.score) AS sd,
               (SELECT survey FROM latest) AS survey
        FROM scores s JOIN employees e ON e.employee_id = s.employee_id
        WHERE {where}
        GROUP BY e.{group}
        ORDER BY mean DESC
        """,
        [construct, construct, *params],
    )
