"""OAuth 2.0 protocol steps (mwsso.protocol.oauth2) and the profile check, pure, against the recorded real-wiki answers."""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from mwsso.protocol import oauth2
from mwsso.protocol.identity import InvalidIdentity, identity_from_profile
from tests import recorded

R139 = recorded.load("mediawiki-1.39-oauth-responses.json")
F139 = recorded.load("mediawiki-1.39-flows.json")
F143 = recorded.load("mediawiki-1.43-flows.json")
WIKI = "http://127.0.0.1:8090/w/index.php"


def body(case: dict) -> bytes:
    return case["body"].encode()


# -- PKCE and the authorize URL -------------------------------------------------------------
def test_s256_challenge_matches_the_pair_the_real_1_43_wiki_accepted():
    verifier = "7z3iVy6DbIKz8FY9HvdWuL_vyxp3OewU22JPPrxAa--abP8076_TCw2dayChP3Pc"
    assert oauth2.challenge_for(verifier) == "M-a1c-TMhaoFpDOR4IkYWpzYxVf_1cKo2NUwoGB929M"


def test_pkce_pairs_are_fresh_and_within_rfc_limits():
    first, second = oauth2.pkce_pair(), oauth2.pkce_pair()
    assert first.verifier != second.verifier
    assert 43 <= len(first.verifier) <= 128 and first.method == "S256"
    assert first.challenge == oauth2.challenge_for(first.verifier)
    assert first.verifier not in repr(first)


def test_authorize_url_is_the_rest_route_with_s256_and_no_redirect_uri_or_scope_unless_configured():
    url = oauth2.authorize_url(WIKI, "cid", "st", "chal")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:8090/w/rest.php/oauth2/authorize"
    query = parse_qs(parts.query)
    assert query == {
        "response_type": ["code"], "client_id": ["cid"], "state": ["st"],
        "code_challenge": ["chal"], "code_challenge_method": ["S256"],
    }  # fmt: skip
    url = oauth2.authorize_url(
        "http://wiki.example/index.php", "cid", "st", "c", redirect_uri="http://s/cb/", scope="basic editpage"
    )
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("http://wiki.example/rest.php/oauth2/authorize?")
    assert query["redirect_uri"] == ["http://s/cb/"] and query["scope"] == ["basic editpage"]


def test_token_forms_public_client_sends_no_secret_confidential_does():
    public = oauth2.code_form(oauth2.Client("cid"), "code", "verifier")
    assert public == {
        "grant_type": "authorization_code",
        "code": "code",
        "code_verifier": "verifier",
        "client_id": "cid",
    }
    confidential = oauth2.code_form(oauth2.Client("cid", "sec"), "code", "verifier", "http://s/cb/")
    assert confidential["client_secret"] == "sec" and confidential["redirect_uri"] == "http://s/cb/"
    assert oauth2.refresh_form(oauth2.Client("cid", "sec"), "rt") == {
        "grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid", "client_secret": "sec",
    }  # fmt: skip
    assert "client_secret" not in oauth2.refresh_form(oauth2.Client("cid"), "rt")
    assert "sec" not in repr(oauth2.Client("cid", "sec"))


