"""The sign-in URLs must be mwsso's views: a site that kept social-app-django's URLs is told the one line to change.

A site migrated from social-core's stock backend that keeps ``include("social_django.urls", namespace="social")``
signs people in, but any bad callback is a 500 there. Check ``mwsso.W043`` names the view and the fix, and the
test applies the fix exactly as the hint words it.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from django.core import checks
from django.test import Client

from mwsso.checks.urls import MWSSO_INCLUDE, STOCK_INCLUDE, check_sign_in_urls
from tests.conftest import SITE_HOST

ROOT = Path(__file__).resolve().parent.parent
BAD_CALLBACK = "/complete/mediawiki/?oauth_token=abc&oauth_verifier=xyz"
MWSSO_BACKENDS = ["mwsso.backends.MediaWikiOAuth", "django.contrib.auth.backends.ModelBackend"]


# The demo's templates (the error page extends its base.html) link its home page.
HOME = """
from django.http import HttpResponse
from django.urls import path
urlpatterns.append(path("", lambda request: HttpResponse("home"), name="home"))
"""


def urlconf(source: str) -> types.ModuleType:
    """A URLconf module made from ``source`` (what a site's urls.py says), with a home page."""
    module = types.ModuleType("site_urls")
    exec(compile(source + HOME, "site_urls.py", "exec"), module.__dict__)
    return module


def stock_urls_source() -> str:
    return (ROOT / "tests" / "stock_urls.py").read_text()


@pytest.fixture
def migrated_site(wiki_settings):  # type: ignore[no-untyped-def]
    """mwsso's backend and pipeline, but still social-app-django's URLs (what docs/migrating.md once allowed)."""
    wiki_settings.AUTHENTICATION_BACKENDS = MWSSO_BACKENDS
    wiki_settings.ROOT_URLCONF = urlconf(stock_urls_source())
    return wiki_settings


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.django_db
def test_a_site_that_kept_social_django_urls_is_told_exactly_what_to_change(migrated_site):
    assert STOCK_INCLUDE in stock_urls_source()
    found = check_sign_in_urls()
    assert ids(found) == ["mwsso.W043", "mwsso.W043", "mwsso.W043"]  # begin, complete, the callback path
    complete = found[1]
    assert complete == checks.Warning(
        "The URL social:complete for 'mediawiki' (/complete/mediawiki/) is served by social_django.views.complete, "
        "not by mwsso's complete view: a failed sign-in there (a stale or forged callback, a wiki error, a refusal) "
        "is a server error (500) instead of mwsso's error page, and sign-in starts are not rate-limited.",
        hint='In your urls.py, replace path("", include("social_django.urls", namespace="social")) (or the pattern '
        'that routes there) with path("", include("mwsso.urls")): the same URLs and URL names (social:begin, '
        "social:complete), plus social:logout. See docs/migrating.md.",
        id="mwsso.W043",
    )
    # manage.py check shows it (it is registered, not only callable).
    assert "mwsso.W043" in ids(checks.run_checks(tags=[checks.Tags.urls]))


@pytest.mark.django_db
def test_what_the_check_warns_of_a_bad_callback_is_a_500_on_social_django_and_a_page_after_the_fix(migrated_site):
    browser = Client(HTTP_HOST=SITE_HOST, raise_request_exception=False)
    assert browser.get(BAD_CALLBACK).status_code == 500

    # The hint, applied as written.
    migrated_site.ROOT_URLCONF = urlconf(stock_urls_source().replace(STOCK_INCLUDE, MWSSO_INCLUDE))
    assert check_sign_in_urls() == []
    page = browser.get(BAD_CALLBACK)
    assert page.status_code == 400
    assert page.templates[0].name == "mwsso/login_error.html"
    assert b"callback_rejected" in page.content


@pytest.mark.django_db
def test_a_site_without_sign_in_urls_is_told_to_include_mwsso_urls(wiki_settings):
    wiki_settings.AUTHENTICATION_BACKENDS = MWSSO_BACKENDS
    wiki_settings.ROOT_URLCONF = urlconf("urlpatterns = []")
    found = check_sign_in_urls()
    assert ids(found) == ["mwsso.W044"] * 3
    assert (
        found[0].msg
        == "The URL social:begin for 'mediawiki': no view of this site answers there, so nobody can sign in."
    )
    assert MWSSO_INCLUDE in found[0].hint


@pytest.mark.django_db
def test_mwsso_urls_under_a_prefix_need_the_callback_under_it_too(wiki_settings):
    wiki_settings.AUTHENTICATION_BACKENDS = MWSSO_BACKENDS
    wiki_settings.ROOT_URLCONF = urlconf(
        'from django.urls import include, path\nurlpatterns = [path("auth/", include("mwsso.urls"))]'
    )
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/"
    found = check_sign_in_urls()
    assert [(m.id, m.msg.split(":")[0]) for m in found] == [
        ("mwsso.W044", "SOCIAL_AUTH_MEDIAWIKI_CALLBACK's path /complete/mediawiki/")
    ]
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = f"http://{SITE_HOST}/auth/complete/mediawiki/"
    assert check_sign_in_urls() == []
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "oob"  # the registered callback: not the site's to check
    assert check_sign_in_urls() == []


@pytest.mark.django_db
def test_the_oauth2_backend_is_checked_too_and_the_stock_backend_is_not(wiki_settings):
    wiki_settings.ROOT_URLCONF = urlconf(stock_urls_source())
    wiki_settings.AUTHENTICATION_BACKENDS = ["mwsso.backends.MediaWikiOAuth2"]
    wiki_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/complete/mediawiki-oauth2/"
    found = check_sign_in_urls()
    assert ids(found) == ["mwsso.W043"] * 3
    assert "'mediawiki-oauth2'" in found[0].msg
    # A site still on social-core's stock backend is not mwsso's to judge.
    wiki_settings.AUTHENTICATION_BACKENDS = ["social_core.backends.mediawiki.MediaWiki"]
    assert check_sign_in_urls() == []


def test_the_demo_site_and_the_test_settings_route_mwsso_views():
    assert check_sign_in_urls() == []
