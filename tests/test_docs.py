"""The README documents every setting and every command-line command and option."""

from __future__ import annotations

import re

import click
import pytest

from analytics.cli import cli
from tests.fixtures import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _env_settings() -> set[str]:
    found = set()
    for path in list((ROOT / "analytics").rglob("*.py")) + list((ROOT / "ui").rglob("*.py")) + \
            list((ROOT / "pages").rglob("*.py")) + [ROOT / "app.py"]:
        found |= set(re.findall(r"\b(TWOWAY_[A-Z0-9_]+)\b", path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("setting", sorted(_env_settings()))
def test_every_setting_is_documented(setting):
    assert f"`{setting}`" in README, f"{setting} is read by the code but missing from the README"


def _commands():
    for name, command in cli.commands.items():
        yield name, None
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                yield name, max(param.opts, key=len)


@pytest.mark.parametrize("command, option", list(_commands()))
def test_every_cli_command_and_option_is_documented(command, option):
    assert f"`{command}`" in README or f"analytics {command}" in README, f"command {command} undocumented"
    if option and option != "--help":
        section = README.split(f"### `{command}`", 1)[-1].split("\n### ", 1)[0]
        assert option in section, f"{command} {option} is missing from the README section of {command}"


def test_quick_start_is_two_commands_near_the_top():
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(commands) == 2
    assert README.index("```bash") < 400
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = next(c for c in commands if "test" in c).split("#")[0].strip()
    assert test_command in ci, "CI must run exactly the README's test command"


def _readme_template_columns(kind: str) -> dict[str, str]:
    """Column → "required" cell of the README's table under `#### {kind}.csv`."""
    section = README.split(f"#### {kind}.csv", 1)[1].split("\n#", 1)[0]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 2:
            for col in re.findall(r"`([a-z_]+)`", cells[0]):
                out[col] = cells[1]
    return out


@pytest.mark.parametrize("kind", ["employees", "pairs", "sessions", "metrics"])
def test_every_template_column_is_documented(kind):
    from analytics.importing.templates import template_columns

    assert set(template_columns(kind)) <= set(_readme_template_columns(kind)), kind


def test_the_roster_template_documents_its_optional_history_columns():
    """Issue #10: the roster template gains email, termination_date and effective_date, all optional."""
    from analytics.importing.templates import template_columns

    documented = _readme_template_columns("employees")
    for col in ("email", "termination_date", "effective_date"):
        assert col in template_columns("employees")
        assert documented[col] == "", (col, documented[col])  # optional: the "required" cell is empty
