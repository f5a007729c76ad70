"""Every module of the app imports on its own, first, in a fresh interpreter (no import cycle hides behind another)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mwsso

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(mwsso.__path__, "mwsso.")
    # The layers that import each other: tokens and the API client, the backends, the pipeline, the admin.
    if info.name.startswith(("mwsso.api", "mwsso.tokens", "mwsso.admin", "mwsso.diagnostics"))
    or info.name
    in ("mwsso.backends", "mwsso.socialauth.callbacks", "mwsso.configured", "mwsso.pipeline", "mwsso.policy", "mwsso.views.signin", "mwsso.models")
)
# Minimal settings and no admin autodiscovery, so that nothing but the app's own ready() is imported
# before the module: a module that imports only when another went before it fails here.
PROGRAM = """
import importlib, sys
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=[
        "django.contrib.admin.apps.SimpleAdminConfig",  # no autodiscovery: it would import mwsso.admin first
        "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
        "django.contrib.messages", "social_django", "mwsso",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SECRET_KEY="imports-test-only-0123456789abcdef0123456789abcdef",
)
django.setup()
importlib.import_module(sys.argv[1])
"""


def _import_alone(name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, name], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    return "" if done.returncode == 0 else f"{name}: {done.stderr.strip().splitlines()[-1]}"


def test_every_module_imports_first():
    with ThreadPoolExecutor(max_workers=4) as pool:
        failed = [line for line in pool.map(_import_alone, MODULES) if line]
    assert failed == []
