"""The OAuth 2.0 server's records: clients, consents, codes and tokens, behind one lock, and its signing key.

The protocol (oauth2/grants.py) makes every check-then-change, such as using up a code or rotating
a refresh token, while holding ``lock``, so that two requests racing with the same refresh token
get one new pair and one "Token has been revoked", as on the real wiki.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .clients import AccessTokenRecord, AuthCode, Client, RefreshTokenRecord, make_client
from .oauth2_settings import OAuth2Settings


class OAuth2State:
    """One wiki's OAuth 2.0 server state; ``clock`` is the wiki's."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.lock = threading.RLock()
        self._key: rsa.RSAPrivateKey | None = None  # made on first use: key generation costs ~50 ms
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
        with self.lock:
            self.settings = OAuth2Settings(**self._settings_spec)
            self.clients_by_id = {c["client_id"]: make_client(c) for c in self._client_specs}
            self.consents: dict[tuple[str, int], list[str]] = {}
            self.codes: dict[str, AuthCode] = {}
            self.access: dict[str, AccessTokenRecord] = {}
            self.refresh: dict[str, RefreshTokenRecord] = {}

    @property
    def key(self) -> rsa.RSAPrivateKey:
        """The RSA key access tokens are signed with ($wgOAuth2PrivateKey)."""
        with self.lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    @key.setter
    def key(self, key: rsa.RSAPrivateKey) -> None:
        with self.lock:
            self._key = key

    def public_key_pem(self) -> str:
        """The PEM of the key access tokens are signed with (the wiki's $wgOAuth2PublicKey)."""
        public = self.key.public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def now(self) -> float:
        return self._clock()

    # Clients and consent

    def client(self, client_id: str | None) -> Client | None:
        with self.lock:
            return self.clients_by_id.get(client_id or "")

    def clients(self) -> list[Client]:
        with self.lock:
            return list(self.clients_by_id.values())

    def add_client(self, client: Client) -> None:
        with self.lock:
            self.clients_by_id[client.client_id] = client

    def set_redirect_uri(self, client_id: str, redirect_uri: str) -> Client:
        with self.lock:
            client = self.clients_by_id.get(client_id)
            if client is None:
                raise ValueError(f"no such OAuth 2.0 client: {client_id}")
            client.redirect_uri = redirect_uri
            return client

    def accept(self, client: Client, sub: int, scopes: list[str]) -> None:
        """The user pressed Allow (an oauth_accepted_consumer row)."""
        with self.lock:
            self.consents[(client.client_id, sub)] = list(scopes)

    def has_accepted(self, client: Client, sub: int, scopes: list[str] | None = None) -> bool:
        """Authorize::checkApproval: an approval that covers every requested scope."""
        with self.lock:
            granted = self.consents.get((client.client_id, sub))
            return granted is not None and all(s in granted for s in scopes or [])

    def consented(self, sub: int) -> list[tuple[Client, list[str]]]:
        """The clients ``sub`` allowed (and has not revoked), with the scopes allowed."""
        with self.lock:
            return [
                (self.clients_by_id[client_id], scopes)
                for (client_id, who), scopes in self.consents.items()
                if who == sub and client_id in self.clients_by_id
            ]

    # Codes and tokens

    def add_code(self, code: AuthCode) -> None:
        with self.lock:
            self.codes[code.code] = code

    def add_pair(self, access: AccessTokenRecord, refresh: RefreshTokenRecord | None) -> None:
        with self.lock:
            self.access[access.jti] = access
            if refresh is not None:
                self.refresh[refresh.token] = refresh

    def find(self, jti: str | None, refresh_token: str | None) -> list[AccessTokenRecord | RefreshTokenRecord]:
        """The access token with ``jti`` and the refresh token ``refresh_token``, those that exist."""
        with self.lock:
            found: list[AccessTokenRecord | RefreshTokenRecord] = []
            if jti and jti in self.access:
                found.append(self.access[jti])
            if refresh_token and refresh_token in self.refresh:
                found.append(self.refresh[refresh_token])
            return found

    def revoke_grant(self, client_id: str, sub: int) -> dict[str, int]:
        """Special:OAuthManageMyGrants "Deauthorize": the consent and every token of that pair."""
        with self.lock:
            self.consents.pop((client_id, sub), None)
            counts = {"access_tokens": 0, "refresh_tokens": 0}
            for records, name in ((self.access, "access_tokens"), (self.refresh, "refresh_tokens")):
                for record in records.values():
                    if record.client_id == client_id and record.sub == sub and not record.revoked:
                        record.revoked = True
                        counts[name] += 1
            return counts

    def dump(self) -> dict[str, Any]:
        """The signing key, clients, consents and tokens as plain data (the state file; codes are short-lived)."""
        with self.lock:
            pem = self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return {
                "key": pem.decode("ascii"),
                "clients": [asdict(c) for c in self.clients_by_id.values()],
                "consents": [[client_id, sub, scopes] for (client_id, sub), scopes in self.consents.items()],
                "access": [asdict(a) for a in self.access.values()],
                "refresh": [asdict(r) for r in self.refresh.values()],
            }

    def load(self, state: dict[str, Any], configured: set[str]) -> None:
        """Bring back what ``dump`` kept; the clients named in ``configured`` stay as the config has them."""
        with self.lock:
            key = serialization.load_pem_private_key(state["key"].encode("ascii"), password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ValueError("the OAuth 2.0 signing key is not an RSA key")
            self._key = key
            for spec in state["clients"]:
                if spec["client_id"] not in configured:
                    self.clients_by_id[spec["client_id"]] = make_client(spec)
            self.consents = {(client_id, int(sub)): list(scopes) for client_id, sub, scopes in state["consents"]}
            self.access = {a["jti"]: AccessTokenRecord(**a) for a in state["access"]}
            self.refresh = {r["token"]: RefreshTokenRecord(**r) for r in state["refresh"]}

    def describe(self) -> dict[str, Any]:
        with self.lock:
            now = self.now()
            return {
                "clients": [c.public() for c in self.clients_by_id.values()],
                "codes": len(self.codes),
                "access_tokens": [
                    {
                        "jti": a.jti,
                        "client_id": a.client_id,
                        "sub": a.sub,
                        "scopes": a.scopes,
                        "expires": a.expires,
                        "revoked": a.revoked,
                    }
                    for a in self.access.values()
                ],
                "refresh_tokens": {
                    "live": sum(1 for r in self.refresh.values() if not r.revoked and r.expires >= now),
                    "total": len(self.refresh),
                },
            }
