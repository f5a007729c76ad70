"""One deadline over each whole request to a wiki: connect, TLS, headers and body (``mwsso.protocol.deadline``).

The attack: a wiki that sends the status line and then one header byte a second. Each byte arrives
within the read timeout, so a timeout per socket read never fires and the worker is held for as long
as the drip lasts. Here a tiny hostile server drips for 30 s against a deadline of 1.5 s, on every
path a request to a wiki takes: the sign-in (both steps), the API client, an OAuth 2.0 refresh, and TLS.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from mwsso import api, http
from mwsso.api.errors import WikiUnavailable
from mwsso.models import AccessToken
from tests import test_hostile
from tests.conftest import TEST_CONSUMER_KEY
from tests.oauth2_support import CONFIDENTIAL
from tests.test_hostile import ACCESS_KEY, ACCESS_SECRET, HostileWiki, assert_failed_cleanly, drip, hostile_login

pytestmark = pytest.mark.django_db
User = get_user_model()
hostile = test_hostile.hostile  # the fixture, shared

DEADLINE = 1.5
# Far longer than the deadline: without one, the request would last this long.
DRIP_SECONDS = 30.0
# The status line, then one byte of a header line every second: never a whole header, never an idle read timeout.
HEADER_DRIP = drip(b"HTTP/1.1 200 OK\r\n", every=1.0, seconds=DRIP_SECONDS, piece=b"X")


@pytest.fixture
def short_deadline(hostile: HostileWiki, settings: Any) -> HostileWiki:
    """A read timeout (2 s) longer than the drip's pause (1 s), and a deadline of 1.5 s."""
    settings.MWSSO_HTTP_TIMEOUT = 2.0
    settings.MWSSO_HTTP_DEADLINE = DEADLINE
    return hostile


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.monotonic() - self.started


# Bounds, not timings: the deadline plus a busy machine's slack, and far below the drip's 30 s.
BOUND = DEADLINE + 3


@pytest.mark.parametrize("step", ["initiate", "token", "identify"])
def test_a_wiki_dripping_its_headers_gets_the_wiki_unavailable_page_by_the_deadline(
    short_deadline, site_client, caplog, step
):
    short_deadline.answers[step] = HEADER_DRIP
    with Timer() as timer:
        response = (
            site_client.post("/login/mediawiki/") if step == "initiate" else hostile_login(site_client, short_deadline)
        )
    assert timer.seconds < BOUND
    body = assert_failed_cleanly(response, caplog, "wiki_unavailable", status=(502,))
    assert "The wiki did not answer" in body


def test_the_deadline_is_the_timeout_itself_by_default(hostile, settings, site_client, caplog):
    # MWSSO_HTTP_DEADLINE unset: no request to the wiki takes longer than MWSSO_HTTP_TIMEOUT in all.
    settings.MWSSO_HTTP_TIMEOUT = DEADLINE
    hostile.answers["identify"] = drip(b"HTTP/1.1 200 OK\r\n", every=0.5, seconds=DRIP_SECONDS, piece=b"X")
    with Timer() as timer:
        response = hostile_login(site_client, hostile)
    assert timer.seconds < BOUND
    assert_failed_cleanly(response, caplog, "wiki_unavailable", status=(502,))


def test_the_api_client_raises_wiki_unavailable_by_the_deadline(short_deadline):
    user = User.objects.create_user("Alice")
    AccessToken.objects.create(
        user=user, wiki=short_deadline.server_url + "/w", wiki_url=short_deadline.index_url,
        consumer_key=TEST_CONSUMER_KEY, **AccessToken.credential_fields(ACCESS_KEY, ACCESS_SECRET),
    )  # fmt: skip
    short_deadline.answers["api"] = HEADER_DRIP
    client = api.for_user(user)
    with Timer() as timer, pytest.raises(WikiUnavailable):
        client.get(action="query", meta="userinfo")
    assert timer.seconds < BOUND
    # The wiki said nothing about the token: it stays as it was.
    assert AccessToken.objects.get().status == AccessToken.Status.VALID


