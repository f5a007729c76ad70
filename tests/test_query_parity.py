"""A sign-in costs no more queries than social-core's stock backend on the same database, and still writes what changed.

The stock backend and its views run against the same local wiki in the same test run (see
``tests/test_import_social.py``); both sides use the test settings' database sessions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mwsso import signals
from mwsso.models import AccessToken, WikiIdentity
from tests.conftest import SITE_HOST, wiki_login
from tests.test_import_social import stock_site, switch_to_mwsso  # noqa: F401 (stock_site is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# The rows mwsso keeps that the stock backend does not: WikiIdentity and AccessToken (one INSERT each).
MWSSO_ONLY_ROWS = 2
# The first sign-in with grants the database has never seen also stores their GrantSet (one upsert); a new
# user whose grants are a combination already stored costs no more than MWSSO_ONLY_ROWS.
NEW_GRANT_SET = 1
# Stock rewrites extra_data whenever its auth_time (seconds) changed since the last sign-in: not every time.
STOCK_AUTH_TIME_WRITE = 'UPDATE "social_auth_usersocialauth"'


def sign_in(devwiki, user: str = "Alice", client: Client | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """A whole sign-in in a new browser; the SQL the site ran."""
    client = client or Client(HTTP_HOST=SITE_HOST)
    with CaptureQueriesContext(connection) as queries:
        response = wiki_login(client, devwiki, user)
    assert response.status_code == 302 and "/error" not in response["Location"], response
    return [query["sql"] for query in queries]


def mwsso_rows(sql: list[str]) -> list[str]:
    """Statements on mwsso's own tables (the association SELECT only reads them in subqueries)."""
    quoted = [q.replace("`", '"') for q in sql]  # MariaDB quotes names with backticks
    return [
        q
        for q in quoted
        if q.startswith(('SELECT "mwsso_', 'UPDATE "mwsso_', 'INSERT INTO "mwsso_', 'DELETE FROM "mwsso_'))
    ]


def test_sign_in_costs_no_more_queries_than_the_stock_backend(stock_site, devwiki):  # noqa: F811
    stock_first = sign_in(devwiki)
    stock_returning = [q for q in sign_in(devwiki) if not q.startswith(STOCK_AUTH_TIME_WRITE)]
    from django.contrib.auth import get_user_model

    get_user_model().objects.all().delete()
    switch_to_mwsso(stock_site)
    ours_first = sign_in(devwiki)
    ours_returning = sign_in(devwiki)
    ours_first_known_grants = sign_in(devwiki, "Bob")
    assert len(ours_returning) <= len(stock_returning), "\n".join(ours_returning)
    assert len(ours_first_known_grants) <= len(stock_first) + MWSSO_ONLY_ROWS, "\n".join(ours_first_known_grants)
    assert len(ours_first) <= len(stock_first) + MWSSO_ONLY_ROWS + NEW_GRANT_SET, "\n".join(ours_first)


def test_a_returning_sign_in_that_changes_nothing_writes_nothing(login, site_client, devwiki):
    sign_in(devwiki)
    token, identity = AccessToken.objects.get(), WikiIdentity.objects.get()
    sql = sign_in(devwiki)
    assert mwsso_rows(sql) == [] and not any(q.startswith(("SAVEPOINT", "RELEASE")) for q in sql), sql
    # The only transactions are Django's session writes (three).
    assert sum(q.startswith("BEGIN") for q in sql) <= 3
    assert AccessToken.objects.get().updated == token.updated
    assert WikiIdentity.objects.get().refreshed_at == identity.refreshed_at


@pytest.mark.parametrize("status", [AccessToken.Status.ERROR, AccessToken.Status.INVALID])
def test_a_sign_in_makes_the_same_token_valid_again(login, devwiki, status):
    sign_in(devwiki)
    token = AccessToken.objects.get()
    # What the API client or mwsso_tokens verify records (the wiki hands out the same token again).
    assert token.record_status(status, "the wiki said so")
    sql = sign_in(devwiki)
    token.refresh_from_db()
    assert (token.status, token.status_reason) == (AccessToken.Status.VALID, "")
    written = [q for q in mwsso_rows(sql) if "mwsso_accesstoken" in q]
    assert len(written) == 1 and written[0].startswith("UPDATE"), written


def test_a_changed_identity_is_one_update_without_a_read_or_savepoint(login, devwiki):
    sign_in(devwiki)
    devwiki.control("rename", sub="3", new_name="Alice Renamed")
    sql = sign_in(devwiki, "Alice Renamed")
    written = [q for q in mwsso_rows(sql) if "mwsso_wikiidentity" in q]
    assert len(written) == 1 and written[0].startswith('UPDATE "mwsso_wikiidentity"'), written
    assert WikiIdentity.objects.get().username == "Alice Renamed"
    assert not [q for q in mwsso_rows(sql) if "mwsso_accesstoken" in q]


def test_timestamps_are_rewritten_once_the_touch_interval_passed(login, devwiki, settings):
    sign_in(devwiki)
    long_ago = timezone.now() - timedelta(days=2)
    WikiIdentity.objects.update(refreshed_at=long_ago)
    AccessToken.objects.update(last_verified=long_ago)
    sign_in(devwiki)
    assert WikiIdentity.objects.get().refreshed_at > long_ago and AccessToken.objects.get().last_verified > long_ago
    settings.MWSSO_SIGNIN_TOUCH_INTERVAL = 0
    before = WikiIdentity.objects.get().refreshed_at
    sign_in(devwiki)
    assert WikiIdentity.objects.get().refreshed_at > before


def test_the_wiki_signed_in_to_last_stays_the_latest(login, devwiki):
    sign_in(devwiki)
    alice = WikiIdentity.objects.get()
    # Meanwhile a sign-in on another wiki of a farm.
    WikiIdentity.objects.create(user=alice.user, wiki="https://other.example.org", sub="99", username="Alice")
    sign_in(devwiki)
    import mwsso

    assert mwsso.identity_for(alice.user).wiki == alice.wiki


def test_a_failure_after_the_first_write_rolls_back_every_write(login, devwiki):
    sign_in(devwiki)
    devwiki.control("rename", sub="3", new_name="Alice Renamed")

    def receiver(sender, user, **kwargs):  # type: ignore[no-untyped-def]
        Group.objects.create(name="written by a receiver")
        raise RuntimeError("a receiver failed")

    signals.identity_refreshed.connect(receiver)
    try:
        with pytest.raises(RuntimeError):
            wiki_login(Client(HTTP_HOST=SITE_HOST), devwiki, "Alice Renamed")
    finally:
        signals.identity_refreshed.disconnect(receiver)
    identity = WikiIdentity.objects.get()
    assert identity.username == "Alice" and identity.user.username == "Alice"
    assert not Group.objects.exists()
