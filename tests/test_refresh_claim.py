"""The refresh claim (issue 21): no lock or transaction held while the wiki answers; waiters re-read; a crashed claim expires."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from mwsso import api
from mwsso.models import AccessToken
from mwsso.tokens import refresh as token_refresh
from mwsso.tokens.refresh import refresh_token
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import CONFIDENTIAL, FaultyProxy
from tests.test_oauth2_refresh import (
    _database_url,
    _stored_by_a_worker,
    _worker,
    at_once,
    refreshes,
    stored_token,
    userinfo_name,
)
from tests.test_oauth2_refresh_local import oauth2_settings, stored  # noqa: F401

User = get_user_model()
REAL_SLEEP = time.sleep
# How long the slow wiki takes to answer a refresh while another user's write is timed: the write must be
# done while the refresh still waits (checked by the claim still being there), whatever the machine's speed.
SLOW_WIKI = 4.0


def claimed_by_another(token: AccessToken, seconds: float) -> None:
    AccessToken.objects.filter(pk=token.pk).update(
        refresh_claim="another-worker", refresh_claimed_until=timezone.now() + timedelta(seconds=seconds)
    )


class Sleeps:
    """Stands in for the waiting worker's ``time.sleep``: counts the pauses, runs ``then`` at the first."""

    def __init__(self, then: Any = None) -> None:
        self.count = 0
        self.then = then

    def __call__(self, seconds: float) -> None:
        self.count += 1
        if self.count == 1 and self.then is not None:
            self.then()
        REAL_SLEEP(min(seconds, 0.01))


# -- waiting for another worker's refresh (no wiki: 127.0.0.1:9 answers nothing) ------------------------
@pytest.mark.django_db
def test_a_waiter_rereads_and_uses_the_pair_another_worker_stored(oauth2_settings, monkeypatch):  # noqa: F811
    token = stored(-5)
    claimed_by_another(token, 30)

    def the_other_worker_finishes() -> None:
        AccessToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() + timedelta(hours=1), refresh_claim="", refresh_claimed_until=None,
            **AccessToken.credential_fields("access-token-two", "", refresh_token="refresh-token-two"),
        )  # fmt: skip

    sleeps = Sleeps(the_other_worker_finishes)
    monkeypatch.setattr(token_refresh, "_sleep", sleeps)
    fresh = refresh_token(token)
    assert fresh.get_credentials().key == "access-token-two" and sleeps.count == 1


@pytest.mark.django_db
def test_a_caller_after_the_refresh_reads_the_new_pair_in_one_query(oauth2_settings, django_assert_num_queries):  # noqa: F811
    token = stored(-5)
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + timedelta(hours=1),
        **AccessToken.credential_fields("access-token-two", "", refresh_token="refresh-token-two"),
    )
    with django_assert_num_queries(1):  # the read: no claim, no UPDATE, no wait
        fresh = refresh_token(token)
    assert fresh.get_credentials().key == "access-token-two"


@pytest.mark.django_db
def test_a_claim_released_without_a_new_pair_fails_the_waiter_at_once(oauth2_settings, monkeypatch):  # noqa: F811
    token = stored(-5)
    claimed_by_another(token, 30)
    before = AccessToken.objects.filter(pk=token.pk).values("fingerprint", "status", "encrypted").get()
    release = lambda: AccessToken.objects.filter(pk=token.pk).update(refresh_claim="", refresh_claimed_until=None)  # noqa: E731
    sleeps = Sleeps(release)
    monkeypatch.setattr(token_refresh, "_sleep", sleeps)
    with pytest.raises(api.WikiUnavailable) as caught:
        refresh_token(token)
    assert caught.value.code == "mwsso-refresh-failed" and sleeps.count == 1
    assert AccessToken.objects.filter(pk=token.pk).values("fingerprint", "status", "encrypted").get() == before


