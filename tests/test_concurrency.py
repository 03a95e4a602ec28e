"""Imports and readers side by side, across processes (issue #11, items 2 and 3).

A helper process opens the organisation's file through `Database.writer` and keeps an import
transaction open until the test tells it to commit; meanwhile the dashboard (AppTest, or two
real `streamlit run` instances), the read-only CLI commands and a second CLI import run. The
readers must return with the data as it was, the second import must queue with a message, and
everyone must see the new rows once the import has published its snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.store import snapshots
from tests.fixtures import ROOT
from tests.st_client import Server, get_page

HELD_ROWS = 9
HOLDER = f"""
import sys
from analytics.store import Database
from tests.fixtures import add_employees
with Database.writer(sys.argv[1]) as w:
    with w.transaction():
        add_employees(w, [{{"employee_id": f"HELD{{i}}", "department": "Held"}} for i in range({HELD_ROWS})])
        w.bump_data_version()
        print("holding", flush=True)
        sys.stdin.readline()
print("published", flush=True)
"""


class Holder:
    """A process inside an import transaction on `live`, until `release()`."""

    def __init__(self, live: Path):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(live)], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        assert line.strip() == "holding", self.proc.stderr.read()

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        out, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0, err
        assert out.strip() == "published"


def cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kw)


def roster(path: Path, prefix: str, n: int = 7) -> Path:
    path.write_text("employee_id,department\n" + "".join(f"{prefix}{i},Queued\n" for i in range(n)))
    return path


def count_employees(live: Path) -> int:
    with duckdb.connect(str(live), read_only=True) as con:
        return con.execute("SELECT count(*) FROM employees").fetchone()[0]


def shown_employees(live: Path) -> int:
    """The head count the Overview shows: people employed on the data date in the released data (docs/PRIVACY.md), worked
    out with the independent pandas restatement of the rule (tests/released_reference.py)."""
    from tests.released_reference import release

    with duckdb.connect(str(live), read_only=True) as con:
        raw = {t: con.execute(f"SELECT * FROM {t}").df()
               for t in ("employees", "employee_history", "pairs", "sessions", "waves", "items", "responses",
                         "metrics")}
    return len(release(raw, 5)["roster_now"])  # people employed on the data date


@pytest.fixture
def live(demo_path, tmp_path) -> Path:
    path = tmp_path / "org.duckdb"
    shutil.copy(demo_path, path)
    return path


def test_the_dashboard_reads_while_another_process_imports_and_sees_the_rows_after(live, monkeypatch):
    before = shown_employees(live)
    monkeypatch.setenv("TWOWAY_DB", str(live))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Employees"] == f"{before:,}"

    holder = Holder(live)
    try:
        at.run()  # a rerun during the import: returns, with the data as published
        assert not at.exception, at.exception
        assert {m.label: m.value for m in at.metric}["Employees"] == f"{before:,}"
        listed = cli("imports", "--db", live, "--json")  # the read-only command works meanwhile
        assert listed.returncode == 0, listed.stderr
        assert [r["import_id"] for r in json.loads(listed.stdout)] == [1]
    finally:
        holder.release()

    at.run()  # the next rerun, without a restart
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Employees"] == f"{shown_employees(live):,}"
    assert shown_employees(live) > before  # the held rows are there now


def test_a_second_cli_import_waits_its_turn_with_a_message(live, tmp_path):
    before = count_employees(live)
    holder = Holder(live)
    err_path = tmp_path / "second.err"
    try:
        with open(err_path, "w") as err:
            second = subprocess.Popen([sys.executable, "-m", "analytics", "import",
                                       str(roster(tmp_path / "queued.csv", "Q")), "--db", str(live)],
                                      cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
            deadline = time.time() + 60
            while "Waiting for another import" not in err_path.read_text() and time.time() < deadline:
                time.sleep(0.1)
            assert "Waiting for another import" in err_path.read_text()
            assert second.poll() is None  # queued, not failed
    finally:
        holder.release()
    out, _ = second.communicate(timeout=120)
    assert second.returncode == 0, err_path.read_text()
    assert "Imported as #2" in out
    assert "in use" not in err_path.read_text()
    assert count_employees(live) == before + HELD_ROWS + 7


def _open_files(pid: int) -> set[str]:
    fd_dir = Path(f"/proc/{pid}/fd")
    out = set()
    for fd in fd_dir.iterdir():
        try:
            out.add(os.readlink(fd))
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to list a server's open files")
def test_two_app_instances_serve_one_snapshot_while_a_third_process_imports(live, tmp_path):
    before = shown_employees(live)
    servers = [Server({"TWOWAY_DB": str(live)}, tmp_path / f"server{i}.log") for i in (1, 2)]
    try:
        for s in servers:
            s.wait_ready()
        first = [get_page(s.base, "overview") for s in servers]
        for run in first:
            assert run.finished and not run.exceptions and not run.errors, run
            assert run.metrics["Employees"] == f"{before:,}"
        snap = snapshots.snapshot_dir(live) / snapshots.read_latest(live)["snapshot"]
        for s in servers:  # each instance has the snapshot open, never the live file
            files = _open_files(s.proc.pid)
            assert str(snap) in files and str(live) not in files

        holder = Holder(live)
        try:
            during = [get_page(s.base, "overview", "department=Held") for s in servers]
            for run in during:
                assert run.finished and not run.exceptions
                assert run.metrics["Employees"] == f"{before:,}"
        finally:
            holder.release()
        third = cli("import", roster(tmp_path / "third.csv", "T"), "--db", live)  # the real import path
        assert third.returncode == 0, third.stderr

        after = [get_page(s.base, "overview") for s in servers]
        now = shown_employees(live)
        assert now > before  # the held rows and the third import are there
        for run in after:
            assert run.finished and not run.exceptions, run
            assert run.metrics["Employees"] == f"{now:,}"
        newest = snapshots.snapshot_dir(live) / snapshots.read_latest(live)["snapshot"]
        assert newest != snap
        for s in servers:
            files = _open_files(s.proc.pid)
            assert str(newest) in files and str(live) not in files
    finally:
        for s in servers:
            s.stop()
