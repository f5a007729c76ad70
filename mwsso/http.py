"""The one pooled HTTP session per process that every call to a wiki goes through.

Logins and API calls reuse keep-alive connections instead of paying a TCP (and
TLS) handshake per request. The session is rebuilt after a fork so that
gunicorn workers never share sockets with their parent. Every request has one
deadline over connecting, sending and reading the whole answer
(``MWSSO_HTTP_DEADLINE``, ``mwsso.protocol.deadline``), and every answer is read with a
size bound (``MAX_ANSWER_BYTES``), so that a wiki that sends 50 MB, a gzip bomb
or one byte at a time (of its headers or of its body) cannot hold a worker's
memory or time.
"""

from __future__ import annotations

import http.cookiejar
import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict

from mwsso.app_settings import app_settings
from mwsso.exceptions import MwssoError
from mwsso.protocol.deadline import DeadlineAdapter

_lock = threading.Lock()
_session: WikiSession | None = None
_session_pid: int | None = None


class RefuseAllCookies(http.cookiejar.DefaultCookiePolicy):
    """A cookie policy that never stores or sends a cookie.

    The session is shared by every user of the process: a cookie one wiki answer
    sets (Wikimedia's ChronologyProtector, load-balancer, analytics cookies) would
    otherwise go out with every later request of every other user.
    """

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


# Environment settings per wiki origin (scheme://host:port) and no_proxy, at most this many kept.
_ENVIRONMENT_KEPT = 256
# Prepared API URLs (a site calls a few wikis), at most this many kept.
_URLS_KEPT = 256


class WikiSession(requests.Session):
    """A ``requests.Session`` that reads the environment's proxy and CA settings once per wiki, not per request.

    requests looks through the whole of ``os.environ`` on every request (``HTTPS_PROXY``, ``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``…): about a sixth of an API call's CPU in ``bench/refresh_scale.py``. The
    environment of a running process does not change, so what it says for a wiki's origin is kept (with
    the lifetime of the session: ``reset_session`` reads it again). What a caller passes still wins, as in
    requests.
    """

    def __init__(self) -> None:
        super().__init__()
        # Read once per wiki below instead. Without trust_env requests would also stop sending ~/.netrc's
        # credentials with a request that has no auth of its own: a session shared by every user of the site
        # never should.
        self.trust_env = False
        self._environment: dict[tuple[str, Any], tuple[dict[str, str], str | None]] = {}
        self._prepared_urls: dict[str, str] = {}

    def send_fields(
        self, method: str, url: str, fields: Mapping[str, str], *, auth: Any, timeout: Any, headers: Mapping[str, str]
    ) -> requests.Response:
        """``request(method, url, params=fields)`` for a GET (``data=fields`` otherwise), not following redirects.

        The same request on the wire, prepared without what requests redoes for every request: merging the
        session's cookies, headers, parameters, hooks and settings into it (a cookie jar built and read,
        ``typing`` protocol checks, the URL parsed and requoted): 12% of a read's CPU and 23% of a write's in
        ``bench/refresh_scale.py``. Here the session's headers go under ``headers`` (checked as requests
        checks them), no cookie is sent (the session refuses them all), ``url`` is prepared once and the
        fields (strings only, as ``mwsso.api.client.encode_params`` makes them) are encoded as requests encodes
        them (``urlencode``, UTF-8); the auth then signs the result.
        """
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers)
        prepared.prepare_headers(merged)
        encoded = urlencode(list(fields.items()))
        body: str | None = None
        if prepared.method != "GET":
            body, encoded = (encoded or None), ""
            if body is not None and "content-type" not in prepared.headers:
                prepared.headers["Content-Type"] = "application/x-www-form-urlencoded"
        if any(mark in url for mark in "?#@"):
            # A query or fragment of the URL's own (joined as requests joins them), or user info: prepared
            # each time, never kept (a query may hold what a user sent, user info a password).
            prepared.prepare_url(url, encoded or None)
        else:
            base = self._prepared_url(url)
            prepared.url = f"{base}?{encoded}" if encoded else base
        prepared.body = body
        prepared.prepare_content_length(body)
        prepared._cookies = RequestsCookieJar(self.cookies.get_policy())  # type: ignore[attr-defined]  # requests' own attribute, read when a redirect is prepared
        prepared.hooks = {event: list(hooks) for event, hooks in self.hooks.items()}
        prepared.prepare_auth(auth)
        settings = self.merge_environment_settings(prepared.url, {}, None, None, None)
        return self.send(prepared, timeout=timeout, allow_redirects=False, **settings)

    def _prepared_url(self, url: str) -> str:
        """``url`` (no query, fragment or user info) as requests prepares it (IDNA host, requoted), once per URL."""
        found = self._prepared_urls.get(url)
        if found is None:
            prepared = requests.PreparedRequest()
            prepared.prepare_url(url, None)
            found = str(prepared.url)
            if len(self._prepared_urls) >= _URLS_KEPT:
                self._prepared_urls.clear()
            self._prepared_urls[url] = found
        return found

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        env_proxies, ca_bundle = self._environment_for(url, proxies)
        if env_proxies:
            proxies = {**env_proxies, **(proxies or {})}  # what the caller names wins, as in requests
        if ca_bundle and (verify is True or verify is None):
            verify = ca_bundle
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def _environment_for(self, url: Any, proxies: Any) -> tuple[dict[str, str], str | None]:
        """The environment's proxies for ``url``'s origin (``NO_PROXY`` applied) and its CA bundle, read once."""
        url = url.decode() if isinstance(url, bytes) else str(url or "")
        no_proxy = proxies.get("no_proxy") if proxies else None
        parts = urlsplit(url)
        key = (f"{parts.scheme}://{parts.netloc}", no_proxy)
        found = self._environment.get(key)
        if found is None:
            found = (
                requests.utils.get_environ_proxies(url, no_proxy=no_proxy),
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
            )
            if len(self._environment) >= _ENVIRONMENT_KEPT:
                self._environment.clear()
            self._environment[key] = found
        return found


