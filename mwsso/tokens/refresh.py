"""Refreshing a stored OAuth 2.0 token, once across threads, processes and machines, with no lock held meanwhile.

MediaWiki's refresh tokens are single use: refreshing rotates the refresh token and revokes the
previous access token. Two workers refreshing the same token at once would burn it (the second is
refused, "The refresh token is invalid") and sign the user out. So a refresh:

1. claims the row: one conditional UPDATE, committed at once (autocommit), that writes a random
   ``refresh_claim`` and its expiry ``refresh_claimed_until`` where the row still holds the access
   token the caller saw and no unexpired claim; one worker's UPDATE matches, the others' do not;
2. the winner asks the wiki outside any transaction (the HTTP deadline bounds the call; the claim lasts
   that deadline plus ``CLAIM_MARGIN``), then writes the new pair where the row still holds the access
   token it refreshed, clearing the claim in the same UPDATE (even when the claim expired meanwhile: the
   wiki's answer is the only valid pair once the old refresh token is retired);
3. the others re-read the row with short sleeps until the access token changed (and use the new pair),
   the token became unusable (the wiki refused it), the claim was released without a new pair (the
   refresh failed: ``WikiUnavailable``), or the claim expired (its worker crashed: they claim it).

A caller that arrives after the refresh reads the new pair and waits for nobody. No database lock, and
no transaction, is held while the wiki answers: on SQLite, the database's write lock is taken for the
two short UPDATEs only, so other users' writes go on; on PostgreSQL and MariaDB no connection sits
"idle in transaction" for the length of a wiki call. Called inside a caller's own ``atomic`` block (a view
under ``ATOMIC_REQUESTS`` included), the claim and the new pair commit with that block: a rollback would
bring back the refresh token the wiki has just retired, and the next refresh would be refused. So
``for_user`` belongs outside transactions (``transaction.non_atomic_requests`` on such a view), and a
refresh inside one is logged (INFO, once per process).

A refusal (the refresh token expired, was revoked, or belongs to another client) is the wiki's word:
the token's status is set and ``TokenInvalid`` (a ``SignInRequired``; ``SignInExpired`` when the refresh
token expired) raised. A public client (no secret) is not let refresh by MediaWiki: no request is sent
and ``SignInExpired`` says that the user must sign in again. A network failure or a 5xx leaves the token
as it was and raises ``WikiUnavailable``. Our own misconfiguration changes nothing stored: no client
configured or another client id raise ``TokenUnusable``; the wiki refusing this site's client itself
(``invalid_client``: a wrong client secret, an unapproved or unknown client) raises ``SiteMisconfigured``
and leaves every token as it is (a new sign-in would fail the same way).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import connections, router
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.utils import timezone

from mwsso import http, signals
from mwsso.app_settings import app_settings
from mwsso.exceptions import (
    BadResponse,
    SignInExpired,
    SignInRequired,
    SiteMisconfigured,
    TokenInvalid,
    TokenUnreadable,
    TokenUnusable,
    WikiUnavailable,
)
from mwsso.models import USABLE_STATUSES, AccessToken
from mwsso.protocol import oauth2
from mwsso.protocol.wikiurls import InvalidWikiURL
from mwsso.tokens.clients import oauth2_client_for

logger = logging.getLogger("mwsso.api")

Status = AccessToken.Status

# Seconds a claim outlives the refresh request's own deadline: time to write the answer before another worker
# may take the claim over (by the database's clock, which every machine shares: DatabaseNow).
CLAIM_MARGIN = 5.0
# A claim when requests may wait for ever (an explicit ``None`` timeout of the site's own).
UNBOUNDED_CLAIM = 300.0
# How often a worker waiting for another's refresh re-reads the row: from the first to the last, growing.
FIRST_POLL = 0.01
LAST_POLL = 0.1

# How a waiting worker pauses (a module attribute, so tests can count the pauses).
_sleep = time.sleep

# SQLite has one writer at a time. Threads of one process that wait for it in SQLite's busy handler sleep
# 1 to 100 ms between tries, so 64 refreshes at once spend seconds asleep while the database is idle; taking
# this lock around the claim's and the answer's short UPDATEs (never around a call to the wiki) lets them
# hand over at once. Other processes still meet SQLite's own lock.
_sqlite_writer = threading.Lock()

_RELEASED = {"refresh_claim": "", "refresh_claimed_until": None}


class DatabaseNow(Now):
    """The database's clock, in UTC on every backend, for a claim's expiry.

    A claim is written by one machine and judged by others: with each machine's own clock, one running a few
    seconds ahead would take over a claim that is still running and refresh a second time. The database's
    clock is the one they share. Django's ``Now`` is MySQL's ``CURRENT_TIMESTAMP``, in the session's time zone,
    while Django stores UTC there: ``UTC_TIMESTAMP`` is the same instant as the stored values.
    """

    def as_mysql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="UTC_TIMESTAMP(6)", **extra_context)


def _claim_running() -> ExpressionWrapper[Q]:
    # By the database's clock (DatabaseNow): whether the row's claim has not expired yet.
    return ExpressionWrapper(Q(refresh_claimed_until__gt=DatabaseNow()), output_field=BooleanField())


def needs_refresh(token: AccessToken, *, margin: float | None = None) -> bool:
    """Whether an OAuth 2.0 token's access token expires within ``MWSSO_REFRESH_MARGIN`` seconds (or already has)."""
    if token.oauth_version != 2 or token.expires_at is None:
        return False
    seconds = app_settings.REFRESH_MARGIN if margin is None else margin
    return token.expires_at - timedelta(seconds=seconds) <= timezone.now()


