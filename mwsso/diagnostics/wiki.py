"""Checks of the wiki itself: it answers at the configured URL, over HTTPS, under its own host name, on time.

Pure functions take what the wiki answered (a status, a header, a JSON body) and return a ``Result``;
``probe_*`` functions make the one request each needs.
"""

from __future__ import annotations

import ipaddress
import re
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from mwsso.protocol.wikiurls import WikiURLs

from .results import Result, _

CLOCK_WARN_SECONDS = 60
# Extension:OAuth refuses a timestamp more than 300 s from its own clock ("Expired timestamp").
CLOCK_FAIL_SECONDS = 300


def is_loopback(host: str | None) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def probe_index(session: requests.Session, urls: WikiURLs, **options: Any) -> requests.Response:
    """A plain GET of Special:OAuth on the configured index.php, redirects not followed."""
    return session.get(urls.index, params={"title": "Special:OAuth"}, allow_redirects=False, **options)


def reachable_result(urls: WikiURLs, response: requests.Response | None, error: str = "") -> Result:
    if response is None:
        return Result(
            "wiki.reachable",
            "fail",
            str(_("The wiki at %(url)s could not be reached: %(error)s.") % {"url": urls.index, "error": error}),
            str(_("Check SOCIAL_AUTH_MEDIAWIKI_URL, the wiki's name in DNS, and that this machine may connect to it.")),
        )
    if response.is_redirect:
        target = urlsplit(response.headers.get("Location", ""))
        ours = urlsplit(urls.server)
        if not target.netloc or (target.scheme, target.netloc.lower()) == (ours.scheme, ours.netloc.lower()):
            # Same wiki: a localised wiki sends Special:OAuth on to its local name (Spezial:OAuth); signed
            # requests name the canonical one and are not redirected.
            return Result("wiki.reachable", "pass", _("The wiki answers at %(url)s.") % {"url": urls.index})
        instead = f"{target.scheme}://{target.netloc}{urls.script_path}/index.php"
        return Result(
            "wiki.reachable",
            "fail",
            _(
                "The wiki answered %(url)s with a redirect to %(where)s (HTTP %(status)s): signed requests cannot "
                "follow one."
            )
            % {"url": urls.index, "where": f"{target.scheme}://{target.netloc}", "status": response.status_code},
            _('Set SOCIAL_AUTH_MEDIAWIKI_URL = "%(url)s".') % {"url": instead},
            {"location": instead},
        )
    if response.status_code >= 400:
        return Result(
            "wiki.reachable",
            "fail",
            str(
                _("The wiki answered %(url)s with HTTP %(status)s.")
                % {"url": urls.index, "status": response.status_code}
            ),
            str(
                _(
                    "SOCIAL_AUTH_MEDIAWIKI_URL must be the wiki's index.php URL, e.g. https://meta.wikimedia.org/w/index.php."
                )
            ),
        )
    return Result("wiki.reachable", "pass", str(_("The wiki answers at %(url)s.") % {"url": urls.index}))


def https_result(urls: WikiURLs) -> Result:
    parts = urlsplit(urls.server)
    if parts.scheme == "https":
        return Result("wiki.https", "pass", str(_("The wiki is reached over HTTPS.")))
    if is_loopback(parts.hostname):
        return Result("wiki.https", "pass", str(_("The wiki is on this machine (loopback): plain HTTP is fine.")))
    https_url = "https://" + urls.index.split("://", 1)[1]
    return Result(
        "wiki.https",
        "fail",
        str(_("The wiki is reached over plain HTTP: tokens and signatures travel in the clear.")),
        str(_('Set SOCIAL_AUTH_MEDIAWIKI_URL = "%(url)s".') % {"url": https_url}),
    )


def wiki_clock_offset(date_header: str | None, now: float) -> float | None:
    """The wiki's clock minus ours, in seconds, from its ``Date`` header (None if missing or unreadable)."""
    if not date_header:
        return None
    try:
        return parsedate_to_datetime(date_header).timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def clock_result(offset: float | None) -> Result:
    if offset is None:
        return Result(
            "wiki.clock", "skip", str(_("The wiki sent no readable Date header: the clock cannot be compared."))
        )
    seconds = round(offset)
    if seconds == 0:
        summary = _("The wiki's clock agrees with this machine's.")
    elif seconds > 0:
        summary = _("The wiki's clock is %(seconds)s s ahead of this machine's.") % {"seconds": seconds}
    else:
        summary = _("The wiki's clock is %(seconds)s s behind this machine's.") % {"seconds": -seconds}
    fix = str(_("Synchronise this machine's clock (NTP: systemd-timesyncd, chrony)."))
    if abs(offset) > CLOCK_FAIL_SECONDS:
        return Result(
            "wiki.clock",
            "fail",
            summary + " " + str(_("The wiki refuses signatures more than 300 s off.")),
            fix,
            {"offset": seconds},
        )
    if abs(offset) > CLOCK_WARN_SECONDS:
        return Result(
            "wiki.clock",
            "warn",
            summary + " " + str(_("Past 300 s every signature is refused.")),
            fix,
            {"offset": seconds},
        )
    return Result("wiki.clock", "pass", summary, details={"offset": seconds})


