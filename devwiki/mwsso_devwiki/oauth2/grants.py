"""league/oauth2-server's grants over the wiki's OAuth 2.0 state: codes, token pairs, refresh, bearer check.

Every check-then-change holds the state's lock, as league's repositories do within MediaWiki's
database transaction: a code or refresh token is used up only once everything passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from ..state.clients import AccessTokenRecord, AuthCode, RefreshTokenRecord
from . import errors, jwt

if TYPE_CHECKING:
    from ..state.clients import Client
    from ..state.store import Store

PKCE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
# The real codes and refresh tokens are encrypted payloads that start like this (defuse/php-encryption).
OPAQUE_PREFIX = "def50200"
OWNER_ONLY_TTL = 1000 * 365 * 86400  # the token shown at registration: "valid forever" (P1000Y)
CENTRAL_ID_SCOPE = "local:devwiki"  # CentralIdLookup::getScope() of a wiki without CentralAuth


def opaque(nbytes: int) -> str:
    return OPAQUE_PREFIX + secrets.token_hex(nbytes)


def s256(verifier: str) -> str:
    """PKCE's S256 transform: base64url(sha256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def new_code(
    store: Store,
    client: Client,
    sub: int,
    scopes: list[str],
    redirect_uri: str | None,
    challenge: str | None,
    challenge_method: str | None,
) -> str:
    expires = store.now() + store.oauth2.settings.code_ttl
    code = AuthCode(
        opaque(160), client.client_id, sub, list(scopes), redirect_uri, challenge, challenge_method, expires
    )
    store.oauth2.add_code(code)
    return code.code


def _subject(store: Store, client: Client, sub: int) -> str:
    """AccessTokenEntity::getUserIdentifierForJwt: the bare id unless $wgOAuth2UsePrefixedSub (never owner-only)."""
    if not sub or client.owner_only or not store.oauth2.settings.use_prefixed_sub:
        return str(sub)
    return f"mw:{CENTRAL_ID_SCOPE}:{sub}"


def issue_pair(
    store: Store, client: Client, sub: int, scopes: list[str], *, refresh: bool = True, ttl: int | None = None
) -> dict[str, Any]:
    """A signed access token (and a refresh token) for ``sub``: the token endpoint's answer."""
    now = store.now()
    lifetime = store.oauth2.settings.access_token_ttl if ttl is None else ttl
    jti = secrets.token_hex(40)
    claims = {
        "aud": client.client_id,
        "jti": jti,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "sub": _subject(store, client, sub),
        "iss": store.server,
        "scopes": list(scopes),
    }
    access = AccessTokenRecord(jti, client.client_id, sub, list(scopes), now + lifetime)
    answer: dict[str, Any] = {"token_type": "Bearer", "expires_in": store.oauth2.settings.access_token_ttl}
    answer["access_token"] = jwt.encode(claims, store.oauth2.key)
    record = None
    if refresh:
        expiry = store.oauth2.settings.refresh_expiry(now, store.traits)
        record = RefreshTokenRecord(opaque(400), client.client_id, sub, list(scopes), jti, expiry)
        answer["refresh_token"] = record.token
    store.oauth2.add_pair(access, record)
    return answer


def issue_tokens(store: Store, client: Client, sub: int, scopes: list[str] | None = None) -> dict[str, Any]:
    """A token pair without the browser dance (for API tests), as after Allow and the code exchange.

    For an owner-only client: the token shown at registration, which does not expire.
    """
    chosen = [s for s in (scopes or client.grants) if s in client.grants]
    with store.oauth2.lock:
        if client.owner_only:
            return issue_pair(store, client, sub, chosen, refresh=False, ttl=OWNER_ONLY_TTL)
        store.oauth2.consents.setdefault((client.client_id, sub), chosen)
        return issue_pair(store, client, sub, chosen)


def exchange_code(
    store: Store, client: Client, code: str | None, redirect_uri: str | None, verifier: str | None
) -> dict[str, Any]:
    """AuthCodeGrant::respondToAccessTokenRequest after client authentication."""
    if not code:
        raise errors.invalid_request("code")
    with store.oauth2.lock:
        record = store.oauth2.codes.get(code)
        if record is None:
            raise errors.invalid_request("code", "Cannot decrypt the authorization code")
        if store.now() > record.expires:
            raise errors.invalid_request("code", "Authorization code has expired")
        if record.used:
            raise errors.invalid_request("code", "Authorization code has been revoked")
        if record.client_id != client.client_id:
            raise errors.invalid_request("code", "Authorization code was not issued to this client")
        if record.redirect_uri and redirect_uri is None:
            raise errors.invalid_request("redirect_uri")
        if record.redirect_uri != redirect_uri:
            raise errors.invalid_request("redirect_uri", "Invalid redirect URI")
        if record.challenge:
            if verifier is None:
                raise errors.invalid_request("code_verifier")
            if not PKCE_PATTERN.match(verifier):
                raise errors.invalid_request(
                    "code_verifier", "Code Verifier must follow the specifications of RFC-7636."
                )
            proof = s256(verifier) if record.challenge_method == "S256" else verifier
            if not hmac.compare_digest(proof, record.challenge):
                raise errors.invalid_grant("Failed to verify `code_verifier`.")
        record.used = True  # league revokes the code only once everything passed
        return issue_pair(store, client, record.sub, record.scopes)


def client_credentials(store: Store, client: Client) -> dict[str, Any]:
    """ClientCredentialsGrant for an owner-only client: a token for its owner, no refresh token."""
    owner = store.user(client.owner)
    if owner is None:
        raise errors.invalid_client()
    with store.oauth2.lock:
        return issue_pair(store, client, owner.sub, list(client.grants), refresh=False)


def refresh(store: Store, client: Client, token: str | None, scope: str | None) -> dict[str, Any]:
    """RefreshTokenGrant: single use; the old refresh and access tokens are revoked."""
    if not token:
        raise errors.invalid_request("refresh_token")
    with store.oauth2.lock:
        record = store.oauth2.refresh.get(token)
        if record is None:
            raise errors.invalid_refresh_token("Cannot decrypt the refresh token")
        if record.client_id != client.client_id:
            raise errors.invalid_refresh_token("Token is not linked to client")
        if record.expires < store.now():
            raise errors.invalid_refresh_token("Token has expired")
        if record.revoked:
            raise errors.invalid_refresh_token("Token has been revoked")
        scopes = record.scopes
        if scope:
            wanted = scope.split()
            for name in wanted:
                if name not in record.scopes:
                    raise errors.invalid_scope(name)
            scopes = wanted
        record.revoked = True
        old = store.oauth2.access.get(record.access_jti)
        if old is not None:
            old.revoked = True
        return issue_pair(store, client, record.sub, scopes)


def verify_access_token(store: Store, token: str) -> AccessTokenRecord:
    """BearerTokenValidator: signature and times, then revocation; TokenRejected with the hint."""
    now = store.now()
    claims = jwt.decode(token, store.oauth2.key, now)
    with store.oauth2.lock:
        record = store.oauth2.access.get(str(claims.get("jti")))
        if record is not None and record.expires <= now:
            raise jwt.TokenRejected(jwt.NOT_VERIFIED)  # expired through the control endpoint
        if record is None or record.revoked:
            raise jwt.TokenRejected("Access token has been revoked")
        return record


def jti_of(store: Store, access_token: str | None) -> str | None:
    """A jti given directly, or the one a JWT names (unverified: only the control endpoint asks)."""
    if not access_token or access_token in store.oauth2.access:
        return access_token
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return str(claims.get("jti")) if isinstance(claims, dict) else None
