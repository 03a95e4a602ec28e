"""SQL for imports: the audit trail, duplicate detection, id look-ups, writing, undo,
and saved survey mappings. Table and column names come only from the whitelists below."""

from __future__ import annotations

import datetime as dt
import json
from typing import Iterable

import numpy as np
import pandas as pd

from analytics.errors import TwowayError
from analytics.store import roster
from analytics.store.database import Database
from analytics.store.schema import DATA_TABLES

#: (table, column) pairs whose values may be looked up by id.
_ID_COLUMNS = {("employees", "employee_id"), ("pairs", "pair_id"), ("sessions", "session_id"),
               ("waves", "survey")}


def find_ok_import(db: Database, sha256: str) -> dict | None:
    """The live (not undone) import of a file with this sha256, if any."""
    res = db.query("SELECT import_id, file_name, kind, rows, imported_at FROM imports "
                   "WHERE sha256 = ? AND status = 'ok' ORDER BY import_id LIMIT 1", [sha256])
    return res.dicts()[0] if res.rows else None


def next_import_id(db: Database) -> int:
    return int(db.query("SELECT coalesce(max(import_id), 0) + 1 FROM imports").scalar())


def record_import(db: Database, import_id: int, file_name: str, sha256: str, kind: str, rows: int,
                  details: dict) -> None:
    db.execute("INSERT INTO imports (import_id, file_name, sha256, kind, rows, imported_at, status, details) "
               "VALUES (?, ?, ?, ?, ?, ?, 'ok', ?)",
               [import_id, file_name, sha256, kind, rows,
                dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                json.dumps(details, default=str, ensure_ascii=False)])


def _check(table: str, column: str) -> None:
    if (table, column) not in _ID_COLUMNS:
        raise ValueError(f"no id look-up for {table}.{column}")


def _distinct(ids) -> list[str]:
    """Distinct ids as a list of str (fast for large pandas/arrow columns)."""
    arr = ids.to_numpy(dtype=object) if hasattr(ids, "to_numpy") else np.asarray(list(ids), dtype=object)
    return [x if isinstance(x, str) else str(x) for x in pd.unique(arr)]


def missing_ids(db: Database, table: str, column: str, ids: Iterable[str]) -> set[str]:
    """The given ids that do not exist in table.column."""
    _check(table, column)
    ids = _distinct(ids)
    if not ids:
        return set()
    res = db.query(f"SELECT x FROM unnest(?::VARCHAR[]) t(x) "
                   f"WHERE x NOT IN (SELECT {column} FROM {table} WHERE {column} IS NOT NULL)", [ids])
    return {r[0] for r in res.rows}


def existing_ids(db: Database, table: str, column: str, ids: Iterable[str]) -> dict[str, int | None]:
    """The given ids that already exist in table.column, with the import that brought each."""
    _check(table, column)
    ids = _distinct(ids)
    if not ids:
        return {}
    res = db.query(f"SELECT {column}, import_id FROM {table} WHERE {column} IN (SELECT unnest(?::VARCHAR[]))",
                   [ids])
    return {r[0]: r[1] for r in res.rows}


def metric_definitions(db: Database, metrics: Iterable[str]) -> dict[str, tuple[bool, int | None]]:
    """Existing definitions of these metrics: metric → (higher_is_better, import that defined it)."""
    names = _distinct(metrics)
    if not names:
        return {}
    res = db.query("SELECT metric, higher_is_better, import_id FROM metric_defs "
                   "WHERE metric IN (SELECT unnest(?::VARCHAR[]))", [names])
    return {r[0]: (bool(r[1]), r[2]) for r in res.rows}


def write_rows(db: Database, frames: dict) -> dict[str, int]:
    """Append each frame (or each part of an iterable of frames) to its table; call inside a transaction."""
    counts = {}
    for table in DATA_TABLES:
        if table in frames and len(frames[table]):
            frame = frames[table]
            if isinstance(frame, pd.DataFrame):
                counts[table] = db.insert_df(table, frame)
            else:  # an iterable of parts (a big survey, one item at a time)
                counts[table] = sum(db.insert_df(table, part) for part in frame)
    return counts


def import_status(db: Database, import_id: int) -> dict | None:
    res = db.query("SELECT import_id, file_name, kind, rows, status FROM imports WHERE import_id = ?", [import_id])
    return res.dicts()[0] if res.rows else None


