"""Who may sign in and what they become: pipeline steps over the identity the wiki vouched for."""

from __future__ import annotations

import logging
from typing import Any

from mwsso import signals
from mwsso.app_settings import app_settings
from mwsso.exceptions import LoginRefused
from mwsso.identity import Identity

logger = logging.getLogger("mwsso.login")


def refusal_reason(identity: Identity) -> str | None:
    """The first unmet rule, in plain words, or None when the identity may sign in."""
    if identity.blocked and app_settings.BLOCKED_USERS != "allow":
        return f"Your account is blocked on {identity.issuer}."
    return None


def check_access_policy(backend: Any, identity: Identity, **kwargs: Any) -> None:
    reason = refusal_reason(identity)
    if reason is not None:
        logger.warning("login refused for wiki user %s (%s): %s", identity.sub, identity.username, reason)
        signals.login_refused.send(sender=backend.__class__, identity=identity, reason=reason)
        raise LoginRefused(backend, reason, reason=reason, stage="pipeline")


def sync_groups(user: Any, identity: Identity, **kwargs: Any) -> None:
    return None


def send_identity_refreshed(backend: Any, user: Any, identity: Identity, is_new: bool = False, **kwargs: Any) -> None:
    signals.identity_refreshed.send(sender=backend.__class__, user=user, identity=identity, created=is_new)