def _build_session() -> WikiSession:
    session = WikiSession()
    session.cookies.set_policy(RefuseAllCookies())
    pool = app_settings.HTTP_POOL_SIZE
    # Retries are the API client's job (it honours Retry-After); a hidden
    # transport retry would replay a signed request and trip the nonce check.
    adapter = DeadlineAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0, seconds=deadline_seconds)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = app_settings.SENT_USER_AGENT
    session.hooks["response"].append(read_bounded)
    return session


# A JWT or a token is a few KB; MediaWiki caps an API result at 8 MiB ($wgAPIMaxResultSize). Counted decoded.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
_READ_SIZE = 64 * 1024


class AnswerTooLarge(MwssoError, requests.exceptions.ContentDecodingError):
    """The wiki's answer is larger than ``MAX_ANSWER_BYTES`` (decoded); it was not read to the end."""


class AnswerTooSlow(MwssoError, requests.exceptions.ReadTimeout):
    """The wiki's answer did not arrive whole by the request's deadline (each part came just in time)."""


def deadline_seconds(timeout: Any) -> float | None:
    """How long one request with this ``timeout`` may take in all: ``MWSSO_HTTP_DEADLINE``, else the timeout's total.

    A number is the whole request's time, a ``(connect, read)`` pair their sum; no timeout at all gets
    ``MWSSO_HTTP_TIMEOUT``'s: no request to a wiki goes unbounded.
    """
    configured = app_settings.HTTP_DEADLINE
    if configured is not None:
        return configured
    if timeout is None:
        timeout = app_settings.HTTP_TIMEOUT
    if isinstance(timeout, urllib3.Timeout):
        timeout = (timeout.connect_timeout, timeout.read_timeout)
    parts = timeout if isinstance(timeout, tuple) else (timeout,)
    if not all(isinstance(part, (int, float)) for part in parts):
        return None  # an explicit "wait forever" of a caller's own
    return float(sum(parts))


