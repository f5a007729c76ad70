"""An OAuth 2.0 client secret that cannot be right is refused before anyone sees the wiki's consent page.

``mwsso.E053`` in ``manage.py check``, and the sign-in start itself: the misconfiguration page (no retry),
one ERROR line with the fix, no redirect to the wiki, and never the secret in the page or the log.
"""

from __future__ import annotations

import logging

import pytest
from django.core import checks

from mwsso.checks.client_secret import check_oauth2_secret
from mwsso.checks.config import check_oauth2_client
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import CONFIDENTIAL, PUBLIC, o2_login
from tests.test_misconfigured_site import MISCONFIGURED

pytestmark = pytest.mark.django_db

BACKENDS = [
    "mwsso.backends.MediaWikiOAuth",
    "mwsso.backends.MediaWikiOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]


def e053(settings) -> list[checks.CheckMessage]:  # type: ignore[no-untyped-def]
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    return [m for m in check_oauth2_secret() if m.id == "mwsso.E053"]


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        ("", "is empty, but the local wiki's client"),
        ("   ", "is blank (white space only)"),
        (CONFIDENTIAL[1] + "\n", "starts or ends with white space"),
        (" " + CONFIDENTIAL[1], "starts or ends with white space"),
    ],
    ids=["empty", "blank", "line-end", "leading-space"],
)
def test_a_secret_that_cannot_be_right_is_refused_at_the_start(o2_settings, o2wiki, site_client, caplog, secret, words):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = secret
    (message,) = e053(o2_settings)
    assert words in message.msg and "SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET" in message.hint
    # Not also W050's "signs in as a public client": this client is confidential.
    assert "mwsso.W050" not in {m.id for m in check_oauth2_client()}
    o2_settings.AUTHENTICATION_BACKENDS = BACKENDS
    before = o2wiki.control("oauth2_counts")["counts"]
    response = site_client.post("/login/mediawiki-oauth2/")
    page = response.content.decode()
    assert response.status_code == 400 and "Location" not in response, page[:500]
    assert MISCONFIGURED in page and "try again" not in page.lower()
    lines = [r.getMessage() for r in caplog.records if r.name == "mwsso.login" and r.levelno == logging.ERROR]
    assert len(lines) == 1 and "unusable_client_secret" in lines[0] and words in lines[0], lines
    assert "Fix: Set SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET" in lines[0]
    if secret.strip():
        assert secret.strip() not in page + caplog.text  # never the secret itself
    assert o2wiki.control("oauth2_counts")["counts"] == before  # the wiki was never asked


def test_debug_shows_the_fix_on_the_page(o2_settings, site_client):
    o2_settings.DEBUG = True
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = ""
    page = site_client.post("/login/mediawiki-oauth2/").content.decode()
    assert "docs/devwiki.md lists it" in page


def test_what_may_be_right_is_left_to_the_wiki(o2_settings, o2_public, site_client):
    # The right secret; a public client's empty one (W050 warns); an empty one for a client mwsso does not know.
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = CONFIDENTIAL
    assert e053(o2_settings) == []
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = PUBLIC[0], ""
    assert e053(o2_settings) == []
    assert "mwsso.W050" in {m.id for m in check_oauth2_client()}
    assert o2_login(site_client, "Alice").status_code == 302  # the public client signs in
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = "0" * 32
    assert e053(o2_settings) == []
    # The local wiki's client ids on another wiki are another wiki's clients.
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = CONFIDENTIAL[0]
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = "https://meta.wikimedia.org/w/index.php"
    assert e053(o2_settings) == []


def test_only_with_the_oauth2_backend(settings):
    settings.AUTHENTICATION_BACKENDS = ["mwsso.backends.MediaWikiOAuth"]
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "   "
    assert check_oauth2_secret() == []
