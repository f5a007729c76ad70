"""rest.php/oauth2/authorize and Special:OAuth/approve, the way Extension:OAuth chains them.

1. ``GET rest.php/oauth2/authorize?...`` checks the client, redirect URI, scopes and PKCE
   (league's AuthCodeGrant::validateAuthorizationRequest); errors are an HTML page on the
   wiki, never a redirect. Then 307 to Special:OAuth/approve.
2. The consent form; Allow answers 302 back to authorize with ``approval_pass=1``, which
   answers 302 to the redirect URI with ``code`` and ``state``. Cancel answers 302 back with
   ``approval_cancel=1``, which answers 302 to the redirect URI with
   ``error=unauthorized_client`` (as recorded: no ``state``).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from .. import catalog
from ..authorize import SESSION_COOKIE, append_query
from ..messages import Message
from ..messages import html_escape as esc
from ..wsgi import Request, Response, redirect
from . import errors, pages, urls
from .errors import OAuth2Error
from .state import PKCE_PATTERN

if TYPE_CHECKING:
    from ..models import User
    from ..store import Store
    from .models import Client

PAGE_TYPE = "text/html;charset=UTF-8"
REST_CACHE = [("Cache-Control", "private,must-revalidate,s-maxage=0")]
CANCELLED = "User has rejected the request from client application"


@dataclass
class AuthorizationRequest:
    client: Client
    redirect_uri: str | None  # as given; None means the registered one
    scopes: list[str]
    state: str | None
    challenge: str | None
    challenge_method: str | None

    @property
    def target(self) -> str:
        return self.redirect_uri or self.client.redirect_uri


def requested_scopes(client: Client, scope: str | None) -> list[str]:
    """ScopeRepository: unknown grant names are refused; known ones the client lacks are dropped."""
    if not scope:
        return list(client.grants)
    names = scope.split()
    for name in names:
        if name not in catalog.GRANTS and name not in catalog.HIDDEN_GRANTS:
            raise errors.invalid_scope(name)
    return [name for name in client.grants if name in names]


def validate(store: Store, params: dict[str, str]) -> AuthorizationRequest:
    """validateAuthorizationRequest, in league's order."""
    # MediaWiki's parameter validation first (Authorize::getParamSettings), queued as invalid_request
    client_id = params.get("client_id")
    if params.get("response_type") != "code":
        raise errors.invalid_request("response_type")
    if client_id is None:
        raise errors.invalid_request("client_id")
    if params.get("code_challenge_method", "plain") not in ("plain", "S256"):
        raise errors.invalid_request("code_challenge_method")
    client = store.oauth2.client(client_id)
    if client is None or not client.approved or "authorization_code" not in client.grant_types:
        raise errors.invalid_client()
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is not None and redirect_uri != client.redirect_uri:  # exact: no prefix option in OAuth 2.0
        raise errors.invalid_client()
    scopes = requested_scopes(client, params.get("scope"))
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is not None:
        method = method or "plain"
        if method != "S256" and not store.oauth2.settings.allow_plain_pkce:
            # league 8 (and so the real wiki) accepts "plain"; the devwiki refuses it unless told
            # (setting allow_plain_pkce), so that a client sending it fails its tests
            raise errors.invalid_request("code_challenge_method", "Code challenge method must be `S256`")
        if not PKCE_PATTERN.match(challenge):
            raise errors.invalid_request("code_challenge", "Code challenge must follow the specifications of RFC-7636.")
    elif not client.confidential:
        raise errors.invalid_request("code_challenge", "Code challenge must be provided for public clients")
    return AuthorizationRequest(client, redirect_uri, scopes, params.get("state"), challenge, method)


def error_page(store: Store, err: OAuth2Error) -> Response:
    status = err.status if store.oauth2.settings.traits.authorize_error_statuses else 200
    return Response(
        pages.error_page(err.page_text(), store.server), status=status, content_type=PAGE_TYPE, headers=REST_CACHE
    )


def _temporary_redirect(location: str) -> Response:
    body = f'<!doctype html><title>Redirect</title><a href="{esc(location)}">{esc(location)}</a>'
    return Response(
        body, status=307, content_type="text/html; charset=utf-8", headers=[("Location", location), *REST_CACHE]
    )


