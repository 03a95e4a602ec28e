"""SQL for which survey waves belong to the organisation's programme (and which look foreign).

A survey nobody in the roster answered, or one without an invitation count, cannot give a
response rate: its respondents are not the organisation's people, or its base is unknown. Such
waves must never turn a headline rate into 0 %, nor stretch the wave range back to a test
survey from years before.
"""

from __future__ import annotations

import pandas as pd

from analytics.store.database import Database


def wave_links(db: Database) -> pd.DataFrame:
    """Per wave: opened, closed, invited, respondents, linked respondents (distinct people)."""
    return db.query_df(
        """SELECT w.survey, w.title, w.opened, w.closed, w.invited,
                  count(DISTINCT r.respondent) AS respondents,
                  count(DISTINCT r.employee_id) AS linked
           FROM waves w LEFT JOIN responses r ON r.survey = w.survey
           GROUP BY ALL ORDER BY w.opened NULLS LAST, w.survey""")


def cohort_starts(db: Database, cohorts: list[str]) -> dict[str, object]:
    """Cohort name → the first start_date of its pairs (for a survey's cohort answers)."""
    if not cohorts:
        return {}
    res = db.query("SELECT cohort, min(start_date) FROM pairs WHERE cohort IN (SELECT unnest(?::VARCHAR[])) "
                   "GROUP BY cohort", [list(cohorts)])
    return {r[0]: r[1] for r in res.rows}
