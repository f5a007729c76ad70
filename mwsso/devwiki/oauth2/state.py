"""The OAuth 2.0 server's state: clients, consents, codes and tokens, behind one lock.

Every check-then-change (using up a code, rotating a refresh token) happens while
holding the lock, so two requests racing with the same refresh token get one new
pair and one "Token has been revoked", as on the real wiki.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from typing import Any

from . import errors, jwt
from .models import AccessTokenRecord, AuthCode, Client, RefreshTokenRecord
from .settings import OAuth2Settings

PKCE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
# the real codes and refresh tokens are encrypted payloads that start like this (defuse/php-encryption)
OPAQUE_PREFIX = "def50200"


def opaque(nbytes: int) -> str:
    return OPAQUE_PREFIX + secrets.token_hex(nbytes)


def s256(verifier: str) -> str:
    """PKCE's S256 transform: base64url(sha256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def make_client(spec: dict[str, Any]) -> Client:
    try:
        return Client(**spec)
    except TypeError as err:
        raise ValueError(f"oauth2 client {spec.get('client_id', '?')}: {err}") from err


class OAuth2State:
    """One wiki's OAuth 2.0 server. ``clock`` and ``issuer`` come from the Store."""

    def __init__(self, clock: Callable[[], float], issuer: Callable[[], str]) -> None:
        self._clock = clock
        self._issuer = issuer
        self._lock = threading.RLock()
        self._key: Any = None  # made on first use: key generation costs ~50 ms
        self._client_specs: list[dict[str, Any]] = []
        self._settings_spec: dict[str, Any] = {}
        self.reset()

    # Set-up

    def configure(self, clients: list[dict[str, Any]], settings: dict[str, Any]) -> None:
        """Remember the configured clients and settings; ``reset`` returns to them."""
        for spec in clients:
            make_client(spec)
        OAuth2Settings(**settings)
        self._client_specs = [dict(c) for c in clients]
        self._settings_spec = dict(settings)
        self.reset()

    def reset(self) -> None:
        """Configured clients and settings; no consents, codes or tokens. The signing key stays."""
        with self._lock:
            self.settings = OAuth2Settings(**self._settings_spec)
            self._clients = {c["client_id"]: make_client(c) for c in self._client_specs}
            self._consents: dict[tuple[str, int], list[str]] = {}
            self._codes: dict[str, AuthCode] = {}
            self._access: dict[str, AccessTokenRecord] = {}
            self._refresh: dict[str, RefreshTokenRecord] = {}

    @property
    def key(self) -> Any:
        with self._lock:
            if self._key is None:
                self._key = jwt.new_private_key()
            return self._key

    def public_key_pem(self) -> str:
        """The PEM of the key access tokens are signed with (the wiki's $wgOAuth2PublicKey)."""
        return jwt.public_pem(self.key)

    def now(self) -> float:
        return self._clock()

    # Clients and consent

    def client(self, client_id: str | None) -> Client | None:
        with self._lock:
            return self._clients.get(client_id or "")

    def clients(self) -> list[Client]:
        with self._lock:
            return list(self._clients.values())

    def add_client(self, client: Client) -> None:
        with self._lock:
            self._clients[client.client_id] = client

    def set_redirect_uri(self, client_id: str, redirect_uri: str) -> Client:
        with self._lock:
            client = self._clients.get(client_id)
            if client is None:
                raise ValueError(f"no such OAuth 2.0 client: {client_id}")
            client.redirect_uri = redirect_uri
            return client

    def accept(self, client: Client, sub: int, scopes: list[str]) -> None:
        """The user pressed Allow (an oauth_accepted_consumer row)."""
        with self._lock:
            self._consents[(client.client_id, sub)] = list(scopes)

    def has_accepted(self, client: Client, sub: int, scopes: list[str] | None = None) -> bool:
        """Authorize::checkApproval: an approval that covers every requested scope."""
        with self._lock:
            granted = self._consents.get((client.client_id, sub))
            return granted is not None and all(s in granted for s in scopes or [])

    # Authorization codes

    def new_code(
        self,
        client: Client,
        sub: int,
        scopes: list[str],
        redirect_uri: str | None,
        challenge: str | None,
        challenge_method: str | None,
    ) -> str:
        code = AuthCode(
            opaque(160),
            client.client_id,
            sub,
            list(scopes),
            redirect_uri,
            challenge,
            challenge_method,
            self.now() + self.settings.code_ttl,
        )
        with self._lock:
            self._codes[code.code] = code
        return code.code

    def exchange_code(
        self, client: Client, code: str | None, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, Any]:
        """AuthCodeGrant::respondToAccessTokenRequest after client authentication."""
        if not code:
            raise errors.invalid_request("code")
        with self._lock:
            record = self._codes.get(code)
            if record is None:
                raise errors.invalid_request("code", "Cannot decrypt the authorization code")
            if self.now() > record.expires:
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
            return self._issue_pair(client.client_id, record.sub, record.scopes)

    # Tokens

    def _issue_pair(self, client_id: str, sub: int, scopes: list[str]) -> dict[str, Any]:
        now = self.now()
        ttl = self.settings.access_token_ttl
        jti = secrets.token_hex(40)
        claims = {
            "aud": client_id,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "sub": f"mw:CentralAuth::{sub}" if self.settings.sub_format == "central" else str(sub),
            "iss": self._issuer(),
            "scopes": list(scopes),
        }
        access_token = jwt.encode(claims, self.key)
        refresh = RefreshTokenRecord(opaque(400), client_id, sub, list(scopes), jti, self.settings.refresh_expiry(now))
        with self._lock:
            self._access[jti] = AccessTokenRecord(jti, client_id, sub, list(scopes), now + ttl)
            self._refresh[refresh.token] = refresh
        return {"token_type": "Bearer", "expires_in": ttl, "access_token": access_token, "refresh_token": refresh.token}

    def issue_tokens(self, client: Client, sub: int, scopes: list[str] | None = None) -> dict[str, Any]:
        """A token pair without the browser dance (for API tests), as after Allow and the code exchange."""
        chosen = [s for s in (scopes or client.grants) if s in client.grants]
        with self._lock:
            self._consents.setdefault((client.client_id, sub), chosen)
            return self._issue_pair(client.client_id, sub, chosen)

    def refresh(self, client: Client, token: str | None, scope: str | None) -> dict[str, Any]:
        """RefreshTokenGrant: single use; the old refresh and access tokens are revoked."""
        if not token:
            raise errors.invalid_request("refresh_token")
        with self._lock:
            record = self._refresh.get(token)
            if record is None:
                raise errors.invalid_refresh_token("Cannot decrypt the refresh token")
            if record.client_id != client.client_id:
                raise errors.invalid_refresh_token("Token is not linked to client")
            if record.expires < self.now():
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
            old = self._access.get(record.access_jti)
            if old is not None:
                old.revoked = True
            return self._issue_pair(client.client_id, record.sub, scopes)

    def verify_access_token(self, token: str) -> AccessTokenRecord:
        """BearerTokenValidator: signature and times, then revocation; TokenRejected with the hint."""
        claims = jwt.decode(token, self.key, self.now())
        with self._lock:
            record = self._access.get(str(claims.get("jti")))
            if record is not None and record.expires <= self.now():
                raise jwt.TokenRejected(jwt.NOT_VERIFIED)  # expired through the control endpoint
            if record is None or record.revoked:
                raise jwt.TokenRejected("Access token has been revoked")
            return record

    def _find(self, access_token: str | None, refresh_token: str | None) -> list[Any]:
        found: list[Any] = []
        if access_token:
            jti = self._jti_of(access_token)
            if jti in self._access:
                found.append(self._access[jti])
        if refresh_token and refresh_token in self._refresh:
            found.append(self._refresh[refresh_token])
        return found

    def _jti_of(self, access_token: str) -> str | None:
        """A jti given directly, or the one a JWT names (unverified: only the control endpoint asks)."""
        if access_token in self._access:
            return access_token
        try:
            payload = access_token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            return None
        return str(claims.get("jti")) if isinstance(claims, dict) else None

    def revoke_token(self, access_token: str | None = None, refresh_token: str | None = None) -> int:
        """Revoke one access token (JWT or jti) and/or one refresh token; how many were found."""
        with self._lock:
            found = self._find(access_token, refresh_token)
            for record in found:
                record.revoked = True
            return len(found)

    def expire_token(self, access_token: str | None = None, refresh_token: str | None = None) -> int:
        """Make tokens expire now (an access token then gets "could not be verified")."""
        with self._lock:
            found = self._find(access_token, refresh_token)
            for record in found:
                record.expires = self.now() - 1
            return len(found)

    def revoke_grant(self, client_id: str, sub: int) -> dict[str, int]:
        """Special:OAuthManageMyGrants "Deauthorize": the consent and every token of that pair."""
        with self._lock:
            self._consents.pop((client_id, sub), None)
            counts = {"access_tokens": 0, "refresh_tokens": 0}
            for store, name in ((self._access, "access_tokens"), (self._refresh, "refresh_tokens")):
                for record in store.values():
                    if record.client_id == client_id and record.sub == sub and not record.revoked:
                        record.revoked = True
                        counts[name] += 1
            return counts

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "settings": self.settings.describe(),
                "clients": [c.public() for c in self._clients.values()],
                "codes": len(self._codes),
                "access_tokens": [
                    {
                        "jti": a.jti,
                        "client_id": a.client_id,
                        "sub": a.sub,
                        "scopes": a.scopes,
                        "expires": a.expires,
                        "revoked": a.revoked,
                    }
                    for a in self._access.values()
                ],
                "refresh_tokens": {
                    "live": sum(1 for r in self._refresh.values() if not r.revoked and r.expires >= self.now()),
                    "total": len(self._refresh),
                },
            }
