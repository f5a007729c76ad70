"""Sign in with Wikipedia as a person does it: Chromium clicks through the demo site and the local wiki.

The demo site runs on pytest-django's live server and the local wiki on its
own port, both on 127.0.0.1; everything between them goes through the browser
(redirects, cookies, forms) exactly as it would for a real user.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from social_django.models import UserSocialAuth

from mwsso.models import AccessToken
from tests.conftest import TEST_CONSUMER_SECRET
from tests.e2e.conftest import log_in_on_wiki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
User = get_user_model()

ALICE, MALLORY, ZOE = 3, 5, 11


def open_wiki_dialog(page, site_url: str, wiki_url: str, sub: int) -> None:  # type: ignore[no-untyped-def]
    """Home page → "Sign in with Wikipedia" → the wiki's login page, as user ``sub`` → its authorize dialog."""
    page.goto(site_url + "/")
    page.click("#login-oauth1 .mwsso-login-button")
    page.wait_for_url(re.compile("^" + re.escape(wiki_url) + "/"))
    log_in_on_wiki(page, sub)
    assert page.locator("#mw-mwoauth-accept").is_visible()


def test_sign_in_see_the_profile_and_sign_out(page, screenshot, live_server, wiki_settings, devwiki):
    assert live_server.url.startswith("http://127.0.0.1:")
    page.goto(live_server.url + "/")
    assert page.locator("#login-oauth1 .mwsso-login-button span").inner_text() == "Sign in with Wikipedia"
    screenshot("home")

    page.click("#login-oauth1 .mwsso-login-button")
    page.wait_for_url(re.compile("^" + re.escape(devwiki.server_url) + "/"))
    assert page.locator("#userloginForm").is_visible()  # not signed in on the wiki: its login page first
    page.check(f"#wpUser-{ALICE}")
    screenshot("wiki-login")
    page.click("#wpLoginAttempt")
    page.wait_for_selector("#mw-mwoauth-accept")
    screenshot("wiki-authorize")
    page.click("#mw-mwoauth-accept")

    page.wait_for_url(live_server.url + "/profile/")
    assert page.inner_text("#wiki-username") == "Alice"
    # The live API call the profile makes with Alice's stored token, answered by the wiki's api.php.
    assert page.inner_text("#api-username") == "Alice"
    assert page.inner_text("#api-editcount") == page.inner_text("#editcount") == "1234"
    screenshot("profile")
    html = page.content()
    [token] = AccessToken.objects.filter(user__username="Alice")
    credentials = token.get_credentials()
    for secret in (TEST_CONSUMER_SECRET, credentials.key, credentials.secret):
        assert secret not in html

    page.click("#logout")
    page.wait_for_url(live_server.url + "/")
    assert page.locator("#login-oauth1 .mwsso-login-button").is_visible()
    screenshot("signed-out")
    page.goto(live_server.url + "/profile/")
    assert page.url == live_server.url + "/?next=/profile/"  # LOGIN_URL: signed out for real


def test_cancel_on_the_wiki_then_sign_in_again(page, screenshot, live_server, wiki_settings, devwiki):
    open_wiki_dialog(page, live_server.url, devwiki.server_url, ALICE)
    page.click("#mw-mwoauth-cancel")
    # The wiki answers with its own page and does not send the browser back to the site.
    page.wait_for_load_state()
    assert page.url.startswith(devwiki.server_url + "/")
    assert "You have chosen not to allow" in page.inner_text("body")
    screenshot("wiki-cancelled")
    assert not User.objects.exists() and not AccessToken.objects.exists()

    # Changing one's mind later works: a brand-new sign-in goes through (signed in on the wiki already).
    open_wiki_dialog(page, live_server.url, devwiki.server_url, ALICE)
    page.click("#mw-mwoauth-accept")
    page.wait_for_url(live_server.url + "/profile/")
    assert page.inner_text("#wiki-username") == "Alice"
    screenshot("profile-after-cancel")
    assert User.objects.get().username == "Alice"


def test_blocked_user_is_refused_with_a_clear_page(page, screenshot, live_server, wiki_settings, devwiki):
    open_wiki_dialog(page, live_server.url, devwiki.server_url, MALLORY)
    with page.expect_response(re.compile(re.escape(live_server.url) + "/complete/mediawiki/")) as callback:
        page.click("#mw-mwoauth-accept")
    assert callback.value.status == 403
    text = page.inner_text("body")
    assert "Sign-in failed" in text and "blocked" in text.lower(), text
    assert page.locator(".mwsso-error-refusal").is_visible()
    screenshot("blocked-refused")
    assert not User.objects.exists() and not UserSocialAuth.objects.exists() and not AccessToken.objects.exists()
    page.goto(live_server.url + "/profile/")
    assert page.url == live_server.url + "/?next=/profile/"


def test_unicode_username_end_to_end(page, screenshot, live_server, wiki_settings, devwiki):
    open_wiki_dialog(page, live_server.url, devwiki.server_url, ZOE)
    page.click("#mw-mwoauth-accept")
    page.wait_for_url(live_server.url + "/profile/")
    assert page.inner_text("#wiki-username") == "Zoë Ünïcode-Test"
    assert page.inner_text(".username") == "Zoë Ünïcode-Test"
    screenshot("profile-unicode")
