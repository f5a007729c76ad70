"""A simulated network between the site and the wiki: a TCP proxy that adds a round-trip time.

Loopback answers in microseconds, so on it a library that opens a new connection for every
request, or makes one round trip too many, looks as fast as one that does not. Behind this proxy
every byte takes half the round-trip time (RTT) to cross each way, a new connection first pays one
RTT for the TCP handshake, and with ``tls=True`` the wiki is HTTPS (a self-signed certificate
made on the fly) so that each new connection also pays the TLS handshake's round trip(s), as on
the internet. The proxy counts the connections it accepts: that is "new connections" in the table.

    client ──(delayed TCP, TLS when asked)──▶ DelayProxy ──▶ [TLS terminator] ──▶ local wiki
"""

from __future__ import annotations

import datetime
import heapq
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

BUFFER = 65536


class _Listener:
    """Accepts connections on 127.0.0.1 (port 0: a free one) and hands each to ``handle`` in a thread."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return  # closed
            with self._lock:
                self.accepted += 1
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


def _connect(port: int) -> socket.socket:
    upstream = socket.create_connection(("127.0.0.1", port))
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return upstream


def _pump(source: socket.socket, target: socket.socket, delay: float) -> None:
    """Copy bytes, each chunk arriving ``delay`` seconds after it was read (latency, not bandwidth)."""
    due: list[tuple[float, int, bytes]] = []
    ready = threading.Condition()
    done = threading.Event()

    def deliver() -> None:
        while True:
            with ready:
                while not due and not done.is_set():
                    ready.wait()
                if not due:
                    break
                at, _, chunk = due[0]
                wait = at - time.monotonic()
                if wait > 0:
                    ready.wait(wait)
                    continue
                heapq.heappop(due)
            try:
                target.sendall(chunk)
            except OSError:
                break
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    writer = threading.Thread(target=deliver, daemon=True)
    writer.start()
    sequence = 0
    while True:
        try:
            chunk = source.recv(BUFFER)
        except OSError:
            chunk = b""
        with ready:
            if not chunk:
                done.set()
                ready.notify()
                break
            sequence += 1
            heapq.heappush(due, (time.monotonic() + delay, sequence, chunk))
            ready.notify()
    writer.join()


def _splice(client: socket.socket, upstream: socket.socket, delay: float) -> None:
    back = threading.Thread(target=_pump, args=(upstream, client, delay), daemon=True)
    back.start()
    _pump(client, upstream, delay)
    back.join()
    client.close()
    upstream.close()


class DelayProxy(_Listener):
    """Forwards to ``upstream_port`` with ``rtt`` seconds of round trip; counts accepted connections."""

    def __init__(self, rtt: float) -> None:
        super().__init__()
        self.rtt = rtt
        self.upstream_port = 0

    def handle(self, client: socket.socket) -> None:
        time.sleep(self.rtt)  # SYN, SYN-ACK: the handshake's round trip before the first byte
        _splice(client, _connect(self.upstream_port), self.rtt / 2)


class TLSTerminator(_Listener):
    """Speaks TLS to the client (through the DelayProxy) and plain HTTP to the wiki."""

    def __init__(self, certfile: Path, keyfile: Path) -> None:
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certfile, keyfile)
        self.upstream_port = 0

    def handle(self, client: socket.socket) -> None:
        try:
            wrapped = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            client.close()
            return
        _splice(wrapped, _connect(self.upstream_port), 0.0)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day: (certfile, keyfile)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mwsso bench wiki")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "wiki.pem", directory / "wiki.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certfile, keyfile


class SimulatedNetwork:
    """The site's way to the wiki: ``url`` (http or https) reaches ``wiki_port`` with ``rtt`` of delay.

    Bind first (the wiki's ``$wgServer`` must be the URL the site uses), then ``connect(wiki_port)``.
    ``ca_bundle`` is the certificate a client must trust when ``tls`` is on.
    """

    def __init__(self, rtt: float, tls: bool = False) -> None:
        self.rtt = rtt
        self.proxy = DelayProxy(rtt)
        self.tls = tls
        self.terminator: TLSTerminator | None = None
        self.ca_bundle: Path | None = None
        if tls:
            self._dir = tempfile.TemporaryDirectory(prefix="mwsso-bench-")
            certfile, keyfile = self_signed_certificate(Path(self._dir.name))
            self.terminator = TLSTerminator(certfile, keyfile)
            self.ca_bundle = certfile

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.proxy.port}"

    @property
    def connections(self) -> int:
        return self.proxy.accepted

    def connect(self, wiki_port: int) -> None:
        if self.terminator:
            self.terminator.upstream_port = wiki_port
            self.proxy.upstream_port = self.terminator.port
            self.terminator.start()
        else:
            self.proxy.upstream_port = wiki_port
        self.proxy.start()

    def handshake_round_trips(self) -> int:
        """Round trips a new connection costs before its first request: TCP, plus TLS 1.3's one."""
        return 2 if self.tls else 1

    def close(self) -> None:
        self.proxy.close()
        if self.terminator:
            self.terminator.close()
            self._dir.cleanup()
