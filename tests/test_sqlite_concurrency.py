"""Sign-ins finishing at the same moment on a file-based SQLite database (the demo's default) never answer 500.

The demo site runs under gunicorn with several worker processes on a SQLite
file, as ``make run`` users and small deployments run it; the local wiki is the
suite's. Callbacks are released together, so their transactions really collide.
Marked ``production`` (gunicorn), so they run in the SQLite pass that runs everything.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET
from tests.production.browsers import Browser
from tests.production.processes import Site, manage
from tests.production.services import free_port

WORKERS = 4
BROWSERS = 8


def site_env(database: Path, devwiki, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_SECRET_KEY="sqlite-concurrency-test-" + Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{database}",
        MWSSO_WIKI_URL=devwiki.index_url,
        MWSSO_CONSUMER_KEY=TEST_CONSUMER_KEY,
        MWSSO_CONSUMER_SECRET=TEST_CONSUMER_SECRET,
        MWSSO_CALLBACK="/complete/mediawiki/",
        MWSSO_TOKEN_KEYS=Fernet.generate_key().decode(),
        MWSSO_USER_AGENT="mwsso-sqlite-tests/0.1 (tests; mwsso@example.org)",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@pytest.fixture
def start_site(tmp_path: Path, devwiki) -> Iterator:  # type: ignore[no-untyped-def]
    started: list[Site] = []

    def start(**extra: str) -> tuple[Site, Path]:
        database = tmp_path / f"site{len(started)}.sqlite3"
        env = site_env(database, devwiki, **extra)
        manage(["migrate", "--noinput"], env, tmp_path / "manage.log")
        site = Site(free_port(), env, tmp_path, WORKERS)
        started.append(site)
        site.start()
        return site, database

    yield start
    for site in started:
        site.stop()


def callbacks_ready(site: Site, users: list[str]) -> list[tuple[Browser, str]]:
    """Each browser has started its sign-in and been allowed on the wiki; only the callbacks are left."""
    ready = []
    for n, user in enumerate(users):
        browser = Browser(site.url, f"b{n}")
        started = browser.begin()
        assert started.status_code == 302, started.text[:300]
        ready.append((browser, browser.allow(started.headers["Location"], user)))
    return ready


def complete_at_once(ready: list[tuple[Browser, str]]) -> list[tuple[int, str]]:
    gate = threading.Barrier(len(ready))

    def finish(browser: Browser, callback: str) -> tuple[int, str]:
        gate.wait(timeout=30)
        answer = browser.complete(callback)
        return answer.status_code, answer.text

    with ThreadPoolExecutor(len(ready)) as pool:
        return [f.result(timeout=90) for f in [pool.submit(finish, b, c) for b, c in ready]]


@pytest.mark.production
def test_callbacks_finishing_together_all_sign_in(start_site, devwiki):
    site, database = start_site()
    names = [devwiki.control("add_user", name=f"Racer {n}")["name"] for n in range(BROWSERS - 2)]
    for wave in range(3):
        # New users (INSERTs) and the same user twice at once (the create race), every wave.
        users = [*names, "Alice", "Alice"] if wave == 0 else [*names, "Bob", "Bob"]
        outcomes = complete_at_once(callbacks_ready(site, users))
        assert [status for status, _ in outcomes] == [302] * BROWSERS, [(s, b[:200]) for s, b in outcomes if s != 302]
    with sqlite3.connect(database) as db:
        links = db.execute("SELECT uid, COUNT(*) FROM social_auth_usersocialauth GROUP BY uid").fetchall()
        tokens = db.execute("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM mwsso_accesstoken").fetchone()
    assert len(links) == BROWSERS and all(count == 1 for _, count in links)
    assert tokens == (BROWSERS, BROWSERS)
    assert "Traceback" not in site.log.read_text()


@pytest.mark.production
def test_a_lock_held_past_the_timeout_ends_on_the_try_again_page(start_site, devwiki):
    site, database = start_site(DJANGO_SQLITE_TIMEOUT="1")
    [(browser, callback)] = callbacks_ready(site, ["Alice"])
    # Another writer that does not let go in time; it may wait for a write of the site's still finishing.
    holder = sqlite3.connect(database, timeout=10, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        answer = browser.complete(callback)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503, answer.text[:500]
    assert "Sign-in failed" in answer.text and "site_busy" in answer.text and "try again" in answer.text
    assert waited >= 1
    log = site.log.read_text()
    assert "login complete failed: site_busy" in log and "Traceback" not in log
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM auth_user").fetchone() == (0,)
    # Once the lock is gone, a new sign-in works.
    assert browser.login("Alice").ok


def test_only_a_locked_database_is_a_busy_site() -> None:
    from django.db import OperationalError

    from mwsso.views.signin import _is_database_locked

    assert _is_database_locked(OperationalError("database is locked"))
    assert _is_database_locked(OperationalError("database table is locked: auth_user"))
    # Any other database fault is a real error and surfaces as one.
    assert not _is_database_locked(OperationalError("no such table: auth_user"))
    assert not _is_database_locked(OperationalError("disk I/O error"))
