"""The demo site deployed as in production: gunicorn workers, PostgreSQL, sessions in Redis, the wiki apart."""

from __future__ import annotations

import os
import signal

import pytest

from tests.conftest import TEST_CONSUMER_SECRET
from tests.production.browsers import Browser
from tests.production.deploy import Deployment
from tests.production.services import pid_alive, wait_for

pytestmark = pytest.mark.production

SESSION_KEY = "1:django.contrib.sessions.cache"  # Django's cache session backend (after KEY_PREFIX:), version 1


def test_site_runs_on_gunicorn_workers_with_static_files(prod: Deployment) -> None:
    assert len(prod.site.worker_pids()) == 4
    home = Browser(prod.site.url, "static").get("/")
    assert home.status_code == 200 and "mwsso-login-button" in home.text
    assert home.headers["X-Frame-Options"] == "DENY" and home.headers["X-Content-Type-Options"] == "nosniff"
    # Served by whitenoise from collectstatic's output, with DEBUG off.
    css = Browser(prod.site.url, "static").get("/static/demo/site.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")


def test_login_writes_postgres_rows_and_a_redis_session(prod: Deployment) -> None:
    browser = Browser(prod.site.url, "alice")
    outcome = browser.login("Alice")
    assert outcome.ok and outcome.username == "Alice", outcome
    # The profile's live API call signed with the token just stored in PostgreSQL.
    assert '<dd id="api-username">Alice</dd>' in browser.get("/profile/").text
    users = prod.db.rows("SELECT id, username, password FROM auth_user")
    assert [(name, password.startswith("!")) for _, name, password in users] == [("Alice", True)]
    user_id = users[0][0]
    assert prod.db.rows("SELECT user_id, provider, uid FROM social_auth_usersocialauth") == [
        (user_id, "mediawiki", "3")
    ]
    key = f"{prod.wiki.server_url}/w"  # the wiki's key: its server and script path
    assert prod.db.rows("SELECT user_id, wiki, sub FROM mwsso_wikiidentity") == [(user_id, key, "3")]
    [(token_user, wiki, status, encrypted)] = prod.db.rows(
        "SELECT user_id, wiki, status, encrypted FROM mwsso_accesstoken"
    )
    assert (token_user, wiki) == (user_id, key) and status.lower() == "valid"
    # The token the wiki issued is stored only encrypted.
    [issued] = [t["key"] for t in prod.wiki.control("stats")["access_tokens"] if not t["revoked"]]
    assert issued not in str(encrypted)
    # The session lives in Redis (the cache session backend), not in PostgreSQL.
    session_key = browser.http.cookies["sessionid"]
    session_in_redis = prod.cache_prefix + SESSION_KEY + session_key
    assert prod.redis.exists(session_in_redis)
    assert prod.db.rows("SELECT count(*) FROM django_session") == [(0,)]
    assert not any(issued.encode() in (prod.redis.get(key) or b"") for key in prod.cache_keys())
    browser.logout()
    assert not prod.redis.exists(session_in_redis)
    assert browser.signed_in_as() is None


def test_login_started_on_one_worker_completes_on_another(prod: Deployment) -> None:
    """The worker that started the sign-in is gone when the wiki sends the browser back.

    The request token secret and the state live in the session, in Redis, so any
    other worker can finish the handshake. gunicorn's access log names the
    worker (pid) of each request.
    """
    browser = Browser(prod.site.url, "crossing")
    started = browser.begin()
    assert started.status_code == 302, started.text[:500]
    first = prod.site.hit("crossing", "POST", "/login/mediawiki/").pid
    callback = browser.allow(started.headers["Location"], "Alice")
    os.kill(first, signal.SIGTERM)  # gunicorn replaces a worker that exits
    wait_for(lambda: not pid_alive(first), 15, f"worker {first} to exit")
    outcome = browser.finish(callback)
    assert outcome.ok and outcome.username == "Alice", outcome
    second = prod.site.hit("crossing", "GET", "/complete/mediawiki/").pid
    assert second != first and second in prod.site.worker_pids()
    prod.site.wait_workers()


def test_logs_and_pages_hold_no_secrets(prod: Deployment) -> None:
    log_start = prod.site.log_size()
    browser = Browser(prod.site.url, "secrets")
    assert browser.login("Bob").ok
    profile = browser.get("/profile/").text
    [issued] = [t["key"] for t in prod.wiki.control("stats")["access_tokens"] if not t["revoked"]]
    logs = prod.site.log_since(log_start) + prod.site.access_log.read_text() + prod.wiki.log.read_text()
    for secret in (TEST_CONSUMER_SECRET, issued, prod.env["MWSSO_TOKEN_KEYS"], prod.env["DJANGO_SECRET_KEY"]):
        assert secret not in logs and secret not in profile
    assert "Traceback" not in logs
