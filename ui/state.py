"""Where the dashboard's database comes from, opened once per process.

`TWOWAY_DB` names the file; without it the demo organisation in `data/demo.duckdb` is used,
built on first start behind a progress bar. A `TWOWAY_DB` that names a missing file is refused
(a typo must not show an empty organisation).

The dashboard never opens that file read-write: it reads the latest published snapshot
(`Database.reader`, see `analytics.store.snapshots`), so imports from the CLI, the Upload page or
another app instance run beside it, and each script run moves to the newest snapshot once, at
its start, so one page never mixes two versions of the data.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import streamlit as st

from analytics.errors import TwowayError
from analytics.store import Database

ROOT = Path(__file__).resolve().parent.parent
DEMO_DB = ROOT / "data" / "demo.duckdb"

_run_state = threading.local()  # which script run each thread last refreshed for


def db_path() -> Path:
    return Path(os.environ.get("TWOWAY_DB") or DEMO_DB)


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Database:
    return Database.reader(path)


def _stop(exc: TwowayError) -> None:
    st.error(f"Twoway cannot open its data: {exc}", icon=":material/error:")
    st.stop()


def get_db() -> Database:
    """The store for this process; builds the demo organisation first when it is missing.

    A store that cannot be opened (missing, damaged, not a database, written by a newer Twoway)
    stops the page with that one-line reason instead of a traceback or partial figures.
    """
    path = db_path()
    try:
        if not path.exists():
            if path.resolve() != DEMO_DB.resolve():
                raise TwowayError(f"TWOWAY_DB names {path}, which does not exist (check the path; "
                                  "create a database with `python -m analytics demo` or `import`)")
            _build_demo(path)
        db = _open(str(path))
        run = _this_run(db)
        if getattr(_run_state, "run", None) != run:  # once per script run: the newest snapshot
            db.refresh()
            _run_state.run = run
        return db
    except TwowayError as exc:
        _stop(exc)


def _this_run(db: Database) -> tuple:
    """Which script run this is, in this thread.

    Streamlit gives every run a fresh `ctx.cursors` dict, made while the previous one is still
    alive, so its id differs from the last run's; a thread outside a run counts as one run.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return (id(db), threading.get_ident(), id(getattr(ctx, "cursors", None)))


def _build_demo(path: Path) -> None:
    from analytics.demo import build_demo

    bar = st.progress(0.0, text="Building the demo organisation (first start only)…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"Building the demo organisation: {message}")

    build_demo(path, progress=progress)
    bar.empty()


def data_version() -> tuple[str, int, str]:
    """Cache key for `st.cache_data` functions: which file, and which snapshot of it this run reads."""
    db = get_db()
    try:
        return (str(db.path), db.data_version(), db.data_token())
    except TwowayError as exc:
        _stop(exc)
