"""Sign-in start limits hold across gunicorn workers: the counts live in Redis, shared by every worker."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.production.browsers import Browser
from tests.production.deploy import LOGIN_RATE_LIMIT_IP, Deployment

pytestmark = pytest.mark.production


def _fresh_window(needed: float = 30) -> None:
    """Limits count in fixed one-minute windows: start where this test's burst fits into one."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.5)


def _workers(prod: Deployment, prefix: str) -> set[int]:
    return {h.pid for h in prod.site.hits() if h.browser.startswith(prefix) and h.path == "/login/mediawiki/"}


def test_the_session_limit_holds_across_workers(prod: Deployment) -> None:
    browser = Browser(prod.site.url, "rl-session")
    _fresh_window()
    statuses = [browser.begin().status_code for _ in range(14)]
    # Default 10 per minute per session, the very first start (before the session has a key) included.
    assert statuses == [302] * 10 + [429] * 4
    refused = browser.begin()
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many sign-in attempts" in refused.text
    assert len(_workers(prod, "rl-session")) >= 2, "all starts went to one worker: the test proves nothing"
    assert prod.wiki.control("stats")["counters"]["initiate"] == 10


def test_the_address_limit_holds_across_workers_and_ignores_forged_forwarded_for(prod: Deployment) -> None:
    total = LOGIN_RATE_LIMIT_IP + 10
    gate = threading.Barrier(total)

    def one(n: int) -> int:
        browser = Browser(prod.site.url, f"rl-ip-{n:03d}")
        # Each "client" claims another address; the site trusts no proxy, so they all count as 127.0.0.1.
        browser.http.headers["X-Forwarded-For"] = f"198.51.100.{n % 250}"
        gate.wait(timeout=30)
        return browser.begin().status_code

    _fresh_window()
    with ThreadPoolExecutor(total) as pool:
        statuses = list(pool.map(one, range(total), timeout=120))
    assert statuses.count(302) == LOGIN_RATE_LIMIT_IP and statuses.count(429) == total - LOGIN_RATE_LIMIT_IP
    assert len(_workers(prod, "rl-ip-")) >= 2
    assert prod.wiki.control("stats")["counters"]["initiate"] == LOGIN_RATE_LIMIT_IP
    assert "login start rate-limited" in prod.site.log.read_text()
