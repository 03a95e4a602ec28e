"""SQL behind the evaluation map: whether the session log holds reactions (Kirkpatrick level 1)."""

from __future__ import annotations

from analytics.store.database import Database


def rated_sessions(db: Database) -> int:
    """Sessions with a mentor or mentee rating (read inside `released()` by the caller)."""
    return int(db.query("SELECT count(*) FROM sessions WHERE mentor_rating IS NOT NULL "
                        "OR mentee_rating IS NOT NULL").scalar())
