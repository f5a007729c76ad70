"""Tokens at rest (Fernet, rotation, unreadable tokens) and the one pooled HTTP session per process."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.fernet import Fernet

from mwsso import __version__, crypto, http
from mwsso.exceptions import TokenUnreadable
from mwsso.models import AccessToken, Credentials

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_first_key_encrypts_and_every_key_decrypts(settings):
    settings.MWSSO_TOKEN_KEYS = [OLD]
    sealed = crypto.encrypt("secret")
    settings.MWSSO_TOKEN_KEYS = [NEW, OLD]
    assert crypto.decrypt(sealed) == "secret"
    rotated = crypto.rotate(sealed)
    settings.MWSSO_TOKEN_KEYS = [NEW]
    assert crypto.decrypt(rotated) == "secret"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(sealed)


def test_without_configured_keys_a_key_is_derived_from_secret_key(settings):
    settings.MWSSO_TOKEN_KEYS = []
    sealed = crypto.encrypt("x")
    assert Fernet(crypto.derived_key(settings.SECRET_KEY).encode()).decrypt(sealed.encode()) == b"x"
    settings.SECRET_KEY = "another-secret-key-another-secret-key-0123456789"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(sealed)


def test_key_ids_name_keys_without_revealing_them(settings):
    settings.MWSSO_TOKEN_KEYS = [NEW, OLD]
    assert crypto.primary_key_id() == crypto.key_id(NEW) != crypto.key_id(OLD)
    assert len(crypto.primary_key_id()) == 12 and crypto.primary_key_id() not in NEW


def test_token_round_trip_and_unreadable_token(settings):
    settings.MWSSO_TOKEN_KEYS = [OLD]
    token = AccessToken(pk=7)
    token.set_credentials("token-key-123", "token-secret-456")
    assert "token-key-123" not in token.encrypted and "token-secret-456" not in token.encrypted
    assert token.get_credentials() == Credentials("token-key-123", "token-secret-456", 1)
    assert token.key_id == crypto.key_id(OLD) and token.fingerprint not in ("token-key-123",)
    settings.MWSSO_TOKEN_KEYS = [NEW]
    with pytest.raises(TokenUnreadable) as caught:
        token.get_credentials()
    assert "token-secret-456" not in str(caught.value) and caught.value.__cause__ is None


def test_credentials_repr_hides_secrets():
    credentials = Credentials("token-key-123", "token-secret-456")
    assert "token-key-123" not in repr(credentials) and "token-secret-456" not in str(credentials)


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, int]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append((self.headers.get("User-Agent", ""), self.client_address[1]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen = []
    http.reset_session()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    http.reset_session()
    server.shutdown()
    server.server_close()


def test_one_keep_alive_connection_and_our_user_agent(settings, recorder):
    settings.MWSSO_USER_AGENT = "MyTool/1.0 (me@example.org)"
    for _ in range(5):
        assert http.request("GET", recorder).text == "ok"
    agents, ports = zip(*_Recorder.seen, strict=True)
    assert set(agents) == {f"MyTool/1.0 (me@example.org) mwsso/{__version__}"}
    assert len(set(ports)) == 1  # the same TCP connection every time
    assert http.get_session() is http.get_session()


def test_a_forked_process_gets_its_own_session(recorder):
    parent = http.get_session()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a gunicorn worker after fork
        same = http.get_session() is parent
        os.write(write, b"same" if same else b"new")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"new"
    assert http.get_session() is parent
