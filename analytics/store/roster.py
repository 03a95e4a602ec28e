"""SQL for the roster's history: who was employed when, with which attributes.

`employee_history` holds one row per person and period in which their attributes held
(`valid_from` inclusive, `valid_to` exclusive, NULL = open). `employees` stays the table of
*current* attributes (each person's latest history row) so code that does not care about
time keeps working. Code that does care uses one of two definitions, both in the schema:

- ``employees_at(day)``, a table macro: each person's attributes as they were on `day`, only
  people employed then (`ROSTER_AT_SQL` is the query with `day` bound as a parameter);
- ``WAVE_ROSTER_CTE``: ``wave_roster`` for a WITH clause, the same for every survey wave at its
  opening date (its closing date if it has none; the current roster if it has neither);
- ``MONTH_ROSTER_CTE``: ``month_roster``, the same for every metrics month at its first day.

They are SQL text, not views stored in the file, so a pinned link (`store.pinning`) reads them
over its pinned tables like any other query.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.store.database import Database

#: Each person's attributes on a date (bind the date as the one parameter); only people employed then.
ROSTER_AT_SQL = "SELECT * FROM employees_at(?::DATE)"

#: "History row `{h}` holds on day `{day}`": for joins the macro and views do not cover. Fill the
#: placeholders only with fixed SQL text (an alias, a column expression), never with input.
EMPLOYED_ON_SQL = "(({h}.valid_from IS NULL OR {h}.valid_from <= {day}) AND ({h}.valid_to IS NULL OR {day} < {h}.valid_to))"

def wave_roster_select(schema: str = "") -> str:
    """SELECT of `wave_roster` rows over the tables of `schema` (``""`` = the search path).

    `schema` is fixed SQL text (a qualified schema name ending in "."), never input. The extra
    column `history_import` is the import that wrote the history row (released data uses it
    to tell pinned versions apart).
    """
    day = "coalesce(w.opened, w.closed)"
    return f"""SELECT w.survey, h.employee_id, h.department, h.level, h.location, h.manager_id,
           e.birth_year, e.generation, e.hire_date, coalesce(h.import_id, 0) AS history_import
    FROM {schema}waves w
    JOIN {schema}employee_history h
      ON CASE WHEN {day} IS NULL THEN h.valid_to IS NULL
              ELSE (h.valid_from IS NULL OR h.valid_from <= {day})
                   AND (h.valid_to IS NULL OR {day} < h.valid_to) END
    JOIN {schema}employees e ON e.employee_id = h.employee_id"""


def month_roster_select(schema: str = "") -> str:
    """SELECT of `month_roster` rows (each metrics month at its first day) over `schema`'s tables."""
    day = "CAST(m.period || '-01' AS DATE)"
    return f"""SELECT m.period, h.employee_id, h.department, h.level, h.location, h.manager_id,
           e.birth_year, e.generation, e.hire_date, coalesce(h.import_id, 0) AS history_import
    FROM (SELECT DISTINCT period FROM {schema}metrics) m
    JOIN {schema}employee_history h
      ON (h.valid_from IS NULL OR h.valid_from <= {day}) AND (h.valid_to IS NULL OR {day} < h.valid_to)
    JOIN {schema}employees e ON e.employee_id = h.employee_id"""


#: `wave_roster(survey, employee_id, department, level, location, manager_id, birth_year, generation,
#: hire_date, history_import)`: who counts at each survey wave, for ``WITH {WAVE_ROSTER_CTE} SELECT …``.
#: Inside `released()` a relation `wave_roster` of released rows exists already: read that instead.
WAVE_ROSTER_CTE = f"wave_roster AS ({wave_roster_select()})"

#: `month_roster(period, employee_id, …)`: who counts in each metrics month (its first day).
MONTH_ROSTER_CTE = f"month_roster AS ({month_roster_select()})"

#: The attributes a snapshot compares and keeps with dates.
TRACKED = ("department", "level", "location", "manager_id", "email")


def roster_at(db: Database, day: dt.date | str) -> pd.DataFrame:
    """Everyone employed on `day`, with the attributes they had then (sorted by employee_id).

    For reports and tests; pages and claims should join ``employees_at(?)`` or ``wave_roster``
    in SQL and bring back only aggregates.
    """
    return db.query_df(ROSTER_AT_SQL + " ORDER BY employee_id", [str(day)])


def history(db: Database) -> pd.DataFrame:
    """Every history row, ordered by person and date (for tests and the Data page)."""
    return db.query_df("SELECT employee_id, valid_from, valid_to, department, level, location, manager_id, "
                       "import_id, closed_by FROM employee_history "
                       "ORDER BY employee_id, valid_from NULLS FIRST, import_id")


def has_history(db: Database) -> bool:
    return bool(db.query("SELECT count(*) > 0 FROM employee_history").scalar())


