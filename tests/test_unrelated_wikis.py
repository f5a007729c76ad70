"""Several unrelated wikis, each with its own consumer: what works and what does not (docs/wikis.md says the same).

Two local wikis play two unrelated wikis: wiki A (the 1.43 one) with the OAuth 1.0a test consumer, wiki B
(the 1.39 one) with an OAuth 2.0 client and an OAuth 1.0a consumer registered on it for these tests. Their
built-in users share names and central ids, as people on unrelated wikis can.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from mwsso_devwiki.testing import DevWiki, authorize, authorize_oauth2
from social_core.backends.utils import load_backends

from mwsso import api, http
from mwsso.backends import MediaWikiOAuth, MediaWikiOAuth2
from tests.conftest import SITE_HOST, callback_path, use_test_consumer
from tests.oauth2_support import *  # noqa: F403  (the 1.39 wiki, _devwiki_139, runs for the session)

pytestmark = pytest.mark.django_db
User = get_user_model()
OAUTH1, OAUTH2 = "mwsso.backends.MediaWikiOAuth", "mwsso.backends.MediaWikiOAuth2"
THIRD = "tests.test_unrelated_wikis.ThirdWiki"


class ThirdWiki(MediaWikiOAuth):
    """A third wiki's consumer: a backend of its own, reading SOCIAL_AUTH_THIRDWIKI_*."""

    name = "thirdwiki"


class ThirdWikiOAuth2(MediaWikiOAuth2):
    """The same for OAuth 2.0, which is not supported: its wiki stays SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL's."""

    name = "thirdwiki-oauth2"


@pytest.fixture
def two_wikis(settings, devwiki: DevWiki, _devwiki_139: DevWiki) -> Iterator[tuple[Any, DevWiki, DevWiki]]:
    """OAuth 1.0a signs in on wiki A, OAuth 2.0 on wiki B, each with its own consumer."""
    wiki_a, wiki_b = devwiki, _devwiki_139
    wiki_b.reset()
    client = wiki_b.control(
        "oauth2_add_client", redirect_uri=f"http://{SITE_HOST}/complete/mediawiki-oauth2/", grants=["basic", "editpage"]
    )
    use_test_consumer(settings, wiki_a.index_url)
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = wiki_b.index_url
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = (
        client["client_id"],
        client["secret"],
    )
    settings.AUTHENTICATION_BACKENDS = [OAUTH1, OAUTH2]
    load_backends(settings.AUTHENTICATION_BACKENDS, force_load=True)
    http.reset_session()
    yield settings, wiki_a, wiki_b
    load_backends([OAUTH1, OAUTH2], force_load=True)
    wiki_b.reset()
    http.reset_session()


def sign_in(backend: str, name: str) -> Any:
    browser = Client(HTTP_HOST=SITE_HOST)
    start = browser.post(f"/login/{backend}/")
    assert start.status_code == 302, start.content[:300]
    allow = authorize_oauth2 if backend == "mediawiki-oauth2" else authorize
    allowed = allow(None, start["Location"], user=name)
    assert allowed.status_code == 302, allowed.text[:300]
    done = browser.get(callback_path(allowed.headers["Location"]))
    assert done.status_code == 302, done.content[:500]
    return User.objects.get(pk=browser.session["_auth_user_id"])


def me(user: Any, wiki: str | None = None) -> tuple[str, int]:
    info = api.for_user(user, wiki).get(action="query", meta="userinfo")["query"]["userinfo"]
    return info["name"], info["id"]


def test_one_wiki_per_protocol_signs_in_and_calls_each_wiki(two_wikis):
    _settings, wiki_a, wiki_b = two_wikis
    on_a = sign_in("mediawiki", "Alice")
    on_b = sign_in("mediawiki-oauth2", "Alice")
    # Two wiki accounts (each wiki with its own central ids), so two people: never linked by name or id.
    assert on_a.pk != on_b.pk
    assert (on_a.username, on_b.username) == ("Alice", "Alice~3")
    assert me(on_a) == ("Alice", 3) and me(on_b) == ("Alice", 3)
    assert api.for_user(on_a).api_url == wiki_a.api_url and api.for_user(on_b).api_url == wiki_b.api_url
    # Each token works only on its own wiki.
    with pytest.raises(api.NotAllowedWiki):
        api.for_user(on_a, wiki_b.index_url)
    # OAuth 2.0 tokens are refreshed with wiki B's own client.
    access = on_b.wiki_tokens.get().get_credentials().key
    wiki_b.control("oauth2_expire", access_token=access)
    assert me(on_b) == ("Alice", 3)
    assert on_b.wiki_tokens.get().get_credentials().key != access


def test_a_person_signed_in_on_both_wikis_is_two_users_whichever_browser(two_wikis):
    browser = Client(HTTP_HOST=SITE_HOST)
    start = browser.post("/login/mediawiki/")
    allowed = authorize(None, start["Location"], user="Bob")
    browser.get(callback_path(allowed.headers["Location"]))
    first = browser.session["_auth_user_id"]
    start = browser.post("/login/mediawiki-oauth2/")
    allowed = authorize_oauth2(None, start["Location"], user="Bob")
    browser.get(callback_path(allowed.headers["Location"]))
    # The browser is now signed in as wiki B's Bob, another Django user: the switch, not a merge.
    assert browser.session["_auth_user_id"] != first
    assert User.objects.count() == 2


def test_a_third_wikis_backend_signs_in_but_its_tokens_cannot_call_the_api(two_wikis):
    settings, _wiki_a, wiki_b = two_wikis
    consumer = wiki_b.control(
        "add_consumer", callback="http://127.0.0.1:1/complete/", callback_is_prefix=True, grants=["basic", "editpage"]
    )
    settings.AUTHENTICATION_BACKENDS = [OAUTH1, OAUTH2, THIRD]
    settings.SOCIAL_AUTH_THIRDWIKI_URL = wiki_b.index_url
    settings.SOCIAL_AUTH_THIRDWIKI_KEY, settings.SOCIAL_AUTH_THIRDWIKI_SECRET = consumer["key"], consumer["secret"]
    settings.SOCIAL_AUTH_THIRDWIKI_CALLBACK = "/complete/thirdwiki/"
    load_backends(settings.AUTHENTICATION_BACKENDS, force_load=True)

    user = sign_in("thirdwiki", "Bob")
    assert user.social_auth.get().provider == "thirdwiki" and user.wiki_tokens.get().consumer_key == consumer["key"]
    # The API client signs OAuth 1.0a calls with SOCIAL_AUTH_MEDIAWIKI_KEY's consumer only.
    with pytest.raises(api.TokenUnusable, match="was issued to consumer"):
        api.for_user(user)


def test_an_oauth2_subclass_does_not_get_a_wiki_of_its_own(two_wikis):
    settings, wiki_a, wiki_b = two_wikis
    settings.AUTHENTICATION_BACKENDS = [OAUTH1, OAUTH2, "tests.test_unrelated_wikis.ThirdWikiOAuth2"]
    settings.SOCIAL_AUTH_THIRDWIKI_OAUTH2_URL = wiki_a.index_url
    settings.SOCIAL_AUTH_THIRDWIKI_OAUTH2_KEY = settings.SOCIAL_AUTH_THIRDWIKI_OAUTH2_SECRET = "a-client-of-wiki-a"
    load_backends(settings.AUTHENTICATION_BACKENDS, force_load=True)
    start = Client(HTTP_HOST=SITE_HOST).post("/login/thirdwiki-oauth2/")
    assert start.status_code == 302 and start["Location"].startswith(wiki_b.server_url + "/")
