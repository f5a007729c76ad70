"""Sign in with OAuth 2.0 against the local wiki (1.43 and 1.39) over real HTTP: both client kinds, every failure."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.utils import timezone
from mwsso_devwiki.testing import authorize_oauth2
from social_django.models import UserSocialAuth

import mwsso
from mwsso import api
from mwsso.models import AccessToken, WikiIdentity
from tests.conftest import callback_path, wiki_login
from tests.dbdump import database_dump
from tests.oauth2_support import *  # noqa: F403
from tests.oauth2_support import (
    BAD_TOKEN_AND_PROFILE_ANSWERS,
    CONFIDENTIAL,
    PROFILE,
    TOKEN,
    FaultyProxy,
    o2_login,
    start_o2_login,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return bool(client.session.get("_auth_user_id"))


def assert_nothing_written() -> None:
    assert not User.objects.exists() and not AccessToken.objects.exists()
    assert not WikiIdentity.objects.exists() and not UserSocialAuth.objects.exists()


def assert_error_page(response, status: int, caplog, reason: str = "") -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content[:500]
    assert "Sign-in failed" in response.content.decode() or "sign-in" in response.content.decode().lower()
    lines = [r.getMessage() for r in caplog.records if r.name == "mwsso.login"]
    assert any("login complete failed" in line and reason in line for line in lines), lines


# -- the whole flow ---------------------------------------------------------------------
def test_confidential_client_full_flow(o2_settings, o2wiki, site_client, caplog):
    caplog.set_level(logging.DEBUG)
    response = o2_login(site_client, "Alice")
    assert response.status_code == 302 and response["Location"] == "/profile/"
    user = User.objects.get()
    assert user.username == "Alice" and signed_in(site_client)
    social = UserSocialAuth.objects.get()
    assert (social.provider, social.uid, social.id_key) == ("mediawiki-oauth2", "3", "userID")
    identity = mwsso.identity_for(user)
    assert identity.wiki == o2wiki.server_url + "/w" and identity.sub == "3"
    token = AccessToken.objects.get()
    assert (token.oauth_version, token.consumer_key, token.status) == (2, CONFIDENTIAL[0], AccessToken.Status.VALID)
    assert token.expires_at - timezone.now() > timedelta(minutes=55)
    credentials = token.get_credentials()
    assert credentials.key.count(".") == 2 and credentials.refresh_token and credentials.secret == ""
    # The stored pair is live: a bearer API call acts as Alice.
    info = api.for_user(user).get(action="query", meta="userinfo")
    assert info["query"]["userinfo"]["name"] == "Alice"
    page = site_client.get("/profile/").content.decode()
    assert "Alice" in page and "2.0" in page
    # Nothing secret in the database, the pages, the logs or the reprs.
    secrets = (credentials.key, credentials.refresh_token, CONFIDENTIAL[1])
    texts = [database_dump(), page, site_client.get("/").content.decode(), caplog.text, repr(token), repr(credentials)]
    assert not any(secret in text for secret in secrets for text in texts)
    assert set(social.extra_data) <= {"wiki", "username", "userID"}
    # The session no longer holds the handshake's state or PKCE verifier.
    assert not [key for key in site_client.session.keys() if "oauth2_state" in key]


def test_public_pkce_client_signs_in_without_a_secret(o2_public, o2wiki, site_client):
    start = start_o2_login(site_client)
    query = parse_qs(urlsplit(start).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    answer = authorize_oauth2(None, start, user="Alice")
    response = site_client.get(callback_path(answer.headers["Location"]))
    assert response.status_code == 302 and signed_in(site_client)
    token = AccessToken.objects.get()
    assert token.consumer_key == o2_public.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY and token.oauth_version == 2
    assert api.for_user(User.objects.get()).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"


def test_authorize_url_sends_redirect_uri_and_scope_only_when_configured(o2_settings, o2wiki, site_client):
    parts = urlsplit(start_o2_login(site_client))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == o2wiki.rest_url + "/oauth2/authorize"
    query = parse_qs(parts.query)
    assert set(query) == {"response_type", "client_id", "state", "code_challenge", "code_challenge_method"}
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = "/complete/mediawiki-oauth2/"
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SCOPE = ["basic", "editpage"]
    query = parse_qs(urlsplit(start_o2_login(site_client)).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/complete/mediawiki-oauth2/"]
    assert query["scope"] == ["basic editpage"]
    # And the flow works with them (the token request repeats the same redirect_uri).
    response = o2_login(site_client, "Alice")
    assert response.status_code == 302 and signed_in(site_client)
    assert AccessToken.objects.get().grants == ["basic", "editpage"]


def test_each_sign_in_gets_its_own_state_and_challenge(o2_settings, site_client):
    first, second = (parse_qs(urlsplit(start_o2_login(site_client)).query) for _ in range(2))
    assert first["state"] != second["state"] and first["code_challenge"] != second["code_challenge"]


# -- one person, either protocol ----------------------------------------------------------
def test_oauth1_then_oauth2_is_the_same_user(o2_settings, o2wiki, site_client):
    wiki_login(site_client, o2wiki, "Alice")
    first = User.objects.get()
    site_client.post("/logout/")
    response = o2_login(site_client, "Alice")
    assert response.status_code == 302
    assert User.objects.count() == 1 and int(site_client.session["_auth_user_id"]) == first.pk
    assert set(UserSocialAuth.objects.values_list("provider", "uid")) == {("mediawiki", "3"), ("mediawiki-oauth2", "3")}
    assert WikiIdentity.objects.count() == 1
    token = AccessToken.objects.get()  # the OAuth 2.0 token replaced the OAuth 1.0a one
    assert token.oauth_version == 2
    assert api.for_user(first).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"


def test_oauth2_then_oauth1_is_the_same_user(o2_settings, o2wiki, site_client):
    o2_login(site_client, "Alice")
    first = User.objects.get()
    site_client.post("/logout/")
    response = wiki_login(site_client, o2wiki, "Alice")
    assert response.status_code == 302
    assert User.objects.count() == 1 and int(site_client.session["_auth_user_id"]) == first.pk
    assert AccessToken.objects.get().oauth_version == 1
    assert api.for_user(first).get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"


def test_signed_in_with_oauth1_then_oauth2_in_the_same_session_links_the_same_user(o2_settings, o2wiki, site_client):
    wiki_login(site_client, o2wiki, "Alice")
    first = User.objects.get()
    assert o2_login(site_client, "Alice").status_code == 302
    assert User.objects.count() == 1 and UserSocialAuth.objects.filter(user=first).count() == 2


def test_another_wiki_users_sibling_account_is_never_linked(o2_settings, o2wiki, site_client):
    wiki_login(site_client, o2wiki, "Alice")  # signed in as Alice (OAuth 1.0a), then OAuth 2.0 as Bob
    response = o2_login(site_client, "Bob")
    assert response.status_code in (302, 409)
    bob_links = UserSocialAuth.objects.filter(uid="4")
    assert all(link.user.username != "Alice" for link in bob_links)
    assert UserSocialAuth.objects.filter(user__username="Alice").count() == 1


def test_rename_and_policy_apply_to_oauth2_too(o2_settings, o2wiki, site_client, client_factory):
    o2_login(site_client, "Alice")
    o2wiki.control("rename", sub="3", new_name="Alice Renamed")
    site_client.post("/logout/")
    o2_login(site_client, "Alice Renamed")
    assert User.objects.get().username == "Alice Renamed"
    blocked = client_factory()
    response = o2_login(blocked, "Mallory")
    assert response.status_code == 403 and not signed_in(blocked)
    assert User.objects.count() == 1 and AccessToken.objects.count() == 1


# -- every failure ends on the error page, nothing written ---------------------------------
def test_cancel_on_the_wiki(o2_settings, site_client, caplog):
    response = o2_login(site_client, "Alice", action="cancel")
    assert response.status_code == 400 and "cancelled" in response.content.decode()
    assert not signed_in(site_client)
    assert_nothing_written()


def test_forged_state_is_refused(o2_settings, site_client, caplog):
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    forged = urlencode({"code": query["code"][0], "state": "forged-state-value"})
    response = site_client.get(f"{location.path}?{forged}")
    assert_error_page(response, 400, caplog, "state_mismatch")
    assert not signed_in(site_client)
    assert_nothing_written()


def test_replayed_callback_is_refused(o2_settings, site_client, caplog, client_factory):
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    path = callback_path(answer.headers["Location"])
    assert site_client.get(path).status_code == 302
    site_client.post("/logout/")
    before = AccessToken.objects.get().encrypted
    replay = site_client.get(path)
    assert_error_page(replay, 400, caplog, "state_mismatch")
    assert not signed_in(site_client) and AccessToken.objects.get().encrypted == before


def test_callback_in_another_browser_has_no_verifier_and_is_refused(o2_settings, site_client, caplog, client_factory):
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    other = client_factory()
    response = other.get(callback_path(answer.headers["Location"]))
    assert_error_page(response, 400, caplog, "state_mismatch")
    assert_nothing_written()


def test_callback_without_code(o2_settings, site_client, caplog):
    state = parse_qs(urlsplit(start_o2_login(site_client)).query)["state"][0]
    response = site_client.get(f"/complete/mediawiki-oauth2/?state={state}")
    assert_error_page(response, 400, caplog, "missing_code")
    assert_nothing_written()


@pytest.mark.parametrize("redirect_uri", ["/complete/other/", "/complete/mediawiki-oauth2/extra/"])
def test_wrong_redirect_uri_is_an_error_page_on_the_wiki(o2_settings, o2wiki, site_client, redirect_uri):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = redirect_uri
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    # The wiki shows "Application Connection Error" itself (200 on 1.39, 401 on 1.43): never back to us.
    assert answer.status_code in (200, 401) and "Application Connection Error" in answer.text
    assert_nothing_written()


def test_unknown_client_is_an_error_page_on_the_wiki(o2_settings, site_client):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = "0" * 32
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    assert answer.status_code in (200, 401) and "Application Connection Error" in answer.text
    assert_nothing_written()


def test_wrong_client_secret(o2_settings, site_client, caplog):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = "wrong-secret-0123456789"
    response = o2_login(site_client, "Alice")
    assert_error_page(response, 502, caplog, "invalid_client")
    assert "wrong-secret-0123456789" not in response.content.decode() + caplog.text
    assert_nothing_written()


def test_bogus_code(o2_settings, site_client, caplog):
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    location = urlsplit(answer.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    response = site_client.get(f"{location.path}?{urlencode({**query, 'code': 'bogus'})}")
    assert_error_page(response, 502, caplog, "invalid_request")
    assert_nothing_written()


def test_a_stolen_code_is_useless_without_this_browsers_verifier(o2_settings, o2wiki, site_client):
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    location = urlsplit(answer.headers["Location"])
    code = parse_qs(location.query)["code"][0]
    # Someone who saw the code (and even knows the client secret) but not the verifier tries it first.
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": CONFIDENTIAL[0],
        "client_secret": CONFIDENTIAL[1],
    }
    thief = requests.post(o2wiki.rest_url + "/oauth2/access_token", data=form, timeout=5)
    assert thief.status_code == 400 and "code_verifier" in thief.text
    response = site_client.get(f"{location.path}?{location.query}")
    assert response.status_code == 302 and signed_in(site_client)


@pytest.mark.parametrize(("route", "answer", "status", "reason"), BAD_TOKEN_AND_PROFILE_ANSWERS)
def test_bad_token_and_profile_answers(o2_settings, o2wiki, site_client, caplog, route, answer, status, reason):
    with FaultyProxy(o2wiki.server_url) as proxy:
        o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = proxy.url + "/w/index.php"
        proxy.answers[route] = (answer[0], answer[1], answer[2].encode())
        response = o2_login(site_client, "Alice")
    assert_error_page(response, status, caplog, reason)
    assert not signed_in(site_client)
    assert_nothing_written()


@pytest.mark.parametrize("route", [PROFILE, TOKEN])
def test_timeouts(o2_settings, o2wiki, site_client, caplog, route):
    o2_settings.MWSSO_HTTP_TIMEOUT = 0.5
    with FaultyProxy(o2wiki.server_url) as proxy:
        o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = proxy.url + "/w/index.php"
        proxy.delays[route] = 1.5
        response = o2_login(site_client, "Alice")
    assert_error_page(response, 502, caplog, "unavailable")
    assert_nothing_written()


def test_wiki_down_at_the_callback(o2_settings, site_client, caplog):
    answer = authorize_oauth2(None, start_o2_login(site_client), user="Alice")
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = "http://127.0.0.1:9/w/index.php"
    response = site_client.get(callback_path(answer.headers["Location"]))
    assert_error_page(response, 502, caplog, "token_unavailable")
    assert_nothing_written()


# -- the demo site ---------------------------------------------------------------------------
def test_demo_offers_both_buttons_and_shows_the_live_api_answer(o2_settings, o2wiki, site_client):
    home = site_client.get("/").content.decode()
    assert 'action="/login/mediawiki/"' in home and 'action="/login/mediawiki-oauth2/"' in home
    o2_login(site_client, "Alice")
    page = site_client.get("/profile/").content.decode()
    assert '<dd id="api-username">Alice</dd>' in page and 'id="token-expires"' in page
    # A token the wiki no longer takes: "Sign in again" goes through OAuth 2.0 again.
    o2wiki.control("oauth2_revoke", client_id=CONFIDENTIAL[0], user="Alice")
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    page = site_client.get("/profile/").content.decode()
    assert 'id="userinfo-error"' in page and 'action="/login/mediawiki-oauth2/"' in page


def test_an_unusable_wiki_url_is_a_friendly_page_not_a_500(o2_settings, site_client, caplog):
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = "not a url"
    response = site_client.post("/login/mediawiki-oauth2/")
    assert response.status_code == 400 and "bad_wiki_url" in caplog.text
