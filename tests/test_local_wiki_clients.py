"""mwsso's names for the local wiki's OAuth 2.0 clients (mwsso.local_wiki) agree with the wiki's seed, and
``mwsso_check`` judges the demo clients' any-loopback-port convenience truly: a pass only where the local
wiki really takes the site's redirect URI, a fail where it would not.
"""

from __future__ import annotations

import pytest
from mwsso_devwiki.state import seed

from mwsso import local_wiki
from tests.test_mwsso_check import _no_demo_oauth2_client, check  # noqa: F401  (the autouse fixture)

SITE = "http://127.0.0.1:38555"  # not the demo client's registered port 8000


def test_the_names_agree_with_the_local_wikis_seed():
    specs = {spec["client_id"]: spec for spec in seed.BUILTIN_OAUTH2_CLIENTS}
    assert local_wiki.ANY_PORT_OAUTH2_CLIENTS == {cid for cid, spec in specs.items() if spec.get("any_loopback_port")}
    assert local_wiki.CONFIDENTIAL_OAUTH2_CLIENTS == {
        cid for cid, spec in specs.items() if spec.get("confidential", True)
    }
    assert (local_wiki.DEMO_OAUTH2_CLIENT_ID, local_wiki.TEST_OAUTH2_CLIENT_ID, local_wiki.PUBLIC_OAUTH2_CLIENT_ID) == (
        seed.DEMO_OAUTH2_CLIENT_ID,
        seed.TEST_OAUTH2_CLIENT_ID,
        seed.PUBLIC_OAUTH2_CLIENT_ID,
    )


@pytest.fixture
def demo_client(wiki_settings, devwiki):  # type: ignore[no-untyped-def]
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = devwiki.index_url
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = seed.DEMO_OAUTH2_CLIENT_ID
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = seed.DEMO_OAUTH2_CLIENT_SECRET
    return wiki_settings


def test_a_sent_redirect_uri_on_another_loopback_port_passes_saying_why(demo_client):
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/complete/mediawiki-oauth2/"
    redirect = check("--site-url", SITE)[1]["oauth2.redirect_uri"]
    assert redirect["status"] == "pass" and redirect["details"]["any_loopback_port"] is True, redirect
    assert f"{SITE}/complete/mediawiki-oauth2/" in redirect["summary"]
    assert "a real wiki needs the registered one exactly" in redirect["summary"]


def test_without_a_sent_redirect_uri_the_registered_port_is_used_and_that_fails(demo_client):
    # The wiki then sends the browser to the registered port 8000, not to this site: a true fail.
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = ""
    redirect = check("--site-url", SITE)[1]["oauth2.redirect_uri"]
    assert redirect["status"] == "fail" and "any_loopback_port" not in redirect["details"], redirect


def test_another_host_or_path_still_fails(demo_client):
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/elsewhere/"
    assert check("--site-url", SITE)[1]["oauth2.redirect_uri"]["status"] == "fail"
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "http://localhost:38555/complete/mediawiki-oauth2/"
    assert check("--site-url", SITE)[1]["oauth2.redirect_uri"]["status"] == "fail"


def test_a_client_without_the_convenience_keeps_the_exact_verdict(demo_client):
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = seed.TEST_OAUTH2_CLIENT_ID
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = seed.TEST_OAUTH2_CLIENT_SECRET
    demo_client.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/complete/mediawiki-oauth2/"
    redirect = check("--site-url", SITE)[1]["oauth2.redirect_uri"]
    assert redirect["status"] == "fail", redirect
