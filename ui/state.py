"""Where the dashboard's database comes from, opened once per process.

`TWOWAY_DB` names the file; without it the demo organisation in `data/demo.duckdb` is used,
built on first start behind a progress bar.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from analytics.errors import TwowayError
from analytics.store import Database

ROOT = Path(__file__).resolve().parent.parent
DEMO_DB = ROOT / "data" / "demo.duckdb"


def db_path() -> Path:
    return Path(os.environ.get("TWOWAY_DB") or DEMO_DB)


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Database:
    return Database(path)


def get_db() -> Database:
    """The store for this process; builds the demo organisation first when it is missing.

    A store that cannot be opened (locked by another program, not a database, written by a
    newer Twoway) stops the page with that one-line reason instead of a traceback.
    """
    path = db_path()
    try:
        if not path.exists() and path == DEMO_DB:
            _build_demo(path)
        return _open(str(path))
    except TwowayError as exc:
        st.error(f"Twoway cannot open its data: {exc}", icon=":material/error:")
        st.stop()


def _build_demo(path: Path) -> None:
    from analytics.demo import build_demo

    bar = st.progress(0.0, text="Building the demo organisation (first start only)…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"Building the demo organisation: {message}")

    build_demo(path, progress=progress)
    bar.empty()


def data_version() -> tuple[str, int]:
    """Cache key for `st.cache_data` functions: which file, and its version (bumped by imports)."""
    db = get_db()
    return (str(db.path), db.data_version())
