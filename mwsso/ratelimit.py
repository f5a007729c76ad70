"""Limits on sign-in starts, so that nobody can make the site hammer the wiki.

Each sign-in start (``POST /login/<backend>/``) makes a signed request to the wiki; a script that
posts in a loop would make the site flood the wiki until the wiki throttles the consumer and nobody
can sign in. Starts are counted per client address and per session in fixed windows in Django's
cache: ``cache.add`` creates a window's counter once and ``cache.incr`` counts atomically, which
holds across processes and machines with Redis or Memcached and within one process with the
local-memory cache.

The client address is ``REMOTE_ADDR`` unless the site says otherwise: ``MWSSO_TRUSTED_PROXIES``
(how many proxies of its own append to ``X-Forwarded-For``) or ``MWSSO_CLIENT_IP`` (a callable).
A header the client sends is never believed by default: anyone can forge ``X-Forwarded-For``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from mwsso import signals
from mwsso.app_settings import app_settings

logger = logging.getLogger("mwsso.ratelimit")

TEMPLATE = "mwsso/rate_limited.html"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*")


class InvalidRate(ValueError):
    """A rate is not written ``<count>/<period>`` (``10/m``, ``30/5m``, ``100/h``)."""


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}s"


def parse_rate(value: str) -> Rate:
    """``"30/5m"`` → 30 per 300 s. Units: s, m, h, d; a number before the unit multiplies it."""
    match = _RATE.fullmatch(value or "")
    if not match:
        raise InvalidRate(f"{value!r} is not a rate such as '10/m' or '30/5m'")
    count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or multiple < 1:
        raise InvalidRate(f"{value!r}: the count and the period must be at least 1")
    return Rate(count, multiple * _UNITS[unit])


@dataclass(frozen=True)
class Refusal:
    scope: str
    rate: Rate
    retry_after: int


def hit(cache_alias: str, scope: str, ident: str, rate: Rate, now: float | None = None) -> int | None:
    """Count one start for ``ident`` in the current window; seconds to wait when over ``rate``, else None."""
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    # Hashed: a session key is a credential and must not sit in cache keys (or Redis' MONITOR) in clear.
    digest = hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    key = f"mwsso:ratelimit:{scope}:{digest}:{window}"
    cache = caches[cache_alias]
    # The counter outlives its window by a few seconds, for workers whose clocks differ slightly.
    timeout = rate.seconds + 5
    cache.add(key, 0, timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout)
        count = 1
    if count <= rate.count:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))


def client_ip(request: HttpRequest) -> str:
    """The client's address as the site says to read it (``MWSSO_CLIENT_IP``, ``MWSSO_TRUSTED_PROXIES``)."""
    hook = app_settings.CLIENT_IP
    if hook:
        func = import_string(hook) if isinstance(hook, str) else hook
        return str(func(request) or "")
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = app_settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    # Each trusted proxy appends the address it was reached from: the N-th entry from the right is what
    # the outermost of our N proxies saw, the client. Entries further left are the client's to invent.
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    # Fewer entries than proxies: the request did not come through them all; nothing in the header is ours.
    return chain[-proxies] if len(chain) >= proxies else remote


def check_login_start(request: HttpRequest, backend: str) -> Refusal | None:
    """Count this sign-in start against every configured limit; the exceeded one with the longest wait, or None."""
    limits = app_settings.LOGIN_RATE_LIMITS
    idents = {"ip": client_ip(request), "session": _session_key(request)}
    refusal = None
    for scope, value in limits.items():
        if not value or scope not in idents or not idents[scope]:
            continue
        try:
            rate = parse_rate(str(value))
            wait = hit(app_settings.RATE_LIMIT_CACHE, f"login:{scope}", idents[scope], rate)
        except InvalidRate as err:
            logger.error("MWSSO_LOGIN_RATE_LIMITS[%r] ignored: %s (manage.py check: mwsso.E030)", scope, err)
            continue
        except Exception as err:  # the cache is down (Redis unreachable): sign-in must not break with it
            logger.warning("login start not counted: the rate-limit cache failed (%s)", type(err).__name__)
            return None
        if wait is not None and (refusal is None or wait > refusal.retry_after):
            refusal = Refusal(scope, rate, wait)
    return refusal


def _session_key(request: HttpRequest) -> str:
    session = getattr(request, "session", None)
    return (session.session_key or "") if session is not None else ""


def refuse_login_start(request: HttpRequest, backend: str) -> HttpResponse | None:
    """None to go on; else the 429 page (with Retry-After), after a log line and ``login_rate_limited``."""
    if request.method != "POST":
        return None  # only a POST starts a sign-in (and makes a request to the wiki)
    refusal = check_login_start(request, backend)
    if refusal is None:
        return None
    logger.warning(
        "login start rate-limited: backend=%s scope=%s limit=%s retry_after=%ss",
        backend, refusal.scope, refusal.rate, refusal.retry_after,
    )
    signals.login_rate_limited.send(
        sender=refuse_login_start, request=request, backend=backend, scope=refusal.scope, retry_after=refusal.retry_after
    )
    minutes = max(1, math.ceil(refusal.retry_after / 60))
    html = render_to_string(TEMPLATE, {"retry_after": refusal.retry_after, "minutes": minutes, "backend": backend}, request)
    response = HttpResponse(html, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response
