"""The demo's settings refuse production mode without a secret key; ``make run`` (development mode) still starts."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything the test run set for Django or mwsso."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    return {**env, "DJANGO_SETTINGS_MODULE": "project.settings", **extra}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


def test_production_mode_without_a_secret_key_refuses_to_start() -> None:
    result = manage("check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "DJANGO_DEBUG=1" in result.stderr  # says what to set for development too
    assert "dev-only-insecure-key" not in result.stderr


def test_production_mode_with_a_secret_key_and_development_mode_without_one_start() -> None:
    assert manage("check", DJANGO_SECRET_KEY=secrets.token_urlsafe(50)).returncode == 0
    development = manage("check", DJANGO_DEBUG="1")
    assert development.returncode == 0, development.stderr


def test_the_demos_sqlite_database_is_in_wal_mode(tmp_path: Path) -> None:
    # Readers never wait for a writer and commits are short: a refresh's two UPDATEs hand the lock over fast.
    code = "from django.db import connection\nwith connection.cursor() as c:\n    c.execute('PRAGMA journal_mode')\n    print(c.fetchone()[0])"
    result = manage("shell", "-c", code, DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "wal"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.production
@pytest.mark.skipif(
    not (ROOT / ".venv" / ".installed").exists(), reason="make run needs the .venv that make test builds"
)
def test_make_run_still_starts_the_demo_and_the_local_wiki(tmp_path: Path) -> None:
    port, wiki_port = free_port(), free_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}", f"WIKI_PORT={wiki_port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        home = wiki = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                home = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                wiki = requests.get(f"http://127.0.0.1:{wiki_port}/wiki/Main_Page", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.3)
        assert home is not None and home.status_code == 200, process.poll()
        assert wiki is not None and wiki.status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert "ImproperlyConfigured" not in output
