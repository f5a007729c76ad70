"""mwsso's social-auth pipeline steps (``SOCIAL_AUTH_PIPELINE``, see ``mwsso.app_settings.DEFAULT_PIPELINE``).

Each step is a plain function taking social-core's keyword arguments; a site
can reorder, drop or replace any of them. The backend runs the whole pipeline
in one transaction, so a refused or failed login leaves nothing behind.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from social_django.models import UserSocialAuth

from mwsso import crypto
from mwsso.app_settings import app_settings
from mwsso.exceptions import AccountNotLinked, LoginError, TokenUnreadable
from mwsso.models import AccessToken, WikiIdentity
from mwsso.protocol.identity import Identity
from mwsso.socialauth import loginstate
from mwsso.socialauth.transaction import begin_writes
from mwsso.tokens.storing import identity_fields

logger = logging.getLogger("mwsso.login")


# Username field length of Django's default user; longer wiki names are cut to fit.
USERNAME_MAX = 150
DISAMBIGUATION = "~"


def create_or_update_user(
    backend: Any, uid: str, identity: Identity, user: Any = None, social: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Create the Django user of a new wiki user, or bring an existing one up to date (rename, email).

    The Django username is the wiki username exactly as the wiki writes it. Only
    when another account holds that name does a suffix ``~<central id>`` keep
    the two apart (see ``_claim_username``).

    A ``user`` is only ever the one already linked to this wiki account (found
    by ``social_user``). Any other (a signed-in user handed in by a site's own
    view) is refused: a sign-in never attaches a wiki account to another user,
    never touches a local account and never gives a user a second wiki account.
    """
    if social is None:
        # Signed in before with the other OAuth version: the same person (same wiki, same central id).
        sibling = _link_other_protocol(backend, uid, identity, user, kwargs)
        if sibling is not None:
            _update_user(backend, sibling.user, uid, identity)
            return {"user": sibling.user, "social": sibling, "is_new": False, "new_association": True}
    if user is not None:
        if social is None or social.user_id != user.pk or str(social.uid) != str(uid):
            logger.warning("refused to link wiki user %s to user %s, who is not linked to it", uid, user.pk)
            raise AccountNotLinked(backend, f"user {user.pk} is not linked to wiki user {uid}", stage="pipeline")
        _update_user(backend, user, uid, identity)
        return {"user": user, "is_new": False}
    begin_writes(backend)
    username = _claim_username(identity.username, uid, None, identity.wiki)
    # Last, a name no one holds yet: a wiki user may really be called "Alice~3" ("~" is allowed in wiki names).
    unique = _suffixed(identity.username, f"{uid}.{secrets.token_hex(3)}")
    for attempt in (username, _suffixed(identity.username, uid), unique):
        try:
            with transaction.atomic():
                user = _new_user(attempt, identity)
                # id_key as social_user looks it up; without it the next login takes social-core's legacy-migration path.
                social = UserSocialAuth.objects.create(
                    user=user,
                    provider=backend.name,
                    uid=uid,
                    id_key=backend.id_key(),
                    extra_data=backend.extra_data(user, uid, kwargs.get("response") or {}, {}, kwargs),
                )
            return {"user": user, "social": social, "is_new": True, "new_association": True}
        except IntegrityError:
            # Usually another login of the same wiki user won the race: sign in as the user it created.
            social = UserSocialAuth.objects.select_related("user").filter(provider=backend.name, uid=uid).first()
            if social is not None:
                return {"user": social.user, "social": social, "is_new": False, "new_association": False}
            # Otherwise another account took the name meanwhile: try once more with the suffixed name.
    logger.warning("could not create a Django user for wiki user %s (%r)", uid, identity.username)
    raise LoginError(
        backend, "the account could not be created; please try again", reason="user_not_created", stage="pipeline"
    )


def _link_other_protocol(backend: Any, uid: str, identity: Identity, user: Any, kwargs: dict[str, Any]) -> Any:
    """This backend's association for the user who signed in as wiki user ``uid`` with the other protocol, or None.

    The user is the one whose ``WikiIdentity`` the same wiki vouched for (``wiki`` and ``sub``), which
    only a completed sign-in writes. A different signed-in user is never linked (None: refused after).
    """
    known = WikiIdentity.objects.select_related("user").filter(wiki=identity.wiki, sub=uid).first()
    if known is None or (user is not None and user.pk != known.user_id):
        return None
    extra = backend.extra_data(known.user, uid, kwargs.get("response") or {}, {}, kwargs)
    begin_writes(backend)
    social: UserSocialAuth | None
    try:
        with transaction.atomic():
            social = UserSocialAuth.objects.create(
                user=known.user, provider=backend.name, uid=uid, id_key=backend.id_key(), extra_data=extra
            )
    except IntegrityError:
        # A concurrent sign-in of the same person linked it first.
        social = UserSocialAuth.objects.select_related("user").filter(provider=backend.name, uid=uid).first()
        if social is None or social.user_id != known.user_id:
            return None
    logger.info("wiki user %s signs in with %s for the first time: linked to user %s", uid, backend.name, known.user_id)
    return social