def test_cancel_on_the_wiki_is_recognised():
    location = R139["10a oauth2 approve page: user presses Cancel"]["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    error = oauth2.callback_error(params)
    assert oauth2.is_cancel(error) and error == "unauthorized_client"
    assert oauth2.callback_error({"code": "x", "state": "y"}) is None
    other = oauth2.callback_error({"error": "server_error", "error_description": "<b>down</b>"})
    assert other == "server_error" and not oauth2.is_cancel(other)
    # Anyone can write a callback link: an unknown code is only "unknown", whatever it says.
    assert oauth2.callback_error({"error": "Sign in again at https://evil.example"}) == oauth2.UNKNOWN_CALLBACK_ERROR


# -- token answers ------------------------------------------------------------------------
def test_recorded_token_answers_parse():
    # (1.39's recorded success bodies are truncated; 1.43's are whole.)
    refreshed = F143["oauth2_confidential_alice"]["refresh"]["refresh1"]
    tokens = oauth2.parse_token_answer(refreshed["status"], body(refreshed), "refresh")
    assert tokens.expires_in == 3600 and tokens.token_type == "Bearer" and tokens.refresh_token
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in str(tokens)
    later = F143["refresh_token_lifetime"]["confidential_refresh"]
    assert oauth2.parse_token_answer(later["status"], body(later), "refresh").refresh_token


@pytest.mark.parametrize(
    ("case", "code", "hint"),
    [
        ("8b access_token, REUSED code", "invalid_request", "Authorization code has been revoked"),
        ("8c access_token, BOGUS code", "invalid_request", "Cannot decrypt the authorization code"),
        ("8d access_token, WRONG client_secret", "invalid_client", ""),
        ("8e access_token, WRONG redirect_uri", "invalid_client", ""),
        ("8f access_token, no client_secret (confidential client)", "invalid_client", ""),
        ("10b oauth2 refresh_token REUSED", "invalid_request", "Token has been revoked"),
        (
            "12b oauth2 refresh_token grant 70 s after issue (default $wgOAuth2RefreshTokenTTL = PT1M)",
            "invalid_request",
            "Token has expired",
        ),
    ],
)
def test_every_recorded_token_refusal_is_typed(case, code, hint):
    answer = R139[case]
    with pytest.raises(oauth2.OAuth2Error) as caught:
        oauth2.parse_token_answer(answer["status"], body(answer), "refresh")
    err = caught.value
    assert (err.kind, err.wiki_code, err.hint, err.http_status) == ("refused", code, hint, answer["status"])
    assert oauth2.refusal_means_sign_in(err)


def test_a_415_for_a_json_body_is_not_the_tokens_fault():
    answer = F143["access_token_json_body"]["refresh_token_json"]
    with pytest.raises(oauth2.OAuth2Error) as caught:
        oauth2.parse_token_answer(answer["status"], body(answer), "refresh")
    assert caught.value.wiki_code == "rest-unsupported-content-type"
    assert not oauth2.refusal_means_sign_in(caught.value)


def test_public_client_refresh_without_secret_is_invalid_client_on_1_43():
    answer = F143["oauth2_public_pkce_alice"]["refresh"]["refresh_without_secret"]
    with pytest.raises(oauth2.OAuth2Error) as caught:
        oauth2.parse_token_answer(answer["status"], body(answer), "refresh")
    assert caught.value.wiki_code == "invalid_client"


@pytest.mark.parametrize(
    ("status", "raw", "kind"),
    [
        (200, b"<html>proxy</html>", "bad_response"),
        (502, b"<html>Bad gateway</html>", "unavailable"),
        (500, b'{"message": "boom"}', "unavailable"),
        (200, b"[1, 2]", "bad_response"),
        (200, b'{"token_type": "Bearer"}', "bad_response"),
        (200, b'{"access_token": "a.b.c", "token_type": "mac"}', "bad_response"),
        (200, b'{"access_token": "a.b.c", "token_type": "Bearer", "expires_in": "3600"}', "bad_response"),
        (200, b'{"access_token": "a.b.c", "token_type": "Bearer", "expires_in": true}', "bad_response"),
        (200, b'{"access_token": "a b", "token_type": "Bearer"}', "bad_response"),
        (200, b'{"access_token": "a.b.c", "token_type": "Bearer", "refresh_token": 5}', "bad_response"),
        (200, b'{"access_token": "\\ud800", "token_type": "Bearer"}', "bad_response"),
        (200, b"[" * 100000, "bad_response"),
        (400, b'{"nothing": "here"}', "bad_response"),
    ],
)
def test_garbage_token_answers_are_bad_responses_or_unavailable(status, raw, kind):
    with pytest.raises(oauth2.OAuth2Error) as caught:
        oauth2.parse_token_answer(status, raw)
    assert caught.value.kind == kind


# -- profile answers ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("9a resource/profile, BOGUS bearer token", "refused"),
        ("9b resource/profile, no Authorization header", "unavailable"),
        ("10c resource/profile, tampered JWT signature", "refused"),
        ("10d resource/profile with REVOKED oauth2 access token", "refused"),
        ("10f resource/profile, JWT re-signed with a foreign RSA key (bad signature)", "refused"),
        ("12a oauth2 resource/profile with OLD access token after a refresh_token grant", "refused"),
    ],
)
def test_recorded_profile_refusals(case, kind):
    answer = R139[case]
    with pytest.raises(oauth2.OAuth2Error) as caught:
        oauth2.parse_profile_answer(answer["status"], body(answer))
    assert caught.value.kind == kind
    if kind == "refused":
        assert caught.value.wiki_code == "access_denied" and caught.value.http_status == 401


