"""The demo site's live wiki parts (project/wiki.py, _userinfo.html, _sandbox.html) end to end over real HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client

from mwsso import api
from mwsso.models import AccessToken
from tests.conftest import SITE_HOST, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

pytestmark = pytest.mark.django_db
User = get_user_model()
SANDBOX = "User:Alice/mwsso sandbox"


@pytest.fixture
def alice_client(login, site_client) -> Client:  # type: ignore[no-untyped-def]
    assert login(site_client, "Alice").status_code == 302
    return site_client


def profile(client: Client) -> tuple[dict[str, Any], Any]:
    """GET /profile/: its template context and the request (to render the partials with)."""
    response = client.get("/profile/")
    assert response.status_code == 200
    return {key: response.context[key] for key in response.context.keys()}, response.wsgi_request


def render(name: str, context: dict[str, Any], request: Any) -> str:
    return render_to_string(name, context, request=request)


def test_profile_shows_userinfo_from_the_api(alice_client, devwiki):
    context, request = profile(alice_client)
    assert context["userinfo_error"] is None
    userinfo = context["userinfo"]
    assert (userinfo["name"], userinfo["editcount"]) == ("Alice", 1234) and "edit" in userinfo["rights"]
    html = render("_userinfo.html", context, request)
    assert 'id="api-editcount">1234<' in html and "<li>autoconfirmed</li>" in html
    assert "Sign in again" not in html
    assert devwiki.control("stats")["counters"]["api:query"] == 1


def test_profile_of_a_revoked_token_asks_to_sign_in_again(alice_client, devwiki):
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    context, request = profile(alice_client)
    assert context["userinfo"] is None and context["userinfo_sign_in_again"] is True
    assert context["userinfo_error"] == api.TokenInvalid.user_message
    assert context["token"].status == AccessToken.Status.REVOKED  # the page shows the new status
    html = render("_userinfo.html", context, request)
    assert "Sign in again" in html and 'action="/login/mediawiki/"' in html and "csrfmiddlewaretoken" in html
    credentials = AccessToken.objects.get().get_credentials()
    for secret in (credentials.key, credentials.secret, TEST_CONSUMER_SECRET):
        assert secret not in html


def test_profile_when_the_wiki_is_down(alice_client, devwiki):
    devwiki.control("set_fault", step="api", kind="http500")
    context, request = profile(alice_client)
    assert context["userinfo"] is None and context["userinfo_sign_in_again"] is False
    assert context["userinfo_error"] == api.WikiUnavailable.user_message
    assert "did not answer" in render("_userinfo.html", context, request)


def test_sandbox_edit_end_to_end(alice_client, devwiki):
    context, request = profile(alice_client)
    assert context["sandbox_title"] == SANDBOX and context["sandbox_result"] is None
    form = render("_sandbox.html", context, request)
    assert 'action="/profile/sandbox/"' in form and "csrfmiddlewaretoken" in form
    response = alice_client.post("/profile/sandbox/", {"text": "Hello from the demo test"})
    assert response.status_code == 302 and response["Location"] == "/profile/"
    page = devwiki.store.pages.get(SANDBOX)
    assert page is not None and page.latest.text == "Hello from the demo test" and page.latest.user == "Alice"
    context, request = profile(alice_client)
    result = context["sandbox_result"]
    assert result["revid"] == page.latest.revid and result["title"] == SANDBOX
    assert result["url"] == f"{devwiki.index_url}?oldid={page.latest.revid}"
    html = render("_sandbox.html", context, request)
    assert f'href="{devwiki.index_url}?oldid={page.latest.revid}"' in html
    # Shown once: a reload neither repeats the message nor edits again.
    context, _ = profile(alice_client)
    assert context["sandbox_result"] is None and len(devwiki.store.pages.get(SANDBOX).revisions) == 1


def test_saved_as_revision_link_opens_that_revision_on_the_wiki(alice_client, devwiki):
    alice_client.post("/profile/sandbox/", {"text": "The '''first''' text"})
    first_url = profile(alice_client)[0]["sandbox_result"]["url"]
    alice_client.post("/profile/sandbox/", {"text": "The second text"})
    second_url = profile(alice_client)[0]["sandbox_result"]["url"]
    first = requests.get(first_url, timeout=5)
    assert first.status_code == 200 and "The <b>first</b> text" in first.text and "second" not in first.text
    assert "Latest revision as of" in requests.get(second_url, timeout=5).text


def test_sandbox_edit_with_the_same_text_is_no_change(alice_client, devwiki):
    alice_client.post("/profile/sandbox/", {"text": "same"})
    profile(alice_client)
    alice_client.post("/profile/sandbox/", {"text": "same"})
    context, request = profile(alice_client)
    assert context["sandbox_result"]["nochange"] is True
    assert "nothing changed" in render("_sandbox.html", context, request)


def test_sandbox_edit_with_a_revoked_token(alice_client, devwiki):
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    alice_client.post("/profile/sandbox/", {"text": "never saved"})
    context, request = profile(alice_client)
    assert context["sandbox_result"]["sign_in_again"] is True
    assert "Sign in again" in render("_sandbox.html", context, request)
    assert devwiki.store.pages.get(SANDBOX) is None


def test_sandbox_edit_refuses_empty_text(alice_client, devwiki):
    alice_client.post("/profile/sandbox/", {"text": ""})
    context, _ = profile(alice_client)
    assert "Please write some text" in context["sandbox_result"]["error"]
    assert devwiki.control("stats")["counters"].get("api:edit", 0) == 0


def test_sandbox_edit_is_post_only_csrf_protected_and_needs_a_login(alice_client, devwiki):
    assert alice_client.get("/profile/sandbox/").status_code == 405
    strict = Client(enforce_csrf_checks=True, HTTP_HOST=SITE_HOST)
    strict.force_login(User.objects.get(username="Alice"))
    assert strict.post("/profile/sandbox/", {"text": "forged"}).status_code == 403
    anonymous = Client(HTTP_HOST=SITE_HOST).post("/profile/sandbox/", {"text": "anon"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/?next=")
    assert devwiki.control("stats")["counters"].get("api:edit", 0) == 0


def test_profile_page_shows_identity_token_live_userinfo_and_sandbox_form(alice_client):
    html = alice_client.get("/profile/").content.decode()
    assert '<span id="wiki-username">Alice</span>' in html
    assert 'id="api-username">Alice<' in html and 'id="api-editcount">1234<' in html
    assert 'action="/profile/sandbox/"' in html and "Fingerprint" in html
    credentials = AccessToken.objects.get().get_credentials()
    for secret in (credentials.key, credentials.secret, TEST_CONSUMER_SECRET):
        assert secret not in html


def test_every_time_on_the_profile_says_utc(alice_client):
    context, request = profile(alice_client)
    token = context["token"]
    token.oauth_version = 2  # the OAuth 2.0 rows (expires, refreshed) too
    token.last_used = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    token.refreshed_at = datetime(2026, 3, 4, 6, 7, tzinfo=UTC)
    token.expires_at = datetime(2026, 3, 4, 7, 8, tzinfo=UTC)
    html = render("profile.html", context, request)
    times = re.findall(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}(.{0,4})", html)
    assert len(times) == 5 and all(after.startswith(" UTC") for after in times), (
        times
    )  # refreshed, stored, used, expires, refreshed
    token.last_used = token.refreshed_at = None
    html = render("profile.html", context, request)
    assert 'id="token-last-used">never<' in html and 'id="token-refreshed">not yet<' in html
