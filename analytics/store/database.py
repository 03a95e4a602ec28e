"""The one place that touches DuckDB connections.

Everything else asks a `Database` for results; SQL is written in `analytics.store` modules
with `?` placeholders and bound parameters, never with values formatted into the text.

Connections are per thread: each thread that queries a `Database` gets its own DuckDB
connection (a `cursor()` of the file's root connection), created on first use and closed when
the thread has ended. Connection settings — a transaction, `SET search_path` (pinned links,
released data) — therefore belong to the calling thread only, and a long query in one thread
never waits for another thread's. Code that runs several statements that must see one state
(a transaction, a pinned block) keeps them in one thread, which is how Python code runs anyway.

How processes share one organisation's file (DuckDB allows one read-write process per file,
or any number of read-only ones, never both) is in `analytics.store.snapshots`:
`Database.writer(path)` is the only way an import writes, `Database.reader(path)` the way
the dashboard and the read-only commands read.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import duckdb
import pandas as pd

from analytics.errors import TwowayError
from analytics.store.schema import MIGRATIONS, SCHEMA_VERSION

#: Phrases in DuckDB errors that mean the file itself is damaged (truncated, overwritten).
_DAMAGE = ("corrupt database file", "could not read enough bytes", "not a valid duckdb database",
           "database has been invalidated", "checksum")


class DatabaseBusy(TwowayError):
    """The file is open read-write in another program (DuckDB's single-writer lock)."""


class DatabaseDamaged(TwowayError):
    """The file is truncated or corrupted: nothing read from it can be trusted."""


def damaged_message(path: str | os.PathLike, exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"database {path} is damaged ({first}); restore it from a backup or re-import the data"


def _is_damage(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(p in text for p in _DAMAGE)


@dataclass(frozen=True)
class Results:
    """Rows and column names of one query; small by design (aggregates, not raw tables)."""

    columns: tuple[str, ...]
    rows: list[tuple]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def first(self) -> tuple | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        """The single value of a one-row, one-column result.

        Anything else is a mistake in the query (a missing aggregate, a WHERE that can match
        several rows), so it raises instead of quietly taking the first cell; use `first()`
        for a look-up that may find nothing.

        Examples
        --------
        >>> Results(("n",), [(3,)]).scalar()
        3
        >>> Results(("a", "b"), [(1, 2)]).scalar()
        Traceback (most recent call last):
        ...
        ValueError: scalar() needs a 1×1 result, got 1 row(s) × 2 column(s)
        """
        if len(self.rows) != 1 or len(self.columns) != 1:
            raise ValueError(f"scalar() needs a 1×1 result, got {len(self.rows)} row(s) × "
                             f"{len(self.columns)} column(s)")
        return self.rows[0][0]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r)) for r in self.rows]

    def df(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.columns))


