"""The site's access policy: who may sign in and what they become, as pipeline steps over the identity the wiki vouched for.

One word per meaning: a rule the person does not meet is a ``Denial`` (``mwsso.policy.rules``); what the
wiki says about a grant (revoked, refused) is ``mwsso.protocol.grants``'s; the exception a denied sign-in
raises is ``mwsso.exceptions.LoginRefused``.

Steps (see ``mwsso.app_settings.DEFAULT_PIPELINE``; each can be moved, dropped or replaced):

- ``check_access_policy`` runs before any user is created and refuses a login
  that fails a rule (``MWSSO_BLOCKED_USERS``, ``MWSSO_MIN_EDITCOUNT``,
  ``MWSSO_MIN_ACCOUNT_AGE_DAYS``, ``MWSSO_REQUIRE_CONFIRMED_EMAIL``,
  ``MWSSO_REQUIRED_GRANTS``, ``MWSSO_ELIGIBILITY_CHECK``). The rules themselves
  are pure functions in ``mwsso.policy.rules``.
- ``sync_groups`` makes Django group membership and ``is_staff``/``is_superuser``
  follow the user's wiki groups (``MWSSO_GROUP_MAP``, ``MWSSO_STAFF_GROUPS``,
  ``MWSSO_SUPERUSER_GROUPS``).
- ``send_identity_refreshed`` sends ``mwsso.signals.identity_refreshed``.

The backend runs the pipeline in one transaction, so a refusal writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop

from mwsso import signals
from mwsso.app_settings import app_settings
from mwsso.exceptions import LoginRefused
from mwsso.policy import rules
from mwsso.policy.rules import Denial
from mwsso.protocol.identity import Identity
from mwsso.socialauth.transaction import begin_writes

logger = logging.getLogger("mwsso.login")

# Marked here, translated when refused (a Denial's message is plain text in the person's language).
HOOK_FAILED = Denial(
    "eligibility_check_failed",
    gettext_noop("This site could not check whether your account may sign in. Please try again later."),
)


def current_policy() -> rules.Policy:
    """The built-in rules' thresholds, from the ``MWSSO_*`` settings as they are now."""
    return rules.Policy(
        blocked_users=app_settings.BLOCKED_USERS,
        min_editcount=app_settings.MIN_EDITCOUNT,
        min_account_age_days=app_settings.MIN_ACCOUNT_AGE_DAYS,
        require_confirmed_email=app_settings.REQUIRE_CONFIRMED_EMAIL,
        required_grants=tuple(app_settings.REQUIRED_GRANTS),
    )


def eligibility_check() -> Callable[[Identity], str | None] | None:
    """The site's ``MWSSO_ELIGIBILITY_CHECK`` callable, or None. System check mwsso.E010 vets the path."""
    path = app_settings.ELIGIBILITY_CHECK
    return import_string(path) if path else None


def _run_hook(identity: Identity) -> Denial | None:
    try:
        check = eligibility_check()
        if check is None:
            return None
        # The site's hook may return anything: checked below, whatever its annotation says.
        result: object = check(identity)
        if result is None:
            return None
        if not isinstance(result, str) or not result.strip():
            raise TypeError(f"{app_settings.ELIGIBILITY_CHECK} returned {type(result).__name__}, not None or a reason")
    except Exception:
        # A broken hook must not let everyone in: refuse, and tell the operator in the log.
        logger.exception("MWSSO_ELIGIBILITY_CHECK failed for wiki user %s (%s)", identity.sub, identity.username)
        return Denial(HOOK_FAILED.rule, gettext(HOOK_FAILED.message))
    return Denial("eligibility_check", result.strip())


def denials(identity: Identity, now: datetime | None = None) -> list[Denial]:
    """Every unmet rule for ``identity``; the site's hook runs only when the built-in rules pass."""
    found = rules.denials(identity, current_policy(), now or datetime.now(UTC))
    if found:
        return found
    hook = _run_hook(identity)
    return [hook] if hook is not None else []


def denial_reason(identity: Identity, now: datetime | None = None) -> str | None:
    """The unmet rules in plain words, or None when the identity may sign in."""
    found = denials(identity, now)
    return rules.denial_message(found) if found else None


