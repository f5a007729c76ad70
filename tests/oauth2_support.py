"""OAuth 2.0 test support: the devwiki in both versions, settings for its clients, the sign-in, and a faulty proxy.

Import the fixtures into a test module with ``from tests.oauth2_support import *  # noqa: F403``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from mwsso_devwiki.state import seed as wikiconfig
from mwsso_devwiki.testing import DevWiki, authorize_oauth2, running_devwiki

from mwsso import http
from tests import recorded
from tests.conftest import SITE_HOST, callback_path, use_test_consumer

__all__ = [
    "CONFIDENTIAL",
    "PUBLIC",
    "FaultyProxy",
    "_devwiki_139",
    "o2_login",
    "o2_public",
    "o2_settings",
    "o2wiki",
    "start_o2_login",
]

CONFIDENTIAL = (wikiconfig.DEMO_OAUTH2_CLIENT_ID, wikiconfig.DEMO_OAUTH2_CLIENT_SECRET)
PUBLIC = (wikiconfig.PUBLIC_OAUTH2_CLIENT_ID, wikiconfig.PUBLIC_OAUTH2_CLIENT_SECRET)
assert wikiconfig.DEMO_OAUTH2_REDIRECT_URI == f"http://{SITE_HOST}/complete/mediawiki-oauth2/"

PROFILE = "/oauth2/resource/profile"
TOKEN = "/oauth2/access_token"
_R139 = recorded.load("mediawiki-1.39-oauth-responses.json")
# What a sign-in's token exchange or profile request may get instead of the real answer (served by a
# FaultyProxy), and the error page's status and the reason its log line names.
BAD_TOKEN_AND_PROFILE_ANSWERS = [
    (PROFILE, (401, "application/json", _R139["10d resource/profile with REVOKED oauth2 access token"]["body"]), 502, "access_denied"),
    (PROFILE, (500, "application/json", _R139["9b resource/profile, no Authorization header"]["body"]), 502, "profile_unavailable"),
    (PROFILE, (200, "text/html", "<html>maintenance</html>"), 502, "profile_bad_response"),
    (PROFILE, (200, "application/json", '{"sub": "3", "editcount": 1}'), 400, "hidden_user"),
    (PROFILE, (200, "application/json", '{"sub": "mw:CentralAuth::3", "username": "Alice", "editcount": 1, "confirmed_email": true, "blocked": false, "registered": null, "groups": [], "rights": []}'), 400, "invalid_claim"),
    (TOKEN, (200, "application/json", '{"access_token": "x"}'), 502, "token_bad_response"),
    (TOKEN, (503, "text/html", "<html>down</html>"), 502, "token_unavailable"),
    (TOKEN, (200, "text/html", "\x00garbage"), 502, "token_bad_response"),
]  # fmt: skip


@pytest.fixture(scope="session")
def _devwiki_139() -> Iterator[DevWiki]:
    with running_devwiki(mw_version="1.39") as wiki:
        yield wiki


@pytest.fixture(params=["1.43", "1.39"])
def o2wiki(request, devwiki_server) -> Iterator[DevWiki]:  # type: ignore[no-untyped-def]
    """The local wiki playing MediaWiki 1.43 (the default) and 1.39, reset for each test."""
    wiki = devwiki_server if request.param == "1.43" else request.getfixturevalue("_devwiki_139")
    wiki.reset()
    yield wiki
    wiki.reset()


@pytest.fixture
def o2_settings(settings, o2wiki: DevWiki):  # type: ignore[no-untyped-def]
    """Both backends pointed at the local wiki: OAuth 1.0a's test consumer, OAuth 2.0's confidential demo client."""
    use_test_consumer(settings, o2wiki.index_url)
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL = o2wiki.index_url
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = CONFIDENTIAL
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI = ""
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SCOPE = None
    http.reset_session()
    yield settings
    http.reset_session()


@pytest.fixture
def o2_public(o2_settings):  # type: ignore[no-untyped-def]
    """The public (PKCE) client, signing in without a secret."""
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY = PUBLIC[0]
    o2_settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = ""
    return o2_settings


def start_o2_login(client: Any) -> str:
    response = client.post("/login/mediawiki-oauth2/")
    assert response.status_code in (302, 303), response.content[:500]
    return response["Location"]


def o2_login(client: Any, user: str = "Alice", action: str = "accept") -> Any:
    """Site → rest.php/oauth2/authorize → Special:OAuth/approve (Allow or Cancel as ``user``) → site callback."""
    answer = authorize_oauth2(None, start_o2_login(client), user=user, action=action)
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    return client.get(callback_path(answer.headers["Location"]))


class FaultyProxy:
    """A wiki in front of the devwiki that forwards every request, except the routes given an answer or a delay.

    The devwiki has no step faults for its OAuth 2.0 routes; this gives the recorded bad answers
    (401/500 from the profile, garbage, silence) over real HTTP.
    """

    def __init__(self, target: str = "", routes: dict[str, str] | None = None) -> None:
        self.target = target.rstrip("/")
        # Path prefix → another wiki behind this same host (a path-based wiki farm); other paths go to target.
        self.routes = routes or {}
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        self.delays: dict[str, float] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                path = self.path.split("?", 1)[0]
                for suffix, seconds in proxy.delays.items():
                    if path.endswith(suffix):
                        time.sleep(seconds)
                for suffix, (status, kind, body) in proxy.answers.items():
                    if path.endswith(suffix):
                        return self._reply(status, {"Content-Type": kind}, body)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                base = next((url for prefix, url in proxy.routes.items() if path.startswith(prefix)), proxy.target)
                answer = requests.request(
                    self.command,
                    base.rstrip("/") + self.path,
                    data=data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=10,
                )
                kept = ("content-type", "location", "cache-control", "set-cookie")
                keep = {k: v for k, v in answer.headers.items() if k.lower() in kept}
                self._reply(answer.status_code, keep, answer.content)

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # many callers at once (the concurrency tests, bench/refresh_scale.py)

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up waiting (the timeout tests) is expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
