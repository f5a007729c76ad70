"""OAuth 2.0 control actions (over HTTP and in-process), config, the home page, Bearer on api.php, the command."""

from __future__ import annotations

import pytest
import requests
from mwsso_devwiki.oauth2.grants import s256
from mwsso_devwiki.state import seed
from mwsso_devwiki.state.config import ConfigError, load_config
from mwsso_devwiki.state.oauth2_settings import OAuth2Settings, SettingsError, add_month
from mwsso_devwiki.state.store import Store
from mwsso_devwiki.testing import DevWiki, authorize_oauth2
from mwsso_devwiki.versions import traits

from .oauth2_client import (
    CONFIDENTIAL,
    PUBLIC,
    api_userinfo,
    authorize_url,
    profile,
    query_of,
    redeem,
    refresh,
    signed_in,
)


def control(wiki: DevWiki, action: str, **params: object) -> requests.Response:
    return requests.post(wiki.control_url, json={"action": action, **params}, timeout=5)


def test_builtin_clients_and_constants(wiki: DevWiki) -> None:
    clients = {c["client_id"]: c for c in wiki.control("oauth2_stats")["clients"]}
    assert clients[seed.DEMO_OAUTH2_CLIENT_ID]["redirect_uri"] == "http://127.0.0.1:8000/complete/mediawiki-oauth2/"
    assert clients[seed.DEMO_OAUTH2_CLIENT_ID]["confidential"] is True
    assert clients[seed.TEST_OAUTH2_CLIENT_ID]["confidential"] is True
    assert clients[seed.PUBLIC_OAUTH2_CLIENT_ID]["confidential"] is False
    assert all("secret" not in c for c in clients.values())
    home = requests.get(f"{wiki.store.server}/wiki/Main_Page", timeout=5).text
    for client_id in clients:
        assert client_id in home
    assert seed.DEMO_OAUTH2_CLIENT_SECRET not in home


def test_register_a_client_with_its_redirect_uri_over_http(wiki: DevWiki) -> None:
    redirect = "http://127.0.0.1:54321/complete/mediawiki-oauth2/"
    made = control(wiki, "oauth2_add_client", redirect_uri=redirect, name="Ephemeral", confidential=False).json()
    assert made["ok"] and made["redirect_uri"] == redirect and len(made["secret"]) == 40
    url = authorize_url(
        wiki, made["client_id"], redirect_uri=redirect, code_challenge=s256("v" * 43), code_challenge_method="S256"
    )
    answer = authorize_oauth2(None, url, user="Bob")
    assert answer.headers["Location"].startswith(redirect + "?code=")
    code = query_of(answer.headers["Location"])["code"]
    tokens = redeem(wiki, code, (made["client_id"], made["secret"]), redirect_uri=redirect, code_verifier="v" * 43)
    assert profile(wiki, tokens.json()["access_token"]).json()["username"] == "Bob"
    wiki.reset()
    assert wiki.store.oauth2.client(made["client_id"]) is None  # reset forgets clients added at run time


def test_set_redirect_uri(wiki: DevWiki) -> None:
    redirect = "http://127.0.0.1:40404/complete/mediawiki-oauth2/"
    assert control(wiki, "oauth2_set_redirect_uri", client_id=CONFIDENTIAL[0], redirect_uri=redirect).json()["ok"]
    answer = authorize_oauth2(None, authorize_url(wiki, CONFIDENTIAL[0], redirect_uri=redirect))
    assert answer.headers["Location"].startswith(redirect + "?code=")
    assert control(wiki, "oauth2_set_redirect_uri", client_id="nope", redirect_uri=redirect).status_code == 400
    wiki.reset()
    assert wiki.store.oauth2.client(CONFIDENTIAL[0]).redirect_uri == seed.TEST_OAUTH2_REDIRECT_URI


def test_revoke_a_grant(wiki: DevWiki) -> None:
    tokens = signed_in(wiki, "Alice")
    bob = signed_in(wiki, "Bob")
    answer = control(wiki, "oauth2_revoke", client_id=CONFIDENTIAL[0], user="Alice").json()
    assert answer["revoked"] == {"access_tokens": 1, "refresh_tokens": 1}
    assert profile(wiki, tokens["access_token"]).json()["hint"] == "Access token has been revoked"
    assert refresh(wiki, tokens["refresh_token"]).json()["hint"] == "Token has been revoked"
    assert profile(wiki, bob["access_token"]).status_code == 200
    assert not wiki.store.oauth2.has_accepted(wiki.store.oauth2.client(CONFIDENTIAL[0]), 3)
    assert control(wiki, "oauth2_revoke", client_id=CONFIDENTIAL[0], user="Nobody").status_code == 400


