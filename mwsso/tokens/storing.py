"""Storing what a sign-in gave for a user, for callers outside social-core's pipeline (``mwsso.contrib.allauth``).

The social-auth pipeline writes the same rows itself (``mwsso.pipeline.store_identity`` and
``store_access_token``, which load them with the association to save queries); these are the plain
forms for any other caller: one ``WikiIdentity`` and one encrypted ``AccessToken`` per user and wiki,
replaced at each sign-in, the token valid again. Call them inside the sign-in's transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol import oauth2
from mwsso.protocol.identity import Identity


def identity_fields(identity: Identity) -> dict[str, Any]:
    """What a ``WikiIdentity`` row keeps of ``identity`` (besides its user, wiki and ``refreshed_at``)."""
    return {
        "sub": identity.sub,
        "username": identity.username,
        "editcount": identity.editcount,
        "confirmed_email": identity.confirmed_email,
        "blocked": identity.blocked,
        "registered": identity.registered,
        "groups": list(identity.groups),
        "rights": list(identity.rights),
        "grants": list(identity.grants),
    }


def oauth2_token_fields(tokens: oauth2.TokenSet, *, wiki_url: str, client_id: str) -> dict[str, Any]:
    """The stored form of an OAuth 2.0 sign-in's tokens: the encrypted pair, its wiki, client and lifetime."""
    expires_at = None if tokens.expires_in is None else timezone.now() + timedelta(seconds=tokens.expires_in)
    return {
        **AccessToken.credential_fields(tokens.access_token, "", refresh_token=tokens.refresh_token),
        "wiki_url": wiki_url,
        "consumer_key": client_id,
        "oauth_version": 2,
        "expires_at": expires_at,
    }


def save_identity(user: Any, identity: Identity) -> WikiIdentity:
    """Keep the latest identity the wiki vouched for ``user`` (read it with ``mwsso.identity_for``)."""
    values = {**identity_fields(identity), "refreshed_at": timezone.now()}
    return WikiIdentity.objects.update_or_create(user=user, wiki=identity.wiki, defaults=values)[0]


def save_oauth2_token(
    user: Any, identity: Identity, tokens: oauth2.TokenSet, *, wiki_url: str, client_id: str
) -> AccessToken:
    """Store ``user``'s new OAuth 2.0 tokens for ``identity``'s wiki, encrypted, replacing the previous ones."""
    now = timezone.now()
    values = {
        **oauth2_token_fields(tokens, wiki_url=wiki_url, client_id=client_id),
        "grants": list(identity.grants),
        "status": AccessToken.Status.VALID,
        "status_reason": "",
        "last_verified": now,
        "updated": now,
    }
    return AccessToken.objects.update_or_create(user=user, wiki=identity.wiki, defaults=values)[0]
