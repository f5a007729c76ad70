"""Recorded OAuth 2.0 flows, reproduced by the local wiki playing the version they were recorded on.

Each recorded request's answer is held against the recording by the fidelity suite (test_fidelity.py);
these follow whole flows through (a refresh after a month, a code used twice, a JSON token request) and
what the recordings kept of them beyond single answers (mediawiki-1.4x-flows.json).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from mwsso_devwiki.testing import DevWiki

from tests import recorded

from .conftest import browser
from .oauth2_client import (
    CONFIDENTIAL,
    PUBLIC,
    api_userinfo,
    authorize_url,
    get_code,
    pkce_pair,
    profile,
    redeem,
    refresh,
    signed_in,
    token_request,
)

RECORDED_REDIRECT = "http://127.0.0.1:8000/complete/mediawiki-oauth2/"


@pytest.fixture
def wiki143(wiki: DevWiki) -> DevWiki:
    wiki.control("set_mw_version", version="1.43")
    for client_id in (CONFIDENTIAL[0], PUBLIC[0]):
        wiki.control("oauth2_set_redirect_uri", client_id=client_id, redirect_uri=RECORDED_REDIRECT)
    return wiki


@pytest.fixture
def wiki139(wiki: DevWiki) -> DevWiki:
    wiki.control("set_mw_version", version="1.39")
    return wiki


def _entry(n: int) -> dict[str, Any]:
    entry = recorded.load("mediawiki-1.43-responses.json")[n - 1]
    assert entry["n"] == n
    return entry


def test_143_the_profile_limits_rights_by_grants_and_sends_email_verified(wiki143: DevWiki) -> None:
    token = signed_in(wiki143, "Alice")["access_token"]
    answer = profile(wiki143, token)
    seen = _entry(44)
    assert (answer.status_code, answer.headers["Content-Type"]) == (seen["status"], seen["content_type"])
    assert answer.headers["Cache-Control"] == seen["cache_control"]
    expected = json.loads(seen["body"])
    body = answer.json()
    assert list(body) == list(expected)
    assert body["rights"] == expected["rights"] and body["grants"] == expected["grants"]


def test_143_token_answer_headers(wiki143: DevWiki) -> None:
    answer = redeem(
        wiki143,
        get_code(wiki143, CONFIDENTIAL[0], redirect_uri=RECORDED_REDIRECT)["code"],
        redirect_uri=RECORDED_REDIRECT,
    )
    seen = _entry(43)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == seen["content_type"]
    assert answer.headers["Cache-Control"] == seen["cache_control"] == "no-store"
    assert list(answer.json()) == ["token_type", "expires_in", "access_token", "refresh_token"]


def test_143_refresh_reuse_and_old_access_token(wiki143: DevWiki) -> None:
    code = get_code(wiki143, CONFIDENTIAL[0], redirect_uri=RECORDED_REDIRECT)["code"]
    tokens = redeem(wiki143, code, redirect_uri=RECORDED_REDIRECT).json()
    assert refresh(wiki143, tokens["refresh_token"]).status_code == 200
    again = refresh(wiki143, tokens["refresh_token"])
    assert (again.status_code, again.text) == (_entry(47)["status"], _entry(47)["body"])
    assert again.headers["Cache-Control"] == _entry(47)["cache_control"]
    old = profile(wiki143, tokens["access_token"])
    assert (old.status_code, old.text) == (_entry(48)["status"], _entry(48)["body"])
    api = api_userinfo(wiki143, tokens["access_token"]).json()["error"]
    assert (api["code"], api["info"]) == (
        "mwoauth-invalid-authorization",
        "The authorization headers in your request are not valid: Invalid access token",
    )


def test_143_refresh_with_http_basic(wiki143: DevWiki) -> None:
    tokens = signed_in(wiki143)
    answer = token_request(
        wiki143, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, auth=CONFIDENTIAL
    )
    assert answer.status_code == _entry(51)["status"] == 200


def test_143_public_client_refresh_needs_the_secret(wiki143: DevWiki) -> None:
    tokens = signed_in(wiki143, client=PUBLIC)
    without = refresh(wiki143, tokens["refresh_token"], PUBLIC, secret=False)
    assert (without.status_code, without.text) == (_entry(61)["status"], _entry(61)["body"])
    assert refresh(wiki143, tokens["refresh_token"], PUBLIC).status_code == _entry(62)["status"] == 200


def test_143_code_without_verifier(wiki143: DevWiki) -> None:
    _verifier, challenge = pkce_pair()
    code = get_code(wiki143, PUBLIC[0], challenge=challenge, redirect_uri=RECORDED_REDIRECT)["code"]
    answer = redeem(wiki143, code, PUBLIC, redirect_uri=RECORDED_REDIRECT)
    assert (answer.status_code, answer.text) == (_entry(70)["status"], _entry(70)["body"])


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
def test_143_json_body_gets_415_and_uses_nothing_up(wiki143: DevWiki, grant: str) -> None:
    flows = recorded.load("mediawiki-1.43-flows.json")["access_token_json_body"]
    if grant == "authorization_code":
        data = {
            "grant_type": grant,
            "code": get_code(wiki143, CONFIDENTIAL[0])["code"],
            "redirect_uri": RECORDED_REDIRECT,
        }
        seen = flows["authorization_code_json"]
    else:
        data = {"grant_type": grant, "refresh_token": signed_in(wiki143)["refresh_token"]}
        seen = flows["refresh_token_json"]
    data.update(client_id=CONFIDENTIAL[0], client_secret=CONFIDENTIAL[1])
    answer = requests.post(f"{wiki143.rest_url}/oauth2/access_token", json=data, timeout=5)
    assert (answer.status_code, answer.headers["Content-Type"], answer.text) == (
        seen["status"],
        seen["content_type"],
        seen["body"],
    )
    assert token_request(wiki143, data).status_code == 200  # the same code / refresh token still works


def test_143_refresh_token_lasts_a_month(wiki143: DevWiki) -> None:
    flows = recorded.load("mediawiki-1.43-flows.json")["refresh_token_lifetime"]
    confidential, public = signed_in(wiki143), signed_in(wiki143, client=PUBLIC)
    later = time.time() + flows["seconds_since_token_issued"]
    wiki143.store.clock = lambda: later
    try:
        assert refresh(wiki143, confidential["refresh_token"]).status_code == flows["confidential_refresh"]["status"]
        no_secret = refresh(wiki143, public["refresh_token"], PUBLIC, secret=False)
        assert (no_secret.status_code, no_secret.text) == (
            flows["public_refresh_without_secret"]["status"],
            flows["public_refresh_without_secret"]["body"],
        )
    finally:
        wiki143.store.clock = time.time
    record = wiki143.store.oauth2.refresh[confidential["refresh_token"]]
    assert 28 * 86400 <= record.expires - time.time() <= 31 * 86400


def test_143_consent_form_fields(wiki143: DevWiki) -> None:
    url = authorize_url(wiki143, CONFIDENTIAL[0], redirect_uri=RECORDED_REDIRECT, state="st")
    alice = browser(wiki143, "Alice")
    first = alice.get(url, allow_redirects=False, timeout=5)
    page = alice.get(first.headers["Location"], timeout=5)
    names = [
        n
        for n in (
            "title",
            "wpEditToken",
            "display",
            "wpaction",
            "wpconfirmUpdate",
            "oauth_version",
            "client_id",
            "scope",
            "returnto",
            "returntoquery",
        )
        if f'name="{n}"' in page.text
    ]
    posted = [k for k, _ in (p.split("=", 1) for p in _entry(5)["request"]["body"].split("&"))]
    assert names == posted[:-1] and posted[-1] == "accept"
    assert 'id="mw-mwoauth-authorize-form"' in page.text


# 1.39


@pytest.fixture(scope="module")
def more139() -> dict[str, Any]:
    return recorded.load("mediawiki-1.39-more-responses.json")


def _same(answer: requests.Response, case: dict[str, Any], body: bool = True) -> None:
    assert answer.status_code == case["status"], answer.text[:300]
    assert answer.headers["Content-Type"] == (
        case.get("content_type") or case.get("ctype") or answer.headers["Content-Type"]
    )
    if body:
        assert answer.text == case["body"]


def CONFIDENTIAL_REDIRECT(wiki: DevWiki) -> str:
    return wiki.store.oauth2.client(CONFIDENTIAL[0]).redirect_uri


@pytest.mark.parametrize(
    "case",
    [
        "oauth2 authorize: confidential, no redirect_uri",
        "oauth2 authorize: confidential, no scope",
        "oauth2 authorize: confidential, scope not granted (highvolume)",
    ],
)
def test_139_authorize_goes_to_special_oauth_approve(wiki139: DevWiki, more139: dict[str, Any], case: str) -> None:
    seen = more139[case]
    params = {"redirect_uri": CONFIDENTIAL_REDIRECT(wiki139), "state": "st", "scope": "basic editpage"}
    if "no redirect_uri" in case:
        del params["redirect_uri"]
    elif "no scope" in case:
        del params["scope"]
    else:
        params["scope"] = "basic highvolume"
    answer = browser(wiki139).get(authorize_url(wiki139, CONFIDENTIAL[0], **params), allow_redirects=False, timeout=5)
    assert (answer.status_code, answer.headers["Content-Type"]) == (seen["status"], seen["ctype"])
    location = answer.headers["Location"]
    recorded_query = urlsplit(seen["location"]).query
    ours = urlsplit(location).query
    assert ours.startswith("title=Special:OAuth/approve&returnto=%2Fw%2Frest.php%2Foauth2%2Fauthorize&returntoquery=")
    assert recorded_query.startswith(
        "title=Special:OAuth/approve&returnto=%2Frest.php%2Foauth2%2Fauthorize&returntoquery="
    )
    assert "&oauth_version=2&scope=" in ours
    if "no scope" in case:
        assert ours.endswith("&scope=basic+editpage+createeditmovepage")  # all the client's grants
    if "highvolume" in case:
        assert ours.endswith("&scope=basic")  # grants the client lacks are dropped
    assert answer.text.startswith("<!doctype html><title>Redirect</title><a href=")


def test_139_public_client_flow_as_recorded(wiki139: DevWiki) -> None:
    flow = recorded.load("mediawiki-1.39-flows.json")["oauth2-public-pkce-profile"]
    tokens = signed_in(wiki139, client=PUBLIC)
    assert sorted(tokens) == flow["token_response_keys"]
    assert refresh(wiki139, tokens["refresh_token"], PUBLIC, secret=False).status_code == flow["refresh_status"]
    assert refresh(wiki139, tokens["refresh_token"], PUBLIC).status_code == flow["refresh_status_with_secret"]


def test_139_profile_is_text_html_without_email_verified(wiki139: DevWiki) -> None:
    flow = recorded.load("mediawiki-1.39-flows.json")["oauth2-profile"]
    answer = profile(wiki139, signed_in(wiki139)["access_token"])
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert list(answer.json()) == list(flow["profile"])


def test_139_json_token_request_is_not_read(wiki139: DevWiki) -> None:
    """1.39 reads $_POST, so a JSON body carries no parameters: no grant type."""
    answer = requests.post(f"{wiki139.rest_url}/oauth2/access_token", json={"grant_type": "refresh_token"}, timeout=5)
    assert answer.status_code == 400
    assert (answer.json()["error"], answer.json()["hint"]) == ("invalid_request", "Check the `grant_type` parameter")
