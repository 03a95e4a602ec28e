"""The one place that touches DuckDB connections.

Everything else asks a `Database` for results; SQL is written in `analytics.store` modules
with `?` placeholders and bound parameters, never with values formatted into the text.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pandas as pd

from analytics.errors import TwowayError
from analytics.store.schema import MIGRATIONS, SCHEMA_VERSION


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
        return self.rows[0][0] if self.rows else None

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r)) for r in self.rows]

    def df(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.columns))


class Database:
    """A DuckDB file with Twoway's schema, opened (and upgraded) on construction.

    The connection is shared between threads of one process (Streamlit serves every browser
    session from one process), so each call takes a lock; DuckDB itself locks the file against
    other processes.
    """

    def __init__(self, path: str | os.PathLike, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise TwowayError(f"database {self.path} does not exist")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc).splitlines()[0]
            if "lock" in msg.lower():
                raise TwowayError(f"database {self.path} is in use by another program: {msg}") from None
            raise TwowayError(f"cannot open {self.path} as a Twoway database: {msg}") from None
        except duckdb.Error as exc:
            raise TwowayError(f"cannot open {self.path} as a Twoway database: {str(exc).splitlines()[0]}") from None
        self._lock = threading.RLock()
        self._in_tx = False
        if not read_only:
            self._migrate()
        elif self.schema_version() != SCHEMA_VERSION:
            raise TwowayError(
                f"database {self.path} has schema version {self.schema_version()}, "
                f"this Twoway needs {SCHEMA_VERSION}; open it once read-write to upgrade"
            )

    # -- schema -------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self._lock:
            has_meta = self._conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
            ).fetchone()[0]
            if not has_meta:
                return 0
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            return int(row[0]) if row else 0

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
                    self._conn.execute(sql)
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [str(version)]
                )

    # -- queries ------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> Results:
        with self._lock:
            cur = self._conn.execute(sql, params or [])
            cols = tuple(d[0] for d in cur.description) if cur.description else ()
            rows = cur.fetchall() if cur.description else []
            return Results(cols, rows)

    def query_df(self, sql: str, params: Sequence[Any] | dict | None = None) -> pd.DataFrame:
        """A query's result as a DataFrame; for aggregates, not whole tables."""
        with self._lock:
            return self._conn.execute(sql, params or []).df()

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> None:
        with self._lock:
            self._conn.execute(sql, params or [])

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.executemany(sql, rows)

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
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).rows}
        bad = [c for c in cols if c not in table_cols]
        if bad:
            raise ValueError(f"table {table} has no column(s) {bad}")
        col_sql = ", ".join(f'"{c}"' for c in cols)
        with self._lock:
            name = f"_twoway_insert_{threading.get_ident()}"
            self._conn.register(name, frame[cols])
            try:
                self._conn.execute(f"INSERT INTO {table} ({col_sql}) SELECT {col_sql} FROM {name}")
            finally:
                self._conn.unregister(name)
        return len(frame)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Database"]:
        """All-or-nothing: everything inside commits together or not at all (nested = joined)."""
        with self._lock:
            if self._in_tx:
                yield self
                return
            self._conn.execute("BEGIN TRANSACTION")
            self._in_tx = True
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._in_tx = False

    # -- bookkeeping ------------------------------------------------------------------
    def data_version(self) -> int:
        """A number that changes whenever data is imported or undone (a cache key)."""
        row = self.query("SELECT value FROM meta WHERE key = 'data_version'").first()
        return int(row[0]) if row else 0

    def bump_data_version(self) -> int:
        new = self.data_version() + 1
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('data_version', ?)", [str(new)])
        return new

    def table_counts(self) -> dict[str, int]:
        from analytics.store.schema import DATA_TABLES

        return {t: self.query(f"SELECT count(*) FROM {t}").scalar() for t in DATA_TABLES + ("imports",)}

    def checkpoint(self) -> None:
        with self._lock:
            self._conn.execute("CHECKPOINT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
