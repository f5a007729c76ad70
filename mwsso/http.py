"""The one pooled HTTP session per process that every call to a wiki goes through.

Logins and API calls reuse keep-alive connections instead of paying a TCP (and
TLS) handshake per request. The session is rebuilt after a fork so that
gunicorn workers never share sockets with their parent.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from mwsso.app_settings import app_settings

_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid: int | None = None


def _build_session() -> requests.Session:
    session = requests.Session()
    pool = app_settings.HTTP_POOL_SIZE
    # Retries are the API client's job (it honours Retry-After); a hidden
    # transport retry would replay a signed request and trip the nonce check.
    adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = app_settings.USER_AGENT
    return session


def get_session() -> requests.Session:
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


def request(method: str, url: str, **kwargs: Any) -> requests.Response:
    """Send one request to a wiki with mwsso's timeout and User-Agent."""
    kwargs.setdefault("timeout", app_settings.HTTP_TIMEOUT)
    headers = kwargs.pop("headers", None) or {}
    # Read on every call so a changed setting applies without rebuilding the pool.
    headers.setdefault("User-Agent", app_settings.USER_AGENT)
    kwargs.setdefault("allow_redirects", False)
    return get_session().request(method, url, headers=headers, **kwargs)
