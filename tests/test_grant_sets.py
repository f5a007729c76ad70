"""Grant sets (issue 21): the grant filter reads an index on SQLite, PostgreSQL and MariaDB, with one meaning.

Each distinct combination of grants is one ``GrantSet``; each token points at its own (``grant_set``), written
by every writer of ``grants``. Checked here: the filter finds what the former JSON-text match found, every
writer keeps the set in step with the list, the backfill migration fills it in for older rows, the page
and its COUNT read the ``(grant_set, created, id)`` index (EXPLAIN on each database), and a set still used
cannot be deleted. Run on each database with ``DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mwsso.models import AccessToken, GrantSet, canonical_grants, forget_grant_sets, grant_set_id
from mwsso.protocol.identity import Identity
from mwsso.protocol.oauth2 import TokenSet
from mwsso.tokens import filter_by_grant
from mwsso.tokens.storing import save_oauth2_token
from tests.conftest import SITE_HOST, wiki_login
from tests.migration_states import at_migration, migrate
from tests.test_admin_scale import CHANGELIST, add_tokens

User = get_user_model()
# Mixed data: none, one, a grant that is a prefix of another, one only some have, a case variant, and a
# list with a repeated grant and a non-string item (which names no grant).
LISTS = [
    [],
    ["basic"],
    ["basic", "editpage"],
    ["editpage-extra"],
    ["mwoauth-authonly", "basic"],
    ["Basic"],
    ["editpage", "basic", "editpage", 7],
]


def assert_grant_sets_follow_grants() -> None:
    """Every token's grant set is the set of its grants (None for none)."""
    sets = dict(GrantSet.objects.values_list("pk", "grants"))
    for pk, grants, set_pk in AccessToken.objects.values_list("pk", "grants", "grant_set_id"):
        names = canonical_grants(grants)
        assert (sets[set_pk] if set_pk is not None else []) == names, f"token {pk}: {grants} but set {set_pk}"


def a_token(user: Any, grants: list[Any], wiki: str = "https://a.example.org/w") -> AccessToken:
    token = AccessToken(user=user, wiki=wiki, wiki_url=f"{wiki}/index.php", consumer_key="c", grants=grants)
    token.set_credentials("k", "s")
    return token


@pytest.mark.django_db
def test_the_filter_finds_what_the_json_text_match_found_with_exact_names():
    add_tokens(14)
    for i, pk in enumerate(AccessToken.objects.order_by("pk").values_list("pk", flat=True)):
        AccessToken.objects.filter(pk=pk).update(grants=LISTS[i % len(LISTS)])
    assert_grant_sets_follow_grants()
    tokens = AccessToken.objects.all()
    for grant in ("editpage", "edit", "editpage-extra", "mwoauth-authonly", "absent"):
        found = set(filter_by_grant(tokens, grant).values_list("pk", flat=True))
        as_text = set(tokens.filter(grants__icontains=f'"{grant}"').values_list("pk", flat=True))
        assert found == as_text, grant
    # Exact names, on every database: "Basic" is not "basic" (the JSON-text match ignored case on SQLite
    # and MariaDB); the filter stays a parameter whatever a URL names.
    assert len(filter_by_grant(tokens, "basic")) == 8 and len(filter_by_grant(tokens, "Basic")) == 2
    assert not filter_by_grant(tokens, 'x"y').exists() and not filter_by_grant(tokens, "% _").exists()
    # One row per combination: the repeated grant and the order make no new one; no grants, no set.
    assert GrantSet.objects.count() == 5
    assert not tokens.filter(grants=[]).exclude(grant_set=None).exists()


