"""Refreshing OAuth 2.0 tokens against the local wiki: transparent, once, under a lock across threads and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from mwsso_devwiki.testing import DevWiki

from mwsso import api, signals
from mwsso.models import AccessToken
from tests.dbdump import database_dump
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import CONFIDENTIAL, PUBLIC, FaultyProxy

User = get_user_model()
REPO = Path(__file__).resolve().parents[1]
CALLERS = 8
# The wiki takes this long to answer a refresh in the concurrency tests: every caller arrives while
# the first refresh is in flight, so without the lock several would refresh (and burn the token).
SLOW_REFRESH = 0.5


def issue(wiki: DevWiki, client: tuple[str, str] = CONFIDENTIAL, user: str = "Alice") -> dict:
    return wiki.control("oauth2_issue_token", client_id=client[0], user=user)


def stored_token(
    wiki: DevWiki, *, expires_in: float = 3600, client: tuple[str, str] = CONFIDENTIAL, via: str | None = None
) -> AccessToken:
    """Alice's token as a sign-in stores it (issued by the wiki without the browser dance); ``via`` a proxy URL."""
    pair = issue(wiki, client)
    user = User.objects.create_user("Alice")
    return AccessToken.objects.create(
        user=user, wiki=wiki.server_url, wiki_url=f"{via}/w/index.php" if via else wiki.index_url, consumer_key=client[0], oauth_version=2,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
        **AccessToken.credential_fields(pair["access_token"], "", refresh_token=pair["refresh_token"]),
    )  # fmt: skip


def refreshes(wiki: DevWiki) -> int:
    return wiki.control("oauth2_counts")["counts"]["refresh"]


def userinfo_name(user) -> str:  # type: ignore[no-untyped-def]
    return api.for_user(user).get(action="query", meta="userinfo")["query"]["userinfo"]["name"]


class Recorder:
    def __init__(self, signal) -> None:  # type: ignore[no-untyped-def]
        self.calls: list[dict] = []
        self.signal = signal

    def __call__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(kwargs)

    def __enter__(self) -> Recorder:
        self.signal.connect(self, weak=False, dispatch_uid=id(self))
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.signal.disconnect(dispatch_uid=id(self))


# -- one caller ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_expired_token_is_refreshed_before_the_call(o2_settings, o2wiki):
    token = stored_token(o2wiki, expires_in=-10)
    old = token.get_credentials()
    with Recorder(signals.token_refreshed) as refreshed:
        assert userinfo_name(token.user) == "Alice"
    assert refreshes(o2wiki) == 1 and len(refreshed.calls) == 1
    token.refresh_from_db()
    new = token.get_credentials()
    assert new.key != old.key and new.refresh_token != old.refresh_token
    assert token.expires_at > timezone.now() + timedelta(minutes=55) and token.refreshed_at is not None
    # The next call uses the new pair: no more refreshes.
    assert userinfo_name(token.user) == "Alice" and refreshes(o2wiki) == 1
    text = database_dump()
    assert not any(secret in text for secret in (new.key, new.refresh_token, old.key, old.refresh_token))


@pytest.mark.django_db
def test_the_wiki_saying_invalid_access_token_gets_one_refresh_and_a_retry(o2_settings, o2wiki):
    token = stored_token(o2wiki, expires_in=3600)  # we think it is fresh; the wiki has expired it
    o2wiki.control("oauth2_expire", access_token=token.get_credentials().key)
    assert userinfo_name(token.user) == "Alice"
    assert refreshes(o2wiki) == 1
    token.refresh_from_db()
    assert token.status == AccessToken.Status.VALID


@pytest.mark.django_db
def test_a_refresh_token_past_its_lifetime_means_sign_in_again(o2_settings, o2wiki):
    token = stored_token(o2wiki, expires_in=-10)
    o2wiki.control("oauth2_expire", refresh_token=token.get_credentials().refresh_token)
    with Recorder(signals.token_refresh_failed) as failed, pytest.raises(api.SignInRequired) as caught:
        userinfo_name(token.user)
    assert isinstance(caught.value, api.SignInExpired)
    token.refresh_from_db()
    assert token.status == AccessToken.Status.INVALID and "Token has expired" in token.status_reason
    assert failed.calls and failed.calls[0]["final"] is True
    # The status sticks: the next call asks nothing of the wiki.
    with pytest.raises(api.TokenInvalid):
        userinfo_name(token.user)
    assert refreshes(o2wiki) == 1


@pytest.mark.django_db
def test_the_1_39_one_minute_refresh_lifetime(o2_settings, o2wiki):
    o2wiki.control("oauth2_set_lifetimes", refresh_token=1)
    token = stored_token(o2wiki, expires_in=-10)
    time.sleep(1.2)
    with pytest.raises(api.SignInExpired):
        userinfo_name(token.user)
    token.refresh_from_db()
    assert token.status == AccessToken.Status.INVALID


@pytest.mark.django_db
def test_a_revoked_grant_is_refused_at_refresh_and_the_status_set(o2_settings, o2wiki):
    token = stored_token(o2wiki, expires_in=-10)
    o2wiki.control("oauth2_revoke_token", refresh_token=token.get_credentials().refresh_token)
    with pytest.raises(api.SignInRequired):
        userinfo_name(token.user)
    token.refresh_from_db()
    assert token.status in (AccessToken.Status.REVOKED, AccessToken.Status.INVALID) and token.status_reason


@pytest.mark.django_db
def test_a_public_client_with_the_shown_secret_refreshes(o2_settings, o2wiki):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = PUBLIC
    token = stored_token(o2wiki, expires_in=-10, client=PUBLIC)
    assert userinfo_name(token.user) == "Alice" and refreshes(o2wiki) == 1