def claim_seconds() -> float:
    """How long a refresh claim lasts: the refresh request's deadline (``MWSSO_HTTP_DEADLINE``) plus ``CLAIM_MARGIN``."""
    deadline = http.deadline_seconds(app_settings.HTTP_TIMEOUT)
    return (UNBOUNDED_CLAIM if deadline is None else deadline) + CLAIM_MARGIN


def refresh_token(token: AccessToken, *, seen_fingerprint: str | None = None, force: bool = False) -> AccessToken:
    """Make ``token`` fresh: refresh it with the wiki unless another worker already did; return the fresh row.

    ``seen_fingerprint`` is the access token the caller used (or would use); when the row holds
    another one, someone refreshed it meanwhile and that pair is returned. Without ``force`` the
    refresh also happens only when ``needs_refresh`` says so (checked again on the row as it is now).
    """
    seen = token.fingerprint if seen_fingerprint is None else seen_fingerprint
    client = oauth2_client_for(token.consumer_key)
    if client is None:
        raise TokenUnusable(
            "mwsso-client-mismatch",
            f"access token {token.fingerprint} was issued to OAuth 2.0 client {token.consumer_key}, "
            "not to this site's SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY (nor to a client of mwsso.contrib.allauth)",
        )
    using = router.db_for_write(AccessToken)
    if connections[using].in_atomic_block:
        _note_atomic_caller()
    lasts = claim_seconds()
    give_up_at = time.monotonic() + lasts
    pause = FIRST_POLL
    others_claim = ""
    while True:
        current = AccessToken.objects.using(using).filter(pk=token.pk).annotate(claim_running=_claim_running()).first()
        if current is None:
            raise TokenInvalid(
                "mwsso-token-deleted", f"access token {token.fingerprint} was deleted", status=Status.INVALID
            )
        if not current.is_usable:
            raise TokenInvalid(
                f"mwsso-token-{current.status}",
                f"access token {current.fingerprint} is {current.status}: {current.status_reason}",
                status=current.status,
            )
        if current.fingerprint != seen or not (force or needs_refresh(current)):
            if others_claim:
                logger.debug("access token %s was refreshed by another worker", current.pk)
            return current
        if others_claim and current.refresh_claim == "":
            # The worker whose refresh this one waited for released its claim without a new pair: its
            # refresh failed (it said why in its own log line). Asking again at once would fail alike.
            raise WikiUnavailable(
                "mwsso-refresh-failed",
                f"refresh: another worker's refresh of access token {current.fingerprint} just failed; try again later",
            )
        if not _claimed(current):
            refresh = _refresh_secret(current)
            if not client.is_confidential:
                # Both wikis seen (1.39, 1.43) refuse a public client's refresh without the secret: no request is
                # sent, and the token is left as it is (it is not the wiki's word, and a new sign-in replaces it).
                raise SignInExpired(
                    "mwsso-public-client-cannot-refresh",
                    "the access token expired and this site is a public OAuth 2.0 client (no "
                    "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET), which MediaWiki does not let refresh: sign in again",
                    status=current.status,
                )
            mine = secrets.token_hex(16)
            if _claim(current, seen, mine, lasts, using):
                return _refresh_claimed(current, seen, mine, refresh, client, using)
            others_claim = "?"  # another worker claimed it between the read and the UPDATE
        else:
            others_claim = current.refresh_claim
        if time.monotonic() >= give_up_at:
            raise WikiUnavailable(
                "mwsso-refresh-busy",
                f"refresh: another worker's refresh of access token {current.fingerprint} did not finish in {lasts:.0f} s",
            )
        _sleep(pause)
        pause = min(pause * 2, LAST_POLL)