def _new_user(username: str, identity: Identity) -> Any:
    User = get_user_model()
    user = User(**{User.USERNAME_FIELD: username})
    if identity.email and hasattr(user, "email"):
        user.email = identity.email
    user.set_unusable_password()
    user.save()
    return user


def _update_user(backend: Any, user: Any, uid: str, identity: Identity) -> None:
    field = get_user_model().USERNAME_FIELD
    current = getattr(user, field)
    if current != identity.username and current != _suffixed(identity.username, uid):
        begin_writes(backend)
        try:
            # A savepoint: a name held by an account we may not move (a wiki user really called
            # "Alice~3") leaves the user their current name instead of failing the login.
            with transaction.atomic():
                setattr(user, field, _claim_username(identity.username, uid, user.pk, identity.wiki))
                user.save(update_fields=[field])
            logger.info("wiki user %s is now called %r (was %r)", uid, identity.username, current)
        except IntegrityError:
            setattr(user, field, current)
            logger.warning("wiki user %s keeps the username %r: %r is taken", uid, current, identity.username)
    if identity.email and getattr(user, "email", identity.email) != identity.email:
        begin_writes(backend)
        user.email = identity.email
        user.save(update_fields=["email"])


def _suffixed(name: str, uid: str) -> str:
    suffix = f"{DISAMBIGUATION}{uid}"
    return name[: USERNAME_MAX - len(suffix)] + suffix


def _claim_username(name: str, uid: str, user_pk: Any, wiki: str) -> str:
    """The Django username for wiki user ``uid`` of ``wiki`` called ``name``.

    The wiki says who owns a name now. If the Django account of another user of that same wiki
    still holds exactly that name (they were renamed and have not signed in since), that stale
    account steps aside to ``name~<its central id>`` and takes its new name at its next login.
    Any other holder is never touched and the wiki user gets ``name~<uid>`` instead: a local
    account, a user of another wiki (its name there says nothing of this wiki's names), or a name
    that the database only compares equal (MariaDB's case- and accent-insensitive collations take
    "ÁLICE" for "Alice").
    """
    User = get_user_model()
    field = User.USERNAME_FIELD
    if len(name) > USERNAME_MAX:
        return _suffixed(name, uid)
    holders = list(User.objects.filter(**{field: name}).exclude(pk=user_pk))
    holder = next((candidate for candidate in holders if getattr(candidate, field) == name), None)
    if holder is None:
        # A name the database takes for a held one cannot be stored beside it.
        return _suffixed(name, uid) if holders else name
    stale = WikiIdentity.objects.filter(user=holder, wiki=wiki).exclude(sub=uid).values_list("sub", flat=True).first()
    if stale is None:
        return _suffixed(name, uid)
    User.objects.filter(pk=holder.pk).update(**{field: _suffixed(name, stale)})
    logger.info("moved stale username %r of wiki user %s aside for wiki user %s", name, stale, uid)
    return name


def store_extra_data(backend: Any, social: Any, uid: str, response: dict[str, Any], **kwargs: Any) -> None:
    """Keep only non-secret facts in ``UserSocialAuth.extra_data``.

    Rows written by social-core's stock backend hold the access token in plain
    text; they are cleaned at the user's next login.
    """
    wanted = backend.extra_data(None, uid, response, {}, kwargs)
    if social is not None and social.extra_data != wanted:
        begin_writes(backend)
        social.extra_data = wanted
        social.save(update_fields=["extra_data"])


