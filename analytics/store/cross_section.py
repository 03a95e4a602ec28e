"""SQL for anonymous surveys: construct scores by participation group and wave, as cell aggregates.

A survey without person ids can still say who took part (the participation question, stored in
`participation`). These are the sufficient statistics of a repeated cross-section
difference-in-differences: per wave and group (role and cohort), the respondents' count, mean
construct score and sum of squared deviations. Cells of fewer than `k` respondents never leave
the database. Only answers linked to nobody count: an answer linked to the roster is in the
claims engine's panel (and in the released layer's groups of its person), so counting it here too
would count that person twice (a mixed organisation, issue #10).
"""

from __future__ import annotations

import pandas as pd

from analytics.store.database import Database
from analytics.store.schema import SCORE_SQL

_CELLS = f"""
    WITH scores AS (
        SELECT r.survey, r.respondent, avg({SCORE_SQL}) AS y
        FROM responses r JOIN items i ON i.survey = r.survey AND i.item = r.item
        WHERE i.construct = ? AND r.value IS NOT NULL AND r.employee_id IS NULL
          AND r.survey IN (SELECT DISTINCT survey FROM participation)
        GROUP BY r.survey, r.respondent),
    cells AS (
        SELECT s.survey, coalesce(w.opened, w.closed) AS wave_date, p.role, p.cohort, p.start,
               count(*) AS n, avg(s.y) AS mean,
               coalesce(var_samp(s.y) * (count(*) - 1), 0) AS ss
        FROM scores s
        JOIN participation p ON p.survey = s.survey AND p.respondent = s.respondent
        JOIN waves w ON w.survey = s.survey
        GROUP BY ALL)
"""


def participation_cells(db: Database, construct: str, k: int) -> tuple[pd.DataFrame, int]:
    """(cells with at least `k` respondents, number of smaller cells left out).

    Columns: survey, wave_date, role, cohort, start, n, mean, ss — ordered by wave date.
    """
    cells = db.query_df(_CELLS + "SELECT * FROM cells WHERE n >= ? ORDER BY wave_date NULLS LAST, survey, role, "
                        "cohort NULLS FIRST", [construct, int(k)])
    dropped = db.query(_CELLS + "SELECT count(*) FROM cells WHERE n < ?", [construct, int(k)]).scalar()
    return cells, int(dropped)


def programme_start(db: Database):
    """The first pair's start date: the programme's start when respondents give no cohort."""
    return db.query("SELECT min(start_date) FROM pairs").scalar()


def participation_constructs(db: Database) -> list[str]:
    """Constructs measured by surveys that carry a participation question."""
    return [r[0] for r in db.query(
        "SELECT DISTINCT construct FROM items WHERE construct IS NOT NULL "
        "AND survey IN (SELECT DISTINCT survey FROM participation) ORDER BY 1").rows]


def participation_surveys(db: Database) -> dict[str, tuple[str, ...]]:
    """{construct: the surveys with the participation question and answers linked to nobody that
    measure it}, surveys in wave order (survey ids name waves, never people)."""
    rows = db.query(
        """SELECT i.construct, i.survey FROM items i LEFT JOIN waves w ON w.survey = i.survey
           WHERE i.construct IS NOT NULL AND i.survey IN (SELECT DISTINCT survey FROM participation)
             AND i.survey IN (SELECT DISTINCT survey FROM responses WHERE employee_id IS NULL)
           GROUP BY ALL ORDER BY i.construct, min(coalesce(w.opened, w.closed)) NULLS LAST, i.survey""").rows
    out: dict[str, tuple[str, ...]] = {}
    for construct, survey in rows:
        out[construct] = out.get(construct, ()) + (survey,)
    return out
