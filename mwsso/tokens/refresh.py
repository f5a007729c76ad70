"""Refreshing a stored OAuth 2.0 token, once, under a lock that holds across threads, processes and machines.

MediaWiki's refresh tokens are single use: refreshing rotates the refresh token and revokes the
previous access token. Two workers refreshing the same token at once would burn it (the second is
refused, "The refresh token is invalid") and sign the user out. So a refresh:

1. opens a transaction and takes the token row's write lock: ``SELECT … FOR UPDATE`` on PostgreSQL
   and MariaDB/MySQL; on SQLite (which ignores FOR UPDATE) a no-op UPDATE of the row first, which
   takes the database's write lock until the transaction ends;
2. re-reads the row under the lock: if another worker refreshed it meanwhile (its fingerprint
   is not the one the caller saw), that worker's new pair is used and the wiki is not asked;
3. asks the wiki and writes the new pair in the same transaction.

A refusal (the refresh token expired, was revoked, or the client may not refresh it) is the wiki's
word: the token's status is set and ``TokenInvalid`` (a ``SignInRequired``; ``SignInExpired`` when the
refresh token expired) raised. A public client (no secret) is not let refresh by MediaWiki: no
request is sent and ``SignInExpired`` says that the user must sign in again. A network
failure or a 5xx leaves the token as it was and raises ``WikiUnavailable``. Our own
misconfiguration (no client configured, another client id) raises ``TokenUnusable`` and
changes nothing stored.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from mwsso import http, signals
from mwsso.app_settings import app_settings
from mwsso.exceptions import (
    BadResponse,
    SignInExpired,
    SignInRequired,
    TokenInvalid,
    TokenUnreadable,
    TokenUnusable,
    WikiUnavailable,
)
from mwsso.models import AccessToken
from mwsso.protocol import oauth2
from mwsso.protocol.wikiurls import InvalidWikiURL
from mwsso.tokens.clients import oauth2_client_for

logger = logging.getLogger("mwsso.api")

Status = AccessToken.Status


def needs_refresh(token: AccessToken, *, margin: float | None = None) -> bool:
    """Whether an OAuth 2.0 token's access token expires within ``MWSSO_REFRESH_MARGIN`` seconds (or already has)."""
    if token.oauth_version != 2 or token.expires_at is None:
        return False
    seconds = app_settings.REFRESH_MARGIN if margin is None else margin
    return token.expires_at - timedelta(seconds=seconds) <= timezone.now()


