"""docs/devwiki.md keeps up with the local wiki: every control action, command-line option, version and
pytest fixture it has is documented there."""

from __future__ import annotations

import re
from pathlib import Path

from mwsso_devwiki import cli, control, pytest_plugin
from mwsso_devwiki.versions import VERSIONS

MANUAL = (Path(__file__).resolve().parents[2] / "docs" / "devwiki.md").read_text(encoding="utf-8")


def test_every_control_action_has_a_row() -> None:
    assert [a for a in control.ACTIONS if f"| `{a}` |" not in MANUAL] == []


def test_every_command_line_option_is_shown() -> None:
    options = [o for action in cli.parser()._actions for o in action.option_strings if o.startswith("--")]
    assert [o for o in options if o != "--help" and f"{o}" not in MANUAL] == []


def test_every_version_has_a_column() -> None:
    header = next(line for line in MANUAL.splitlines() if line.startswith("| | 1.39"))
    assert re.findall(r"\d\.\d+", header) == list(VERSIONS)


def test_every_fixture_of_the_plugin_is_described() -> None:
    fixtures = [name for name in dir(pytest_plugin) if name.startswith("devwiki")]
    assert fixtures and [f for f in fixtures if f"`{f}`" not in MANUAL] == []
