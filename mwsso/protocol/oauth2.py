"""MediaWiki's OAuth 2.0 (Extension:OAuth's rest.php routes) as plain functions (no Django).

Every URL comes from ``mwsso.protocol.wikiurls``. Token requests are always form-encoded (REL1_43 and newer
answer a JSON body with 415). A confidential client authenticates with its secret in the form body;
a public client sends none at sign-in (PKCE proves it is the same browser) and, since every wiki
seen refuses a public client's refresh without the secret the wiki shows for it, cannot refresh
without one. Each step returns parsed values or raises ``OAuth2Error``: the wiki was unreachable
(``unavailable``), refused with its own ``error`` (``refused``), or answered something the protocol
does not send (``bad_response``). Nothing here puts a token or secret in a message.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import requests

from mwsso.protocol.common import MAX_CODE, clean, redacting, transport_errors
from mwsso.protocol.errors import ProtocolError
from mwsso.protocol.wikiurls import wiki_urls

if TYPE_CHECKING:
    # Type checking only (typing.TypeIs is Python 3.13's): a token check narrows the value to str.
    from typing_extensions import TypeIs

Step = Literal["token", "refresh", "profile", "callback"]

AUTHORIZE_ROUTE = "/oauth2/authorize"
TOKEN_ROUTE = "/oauth2/access_token"
PROFILE_ROUTE = "/oauth2/resource/profile"

# RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~]; 64 random bytes give the maximum strength.
VERIFIER_BYTES = 64
# What the wiki's callback says when the person pressed Cancel (MediaWiki: not access_denied).
CANCEL_ERRORS = ("unauthorized_client", "access_denied")
# The authorization endpoint's error codes (RFC 6749, 4.1.2.1): the only ones a callback is known to carry.
CALLBACK_ERRORS = (
    *CANCEL_ERRORS, "invalid_request", "unsupported_response_type", "invalid_scope", "server_error",
    "temporarily_unavailable",
)  # fmt: skip
UNKNOWN_CALLBACK_ERROR = "unknown_error"
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/=\-]{1,4096}")


@dataclass(frozen=True)
class Client:
    """An OAuth 2.0 client: its id and, for a confidential client, its secret ("" for a public one)."""

    client_id: str
    secret: str = field(default="", repr=False)

    @property
    def is_confidential(self) -> bool:
        return bool(self.secret)


@dataclass(frozen=True)
class PKCEPair:
    """A PKCE code verifier and its S256 challenge."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"


@dataclass(frozen=True)
class TokenSet:
    """What the token endpoint gave: an access token, maybe a refresh token, and the access token's lifetime."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_in: int | None = None
    token_type: str = "Bearer"


class OAuth2Error(ProtocolError):
    """An OAuth 2.0 step failed; ``kind`` is unavailable, refused or bad_response.

    ``wiki_code`` is the wiki's ``error`` (``invalid_request``, ``invalid_client``, ``access_denied``…),
    ``hint`` its ``hint`` ("Token has expired", "Token has been revoked"), ``http_status`` the status.
    """

    def __init__(
        self, kind: str, step: str, message: str, *, wiki_code: str = "", hint: str = "", http_status: int | None = None
    ) -> None:
        super().__init__(kind, step, message, wiki_code=wiki_code)
        self.hint = hint
        self.http_status = http_status


# -- PKCE and the authorize URL ----------------------------------------------------------
def challenge_for(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (base64url of its SHA-256, no padding)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def pkce_pair() -> PKCEPair:
    """A fresh verifier (86 URL-safe characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    return PKCEPair(verifier, challenge_for(verifier))


def authorize_url(
    wiki_url: str,
    client_id: str,
    state: str,
    code_challenge: str,
    *,
    redirect_uri: str | None = None,
    scope: str | None = None,
) -> str:
    """``rest.php/oauth2/authorize`` with the code flow, state and an S256 challenge.

    ``redirect_uri`` only when given (the wiki then needs it to match the registered one exactly;
    without it the registered one is used); ``scope`` only when given (without it the wiki asks
    for all the client's grants).
    """
    params = {"response_type": "code", "client_id": client_id}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    params["state"] = state
    if scope:
        params["scope"] = scope
    params.update({"code_challenge": code_challenge, "code_challenge_method": "S256"})
    return f"{wiki_urls(wiki_url).rest_route(AUTHORIZE_ROUTE)}?{urlencode(params)}"


def callback_error(params: dict[str, Any]) -> str | None:
    """The error code in a callback (``unauthorized_client`` when the person pressed Cancel), or None.

    One of ``CALLBACK_ERRORS``, else ``UNKNOWN_CALLBACK_ERROR``: anyone can write a link to the callback,
    so nothing else of it (``error_description``, ``message``, an unknown code) is ever kept or shown.
    """
    error = params.get("error")
    if error is None:
        return None
    return error if error in CALLBACK_ERRORS else UNKNOWN_CALLBACK_ERROR


def is_cancel(code: str | None) -> bool:
    return code in CANCEL_ERRORS


# -- the token endpoint -----------------------------------------------------------------
def code_form(client: Client, code: str, verifier: str, redirect_uri: str | None = None) -> dict[str, str]:
    """The form of an authorization_code grant: the verifier always, the secret only for a confidential client."""
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client.client_id}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    if client.secret:
        form["client_secret"] = client.secret
    return form


