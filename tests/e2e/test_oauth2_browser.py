"""The OAuth 2.0 button as a person uses it: Chromium, the demo site on the live server, the local wiki."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from mwsso_devwiki.state import seed as wikiconfig

from mwsso.models import AccessToken
from tests.e2e.conftest import log_in_on_wiki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
User = get_user_model()
ALICE = 3


@pytest.fixture
def oauth2_site(wiki_settings, devwiki, live_server):  # type: ignore[no-untyped-def]
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = devwiki.index_url
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = wikiconfig.DEMO_OAUTH2_CLIENT_ID
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = wikiconfig.DEMO_OAUTH2_CLIENT_SECRET
    # The redirect URI must match exactly: the live server's port is only known now.
    devwiki.control(
        "oauth2_set_redirect_uri",
        client_id=wikiconfig.DEMO_OAUTH2_CLIENT_ID,
        redirect_uri=live_server.url + "/complete/mediawiki-oauth2/",
    )
    return live_server.url


def test_oauth2_button_allow_and_see_the_live_api_answer(page, screenshot, oauth2_site, devwiki):
    page.goto(oauth2_site + "/")
    assert "OAuth 2.0" in page.locator("#login-oauth2 .mwsso-login-button span").inner_text()
    page.click("#login-oauth2 .mwsso-login-button")
    page.wait_for_url(re.compile("^" + re.escape(devwiki.server_url) + "/"))
    log_in_on_wiki(page, ALICE)
    screenshot("oauth2-wiki-approve")
    page.click("#mw-mwoauth-accept")
    page.wait_for_url(oauth2_site + "/profile/")
    assert page.inner_text("#wiki-username") == "Alice"
    assert page.inner_text("#api-username") == "Alice"  # a bearer call with the stored token
    assert "refreshed automatically" in page.inner_text("#token-expires")
    screenshot("oauth2-profile")
    credentials = AccessToken.objects.get().get_credentials()
    html = page.content()
    for secret in (credentials.key, credentials.refresh_token, wikiconfig.DEMO_OAUTH2_CLIENT_SECRET):
        assert secret not in html
    assert User.objects.get().username == "Alice"
