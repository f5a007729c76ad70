"""Every recorded OAuth 2.0 answer, reproduced by the devwiki playing the version it was recorded on.

1.43: the recorded requests are replayed as they were sent (client ids, secret and
server swapped for the devwiki's) and status, content type, Cache-Control and body
compared. 1.39: the cases of mediawiki-1.39-oauth-responses.json (7a-12b) and
mediawiki-1.39-more-responses.json, rebuilt from their descriptions.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import jwt as pyjwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from mwsso_devwiki.testing import DevWiki, authorize_oauth2

from tests import recorded

from .conftest import browser, page_text
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

RECORDED_SERVER = "http://127.0.0.1:8090"
RECORDED_REDIRECT = "http://127.0.0.1:8000/complete/mediawiki-oauth2/"
SWAPS_143 = {
    "42e8407d0975a131def2db537f4c33f4": CONFIDENTIAL[0],
    "f0c0329d39a4d8b3f04eaa864ff74bc4": PUBLIC[0],
    "804fdc4dd49aa2984df37d7062041b4e3f5746b5": CONFIDENTIAL[1],
}


def _swap(text: str | None, wiki: DevWiki) -> str | None:
    if text is None:
        return None
    for old, new in SWAPS_143.items():
        text = text.replace(old, new)
    return text.replace(RECORDED_SERVER, wiki.store.server)


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


def _replay(
    wiki: DevWiki, entry: dict[str, Any], authorization: str | None = None, session: requests.Session | None = None
) -> requests.Response:
    request = entry["request"]
    headers = {}
    if request["content_type"]:
        headers["Content-Type"] = request["content_type"]
    if authorization is not None:
        headers["Authorization"] = authorization
    body = _swap(request["body"], wiki)
    return (session or requests.Session()).request(
        request["method"],
        _swap(request["url"], wiki),
        data=body.encode() if body is not None else None,
        headers=headers,
        allow_redirects=False,
        timeout=5,
    )


def _error_page_text(html: str) -> str:
    return page_text(html).partition(" :: ")[2]


# The steps whose requests need nothing from earlier steps; the authorization header is redacted
# in the recording ("Bearer ..."), so the bogus values are given here.
REPLAYED = {
    81: None,
    82: None,
    83: None,
    84: None,
    85: "Bearer bogus",
    86: "Bearer ",
    117: None,
    118: None,
    119: None,
    120: None,
    121: None,
    122: None,
    123: None,
    124: None,
    125: None,
    126: None,
    127: "Bearer bogus",
    128: None,
}


@pytest.mark.parametrize("n", sorted(REPLAYED))
def test_143_replayed(wiki143: DevWiki, n: int) -> None:
    entry = _entry(n)
    # The authorize cases were recorded by a person signed in (115-116 logged Mallory in); anonymous ones
    # would all get the login redirect, which the fidelity suite compares.
    signed_in_browser = browser(wiki143, "Mallory") if "/oauth2/authorize" in entry["request"]["url"] else None
    answer = _replay(wiki143, entry, REPLAYED[n], signed_in_browser)
    assert answer.status_code == entry["status"], answer.text[:300]
    assert answer.headers["Content-Type"] == entry["content_type"]
    assert answer.headers.get("Cache-Control") == entry["cache_control"]
    assert answer.headers.get("Location") == _swap(entry["location"], wiki143)
    body = entry["body"]
    if isinstance(body, dict):  # an HTML page, recorded by its title and text
        assert body["title"].startswith("Application Connection Error")
        extras = recorded.load("mediawiki-1.43-flows.json")["extras"]
        step = entry["step"].removeprefix("extras: ")
        assert _error_page_text(answer.text) == extras[step]["page_text"]
    else:
        assert answer.text == _swap(body, wiki143)


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
def rec139() -> dict[str, Any]:
    return recorded.load("mediawiki-1.39-oauth-responses.json")


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


@pytest.mark.parametrize(
    ("case", "params"),
    [
        ("7a oauth2 authorize, WRONG redirect_uri", {"redirect_uri": "http://127.0.0.1:8000/complete/other/"}),
        ("7b oauth2 authorize, unknown client_id", {"client_id": "0" * 32}),
    ],
)
def test_139_authorize_error_pages(wiki139: DevWiki, rec139: dict[str, Any], case: str, params: dict[str, str]) -> None:
    query = {"redirect_uri": CONFIDENTIAL_REDIRECT(wiki139), "state": "st", **params}
    client_id = query.pop("client_id", CONFIDENTIAL[0])
    answer = browser(wiki139).get(authorize_url(wiki139, client_id, **query), allow_redirects=False, timeout=5)
    _same(answer, rec139[case], body=False)
    assert "Location" not in answer.headers
    assert page_text(answer.text) == rec139[case]["body"]


def CONFIDENTIAL_REDIRECT(wiki: DevWiki) -> str:
    return wiki.store.oauth2.client(CONFIDENTIAL[0]).redirect_uri


@pytest.mark.parametrize(
    "case",
    [
        "oauth2 authorize: public client without code_challenge",
        "oauth2 authorize: confidential, wrong redirect_uri",
        "oauth2 authorize: confidential, redirect_uri with extra path",
        "oauth2 authorize: unknown client",
    ],
)
def test_139_more_authorize_errors_are_200_pages(wiki139: DevWiki, more139: dict[str, Any], case: str) -> None:
    redirect = CONFIDENTIAL_REDIRECT(wiki139)
    client_id, params = CONFIDENTIAL[0], {"redirect_uri": redirect, "state": "st", "scope": "basic editpage"}
    if "public" in case:
        wiki139.control("oauth2_set_redirect_uri", client_id=PUBLIC[0], redirect_uri=redirect)
        client_id = PUBLIC[0]
    elif "wrong" in case:
        params["redirect_uri"] = "http://127.0.0.1:8000/complete/other/"
    elif "extra path" in case:
        params["redirect_uri"] = redirect + "sub?x=1"
    else:
        client_id = "0" * 32
    answer = browser(wiki139).get(authorize_url(wiki139, client_id, **params), allow_redirects=False, timeout=5)
    seen = more139[case]
    assert (answer.status_code, answer.headers["Content-Type"]) == (seen["status"], seen["ctype"])
    assert "<title>Application Connection Error - " in answer.text and "Location" not in answer.headers


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


def test_139_token_errors(wiki139: DevWiki, rec139: dict[str, Any], more139: dict[str, Any]) -> None:
    code = get_code(wiki139, CONFIDENTIAL[0])["code"]
    assert redeem(wiki139, code).status_code == 200
    _same(redeem(wiki139, code), rec139["8b access_token, REUSED code"])
    _same(redeem(wiki139, "bogus"), rec139["8c access_token, BOGUS code"])
    assert redeem(wiki139, "bogus").text.startswith(more139["oauth2 token bogus code"]["body"])
    fresh = get_code(wiki139, CONFIDENTIAL[0])["code"]
    _same(redeem(wiki139, fresh, client_secret="wrong"), rec139["8d access_token, WRONG client_secret"])
    assert redeem(wiki139, fresh, client_secret="wrong").text == more139["oauth2 token wrong secret"]["body"]
    other = "http://127.0.0.1:8000/complete/other/"
    _same(redeem(wiki139, fresh, redirect_uri=other), rec139["8e access_token, WRONG redirect_uri"])
    _same(redeem(wiki139, fresh, client_secret=None), rec139["8f access_token, no client_secret (confidential client)"])
    credentials = token_request(
        wiki139, {"grant_type": "client_credentials", "client_id": CONFIDENTIAL[0], "client_secret": CONFIDENTIAL[1]}
    )
    assert (credentials.status_code, credentials.text) == (
        more139["oauth2 client_credentials (not allowed for client)"]["status"],
        more139["oauth2 client_credentials (not allowed for client)"]["body"],
    )
    basic = token_request(
        wiki139,
        {"grant_type": "authorization_code", "code": fresh, "redirect_uri": CONFIDENTIAL_REDIRECT(wiki139)},
        auth=CONFIDENTIAL,
    )
    _same(basic, rec139["8g access_token via HTTP Basic client auth"], body=False)
    assert basic.text.startswith(
        '{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.'
    )


def test_139_profile_errors(wiki139: DevWiki, rec139: dict[str, Any], more139: dict[str, Any]) -> None:
    _same(profile(wiki139, "bogus"), rec139["9a resource/profile, BOGUS bearer token"])
    assert profile(wiki139, "bogus").text == more139["oauth2 profile bogus bearer"]["body"]
    crash = profile(wiki139, None)
    _same(crash, rec139["9b resource/profile, no Authorization header"], body=False)
    seen = re.match(r'\{"message":"([^"]+)"', rec139["9b resource/profile, no Authorization header"]["body"])[1]
    assert crash.json()["message"] == seen and crash.json()["exception"]["type"] == "InvalidArgumentException"
    tokens = signed_in(wiki139)
    header, claims, signature = tokens["access_token"].split(".")
    _same(
        profile(wiki139, f"{header}.{claims}.{signature[:-4]}+/+/"),
        rec139["10c resource/profile, tampered JWT signature"],
    )
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    decoded = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    forged = pyjwt.encode(decoded, foreign, algorithm="RS256", headers={"typ": "JWT"})
    _same(
        profile(wiki139, forged), rec139["10f resource/profile, JWT re-signed with a foreign RSA key (bad signature)"]
    )


def test_139_api_with_bogus_and_revoked_bearer(wiki139: DevWiki, rec139: dict[str, Any]) -> None:
    tokens = signed_in(wiki139)
    assert api_userinfo(wiki139, tokens["access_token"]).json()["query"]["userinfo"]["name"] == "Alice"
    wiki139.control("oauth2_revoke", client_id=CONFIDENTIAL[0], user="Alice")
    _same(profile(wiki139, tokens["access_token"]), rec139["10d resource/profile with REVOKED oauth2 access token"])
    for case, token in (
        ("9c api userinfo, BOGUS bearer token", "bogus"),
        ("10e api userinfo with REVOKED oauth2 access token", tokens["access_token"]),
    ):
        answer = requests.get(
            wiki139.api_url,
            params={"action": "query", "meta": "userinfo", "format": "json"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        seen = rec139[case]
        assert (answer.status_code, answer.headers["Content-Type"]) == (seen["status"], seen["content_type"])
        assert answer.headers["MediaWiki-API-Error"] == seen["MediaWiki-API-Error"]
        ours, theirs = answer.json()["error"], json.loads(seen["body"])["error"]
        assert (ours["code"], ours["info"]) == (theirs["code"], theirs["info"])


def test_139_cancel(wiki139: DevWiki, rec139: dict[str, Any]) -> None:
    url = authorize_url(wiki139, CONFIDENTIAL[0], redirect_uri=CONFIDENTIAL_REDIRECT(wiki139), state="st")
    answer = authorize_oauth2(None, url, action="cancel")
    seen = rec139["10a oauth2 approve page: user presses Cancel"]
    assert (answer.status_code, answer.headers["Content-Type"], answer.text) == (
        seen["status"],
        seen["content_type"],
        "",
    )
    assert answer.headers["Location"] == CONFIDENTIAL_REDIRECT(wiki139) + "?" + urlsplit(seen["Location"]).query


def test_139_refresh_reuse_old_access_token_and_one_minute_lifetime(wiki139: DevWiki, rec139: dict[str, Any]) -> None:
    tokens = signed_in(wiki139)
    renewed = refresh(wiki139, tokens["refresh_token"])
    assert renewed.status_code == 200
    _same(refresh(wiki139, tokens["refresh_token"]), rec139["10b oauth2 refresh_token REUSED"])
    _same(
        profile(wiki139, tokens["access_token"]),
        rec139["12a oauth2 resource/profile with OLD access token after a refresh_token grant"],
    )
    later = time.time() + 70
    wiki139.store.clock = lambda: later
    try:
        _same(
            refresh(wiki139, renewed.json()["refresh_token"]),
            rec139["12b oauth2 refresh_token grant 70 s after issue (default $wgOAuth2RefreshTokenTTL = PT1M)"],
        )
    finally:
        wiki139.store.clock = time.time


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
