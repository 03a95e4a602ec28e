"""Reading the raw store as it was after a given import (import and data-quality tooling).

Figures for a pinned link do not use this: `analytics.store.released.released(db, k, as_of)`
pins *and* applies the anonymity rules (a pinned figure differs from later versions by 0 or at
least k people), inside every public analytics function.

Inside `pinned(db, import_id)` every data table name (employees, responses, …) resolves to a
view holding only the rows written by that import or earlier, so the claims engine and the
dashboard SQL — unchanged, unqualified table names — compute the numbers the sender of the link
saw. Imports undone since then stay undone (their rows are gone).

The views live in an in-memory catalog attached to the connection, never in the user's file.
The search path is a connection setting, so the whole computation holds the database's
transaction lock; pinned views are rare (an old link) and small (aggregates).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from analytics.store.database import Database
from analytics.store.schema import DATA_TABLES

_CATALOG = "twoway_pins"


def as_of_select(home: str, table: str, as_of: int) -> str:
    """SELECT of `table`'s rows as they were after import `as_of` (`home` is fixed SQL text, the
    qualified schema of the raw tables; `as_of` an int): rows written by that import or earlier,
    with roster rows that a later snapshot ended still open."""
    v = int(as_of)
    cols = (f"* REPLACE (CASE WHEN closed_by > {v} THEN NULL ELSE valid_to END AS valid_to, "
            f"CASE WHEN closed_by > {v} THEN NULL ELSE closed_by END AS closed_by)"
            if table == "employee_history" else "*")
    return f"SELECT {cols} FROM {home}.{table} WHERE import_id IS NULL OR import_id <= {v}"


@contextlib.contextmanager
def pinned(db: Database, import_id: int) -> Iterator[Database]:
    """Queries on `db` inside this block see only rows of imports up to `import_id`."""
    as_of = int(import_id)  # an int by construction (Filters.parse); DDL cannot take parameters
    if as_of <= 0:
        raise ValueError(f"import id must be positive, not {import_id!r}")
    schema = f"asof_{as_of}"
    with db.transaction():
        home = str(db.query("SELECT current_database()").scalar()).replace('"', '""')
        attached = {r[0] for r in db.query("SELECT database_name FROM duckdb_databases()").rows}
        if _CATALOG not in attached:
            db.execute(f"ATTACH ':memory:' AS {_CATALOG} (READ_WRITE)")  # also from read-only snapshots
        db.execute(f"CREATE SCHEMA IF NOT EXISTS {_CATALOG}.{schema}")
        for table in DATA_TABLES:
            db.execute(f"CREATE OR REPLACE VIEW {_CATALOG}.{schema}.{table} AS "
                       + as_of_select(f'"{home}".main', table, as_of))
        path = f'{_CATALOG}.{schema},"{home}".main'.replace("'", "''")
        db.execute(f"SET search_path = '{path}'")
        try:
            yield db
        finally:
            db.execute("RESET search_path")
