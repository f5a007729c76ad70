"""The sign-in error page always offers a way on: home, and a retry (or another account) where it can help."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client, RequestFactory
from django.urls import set_script_prefix

from mwsso import views
from mwsso.exceptions import LoginError
from tests.conftest import SITE_HOST, authorize, callback_path, start_login

pytestmark = pytest.mark.django_db


def actions(page: str) -> str:
    match = re.search(r'<div class="mwsso-error-actions">(.*?)</div>\s*</section>', page, re.S)
    assert match, page
    return match.group(1)


def retry_form(page: str) -> dict[str, str]:
    """The retry form's action, button label and hidden fields."""
    part = actions(page)
    form = re.search(r'<form class="mwsso-login" method="post" action="([^"]+)">(.*?)</form>', part, re.S)
    assert form, part
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(2)))
    label = re.search(r"<span>(.*?)</span>", form.group(2)).group(1)
    return {"action": form.group(1), "label": html.unescape(label), **fields}


def home_link(page: str) -> str:
    match = re.search(r'<a class="mwsso-error-home" href="([^"]*)">(.*?)</a>', actions(page))
    assert match and match.group(2) == "Back to the home page", page
    return match.group(1)


def test_refusal_offers_another_account_and_home_and_the_button_works(login, devwiki):
    browser = Client(HTTP_HOST=SITE_HOST, enforce_csrf_checks=True)
    browser.get("/")  # the CSRF cookie, as a browser that came through the home page has it
    token = browser.cookies["csrftoken"].value
    response = browser.post("/login/mediawiki/", {"csrfmiddlewaretoken": token})
    allowed = authorize(None, response["Location"], user="Mallory", action="accept")
    refused = browser.get(callback_path(allowed.headers["Location"]))
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "mwsso-error-refusal" in page and "blocked" in page
    form = retry_form(page)
    assert form["action"] == "/login/mediawiki/" and form["label"] == "Sign in with another account"
    assert "log out on the wiki first" in page
    assert home_link(page) == "/"
    # The form is a real, CSRF-protected sign-in start: it takes the browser back to the wiki.
    again = browser.post(form["action"], {k: v for k, v in form.items() if k not in ("action", "label")})
    assert again.status_code == 302 and again["Location"].startswith(devwiki.index_url), again.content[:300]


def test_stale_callback_offers_try_again_back_to_where_the_person_was_going(wiki_settings, devwiki):
    browser = Client(HTTP_HOST=SITE_HOST)
    authorize_url = start_login(browser, next_url="/profile/")
    allowed = authorize(None, authorize_url, user="Alice", action="accept")
    query = dict(p.split("=", 1) for p in urlsplit(allowed.headers["Location"]).query.split("&"))
    forged = urlencode({"oauth_token": "f" * 32, "oauth_verifier": query["oauth_verifier"]})
    response = browser.get(f"/complete/mediawiki/?{forged}")
    assert response.status_code == 400
    page = response.content.decode()
    form = retry_form(page)
    assert form["label"] == "Try again" and form["next"] == "/profile/" and form["csrfmiddlewaretoken"]
    assert "log out on the wiki first" not in page
    assert home_link(page) == "/"


class NothingToRetry(LoginError):
    code_name = "nothing_to_retry"
    user_message = "Nothing a retry could fix."
    retry_hint = ""


def error_page(err: Exception, path: str = "/complete/mediawiki/") -> str:
    request = RequestFactory().get(path)
    request.session = {}
    return views.login_error(request, "mediawiki", err, step="complete").content.decode()


def test_a_failure_no_retry_can_fix_still_links_home_and_offers_no_button():
    page = error_page(NothingToRetry())
    assert "Nothing a retry could fix." in page
    assert "<form" not in actions(page) and home_link(page) == "/"


def test_home_and_retry_stay_under_the_sites_script_prefix():
    set_script_prefix("/tool/")
    try:
        page = error_page(LoginError())
    finally:
        set_script_prefix("/")
    assert home_link(page) == "/tool/"
    assert retry_form(page)["action"] == "/tool/login/mediawiki/"