def refresh_form(client: Client, refresh_token: str) -> dict[str, str]:
    """The form of a refresh_token grant (with the secret whenever the site has one: no wiki refreshes without)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id}
    if client.secret:
        form["client_secret"] = client.secret
    return form


def exchange_code(
    session: requests.Session,
    wiki_url: str,
    client: Client,
    code: str,
    verifier: str,
    *,
    redirect_uri: str | None = None,
    **kw: Any,
) -> TokenSet:
    """Trade the callback's code (and this browser's PKCE verifier) for tokens."""
    form = code_form(client, code, verifier, redirect_uri)
    return _token_request(session, wiki_url, form, "token", (client.secret, code, verifier), **kw)


def refresh(session: requests.Session, wiki_url: str, client: Client, refresh_token: str, **kw: Any) -> TokenSet:
    """A new access token (and, the wiki rotating them, a new refresh token) for ``refresh_token``."""
    form = refresh_form(client, refresh_token)
    return _token_request(session, wiki_url, form, "refresh", (client.secret, refresh_token), **kw)


def _token_request(
    session: requests.Session, wiki_url: str, form: dict[str, str], step: str, hidden: tuple[str, ...], **kw: Any
) -> TokenSet:
    url = wiki_urls(wiki_url).rest_route(TOKEN_ROUTE)
    headers = {**(kw.pop("headers", None) or {}), "Accept": "application/json"}
    # data= (a dict) is always sent as application/x-www-form-urlencoded: never JSON.
    response = _send(session, "POST", url, step, data=form, headers=headers, **kw)
    with redacting(OAuth2Error, hidden):
        return parse_token_answer(response.status_code, response.content, step, hidden)


def parse_token_answer(status: int, body: bytes, step: str = "token", hidden: tuple[str, ...] = ()) -> TokenSet:
    """Tokens from a 200 answer, or the wiki's refusal (``invalid_request``, ``invalid_client``, 415 …).

    ``hidden``: the secrets the request carried, redacted from the wiki's text before it is cut.
    """
    data = _json_object(status, body, step)
    if status != 200 or "error" in data or "errorKey" in data:
        raise _refusal(status, data, step, hidden)
    access = data.get("access_token")
    token_type = data.get("token_type")
    if not _is_token(access):
        raise OAuth2Error("bad_response", step, "the token answer has no access_token", http_status=status)
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise OAuth2Error("bad_response", step, f"the token type is {token_type!r}, not Bearer", http_status=status)
    refresh_token = data.get("refresh_token", "")
    if refresh_token in (None, ""):
        refresh_token = ""
    elif not _is_token(refresh_token):
        raise OAuth2Error("bad_response", step, "the token answer's refresh_token is not a token", http_status=status)
    expires_in = data.get("expires_in")
    if expires_in is not None:
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or not 0 < expires_in < 10**9:
            raise OAuth2Error(
                "bad_response", step, "the token answer's expires_in is not a lifetime", http_status=status
            )
    return TokenSet(access, refresh_token, expires_in, "Bearer")


# -- the profile ------------------------------------------------------------------------
def fetch_profile(session: requests.Session, wiki_url: str, access_token: str, **kw: Any) -> dict[str, Any]:
    """``rest.php/oauth2/resource/profile`` with the bearer token: the user's claims, unchecked (see ``identity``)."""
    url = wiki_urls(wiki_url).rest_route(PROFILE_ROUTE)
    headers = {**(kw.pop("headers", None) or {}), "Authorization": f"Bearer {access_token}"}
    response = _send(session, "GET", url, "profile", headers=headers, **kw)
    with redacting(OAuth2Error, (access_token,)):
        return parse_profile_answer(response.status_code, response.content, (access_token,))


