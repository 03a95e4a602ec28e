"""SQL behind the saved value inputs (`value_inputs`, append-only) and the programme's size.

Every save is a new version, stamped with the latest successful import at that moment
(`after_import`), so a pinned link (`as_of` import v) reads the newest version saved while
import v was the latest — the inputs its sender saw — at the cost of one indexed look-up.
"""

from __future__ import annotations

import datetime as dt

from analytics.store.database import Database


def latest(db: Database, as_of: int | None = None) -> dict | None:
    """The newest saved inputs (or the newest saved up to import `as_of`): version, inputs (JSON
    text), saved_at, saved_by, after_import; None when nothing was saved (then defaults apply)."""
    sql = "SELECT version, inputs, saved_at, saved_by, after_import FROM value_inputs"
    params: list = []
    if as_of is not None:
        sql += " WHERE after_import <= ?"
        params.append(int(as_of))
    res = db.query(sql + " ORDER BY version DESC LIMIT 1", params)
    return res.dicts()[0] if res.rows else None


def insert(db: Database, inputs_json: str, saved_by: str | None) -> int:
    """Append one version (call on a writer, inside a transaction); returns its number."""
    version = int(db.query("SELECT coalesce(max(version), 0) + 1 FROM value_inputs").scalar())
    after = int(db.query("SELECT coalesce(max(import_id), 0) FROM imports WHERE status = 'ok'").scalar())
    db.execute("INSERT INTO value_inputs (version, inputs, saved_at, saved_by, after_import) "
               "VALUES (?, ?, ?, ?, ?)",
               [version, inputs_json, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), saved_by, after])
    return version


def known_metrics(db: Database) -> list[str]:
    """Metric names the store knows (definitions or values), for checking `metric_values`."""
    return [r[0] for r in db.query(
        "SELECT metric FROM metric_defs UNION SELECT DISTINCT metric FROM metrics ORDER BY 1").rows]


def metric_units(db: Database) -> dict[str, str | None]:
    """Each defined metric's unit, for the inputs' labels."""
    return {r[0]: r[1] for r in db.query("SELECT metric, unit FROM metric_defs ORDER BY 1").rows}


def programme_size(db: Database) -> dict:
    """Pairs, people per role and logged session hours (each session counts for both of its pair).

    Read inside `released()` by the caller, so withheld pairs and sessions are not counted.
    """
    row = db.query(
        """SELECT (SELECT count(*) FROM pairs), (SELECT count(DISTINCT mentor_id) FROM pairs),
                  (SELECT count(DISTINCT mentee_id) FROM pairs),
                  (SELECT coalesce(sum(s.duration_min), 0) / 60.0 FROM sessions s JOIN pairs p USING (pair_id)),
                  (SELECT count(*) FROM sessions s JOIN pairs p USING (pair_id) WHERE s.duration_min IS NULL)""").first()
    return {"pairs": int(row[0]), "mentors": int(row[1]), "mentees": int(row[2]), "session_hours": float(row[3]),
            "sessions_without_duration": int(row[4])}
