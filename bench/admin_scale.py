"""The admin and the bulk commands at scale, each figure against a reference measured in the same run (issue 21).

    .venv/bin/python bench/admin_scale.py [--n 10000] [--repeat 5] [--database-url postgres://...] [--only admin]

With ``--n`` users, each with a wiki identity and an access token (bulk-created in a throwaway test database):

- the token list, its filters and its searches vs Django's own user list and its search (wall, best of
  ``--repeat`` requests through Django's test client, as a signed-in superuser); goal at most 2x;
- SQL queries per page, and whether they grow with N (the same page at N/2 tokens);
- peak memory (tracemalloc) of each admin action with "select all", over the idle process; goal < 50 MB at 100k;
- ``import-social`` vs a bulk-SQL reference over the same number of stock rows (one SELECT, a multi-row INSERT
  and an ``executemany`` UPDATE per batch, the same encryption); goal at most 2x;
- ``rotate-keys`` vs a bulk-SQL reference (one SELECT and one ``UPDATE … FROM (VALUES …)`` per batch on
  PostgreSQL, an ``executemany`` UPDATE elsewhere, the same decryption and encryption); goal at most 2x.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 500
WIKIS = ("https://a.example.org/w", "https://b.example.org/w", "https://c.example.org/w")


def setup_django(database_url: str) -> str:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    return connection.creation.create_test_db(verbosity=0)


def add_users_with_tokens(start: int, n: int, ciphertext: dict[str, str]) -> None:
    from django.contrib.auth import get_user_model

    from mwsso.models import AccessToken, WikiIdentity, fingerprint

    user_model = get_user_model()
    for first in range(start, start + n, 5000):
        count = min(5000, start + n - first)
        users = user_model.objects.bulk_create(
            [
                user_model(username=f"u{first + i:07d}", email=f"u{first + i}@example.org", password="!")
                for i in range(count)
            ]
        )
        WikiIdentity.objects.bulk_create(
            [
                WikiIdentity(user=u, wiki=WIKIS[i % 3], sub=str(first + i), username=f"Wiki user {first + i}")
                for i, u in enumerate(users)
            ],
            batch_size=1000,
        )
        AccessToken.objects.bulk_create(
            [
                AccessToken(
                    user=u,
                    wiki=WIKIS[i % 3],
                    wiki_url=f"{WIKIS[i % 3]}/index.php",
                    consumer_key="c" * 32,
                    grants=bench_grants(first + i),
                    status="valid" if i % 4 else "revoked",
                    **{**ciphertext, "fingerprint": fingerprint(f"key-{first + i}")},
                )
                for i, u in enumerate(users)
            ],
            batch_size=1000,
        )


def bench_grants(i: int) -> list[str]:
    """A token's grants: "editpage" for every other one (a grant half the tokens have, as a consumer's usual
    grants), and "checkuser" for one in a thousand (a rare grant: what an index is for)."""
    if i % 1000 == 999:
        return ["basic", "checkuser", "editpage"]
    return ["basic", "editpage"] if i % 2 else ["basic"]


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(request: Callable[[], Any], repeat: int) -> tuple[float, int]:
    """The best wall seconds of ``repeat`` requests after one warm-up, and the queries of one.

    The best, not the median: on a shared machine the other jobs only ever add time, and a page's own cost
    is what the comparison is about."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    request()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = request()
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        request()
    return min(times), len(captured)


