"""mwsso: "Sign in with Wikipedia" for Django, with MediaWiki access tokens kept encrypted."""
from __future__ import annotations

__version__ = "0.1.0"


def identity_for(user, wiki: str | None = None):  # type: ignore[no-untyped-def]
    """The latest ``WikiIdentity`` of ``user`` (on ``wiki``, a canonical server URL), or None."""
    from mwsso.models import WikiIdentity

    identities = WikiIdentity.objects.filter(user=user)
    if wiki:
        identities = identities.filter(wiki=wiki.rstrip("/"))
    return identities.order_by("-refreshed_at").first()