def handle_authorize(store: Store, req: Request) -> Response:
    store.count("oauth2_authorize")
    params = dict(req.query)
    try:
        request = validate(store, params)
    except OAuth2Error as err:
        return error_page(store, err)
    user = store.user(req.cookie(SESSION_COOKIE))
    if params.get("approval_cancel"):
        # ClientApprovalDenyException: back to the client with the error (as recorded: no state)
        cancelled = {"error": "unauthorized_client", "error_description": CANCELLED, "message": CANCELLED}
        return Response(b"", status=302, headers=[("Location", append_query(request.target, cancelled)), *REST_CACHE])
    accepted = user is not None and store.oauth2.has_accepted(request.client, user.sub, request.scopes)
    if params.get("approval_pass") and accepted and user is not None:
        code = store.oauth2.new_code(
            request.client, user.sub, request.scopes, request.redirect_uri, request.challenge, request.challenge_method
        )
        answer = {"code": code} if request.state is None else {"code": code, "state": request.state}
        return Response(b"", status=302, headers=[("Location", append_query(request.target, answer)), *REST_CACHE])
    # the query as sent (not re-encoded), so returntoquery is the real wiki's byte for byte
    query = "&".join(
        p for p in req.query_string.split("&") if p and p.partition("=")[0] not in ("approval_pass", "approval_cancel")
    )
    location = f"{urls.index_url(store)}?title=Special:OAuth/approve&" + urlencode(
        {
            "returnto": urls.rest_path(store) + urls.AUTHORIZE,
            "returntoquery": query,
            "client_id": request.client.client_id,
            "oauth_version": "2",
            "scope": " ".join(request.scopes),
        }
    )
    return _temporary_redirect(location)


def edit_token(store: Store, client_id: str, returntoquery: str) -> str:
    mac = hmac.new(store.secret.encode(), f"oauth2|{client_id}|{returntoquery}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32] + "+\\"


def handle_approve(store: Store, req: Request) -> Response:
    """Special:OAuth/approve: the consent form (GET) and Allow/Cancel (POST)."""
    store.count("oauth2_approve")
    returnto = req.get("returnto") or ""
    returntoquery = req.get("returntoquery") or ""
    if returnto != urls.rest_path(store) + urls.AUTHORIZE:
        return error_page(store, errors.invalid_request("returnto"))
    try:
        request = validate(store, dict(parse_qsl(returntoquery, keep_blank_values=True)))
    except OAuth2Error as err:
        return error_page(store, err)
    client = request.client
    session_user = store.user(req.cookie(SESSION_COOKIE))
    chosen = store.user(req.get("wpUser")) or session_user
    token = edit_token(store, client.client_id, returntoquery)

    def show(error: Message | None = None) -> Response:
        hidden = {"title": "Special:OAuth/approve", "wpEditToken": token}
        if store.oauth2.settings.traits.consent_display_field:
            hidden["display"] = ""
        hidden.update(
            {
                "wpaction": "accept",
                "wpconfirmUpdate": "1",
                "oauth_version": "2",
                "client_id": client.client_id,
                "scope": " ".join(request.scopes),
                "returnto": returnto,
                "returntoquery": returntoquery,
            }
        )
        html = pages.approve_page(
            client=client,
            scopes=request.scopes,
            users=store.users(),
            selected=chosen,
            hidden=hidden,
            action=f"{urls.index_url(store)}/Special:OAuth/approve",
            error=error,
            server=store.server,
            now=store.now(),
        )
        return Response(html, headers=[("Cache-Control", "private, must-revalidate, max-age=0")])

    if not req.posted:
        return show()
    if not hmac.compare_digest(req.get("wpEditToken") or "", token):
        return show(Message("sessionfailure"))
    if req.get("cancel") is not None:
        return redirect(f"{store.server}{returnto}?{returntoquery}&approval_cancel=1")
    if chosen is None:
        return show(Message("devwiki-choose-user"))
    return _allow(store, client, request.scopes, chosen, returnto, returntoquery)


def _allow(store: Store, client: Client, scopes: list[str], user: User, returnto: str, returntoquery: str) -> Response:
    store.oauth2.accept(client, user.sub, scopes)
    location = f"{store.server}{returnto}?{returntoquery}&approval_pass=1"
    cookie = f"{SESSION_COOKIE}={user.sub}; Path=/; HttpOnly; SameSite=Lax"
    return redirect(location, headers=[("Set-Cookie", cookie)])
