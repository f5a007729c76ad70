"""Config files (JSON, TOML), built-ins, the canonical server, and serve() start/stop."""

from __future__ import annotations

import io
import json
import threading
import time

import jwt
import pytest
import requests
from mwsso_devwiki import serve
from mwsso_devwiki.state import seed
from mwsso_devwiki.state.config import ConfigError, load_config
from mwsso_devwiki.testing import running_devwiki
from requests_oauthlib import OAuth1

from .conftest import CALLBACK, TEST, handshake, identify, initiate, special

CUSTOM = {
    "consumers": [
        {
            "key": "c" * 32,
            "secret": "d" * 40,
            "name": "My tool",
            "callback": "http://127.0.0.1:1/complete/",
            "callback_is_prefix": True,
            "grants": ["basic", "editpage"],
        }
    ],
    "users": [{"sub": 42, "name": "Dora", "editcount": 7, "registered": "20100101000000"}],
    "pages": [{"title": "Dora's page", "text": "Hello"}],
    "jwt": {"sub_type": "int"},
}


def test_built_ins():
    loaded = load_config()
    keys = {c["key"]: c for c in loaded["consumers"]}
    assert keys[seed.DEMO_CONSUMER_KEY]["secret"] == seed.DEMO_CONSUMER_SECRET
    assert keys[seed.DEMO_CONSUMER_KEY]["callback"] == "http://127.0.0.1:1/complete/mediawiki/"
    assert keys[seed.UNAPPROVED_CONSUMER_KEY]["approved"] is False
    assert {u["sub"]: u["name"] for u in loaded["users"]} == {
        1: "Admin Sysop",
        3: "Alice",
        4: "Bob",
        5: "Mallory",
        7: "Newbie",
        11: "Zoë Ünïcode-Test",
    }
    assert len(loaded["pages"]) >= 25


def test_json_file_adds_to_built_ins(tmp_path):
    path = tmp_path / "wiki.json"
    path.write_text(json.dumps(CUSTOM), encoding="utf-8")
    with running_devwiki(path) as wiki:
        assert wiki.store.consumer(seed.DEMO_CONSUMER_KEY) is not None
        assert wiki.store.user("Dora").sub == 42
        assert wiki.store.pages.get("Dora's page") is not None
        pair = ("c" * 32, "d" * 40)
        oauth_claims = jwt.decode(
            identify(wiki, pair, handshake(wiki, "Dora", pair)).text,
            pair[1],
            algorithms=["HS256"],
            audience=pair[0],
            options={"verify_sub": False},
        )
        assert oauth_claims["sub"] == 42 and oauth_claims["grants"] == {"0": "basic", "2": "editpage"}


def test_toml_file_without_built_ins(tmp_path):
    path = tmp_path / "wiki.toml"
    path.write_text(
        'builtins = false\n[[consumers]]\nkey = "ab"\nsecret = "cd"\nname = "Only"\n'
        '[[users]]\nsub = 1\nname = "Solo"\n',
        encoding="utf-8",
    )
    loaded = load_config(path)
    assert [c["name"] for c in loaded["consumers"]] == ["Only"]
    assert [u["name"] for u in loaded["users"]] == ["Solo"] and loaded["pages"] == []


@pytest.mark.parametrize(
    "bad",
    [
        {"colour": "blue"},
        {"consumers": [{"name": "no key"}]},
        {"users": [{"sub": 1}]},
        {"users": [{"sub": 1, "name": "X", "shoe_size": 9}]},
        {"jwt": {"sub_type": "float"}},
    ],
)
def test_config_mistakes_fail_at_start(bad):
    with pytest.raises(ConfigError):
        load_config(bad)


def test_broken_file(tmp_path):
    path = tmp_path / "wiki.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(path)


def test_configured_server_is_iss_and_signature_base():
    with running_devwiki() as probe:
        port = probe.server.port
    with running_devwiki({"server": f"http://localhost:{port}"}, port=port) as wiki:
        assert wiki.index_url == f"http://localhost:{port}/w/index.php"
        via_ip = special(wiki, "initiate").replace("localhost", "127.0.0.1")
        refused = requests.post(via_ip, params={"format": "json"}, auth=OAuth1(*TEST, callback_uri="oob"), timeout=5)
        assert refused.json()["message"].endswith("Invalid signature")
        assert "key" in initiate(wiki).json()
        claims = jwt.decode(identify(wiki, TEST, handshake(wiki)).text, TEST[1], algorithms=["HS256"], audience=TEST[0])
        assert claims["iss"] == f"http://localhost:{port}"


def test_serve_prints_urls_and_stops_cleanly():
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=serve, kwargs={"host": "127.0.0.1", "port": 0, "stdout": out, "stop": stop})
    thread.start()
    for _ in range(100):
        if "Stop with Ctrl-C" in out.getvalue():
            break
        time.sleep(0.02)
    banner = out.getvalue()
    url = banner.split(" at ", 1)[1].split()[0]
    assert seed.DEMO_CONSUMER_KEY in banner and seed.DEMO_CONSUMER_SECRET not in banner
    assert f'SOCIAL_AUTH_MEDIAWIKI_URL = "{url}/w/index.php"' in banner
    assert requests.get(f"{url}/wiki/Main_Page", timeout=5).status_code == 200
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and out.getvalue().endswith("devwiki stopped.\n")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/wiki/Main_Page", timeout=2)


def test_main_page_and_unknown_paths(wiki):
    home = requests.get(wiki.server_url + "/", timeout=5)
    assert home.url.endswith("/wiki/Main_Page") and seed.DEMO_CONSUMER_KEY in home.text
    assert seed.DEMO_CONSUMER_SECRET not in home.text
    assert requests.get(wiki.server_url + "/nope", timeout=5).status_code == 404
    assert CALLBACK  # the shared callback constant is what the test consumer accepts
