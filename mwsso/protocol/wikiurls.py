"""The one place where a configured wiki URL becomes its entry points (pure, no Django).

A site configures the wiki's ``index.php`` URL (``SOCIAL_AUTH_MEDIAWIKI_URL``). MediaWiki serves its
entry points side by side in the script path (``$wgScriptPath``): ``/w`` on Wikimedia wikis, ``""``
(the server root) on many third-party wikis, ``/mediawiki`` or ``/wiki/w`` elsewhere. Every URL that
mwsso signs or calls (index.php for the OAuth 1.0a handshake, api.php, rest.php for OAuth 2.0) is built
here, because a URL built wrong (``http://wiki.example//api.php``) is signed for a resource the wiki
does not see, and the wiki answers "Invalid signature".

Accepted spellings of the same wiki: ``…/index.php``, ``…/api.php``, ``…/rest.php`` (with or without a
trailing slash), or the script path itself (``https://wiki.example/w``, ``https://wiki.example/w/``,
``https://wiki.example/``). A query string or fragment is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from posixpath import dirname
from urllib.parse import urlsplit

from mwsso.protocol.errors import ConfigurationError

ENTRY_POINTS = ("index.php", "api.php", "rest.php", "load.php")
# The wiki a site signs in with when its settings name none (social-core's and django-allauth's default).
DEFAULT_WIKI_URL = "https://meta.wikimedia.org/w/index.php"


class InvalidWikiURL(ConfigurationError, ValueError):
    """The configured wiki URL is not an absolute http(s) URL."""


@dataclass(frozen=True)
class WikiURLs:
    """A wiki's server (``scheme://host[:port]``) and script path (``""`` or ``/w``), and the URLs built from them."""

    server: str
    script_path: str

    @property
    def index(self) -> str:
        return f"{self.server}{self.script_path}/index.php"

    @property
    def api(self) -> str:
        return f"{self.server}{self.script_path}/api.php"

    @property
    def rest(self) -> str:
        return f"{self.server}{self.script_path}/rest.php"

    def rest_route(self, route: str) -> str:
        """``rest("/oauth2/authorize")`` → ``…/rest.php/oauth2/authorize``."""
        return f"{self.rest}/{route.lstrip('/')}"

    def page(self, title: str) -> str:
        """A page by title, the way index.php takes it (no short-URL assumptions)."""
        return f"{self.index}?title={title}"


def wiki_urls(url: str) -> WikiURLs:
    """Split a configured wiki URL into server and script path; ``InvalidWikiURL`` when it is not usable."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise InvalidWikiURL("the wiki URL must be an absolute http(s) URL such as https://wiki.example/w/index.php")
    return WikiURLs(server=f"{scheme}://{parts.netloc}", script_path=script_path(parts.path))


def script_path(path: str) -> str:
    """``/w/index.php`` → ``/w``; ``/index.php`` → ``""``; ``/w/`` → ``/w``; ``/`` → ``""``."""
    path = path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in ENTRY_POINTS or last.endswith(".php"):  # img_auth.php, thumb.php, …: files beside index.php
        path = dirname(path)
    # Several slashes collapse: "//w//" is "/w", and the root is the empty script path.
    return "".join(f"/{segment}" for segment in path.split("/") if segment)
