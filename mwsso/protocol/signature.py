"""OAuth 1.0a HMAC-SHA1 request signatures (RFC 5849, section 3.4) as plain functions, and a ``requests`` auth.

MediaWiki's Extension:OAuth verifies exactly this: the signature base string of the method, the base
string URI and the sorted, percent-encoded parameters (the query's, a form body's and the ``oauth_*``
ones), keyed with the consumer's and the token's secrets. requests-oauthlib's ``OAuth1`` computes the
same string through oauthlib's general machinery (every signature method and placement, validation of
each parameter, its own URL parsing), which made it the largest part of an API call's CPU in
``bench/refresh_scale.py``. Here is only what MediaWiki takes: HMAC-SHA1, in the Authorization header.

tests/test_signature.py checks every result against oauthlib's for the same nonce and timestamp, and the
local wiki (its own, independent verifier) checks the signatures of every test that calls it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlsplit

import requests

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_FORM = "application/x-www-form-urlencoded"


def percent_encode(value: str) -> str:
    """RFC 5849 section 3.6: UTF-8, then every byte but the unreserved ``A-Z a-z 0-9 - . _ ~`` as ``%XX``."""
    return quote(value, safe="~")


# Parameter names repeat on every call (action, format, oauth_nonce…): theirs are kept. Never the values: they
# are what a user edits, CSRF tokens and each request's nonce, which nothing should keep after the request.
_encode_name = lru_cache(maxsize=512)(percent_encode)


def base_string_uri(url: str) -> str:
    """RFC 5849 section 3.4.1.2: scheme and host in lower case, the default port left out, no query or fragment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.netloc.rpartition("@")[2].lower()
    name, colon, port = host.rpartition(":")
    if colon and not port.endswith("]") and port == _DEFAULT_PORTS.get(scheme):
        host = name
    return f"{scheme}://{host}{parts.path or '/'}"


def signature_base_string(method: str, url: str, parameters: list[tuple[str, str]]) -> str:
    """RFC 5849 section 3.4.1: ``METHOD&uri&params``, the parameters encoded, sorted by name then value."""
    pairs = sorted((_encode_name(name), percent_encode(value)) for name, value in parameters)
    normalized = "&".join(f"{name}={value}" for name, value in pairs)
    # Encoding the normalized parameters again: they hold only unreserved characters, "%XX", "=" and "&" (each
    # name and value is encoded already), so three replacements are the whole of percent_encode here, at a
    # fraction of its per-character cost on a string as long as an edit's text.
    encoded = normalized.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method.upper()}&{_encoded_base_string_uri(url)}&{encoded}"


def _encoded_base_string_uri(url: str) -> str:
    # The same few API URLs on every call, kept without their query (what a user sent) and never with user
    # info (a password): base_string_uri drops both, so the result is the same.
    address = url.partition("#")[0].partition("?")[0]
    if "@" in address:
        return percent_encode(base_string_uri(url))
    return _encoded_address(address)


@lru_cache(maxsize=256)
def _encoded_address(address: str) -> str:
    return percent_encode(base_string_uri(address))


def hmac_sha1(base_string: str, consumer_secret: str, token_secret: str = "") -> str:
    """RFC 5849 section 3.4.2: base64 of HMAC-SHA1 over the base string, keyed ``secret&token_secret``."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def request_parameters(url: str, body: object, content_type: str) -> list[tuple[str, str]]:
    """RFC 5849 section 3.4.1.3.1: the query's parameters and, for a form-encoded body, the body's (decoded).

    A body counts as a form when its Content-Type starts with ``application/x-www-form-urlencoded`` exactly, as
    Extension:OAuth reads it (MWOAuthRequest::fromRequest): another spelling is a body the wiki does not read.
    """
    found = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if body and content_type.startswith(_FORM):
        if not isinstance(body, (str, bytes)):
            # A stream or a file: its parameters cannot be read here, and the wiki would count them.
            raise TypeError("a form-encoded body must be str or bytes to be signed")
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        found.extend(parse_qsl(text, keep_blank_values=True))
    return found


def authorization_header(oauth: dict[str, str]) -> str:
    """The ``Authorization: OAuth …`` value of the ``oauth_*`` parameters (section 3.5.1), each encoded and quoted."""
    return "OAuth " + ", ".join(f'{percent_encode(name)}="{percent_encode(value)}"' for name, value in oauth.items())


@dataclass(eq=False)
class HmacSha1Auth(requests.auth.AuthBase):
    """Signs each request it is given with a fresh nonce and timestamp; holds no other state, so threads share it.

    ``callback`` and ``verifier`` are the handshake's ``oauth_callback`` and ``oauth_verifier``. ``nonce`` fixes
    the nonce (identify's JWT carries it back; a test compares signatures); left empty, each request draws one.
    The secrets never show in the repr.
    """

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token_key: str | None = field(default=None, repr=False)
    token_secret: str | None = field(default=None, repr=False)
    callback: str | None = None
    verifier: str | None = field(default=None, repr=False)
    nonce: str | None = field(default=None, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def oauth_parameters(self, nonce: str, timestamp: str) -> dict[str, str]:
        """The ``oauth_*`` parameters of one request, before its signature."""
        oauth = {
            "oauth_nonce": nonce,
            "oauth_timestamp": timestamp,
            "oauth_version": "1.0",
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_consumer_key": self.consumer_key,
        }
        if self.token_key is not None:
            oauth["oauth_token"] = self.token_key
        if self.callback is not None:
            oauth["oauth_callback"] = self.callback
        if self.verifier is not None:
            oauth["oauth_verifier"] = self.verifier
        return oauth

    def sign(self, method: str, url: str, parameters: list[tuple[str, str]], nonce: str, timestamp: str) -> str:
        """The Authorization header for one request with these parameters, nonce and timestamp."""
        oauth = self.oauth_parameters(nonce, timestamp)
        base = signature_base_string(method, url, [*parameters, *oauth.items()])
        oauth["oauth_signature"] = hmac_sha1(base, self.consumer_secret, self.token_secret or "")
        return authorization_header(oauth)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        # A header set as bytes (the stubs say str) is read as HTTP sends it.
        raw_type: str | bytes = request.headers.get("Content-Type", "")
        content_type = raw_type.decode("latin-1") if isinstance(raw_type, bytes) else raw_type
        parameters = request_parameters(url, request.body, content_type)
        nonce = self.nonce or secrets.token_hex(16)
        timestamp = str(int(self.clock()))
        request.headers["Authorization"] = self.sign(request.method or "GET", url, parameters, nonce, timestamp)
        return request