def parse_profile_answer(status: int, body: bytes, hidden: tuple[str, ...] = ()) -> dict[str, Any]:
    """The profile object (1.39 sends it as text/html, 1.43 as JSON: the body is read either way)."""
    data = _json_object(status, body, "profile")
    if status != 200 or "error" in data:
        raise _refusal(status, data, "profile", hidden)
    return data


# -- helpers ----------------------------------------------------------------------------
def _send(session: requests.Session, method: str, url: str, step: str, **kw: Any) -> requests.Response:
    with transport_errors(OAuth2Error, step):
        response = session.request(method, url, allow_redirects=False, **kw)
    if response.is_redirect:
        raise OAuth2Error(
            "bad_response", step, "the wiki redirected the request; set the wiki URL to its own index.php URL",
            http_status=response.status_code,
        )  # fmt: skip
    return response


def _json_object(status: int, body: bytes, step: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode()  # lone surrogates cannot be stored or shown
    except (ValueError, RecursionError, UnicodeError):
        data = None
    if isinstance(data, dict):
        return data
    if status >= 500 or status == 429:
        raise OAuth2Error("unavailable", step, f"the wiki answered HTTP {status}", http_status=status)
    raise OAuth2Error(
        "bad_response", step, f"the answer (HTTP {status}, {len(body)} bytes) is not a JSON object", http_status=status
    )


def _refusal(status: int, data: dict[str, Any], step: str, hidden: tuple[str, ...] = ()) -> OAuth2Error:
    code = data.get("error") if isinstance(data.get("error"), str) else data.get("errorKey")
    if status >= 500 or status == 429 or not isinstance(code, str) or not code:
        # 1.39's profile answers 500 without an Authorization header; any 5xx is the wiki's trouble.
        kind = "unavailable" if status >= 500 or status == 429 else "bad_response"
        return OAuth2Error(kind, step, f"the wiki answered HTTP {status}", http_status=status)
    message = clean(str(data.get("error_description") or data.get("message") or code), hidden)
    hint = clean(data["hint"], hidden) if isinstance(data.get("hint"), str) else ""
    return OAuth2Error("refused", step, message, wiki_code=clean(code, hidden, MAX_CODE), hint=hint, http_status=status)


def _is_token(value: object) -> TypeIs[str]:
    return isinstance(value, str) and _TOKEN_CHARS.fullmatch(value) is not None


def refusal_means_sign_in(error: OAuth2Error) -> bool:
    """Whether a refused refresh is the wiki's word that this refresh token is gone (expired, revoked, wrong client).

    ``invalid_request``/``invalid_grant`` (the refresh token is invalid, expired or revoked) and
    ``invalid_client`` (the client may not refresh it: a public client without its secret, or the
    client's secret changed) all end the same way: only a new sign-in gives a working token.
    """
    return error.kind == "refused" and error.wiki_code in ("invalid_request", "invalid_grant", "invalid_client")
