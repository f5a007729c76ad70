"""The stored ``AccessToken`` side of API calls: its signer, ``last_used``, and marking it invalid."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from mwsso import crypto
from mwsso.api.errors import TokenUnusable
from mwsso.api.signing import BearerSigner, OAuth1Signer, Signer
from mwsso.app_settings import app_settings
from mwsso.exceptions import TokenUnreadable
from mwsso.models import AccessToken
from mwsso.tokens import configured_consumer

logger = logging.getLogger("mwsso.api")

# The extension's text for a token the user revoked (or that never existed): mwoauthdatastore-access-token-not-found.
_REVOKED_MARKERS = ("no approved grant", "access-token-not-found")


def signer_for(token: AccessToken) -> Signer:
    """The signer for a stored token; ``TokenUnusable`` if it cannot be decrypted or belongs to another consumer."""
    consumer = configured_consumer()
    if token.oauth_version == 1:
        if not consumer.key or token.consumer_key != consumer.key:
            # Signing with our consumer would fail on the wiki anyway; say why instead.
            raise TokenUnusable(
                "mwsso-consumer-mismatch",
                f"access token {token.fingerprint} was issued to consumer {token.consumer_key}, "
                "not to this site's SOCIAL_AUTH_MEDIAWIKI_KEY",
            )
    # Every API call starts here: decrypting the token (Fernet's HMAC and AES, the JSON) and building its signer
    # was a fifth of for_user. A signer holds what a call needs in memory anyway; it is kept per process, by
    # a digest of what it was made from, so a new ciphertext (a refresh, a new sign-in, a key rotation), another
    # consumer or other token keys (the MultiFernet in use, rebuilt when MWSSO_TOKEN_KEYS or SECRET_KEY
    # change) simply finds no entry. Nothing is logged, and the keys are digests, not the secrets.
    fernet = crypto.current_fernet()
    digest = hashlib.sha256(
        "\0".join((token.encrypted, str(token.oauth_version), consumer.key, consumer.secret)).encode()
    ).digest()
    cache_key = (digest, fernet)
    with _signers_lock:
        signer = _signers.get(cache_key)
        if signer is not None:
            _signers.move_to_end(cache_key)
            return signer
    signer = _build_signer(token, consumer.key, consumer.secret)
    with _signers_lock:
        _signers[cache_key] = signer
        while len(_signers) > SIGNER_CACHE_SIZE:
            _signers.popitem(last=False)
    return signer


# Signers of the tokens used lately (see signer_for); bounded, the least recently used goes first.
SIGNER_CACHE_SIZE = 512
_signers: OrderedDict[tuple[bytes, object], Signer] = OrderedDict()
_signers_lock = threading.Lock()


def clear_signer_cache() -> None:
    """Forget every kept signer (tests; ``signer_for`` never needs it: a changed input is a new entry)."""
    with _signers_lock:
        _signers.clear()


def _build_signer(token: AccessToken, consumer_key: str, consumer_secret: str) -> Signer:
    try:
        credentials = token.get_credentials()
    except TokenUnreadable as err:
        raise TokenUnusable(
            "mwsso-token-unreadable", f"access token {token.fingerprint} cannot be decrypted with MWSSO_TOKEN_KEYS"
        ) from err
    if token.oauth_version == 2:
        return BearerSigner(credentials.key)
    return OAuth1Signer(consumer_key, consumer_secret, credentials.key, credentials.secret)


def touch(token: AccessToken) -> None:
    """Record that ``token`` worked just now, writing at most once per ``MWSSO_LAST_USED_INTERVAL`` per token.

    The conditional UPDATE lets concurrent processes race harmlessly: only one of them writes.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=app_settings.LAST_USED_INTERVAL)
    if token.status != AccessToken.Status.ERROR and token.last_used is not None and token.last_used >= cutoff:
        return  # almost every call: nothing to write, and no query built (this runs after every API call)
    rows = AccessToken.objects.filter(pk=token.pk)
    if token.status == AccessToken.Status.ERROR:
        # The last check of this token failed (the wiki was down); this call just proved it works.
        changes = {"last_used": now, "status": AccessToken.Status.VALID, "status_reason": "", "last_verified": now}
        rows.filter(status=AccessToken.Status.ERROR).update(**changes)
    elif token.last_used is None or token.last_used < cutoff:
        changes = {"last_used": now}
        rows.filter(Q(last_used__isnull=True) | Q(last_used__lt=cutoff)).update(**changes)
    else:
        return
    # Whether this process wrote or a concurrent one did, the value is recent now.
    for name, value in changes.items():
        setattr(token, name, value)


def revoked_or_invalid(code: str, info: str) -> str:
    """The status a token gets for one of the wiki's ``mwoauth-invalid-authorization*`` errors."""
    text = f"{code} {info}".lower()
    return AccessToken.Status.REVOKED if any(m in text for m in _REVOKED_MARKERS) else AccessToken.Status.INVALID


def invalidate(token: AccessToken, code: str, info: str) -> str:
    """Mark ``token`` revoked or invalid (``token_invalidated`` is sent once); returns the new status.

    ``info`` must already be scrubbed of secrets.
    """
    status = revoked_or_invalid(code, info)
    token.record_status(status, f"{code}: {info}")
    logger.warning(
        "access token %s of user %s on %s refused by the wiki (%s); marked %s",
        token.fingerprint,
        token.user_id,
        token.wiki,
        code,
        status,
    )
    return status
