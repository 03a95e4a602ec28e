"""SQL for which survey waves belong to the organisation's programme (and which look foreign).

A survey nobody in the roster answered, or one without an invitation count, cannot give a
response rate: its respondents are not the organisation's people, or its base is unknown. Such
waves must never turn a headline rate into 0 %, nor stretch the wave range back to a test
survey from years before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd

from analytics.store.database import Database

_LINKS: OrderedDict = OrderedDict()
_LINKS_LOCK = threading.Lock()


def links_sql(src: str = "") -> str:
    """Per wave: survey, title, opened, closed, invited, respondents, linked, unlinked, over the
    tables of schema `src` (qualified; the search path's when empty). Stored once per data version
    by `analytics.store.compact` (released data) and at publish time (the imported data)."""
    p = f"{src}." if src else ""
    return f"""SELECT w.survey, w.title, w.opened, w.closed, w.invited,
                      count(DISTINCT r.respondent) AS respondents,
                      count(DISTINCT r.employee_id) AS linked,
                      count(DISTINCT r.respondent) FILTER (WHERE r.employee_id IS NULL) AS unlinked
               FROM {p}waves w LEFT JOIN {p}responses r ON r.survey = w.survey
               GROUP BY ALL"""


def _links(db: Database) -> pd.DataFrame:
    from analytics.store import released

    if released.active(db):
        return db.query_df("SELECT * FROM c_waves ORDER BY opened NULLS LAST, survey")
    stored = released.stored_raw(db, "raw_waves")
    return db.query_df(f"SELECT * FROM {stored or '(' + links_sql() + ')'} ORDER BY opened NULLS LAST, survey")


def unlinked(db: Database) -> dict[str, int]:
    """Per wave: respondents nobody could link to an employee, in the data in use."""
    df = _cached(db)
    return dict(zip(df["survey"], df["unlinked"].astype(int)))


def wave_links(db: Database) -> pd.DataFrame:
    """Per wave: survey, title, opened, closed, invited, respondents, linked respondents (distinct people).

    See `_cached` for where it comes from.
    """
    return _cached(db).drop(columns=["unlinked"])


def _cached(db: Database) -> pd.DataFrame:
    """`links_sql` of the data in use.

    A pass over every answer (7 s at 200,000 people) that headline, response rates and the Data
    page's flags all need: stored once per data version (`links_sql`), and kept per (published
    snapshot, released data in use). A snapshot never changes; a store open read-write may, so
    it is read afresh every time. The `unlinked` column counts respondents linked to nobody.
    """
    stack = getattr(db._local, "rel_stack", None)
    token = db.data_token() if db.snapshot is not None else None
    key = (id(db), str(db.path), token, stack[-1] if stack else None)
    with _LINKS_LOCK:
        if token is not None and key in _LINKS:
            _LINKS.move_to_end(key)
            return _LINKS[key].copy()
    df = _links(db)
    if token is None:
        return df
    with _LINKS_LOCK:
        _LINKS[key] = df
        while len(_LINKS) > 16:
            _LINKS.popitem(last=False)
    return df.copy()


def cohort_starts(db: Database, cohorts: list[str]) -> dict[str, object]:
    """Cohort name → the first start_date of its pairs (for a survey's cohort answers)."""
    if not cohorts:
        return {}
    res = db.query("SELECT cohort, min(start_date) FROM pairs WHERE cohort IN (SELECT unnest(?::VARCHAR[])) "
                   "GROUP BY cohort", [list(cohorts)])
    return {r[0]: r[1] for r in res.rows}
