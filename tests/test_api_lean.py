"""The API client's cost per call (issue 21 item 5): one query per ``for_user`` and call, no more connections than threads."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from mwsso_devwiki.testing import DevWiki

from mwsso import api, http
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken, WikiIdentity
from tests.conftest import TEST_CONSUMER_KEY

pytestmark = pytest.mark.django_db
User = get_user_model()
THREADS = 16


def alice_with_token(devwiki: DevWiki) -> AccessToken:
    issued = devwiki.control("issue_token", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    user = User.objects.create_user("Alice")
    # Used a moment ago: ``last_used`` is written at most once a minute, so the calls measured write nothing.
    token = AccessToken(
        user=user,
        wiki=devwiki.server_url,
        wiki_url=devwiki.index_url,
        consumer_key=TEST_CONSUMER_KEY,
        last_used=timezone.now(),
    )
    token.set_credentials(issued["key"], issued["secret"])
    token.save()
    return token


def connections_opened(url: str) -> int:
    pools = http.get_session().get_adapter(url).poolmanager.pools
    return sum(pool.num_connections for pool in pools._container.values())


def test_for_user_and_a_call_cost_one_query(wiki_settings, devwiki, django_assert_num_queries):
    token = alice_with_token(devwiki)
    with django_assert_num_queries(1):
        data = api.for_user(token.user).get(action="query", meta="userinfo")
    assert data["query"]["userinfo"]["name"] == "Alice"


def test_for_user_picks_the_wiki_of_the_latest_sign_in_in_one_query(wiki_settings, devwiki, django_assert_num_queries):
    token = alice_with_token(devwiki)
    now = timezone.now()
    other = AccessToken.objects.create(
        user=token.user, wiki="https://other.example.org", wiki_url="https://other.example.org/w/index.php",
        consumer_key=TEST_CONSUMER_KEY, **AccessToken.credential_fields("other-key", "other-secret"),
    )  # fmt: skip
    WikiIdentity.objects.create(
        user=token.user, wiki=token.wiki, sub="1", username="Alice", refreshed_at=now - timedelta(days=1)
    )
    identity = WikiIdentity.objects.create(
        user=token.user, wiki=other.wiki, sub="1", username="Alice", refreshed_at=now
    )
    with django_assert_num_queries(1):
        assert api.for_user(token.user).token.pk == other.pk  # signed in there last
    identity.refreshed_at = now - timedelta(days=2)
    identity.save()
    assert api.for_user(token.user).token.pk == token.pk
    identity.delete()  # a token without identity comes after those with one, however new
    assert api.for_user(token.user).token.pk == token.pk
    WikiIdentity.objects.filter(user=token.user).delete()  # no identity at all: the newest token
    assert api.for_user(token.user).token.pk == other.pk
    AccessToken.objects.filter(pk=other.pk).update(created=token.created - timedelta(seconds=1))
    assert api.for_user(token.user).token.pk == token.pk
    # Asked for a wiki by name, its own token answers.
    assert api.for_user(token.user, devwiki.index_url).token.pk == token.pk


def test_the_pool_keeps_a_connection_per_thread_and_opens_no_more(wiki_settings, devwiki):
    assert app_settings.HTTP_POOL_SIZE >= 32  # typical thread counts and verify's concurrency fit
    token = alice_with_token(devwiki)
    client = api.for_user(token.user)  # reads only, so one client serves every thread
    gate = threading.Barrier(THREADS)
    failures: list[str] = []

    def calls() -> None:
        try:
            gate.wait(10)
            for _ in range(10):
                client.get(action="query", meta="userinfo")
        except Exception as err:  # reported by the assertion below
            failures.append(repr(err))

    threads = [threading.Thread(target=calls) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    assert 1 <= connections_opened(devwiki.api_url) <= THREADS


def test_a_small_pool_opens_more_connections_than_threads(wiki_settings, devwiki):
    # What the test above guards against: with fewer pooled connections than threads, connections
    # beyond the pool are opened, used once and closed, again and again.
    # One pooled connection and 30 calls per thread: eight threads overlap however fast the calls are (with 2
    # and 10 calls, faster calls once let the threads take turns on 8 connections).
    wiki_settings.MWSSO_HTTP_POOL_SIZE = 1
    http.reset_session()
    token = alice_with_token(devwiki)
    client = api.for_user(token.user)
    gate = threading.Barrier(8)

    def calls() -> None:
        gate.wait(10)
        for _ in range(30):
            client.get(action="query", meta="userinfo")

    threads = [threading.Thread(target=calls) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert connections_opened(devwiki.api_url) > 8


def test_a_token_is_decrypted_once_per_ciphertext_and_keys(wiki_settings, devwiki, settings, monkeypatch):
    from cryptography.fernet import Fernet

    from mwsso.api import tokens

    token = alice_with_token(devwiki)
    tokens.clear_signer_cache()
    decrypted = []
    real = AccessToken.get_credentials
    monkeypatch.setattr(AccessToken, "get_credentials", lambda self: decrypted.append(self.pk) or real(self))
    first = api.for_user(token.user)
    assert api.for_user(token.user).signer is first.signer  # the second for_user decrypts nothing
    assert api.for_user(token.user).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
    assert decrypted == [token.pk]
    assert not any(secret in repr(first.signer) for secret in first.signer.secrets)

    # A new ciphertext (a new sign-in, a refresh, a rotation) is a new entry: the new pair is used.
    issued = devwiki.control("issue_token", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    token.set_credentials(issued["key"], issued["secret"])
    token.save()
    renewed = api.for_user(token.user).signer
    assert renewed is not first.signer and renewed.fingerprint == token.fingerprint
    assert len(decrypted) == 2

    # Other token keys: what the old ones decrypted is not used; a token the new keys cannot read is unusable.
    settings.MWSSO_TOKEN_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(api.TokenUnusable):
        api.for_user(token.user)


def test_the_kept_signers_are_bounded(monkeypatch):
    from mwsso.api import tokens

    tokens.clear_signer_cache()
    monkeypatch.setattr(tokens, "SIGNER_CACHE_SIZE", 3)
    user = User.objects.create_user("Many")
    for number in range(5):
        token = AccessToken(user=user, wiki="https://w.example.org", wiki_url="https://w.example.org/w/index.php",
                            consumer_key=TEST_CONSUMER_KEY, oauth_version=2)  # fmt: skip
        token.set_credentials(f"access-{number}", "")
        assert tokens.signer_for(token).fingerprint == token.fingerprint
    assert len(tokens._signers) == 3
