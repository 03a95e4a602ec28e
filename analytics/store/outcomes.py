"""SQL behind the retention and promotion claims: employment spells, leavers, level moves.

The roster history (`employee_history`, one row per person and period their attributes held)
is the only source: a person *leaves* on a row's `valid_to` when no row of theirs starts on that
day (a transfer or promotion ends one row and starts the next on the same day), and is
*promoted* when the row that follows a row on the same day has a higher level in the level
order. Everything is aggregated to one row per person here; months are integer indices
(year·12 + month − 1) so the hazard model never parses dates.
"""

from __future__ import annotations

import os

import pandas as pd

from analytics.errors import TwowayError
from analytics.store.database import Database

#: Setting: the levels from lowest to highest, comma-separated (default: inferred from the manager tree).
LEVEL_ORDER_ENV = "TWOWAY_LEVEL_ORDER"

_MONTH = "(year({d}) * 12 + month({d}) - 1)"


def month_index(column: str) -> str:
    """SQL for a date column's month index (fixed column text only, never input)."""
    return _MONTH.format(d=column)


def level_order(db: Database) -> list[str]:
    """The roster's levels from lowest to highest.

    `TWOWAY_LEVEL_ORDER` names them; otherwise they are ordered by how far below the top of the
    manager tree their people sit on average (deeper = lower), which needs no naming convention.
    Every level in the roster must appear in the setting, so a typo cannot silently make a
    demotion look like a promotion.
    """
    known = [r[0] for r in db.query(
        "SELECT DISTINCT level FROM employee_history WHERE level IS NOT NULL ORDER BY 1").rows]
    raw = os.environ.get(LEVEL_ORDER_ENV, "").strip()
    if raw:
        order = [x.strip() for x in raw.split(",") if x.strip()]
        missing = [lv for lv in known if lv not in order]
        if missing or len(set(order)) != len(order):
            raise TwowayError(f"{LEVEL_ORDER_ENV} must name every level once, lowest first; "
                              f"missing: {', '.join(missing) or 'none'}")
        return [lv for lv in order if lv in known]
    rows = db.query(
        """WITH RECURSIVE tree(employee_id, depth) AS (
               SELECT employee_id, 0 FROM employees WHERE manager_id IS NULL OR manager_id NOT IN
                   (SELECT employee_id FROM employees)
               UNION ALL
               SELECT e.employee_id, t.depth + 1 FROM employees e JOIN tree t ON e.manager_id = t.employee_id
               WHERE t.depth < 50)
           SELECT e.level, avg(t.depth) AS depth FROM employees e JOIN tree t USING (employee_id)
           WHERE e.level IS NOT NULL GROUP BY e.level ORDER BY depth DESC, e.level""").rows
    ordered = [r[0] for r in rows]
    return ordered + [lv for lv in known if lv not in ordered]


def window(db: Database, pre_months: int = 12) -> tuple[int, int] | None:
    """Months observed for leaving and promotion: from `pre_months` before the first pair started
    to the latest date the roster history knows; None when the history has no dated change."""
    row = db.query(
        f"""SELECT (SELECT min({month_index('start_date')}) FROM pairs) - ?,
                   (SELECT max({month_index('d')}) FROM (SELECT valid_from AS d FROM employee_history
                                                         UNION ALL SELECT valid_to FROM employee_history))""",
        [int(pre_months)]).first()
    if row is None or row[0] is None or row[1] is None or row[1] <= row[0]:
        return None
    return int(row[0]), int(row[1])


