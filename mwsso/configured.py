"""What the site's settings say about its wikis: their URLs, the OAuth 2.0 client, the identify issuer.

Read on every call (never at import time), so that ``override_settings`` and a changed setting apply
at once. The backends, the token store and the system checks all ask here.
"""

from __future__ import annotations

from mwsso.app_settings import app_settings
from mwsso.protocol import oauth2
from mwsso.protocol.identity import wiki_key
from mwsso.protocol.wikiurls import DEFAULT_WIKI_URL, wiki_urls

__all__ = ["DEFAULT_WIKI_URL", "configured_oauth2_client", "identify_issuer", "oauth1_wiki_url", "oauth2_wiki_url"]


def oauth1_wiki_url() -> str:
    """The OAuth 1.0a wiki's index.php URL as configured (``SOCIAL_AUTH_MEDIAWIKI_URL``, else Meta-Wiki)."""
    return app_settings.MEDIAWIKI_URL


def identify_issuer(index_url: str) -> str:
    """The ``iss`` an identify JWT of the wiki at ``index_url`` carries.

    ``MWSSO_IDENTIFY_ISSUER`` applies to the OAuth 1.0a backend's own wiki only; any other wiki
    (a token stored for another URL) is expected to name its own server.
    """
    override = app_settings.IDENTIFY_ISSUER
    try:
        if override and wiki_key(index_url) == wiki_key(oauth1_wiki_url()):
            return override
        return wiki_urls(index_url).server
    except ValueError:
        return index_url


def configured_oauth2_client() -> oauth2.Client:
    """The site's OAuth 2.0 client (``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY`` / ``_SECRET``; no secret: a public client)."""
    return oauth2.Client(app_settings.MEDIAWIKI_OAUTH2_KEY, app_settings.MEDIAWIKI_OAUTH2_SECRET)


def oauth2_wiki_url() -> str:
    """The OAuth 2.0 wiki's index.php URL: ``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL``, else the OAuth 1.0a one."""
    return app_settings.MEDIAWIKI_OAUTH2_URL
