"""Which OAuth 2.0 client a stored token was issued to, and which clients this site signs in with.

social-auth's client comes from ``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY`` / ``_SECRET``. An app that signs
people in another way (``mwsso.contrib.allauth``: a django-allauth ``SocialApp``) registers a source
of its clients in its ``AppConfig.ready``; refreshing a token (``mwsso.tokens.refresh``) and
``mwsso_check`` then find those clients too. Nothing is cached: a source reads its settings (or its
database rows) on every call, so a changed secret applies at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mwsso.configured import configured_oauth2_client as social_oauth2_client
from mwsso.protocol import oauth2

logger = logging.getLogger("mwsso.tokens.clients")


@dataclass(frozen=True)
class SiteClient:
    """An OAuth 2.0 client of this site outside social-auth's settings.

    ``wiki_url`` is the wiki's index.php (any spelling ``mwsso.protocol.wikiurls`` reads); ``redirect_path`` the
    site's callback path, sent as ``redirect_uri``; ``source`` says where it is configured (for messages).
    """

    client: oauth2.Client
    wiki_url: str
    redirect_path: str = ""
    source: str = ""


ClientSource = Callable[[], Iterable[SiteClient]]
_sources: dict[str, ClientSource] = {}


def register_client_source(name: str, source: ClientSource) -> None:
    """Add (or replace, by ``name``) a source of this site's OAuth 2.0 clients."""
    _sources[name] = source


def site_clients() -> list[SiteClient]:
    """Every client the registered sources know of (social-auth's own is ``social_oauth2_client``)."""
    found: list[SiteClient] = []
    for name, source in _sources.items():
        try:
            found.extend(source())
        except Exception:
            # One broken source (a table not migrated yet) must not hide the others' clients.
            logger.exception("the OAuth 2.0 client source %s failed", name)
    return found


def oauth2_client_for(client_id: str) -> oauth2.Client | None:
    """The client ``client_id`` with its secret, if this site is configured with it; else None."""
    if not client_id:
        return None
    social = social_oauth2_client()
    if social.client_id == client_id:
        return social
    return next((site.client for site in site_clients() if site.client.client_id == client_id), None)
