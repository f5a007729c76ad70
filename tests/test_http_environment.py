"""The shared session honours the environment's proxies, NO_PROXY and CA bundle as requests does, reading them
once per wiki (mwsso.http.WikiSession) instead of on every request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from mwsso import http


class _Server(BaseHTTPRequestHandler):
    """Answers every GET with its own name; records the request target (a proxy is sent the absolute URL)."""

    protocol_version = "HTTP/1.1"
    name = b""
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.path + (" with Authorization" if self.headers.get("Authorization") else ""))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.name)))
        self.end_headers()
        self.wfile.write(self.name)

    def log_message(self, *args: object) -> None:
        pass


def _serve(name: bytes) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Server,), {"name": name, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    yield from _serve(b"proxy")


@pytest.fixture
def wiki() -> Iterator[tuple[str, list[str]]]:
    yield from _serve(b"wiki")


# Every variable requests reads for proxies and CA bundles: a test starts without any of the machine's.
ENVIRONMENT = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
               "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    http.reset_session()
    yield
    http.reset_session()


def test_the_environments_proxy_carries_requests_to_a_wiki(monkeypatch, proxy):
    address, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", address)
    answer = http.request("GET", "http://wiki.invalid/w/api.php?action=query")
    assert answer.text == "proxy"
    assert seen == ["http://wiki.invalid/w/api.php?action=query"]


def test_no_proxy_sends_a_wiki_direct(monkeypatch, proxy, wiki):
    (proxy_address, through_proxy), (wiki_address, at_wiki) = proxy, wiki
    monkeypatch.setenv("HTTP_PROXY", proxy_address)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert http.request("GET", f"{wiki_address}/w/api.php").text == "wiki"
    assert through_proxy == [] and at_wiki == ["/w/api.php"]


def test_a_proxy_the_caller_names_wins_over_the_environment(monkeypatch, proxy, wiki):
    (proxy_address, through_proxy), (wiki_address, _) = proxy, wiki
    monkeypatch.setenv("HTTP_PROXY", wiki_address)
    assert http.request("GET", "http://wiki.invalid/x", proxies={"http": proxy_address}).text == "proxy"
    assert through_proxy == ["http://wiki.invalid/x"]


def test_the_environment_is_read_once_per_wiki_and_again_after_reset_session(monkeypatch, proxy, wiki):
    (proxy_address, through_proxy), (wiki_address, at_wiki) = proxy, wiki
    reads: list[str] = []
    real = requests.utils.get_environ_proxies

    def counted(url: str, no_proxy: str | None = None) -> dict[str, str]:
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counted)
    for number in range(10):
        http.request("GET", f"{wiki_address}/w/api.php?n={number}")
    assert len(reads) == 1 and len(at_wiki) == 10
    http.request("GET", "http://other.invalid/", proxies={"http": proxy_address})
    assert len(reads) == 2  # another wiki: its own reading

    # The environment changes (a proxy is added): the session in use keeps what it read; a new one reads again.
    monkeypatch.setenv("HTTP_PROXY", proxy_address)
    assert http.request("GET", f"{wiki_address}/again").text == "wiki"
    http.reset_session()
    assert http.request("GET", f"{wiki_address}/again").text == "proxy"
    assert through_proxy[-1] == f"{wiki_address}/again" and len(reads) == 3


def test_the_environments_ca_bundle_is_used_unless_the_caller_says_otherwise(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = http.get_session()
    url = "https://wiki.example/w/api.php"
    assert session.merge_environment_settings(url, {}, None, None, None)["verify"] == str(bundle)
    assert session.merge_environment_settings(url, {}, None, False, None)["verify"] is False
    assert session.merge_environment_settings(url, {}, None, "/mine.pem", None)["verify"] == "/mine.pem"
    # As requests' own session says, for the same environment.
    plain = requests.Session()
    assert session.merge_environment_settings(url, {}, None, None, None) == plain.merge_environment_settings(
        url, {}, None, None, None
    )


def test_a_netrc_password_is_never_sent_to_a_wiki(monkeypatch, tmp_path, wiki):
    # requests sends ~/.netrc's login for a host with any request that has no auth of its own; the shared
    # session serves every user of the site, so it does not (a plain requests.Session does, shown first).
    address, seen = wiki
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login operator password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    requests.get(f"{address}/plain", timeout=5)
    http.request("GET", f"{address}/ours")
    assert seen == ["/plain with Authorization", "/ours"]
