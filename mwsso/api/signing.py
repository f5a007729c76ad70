"""How an API request is authenticated as the user: one small signer per OAuth version.

The client only asks a signer for a fresh ``requests`` auth object per attempt
(so each retry gets a new nonce and timestamp) and for the strings that must
never appear in text it keeps. An OAuth 2 bearer token plugs in as
``BearerSigner`` without any change to the client. Signers hold secrets, so
their reprs show only a fingerprint.
"""

from __future__ import annotations

from typing import Protocol

import requests

from mwsso.models import fingerprint
from mwsso.protocol.oauth1 import Consumer, TokenPair, signing_auth


class Signer(Protocol):
    """What the API client needs from a credential."""

    def auth(self) -> requests.auth.AuthBase:
        """A new auth object for one HTTP attempt."""
        ...

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every string that must be scrubbed from text we keep (messages, logs)."""
        ...


class OAuth1Signer:
    """OAuth 1.0a HMAC-SHA1 in the Authorization header, with the consumer's and the user's token's secrets."""

    def __init__(self, consumer_key: str, consumer_secret: str, token_key: str, token_secret: str) -> None:
        self._consumer = Consumer(consumer_key, consumer_secret)
        self._token = TokenPair(token_key, token_secret)

    @property
    def consumer(self) -> Consumer:
        """The site's consumer, for a consumer-only probe (``mwsso.site_probe``) when a signature is refused."""
        return self._consumer

    def auth(self) -> requests.auth.AuthBase:
        # A new object per attempt: each retry gets its own nonce and timestamp.
        return signing_auth(self._consumer, self._token)

    @property
    def secrets(self) -> tuple[str, ...]:
        # The token key is not a secret on its own, but nothing we show needs it either.
        return (self._consumer.secret, self._token.secret, self._token.key)

    def __repr__(self) -> str:
        return f"<OAuth1Signer consumer={self._consumer.key} token={fingerprint(self._token.key)}>"

    __str__ = __repr__


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "<Bearer>"


class BearerSigner:
    """OAuth 2: the access token as a bearer token (no per-request signature)."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def auth(self) -> requests.auth.AuthBase:
        return _Bearer(self._token)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._token,)

    def __repr__(self) -> str:
        return f"<BearerSigner token={fingerprint(self._token)}>"

    __str__ = __repr__
