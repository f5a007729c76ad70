"""The OAuth 1.0a handshake against the devwiki, compared with the recorded MediaWiki 1.39 answers."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from mwsso_devwiki.testing import authorize
from requests_oauthlib import OAuth1

from .conftest import (
    CALLBACK,
    DEMO,
    HEX32,
    PRIVATE,
    TEST,
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


def test_full_handshake_with_requests_oauthlib(wiki):
    access = handshake(wiki, "Alice")
    answer = identify(wiki, TEST, access)
    claims = jwt.decode(answer.text, TEST[1], algorithms=["HS256"], audience=TEST[0], issuer=wiki.server_url)
    assert claims["username"] == "Alice"
    assert claims["sub"] == "3"
    stats = wiki.control("stats")["counters"]
    # authorize: the anonymous GET sent to log in, the dialog after the login, and Allow
    assert (stats["initiate"], stats["authorize"], stats["token"], stats["identify"]) == (1, 3, 1, 1)


def test_initiate_raw_matches_recorded(wiki, recorded):
    rec = recorded["1e initiate OK, no format (raw body)"]
    answer = initiate(wiki, fmt=None)
    assert (answer.status_code, answer.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    pattern = r"oauth_token=[0-9a-f]{32}&oauth_token_secret=[0-9a-f]{32}&oauth_callback_confirmed=true"
    assert re.fullmatch(pattern, rec["body"])
    assert re.fullmatch(pattern, answer.text)


def test_initiate_json_matches_recorded(wiki, recorded):
    rec = recorded["1f initiate OK with prefix-extended callback, format=json"]
    answer = initiate(wiki, callback=CALLBACK + "?next=/foo")
    assert (answer.status_code, answer.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    ours, theirs = answer.json(), json.loads(rec["body"])
    assert list(ours) == list(theirs) == ["key", "secret", "oauth_callback_confirmed"]
    assert HEX32.fullmatch(ours["key"]) and HEX32.fullmatch(ours["secret"])
    assert ours["oauth_callback_confirmed"] == "true"


def test_allow_redirects_to_prefix_callback_with_verifier_like_recorded(wiki, recorded):
    rec = recorded["1g authorize Allow with prefix-extended callback -> redirect"]
    key = initiate(wiki, DEMO, callback="http://127.0.0.1:8000/complete/mediawiki/?next=/foo").json()["key"]
    allowed = authorize(None, authorize_url(wiki, key, DEMO[0]), user="Alice")
    assert (allowed.status_code, allowed.headers["Content-Type"], allowed.text) == (
        rec["status"],
        rec["content_type"],
        rec["body"],
    )
    shape = r"http://127\.0\.0\.1:8000/complete/mediawiki/\?next=/foo&oauth_verifier=[0-9a-f]{32}&oauth_token=TOKEN"
    assert re.fullmatch(shape.replace("TOKEN", "[0-9a-f]{32}"), rec["Location"])
    assert re.fullmatch(shape.replace("TOKEN", key), allowed.headers["Location"])


def test_oob_callback_goes_to_the_registered_url(wiki):
    key = initiate(wiki, DEMO, callback="oob").json()["key"]
    location = authorize(None, authorize_url(wiki, key, DEMO[0])).headers["Location"]
    assert location.startswith("http://127.0.0.1:1/complete/mediawiki/?oauth_verifier=")


def test_consumer_without_callback_url_shows_the_verifier_on_the_wiki(wiki):
    oob = wiki.control("add_consumer", name="Desktop tool", callback="oob", callback_is_prefix=False)
    key = initiate(wiki, (oob["key"], oob["secret"]), callback="oob").json()["key"]
    location = authorize(None, authorize_url(wiki, key, oob["key"])).headers["Location"]
    assert location.startswith(special(wiki, "verified") + "&oauth_verifier=")
    page = requests.get(location, timeout=5)
    verifier = dict(parse_qsl(urlsplit(location).query))["oauth_verifier"]
    assert page.status_code == 200 and verifier in page.text


def test_token_json_matches_recorded_and_raw_is_form_encoded(wiki, recorded):
    rec = recorded["3c token, then CORRECT verifier after a wrong one (is the request token burned?)"]
    key, secret, verifier = authorized_request_token(wiki)
    answer = token_step(wiki, key, secret, verifier)
    assert (answer.status_code, answer.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    assert list(answer.json()) == list(json.loads(rec["body"])) == ["key", "secret"]
    assert re.fullmatch(r"[0-9a-f]{40}", answer.json()["secret"])
    key2, secret2, verifier2 = authorized_request_token(wiki, user="Bob")
    raw = token_step(wiki, key2, secret2, verifier2, fmt=None)
    assert raw.headers["Content-Type"] == "text/plain;charset=UTF-8"
    assert re.fullmatch(
        r"oauth_token=[0-9a-f]{32}&oauth_token_secret=[0-9a-f]{40}&oauth_callback_confirmed=true", raw.text
    )


def test_cancel_shows_a_page_and_does_not_redirect(wiki, recorded):
    rec = recorded["4a authorize: user presses Cancel"]
    renamed = wiki.control(
        "add_consumer",
        key=TEST[0],
        secret=TEST[1],
        name="Django Test Client OAuth1",
        callback="http://127.0.0.1:1/complete/mediawiki/",
        callback_is_prefix=True,
    )
    assert renamed["ok"]
    key = initiate(wiki).json()["key"]
    cancelled = authorize(None, authorize_url(wiki, key), action="cancel")
    assert (cancelled.status_code, cancelled.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    assert "Location" not in cancelled.headers
    # The devwiki links two phrases of the message that the real wiki prints as plain text; the text is the same.
    plain = re.sub(r'<a class="devwiki-link" [^>]*>(.*?)</a>', r"\1", cancelled.text)
    assert plain.count("devwiki-link") == 0 and page_text(plain) == rec["body"]


def test_same_access_token_on_reauthorisation_until_revoked(wiki):
    first = handshake(wiki, "Bob")
    assert handshake(wiki, "Bob") == first
    assert handshake(wiki, "Alice") != first
    wiki.control("revoke", consumer_key=TEST[0], user="Bob")
    again = handshake(wiki, "Bob")
    assert again != first
    tokens = {t["key"]: t for t in wiki.control("stats")["access_tokens"]}
    assert tokens[first[0]]["revoked"] is True and tokens[again[0]]["revoked"] is False


@pytest.mark.parametrize(
    "title",
    ["Special:OAuth/initiate", "Special%3AOAuth%2Finitiate", "Special:Oauth/initiate", "special:oauth/initiate"],
)
def test_title_spellings_and_get(wiki, title):
    url = f"{wiki.index_url}?title={title}&format=json"
    answer = requests.get(url, auth=OAuth1(*TEST, callback_uri="oob"), timeout=5)
    assert HEX32.fullmatch(answer.json()["key"])


def test_path_style_url_works_too(wiki):
    answer = requests.get(
        f"{wiki.server_url}/w/index.php/Special:OAuth/initiate",
        params={"format": "json"},
        auth=OAuth1(*TEST, callback_uri="oob"),
        timeout=5,
    )
    assert HEX32.fullmatch(answer.json()["key"])


def test_authenticate_skips_consent_for_auth_only_consumer_already_allowed(wiki):
    browser = requests.Session()
    first_key = initiate(wiki, PRIVATE, callback=CALLBACK).json()["key"]
    first = authorize(browser, authorize_url(wiki, first_key, PRIVATE[0], "authenticate"), user="Bob")
    assert first.status_code == 302
    second_key = initiate(wiki, PRIVATE, callback=CALLBACK).json()["key"]
    again = browser.get(authorize_url(wiki, second_key, PRIVATE[0], "authenticate"), allow_redirects=False, timeout=5)
    assert again.status_code == 302 and f"oauth_token={second_key}" in again.headers["Location"]
    # a consumer with API grants always asks again
    test_key = initiate(wiki, TEST, callback=CALLBACK).json()["key"]
    handshake_page = authorize(browser, authorize_url(wiki, test_key, TEST[0], "authenticate"), user="Bob")
    assert handshake_page.status_code == 302
    next_key = initiate(wiki, TEST, callback=CALLBACK).json()["key"]
    asked = browser.get(authorize_url(wiki, next_key, TEST[0], "authenticate"), timeout=5)
    assert asked.status_code == 200 and 'id="mw-mwoauth-accept"' in asked.text


def test_authorize_page_shows_consumer_grants_to_the_signed_in_user(wiki):
    key = initiate(wiki, DEMO, callback="oob").json()["key"]
    page = browser(wiki, "Mallory").get(authorize_url(wiki, key, DEMO[0]), timeout=5)
    text = page_text(page.text)
    assert "Hi Mallory," in text and "mwsso demo needs permission" in text
    assert "Interact with pages Edit existing pages Create, edit, and move pages" in text
    assert 'id="mw-mwoauth-cancel"' in page.text and 'name="wpUser"' not in page.text  # no picker: Mallory is in


def test_an_anonymous_visitor_is_sent_to_log_in_first_and_picks_a_user_there(wiki, recorded):
    key = initiate(wiki, DEMO, callback="oob").json()["key"]
    url = authorize_url(wiki, key, DEMO[0])
    sent = requests.get(url, allow_redirects=False, timeout=5)
    seen = recorded["4c authorize page, not logged in"]  # 1.39; the default 1.43 warns about named accounts
    assert (sent.status_code, sent.headers["Content-Type"], sent.text) == (seen["status"], seen["content_type"], "")
    query = f"oauth_token%3D{key}%26oauth_consumer_key%3D{DEMO[0]}"
    assert sent.headers["Location"] == (
        f"{wiki.index_url}?title=Special:UserLogin&returnto=Special%3AOAuth%2Fauthorize&returntoquery={query}"
        "&warning=mwoauth-named-account-required-reason"
    )
    login = requests.get(sent.headers["Location"], timeout=5)
    for needle in ('id="wpUser-7"', "(new account)", "(blocked)", "Zoë Ünïcode-Test", "named account"):
        assert needle in login.text
    # An unknown request token or consumer changes nothing: the login comes before they are looked at.
    assert requests.get(authorize_url(wiki, "0" * 32, "f" * 32), allow_redirects=False, timeout=5).status_code == 302


def test_keep_alive_session_reuses_one_connection(wiki):
    session = requests.Session()
    for _ in range(5):
        answer = session.post(
            special(wiki, "initiate"), params={"format": "json"}, auth=OAuth1(*TEST, callback_uri="oob"), timeout=5
        )
        assert answer.status_code == 200 and answer.headers.get("Connection") != "close"
    assert wiki.control("stats")["counters"]["connections"] == 1
