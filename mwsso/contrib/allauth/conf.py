"""``SOCIALACCOUNT_PROVIDERS["mediawiki"]``, read on every access, with the keys of allauth's own provider.

- ``REST_API``: the wiki's ``rest.php`` (default Meta-Wiki's). mwsso derives index.php and api.php
  from it (MediaWiki serves them side by side in the script path), so no other URL is needed.
- ``USERPAGE_TEMPLATE``: a user's page, ``{username}`` filled in (default: the wiki's own ``User:`` page).
- ``SCOPE``: the grants to ask for (default: none named, so the wiki asks for all of the client's).
- ``USER_AGENT``: allauth's; mwsso sends ``MWSSO_USER_AGENT`` (check mwsso.W061 says when they differ).
- the client: ``APPS`` (or ``APP``) with ``client_id`` and ``secret``, or a ``SocialApp`` row.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from mwsso.protocol.identity import wiki_key as key_of_wiki
from mwsso.protocol.wikiurls import InvalidWikiURL, WikiURLs, wiki_urls

PROVIDER_ID = "mediawiki"
DEFAULT_REST_API = "https://meta.wikimedia.org/w/rest.php"


def provider_settings() -> dict[str, Any]:
    """The provider's entry of ``SOCIALACCOUNT_PROVIDERS`` ({} when there is none)."""
    value = getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}).get(PROVIDER_ID, {})
    return value if isinstance(value, dict) else {}


def rest_api() -> str:
    return str(provider_settings().get("REST_API") or DEFAULT_REST_API)


def urls() -> WikiURLs:
    """The wiki's entry points, from ``REST_API``; ``InvalidWikiURL`` when it is not an http(s) URL (check mwsso.E060)."""
    return wiki_urls(rest_api())


def wiki_url() -> str:
    """The wiki's index.php URL: what mwsso's protocol functions and the token store take."""
    return urls().index


def issuer_url() -> str:
    """What ``identity_from_profile`` names the wiki by: its index.php URL.

    ``MWSSO_IDENTIFY_ISSUER`` is not read here: it names the ``iss`` of an OAuth 1.0a identify JWT, and a
    profile has none; applying it would key this wiki's accounts by another wiki's name.
    """
    return wiki_url()


def wiki_key() -> str:
    """The wiki as stored tokens and identities are keyed (the same function the social-auth backends use)."""
    return key_of_wiki(wiki_url())


def userpage_template() -> str:
    configured = provider_settings().get("USERPAGE_TEMPLATE")
    if configured:
        return str(configured)
    try:
        return urls().page("User:{username}")
    except InvalidWikiURL:
        return ""


def scope(requested: list[str] | None = None) -> str | None:
    """The grants to ask for, space-separated; None lets the wiki ask for all of the client's grants."""
    grants = requested if requested is not None else provider_settings().get("SCOPE") or []
    if isinstance(grants, str):
        grants = grants.split()
    joined = " ".join(dict.fromkeys(str(grant) for grant in grants if grant))
    return joined or None
