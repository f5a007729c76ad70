"""An independent OAuth 2.0 client for the devwiki's tests: requests and PyJWT only, never mwsso's code."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from mwsso_devwiki.state import seed
from mwsso_devwiki.testing import DevWiki, authorize_oauth2

CONFIDENTIAL = (seed.TEST_OAUTH2_CLIENT_ID, seed.TEST_OAUTH2_CLIENT_SECRET)
PUBLIC = (seed.PUBLIC_OAUTH2_CLIENT_ID, seed.PUBLIC_OAUTH2_CLIENT_SECRET)
REDIRECT = seed.TEST_OAUTH2_REDIRECT_URI
FORM = "application/x-www-form-urlencoded"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def redirect_of(wiki: DevWiki, client_id: str) -> str:
    """The client's registered redirect URI right now (tests change it through the control endpoint)."""
    client = wiki.store.oauth2.client(client_id)
    return client.redirect_uri if client else REDIRECT


def authorize_url(wiki: DevWiki, client_id: str, **params: str) -> str:
    query = {"response_type": "code", "client_id": client_id, **params}
    return f"{wiki.rest_url}/oauth2/authorize?{urlencode(query)}"


def query_of(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def get_code(
    wiki: DevWiki, client_id: str, user: str = "Alice", challenge: str | None = None, **params: str
) -> dict[str, str]:
    """Allow as ``user``; the redirect's query (code, state)."""
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.setdefault("redirect_uri", redirect_of(wiki, client_id))
    answer = authorize_oauth2(None, authorize_url(wiki, client_id, **params), user=user)
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    assert answer.headers["Location"].startswith(params["redirect_uri"] + "?")
    return query_of(answer.headers["Location"])


def token_request(wiki: DevWiki, data: dict[str, str], **kw: Any) -> requests.Response:
    kw.setdefault("timeout", 5)
    return requests.post(f"{wiki.rest_url}/oauth2/access_token", data=data, **kw)


def redeem(wiki: DevWiki, code: str, client: tuple[str, str] = CONFIDENTIAL, **extra: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_of(wiki, client[0])}
    data["client_id"] = client[0]
    if client == CONFIDENTIAL:
        data["client_secret"] = client[1]
    data.update(extra)
    return token_request(wiki, {k: v for k, v in data.items() if v is not None})


def refresh(wiki: DevWiki, refresh_token: str, client: tuple[str, str] = CONFIDENTIAL, secret: bool = True):  # type: ignore[no-untyped-def]
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client[0]}
    if secret:
        data["client_secret"] = client[1]
    return token_request(wiki, data)


def signed_in(wiki: DevWiki, user: str = "Alice", client: tuple[str, str] = CONFIDENTIAL) -> dict[str, Any]:
    """The whole flow; the token response."""
    if client == PUBLIC:
        verifier, challenge = pkce_pair()
        code = get_code(wiki, client[0], user, challenge)["code"]
        answer = redeem(wiki, code, client, code_verifier=verifier)
    else:
        answer = redeem(wiki, get_code(wiki, client[0], user)["code"], client)
    assert answer.status_code == 200, answer.text
    return answer.json()


def profile(wiki: DevWiki, access_token: str | None, **kw: Any) -> requests.Response:
    headers = {} if access_token is None else {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{wiki.rest_url}/oauth2/resource/profile", headers=headers, timeout=5, **kw)


def api_userinfo(wiki: DevWiki, access_token: str, **params: str) -> requests.Response:
    query = {"action": "query", "meta": "userinfo", "format": "json", "formatversion": "2", **params}
    return requests.get(wiki.api_url, params=query, headers={"Authorization": f"Bearer {access_token}"}, timeout=5)
