"""Checking stored access tokens with the wiki, a bounded number at a time.

OAuth 1.0a tokens through Special:OAuth/identify, OAuth 2.0 tokens through rest.php/oauth2/resource/profile.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from mwsso import http, oauth1, oauth2
from mwsso.app_settings import app_settings
from mwsso.exceptions import TokenUnreadable
from mwsso.identity import InvalidIdentity, identity_from_profile, verify_identify_jwt
from mwsso.models import AccessToken, WikiIdentity

logger = logging.getLogger(__name__)

Status = AccessToken.Status
# What the wiki answers for a token the user revoked (or that it never issued).
REVOKED_CODES = ("mwoauthdatastore-access-token-not-found", "mwoauth-access-token-not-found")
REVOKED_PREFIX = "mwoauth-invalid-authorization"
# Tokens fetched from the database at a time while verifying (bounds memory, not concurrency).
VERIFY_CHUNK = 200


@dataclass(frozen=True)
class VerifyResult:
    """What the wiki said about one token. ``reason`` is the wiki's (or our) explanation; never a secret."""

    token_id: int
    status: str
    reason: str = ""
    username: str = ""
    grants: tuple[str, ...] | None = None
    checked_at: datetime = field(default_factory=timezone.now)


def configured_consumer() -> oauth1.Consumer:
    """The site's consumer (social-core's ``SOCIAL_AUTH_MEDIAWIKI_KEY`` / ``_SECRET``)."""
    key = getattr(settings, "SOCIAL_AUTH_MEDIAWIKI_KEY", "") or ""
    secret = getattr(settings, "SOCIAL_AUTH_MEDIAWIKI_SECRET", "") or ""
    return oauth1.Consumer(str(key), str(secret))


def is_revocation(wiki_code: str) -> bool:
    return wiki_code in REVOKED_CODES or wiki_code.startswith(REVOKED_PREFIX)


def check_token(token: AccessToken, *, expected_sub: str | None = None) -> VerifyResult:
    """Ask the wiki (Special:OAuth/identify) whether ``token`` still works. Touches no database.

    ``expected_sub`` is the central user id the token's user had at their last login;
    a token that identifies someone else is invalid.
    """

    def result(status: str, reason: str = "", **kwargs: object) -> VerifyResult:
        return VerifyResult(token.pk, status, reason[:500], **kwargs)  # type: ignore[arg-type]

    try:
        credentials = token.get_credentials()
    except TokenUnreadable:
        return result(Status.INVALID, "cannot be decrypted with any key in MWSSO_TOKEN_KEYS")
    if token.oauth_version == 2:
        return _check_oauth2_token(token, credentials.key, expected_sub)
    consumer = configured_consumer()
    if not consumer.key or not consumer.secret:
        return result(Status.ERROR, "SOCIAL_AUTH_MEDIAWIKI_KEY and SOCIAL_AUTH_MEDIAWIKI_SECRET are not set")
    if token.consumer_key != consumer.key:
        return result(
            Status.ERROR, f"issued to consumer {token.consumer_key}; this site is configured with {consumer.key}"
        )
    access = oauth1.TokenPair(credentials.key, credentials.secret)
    try:
        jwt, nonce = oauth1.identify(http.get_session(), token.wiki_url, consumer, access, **http.request_options())
    except oauth1.ProtocolError as err:
        status = Status.REVOKED if err.kind == "refused" and is_revocation(err.wiki_code) else Status.ERROR
        code = f"{err.wiki_code}: " if err.wiki_code else ""
        return result(status, f"{code}{err.message}")
    try:
        identity = verify_identify_jwt(
            jwt,
            consumer_key=consumer.key,
            consumer_secret=consumer.secret,
            issuer=token.wiki,
            nonce=nonce,
            leeway=app_settings.JWT_LEEWAY,
        )
    except InvalidIdentity as err:
        # The message quotes claims (aud, iss): a hostile wiki could put a secret there.
        reason = oauth1.redact(f"the wiki's answer was rejected ({err})", (consumer.secret, access.key, access.secret))
        return result(Status.ERROR, reason)
    if expected_sub is not None and identity.sub != expected_sub:
        reason = f"belongs to wiki user {identity.username} (id {identity.sub}), not to this user (id {expected_sub})"
        return result(Status.INVALID, reason)
    return result(Status.VALID, username=identity.username, grants=identity.grants)