def test_1_43_profile_without_authorization_is_a_401_refusal():
    answer = F143["profile_bad_authorization"]["no_authorization"]
    with pytest.raises(oauth2.OAuth2Error) as caught:
        oauth2.parse_profile_answer(answer["status"], body(answer))
    assert caught.value.wiki_code == "access_denied"


# -- the profile as an Identity -----------------------------------------------------------
def test_1_39_profile_is_an_identity_of_the_configured_wiki():
    profile = F139["oauth2-profile"]["profile"]
    identity = identity_from_profile(profile, "http://127.0.0.1:8080/index.php")
    assert (identity.sub, identity.username, identity.issuer) == ("3", "Alice", "http://127.0.0.1:8080")
    assert identity.grants == ("basic", "editpage") and identity.email_verified is None
    assert identity.groups == ("*", "user", "autoconfirmed")


def test_1_43_profile_carries_email_verified():
    identity = identity_from_profile(F143["oauth2_confidential_alice"]["profile"], WIKI)
    assert identity.email_verified is True and identity.issuer == "http://127.0.0.1:8090"
    unicode = identity_from_profile(F143["oauth2_unicode"]["profile"], WIKI)
    assert unicode.username == "Zoë Ünïcode" and unicode.email_verified is False


def test_blocked_profile_says_blocked():
    identity = identity_from_profile(F139["oauth2-blocked-profile"]["profile"], WIKI)
    assert identity.blocked is True


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p.pop("username"), "hidden_user"),
        (lambda p: p.pop("editcount"), "missing_claim"),
        (lambda p: p.pop("groups"), "missing_claim"),
        (lambda p: p.update(sub="mw:CentralAuth::3"), "invalid_claim"),
        (lambda p: p.update(sub=""), "no_central_account"),
        (lambda p: p.update(sub=True), "invalid_claim"),
        (lambda p: p.update(editcount="5"), "invalid_claim"),
        (lambda p: p.update(blocked="no"), "invalid_claim"),
        (lambda p: p.update(groups="user"), "invalid_claim"),
        (lambda p: p.update(username="A\x00lice"), "invalid_claim"),
        (lambda p: p.update(registered="yesterday"), "invalid_claim"),
        (lambda p: p.update(email_verified="yes"), "invalid_claim"),
    ],
)
def test_profile_is_checked_as_strictly_as_identify(change, reason):
    profile = copy.deepcopy(F143["oauth2_confidential_alice"]["profile"])
    change(profile)
    with pytest.raises(InvalidIdentity) as caught:
        identity_from_profile(profile, WIKI)
    assert caught.value.reason == reason and "JWT" not in caught.value.message


def test_a_profile_that_is_not_an_object_is_malformed():
    with pytest.raises(InvalidIdentity) as caught:
        identity_from_profile(json.loads("[1]"), WIKI)
    assert caught.value.reason == "malformed"