@pytest.mark.django_db
def test_every_writer_of_grants_writes_the_grant_set():
    alice, bob, carol, dave = (User.objects.create(username=name) for name in ("alice", "bob", "carol", "dave"))
    token = a_token(alice, ["basic"])
    token.save()  # create
    assert_grant_sets_follow_grants()
    token.grants = ["basic", "editpage"]
    token.save(update_fields=["grants"])
    assert_grant_sets_follow_grants()
    token.grants = ["highvolume"]
    token.save()
    assert_grant_sets_follow_grants()
    AccessToken.objects.filter(pk=token.pk).update(grants=["basic", "rollback"])
    assert_grant_sets_follow_grants()
    # Verify and the API client record what the wiki said through record_status.
    token.refresh_from_db()
    assert token.record_status(AccessToken.Status.VALID, "", grants=("basic", "patrol"))
    assert token.grant_set == GrantSet.objects.get(grants=["basic", "patrol"])
    assert_grant_sets_follow_grants()
    AccessToken.objects.update_or_create(user=alice, wiki=token.wiki, defaults={"grants": ["editpage"]})
    AccessToken.objects.bulk_create([a_token(bob, ["basic", "sendemail"]), a_token(carol, [])])
    assert_grant_sets_follow_grants()
    rows = list(AccessToken.objects.filter(user__in=[bob, carol]))
    for row in rows:
        row.grants = ["protect"]
    AccessToken.objects.bulk_update(rows, ["grants"])
    assert_grant_sets_follow_grants()
    # A sign-in outside social-core's pipeline (mwsso.contrib.allauth) stores through storing.py.
    identity = Identity(
        sub="9", username="Dave", issuer="https://a.example.org", editcount=0, confirmed_email=False, blocked=False,
        registered=None, grants=("basic", "uploadfile"), wiki="https://a.example.org/w",
    )  # fmt: skip
    tokens = TokenSet(access_token="a", refresh_token="r", expires_in=3600)
    save_oauth2_token(dave, identity, tokens, wiki_url="https://a.example.org/w/index.php", client_id="c")
    save_oauth2_token(dave, identity, tokens, wiki_url="https://a.example.org/w/index.php", client_id="c")
    assert_grant_sets_follow_grants()
    assert filter_by_grant(AccessToken.objects.all(), "uploadfile").get().user == dave
    # Grants that are not a list cannot be written past the set.
    with pytest.raises(TypeError):
        AccessToken.objects.update(grants="basic")


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_writes_the_grant_set_and_a_returning_one_looks_nothing_up(wiki_settings, devwiki):
    client = Client(HTTP_HOST=SITE_HOST)
    assert wiki_login(client, devwiki).status_code == 302
    assert_grant_sets_follow_grants()
    token = AccessToken.objects.get()
    assert filter_by_grant(AccessToken.objects.all(), token.grants[-1]).get() == token
    # The wiki's grants differ from what is stored: the sign-in's UPDATE writes the set with them.
    AccessToken.objects.update(grants=["something-else"])
    with CaptureQueriesContext(connection) as queries:
        assert wiki_login(Client(HTTP_HOST=SITE_HOST), devwiki).status_code == 302
    assert_grant_sets_follow_grants()
    assert AccessToken.objects.get().grant_set_id == token.grant_set_id
    # The combination was known to this process: no query of its own.
    assert not [q["sql"] for q in queries.captured_queries if "mwsso_grantset" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_two_workers_get_one_set_and_a_rolled_back_one_is_not_remembered():
    forget_grant_sets()
    first = grant_set_id(["b", "a"], using="default")
    forget_grant_sets()  # another process: the same row, not a second one nor an error
    assert grant_set_id(["a", "b", "a"], using="default") == first
    assert GrantSet.objects.count() == 1
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        grant_set_id(["c"], using="default")
        raise RuntimeError("the sign-in failed")
    assert not GrantSet.objects.filter(grants=["c"]).exists()
    user = User.objects.create(username="alice")
    a_token(user, ["c"]).save()  # not a dangling id remembered from the rolled-back transaction
    assert_grant_sets_follow_grants()


@pytest.mark.django_db
def test_a_set_in_use_cannot_be_deleted_and_deleting_tokens_is_unaffected():
    add_tokens(4)
    grant_set = GrantSet.objects.get(grants=["basic"])
    with pytest.raises(ProtectedError):
        grant_set.delete()
    assert AccessToken.objects.all().delete()[0] == 4
    assert GrantSet.objects.count() == 2  # kept: a later token with these grants uses them again


# -- EXPLAIN: the page and its COUNT read the grant-set index -------------------------------------------------
def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql)
        rows = cursor.fetchall()
        if connection.vendor == "mysql":
            names = [column[0] for column in cursor.description]
            return "\n".join(str(dict(zip(names, row, strict=True))) for row in rows)
        return "\n".join(row[0] for row in rows)


