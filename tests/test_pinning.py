"""Reading the store as of an import: every data table, the claims engine's SQL included."""

from __future__ import annotations

import shutil

import duckdb

from analytics.importing import import_file
from analytics.store import Database
from analytics.store.pinning import pinned
from tests.fixtures import ROOT


def test_pinned_tables_hold_only_rows_of_earlier_imports_and_the_file_is_untouched(demo_path, tmp_path):
    path = tmp_path / "grown.duckdb"
    shutil.copy(demo_path, path)
    with Database(path) as db:
        import_file(db, ROOT / "tests" / "data" / "exports" / "employees.csv")
        latest = db.query("SELECT count(*) FROM employees").scalar()
        with pinned(db, 1):
            assert db.query("SELECT count(*) FROM employees").scalar() == latest - 5
            assert db.query("SELECT max(import_id) FROM employees").scalar() == 1
        assert db.query("SELECT count(*) FROM employees").scalar() == latest  # the pin is over
        db.checkpoint()
    with duckdb.connect(str(path), read_only=True) as con:  # no views were written into the file
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()[0] == 0