def latest_rows(db: Database, ids: list[str] | None = None) -> pd.DataFrame:
    """Each person's latest history row (open or closed): the state a snapshot is compared with.

    With `ids`, only people in that list plus everyone currently employed (the possible leavers).
    """
    sql = ("SELECT employee_id, valid_from, valid_to, " + ", ".join(TRACKED) + " FROM employee_history "
           "{where} QUALIFY row_number() OVER (PARTITION BY employee_id "
           "ORDER BY valid_from DESC NULLS LAST, import_id DESC) = 1")
    if ids is None:
        res = db.query(sql.format(where=""))
    else:
        res = db.query(sql.format(where="WHERE employee_id IN (SELECT unnest(?::VARCHAR[])) OR valid_to IS NULL"),
                       [list(ids)])
    # plain datetime.date / None values (not Timestamps), to compare with a snapshot date
    return pd.DataFrame(res.rows, columns=list(res.columns), dtype=object)


def last_change(db: Database) -> dt.date | None:
    """The latest date in the history (a snapshot must not be dated before it)."""
    return db.query("SELECT greatest(max(valid_from), max(valid_to)) FROM employee_history").scalar()


def close_rows(db: Database, ids: list[str], until: list[dt.date], import_id: int) -> None:
    """End these people's open rows on the given dates, remembering which import did it (call in a transaction)."""
    if not ids:
        return
    db.execute("UPDATE employee_history h SET valid_to = c.valid_to, closed_by = ? "
               "FROM (SELECT unnest(?::VARCHAR[]) AS employee_id, unnest(?::DATE[]) AS valid_to) c "
               "WHERE h.employee_id = c.employee_id AND h.valid_to IS NULL", [import_id, ids, until])


def reopen_rows(db: Database, import_id: int) -> int:
    """Undo `close_rows` of one import; returns the number of rows reopened."""
    n = int(db.query("SELECT count(*) FROM employee_history WHERE closed_by = ?", [import_id]).scalar())
    if n:
        db.execute("UPDATE employee_history SET valid_to = NULL, closed_by = NULL WHERE closed_by = ?", [import_id])
    return n


def refresh_current(db: Database) -> None:
    """Set `employees`' attributes to each person's latest history row (termination_date = its end)."""
    db.execute(
        "UPDATE employees e SET department = h.department, level = h.level, location = h.location, "
        "manager_id = h.manager_id, email = h.email, termination_date = h.valid_to "
        "FROM (SELECT * FROM employee_history QUALIFY row_number() OVER (PARTITION BY employee_id "
        "      ORDER BY valid_from DESC NULLS LAST, import_id DESC) = 1) h "
        "WHERE e.employee_id = h.employee_id AND (e.department IS DISTINCT FROM h.department "
        "OR e.level IS DISTINCT FROM h.level OR e.location IS DISTINCT FROM h.location "
        "OR e.manager_id IS DISTINCT FROM h.manager_id OR e.email IS DISTINCT FROM h.email "
        "OR e.termination_date IS DISTINCT FROM h.valid_to)")


def later_snapshots(db: Database, import_id: int) -> tuple[int, int | None]:
    """History rows written or closed by imports after this roster import: (count, first such import).

    Snapshots build on each other, so they are undone newest first; 0 when `import_id` wrote no
    history at all (a survey's undo never waits for a roster).
    """
    mine = db.query("SELECT count(*) FROM employee_history WHERE import_id = ? OR closed_by = ?",
                    [import_id, import_id]).scalar()
    if not mine:
        return 0, None
    n, first = db.query("SELECT count(*), min(CASE WHEN import_id > ? THEN import_id ELSE closed_by END) "
                        "FROM employee_history WHERE import_id > ? OR closed_by > ?",
                        [import_id, import_id, import_id]).first()
    return int(n), first


def emails_to_ids(db: Database, emails: list[str]) -> dict[str, str]:
    """Lower-cased e-mail → employee_id for the given addresses (matched case-insensitively).

    Any e-mail a person ever had in the roster history links to them.
    """
    if not emails:
        return {}
    res = db.query("SELECT DISTINCT lower(email), employee_id FROM employee_history WHERE email IS NOT NULL "
                   "AND lower(email) IN (SELECT lower(unnest(?::VARCHAR[])))", [list(emails)])
    return {r[0]: r[1] for r in res.rows}


def has_emails(db: Database) -> bool:
    """Whether the roster history holds any e-mail address (to say why survey addresses stay unlinked)."""
    return db.query("SELECT count(*) FROM (SELECT 1 FROM employee_history WHERE email IS NOT NULL LIMIT 1)"
                    ).scalar() > 0


def email_owners(db: Database, emails: list[str]) -> dict[str, str]:
    """Lower-cased e-mail → the employee currently holding it (for the roster's uniqueness check)."""
    if not emails:
        return {}
    res = db.query("SELECT lower(email), employee_id FROM employees WHERE email IS NOT NULL "
                   "AND lower(email) IN (SELECT lower(unnest(?::VARCHAR[])))", [list(emails)])
    return {r[0]: r[1] for r in res.rows}
