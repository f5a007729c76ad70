"""The wiki's refusals as recorded on real wikis, and what each says about a token (mwsso.protocol.grants, mwsso.site_probe)."""

from __future__ import annotations

import json

import pytest
import requests

from mwsso.protocol import grants, oauth1
from mwsso.site_probe import CAUSE_CLOCK, CAUSE_CONSUMER, CAUSE_SIGNATURE, _diagnose
from tests import recorded

RESPONSES = recorded.load("mediawiki-1.39-oauth-responses.json")
MORE = recorded.load("mediawiki-1.39-more-responses.json")


def _api_error(case: dict) -> tuple[str, str]:
    error = json.loads(case["body"])["error"]
    return error["code"], error["info"]


def _special_error(case: dict) -> tuple[str, str]:
    body = json.loads(case["body"])
    return body["error"], body["message"]


@pytest.mark.parametrize(
    ("name", "reader", "kind"),
    [
        # A bogus or revoked access token: the grant is gone.
        ("5b api userinfo, BOGUS access token", _api_error, grants.REVOKED),
        ("5c identify, BOGUS access token", _special_error, grants.REVOKED),
        # Whose fault these are is not said: a wrong token secret and a wrong consumer secret look alike.
        ("5d api userinfo, valid token key but WRONG token secret (bad signature)", _api_error, grants.AMBIGUOUS),
        ("5e identify, valid token but WRONG consumer secret", _special_error, grants.AMBIGUOUS),
        ("5f api userinfo, REPLAYED request (same nonce+timestamp)", _api_error, grants.AMBIGUOUS),
        ("5g api userinfo, timestamp 1 hour old", _api_error, grants.AMBIGUOUS),
        ("5h identify, REPLAYED request (same nonce)", _special_error, grants.AMBIGUOUS),
        ("1a initiate, wrong consumer secret (bad signature), format=json", _special_error, grants.AMBIGUOUS),
    ],
)
def test_recorded_refusals(name, reader, kind):
    assert grants.classify(*reader(RESPONSES[name])) == kind


def test_the_same_grant_is_gone_on_identify_of_the_second_recording():
    assert grants.classify(*_special_error(MORE["identify bogus token"])) == grants.REVOKED


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("mwoauth-invalid-authorization-invalid-user", grants.USER),
        ("mwoauth-invalid-authorization-wrong-user", grants.USER),
        ("mwoauth-invalid-authorization-blocked-user", grants.USER),
        ("mwoauth-invalid-authorization-not-approved", grants.CONSUMER),
        ("mwoauth-invalid-authorization-wrong-wiki", grants.WRONG_WIKI),
        ("mwoauth-db-readonly", grants.OTHER),
        ("readapidenied", grants.OTHER),
    ],
)
def test_the_extensions_message_keys(code, kind):
    assert grants.classify(code, "whatever the text") == kind


def _probe_refusal(case: dict) -> oauth1.OAuth1Error:
    response = requests.Response()
    response.status_code = case["status"]
    response._content = case["body"].encode()
    response.headers["Content-Type"] = case["content_type"]
    with pytest.raises(oauth1.OAuth1Error) as caught:
        oauth1.parse_token_response(response, "initiate")
    return caught.value


@pytest.mark.parametrize(
    ("name", "cause"),
    [
        ("1a initiate, wrong consumer secret (bad signature), format=json", CAUSE_SIGNATURE),
        ("1b initiate, wrong consumer secret (bad signature), no format", CAUSE_SIGNATURE),
        ("1c initiate, unknown consumer key, format=json", CAUSE_CONSUMER),
    ],
)
def test_a_refused_probe_names_the_likely_causes(name, cause):
    check = _diagnose("https://wiki.example/index.php", "abc123", _probe_refusal(RESPONSES[name]))
    assert not check.ok and check.conclusive and check.cause == cause
    if cause == CAUSE_SIGNATURE:
        for hint in ("SOCIAL_AUTH_MEDIAWIKI_SECRET", "$wgServer", "script path", "clock"):
            assert hint in check.message


def test_a_probe_refused_for_its_timestamp_blames_the_clock():
    err = oauth1.OAuth1Error(
        "refused",
        "initiate",
        "An error occurred in the OAuth protocol: Expired timestamp, yours 1, ours 3601",
        wiki_code="mwoauth-oauth-exception",
    )
    assert _diagnose("https://wiki.example/index.php", "abc123", err).cause == CAUSE_CLOCK
