"""Hostile input against the sign-in: forged callbacks, a wiki that answers anything, tampered sessions.

Whatever arrives, the answer is a friendly error page (never a 500, never a
login), one log line, nothing half-written, and no secret anywhere. Most tests
talk to ``HostileWiki``: a tiny server on 127.0.0.1 that answers each OAuth
step with whatever bytes the test scripts (huge, slow, gzip bombs, broken
chunking, validly signed but absurd JWTs), which the local wiki cannot do.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import random
import socket
import string
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone
from social_django.models import UserSocialAuth

from mwsso import http
from mwsso.backends import MAX_PENDING_LOGINS
from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol.identity import Identity, InvalidIdentity, verify_identify_jwt
from mwsso.tokens import verify_token
from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, use_test_consumer

pytestmark = pytest.mark.django_db
User = get_user_model()

REQUEST_KEY = "hostilerequestkey0123456789abcdef"
REQUEST_SECRET = "hostile-request-secret-4f1d2a9e7c"
ACCESS_KEY = "hostileaccesskey0123456789abcdef"
ACCESS_SECRET = "hostile-access-secret-b8e5f0c3d1"
SECRETS = (TEST_CONSUMER_SECRET, REQUEST_SECRET, ACCESS_SECRET, ACCESS_KEY)
MB = 1024 * 1024


# --- a wiki that answers whatever the test says ----------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_jwt(
    payload: bytes, header: bytes = b'{"alg":"HS256","typ":"JWT"}', secret: str = TEST_CONSUMER_SECRET
) -> str:
    """A JWT over the raw bytes given (so a test can sign JSON no encoder would write)."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def answer(
    body: bytes | str = b"", status: str = "200 OK", content_type: str = "text/plain", headers: tuple = ()
) -> bytes:
    """A whole raw HTTP response with a correct Content-Length."""
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(data)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


@dataclass
class Seen:
    """One request the hostile wiki received."""

    step: str
    method: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def oauth(self) -> dict[str, str]:
        header = self.headers.get("Authorization", "")
        fields = {}
        for part in header.removeprefix("OAuth ").split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = unquote(value.strip('"'))
        return fields


Answer = bytes | Callable[["socket.socket", Seen], bytes | None]


@dataclass
class HostileWiki:
    """Answers Special:OAuth/initiate|token|identify and api.php; ``answers[step]`` overrides a step."""

    server: ThreadingHTTPServer
    answers: dict[str, Answer] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)

    @property
    def server_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def index_url(self) -> str:
        return f"{self.server_url}/w/index.php"

    @property
    def api_url(self) -> str:
        return f"{self.server_url}/w/api.php"

    def steps(self) -> list[str]:
        return [s.step for s in self.seen]

    def identity_claims(self, nonce: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.server_url, "aud": TEST_CONSUMER_KEY, "exp": now + 100, "iat": now, "nonce": nonce,
            "sub": "3", "username": "Alice", "editcount": 12, "confirmed_email": True, "email_verified": True,
            "blocked": False, "registered": "20200101000000", "groups": ["*", "user"], "rights": ["read"],
            "grants": ["basic"],
        }  # fmt: skip
        claims.update(self.claims)
        return claims

    def default_answer(self, sock: socket.socket, seen: Seen) -> bytes:
        if seen.step == "initiate":
            return answer(
                urlencode(
                    {
                        "oauth_token": REQUEST_KEY,
                        "oauth_token_secret": REQUEST_SECRET,
                        "oauth_callback_confirmed": "true",
                    }
                )
            )
        if seen.step == "token":
            return answer(urlencode({"oauth_token": ACCESS_KEY, "oauth_token_secret": ACCESS_SECRET}))
        if seen.step == "identify":
            payload = json.dumps(self.identity_claims(seen.oauth.get("oauth_nonce", ""))).encode()
            return answer(signed_jwt(payload), content_type="application/json")
        if seen.step == "api":
            return answer(
                json.dumps({"query": {"userinfo": {"id": 3, "name": "Alice"}}}), content_type="application/json"
            )
        return answer("not found", "404 Not Found")


def _handler(wiki: HostileWiki) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def handle_one_request(self) -> None:
            try:
                self.raw_requestline = self.rfile.readline(65537)
                if not self.raw_requestline or not self.parse_request():
                    return
                self.close_connection = True
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                title = (query.get("title") or [""])[0]
                step = "api" if parts.path.endswith("api.php") else title.removeprefix("Special:OAuth/")
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(step, self.command, query, dict(self.headers), self.rfile.read(length))
                wiki.seen.append(seen)
                scripted = wiki.answers.get(step, wiki.default_answer)
                raw = scripted(self.connection, seen) if callable(scripted) else scripted
                if raw:
                    self.connection.sendall(raw)
            except OSError:
                pass  # the client gave up on a huge or slow answer: what the test wants

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_hostile_wiki() -> Iterator[HostileWiki]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    wiki = HostileWiki(server)
    server.RequestHandlerClass = _handler(wiki)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield wiki
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile(settings) -> Iterator[HostileWiki]:  # type: ignore[no-untyped-def]
    """A hostile wiki, with the site's backend pointed at it (short timeout: tests stay fast)."""
    with running_hostile_wiki() as wiki:
        use_test_consumer(settings, wiki.index_url)
        settings.MWSSO_HTTP_TIMEOUT = 0.5
        http.reset_session()
        yield wiki
        http.reset_session()


