"""SQL behind the exploratory topic screen: which topics each participant discussed, per role."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.store.database import Database


def discussed(db: Database, before: dt.date | None) -> pd.DataFrame:
    """One row per (employee, role, topic) discussed in a session of their pairs before `before`
    (None: any date). Read inside `released()` by the caller, so withheld sessions do not count."""
    cut = "" if before is None else "WHERE s.date < ?"
    params = [] if before is None else [before, before]
    return db.query_df(
        f"""SELECT DISTINCT employee_id, role, topic FROM (
                SELECT p.mentor_id AS employee_id, 'mentors' AS role, unnest(s.topics) AS topic
                FROM sessions s JOIN pairs p USING (pair_id) {cut}
                UNION ALL
                SELECT p.mentee_id, 'mentees', unnest(s.topics)
                FROM sessions s JOIN pairs p USING (pair_id) {cut})
            WHERE topic IS NOT NULL AND trim(topic) <> ''
            ORDER BY 1, 2, 3""", params)
