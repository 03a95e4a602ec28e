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
