"""Which redirect URIs an OAuth 2.0 client accepts: exactly its registered one, as on every real wiki.

Extension:OAuth's OAuth 2.0 registration has no "callback is a prefix" option, and the wiki compares a
``redirect_uri`` with the registered one exactly (recorded on 1.39, 1.43 and 1.45). The one exception
here is a convenience of the local wiki, not MediaWiki's behaviour: a client registered with
``any_loopback_port`` (the built-in demo and public clients) also accepts its registered URI on any
other port of the same loopback host, so that a demo site on another port than 8000 signs in without
``--site-url`` (what RFC 8252 section 7.3 asks of servers for loopback redirects). Every other client,
and so everything the fidelity suite replays, keeps the exact match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ..state.clients import Client

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def accepts(client: Client, redirect_uri: str) -> bool:
    """Whether ``client`` takes ``redirect_uri`` (sent to authorize or to the token endpoint)."""
    if redirect_uri == client.redirect_uri:
        return True
    if not client.any_loopback_port:
        return False
    return on_another_loopback_port(client.redirect_uri, redirect_uri)


def on_another_loopback_port(registered: str, given: str) -> bool:
    """``given`` is ``registered`` (an http loopback URI) with only the port changed, character for character."""
    mine, theirs = urlsplit(registered), urlsplit(given)
    try:
        port = theirs.port
        registered_port = mine.port
    except ValueError:  # a port that is not a number or out of range
        return False
    if mine.scheme != "http" or mine.hostname not in LOOPBACK_HOSTS or port is None:
        return False
    host = mine.netloc.rsplit(":", 1)[0] if registered_port is not None else mine.netloc
    if "@" in host:  # no user:password, as the wiki refuses in callbacks
        return False
    return given == mine._replace(netloc=f"{host}:{port}").geturl()
