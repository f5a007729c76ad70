"""Which api.php a call goes to, and whether a user's token may be sent there (pure, no Django).

A consumer registered on a wiki farm's central wiki (meta.wikimedia.org) works on
every wiki of the farm, so ``for_user(user, "https://de.wikipedia.org")`` is
legitimate; sending a user's signed requests to an arbitrary host is not. A
target is allowed when it is the token's own wiki or matches one of
``MWSSO_ALLOWED_WIKIS``: ``[scheme://]host[:port]`` with shell wildcards
(``*.wikipedia.org``, ``https://*.wikimedia.org``, ``127.0.0.1:*``). Without a
scheme a pattern allows the scheme of the user's own wiki (no https → http
downgrade); without a port it allows only the scheme's default port.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import idna

from mwsso.exceptions import MwssoError
from mwsso.protocol.wikiurls import InvalidWikiURL, WikiURLs, wiki_urls

DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name as requests sends it (IDNA applied). Anything else may be read differently by
# urlsplit and by urllib3: "evil.example\.wikipedia.org" matches *.wikipedia.org, but urllib3
# ends the host at the backslash and connects to evil.example.
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")


class InvalidWiki(MwssoError, ValueError):
    """The wiki was not given as a usable http(s) URL or host name."""


@dataclass(frozen=True)
class Endpoint:
    """Where a wiki's Action API is, split into the parts the allow-list looks at."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def netloc(self) -> str:
        """``host`` or ``host:port`` when the port is not the scheme's default (IPv6 in brackets)."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == DEFAULT_PORTS[self.scheme] else f"{shown}:{self.port}"

    @property
    def server(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def api_url(self) -> str:
        return f"{self.server}{self.path}"


def endpoint(url: str) -> Endpoint:
    """Parse an absolute api.php URL."""
    # The URL itself is never echoed: it might carry a password.
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        raise InvalidWiki("a wiki URL may not carry a user name or password")
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise InvalidWiki("not an http(s) URL with a host name")
    host = _host(parts.hostname)
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as err:
        raise InvalidWiki(f"bad port for {host}") from err
    return Endpoint(scheme, host, port, parts.path)


def _host(hostname: str) -> str:
    """The host exactly as requests and urllib3 will connect to it, or ``InvalidWiki``."""
    if ":" in hostname:  # an IPv6 address (urlsplit took off the brackets); no zone ids
        if "%" in hostname:
            raise InvalidWiki("an IPv6 zone id is not a wiki's address")
        try:
            return str(ipaddress.IPv6Address(hostname))  # one spelling: [0:0::1] is [::1]
        except ValueError as err:
            raise InvalidWiki("not a valid IPv6 address") from err
    if not hostname.isascii():
        try:
            # As requests does: UTS 46 mapping, then IDNA 2008 (fullwidth letters become ASCII ones,
            # a Cyrillic look-alike becomes punycode that no pattern of Latin letters matches).
            hostname = idna.encode(hostname, uts46=True).decode("ascii")
        except idna.IDNAError as err:
            raise InvalidWiki("not a valid host name") from err
    host = hostname.lower()
    if not _HOST_NAME.fullmatch(host):
        raise InvalidWiki("not a valid host name")
    return host


def home_endpoint(index_url: str) -> Endpoint:
    """The api.php endpoint of a configured wiki URL (``mwsso.protocol.wikiurls`` derives it, for any script path)."""
    try:
        return endpoint(wiki_urls(index_url).api)
    except InvalidWikiURL as err:
        raise InvalidWiki(str(err)) from err


def resolve(wiki: str, home_index_url: str) -> Endpoint:
    """The api.php endpoint of ``wiki``, given as a server, a host name, or an index.php/api.php URL.

    A bare server (``https://de.wikipedia.org``) gets the script path of the user's own wiki
    (``/w`` on Wikimedia wikis, ``""`` on a wiki at its server root); a bare host name also gets its scheme.
    """
    text = wiki.strip()
    if not text:
        raise InvalidWiki("empty wiki")
    try:
        home = wiki_urls(home_index_url)
        if "://" not in text:
            text = f"{home.server.split('://', 1)[0]}://{text}"
        target = wiki_urls(text)
    except InvalidWikiURL as err:
        raise InvalidWiki(str(err)) from err
    if not urlsplit(text).path.strip("/"):
        # A bare server names no script path: a farm shares its layout, so take the home wiki's.
        target = WikiURLs(target.server, home.script_path)
    return endpoint(target.api)


def is_allowed(target: Endpoint, home: Iterable[Endpoint], patterns: Iterable[str]) -> bool:
    """True when ``target`` is the ``home`` wiki itself or matches an allow-list pattern.

    The home wiki is its server *and* script path: another wiki of the same server (a path-based
    farm) is another wiki, allowed only by a pattern like any other.
    """
    homes = list(home)
    if any(h.api_url == target.api_url for h in homes):
        return True
    home_schemes = {h.scheme for h in homes}
    return any(_matches(target, pattern, home_schemes) for pattern in patterns)


def _matches(target: Endpoint, pattern: str, home_schemes: set[str]) -> bool:
    text = pattern.strip().lower()
    if not text:
        return False
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme != target.scheme:
            return False
    elif target.scheme not in home_schemes:
        return False
    text = text.split("/", 1)[0]
    host_glob, sep, port_glob = text.rpartition(":") if _has_port(text) else (text, "", "")
    if not sep:
        port_ok = target.port == DEFAULT_PORTS[target.scheme]
    else:
        port_ok = fnmatchcase(str(target.port), port_glob)
    return port_ok and fnmatchcase(target.host, host_glob.strip("[]"))


def _has_port(text: str) -> bool:
    if text.startswith("["):  # [::1]:8080
        return "]:" in text
    return text.count(":") == 1
