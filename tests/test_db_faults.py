"""Damaged, mistyped and read-only database files (issue #8, item 4, "Database faults").

Each fault gives one clear message — on the dashboard one error and no figures, on the CLI
one line on stderr and a non-zero exit — and never a traceback or a new, empty database.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from tests.fixtures import ROOT


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analytics", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def truncate(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def zero_middle(path):
    """Overwrite the middle fifth of a file with zeros (the survey answers live there)."""
    data = bytearray(path.read_bytes())
    lo, hi = len(data) * 2 // 5, len(data) * 3 // 5
    data[lo:hi] = bytes(hi - lo)
    path.write_bytes(bytes(data))


@pytest.fixture
def copy(demo_path, tmp_path):
    path = tmp_path / "org.duckdb"
    shutil.copy(demo_path, path)
    return path


def _app(monkeypatch, path) -> AppTest:
    monkeypatch.setenv("TWOWAY_DB", str(path))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


@pytest.mark.parametrize("damage", [truncate, zero_middle], ids=["truncated", "corrupted"])
def test_a_damaged_file_is_one_message_on_the_dashboard_and_no_figures(copy, monkeypatch, damage):
    damage(copy)
    at = _app(monkeypatch, copy)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "damaged" in at.error[0].value and str(copy) in at.error[0].value
    assert len(at.metric) == 0 and len(at.dataframe) == 0


@pytest.mark.parametrize("damage", [truncate, zero_middle], ids=["truncated", "corrupted"])
@pytest.mark.parametrize("command", [["imports"], ["claims"], ["undo", "1", "--force"]], ids=lambda c: c[0])
def test_a_damaged_file_is_one_line_and_a_non_zero_exit_on_the_cli(copy, damage, command):
    damage(copy)
    res = cli(*command, "--db", copy)
    assert res.returncode != 0
    assert res.stdout == ""  # no partial figures
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "Traceback" not in res.stderr


def test_damage_after_a_snapshot_was_published_is_still_reported(copy, monkeypatch):
    assert cli("imports", "--db", copy).returncode == 0  # publishes a good snapshot
    zero_middle(copy)
    res = cli("imports", "--db", copy)
    assert res.returncode != 0 and "damaged" in res.stderr


def test_a_mistyped_twoway_db_is_refused_and_creates_nothing(tmp_path, monkeypatch):
    wrong = tmp_path / "ogr.duckdb"
    at = _app(monkeypatch, wrong)
    assert not at.exception
    assert len(at.error) == 1 and "TWOWAY_DB" in at.error[0].value and str(wrong) in at.error[0].value
    assert len(at.metric) == 0
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_file_can_be_viewed_and_listed(copy, monkeypatch):
    copy.chmod(0o444)
    try:
        at = _app(monkeypatch, copy)
        assert not at.exception, at.exception
        assert not at.error
        assert {m.label for m in at.metric} >= {"Employees"}
        listed = cli("imports", "--db", copy)
        assert listed.returncode == 0 and "#1" in listed.stdout
        refused = cli("undo", "1", "--db", copy)
        assert refused.returncode == 1 and "read-only" in refused.stderr
    finally:
        copy.chmod(0o644)