_atomic_caller_noted = False


def _note_atomic_caller() -> None:
    global _atomic_caller_noted
    if not _atomic_caller_noted:
        _atomic_caller_noted = True
        logger.info(
            "an OAuth 2.0 refresh runs inside a transaction: its new token pair is lost if that transaction rolls "
            "back (the wiki has retired the old refresh token); call mwsso.api.for_user outside atomic blocks "
            "(transaction.non_atomic_requests with ATOMIC_REQUESTS)"
        )


@contextmanager
def _one_writer(using: str) -> Iterator[None]:
    if connections[using].vendor != "sqlite":
        yield
        return
    with _sqlite_writer:
        yield


def _claimed(token: AccessToken) -> bool:
    """Whether another worker's claim on the row is still running (an expired one is a crashed worker's).

    Judged by the database's clock when the row was read with ``claim_running``, as the claim is taken.
    """
    running = getattr(token, "claim_running", None)
    if running is None:
        until = token.refresh_claimed_until
        running = until is not None and until > timezone.now()
    return bool(token.refresh_claim) and bool(running)


def _claim(token: AccessToken, seen: str, mine: str, lasts: float, using: str) -> bool:
    """Claim the row for this worker's refresh, in one committed UPDATE; False if another worker got it first.

    The claim's expiry is written and compared by the database's clock, never this machine's.
    """
    free = Q(refresh_claim="") | Q(refresh_claimed_until__isnull=True) | Q(refresh_claimed_until__lte=DatabaseNow())
    rows = AccessToken.objects.using(using).filter(free, pk=token.pk, fingerprint=seen, status__in=USABLE_STATUSES)
    with _one_writer(using):
        won = rows.update(refresh_claim=mine, refresh_claimed_until=DatabaseNow() + timedelta(seconds=lasts)) == 1
    if won:
        # This machine's estimate, for reading only: the row holds the database's.
        token.refresh_claim, token.refresh_claimed_until = mine, timezone.now() + timedelta(seconds=lasts)
    return won


def _release(token: AccessToken, mine: str, using: str) -> None:
    """Give the claim up (only this worker's own: an expired one another worker took over is theirs)."""
    with _one_writer(using):
        AccessToken.objects.using(using).filter(pk=token.pk, refresh_claim=mine).update(**_RELEASED)
    token.refresh_claim, token.refresh_claimed_until = "", None


