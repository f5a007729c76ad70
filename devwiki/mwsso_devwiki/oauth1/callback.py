"""The callback rule (MWOAuthServer::checkCallback): what ``oauth_callback`` a consumer may send."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..messages import MWOAuthError

if TYPE_CHECKING:
    from ..state.models import Consumer


def _split(url: str) -> dict[str, object] | None:
    """wfParseUrl's view of a URL: only the parts that are present, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = hostport[: hostport.rindex("]") + 1] if hostport.startswith("[") else (hostport.split(":")[0])
    out: dict[str, object] = {"scheme": parts.scheme, "host": host, "userinfo": userinfo}
    if port is not None:
        out["port"] = port
    if parts.path:
        out["path"] = parts.path
    if parts.query:
        out["query"] = parts.query
    return out


def _component_matches(part: str, known: dict, given: dict, exact: bool = False) -> bool:
    if part not in known:
        return True
    if part not in given:
        return False
    if exact:
        return known[part] == given[part]
    return str(given[part]).startswith(str(known[part]))


def check_callback(consumer: Consumer, callback: str | None) -> None:
    """MWOAuthServer::checkCallback."""
    if not consumer.callback_is_prefix:
        if callback != "oob":
            raise MWOAuthError("mwoauth-callback-not-oob")
        return
    if not callback:
        raise MWOAuthError("mwoauth-callback-not-oob-or-prefix")
    if callback == "oob":
        return
    given = _split(callback)
    known = _split(consumer.callback)
    if given is None or known is None or given["userinfo"]:
        raise MWOAuthError("mwoauth-callback-not-oob-or-prefix")
    scheme_ok = given["scheme"] == known["scheme"] or (known["scheme"] == "http" and given["scheme"] == "https")
    port_ok = known.get("port") == 1 or known.get("port") == given.get("port")
    match = (
        scheme_ok
        and known["host"] == given["host"]
        and port_ok
        and _component_matches("path", known, given, exact="query" in known)
        and _component_matches("query", known, given)
    )
    if not match:
        raise MWOAuthError("mwoauth-callback-not-oob-or-prefix")
