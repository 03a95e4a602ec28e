"""The store: schema creation, in-place upgrade, transactions, bound parameters."""

from __future__ import annotations

import duckdb
import pytest

from analytics.errors import TwowayError
from analytics.store import SCHEMA_VERSION, Database
from analytics.store.schema import MIGRATIONS
from tests.fixtures import add_employees


def test_new_file_gets_current_schema(tmp_path):
    db = Database(tmp_path / "new.duckdb")
    assert db.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    tables = {r[0] for r in db.query("SELECT table_name FROM information_schema.tables").rows}
    assert {"employees", "pairs", "sessions", "waves", "items", "responses", "metrics", "metric_defs",
            "imports", "saved_mappings", "meta"} <= tables


def test_upgrade_in_place_keeps_data(tmp_path):
    path = tmp_path / "old.duckdb"
    # Write a version-1 file by hand, as the first release did.
    con = duckdb.connect(str(path))
    for sql in MIGRATIONS[0][1]:
        con.execute(sql)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO employees (employee_id, department) VALUES ('A1', 'Sales')")
    con.execute("INSERT INTO imports VALUES (1, 'old.csv', 'abc', 'employees', 1, TIMESTAMP '2024-01-01', 'ok')")
    con.close()

    db = Database(path)
    assert db.schema_version() == SCHEMA_VERSION
    assert db.query("SELECT employee_id, department FROM employees").rows == [("A1", "Sales")]
    assert db.query("SELECT file_name, details FROM imports").rows == [("old.csv", None)]
    db.close()
    # Opening again is a no-op.
    db = Database(path)
    assert db.query("SELECT count(*) FROM employees").scalar() == 1


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    db = Database(path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    db.close()
    with pytest.raises(TwowayError, match="newer Twoway"):
        Database(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("just some text, not a database\n" * 100)
    with pytest.raises(TwowayError, match="cannot open"):
        Database(path)


def test_transaction_is_all_or_nothing(db):
    with pytest.raises(RuntimeError):
        with db.transaction():
            add_employees(db, [{"employee_id": "A"}, {"employee_id": "B"}])
            raise RuntimeError("midway")
    assert db.query("SELECT count(*) FROM employees").scalar() == 0
    with db.transaction():
        add_employees(db, [{"employee_id": "A"}])
    assert db.query("SELECT count(*) FROM employees").scalar() == 1


def test_values_are_bound_not_formatted(db):
    hostile = "x'); DROP TABLE employees; --"
    add_employees(db, [{"employee_id": hostile, "department": "Sales"}])
    got = db.query("SELECT department FROM employees WHERE employee_id = ?", [hostile]).rows
    assert got == [("Sales",)]
    assert db.query("SELECT count(*) FROM employees").scalar() == 1


def test_insert_df_rejects_unknown_table_and_column(db):
    import pandas as pd

    with pytest.raises(ValueError, match="unknown table"):
        db.insert_df("meta; DROP TABLE x", pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="no column"):
        db.insert_df("employees", pd.DataFrame({"nope": [1]}))


def test_data_version_bumps(db):
    assert db.data_version() == 0
    assert db.bump_data_version() == 1
    assert db.data_version() == 1


def test_read_only_missing_file(tmp_path):
    with pytest.raises(TwowayError, match="does not exist"):
        Database(tmp_path / "missing.duckdb", read_only=True)
