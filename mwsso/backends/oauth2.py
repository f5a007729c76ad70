"""The ``mediawiki-oauth2`` backend: sign in over OAuth 2.0 with PKCE (rest.php/oauth2)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from social_core.backends.oauth import BaseOAuth2PKCE
from social_core.exceptions import AuthException, ErrorStage

from mwsso import http
from mwsso.backends import client_secret
from mwsso.backends.base import LOGIN_ERRORS, SignIn
from mwsso.backends.oauth1 import MediaWikiOAuth
from mwsso.configured import (
    oauth2_wiki_url,
)
from mwsso.exceptions import (
    CallbackRejected,
    IdentityRejected,
    LoginError,
    WikiRefused,
)
from mwsso.protocol import oauth1, oauth2
from mwsso.protocol.identity import Identity, InvalidIdentity, identity_from_profile
from mwsso.protocol.wikiurls import InvalidWikiURL
from mwsso.socialauth import callbacks
from mwsso.tokens.storing import oauth2_token_fields

_OAUTH2_STAGES: dict[str, ErrorStage] = {
    "token": "token_exchange",
    "refresh": "token_exchange",
    "profile": "user_info",
    "callback": "callback",
}


class MediaWikiOAuth2(SignIn, BaseOAuth2PKCE[HttpResponse]):
    """Sign in with a MediaWiki account over OAuth 2.0 (rest.php/oauth2/*), PKCE S256 always.

    State and the PKCE verifier live in social-core's standard per-state session entry
    (``<name>_oauth2_state_<state>``) and are used once. The uid is the profile's ``sub``
    (the central user id), the same uid the OAuth 1.0a backend gives the same person, and
    ``mwsso.pipeline.create_or_update_user`` finds an account made by either protocol.
    """

    # The path sites name in AUTHENTICATION_BACKENDS and Django keeps in every signed-in session
    # (BACKEND_SESSION_KEY, from the class's module): it stays ``mwsso.backends.<class>``.
    __module__ = "mwsso.backends"

    name = "mediawiki-oauth2"
    title = "Wikipedia"
    ID_KEY = MediaWikiOAuth.ID_KEY
    EXTRA_DATA = []
    # The wiki matches redirect_uri exactly: no redirect_state may be appended to it.
    REDIRECT_STATE = False
    STATE_PARAMETER = True
    PKCE_DEFAULT_CODE_VERIFIER_LENGTH = 64

    access_credentials: oauth2.TokenSet | None = None
    identity: Identity | None = None

    get_user_id = MediaWikiOAuth.get_user_id
    get_user_details = MediaWikiOAuth.get_user_details
    extra_data = MediaWikiOAuth.extra_data

    # -- settings -------------------------------------------------------
    def index_url(self) -> str:
        # Read as given: social-core's setting() would resolve a *_URL value as a URL pattern name.
        return oauth2_wiki_url()

    def client(self) -> oauth2.Client:
        client_id, secret = self.get_key_and_secret()
        return oauth2.Client(str(client_id or ""), str(secret or ""))

    def configured_redirect_uri(self) -> str | None:
        """``SOCIAL_AUTH_MEDIAWIKI_OAUTH2_REDIRECT_URI`` (a path is made absolute), or None: the registered one."""
        value = self.setting("REDIRECT_URI")
        if not value:
            return None
        value = str(value)
        return self.strategy.build_absolute_uri(value) if value.startswith("/") else value

    def configured_scope(self) -> str | None:
        value = self.setting("SCOPE")
        if not value:
            return None
        return value if isinstance(value, str) else " ".join(str(grant) for grant in value)

    # -- step 1: send the browser to the wiki ------------------------------
    def auth_url(self) -> str:
        # Before anything is sent to the wiki: a secret that cannot work would fail only after the consent page.
        client_secret.refuse_unusable_secret(self)
        state = self.get_or_create_state()
        if state is None:  # pragma: no cover - STATE_PARAMETER is always on
            raise CallbackRejected(self, "no state", reason="no_state", stage="begin")
        verifier = self.create_code_verifier(state)
        url: str = self._call(
            oauth2.authorize_url,
            self.index_url(),
            self.client().client_id,
            state,
            oauth2.challenge_for(verifier),
            redirect_uri=self.configured_redirect_uri(),
            scope=self.configured_scope(),
        )
        return url

    # -- step 2: the callback -------------------------------------------
    def auth_complete(self, *args: Any, **kwargs: Any) -> Any:
        # This browser's pending sign-in before anything else the callback says: it is used up here,
        # and a callback without one is refused as such.
        state = callbacks.use_up_oauth2_sign_in(self)
        error = oauth2.callback_error(dict(self.data.items()))
        if error is not None:
            raise callbacks.failure_for(self, error)
        try:
            verifier = self.get_code_verifier(state)
        except AuthException as err:
            raise CallbackRejected(
                self, "no PKCE verifier for the callback's state", reason="state_mismatch", stage="callback"
            ) from err
        code = self.data.get("code")
        if not isinstance(code, str) or not code or len(code) > 4096:
            raise CallbackRejected(self, "the callback has no code", reason="missing_code", stage="callback")
        tokens = self._call(
            oauth2.exchange_code,
            http.get_session(),
            self.index_url(),
            self.client(),
            code,
            verifier,
            redirect_uri=self.configured_redirect_uri(),
            **http.request_options(),
        )
        return self.do_auth(tokens, *args, **kwargs)

    # -- step 3: the profile, then the pipeline (do_auth: SignIn) --------
    def user_data(self, access_token: Any, *args: Any, **kwargs: Any) -> Identity:  # type: ignore[override]  # an Identity, not social-core's dict: only SignIn.do_auth (which replaces social-core's) reads it
        profile = self._call(
            oauth2.fetch_profile,
            http.get_session(),
            self.index_url(),
            access_token.access_token,
            **http.request_options(),
        )
        try:
            # MWSSO_IDENTIFY_ISSUER is the identify JWT's iss (OAuth 1.0a): the profile names no issuer.
            return identity_from_profile(profile, self.index_url())
        except InvalidIdentity as err:
            detail = oauth1.redact(
                err.message, (self.client().secret, access_token.access_token, access_token.refresh_token)
            )
            raise IdentityRejected(self, f"profile: {detail}", reason=err.reason, stage="user_info") from err

    def stored_token_fields(self) -> dict[str, Any]:
        """What ``mwsso.pipeline.store_access_token`` saves for this sign-in (encrypted pair, lifetime)."""
        tokens = self.access_credentials
        assert tokens is not None
        return oauth2_token_fields(tokens, wiki_url=self.index_url(), client_id=self.client().client_id)

    def _call(self, step: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return step(*args, **kwargs)
        except InvalidWikiURL as err:
            raise LoginError(
                self, f"SOCIAL_AUTH_MEDIAWIKI_OAUTH2_URL is not usable: {err}", reason="bad_wiki_url", stage="begin"
            ) from err
        except oauth2.OAuth2Error as err:
            stage = _OAUTH2_STAGES.get(err.step, "unknown")
            detail = f"{err.step}: {err.message}" + (f" ({err.hint})" if err.hint else "")
            if err.kind == "refused":
                message = err.message + (f" ({err.hint})" if err.hint else "")
                raise WikiRefused(self, detail, wiki_code=err.wiki_code, wiki_message=message, stage=stage) from err
            raise LOGIN_ERRORS[err.kind](self, detail, reason=f"{err.step}_{err.kind}", stage=stage) from err
