"""The manual's reference tables are complete against the code, so they cannot drift.

- docs/settings.md lists every setting mwsso reads: each ``MWSSO_*`` of ``mwsso.app_settings`` with its type and
  its default exactly, and each social-auth ``SOCIAL_AUTH_*`` setting mwsso's code names; and every system check
  id that mwsso's registered checks can report, each once.
- docs/logging.md lists every logger of the app (names are literal strings, never ``__name__``) with each level
  it logs at.

Settings, checks and loggers added by later changes fail here until the manual says what they are.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.core import checks

from mwsso import __version__
from mwsso.app_settings import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "mwsso"
DOCS = ROOT / "docs"
LEVELS = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "error": "ERROR",
    "exception": "ERROR",
    "critical": "CRITICAL",
}


def app_modules() -> Iterator[tuple[Path, ast.Module]]:
    """The app's own modules: not the local wiki (a program of its own), not migrations."""
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP).parts
        if parts[0] not in ("devwiki", "migrations"):
            yield path, ast.parse(path.read_text(), str(path))


def docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (prose may name settings mwsso does not read)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def code_strings() -> Iterator[str]:
    for _path, tree in app_modules():
        skip = docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                yield node.value


def section(page: str, heading: str) -> str:
    text = (DOCS / page).read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    """Rows of the markdown tables in ``text`` whose first cell matches ``first_cell``, as lists of cells."""
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and re.fullmatch(first_cell, cells[0]):
            rows.append(cells)
    return rows


# -- settings ---------------------------------------------------------------------------------
def documented_settings() -> dict[str, list[str]]:
    rows = table_rows(section("settings.md", "Settings"), r"`(MWSSO|SOCIAL_AUTH)_[A-Z0-9_]+`")
    names = [row[0].strip("`") for row in rows]
    assert len(names) == len(set(names)), f"listed twice: {sorted(n for n in names if names.count(n) > 1)}"
    return {row[0].strip("`"): row[1:] for row in rows}


def test_every_mwsso_setting_is_listed_with_its_type_and_exact_default():
    documented = documented_settings()
    listed = {name for name in documented if name.startswith("MWSSO_")}
    assert listed == {f"MWSSO_{name}" for name in DEFAULTS}
    for name, default in DEFAULTS.items():
        kind, shown, meaning = documented[f"MWSSO_{name}"]
        assert meaning, name
        expected_type = "None" if default is None else type(default).__name__
        assert re.search(rf"\b{expected_type}\b", kind), f"MWSSO_{name}: type {kind!r} does not say {expected_type}"
        literal = shown.strip("`").replace("<version>", __version__)
        assert ast.literal_eval(literal) == default, f"MWSSO_{name}: the manual says {shown}, the code {default!r}"


def test_the_app_reads_no_mwsso_setting_outside_app_settings():
    named = {match for text in code_strings() for match in re.findall(r"\bMWSSO_([A-Z][A-Z0-9_]*[A-Z0-9])\b", text)}
    assert named - set(DEFAULTS) == set()


def social_auth_settings_read() -> set[str]:
    """SOCIAL_AUTH_* names in the code, and ``setting("X")`` reads (social-core prefixes the backend's name)."""
    names = {match for text in code_strings() for match in re.findall(r"\bSOCIAL_AUTH_[A-Z0-9_]*[A-Z0-9]\b", text)}
    for _path, tree in app_modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and (getattr(node.func, "attr", None) or getattr(node.func, "id", "")).endswith("setting")
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Constant)
            ):
                suffix = node.args[0].value
                names.add(
                    f"SOCIAL_AUTH_MEDIAWIKI_{suffix}"
                    if suffix.startswith("OAUTH2_")
                    else f"SOCIAL_AUTH_MEDIAWIKI[_OAUTH2]_{suffix}"
                )
    return names


def test_every_social_auth_setting_mwsso_reads_is_listed():
    documented = documented_settings()
    for name in sorted(social_auth_settings_read()):
        candidates = [name.replace("[_OAUTH2]", ""), name.replace("[_OAUTH2]", "_OAUTH2")] if "[" in name else [name]
        assert any(candidate in documented for candidate in candidates), f"{name} is not in docs/settings.md"
    for name, (kind, shown, meaning) in documented.items():
        assert kind and shown and meaning, name