def drip(
    headers: bytes, every: float, seconds: float = 3.0, piece: bytes = b"a"
) -> Callable[[socket.socket, Seen], None]:
    """Send ``headers`` then ``piece`` every ``every`` seconds (each read stays under the timeout)."""

    def send(sock: socket.socket, seen: Seen) -> None:
        sock.sendall(headers)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sock.sendall(piece)
            time.sleep(every)

    return send


def flood(
    headers: bytes, total: int, chunk: bytes = b"a" * MB, counter: dict[str, int] | None = None
) -> Callable[[socket.socket, Seen], None]:
    """Send ``headers`` then ``total`` bytes of ``chunk``s, counting what the client accepted."""

    def send(sock: socket.socket, seen: Seen) -> None:
        sock.sendall(headers)
        sent = 0
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        finally:
            if counter is not None:
                counter[seen.step] = sent

    return send


# --- helpers on the site side --------------------------------------------------------


def hostile_login(client: Client, wiki: HostileWiki, **callback: str):  # type: ignore[no-untyped-def]
    """Start a sign-in against the hostile wiki and come back with the callback it would send."""
    started = client.post("/login/mediawiki/")
    assert started.status_code in (302, 303), started.content[:300]
    params = {"oauth_token": REQUEST_KEY, "oauth_verifier": "verifier0123", **callback}
    return client.get(f"/complete/mediawiki/?{urlencode(params)}")


def assert_failed_cleanly(response, caplog, reason: str, status: tuple[int, ...] = (400, 502)) -> str:  # type: ignore[no-untyped-def]
    """A friendly page naming ``reason``, one mwsso.login log line, nothing stored, no secret anywhere."""
    body = response.content.decode()
    assert response.status_code in status, (response.status_code, body[:500])
    assert "Sign-in failed" in body and reason in body, body[:2000]
    assert "Traceback" not in body
    assert [r for r in caplog.records if r.name == "mwsso.login" and reason in r.getMessage()], caplog.text
    assert_no_secret(body, caplog.text)
    assert_nothing_written()
    return body


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def assert_nothing_written() -> None:
    assert not User.objects.exists()
    assert not UserSocialAuth.objects.exists()
    assert not WikiIdentity.objects.exists()
    assert not AccessToken.objects.exists()


def test_the_hostile_wiki_itself_lets_a_normal_login_through(hostile, site_client, caplog):
    # The baseline: every other test here changes exactly one thing.
    response = hostile_login(site_client, hostile)
    assert response.status_code == 302 and response["Location"] == "/profile/"
    assert hostile.steps() == ["initiate", "token", "identify"]
    assert AccessToken.objects.get().get_credentials().secret == ACCESS_SECRET
    assert_no_secret(caplog.text)


# --- what the wiki's HTTP answers can do ----------------------------------------------


HUGE_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (50 * MB)
)


@pytest.mark.parametrize("step", ["initiate", "token", "identify"])
def test_an_answer_of_50_mb_is_not_read_to_the_end(hostile, site_client, caplog, step):
    started = time.monotonic()
    hostile.answers[step] = flood(HUGE_HEADERS, 50 * MB, counter=hostile.written)
    response = hostile_login(site_client, hostile) if step != "initiate" else site_client.post("/login/mediawiki/")
    assert_failed_cleanly(response, caplog, "wiki_bad_response")
    assert time.monotonic() - started < 2
    # The site stopped reading (and the server stopped writing) long before 50 MB.
    assert hostile.written.get(step, 0) < 30 * MB


def test_a_gzip_bomb_is_not_inflated_to_the_end(hostile, site_client, caplog, settings):
    # Inflating up to the size limit under tracemalloc takes a while on a busy machine: only the size
    # limit may end this answer, not the fixture's short read timeout.
    settings.MWSSO_HTTP_TIMEOUT = 10
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    bomb = b"".join(compressor.compress(bytes(MB)) for _ in range(100)) + compressor.flush()  # ~100 KB → 100 MB
    hostile.answers["identify"] = answer(bomb, content_type="application/json", headers=(("Content-Encoding", "gzip"),))
    tracemalloc.start()
    try:
        response = hostile_login(site_client, hostile)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_failed_cleanly(response, caplog, "wiki_bad_response")
    assert peak < 60 * MB, peak