def check_access_policy(backend: Any, identity: Identity, **kwargs: Any) -> None:
    """Pipeline step: refuse the login (``LoginRefused``) when a rule is unmet; runs before any user exists."""
    found = denials(identity)
    if not found:
        return
    reason = rules.denial_message(found)
    codes = ", ".join(refusal.rule for refusal in found)
    logger.warning(
        "login refused for wiki user %s (%s) on %s: %s", identity.sub, identity.username, identity.issuer, codes
    )
    if signals.login_refused.has_listeners():
        begin_writes(backend)  # what receivers write is rolled back with the refused login
    signals.login_refused.send(sender=backend.__class__, identity=identity, reason=reason)
    raise LoginRefused(backend, f"unmet rules: {codes}", reason=reason, stage="pipeline")


def end_refused_session(request: HttpRequest, err: LoginRefused) -> bool:
    """Sign out a browser that is signed in as the wiki user just refused; returns whether it did.

    Called by the error view, outside the pipeline's transaction (a session
    deleted inside it would be restored by the rollback). Someone signed in as
    another account (e.g. linking a second wiki account) stays signed in: the
    refusal is not about them.
    """
    # Imported here: the policy also serves sites without social_django (mwsso.contrib.allauth).
    from social_django.models import UserSocialAuth

    user = getattr(request, "user", None)
    backend = getattr(err, "backend", None)
    identity = getattr(backend, "identity", None)
    if user is None or not user.is_authenticated or backend is None or identity is None:
        return False
    linked = UserSocialAuth.objects.filter(user=user, provider=backend.name, uid=identity.sub).exists()
    if not linked:
        return False
    logout(request)
    logger.info("signed out user %s: wiki user %s was refused at login", user.pk, identity.sub)
    return True


def sync_groups(user: Any, identity: Identity, **kwargs: Any) -> None:
    """Pipeline step: mapped Django groups and the staff/superuser flags follow the wiki groups.

    Only groups named in ``MWSSO_GROUP_MAP`` are added or removed; a flag is
    managed only while its setting lists a wiki group. Nothing is written when
    nothing changed.
    """
    if user is None:
        return
    backend = kwargs.get("backend")
    _sync_mapped_groups(backend, user, identity.groups, app_settings.GROUP_MAP)
    _sync_flags(backend, user, identity.groups)


def mapped_groups(wiki_groups: Iterable[str], group_map: dict[str, str]) -> set[str]:
    """The Django groups a user with ``wiki_groups`` belongs to under ``group_map``."""
    return {group_map[group] for group in wiki_groups if group in group_map}


def _sync_mapped_groups(backend: Any, user: Any, wiki_groups: Iterable[str], group_map: dict[str, str]) -> None:
    managed = set(group_map.values())
    if not managed or not hasattr(user, "groups"):
        return
    wanted = mapped_groups(wiki_groups, group_map)
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    to_add, to_remove = wanted - current, current - wanted
    if to_add or to_remove:
        begin_writes(backend)
    if to_add:
        existing = {group.name: group for group in Group.objects.filter(name__in=to_add)}
        for name in sorted(to_add - existing.keys()):
            existing[name], _ = Group.objects.get_or_create(name=name)
        user.groups.add(*existing.values())
    if to_remove:
        user.groups.remove(*Group.objects.filter(name__in=to_remove))
    if to_add or to_remove:
        logger.info("user %s: added to groups %s, removed from %s", user.pk, sorted(to_add), sorted(to_remove))


def _sync_flags(backend: Any, user: Any, wiki_groups: Iterable[str]) -> None:
    groups = set(wiki_groups)
    changed: list[str] = []
    for field, granting in (("is_staff", app_settings.STAFF_GROUPS), ("is_superuser", app_settings.SUPERUSER_GROUPS)):
        # An empty setting leaves the flag to the site (its own superusers stay superusers).
        if not granting or not hasattr(user, field):
            continue
        wanted = bool(groups & set(granting))
        if getattr(user, field) != wanted:
            setattr(user, field, wanted)
            changed.append(field)
    if changed:
        begin_writes(backend)
        user.save(update_fields=changed)
        logger.info("user %s: %s now %s", user.pk, ", ".join(changed), [getattr(user, f) for f in changed])


def send_identity_refreshed(backend: Any, user: Any, identity: Identity, is_new: bool = False, **kwargs: Any) -> None:
    """Pipeline step: send ``identity_refreshed(user, identity, created)`` after a successful login."""
    if signals.identity_refreshed.has_listeners():
        begin_writes(backend)  # receivers' writes land with the sign-in's, or not at all
    signals.identity_refreshed.send(sender=backend.__class__, user=user, identity=identity, created=is_new)
