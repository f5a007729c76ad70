"""``mwsso.http.send_fields``, the API client's way to a wiki: the very request ``Session.request`` would send
(method, URL, headers, body, signature, hooks and send settings), prepared without requests' per-call merging."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from mwsso import http
from mwsso.protocol import signature
from mwsso.protocol.signature import HmacSha1Auth
from tests.test_http_environment import ENVIRONMENT

# A fixed nonce and clock: the same request signs to the same Authorization header on both paths.
AUTH = HmacSha1Auth("consumer", "consumer-secret", "token", "token-secret", nonce="n0nce", clock=lambda: 1.7e9)

CASES = [
    ("GET", "http://wiki.test/w/api.php", {"action": "query", "titles": "Ä|B c", "x": "\x1fa|b\x1fc", "e": ""}),
    ("GET", "http://wiki.test/w/api.php", {}),
    ("POST", "http://wiki.test/w/api.php", {"action": "edit", "text": "Grüße & = + %20\n😀", "token": "+\\"}),
    ("POST", "http://wiki.test/w/api.php", {}),
    ("GET", "http://wiki.test/w/api.php?from=url", {"action": "query"}),
    ("POST", "http://wiki.test/w/api.php?from=url", {"action": "query"}),
    ("GET", "http://wiki.test/w/api.php#fragment", {"action": "query"}),
    ("GET", "http://bücher.example/w/api.php", {"action": "query"}),
    ("GET", "http://wiki.test/wiki api/api.php", {"action": "query"}),
    ("post", "https://[::1]:8443/w/api.php", {"action": "purge", "titles": "A"}),
    ("get", "http://bot:pass@wiki.test/w/api.php", {"action": "query"}),
]


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")  # send settings from the environment count too
    monkeypatch.setenv("NO_PROXY", "bücher.example")
    http.reset_session()
    yield
    http.reset_session()


def _sent(monkeypatch: pytest.MonkeyPatch, send: Any) -> tuple[requests.PreparedRequest, dict[str, Any]]:
    """The prepared request and the send settings that reach ``Session.send``, which is not let through."""
    session = http.get_session()
    captured: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []

    def capture(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        captured.append((request, kwargs))
        raise _Captured

    monkeypatch.setattr(session, "send", capture)
    with pytest.raises(_Captured):
        send()
    monkeypatch.undo()
    return captured[0]


class _Captured(Exception):
    pass


def _shape(request: requests.PreparedRequest, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": request.url,
        "headers": sorted((name.lower(), value) for name, value in request.headers.items()),
        "body": request.body.encode() if isinstance(request.body, str) else request.body,
        "hooks": request.hooks,
        "cookies": list(request._cookies),  # type: ignore[attr-defined]
        "send": kwargs,
    }


@pytest.mark.parametrize(("method", "url", "fields"), CASES)
def test_the_same_request_as_session_request(monkeypatch, method, url, fields):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/site/ca.pem")  # never opened: the request is not let through
    where = "params" if method.upper() == "GET" else "data"
    theirs = _sent(monkeypatch, lambda: http.request(method, url, auth=AUTH, **{where: fields}))
    ours = _sent(monkeypatch, lambda: http.send_fields(method, url, fields, auth=AUTH))
    assert _shape(*ours) == _shape(*theirs)
    assert ours[0].headers["Authorization"].startswith('OAuth oauth_nonce="n0nce"')


def test_a_header_requests_would_refuse_is_refused():
    session, url, bad = http.get_session(), "http://wiki.test/w/api.php", {"User-Agent": "Tool/1.0\r\nX-Injected: yes"}
    assert isinstance(session, http.WikiSession)
    with pytest.raises(requests.exceptions.InvalidHeader):
        session.request("GET", url, headers=bad)
    with pytest.raises(requests.exceptions.InvalidHeader):
        session.send_fields("GET", url, {"action": "query"}, auth=AUTH, timeout=5, headers=bad)


class _Wiki(BaseHTTPRequestHandler):
    """Sets a cookie on every answer, redirects /moved, answers /big with more than the bound; records requests."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str | None, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _Wiki.seen.append((self.command, self.path, self.headers.get("Cookie"), self.rfile.read(length)))
        body = b"x" * 2000 if self.path.startswith("/big") else b'{"ok": true}'
        self.send_response(302 if self.path.startswith("/moved") else 200)
        self.send_header("Set-Cookie", "session=abc; Path=/")
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wiki(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("HTTP_PROXY")
    http.reset_session()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Wiki)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Wiki.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_on_the_wire_no_cookie_kept_no_redirect_followed_and_the_answer_bounded(wiki, monkeypatch):
    first = http.send_fields("POST", f"{wiki}/w/api.php", {"action": "edit", "text": "a b&c"}, auth=AUTH)
    assert first.status_code == 200 and first.json() == {"ok": True}
    http.send_fields("GET", f"{wiki}/w/api.php", {"action": "query"}, auth=AUTH)
    moved = http.send_fields("GET", f"{wiki}/moved", {"action": "query"}, auth=AUTH)
    assert moved.status_code == 302 and moved.headers["Location"] == "/elsewhere"
    assert moved.next is not None and "Cookie" not in moved.next.headers  # prepared, not followed, no cookie
    assert _Wiki.seen == [
        ("POST", "/w/api.php", None, b"action=edit&text=a+b%26c"),
        ("GET", "/w/api.php?action=query", None, b""),  # the cookie the first answer set is not sent back
        ("GET", "/moved?action=query", None, b""),  # and the redirect was not followed
    ]
    monkeypatch.setattr(http, "MAX_ANSWER_BYTES", 1000)
    with pytest.raises(http.AnswerTooLarge):
        http.send_fields("GET", f"{wiki}/big", {"action": "query"}, auth=AUTH)


def test_nothing_a_user_sent_or_a_password_is_kept_between_requests(monkeypatch):
    session = http.get_session()
    for url in ("http://wiki.test/w/api.php?title=Secret+draft", "http://bot:hunter2@wiki.test/w/api.php",
                "http://wiki.test/w/api.php#x", "http://wiki.test/w/api.php"):  # fmt: skip
        _sent(monkeypatch, lambda url=url: http.send_fields("GET", url, {"text": "my edit"}, auth=AUTH))
    assert list(session._prepared_urls.items()) == [("http://wiki.test/w/api.php", "http://wiki.test/w/api.php")]
    signature._encoded_address.cache_clear()
    _sent(monkeypatch, lambda: http.send_fields("GET", "http://bot:hunter2@wiki.test/w/api.php?q=1", {}, auth=AUTH))
    assert signature._encoded_address.cache_info().currsize == 0
