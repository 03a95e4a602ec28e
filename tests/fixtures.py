"""Fixture factories shared by the test files (imported by conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.store import Database

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_EXPORTS = SHARED / "real-exports"


def new_db(path: Path) -> Database:
    """An empty database with the current schema."""
    return Database(path)


def add_employees(db: Database, rows: list[dict]) -> None:
    """Insert roster rows given as dicts (missing columns become NULL)."""
    cols = ["employee_id", "department", "level", "location", "birth_year", "generation", "hire_date",
            "manager_id", "import_id"]
    frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    db.insert_df("employees", frame)
    # and one open roster-history row each, as an import writes (see store.schema employee_history)
    db.insert_df("employee_history", frame[["employee_id", "department", "level", "location", "manager_id",
                                            "import_id"]])


def snapshot(db: Database) -> dict[str, list]:
    """Every row of every table, sorted: equal snapshots mean an unchanged database."""
    out = {}
    for (table,) in db.query("SELECT table_name FROM information_schema.tables ORDER BY 1").rows:
        rows = db.query(f'SELECT * FROM "{table}"').rows
        out[table] = sorted(rows, key=repr)
    return out


def rows_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order: several figures order by some columns only (ties in any order)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    key = ["|".join(f"{v:.9g}" if isinstance(v, float) else repr(v) for v in row)
           for row in frame.itertuples(index=False)]
    return frame.iloc[sorted(range(len(key)), key=key.__getitem__)].reset_index(drop=True)
