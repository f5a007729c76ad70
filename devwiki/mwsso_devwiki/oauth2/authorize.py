"""rest.php/oauth2/authorize and Special:OAuth/approve, the way Extension:OAuth chains them.

1. ``GET rest.php/oauth2/authorize?...`` checks MediaWiki's parameters; then a browser that is
   not signed in gets 307 to Special:UserLogin (``returnto=Special:OAuth/rest redirect``, which
   brings it back here) before anything else is looked at, on every version. For a signed-in
   person it checks the client, redirect URI, scopes and PKCE (league's
   AuthCodeGrant::validateAuthorizationRequest); errors are an HTML page on the wiki, never a
   redirect. Then 307 to Special:OAuth/approve.
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

from ..messages import Message
from ..messages import html_escape as esc
from ..state import catalog
from ..web.consent import consent_hidden_fields
from ..web.session import login_url, session_user
from ..web.wsgi import PAGE_CACHE, Request, Response, append_query, redirect
from . import errors, grants, pages, redirects, urls
from .errors import OAuth2Error
from .grants import PKCE_PATTERN

if TYPE_CHECKING:
    from ..state.clients import Client
    from ..state.store import Store

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


def check_parameters(params: dict[str, str]) -> None:
    """MediaWiki's parameter validation (Authorize::getParamSettings): queued, and thrown before anything else."""
    if params.get("response_type") != "code":
        raise errors.invalid_request("response_type")
    if params.get("client_id") is None:
        raise errors.invalid_request("client_id")
    if params.get("code_challenge_method", "plain") not in ("plain", "S256"):
        raise errors.invalid_request("code_challenge_method")


def validate(store: Store, params: dict[str, str]) -> AuthorizationRequest:
    """validateAuthorizationRequest, in league's order (after check_parameters)."""
    client = store.oauth2.client(params.get("client_id"))
    # An owner-only client passes here (recorded: 307 to the consent form); its grant types stop it at the token step.
    if client is None or not client.approved:
        raise errors.invalid_client()
    redirect_uri = params.get("redirect_uri")
    # Exact (no prefix option in OAuth 2.0), but for the local wiki's any-loopback-port demo clients.
    if redirect_uri is not None and not redirects.accepts(client, redirect_uri):
        raise errors.invalid_client()
    scopes = requested_scopes(client, params.get("scope"))
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is not None:
        method = method or "plain"
        if method != "S256" and not store.oauth2.settings.allow_plain_pkce:
            # league 8 (and so the real wiki) accepts "plain"; the local wiki refuses it unless told
            # (setting allow_plain_pkce), so that a client sending it fails its tests
            raise errors.invalid_request("code_challenge_method", "Code challenge method must be `S256`")
        if not PKCE_PATTERN.match(challenge):
            raise errors.invalid_request("code_challenge", "Code challenge must follow the specifications of RFC-7636.")
    elif not client.confidential:
        raise errors.invalid_request("code_challenge", "Code challenge must be provided for public clients")
    return AuthorizationRequest(client, redirect_uri, scopes, params.get("state"), challenge, method)


def error_page(store: Store, err: OAuth2Error) -> Response:
    status = err.status if store.traits.authorize_error_statuses else 200
    return Response(
        pages.error_page(err.page_text(), store.server), status=status, content_type=PAGE_TYPE, headers=REST_CACHE
    )


def _temporary_redirect(location: str, headers: list[tuple[str, str]]) -> Response:
    body = f'<!doctype html><title>Redirect</title><a href="{esc(location)}">{esc(location)}</a>'
    return Response(
        body, status=307, content_type="text/html; charset=utf-8", headers=[("Location", location), *headers]
    )


def _query_without(req: Request, *names: str) -> str:
    """The query as sent (not re-encoded, so that what it is passed on in is the real wiki's byte for byte)."""
    return "&".join(p for p in req.query_string.split("&") if p and p.partition("=")[0] not in names)


