"""Checking stored access tokens with the wiki, a bounded number at a time: OAuth 1.0a tokens
through Special:OAuth/identify, OAuth 2.0 tokens through rest.php/oauth2/resource/profile.

The one place that decides what the wiki's refusal means for a token, for ``mwsso_tokens verify``,
the admin's verify action and the API client alike: only "the grant is gone" (revoked) or "this user
may not use it" (invalid) changes a status. An "Invalid signature" or clock refusal is first checked
against a consumer-only request (``mwsso.site_probe``): when the wiki refuses the site itself, the
result is a site fault and no token is touched; a token wrongly marked by such a fault earlier is
restored to valid by the next verify the wiki accepts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from mwsso import http, site_probe
from mwsso.app_settings import app_settings
from mwsso.configured import identify_issuer
from mwsso.exceptions import TokenUnreadable
from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol import grants, oauth1, oauth2
from mwsso.protocol.identity import Identity, InvalidIdentity, identity_from_profile, verify_identify_jwt
from mwsso.protocol.wikiurls import InvalidWikiURL, wiki_urls

logger = logging.getLogger("mwsso.tokens.verify")

Status = AccessToken.Status
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
    #: Why the wiki refused the site itself (``mwsso.site_probe`` cause); the token's stored status then stays.
    site_cause: str = ""
    #: Who the wiki says a valid token belongs to (``mwsso_tokens verify`` stores it for imported tokens).
    identity: Identity | None = field(default=None, repr=False, compare=False)

    @property
    def site_fault(self) -> bool:
        return bool(self.site_cause)


def configured_consumer() -> oauth1.Consumer:
    """The site's consumer (social-core's ``SOCIAL_AUTH_MEDIAWIKI_KEY`` / ``_SECRET``)."""
    return oauth1.Consumer(app_settings.MEDIAWIKI_KEY, app_settings.MEDIAWIKI_SECRET)


def is_revocation(wiki_code: str, message: str = "") -> bool:
    """Whether a refusal says the grant is gone (revoked by the user, or never issued)."""
    return grants.classify(wiki_code, message) == grants.REVOKED


def index_url_of(token: AccessToken) -> str:
    """The token's wiki's index.php, for any script path (``mwsso.protocol.wikiurls``)."""
    try:
        return wiki_urls(token.wiki_url).index
    except InvalidWikiURL:
        return token.wiki_url


def judge_refusal(index_url: str, consumer: oauth1.Consumer, code: str, message: str) -> tuple[str, str, str]:
    """``(status, reason, site_cause)`` for the wiki's refusal of a request signed with a token.

    ``site_cause`` is empty unless the site itself is refused (then ``status`` is ``error``, and no
    token is to be changed).

    ``code``/``message`` are the wiki's (already scrubbed). The rule: revoked and user refusals are the
    wiki's word on the token; a signature, timestamp or nonce refusal is the token's fault only when
    the wiki accepts the same consumer at the same URL signing alone (then the token's secret is wrong).
    """
    shown = f"{code}: {message}" if code else message
    kind = grants.classify(code, message)
    if kind == grants.REVOKED:
        return Status.REVOKED, shown, ""
    if kind == grants.USER:
        return Status.INVALID, shown, ""
    if kind == grants.CONSUMER:
        check = site_probe.SiteCheck(
            False, site_probe.CAUSE_CONSUMER, f"the wiki does not accept consumer {consumer.key} (not approved)", shown
        )
        site_probe.report(index_url, check)
        return Status.ERROR, f"{shown}; not the token's fault: {check.message}", check.cause
    if kind != grants.AMBIGUOUS:
        return Status.ERROR, shown, ""
    check = site_probe.check_site(index_url, consumer)
    if not check.ok and check.conclusive:
        return Status.ERROR, f"{shown}; not the token's fault: {check.message}", check.cause
    if not check.ok or "invalid signature" not in message.lower():
        # The site's own request could not be checked, or it passes and this was a timestamp or
        # nonce hiccup: nothing is known against the token.
        return Status.ERROR, shown, ""
    return Status.INVALID, f"{shown} (the wiki accepts this site's consumer, so the token's secret is wrong)", ""


def check_token(token: AccessToken, *, expected_sub: str | None = None) -> VerifyResult:
    """Ask the wiki (Special:OAuth/identify) whether ``token`` still works. Touches no database.

    ``expected_sub`` is the central user id the token's user had at their last login;
    a token that identifies someone else is invalid.
    """

    def result(status: str, reason: str = "", **kwargs: Any) -> VerifyResult:
        return VerifyResult(token.pk, status, reason[:500], **kwargs)

    try:
        credentials = token.get_credentials()
    except TokenUnreadable:
        # The site's keys are the problem (a key removed from MWSSO_TOKEN_KEYS, SECRET_KEY changed without
        # a fallback), not the token: leave its status alone so that putting the key back restores it.
        return result(
            Status.ERROR,
            "cannot be decrypted with MWSSO_TOKEN_KEYS or a key derived from SECRET_KEY or SECRET_KEY_FALLBACKS",
            site_cause="token_keys",
        )
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
    index_url = index_url_of(token)
    try:
        jwt, nonce = oauth1.identify(http.get_session(), index_url, consumer, access, **http.request_options())
    except oauth1.OAuth1Error as err:
        if err.kind != "refused":
            code = f"{err.wiki_code}: " if err.wiki_code else ""
            return result(Status.ERROR, f"{code}{err.message}")
        status, reason, site_cause = judge_refusal(index_url, consumer, err.wiki_code, err.message)
        return result(status, reason, site_cause=site_cause)
    try:
        identity = verify_identify_jwt(
            jwt,
            consumer_key=consumer.key,
            consumer_secret=consumer.secret,
            issuer=identify_issuer(index_url),
            nonce=nonce,
            wiki=index_url,
            leeway=app_settings.JWT_LEEWAY,
        )
    except InvalidIdentity as err:
        # The message quotes claims (aud, iss): a hostile wiki could put a secret there.
        reason = oauth1.redact(f"the wiki's answer was rejected ({err})", (consumer.secret, access.key, access.secret))
        return result(Status.ERROR, reason)
    if expected_sub is not None and identity.sub != expected_sub:
        reason = f"belongs to wiki user {identity.username} (id {identity.sub}), not to this user (id {expected_sub})"
        return result(Status.INVALID, reason)
    return result(Status.VALID, username=identity.username, grants=identity.grants, identity=identity)


def _check_oauth2_token(token: AccessToken, access_token: str, expected_sub: str | None) -> VerifyResult:
    """An OAuth 2.0 token, through rest.php/oauth2/resource/profile (the claims checked as at sign-in)."""

    def result(status: str, reason: str = "", **kwargs: Any) -> VerifyResult:
        return VerifyResult(token.pk, status, reason[:500], **kwargs)

    try:
        profile = oauth2.fetch_profile(http.get_session(), token.wiki_url, access_token, **http.request_options())
    except oauth2.OAuth2Error as err:
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
        identity = identity_from_profile(profile, token.wiki_url)
    except InvalidIdentity as err:
        return result(Status.ERROR, oauth1.redact(f"the wiki's answer was rejected ({err})", (access_token,)))
    if expected_sub is not None and identity.sub != expected_sub:
        reason = f"belongs to wiki user {identity.username} (id {identity.sub}), not to this user (id {expected_sub})"
        return result(Status.INVALID, reason)
    return result(Status.VALID, username=identity.username, grants=identity.grants, identity=identity)


def record_result(token: AccessToken, result: VerifyResult) -> bool:
    """Store ``result`` on ``token``; False if the token was replaced (a new login) while it was being checked.

    A site fault is not stored: the token's status says what the wiki last said about the token.
    """
    if result.site_fault:
        logger.info("access token %s not checked: the wiki refuses the site itself (%s)", token.pk, result.reason)
        return False
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
    """Counts per status of what was stored, and the tokens that are not valid.

    ``replaced``: tokens a new sign-in replaced while they were checked; what the wiki said of the old
    token was dropped, so it is counted here and in no status.
    """

    total: int = 0
    done: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[VerifyResult] = field(default_factory=list)
    replaced: int = 0

    def add(self, result: VerifyResult, *, written: bool = True) -> None:
        self.done += 1
        if not written and not result.site_fault:
            self.replaced += 1
            return
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
                summary.add(result, written=record_result(futures[future], result))
                if progress is not None:
                    progress(summary, result)
    return summary
