"""A wiki account is (the wiki, its central id), the wiki being its server *and* script path, for both protocols.

The attack: OAuth 1.0a signs in on wiki A, OAuth 2.0 on wiki B (docs/oauth2.md allows another wiki). Before,
wiki B's user with central id 3 became the Django user of wiki A's user 3 when the two wikis differed only
in their script path (a path-based farm) or when MWSSO_IDENTIFY_ISSUER was set. Two local wikis over real
HTTP play A and B: behind one host under /a/w and /b/w (a path-routing proxy), and on two ports with an
issuer override. Wiki B's user 3 is EvilEve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import checks
from mwsso_devwiki.testing import DevWiki, running_devwiki
from social_django.models import UserSocialAuth

from mwsso import api, http
from mwsso.checks.config import check_wiki_keys
from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol.identity import wiki_key
from mwsso.tokens import verify_token
from tests.conftest import use_test_consumer, wiki_login
from tests.oauth2_support import CONFIDENTIAL, FaultyProxy, o2_login

pytestmark = pytest.mark.django_db
User = get_user_model()

# Wiki B's user with wiki A's Alice's central id.
EVE = {"sub": 3, "name": "EvilEve", "editcount": 5, "registered": "20240101000000", "email": "eve@example.org"}


@pytest.fixture(scope="module")
def farm() -> Iterator[tuple[DevWiki, DevWiki, FaultyProxy]]:
    """Two wikis behind one host: http://127.0.0.1:<port>/a/w (A) and /b/w (B), each its own local wiki."""
    with FaultyProxy() as proxy:
        config = {"server": proxy.url}
        with (
            running_devwiki(config, script_path="/a/w") as a,
            running_devwiki({**config, "users": [EVE]}, script_path="/b/w") as b,
        ):
            proxy.target = a.server_url
            proxy.routes = {"/b/": b.server_url}
            yield a, b, proxy


@pytest.fixture(scope="module")
def apart() -> Iterator[tuple[DevWiki, DevWiki]]:
    """Two wikis on two ports of one host, both under /w."""
    with running_devwiki() as a, running_devwiki({"users": [EVE]}) as b:
        yield a, b


def both_protocols(settings: Any, oauth1_wiki: str, oauth2_wiki: str) -> None:
    """OAuth 1.0a (the test consumer) on one wiki, OAuth 2.0 (the confidential demo client) on another."""
    use_test_consumer(settings, oauth1_wiki)
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = oauth2_wiki
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = CONFIDENTIAL
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = ""
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SCOPE = None
    settings.MWSSO_GROUP_MAP = {"user": "Wiki users"}
    http.reset_session()


def assert_two_accounts_kept_apart(a: DevWiki, b: DevWiki) -> None:
    alice = UserSocialAuth.objects.get(provider="mediawiki", uid="3").user
    eve = UserSocialAuth.objects.get(provider="mediawiki-oauth2", uid="3").user
    assert alice.pk != eve.pk
    assert (alice.username, eve.username) == ("Alice", "EvilEve")
    assert list(alice.social_auth.values_list("provider", flat=True)) == ["mediawiki"]
    assert {(i.wiki, i.username) for i in WikiIdentity.objects.filter(user=alice)} == {(wiki_key(a.index_url), "Alice")}
    assert {(i.wiki, i.username) for i in WikiIdentity.objects.filter(user=eve)} == {(wiki_key(b.index_url), "EvilEve")}
    token = AccessToken.objects.get(user=alice)
    assert (token.wiki, token.wiki_url, token.oauth_version) == (wiki_key(a.index_url), a.index_url, 1)
    assert AccessToken.objects.get(user=eve).wiki_url == b.index_url
    # Nothing of Eve's reached Alice's user (groups are synced per user, from each one's own wiki).
    assert list(alice.groups.values_list("name", flat=True)) == ["Wiki users"]
    assert not alice.is_staff and User.objects.count() == 2


def test_two_wikis_of_one_server_under_different_script_paths_are_two_wikis(farm, settings, client_factory):
    a, b, proxy = farm
    a.reset(), b.reset()
    both_protocols(settings, a.index_url, b.index_url)
    # One scheme, host and port (and one identify iss); only the script path tells the wikis apart.
    assert (a.index_url, b.index_url) == (f"{proxy.url}/a/w/index.php", f"{proxy.url}/b/w/index.php")
    assert wiki_key(a.index_url) != wiki_key(b.index_url)
    assert wiki_login(client_factory(), a, "Alice").status_code == 302
    assert o2_login(client_factory(), "EvilEve").status_code == 302
    assert_two_accounts_kept_apart(a, b)
    # Each stored token still works on its own wiki, through the one host.
    assert verify_token(AccessToken.objects.get(user__username="Alice")).status == AccessToken.Status.VALID
    assert verify_token(AccessToken.objects.get(user__username="EvilEve")).status == AccessToken.Status.VALID


def test_the_api_client_keeps_one_wikis_token_to_that_wiki(farm, settings, client_factory):
    a, b, _proxy = farm
    a.reset(), b.reset()
    both_protocols(settings, a.index_url, b.index_url)
    assert wiki_login(client_factory(), a, "Alice").status_code == 302
    alice = User.objects.get()
    assert api.for_user(alice).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
    # Wiki B shares wiki A's server, not its accounts: A's token is not sent there (nor spoiled by B's refusal).
    with pytest.raises(api.NotAllowedWiki):
        api.for_user(alice, b.index_url)
    assert b.control("stats")["counters"].get("api", 0) == 0
    assert AccessToken.objects.get().status == AccessToken.Status.VALID


