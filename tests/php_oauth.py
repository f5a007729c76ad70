"""Extension:OAuth's signature check ported line by line, to verify what our client sends.

The local wiki verifies signatures with oauthlib, the library our client signs with, so
a quirk shared by both would pass every other test and still fail on a real wiki. This
port follows the PHP instead (wikimedia/mediawiki-extensions-OAuth):

- src/Backend/MWOAuthRequest.php ``fromRequest``: the query (``$_GET``), then a POST body
  only when its Content-Type starts with application/x-www-form-urlencoded, then the
  ``Authorization: OAuth`` header (case-sensitive prefix), later sources overwriting;
- src/Lib/OAuthRequest.php ``__construct`` merges the raw query under those,
  ``get_normalized_http_url`` (scheme://lowercased host[:non-default port]/path) and
  ``get_signature_base_string``;
- src/Lib/OAuthUtil.php ``split_header``, ``parse_parameters`` (PHP ``urldecode``: "+" is
  a space), ``urlencode_rfc3986`` (``rawurlencode``) and ``build_http_query`` (keys sorted
  with strcmp, duplicate values sorted);
- src/Lib/OAuthSignatureMethod_HMAC_SHA1.php: key ``rawurlencode(consumer secret)&rawurlencode(token secret)``.

The URL in the base string is the wiki's own server ($wgServer) plus the request path
(WebRequest::getFullRequestURL), which is why ``server`` is a parameter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit

import requests

FORM = "application/x-www-form-urlencoded"


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


def split_header(header: str) -> dict[str, str]:
    """OAuthUtil::split_header: only oauth_* pairs, values PHP-urldecoded."""
    params = {}
    for name, _, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
        params[name] = unquote_plus(quoted or bare)
    return params


def _header(request: requests.PreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else value


def request_parameters(request: requests.PreparedRequest) -> dict[str, Any]:
    """MWOAuthRequest::fromRequest, then OAuthRequest::__construct's merge of the raw query."""
    query = urlsplit(request.url or "").query
    params: dict[str, Any] = dict(php_get(query))
    content_type = _header(request, "Content-Type")
    if request.method == "POST" and content_type.startswith(FORM):
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        params.update(parse_parameters(body))
    authorization = _header(request, "Authorization")
    if authorization.startswith("OAuth "):
        params.update(split_header(authorization))
    return {**parse_parameters(query), **params}


def normalized_url(server: str, request: requests.PreparedRequest) -> str:
    """OAuthRequest::get_normalized_http_url of $wgServer + the request path."""
    parts = urlsplit(server + urlsplit(request.url or "").path)
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
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


def base_string(server: str, request: requests.PreparedRequest) -> str:
    params = {k: v for k, v in request_parameters(request).items() if k != "oauth_signature"}
    parts = [(request.method or "").upper(), normalized_url(server, request), build_http_query(params)]
    return "&".join(rawurlencode(part) for part in parts)


def signature_is_valid(server: str, request: requests.PreparedRequest, consumer_secret: str, token_secret: str) -> bool:
    """Whether Extension:OAuth would accept the request's HMAC-SHA1 signature."""
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}".encode()
    expected = base64.b64encode(hmac.new(key, base_string(server, request).encode(), hashlib.sha1).digest()).decode()
    sent = request_parameters(request).get("oauth_signature", "")
    return hmac.compare_digest(expected, sent)