def _check_oauth2_token(token: AccessToken, access_token: str, expected_sub: str | None) -> VerifyResult:
    """An OAuth 2.0 token, through rest.php/oauth2/resource/profile (the claims checked as at sign-in)."""

    def result(status: str, reason: str = "", **kwargs: object) -> VerifyResult:
        return VerifyResult(token.pk, status, reason[:500], **kwargs)  # type: ignore[arg-type]

    try:
        profile = oauth2.fetch_profile(http.get_session(), token.wiki_url, access_token, **http.request_options())
    except oauth2.ProtocolError as err:
        hint = f" ({err.hint})" if err.hint else ""
        if err.kind == "refused" and "revoked" in err.hint.lower():
            return result(Status.REVOKED, f"{err.wiki_code}: {err.message}{hint}")
        if err.kind == "refused" and token.expires_at is not None and token.expires_at <= timezone.now():
            # Only the access token is known to be gone; the refresh token is tried at the next API call.
            return result(Status.ERROR, f"the access token expired; it is refreshed at the next API call{hint}")
        if err.kind == "refused":
            return result(Status.INVALID, f"{err.wiki_code}: {err.message}{hint}")
        return result(Status.ERROR, f"{err.kind}: {err.message}")
    try:
        identity = identity_from_profile(profile, token.wiki)
    except InvalidIdentity as err:
        return result(Status.ERROR, oauth1.redact(f"the wiki's answer was rejected ({err})", (access_token,)))
    if expected_sub is not None and identity.sub != expected_sub:
        reason = f"belongs to wiki user {identity.username} (id {identity.sub}), not to this user (id {expected_sub})"
        return result(Status.INVALID, reason)
    return result(Status.VALID, username=identity.username, grants=identity.grants)


def record_result(token: AccessToken, result: VerifyResult) -> bool:
    """Store ``result`` on ``token``; False if the token was replaced (a new login) while it was being checked."""
    if not token.record_status(result.status, result.reason, checked_at=result.checked_at, grants=result.grants):
        logger.info("access token %s changed while being verified; result dropped", token.pk)
        return False
    logger.info(
        "verified access token %s (%s) of user %s on %s: %s %s",
        token.pk, token.fingerprint, token.user_id, token.wiki, result.status, result.reason,
    )  # fmt: skip
    return True


def _with_expected_sub(queryset: QuerySet[AccessToken]) -> QuerySet[AccessToken]:
    identity = WikiIdentity.objects.filter(user=OuterRef("user"), wiki=OuterRef("wiki"))
    return queryset.annotate(expected_sub=Subquery(identity.values("sub")[:1]))


def verify_token(token: AccessToken) -> VerifyResult:
    """Check one token with the wiki and store the outcome (status, reason, ``last_verified``)."""
    expected = WikiIdentity.objects.filter(user_id=token.user_id, wiki=token.wiki).values_list("sub", flat=True)
    result = check_token(token, expected_sub=expected.first())
    record_result(token, result)
    return result


@dataclass
class VerifySummary:
    """Counts per status, and the tokens that are not valid."""

    total: int = 0
    done: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[VerifyResult] = field(default_factory=list)

    def add(self, result: VerifyResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        if result.status != Status.VALID:
            self.problems.append(result)

    @property
    def exit_code(self) -> int:
        """0: all valid; 1: some revoked or invalid; 2: some could not be checked (wiki unreachable, …)."""
        if self.counts[Status.ERROR]:
            return 2
        return 1 if self.counts[Status.REVOKED] or self.counts[Status.INVALID] else 0


def _safe_check(token: AccessToken) -> VerifyResult:
    try:
        return check_token(token, expected_sub=getattr(token, "expected_sub", None))
    except Exception as err:  # one broken token must not stop the others
        logger.exception("verifying access token %s failed", token.pk)
        return VerifyResult(token.pk, Status.ERROR, f"unexpected error ({type(err).__name__})")


def verify_tokens(
    queryset: QuerySet[AccessToken],
    concurrency: int = 4,
    progress: Callable[[VerifySummary, VerifyResult], None] | None = None,
) -> VerifySummary:
    """Verify every token of ``queryset``, ``concurrency`` identify calls at a time.

    Only the wiki calls run in threads; the database is read and written from
    the calling thread, so this works on any database and inside a transaction.
    """
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    summary = VerifySummary(total=len(pks))
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="mwsso-verify") as pool:
        for start in range(0, len(pks), VERIFY_CHUNK):
            chunk = _with_expected_sub(AccessToken.objects.filter(pk__in=pks[start : start + VERIFY_CHUNK]))
            futures = {pool.submit(_safe_check, token): token for token in chunk}
            for future in as_completed(futures):
                result = future.result()
                record_result(futures[future], result)
                summary.add(result)
                if progress is not None:
                    progress(summary, result)
    return summary
