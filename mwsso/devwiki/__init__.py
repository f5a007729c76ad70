"""devwiki: a local MediaWiki OAuth 1.0a provider for developing and testing "Sign in with Wikipedia".

Standalone on purpose: it imports neither Django nor the rest of mwsso, so it can
run in a test thread, under any WSGI server, or via ``manage.py mwsso_devwiki``.
See docs/devwiki.md.
"""

from __future__ import annotations

from .app import make_app
from .server import DevWikiServer, serve
from .store import Store

__all__ = ["DevWikiServer", "Store", "make_app", "serve"]
