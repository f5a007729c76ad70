"""A sign-in URL opened as a link (``GET /login/mediawiki/``, as old stock sites link it) is a page with the button."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from mwsso_devwiki.testing import authorize

from tests.conftest import SITE_HOST, callback_path
from tests.test_quickstart import form_to

pytestmark = pytest.mark.django_db


class _Page:
    """A test client's response as tests.test_quickstart.form_to reads a page (its text and URL)."""

    def __init__(self, response) -> None:  # type: ignore[no-untyped-def]
        self.text, self.url = response.content.decode(), f"http://{SITE_HOST}{response.request['PATH_INFO']}"


def test_get_on_the_sign_in_url_explains_and_offers_the_button(wiki_settings, site_client, devwiki):
    page = site_client.get("/login/mediawiki/?next=/profile/")
    assert page.status_code == 200
    assert page.templates[0].name == "mwsso/sign_in_page.html"
    text = page.content.decode()
    assert "A link cannot start a sign-in: only a button on this site can" in text
    assert "Sign in with Wikipedia" in text and "Back to the home page" in text
    assert "no-cache" in page["Cache-Control"]
    # Nothing was asked of the wiki, and no sign-in is pending in this browser.
    assert devwiki.control("stats")["counters"].get("initiate", 0) == 0
    assert not [key for key in site_client.session.keys() if "unauthorized_token" in key]


def test_the_pages_button_signs_in_and_keeps_the_links_next(wiki_settings, site_client):
    page = site_client.get("/login/mediawiki/?next=/profile/")
    action, fields = form_to(_Page(page), "/login/mediawiki/")  # type: ignore[arg-type]
    assert fields["next"] == "/profile/" and fields["csrfmiddlewaretoken"]
    site_client.handler.enforce_csrf_checks = True
    to_wiki = site_client.post(action.removeprefix(f"http://{SITE_HOST}"), fields)
    assert to_wiki.status_code == 302
    allowed = authorize(None, to_wiki["Location"], user="Alice", action="accept")
    landed = site_client.get(callback_path(allowed.headers["Location"]))
    assert (landed.status_code, landed["Location"]) == (302, "/profile/")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_another_sites_next_is_dropped(wiki_settings, site_client, next_url):
    page = site_client.get("/login/mediawiki/", {"next": next_url})
    assert (
        page.status_code == 200
        and "evil.example" not in page.content.decode()
        and "javascript" not in page.content.decode()
    )


def test_a_signed_in_person_is_told_who_they_are(wiki_settings, site_client):
    site_client.force_login(get_user_model().objects.create_user("Alice"))
    assert "You are signed in as Alice." in site_client.get("/login/mediawiki/").content.decode()


def test_unknown_backends_are_404_and_other_methods_405(wiki_settings, site_client):
    assert site_client.get("/login/github/").status_code == 404
    assert site_client.head("/login/mediawiki/").status_code == 200
    assert site_client.put("/login/mediawiki/").status_code == 405


def test_the_oauth2_sign_in_url_offers_its_own_button(o2_settings_for_page, site_client):
    page = site_client.get("/login/mediawiki-oauth2/").content.decode()
    assert 'action="/login/mediawiki-oauth2/"' in page


@pytest.fixture
def o2_settings_for_page(wiki_settings):  # type: ignore[no-untyped-def]
    wiki_settings.AUTHENTICATION_BACKENDS = ["mwsso.backends.MediaWikiOAuth2", "mwsso.backends.MediaWikiOAuth"]
    return wiki_settings


def test_gets_are_not_counted_by_the_rate_limit(wiki_settings):
    wiki_settings.MWSSO_LOGIN_RATE_LIMITS = {"ip": "2/m", "session": None}
    browser = Client(HTTP_HOST=SITE_HOST)
    assert [browser.get("/login/mediawiki/").status_code for _ in range(5)] == [200] * 5
    assert browser.post("/login/mediawiki/").status_code == 302
