"""Every handshake error, byte for byte against the recorded MediaWiki 1.39 answers where one exists."""

from __future__ import annotations

import json
import time

import pytest
import requests
from mwsso_devwiki.testing import authorize
from requests_oauthlib import OAuth1

from .conftest import (
    CALLBACK,
    DEMO,
    TEST,
    UNAPPROVED,
    authorize_url,
    authorized_request_token,
    browser,
    handshake,
    identify,
    initiate,
    page_text,
    special,
    token_step,
)

WRONG_SECRET = "0" * 40


def same(answer: requests.Response, rec: dict) -> None:
    """Status, content type and body exactly as the real wiki sent them."""
    assert (answer.status_code, answer.headers["Content-Type"], answer.text) == (
        rec["status"],
        rec["content_type"],
        rec["body"],
    )


@pytest.mark.parametrize(
    ("case", "fmt"),
    [
        ("1a initiate, wrong consumer secret (bad signature), format=json", "json"),
        ("1b initiate, wrong consumer secret (bad signature), no format", None),
    ],
)
def test_initiate_bad_signature(wiki, recorded, case, fmt):
    same(initiate(wiki, (TEST[0], WRONG_SECRET), fmt=fmt), recorded[case])


def test_initiate_unknown_consumer(wiki, recorded):
    same(initiate(wiki, ("f" * 32, TEST[1])), recorded["1c initiate, unknown consumer key, format=json"])


def test_initiate_callback_not_matching_prefix(wiki, recorded):
    answer = initiate(wiki, callback="http://evil.example.org/complete/mediawiki/")
    same(answer, recorded["1d initiate, callback not matching registered prefix, format=json"])


def test_initiate_signed_for_another_host_name(wiki, recorded):
    other = special(wiki, "initiate").replace("127.0.0.1", "localhost")
    answer = requests.post(other, params={"format": "json"}, auth=OAuth1(*TEST, callback_uri="oob"), timeout=5)
    same(answer, recorded["1h initiate via http://localhost:8080 (host differs from $wgServer)"])


def test_callback_both_in_query_and_header_is_an_invalid_signature(wiki):
    url = special(wiki, "initiate") + "&format=json&oauth_callback=" + requests.utils.quote(CALLBACK, safe="")
    answer = requests.post(url, auth=OAuth1(*TEST, callback_uri=CALLBACK + "x"), timeout=5)
    assert answer.json()["message"].endswith("Invalid signature")


def test_nonce_replay_and_expired_timestamp(wiki):
    first = initiate(wiki, nonce="12345678901234567890", timestamp=str(int(time.time())))
    assert "key" in first.json()
    replay = initiate(wiki, nonce="12345678901234567890", timestamp=str(int(time.time())))
    assert replay.json() == {
        "error": "mwoauth-oauth-exception",
        "message": "An error occurred in the OAuth protocol: Nonce already used: 12345678901234567890",
    }
    old = str(int(time.time()) - 3600)
    expired = initiate(wiki, timestamp=old)
    assert expired.json()["message"].startswith(
        f"An error occurred in the OAuth protocol: Expired timestamp, yours {old}, ours "
    )


def test_unapproved_consumer_cannot_get_past_authorize(wiki):
    # like the real wiki: initiate works (so the owner can test), the dialog refuses everyone else
    key = initiate(wiki, UNAPPROVED).json()["key"]
    page = authorize(None, authorize_url(wiki, key, UNAPPROVED[0]))
    assert page.status_code == 200 and "Location" not in page.headers
    text = page_text(page.text)
    assert text.startswith('[HTML page] Application Connection Error :: "mwsso unapproved" is not approved')
    assert "Connected OAuth app not approved, E005" in text


def test_owner_only_consumer_and_unsupported_version(wiki):
    owner_only = wiki.control("add_consumer", name="Bot", owner_only=True)
    answer = initiate(wiki, (owner_only["key"], owner_only["secret"]))
    assert answer.json()["error"] == "mwoauthserver-consumer-owner-only"
    version = requests.get(special(wiki, "initiate") + "&format=json&oauth_version=2", timeout=5)
    assert version.json()["error"] == "mwoauth-oauth-unsupported-version"


