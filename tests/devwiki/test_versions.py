"""What each MediaWiki version does differently, as the local wiki plays it from one table (versions.py)."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from mwsso_devwiki.testing import DevWiki
from mwsso_devwiki.versions import VERSIONS, traits

from tests import recorded

from .conftest import TEST, api, browser, handshake, identify, signed
from .oauth2_client import CONFIDENTIAL, authorize_url, profile, refresh, signed_in

R145 = {entry["n"]: entry for entry in recorded.load("mediawiki-1.45-responses.json")}


@pytest.fixture(params=sorted(VERSIONS))
def version(request: pytest.FixtureRequest, wiki: DevWiki) -> str:
    wiki.control("set_mw_version", version=request.param)
    return request.param


def _rights(wiki: DevWiki, user: str) -> tuple[list[str], list[str], list[str]]:
    """identify's rights, api.php's (signed) and the OAuth 2.0 profile's, for ``user``."""
    access = handshake(wiki, user)
    token = identify(wiki, TEST, access).text
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    userinfo = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": "rights"}, signed(TEST, access)).json()
    oauth2 = profile(wiki, signed_in(wiki, user)["access_token"]).json()
    return claims["rights"], userinfo["query"]["userinfo"]["rights"], oauth2["rights"]


def test_writeapi_and_purge_are_in_no_rights_list_after_1_39(wiki: DevWiki, version: str) -> None:
    lists = _rights(wiki, "Alice")
    anonymous = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": "rights"}).json()
    everywhere = [*lists, anonymous["query"]["userinfo"]["rights"]]
    for name in ("writeapi", "purge"):
        assert any(name in rights for rights in everywhere) is (version == "1.39"), (name, version)


def test_editcontentmodel_is_no_plain_users_right_on_1_45_but_sysops_keep_it(wiki: DevWiki, version: str) -> None:
    identify_rights, api_rights, profile_rights = _rights(wiki, "Alice")
    assert ("editcontentmodel" in identify_rights) is (version != "1.45")
    assert ("editcontentmodel" in api_rights) is (version != "1.45")
    assert ("editcontentmodel" in profile_rights) is (version != "1.45")
    sysop_rights = _rights(wiki, "Admin Sysop")[0]
    assert "editcontentmodel" in sysop_rights


def test_api_php_answers_carry_the_recorded_cache_control(wiki: DevWiki, version: str) -> None:
    seen = {R145[n]["cache_control"] for n in R145 if "/api.php" in R145[n]["request"]["url"]}
    assert seen == {"private, must-revalidate, max-age=0"}
    ok = api(wiki, {"action": "query", "meta": "userinfo"})
    error = api(wiki, {"action": "nosuchaction"})
    assert ok.headers["Cache-Control"] == error.headers["Cache-Control"] == seen.pop()
    assert error.headers["MediaWiki-API-Error"] == "badvalue"


def test_an_invalid_bearer_on_rest_php_is_403_from_1_45_and_no_header_still_401(wiki: DevWiki, version: str) -> None:
    tokens = signed_in(wiki)
    assert refresh(wiki, tokens["refresh_token"]).status_code == 200  # revokes the first access token
    answers = {
        "bogus": profile(wiki, "bogus"),
        "empty": requests.get(f"{wiki.rest_url}/oauth2/resource/profile", headers={"Authorization": "Bearer "}),
        "revoked by refresh": profile(wiki, tokens["access_token"]),
    }
    for why, answer in answers.items():
        if version == "1.45":
            assert (answer.status_code, answer.headers["Content-Type"]) == (403, "application/json"), why
            assert answer.text == R145[179]["body"] == R145[180]["body"] == R145[93]["body"], why
            assert "Cache-Control" not in answer.headers
        else:
            assert (answer.status_code, answer.json()["error"]) == (401, "access_denied"), why
    none = profile(wiki, None)
    if version == "1.39":
        assert none.status_code == 500  # REL1_39 crashes in Guzzle (recorded 9b)
    else:
        assert (none.status_code, none.text) == (401, R145[178]["body"])


def test_the_oauth2_consent_page_does_not_call_itself_oauth_1_0a(wiki: DevWiki, version: str) -> None:
    alice = browser(wiki)
    first = alice.get(authorize_url(wiki, CONFIDENTIAL[0], state="s"), allow_redirects=False, timeout=5)
    page = alice.get(first.headers["Location"], timeout=5)
    assert 'id="mw-mwoauth-authorize-form"' in page.text and "OAuth 1.0a" not in page.text
    assert ('name="display"' in page.text) is traits(version).consent_display_field


def test_each_version_names_itself_in_siteinfo(wiki: DevWiki, version: str) -> None:
    general = api(wiki, {"action": "query", "meta": "siteinfo"}).json()["query"]["general"]
    assert general["generator"].startswith(f"MediaWiki {version}.")
