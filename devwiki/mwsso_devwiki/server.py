"""A threaded HTTP/1.1 server for the devwiki WSGI app.

wsgiref speaks HTTP/1.0 and closes every connection; clients with a pooled
keep-alive session would then race closed sockets. This server keeps
connections alive, sends Content-Length on every response, and can drop a
connection without answering (the "drop" fault).
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .app import WSGIApp, make_app
from .web.wsgi import MAX_BODY, DropConnection

if TYPE_CHECKING:
    from .state.store import Store

log = logging.getLogger("mwsso_devwiki")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devwiki"
    sys_version = ""

    def version_string(self) -> str:
        return "devwiki"

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header tells the wiki's own time, clock offset included (mwsso_check compares it).
        return super().date_time_string(self.server.store.now() if timestamp is None else timestamp)

    timeout = 120  # idle keep-alive connections give their thread back eventually

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm meets the
        # client's delayed ACK and every keep-alive response waits ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def _environ(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path, encoding="latin-1"),
            # As sent: http.server turns a leading "//" of self.path into "/", PHP's REQUEST_URI does not.
            "REQUEST_URI": self.requestline.split(" ")[1] if " " in self.requestline else self.path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": self.headers.get("Content-Length", ""),
            "wsgi.input": self.rfile,
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _serve(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "Content-Length required")
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            self.close_connection = True  # the rest of the body is never read
        started: list[Any] = []
        try:
            body = b"".join(
                self.server.app(
                    self._environ(), lambda status, headers, exc_info=None: started.extend([status, headers])
                )
            )
        except DropConnection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, headers = started
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the path only: query strings carry verifiers and token keys
        log.debug("%s %s -> %s", self.command, self.path.partition("?")[0], code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("devwiki http: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], app: WSGIApp, store: Store) -> None:
        self.app = app
        self.store = store
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        self.store.count("connections")  # lets tests see keep-alive at work
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that timed out or hung up is normal here (slow/drop faults, keep-alive)
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("devwiki: client went away: %s", error)
            return
        log.exception("devwiki: error while serving a connection")

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Server6(_Server):
    address_family = socket.AF_INET6


class DevWikiServer:
    """One devwiki listening on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = store
        server_class = _Server6 if ":" in host else _Server
        self.httpd = server_class((host, port), make_app(store), store)
        self.port = self.httpd.server_address[1]
        # a wildcard bind address is not a URL anyone can open; name loopback instead
        shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(  # noqa: S104
            host, f"[{host}]" if ":" in host else host
        )
        self.server_url = f"http://{shown}:{self.port}"
        if not store.server:
            store.server = self.server_url  # iss and the signature base string use it
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name=f"devwiki:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.close_connections()
        self.httpd.server_close()
