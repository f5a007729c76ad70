"""What a callback is checked for before anything it says is believed: this browser's pending sign-in, used up.

Anyone can write a link to ``/complete/<backend>/``. So a callback without the pending sign-in of the
browser that opens it is refused as such (``CallbackRejected``) before anything else in it is read;
the pending sign-in it names is used up whatever follows (a wrong verifier the wiki refuses, an error);
and what a callback says about an error is told in mwsso's own words, never in the callback's.

The session entries are social-core's (``mwsso.socialauth.handshakes`` names them too): BaseOAuth1's list of
pending request tokens, BaseOAuth2's per-state transactions with their index and nonces.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qs

from social_core.exceptions import AuthCanceled, AuthException

from mwsso.exceptions import CallbackRejected, LoginWikiUnavailable, WikiRefused
from mwsso.protocol import oauth1, oauth2

# -- OAuth 1.0a ------------------------------------------------------------------------------


def pending_request_tokens(backend: Any) -> list[str]:
    """The request tokens (``oauth_token=…&oauth_token_secret=…``) this browser's sign-ins wait with."""
    # Only what set_unauthorized_token writes: any other session value (corrupted, tampered) is no pending login.
    value = backend.strategy.session_get(backend.name + backend.UNATHORIZED_TOKEN_SUFIX, [])
    return [token for token in value if isinstance(token, str)] if isinstance(value, list) else []


def take_request_token(backend: Any) -> oauth1.TokenPair:
    """The pending request token the callback names, removed from the session so that it is used once.

    Whatever the callback then brings (a wrong verifier, a refusal), that handshake is over: the error
    page keeps the session's change (``mwsso.views.signin.login_error``).
    """
    pending = pending_request_tokens(backend)
    if not pending:
        raise CallbackRejected(
            backend, "no sign-in is pending in this browser session", reason="no_pending_login", stage="callback"
        )
    given = backend.data.get("oauth_token")
    if not isinstance(given, str) or not given:
        raise CallbackRejected(backend, "the callback has no oauth_token", reason="missing_token", stage="callback")
    for stored in pending:
        fields = parse_qs(stored)
        key, secret = fields.get("oauth_token", [""])[0], fields.get("oauth_token_secret", [""])[0]
        if key and secret and hmac.compare_digest(key.encode(), given.encode()):
            backend.strategy.session_set(
                backend.name + backend.UNATHORIZED_TOKEN_SUFIX, [token for token in pending if token != stored]
            )
            return oauth1.TokenPair(key, secret)
    raise CallbackRejected(
        backend,
        "the callback's oauth_token is not one this browser was given",
        reason="token_mismatch",
        stage="callback",
    )


# -- OAuth 2.0 --------------------------------------------------------------------------------


def use_up_oauth2_sign_in(backend: Any) -> str | None:
    """The callback's state, used up; for a callback without one, every sign-in this browser has pending, used up.

    MediaWiki's Cancel sends the browser back without a state (``error=unauthorized_client``), so only
    such a callback, in a browser with a sign-in pending, gets past here without one (None).
    """
    if backend.get_request_state():
        try:
            state: str | None = backend.validate_state()  # social-core's: the session entry and its nonce are used up
            return state
        except AuthException as err:
            # A forged or replayed state, or a callback in another browser.
            raise CallbackRejected(
                backend, f"the callback's state is not one this browser was given ({type(err).__name__})",
                reason="state_mismatch", stage="callback",
            ) from err  # fmt: skip
    if not _drop_pending_states(backend):
        raise CallbackRejected(
            backend, "no sign-in is pending in this browser session", reason="no_pending_login", stage="callback"
        )
    if backend.data.get("error") is None:
        raise CallbackRejected(backend, "the callback has no state", reason="missing_state", stage="callback")
    return None


def _drop_pending_states(backend: Any) -> int:
    """Use up every sign-in this browser has pending (the per-state session entries and their nonces); how many."""
    index = backend.strategy.session_get(backend._transaction_index_key())
    if not isinstance(index, dict):
        return 0
    dropped = 0
    for state, timestamp in index.items():
        if not isinstance(state, str) or isinstance(timestamp, bool) or not isinstance(timestamp, int):
            continue
        if backend.strategy.session_pop(backend.transaction_key(state)) is not None:
            dropped += 1
        backend.strategy.storage.nonce.consume(backend._nonce_scope(), timestamp, state)
    backend.strategy.session_pop(backend._transaction_index_key())
    return dropped


def failure_for(backend: Any, error: str) -> AuthException:
    """What a callback's error code (``mwsso.protocol.oauth2.callback_error``) means, in mwsso's own words."""
    detail = f"callback: the wiki's redirect carries error={error}"
    if oauth2.is_cancel(error):
        return AuthCanceled(backend, stage="callback")
    if error in ("server_error", "temporarily_unavailable"):
        return LoginWikiUnavailable(backend, detail, reason=f"callback_{error}", stage="callback")
    return WikiRefused(backend, detail, wiki_code=error, stage="callback")
