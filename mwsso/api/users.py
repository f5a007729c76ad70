"""``for_user``: a client bound to a user's stored access token, on their own wiki or another of its farm."""

from __future__ import annotations

from typing import Any

from django.db import connections, router

from mwsso.api import tokens, wikis
from mwsso.api.client import Client
from mwsso.api.errors import NotAllowedWiki, NoToken, TokenInvalid, TokenUnusable
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken, WikiIdentity

# A module reference, not names: mwsso.tokens.refresh imports mwsso.api.errors, so importing it first
# would find this package half-initialised.
from mwsso.tokens import refresh as token_refresh


def for_user(user: Any, wiki: str | None = None, **client_kw: Any) -> Client:
    """A ``Client`` that acts as ``user`` on ``wiki`` (default: the wiki they last signed in with).

    ``wiki`` is a server (``https://de.wikipedia.org``), a host name, or an index.php/api.php URL.
    Raises ``NoToken`` (never signed in), ``TokenInvalid`` (the wiki refused the token before:
    sign in again), ``TokenUnusable`` (cannot be decrypted, or issued to another consumer) or
    ``NotAllowedWiki`` (neither the token's wiki nor allowed by ``MWSSO_ALLOWED_WIKIS``).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        raise NoToken("mwsso-no-token", "anonymous users have no access token")
    stored = _stored_tokens(user.pk)
    if not stored:
        raise NoToken("mwsso-no-token", f"user {user.pk} has no wiki access token")
    token = stored[0]
    if wiki is None:
        target = _endpoints(token)[0]
    else:
        try:
            target = wikis.resolve(wiki, token.wiki_url)
        except wikis.InvalidWiki as err:
            raise NotAllowedWiki("mwsso-invalid-wiki", str(err)) from err
        # A token issued by that very wiki (its server and script path) beats one from elsewhere in the farm.
        token = next((t for t in stored if any(e.api_url == target.api_url for e in _endpoints(t))), token)
        if not wikis.is_allowed(target, _endpoints(token), app_settings.ALLOWED_WIKIS):
            raise NotAllowedWiki(
                "mwsso-not-allowed-wiki",
                f"{target.server} is not {token.wiki} and matches no MWSSO_ALLOWED_WIKIS pattern",
            )
    if not token.is_usable:
        raise TokenInvalid(
            f"mwsso-token-{token.status}",
            f"access token {token.fingerprint} on {token.wiki} is {token.status}: {token.status_reason}",
            status=token.status,
        )
    if token_refresh.needs_refresh(token):
        # OAuth 2.0: the access token expires within MWSSO_REFRESH_MARGIN; refresh it (once across workers: mwsso.tokens.refresh) first.
        token = token_refresh.refresh_token(token)
    return Client(target.api_url, tokens.signer_for(token), token=token, **client_kw)


# The user's tokens, the wiki of their latest sign-in first (its identity was refreshed last), then the newest:
# one query on the (user, wiki) unique indexes of both tables. Raw SQL, built once per database vendor: this
# runs before every API call, and compiling the same ORM query (a correlated subquery, NULLS LAST) each time
# cost more CPU than the call itself. NULLs last is spelled out: MariaDB and MySQL have no NULLS LAST.
_TOKENS_SQL: dict[str, str] = {}


def _stored_tokens(user_pk: Any) -> list[AccessToken]:
    using = router.db_for_read(AccessToken)
    vendor = connections[using].vendor
    sql = _TOKENS_SQL.get(vendor)
    if sql is None:
        quote = connections[using].ops.quote_name
        token, identity = quote(AccessToken._meta.db_table), quote(WikiIdentity._meta.db_table)
        # Only the two models' own table names are formatted in (quoted); the user's pk is a parameter.
        sql = _TOKENS_SQL[vendor] = (
            f"SELECT t.* FROM {token} t LEFT OUTER JOIN {identity} i ON i.user_id = t.user_id AND i.wiki = t.wiki "  # noqa: S608
            "WHERE t.user_id = %s "
            "ORDER BY CASE WHEN i.refreshed_at IS NULL THEN 1 ELSE 0 END, i.refreshed_at DESC, t.created DESC, t.id DESC"
        )
    return list(AccessToken.objects.db_manager(using).raw(sql, [user_pk]))


def _endpoints(token: AccessToken) -> list[wikis.Endpoint]:
    """The token's wiki as the site reaches it (its index.php URL) and as the wiki names itself (its server)."""
    try:
        found = [wikis.home_endpoint(token.wiki_url)]
    except wikis.InvalidWiki as err:
        raise TokenUnusable("mwsso-bad-wiki-url", f"access token {token.fingerprint} has no usable wiki URL") from err
    try:
        found.append(wikis.resolve(token.wiki, token.wiki_url))
    except wikis.InvalidWiki:
        pass
    return found
