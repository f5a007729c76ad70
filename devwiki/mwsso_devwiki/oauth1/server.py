"""OAuth 1.0a server checks in the order Extension:OAuth makes them.

Order matters because it decides which error a client sees: version, consumer,
(token), timestamp, nonce (recorded even when the signature then fails), signature
method, signature (src/Lib/OAuthServer.php, src/Backend/MWOAuthServer.php).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from ..messages import Message, MWOAuthError
from . import signature

if TYPE_CHECKING:
    from ..state.models import AccessToken, Consumer
    from ..state.store import Store
    from ..web.wsgi import Request

TIMESTAMP_THRESHOLD = 300
SIGNATURE_METHODS = ("HMAC-SHA1",)


class OAuthError(Exception):
    """The OAuth library's own exception; shown as mwoauth-oauth-exception."""

    def message(self) -> Message:
        return Message("mwoauth-oauth-exception", str(self))

    def reason(self) -> str:
        return str(self)


def signed_request(req: Request) -> signature.SignedRequest:
    """What the signature covers, with the path as the client sent it (leading slashes made one)."""
    return signature.SignedRequest(
        method=req.method,
        path=req.signed_url_path,
        query=req.query_string,
        content_type=req.headers.get("content-type", ""),
        body=req.body.decode("utf-8", "replace"),
        authorization=req.headers.get("authorization", ""),
    )


def has_oauth_header(req: Request) -> bool:
    return signature.has_oauth_header(req.headers.get("authorization", ""))


def request_params(req: Request) -> dict[str, str]:
    """All parameters as MWOAuthRequest sees them: query, then POST, then the header.

    A later source overwrites an earlier one with the same name, which is why the
    real wiki rejects oauth_callback sent both in the query and in the header.
    """
    return signature.oauth_values(signed_request(req))


def check_version(params: dict[str, str]) -> None:
    version = params.get("oauth_version") or "1.0"
    if version != "1.0":
        raise OAuthError(f"OAuth version '{version}' not supported")


def get_consumer(store: Store, params: dict[str, str]) -> Consumer:
    key = params.get("oauth_consumer_key")
    if not key:
        raise OAuthError("Invalid consumer key")
    consumer = store.consumer(key)
    if consumer is None:
        raise OAuthError("Invalid consumer")
    return consumer


def check_owner_only(consumer: Consumer) -> None:
    if consumer.owner_only:
        raise MWOAuthError("mwoauthserver-consumer-owner-only", consumer.name, consumer.key)


def check_signature(
    store: Store, req: Request, params: dict[str, str], consumer: Consumer, token_key: str | None, token_secret: str
) -> None:
    raw_timestamp = params.get("oauth_timestamp")
    if not raw_timestamp:
        raise OAuthError("Missing timestamp parameter. The parameter is required")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        timestamp = 0  # PHP casts a non-number to 0, so it reads as expired
    now = int(store.now())
    if abs(now - timestamp) > TIMESTAMP_THRESHOLD:
        raise OAuthError(f"Expired timestamp, yours {raw_timestamp}, ours {now}")
    nonce = params.get("oauth_nonce")
    if not nonce:
        raise OAuthError("Missing nonce parameter. The parameter is required")
    if store.nonce_seen(consumer.key, token_key, nonce, timestamp):
        raise OAuthError(f"Nonce already used: {nonce}")
    method = params.get("oauth_signature_method")
    if not method:
        raise OAuthError("No signature method parameter. This parameter is required")
    if method not in SIGNATURE_METHODS:
        raise OAuthError(
            f"Signature method '{method}' not supported try one of the following: {', '.join(SIGNATURE_METHODS)}"
        )
    # $wgServer (never the Host header) plus the path as the client sent it (MWOAuthRequest::fromRequest).
    expected = signature.signature(store.server, signed_request(req), consumer.secret, token_secret)
    if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
        raise OAuthError("Invalid signature")


def verify_request(store: Store, req: Request, params: dict[str, str]) -> tuple[Consumer, AccessToken]:
    """Check a request signed with an access token (identify, api.php)."""
    check_version(params)
    consumer = get_consumer(store, params)
    token_key = params.get("oauth_token")
    token = store.access_token(token_key) if token_key else None
    if token is None or token.consumer_key != consumer.key:
        raise MWOAuthError("mwoauthdatastore-access-token-not-found")
    check_signature(store, req, params, consumer, token.key, token.secret)
    return consumer, token