def test_revoke_and_expire_one_token(wiki: DevWiki) -> None:
    tokens = signed_in(wiki)
    assert wiki.control("oauth2_revoke_token", refresh_token=tokens["refresh_token"])["revoked"] == 1
    assert refresh(wiki, tokens["refresh_token"]).json()["hint"] == "Token has been revoked"
    assert profile(wiki, tokens["access_token"]).status_code == 200
    assert wiki.control("oauth2_revoke_token", access_token=tokens["access_token"])["revoked"] == 1
    assert profile(wiki, tokens["access_token"]).json()["hint"] == "Access token has been revoked"
    assert control(wiki, "oauth2_revoke_token", access_token="bogus").status_code == 400
    assert control(wiki, "oauth2_expire", refresh_token="bogus").status_code == 400


def test_issue_token_without_the_browser(wiki: DevWiki) -> None:
    tokens = wiki.control("oauth2_issue_token", client_id=CONFIDENTIAL[0], user="Bob", scopes=["basic"])
    assert profile(wiki, tokens["access_token"]).json()["grants"] == ["basic"]
    assert control(wiki, "oauth2_issue_token", client_id="nope", user="Bob").status_code == 400


def test_configure_refuses_bad_values(wiki: DevWiki) -> None:
    for bad in ({"use_prefixed_sub": "yes"}, {"access_token_ttl": "soon"}, {"nope": 1}):
        answer = control(wiki, "oauth2_configure", **bad, code_ttl=5)
        assert answer.status_code == 400 and not answer.json()["ok"]
    assert wiki.control("oauth2_stats")["settings"]["code_ttl"] == 600  # nothing half-set
    assert control(wiki, "set_mw_version", version="1.35").status_code == 400
    assert wiki.control("stats")["mw_version"] == "1.43"
    assert (
        control(wiki, "oauth2_set_lifetimes", access_token=10, refresh_token=20, code=30).json()["settings"][
            "access_token_ttl"
        ]
        == 10
    )


def test_counts_and_stats(wiki: DevWiki) -> None:
    tokens = signed_in(wiki)
    refresh(wiki, tokens["refresh_token"])
    profile(wiki, tokens["access_token"])
    api_userinfo(wiki, tokens["access_token"])
    counts = control(wiki, "oauth2_counts").json()["counts"]
    assert counts == {
        "token_requests": 2,
        "refresh": 1,
        "refresh_ok": 1,
        "authorize": 3,  # anonymous (sent to log in), after the login, then with approval_pass
        "approve": 2,
        "profile": 1,
        "api_bearer": 1,
    }
    stats = control(wiki, "stats").json()
    assert stats["mw_version"] == "1.43"
    assert tokens["access_token"] not in str(stats) and tokens["refresh_token"] not in str(stats)


def test_bearer_on_api_uses_the_grants(wiki: DevWiki) -> None:
    read_only = wiki.control("oauth2_issue_token", client_id=CONFIDENTIAL[0], user="Alice", scopes=["basic"])
    editor = signed_in(wiki, "Alice")

    def edit(token: str, title: str) -> dict:
        headers = {"Authorization": f"Bearer {token}"}
        csrf = requests.get(
            wiki.api_url, params={"action": "query", "meta": "tokens", "format": "json"}, headers=headers, timeout=5
        ).json()["query"]["tokens"]["csrftoken"]
        return requests.post(
            wiki.api_url,
            data={"action": "edit", "title": title, "text": "x", "token": csrf, "format": "json"},
            headers=headers,
            timeout=5,
        ).json()

    assert edit(read_only["access_token"], "Apple")["error"]["code"] == "permissiondenied"
    assert edit(editor["access_token"], "Apple")["edit"]["result"] == "Success"
    rights = api_userinfo(wiki, read_only["access_token"], uiprop="rights").json()["query"]["userinfo"]["rights"]
    assert "edit" not in rights and "read" in rights


def test_bearer_for_a_client_that_is_no_longer_approved(wiki: DevWiki) -> None:
    tokens = signed_in(wiki)
    wiki.store.oauth2.client(CONFIDENTIAL[0]).approved = False
    assert (
        api_userinfo(wiki, tokens["access_token"]).json()["error"]["code"]
        == "mwoauth-invalid-authorization-not-approved"
    )
    assert redeem(wiki, "x").json()["error"] == "invalid_client"


