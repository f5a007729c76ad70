"""Whole OAuth 2.0 flows against the devwiki, for confidential and public (PKCE) clients, on 1.39 and 1.43."""

from __future__ import annotations

import jwt as pyjwt
import pytest
import requests
from mwsso_devwiki.testing import DevWiki, running_devwiki

from tests import recorded

from .oauth2_client import CONFIDENTIAL, PUBLIC, REDIRECT, api_userinfo, get_code, profile, refresh, signed_in

VERSIONS = ("1.43", "1.39")


@pytest.fixture(params=VERSIONS)
def any_wiki(wiki: DevWiki, request: pytest.FixtureRequest) -> DevWiki:
    wiki.control("set_mw_version", version=request.param)
    return wiki


def _verify(wiki: DevWiki, token: str, client_id: str) -> dict:
    return pyjwt.decode(
        token,
        wiki.control("oauth2_public_key")["public_key"],
        algorithms=["RS256"],
        audience=client_id,
        issuer=wiki.store.server,
    )


@pytest.mark.parametrize("client", [CONFIDENTIAL, PUBLIC], ids=["confidential", "public-pkce"])
def test_whole_flow(any_wiki: DevWiki, client: tuple[str, str]) -> None:
    answer = signed_in(any_wiki, "Alice", client)
    assert sorted(answer) == ["access_token", "expires_in", "refresh_token", "token_type"]
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    claims = _verify(any_wiki, answer["access_token"], client[0])
    assert list(claims) == ["aud", "jti", "iat", "nbf", "exp", "sub", "iss", "scopes"]
    assert claims["sub"] == "3" and isinstance(claims["iat"], float) and len(claims["jti"]) == 80
    assert claims["scopes"] == ["basic", "editpage", "createeditmovepage"]
    shown = profile(any_wiki, answer["access_token"])
    assert shown.status_code == 200
    assert shown.json()["username"] == "Alice" and shown.json()["sub"] == "3"
    api = api_userinfo(any_wiki, answer["access_token"], uiprop="rights")
    assert api.json()["query"]["userinfo"]["name"] == "Alice"
    renewed = refresh(any_wiki, answer["refresh_token"], client)
    assert renewed.status_code == 200, renewed.text
    assert profile(any_wiki, renewed.json()["access_token"]).status_code == 200


def test_state_is_echoed_and_the_code_looks_like_the_real_one(wiki: DevWiki) -> None:
    answer = get_code(wiki, CONFIDENTIAL[0], state="st-123")
    assert answer["state"] == "st-123" and answer["code"].startswith("def50200")
    assert "state" not in get_code(wiki, CONFIDENTIAL[0])


def test_profile_matches_the_recorded_one_for_each_version(wiki: DevWiki) -> None:
    for version, flows, key in (
        ("1.43", "mediawiki-1.43-flows.json", "oauth2_confidential_alice"),
        ("1.39", "mediawiki-1.39-flows.json", "oauth2-profile"),
    ):
        wiki.control("set_mw_version", version=version)
        seen = recorded.load(flows)[key]["profile"]
        grants = seen["grants"]
        client = wiki.control("oauth2_add_client", redirect_uri=REDIRECT, grants=grants)
        token = wiki.control("oauth2_issue_token", client_id=client["client_id"], user="Alice")["access_token"]
        body = profile(wiki, token).json()
        assert list(body) == list(seen), version  # the same claims in the same order
        assert body["rights"] == seen["rights"], version  # limited by the grants
        assert body["grants"] == grants


def test_mw_version_option_of_running_devwiki() -> None:
    with running_devwiki(mw_version="1.39") as old:
        assert old.store.mw_version == "1.39"
        token = old.control("oauth2_issue_token", client_id=CONFIDENTIAL[0], user="Alice")["access_token"]
        assert profile(old, token).headers["Content-Type"] == "text/html"
        assert "email_verified" not in profile(old, token).json()
        old.reset()
        assert old.store.mw_version == "1.39"  # reset keeps the configured version


def test_devwiki_handle_switches_version_until_reset(wiki: DevWiki) -> None:
    assert wiki.mw_version == "1.43"
    wiki.mw_version = "1.39"
    token = wiki.control("oauth2_issue_token", client_id=CONFIDENTIAL[0], user="Alice")["access_token"]
    assert profile(wiki, token).headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        wiki.mw_version = "1.0"
    wiki.reset()
    assert wiki.mw_version == "1.43"


def test_resource_scopes_lists_the_client_grants(wiki: DevWiki) -> None:
    token = wiki.control("oauth2_issue_token", client_id=CONFIDENTIAL[0], user="Alice", scopes=["basic"])[
        "access_token"
    ]
    answer = requests.get(
        f"{wiki.rest_url}/oauth2/resource/scopes", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert answer.json() == {"scopes": ["basic", "editpage", "createeditmovepage"]}
    assert requests.get(f"{wiki.rest_url}/oauth2/resource/scopes", timeout=5).status_code == 401
