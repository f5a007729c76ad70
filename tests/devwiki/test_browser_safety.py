"""A page in the developer's browser cannot drive or read the local wiki (issue 13, finding 4).

No cross-site ``text/plain`` POST to the control endpoint (it needs
``application/json``, which a page can only send after a preflight the devwiki
never allows), no control request from a foreign ``Origin``, and no answer at
all for a ``Host`` that is not the wiki's own (DNS rebinding).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from mwsso_devwiki.web.hosts import is_own_host, is_same_origin
from requests_oauthlib import OAuth1

from .conftest import TEST, special

BLOCK_ALICE = '{"action": "block", "user": "Alice"}'


def post_control(wiki, body: str = BLOCK_ALICE, **headers: str) -> requests.Response:
    return requests.post(wiki.control_url, data=body.encode(), headers=headers, timeout=5)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""]
)
def test_the_control_endpoint_reads_only_json(wiki, content_type):
    answer = post_control(wiki, **({"Content-Type": content_type} if content_type else {}))
    assert answer.status_code == 415 and answer.json()["ok"] is False
    assert not wiki.store.user("Alice").blocked


@pytest.mark.parametrize("origin", ["http://evil.example.org", "null", "http://127.0.0.1:1", "https://127.0.0.1"])
def test_a_foreign_origin_may_not_drive_the_wiki(wiki, origin):
    answer = post_control(wiki, **{"Content-Type": "application/json", "Origin": origin})
    assert answer.status_code == 403 and answer.json()["ok"] is False
    assert not wiki.store.user("Alice").blocked


def test_the_wikis_own_origin_and_non_browser_clients_may(wiki):
    own = f"http://{urlsplit(wiki.control_url).netloc}"
    assert post_control(wiki, **{"Content-Type": "application/json; charset=utf-8", "Origin": own}).json()["ok"]
    assert wiki.store.user("Alice").blocked
    assert post_control(wiki, '{"action": "stats"}', **{"Content-Type": "application/json"}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example.org", "attacker.example:{port}", "127.0.0.1.evil.example", "[::2]"])
def test_a_foreign_host_name_gets_no_answer(wiki, host):
    port = urlsplit(wiki.index_url).port
    for url in (special(wiki, "initiate"), wiki.api_url + "?action=query&meta=siteinfo&format=json"):
        answer = requests.get(url, headers={"Host": host.format(port=port)}, timeout=5)
        assert answer.status_code == 421 and "local wiki" in answer.text
    answer = requests.post(
        wiki.control_url,
        json={"action": "issue_token", "consumer_key": TEST[0], "user": "Alice"},
        headers={"Host": host.format(port=port)},
        timeout=5,
    )
    assert answer.status_code == 421 and "secret" not in answer.text
    assert wiki.control("stats")["access_tokens"] == []


@pytest.mark.parametrize("alias", ["localhost", "127.0.0.2", "[::1]", "LOCALHOST."])
def test_loopback_aliases_are_own_names_yet_fail_the_wgserver_signature_rule(wiki, alias):
    # The "host alias that is not $wgServer" case the signature tests rely on: answered, and refused as a real wiki would.
    # oauthlib signs for the Host header's name: a client that reached the wiki as ``alias``.
    port = urlsplit(wiki.index_url).port
    answer = requests.post(
        special(wiki, "initiate"),
        params={"format": "json"},
        headers={"Host": f"{alias}:{port}"},
        auth=OAuth1(*TEST, callback_uri="oob", signature_type="auth_header"),
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["error"] == "mwoauth-oauth-exception", answer.text
    assert "Invalid signature" in answer.json()["message"]
    # The same request signed for $wgServer's own name is good.
    good = requests.post(
        special(wiki, "initiate"),
        params={"format": "json"},
        headers={"Host": urlsplit(wiki.index_url).netloc},
        auth=OAuth1(*TEST, callback_uri="oob", signature_type="auth_header"),
        timeout=5,
    )
    assert good.status_code == 200 and "key" in good.json()


def test_own_host_names() -> None:
    server = "http://wiki.test:8080"
    for host in [
        "127.0.0.1:8001",
        "127.9.9.9",
        "localhost:1",
        "[::1]:8001",
        "wiki.test:8080",
        "WIKI.TEST",
        "wiki.test.",
    ]:
        assert is_own_host(host, server), host
    for host in ["", "evil.example", "wiki.test.evil", "10.0.0.1", "[::2]", "[bad", "0.0.0.0"]:
        assert not is_own_host(host, server), host
    assert is_same_origin("http://127.0.0.1:8001", "127.0.0.1:8001", server)
    assert is_same_origin("http://wiki.test:8080/", "127.0.0.1:8001", server)
    assert not is_same_origin("http://127.0.0.1:8000", "127.0.0.1:8001", server)


def test_set_cookie_is_sent_on_every_answer_and_cookies_received_are_recorded(wiki):
    assert post_control(
        wiki, '{"action": "set_cookie", "cookie": "cpPosIndex=1; Path=/"}', **{"Content-Type": "application/json"}
    ).ok
    answer = requests.get(wiki.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"}, timeout=5)
    assert answer.headers["Set-Cookie"] == "cpPosIndex=1; Path=/"
    requests.get(wiki.api_url, headers={"Cookie": "a=b", "User-Agent": "browser"}, timeout=5)
    assert wiki.control("stats")["cookies_received"] == [{"cookie": "a=b", "user_agent": "browser"}]
    assert (
        post_control(
            wiki, '{"action": "set_cookie", "cookie": "x\\r\\nLocation: /"}', **{"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    wiki.reset()
    assert "Set-Cookie" not in requests.get(wiki.api_url, timeout=5).headers
