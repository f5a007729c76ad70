"""Many sign-ins at once against gunicorn + PostgreSQL + Redis, each from its own real HTTP client.

Every sign-in must succeed or fail cleanly (mwsso's page, never a 500), the
database must hold exactly one Django user, association, identity and token
row per wiki user, and nothing may hang (each client has a deadline).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.production.browsers import Browser, Outcome
from tests.production.deploy import Deployment
from tests.production.report import report

pytestmark = pytest.mark.production

DEADLINE = 120  # seconds for a whole wave; a deadlock would blow through it


def run_at_once(jobs: list[Callable[[], Outcome]]) -> tuple[list[Outcome], float]:
    """Run every job in its own thread, released together; returns the outcomes and the wall time."""
    gate = threading.Barrier(len(jobs))

    def released(job: Callable[[], Outcome]) -> Outcome:
        gate.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(len(jobs)) as pool:
        started = time.perf_counter()
        futures = [pool.submit(released, job) for job in jobs]
        outcomes = [future.result(timeout=DEADLINE) for future in futures]
        return outcomes, time.perf_counter() - started


def assert_clean(outcomes: list[Outcome]) -> None:
    unclean = [(o.browser, o.step, o.status, o.body[:300]) for o in outcomes if not o.ok and not o.clean_failure]
    assert not unclean, unclean


def assert_one_of_everything(prod: Deployment, uid: int) -> int:
    """Exactly one Django user, association, identity and token row for wiki user ``uid``; returns the user id."""
    [(user_id,)] = prod.db.rows(
        "SELECT user_id FROM social_auth_usersocialauth WHERE provider = 'mediawiki' AND uid = %s", str(uid)
    )
    assert prod.db.rows("SELECT user_id FROM mwsso_wikiidentity WHERE sub = %s", str(uid)) == [(user_id,)]
    assert prod.db.rows("SELECT user_id, wiki FROM mwsso_accesstoken WHERE user_id = %s", user_id) == [
        (user_id, f"{prod.wiki.server_url}/w")  # the wiki's key: its server and script path
    ]
    return int(user_id)


def test_fifty_different_users_sign_in_at_once(prod: Deployment) -> None:
    subs = {f"Load Tester {i:02d}": prod.add_wiki_user(f"Load Tester {i:02d}") for i in range(50)}
    browsers = {name: Browser(prod.site.url, f"load-{i:02d}") for i, name in enumerate(subs)}
    log_start = prod.site.log_size()
    outcomes, elapsed = run_at_once([lambda n=name: browsers[n].login(subs[n]) for name in subs])

    assert_clean(outcomes)
    assert not prod.server_errors(log_start, "load-")
    assert [o.username for o in outcomes] == list(subs), [
        (o.browser, o.status, o.body[:200]) for o in outcomes if not o.ok
    ]
    assert sorted(name for (name,) in prod.db.rows("SELECT username FROM auth_user")) == sorted(subs)
    assert prod.db.counts() == dict.fromkeys(prod.db.counts(), 50)
    for sub in subs.values():
        assert_one_of_everything(prod, sub)
    # Each sign-in is two requests to the site (start, callback) that any worker may serve.
    crossed = sum(
        prod.site.hit(b.name, "POST", "/login/mediawiki/").pid
        != prod.site.hit(b.name, "GET", "/complete/mediawiki/").pid
        for b in browsers.values()
    )
    workers = Counter(h.pid for h in prod.site.hits() if h.browser.startswith("load-"))
    assert crossed > 0 and len(workers) >= 2, workers
    report(
        f"50 different users signing in at once: {len(outcomes) / elapsed:.1f} logins/s "
        f"({elapsed:.2f} s wall, 4 gunicorn workers; {crossed} of 50 finished on another worker than they started on; "
        f"requests per worker {sorted(workers.values())})"
    )


def test_ten_parallel_logins_of_the_same_new_user(prod: Deployment) -> None:
    sub = prod.add_wiki_user("Parallel Newcomer")
    browsers = [Browser(prod.site.url, f"same-{i}") for i in range(10)]
    log_start = prod.site.log_size()

    def wave() -> tuple[list[Outcome], float]:
        # Start and allow first, then send all ten callbacks together: the user is created in the callback.
        callbacks, _ = run_at_once([lambda b=b: b.allow(b.begin().headers["Location"], sub) for b in browsers])  # type: ignore[misc,return-value]
        return run_at_once([lambda b=b, c=c: b.finish(c) for b, c in zip(browsers, callbacks, strict=True)])  # type: ignore[misc]

    first, elapsed = wave()
    assert_clean(first)
    assert any(o.ok for o in first)
    # The callbacks really ran side by side: several workers each tried to create the user.
    creators = {h.pid for h in prod.site.hits() if h.browser.startswith("same-") and h.path == "/complete/mediawiki/"}
    assert len(creators) >= 2, creators
    user_id = assert_one_of_everything(prod, sub)
    assert prod.db.rows("SELECT id, username FROM auth_user") == [(user_id, "Parallel Newcomer")]

    # The same ten again, now that the user exists: updates race instead of inserts.
    second, _ = wave()
    assert_clean(second)
    assert assert_one_of_everything(prod, sub) == user_id and prod.db.counts()["auth_user"] == 1
    assert not prod.server_errors(log_start, "same-")
    oks = sum(o.ok for o in first + second)
    report(
        f"10 parallel logins of one new wiki user, twice: {oks} of 20 signed in, "
        f"{20 - oks} failed cleanly; one user, one identity, one token row "
        f"(first wave: {elapsed:.2f} s, callbacks on {len(creators)} workers at once)"
    )
    assert all(o.username == "Parallel Newcomer" for o in first + second if o.ok)
