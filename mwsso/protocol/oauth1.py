"""MediaWiki's OAuth 1.0a handshake as plain functions (no Django).

Each step takes the shared ``requests.Session`` and returns parsed values or
raises a ``OAuth1Error`` saying what went wrong: the wiki was unreachable,
the wiki refused (with its own error key and message), or the wiki answered
something that is not what the protocol says it sends.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from mwsso.protocol.common import MAX_CODE, clean, redacting, transport_errors
from mwsso.protocol.common import redact as redact  # re-exported: callers redact with the protocol they speak
from mwsso.protocol.errors import ProtocolError
from mwsso.protocol.signature import HmacSha1Auth

if TYPE_CHECKING:
    # Type checking only (typing.TypeIs is Python 3.13's): a token check narrows the value to str.
    from typing_extensions import TypeIs

Step = Literal["initiate", "token", "identify"]


@dataclass(frozen=True)
class Consumer:
    """A consumer (an OAuth 1.0a application); its secret never shows in a repr."""

    key: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class TokenPair:
    """A request or access token; neither part shows in a repr (an access token's key is stored encrypted too)."""

    key: str = field(repr=False)
    secret: str = field(repr=False)


class OAuth1Error(ProtocolError):
    """A step of the OAuth 1.0a handshake failed; ``kind`` is unavailable, refused or bad_response."""


def _redacted(*hidden: str) -> contextlib.AbstractContextManager[None]:
    return redacting(OAuth1Error, hidden)


def signing_auth(
    consumer: Consumer,
    token: TokenPair | None = None,
    *,
    callback: str | None = None,
    verifier: str | None = None,
    nonce: str | None = None,
) -> HmacSha1Auth:
    """A ``requests`` auth that signs each request HMAC-SHA1 in the Authorization header (``mwsso.protocol.signature``).

    ``callback`` and ``verifier`` are the handshake's; ``nonce`` fixes the nonce (identify's JWT echoes it),
    otherwise every request it signs gets a new nonce and timestamp.
    """
    return HmacSha1Auth(
        consumer.key,
        consumer.secret,
        token.key if token else None,
        token.secret if token else None,
        callback=callback,
        verifier=verifier,
        nonce=nonce,
    )


def special_page_params(subpage: str) -> dict[str, str]:
    # format=json makes the wiki name its errors (e.g. mwoauth-callback-not-oob-or-prefix).
    return {"title": f"Special:OAuth/{subpage}", "format": "json"}


def initiate(session: requests.Session, index_url: str, consumer: Consumer, callback: str, **kw: Any) -> TokenPair:
    """Get a request token (Special:OAuth/initiate)."""
    # POST, like every step: Wikimedia's edge may send a cookieless GET to a read-only data centre.
    with _redacted(consumer.secret):
        response = _send(session, "POST", index_url, "initiate", signing_auth(consumer, callback=callback), **kw)
        return parse_token_response(response, "initiate", hidden=(consumer.secret,))


def authorize_url(index_url: str, consumer_key: str, request_key: str, page: str = "authorize") -> str:
    """Where to send the browser so that the user can allow the consumer."""
    query = urlencode(
        {"title": f"Special:OAuth/{page}", "oauth_token": request_key, "oauth_consumer_key": consumer_key}
    )
    return f"{index_url}?{query}"


def exchange(
    session: requests.Session, index_url: str, consumer: Consumer, request_token: TokenPair, verifier: str, **kw: Any
) -> TokenPair:
    """Trade the authorized request token and verifier for an access token (Special:OAuth/token)."""
    auth = signing_auth(consumer, request_token, verifier=verifier)
    hidden = (consumer.secret, request_token.secret)
    with _redacted(*hidden):
        response = _send(session, "POST", index_url, "token", auth, **kw)
        return parse_token_response(response, "token", hidden=hidden)


def identify(
    session: requests.Session, index_url: str, consumer: Consumer, access: TokenPair, **kw: Any
) -> tuple[str, str]:
    """Ask the wiki who the token belongs to; returns (the raw JWT, the nonce we signed with)."""
    nonce = secrets.token_hex(16)
    hidden = (consumer.secret, access.key, access.secret)
    with _redacted(*hidden):
        response = _send(session, "POST", index_url, "identify", signing_auth(consumer, access, nonce=nonce), **kw)
        return parse_identify_response(response, hidden=hidden), nonce


def parse_identify_response(response: requests.Response, hidden: tuple[str, ...] = ()) -> str:
    """The raw JWT of an identify answer, or the wiki's refusal (JSON ``{"error", "message"}``).

    ``hidden``: the secrets the request was signed with, redacted from the wiki's text before it is cut.
    """
    body = _text(response, "identify").strip()
    if body.startswith("{"):
        raise _refusal(body, "identify", hidden)
    if not re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*", body):
        raise OAuth1Error("bad_response", "identify", f"the answer is not a JWT ({_describe(response)})")
    return body


def _send(
    session: requests.Session, method: str, index_url: str, step: str, auth: HmacSha1Auth, **kw: Any
) -> requests.Response:
    params = special_page_params(step)
    with transport_errors(OAuth1Error, step):
        response = session.request(method, index_url, params=params, auth=auth, allow_redirects=False, **kw)
    if response.status_code >= 500 or response.status_code == 429:
        raise OAuth1Error("unavailable", step, f"the wiki answered HTTP {response.status_code}")
    if response.is_redirect:
        # A signed request cannot follow a redirect (the signature covers the URL): say where to point instead.
        target = urlsplit(response.headers.get("Location", ""))
        where = f"{target.scheme}://{target.netloc}{target.path}" if target.netloc else "another address"
        raise OAuth1Error(
            "bad_response",
            step,
            f"the wiki redirected to {where}; set SOCIAL_AUTH_MEDIAWIKI_URL to the wiki's own index.php URL",
        )
    if response.status_code != 200:
        raise OAuth1Error("bad_response", step, f"the wiki answered HTTP {response.status_code}")
    return response


def _text(response: requests.Response, step: str) -> str:
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OAuth1Error("bad_response", step, "the answer is not UTF-8 text") from err


def parse_token_response(response: requests.Response, step: str, hidden: tuple[str, ...] = ()) -> TokenPair:
    """A token from an initiate or token answer (form-encoded or JSON), or the wiki's refusal.

    ``hidden``: the secrets the request was signed with, redacted from the wiki's text before it is cut.
    """
    body = _text(response, step).strip()
    if body.startswith("{"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as err:  # RecursionError: nesting deeper than the parser goes
            raise OAuth1Error("bad_response", step, f"the answer is not valid JSON ({_describe(response)})") from err
        if isinstance(data, dict) and "error" in data:
            raise _refusal(body, step, hidden)
        key, secret = (data.get("key"), data.get("secret")) if isinstance(data, dict) else (None, None)
    elif body.startswith("Error:"):
        raise OAuth1Error("refused", step, clean(body[len("Error:") :], hidden))
    else:
        fields = parse_qs(body, keep_blank_values=False)
        key = next(iter(fields.get("oauth_token", ())), None)
        secret = next(iter(fields.get("oauth_token_secret", ())), None)
    if not _is_token(key) or not _is_token(secret):
        raise OAuth1Error("bad_response", step, f"the answer has no token ({_describe(response)})")
    return TokenPair(key, secret)


def _is_token(value: object) -> TypeIs[str]:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9._~\-]{1,255}", value) is not None


def _refusal(body: str, step: str, hidden: tuple[str, ...] = ()) -> OAuth1Error:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return OAuth1Error("bad_response", step, "the answer is not valid JSON")
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return OAuth1Error("bad_response", step, "the answer is JSON without an error or a token")
    message = clean(str(data.get("message") or data["error"]), hidden)
    return OAuth1Error("refused", step, message, wiki_code=clean(data["error"], hidden, MAX_CODE))


def _describe(response: requests.Response) -> str:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0]
    return f"HTTP {response.status_code}, {kind}, {len(response.content)} bytes"