@pytest.mark.parametrize("chunked", [False, True])
def test_an_answer_dripping_one_byte_at_a_time_times_out(hostile, site_client, caplog, chunked):
    # Each byte comes within the 0.5 s read timeout, so only a limit on the whole answer ends it.
    if chunked:  # one chunk of one byte at a time
        headers = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        hostile.answers["identify"] = drip(headers, every=0.1, piece=b"1\r\na\r\n")
    else:
        hostile.answers["identify"] = drip(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", every=0.1)
    started = time.monotonic()
    assert_failed_cleanly(hostile_login(site_client, hostile), caplog, "wiki_unavailable")
    assert time.monotonic() - started < 2


RAW_GARBAGE = {
    "content length longer than the body": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nshort",
    "broken chunking": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.2\r\n",
    "a thousand headers": b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 1000 + b"\r\n",
    "a header line of 1 MB": b"HTTP/1.1 200 OK\r\nX-A: " + b"b" * MB + b"\r\n\r\n",
    "nothing, then close": b"",
    "HTTP 429 with Retry-After": answer("slow down", "429 Too Many Requests", headers=(("Retry-After", "3600"),)),
    "HTTP 503": answer("<html>down</html>", "503 Service Unavailable", "text/html"),
    "HTTP 302 elsewhere": answer("", "302 Found", headers=(("Location", "https://evil.example/w/index.php"),)),
    "HTTP 404": answer("<html>no such page</html>", "404 Not Found", "text/html"),
    "an HTML page": answer("<!DOCTYPE html><html><body>Maintenance</body></html>", content_type="text/html"),
    "invalid UTF-8": answer(b"\xff\xfe\xfd" * 100, content_type="application/json"),
    "JSON that is a list": answer("[1, 2, 3]", content_type="application/json"),
    "JSON error that is not a string": answer('{"error": {"code": 5}}', content_type="application/json"),
    "deeply nested JSON": answer('{"error": ' + "[" * 100000 + "]" * 100000 + "}", content_type="application/json"),
    "a JWT with four segments": answer(signed_jwt(b"{}") + ".x", content_type="application/json"),
    "a JWT and more lines": answer(signed_jwt(b"{}") + "\n" + signed_jwt(b"{}"), content_type="application/json"),
}
EXPECTED = {
    "HTTP 429 with Retry-After": "wiki_unavailable",
    "HTTP 503": "wiki_unavailable",
    "content length longer than the body": "wiki_unavailable",
    "broken chunking": "wiki_unavailable",
    "not HTTP at all": "wiki_unavailable",
    "a thousand headers": "wiki_unavailable",
    "a header line of 1 MB": "wiki_unavailable",
    "nothing, then close": "wiki_unavailable",
}


@pytest.mark.parametrize("step", ["token", "identify"])
@pytest.mark.parametrize("case", sorted(RAW_GARBAGE))
def test_garbage_answers_fail_cleanly(hostile, site_client, caplog, case, step):
    hostile.answers[step] = RAW_GARBAGE[case]
    started = time.monotonic()
    reason = EXPECTED.get(case, "wiki_bad_response")
    if step == "identify" and case == "a JWT with four segments":
        reason = "wiki_bad_response"
    assert_failed_cleanly(hostile_login(site_client, hostile), caplog, reason)
    assert time.monotonic() - started < 2
    assert "evil.example/w" not in caplog.text or case == "HTTP 302 elsewhere"


def identify_answer(wiki: HostileWiki, claim: str, raw_json: str) -> Callable[[socket.socket, Seen], bytes]:
    """An identify answer, validly signed with the consumer secret, whose ``claim`` is ``raw_json`` as written."""

    def send(sock: socket.socket, seen: Seen) -> bytes:
        claims = wiki.identity_claims(seen.oauth.get("oauth_nonce", "")) | {claim: "@@"}
        payload = json.dumps(claims).replace('"@@"', raw_json).encode()
        return answer(signed_jwt(payload), content_type="application/json")

    return send


@pytest.mark.parametrize(
    "claim, raw_json",
    [
        ("editcount", str(2**70)),  # was stored: an integer overflow in the database, a 500
        ("sub", '"\u00b2"'),  # was a ValueError, a 500
        ("exp", "1" + "0" * 400),  # was an OverflowError, a 500
        ("exp", "Infinity"),  # was accepted: a JWT that never expires
        ("username", '"Alice\\u0000"'),  # PostgreSQL cannot store it: a 500 there
        ("username", '"Alice\\ud800"'),  # a lone surrogate: was a UnicodeEncodeError in the database, a 500
        ("groups", "[" * 50_000 + "]" * 50_000),  # was a RecursionError, a 500
    ],
)
def test_a_wiki_signing_absurd_claims_gets_no_login_and_no_500(hostile, site_client, caplog, claim, raw_json):
    hostile.answers["identify"] = identify_answer(hostile, claim, raw_json)
    body = assert_failed_cleanly(hostile_login(site_client, hostile), caplog, "identity_rejected", status=(400,))
    assert "_auth_user_id" not in site_client.session
    assert ("malformed" if claim == "groups" else "invalid_claim") in body


# --- the callback: whatever the browser brings -----------------------------------------

PENDING = "mediawikiunauthorized_token_name"  # social-core's session key for the pending request tokens


def started(client: Client) -> None:
    assert client.post("/login/mediawiki/").status_code in (302, 303)


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"oauth_token": "", "oauth_verifier": "v"}, "missing_token"),
        ({"oauth_token": REQUEST_KEY, "oauth_verifier": ""}, "missing_verifier"),
        ({"oauth_token[]": REQUEST_KEY, "oauth_verifier": "v"}, "missing_token"),
        ({"oauth_token[0]": REQUEST_KEY, "oauth_verifier[]": "v"}, "missing_token"),
        ({"OAUTH_TOKEN": REQUEST_KEY, "oauth_verifier": "v"}, "missing_token"),
        ({"oauth_token": "x" * 1_000_000, "oauth_verifier": "v"}, "token_mismatch"),
        ({"oauth_token": "\u00e9\u2028\U0001f600", "oauth_verifier": "v"}, "token_mismatch"),
        ({"oauth_token": REQUEST_KEY + "\x00", "oauth_verifier": "v"}, "token_mismatch"),
        ({"oauth_token": REQUEST_KEY[:-1], "oauth_verifier": "v"}, "token_mismatch"),
        ({"oauth_token": f" {REQUEST_KEY}", "oauth_verifier": "v"}, "token_mismatch"),
        ([("oauth_token", REQUEST_KEY), ("oauth_token", "forged"), ("oauth_verifier", "v")], "token_mismatch"),
        ({"oauth_token": REQUEST_KEY, "oauth_verifier": "v", "oauth_problem": "user_refused"}, None),
    ],
)
def test_callback_parameters(hostile, site_client, caplog, query, reason):
    started(site_client)
    response = site_client.get(f"/complete/mediawiki/?{urlencode(query)}")
    if reason is None:  # extra parameters change nothing
        assert response.status_code == 302
        return
    assert_failed_cleanly(response, caplog, reason, status=(400,))
    # Only a callback naming the pending token used it up: the wiki was never asked.
    assert hostile.steps() == ["initiate"]


