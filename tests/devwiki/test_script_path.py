"""The devwiki under any $wgScriptPath: entry points only there, signatures over the URL the client sent."""

from __future__ import annotations

import pytest
import requests
from mwsso_devwiki.state.config import ConfigError, load_config
from mwsso_devwiki.state.store import Store
from mwsso_devwiki.testing import running_devwiki

from mwsso.protocol.oauth1 import Consumer, TokenPair, signing_auth

KEY, SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3"


@pytest.fixture(scope="module")
def root_wiki():
    with running_devwiki(script_path="") as wiki:
        yield wiki


def _token(wiki) -> TokenPair:
    issued = wiki.control("issue_token", consumer_key=KEY, user="Alice")
    return TokenPair(issued["key"], issued["secret"])


def _userinfo(url: str, token: TokenPair) -> requests.Response:
    params = {"action": "query", "meta": "userinfo", "format": "json", "formatversion": "2"}
    return requests.get(url, params=params, auth=signing_auth(Consumer(KEY, SECRET), token), timeout=10)


def test_a_root_wiki_serves_index_and_api_at_the_server_root(root_wiki):
    assert root_wiki.index_url == f"{root_wiki.server_url}/index.php"
    assert root_wiki.api_url == f"{root_wiki.server_url}/api.php"
    answer = _userinfo(root_wiki.api_url, _token(root_wiki)).json()
    assert answer["query"]["userinfo"]["name"] == "Alice"
    general = requests.get(
        root_wiki.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"}, timeout=10
    )
    assert general.json()["query"]["general"]["scriptpath"] == ""


def test_the_doubled_slash_reaches_api_php_but_its_signature_is_invalid(root_wiki):
    # As on a real root-path wiki: the web server runs api.php for //api.php, and OAuth checks the
    # signature against $wgServer + "/api.php" (WebRequest::getRequestURL collapses leading slashes).
    token = _token(root_wiki)
    answer = _userinfo(f"{root_wiki.server_url}//api.php", token)
    error = answer.json()["error"]
    assert error["code"] == "mwoauth-invalid-authorization" and "Invalid signature" in error["info"]


def test_entry_points_exist_only_under_the_script_path(root_wiki):
    assert _userinfo(f"{root_wiki.server_url}/w/api.php", _token(root_wiki)).status_code == 404
    with running_devwiki() as w_wiki:
        assert w_wiki.api_url.endswith("/w/api.php")
        assert _userinfo(f"{w_wiki.server_url}/api.php", _token(w_wiki)).status_code == 404
        assert requests.get(f"{w_wiki.server_url}/index.php", timeout=10).status_code == 404


@pytest.mark.parametrize("script_path", ["/mediawiki", "/wiki/w"])
def test_other_script_paths(script_path):
    with running_devwiki(script_path=script_path) as wiki:
        assert wiki.api_url == f"{wiki.server_url}{script_path}/api.php"
        assert _userinfo(wiki.api_url, _token(wiki)).json()["query"]["userinfo"]["name"] == "Alice"
        page = requests.get(wiki.index_url, params={"title": "Sandbox"}, timeout=10)
        assert page.status_code == 200 and "Sandbox" in page.text


def test_the_script_path_comes_from_the_config_or_the_argument():
    assert Store().script_path == "/w"
    assert Store({"script_path": ""}).script_path == ""
    assert Store({"script_path": "/mediawiki"}, script_path="").script_path == ""
    for bad in ["w", "/w/index.php", "/w?x", 3]:
        with pytest.raises(ConfigError):
            load_config({"script_path": bad})
