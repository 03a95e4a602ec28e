"""SQL for writing the demo organisation in bulk.

The generator produces integer codes; these functions turn them into rows with categorical
columns so DuckDB ingests millions of responses without building Python strings per row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analytics.store.database import Database


def add_import_row(db: Database, file_name: str, sha256: str, details: str) -> int:
    import_id = db.query("SELECT coalesce(max(import_id), 0) + 1 FROM imports").scalar()
    db.execute(
        "INSERT INTO imports (import_id, file_name, sha256, kind, rows, imported_at, status, details) "
        "VALUES (?, ?, ?, 'demo', 0, now()::TIMESTAMP, 'ok', ?)",
        [import_id, file_name, sha256, details],
    )
    return import_id


def set_import_rows(db: Database, import_id: int, rows: int) -> None:
    db.execute("UPDATE imports SET rows = ? WHERE import_id = ?", [rows, import_id])


def insert_employees(db: Database, frame: pd.DataFrame, history: pd.DataFrame | None = None) -> None:
    """The roster and its history: the given history rows (leavers, promotions), or one open row
    per person valid since the start, so `employees_at` and `wave_roster` see everyone at every wave."""
    db.insert_df("employees", frame)
    if history is not None:
        db.insert_df("employee_history", history)
        return
    db.execute("INSERT INTO employee_history (employee_id, department, level, location, manager_id, import_id) "
               "SELECT employee_id, department, level, location, manager_id, import_id FROM employees "
               "WHERE import_id = ?", [int(frame["import_id"].iloc[0])] if len(frame) else [-1])


def insert_frame(db: Database, table: str, frame: pd.DataFrame) -> None:
    db.insert_df(table, frame)


def insert_wave(db: Database, survey: str, title: str, opened: dt.date, closed: dt.date, invited: int,
                items: pd.DataFrame, import_id: int) -> None:
    """A wave and its items (the same item set each wave; items are keyed by survey and item)."""
    db.execute(
        "INSERT INTO waves (survey, title, opened, closed, invited, source_format, import_id) "
        "VALUES (?, ?, ?, ?, ?, 'demo', ?)",
        [survey, title, opened, closed, invited, import_id],
    )
    db.insert_df("items", items.assign(survey=survey))


def insert_responses(db: Database, survey: str, wave: dict, ids: np.ndarray, items: list, import_id: int) -> int:
    values = wave["values"]
    r, k = values.shape
    resp_code = np.repeat(wave["respondents"], k)
    item_code = np.tile(np.arange(k), r)
    flat = values.reshape(-1)
    keep = ~np.isnan(flat)
    who = pd.Categorical.from_codes(resp_code[keep], categories=pd.Index(ids, dtype=object))
    frame = pd.DataFrame({
        "survey": pd.Categorical.from_codes(np.zeros(keep.sum(), dtype=np.int8), categories=[survey]),
        "respondent": who,
        "employee_id": who,
        "item": pd.Categorical.from_codes(item_code[keep], categories=[it[0] for it in items]),
        "value": flat[keep].astype(np.float64),
        "submitted_at": np.repeat(wave["submitted"], k)[keep],
        "import_id": np.full(keep.sum(), import_id, dtype=np.int32),
    })
    return db.insert_df("responses", frame)


def insert_metric_defs(db: Database, rows: list[tuple[str, bool, str]], import_id: int) -> None:
    db.executemany("INSERT OR REPLACE INTO metric_defs (metric, higher_is_better, unit, import_id) "
                   "VALUES (?, ?, ?, ?)", [(*r, import_id) for r in rows])


def insert_metrics(db: Database, metrics: dict, ids: np.ndarray, import_id: int) -> None:
    months = metrics["months"]
    cats = pd.Index(ids, dtype=object)
    for name, people, values in (("tasks_completed", np.arange(metrics["tasks"].shape[0]), metrics["tasks"]),
                                 ("cycle_time_days", metrics["cycle_people"], metrics["cycle"])):
        p, m = values.shape
        keep = ~np.isnan(values.reshape(-1))  # no value (e.g. after a person left): no row
        frame = pd.DataFrame({
            "employee_id": pd.Categorical.from_codes(np.repeat(people, m)[keep], categories=cats),
            "period": pd.Categorical.from_codes(np.tile(np.arange(m), p)[keep], categories=months),
            "metric": pd.Categorical.from_codes(np.zeros(int(keep.sum()), dtype=np.int8), categories=[name]),
            "value": values.reshape(-1)[keep],
            "import_id": np.full(int(keep.sum()), import_id, dtype=np.int32),
        })
        db.insert_df("metrics", frame)