def reads_the_index(text: str) -> bool:
    return "mwsso_token_grant_set" in text


def scans_the_token_table(text: str) -> bool:
    if connection.vendor == "sqlite":
        return any(line.startswith("SCAN mwsso_accesstoken") for line in text.splitlines())
    if connection.vendor == "mysql":
        return any("'table': 'mwsso_accesstoken'" in line and "'type': 'ALL'" in line for line in text.splitlines())
    return "Seq Scan on mwsso_accesstoken" in text


@pytest.mark.django_db
def test_a_grant_page_and_its_count_read_the_grant_set_index(admin_client):
    add_tokens(4000)
    rare = list(AccessToken.objects.order_by("pk").values_list("pk", flat=True)[::500])
    AccessToken.objects.filter(pk__in=rare).update(grants=["basic", "a-rare-grant"])
    # Statistics as each database has them by itself: PostgreSQL's autovacuum gathers them (ANALYZE here);
    # MariaDB estimates a range of the index by reading it (and its ANALYZE TABLE would commit the test's
    # transaction); SQLite has none until someone runs ANALYZE, which Django never does.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(CHANGELIST, {"grant": "a-rare-grant"})
    assert page.status_code == 200 and f"{len(rare)} results" in page.content.decode()
    sqls = [q["sql"] for q in captured.captured_queries]
    # The sets containing the grant (their small table), then the page and its COUNT by those sets' ids.
    assert len([sql for sql in sqls if "mwsso_grantset" in sql and "grant_keys" in sql]) == 1
    filtered = [sql for sql in sqls if "mwsso_accesstoken" in sql and "grant_set_id" in sql.partition(" WHERE ")[2]]
    assert len(filtered) == 2
    for sql in filtered:
        text = plan(sql)
        assert reads_the_index(text) and not scans_the_token_table(text), f"{sql}\n{text}"


@pytest.mark.django_db
def test_queries_per_grant_page_are_the_same_at_n_and_2n(admin_client):
    url = CHANGELIST + "?grant=editpage"
    add_tokens(500)
    admin_client.get(url)  # warm: the session, the filters' cached choices
    with CaptureQueriesContext(connection) as at_n:
        admin_client.get(url)
    add_tokens(500)
    with CaptureQueriesContext(connection) as at_2n:
        page = admin_client.get(url)
    assert len(at_n) == len(at_2n) and "500 results" in page.content.decode()


# -- the backfill migration ---------------------------------------------------------------------------------
BEFORE = ("mwsso", "0006_accesstoken_grants_gin")


@pytest.fixture
def at_0006() -> Iterator[Any]:
    try:
        yield from at_migration(BEFORE)
    finally:
        forget_grant_sets()


