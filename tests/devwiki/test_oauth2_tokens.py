"""OAuth 2.0 tokens: rotation, single use under concurrency, lifetimes, PKCE and code checks, the sub setting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time

import jwt as pyjwt
import pytest
import requests
from mwsso_devwiki.testing import DevWiki, authorize_oauth2

from .conftest import browser
from .oauth2_client import (
    CONFIDENTIAL,
    PUBLIC,
    api_userinfo,
    authorize_url,
    get_code,
    pkce_pair,
    profile,
    query_of,
    redeem,
    refresh,
    signed_in,
)


@pytest.fixture(params=["1.43", "1.39"])
def any_wiki(wiki: DevWiki, request: pytest.FixtureRequest) -> DevWiki:
    wiki.control("set_mw_version", version=request.param)
    return wiki


def _later(wiki: DevWiki, seconds: float) -> None:
    moment = time.time() + seconds
    wiki.store.clock = lambda: moment


@pytest.fixture
def clock(wiki: DevWiki):  # type: ignore[no-untyped-def]
    yield lambda seconds: _later(wiki, seconds)
    wiki.store.clock = time.time


def test_refresh_rotates_and_revokes_the_previous_pair(any_wiki: DevWiki) -> None:
    first = signed_in(any_wiki)
    second = refresh(any_wiki, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert profile(any_wiki, first["access_token"]).json()["hint"] == "Access token has been revoked"
    assert api_userinfo(any_wiki, first["access_token"]).json()["error"]["code"] == "mwoauth-invalid-authorization"
    assert refresh(any_wiki, first["refresh_token"]).json()["hint"] == "Token has been revoked"
    assert profile(any_wiki, second["access_token"]).status_code == 200
    third = refresh(any_wiki, second["refresh_token"])
    assert third.status_code == 200 and profile(any_wiki, third.json()["access_token"]).status_code == 200


def test_concurrent_refreshes_of_one_token_give_one_new_pair(wiki: DevWiki) -> None:
    tokens = signed_in(wiki)
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def race() -> None:
        barrier.wait()
        answer = refresh(wiki, tokens["refresh_token"])
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [401] * 7
    assert {a.json()["hint"] for a in answers if a.status_code == 401} == {"Token has been revoked"}
    counts = wiki.control("oauth2_counts")["counts"]
    assert counts["refresh"] == 8 and counts["refresh_ok"] == 1
    live = [t for t in wiki.control("oauth2_stats")["access_tokens"] if not t["revoked"]]
    assert len(live) == 1


def test_refused_refresh_requests_are_counted_too(wiki: DevWiki) -> None:
    refresh(wiki, "def50200bogus")
    assert wiki.control("oauth2_counts")["counts"]["refresh"] == 1
    assert wiki.control("oauth2_counts")["counts"]["refresh_ok"] == 0


def test_access_token_lifetime_setting(wiki: DevWiki, clock) -> None:  # type: ignore[no-untyped-def]
    wiki.control("oauth2_set_lifetimes", access_token=30)
    tokens = signed_in(wiki)
    assert tokens["expires_in"] == 30
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 30
    clock(31)
    assert profile(wiki, tokens["access_token"]).json()["hint"] == "Access token could not be verified"
    assert api_userinfo(wiki, tokens["access_token"]).json()["error"]["info"].endswith("Invalid access token")
    assert refresh(wiki, tokens["refresh_token"]).status_code == 200  # the refresh token still lives


def test_refresh_token_lifetime_setting_and_version_defaults(wiki: DevWiki, clock) -> None:  # type: ignore[no-untyped-def]
    wiki.control("oauth2_set_lifetimes", refresh_token=5)
    tokens = signed_in(wiki)
    clock(6)
    assert refresh(wiki, tokens["refresh_token"]).json()["hint"] == "Token has expired"
    wiki.control("reset")
    assert wiki.control("oauth2_stats")["settings"]["refresh_token_ttl"] is None
    assert wiki.control("oauth2_stats")["settings"]["refresh_token_ttl_default"] == "P1M"
    wiki.control("set_mw_version", version="1.39")
    assert wiki.control("oauth2_stats")["settings"]["refresh_token_ttl_default"] == "PT1M"


def test_expire_now_through_the_control_endpoint(wiki: DevWiki) -> None:
    tokens = signed_in(wiki)
    assert wiki.control("oauth2_expire", access_token=tokens["access_token"]) == {"ok": True, "expired": 1}
    assert profile(wiki, tokens["access_token"]).json()["hint"] == "Access token could not be verified"
    wiki.control("oauth2_expire", refresh_token=tokens["refresh_token"])
    assert refresh(wiki, tokens["refresh_token"]).json()["hint"] == "Token has expired"


def test_code_lifetime_and_single_use(wiki: DevWiki, clock) -> None:  # type: ignore[no-untyped-def]
    wiki.control("oauth2_set_lifetimes", code=60)
    code = get_code(wiki, CONFIDENTIAL[0])["code"]
    clock(61)
    assert redeem(wiki, code).json()["hint"] == "Authorization code has expired"


def test_code_of_another_client(wiki: DevWiki) -> None:
    other = wiki.control("oauth2_add_client", redirect_uri="http://127.0.0.1:9000/complete/mediawiki-oauth2/")
    code = get_code(wiki, CONFIDENTIAL[0])["code"]
    answer = redeem(wiki, code, (other["client_id"], other["secret"]), client_secret=other["secret"])
    assert answer.status_code == 400 and answer.json()["hint"] == "Authorization code was not issued to this client"
    assert redeem(wiki, code).status_code == 200  # a refused exchange does not use the code up


def test_redirect_uri_must_be_sent_back_as_given(wiki: DevWiki) -> None:
    code = get_code(wiki, CONFIDENTIAL[0])["code"]
    answer = redeem(wiki, code, redirect_uri=None)
    assert (answer.status_code, answer.json()["hint"]) == (400, "Check the `redirect_uri` parameter")
    # without redirect_uri at authorize the registered one is used; league 8 then wants none at the token step
    answer = authorize_oauth2(None, authorize_url(wiki, CONFIDENTIAL[0], state="s"))
    assert answer.headers["Location"].startswith(wiki.store.oauth2.client(CONFIDENTIAL[0]).redirect_uri + "?code=")
    code = query_of(answer.headers["Location"])["code"]
    assert redeem(wiki, code).json()["hint"] == "Invalid redirect URI"
    assert redeem(wiki, code, redirect_uri=None).status_code == 200


def test_pkce(wiki: DevWiki) -> None:
    verifier, challenge = pkce_pair()
    code = get_code(wiki, PUBLIC[0], challenge=challenge)["code"]
    wrong = redeem(wiki, code, PUBLIC, code_verifier=pkce_pair()[0])
    assert (wrong.status_code, wrong.json()["error"], wrong.json()["hint"]) == (
        400,
        "invalid_grant",
        "Failed to verify `code_verifier`.",
    )
    short = redeem(wiki, code, PUBLIC, code_verifier="too-short")
    assert short.json()["hint"] == "Code Verifier must follow the specifications of RFC-7636."
    assert redeem(wiki, code, PUBLIC, code_verifier=verifier).status_code == 200
    # a confidential client may use PKCE too, and then must prove it
    verifier, challenge = pkce_pair()
    code = get_code(wiki, CONFIDENTIAL[0], challenge=challenge)["code"]
    assert redeem(wiki, code).json()["hint"] == "Check the `code_verifier` parameter"
    assert redeem(wiki, code, code_verifier=verifier).status_code == 200


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "Code challenge method must be `S256`"),
        ({"code_challenge": "x" * 43}, "Code challenge method must be `S256`"),  # plain is the default method
        (
            {"code_challenge": "short", "code_challenge_method": "S256"},
            "Code challenge must follow the specifications of RFC-7636.",
        ),
        ({}, "Code challenge must be provided for public clients"),
    ],
)
def test_public_client_authorize_refusals(wiki: DevWiki, params: dict[str, str], hint: str) -> None:
    url = authorize_url(wiki, PUBLIC[0], redirect_uri=wiki.store.oauth2.client(PUBLIC[0]).redirect_uri, **params)
    answer = browser(wiki).get(url, allow_redirects=False, timeout=5)  # only a signed-in person sees the error
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert hint.replace("`", "&#96;") in answer.text or hint in answer.text
    anonymous = requests.get(url, allow_redirects=False, timeout=5)
    assert anonymous.status_code == 307 and "title=Special:UserLogin&" in anonymous.headers["Location"]


def test_unknown_scope_and_narrowed_refresh(wiki: DevWiki) -> None:
    url = authorize_url(wiki, CONFIDENTIAL[0], scope="basic nosuchgrant")
    assert browser(wiki).get(url, allow_redirects=False, timeout=5).status_code == 400
    tokens = signed_in(wiki)
    narrowed = requests.post(
        f"{wiki.rest_url}/oauth2/access_token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "basic highvolume",
            "client_id": CONFIDENTIAL[0],
            "client_secret": CONFIDENTIAL[1],
        },
        timeout=5,
    )
    assert (narrowed.status_code, narrowed.json()["error"]) == (400, "invalid_scope")
    fine = refresh(wiki, tokens["refresh_token"])  # a refused scope does not use the token up
    assert fine.status_code == 200


def test_prefixed_sub_setting_is_wgoauth2useprefixedsub_and_never_for_owner_only(wiki: DevWiki) -> None:
    def sub_of(token: str) -> str:
        return pyjwt.decode(token, options={"verify_signature": False})["sub"]

    owner_only = wiki.control(
        "oauth2_add_client", redirect_uri="http://127.0.0.1:9/cb", owner_only=True, owner="Alice", grants=["editpage"]
    )
    assert sub_of(signed_in(wiki)["access_token"]) == "3"  # the default, as on REL1_45 and before
    wiki.control("oauth2_configure", use_prefixed_sub=True)
    tokens = signed_in(wiki)
    assert sub_of(tokens["access_token"]) == "mw:local:devwiki:3"  # CentralIdLookup's scope of a wiki alone
    assert profile(wiki, tokens["access_token"]).json()["sub"] == "3"  # identity comes from the profile
    registration = wiki.control("oauth2_issue_token", client_id=owner_only["client_id"], user="Alice")
    assert sub_of(registration["access_token"]) == "3"  # owner-only tokens keep the bare id
    wiki.control("reset")
    assert sub_of(signed_in(wiki)["access_token"]) == "3"


def test_tokens_verify_with_the_public_key_only(wiki: DevWiki) -> None:
    tokens = signed_in(wiki)
    key = wiki.control("oauth2_public_key")["public_key"]
    assert key.startswith("-----BEGIN PUBLIC KEY-----")
    header = pyjwt.get_unverified_header(tokens["access_token"])
    assert header == {"typ": "JWT", "alg": "RS256"}
    pyjwt.decode(tokens["access_token"], key, algorithms=["RS256"], audience=CONFIDENTIAL[0])
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(tokens["access_token"][:-6] + "AAAAAA", key, algorithms=["RS256"], audience=CONFIDENTIAL[0])


def test_hs256_token_signed_with_the_public_key_is_refused(wiki: DevWiki) -> None:
    """The classic algorithm-confusion forgery: only RS256 with the private key counts."""
    tokens = signed_in(wiki)
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    key = wiki.control("oauth2_public_key")["public_key"].encode()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest())
    forged = f"{head}.{body}.{signature}"
    assert profile(wiki, forged).json()["hint"] == "Access token could not be verified"
    assert "error" in api_userinfo(wiki, forged).json()


def test_plain_pkce_only_when_allowed(wiki: DevWiki) -> None:
    """league 8 accepts plain; the devwiki refuses it by default so a client sending it fails."""
    redirect = wiki.store.oauth2.client(PUBLIC[0]).redirect_uri
    verifier = "p" * 50
    url = authorize_url(wiki, PUBLIC[0], redirect_uri=redirect, code_challenge=verifier, code_challenge_method="plain")
    assert browser(wiki).get(url, allow_redirects=False, timeout=5).status_code == 400
    wiki.control("oauth2_configure", allow_plain_pkce=True)
    answer = authorize_oauth2(None, url)
    code = query_of(answer.headers["Location"])["code"]
    assert redeem(wiki, code, PUBLIC, code_verifier="q" * 50).json()["error"] == "invalid_grant"
    assert redeem(wiki, code, PUBLIC, code_verifier=verifier).status_code == 200


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        ({"response_type": "token"}, "Check the `response_type` parameter"),
        ({"client_id": None}, "Check the `client_id` parameter"),
        ({"code_challenge_method": "S512"}, "Check the `code_challenge_method` parameter"),
    ],
)
def test_authorize_parameter_validation(wiki: DevWiki, params: dict[str, str | None], hint: str) -> None:
    query = {"response_type": "code", "client_id": CONFIDENTIAL[0], "state": "s", **params}
    # MediaWiki checks its parameters before anything else, the login included (Authorize::execute).
    answer = requests.get(
        f"{wiki.rest_url}/oauth2/authorize", params={k: v for k, v in query.items() if v is not None}, timeout=5
    )
    assert answer.status_code == 400 and hint in answer.text.replace("&#96;", "`")


def test_approval_must_cover_the_scopes_asked_for(wiki: DevWiki) -> None:
    get_code(wiki, CONFIDENTIAL[0], scope="basic")  # Alice allows basic only
    more = authorize_url(wiki, CONFIDENTIAL[0], scope="basic editpage", approval_pass="1")
    session = browser(wiki, "Alice")
    answer = session.get(more, allow_redirects=False, timeout=5)
    assert answer.status_code == 307 and "Special:OAuth/approve" in answer.headers["Location"]
    assert "approval_pass" not in answer.headers["Location"]
    same = session.get(authorize_url(wiki, CONFIDENTIAL[0], scope="basic", approval_pass="1"), allow_redirects=False)
    assert same.status_code == 302 and "code=" in same.headers["Location"]


def test_json_error_for_a_grant_type_nobody_has(wiki: DevWiki) -> None:
    answer = requests.post(f"{wiki.rest_url}/oauth2/access_token", data={"grant_type": "password"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["hint"] == "Check the `grant_type` parameter"
