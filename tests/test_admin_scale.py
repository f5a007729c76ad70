"""The token admin at scale (issue 21): every page and every "select all" action costs the same queries at N and 2N
tokens, no query has DISTINCT, memory stays bounded, and on PostgreSQL each page is an index range, not a scan
(the grant filter's, on every database: tests/test_grant_sets.py)."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mwsso.admin import tokens as token_admin
from mwsso.models import AccessToken, WikiIdentity, fingerprint

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "/admin/mwsso/accesstoken/"
WIKIS = ("https://a.example.org/w", "https://b.example.org/w", "https://c.example.org/w")
# CI-affordable sizes: the second doubles the first.
N = 1000
MEMORY_N = 3000


def add_tokens(n: int) -> None:
    """``n`` more users, each with a wiki identity and a token (one shared ciphertext: nothing here decrypts)."""
    start = User.objects.count()
    users = User.objects.bulk_create([User(username=f"u{start + i:06d}", password="!") for i in range(n)])
    ciphertext = AccessToken.credential_fields("k" * 32, "s" * 40)
    WikiIdentity.objects.bulk_create(
        WikiIdentity(user=user, wiki=WIKIS[i % 3], sub=str(start + i), username=f"Wiki user {start + i}")
        for i, user in enumerate(users)
    )
    AccessToken.objects.bulk_create(
        (
            AccessToken(
                user=user,
                wiki=WIKIS[i % 3],
                wiki_url=f"{WIKIS[i % 3]}/index.php",
                consumer_key="c" * 32,
                grants=["basic", "editpage"] if i % 2 else ["basic"],
                status=AccessToken.Status.VALID if i % 4 else AccessToken.Status.REVOKED,
                **{**ciphertext, "fingerprint": fingerprint(f"key-{start + i}")},
            )
            for i, user in enumerate(users)
        ),
        batch_size=1000,
    )


def queries(request: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        assert response.status_code in (200, 302)
    return [query["sql"] for query in captured.captured_queries]


def select_all(client: Client, action: str, query: str = "", **extra: str) -> Any:
    """What "select all N tokens" then an action posts: one pk from the page and select_across."""
    first = AccessToken.objects.order_by("-created", "-pk").values_list("pk", flat=True).first()
    data = {"action": action, "_selected_action": [str(first)], "select_across": "1", "index": "0", **extra}
    return client.post(CHANGELIST + query, data)


PAGES = {
    "list": "",
    "second page": "?p=1",
    "by status": "?status__exact=valid",
    "by wiki": f"?wiki={WIKIS[1]}",
    "by grant": "?grant=editpage",
    "by date": "?created__gte=2000-01-01+00:00:00%2B00:00",
    "search username": "?q=u000123",
    "search wiki username": "?q=Wiki+user+12",
    "search fingerprint": f"?q={fingerprint('key-7')}",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_token_list_pages_cost_the_same_queries_at_n_and_2n_and_none_has_distinct(admin_client, name):
    url = CHANGELIST + PAGES[name]
    add_tokens(N)
    admin_client.get(url)  # warm: the session, the content types, the filters' cached choices
    at_n = queries(lambda: admin_client.get(url))
    add_tokens(N)
    at_2n = queries(lambda: admin_client.get(url))
    assert len(at_2n) == len(at_n)
    token_queries = [sql for sql in at_2n if "mwsso_accesstoken" in sql]
    assert not [sql for sql in at_2n if "DISTINCT" in sql.upper()]
    # One COUNT (the filtered one), and the ciphertext is never read for a page that never shows it.
    assert sum("COUNT(" in sql.upper() for sql in token_queries) == 1
    assert not [sql for sql in token_queries if "encrypted" in sql]


def test_search_finds_by_site_username_wiki_username_and_exact_fingerprint(admin_client):
    add_tokens(30)
    by_site = admin_client.get(CHANGELIST, {"q": "u000012"}).content.decode()
    assert fingerprint("key-12") in by_site and fingerprint("key-13") not in by_site
    by_wiki = admin_client.get(CHANGELIST, {"q": '"Wiki user 13"'}).content.decode()
    assert fingerprint("key-13") in by_wiki and fingerprint("key-12") not in by_wiki
    exact = admin_client.get(CHANGELIST, {"q": fingerprint("key-14")}).content.decode()
    assert "1 result" in exact and fingerprint("key-14") in exact
    partial = admin_client.get(CHANGELIST, {"q": fingerprint("key-14")[:6]}).content.decode()
    assert "0 results" in partial  # the fingerprint is matched exactly, never scanned for


def test_on_mariadb_and_mysql_a_search_runs_no_subquery_per_token_row(admin_client, monkeypatch):
    # MariaDB runs "user_id IN (… UNION …)" as a dependent union, both subqueries and their union per token row
    # (4.5-5.7 times the user list at 100k tokens): there the matching users' ids are read first, and a word
    # that matches too many users for that is two INs, with no union to run per row.
    if connection.vendor != "mysql":
        pytest.skip("the plan of an IN over a UNION is MariaDB's and MySQL's")
    add_tokens(30)
    for limit, many in ((token_admin.MYSQL_SEARCH_IDS, False), (0, True)):
        monkeypatch.setattr(token_admin, "MYSQL_SEARCH_IDS", limit)
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(CHANGELIST, {"q": '"Wiki user 13"'}).content.decode()
        assert fingerprint("key-13") in page and fingerprint("key-12") not in page
        tokens = [q["sql"] for q in captured.captured_queries if "FROM `mwsso_accesstoken`" in q["sql"]]
        searched = [sql for sql in tokens if "LIKE" in sql]
        assert len(searched) == (2 if many else 0)  # the page and its count; by ids, no LIKE at all
        for sql in tokens:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql)
                kinds = {row[1] for row in cursor.fetchall()}
            # (A dependent subquery of one primary-key lookup, which the optimiser may pick for a small table, is fine.)
            assert "DEPENDENT UNION" not in kinds and "UNION RESULT" not in kinds, (kinds, sql)


def test_grant_filter_offers_known_and_recent_grants_without_reading_the_table(admin_client):
    add_tokens(10)
    AccessToken.objects.filter(pk=AccessToken.objects.order_by("-pk").first().pk).update(grants=["a-custom-grant"])
    page = admin_client.get(CHANGELIST).content.decode()
    assert "a-custom-grant" in page and "createeditmovepage" in page  # newest tokens' and MediaWiki's
    chosen = admin_client.get(CHANGELIST, {"grant": "editpage"}).content.decode()
    assert "4 results" in chosen  # the odd ones but the newest, whose grants are now the custom one


# -- actions over "select all" ---------------------------------------------------
ACTIONS: dict[str, Callable[[Client], Any]] = {
    "forget: confirmation": lambda client: select_all(client, "forget_tokens"),
    "export": lambda client: select_all(client, "export_csv"),
    "verify: over the limit": lambda client: select_all(client, "verify_with_wiki"),
}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_select_all_actions_cost_the_same_queries_at_n_and_2n(admin_client, name):
    add_tokens(N)
    ACTIONS[name](admin_client)
    at_n = queries(lambda: ACTIONS[name](admin_client))
    add_tokens(N)
    at_2n = queries(lambda: ACTIONS[name](admin_client))
    # The export reads 500 rows per query (export_rows): one more query per 500 more tokens, nothing else.
    chunks = (2 * N) // 500 - N // 500 if name == "export" else 0
    assert len(at_2n) - len(at_n) == chunks
    assert AccessToken.objects.count() == 2 * N  # nothing forgotten or checked without confirming


def test_verify_over_the_limit_checks_nothing_and_names_the_command(admin_client, settings):
    settings.MWSSO_ADMIN_VERIFY_LIMIT = 5
    add_tokens(6)
    before = list(AccessToken.objects.values_list("pk", "status", "last_verified"))
    response = select_all(admin_client, "verify_with_wiki")
    assert response.status_code == 302
    page = admin_client.get(CHANGELIST).content.decode()
    assert "at most 5 access tokens" in page and "manage.py mwsso_tokens verify" in page
    assert list(AccessToken.objects.values_list("pk", "status", "last_verified")) == before


def test_forget_all_confirms_with_counts_per_wiki_then_deletes_in_batches_with_one_log_entry(admin_client, monkeypatch):
    monkeypatch.setattr(token_admin, "FORGET_BATCH", 100)
    add_tokens(N)
    confirm = select_all(admin_client, "forget_tokens", "?status__exact=valid")
    html = confirm.content.decode()
    valid = AccessToken.objects.filter(status="valid").count()
    assert f"This site will forget {valid} access tokens" in html
    for wiki in WIKIS:
        count = AccessToken.objects.filter(status="valid", wiki=wiki).count()
        assert f"{count} tokens" in html
    # A summary, not the selection: the first rows and a count, no list of primary keys.
    assert html.count("<li>") < token_admin.FORGET_SHOWN + 10 and f"and {valid - token_admin.FORGET_SHOWN} more" in html
    assert html.count('name="_selected_action"') == 1 and 'name="select_across" value="1"' in html
    late = AccessToken.objects.filter(status="valid").order_by("-pk").first()
    add_tokens(3)  # stored after the confirmation page: not part of what was confirmed
    newest = set(AccessToken.objects.order_by("-pk").values_list("pk", flat=True)[:3])

    up_to = html.split('name="up_to" value="')[1].split('"')[0]
    assert int(up_to) == late.pk
    data = {
        "action": "forget_tokens",
        "_selected_action": [str(late.pk)],
        "select_across": "1",
        "post": "yes",
        "up_to": up_to,
        "total": str(valid),
    }
    with CaptureQueriesContext(connection) as captured:
        done = admin_client.post(CHANGELIST + "?status__exact=valid", data)
    assert done.status_code == 302
    assert not AccessToken.objects.filter(status="valid", pk__lte=late.pk).exists()
    assert AccessToken.objects.filter(status="revoked").count() == N // 4 + 1  # the filter held
    assert newest <= set(AccessToken.objects.values_list("pk", flat=True))
    deletes = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == -(-valid // 100)  # batches of FORGET_BATCH
    (entry,) = LogEntry.objects.filter(action_flag=DELETION)
    assert entry.object_repr == f"{valid} access tokens"


def confirmed(html: str) -> dict[str, Any]:
    """What the confirmation page's form posts back (its hidden inputs)."""
    fields: dict[str, Any] = {}
    for name in ("action", "select_across", "post", "up_to", "total", "_selected_action"):
        if f'name="{name}" value="' in html:
            fields[name] = html.split(f'name="{name}" value="')[1].split('"')[0]
    return fields