@pytest.mark.django_db
def test_a_public_client_without_secret_sends_no_refresh_and_says_sign_in_again(o2_settings, o2wiki):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = PUBLIC[0], ""
    token = stored_token(o2wiki, expires_in=-10, client=PUBLIC)
    with pytest.raises(api.SignInExpired) as caught:
        userinfo_name(token.user)
    assert "sign in again" in caught.value.info and refreshes(o2wiki) == 0


@pytest.mark.django_db
def test_a_wrong_client_secret_at_refresh_is_the_sites_misconfiguration_and_changes_nothing(
    o2_settings, o2wiki, caplog
):
    # The wiki answers invalid_client: this site's set-up is wrong, not the user's token.
    token = stored_token(o2wiki, expires_in=-10)
    before = AccessToken.objects.filter(pk=token.pk).values().get()
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "not-the-secret-at-all"
    with Recorder(signals.token_invalidated) as invalidated, pytest.raises(api.SiteMisconfigured) as caught:
        userinfo_name(token.user)
    assert caught.value.code == "mwsso-refresh-invalid_client" and not isinstance(caught.value, api.SignInRequired)
    assert "not-the-secret-at-all" not in str(caught.value) + repr(caught.value) + caplog.text
    assert "invalid_client" in caplog.text
    assert AccessToken.objects.filter(pk=token.pk).values().get() == before  # status, pair and claim alike
    assert not invalidated.calls
    # Once the site is fixed, the same stored refresh token works: it was not burned.
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = CONFIDENTIAL[1]
    assert userinfo_name(token.user) == "Alice" and refreshes(o2wiki) == 2  # the refused one, and this one


@pytest.mark.django_db
def test_verify_checks_oauth2_tokens_through_the_profile(o2_settings, o2wiki):
    from mwsso.tokens import verify_token

    token = stored_token(o2wiki)
    assert verify_token(token).status == AccessToken.Status.VALID
    o2wiki.control("oauth2_revoke_token", access_token=token.get_credentials().key)
    result = verify_token(token)
    assert result.status == AccessToken.Status.REVOKED and "revoked" in result.reason


# -- many callers at once ------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_eight_threads_with_the_same_expired_token_refresh_once(o2_settings, o2wiki):
    if connection.vendor == "sqlite":
        # The shared in-memory test database locks whole tables between threads (SQLITE_LOCKED, no busy
        # wait): the processes test below covers SQLite's real (file) lock.
        pytest.skip("threads need PostgreSQL or MariaDB; SQLite is covered by the processes test")
    with FaultyProxy(o2wiki.server_url) as proxy:
        proxy.delays["/oauth2/access_token"] = SLOW_REFRESH
        token = stored_token(o2wiki, expires_in=-10, via=proxy.url)
        results = at_once(CALLERS, lambda: userinfo_name(token.user))
    assert results == ["Alice"] * CALLERS
    assert refreshes(o2wiki) == 1


def at_once(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads released together; each one's result, or the repr of its exception."""
    gate = threading.Barrier(count)
    results: list[Any] = []

    def run() -> None:
        try:
            gate.wait(10)
            results.append(work())
        except Exception as err:  # reported by the caller's assertion
            results.append(repr(err))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _database_url(tmp_path: Path) -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[connection.vendor]
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"{scheme}://{auth}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def _worker(action: str, args: dict, env: dict[str, str], timeout: float = 120) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.oauth2_worker", action, json.dumps(args)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_eight_processes_with_the_same_expired_token_refresh_once(o2_settings, o2wiki, tmp_path):
    with FaultyProxy(o2wiki.server_url) as proxy:
        proxy.delays["/oauth2/access_token"] = SLOW_REFRESH
        outcomes = _processes_call(o2wiki, tmp_path, proxy.url)
    assert outcomes == [{"ok": True, "name": "Alice"}] * CALLERS
    assert refreshes(o2wiki) == 1


def _processes_call(o2wiki: DevWiki, tmp_path: Path, via: str) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": _database_url(tmp_path), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.update(
        MWSSO_OAUTH2_CLIENT_ID=CONFIDENTIAL[0],
        MWSSO_OAUTH2_CLIENT_SECRET=CONFIDENTIAL[1],
        MWSSO_WIKI_URL=o2wiki.index_url,
    )
    if connection.vendor == "sqlite":
        # A file database the processes share, with SQLite's own write lock.
        user_id = _stored_by_a_worker(o2wiki, env, via)
    else:
        user_id = stored_token(o2wiki, expires_in=-10, via=via).user_id
    return _calls_at_once(user_id, env)


def _stored_by_a_worker(
    o2wiki: DevWiki, env: dict[str, str], via: str, client: tuple[str, str] = CONFIDENTIAL, others: tuple[str, ...] = ()
) -> int:
    """Alice's expired token (and ``others``' tokens) stored by a worker process in its own database (``env``'s); her user id."""
    pair = issue(o2wiki, client)
    args = {
        "username": "Alice", "wiki": o2wiki.server_url, "wiki_url": f"{via}/w/index.php", "client_id": client[0],
        "expires_in": -10, "access_token": pair["access_token"], "refresh_token": pair["refresh_token"],
        "others": list(others),
    }  # fmt: skip
    setup = _worker("setup", args, env)
    out, err = setup.communicate(timeout=120)
    assert setup.returncode == 0, err[-2000:]
    return json.loads(out)["user_id"]


def _calls_at_once(user_id: int, env: dict[str, str]) -> list[dict]:
    """CALLERS worker processes each making one API call as the user, all at the same moment; their outcomes."""
    start_at = time.time() + 4  # every process imported Django and is waiting by then
    procs = [_worker("call", {"user_id": user_id, "start_at": start_at}, env) for _ in range(CALLERS)]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        outcomes.append(json.loads(out))
    return outcomes