class Database:
    """A DuckDB file with Twoway's schema, opened (and upgraded) on construction.

    `Database(path)` opens the file itself, read-write (or read-only with ``read_only=True``).
    The dashboard and read-only commands use `Database.reader(path)` instead, which opens the
    latest published snapshot of `path` read-only and can `refresh()` to a newer one; imports
    use `Database.writer(path)`, which serialises writers across processes and publishes a new
    snapshot when the data changed. See `analytics.store.snapshots` for why.

    Attributes
    ----------
    path : Path
        The organisation's database file (for a reader: the live file it follows).
    file : Path
        The file this object has open (for a reader: the current snapshot).
    read_only : bool
    snapshot : dict or None
        For a reader: the snapshot pointer (`seq`, `snapshot`, `token`, …) of `file`.
    """

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        self.file = self.path
        self.read_only = read_only
        self.snapshot: dict | None = None
        if read_only and not self.path.exists():
            raise TwowayError(f"database {self.path} does not exist")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._registry = threading.Lock()
        self._cursors: list[tuple[weakref.ref, int, duckdb.DuckDBPyConnection]] = []
        self._gen = 0
        self._roots = {0: self._connect(self.file, read_only)}
        self._pointers: dict[int, dict] = {}
        self._closed = False
        self._check_schema()

    # -- connections ----------------------------------------------------------------------
    @staticmethod
    def _connect(file: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(file), read_only=read_only)
        except duckdb.Error as exc:
            msg = str(exc).splitlines()[0]
            if "lock" in msg.lower() or "conflicting" in msg.lower() or "different configuration" in msg.lower():
                raise DatabaseBusy(f"database {file} is in use by another program: {msg}") from None
            if "not a valid duckdb database" in msg.lower():
                raise DatabaseDamaged(f"cannot open {file} as a Twoway database: it is not a DuckDB database "
                                      "file, or its header is damaged") from None
            if _is_damage(exc):
                raise DatabaseDamaged(damaged_message(file, exc)) from None
            raise TwowayError(f"cannot open {file} as a Twoway database: {msg}") from None

    def _check_schema(self) -> None:
        try:
            if not self.read_only:
                self._migrate()
            elif self.schema_version() != SCHEMA_VERSION:
                raise TwowayError(
                    f"database {self.path} has schema version {self.schema_version()}, "
                    f"this Twoway needs {SCHEMA_VERSION}; open it once read-write to upgrade"
                )
        except BaseException:
            self.close()
            raise

    @property
    def _conn(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection, made on first use from the current root."""
        con = getattr(self._local, "con", None)
        if con is not None:
            return con
        with self._registry:
            if self._closed:
                raise TwowayError(f"database {self.path} is closed")
            self._prune()
            con = self._roots[self._gen].cursor()
            self._cursors.append((weakref.ref(threading.current_thread()), self._gen, con))
        self._local.con, self._local.gen, self._local.in_tx = con, self._gen, False
        return con

    def _prune(self) -> None:
        """Close the connections of threads that have ended, and roots no thread uses (registry held)."""
        keep = []
        for ref, gen, con in self._cursors:
            thread = ref()
            if thread is None or not thread.is_alive():
                con.close()
            else:
                keep.append((ref, gen, con))
        self._cursors = keep
        used = {gen for _, gen, _ in keep} | {self._gen}
        for gen in [g for g in self._roots if g not in used]:
            self._roots.pop(gen).close()

    def _run(self, fn: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """Run `fn` on this thread's connection; a damaged file becomes one clear error."""
        try:
            return fn(self._conn)
        except duckdb.Error as exc:
            if _is_damage(exc):
                raise DatabaseDamaged(damaged_message(self.file, exc)) from None
            raise

    # -- readers and writers across processes --------------------------------------------
    @classmethod
    def reader(cls, path: str | os.PathLike, on_wait: Callable[[str], None] | None = None) -> "Database":
        """The latest published snapshot of `path`, read-only (publishing one first if needed).

        `on_wait` is told when the first snapshot has to wait for a running import.
        """
        from analytics.store import snapshots

        return snapshots.open_reader(Path(path), on_wait)

    @classmethod
    @contextlib.contextmanager
    def writer(cls, path: str | os.PathLike, on_wait: Callable[[str], None] | None = None) -> Iterator["Database"]:
        """`path` opened read-write under the import lock; publishes a snapshot if the data changed."""
        from analytics.store import snapshots

        with snapshots.open_writer(Path(path), on_wait) as db:
            yield db

    def refresh(self) -> bool:
        """For a reader: move this thread to the newest snapshot; True when it changed."""
        if self.snapshot is None:
            return False
        from analytics.store import snapshots

        return snapshots.refresh(self)

    def _switch(self, file: Path, pointer: dict) -> None:
        """Make `file` (a newer snapshot) the root new threads use, and move the calling thread.

        Threads in the middle of a query or a transaction keep the old snapshot until they call
        `refresh()` or end; the old root is closed once no thread uses it.
        """
        root = self._connect(file, True)
        with self._registry:
            self._gen += 1
            self._roots[self._gen] = root
            self._pointers[self._gen] = pointer
            self.file, self.snapshot = file, pointer
            self._prune()
        self._release_thread()

    def _release_thread(self) -> None:
        """Let the calling thread's next query use the current root (not inside a transaction)."""
        con = getattr(self._local, "con", None)
        if con is None or self._local.in_tx or self._local.gen == self._gen:
            return
        with self._registry:
            self._cursors = [entry for entry in self._cursors if entry[2] is not con]
            con.close()
            self._local.con = None
            self._prune()

    # -- schema -------------------------------------------------------------------------
    def schema_version(self) -> int:
        def read(con) -> int:
            has_meta = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                "AND schema_name = 'main' AND table_name = 'meta'"
            ).fetchone()[0]
            if not has_meta:
                return 0
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            return int(row[0]) if row else 0

        return self._run(read)

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise TwowayError(
                f"database {self.path} was written by a newer Twoway (schema {current} > {SCHEMA_VERSION})"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            _, statements = MIGRATIONS[version - 1]
            with self.transaction():
                for sql in statements:
                    self.execute(sql)
                self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [str(version)])

    # -- queries ------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> Results:
        def run(con) -> Results:
            cur = con.execute(sql, params or [])
            cols = tuple(d[0] for d in cur.description) if cur.description else ()
            return Results(cols, cur.fetchall() if cur.description else [])

        return self._run(run)

    def query_df(self, sql: str, params: Sequence[Any] | dict | None = None) -> pd.DataFrame:
        """A query's result as a DataFrame; for aggregates, not whole tables."""
        return self._run(lambda con: con.execute(sql, params or []).df())

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> None:
        self._run(lambda con: con.execute(sql, params or []))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._run(lambda con: con.executemany(sql, rows))

    def insert_df(self, table: str, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> int:
        """Append a DataFrame's columns (by name) to a table; returns the row count.

        The frame is handed to DuckDB as a registered view, so no values pass through SQL text.
        """
        from analytics.store.schema import DATA_TABLES

        allowed = set(DATA_TABLES) | {"imports", "metric_defs", "saved_mappings"}
        if table not in allowed:
            raise ValueError(f"unknown table {table!r}")
        cols = list(columns or frame.columns)
        table_cols = {r[0] for r in self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_catalog = current_database()", [table]).rows}
        bad = [c for c in cols if c not in table_cols]
        if bad:
            raise ValueError(f"table {table} has no column(s) {bad}")
        col_sql = ", ".join(f'"{c}"' for c in cols)

        def run(con) -> None:
            name = f"_twoway_insert_{threading.get_ident()}"
            con.register(name, frame[cols])
            try:
                con.execute(f"INSERT INTO {table} ({col_sql}) SELECT {col_sql} FROM {name}")
            finally:
                con.unregister(name)

        self._run(run)
        return len(frame)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Database"]:
        """All-or-nothing: everything inside commits together or not at all (nested = joined).

        The transaction belongs to the calling thread's connection; other threads neither see
        its writes before the commit nor wait for it.
        """
        self._conn  # noqa: B018 - make this thread's connection (and its state) first
        if self._local.in_tx:
            yield self
            return
        self.execute("BEGIN TRANSACTION")
        self._local.in_tx = True
        try:
            yield self
        except BaseException:
            self._local.con.execute("ROLLBACK")
            raise
        else:
            self.execute("COMMIT")
        finally:
            self._local.in_tx = False

    # -- bookkeeping ------------------------------------------------------------------
    def data_version(self) -> int:
        """A number that changes whenever data is imported or undone (a cache key).

        For a reader it is the sequence number of the snapshot this thread reads, so a cache
        keyed by it can never mix two snapshots.
        """
        self._conn  # noqa: B018 - bind this thread to a snapshot first
        if self.snapshot is not None:
            return int(self._pointers[self._local.gen]["seq"])
        row = self.query("SELECT value FROM meta WHERE key = 'data_version'").first()
        return int(row[0]) if row else 0

    def data_token(self) -> str:
        """A string naming the data this thread reads: unique across republished snapshots."""
        self._conn  # noqa: B018
        if self.snapshot is not None:
            return str(self._pointers[self._local.gen].get("token", ""))
        return f"live:{self.data_version()}"

    def bump_data_version(self) -> int:
        new = self.data_version() + 1
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('data_version', ?)", [str(new)])
        return new

    def table_counts(self) -> dict[str, int]:
        from analytics.store.schema import DATA_TABLES

        return {t: self.query(f"SELECT count(*) FROM {t}").scalar() for t in DATA_TABLES + ("imports",)}

    def checkpoint(self) -> None:
        self.execute("CHECKPOINT")

    def close(self) -> None:
        with self._registry:
            if self._closed:
                return
            self._closed = True
            for _, _, con in self._cursors:
                con.close()
            for root in self._roots.values():
                root.close()
            self._cursors, self._roots = [], {}
        self._local = threading.local()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