def test_forget_all_deletes_nothing_when_the_selection_changed_since_the_confirmation(admin_client):
    add_tokens(40)
    query = "?status__exact=valid"
    page = select_all(admin_client, "forget_tokens", query).content.decode()
    valid = AccessToken.objects.filter(status="valid").count()
    posted = confirmed(page)
    assert posted["total"] == str(valid) and posted["post"] == "yes"
    # A revoked token with a lower primary key than the bound becomes valid: it now matches the filter, and
    # the administrator never saw it.
    joining = AccessToken.objects.filter(status="revoked").order_by("pk").first()
    AccessToken.objects.filter(pk=joining.pk).update(status=AccessToken.Status.VALID)
    before = set(AccessToken.objects.values_list("pk", flat=True))

    again = admin_client.post(CHANGELIST + query, posted)
    assert again.status_code == 200  # the confirmation again, not a redirect
    html = again.content.decode()
    assert set(AccessToken.objects.values_list("pk", flat=True)) == before
    assert "The selection changed since the confirmation was shown" in html
    assert f"This site will forget {valid + 1} access tokens" in html
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()

    # Confirming what is now shown forgets exactly that, the joining token included.
    done = admin_client.post(CHANGELIST + query, confirmed(html))
    assert done.status_code == 302
    assert not AccessToken.objects.filter(status="valid").exists()
    assert not AccessToken.objects.filter(pk=joining.pk).exists()
    assert AccessToken.objects.filter(status="revoked").count() == 10 - 1