@pytest.mark.django_db
def test_a_waiter_gives_up_after_one_claim_length(oauth2_settings, monkeypatch):  # noqa: F811
    oauth2_settings.MWSSO_HTTP_DEADLINE = 0.2
    monkeypatch.setattr(token_refresh, "CLAIM_MARGIN", 0.1)
    assert token_refresh.claim_seconds() == pytest.approx(0.3)
    token = stored(-5)
    claimed_by_another(token, 30)  # a claim that outlasts the waiter (another machine's longer setting)
    sleeps = Sleeps()
    monkeypatch.setattr(token_refresh, "_sleep", sleeps)
    with pytest.raises(api.WikiUnavailable) as caught:
        refresh_token(token)
    assert caught.value.code == "mwsso-refresh-busy" and sleeps.count >= 1
    row = AccessToken.objects.get(pk=token.pk)
    assert row.refresh_claim == "another-worker" and row.fingerprint == token.fingerprint


@pytest.mark.django_db
def test_the_claim_lasts_the_http_deadline_and_a_margin(settings):
    settings.MWSSO_HTTP_TIMEOUT = (3.0, 7.0)
    assert token_refresh.claim_seconds() == 10.0 + token_refresh.CLAIM_MARGIN
    settings.MWSSO_HTTP_DEADLINE = 4.0
    assert token_refresh.claim_seconds() == 4.0 + token_refresh.CLAIM_MARGIN


# -- clocks apart: a claim's expiry is the database's clock, not each machine's -----------------------------
def _clock_off_by(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """This process's clock runs ``seconds`` ahead of the database's (behind when negative)."""
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_machine_whose_clock_runs_ahead_waits_for_a_running_claim(oauth2_settings, monkeypatch):  # noqa: F811
    token = stored(-5)
    assert token_refresh._claim(token, token.fingerprint, "worker-a", 30, "default")  # another machine's claim
    _clock_off_by(monkeypatch, 60)  # by this machine's clock that claim expired half a minute ago

    def worker_a_finishes() -> None:
        AccessToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() + timedelta(hours=1), refresh_claim="", refresh_claimed_until=None,
            **AccessToken.credential_fields("access-token-two", "", refresh_token="refresh-token-two"),
        )  # fmt: skip

    sleeps = Sleeps(worker_a_finishes)
    monkeypatch.setattr(token_refresh, "_sleep", sleeps)
    # Taking the claim over would send the refresh token a second time (to 127.0.0.1:9, where nothing answers).
    fresh = refresh_token(token, force=True)
    assert fresh.get_credentials().key == "access-token-two" and sleeps.count == 1


