"""Helpers for tests: run a local wiki in a thread, and drive it as a person or a developer would.

with running_devwiki() as wiki:
    ...  # wiki.index_url, wiki.api_url, wiki.store, wiki.control("revoke", ...)
    callback = wiki.approve(authorize_url, user="Alice")  # log in on the wiki and press Allow
    wiki.sign_in(client, user="Alice")  # a site's whole sign-in, for its test client

``authorize`` and ``authorize_oauth2`` (browser.py) are the same steps for a given requests session.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from . import control as controls
from .browser import authorize, authorize_oauth2, log_in
from .server import DevWikiServer
from .state.store import Store
from .wikiurls import WikiURLs

__all__ = ["DevWiki", "authorize", "authorize_oauth2", "running_devwiki"]


class SiteClient(Protocol):
    """A site's test client: Django's ``django.test.Client`` or a ``requests.Session`` with a base URL."""

    def post(self, path: str, *args: Any, **kwargs: Any) -> Any: ...

    def get(self, path: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass
class DevWiki:
    """A running devwiki: URLs, its store, and shortcuts to control it in-process."""

    server: DevWikiServer
    store: Store

    @property
    def server_url(self) -> str:
        """Where it listens; index_url and api_url use the canonical server (config ``server``)."""
        return self.server.server_url

    @property
    def urls(self) -> WikiURLs:
        """index.php, api.php and rest.php under the wiki's script path (``script_path``)."""
        return self.store.urls

    @property
    def script_path(self) -> str:
        return self.store.script_path

    @property
    def index_url(self) -> str:
        return self.urls.index

    @property
    def api_url(self) -> str:
        return self.urls.api

    @property
    def rest_url(self) -> str:
        """rest.php, under which the OAuth 2.0 endpoints live (``{rest_url}/oauth2/authorize`` ...)."""
        return self.store.urls.rest

    @property
    def control_url(self) -> str:
        return f"{self.store.server}/_devwiki/control"

    def control(self, action: str, **params: Any) -> dict[str, Any]:
        return controls.run(self.store, action, params)

    @property
    def mw_version(self) -> str:
        """Which recorded MediaWiki the wiki plays ("1.39", "1.43" or "1.45")."""
        return self.store.mw_version

    @mw_version.setter
    def mw_version(self, version: str) -> None:
        """Play another version until ``reset`` (which returns to the one it was started with)."""
        self.store.set_version(version)

    def reset(self) -> None:
        self.store.reset()

    def login(self, session: requests.Session, user: str | int = "Alice") -> None:
        """Sign ``session`` in on the wiki as ``user`` (name or central id), through Special:UserLogin."""
        answer = log_in(session, f"{self.index_url}?title=Special:UserLogin", user)
        if not answer.is_redirect:
            raise LookupError(f"the wiki did not log {user!r} in ({answer.status_code})")

    def approve(self, authorize_url: str, user: str | int = "Alice", action: str = "accept") -> str:
        """Log in as ``user`` on the wiki and press Allow (or Cancel) for ``authorize_url``, OAuth 1.0a or 2.0.

        Returns where the wiki sends the browser back to: the callback with ``oauth_verifier``, or
        the redirect URI with ``code`` (or the error). Raises LookupError when the wiki does not
        send the browser back (an error page, or OAuth 1.0a's Cancel, which stays on the wiki).
        """
        oauth2 = "/rest.php/oauth2/" in urlsplit(authorize_url).path
        answer = (authorize_oauth2 if oauth2 else authorize)(None, authorize_url, user=user, action=action)
        if not answer.is_redirect:
            raise LookupError(f"the wiki answered {answer.status_code} instead of sending the browser back")
        return str(answer.headers["Location"])

    def sign_in(self, client: SiteClient, user: str | int = "Alice", start: str = "/login/mediawiki/") -> Any:
        """A site's whole sign-in for its test ``client``: POST ``start``, approve on the wiki, GET the callback.

        ``client`` is the site's (Django's test client, for one): it only ever talks to the site,
        and the wiki only to a browser of its own. Returns the site's answer to the callback.
        """
        started = client.post(start)
        location = started.headers.get("Location") if hasattr(started, "headers") else started["Location"]
        if not location:
            raise LookupError(f"{start} did not send the browser to the wiki ({started.status_code})")
        back = urlsplit(self.approve(location, user=user))
        return client.get(f"{back.path}?{back.query}")

    def stop(self) -> None:
        self.server.stop()


@contextlib.contextmanager
def running_devwiki(
    config: dict[str, Any] | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    script_path: str | None = None,
    mw_version: str | None = None,
) -> Iterator[DevWiki]:
    """Start a devwiki on a free port in a daemon thread; stop it on exit.

    ``script_path`` is the wiki's ``$wgScriptPath`` (default ``/w``, or the config's ``script_path``;
    ``""`` serves ``/index.php`` and ``/api.php`` at the server root). ``mw_version`` ("1.43", the
    default, "1.39" or "1.45") picks which recorded wiki it plays.
    """
    store = Store(config, script_path=script_path, mw_version=mw_version)
    server = DevWikiServer(store, host, port)
    server.start()
    try:
        yield DevWiki(server, store)
    finally:
        server.stop()
