"""Parsing the wiki's answers, checked against responses recorded from a real MediaWiki 1.39."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from mwsso_devwiki.testing import authorize

from mwsso.protocol.oauth1 import (
    Consumer,
    OAuth1Error,
    authorize_url,
    exchange,
    identify,
    initiate,
    parse_identify_response,
    parse_token_response,
)
from tests import php_oauth, recorded
from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

RECORDED = recorded.load("mediawiki-1.39-oauth-responses.json")


def recorded(name_prefix: str) -> requests.Response:
    (case,) = [case for name, case in RECORDED.items() if name.startswith(name_prefix + " ")]
    response = requests.Response()
    response.status_code = case["status"]
    response._content = case["body"].encode()
    response.headers["Content-Type"] = case["content_type"]
    return response


def test_form_encoded_request_token():
    token = parse_token_response(recorded("1e"), "initiate")
    assert (token.key, token.secret) == ("59e7f9c685b888784bc4af2f1d6a049d", "25a93a5d442a50be622b71036c0a8f52")
    assert token.secret not in repr(token)


def test_json_request_token():
    token = parse_token_response(recorded("1f"), "initiate")
    assert token.key == "b3ac1715a309273ba6c5c9adc11dfd17"


def test_json_access_token():
    assert parse_token_response(recorded("3c"), "token").secret == "c212a2d2d7cdee3dde850f38f5df00a7af4bc103"


@pytest.mark.parametrize(
    "case, code, words",
    [
        ("1a", "mwoauth-oauth-exception", "Invalid signature"),
        ("1c", "mwoauth-oauth-exception", "Invalid consumer"),
        ("1d", "mwoauth-callback-not-oob-or-prefix", "oauth_callback must be set"),
        ("2a", "mwoauthdatastore-request-token-already-used", "already been completed"),
        ("2c", "mwoauthdatastore-request-token-not-found", "something went wrong"),
        ("3a", "mwoauthdatastore-bad-verifier", "verification code"),
        ("3d", "mwoauthdatastore-bad-token", "No token was found"),
    ],
)
def test_json_refusals_keep_the_wikis_key_and_plain_message(case, code, words):
    with pytest.raises(OAuth1Error) as caught:
        parse_token_response(recorded(case), "token")
    assert caught.value.kind == "refused" and caught.value.wiki_code == code
    assert words in caught.value.message and "<" not in caught.value.message


@pytest.mark.parametrize("case", ["1b", "2b", "3b"])
def test_plain_text_refusals(case):
    with pytest.raises(OAuth1Error) as caught:
        parse_token_response(recorded(case), "token")
    assert caught.value.kind == "refused"
    assert "&lt;" not in caught.value.message and "<a" not in caught.value.message


def test_identify_jwt_and_refusals():
    # The recording of a good identify (5a) is cut at 700 characters; a whole JWT of the same shape:
    good = requests.Response()
    good.status_code, good._content = 200, b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzIn0.c2lnbmF0dXJl\n"
    assert parse_identify_response(good) == good._content.decode().strip()
    for case, code in [
        ("5c", "mwoauthdatastore-access-token-not-found"),
        ("5h", "mwoauth-oauth-exception"),
        ("6a", "mwoauthdatastore-access-token-not-found"),
    ]:
        with pytest.raises(OAuth1Error) as caught:
            parse_identify_response(recorded(case))
        assert caught.value.wiki_code == code


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service unavailable</body></html>",
        b"",
        b"oauth_token=only-the-key",
        b'{"key": 5}',
        b"[1]",
        b"\xff\xfe",
    ],
)
def test_unexpected_bodies_are_bad_responses(body):
    response = requests.Response()
    response.status_code = 200
    response._content = body
    with pytest.raises(OAuth1Error) as caught:
        parse_token_response(response, "initiate")
    assert caught.value.kind == "bad_response"


def test_authorize_url():
    url = authorize_url("https://meta.wikimedia.org/w/index.php", "ck", "rk")
    assert (
        url
        == "https://meta.wikimedia.org/w/index.php?title=Special%3AOAuth%2Fauthorize&oauth_token=rk&oauth_consumer_key=ck"
    )


# -- what the client sends, checked with Extension:OAuth's own rules (tests/php_oauth.py) ----------


def test_handshake_requests_verify_under_the_extensions_signature_rules(devwiki):
    consumer = Consumer(TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET)
    session = requests.Session()
    sent: list[requests.PreparedRequest] = []
    session.hooks["response"].append(lambda response, **kw: sent.append(response.request))
    callback = "http://127.0.0.1:8000/complete/mediawiki/?next=/a%20b+c&x=~1"
    request_token = initiate(session, devwiki.index_url, consumer, callback)
    allowed = authorize(None, authorize_url(devwiki.index_url, consumer.key, request_token.key), user="Alice")
    verifier = parse_qs(urlsplit(allowed.headers["Location"]).query)["oauth_verifier"][0]
    access = exchange(session, devwiki.index_url, consumer, request_token, verifier)
    identify(session, devwiki.index_url, consumer, access)

    initiated, exchanged, _identified = sent
    token_secrets = ["", request_token.secret, access.secret]
    for request, token_secret in zip(sent, token_secrets, strict=True):
        assert php_oauth.signature_is_valid(devwiki.store.server, request, consumer.secret, token_secret)
        elsewhere = devwiki.store.server.replace("127.0.0.1", "localhost")  # not the wiki's $wgServer
        assert not php_oauth.signature_is_valid(elsewhere, request, consumer.secret, token_secret)
        query = parse_qs(urlsplit(request.url).query)
        assert query["format"] == ["json"] and query["title"][0].startswith("Special:OAuth/")
    # oauth_callback only in the header: sent in the query too, the wiki keeps one copy and the signature fails.
    assert "oauth_callback" not in initiated.url
    assert php_oauth.request_parameters(initiated)["oauth_callback"] == callback
    # POST with an empty body, so nothing beyond the query and the header is signed. POST because
    # Wikimedia's edge sends a GET without cookies to the nearest (read-only) data centre unless its
    # raw query is exactly title=Special:OAuth/initiate (operations/puppet multi-dc.lua); requests
    # percent-encodes the title, and a request token made there may not be seen by authorize yet.
    for request in sent:
        assert request.method == "POST" and not request.body and "Content-Type" not in request.headers
    assert php_oauth.request_parameters(exchanged)["oauth_verifier"] == verifier