def peak_mb(request: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        response = request()
        if getattr(response, "streaming", False):
            for _chunk in response.streaming_content:
                pass
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def ratio_line(name: str, ours: float, reference: float, goal: float = 2.0) -> str:
    ratio = ours / reference if reference else float("inf")
    verdict = "meets" if ratio <= goal else "MISSES"
    return f"  {name:<38} {ours * 1000:9.1f} ms  {reference * 1000:9.1f} ms  {ratio:5.2f}x  ({verdict} <= {goal:g}x)"


def bench_admin(n: int, repeat: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from mwsso.models import AccessToken, fingerprint

    admin = get_user_model().objects.create_superuser("bench-admin", "admin@example.org", "pw")
    client = Client()
    client.force_login(admin)
    ciphertext = AccessToken.credential_fields("k" * 32, "s" * 40)
    tokens, users = "/admin/mwsso/accesstoken/", "/admin/auth/user/"
    pages = [
        ("list", tokens, users),
        ("second page", tokens + "?p=1", users + "?p=1"),
        ("filter: status", tokens + "?status__exact=revoked", users + "?is_staff__exact=0"),
        ("filter: wiki", tokens + f"?wiki={WIKIS[1]}", users + "?is_active__exact=1"),
        ("filter: grant (half the tokens)", tokens + "?grant=editpage", users + "?is_superuser__exact=0"),
        ("filter: grant (0.1 % of the tokens)", tokens + "?grant=checkuser", users + "?is_superuser__exact=0"),
        ("search: site username", tokens + "?q=u00012", users + "?q=u00012"),
        # Quoted: one term, as a name with spaces is searched (unquoted, "Wiki" and "user" would each match
        # every identity of this synthetic data).
        ("search: wiki username", tokens + "?q=%22Wiki+user+123%22", users + "?q=u00012"),
        ("search: exact fingerprint", tokens + f"?q={fingerprint('key-77')}", users + "?q=u00012"),
    ]
    lines = []
    half = n // 2
    add_users_with_tokens(0, half, ciphertext)
    analyze()
    queries_at_half = {name: timed(lambda url=ours: client.get(url), 1)[1] for name, ours, _ in pages}
    add_users_with_tokens(half, n - half, ciphertext)
    analyze()
    lines.append(f"Token list vs Django's user list, {n} users with a token each (best of {repeat}):")
    lines.append(f"  {'page':<38} {'tokens':>12} {'users':>12} {'ratio':>6}   queries at N/2 → N")
    for name, ours, reference in pages:
        ours_s, queries = timed(lambda url=ours: client.get(url), repeat)
        reference_s, _ = timed(lambda url=reference: client.get(url), repeat)
        lines.append(ratio_line(name, ours_s, reference_s) + f"   {queries_at_half[name]} → {queries}")

    def select_all(action: str, **extra: str) -> Any:
        first = AccessToken.objects.order_by("-created", "-pk").values_list("pk", flat=True).first()
        data = {"action": action, "_selected_action": [str(first)], "select_across": "1", "index": "0", **extra}
        return client.post(tokens, data)

    def forget_bound() -> dict[str, str]:
        return {"up_to": str(AccessToken.objects.order_by("-pk")[0].pk), "total": str(AccessToken.objects.count())}

    client.get(tokens)
    lines.append(
        f'Admin actions with "select all" ({n} tokens), peak memory over the idle process (goal < 50 MB at 100k):'
    )
    for name, action in [
        ("list page", lambda: client.get(tokens)),
        ("forget: confirmation page", lambda: select_all("forget_tokens")),
        ("export as CSV (streamed to the end)", lambda: select_all("export_csv")),
        ("verify (over the limit: refused)", lambda: select_all("verify_with_wiki")),
        # What the confirmation page posts back: the highest id it saw and the total it showed.
        ("forget: confirmed (deletes all)", lambda: select_all("forget_tokens", post="yes", **forget_bound())),
    ]:
        began = time.perf_counter()
        peak = peak_mb(action)
        lines.append(f"  {name:<38} {peak:6.1f} MB  {time.perf_counter() - began:6.2f} s")
    assert not AccessToken.objects.exists()
    return lines


def bench_import(n: int) -> list[str]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from social_django.models import UserSocialAuth

    from mwsso.models import AccessToken
    from mwsso.tokens import import_social_tokens
    from mwsso.tokens.importing import import_target
    from tests.conftest import use_test_consumer

    use_test_consumer(settings, "https://wiki.example.org/w/index.php")
    user_model = get_user_model()
    start = user_model.objects.count()
    users = user_model.objects.bulk_create(
        [user_model(username=f"i{start + i:07d}", password="!") for i in range(2 * n)]
    )
    UserSocialAuth.objects.bulk_create(
        [
            UserSocialAuth(
                user=u,
                provider="mediawiki",
                uid=str(i),
                extra_data={
                    "auth_time": 1,
                    "access_token": {"oauth_token": f"key-{i}", "oauth_token_secret": f"secret-{i}"},
                },
            )
            for i, u in enumerate(users)
        ],
        batch_size=1000,
    )
    analyze()
    boundary = UserSocialAuth.objects.order_by("pk").values_list("pk", flat=True)[n - 1]
    target = import_target()
    table, tokens = UserSocialAuth._meta.db_table, AccessToken._meta.db_table
    columns = ["user_id", "wiki", "wiki_url", "consumer_key", "oauth_version", "encrypted", "key_id", "fingerprint",
               "grants", "status", "status_reason", "refresh_claim", "created", "updated"]  # fmt: skip

    def reference() -> None:
        """The same work by hand: per batch one SELECT, one multi-row INSERT, one executemany UPDATE."""
        import json

        from django.utils import timezone

        last = 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, user_id, extra_data FROM {table} WHERE id > %s AND id <= %s ORDER BY id LIMIT %s",
                    [last, boundary, BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    return
                now = timezone.now()
                values, cleaned = [], []
                for pk, user_id, extra in rows:
                    data = json.loads(extra) if isinstance(extra, str) else extra
                    stock = data.pop("access_token")
                    stored = AccessToken.credential_fields(stock["oauth_token"], stock["oauth_token_secret"])
                    values.append([user_id, target["wiki"], target["wiki_url"], target["consumer_key"], 1,
                                   stored["encrypted"], stored["key_id"], stored["fingerprint"], "[]", "valid", "", "", now, now])  # fmt: skip
                    cleaned.append([json.dumps(data), pk])
                placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(values))
                cursor.execute(
                    f"INSERT INTO {tokens} ({', '.join(columns)}) VALUES {placeholders}",
                    [v for row in values for v in row],
                )
                cursor.executemany(f"UPDATE {table} SET extra_data = %s WHERE id = %s", cleaned)
                last = rows[-1][0]

    began = time.perf_counter()
    reference()
    reference_s = time.perf_counter() - began
    assert AccessToken.objects.filter(user__username__startswith="i").count() == n
    began = time.perf_counter()
    result = import_social_tokens(batch_size=BATCH)
    ours_s = time.perf_counter() - began
    assert result.imported == n, result
    return [
        f"Bulk commands, {n} rows each, batches of {BATCH} (mwsso vs a bulk-SQL reference doing the same work):",
        ratio_line("import-social", ours_s, reference_s),
    ]


def bench_rotate(n: int) -> list[str]:
    from cryptography.fernet import Fernet
    from django.db import connection, transaction
    from django.test import override_settings

    from mwsso import crypto
    from mwsso.models import AccessToken
    from mwsso.tokens import rotate_keys

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    AccessToken.objects.all().delete()
    with override_settings(MWSSO_TOKEN_KEYS=[first]):
        # Every token its own ciphertext: the rotation decrypts and encrypts each one.
        add_tokens_encrypted(n)
    analyze()
    table = AccessToken._meta.db_table

    def reference() -> None:
        primary = crypto.primary_key_id()
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, encrypted FROM {table} WHERE id > %s AND key_id <> %s ORDER BY id LIMIT %s",
                    [last, primary, BATCH],
                )
                rows = cursor.fetchall()
            if not rows:
                return
            updates = [(pk, old, crypto.encrypt(crypto.decrypt(old))) for pk, old in rows]
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    values = ", ".join(["(%s, %s, %s)"] * len(updates))
                    cursor.execute(
                        f"UPDATE {table} AS t SET encrypted = v.new, key_id = %s FROM (VALUES {values}) AS v(id, old, new) "
                        "WHERE t.id = v.id AND t.encrypted = v.old",
                        [primary, *[x for row in updates for x in row]],
                    )
                else:
                    cursor.executemany(
                        f"UPDATE {table} SET encrypted = %s, key_id = %s WHERE id = %s AND encrypted = %s",
                        [(new, primary, pk, old) for pk, old, new in updates],
                    )
            last = rows[-1][0]

    with override_settings(MWSSO_TOKEN_KEYS=[second, first]):
        began = time.perf_counter()
        reference()
        reference_s = time.perf_counter() - began
    with override_settings(MWSSO_TOKEN_KEYS=[first, second]):
        began = time.perf_counter()
        result = rotate_keys(batch_size=BATCH)
        ours_s = time.perf_counter() - began
    assert result.rotated == n, result
    return [ratio_line("rotate-keys", ours_s, reference_s)]


def add_tokens_encrypted(n: int) -> None:
    from django.contrib.auth import get_user_model

    from mwsso.models import AccessToken

    user_model = get_user_model()
    start = user_model.objects.count()
    users = user_model.objects.bulk_create([user_model(username=f"r{start + i:07d}", password="!") for i in range(n)])
    tokens = []
    for i, u in enumerate(users):
        token = AccessToken(
            user=u, wiki="https://r.example.org/w", wiki_url="https://r.example.org/w/index.php", consumer_key="c"
        )
        token.set_credentials(f"key-{i}", f"secret-{i}")
        tokens.append(token)
    AccessToken.objects.bulk_create(tokens, batch_size=1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--only", choices=("admin", "import", "rotate"), action="append", help="these parts alone (default: all)"
    )
    args = parser.parse_args()
    parts = set(args.only or ("admin", "import", "rotate"))
    old_name = setup_django(args.database_url)
    from django.db import connection

    try:
        began = time.perf_counter()
        lines = [f"admin_scale: N = {args.n} on {connection.vendor}"]
        if "admin" in parts:
            lines += bench_admin(args.n, args.repeat)
        if "import" in parts:
            lines += bench_import(args.n)
        if "rotate" in parts:
            lines += bench_rotate(args.n)
        lines.append(f"({time.perf_counter() - began:.0f} s)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