@pytest.mark.parametrize("verifier", ["v" * 100_000, "\u00e9\u00e8", "a\r\nX-Injected: 1", "a\x00b", "\ud7ff"])
def test_a_verifier_we_do_not_recognise_never_logs_in(hostile, site_client, caplog, verifier):
    hostile.answers["token"] = answer(json.dumps({"error": "mwoauthdatastore-bad-verifier", "message": "bad"}))
    started(site_client)
    response = site_client.get(
        f"/complete/mediawiki/?{urlencode({'oauth_token': REQUEST_KEY, 'oauth_verifier': verifier})}"
    )
    assert response.status_code in (400, 502) and "Sign-in failed" in response.content.decode()
    assert_nothing_written()
    # Whatever reached the wiki, no header was injected into the signed request.
    assert all("X-Injected" not in seen.headers for seen in hostile.seen)


def test_the_callback_by_post_is_the_same_callback(hostile, site_client):
    # Bound to the session like the GET; a cross-site POST carries no SameSite=Lax session cookie.
    started(site_client)
    response = site_client.post("/complete/mediawiki/", {"oauth_token": REQUEST_KEY, "oauth_verifier": "v"})
    assert response.status_code == 302 and response["Location"] == "/profile/"
    assert User.objects.get().username == "Alice"


def test_a_forged_partial_pipeline_token_is_ignored(hostile, site_client):
    started(site_client)
    query = {"oauth_token": REQUEST_KEY, "oauth_verifier": "v", "partial_token": "' OR 1=1 --"}
    assert site_client.get(f"/complete/mediawiki/?{urlencode(query)}").status_code == 302


def test_many_sign_in_starts_keep_the_session_small(hostile, site_client, settings):
    settings.MWSSO_LOGIN_RATE_LIMITS = {}  # fifty starts in one session would be rate-limited (tests/test_ratelimit.py)
    keys = [f"hostilerequestkey{n:016d}" for n in range(50)]
    for key in keys:
        hostile.answers["initiate"] = answer(urlencode({"oauth_token": key, "oauth_token_secret": REQUEST_SECRET}))
        started(site_client)
    pending = site_client.session[PENDING]
    assert len(pending) == MAX_PENDING_LOGINS and all(keys[-1 - n] in pending[-1 - n] for n in range(len(pending)))
    # The oldest are forgotten; the newest tabs can still finish.
    stale = urlencode({"oauth_token": keys[0], "oauth_verifier": "v"})
    assert site_client.get(f"/complete/mediawiki/?{stale}").status_code == 400
    fresh = urlencode({"oauth_token": keys[-1], "oauth_verifier": "v"})
    assert site_client.get(f"/complete/mediawiki/?{fresh}").status_code == 302


@pytest.mark.parametrize("how", ["deleted", "expired"])
def test_a_callback_after_the_session_expired(hostile, site_client, caplog, how):
    started(site_client)
    if how == "deleted":
        Session.objects.all().delete()
    else:
        Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    query = urlencode({"oauth_token": REQUEST_KEY, "oauth_verifier": "v"})
    assert_failed_cleanly(site_client.get(f"/complete/mediawiki/?{query}"), caplog, "no_pending_login", status=(400,))
    assert hostile.steps() == ["initiate"]