@pytest.mark.parametrize("missing", ["up_to", "total", "both", "garbage"])
def test_forget_all_without_its_bound_deletes_nothing(admin_client, missing):
    add_tokens(12)
    posted = confirmed(select_all(admin_client, "forget_tokens").content.decode())
    if missing == "garbage":
        posted.update(up_to="12a", total="-1")
    else:
        for name in ("up_to", "total") if missing == "both" else (missing,):
            del posted[name]
    again = admin_client.post(CHANGELIST, posted)
    assert again.status_code == 200
    assert "nothing was forgotten" in again.content.decode()
    assert AccessToken.objects.count() == 12
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_forget_all_in_german_says_the_selection_changed(admin_client, settings):
    add_tokens(3)
    posted = confirmed(select_all(admin_client, "forget_tokens").content.decode())
    del posted["up_to"]
    settings.LANGUAGE_CODE = "de"
    again = admin_client.post(CHANGELIST, posted)
    assert "Nichts wurde vergessen" in again.content.decode()
    assert AccessToken.objects.count() == 3


def peak_growth(request: Callable[[], Any]) -> int:
    """Peak bytes allocated (tracemalloc) while serving ``request`` and reading its whole response."""
    gc.collect()
    tracemalloc.start()
    try:
        response = request()
        if getattr(response, "streaming", False):
            for _chunk in response.streaming_content:
                pass
        else:
            assert response.status_code in (200, 302)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# The bound at MEMORY_N tokens: the former actions used about 3.6 kB per token (11 MB here), growing with N.