def test_an_oauth2_refresh_ends_by_the_deadline_and_holds_no_lock(short_deadline, settings):
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = CONFIDENTIAL
    user = User.objects.create_user("Alice")
    token = AccessToken.objects.create(
        user=user, wiki=short_deadline.server_url + "/w", wiki_url=short_deadline.index_url,
        consumer_key=CONFIDENTIAL[0], oauth_version=2, expires_at=timezone.now() - timedelta(minutes=1),
        **AccessToken.credential_fields("expired-access-token", "", refresh_token="refresh-token-value"),
    )  # fmt: skip
    short_deadline.answers[""] = HEADER_DRIP  # rest.php/oauth2/access_token (no title: the hostile wiki's step "")
    with Timer() as timer, pytest.raises(WikiUnavailable):
        api.for_user(user)
    assert timer.seconds < BOUND
    assert [seen.step for seen in short_deadline.seen] == [""]
    # No row lock was held, and the refresh's claim went with its failure: another worker may refresh at once.
    with transaction.atomic():
        locked = AccessToken.objects.select_for_update(nowait=connection.features.has_select_for_update_nowait)
        row = locked.get(pk=token.pk)
        assert row.status == AccessToken.Status.VALID and (row.refresh_claim, row.refresh_claimed_until) == ("", None)


def test_a_slow_but_whole_answer_within_the_deadline_still_works(hostile, settings, site_client):
    settings.MWSSO_HTTP_DEADLINE = 3.0
    honest = hostile.default_answer

    def late(sock: socket.socket, seen: Any) -> bytes:
        time.sleep(0.3)
        return honest(sock, seen)

    hostile.answers["identify"] = late
    assert hostile_login(site_client, hostile).status_code == 302


# -- the HTTP layer alone: keep-alive, TLS --------------------------------------------------
class KeepAliveWiki(ThreadingHTTPServer):
    """Answers after ``delay`` seconds over HTTP/1.1 keep-alive, counting the connections it accepted."""

    daemon_threads = True

    def __init__(self) -> None:
        self.delay = 0.0
        self.connections = 0
        wiki = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                wiki.connections += 1
                super().setup()

            def do_GET(self) -> None:
                time.sleep(wiki.delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/w/api.php"


@pytest.fixture
def keep_alive_wiki() -> Iterator[KeepAliveWiki]:
    server = KeepAliveWiki()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    http.reset_session()
    yield server
    http.reset_session()
    server.shutdown()
    server.server_close()


def test_a_pooled_connection_gets_a_whole_deadline_for_its_next_request(keep_alive_wiki, settings):
    # The first answer uses up most of its deadline; the connection goes back to the pool with the
    # socket's timeout at what was left. The next request on it has a whole deadline of its own.
    settings.MWSSO_HTTP_TIMEOUT = 1.0
    keep_alive_wiki.delay = 0.8
    assert http.request("GET", keep_alive_wiki.url).json() == {}
    keep_alive_wiki.delay = 0.5
    assert http.request("GET", keep_alive_wiki.url).json() == {}
    assert keep_alive_wiki.connections == 1
    keep_alive_wiki.delay = 1.5
    with Timer() as timer, pytest.raises(requests.Timeout):
        http.request("GET", keep_alive_wiki.url)
    assert timer.seconds < 1.0 + 2


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file, key file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_tls_answers_come_through_and_a_dripped_handshake_ends_by_the_deadline(keep_alive_wiki, certificate, settings):
    settings.MWSSO_HTTP_TIMEOUT = 2.0
    settings.MWSSO_HTTP_DEADLINE = DEADLINE
    cert_file, key_file = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    keep_alive_wiki.socket = context.wrap_socket(keep_alive_wiki.socket, server_side=True)
    https_url = keep_alive_wiki.url.replace("http://", "https://")
    assert http.request("GET", https_url, verify=str(cert_file)).json() == {}

    # A "TLS server" that sends its handshake one byte a second.
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            for _ in range(int(DRIP_SECONDS)):
                conn.sendall(b"\x16")
                time.sleep(1.0)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with Timer() as timer, pytest.raises(requests.Timeout):
            http.request("GET", f"https://127.0.0.1:{listener.getsockname()[1]}/w/api.php", verify=str(cert_file))
        assert timer.seconds < BOUND
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("timeout", "deadline", "seconds"),
    [(10.0, None, 10.0), ((3.05, 10), None, 13.05), (None, None, 5.0), (10.0, 4, 4.0), ((1, None), None, None)],
)
def test_how_long_a_request_may_take(settings, timeout, deadline, seconds):
    settings.MWSSO_HTTP_TIMEOUT = 5.0
    settings.MWSSO_HTTP_DEADLINE = deadline
    assert http.deadline_seconds(timeout) == seconds


@pytest.mark.parametrize(
    ("value", "ids"),
    [(None, []), (2.5, []), (30, []), (0, ["mwsso.E007"]), ("10", ["mwsso.E007"]), (True, ["mwsso.E007"])],
)
def test_the_deadline_setting_is_checked(settings, value, ids):
    from mwsso.checks.config import check_http_deadline

    settings.MWSSO_HTTP_DEADLINE = value
    assert [message.id for message in check_http_deadline()] == ids