def test_an_issuer_override_applies_to_the_oauth1_identify_jwt_only(apart, settings, client_factory):
    a, b = apart
    a.reset(), b.reset()
    both_protocols(settings, a.index_url, b.index_url)
    settings.MWSSO_IDENTIFY_ISSUER = a.server_url  # the OAuth 1.0a wiki's canonical server, as that wiki says it
    assert wiki_login(client_factory(), a, "Alice").status_code == 302
    assert o2_login(client_factory(), "EvilEve").status_code == 302
    assert_two_accounts_kept_apart(a, b)
    # The stored OAuth 1.0a token is checked with the override, the OAuth 2.0 one without.
    assert verify_token(AccessToken.objects.get(user__username="Alice")).status == AccessToken.Status.VALID
    assert verify_token(AccessToken.objects.get(user__username="EvilEve")).status == AccessToken.Status.VALID
    # An override that is not the OAuth 1.0a wiki's iss is refused there, as before.
    settings.MWSSO_IDENTIFY_ISSUER = b.server_url
    response = wiki_login(client_factory(), a, "Alice")
    assert response.status_code == 400 and "identity_rejected" in response.content.decode()


def test_both_protocols_on_the_same_wiki_are_one_account(farm, settings, client_factory):
    a, _b, _proxy = farm
    a.reset()
    # Two spellings of wiki A's URL: the same wiki, so the same key and the same Django user.
    both_protocols(settings, a.index_url, a.index_url.removesuffix("index.php"))
    assert wiki_login(client_factory(), a, "Alice").status_code == 302
    assert o2_login(client_factory(), "Alice").status_code == 302
    alice = User.objects.get()
    assert sorted(alice.social_auth.values_list("provider", flat=True)) == ["mediawiki", "mediawiki-oauth2"]
    assert WikiIdentity.objects.get().wiki == wiki_key(a.index_url)
    assert not Group.objects.exclude(name="Wiki users").exists()


# -- the key -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://meta.wikimedia.org/w/index.php", "https://meta.wikimedia.org/w"),
        ("HTTPS://Meta.Wikimedia.org:443/w/api.php", "https://meta.wikimedia.org/w"),
        ("https://meta.wikimedia.org/w/rest.php/", "https://meta.wikimedia.org/w"),
        ("https://meta.wikimedia.org/w/", "https://meta.wikimedia.org/w"),
        ("https://meta.wikimedia.org/w/index.php?title=Special:OAuth", "https://meta.wikimedia.org/w"),
        ("http://wiki.example/index.php", "http://wiki.example"),
        ("http://wiki.example:8080/", "http://wiki.example:8080"),
        ("https://farm.example/a/w/index.php", "https://farm.example/a/w"),
        ("https://farm.example/b/w/index.php", "https://farm.example/b/w"),
        ("http://[::1]:8080/w/index.php", "http://[::1]:8080/w"),
    ],
)
def test_the_key_of_a_wiki_is_its_server_and_script_path(url, key):
    assert wiki_key(url) == key


@pytest.mark.parametrize("url", ["ftp://wiki.example/index.php", "wiki.example/w/index.php", "", "http://:80/"])
def test_what_is_not_a_wiki_url_has_no_key(url):
    with pytest.raises(ValueError):
        wiki_key(url)


# -- the system check ------------------------------------------------------------------------
def test_two_configured_wikis_that_would_share_a_key_are_a_configuration_error(settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = "https://farm.example/w/index.php?wiki=a"
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = "https://farm.example/w/index.php?wiki=b"
    assert [message.id for message in check_wiki_keys()] == ["mwsso.E052"]
    message = check_wiki_keys()[0]
    assert isinstance(message, checks.Error) and "'https://farm.example/w'" in message.msg
    assert "SOCIAL_AUTH_MEDIAWIKI_URL" in message.msg and "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL" in message.msg
    # Only one of the two backends: nothing to confuse.
    settings.AUTHENTICATION_BACKENDS = ["mwsso.backends.MediaWikiOAuth"]
    assert check_wiki_keys() == []


@pytest.mark.parametrize(
    ("oauth1", "oauth2"),
    [
        ("https://farm.example/a/w/index.php", "https://farm.example/b/w/index.php"),  # a farm: two keys
        ("https://meta.wikimedia.org/w/index.php", "https://Meta.Wikimedia.org/w/"),  # one wiki, two spellings
        ("https://meta.wikimedia.org/w/index.php", ""),  # OAuth 2.0 on the OAuth 1.0a wiki (the default)
        ("https://en.wikipedia.org/w/index.php", "https://meta.wikimedia.org/w/index.php"),
    ],
)
def test_wikis_that_mwsso_tells_apart_or_that_are_one_wiki_pass_the_check(settings, oauth1, oauth2):
    settings.SOCIAL_AUTH_MEDIAWIKI_URL = oauth1
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = oauth2
    assert check_wiki_keys() == []
