"""Records of the OAuth 2.0 server: clients, authorization codes, token pairs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GRANT_TYPES = ("authorization_code", "refresh_token")  # what the registration form offers a shared client
OWNER_ONLY_GRANT_TYPES = ("client_credentials",)  # an owner-only client acts as its owner, nobody else


@dataclass
class Client:
    """An OAuth 2.0 consumer as Special:OAuthConsumerRegistration/propose/oauth2 makes it.

    A public ("non-confidential") client still gets a secret from the wiki; it needs it
    to refresh (both recorded versions refuse a public client's refresh without it). An
    owner-only client is shown a non-expiring access token at registration and may use
    ``client_credentials``; it acts only as its ``owner``.
    """

    client_id: str
    secret: str
    name: str
    redirect_uri: str
    confidential: bool = True
    grants: list[str] = field(default_factory=lambda: ["basic"])
    grant_types: list[str] | None = None  # None: what the registration gives (by owner_only)
    approved: bool = True
    description: str = ""
    owner_only: bool = False
    owner: str = "Admin Sysop"
    # A local-wiki convenience, not MediaWiki's: the registered redirect URI on any port of its loopback
    # host is accepted too (mwsso_devwiki.oauth2.redirects). The built-in demo and public clients have it.
    any_loopback_port: bool = False

    def __post_init__(self) -> None:
        if "basic" not in self.grants:  # the registration form always adds it
            self.grants = ["basic", *self.grants]
        allowed = OWNER_ONLY_GRANT_TYPES if self.owner_only else GRANT_TYPES
        if self.grant_types is None:
            self.grant_types = list(allowed)
        unknown = set(self.grant_types) - set(allowed)
        if unknown:
            raise ValueError(f"client {self.client_id}: unsupported grant types {sorted(unknown)}")

    def public(self) -> dict[str, Any]:
        """Everything but the secret."""
        return {
            "client_id": self.client_id,
            "name": self.name,
            "redirect_uri": self.redirect_uri,
            "confidential": self.confidential,
            "grants": list(self.grants),
            "grant_types": list(self.grant_types or ()),
            "approved": self.approved,
            "owner_only": self.owner_only,
            "any_loopback_port": self.any_loopback_port,
        }


@dataclass
class AuthCode:
    code: str
    client_id: str
    sub: int
    scopes: list[str]
    redirect_uri: str | None  # as sent to authorize (None: the registered one was used)
    challenge: str | None
    challenge_method: str | None
    expires: float
    used: bool = False


@dataclass
class AccessTokenRecord:
    jti: str
    client_id: str
    sub: int
    scopes: list[str]
    expires: float
    revoked: bool = False


@dataclass
class RefreshTokenRecord:
    token: str
    client_id: str
    sub: int
    scopes: list[str]
    access_jti: str
    expires: float
    revoked: bool = False


def make_client(spec: dict[str, Any]) -> Client:
    try:
        return Client(**spec)
    except TypeError as err:
        raise ValueError(f"oauth2 client {spec.get('client_id', '?')}: {err}") from err
