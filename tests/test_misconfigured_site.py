"""Sign-ins the site's own configuration breaks say so: no "Please try again", the fix in the log, and in DEBUG on the page.

Each case is played for real against the local wiki: the quick-start site opened at ``localhost`` (its callback
is then refused), a wrong consumer key or secret, a wrong or empty OAuth 2.0 client secret, a wiki that names
itself differently. Failures that are not the site's (the wiki down, a forged callback) keep their own advice.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import CONFIDENTIAL, o2_login

pytestmark = pytest.mark.django_db

MISCONFIGURED = "This site&#x27;s sign-in is misconfigured; the site&#x27;s operators have been told."
FOR_DEVELOPER = "For the site's developer (shown because DEBUG is on):"
CONFIDENTIAL_REDIRECT = "http://127.0.0.1:8000/complete/mediawiki-oauth2/"  # site_client's host


def operator_lines(caplog) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.getMessage() for r in caplog.records if r.name == "mwsso.login" and r.levelno == logging.ERROR]


def assert_misconfigured(response, caplog, fix: str, *, debug: bool) -> str:  # type: ignore[no-untyped-def]
    """The person is told the site is misconfigured (no retry); the operator gets one ERROR line with ``fix``."""
    page = response.content.decode()
    assert response.status_code in (400, 502), page[:500]
    assert MISCONFIGURED in page
    assert "try again" not in page.lower() and "mwsso-login" not in page  # no retry button: it cannot help
    (line,) = operator_lines(caplog)
    assert "this site is misconfigured" in line and fix in line, line
    assert (FOR_DEVELOPER in page) is debug
    assert (fix.replace("'", "&#x27;").replace('"', "&quot;") in page) is debug
    return line


@pytest.mark.parametrize("debug", [False, True])
def test_the_quick_start_site_opened_at_localhost_is_told_to_use_127_0_0_1(wiki_settings, caplog, debug):
    wiki_settings.DEBUG = debug
    browser = Client(HTTP_HOST="localhost:8000")
    response = browser.post("/login/mediawiki/")
    line = assert_misconfigured(
        response, caplog, "open this site at http://127.0.0.1:8000/, not at localhost:8000.", debug=debug
    )
    assert "http://localhost:8000/complete/mediawiki/" in line and "mwoauth-callback-not-oob-or-prefix" in line


def test_a_wrong_consumer_secret_names_the_setting(wiki_settings, site_client, caplog):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = "1" * 40
    response = site_client.post("/login/mediawiki/")
    assert_misconfigured(response, caplog, "Set SOCIAL_AUTH_MEDIAWIKI_SECRET to the consumer secret", debug=False)
    assert "1" * 40 not in response.content.decode() + caplog.text


def test_an_unknown_consumer_key_names_the_setting(wiki_settings, site_client, caplog):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_KEY = "0" * 32
    response = site_client.post("/login/mediawiki/")
    assert_misconfigured(response, caplog, "Set SOCIAL_AUTH_MEDIAWIKI_KEY to the consumer token", debug=False)


def test_a_wiki_that_names_itself_differently_needs_the_identify_issuer(login, site_client, devwiki, caplog):
    devwiki.control("set_jwt_fault", fault="wrong_iss")
    response = login(site_client, "Alice")
    assert_misconfigured(response, caplog, "MWSSO_IDENTIFY_ISSUER to the issuer the wiki sends", debug=False)
    assert "wrong_issuer" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_a_wrong_oauth2_client_secret_is_the_sites_fault(o2_settings, site_client, caplog, debug):
    o2_settings.DEBUG = debug
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "wrong-secret-0123456789"
    response = o2_login(site_client, "Alice")
    assert_misconfigured(
        response, caplog, "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY and SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET", debug=debug
    )
    assert "wrong-secret-0123456789" not in response.content.decode() + caplog.text


def test_an_empty_secret_for_a_confidential_oauth2_client_says_so(o2_settings, o2wiki, site_client, caplog):
    # A client mwsso cannot know is confidential (the local wiki's demo client is refused at the start:
    # tests/test_client_secret.py): the wiki refuses it only at the token step.
    made = o2wiki.control("oauth2_add_client", redirect_uri=CONFIDENTIAL_REDIRECT, name="Mine")
    assert made["confidential"] and made["client_id"] != CONFIDENTIAL[0]
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = made["client_id"]
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = ""
    response = o2_login(site_client, "Alice")
    line = assert_misconfigured(response, caplog, "Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET to the client", debug=False)
    assert "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET is empty" in line


# -- what is not the site's fault keeps its own advice ------------------------------------------
def test_a_wiki_that_is_down_is_still_worth_another_try(wiki_settings, site_client, caplog):
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_URL = "http://127.0.0.1:9/w/index.php"  # nothing listens
    page = site_client.post("/login/mediawiki/").content.decode()
    assert "Please try again in a minute." in page and MISCONFIGURED not in page and operator_lines(caplog) == []


def test_an_error_in_a_callback_url_is_never_taken_for_the_sites_fault(o2_settings, site_client, caplog):
    site_client.post("/login/mediawiki-oauth2/")  # a sign-in is pending in this browser
    forged = {"error": "invalid_client", "error_description": "Client authentication failed"}
    page = site_client.get("/complete/mediawiki-oauth2/?" + urlencode(forged)).content.decode()
    assert "Sign-in failed" in page and MISCONFIGURED not in page and operator_lines(caplog) == []
