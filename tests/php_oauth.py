"""Extension:OAuth's signature rules applied to a request our client prepared, before any wiki sees it.

The rules are the local wiki's port of the PHP (mwsso_devwiki.oauth1.signature, ported line by line
from wikimedia/mediawiki-extensions-OAuth, never oauthlib, the library our client signs with); this
only reads a ``requests.PreparedRequest`` as the extension reads a request: the query, a form body,
the Authorization header. The URL in the base string is the wiki's own server ($wgServer) plus the
request path, which is why ``server`` is a parameter.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from mwsso_devwiki.oauth1 import signature


def _header(request: requests.PreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else value


def signed_request(request: requests.PreparedRequest) -> signature.SignedRequest:
    url = urlsplit(request.url or "")
    body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
    return signature.SignedRequest(
        method=request.method or "",
        path=url.path,
        query=url.query,
        content_type=_header(request, "Content-Type"),
        body=body,
        authorization=_header(request, "Authorization"),
    )


def request_parameters(request: requests.PreparedRequest) -> dict[str, Any]:
    """The parameters the extension reads from the request (MWOAuthRequest::fromRequest)."""
    return signature.request_parameters(signed_request(request))


def signature_is_valid(server: str, request: requests.PreparedRequest, consumer_secret: str, token_secret: str) -> bool:
    """Whether Extension:OAuth on the wiki at ``server`` would accept the request's HMAC-SHA1 signature."""
    return signature.signature_is_valid(server, signed_request(request), consumer_secret, token_secret)
