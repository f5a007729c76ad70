"""Fixtures for the devwiki's own suite: a running devwiki, the recorded responses, independent clients.

The clients here are requests + requests_oauthlib and PyJWT only, never mwsso's
own client code, so these tests check the provider against the protocol.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from mwsso_devwiki.state import seed
from mwsso_devwiki.testing import DevWiki, authorize
from requests_oauthlib import OAuth1, OAuth1Session

from tests import recorded as recorded_data

from .fidelity.compare import page_title_and_text

TEST = (seed.TEST_CONSUMER_KEY, seed.TEST_CONSUMER_SECRET)
DEMO = (seed.DEMO_CONSUMER_KEY, seed.DEMO_CONSUMER_SECRET)
UNAPPROVED = (seed.UNAPPROVED_CONSUMER_KEY, seed.UNAPPROVED_CONSUMER_SECRET)
PRIVATE = (seed.PRIVATE_CONSUMER_KEY, seed.PRIVATE_CONSUMER_SECRET)
CALLBACK = "http://127.0.0.1:9000/complete/mediawiki/"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def wiki(devwiki: DevWiki) -> DevWiki:
    """A devwiki in its configured state (no tokens, no faults, seeded pages): the suite-wide one."""
    return devwiki


@pytest.fixture(scope="session")
def recorded() -> dict[str, dict[str, Any]]:
    return recorded_data.load("mediawiki-1.39-oauth-responses.json")


@pytest.fixture(scope="session")
def recorded_claims() -> dict[str, Any]:
    return recorded_data.load("mediawiki-1.39-claims.json")


def browser(wiki: DevWiki, user: str = "Alice") -> requests.Session:
    """A browser signed in on the wiki as ``user`` (through Special:UserLogin)."""
    session = requests.Session()
    wiki.login(session, user)
    return session


def special(wiki: DevWiki, subpage: str) -> str:
    return f"{wiki.index_url}?title=Special:OAuth/{subpage}"


def initiate(
    wiki: DevWiki, consumer: tuple[str, str] = TEST, callback: str = "oob", fmt: str | None = "json", **kw: Any
) -> requests.Response:
    params = {"format": fmt} if fmt else {}
    auth = OAuth1(*consumer, callback_uri=callback, **kw)
    return requests.post(special(wiki, "initiate"), params=params, auth=auth, timeout=5)


def token_step(
    wiki: DevWiki,
    request_key: str,
    request_secret: str,
    verifier: str,
    consumer: tuple[str, str] = TEST,
    fmt: str | None = "json",
    **kw: Any,
) -> requests.Response:
    params = {"format": fmt} if fmt else {}
    auth = OAuth1(*consumer, request_key, request_secret, verifier=verifier, **kw)
    return requests.post(special(wiki, "token"), params=params, auth=auth, timeout=5)


def authorize_url(wiki: DevWiki, request_key: str, consumer_key: str = TEST[0], subpage: str = "authorize") -> str:
    return f"{special(wiki, subpage)}&oauth_token={request_key}&oauth_consumer_key={consumer_key}"


def authorized_request_token(
    wiki: DevWiki, user: str = "Alice", consumer: tuple[str, str] = TEST, callback: str = CALLBACK
) -> tuple[str, str, str]:
    """initiate + Allow: (request key, request secret, verifier)."""
    answer = initiate(wiki, consumer, callback).json()
    allowed = authorize(None, authorize_url(wiki, answer["key"], consumer[0]), user=user)
    assert allowed.status_code == 302, allowed.text[:300]
    verifier = dict(parse_qsl(urlsplit(allowed.headers["Location"]).query))["oauth_verifier"]
    return answer["key"], answer["secret"], verifier


def handshake(wiki: DevWiki, user: str = "Alice", consumer: tuple[str, str] = TEST) -> tuple[str, str]:
    """The whole OAuth 1.0a dance with requests_oauthlib; returns (access key, access secret)."""
    oauth = OAuth1Session(*consumer, callback_uri=CALLBACK)
    request_token = oauth.fetch_request_token(special(wiki, "initiate"), timeout=5)
    allowed = authorize(None, authorize_url(wiki, request_token["oauth_token"], consumer[0]), user=user)
    assert allowed.status_code == 302, allowed.text[:300]
    oauth.parse_authorization_response(allowed.headers["Location"])
    access = oauth.fetch_access_token(special(wiki, "token"), timeout=5)
    return access["oauth_token"], access["oauth_token_secret"]


def signed(consumer: tuple[str, str], access: tuple[str, str], **kw: Any) -> OAuth1:
    return OAuth1(*consumer, *access, **kw)


def identify(wiki: DevWiki, consumer: tuple[str, str], access: tuple[str, str], **kw: Any) -> requests.Response:
    return requests.post(special(wiki, "identify"), auth=signed(consumer, access, **kw), timeout=5)


def api(
    wiki: DevWiki, params: dict[str, str], auth: OAuth1 | None = None, method: str = "GET", **kw: Any
) -> requests.Response:
    params = {"format": "json", **params}
    kw.setdefault("timeout", 5)
    if method == "POST":
        return requests.post(wiki.api_url, data=params, auth=auth, **kw)
    return requests.get(wiki.api_url, params=params, auth=auth, **kw)


def page_text(html: str) -> str:
    """``"<title> :: <content>"`` the way the recorded "[HTML page]" bodies were written down (fidelity/compare.py)."""
    title, words = page_title_and_text(html)
    return f"[HTML page] {title} :: {words}"
