"""One deadline over a whole request to a wiki: connecting, TLS, sending, the answer's headers and its body.

requests and urllib3 bound each socket operation, never the request: a server that sends the status
line and then one header byte a second never trips a 3 s read timeout, and holds the worker for as
long as it drips. ``DeadlineAdapter`` gives every request it sends an absolute deadline. Its
connections connect within what is left of it (CPython's TLS handshake counts its socket timeout for
the whole handshake), and read the answer through ``_DeadlineReader``, which sets the socket's timeout
to what is left before every single read. So a request ends by its deadline however its bytes arrive,
with the timeout errors requests already raises (``ConnectTimeout``, ``ReadTimeout``).

No Django here: ``mwsso.http`` says how long a request may take.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError

# The deadline of the request this thread is sending (set by DeadlineAdapter.send around urllib3's work).
_sending = threading.local()


def current_deadline() -> float | None:
    """The ``time.monotonic()`` by which the request this thread is sending must be done, or None."""
    return getattr(_sending, "deadline", None)


def seconds_left(deadline: float) -> float:
    """What is left until ``deadline``; ``TimeoutError`` (the socket timeout) once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the request's deadline passed")
    return left


class _DeadlineReader(io.RawIOBase):
    """The socket's raw reader, each read given only what is left of the deadline as its timeout."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        # makefile counts a reference to the socket, as http.client's own reader does: a response whose
        # connection closes (Connection: close) keeps its socket open until the body is read.
        self._raw = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        self._sock.settimeout(seconds_left(self._deadline))
        return self._raw.readinto(buffer)

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading the status line, headers and body by the request's deadline."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = current_deadline()
        if deadline is not None:
            self.fp.close()  # nothing was read through it yet
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _DeadlineConnectionMixin:
    """A urllib3 connection that connects, sends and starts reading within the current deadline."""

    # Typed as http.client declares it: a mixin's attribute must match the connection class's exactly.
    response_class: type[http.client.HTTPResponse] = DeadlineResponse
    timeout: Any

    def _clamp_timeout(self) -> None:
        deadline = current_deadline()
        if deadline is None:
            return
        # Never 0 (a non-blocking socket): a request past its deadline fails at its first read instead.
        left = max(deadline - time.monotonic(), 0.001)
        self.timeout = min(self.timeout, left) if isinstance(self.timeout, (int, float)) else left

    def connect(self) -> None:
        deadline = current_deadline()
        if deadline is not None and deadline <= time.monotonic():
            raise ConnectTimeoutError(self, "the request's deadline passed before it could connect")
        self._clamp_timeout()
        super().connect()  # type: ignore[misc]  # a mixin: the urllib3 connection after it in the MRO has this method

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._clamp_timeout()
        super().request(*args, **kwargs)  # type: ignore[misc]  # a mixin: the urllib3 connection after it in the MRO has this method

    def getresponse(self) -> Any:
        self._clamp_timeout()
        return super().getresponse()  # type: ignore[misc]  # a mixin: the urllib3 connection after it in the MRO has this method


class DeadlineHTTPConnection(_DeadlineConnectionMixin, HTTPConnection):
    pass


class DeadlineHTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, each request bounded by one deadline: ``seconds(timeout)`` from its start (None: unbounded)."""

    def __init__(self, *args: Any, seconds: Callable[[Any], float | None], **kwargs: Any) -> None:
        self._seconds = seconds
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # an HTTP(S) proxy; a SOCKS proxy keeps its own connections
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        seconds = self._seconds(timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
        outer = current_deadline()
        _sending.deadline = deadline
        try:
            response = super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        finally:
            _sending.deadline = outer
        # mwsso.http.read_bounded reads the body (after this returns) by the same deadline.
        response.deadline = deadline  # type: ignore[attr-defined]  # our own attribute on requests' Response
        return response