def probe_siteinfo(session: requests.Session, urls: WikiURLs, **options: Any) -> requests.Response:
    params = {"action": "query", "meta": "siteinfo", "format": "json", "formatversion": "2"}
    return session.get(urls.api, params=params, allow_redirects=False, **options)


def wiki_server(siteinfo: Any, scheme: str) -> str | None:
    """The wiki's own server ($wgServer) from a siteinfo answer, made absolute (it may be ``//host``)."""
    general = (siteinfo.get("query") or {}).get("general") if isinstance(siteinfo, dict) else None
    server = general.get("server") if isinstance(general, dict) else None
    if not isinstance(server, str) or not server:
        return None
    server = server.rstrip("/")
    return f"{scheme}:{server}" if server.startswith("//") else server


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def server_result(urls: WikiURLs, server: str | None, identify_issuer: str | None) -> Result:
    """The host the site signs for must be the wiki's $wgServer; the identify JWT's iss is then that server."""
    if server is None:
        return Result(
            "wiki.server",
            "skip",
            str(_("The wiki's siteinfo did not name its server: the host name cannot be compared.")),
        )
    ours, theirs = _origin(urls.server), _origin(server)
    expected_issuer = identify_issuer or ours
    details: dict[str, Any] = {"configured": ours, "wiki_server": theirs, "identify_issuer": expected_issuer}
    if urlsplit(ours).netloc != urlsplit(theirs).netloc:
        details["host_mismatch"] = True
        instead = f"{urlsplit(ours).scheme}://{urlsplit(theirs).netloc}{urls.script_path}/index.php"
        return Result(
            "wiki.server",
            "fail",
            str(
                _(
                    "The site reaches the wiki as %(ours)s but the wiki calls itself %(theirs)s: every signed call "
                    'gets "Invalid signature".'
                )
                % {"ours": ours, "theirs": theirs}
            ),
            str(_('Set SOCIAL_AUTH_MEDIAWIKI_URL = "%(url)s".') % {"url": instead}),
            details,
        )
    if _origin(expected_issuer) != theirs:
        return Result(
            "wiki.server",
            "fail",
            str(
                _("The identify JWT will come from %(theirs)s but mwsso expects %(expected)s.")
                % {"theirs": theirs, "expected": expected_issuer}
            ),
            str(_('Set MWSSO_IDENTIFY_ISSUER = "%(issuer)s" (or remove it).') % {"issuer": theirs}),
            details,
        )
    return Result(
        "wiki.server",
        "pass",
        str(
            _("The wiki's server is %(server)s, the host the site uses; the identify issuer expected is %(issuer)s.")
            % {"server": theirs, "issuer": expected_issuer}
        ),
        details=details,
    )


_CONTACT = re.compile(r"[^\s@()<>;]+@[^\s@()<>;]+\.[A-Za-z]{2,}|https?://\S+|\bUser:\S+", re.IGNORECASE)


def user_agent_result(user_agent: str, default: str) -> Result:
    """Wikimedia's policy: ``<client>/<version> (<contact>) <library>/<version>``; generic agents are blocked."""
    if not user_agent.strip() or user_agent == default:
        return Result(
            "site.user_agent",
            "fail",
            str(_("The User-Agent is mwsso's default, which names no tool and no contact.")),
            str(_('Set MWSSO_USER_AGENT = "MyTool/1.0 (https://mytool.example; me@example.org) mwsso".')),
        )
    if not _CONTACT.search(user_agent):
        return Result(
            "site.user_agent",
            "fail",
            str(_("The User-Agent %(ua)r has no contact (an email address or a URL).") % {"ua": user_agent}),
            str(_('Add a contact to MWSSO_USER_AGENT, e.g. "MyTool/1.0 (me@example.org)".')),
        )
    return Result("site.user_agent", "pass", str(_("The User-Agent names a contact: %(ua)s") % {"ua": user_agent}))