def _save_for_user(
    backend: Any, model: Any, user: Any, wiki: str, values: dict[str, Any], is_new: bool, stored: Any
) -> Any:
    """Write ``values`` into ``user``'s ``model`` row for ``wiki``: one statement on the common paths.

    ``stored`` is the row as loaded with the association (``mwsso.socialauth.loginstate.stored``): None (no row),
    an instance, or ``MISSING`` (not loaded). No read-before-write and no savepoint but for the rare
    INSERT into a row that was not there.
    """
    begin_writes(backend)
    # A user created by this very login has no rows yet: a plain INSERT.
    if is_new:
        return model.objects.create(user=user, wiki=wiki, **values)
    if stored is None:
        try:
            with transaction.atomic():  # a savepoint: a concurrent sign-in may have inserted it meanwhile
                return model.objects.create(user=user, wiki=wiki, **values)
        except IntegrityError:
            pass
    rows = model.objects.filter(user=user, wiki=wiki)
    if stored is loginstate.MISSING or stored is None:
        # Not loaded with the association (a site's own storage): the update-or-insert with its read.
        return model.objects.update_or_create(user=user, wiki=wiki, defaults=values)[0]
    if rows.filter(pk=stored.pk).update(**values):
        for name, value in values.items():
            setattr(stored, name, value)
        return stored
    # The row went away (or was replaced) since the association was loaded.
    return model.objects.update_or_create(user=user, wiki=wiki, defaults=values)[0]


def _recent(when: datetime | None, others_latest: datetime | None) -> bool:
    """Whether a timestamp written at a previous sign-in may stand for this one (``MWSSO_SIGNIN_TOUCH_INTERVAL``)."""
    if when is None:
        return False
    # The latest sign-in's wiki must stay the latest (mwsso.identity_for, mwsso.api.for_user's default wiki).
    if others_latest is not None and others_latest >= when:
        return False
    return timezone.now() - when < timedelta(seconds=app_settings.SIGNIN_TOUCH_INTERVAL)


def store_identity(
    backend: Any, user: Any, identity: Identity, is_new: bool = False, social: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Keep the latest identity the wiki vouched for (read it with ``mwsso.identity_for(user)``).

    Nothing is written when the wiki said nothing new and ``refreshed_at`` is recent.
    """
    values = identity_fields(identity)
    stored = loginstate.MISSING if is_new else loginstate.stored(social, WikiIdentity, identity.wiki)
    if isinstance(stored, WikiIdentity) and _same(stored, values):
        if _recent(stored.refreshed_at, loginstate.other_wikis_latest(social)):
            return {"wiki_identity": stored}
    values["refreshed_at"] = timezone.now()
    return {"wiki_identity": _save_for_user(backend, WikiIdentity, user, identity.wiki, values, is_new, stored)}


def _same(stored: Any, values: dict[str, Any]) -> bool:
    return all(getattr(stored, name) == value for name, value in values.items())


def _same_token(stored: Any, key: str, secret: str, refresh_token: str) -> bool:
    """Whether ``stored`` holds exactly this token, encrypted with the primary key (else re-encrypt it)."""
    if stored.key_id != crypto.primary_key_id():
        return False
    try:
        held = stored.get_credentials()
    except TokenUnreadable:
        return False
    return (held.key, held.secret, held.refresh_token) == (key, secret, refresh_token)


def store_access_token(
    backend: Any, user: Any, identity: Identity, is_new: bool = False, social: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Save the access token encrypted, replacing the user's previous one for this wiki.

    A sign-in makes the token valid again. Nothing is written when the stored row already holds
    this very token, valid, with the same grants, and ``last_verified`` is recent (MediaWiki's
    OAuth 1.0a hands a returning user the same token).
    """
    credentials = backend.access_credentials
    if credentials is None:
        return {}
    if hasattr(backend, "stored_token_fields"):
        # OAuth 2.0: the access and refresh tokens, and when the access token expires (a new pair each sign-in).
        fields = backend.stored_token_fields()
        plain = None
    else:
        plain = (credentials.key, credentials.secret, "")
        fields = {
            "wiki_url": backend.index_url(),
            "consumer_key": backend.consumer().key,
            "oauth_version": 1,
            "expires_at": None,
        }
    facts = {
        **fields,
        "grants": list(identity.grants),
        "status": AccessToken.Status.VALID,
        "status_reason": "",
    }
    stored = loginstate.MISSING if is_new else loginstate.stored(social, AccessToken, identity.wiki)
    if (
        plain is not None
        and isinstance(stored, AccessToken)
        and _same(stored, facts)
        and _same_token(stored, *plain)
        and _recent(stored.last_verified, None)
    ):
        return {"access_token_record": stored}
    now = timezone.now()
    defaults = {**facts, "last_verified": now, "updated": now}
    if plain is not None:
        defaults.update(AccessToken.credential_fields(plain[0], plain[1]))
    return {"access_token_record": _save_for_user(backend, AccessToken, user, identity.wiki, defaults, is_new, stored)}
