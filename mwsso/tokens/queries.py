"""Selecting stored access tokens (the filters the admin and the command share) and exporting them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import cast

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from mwsso.exceptions import MwssoError
from mwsso.models import AccessToken, GrantSet, WikiIdentity, wiki_filter
from mwsso.protocol.wikiurls import InvalidWikiURL, wiki_urls


# -- selecting ----------------------------------------------------------------
def with_wiki_username(queryset: QuerySet[AccessToken]) -> QuerySet[AccessToken]:
    """Annotate ``wiki_username``: the username the wiki last vouched for, for the token's user and wiki."""
    identity = WikiIdentity.objects.filter(user=OuterRef("user"), wiki=OuterRef("wiki"))
    return queryset.annotate(wiki_username=Subquery(identity.values("username")[:1]))


def filter_by_grant(queryset: QuerySet[AccessToken], grant: str) -> QuerySet[AccessToken]:
    """Tokens whose grants include ``grant`` (its exact name), the same on every database.

    The tokens of the grant sets that contain it (``GrantSet``: one row per distinct combination, a small
    table), read through the ``(grant_set, created, id)`` index. The sets' ids are read first (one query
    over that small table) and given to the token query as values, not as a subquery: the planners then
    know how many tokens each set has (a rare grant is an index range on PostgreSQL, not a scan), and one
    set is one index range already in the list's order. Matching each token's JSON list read every row of
    the token table on SQLite and MariaDB (and needed a GIN index on PostgreSQL).
    """
    ids = list(GrantSet.containing(grant).using(queryset.db).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return queryset.none()
    if len(ids) > 1 and connections[queryset.db].vendor == "sqlite" and _many_tokens(ids, queryset.db):
        # SQLite keeps no statistics unless someone runs ANALYZE: it reads the sets' index ranges and then
        # sorts every token found into the list's order (0.7 s for a grant half of 100k tokens have, since
        # each row's columns are computed before the sort). For a grant that many tokens have, walking the
        # ``created`` index and keeping the matching rows fills a page after a few hundred rows; "+ 0" stops
        # SQLite from choosing the grant-set index. One set is a single range already in the list's order.
        return queryset.alias(grant_set_unindexed=F("grant_set_id") + 0).filter(grant_set_unindexed__in=ids)
    return queryset.filter(grant_set__in=ids)


# From how many tokens of a grant SQLite is better off walking the list's order than sorting what it found.
MANY_TOKENS = 2000


def _many_tokens(grant_sets: list[int], using: str) -> bool:
    """Whether the sets have MANY_TOKENS tokens or more: an index-only read of at most that many entries."""
    tokens = AccessToken.objects.using(using).filter(grant_set__in=grant_sets).order_by().values_list("pk", flat=True)
    return tokens[MANY_TOKENS : MANY_TOKENS + 1].exists()


def all_grants() -> list[str]:
    """Every grant some stored token has, sorted (the admin's grant filter offers these)."""
    grants: set[str] = set()
    in_use = GrantSet.objects.filter(pk__in=AccessToken.objects.order_by().values("grant_set"))
    for names in in_use.values_list("grants", flat=True):
        grants.update(names)
    return sorted(grants)


def filter_tokens(
    queryset: QuerySet[AccessToken] | None = None,
    *,
    statuses: Iterable[str] = (),
    wikis: Iterable[str] = (),
    grant: str = "",
    user: str = "",
) -> QuerySet[AccessToken]:
    """The command's filters, like the admin's: status, wiki, grant, and user (Django or wiki username)."""
    queryset = AccessToken.objects.all() if queryset is None else queryset
    if statuses := list(statuses):
        queryset = queryset.filter(status__in=statuses)
    if wikis := list(wikis):
        named = Q(wiki_url__in=[wiki.strip() for wiki in wikis])
        for wiki in wikis:
            named |= wiki_filter(wiki)
        queryset = queryset.filter(named)
    if grant:
        queryset = filter_by_grant(queryset, grant)
    if user:
        pk = user_named(user)
        queryset = queryset.filter(user_id=pk) if pk is not None else queryset.none()
    return queryset


class AmbiguousUser(MwssoError, ValueError):
    """A name that selects no single user: several users' wiki accounts are (or were, before a rename) called so."""

    def __init__(self, name: str, usernames: list[str]) -> None:
        super().__init__(f"{name!r} is the wiki username of {len(usernames)} users: {', '.join(sorted(usernames))}")
        self.name = name
        self.usernames = usernames


def user_named(name: str) -> int | None:
    """The one user ``name`` selects: whose Django username it is, else whose wiki username it is; None for nobody.

    Names are compared exactly, whatever the database's collation (MariaDB's ignore case and accents).
    A wiki username that two users' identities carry (one renamed on the wiki, or users of two wikis)
    raises ``AmbiguousUser``; their Django usernames, which are unique, select each of them.
    """
    user_model = get_user_model()
    field = user_model.USERNAME_FIELD
    for pk, username in user_model.objects.filter(**{field: name}).values_list("pk", field):
        if username == name:
            # get_user_model() is typed as any model; mwsso's user_id columns (and this function) take int pks.
            return cast("int", pk)
    owners = {
        user
        for user, username in WikiIdentity.objects.filter(username=name).values_list("user_id", "username")
        if username == name
    }
    if len(owners) > 1:
        names = user_model.objects.filter(pk__in=owners).values_list(field, flat=True)
        raise AmbiguousUser(name, [str(username) for username in names])
    return owners.pop() if owners else None


# -- exporting ----------------------------------------------------------------
EXPORT_FIELDS = (
    "id", "user_id", "username", "wiki_username", "wiki", "wiki_url", "consumer_key", "oauth_version",
    "fingerprint", "key_id", "grants", "status", "status_reason", "created", "updated", "last_used",
    "last_verified", "expires_at", "refreshed_at",
)  # fmt: skip


def export_rows(queryset: QuerySet[AccessToken]) -> Iterator[list[str]]:
    """The header, then one row of non-secret fields per token (CSV-safe: no cell starts a formula)."""
    yield list(EXPORT_FIELDS)
    username_field = get_user_model().USERNAME_FIELD
    for token in _by_pk_chunks(with_wiki_username(queryset).select_related("user")):
        values = {
            "username": getattr(token.user, username_field),
            "grants": " ".join(token.grants or ()),
        }
        row = []
        for name in EXPORT_FIELDS:
            value = values[name] if name in values else getattr(token, name)
            row.append(_cell(value))
        yield row


EXPORT_CHUNK = 500


def _by_pk_chunks(queryset: QuerySet[AccessToken]) -> Iterator[AccessToken]:
    """Every row, EXPORT_CHUNK at a time by primary key: bounded memory on every database.

    Not ``iterator()``: MySQL's and MariaDB's driver reads a whole result into memory before the first row.
    """
    last_pk = 0
    while chunk := list(queryset.filter(pk__gt=last_pk).order_by("pk")[:EXPORT_CHUNK]):
        yield from chunk
        last_pk = chunk[-1].pk


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection); wiki usernames may.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def manage_grants_url(wiki_url: str) -> str:
    """Where the token's user can revoke the grant themselves (Special:OAuthManageMyGrants on that wiki).

    Built on index.php rather than ``/wiki/``: the article path differs between wikis, index.php does not.
    """
    try:
        return wiki_urls(wiki_url).page("Special:OAuthManageMyGrants")
    except InvalidWikiURL:
        separator = "&" if "?" in wiki_url else "?"
        return f"{wiki_url}{separator}title=Special:OAuthManageMyGrants"