def refresh_token(token: AccessToken, *, seen_fingerprint: str | None = None, force: bool = False) -> AccessToken:
    """Make ``token`` fresh: refresh it with the wiki unless another worker already did; return the fresh row.

    ``seen_fingerprint`` is the access token the caller used (or would use); when the row holds
    another one, someone refreshed it meanwhile and that pair is returned. Without ``force`` the
    refresh also happens only when ``needs_refresh`` says so (checked again under the lock).
    """
    seen = token.fingerprint if seen_fingerprint is None else seen_fingerprint
    client = oauth2_client_for(token.consumer_key)
    if client is None:
        raise TokenUnusable(
            "mwsso-client-mismatch",
            f"access token {token.fingerprint} was issued to OAuth 2.0 client {token.consumer_key}, "
            "not to this site's SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY (nor to a client of mwsso.contrib.allauth)",
        )
    refused: SignInRequired | None = None
    using = router.db_for_write(AccessToken)
    with transaction.atomic(using=using):
        current = _locked(token.pk, using)
        if current is None:
            raise TokenInvalid("mwsso-token-deleted", f"access token {token.fingerprint} was deleted", status=Status.INVALID)
        if not current.is_usable:
            raise TokenInvalid(
                f"mwsso-token-{current.status}",
                f"access token {current.fingerprint} is {current.status}: {current.status_reason}",
                status=current.status,
            )
        if current.fingerprint != seen or not (force or needs_refresh(current)):
            # Another worker refreshed while this one waited for the lock: use its pair.
            logger.debug("access token %s was refreshed by another worker", current.pk)
            return current
        try:
            refresh = current.get_credentials().refresh_token
        except TokenUnreadable as err:
            raise TokenUnusable(
                "mwsso-token-unreadable", f"access token {current.fingerprint} cannot be decrypted with MWSSO_TOKEN_KEYS"
            ) from err
        if not refresh:
            raise SignInRequired("mwsso-no-refresh-token", f"access token {current.fingerprint} has no refresh token")
        if not client.is_confidential:
            # Both wikis seen (1.39, 1.43) refuse a public client's refresh without the secret: no request is
            # sent, and the token is left as it is (it is not the wiki's word, and a new sign-in replaces it).
            raise SignInExpired(
                "mwsso-public-client-cannot-refresh",
                "the access token expired and this site is a public OAuth 2.0 client (no "
                "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET), which MediaWiki does not let refresh: sign in again",
                status=current.status,
            )
        try:
            fresh = oauth2.refresh(http.get_session(), current.wiki_url, client, refresh, **http.request_options())
        except InvalidWikiURL as err:
            raise TokenUnusable("mwsso-bad-wiki-url", f"access token {current.fingerprint} has no usable wiki URL") from err
        except oauth2.OAuth2Error as err:
            if oauth2.refusal_means_sign_in(err):
                # Written under the lock: a worker waiting for it then sees the status and asks nothing.
                refused = _refused(current, err)
            else:
                _failed(current, err)
                if err.kind == "unavailable":
                    raise WikiUnavailable(f"mwsso-refresh-{err.kind}", f"refresh: {err.message}") from err
                raise BadResponse(f"mwsso-refresh-{err.kind}", f"refresh: {err}") from err
        else:
            _store(current, fresh)
    if refused is not None:
        raise refused
    signals.token_refreshed.send(sender=AccessToken, token=current)
    logger.info("refreshed access token %s of user %s on %s", current.fingerprint, current.user_id, current.wiki)
    return current


def _locked(pk: int, using: str) -> AccessToken | None:
    rows = AccessToken.objects.using(using).filter(pk=pk)
    if connections[using].vendor == "sqlite":
        # SQLite has no row locks and ignores FOR UPDATE; a write takes its database-wide
        # write lock (held to the end of the transaction), so do a write that changes nothing.
        rows.update(refreshed_at=F("refreshed_at"))
    return rows.select_for_update().first()


def _store(token: AccessToken, fresh: oauth2.TokenSet) -> None:
    now = timezone.now()
    current_refresh = token.get_credentials().refresh_token
    values = {
        # A wiki that does not rotate refresh tokens sends none: the old one stays valid.
        **AccessToken.credential_fields(fresh.access_token, "", refresh_token=fresh.refresh_token or current_refresh),
        "expires_at": None if fresh.expires_in is None else now + timedelta(seconds=fresh.expires_in),
        "refreshed_at": now,
        "status": Status.VALID,
        "status_reason": "",
        "updated": now,
    }
    AccessToken.objects.filter(pk=token.pk).update(**values)
    for name, value in values.items():
        setattr(token, name, value)


def _refused(token: AccessToken, err: oauth2.OAuth2Error) -> SignInRequired:
    hint = f" ({err.hint})" if err.hint else ""
    reason = f"refresh refused: {err.wiki_code}: {err.message}{hint}"
    status = Status.REVOKED if "revoked" in err.hint.lower() else Status.INVALID
    token.record_status(status, reason)
    logger.warning(
        "refresh of access token %s of user %s on %s refused by the wiki (%s%s); marked %s",
        token.fingerprint, token.user_id, token.wiki, err.wiki_code, hint, status,
    )  # fmt: skip
    signals.token_refresh_failed.send(sender=AccessToken, token=token, reason=reason, final=True)
    if "expired" in err.hint.lower():
        return SignInExpired("mwsso-refresh-token-expired", reason, status=status)
    return TokenInvalid(f"mwsso-refresh-{err.wiki_code}", reason, status=status)


def _failed(token: AccessToken, err: oauth2.OAuth2Error) -> None:
    logger.warning(
        "refresh of access token %s of user %s on %s failed (%s); token left as it is",
        token.fingerprint, token.user_id, token.wiki, err,
    )  # fmt: skip
    signals.token_refresh_failed.send(sender=AccessToken, token=token, reason=str(err), final=False)
