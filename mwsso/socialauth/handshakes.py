"""Sign-in handshakes pending in a browser session, dropped whenever the session's user changes.

A handshake started before a sign-in (an OAuth 1.0a request token, an OAuth 2.0
state and PKCE verifier) must not be finishable after it: otherwise whoever
started it in someone's browser authorizes it on the wiki as their own account
and sends that person the callback link (docs/security.md). Django's login
keeps the anonymous session's data (``cycle_key``), so the receivers below,
connected in ``MwssoConfig.ready``, drop that state on every login and logout.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("mwsso.login")

# mwsso's backends, whether or not the site lists them: the OAuth 1.0a one and the OAuth 2.0 one.
HANDSHAKE_BACKENDS = ("mediawiki", "mediawiki-oauth2")
# social-core's own session name for a paused (partial) pipeline.
PARTIAL_PIPELINE_KEY = "partial_pipeline_token"


def is_handshake_key(key: str, backend_names: Iterable[str]) -> bool:
    """Whether ``key`` is a session key where social-core keeps a pending handshake of one of ``backend_names``.

    The names are social-core's (``social_core.backends.oauth``): BaseOAuth1's
    ``<name>unauthorized_token_name``; BaseOAuth2's ``<name>_state`` (also the
    association-only state), ``<name>_oauth2_state_<state>`` with its index
    ``<name>_oauth2_transaction_index``; BaseOAuth2PKCE's ``<name>_code_verifier``.
    """
    if key == PARTIAL_PIPELINE_KEY:
        return True
    for name in backend_names:
        if key in (
            f"{name}unauthorized_token_name",
            f"{name}_state",
            f"{name}_code_verifier",
            f"{name}_oauth2_transaction_index",
        ) or key.startswith(f"{name}_oauth2_state_"):
            return True
    return False


def social_backend_names() -> set[str]:
    """mwsso's backend names and those of every social-core backend in ``AUTHENTICATION_BACKENDS``."""
    names = set(HANDSHAKE_BACKENDS)
    for path in settings.AUTHENTICATION_BACKENDS:
        try:
            backend = import_string(path)
        except ImportError:
            continue  # Django itself reports a backend that cannot be imported
        name = getattr(backend, "name", None)
        if isinstance(name, str) and name and hasattr(backend, "auth_complete"):
            names.add(name)
    return names


def drop_pending_handshakes(session: Any) -> list[str]:
    """Remove every pending sign-in handshake from ``session``; returns the keys removed."""
    names = social_backend_names()
    dropped = [key for key in list(session.keys()) if is_handshake_key(key, names)]
    for key in dropped:
        del session[key]
    return dropped


def drop_on_user_change(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """``user_logged_in`` / ``user_logged_out`` receiver: the new (or no) user starts with no pending handshake."""
    session = getattr(request, "session", None)
    if session is None:
        return
    names = social_backend_names()
    # The handshake that just finished leaves an empty list behind: only unfinished ones are news.
    unfinished = sum(1 for key in session.keys() if is_handshake_key(key, names) and session[key])
    drop_pending_handshakes(session)
    if unfinished:
        logger.info("dropped %d unfinished sign-in handshake(s) as the session's user changed", unfinished)