@pytest.mark.parametrize(
    "pending",
    [5, None, True, "oauth_token=x&oauth_token_secret=y", {"oauth_token": REQUEST_KEY}, [5], [None], [["x"]],
     ["garbage"], [f"oauth_token={REQUEST_KEY}"], [f"oauth_token={REQUEST_KEY}&oauth_token_secret="], [""]],
)  # fmt: skip
def test_a_tampered_list_of_pending_tokens_is_never_a_500(hostile, site_client, caplog, pending):
    session = site_client.session
    session[PENDING] = pending
    session.save()
    query = urlencode({"oauth_token": REQUEST_KEY, "oauth_verifier": "v"})
    response = site_client.get(f"/complete/mediawiki/?{query}")
    assert response.status_code == 400 and "Sign-in failed" in response.content.decode()
    assert_nothing_written()
    # And a new sign-in from that session works.
    session = site_client.session
    session[PENDING] = pending
    session.save()
    assert hostile_login(site_client, hostile).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_two_callbacks_racing_for_one_request_token(login, devwiki, site_client, client_factory):
    if connection.vendor == "sqlite":
        # SQLite's shared in-memory test database locks whole tables between threads (SQLITE_LOCKED, no
        # busy wait): that would be the test's failure, not the site's. CI runs this on PostgreSQL.
        pytest.skip("needs a database with row locks (PostgreSQL)")
    from mwsso_devwiki.testing import authorize

    from tests.conftest import callback_path, start_login

    allowed = authorize(None, start_login(site_client), user="Alice")
    path = callback_path(allowed.headers["Location"])
    twin = client_factory()
    twin.cookies = site_client.cookies  # the same browser, two tabs
    results: list[int] = []
    barrier = threading.Barrier(2)

    def callback(client: Client) -> None:
        barrier.wait()
        try:
            results.append(client.get(path).status_code)
        finally:
            connection.close()  # this thread's own connection, or the test database cannot be dropped

    threads = [threading.Thread(target=callback, args=(c,)) for c in (site_client, twin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # One sign-in; the other is refused by us (token already taken) or by the wiki (already used).
    assert sorted(results) in ([302, 400], [302, 502]), results
    assert User.objects.count() == 1 and AccessToken.objects.count() == 1 and WikiIdentity.objects.count() == 1


def test_a_request_token_of_another_consumer(login, devwiki, site_client, caplog):
    from mwsso_devwiki.state.seed import PRIVATE_CONSUMER_KEY, PRIVATE_CONSUMER_SECRET
    from mwsso_devwiki.testing import authorize

    from mwsso.protocol import oauth1

    # Someone starts a sign-in with another consumer and brings its callback to our site.
    other = oauth1.Consumer(PRIVATE_CONSUMER_KEY, PRIVATE_CONSUMER_SECRET)
    theirs = oauth1.initiate(http.get_session(), devwiki.index_url, other, "oob")
    allowed = authorize(None, oauth1.authorize_url(devwiki.index_url, other.key, theirs.key), user="Mallory")
    verifier = parse_qs(urlsplit(allowed.headers["Location"]).query)["oauth_verifier"][0]
    started(site_client)
    query = urlencode({"oauth_token": theirs.key, "oauth_verifier": verifier})
    assert_failed_cleanly(site_client.get(f"/complete/mediawiki/?{query}"), caplog, "token_mismatch", status=(400,))


# --- the sign-in button: methods and where it sends the browser back to ------------------


@pytest.mark.parametrize("method", ["get", "head", "put", "delete", "options", "patch"])
def test_sign_in_needs_post(hostile, site_client, method):
    # GET and HEAD get the page with the button (tests/test_sign_in_page.py); none of them reaches the wiki.
    expected = 200 if method in ("get", "head") else 405
    assert getattr(site_client, method)("/login/mediawiki/").status_code == expected
    assert hostile.steps() == []


@pytest.mark.parametrize(
    "next_url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/",
        "///evil.example/",
        "\\\\evil.example\\",
        "/\\evil.example",
        "\\/evil.example",
        "https:evil.example",
        "https://evil.example@127.0.0.1:8000/",
        "http://127.0.0.1:8000\\@evil.example/",
        "/\tevil.example",
        " //evil.example",
        "\x00//evil.example",
        "/profile/" + "a" * 100_000,
    ],
)
def test_next_never_leaves_the_site(hostile, site_client, next_url):
    started_ = site_client.post("/login/mediawiki/", {"next": next_url})
    assert started_.status_code in (302, 303)
    query = urlencode({"oauth_token": REQUEST_KEY, "oauth_verifier": "v", "next": "//evil.example/"})
    response = site_client.get(f"/complete/mediawiki/?{query}")
    if len(next_url) > 16384:
        # Django refuses to send so long a Location (DisallowedRedirect): a 400 page, never a redirect.
        assert response.status_code == 400 and "Location" not in response
        return
    location = response["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and "evil" not in location


# --- a wiki that echoes our secrets back ----------------------------------------------

# Each step echoes every secret it signed with.
ECHO = {
    "initiate": f"consumer {TEST_CONSUMER_SECRET}",
    "token": f"consumer {TEST_CONSUMER_SECRET} request {REQUEST_SECRET}",
    "identify": f"consumer {TEST_CONSUMER_SECRET} access {ACCESS_KEY} {ACCESS_SECRET}",
}
ECHOES = {
    "initiate": answer(f"Error: Invalid signature ({ECHO['initiate']})"),
    "token": answer(
        json.dumps({"error": f"x-{REQUEST_SECRET}", "message": ECHO["token"]}), content_type="application/json"
    ),
    "identify": answer(
        json.dumps({"error": f"mwoauth-{ACCESS_SECRET}", "message": ECHO["identify"]}), content_type="application/json"
    ),
    "identify redirect": answer(
        "", "302 Found", headers=(("Location", f"https://evil.example/{TEST_CONSUMER_SECRET}/"),)
    ),
    "identify content type": answer("<html></html>", content_type=ACCESS_SECRET),
}


@pytest.mark.parametrize("case", sorted(ECHOES))
def test_a_wiki_echoing_secrets_gets_them_redacted_from_the_page_and_the_log(hostile, site_client, caplog, case):
    caplog.set_level("INFO")
    step = case.split()[0]
    hostile.answers[step] = ECHOES[case]
    response = site_client.post("/login/mediawiki/") if step == "initiate" else hostile_login(site_client, hostile)
    body = response.content.decode()
    assert response.status_code == 502 and "Sign-in failed" in body
    assert_no_secret(body, caplog.text)
    assert_nothing_written()


@pytest.mark.parametrize("claim", ["aud", "iss"])
def test_a_signed_jwt_carrying_secrets_in_its_claims_keeps_them_out_of_the_log(hostile, site_client, caplog, claim):
    caplog.set_level("INFO")
    hostile.claims[claim] = f"{TEST_CONSUMER_SECRET} {ACCESS_SECRET}"
    response = hostile_login(site_client, hostile)
    assert response.status_code == 400
    assert_no_secret(response.content.decode(), caplog.text)


def test_verifying_a_token_with_a_wiki_that_echoes_secrets(hostile, caplog):
    caplog.set_level("INFO")
    user = User.objects.create_user("Alice")
    token = AccessToken(
        user=user, wiki=hostile.server_url, wiki_url=hostile.index_url, consumer_key=TEST_CONSUMER_KEY,
        **AccessToken.credential_fields(ACCESS_KEY, ACCESS_SECRET),
    )  # fmt: skip
    token.save()
    for answer_ in (ECHOES["identify"], ECHOES["identify redirect"]):
        hostile.answers["identify"] = answer_
        result = verify_token(token)
        token.refresh_from_db()
        assert result.status in (AccessToken.Status.REVOKED, AccessToken.Status.ERROR)
        assert_no_secret(result.reason, token.status_reason, caplog.text)
    hostile.answers.pop("identify")
    hostile.claims["aud"] = TEST_CONSUMER_SECRET
    result = verify_token(token)
    assert result.status == AccessToken.Status.ERROR and "wrong_audience" in result.reason
    assert_no_secret(result.reason, caplog.text)


# --- the identify JWT: the pure check, fuzzed -----------------------------------------

WIKI = "http://127.0.0.1:8080/w/index.php"
NONCE = "nonce-4f1d2a9e7c"
NOW = 1_800_000_000


def good_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": "http://127.0.0.1:8080", "aud": TEST_CONSUMER_KEY, "exp": NOW + 100, "iat": NOW, "nonce": NONCE,
        "sub": "3", "username": "Alice", "editcount": 12, "confirmed_email": True, "blocked": False,
        "registered": "20200101000000", "groups": ["*", "user"], "rights": ["read"], "grants": {"0": "basic"},
    }  # fmt: skip
    claims.update(changes)
    return claims


def check(token: str | bytes) -> Any:
    """The Identity, or the InvalidIdentity reason; any other exception fails the test."""
    try:
        return verify_identify_jwt(
            token,
            consumer_key=TEST_CONSUMER_KEY,
            consumer_secret=TEST_CONSUMER_SECRET,
            issuer=WIKI,
            nonce=NONCE,
            now=NOW,
        )
    except InvalidIdentity as err:
        assert_no_secret(str(err), repr(err))
        return err.reason


def payload_with(raw_claim: str, value: str) -> bytes:
    """The good claims with one claim's JSON replaced by raw text (NaN, 1e309, 10**400 …)."""
    text = json.dumps(good_claims(**{raw_claim: "@@"}))
    return text.replace('"@@"', value).encode()


@pytest.mark.parametrize(
    "claim, raw_json",
    [
        ("exp", "Infinity"),  # Python's json reads these non-standard tokens
        ("exp", "1e309"),  # overflows to inf
        ("exp", "1" + "0" * 400),  # an int no float can hold
        ("exp", "NaN"),
        ("iat", "-Infinity"),
        ("editcount", str(2**63)),  # more than the database column holds
        ("editcount", "-1"),
        ("sub", '"\u00b2"'),  # superscript two: isdigit() but not int()
        ("sub", '"\u0661\u0662"'),  # Arabic-Indic "12": must not become user 12
        ("sub", '"' + "9" * 5000 + '"'),
        ("sub", str(2**70)),
        ("sub", "-3"),
        ("username", '"' + "A" * 300 + '"'),  # MediaWiki names are at most 255 characters
        ("username", '"Ali\\u0000ce"'),  # PostgreSQL cannot store NUL
        ("username", '"Ali\\nce"'),
        ("email", '"' + "a" * 300 + '@example.org"'),  # longer than Django's email field
        ("email", '"a\\u0000@example.org"'),
        ("username", '"Alice\\ud800"'),  # a lone surrogate: no database can encode it
        ("rights", '["read", "\\udfff"]'),
        ("groups", '["user\\u0000"]'),
        ("grants", '{"0": "basic", "1": ["nested"]}'),
        ("registered", '"\u0662\u0660\u0662\u0660\u0660\u0661\u0660\u0661\u0660\u0660\u0660\u0660\u0660\u0660"'),
    ],
)
def test_validly_signed_absurd_claims_are_invalid_claims_not_crashes(claim, raw_json):
    assert check(signed_jwt(payload_with(claim, raw_json))) == "invalid_claim"


@pytest.mark.parametrize("aud", ["\u00e9", ["\u00e9", "x"], TEST_CONSUMER_KEY + "\u00e9"])
def test_a_non_ascii_audience_is_the_wrong_audience(aud):
    # hmac.compare_digest raises TypeError on str with non-ASCII characters.
    assert check(signed_jwt(json.dumps(good_claims(aud=aud)).encode())) == "wrong_audience"


def test_duplicate_claims_are_read_as_the_last_one_everywhere():
    # One JSON reader for every check: the signed bytes cannot mean one sub here and another there.
    payload = json.dumps(good_claims()).encode()[:-1] + b', "sub": "999", "sub": "4", "nonce": "x", "nonce": "%s"}'
    identity = check(signed_jwt(payload % NONCE.encode()))
    assert isinstance(identity, Identity) and identity.sub == "4"


def test_numbers_with_more_digits_than_python_converts_are_malformed():
    assert check(signed_jwt(payload_with("iat", "1" + "0" * 5000))) == "malformed"


def test_deeply_nested_json_in_a_signed_payload_is_malformed():
    payload = json.dumps(good_claims()).encode()[:-1] + b', "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert check(signed_jwt(payload)) == "malformed"


@pytest.mark.parametrize(
    "header, expected",
    [
        (b"not json", "malformed"),
        (b"[]", "malformed"),
        (b'{"alg": "HS256 "}', "algorithm_not_allowed"),
        (b'{"alg": "hs256"}', "algorithm_not_allowed"),
        (b'{"alg": ["HS256"]}', "algorithm_not_allowed"),
        (b'{"alg": null}', "algorithm_not_allowed"),
        (b'{"alg": "HS256", "alg": "none"}', "algorithm_not_allowed"),  # the last duplicate wins, for both readers
        (b'{"alg": "HS256", "b64": false, "crit": ["b64"]}', "malformed"),  # RFC 7797 unencoded payload
        (b'{"alg": "HS256", "crit": ["exp"]}', "malformed"),
        (b'{"alg": "HS256", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "malformed"),
    ],
)
def test_hostile_headers(header, expected):
    assert check(signed_jwt(json.dumps(good_claims()).encode(), header=header)) == expected


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg": "HS256", "typ": "JWT"}',
        b'{"alg": "HS256"}',  # no typ
        b'{"alg": "HS256", "typ": "at+jwt"}',
        b'{"alg": "none", "alg": "HS256"}',
        # Key-finding headers are ignored: the key is always the consumer secret, never fetched or looked up.
        b'{"alg": "HS256", "kid": "../../etc/passwd", "jku": "http://127.0.0.1:9/keys", "x5u": "http://127.0.0.1:9/x"}',
        b'{"alg": "HS256", "jwk": {"kty": "oct", "k": "AAAA"}}',
    ],
)
def test_headers_that_change_nothing(header):
    identity = check(signed_jwt(json.dumps(good_claims()).encode(), header=header))
    assert isinstance(identity, Identity) and identity.sub == "3"