@pytest.mark.django_db
def test_a_machine_whose_clock_runs_behind_takes_over_an_expired_claim(o2_settings, o2wiki, monkeypatch):
    token = stored_token(o2wiki, expires_in=-10)
    old = token.get_credentials().key
    AccessToken.objects.filter(pk=token.pk).update(
        refresh_claim="a-crashed-worker", refresh_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    _clock_off_by(monkeypatch, -60)  # by this machine's clock the crashed worker's claim still runs for a minute
    sleeps = Sleeps()
    monkeypatch.setattr(token_refresh, "_sleep", sleeps)
    fresh = refresh_token(token, force=True)
    assert refreshes(o2wiki) == 1 and sleeps.count == 0  # taken over at once, refreshed once
    assert fresh.get_credentials().key != old
    token.refresh_from_db()
    assert (token.refresh_claim, token.refresh_claimed_until) == ("", None)


@pytest.mark.django_db
def test_on_mariadb_and_mysql_a_claims_expiry_is_utc_whatever_the_sessions_time_zone(oauth2_settings):  # noqa: F811
    if connection.vendor != "mysql":
        pytest.skip("MySQL's CURRENT_TIMESTAMP follows the session's time zone; the other databases' clocks do not")
    token = stored(-5)
    with connection.cursor() as cursor:
        cursor.execute("SET time_zone = '+05:00'")  # a server or session not on UTC
    try:
        assert token_refresh._claim(token, token.fingerprint, "worker-a", 30, "default")
        row = AccessToken.objects.annotate(claim_running=token_refresh._claim_running()).get(pk=token.pk)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET time_zone = @@global.time_zone")
    assert 25 < (row.refresh_claimed_until - timezone.now()).total_seconds() <= 30
    assert row.claim_running and token_refresh._claimed(row)


# -- against the local wiki ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_crashed_refreshers_claim_expires_and_the_token_is_refreshed_once(o2_settings, o2wiki, monkeypatch):
    token = stored_token(o2wiki, expires_in=-10)
    old = token.get_credentials().key
    claimed_by_another(token, 0.3)  # its worker died mid-refresh: nobody will release it
    sleeps = Sleeps()
    monkeypatch.setattr(token_refresh, "_sleep", lambda s: (sleeps(0), REAL_SLEEP(0.05)))
    assert userinfo_name(token.user) == "Alice"
    assert refreshes(o2wiki) == 1 and sleeps.count >= 1  # it waited for the claim to expire, then took it
    token.refresh_from_db()
    assert token.get_credentials().key != old
    assert (token.refresh_claim, token.refresh_claimed_until) == ("", None)


@pytest.mark.django_db
def test_a_late_writer_keeps_the_wikis_pair_when_its_claim_was_taken_over(o2_settings, o2wiki, monkeypatch):
    # The refresher's write comes after its claim expired (a busy database, a stalled process, clocks apart), and
    # another worker took the claim over meanwhile and sent the refresh token the wiki had just retired.
    token = stored_token(o2wiki, expires_in=-10)
    old = token.get_credentials().key
    real_store = token_refresh._store
    taken_over: list[str] = []

    def late_store(current: AccessToken, *args: Any) -> bool:
        AccessToken.objects.filter(pk=current.pk).update(refresh_claimed_until=timezone.now() - timedelta(seconds=1))
        with pytest.raises(api.SignInRequired) as refused:  # the other worker: the wiki refuses the retired token
            refresh_token(AccessToken.objects.get(pk=current.pk))
        taken_over.append(refused.value.code)
        return real_store(current, *args)

    monkeypatch.setattr(token_refresh, "_store", late_store)
    fresh = refresh_token(token)
    assert taken_over and refreshes(o2wiki) == 2
    token.refresh_from_db()
    # The wiki's answer to the first worker is the one valid pair: stored, valid, the claim cleared.
    assert token.is_usable and token.get_credentials().key == fresh.get_credentials().key != old
    assert (token.refresh_claim, token.refresh_claimed_until) == ("", None)
    monkeypatch.setattr(token_refresh, "_store", real_store)
    assert userinfo_name(token.user) == "Alice"


@pytest.mark.django_db
def test_a_refresh_inside_a_transaction_is_logged_once(o2_settings, o2wiki, caplog, monkeypatch):
    monkeypatch.setattr(token_refresh, "_atomic_caller_noted", False)
    token = stored_token(o2wiki, expires_in=-10)
    with caplog.at_level("INFO", logger="mwsso.api"):
        refresh_token(token)  # pytest-django's test transaction is a caller's atomic block
        refresh_token(AccessToken.objects.get(pk=token.pk), force=True)
    noted = [r for r in caplog.records if "inside a transaction" in r.getMessage()]
    assert len(noted) == 1 and "non_atomic_requests" in noted[0].getMessage()


@pytest.mark.django_db
def test_a_successful_refresh_leaves_no_claim(o2_settings, o2wiki):
    token = stored_token(o2wiki, expires_in=-10)
    assert userinfo_name(token.user) == "Alice"
    token.refresh_from_db()
    assert (token.refresh_claim, token.refresh_claimed_until) == ("", None) and token.refreshed_at is not None


@pytest.mark.django_db
def test_a_refusal_sets_the_status_and_releases_the_claim(o2_settings, o2wiki):
    token = stored_token(o2wiki, expires_in=-10)
    o2wiki.control("oauth2_revoke_token", refresh_token=token.get_credentials().refresh_token)
    with pytest.raises(api.SignInRequired):
        userinfo_name(token.user)
    token.refresh_from_db()
    assert not token.is_usable and (token.refresh_claim, token.refresh_claimed_until) == ("", None)


@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_refresh_once_per_expiry(o2_settings, o2wiki):
    if connection.vendor == "sqlite":
        pytest.skip(
            "threads need PostgreSQL or MariaDB (the in-memory test database); the processes tests cover SQLite"
        )
    with FaultyProxy(o2wiki.server_url) as proxy:
        proxy.delays["/oauth2/access_token"] = 0.3
        token = stored_token(o2wiki, expires_in=-10, via=proxy.url)
        for expiry in (1, 2):
            results = at_once(16, lambda: userinfo_name(token.user))
            assert results == ["Alice"] * 16
            assert refreshes(o2wiki) == expiry
            AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=10))


