"""The callback's conversation with the wiki: this browser's state, the code, the tokens, the profile, the identity.

Every request to the wiki of a sign-in happens here, before any database write (``signin`` opens the
transaction afterwards, so none is held across a wiki call). Each failure is one of mwsso's
``LoginError`` classes, as on the social-auth side, and carries no token or secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from social_core.exceptions import ErrorStage

from mwsso import http
from mwsso.contrib.allauth import conf
from mwsso.exceptions import (
    CallbackRejected,
    IdentityRejected,
    LoginError,
    LoginWikiUnavailable,
    WikiBadResponse,
    WikiRefused,
)
from mwsso.protocol import oauth2
from mwsso.protocol.common import redact
from mwsso.protocol.identity import Identity, InvalidIdentity, identity_from_profile
from mwsso.protocol.wikiurls import InvalidWikiURL
from mwsso.socialauth import callbacks

_FAILURES: dict[str, type[LoginError]] = {"unavailable": LoginWikiUnavailable, "bad_response": WikiBadResponse}
_STAGES: dict[str, ErrorStage] = {"token": "token_exchange", "profile": "user_info", "callback": "callback"}


@dataclass(frozen=True)
class WikiSignIn:
    """What the wiki vouched for at one callback: the user, their tokens, and allauth's stashed state."""

    identity: Identity
    tokens: oauth2.TokenSet
    client_id: str
    wiki_url: str
    profile: dict[str, Any] = field(repr=False)
    state: dict[str, Any] = field(repr=False)


def from_callback(request: HttpRequest, provider: Any) -> WikiSignIn:
    """Check the callback and ask the wiki who signed in; a ``LoginError`` (or ``AuthCanceled``) when anything fails.

    This browser's pending sign-in is checked (and used up) before anything else in the callback is
    read: anyone can write a link to the callback, so its ``error`` counts only for a sign-in this
    browser started, and is told in mwsso's own words (``mwsso.socialauth.callbacks.failure_for``), never the URL's.
    """
    state = _this_browsers_state(request, provider)
    error = oauth2.callback_error(dict(request.GET.items()))
    if error is not None:
        raise callbacks.failure_for(None, error)
    verifier = state.get("pkce_code_verifier")
    code = request.GET.get("code")
    if not isinstance(verifier, str) or not verifier:
        raise CallbackRejected(
            None, "the stashed state has no PKCE verifier", reason="state_mismatch", stage="callback"
        )
    if not isinstance(code, str) or not code or len(code) > 4096:
        raise CallbackRejected(None, "the callback has no code", reason="missing_code", stage="callback")
    try:
        wiki_url = conf.wiki_url()
    except InvalidWikiURL as err:
        raise LoginError(None, f"REST_API is not usable: {err}", reason="bad_wiki_url", stage="callback") from err
    client = oauth2.Client(str(provider.app.client_id or ""), str(provider.app.secret or ""))
    session, options = http.get_session(), http.request_options()
    redirect_uri = provider.callback_url(request)
    tokens = _ask(oauth2.exchange_code, session, wiki_url, client, code, verifier, redirect_uri=redirect_uri, **options)
    profile = _ask(oauth2.fetch_profile, session, wiki_url, tokens.access_token, **options)
    try:
        identity = identity_from_profile(profile, conf.issuer_url())
    except InvalidIdentity as err:
        detail = redact(err.message, (client.secret, tokens.access_token, tokens.refresh_token))
        raise IdentityRejected(None, f"profile: {detail}", reason=err.reason, stage="user_info") from err
    return WikiSignIn(identity, tokens, client.client_id, wiki_url, profile, state)


def _this_browsers_state(request: HttpRequest, provider: Any) -> dict[str, Any]:
    """allauth's state for the callback's ``state``, stashed in this very session and removed now (used once).

    MediaWiki's Cancel comes back without a state (``error=unauthorized_client``): such a callback
    passes only in a browser with a sign-in pending, and uses up every one it has ({} is returned).
    """
    state_id = request.GET.get("state")
    if not state_id:
        if not _drop_pending_states(request, provider.id):
            raise CallbackRejected(
                None, "no sign-in is pending in this browser session", reason="no_pending_login", stage="callback"
            )
        if request.GET.get("error") is None:
            raise CallbackRejected(None, "the callback has no state", reason="missing_state", stage="callback")
        return {}
    if len(state_id) > 200:
        raise CallbackRejected(None, "the callback's state is malformed", reason="state_mismatch", stage="callback")
    try:
        return cast(dict[str, Any], provider.unstash_redirect_state(request, state_id))  # allauth is untyped
    except PermissionDenied as err:
        # Forged, replayed, expired, or from another browser.
        raise CallbackRejected(
            None, "the callback's state is not one this browser was given", reason="state_mismatch", stage="callback"
        ) from err


def _drop_pending_states(request: HttpRequest, provider_id: str) -> int:
    """Use up every sign-in with ``provider_id`` this browser has pending (allauth's stashed states); how many."""
    from allauth.socialaccount.internal import statekit

    states = statekit.get_states(request)
    mine = [sid for sid, stashed in states.items() if len(stashed) == 3 and stashed[2] == provider_id]
    for sid in mine:
        del states[sid]
    if mine:
        request.session[statekit.STATES_SESSION_KEY] = states
    return len(mine)


def _ask(step: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return step(*args, **kwargs)
    except oauth2.OAuth2Error as err:
        stage = _STAGES.get(err.step, "unknown")
        hint = f" ({err.hint})" if err.hint else ""
        if err.kind == "refused":
            raise WikiRefused(
                None,
                f"{err.step}: {err.message}{hint}",
                wiki_code=err.wiki_code,
                wiki_message=err.message + hint,
                stage=stage,
            ) from err
        raise _FAILURES[err.kind](
            None, f"{err.step}: {err.message}{hint}", reason=f"{err.step}_{err.kind}", stage=stage
        ) from err
