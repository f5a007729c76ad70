"""A stored wiki is named by its server *and* script path (``mwsso.protocol.identity.wiki_key``), no longer by its server alone.

Two wikis of one server under different script paths (a path-based farm) had one name, so the user with
central id 3 on one was taken for the user with central id 3 on the other. Each ``AccessToken`` knows its
wiki's index.php URL (``wiki_url``): its new key comes from it. A ``WikiIdentity`` takes the key of its
user's token that had the same old key, or, when the user has none, the one new key every token under
that old key got. Rows that cannot be mapped, or whose new key is already taken (the same user or the same
wiki account twice), keep the old key: they are left for a new sign-in to supersede, never merged.

Batched by old key and primary key; reversible (the key goes back to ``scheme://host[:port]``). The key is
computed by a copy of ``wiki_key`` as it is today: a migration must not change when the app's code does.
"""

from __future__ import annotations

from collections import defaultdict
from posixpath import dirname
from typing import Any
from urllib.parse import urlsplit

from django.db import migrations, models

BATCH = 1000
ENTRY_POINTS = ("index.php", "api.php", "rest.php", "load.php")


def server_of(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port (``mwsso.protocol.identity.issuer_of``), or None."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return None
    return f"{scheme}://{host}" if port in (None, 443 if scheme == "https" else 80) else f"{scheme}://{host}:{port}"


def wiki_key(url: str) -> str | None:
    """The server and the script path of the wiki at ``url`` (``mwsso.protocol.identity.wiki_key``), or None."""
    server = server_of(url)
    if server is None:
        return None
    path = urlsplit(url.strip()).path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in ENTRY_POINTS or last.endswith(".php"):
        path = dirname(path)
    return server + "".join(f"/{segment}" for segment in path.split("/") if segment)


def rekey(rows: Any, new: str, has_sub: bool) -> None:
    """Give ``rows`` the key ``new``, a batch at a time, but not where the user (or the wiki account) has it already."""
    model = rows.model
    manager = model.objects.using(rows.db)
    last = 0
    while batch := list(
        rows.filter(pk__gt=last).order_by("pk").values_list("pk", "user_id", "sub" if has_sub else "pk")[:BATCH]
    ):
        last = batch[-1][0]
        users = {user for _pk, user, _sub in batch}
        taken_users = set(manager.filter(wiki=new, user_id__in=users).values_list("user_id", flat=True))
        taken_subs = set()
        if has_sub:
            taken_subs = set(
                manager.filter(wiki=new, sub__in={sub for *_rest, sub in batch}).values_list("sub", flat=True)
            )
        free = [pk for pk, user, sub in batch if user not in taken_users and not (has_sub and sub in taken_subs)]
        manager.filter(pk__in=free).update(wiki=new)


def forward(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.connection.alias
    tokens = apps.get_model("mwsso", "AccessToken").objects.using(db)
    identities = apps.get_model("mwsso", "WikiIdentity").objects.using(db)
    moves = {}
    for old, url in sorted(tokens.order_by().values_list("wiki", "wiki_url").distinct()):
        new = wiki_key(url)
        if new and new != old:
            moves[old, url] = new
    news_of = defaultdict(set)
    for (old, _url), new in moves.items():
        news_of[old].add(new)
    # Identities first, while the tokens still carry the old key that pairs them with their user's identity.
    for (old, url), new in moves.items():
        owners = tokens.filter(wiki=old, wiki_url=url).values("user_id")
        rekey(identities.filter(wiki=old, user_id__in=owners), new, has_sub=True)
    for old, news in news_of.items():
        if len(news) == 1:  # identities without a token: only when their old key meant one wiki
            rekey(identities.filter(wiki=old), next(iter(news)), has_sub=True)
    for (old, url), new in moves.items():
        rekey(tokens.filter(wiki=old, wiki_url=url), new, has_sub=False)


def backward(apps: Any, schema_editor: Any) -> None:
    db = schema_editor.connection.alias
    for name, has_sub in (("WikiIdentity", True), ("AccessToken", False)):
        rows = apps.get_model("mwsso", name).objects.using(db)
        for key in sorted(rows.order_by().values_list("wiki", flat=True).distinct()):
            old = server_of(key)
            if old and old != key:
                rekey(rows.filter(wiki=key), old, has_sub)


class Migration(migrations.Migration):
    dependencies = [
        ("mwsso", "0002_accesstoken_oauth2"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesstoken",
            name="wiki",
            field=models.CharField(
                help_text="The wiki's server and script path (mwsso.protocol.identity.wiki_key).",
                max_length=255,
                verbose_name="wiki",
            ),
        ),
        migrations.AlterField(
            model_name="wikiidentity",
            name="wiki",
            field=models.CharField(
                help_text="The wiki's server and script path (mwsso.protocol.identity.wiki_key).",
                max_length=255,
                verbose_name="wiki",
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