@pytest.mark.django_db(transaction=True)
def test_the_backfill_gives_older_tokens_their_grant_sets_in_batches(at_0006, monkeypatch):
    import importlib

    backfill = importlib.import_module("mwsso.migrations.0008_grant_sets_backfill")
    monkeypatch.setattr(backfill, "BATCH", 3)  # several batches, a combination spanning two of them
    users, tokens = at_0006.get_model("auth", "User"), at_0006.get_model("mwsso", "AccessToken")
    for i in range(10):
        tokens.objects.create(
            user=users.objects.create(username=f"u{i}"), wiki="https://a.example.org/w", consumer_key="c",
            wiki_url="https://a.example.org/w/index.php", encrypted="x", key_id="k", fingerprint=f"f{i}",
            grants=LISTS[i % len(LISTS)],
        )  # fmt: skip
    migrate(("mwsso", "0008_grant_sets_backfill"))
    forget_grant_sets()
    assert_grant_sets_follow_grants()
    assert GrantSet.objects.count() == 5
    assert set(filter_by_grant(AccessToken.objects.all(), "editpage").values_list("fingerprint", flat=True)) == {
        "f2", "f6", "f9",
    }  # fmt: skip


@pytest.mark.django_db
def test_on_sqlite_a_grant_many_tokens_have_in_several_sets_is_read_in_the_list_order():
    if connection.vendor != "sqlite":
        pytest.skip("the other databases' planners have statistics and choose for themselves")
    add_tokens(4000)
    several = list(AccessToken.objects.order_by("pk").values_list("pk", flat=True)[::7])
    AccessToken.objects.filter(pk__in=several).update(grants=["basic", "editpage", "x"])
    tokens = filter_by_grant(AccessToken.objects.all(), "editpage")
    expected = {pk for pk, grants in AccessToken.objects.values_list("pk", "grants") if "editpage" in grants}
    assert set(tokens.values_list("pk", flat=True)) == expected and len(expected) > 2000
    # The page walks the list's order and stops (no sort of every match); the COUNT reads an index only.
    page = plan(str(tokens.order_by("-created", "-pk")[:100].query))
    assert "mwsso_token_created" in page and "TEMP B-TREE" not in page, page
    count = plan(str(tokens.order_by().values("pk").query))
    assert "COVERING INDEX" in count, count


# -- writers the first version missed (an independent review) ------------------------------------------------
@pytest.mark.django_db
def test_an_upsert_of_grants_writes_the_grant_set():
    alice = User.objects.create(username="alice")
    a_token(alice, ["basic"]).save()
    # MySQL and MariaDB name no conflict target (their ON DUPLICATE KEY UPDATE covers every unique key).
    target = ["user", "wiki"] if connection.features.supports_update_conflicts_with_target else None
    AccessToken.objects.bulk_create(
        [a_token(alice, ["editpage"])], update_conflicts=True, unique_fields=target, update_fields=["grants"]
    )
    assert AccessToken.objects.get().grants == ["editpage"]
    assert_grant_sets_follow_grants()


@pytest.mark.django_db
def test_saving_a_token_read_without_its_grants_does_not_write_back_an_old_grant_set():
    alice = User.objects.create(username="alice")
    token = a_token(alice, ["basic"])
    token.save()
    read = AccessToken.objects.defer("grants").get(pk=token.pk)
    AccessToken.objects.filter(pk=token.pk).update(grants=["editpage"])  # meanwhile, another worker's verify
    read.status_reason = "checked"
    read.save()
    assert AccessToken.objects.get(pk=token.pk).status_reason == "checked"
    assert_grant_sets_follow_grants()


class ReadsFromReplica:
    """A primary/replica router: reads go to "replica" (not configured here: any use of it fails)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"


@pytest.mark.django_db
def test_bulk_writes_of_grants_add_the_grant_set_on_the_database_written(settings):
    alice = User.objects.create(username="alice")
    token = a_token(alice, ["basic"])
    token.save()
    settings.DATABASE_ROUTERS = [f"{__name__}.ReadsFromReplica"]
    # (Not bulk_create: Django's own reads the read database's features first, so that alias must exist.)
    AccessToken.objects.filter(pk=token.pk).update(grants=["editpage", "new-for-update"])
    token.grants = ["new-for-bulk-update"]
    AccessToken.objects.bulk_update([token], ["grants"])
    settings.DATABASE_ROUTERS = []
    assert_grant_sets_follow_grants()