def test_token_shapes():
    good = signed_jwt(json.dumps(good_claims()).encode())
    assert isinstance(check(f" \n{good}\t\n"), Identity)  # whitespace around it is harmless
    assert isinstance(check(good.encode()), Identity)
    for shaped in [good + ".x", good + ".", "." + good, good.replace(".", "..", 1), good.replace(".", " .", 1),
                   good + "é", (good + "é").encode("utf-8"), good.encode("utf-16"), "", "..", "a.b.c", "\x00" * 10]:  # fmt: skip
        assert check(shaped) in ("malformed", "bad_signature"), shaped


def test_generated_tokens_never_crash_and_never_pass_unsigned():
    """3000 deterministic mutations of a good token and of random claims: Identity or InvalidIdentity, nothing else."""
    rng = random.Random(20261128)
    good = signed_jwt(json.dumps(good_claims()).encode())
    expected = check(good)
    alphabet = string.ascii_letters + string.digits + "-_.=+/ \x00é"
    values: list[Any] = [None, True, False, 0, -1, 2**64, 1e309, float("nan"), "", "3", "x" * 1000, [], {}, ["a"],
                         {"0": "a"}, {"a": "b"}, [[]], "20200101000000", "\u00b2", NONCE, TEST_CONSUMER_KEY]  # fmt: skip
    outcomes: dict[str, int] = {}
    for _ in range(3000):
        kind = rng.random()
        if kind < 0.4:  # flip, drop or insert characters of a good token
            chars = list(good)
            for _ in range(rng.randint(1, 4)):
                where = rng.randrange(len(chars))
                action = rng.choice(("flip", "drop", "insert"))
                if action == "flip":
                    chars[where] = rng.choice(alphabet)
                elif action == "drop":
                    del chars[where]
                else:
                    chars.insert(where, rng.choice(alphabet))
            token: str | bytes = "".join(chars)
            # Only the signature's encoding can change and still verify (base64 padding bits, whitespace).
            mutated = check(token)
            assert not isinstance(mutated, Identity) or mutated == expected
        elif kind < 0.8:  # validly signed claims with one to three claims replaced or removed
            claims = good_claims()
            for _ in range(rng.randint(1, 3)):
                name = rng.choice(sorted(claims))
                if rng.random() < 0.2:
                    del claims[name]
                else:
                    claims[name] = rng.choice(values)
            token = signed_jwt(json.dumps(claims).encode())
        else:  # random bytes and random segments
            segments = [b64url(rng.randbytes(rng.randint(0, 40))) for _ in range(rng.randint(1, 5))]
            token = ".".join(segments) if rng.random() < 0.7 else rng.randbytes(rng.randint(0, 60))
        outcome = check(token)
        key = "ok" if isinstance(outcome, Identity) else outcome
        outcomes[key] = outcomes.get(key, 0) + 1
    # The generator reaches every kind of check, so the loop exercises them all.
    assert {"malformed", "bad_signature", "invalid_claim", "missing_claim", "ok"} <= set(outcomes), outcomes