def test_social_auth_mediawiki_settings_are_read_in_app_settings_alone():
    """One reader, one default each: any other module asks ``app_settings`` (or its backend's ``setting()``)."""
    found = []
    for path, tree in app_modules():
        if path == APP / "app_settings.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "getattr" and len(node.args) >= 2:
                name = node.args[1]
                text = name.value if isinstance(name, ast.Constant) else ast.unparse(name)
                if isinstance(text, str) and "SOCIAL_AUTH_MEDIAWIKI" in text:
                    found.append(f"{path.relative_to(APP)}:{node.lineno}")
    assert found == []


def test_social_auth_defaults_are_the_documented_ones():
    from mwsso.app_settings import SOCIAL_DEFAULTS

    documented = documented_settings()
    for name, default in SOCIAL_DEFAULTS.items():
        shown = documented[name][1]
        if default:
            assert shown == f"`{default!r}`".replace("'", '"'), f"{name}: the manual says {shown}, the code {default!r}"
        else:
            assert not shown.startswith(('`"http', '`"oob')), f"{name}: the manual shows a default, the code has none"


# -- system checks -------------------------------------------------------------------------------
def check_ids_in_code() -> set[str]:
    """Every id the app's registered checks can report (read from the modules that define them)."""
    registered = checks.registry.registry.get_checks(include_deployment_checks=True)
    modules = {inspect.getmodule(check) for check in registered if check.__module__.startswith("mwsso.")}
    assert modules, "no mwsso check is registered"
    return {match for module in modules for match in re.findall(r"mwsso\.[EWIC]\d{3}", inspect.getsource(module))}


def test_every_system_check_id_is_listed_once():
    rows = table_rows(section("settings.md", "System checks"), r"`mwsso\.[EWIC]\d{3}`")
    ids = [row[0].strip("`") for row in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == check_ids_in_code()
    assert all(row[1] for row in rows)


# -- loggers ---------------------------------------------------------------------------------------
def loggers_in_code() -> dict[str, set[str]]:
    """Logger name → the levels the app logs at on it (``exception`` is ERROR)."""
    found: dict[str, set[str]] = {}
    for path, tree in app_modules():
        variables: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "getLogger":
                (argument,) = node.args
                assert isinstance(argument, ast.Constant), (
                    f"{path}: a logger is named by a literal, not {ast.unparse(argument)}"
                )
                assert argument.value.startswith("mwsso."), f"{path}: {argument.value}"
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "attr", None) == "getLogger"
            ):
                variables[node.targets[0].id] = node.value.args[0].value  # type: ignore[attr-defined]
        for name in variables.values():
            found.setdefault(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in variables:
                if node.attr in LEVELS:
                    found[variables[node.value.id]].add(LEVELS[node.attr])
    return found


def test_every_logger_and_level_is_in_the_logging_table():
    rows = table_rows((DOCS / "logging.md").read_text(), r"`mwsso\.[a-z.]+`")
    documented: dict[str, set[str]] = {}
    for name, level, what in rows:
        assert what, name
        documented.setdefault(name.strip("`"), set()).add(level)
    assert documented == loggers_in_code()


LOGGING_PROGRAM = """
import logging, logging.config, sys
import django
django.setup()
namespace = {}
exec(sys.stdin.read(), namespace)
logging.config.dictConfig(namespace["LOGGING"])
logging.getLogger("mwsso.login").error("login begin failed: -- this site is misconfigured: X Fix: Y")
logging.getLogger("mwsso.tokens.verify").info("verified access token 1")
logging.getLogger("mwsso.api").info("badtoken from the wiki")
logging.getLogger("mwsso.api").warning("retry 1/3")
"""


def test_the_logging_example_configures_as_it_says():
    example = re.search(r"<!-- logging:settings -->\n```python\n(.*?)```", (DOCS / "logging.md").read_text(), re.S)
    assert example
    done = subprocess.run(
        [sys.executable, "-c", LOGGING_PROGRAM], input=example[1], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line.split(" ", 2)[2] for line in done.stderr.splitlines()]  # without the date and time
    assert lines == [
        "ERROR mwsso.login: login begin failed: -- this site is misconfigured: X Fix: Y",
        "INFO mwsso.tokens.verify: verified access token 1",
        "WARNING mwsso.api: retry 1/3",
    ]
