"""Records of the devwiki's OAuth 2.0 server: clients, authorization codes, token pairs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass
class Client:
    """An OAuth 2.0 consumer as Special:OAuthConsumerRegistration/propose/oauth2 makes it.

    A public ("non-confidential") client still gets a secret from the wiki; it needs it
    to refresh (both recorded versions refuse a public client's refresh without it).
    """

    client_id: str
    secret: str
    name: str
    redirect_uri: str
    confidential: bool = True
    grants: list[str] = field(default_factory=lambda: ["basic"])
    grant_types: list[str] = field(default_factory=lambda: list(GRANT_TYPES))
    approved: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if "basic" not in self.grants:  # the registration form always adds it
            self.grants = ["basic", *self.grants]
        unknown = set(self.grant_types) - set(GRANT_TYPES)
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
            "grant_types": list(self.grant_types),
            "approved": self.approved,
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
