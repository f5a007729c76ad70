"""An old ``<a href="/login/mediawiki/">`` sign-in link, followed in Chromium: a page with the button, not a bare 405."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import log_in_on_wiki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ALICE = 3


def test_an_old_sign_in_link_shows_the_button_and_it_signs_in(page, screenshot, live_server, wiki_settings, devwiki):
    page.goto(live_server.url + "/login/mediawiki/?next=/profile/")
    assert page.locator("h1").inner_text() == "Sign in"
    assert "HTTP ERROR" not in page.content()
    assert page.locator(".mwsso-notice .mwsso-login-button").is_visible()
    screenshot("sign-in-link")

    page.click(".mwsso-notice .mwsso-login-button")
    page.wait_for_url(re.compile("^" + re.escape(devwiki.server_url) + "/"))
    log_in_on_wiki(page, ALICE)
    page.click("#mw-mwoauth-accept")
    page.wait_for_url(live_server.url + "/profile/")  # the link's next, kept through the button
    assert page.inner_text("#wiki-username") == "Alice"
