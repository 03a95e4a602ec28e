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


# -- Results.scalar -------------------------------------------------------------------------------
@pytest.mark.parametrize("sql", ["SELECT 1 WHERE FALSE", "SELECT * FROM range(2)", "SELECT 1 AS a, 2 AS b"])
def test_scalar_needs_exactly_one_row_and_one_column(db, sql):
    with pytest.raises(ValueError, match="1×1"):
        db.query(sql).scalar()
    assert db.query("SELECT 41 + 1").scalar() == 42


# -- connections per thread -----------------------------------------------------------------------
def test_an_open_transaction_in_one_thread_neither_blocks_nor_shows_in_another(db):
    import threading

    add_employees(db, [{"employee_id": "A"}])
    inside, release, seen = threading.Event(), threading.Event(), []

    def writer():
        with db.transaction():
            add_employees(db, [{"employee_id": "B"}, {"employee_id": "C"}])
            seen.append(db.query("SELECT count(*) FROM employees").scalar())  # its own writes: 3
            inside.set()
            release.wait(30)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(30)
    # the main thread reads while the transaction is open: it returns, and sees the committed row only
    assert db.query("SELECT count(*) FROM employees").scalar() == 1
    release.set()
    t.join(30)
    assert seen == [3]
    assert db.query("SELECT count(*) FROM employees").scalar() == 3


def test_search_path_belongs_to_the_thread_that_set_it(db):
    import threading

    from analytics.store.pinning import pinned

    with db.transaction():
        add_employees(db, [{"employee_id": "A", "import_id": 1}])
    add_employees(db, [{"employee_id": "B", "import_id": 2}])
    inside, release, other = threading.Event(), threading.Event(), []

    def pinned_reader():
        with pinned(db, 1):
            other.append(db.query("SELECT count(*) FROM employees").scalar())
            inside.set()
            release.wait(30)

    t = threading.Thread(target=pinned_reader)
    t.start()
    assert inside.wait(30)
    assert db.query("SELECT count(*) FROM employees").scalar() == 2  # not pinned here
    release.set()
    t.join(30)
    assert other == [1]


def test_connections_of_finished_threads_are_closed(db):
    import threading

    for _ in range(5):
        t = threading.Thread(target=lambda: db.query("SELECT 1").scalar())
        t.start()
        t.join()
    # each new thread's connection closes those of the threads that ended before it: the main
    # thread's and the last thread's remain, not one per thread ever seen
    assert len(db._cursors) == 2


# -- writers, snapshots, readers ------------------------------------------------------------------
def test_reader_reads_published_snapshots_and_switches_on_refresh(tmp_path):
    from analytics.store import snapshots

    live = tmp_path / "org.duckdb"
    with Database.writer(live) as w:
        add_employees(w, [{"employee_id": "A"}])
        w.bump_data_version()
    reader = Database.reader(live)
    assert reader.read_only and reader.path == live and reader.file.parent == snapshots.snapshot_dir(live)
    assert reader.query("SELECT count(*) FROM employees").scalar() == 1
    with pytest.raises(Exception, match="read-only|Cannot execute"):
        reader.execute("DELETE FROM employees")
    first = reader.data_version()
    with Database.writer(live) as w:
        add_employees(w, [{"employee_id": "B"}])
        w.bump_data_version()
    assert reader.query("SELECT count(*) FROM employees").scalar() == 1  # until it refreshes
    assert reader.refresh() is True
    assert reader.query("SELECT count(*) FROM employees").scalar() == 2
    assert reader.data_version() > first
    assert reader.refresh() is False
    reader.close()


def test_a_write_that_bypassed_the_lock_is_republished_by_the_next_reader(tmp_path):
    live = tmp_path / "org.duckdb"
    with Database.writer(live):
        pass
    reader = Database.reader(live)
    assert reader.query("SELECT count(*) FROM employees").scalar() == 0
    with Database(live) as direct:  # e.g. another tool, or a test fixture
        add_employees(direct, [{"employee_id": "A"}])
    assert reader.refresh() is True
    assert reader.query("SELECT count(*) FROM employees").scalar() == 1
    reader.close()


