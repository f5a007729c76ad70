"""django-allauth is optional: nothing in mwsso imports it unless mwsso.contrib.allauth is installed.

The site of this run has no allauth app (its tests run in a second pytest, tests/allauth). Checked two
ways: no import statement outside mwsso/contrib/allauth names allauth, and a social-auth site that
starts, checks itself, loads its URLs and admin and imports every other module of mwsso has not
imported a single allauth module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRIB = ROOT / "mwsso" / "contrib" / "allauth"

PROGRAM = """
import pkgutil, sys, importlib
import django
django.setup()
from django.core.management import call_command
from django.urls import get_resolver
import mwsso
call_command("check", verbosity=0)
get_resolver().url_patterns  # the URLs and, through them, the admin
skipped = ("mwsso.contrib.allauth",)
for info in pkgutil.walk_packages(mwsso.__path__, "mwsso."):
    if not info.name.startswith(skipped):
        importlib.import_module(info.name)
print(sorted(name for name in sys.modules if name == "allauth" or name.startswith("allauth.")))
"""


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_no_module_outside_the_contrib_app_imports_allauth():
    importing = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "mwsso").rglob("*.py"))
        if not path.is_relative_to(CONTRIB) and any(n.split(".")[0] == "allauth" for n in _imported_modules(path))
    ]
    assert importing == []
    assert any(n.startswith("allauth.") for n in _imported_modules(CONTRIB / "provider.py"))  # the check sees imports


def test_a_social_auth_site_runs_without_importing_allauth():
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT, env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_allauth_is_only_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if "allauth" in d.lower()]
    assert project["optional-dependencies"]["allauth"] == ["django-allauth>=65.22"]
