"""Which host names and origins are the local wiki's own (a defence against DNS rebinding)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def _hostname(netloc: str) -> str | None:
    try:
        return urlsplit(f"//{netloc}").hostname
    except ValueError:
        return None


def is_own_host(host: str, server: str) -> bool:
    """Whether a request's ``Host`` names this wiki: any loopback name (127.0.0.0/8, [::1], localhost) or $wgServer's host.

    Loopback aliases stay accepted although they are not $wgServer (a request
    signed for one fails the signature check, as on a real wiki). Any other
    name is what a DNS-rebinding page sends: a browser page must not read answers.
    """
    name = _hostname(host)
    if not name:
        return False
    name = name.rstrip(".").lower()
    if name == "localhost" or name == (_hostname(urlsplit(server).netloc) or "").lower():
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_same_origin(origin: str, host: str, server: str) -> bool:
    """Whether a browser's ``Origin`` is this wiki itself (as the request's Host names it, or $wgServer)."""
    wanted = {f"http://{host}".lower(), server.rstrip("/").lower()}
    return origin.strip().rstrip("/").lower() in wanted
