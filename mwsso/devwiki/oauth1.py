"""OAuth 1.0a server checks in the order Extension:OAuth makes them.

Order matters because it decides which error a client sees: version, consumer,
(token), timestamp, nonce (recorded even when the signature then fails), signature
method, signature (src/Lib/OAuthServer.php, src/Backend/MWOAuthServer.php).
"""

from __future__ import annotations

import hmac
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from oauthlib.oauth1.rfc5849 import signature, utils

from .messages import Message

if TYPE_CHECKING:
    from .models import AccessToken, Consumer
    from .store import Store
    from .wsgi import Request

TIMESTAMP_THRESHOLD = 300
SIGNATURE_METHODS = ("HMAC-SHA1",)


class OAuthError(Exception):
    """The OAuth library's own exception; shown as mwoauth-oauth-exception."""

    def message(self) -> Message:
        return Message("mwoauth-oauth-exception", str(self))

    def reason(self) -> str:
        return str(self)


class MWOAuthError(Exception):
    """The extension's exception, carrying a message key."""

    def __init__(self, key: str, *params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self) -> Message:
        return Message(self.key, *self.params)

    def reason(self) -> str:
        return self.message().text()


def has_oauth_header(req: Request) -> bool:
    # Case-sensitive, as Utils::hasOAuthHeaders and MWOAuthRequest::fromRequest check it.
    return req.headers.get("authorization", "").startswith("OAuth ")


def request_params(req: Request) -> dict[str, str]:
    """All parameters as MWOAuthRequest sees them: query, then POST, then the header.

    A later source overwrites an earlier one with the same name, which is why the
    real wiki rejects oauth_callback sent both in the query and in the header.
    """
    params = req.values()
    if has_oauth_header(req):
        try:
            pairs = utils.parse_authorization_header(req.headers["authorization"])
        except ValueError:
            pairs = []  # a malformed header reads as no header, like OAuthUtil::split_header
        params.update((key, utils.unescape(value)) for key, value in pairs if key != "realm")
    return params


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
    expected = sign(req.method, store.server + req.signed_url_path, params, consumer.secret, token_secret)
    if not hmac.compare_digest(expected, params.get("oauth_signature", "")):
        raise OAuthError("Invalid signature")


def sign(method: str, url: str, params: dict[str, str], consumer_secret: str, token_secret: str) -> str:
    """HMAC-SHA1 over the base string built from the wiki's own server URL."""
    pairs = [(k, v) for k, v in params.items() if k != "oauth_signature"]
    base = signature.signature_base_string(
        method, signature.base_string_uri(url), signature.normalize_parameters(pairs)
    )
    secrets = SimpleNamespace(client_secret=consumer_secret, resource_owner_secret=token_secret)
    return signature.sign_hmac_sha1_with_client(base, secrets)


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


def _split(url: str) -> dict[str, object] | None:
    """wfParseUrl's view of a URL: only the parts that are present, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = hostport[: hostport.rindex("]") + 1] if hostport.startswith("[") else (hostport.split(":")[0])
    out: dict[str, object] = {"scheme": parts.scheme, "host": host, "userinfo": userinfo}
    if port is not None:
        out["port"] = port
    if parts.path:
        out["path"] = parts.path
    if parts.query:
        out["query"] = parts.query
    return out


def _component_matches(part: str, known: dict, given: dict, exact: bool = False) -> bool:
    if part not in known:
        return True
    if part not in given:
        return False
    if exact:
        return known[part] == given[part]
    return str(given[part]).startswith(str(known[part]))


def check_callback(consumer: Consumer, callback: str | None) -> None:
    """MWOAuthServer::checkCallback."""
    if not consumer.callback_is_prefix:
        if callback != "oob":
            raise MWOAuthError("mwoauth-callback-not-oob")
        return
    if not callback:
        raise MWOAuthError("mwoauth-callback-not-oob-or-prefix")
    if callback == "oob":
        return
    given = _split(callback)
    known = _split(consumer.callback)
    if given is None or known is None or given["userinfo"]:
        raise MWOAuthError("mwoauth-callback-not-oob-or-prefix")
    scheme_ok = given["scheme"] == known["scheme"] or (known["scheme"] == "http" and given["scheme"] == "https")
    port_ok = known.get("port") == 1 or known.get("port") == given.get("port")
    match = (
        scheme_ok
        and known["host"] == given["host"]
        and port_ok
        and _component_matches("path", known, given, exact="query" in known)
        and _component_matches("query", known, given)
    )
    if not match:
        raise MWOAuthError("mwoauth-callback-not-oob-or-prefix")