@pytest.mark.parametrize(
    ("case", "fmt"),
    [
        ("2a token, REUSED request token (already exchanged), format=json", "json"),
        ("2b token, REUSED request token, no format", None),
    ],
)
def test_reused_request_token(wiki, recorded, case, fmt):
    key, secret, verifier = authorized_request_token(wiki)
    assert "key" in token_step(wiki, key, secret, verifier).json()
    same(token_step(wiki, key, secret, verifier, fmt=fmt), recorded[case])


def test_unknown_request_token(wiki, recorded):
    answer = token_step(wiki, "0" * 32, "1" * 32, "2" * 32)
    same(answer, recorded["2c token, unknown request token, format=json"])


@pytest.mark.parametrize(
    ("case", "fmt"),
    [("3a token, WRONG verifier, format=json", "json"), ("3b token, wrong verifier, no format", None)],
)
def test_wrong_verifier_then_right_verifier_works(wiki, recorded, case, fmt):
    key, secret, verifier = authorized_request_token(wiki)
    same(token_step(wiki, key, secret, "f" * 32, fmt=fmt), recorded[case])
    assert list(token_step(wiki, key, secret, verifier).json()) == ["key", "secret"]


def test_never_authorized_request_token(wiki, recorded):
    answer = initiate(wiki).json()
    same(
        token_step(wiki, answer["key"], answer["secret"], "0" * 32),
        recorded["3d token, request token never authorized (no verifier issued)"],
    )


def test_wrong_request_token_secret(wiki, recorded):
    key, _, verifier = authorized_request_token(wiki)
    same(
        token_step(wiki, key, "0" * 32, verifier),
        recorded["3e token, correct verifier but wrong request-token secret (bad signature)"],
    )


def test_request_token_expires_after_ten_minutes(wiki):
    key, secret, verifier = authorized_request_token(wiki)
    later = time.time() + 601
    wiki.store.clock = lambda: later
    try:
        answer = token_step(wiki, key, secret, verifier, timestamp=str(int(later)))
    finally:
        wiki.store.clock = time.time
    assert answer.json()["error"] == "mwoauthdatastore-request-token-not-found"


def test_request_token_of_another_consumer_is_not_found(wiki):
    key, secret, verifier = authorized_request_token(wiki)
    answer = token_step(wiki, key, secret, verifier, consumer=DEMO)
    assert answer.json()["error"] == "mwoauthdatastore-request-token-not-found"


def test_authorize_pages_for_bad_tokens_and_keys(wiki, recorded):
    wiki.control(
        "add_consumer",
        key=TEST[0],
        secret=TEST[1],
        name="Django Test Client OAuth1",
        grants=["basic", "editpage"],
        callback="http://127.0.0.1:1/complete/mediawiki/",
        callback_is_prefix=True,
    )
    alice = browser(wiki, "Alice")
    unknown = authorize_url(wiki, "0" * 32)
    page = alice.get(unknown, timeout=5)
    assert page_text(page.text) == recorded["4b authorize page with unknown oauth_token"]["body"]
    allowed = authorize(alice, unknown, user="Alice")
    assert allowed.status_code == 200
    assert page_text(allowed.text) == recorded["4d authorize: press Allow on unknown oauth_token"]["body"]
    wrong_key = alice.get(authorize_url(wiki, "0" * 32, "e" * 32), timeout=5)
    assert page_text(wrong_key.text) == recorded["4e authorize page with wrong oauth_consumer_key"]["body"]
    key = initiate(wiki).json()["key"]
    blocked = browser(wiki, "Mallory").get(authorize_url(wiki, key), timeout=5)
    assert page_text(blocked.text) == recorded["11a authorize page as a BLOCKED user"]["body"]
    for answer in (page, allowed, wrong_key, blocked):
        assert answer.headers["Content-Type"] == "text/html; charset=UTF-8"


def test_authorize_refuses_a_forged_edit_token(wiki):
    key = initiate(wiki).json()["key"]
    form = {"title": "Special:OAuth/authorize", "wpEditToken": "forged+\\", "consumerKey": TEST[0]}
    answer = browser(wiki).post(wiki.index_url, data={**form, "requestToken": key, "accept": "Allow"}, timeout=5)
    assert answer.status_code == 200 and "loss of session data" in answer.text