def people(db: Database, levels: list[str]) -> pd.DataFrame:
    """One row per person: entry and (first) leaving and promotion months, programme start by role,
    and the covariates at entry (department, level, level rank).

    Columns: unit, employee_id, entry, left, promoted, start_mentor, start_mentee, department,
    level, level_rank.
    """
    rank_sql = " ".join(f"WHEN ? THEN {i}" for i in range(len(levels)))
    rank = f"CASE h.level {rank_sql} END" if levels else "NULL"
    return db.query_df(
        f"""WITH h AS (SELECT h.*, {rank} AS level_rank FROM employee_history h),
            nxt AS (SELECT a.employee_id, a.valid_to AS day, a.level_rank AS before_rank, b.level_rank AS after_rank,
                           b.employee_id IS NOT NULL AS continues
                    FROM h a LEFT JOIN h b ON b.employee_id = a.employee_id AND b.valid_from = a.valid_to
                    WHERE a.valid_to IS NOT NULL),
            firsts AS (SELECT employee_id,
                              min({month_index('day')}) FILTER (WHERE NOT continues) AS left_m,
                              min({month_index('day')}) FILTER (WHERE continues AND after_rank > before_rank) AS promoted_m
                       FROM nxt GROUP BY employee_id),
            entry AS (SELECT h.employee_id, min(coalesce({month_index('h.valid_from')}, -1)) AS entry_m,
                             arg_min(h.department, coalesce(h.valid_from, DATE '1900-01-01')) AS department,
                             arg_min(h.level, coalesce(h.valid_from, DATE '1900-01-01')) AS level,
                             arg_min(h.level_rank, coalesce(h.valid_from, DATE '1900-01-01')) AS level_rank
                      FROM h GROUP BY h.employee_id),
            roles AS (SELECT id AS employee_id,
                             min(m) FILTER (WHERE role = 'mentor') AS start_mentor,
                             min(m) FILTER (WHERE role = 'mentee') AS start_mentee
                      FROM (SELECT mentor_id AS id, 'mentor' AS role, {month_index('start_date')} AS m FROM pairs
                            UNION ALL SELECT mentee_id, 'mentee', {month_index('start_date')} FROM pairs)
                      GROUP BY id)
            SELECT row_number() OVER (ORDER BY e.employee_id) - 1 AS unit, e.employee_id,
                   greatest(e.entry_m, coalesce({month_index('emp.hire_date')}, -1)) AS entry,
                   f.left_m AS "left", f.promoted_m AS promoted, r.start_mentor, r.start_mentee,
                   e.department, e.level, e.level_rank
            FROM entry e JOIN employees emp USING (employee_id)
            LEFT JOIN firsts f USING (employee_id) LEFT JOIN roles r USING (employee_id)
            ORDER BY e.employee_id""",
        list(levels))


def history_rows(db: Database, levels: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roster history as (rows, events) for the retention and promotion claims.

    rows : employee_id, from_m (month index of `valid_from`, NULL = since the start of the data),
        to_m, department, level, level_rank — one row per history row.
    events : employee_id, month, kind ('left' | 'promoted'), to_level (the level after a
        promotion) — a row ending with no row of the
        person starting that day is leaving; a next row at a higher level is a promotion.

    Inside `released()` only released people's rows are read (the release's `employee_history`,
    pinned to the link's import), and their department and level are the roster's own values
    rather than the reporting-group labels: a promotion is a change of level, which the group
    label (one per person) cannot show. Those values only shape the model; no count under the
    threshold leaves the claims engine (docs/PRIVACY.md).
    """
    from analytics.store.released import active

    rank_sql = " ".join(f"WHEN ? THEN {i}" for i in range(len(levels)))
    if active(db):
        home = db._local.rel_home
        base = (f"""SELECT h.employee_id, h.valid_from, h.valid_to, r.department, r.level
                    FROM employee_history h JOIN {home}.employee_history r
                      ON r.employee_id = h.employee_id AND r.valid_from IS NOT DISTINCT FROM h.valid_from
                     AND r.import_id IS NOT DISTINCT FROM h.import_id""")
    else:
        base = "SELECT employee_id, valid_from, valid_to, department, level FROM employee_history"
    rank = f"CASE level {rank_sql} END" if levels else "NULL"
    cte = f"WITH h AS (SELECT b.*, {rank} AS level_rank FROM ({base}) b)"
    rows = db.query_df(
        f"""{cte}
            SELECT employee_id, {month_index('valid_from')} AS from_m, {month_index('valid_to')} AS to_m,
                   department, level, level_rank FROM h ORDER BY employee_id, valid_from NULLS FIRST""",
        list(levels))
    events = db.query_df(
        f"""{cte}
            SELECT a.employee_id, {month_index('a.valid_to')} AS month,
                   CASE WHEN b.employee_id IS NULL THEN 'left' ELSE 'promoted' END AS kind, b.level AS to_level
            FROM h a LEFT JOIN h b ON b.employee_id = a.employee_id AND b.valid_from = a.valid_to
            WHERE a.valid_to IS NOT NULL AND (b.employee_id IS NULL OR b.level_rank > a.level_rank)""",
        list(levels))
    for c in ("from_m", "to_m", "level_rank"):
        rows[c] = pd.to_numeric(rows[c], errors="coerce").astype(float)
    events["month"] = pd.to_numeric(events["month"], errors="coerce").astype(float)
    return rows, events


def raw_level_order(db: Database) -> list[str]:
    """`level_order` from the roster's own levels, also inside `released()` (where the history's
    level reads as the reporting group's label)."""
    from analytics.store.released import active

    if not active(db):
        return level_order(db)
    home = db._local.rel_home
    db.execute(f"SET search_path = '{home.replace(chr(39), chr(39) * 2)}'")
    try:
        return level_order(db)
    finally:
        from analytics.store.released import _search_path_sql

        db.execute(_search_path_sql(db._local.rel_stack[-1], home))