def test_rest_php_unknown_path_and_wrong_method(wiki: DevWiki) -> None:
    missing = requests.get(f"{wiki.rest_url}/oauth2/nothing", timeout=5)
    assert missing.status_code == 404 and missing.json()["errorKey"] == "rest-no-match"
    wrong = requests.get(f"{wiki.rest_url}/oauth2/access_token", timeout=5)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"


def test_garbage_never_gives_a_500(wiki: DevWiki) -> None:
    for header in ("Bearer a.b.c", "Bearer e30.e30.", "Bearer !!.!!.!!", "Basic Zm9v", "Bearer " + "x." * 2000):
        answer = requests.get(f"{wiki.rest_url}/oauth2/resource/profile", headers={"Authorization": header}, timeout=5)
        assert answer.status_code == 401, header
    for data in ({"grant_type": "authorization_code", "client_id": "x" * 5000}, {"grant_type": ["a", "b"]}):
        assert requests.post(f"{wiki.rest_url}/oauth2/access_token", data=data, timeout=5).status_code in (400, 401)
    basic = requests.post(
        f"{wiki.rest_url}/oauth2/access_token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers={"Authorization": "Basic !!!"},
        timeout=5,
    )
    assert basic.status_code == 400 and basic.json()["hint"] == "Check the `client_id` parameter"
    approve = requests.get(f"{wiki.store.server}/w/index.php?title=Special:OAuth/approve&returnto=/evil", timeout=5)
    assert approve.status_code == 400 and "Location" not in approve.headers


def test_config_file_clients_and_version(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "wiki.toml"
    path.write_text(
        'mw_version = "1.39"\n[oauth2]\naccess_token_ttl = 600\n'
        '[[oauth2_clients]]\nclient_id = "abc"\nsecret = "s"\nname = "Mine"\nredirect_uri = "http://x/cb"\n'
    )
    store = Store(path)
    assert store.mw_version == "1.39" and store.oauth2.settings.access_token_ttl == 600
    assert store.oauth2.client("abc").redirect_uri == "http://x/cb"
    assert store.oauth2.client(PUBLIC[0]) is not None
    assert Store(path, mw_version="1.43").mw_version == "1.43"
    for bad in (
        {"mw_version": "2.0"},
        {"oauth2": {"use_prefixed_sub": "x"}},
        {"oauth2_clients": [{"client_id": "a", "secret": "b"}]},
        {"oauth2_clients": [{"client_id": "a", "secret": "b", "redirect_uri": "u", "colour": "red"}]},
    ):
        with pytest.raises(ConfigError):
            load_config(bad)


def test_settings_and_pkce_are_pure() -> None:
    # RFC 7636 appendix B
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    dec_1 = 1796140800.0  # 2026-12-01T16:00:00Z
    assert add_month(dec_1) - dec_1 == 31 * 86400
    assert add_month(1769817600.0) == 1772496000.0  # 31 Jan 2026 + P1M = 3 Mar 2026, as PHP rolls over
    settings = OAuth2Settings()
    assert settings.refresh_expiry(1000.0, traits("1.39")) == 1060.0
    assert settings.refresh_expiry(dec_1, traits("1.45")) == add_month(dec_1)
    with pytest.raises(SettingsError):
        OAuth2Settings(code_ttl=1.5)


@pytest.mark.parametrize("step", ["oauth2_token", "oauth2_profile", "oauth2_authorize"])
def test_step_faults(wiki: DevWiki, step: str) -> None:
    tokens = signed_in(wiki)
    url = {
        "oauth2_token": f"{wiki.rest_url}/oauth2/access_token",
        "oauth2_profile": f"{wiki.rest_url}/oauth2/resource/profile",
        "oauth2_authorize": authorize_url(wiki, CONFIDENTIAL[0]),
    }[step]
    method = "POST" if step == "oauth2_token" else "GET"
    kw = {"headers": {"Authorization": f"Bearer {tokens['access_token']}"}, "allow_redirects": False, "timeout": 5}
    wiki.control("set_fault", step=step, kind="error", count=1)
    failed = requests.request(method, url, **kw)
    assert failed.status_code == 500 and failed.json()["error"] == "server_error"
    wiki.control("set_fault", step=step, kind="garbage", count=1)
    assert requests.request(method, url, **kw).status_code == 200
    wiki.control("set_fault", step=step, kind="drop", count=1)
    with pytest.raises(requests.ConnectionError):
        requests.request(method, url, **kw)
    assert requests.request(method, url, **kw).status_code != 500  # counted faults clear themselves
