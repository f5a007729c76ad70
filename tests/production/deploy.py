"""A production-like deployment of the demo site, run by the tests in this folder.

The demo site runs under gunicorn (several sync workers, ``project.wsgi`` as
deployed), with PostgreSQL as its database and its sessions and cache in Redis;
the local wiki runs as a process of its own (``manage.py mwsso_devwiki``) and
is driven over HTTP through ``POST /_devwiki/control``. Nothing here knows about
pytest: the fixtures in conftest.py put the pieces together.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from cryptography.fernet import Fernet

from tests.production.processes import Site, WikiProcess, manage
from tests.production.services import DB_PREFIX, REDIS_HOST, REDIS_PORT, Database, free_port

# The Redis database the deployments use; each run keeps to its own key prefix in it.
REDIS_DB = 5
# The site's timeout for each call to the wiki (MWSSO_HTTP_TIMEOUT): short, so the "slow" faults stay quick,
# yet far above what the local wiki needs even with 50 sign-ins at once on 2 cores.
WIKI_TIMEOUT = 2.0
# Sign-in starts allowed per address and minute (MWSSO_LOGIN_RATE_LIMITS["ip"]); test_ratelimit goes past it.
LOGIN_RATE_LIMIT_IP = 60


def deployment_env(
    database_url: str, redis_url: str, wiki_index_url: str, consumer: tuple[str, str], timeout: float
) -> dict[str, str]:
    """The environment of every deployed process: only what project/settings.py reads, nothing from the test run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "MWSSO_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_SECRET_KEY="production-like-test-" + Fernet.generate_key().decode(),
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE="60",
        REDIS_URL=redis_url,
        MWSSO_WIKI_URL=wiki_index_url,
        MWSSO_CONSUMER_KEY=consumer[0],
        MWSSO_CONSUMER_SECRET=consumer[1],
        MWSSO_CALLBACK="/complete/mediawiki/",
        MWSSO_HTTP_TIMEOUT=str(timeout),
        MWSSO_TOKEN_KEYS=Fernet.generate_key().decode(),
        MWSSO_USER_AGENT="mwsso-production-tests/0.1 (tests; mwsso@example.org)",
        # Fifty sign-ins at once come from one address here (test_concurrency); the session limit stays the default.
        MWSSO_LOGIN_RATE_LIMIT_IP=f"{LOGIN_RATE_LIMIT_IP}/m",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Deployment:
    """Everything a production test talks to."""

    site: Site
    wiki: WikiProcess
    db: Database
    redis: redis.Redis
    env: dict[str, str]
    logdir: Path

    def add_wiki_user(self, name: str, sub: int | None = None) -> int:
        """A wiki user no site has seen yet, allowed by the default access policy; returns its central id."""
        spec: dict[str, Any] = {"name": name, "editcount": 321, "registered": "20150301120000", "email_confirmed": True}
        if sub is not None:
            spec["sub"] = sub
        return int(self.wiki.control("add_user", **spec)["sub"])

    @property
    def cache_prefix(self) -> str:
        """What every Redis key of this deployment starts with (Django's ``KEY_PREFIX:version:``)."""
        return self.env["REDIS_KEY_PREFIX"] + ":"

    def cache_keys(self) -> list[bytes]:
        return list(self.redis.scan_iter(match=self.cache_prefix + "*", count=1000))

    def clear_cache(self) -> None:
        for key in self.cache_keys():
            self.redis.delete(key)

    def server_errors(self, log_start: int, browser_prefix: str) -> list[str]:
        """Signs of a server error since ``log_start``: tracebacks, worker timeouts, 5xx other than 502."""
        log = self.site.log_since(log_start)
        found = [marker for marker in ("Traceback", "WORKER TIMEOUT", "Internal Server Error") if marker in log]
        found += [
            f"{h.status} {h.method} {h.path} ({h.browser}, worker {h.pid})"
            for h in self.site.hits()
            if h.browser.startswith(browser_prefix) and h.status >= 500 and h.status != 502
        ]
        return found

    def reset(self) -> None:
        """Between tests: an empty wiki state, empty tables and no Redis keys; same processes."""
        if self.wiki.proc is None or self.wiki.proc.poll() is not None:
            self.wiki.start()
        self.wiki.control("reset")
        self.db.truncate()
        self.clear_cache()


def deploy(
    logdir: Path, consumer: tuple[str, str], timeout: float = WIKI_TIMEOUT, workers: int = 4
) -> Iterator[Deployment]:
    """Create the database, migrate, collect static files, start the wiki and gunicorn; tear all down after.

    Several test runs may share this machine (developers, CI, pytest-xdist
    workers): each run has its own database, Redis key prefix and ports, named
    after the process id of the test runner.
    """
    run_id = str(os.getpid())
    Database.drop_stale()
    db = Database(DB_PREFIX + run_id)
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    cache = redis.Redis.from_url(redis_url)
    wiki_port, site_port = free_port(), free_port()
    env = deployment_env(db.url, redis_url, f"http://127.0.0.1:{wiki_port}/w/index.php", consumer, timeout)
    env["REDIS_KEY_PREFIX"] = f"mwsso-prod-test-{run_id}"
    db.create()
    wiki = WikiProcess(wiki_port, env, logdir / "devwiki.log")
    site = Site(site_port, env, logdir, workers)
    try:
        manage(["migrate", "--noinput"], env, logdir / "manage.log")
        manage(["collectstatic", "--noinput"], env, logdir / "manage.log")
        wiki.start()
        site.start()
        yield Deployment(site, wiki, db, cache, env, logdir)
    finally:
        site.stop()
        wiki.stop()
        db.drop()
        for key in cache.scan_iter(match=env["REDIS_KEY_PREFIX"] + ":*", count=1000):
            cache.delete(key)
        cache.close()