@pytest.mark.parametrize(
    "message",
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
        "<scr<script>ipt>alert(1)</script>",
        '<a href="javascript:alert(1)">help</a>',
        "<img src=x onerror=alert(1)",
        "\u202eevil\u0000\ud800" + "x" * 100_000,
    ],
)
def test_the_wikis_own_message_is_shown_as_text(hostile, site_client, caplog, message):
    refusal = json.dumps({"error": "mwoauth-oauth-exception", "message": message})
    hostile.answers["token"] = answer(refusal.encode("utf-8", "surrogatepass"), content_type="application/json")
    body = assert_failed_cleanly(hostile_login(site_client, hostile), caplog, "mwoauth-oauth-exception")
    shown = body.split("The wiki said:", 1)[1].split("</blockquote>", 1)[0] if "The wiki said:" in body else ""
    assert "<script" not in shown and "<a " not in shown and "<img" not in shown and "\x00" not in shown
    assert len(body) < 20_000  # the message is cut short


def test_a_wiki_name_that_looks_like_our_disambiguation_suffix(hostile, client_factory):
    # "~" is allowed in MediaWiki user names, so a wiki user may really be called "Alice~3".
    User.objects.create_user("Alice")  # a local account, never linked to the wiki

    def login_as(sub: str, name: str) -> int:
        hostile.claims.update(sub=sub, username=name)
        return hostile_login(client_factory(), hostile).status_code

    assert login_as("3", "Alice") == 302
    assert UserSocialAuth.objects.get(uid="3").user.username == "Alice~3"
    assert login_as("9", "Alice~3") == 302
    assert login_as("3", "Alice") == 302
    assert login_as("9", "Alice~3") == 302
    names = {social.uid: social.user.username for social in UserSocialAuth.objects.select_related("user")}
    assert len(set(names.values())) == 2 and User.objects.filter(username="Alice").exists()
    # A new sign-in of wiki user 3 when "Alice" and "Alice~3" are both taken gets a name of its own.
    UserSocialAuth.objects.filter(uid="3").delete()
    User.objects.filter(username="Alice~3~3").delete()
    assert login_as("3", "Alice") == 302
    assert UserSocialAuth.objects.get(uid="3").user.username.startswith("Alice~3.")
    assert login_as("3", "Alice") == 302 and login_as("9", "Alice~3") == 302
