"""mwsso-devwiki: a local MediaWiki with Extension:OAuth, to develop and test "Sign in with Wikipedia" offline.

It plays MediaWiki 1.39, 1.43 and 1.45 as recorded from real wikis (OAuth 1.0a, OAuth 2.0,
identify, a part of the Action API), runs in a test thread, under any WSGI server or as
``python -m mwsso_devwiki``, and imports nothing of the site it stands in for. See docs/devwiki.md.

Layout (each layer imports only from those before it in this list, never from a peer; tests/devwiki/
test_layers.py holds it to that): ``versions``, ``wikiurls``, ``messages`` (pure facts);
``faults.switches``; ``state/`` (users, consumers, tokens, pages, config, the state file); ``web/``
(WSGI, skin, session, hosts); ``faults.answers``; ``oauth1/``, ``oauth2/``, ``site/``; ``api/``;
``control/``; ``app``; ``server``, ``browser``; ``serve``, ``testing``; ``cli``, ``pytest_plugin``;
``__main__``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .app import make_app
from .serve import serve
from .server import DevWikiServer
from .state.store import Store
from .testing import DevWiki, running_devwiki

__all__ = ["DevWiki", "DevWikiServer", "Store", "__version__", "make_app", "running_devwiki", "serve"]
