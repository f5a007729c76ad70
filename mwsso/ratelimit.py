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
An address is counted in one spelling (``ipaddress``): an IPv4-mapped IPv6 address is its IPv4
address, and an IPv6 address counts for its whole /64 (``MWSSO_RATE_LIMIT_IPV6_PREFIX``), which one
household or one server usually holds entire. Every start of a browser counts for its session, the
first one too (``UNCOUNTED_STARTS``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from mwsso import signals
from mwsso.app_settings import app_settings
from mwsso.exceptions import ConfigurationError

logger = logging.getLogger("mwsso.ratelimit")

TEMPLATE = "mwsso/rate_limited.html"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*")


class InvalidRate(ConfigurationError, ValueError):
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
class Limited:
    scope: str
    rate: Rate
    retry_after: int


def hit(cache_alias: str, scope: str, ident: str, rate: Rate, now: float | None = None, count: int = 1) -> int | None:
    """Count ``count`` starts for ``ident`` in the current window; seconds to wait when over ``rate``, else None."""
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
        total = cache.incr(key, count)
    except ValueError:  # expired between add and incr
        cache.add(key, count, timeout)
        total = count
    if total <= rate.count:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))


# Every address that is not one (an unparsable REMOTE_ADDR or forwarded entry) shares one count:
# spelling it differently must not make a new one.
NOT_AN_ADDRESS = "not-an-address"


def normalise_address(text: str) -> str | None:
    """``text`` as one spelling of its IP address, or None when it is not one.

    Brackets, a port, an IPv6 zone and surrounding space are dropped; an IPv4-mapped IPv6 address
    (``::ffff:192.0.2.1``) is its IPv4 address; IPv6 is written compressed, in lower case.
    """
    value = text.strip().lower()
    if value.startswith("[") and "]" in value:  # [2001:db8::1] or [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 192.0.2.1:443
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def address_key(address: str) -> str:
    """What one client's starts are counted under: its IPv4 address, or its IPv6 address's network (/64)."""
    normal = normalise_address(address)
    if normal is None:
        return NOT_AN_ADDRESS
    if ":" not in normal:
        return normal
    return str(ipaddress.IPv6Network(f"{normal}/{app_settings.RATE_LIMIT_IPV6_PREFIX}", strict=False))


def client_ip(request: HttpRequest) -> str:
    """The client's address as the site says to read it (``MWSSO_CLIENT_IP``, ``MWSSO_TRUSTED_PROXIES``).

    In one spelling (``normalise_address``); what is not an address is ``NOT_AN_ADDRESS``, but a site's
    own ``MWSSO_CLIENT_IP`` may name clients as it likes. "" when the request names no client.
    """
    hook = app_settings.CLIENT_IP
    if hook:
        func = import_string(hook) if isinstance(hook, str) else hook
        given = str(func(request) or "")
        return normalise_address(given) or given
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = app_settings.TRUSTED_PROXIES
    if proxies > 0:
        # Each trusted proxy appends the address it was reached from: the N-th entry from the right is what
        # the outermost of our N proxies saw, the client. Entries further left are the client's to invent.
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        # Fewer entries than proxies: the request did not come through them all; nothing in the header is ours.
        if len(chain) >= proxies:
            remote = chain[-proxies]
    if not remote.strip():
        return ""  # no client address at all (a server on a Unix socket): nothing to count it under
    return normalise_address(remote) or NOT_AN_ADDRESS


# A browser's first start has no session key to be counted under yet: it is noted in the session (which
# the sign-in writes anyway) and counted with the browser's next start, at no extra database write.
UNCOUNTED_STARTS = "mwsso_uncounted_login_starts"


def check_login_start(request: HttpRequest, backend: str) -> Limited | None:
    """Count this sign-in start against every configured limit; the exceeded one with the longest wait, or None."""
    limits = app_settings.LOGIN_RATE_LIMITS
    address = client_ip(request)
    session = getattr(request, "session", None)
    idents = {"ip": address_key(address) if address else "", "session": (session.session_key or "") if session else ""}
    refusal = None
    for scope, value in limits.items():
        if not value or scope not in idents or not idents[scope]:
            continue
        starts = _starts_of_session(session) if scope == "session" else 1
        try:
            rate = parse_rate(str(value))
            wait = hit(app_settings.RATE_LIMIT_CACHE, f"login:{scope}", idents[scope], rate, count=starts)
        except InvalidRate as err:
            logger.error("MWSSO_LOGIN_RATE_LIMITS[%r] ignored: %s (manage.py check: mwsso.E030)", scope, err)
            continue
        except Exception as err:  # the cache is down (Redis unreachable): sign-in must not break with it
            logger.warning("login start not counted: the rate-limit cache failed (%s)", type(err).__name__)
            return None
        if starts > 1 and session is not None:  # (only a session counts more than one start)
            del session[UNCOUNTED_STARTS]
        if wait is not None and (refusal is None or wait > refusal.retry_after):
            refusal = Limited(scope, rate, wait)
    if refusal is None and limits.get("session") and session is not None and not idents["session"]:
        # Only for a start that goes on: a refused one must not make the site write a session.
        session[UNCOUNTED_STARTS] = 1
    return refusal


def _starts_of_session(session: Any) -> int:
    """This start, and the one the browser made before its session had a key (``UNCOUNTED_STARTS``)."""
    earlier = session.get(UNCOUNTED_STARTS, 0)
    return 1 + (earlier if type(earlier) is int and 0 < earlier < 10 else 0)


def refuse_login_start(request: HttpRequest, backend: str) -> HttpResponse | None:
    """None to go on; else the 429 page (with Retry-After), after a log line and ``login_rate_limited``."""
    if request.method != "POST":
        return None  # only a POST starts a sign-in (and makes a request to the wiki)
    refusal = check_login_start(request, backend)
    if refusal is None:
        return None
    logger.warning(
        "login start rate-limited: backend=%s scope=%s limit=%s retry_after=%ss",
        backend,
        refusal.scope,
        refusal.rate,
        refusal.retry_after,
    )
    signals.login_rate_limited.send(
        sender=refuse_login_start,
        request=request,
        backend=backend,
        scope=refusal.scope,
        retry_after=refusal.retry_after,
    )
    minutes = max(1, math.ceil(refusal.retry_after / 60))
    html = render_to_string(
        TEMPLATE, {"retry_after": refusal.retry_after, "minutes": minutes, "backend": backend}, request
    )
    response = HttpResponse(html, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response
