"""What a wiki's OAuth refusal says about a stored access token (pure, no Django).

Only the wiki's statement that the grant is gone, or that the user may not use it, is news
about the token. "Invalid signature", "Expired timestamp" and "Nonce already used" are not:
a wrong consumer secret, a URL that is not the wiki's own ($wgServer host, script path), a
server clock off by minutes or a signing bug of ours give the same answer for every token.
Those are ``AMBIGUOUS`` and must be told apart (``mwsso.site_probe``) before a token is blamed.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["revoked", "user", "consumer", "wrong_wiki", "ambiguous", "other"]

REVOKED: Kind = "revoked"  # the grant is gone (the user revoked it) or the token never existed
USER: Kind = "user"  # the wiki's rule: this user may not use the grant (gone, another user, blocked)
CONSUMER: Kind = "consumer"  # the site's consumer is not approved (or was disabled): every token alike
WRONG_WIKI: Kind = "wrong_wiki"  # the consumer is limited to other wikis
AMBIGUOUS: Kind = "ambiguous"  # a signature, timestamp or nonce refusal: whose fault is not said
OTHER: Kind = "other"

# mwoauthdatastore-access-token-not-found: "No approved grant was found for that authorization token."
_REVOKED_CODES = ("mwoauthdatastore-access-token-not-found", "mwoauth-access-token-not-found")
_REVOKED_TEXTS = ("no approved grant", "access-token-not-found", "access token not found")
_USER_CODES = (
    "mwoauth-invalid-authorization-invalid-user",
    "mwoauth-invalid-authorization-wrong-user",
    "mwoauth-invalid-authorization-blocked-user",
)
_CONSUMER_CODES = ("mwoauth-invalid-authorization-not-approved",)
_AMBIGUOUS_CODES = ("mwoauth-invalid-authorization", "mwoauth-oauth-exception")
# The OAuth library's texts (src/Lib/OAuthServer.php) for refusals that are never about the grant.
CLOCK_TEXTS = ("expired timestamp", "missing timestamp")
NONCE_TEXTS = ("nonce already used", "missing nonce")


def classify(code: str, info: str = "") -> Kind:
    """The kind of an OAuth refusal: api.php's ``error.code``/``info`` or a Special:OAuth ``error``/``message``."""
    code = code.strip().lower()
    text = f"{code} {info}".lower()
    if code in _REVOKED_CODES or any(marker in text for marker in _REVOKED_TEXTS):
        return REVOKED
    if code in _USER_CODES:
        return USER
    if code in _CONSUMER_CODES:
        return CONSUMER
    if code == "mwoauth-invalid-authorization-wrong-wiki":
        return WRONG_WIKI
    if code in _AMBIGUOUS_CODES:
        return AMBIGUOUS
    return OTHER


def is_clock_refusal(info: str) -> bool:
    return any(marker in info.lower() for marker in CLOCK_TEXTS)
