"""The command line: help, the demo command, and friendly one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from analytics.cli import cli
from tests.fixtures import ROOT


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_subcommands():
    result = run("--help")
    assert result.exit_code == 0
    assert "demo" in result.output


def test_demo_writes_database_and_reports_json(tmp_path):
    path = tmp_path / "d.duckdb"
    result = run("demo", "--db", str(path), "--employees", "150", "--seed", "2", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"]["employees"] == 150
    assert summary["counts"]["responses"] > 0
    assert path.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["demo", "--employees", "100"], "--db"),
        (["demo", "--db", "{tmp}", "--employees", "100"], "is a directory"),
        (["demo", "--db", "{tmp}/x.duckdb", "--employees", "3"], "--employees"),
        (["demo", "--db", "{tmp}/x.duckdb", "--seed", "-1"], "--seed"),
        (["imports", "--db", "{tmp}/missing.duckdb"], "does not exist"),
        (["undo", "1", "--db", "{tmp}/missing.duckdb"], "does not exist"),
    ],
)
def test_user_mistakes_are_one_clear_line(tmp_path, args, message, monkeypatch):
    monkeypatch.delenv("TWOWAY_DB", raising=False)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "missing.duckdb").exists()


def test_existing_file_without_force_is_refused_by_the_real_process(tmp_path):
    path = tmp_path / "d.duckdb"
    cmd = [sys.executable, "-m", "analytics", "demo", "--db", str(path), "--employees", "100"]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode == 0
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [f"Error: {path} already exists; pass --force to replace it"]