def dependants(db: Database, import_id: int) -> list[str]:
    """Live rows of *other* imports that refer to rows of this one (which undo would orphan)."""
    found = []
    checks = [
        ("employees (as their manager)", "SELECT count(*), min(w.import_id) FROM employees w JOIN employees m "
                                         "ON m.employee_id = w.manager_id WHERE m.import_id = ? AND w.import_id <> ?"),
        ("pairs", "SELECT count(*), min(p.import_id) FROM pairs p JOIN employees e "
                  "ON e.employee_id IN (p.mentor_id, p.mentee_id) WHERE e.import_id = ? AND p.import_id <> ?"),
        ("metrics", "SELECT count(*), min(m.import_id) FROM metrics m JOIN employees e USING (employee_id) "
                    "WHERE e.import_id = ? AND m.import_id <> ?"),
        ("sessions", "SELECT count(*), min(s.import_id) FROM sessions s JOIN pairs p USING (pair_id) "
                     "WHERE p.import_id = ? AND s.import_id <> ?"),
        ("survey responses", "SELECT count(*), min(r.import_id) FROM responses r JOIN employees e USING (employee_id) "
                             "WHERE e.import_id = ? AND r.import_id <> ?"),
    ]
    for what, sql in checks:
        n, other = db.query(sql, [import_id, import_id]).first()
        if n:
            found.append(f"{n:,} {what} (import #{other})")
    n, other = roster.later_snapshots(db, import_id)
    if n:
        found.append(f"{n:,} roster history rows of a later roster snapshot (import #{other})")
    return found


def undo_effects(db: Database, import_id: int) -> dict[str, int]:
    """What undoing this import would remove: rows per table (and roster rows it would reopen)."""
    out = {}
    for table in DATA_TABLES:
        n = db.query(f"SELECT count(*) FROM {table} WHERE import_id = ?", [import_id]).scalar()
        if n:
            out[table] = int(n)
    reopened = db.query("SELECT count(*) FROM employee_history WHERE closed_by = ?", [import_id]).scalar()
    if reopened:
        out["employee_history reopened"] = int(reopened)
    return out


def undo_import(db: Database, import_id: int) -> dict[str, int]:
    """Delete every row an import wrote and mark it undone, in one transaction.

    Refused when rows of later imports still refer to this import's rows (undo those first).
    """
    info = import_status(db, import_id)
    if info is None:
        raise TwowayError(f"there is no import #{import_id}")
    if info["status"] != "ok":
        raise TwowayError(f"import #{import_id} ({info['file_name']}) is already {info['status']}")
    deps = dependants(db, import_id)
    if deps:
        raise TwowayError(f"cannot undo import #{import_id}: other imports refer to its rows ("
                          + "; ".join(deps) + "); undo those first")
    counts = {}
    with db.transaction():
        reopened = roster.reopen_rows(db, import_id)
        for table in DATA_TABLES:
            n = db.query(f"SELECT count(*) FROM {table} WHERE import_id = ?", [import_id]).scalar()
            if n:
                db.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
                counts[table] = int(n)
        if reopened or "employee_history" in counts:
            roster.refresh_current(db)
            if reopened:
                counts["employee_history reopened"] = reopened
        db.execute("UPDATE imports SET status = 'undone' WHERE import_id = ?", [import_id])
        db.bump_data_version()
    return counts


def history(db: Database, limit: int = 200) -> pd.DataFrame:
    """The latest imports, newest first."""
    return db.query("SELECT import_id, imported_at, file_name, kind, rows, status, details FROM imports "
                    "ORDER BY import_id DESC LIMIT ?", [int(limit)]).df()


def wave_import(db: Database, survey: str) -> int | None:
    """The import that created this survey wave, if it exists (0 when it came without one)."""
    row = db.query("SELECT coalesce(import_id, 0) FROM waves WHERE survey = ?", [survey]).first()
    return None if row is None else int(row[0])


def get_saved_mapping(db: Database, name: str) -> str | None:
    row = db.query("SELECT mapping FROM saved_mappings WHERE name = ?", [name]).first()
    return None if row is None else row[0]


def save_mapping(db: Database, name: str, mapping_json: str) -> None:
    db.execute("INSERT OR REPLACE INTO saved_mappings (name, mapping, saved_at) VALUES (?, ?, ?)",
               [name, mapping_json, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)])
