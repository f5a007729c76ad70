"""Special:OAuth: initiate, token and identify, and the special page's dispatch.

Mirrors src/Frontend/SpecialPages/SpecialMWOAuth.php: ``format`` is ``raw``
(default), ``json`` or ``html``; identify always answers JSON; every OAuth 1.0a
error is HTTP 200.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from ..faults.answers import fault_response
from ..messages import Message, MWOAuthError, php_json
from ..web.skin import error_page, layout
from ..web.wsgi import NO_CACHE, Request, Response
from . import authorize, pages
from . import server as oauth1
from .callback import check_callback
from .identify import identify_body
from .server import OAuthError

if TYPE_CHECKING:
    from ..state.store import Store

RAW_TYPE = "text/plain;charset=UTF-8"
JSON_TYPE = "application/json"


def show_error(store: Store, message: Message, fmt: str) -> Response:
    """SpecialMWOAuth::showError."""
    if fmt == "json":
        body = php_json({"error": message.key, "message": message.text()})
        return Response(body, content_type=JSON_TYPE, headers=NO_CACHE)
    if fmt == "html":
        return Response(error_page(message, store.server))
    return Response("Error: " + message.escaped(), content_type=RAW_TYPE, headers=NO_CACHE)


def show_token(store: Store, key: str, secret: str, fmt: str, initiate: bool) -> Response:
    """SpecialMWOAuth::returnToken."""
    if fmt == "json":
        value = {"key": key, "secret": secret}
        if initiate:
            value["oauth_callback_confirmed"] = "true"
        return Response(php_json(value), content_type=JSON_TYPE, headers=NO_CACHE)
    pairs = [("oauth_token", key), ("oauth_token_secret", secret), ("oauth_callback_confirmed", "true")]
    if fmt == "html":
        items = "".join(f"<li>{k} = {quote(v, safe='~')}</li>" for k, v in pairs)
        return Response(layout("OAuth", f"<ul>{items}</ul>", pages.SUBTITLE, store.server))
    body = "&".join(f"{k}={quote(v, safe='~')}" for k, v in pairs)
    return Response(body, content_type=RAW_TYPE, headers=NO_CACHE)


def _initiate(store: Store, req: Request, fmt: str) -> Response:
    params = oauth1.request_params(req)
    oauth1.check_version(params)
    consumer = oauth1.get_consumer(store, params)
    oauth1.check_owner_only(consumer)
    oauth1.check_signature(store, req, params, consumer, None, "")
    callback = params.get("oauth_callback")
    check_callback(consumer, callback)
    token = store.new_request_token(consumer, callback or "oob")
    return show_token(store, token.key, token.secret, fmt, initiate=True)


def _token(store: Store, req: Request, fmt: str) -> Response:
    params = oauth1.request_params(req)
    oauth1.check_version(params)
    consumer = oauth1.get_consumer(store, params)
    oauth1.check_owner_only(consumer)
    request_token = store.request_token(consumer.key, params.get("oauth_token"))
    oauth1.check_signature(store, req, params, consumer, request_token.key, request_token.secret)
    access = store.exchange(request_token, params.get("oauth_verifier"))
    return show_token(store, access.key, access.secret, fmt, initiate=False)


def _identify(store: Store, req: Request, fmt: str) -> Response:
    params = oauth1.request_params(req)
    consumer, access = oauth1.verify_request(store, req, params)
    user = store.user(access.sub)
    if user is None:
        raise MWOAuthError("mwoauth-invalid-authorization-invalid-user")
    if not consumer.approved:
        raise MWOAuthError("mwoauth-invalid-authorization-not-approved", consumer.name)
    body = identify_body(store, consumer, user, access, params.get("oauth_nonce", ""))
    return Response(body, content_type=JSON_TYPE, headers=NO_CACHE)


_STEPS = {"initiate": _initiate, "token": _token, "identify": _identify}


def _php_intval(value: str) -> int:
    digits = ""
    for ch in value.strip():
        if not (ch.isdigit() or (ch in "+-" and not digits)):
            break
        digits += ch
    try:
        return int(digits)
    except ValueError:
        return 0


def handle(store: Store, req: Request, subpage: str) -> Response:
    """Special:OAuth/<subpage>."""
    if subpage in ("authorize", "authenticate"):
        return authorize.handle(store, req, subpage)
    step = _STEPS.get(subpage)
    if step is None:
        return _other(store, req, subpage)
    store.count(subpage)
    fmt = "json" if subpage == "identify" else (req.get("format") or "raw")
    version = req.get("oauth_version")
    if version and _php_intval(version) != 1:
        return show_error(store, Message("mwoauth-oauth-unsupported-version", version), fmt)
    faulty = fault_response(store, subpage, lambda code: show_error(store, Message(code or "mwoauth-db-readonly"), fmt))
    if faulty is not None:
        return faulty
    try:
        return step(store, req, fmt)
    except (MWOAuthError, OAuthError) as err:
        return show_error(store, err.message(), fmt)


def _other(store: Store, req: Request, subpage: str) -> Response:
    if subpage == "verified":
        verifier, token = req.get("oauth_verifier"), req.get("oauth_token")
        if not verifier or not token:
            return show_error(store, Message("mwoauth-bad-request-missing-params"), "html")
        return Response(pages.verified_page(verifier, store.server))
    if subpage == "":
        body = (
            "<p>Special:OAuth handles the OAuth 1.0a handshake; see "
            "Special:OAuth/initiate, /authorize, /token and /identify.</p>"
        )
        return Response(layout("OAuth", body, pages.SUBTITLE, store.server))
    return show_error(store, Message("mwoauth-bad-request-invalid-action"), req.get("format") or "html")