def read_bounded(response: requests.Response, **kwargs: Any) -> requests.Response:
    """A response hook: read the body now, at most ``MAX_ANSWER_BYTES`` and by the request's deadline.

    requests would read any body to its end. ``read1`` does one socket read per call, each bounded by
    what is left of the deadline (``mwsso.protocol.deadline``), which is checked again after every read.
    """
    raw = response.raw
    if kwargs.get("stream") or not hasattr(raw, "read1"):
        return response
    deadline = getattr(response, "deadline", None)
    if deadline is None:  # a response that did not come through DeadlineAdapter: the read timeout, from now
        seconds = _read_timeout(kwargs.get("timeout"))
        deadline = None if seconds is None else time.monotonic() + seconds
    declared = response.headers.get("Content-Length", "")
    chunks: list[bytes] = []
    size = 0
    try:
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise AnswerTooLarge(f"the answer announces {int(declared)} bytes, more than {MAX_ANSWER_BYTES}")
        while chunk := raw.read1(_READ_SIZE, decode_content=True):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
            if deadline is not None and time.monotonic() > deadline:
                raise AnswerTooSlow("the answer did not arrive whole by the request's deadline")
            chunks.append(chunk)
    except requests.RequestException:
        response.close()
        raise
    except urllib3.exceptions.HTTPError as err:
        response.close()
        raise _as_requests_error(err) from err
    response._content = b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]  # requests' private flag, not in its stubs; set as Response.content does
    response.close()  # the body was read to its end: the connection goes back to the pool
    return response


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    if isinstance(timeout, urllib3.Timeout):
        timeout = timeout.read_timeout
    return float(timeout) if isinstance(timeout, (int, float)) else None


def _as_requests_error(err: urllib3.exceptions.HTTPError) -> requests.RequestException:
    # As requests' own Response.iter_content maps them.
    if isinstance(err, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(err)
    if isinstance(err, urllib3.exceptions.DecodeError):
        return requests.exceptions.ContentDecodingError(err)
    if isinstance(err, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(err)
    return requests.exceptions.ChunkedEncodingError(err)


def get_session() -> WikiSession:
    """Return this process's shared session, creating it on first use."""
    global _session, _session_pid
    pid = os.getpid()
    if _session is None or _session_pid != pid:
        with _lock:
            if _session is None or _session_pid != pid:
                _session = _build_session()
                _session_pid = pid
    return _session


def reset_session() -> None:
    """Drop the shared session (its pooled connections are closed); the next call builds a new one."""
    global _session, _session_pid
    with _lock:
        if _session is not None:
            _session.close()
        _session = None
        _session_pid = None


def request_options() -> dict[str, Any]:
    """mwsso's timeout and User-Agent for one request (read on every call, so a changed setting applies at once)."""
    return {"timeout": app_settings.HTTP_TIMEOUT, "headers": {"User-Agent": app_settings.SENT_USER_AGENT}}


def send_fields(method: str, url: str, fields: Mapping[str, str], *, auth: Any = None) -> requests.Response:
    """Send ``fields`` to a wiki with mwsso's timeout and User-Agent: in the URL of a GET, else as a form body.

    What the API client sends: ``request(method, url, params=fields)`` (``data=`` for a POST) at less CPU
    (``WikiSession.send_fields``); redirects are not followed.
    """
    options = request_options()
    return get_session().send_fields(
        method, url, fields, auth=auth, timeout=options["timeout"], headers=options["headers"]
    )


def request(method: str, url: str, **kwargs: Any) -> requests.Response:
    """Send one request to a wiki with mwsso's timeout and User-Agent."""
    options = request_options()
    kwargs.setdefault("timeout", options["timeout"])
    headers = {**options["headers"], **(kwargs.pop("headers", None) or {})}
    kwargs.setdefault("allow_redirects", False)
    return get_session().request(method, url, headers=headers, **kwargs)
