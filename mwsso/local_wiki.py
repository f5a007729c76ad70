"""What mwsso knows of the local wiki's built-in OAuth 2.0 clients (``mwsso_devwiki.state.seed``, docs/devwiki.md).

Named here, not imported: the local wiki is installed apart and mwsso never imports it
(tests/test_local_wiki_clients.py checks they still agree). The demo and public clients take their
redirect URI on any port of 127.0.0.1, a convenience of the local wiki only: a real wiki matches an
OAuth 2.0 redirect URI exactly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEMO_OAUTH2_CLIENT_ID = "6f2a9c4e1b8d4e7fa3c5d0b9e8f7a6c1"
TEST_OAUTH2_CLIENT_ID = "7e3b0d5f2c9a4f8e94d6e1c0f9a8b7d2"
PUBLIC_OAUTH2_CLIENT_ID = "8f4c1e6a3d0b4a9fa5e7f2d1a0b9c8e3"
#: Registered with any_loopback_port: the registered redirect URI on any port of its loopback host.
ANY_PORT_OAUTH2_CLIENTS = frozenset({DEMO_OAUTH2_CLIENT_ID, PUBLIC_OAUTH2_CLIENT_ID})
#: Confidential: the wiki refuses them without their secret, at the token step (after the consent page).
CONFIDENTIAL_OAUTH2_CLIENTS = frozenset({DEMO_OAUTH2_CLIENT_ID, TEST_OAUTH2_CLIENT_ID})

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def is_local(wiki_url: str) -> bool:
    """Whether ``wiki_url`` is on this machine, where the local wiki runs."""
    return urlsplit(wiki_url or "").hostname in _LOOPBACK


def takes_on_any_port(wiki_url: str, client_id: str, registered: str, sent: str) -> bool:
    """Whether the local wiki takes ``sent`` for a client registered with ``registered``: only the loopback port differs."""
    if not is_local(wiki_url) or client_id not in ANY_PORT_OAUTH2_CLIENTS:
        return False
    mine, theirs = urlsplit(registered), urlsplit(sent)
    try:
        port, registered_port = theirs.port, mine.port
    except ValueError:
        return False
    if mine.scheme != "http" or mine.hostname not in _LOOPBACK or port is None:
        return False
    host = mine.netloc.rsplit(":", 1)[0] if registered_port is not None else mine.netloc
    return "@" not in host and sent == mine._replace(netloc=f"{host}:{port}").geturl()
