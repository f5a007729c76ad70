"""The hostile battery on the allauth site: refused users, forged and replayed callbacks, wiki errors, garbage.

Each failure ends on a page (never a 500, never a sign-in), logs one line, and writes nothing; the same
cases as the social-auth backends face (tests/test_oauth2_login.py), through allauth's real views.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from mwsso_devwiki.testing import authorize_oauth2

from mwsso import signals
from mwsso.models import AccessToken, WikiIdentity
from tests.allauth.support import *  # noqa: F403
from tests.allauth.support import AA_CLIENT, CALLBACK, point_at, sign_in, signed_in_as, start
from tests.conftest import callback_path
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import BAD_TOKEN_AND_PROFILE_ANSWERS, PROFILE, TOKEN, FaultyProxy

pytestmark = pytest.mark.django_db
User = get_user_model()


def assert_nothing_written() -> None:
    assert not User.objects.exists() and not SocialAccount.objects.exists()
    assert not AccessToken.objects.exists() and not WikiIdentity.objects.exists()


def assert_error_page(response, status: int, caplog, reason: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content[:800]
    page = response.content.decode()
    assert "Sign-in failed" in page
    lines = [r.getMessage() for r in caplog.records if r.name == "mwsso.login"]
    assert any("allauth sign-in" in line and reason in line for line in lines), lines
    assert AA_CLIENT[1] not in page
    return page


# -- refused by the site's access policy ----------------------------------------------------
def test_a_blocked_user_is_refused_with_a_page_that_says_so(aa_settings, o2wiki, browser, caplog):
    refused = []
    signals.login_refused.connect(lambda **kw: refused.append(kw["identity"].username), weak=False, dispatch_uid="t-aa")
    try:
        response = sign_in(browser, user="Mallory")
    finally:
        signals.login_refused.disconnect(dispatch_uid="t-aa")
    page = assert_error_page(response, 403, caplog, "login_refused")
    assert f"Your account is blocked on {urlsplit(o2wiki.server_url).netloc}." in page
    assert "Sign in with another account" in page
    assert refused == ["Mallory"] and signed_in_as(browser) == "Signed in as nobody."
    assert_nothing_written()


def test_blocked_users_may_be_allowed(aa_settings, o2wiki, browser):
    aa_settings.MWSSO_BLOCKED_USERS = "allow"
    assert sign_in(browser, user="Mallory").status_code == 302
    assert signed_in_as(browser) == "Signed in as Mallory."


def test_the_other_rules_and_the_sites_own_check_refuse_too(aa_settings, o2wiki, browser, caplog):
    aa_settings.MWSSO_MIN_EDITCOUNT = 100
    page = assert_error_page(sign_in(browser, user="Bob"), 403, caplog, "login_refused")
    assert "You need at least 100 edits" in page
    assert_nothing_written()


def test_a_user_blocked_since_their_last_sign_in_is_signed_out(aa_settings, o2wiki, browser, caplog):
    sign_in(browser)
    o2wiki.control("block", user="Alice")
    assert_error_page(sign_in(browser), 403, caplog, "login_refused")
    assert signed_in_as(browser) == "Signed in as nobody."
    assert AccessToken.objects.count() == 1  # what the wiki said of the token is unchanged: only the sign-in is refused


# -- callbacks that are not this browser's ---------------------------------------------------
def test_a_callback_in_another_browser_is_refused(aa_settings, o2wiki, browser, client_factory, caplog):
    answer = authorize_oauth2(None, start(browser), user="Alice")
    before = o2wiki.control("oauth2_counts")["counts"]
    response = client_factory().get(callback_path(answer.headers["Location"]))
    assert_error_page(response, 400, caplog, "state_mismatch")
    assert o2wiki.control("oauth2_counts")["counts"] == before  # the code was never sent to the wiki
    assert_nothing_written()


def test_a_replayed_callback_is_refused(aa_settings, o2wiki, browser, caplog):
    answer = authorize_oauth2(None, start(browser), user="Alice")
    path = callback_path(answer.headers["Location"])
    assert browser.get(path).status_code == 302
    browser.logout()
    assert_error_page(browser.get(path), 400, caplog, "state_mismatch")
    assert User.objects.count() == 1 and signed_in_as(browser) == "Signed in as nobody."


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ({"state": "forged-state", "code": "x"}, 400, "state_mismatch"),
        ({"code": "x"}, 400, "no_pending_login"),
        ({}, 400, "no_pending_login"),
        (
            {"error": "server_error", "error_description": "Sign in again at https://evil.example"},
            400,
            "no_pending_login",
        ),
        ({"state": "x" * 5000, "code": "x"}, 400, "state_mismatch"),
    ],
)
def test_forged_or_incomplete_callbacks(aa_settings, browser, caplog, query, status, reason):
    response = browser.get("/accounts/mediawiki/login/callback/?" + urlencode(query))
    assert_error_page(response, status, caplog, reason)
    assert_nothing_written()


def test_a_callback_without_code_or_with_the_wikis_error(aa_settings, o2wiki, browser, caplog):
    state = parse_qs(urlsplit(start(browser)).query)["state"][0]
    assert_error_page(browser.get(f"/accounts/mediawiki/login/callback/?state={state}"), 400, caplog, "missing_code")
    state = parse_qs(urlsplit(start(browser)).query)["state"][0]
    error = urlencode({"state": state, "error": "server_error", "error_description": "<b>Database</b> is read-only"})
    page = assert_error_page(browser.get(f"/accounts/mediawiki/login/callback/?{error}"), 502, caplog, "server_error")
    # Text that arrives in a callback URL is never shown: anyone can write such a link.
    assert "Database" not in page and "read-only" not in page
    assert_nothing_written()


def test_a_planted_error_callback_shows_none_of_its_text(aa_settings, o2wiki, browser, caplog):
    start(browser)  # a sign-in pending in this browser: the callback's error is believed, its words are not
    planted = urlencode(
        {"error": "invalid_request", "error_description": "Session expired: sign in at https://evil.example"}
    )
    page = assert_error_page(
        browser.get(f"/accounts/mediawiki/login/callback/?{planted}"), 502, caplog, "invalid_request"
    )
    assert "evil.example" not in page and "Session expired" not in page
    assert_nothing_written()


def test_cancel_on_the_wiki_goes_to_allauths_cancelled_page(aa_settings, o2wiki, browser):
    response = sign_in(browser, action="cancel")
    assert response.status_code == 302 and response["Location"] == "/accounts/3rdparty/login/cancelled/"
    assert_nothing_written()


def test_the_callback_takes_only_get(aa_settings, browser):
    assert browser.post("/accounts/mediawiki/login/callback/", {"state": "x", "code": "y"}).status_code == 405


# -- the wiki's errors and garbage ----------------------------------------------------------
def test_a_wrong_client_secret(settings, o2wiki, browser, caplog):
    point_at(settings, o2wiki, (AA_CLIENT[0], "not-the-secret"))
    page = assert_error_page(sign_in(browser), 502, caplog, "invalid_client")
    assert "The wiki said:" in page and "not-the-secret" not in page
    assert_nothing_written()


def test_no_client_configured_is_a_page(settings, o2wiki, browser, caplog):
    point_at(settings, o2wiki)
    settings.SOCIALACCOUNT_PROVIDERS = {"mediawiki": {"REST_API": o2wiki.rest_url}}
    response = browser.get("/accounts/mediawiki/login/callback/?state=x&code=y")
    assert_error_page(response, 400, caplog, "no_client")


@pytest.mark.parametrize(
    ("route", "answer", "status", "reason"),
    [
        *BAD_TOKEN_AND_PROFILE_ANSWERS,
        (PROFILE, (200, "application/json", '["not", "an", "object"]'), 502, "profile_bad_response"),
    ],
)
def test_bad_token_and_profile_answers(settings, o2wiki, browser, caplog, route, answer, status, reason):
    with FaultyProxy(o2wiki.server_url) as proxy:
        point_at(settings, o2wiki, REST_API=proxy.url + "/w/rest.php")
        proxy.answers[route] = (answer[0], answer[1], answer[2].encode())
        response = sign_in(browser)
    assert_error_page(response, status, caplog, reason)
    assert signed_in_as(browser) == "Signed in as nobody."
    assert_nothing_written()


@pytest.mark.parametrize("route", [PROFILE, TOKEN])
def test_timeouts(settings, o2wiki, browser, caplog, route):
    settings.MWSSO_HTTP_TIMEOUT = 0.5
    with FaultyProxy(o2wiki.server_url) as proxy:
        point_at(settings, o2wiki, REST_API=proxy.url + "/w/rest.php")
        proxy.delays[route] = 1.5
        response = sign_in(browser)
    assert_error_page(response, 502, caplog, "unavailable")
    assert_nothing_written()


def test_the_wiki_down_at_the_callback(aa_settings, o2wiki, browser, caplog):
    answer = authorize_oauth2(None, start(browser), user="Alice")
    aa_settings.SOCIALACCOUNT_PROVIDERS["mediawiki"]["REST_API"] = "http://127.0.0.1:9/w/rest.php"
    response = browser.get(callback_path(answer.headers["Location"]))
    assert_error_page(response, 502, caplog, "token_unavailable")
    assert_nothing_written()


def test_an_unusable_rest_api_is_a_page_not_a_500(aa_settings, browser, caplog):
    aa_settings.SOCIALACCOUNT_PROVIDERS["mediawiki"]["REST_API"] = "ftp://wiki.example/rest.php"
    response = browser.post("/accounts/mediawiki/login/")
    assert_error_page(response, 400, caplog, "bad_wiki_url")


def test_a_stolen_code_is_useless_without_this_browsers_verifier(aa_settings, o2wiki, browser):
    import requests

    answer = authorize_oauth2(None, start(browser), user="Alice")
    location = urlsplit(answer.headers["Location"])
    code = parse_qs(location.query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": AA_CLIENT[0],
        "client_secret": AA_CLIENT[1],
        "redirect_uri": CALLBACK,
    }
    thief = requests.post(o2wiki.rest_url + TOKEN, data=form, timeout=5)
    assert thief.status_code == 400 and "code_verifier" in thief.text
    # The browser's own callback still works:
    assert browser.get(f"{location.path}?{location.query}").status_code == 302
