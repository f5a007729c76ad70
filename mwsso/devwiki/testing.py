"""Helpers for tests: run a devwiki in a thread, and click through its authorize dialog.

with running_devwiki() as wiki:
    ...  # wiki.index_url, wiki.api_url, wiki.store, wiki.control("revoke", ...)
    response = authorize(None, authorize_url, user="Alice")
    response.headers["Location"]  # the consumer callback with oauth_verifier
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import requests

from .oauth2 import urls as oauth2_urls
from .server import DevWikiServer
from .store import Store


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
    def index_url(self) -> str:
        return f"{self.store.server}/w/index.php"

    @property
    def api_url(self) -> str:
        return f"{self.store.server}/w/api.php"

    @property
    def rest_url(self) -> str:
        """rest.php, under which the OAuth 2.0 endpoints live (``{rest_url}/oauth2/authorize`` ...)."""
        return oauth2_urls.rest_url(self.store)

    @property
    def control_url(self) -> str:
        return f"{self.store.server}/_devwiki/control"

    def control(self, action: str, **params: Any) -> dict[str, Any]:
        return self.store.control(action, **params)

    @property
    def mw_version(self) -> str:
        """Which recorded MediaWiki the OAuth 2.0 side plays ("1.43" or "1.39")."""
        return self.store.oauth2.settings.mw_version

    @mw_version.setter
    def mw_version(self, version: str) -> None:
        """Play another version until ``reset`` (which returns to the one it was started with)."""
        self.store.oauth2.settings.update(mw_version=version)

    def reset(self) -> None:
        self.store.reset()

    def stop(self) -> None:
        self.server.stop()


@contextlib.contextmanager
def running_devwiki(
    config: dict[str, Any] | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    mw_version: str | None = None,
) -> Iterator[DevWiki]:
    """Start a devwiki on a free port in a daemon thread; stop it on exit.

    ``mw_version`` ("1.43", the default, or "1.39") picks which recorded wiki the OAuth 2.0 side plays.
    """
    store = Store(config, mw_version=mw_version)
    server = DevWikiServer(store, host, port)
    server.start()
    try:
        yield DevWiki(server, store)
    finally:
        server.stop()


class _FormParser(HTMLParser):
    """Collects the authorize form: its action, hidden inputs and the wpUser radios."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.users: dict[str, str] = {}  # username -> sub

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and attr.get("id") == "mw-mwoauth-authorize-form":
            self.action = attr.get("action")
        elif tag == "input" and attr.get("type") == "hidden" and "name" in attr:
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "input" and attr.get("name") == "wpUser":
            self.users[attr.get("data-username", "")] = attr.get("value", "")


def authorize(
    session: requests.Session | None,
    authorize_url: str,
    user: str | int = "Alice",
    action: str = "accept",
    endpoint_follow: bool = False,
    timeout: float = 10,
) -> requests.Response:
    """Open the authorize dialog at ``authorize_url`` and press Allow (or Cancel) as ``user``.

    Returns the unfollowed answer to the POST: on Allow a 302 to the consumer's
    callback with ``oauth_verifier`` and ``oauth_token``; on Cancel the 200 cancel
    page. If the dialog is not shown (an error page, or /authenticate redirecting
    straight back) that GET response is returned instead. With ``endpoint_follow``
    the callback redirect is then followed with the same session and its response
    returned (useful when the session is a client of the consumer site).
    """
    if action not in ("accept", "cancel"):
        raise ValueError("action must be 'accept' or 'cancel'")
    http = session or requests.Session()
    page = http.get(authorize_url, allow_redirects=False, timeout=timeout)
    form = _FormParser()
    form.feed(page.text)
    if page.status_code != 200 or form.action is None:
        response = page
    else:
        sub = str(user) if str(user).isdigit() else form.users.get(str(user))
        if sub is None:
            raise LookupError(f"{user!r} is not offered on the authorize page (offered: {', '.join(form.users)})")
        data = {**form.fields, "wpUser": sub}
        data["accept" if action == "accept" else "cancel"] = "Allow" if action == "accept" else "Cancel"
        response = http.post(form.action, data=data, allow_redirects=False, timeout=timeout)
    if endpoint_follow and response.is_redirect:
        return http.get(response.headers["Location"], timeout=timeout)
    return response


def authorize_oauth2(
    session: requests.Session | None,
    authorize_url: str,
    user: str | int = "Alice",
    action: str = "accept",
    timeout: float = 10,
) -> requests.Response:
    """Open ``rest.php/oauth2/authorize?...`` and press Allow (or Cancel) on Special:OAuth/approve as ``user``.

    Returns the unfollowed answer that points back at the client: on Allow a 302 to the
    redirect URI with ``code`` and ``state``; on Cancel a 302 with ``error=unauthorized_client``.
    If the wiki answers something else first (an error page), that response is returned.
    Use the same ``session`` for the client site and the wiki only if both are requests sessions.
    """
    if action not in ("accept", "cancel"):
        raise ValueError("action must be 'accept' or 'cancel'")
    http = session or requests.Session()
    first = http.get(authorize_url, allow_redirects=False, timeout=timeout)
    if first.status_code != 307:
        return first
    page = http.get(first.headers["Location"], allow_redirects=False, timeout=timeout)
    form = _FormParser()
    form.feed(page.text)
    if page.status_code != 200 or form.action is None:
        return page
    sub = str(user) if str(user).isdigit() else form.users.get(str(user))
    if sub is None:
        raise LookupError(f"{user!r} is not offered on the approve page (offered: {', '.join(form.users)})")
    data = {**form.fields, "wpUser": sub}
    data["accept" if action == "accept" else "cancel"] = "Allow" if action == "accept" else "Cancel"
    answer = http.post(form.action, data=data, allow_redirects=False, timeout=timeout)
    if not answer.is_redirect:  # the form again, with an error
        return answer
    # back to authorize with approval_pass=1 (or approval_cancel=1), which answers the client
    return http.get(answer.headers["Location"], allow_redirects=False, timeout=timeout)
