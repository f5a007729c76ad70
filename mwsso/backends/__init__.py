"""The ``mediawiki`` (OAuth 1.0a) and ``mediawiki-oauth2`` (OAuth 2.0) social-core backends.

A drop-in replacement for ``social_core.backends.mediawiki.MediaWiki``: same
name, same uid (the wiki's central user id), same ``SOCIAL_AUTH_MEDIAWIKI_*``
settings. Protocol work lives in ``mwsso.protocol.oauth1`` and ``mwsso.protocol.identity``; this
class wires it into social-core and turns failures into ``mwsso.exceptions``.
The access token never enters ``response``, ``extra_data`` or the pipeline's
keyword arguments (social-core may serialise those): steps read it from
``backend.access_credentials``.
"""

from __future__ import annotations

from mwsso.backends.base import MAX_PENDING_LOGINS, run_signin
from mwsso.backends.oauth1 import MediaWikiOAuth
from mwsso.backends.oauth2 import MediaWikiOAuth2
from mwsso.configured import (  # re-exported: sites and older code import them from here
    DEFAULT_WIKI_URL,
    configured_oauth2_client,
    identify_issuer,
    oauth1_wiki_url,
    oauth2_wiki_url,
)

__all__ = [
    "DEFAULT_WIKI_URL",
    "MAX_PENDING_LOGINS",
    "MediaWikiOAuth",
    "MediaWikiOAuth2",
    "configured_oauth2_client",
    "identify_issuer",
    "oauth1_wiki_url",
    "oauth2_wiki_url",
    "run_signin",
]
