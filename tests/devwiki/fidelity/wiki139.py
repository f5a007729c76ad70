"""The recorded MediaWiki 1.39 (at the server root) as the local wiki mirrors it, and the requests its cases made.

The 1.39 recordings kept answers by case name, not the requests; the requests are rebuilt here from
the names (``cases139``), with the same kinds of clients a site uses: requests-oauthlib for OAuth 1.0a,
plain form posts for OAuth 2.0, a browser session for the pages.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from mwsso_devwiki.testing import DevWiki
from requests_oauthlib import OAuth1

from .mirror import USERS

SERVER = "http://127.0.0.1:8080"
CALLBACK = "http://127.0.0.1:8000/complete/mediawiki/"
REDIRECT2 = "http://127.0.0.1:8000/complete/mediawiki-oauth2/"
CONSUMER = ("5e341c2d26271efadeac348a0f6bcebb", "39-consumer-secret")
CLIENT = ("f94ca85c92e4e14df51c6c0e6202b107", "39-client-secret")  # cases 7-12: redirect URI …/mediawiki/
CLIENT2 = ("08b1e3c7c9f0b7558a550ba11781c7c4", "39-client2-secret")  # the "more" cases: …/mediawiki-oauth2/
PUBLIC = ("3c0d3a5e0b3f4e8a9d7c6b5a4f3e2d1c", "39-public-secret")

CONFIG: dict[str, Any] = {
    "builtins": False,
    "mw_version": "1.39",
    "script_path": "",
    "users": USERS,
    "consumers": [
        {
            "key": CONSUMER[0], "secret": CONSUMER[1], "name": "Django Test Client OAuth1", "callback": CALLBACK,
            "callback_is_prefix": True, "grants": ["basic", "editpage"], "owner": "WikiSysop",
        },
    ],
    "oauth2_clients": [
        {"client_id": CLIENT[0], "secret": CLIENT[1], "name": "Django Test Client OAuth2", "redirect_uri": CALLBACK,
         "grants": ["basic", "editpage"]},
        {"client_id": CLIENT2[0], "secret": CLIENT2[1], "name": "mwsso-oauth2", "redirect_uri": REDIRECT2,
         "grants": ["basic", "editpage", "createeditmovepage"]},
        {"client_id": PUBLIC[0], "secret": PUBLIC[1], "name": "mwsso-oauth2-public", "redirect_uri": REDIRECT2,
         "grants": ["basic", "editpage", "createeditmovepage"], "confidential": False},
    ],
    "pages": [{"title": "Main Page", "text": "The mirror."}],
}  # fmt: skip


class Wiki139:
    """A client of the local wiki playing 1.39, with the recorded wiki's registrations."""

    def __init__(self, wiki: DevWiki) -> None:
        self.wiki = wiki
        self.index, self.api_url, self.rest = wiki.index_url, wiki.api_url, wiki.rest_url

    # OAuth 1.0a

    def special(self, subpage: str) -> str:
        return f"{self.index}?title=Special:OAuth/{subpage}"

    def initiate(self, callback: str = CALLBACK, fmt: str | None = "json", secret: str = CONSUMER[1],
                 key: str = CONSUMER[0], url: str | None = None) -> requests.Response:  # fmt: skip
        params = {"format": fmt} if fmt else {}
        auth = OAuth1(key, secret, callback_uri=callback)
        return requests.post(url or self.special("initiate"), params=params, auth=auth, timeout=5)

    def authorize_url(self, request_key: str, consumer_key: str = CONSUMER[0], subpage: str = "authorize") -> str:
        return f"{self.special(subpage)}&oauth_token={request_key}&oauth_consumer_key={consumer_key}"

    def browser(self, user: str = "Alice") -> requests.Session:
        session = requests.Session()
        self.wiki.login(session, user)
        return session

    def authorized(self, user: str = "Alice", callback: str = CALLBACK) -> tuple[str, str, str]:
        """initiate + Allow: (request key, request secret, verifier)."""
        answer = self.initiate(callback).json()
        location = self.wiki.approve(self.authorize_url(answer["key"]), user=user)
        return answer["key"], answer["secret"], dict(parse_qsl(urlsplit(location).query))["oauth_verifier"]

    def token(self, key: str, secret: str, verifier: str | None, fmt: str | None = "json") -> requests.Response:
        params = {"format": fmt} if fmt else {}
        auth = OAuth1(*CONSUMER, key, secret, verifier=verifier)
        return requests.post(self.special("token"), params=params, auth=auth, timeout=5)

    def handshake(self, user: str = "Alice") -> tuple[str, str]:
        key, secret, verifier = self.authorized(user)
        answer = self.token(key, secret, verifier).json()
        return answer["key"], answer["secret"]

    def identify(self, access: tuple[str, str], secret: str = CONSUMER[1], **kw: Any) -> requests.Response:
        return requests.post(self.special("identify"), auth=OAuth1(CONSUMER[0], secret, *access, **kw), timeout=5)

    def userinfo(self, auth: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        params = {"action": "query", "meta": "userinfo", "format": "json"}
        return requests.get(self.api_url, params=params, auth=auth, headers=headers, timeout=5)

    def signed(self, access: tuple[str, str], **kw: Any) -> OAuth1:
        return OAuth1(*CONSUMER, *access, **kw)

    # OAuth 2.0

    def o2_url(self, client_id: str = CLIENT[0], **params: str) -> str:
        return f"{self.rest}/oauth2/authorize?{urlencode({'response_type': 'code', 'client_id': client_id, **params})}"

    def code(self, client_id: str = CLIENT[0], user: str = "Alice", **params: str) -> str:
        params = {"redirect_uri": CALLBACK, "state": "st", **params}
        location = self.wiki.approve(self.o2_url(client_id, **params), user=user)
        return dict(parse_qsl(urlsplit(location).query))["code"]

    def token_request(self, data: dict[str, str | None], **kw: Any) -> requests.Response:
        sent = {k: v for k, v in data.items() if v is not None}
        return requests.post(f"{self.rest}/oauth2/access_token", data=sent, timeout=5, **kw)

    def redeem(self, code: str, **overrides: str | None) -> requests.Response:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": CLIENT[0], "client_secret": CLIENT[1],
        }  # fmt: skip
        return self.token_request({**data, **overrides})

    def tokens(self, user: str = "Alice") -> dict[str, str]:
        return self.redeem(self.code(user=user)).json()

    def refresh(self, refresh_token: str) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token_request({**data, "client_id": CLIENT[0], "client_secret": CLIENT[1]})

    def profile(self, token: str | None) -> requests.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return requests.get(f"{self.rest}/oauth2/resource/profile", headers=headers, timeout=5)

    @staticmethod
    def basic(client: tuple[str, str]) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()}