def test_old_snapshots_are_pruned_to_the_newest_few(tmp_path):
    from analytics.store import snapshots

    live = tmp_path / "org.duckdb"
    for i in range(6):
        with Database.writer(live) as w:
            add_employees(w, [{"employee_id": f"E{i}"}])
            w.bump_data_version()
    names = sorted(p.name for p in snapshots.snapshot_dir(live).glob("v*.duckdb"))
    assert names == ["v4.duckdb", "v5.duckdb", "v6.duckdb"]  # KEEP = 3 of 6 publishes
    assert snapshots.read_latest(live)["snapshot"] == "v6.duckdb"
    assert not list(snapshots.snapshot_dir(live).glob(".*tmp"))


def test_a_failed_write_publishes_nothing(tmp_path):
    from analytics.store import snapshots

    live = tmp_path / "org.duckdb"
    with Database.writer(live):
        pass
    before = snapshots.read_latest(live)
    with pytest.raises(RuntimeError):
        with Database.writer(live) as w:
            with w.transaction():
                add_employees(w, [{"employee_id": "A"}])
                w.bump_data_version()
                raise RuntimeError("midway")
    assert snapshots.read_latest(live) == before


def test_a_second_writer_waits_for_the_first_with_a_message(tmp_path):
    import threading

    live = tmp_path / "org.duckdb"
    with Database.writer(live):
        pass
    holding, release, order, messages = threading.Event(), threading.Event(), [], []

    def first():
        with Database.writer(live) as w:
            holding.set()
            release.wait(30)
            add_employees(w, [{"employee_id": "first"}])
            order.append("first")

    t = threading.Thread(target=first)
    t.start()
    assert holding.wait(30)
    second = threading.Thread(target=lambda: _second_writer(live, messages, order))
    second.start()
    second.join(1.0)
    assert second.is_alive() and messages and messages[0].startswith("Waiting for another import")
    release.set()
    t.join(30)
    second.join(30)
    assert order == ["first", "second"]


def _second_writer(live, messages, order):
    with Database.writer(live, on_wait=messages.append) as w:
        add_employees(w, [{"employee_id": "second"}])
        order.append("second")


# -- damaged and read-only files ------------------------------------------------------------------
def _filled(path):
    """A checkpointed file with enough rows to span many storage blocks."""
    with Database(path) as db:
        db.execute("INSERT INTO responses (survey, respondent, item, value) "
                   "SELECT 's', 'R' || (i // 20)::VARCHAR, 'q' || (i % 20)::VARCHAR, random() FROM range(500000) t(i)")
        db.checkpoint()
    return path


def test_a_truncated_file_is_one_clear_error(tmp_path):
    path = _filled(tmp_path / "org.duckdb")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TwowayError, match="damaged"):
        Database.reader(path)
    with pytest.raises(TwowayError, match="damaged"):
        Database(path, read_only=True)


def test_a_corrupted_block_is_found_before_anything_is_published(tmp_path):
    from analytics.store import snapshots

    path = _filled(tmp_path / "org.duckdb")
    data = bytearray(path.read_bytes())
    lo, hi = len(data) * 2 // 5, len(data) * 3 // 5
    data[lo:hi] = bytes(hi - lo)  # zeros over the middle fifth: data blocks, not the header
    path.write_bytes(bytes(data))
    with pytest.raises(TwowayError, match="damaged"):
        Database.reader(path)
    assert snapshots.read_latest(path) is None


def test_a_read_only_file_is_viewed_in_place_and_refuses_writes(tmp_path):
    from analytics.store import snapshots

    path = tmp_path / "org.duckdb"
    with Database(path) as db:
        add_employees(db, [{"employee_id": "A"}])
    path.chmod(0o444)
    try:
        reader = Database.reader(path)
        assert reader.file == path and reader.query("SELECT count(*) FROM employees").scalar() == 1
        reader.close()
        assert not snapshots.snapshot_dir(path).exists()
        with pytest.raises(TwowayError, match="read-only"):
            with Database.writer(path):
                pass
    finally:
        path.chmod(0o644)


def test_a_pinned_link_is_answered_from_the_newest_read_only_snapshot(tmp_path):
    from analytics.store.pinning import pinned

    live = tmp_path / "org.duckdb"
    for import_id, ids in ((1, ["A", "B"]), (2, ["C"])):
        with Database.writer(live) as w:
            add_employees(w, [{"employee_id": e, "import_id": import_id} for e in ids])
            w.bump_data_version()
    reader = Database.reader(live)
    with pinned(reader, 1):  # as_of=1: the rows of import 1 only (in-memory views, not the file)
        assert reader.query("SELECT count(*) FROM employees").scalar() == 2
    assert reader.query("SELECT count(*) FROM employees").scalar() == 3
    reader.close()
