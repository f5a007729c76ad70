"""rest.php/oauth2/access_token: the authorization_code and refresh_token grants.

Client authentication is league's: ``client_id``/``client_secret`` in the form body,
HTTP Basic as the fallback. A public client is not authenticated when it redeems a
code, but is for a refresh (so without the secret the wiki shows for it, a refresh
gets 401 invalid_client on both recorded versions).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from ..web.wsgi import FORM_TYPE, Request, Response
from . import errors, grants, redirects
from .errors import OAuth2Error

if TYPE_CHECKING:
    from ..state.clients import Client
    from ..state.store import Store

log = logging.getLogger("mwsso_devwiki")

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
OK_HEADERS = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
ERROR_HEADERS = [("Cache-Control", "private,no-cache,s-maxage=0")]


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def basic_credentials(header: str) -> tuple[str | None, str | None]:
    """league's getBasicAuthCredentials: ``Basic base64(id:secret)``, else (None, None)."""
    if header[:6].lower() != "basic ":
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    if ":" not in decoded:
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def check_client(client: Client, secret: str | None, grant_type: str, redirect_uri: str | None) -> None:
    """AbstractGrant::validateClient with MediaWiki's ClientRepository::validateClient."""
    if not isinstance(secret, str) or not hmac.compare_digest(secret.encode(), client.secret.encode()):
        raise errors.invalid_client()
    if grant_type not in client.grant_types:
        raise errors.invalid_client()
    if redirect_uri is not None and not redirects.accepts(client, redirect_uri):
        raise errors.invalid_client()


def unsupported_media_type(content_type: str) -> Response:
    shown = content_type.split(";")[0].strip()
    body = errors.rest_error(
        415, "rest-unsupported-content-type", f"Unsupported Content-Type: {shown}", "Unsupported Media Type"
    )
    return Response(compact(body), status=415, content_type="application/json")


def grant(store: Store, params: dict[str, str], basic: tuple[str | None, str | None]) -> dict[str, Any]:
    """The token response for one request, or OAuth2Error."""
    grant_type = params.get("grant_type")
    if grant_type not in GRANT_TYPES:
        # AuthenticationHandler::validate turns MediaWiki's parameter validation error into this
        raise errors.invalid_request("grant_type")
    client_id = params.get("client_id", basic[0])
    secret = params.get("client_secret", basic[1])
    if client_id is None:
        raise errors.invalid_request("client_id")
    client = store.oauth2.client(client_id)
    if client is None or not client.approved:
        raise errors.invalid_client()
    redirect_uri = params.get("redirect_uri")
    if grant_type == "authorization_code":
        if client.confidential:
            check_client(client, secret, grant_type, redirect_uri)
        elif grant_type not in client.grant_types:
            raise errors.invalid_client()
        return grants.exchange_code(store, client, params.get("code"), redirect_uri, params.get("code_verifier"))
    check_client(client, secret, grant_type, redirect_uri)  # client_credentials: owner-only clients only
    if grant_type == "client_credentials":
        return grants.client_credentials(store, client)
    return grants.refresh(store, client, params.get("refresh_token"), params.get("scope"))


def handle(store: Store, req: Request) -> Response:
    store.count("oauth2_token_requests")
    content_type = req.headers.get("content-type", "")
    params: dict[str, str] = {}
    if content_type.split(";")[0].strip().lower() == FORM_TYPE:
        params = dict(req.form)
    elif req.body or content_type:
        if store.traits.token_form_only:
            return unsupported_media_type(content_type)
        # 1.39 reads PHP's $_POST, which only form bodies fill: a JSON body means no parameters
        # (so "Check the `grant_type` parameter")
    if params.get("grant_type") == "refresh_token":
        store.count("oauth2_refresh")  # every refresh request that reached the wiki, refused or not
    try:
        body = grant(store, params, basic_credentials(req.headers.get("authorization", "")))
    except OAuth2Error as err:
        log.info("devwiki oauth2 access_token refused: %s", err)
        return Response(compact(err.body()), status=err.status, content_type="application/json", headers=ERROR_HEADERS)
    if params.get("grant_type") == "refresh_token":
        store.count("oauth2_refresh_ok")
    return Response(compact(body), content_type="application/json; charset=UTF-8", headers=OK_HEADERS)