def handle_authorize(store: Store, req: Request) -> Response:
    """rest.php/oauth2/authorize: parameters, then login (anonymous: 307 to Special:UserLogin), then league's checks."""
    store.count("oauth2_authorize")
    params = dict(req.query)
    try:
        check_parameters(params)
    except OAuth2Error as err:
        return error_page(store, err)
    user = session_user(store, req)
    if user is None:
        # Before the client and the redirect URI are looked at, as on every recorded version; no Cache-Control.
        rest_url = f"{urls.rest_path(store)}{urls.AUTHORIZE}?{req.query_string}"
        return _temporary_redirect(
            login_url(store, "Special:OAuth/rest redirect", urlencode({"rest_url": rest_url})), []
        )
    try:
        request = validate(store, params)
    except OAuth2Error as err:
        return error_page(store, err)
    if params.get("approval_cancel"):
        # ClientApprovalDenyException: back to the client with the error (as recorded: no state)
        cancelled = {"error": "unauthorized_client", "error_description": CANCELLED, "message": CANCELLED}
        return Response(b"", status=302, headers=[("Location", append_query(request.target, cancelled)), *REST_CACHE])
    if params.get("approval_pass") and store.oauth2.has_accepted(request.client, user.sub, request.scopes):
        code = grants.new_code(
            store,
            request.client,
            user.sub,
            request.scopes,
            request.redirect_uri,
            request.challenge,
            request.challenge_method,
        )
        answer = {"code": code} if request.state is None else {"code": code, "state": request.state}
        return Response(b"", status=302, headers=[("Location", append_query(request.target, answer)), *REST_CACHE])
    location = f"{urls.index_url(store)}?title=Special:OAuth/approve&" + urlencode(
        {
            "returnto": urls.rest_path(store) + urls.AUTHORIZE,
            "returntoquery": _query_without(req, "approval_pass", "approval_cancel"),
            "client_id": request.client.client_id,
            "oauth_version": "2",
            "scope": " ".join(request.scopes),
        }
    )
    return _temporary_redirect(location, REST_CACHE)


def handle_rest_redirect(store: Store, req: Request) -> Response:
    """Special:OAuth/rest redirect (as recorded): where the login sends the browser back to rest.php/oauth2/authorize."""
    rest_url = req.get("rest_url") or ""
    if not rest_url.startswith(urls.rest_path(store) + "/"):  # only the wiki's own rest.php: no open redirect
        return error_page(store, errors.invalid_request("rest_url"))
    return redirect(f"{store.server}{rest_url}")


def edit_token(store: Store, client_id: str, returntoquery: str) -> str:
    mac = hmac.new(store.secret.encode(), f"oauth2|{client_id}|{returntoquery}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32] + "+\\"


def handle_approve(store: Store, req: Request) -> Response:
    """Special:OAuth/approve: the consent form (GET) and Allow/Cancel (POST), for the signed-in user."""
    store.count("oauth2_approve")
    returnto = req.get("returnto") or ""
    returntoquery = req.get("returntoquery") or ""
    if returnto != urls.rest_path(store) + urls.AUTHORIZE:
        return error_page(store, errors.invalid_request("returnto"))
    query = dict(parse_qsl(returntoquery, keep_blank_values=True))
    try:
        check_parameters(query)
        request = validate(store, query)
    except OAuth2Error as err:
        return error_page(store, err)
    client = request.client
    approve_query = urlencode(
        {
            "returnto": returnto,
            "returntoquery": returntoquery,
            "client_id": client.client_id,
            "oauth_version": "2",
            "scope": " ".join(request.scopes),
        }
    )
    user = session_user(store, req)
    if user is None:
        return redirect(login_url(store, "Special:OAuth/approve", approve_query), headers=PAGE_CACHE)
    token = edit_token(store, client.client_id, returntoquery)

    def show(error: Message | None = None) -> Response:
        hidden = consent_hidden_fields("Special:OAuth/approve", token, store.traits.consent_display_field)
        hidden.update(
            {
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
            user=user,
            hidden=hidden,
            action=f"{urls.index_url(store)}/Special:OAuth/approve",
            error=error,
            server=store.server,
            switch_user_url=login_url(store, "Special:OAuth/approve", approve_query),
        )
        return Response(html, headers=PAGE_CACHE)

    if not req.posted:
        return show()
    if not hmac.compare_digest(req.get("wpEditToken") or "", token):
        return show(Message("sessionfailure"))
    if req.get("cancel") is not None:
        return redirect(f"{store.server}{returnto}?{returntoquery}&approval_cancel=1")
    store.oauth2.accept(client, user.sub, request.scopes)
    return redirect(f"{store.server}{returnto}?{returntoquery}&approval_pass=1")
