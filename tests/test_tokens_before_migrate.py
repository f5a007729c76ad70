"""``manage.py mwsso_tokens`` on a database that was never migrated says "run migrate first", not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_"))}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=f"sqlite:///{database}")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("action", [["import-social"], ["list"], ["verify"], ["rotate-keys"]])
def test_before_migrate_every_action_says_run_migrate_first(tmp_path, action):
    database = tmp_path / "new.sqlite3"
    result = manage("mwsso_tokens", *action, database=database)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "run 'python manage.py migrate' first" in result.stderr and "mwsso.0001_initial" in result.stderr
    assert "Traceback" not in result.stderr and "OperationalError" not in result.stderr


def test_after_migrate_it_runs(tmp_path):
    database = tmp_path / "new.sqlite3"
    assert manage("migrate", "--noinput", database=database).returncode == 0
    result = manage("mwsso_tokens", "import-social", database=database)
    assert result.returncode == 0, result.stderr
    assert "found 0 access tokens in plain text" in result.stdout