MEMORY_BOUND = 3 * 1024 * 1024
MEMORY_ACTIONS: dict[str, Callable[[Client], Any]] = {
    **ACTIONS,
    "list": lambda client: client.get(CHANGELIST),
    "forget: confirmed": lambda client: select_all(
        client, "forget_tokens", post="yes", up_to=str(AccessToken.objects.order_by("-pk")[0].pk), total=str(MEMORY_N)
    ),
}


@pytest.mark.parametrize("name", list(MEMORY_ACTIONS))
def test_select_all_memory_stays_bounded(admin_client, name):
    add_tokens(MEMORY_N)
    MEMORY_ACTIONS["list"](admin_client)  # warm: imports, templates, caches
    peak = peak_growth(lambda: MEMORY_ACTIONS[name](admin_client))
    assert peak < MEMORY_BOUND, f"{name}: {peak / 1e6:.1f} MB at {MEMORY_N} tokens"


# -- PostgreSQL: each page is an index range ------------------------------------
EXPLAINED = {
    "list": "",
    "by status": "?status__exact=revoked",
    "by wiki": f"?wiki={WIKIS[2]}",
    "search fingerprint": PAGES["search fingerprint"],
}


@pytest.mark.parametrize("name", list(EXPLAINED))
def test_postgresql_serves_each_page_from_an_index(admin_client, name):
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN's plan shape is PostgreSQL's")
    add_tokens(4000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    url = CHANGELIST + EXPLAINED[name]
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(url).status_code == 200
    # The page itself: LIMITed, an index range (the grant filter's choices come from the grant sets now).
    limited = [q["sql"] for q in captured.captured_queries if "mwsso_accesstoken" in q["sql"] and " LIMIT " in q["sql"]]
    assert len(limited) >= 1
    for sql in limited:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Seq Scan on mwsso_accesstoken" not in plan, plan
        assert "Index" in plan, plan


# The grant filter's page and COUNT on every database: tests/test_grant_sets.py.
