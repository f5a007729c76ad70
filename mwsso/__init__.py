"""mwsso: "Sign in with Wikipedia" for Django, with MediaWiki access tokens kept encrypted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the models load with the app registry, not with the package
    from mwsso.models import WikiIdentity

__version__ = "0.1.0"


def identity_for(user: Any, wiki: str | None = None) -> WikiIdentity | None:
    """The latest ``WikiIdentity`` of ``user`` (on ``wiki``: its URL, or a server for any wiki on it), or None."""
    from mwsso.models import WikiIdentity, wiki_filter

    identities = WikiIdentity.objects.filter(user=user)
    if wiki:
        identities = identities.filter(wiki_filter(wiki))
    return identities.order_by("-refreshed_at").first()
