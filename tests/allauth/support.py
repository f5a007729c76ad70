"""The allauth site against the local wiki: its client registered for allauth's callback, and the sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from mwsso_devwiki.state import seed as wikiconfig
from mwsso_devwiki.testing import DevWiki, authorize_oauth2

from mwsso import http
from tests.conftest import SITE_HOST, callback_path

CALLBACK = f"http://{SITE_HOST}/accounts/mediawiki/login/callback/"
AA_CLIENT = (wikiconfig.TEST_OAUTH2_CLIENT_ID, wikiconfig.TEST_OAUTH2_CLIENT_SECRET)
AA_PUBLIC = (wikiconfig.PUBLIC_OAUTH2_CLIENT_ID, wikiconfig.PUBLIC_OAUTH2_CLIENT_SECRET)
LOGIN_PATH = "/accounts/mediawiki/login/"


def point_at(settings: Any, wiki: DevWiki, client: tuple[str, str] = AA_CLIENT, **extra: Any) -> None:
    """``SOCIALACCOUNT_PROVIDERS["mediawiki"]`` as allauth's provider has it, for ``wiki`` and ``client``."""
    for client_id in (AA_CLIENT[0], AA_PUBLIC[0]):
        wiki.control("oauth2_set_redirect_uri", client_id=client_id, redirect_uri=CALLBACK)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "mediawiki": {"REST_API": wiki.rest_url, "APPS": [{"client_id": client[0], "secret": client[1]}], **extra}
    }
    http.reset_session()


@pytest.fixture
def aa_settings(settings, o2wiki: DevWiki) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The allauth site pointed at the local wiki (1.43 and 1.39) with a confidential client."""
    point_at(settings, o2wiki)
    yield settings
    http.reset_session()


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_HOST=SITE_HOST)


def start(client: Client, **data: str) -> str:
    """POST allauth's login URL (as its "Sign in with MediaWiki" form does); the wiki's authorize URL."""
    response = client.post(LOGIN_PATH, data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def to_wiki_and_back(client: Client, authorize_url: str, user: str = "Alice", action: str = "accept") -> Any:
    """Allow (or Cancel) as ``user`` on the wiki's consent page, then the callback in ``client``."""
    answer = authorize_oauth2(None, authorize_url, user=user, action=action)
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    return client.get(callback_path(answer.headers["Location"]))


def sign_in(client: Client, user: str = "Alice", action: str = "accept", **data: str) -> Any:
    """The whole sign-in through allauth's real views and the wiki's consent page; the callback's response."""
    return to_wiki_and_back(client, start(client, **data), user, action)


def signed_in_as(client: Client) -> str:
    return client.get("/").content.decode()
