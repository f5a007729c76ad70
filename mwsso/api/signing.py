"""How an API request is authenticated as the user: one small signer per OAuth version.

The client only asks a signer for the ``requests`` auth of each attempt (which
gives every request a new nonce and timestamp) and for the strings that must
never appear in text it keeps. An OAuth 2 bearer token plugs in as
``BearerSigner`` without any change to the client. Signers hold secrets, so
their reprs show only a fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import requests

from mwsso.models import fingerprint
from mwsso.protocol.oauth1 import Consumer, TokenPair, signing_auth


class Signer(Protocol):
    """What the API client needs from a credential."""

    def auth(self) -> requests.auth.AuthBase:
        """The auth for one HTTP attempt; every request it signs gets a fresh nonce and timestamp."""
        ...

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every string that must be scrubbed from text we keep (messages, logs)."""
        ...


@dataclass(eq=False)
class OAuth1Signer:
    """OAuth 1.0a HMAC-SHA1 in the Authorization header, with the consumer's and the user's token's secrets.

    The repr shows the consumer key and the token's fingerprint; the secrets (and the token key) are
    declared ``repr=False``.
    """

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token_key: str = field(repr=False)
    token_secret: str = field(repr=False)
    fingerprint: str = field(init=False)
    _auth: requests.auth.AuthBase = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.fingerprint = fingerprint(self.token_key)
        # Made once: it draws a new nonce and timestamp for every request it signs (none is fixed here), and
        # signing changes nothing on the object, so threads and retries share it safely.
        self._auth = signing_auth(self.consumer, TokenPair(self.token_key, self.token_secret))

    @property
    def consumer(self) -> Consumer:
        """The site's consumer, for a consumer-only probe (``mwsso.site_probe``) when a signature is refused."""
        return Consumer(self.consumer_key, self.consumer_secret)

    def auth(self) -> requests.auth.AuthBase:
        # Each request it signs gets its own nonce and timestamp (see __post_init__).
        return self._auth

    @property
    def secrets(self) -> tuple[str, ...]:
        # The token key is not a secret on its own, but nothing we show needs it either.
        return (self.consumer_secret, self.token_secret, self.token_key)


@dataclass(eq=False)
class _Bearer(requests.auth.AuthBase):
    token: str = field(repr=False)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass(eq=False)
class BearerSigner:
    """OAuth 2: the access token as a bearer token (no per-request signature); the repr shows its fingerprint."""

    access_token: str = field(repr=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        self.fingerprint = fingerprint(self.access_token)

    def auth(self) -> requests.auth.AuthBase:
        return _Bearer(self.access_token)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.access_token,)