def test_second_allow_on_the_same_request_token(wiki):
    key = initiate(wiki, callback=CALLBACK).json()["key"]
    assert authorize(None, authorize_url(wiki, key)).status_code == 302
    again = authorize(None, authorize_url(wiki, key))
    assert again.status_code == 200 and "OAuth callback URL not found" in again.text


@pytest.mark.parametrize(
    ("case", "consumer_secret", "access_mangle"),
    [
        ("5c identify, BOGUS access token", None, "bogus"),
        ("5e identify, valid token but WRONG consumer secret", WRONG_SECRET, None),
        ("6a identify with REVOKED access token", None, "revoke"),
    ],
)
def test_identify_errors(wiki, recorded, case, consumer_secret, access_mangle):
    access = handshake(wiki)
    if access_mangle == "bogus":
        access = ("0" * 32, "0" * 40)
    elif access_mangle == "revoke":
        wiki.control("revoke", consumer_key=TEST[0], user="Alice")
    same(identify(wiki, (TEST[0], consumer_secret or TEST[1]), access), recorded[case])


def test_identify_replay(wiki, recorded):
    access = handshake(wiki)
    first = identify(wiki, TEST, access, nonce="80059526760555082451795893976", timestamp=str(int(time.time())))
    assert first.status_code == 200 and first.text.count(".") == 2
    replay = identify(wiki, TEST, access, nonce="80059526760555082451795893976", timestamp=str(int(time.time())))
    same(replay, recorded["5h identify, REPLAYED request (same nonce)"])


def test_identify_for_a_consumer_approval_withdrawn(wiki):
    access = handshake(wiki)
    wiki.control(
        "add_consumer",
        key=TEST[0],
        secret=TEST[1],
        name="mwsso tests",
        approved=False,
        callback="http://127.0.0.1:1/complete/mediawiki/",
        callback_is_prefix=True,
    )
    answer = identify(wiki, TEST, access)
    assert json.loads(answer.text)["error"] == "mwoauth-invalid-authorization-not-approved"


def test_pages_escape_names_from_config_and_requests(wiki):
    evil = "<img src=x onerror=alert(1)>"
    made = wiki.control("add_consumer", name=evil, callback=CALLBACK, callback_is_prefix=True)
    key = initiate(wiki, (made["key"], made["secret"]), callback=CALLBACK).json()["key"]
    sub = wiki.control("add_user", name=evil)["sub"]
    login_page = requests.get(f"{wiki.index_url}?title=Special:UserLogin", timeout=5)
    dialog = browser(wiki, sub).get(authorize_url(wiki, '"><script>', made["key"]), timeout=5)
    assert 'value="&quot;&gt;&lt;script&gt;"' in dialog.text  # the request token, echoed in a hidden field
    cancelled = authorize(None, authorize_url(wiki, key, made["key"]), user=sub, action="cancel")
    for page in (login_page.text, dialog.text, cancelled.text):
        assert evil not in page and "<script>" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


class _LowercaseScheme(requests.auth.AuthBase):
    """A correctly signed request whose header starts "oauth " instead of "OAuth "."""

    def __init__(self, auth: OAuth1) -> None:
        self.auth = auth

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request = self.auth(request)
        header = request.headers["Authorization"]
        header = header.decode() if isinstance(header, bytes) else header
        request.headers["Authorization"] = "oauth " + header[len("OAuth ") :]
        return request


def test_the_oauth_header_is_only_recognised_with_its_exact_scheme_name(wiki):
    # MWOAuthRequest::fromRequest and Utils::hasOAuthHeaders look for "OAuth " case-sensitively: any
    # other spelling is no OAuth header at all (identify finds no consumer key, api.php an anonymous caller).
    access = handshake(wiki)
    auth = _LowercaseScheme(OAuth1(*TEST, *access))
    answer = requests.post(special(wiki, "identify"), auth=auth, timeout=5)
    assert answer.json() == {
        "error": "mwoauth-oauth-exception",
        "message": "An error occurred in the OAuth protocol: Invalid consumer key",
    }
    params = {"action": "query", "meta": "userinfo", "format": "json"}
    api = requests.get(wiki.api_url, params=params, auth=auth, timeout=5)
    assert api.json()["query"]["userinfo"]["anon"] == ""
