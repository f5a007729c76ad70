"""Extension:OAuth's OAuth 1.0a parameters and HMAC-SHA1 signature, ported line by line from its PHP.

The local wiki checks signatures with this port, never with the library clients sign with
(oauthlib), so that a quirk shared by a client and that library still fails here as it would on
a real wiki. From wikimedia/mediawiki-extensions-OAuth:

- src/Backend/MWOAuthRequest.php ``fromRequest``: the query (``$_GET``), then a POST body only
  when its Content-Type starts with application/x-www-form-urlencoded, then the
  ``Authorization: OAuth`` header (case-sensitive prefix), later sources overwriting;
- src/Lib/OAuthRequest.php ``__construct`` merges the raw query under those,
  ``get_normalized_http_url`` (scheme://lowercased host[:non-default port]/path) and
  ``get_signature_base_string``;
- src/Lib/OAuthUtil.php ``split_header``, ``parse_parameters`` (PHP ``urldecode``: "+" is a
  space), ``urlencode_rfc3986`` (``rawurlencode``) and ``build_http_query`` (keys sorted with
  strcmp, duplicate values sorted);
- src/Lib/OAuthSignatureMethod_HMAC_SHA1.php: key ``rawurlencode(consumer secret)&rawurlencode(token secret)``.

The URL in the base string is the wiki's own server ($wgServer) plus the request path
(WebRequest::getRequestURL), never the Host header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit

FORM = "application/x-www-form-urlencoded"
_HEADER_PAIR = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: the method, the path as sent, the query, and a form body or header."""

    method: str
    path: str
    query: str = ""
    content_type: str = ""
    body: str = ""
    authorization: str = ""


def rawurlencode(value: str) -> str:
    # PHP's rawurlencode leaves only A-Z a-z 0-9 - _ . ~ unencoded (RFC 3986 unreserved).
    return quote(value.encode("utf-8"), safe="-_.~")


def parse_parameters(text: str) -> dict[str, Any]:
    """OAuthUtil::parse_parameters: duplicates become lists."""
    parsed: dict[str, Any] = {}
    if not text:
        return parsed
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        name, value = unquote_plus(name), unquote_plus(value)
        if name in parsed:
            parsed[name] = [*parsed[name], value] if isinstance(parsed[name], list) else [parsed[name], value]
        else:
            parsed[name] = value
    return parsed


def php_get(query: str) -> dict[str, str]:
    """``$_GET``: the last of duplicate names wins; "." and " " in names become "_"."""
    values: dict[str, str] = {}
    for pair in query.split("&") if query else []:
        name, _, value = pair.partition("=")
        name = re.sub(r"[. ]", "_", unquote_plus(name))
        values[name] = unquote_plus(value)
    return values


def has_oauth_header(authorization: str) -> bool:
    # Case-sensitive, as Utils::hasOAuthHeaders and MWOAuthRequest::fromRequest check it.
    return authorization.startswith("OAuth ")


def split_header(header: str) -> dict[str, str]:
    """OAuthUtil::split_header: only oauth_* pairs, values PHP-urldecoded."""
    return {name: unquote_plus(quoted or bare) for name, _, quoted, bare in _HEADER_PAIR.findall(header)}


def request_parameters(request: SignedRequest) -> dict[str, Any]:
    """MWOAuthRequest::fromRequest, then OAuthRequest::__construct's merge of the raw query."""
    params: dict[str, Any] = dict(php_get(request.query))
    if request.method.upper() == "POST" and request.content_type.startswith(FORM):
        params.update(parse_parameters(request.body))
    if has_oauth_header(request.authorization):
        params.update(split_header(request.authorization))
    return {**parse_parameters(request.query), **params}


def oauth_values(request: SignedRequest) -> dict[str, str]:
    """The parameters as the extension reads single values (a repeated name: its last value)."""
    return {
        name: value[-1] if isinstance(value, list) else value for name, value in request_parameters(request).items()
    }


def normalized_url(server: str, path: str) -> str:
    """OAuthRequest::get_normalized_http_url of $wgServer + the request path."""
    parts = urlsplit(server + path)
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # PHP's parse_url keeps an IPv6 literal's brackets in the host; urlsplit drops them
    if (scheme, port) not in (("https", 443), ("http", 80)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path}"


def build_http_query(params: dict[str, Any]) -> str:
    encoded = sorted(
        (rawurlencode(name), [rawurlencode(v) for v in value] if isinstance(value, list) else rawurlencode(value))
        for name, value in params.items()
    )
    pairs = []
    for name, value in encoded:  # strcmp order on the encoded (ASCII) names
        for item in sorted(value) if isinstance(value, list) else [value]:
            pairs.append(f"{name}={item}")
    return "&".join(pairs)


def base_string(server: str, request: SignedRequest) -> str:
    params = {k: v for k, v in request_parameters(request).items() if k != "oauth_signature"}
    parts = [request.method.upper(), normalized_url(server, request.path), build_http_query(params)]
    return "&".join(rawurlencode(part) for part in parts)


def signature(server: str, request: SignedRequest, consumer_secret: str, token_secret: str) -> str:
    """The HMAC-SHA1 signature Extension:OAuth expects for ``request`` on the wiki at ``server``."""
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string(server, request).encode(), hashlib.sha1).digest()).decode()


def signature_is_valid(server: str, request: SignedRequest, consumer_secret: str, token_secret: str) -> bool:
    """Whether Extension:OAuth would accept the request's HMAC-SHA1 signature."""
    sent = oauth_values(request).get("oauth_signature", "")
    return hmac.compare_digest(signature(server, request, consumer_secret, token_secret), sent)
