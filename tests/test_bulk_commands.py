"""``import-social`` and ``rotate-keys`` at bulk speed (issue 21): a fixed number of queries per batch at N and 2N
rows, reruns that change nothing, and no transaction open while rotate-keys re-encrypts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from social_django.models import UserSocialAuth

from mwsso import crypto
from mwsso.models import AccessToken
from mwsso.protocol.identity import wiki_key
from mwsso.tokens import import_social_tokens, importing, maintenance, rotate_keys
from mwsso.tokens.maintenance import rewrite_ciphertexts

User = get_user_model()
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
N = 400
BATCH = 100


def count_queries(run: Callable[[], Any]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as captured:
        result = run()
    # Savepoints are the transaction's bookkeeping, not work per row.
    work = [q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    return result, len(work)


# -- import-social ----------------------------------------------------------------
def add_stock_rows(n: int) -> list[Any]:
    start = User.objects.count()
    users = User.objects.bulk_create([User(username=f"s{start + i:06d}", password="!") for i in range(n)])
    UserSocialAuth.objects.bulk_create(
        UserSocialAuth(
            user=user,
            provider="mediawiki",
            uid=str(start + i),
            extra_data={
                "auth_time": 1,
                "access_token": {"oauth_token": f"k{start + i}", "oauth_token_secret": f"s{start + i}"},
            },
        )
        for i, user in enumerate(users)
    )
    return users


@pytest.mark.django_db
def test_import_social_costs_the_same_queries_per_batch_at_n_and_2n_and_reruns_as_a_no_op(wiki_settings):
    add_stock_rows(N)
    result, at_n = count_queries(lambda: import_social_tokens(batch_size=BATCH))
    assert (result.found, result.imported, result.removed) == (N, N, N)
    add_stock_rows(N)
    result, at_2n = count_queries(lambda: import_social_tokens(batch_size=BATCH))
    assert (result.found, result.imported) == (N, N)
    # The same work for the same number of rows: no query depends on what was imported before.
    assert at_2n == at_n
    # A few queries per batch (read and lock, existing tokens, insert, remove the plain copies), not 6 per row;
    # SQLite splits an INSERT of 100 rows in two (its 999 variables per statement).
    batches = N // BATCH
    assert at_n <= 5 * batches + 1, f"{at_n} queries for {batches} batches"
    rerun, queries = count_queries(lambda: import_social_tokens(batch_size=BATCH))
    assert (rerun.found, rerun.imported, rerun.removed) == (0, 0, 0) and queries == 1
    assert AccessToken.objects.count() == 2 * N
    sample = AccessToken.objects.select_related("user").order_by("pk")[N + 7]
    number = int(sample.user.username[1:])
    assert sample.get_credentials().secret == f"s{number}" and sample.wiki == wiki_key(
        wiki_settings.SOCIAL_AUTH_MEDIAWIKI_URL
    )
    assert not UserSocialAuth.objects.filter(extra_data__has_key="access_token").exists()


@pytest.mark.django_db
def test_import_social_dry_run_counts_and_writes_nothing(wiki_settings):
    users = add_stock_rows(30)
    # One user with a second stock row (two wiki accounts): only one token per user and wiki.
    UserSocialAuth.objects.create(
        user=users[0], provider="mediawiki", uid="second",
        extra_data={"access_token": {"oauth_token": "k-second", "oauth_token_secret": "s-second"}},
    )  # fmt: skip
    dry = import_social_tokens(batch_size=7, dry_run=True)
    assert (dry.found, dry.imported, dry.already_present, dry.removed) == (31, 30, 1, 31)
    assert (
        not AccessToken.objects.exists()
        and UserSocialAuth.objects.filter(extra_data__has_key="access_token").count() == 31
    )
    done = import_social_tokens(batch_size=7)
    assert (done.found, done.imported, done.already_present, done.removed) == (31, 30, 1, 31)
    assert AccessToken.objects.get(user=users[0]).get_credentials().secret == "s0"


@pytest.mark.django_db
def test_import_social_keeps_a_token_a_sign_in_stored_during_the_batch(wiki_settings, monkeypatch):
    users = add_stock_rows(5)
    wiki = wiki_key(wiki_settings.SOCIAL_AUTH_MEDIAWIKI_URL)
    original = importing._stock_token_row
    signed_in: list[int] = []

    def sign_in_meanwhile(user_id, credentials):  # type: ignore[no-untyped-def]
        # After the batch saw no token for users[3], that user signs in: their token is newer than the stock one.
        if user_id == users[3].pk and not signed_in:
            newer = AccessToken(
                user_id=user_id, wiki=wiki, wiki_url="https://x.example/w/index.php", consumer_key="c", grants=["basic"]
            )
            newer.set_credentials("fresh-key", "fresh-secret")
            newer.save()
            signed_in.append(newer.pk)
        return original(user_id, credentials)

    monkeypatch.setattr(importing, "_stock_token_row", sign_in_meanwhile)
    result = import_social_tokens(batch_size=10)
    assert (result.found, result.imported, result.already_present, result.removed) == (5, 4, 1, 5)
    kept = AccessToken.objects.get(user=users[3])
    assert kept.pk == signed_in[0] and kept.get_credentials().secret == "fresh-secret"
    assert AccessToken.objects.count() == 5


# -- rotate-keys ------------------------------------------------------------------
def add_tokens(n: int) -> None:
    start = User.objects.count()
    users = User.objects.bulk_create([User(username=f"r{start + i:06d}", password="!") for i in range(n)])
    tokens = []
    for i, user in enumerate(users):
        token = AccessToken(
            user=user, wiki="https://w.example.org/w", wiki_url="https://w.example.org/w/index.php", consumer_key="c"
        )
        token.set_credentials(f"key-{start + i}", f"secret-{start + i}")
        tokens.append(token)
    AccessToken.objects.bulk_create(tokens)


@pytest.mark.django_db
def test_rotate_keys_costs_two_queries_per_batch_at_n_and_2n_and_reruns_as_a_no_op():
    with override_settings(MWSSO_TOKEN_KEYS=[OLD_KEY]):
        add_tokens(N)
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY, OLD_KEY]):
        result, at_n = count_queries(lambda: rotate_keys(batch_size=BATCH))
        assert (result.rotated, result.batches) == (N, N // BATCH)
        assert at_n == 2 * (N // BATCH) + 1  # one SELECT and one UPDATE per batch, and the last empty SELECT
    with override_settings(MWSSO_TOKEN_KEYS=[OLD_KEY, NEW_KEY]):
        assert rotate_keys(batch_size=BATCH).rotated == N  # back under the old key, then N more: 2N to rotate
        add_tokens(N)
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY, OLD_KEY]):
        result, at_2n = count_queries(lambda: rotate_keys(batch_size=BATCH))
        assert (result.rotated, at_2n) == (2 * N, 2 * (2 * N // BATCH) + 1)
        rerun, queries = count_queries(lambda: rotate_keys(batch_size=BATCH))
        assert (rerun.rotated, queries) == (0, 1)
        secrets = {t.user.username: t.get_credentials().secret for t in AccessToken.objects.select_related("user")}
        assert all(secret == f"secret-{int(name[1:])}" for name, secret in secrets.items()) and len(secrets) == 2 * N


@pytest.mark.django_db
def test_rewrite_never_overwrites_a_ciphertext_that_changed_meanwhile():
    add_tokens(2)
    first, second = AccessToken.objects.order_by("pk")
    stale = first.encrypted
    first.set_credentials("signed-in-again", "newer-secret")
    first.save()
    new = {first.pk: crypto.encrypt("x"), second.pk: crypto.encrypt("y")}
    assert rewrite_ciphertexts({first.pk: stale, second.pk: second.encrypted}, new, "kid") == 1
    assert AccessToken.objects.get(pk=first.pk).get_credentials().secret == "newer-secret"
    assert AccessToken.objects.get(pk=second.pk).encrypted == new[second.pk]


@pytest.mark.django_db(transaction=True)
def test_rotate_keys_holds_no_transaction_while_it_re_encrypts(monkeypatch):
    with override_settings(MWSSO_TOKEN_KEYS=[OLD_KEY]):
        add_tokens(30)
    seen: list[bool] = []
    original = maintenance.crypto.encrypt

    def watched(plaintext: str) -> str:
        seen.append(connection.in_atomic_block)
        return original(plaintext)

    monkeypatch.setattr(maintenance.crypto, "encrypt", watched)
    with override_settings(MWSSO_TOKEN_KEYS=[NEW_KEY, OLD_KEY]):
        assert rotate_keys(batch_size=8).rotated == 30
    # No row is locked while a batch is being re-encrypted: each batch's one UPDATE is its own statement.
    assert len(seen) == 30 and not any(seen)
