"""What a returning sign-in compares against, loaded with the association social-core's ``social_user`` reads anyway.

``social_user`` loads the user's ``UserSocialAuth`` row (one SELECT). ``LoginStateStorage`` makes that
same SELECT carry the user's current ``WikiIdentity`` and ``AccessToken`` columns for the wiki being
signed in to (scalar subqueries), so ``mwsso.pipeline`` can tell, without another query, whether the
wiki said anything new. The state is read from the rows themselves in the same statement, never from
a copy that could go stale (a status set by the API client meanwhile is seen and reset by the sign-in).

Only social_django's own ``UserSocialAuth`` storage is extended; a site with its own
``SOCIAL_AUTH_STORAGE`` keeps it, and the pipeline falls back to plain writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import OuterRef, Subquery
from social_django.models import DjangoStorage, UserSocialAuth

from mwsso.models import AccessToken, WikiIdentity

IDENTITY_FIELDS = (
    "id", "wiki", "sub", "username", "editcount", "confirmed_email", "blocked", "registered",
    "groups", "rights", "grants", "refreshed_at",
)  # fmt: skip
TOKEN_FIELDS = (
    "id", "wiki", "wiki_url", "consumer_key", "oauth_version", "encrypted", "key_id", "fingerprint",
    "grants", "status", "status_reason", "expires_at", "last_verified",
)  # fmt: skip
# The newest refreshed_at of the user's identities on other wikis: "the wiki of the latest sign-in"
# (mwsso.api.for_user, mwsso.identity_for) must stay right even when this wiki's row is unchanged.
OTHER_WIKIS_LATEST = "mwsso_other_wikis_latest"
StateModel = type[WikiIdentity] | type[AccessToken]
PREFIXES: dict[StateModel, str] = {WikiIdentity: "mwsso_identity_", AccessToken: "mwsso_token_"}
FIELDS: dict[StateModel, tuple[str, ...]] = {WikiIdentity: IDENTITY_FIELDS, AccessToken: TOKEN_FIELDS}
MISSING = object()


def _annotations(wiki: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model, prefix in PREFIXES.items():
        rows = model.objects.filter(user=OuterRef("user_id"), wiki=wiki)
        for name in FIELDS[model]:
            found[prefix + name] = Subquery(rows.values(name)[:1])
    others = WikiIdentity.objects.filter(user=OuterRef("user_id")).exclude(wiki=wiki).order_by("-refreshed_at")
    found[OTHER_WIKIS_LATEST] = Subquery(others.values("refreshed_at")[:1])
    return found


class _SocialAuthWithState:
    """social_django's ``UserSocialAuth`` storage class, whose ``get_social_auth`` also loads the login state."""

    def __init__(self, wiki: str, writes: Any) -> None:
        self.wiki, self.writes = wiki, writes

    def __getattr__(self, name: str) -> Any:
        return getattr(UserSocialAuth, name)

    # The storage's writes begin the sign-in's transaction first (mwsso.socialauth.transaction).
    def create_social_auth(self, *args: Any, **kwargs: Any) -> Any:
        self.writes.begin()
        return UserSocialAuth.create_social_auth(*args, **kwargs)

    def migrate_social_auth(self, *args: Any, **kwargs: Any) -> Any:
        self.writes.begin()
        return UserSocialAuth.migrate_social_auth(*args, **kwargs)

    def changed(self, user: Any) -> None:
        self.writes.begin()
        UserSocialAuth.changed(user)

    def get_social_auth(self, provider: str, uid: Any, id_key: str | None = None) -> UserSocialAuth | None:
        # social_django's get_social_auth, with the annotations (same matching rules).
        uid = str(uid)
        query = UserSocialAuth.objects.select_related("user").filter(provider=provider, uid=uid)
        if id_key is not None:
            query = query.filter(id_key=id_key)
        for social in query.annotate(**_annotations(self.wiki)):
            if social.provider == provider and social.uid == uid and (id_key is None or social.id_key == id_key):
                social.mwsso_state_wiki = self.wiki  # type: ignore[attr-defined]  # our marker on the loaded row, read by stored()
                return social
        return None


class LoginStateStorage(DjangoStorage):
    """``DjangoStorage`` for one sign-in to ``wiki``; everything but the association lookup is unchanged."""

    def __init__(self, wiki: str, writes: Any) -> None:
        self.user = _SocialAuthWithState(wiki, writes)  # type: ignore[assignment]  # stands in for the UserSocialAuth class, delegating the rest to it


@contextmanager
def login_state(strategy: Any, wiki: str, writes: Any) -> Iterator[bool]:
    """During one sign-in, the association lookup loads the stored state; yields False over a site's own storage."""
    storage = getattr(strategy, "_storage", None)  # social-core's BaseStrategy keeps its storage class there
    if getattr(storage, "user", None) is not UserSocialAuth:
        yield False
        return
    strategy._storage = LoginStateStorage(wiki, writes)
    try:
        yield True
    finally:
        strategy._storage = storage


def stored(social: Any, model: StateModel, wiki: str) -> Any:
    """The stored ``model`` row of ``social``'s user on ``wiki`` as loaded with ``social``:

    a model instance (no query), None when the user has no such row, or ``MISSING`` when the state
    was not loaded (another storage, another wiki, an association created during this sign-in).
    """
    if social is None or getattr(social, "mwsso_state_wiki", None) != wiki:
        return MISSING
    prefix = PREFIXES[model]
    values = [getattr(social, prefix + name, MISSING) for name in FIELDS[model]]
    if MISSING in values:
        return MISSING
    if values[0] is None:
        return None
    loaded = dict(zip(FIELDS[model], values, strict=True)) | {"user_id": social.user_id}
    # from_db takes the values in the model's field order, the others deferred.
    names = [field.attname for field in model._meta.concrete_fields if field.attname in loaded]
    return model.from_db(social._state.db, names, [loaded[name] for name in names])


def other_wikis_latest(social: Any) -> Any:
    return getattr(social, OTHER_WIKIS_LATEST, None)
