"""What to enter on Special:OAuthConsumerRegistration for this site (pure: from a ``Target``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mwsso.protocol.wikiurls import wiki_urls

from .results import _
from .target import Target

# Wikimedia wikis register consumers centrally, on Meta-Wiki.
_WIKIMEDIA = (
    "wikipedia.org",
    "wikimedia.org",
    "wiktionary.org",
    "wikidata.org",
    "wikibooks.org",
    "wikinews.org",
    "wikiquote.org",
    "wikisource.org",
    "wikiversity.org",
    "wikivoyage.org",
    "mediawiki.org",
    "wikifunctions.org",
)
META = "https://meta.wikimedia.org/w/index.php"


def registration_wiki(wiki_url: str) -> str:
    host = (urlsplit(wiki_url).hostname or "").lower()
    if any(host == d or host.endswith("." + d) for d in _WIKIMEDIA):
        return META
    return wiki_urls(wiki_url).index


def values(target: Target) -> dict[str, Any]:
    """Both forms' fields: ``{"oauth1": {...}, "oauth2": {...}}``, each with its ``page`` and ``fields``."""
    index = registration_wiki(target.wiki_url)
    grants = ["basic", *[g for g in dict.fromkeys(target.required_grants) if g != "basic"]]
    if target.required_grants or target.allowed_wikis:
        kind = _("Request authorization for specific permissions")
        grant_text = ", ".join(grants)
    else:
        kind = _(
            "User identity verification only (choose specific permissions instead if the site calls the API as its users)"
        )
        grant_text = _("none")
    project = _("* (all projects)") if target.allowed_wikis else _("this wiki, or * (all projects)")
    callback = target.expected_callback or _("<your site>/complete/mediawiki/ (pass --site-url)")
    sends_callback = target.callback not in ("", "oob")
    oauth1 = {
        "page": f"{index}?title=Special:OAuthConsumerRegistration/propose/oauth1a",
        "fields": {
            'OAuth "callback" URL': callback,
            'Allow consumer to specify a callback in requests and use "callback" URL above as a required prefix': _(
                "tick it"
            )
            if sends_callback
            else _('leave it unticked (the site sends "oob")'),
            "Applicable project": project,
            "Types of grants being requested": kind,
            "Applicable grants": grant_text,
            "This consumer is for use only by ...": _("leave it unticked (not owner-only)"),
        },
    }
    redirect = (
        target.oauth2.redirect_uri
        if target.oauth2 and target.oauth2.redirect_uri
        else (
            f"{target.site_url}/complete/mediawiki-oauth2/"
            if target.site_url
            else _("<your site>/complete/mediawiki-oauth2/ (pass --site-url)")
        )
    )
    oauth2 = {
        "page": f"{registration_wiki(target.oauth2.wiki_url if target.oauth2 else target.wiki_url)}"
        "?title=Special:OAuthConsumerRegistration/propose/oauth2",
        "fields": {
            'OAuth "callback" URL': _("%(uri)s (exactly: OAuth 2.0 has no prefix option)") % {"uri": redirect},
            "Client is confidential": _("tick it (the secret stays on the server)"),
            "Allowed OAuth2 grant types": _("Authorization code and Refresh token"),
            "Applicable project": project,
            "Types of grants being requested": kind,
            "Applicable grants": grant_text,
            "This consumer is for use only by ...": _("leave it unticked (not owner-only)"),
        },
    }
    return {"oauth1": oauth1, "oauth2": oauth2}
