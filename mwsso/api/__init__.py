"""Call a wiki's Action API as a signed-in user: ``mwsso.api.for_user(user).get(action="query", ...)``.

See docs/api.md.
"""

from __future__ import annotations

from mwsso.api.client import Client, encode_params
from mwsso.api.errors import (
    APIError,
    AssertUserFailed,
    BadResponse,
    BadToken,
    EditConflict,
    MaxLagExceeded,
    NotAllowedWiki,
    NoToken,
    RateLimited,
    SignatureRejected,
    SignInExpired,
    SignInRequired,
    TokenInvalid,
    TokenUnusable,
    WikiUnavailable,
)
from mwsso.api.signing import BearerSigner, OAuth1Signer, Signer
from mwsso.api.users import for_user

__all__ = [
    "APIError",
    "AssertUserFailed",
    "BadResponse",
    "BadToken",
    "BearerSigner",
    "Client",
    "EditConflict",
    "MaxLagExceeded",
    "NoToken",
    "NotAllowedWiki",
    "OAuth1Signer",
    "RateLimited",
    "SignInExpired",
    "SignInRequired",
    "SignatureRejected",
    "Signer",
    "TokenInvalid",
    "TokenUnusable",
    "WikiUnavailable",
    "encode_params",
    "for_user",
]