# -- no lock, no transaction while the wiki answers ---------------------------------------------------------
class Database:
    """The database the worker process refreshes in, seen from this process: the claim, other writes, open transactions."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = _database_url(tmp_path)
        self.file = tmp_path / "workers.sqlite3" if connection.vendor == "sqlite" else None

    def _run(self, sql: str, params: tuple = (), *, write: bool = False) -> Any:
        if self.file is not None:
            # A connection of its own to the workers' file database, as another web worker has.
            with sqlite3.connect(self.file, timeout=30) as db:
                return db.execute(sql, params).fetchall()
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), params)
            return None if write else cursor.fetchall()

    def claim(self, token_id: int) -> str:
        rows = self._run("SELECT refresh_claim FROM mwsso_accesstoken WHERE id = ?", (token_id,))
        return rows[0][0] if rows else ""

    def token_id(self, user_id: int) -> int:
        return self._run("SELECT id FROM mwsso_accesstoken WHERE user_id = ?", (user_id,))[0][0]

    def write_other_tokens(self, token_id: int) -> None:
        self._run(
            "UPDATE mwsso_accesstoken SET status_reason = ? WHERE id <> ?", ("written meanwhile", token_id), write=True
        )

    def open_transactions(self) -> int | None:
        """Connections to this database inside a transaction (besides this test's own); None where not countable."""
        if connection.vendor == "postgresql":
            sql = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            )
        elif connection.vendor == "mysql":
            sql = (
                "SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
                "ON p.id = t.trx_mysql_thread_id WHERE p.db = DATABASE() AND p.id <> CONNECTION_ID()"
            )
        else:
            return None
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_another_users_write_is_not_blocked_while_a_refresh_waits_on_a_slow_wiki(o2_settings, o2wiki, tmp_path):
    database = Database(tmp_path)
    env = {**os.environ, "DATABASE_URL": database.url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.update(
        MWSSO_OAUTH2_CLIENT_ID=CONFIDENTIAL[0],
        MWSSO_OAUTH2_CLIENT_SECRET=CONFIDENTIAL[1],
        MWSSO_WIKI_URL=o2wiki.index_url,
    )
    with FaultyProxy(o2wiki.server_url) as proxy:
        proxy.delays["/oauth2/access_token"] = SLOW_WIKI
        if database.file is not None:
            user_id = _stored_by_a_worker(o2wiki, env, proxy.url, others=("Bob", "Carol"))
        else:
            user_id = stored_token(o2wiki, expires_in=-10, via=proxy.url).user_id
            for name in ("Bob", "Carol"):
                AccessToken.objects.create(
                    user=User.objects.create_user(name), wiki=o2wiki.server_url, wiki_url=o2wiki.index_url,
                    consumer_key=CONFIDENTIAL[0], oauth_version=2,
                    **AccessToken.credential_fields(f"unused-{name}", "", refresh_token=f"unused-refresh-{name}"),
                )  # fmt: skip
        token_id = database.token_id(user_id)
        refresher = _worker("call", {"user_id": user_id, "start_at": time.time()}, env)
        try:
            waited = 0.0
            while not database.claim(token_id):  # the worker is now waiting on the slow wiki
                assert refresher.poll() is None and waited < 60, (
                    refresher.stderr.read()[-2000:] if refresher.stderr else ""
                )
                time.sleep(0.02)
                waited += 0.02
            open_transactions = database.open_transactions()
            database.write_other_tokens(token_id)
            # The write is done and the refresh has not finished: it did not wait for the refresh.
            still_claimed = database.claim(token_id)
            assert still_claimed and refresher.poll() is None
            out, err = refresher.communicate(timeout=120)
        finally:
            if refresher.poll() is None:
                refresher.kill()
    assert refresher.returncode == 0, err[-2000:]
    assert '"ok": true' in out and refreshes(o2wiki) == 1
    assert open_transactions in (None, 0)  # PostgreSQL and MariaDB: nobody "idle in transaction" meanwhile
    assert database.claim(token_id) == ""