def _refresh_secret(token: AccessToken) -> str:
    try:
        refresh = token.get_credentials().refresh_token
    except TokenUnreadable as err:
        raise TokenUnusable(
            "mwsso-token-unreadable", f"access token {token.fingerprint} cannot be decrypted with MWSSO_TOKEN_KEYS"
        ) from err
    if not refresh:
        raise SignInRequired("mwsso-no-refresh-token", f"access token {token.fingerprint} has no refresh token")
    return refresh


def _refresh_claimed(
    current: AccessToken, seen: str, mine: str, refresh: str, client: oauth2.Client, using: str
) -> AccessToken:
    """Ask the wiki (no transaction open), then store its answer where the claim is still ours."""
    stored = False
    try:
        try:
            fresh = oauth2.refresh(http.get_session(), current.wiki_url, client, refresh, **http.request_options())
        except InvalidWikiURL as err:
            raise TokenUnusable(
                "mwsso-bad-wiki-url", f"access token {current.fingerprint} has no usable wiki URL"
            ) from err
        except oauth2.OAuth2Error as err:
            if err.kind == "refused" and err.wiki_code == "invalid_client":
                raise _misconfigured(current, err) from err
            if oauth2.refusal_means_sign_in(err):
                # The status is written before the claim is released: a waiting worker then sees it and asks nothing.
                raise _refused(current, err) from err
            _failed(current, err)
            if err.kind == "unavailable":
                raise WikiUnavailable(f"mwsso-refresh-{err.kind}", f"refresh: {err.message}") from err
            raise BadResponse(f"mwsso-refresh-{err.kind}", f"refresh: {err}") from err
        stored = _store(current, fresh, seen, mine, using)
    finally:
        if not stored:
            _release(current, mine, using)
    if not stored:
        # A new sign-in replaced the row meanwhile (or it was deleted): the wiki's new pair for the old
        # grant is dropped, and the row as it is now answers.
        logger.info("access token %s was replaced while it was refreshed; using the stored one", current.pk)
        return refresh_token(current, seen_fingerprint=seen)
    signals.token_refreshed.send(sender=AccessToken, token=current)
    logger.info("refreshed access token %s of user %s on %s", current.fingerprint, current.user_id, current.wiki)
    return current


def _store(token: AccessToken, fresh: oauth2.TokenSet, seen: str, mine: str, using: str) -> bool:
    """Write the new pair and clear the claim, in one UPDATE where the row still holds ``seen``."""
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
        **_RELEASED,
    }
    # Where the row still holds ``seen``, whoever holds the claim now: the wiki has just retired the old refresh
    # token, so its answer is the only good pair there is. A worker that took over an expired claim meanwhile (this
    # one was slow to write: a busy database, a stalled process) sends the retired token and is
    # refused; that refusal is recorded only while the row holds ``seen`` (``record_status``), and this write
    # makes the token valid again whichever lands first.
    rows = AccessToken.objects.using(using).filter(pk=token.pk, fingerprint=seen)
    with _one_writer(using):
        written = rows.update(**values) == 1
    if not written:
        return False
    for name, value in values.items():
        setattr(token, name, value)
    return True


def _misconfigured(token: AccessToken, err: oauth2.OAuth2Error) -> SiteMisconfigured:
    """The wiki refuses this site's client itself (``invalid_client``): the site's set-up, not the user's token."""
    logger.error(
        "refresh of access token %s of user %s on %s: the wiki refuses this site's OAuth 2.0 client "
        "(invalid_client: a wrong SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET, or an unknown or unapproved client); "
        "token left as it is",
        token.fingerprint, token.user_id, token.wiki,
    )  # fmt: skip
    signals.token_refresh_failed.send(sender=AccessToken, token=token, reason=str(err), final=False)
    return SiteMisconfigured(
        "mwsso-refresh-invalid_client",
        "refresh: the wiki refuses this site's OAuth 2.0 client (invalid_client): check "
        "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY and SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET against the client's page on the wiki",
        cause="consumer",
        http_status=err.http_status,
    )


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
