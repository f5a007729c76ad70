"""The wiki misbehaving during each step of the sign-in, with the site under gunicorn + PostgreSQL + Redis.

Whatever the wiki does (too slow, down, an HTML error page, a dropped
connection), the person gets mwsso's friendly page (400/502, never 500),
nothing is half-written in PostgreSQL, no one is signed in, and the very next
sign-in works once the wiki is back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.production.browsers import Browser
from tests.production.deploy import WIKI_TIMEOUT, Deployment
from tests.production.services import wait_for

pytestmark = pytest.mark.production

STEPS = ["initiate", "token", "identify"]
KINDS = ["slow", "down", "html", "http500", "drop"]
# The error code each kind must show; an HTML page is "unavailable" (503) or "bad response" by its status.
EXPECTED_CODE = {"slow": "wiki_unavailable", "down": "wiki_unavailable", "drop": "wiki_unavailable",
                 "http500": "wiki_unavailable", "html": "wiki_"}  # fmt: skip


def _kill_when_called(prod: Deployment, step: str, done: threading.Event) -> None:
    """Kill the wiki as soon as a ``step`` request is in flight (it is held there by a long "slow" fault)."""
    before = prod.wiki.control("stats")["counters"].get(step, 0)
    try:
        wait_for(lambda: prod.wiki.control("stats")["counters"].get(step, 0) > before, 10, f"the {step} request", 0.01)
        prod.wiki.kill()
    finally:
        done.set()


@contextmanager
def wiki_fault(prod: Deployment, step: str, kind: str) -> Iterator[None]:
    """The wiki misbehaves at ``step`` inside the block and is healthy again after it."""
    if kind == "down":
        killer = None
        if step == "initiate" or step == "token":
            prod.wiki.kill()  # nothing listens: connections are refused
        else:
            # The token step succeeded on a pooled keep-alive connection; the wiki dies during identify.
            prod.wiki.control("set_fault", step=step, kind="slow", seconds=60)
            killed = threading.Event()
            killer = threading.Thread(target=_kill_when_called, args=(prod, step, killed), daemon=True)
            killer.start()
        yield
        if killer is not None:
            killer.join(15)
            assert prod.wiki.proc is None, "the wiki was not killed during the identify request"
        prod.wiki.start()
    else:
        # "slow" answers after twice the site's timeout; the others answer at once.
        prod.wiki.control("set_fault", step=step, kind=kind, seconds=WIKI_TIMEOUT * 2)
        yield
        prod.wiki.control("set_fault", step=step, kind=None)


def assert_friendly(response: requests.Response, kind: str) -> None:
    assert response.status_code in (400, 502), (response.status_code, response.text[:500])
    assert "Sign-in failed" in response.text and EXPECTED_CODE[kind] in response.text, response.text[:1000]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("step", STEPS)
def test_wiki_fault_during_a_step(prod: Deployment, step: str, kind: str) -> None:
    name = f"Fault {step} {kind}"
    sub = prod.add_wiki_user(name)
    browser = Browser(prod.site.url, f"fault-{step}-{kind}")
    before, log_start = prod.db.counts(), prod.site.log_size()

    if step == "initiate":
        with wiki_fault(prod, step, kind):
            response = browser.begin()
    else:
        callback = browser.allow(browser.begin().headers["Location"], sub)
        with wiki_fault(prod, step, kind):
            response = browser.complete(callback)

    assert_friendly(response, kind)
    assert prod.db.counts() == before
    assert prod.db.rows("SELECT count(*) FROM auth_user WHERE username LIKE %s", name + "%") == [(0,)]
    assert browser.signed_in_as() is None
    assert not prod.server_errors(log_start, browser.name), prod.site.log_since(log_start)[-3000:]

    # The wiki is healthy again: the next sign-in works (a restarted wiki has forgotten the added user).
    if kind == "down":
        prod.add_wiki_user(name, sub)
    outcome = browser.login(sub)
    assert outcome.ok and outcome.username == name, outcome
    assert prod.db.counts() == {table: count + 1 for table, count in before.items()}
