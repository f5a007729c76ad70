"""The wiki user of tokens nobody has signed in with yet: those imported from social-core's stock backend.

``mwsso_tokens import-social`` moves a stock token without the identity a sign-in stores, so token
lists show no wiki user for it until its user signs in again. ``mwsso_tokens verify`` asks the wiki
who each token belongs to anyway; for these tokens, what the wiki vouched for becomes the user's
``WikiIdentity`` on that wiki, as a sign-in would have stored it.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from social_django.models import UserSocialAuth

from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol.identity import Identity
from mwsso.tokens.queries import with_wiki_username

logger = logging.getLogger("mwsso.tokens.verify")

# The providers (backend names) whose association uid is the wiki's central user id.
PROVIDERS = ("mediawiki", "mediawiki-oauth2")


def tokens_without_identity(queryset: QuerySet[AccessToken]) -> dict[int, tuple[int, str]]:
    """Token id → (user id, wiki) for the tokens of ``queryset`` whose user has no ``WikiIdentity`` on that wiki."""
    rows = with_wiki_username(queryset).filter(wiki_username__isnull=True).values_list("pk", "user_id", "wiki")  # type: ignore[misc]  # wiki_username is with_wiki_username's annotation, unseen by django-stubs
    return {pk: (user_id, wiki) for pk, user_id, wiki in rows}


def store_verified_identity(user_id: int, wiki: str, identity: Identity) -> bool:
    """Store ``identity`` (from a token the wiki just accepted) as the user's ``WikiIdentity`` on ``wiki``.

    Not when the user's association names another central id (the token would belong to someone
    else's account), nor when the row exists meanwhile (a sign-in wrote a fresher one) or another user
    holds that wiki account: the wiki's word is kept only where it cannot contradict what is stored.
    """
    linked = set(UserSocialAuth.objects.filter(user_id=user_id, provider__in=PROVIDERS).values_list("uid", flat=True))
    if linked and identity.sub not in linked:
        logger.warning(
            "access token of user %s on %s identifies wiki user %s, but the user is linked to %s: no identity stored",
            user_id, wiki, identity.sub, sorted(linked),
        )  # fmt: skip
        return False
    values = {
        "sub": identity.sub, "username": identity.username, "editcount": identity.editcount,
        "confirmed_email": identity.confirmed_email, "blocked": identity.blocked, "registered": identity.registered,
        "groups": list(identity.groups), "rights": list(identity.rights), "grants": list(identity.grants),
    }  # fmt: skip
    try:
        with transaction.atomic():
            WikiIdentity.objects.create(user_id=user_id, wiki=wiki, **values)
    except IntegrityError:
        logger.info(
            "user %s: a wiki identity on %s exists already (a sign-in, or another user's); left as it is", user_id, wiki
        )
        return False
    logger.info(
        "user %s: stored wiki user %s (%s) on %s, from a verified token", user_id, identity.sub, identity.username, wiki
    )
    return True
