"""The ``mediawiki`` (OAuth 1.0a) and ``mediawiki-oauth2`` (OAuth 2.0) social-core backends.

A drop-in replacement for ``social_core.backends.mediawiki.MediaWiki``: same
name, same uid (the wiki's central user id), same ``SOCIAL_AUTH_MEDIAWIKI_*``
settings. Protocol work lives in ``mwsso.oauth1`` and ``mwsso.identity``; this
class wires it into social-core and turns failures into ``mwsso.exceptions``.
The access token never enters ``response``, ``extra_data`` or the pipeline's
keyword arguments (social-core may serialise those): steps read it from
``backend.access_credentials``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from asgiref.sync import sync_to_async
from social_core.backends.oauth import BaseOAuth1, BaseOAuth2PKCE
from social_core.exceptions import AuthException

from mwsso import callbacks, client_secret, http, loginstate, logintx, oauth1, oauth2
from mwsso.app_settings import app_settings
from mwsso.configured import (  # re-exported: sites and older code import them from here
    DEFAULT_WIKI_URL,
    configured_oauth2_client,
    identify_issuer,
    oauth1_wiki_url,
    oauth2_wiki_url,
)
from mwsso.exceptions import (
    CallbackRejected,
    IdentityRejected,
    LoginError,
    WikiBadResponse,
    WikiRefused,
    WikiUnavailable,
)
from mwsso.identity import Identity, InvalidIdentity, identity_from_profile, verify_identify_jwt
from mwsso.tokens.storing import oauth2_token_fields
from mwsso.wikiurls import InvalidWikiURL, WikiURLs, wiki_urls

# Enough for a few tabs started in parallel; bounded so a session cannot grow without end.
MAX_PENDING_LOGINS = 5

__all__ = [
    "DEFAULT_WIKI_URL",
    "MAX_PENDING_LOGINS",
    "MediaWikiOAuth",
    "MediaWikiOAuth2",
    "configured_oauth2_client",
    "identify_issuer",
    "oauth1_wiki_url",
    "oauth2_wiki_url",
    "run_signin",
]

_PROTOCOL_ERRORS: dict[str, type[LoginError]] = {
    "unavailable": WikiUnavailable,
    "bad_response": WikiBadResponse,
}


def run_signin(backend: Any, identity: Identity, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Run the pipeline; all local writes of a login (user, association, identity, token) land together or not at all.

    The transaction begins at the first write (``mwsso.logintx``): a returning sign-in that changes
    nothing costs no BEGIN/COMMIT. The association lookup loads the stored identity and token
    (``mwsso.loginstate``) so the steps can tell that nothing changed without another query.
    """
    writes = logintx.DeferredAtomic()
    backend.login_transaction = writes
    try:
        with writes, loginstate.login_state(backend.strategy, identity.wiki, writes) as loaded:
            if not loaded:
                writes.begin()  # a site's own storage: its lookups and writes are not ours to see
            return backend.strategy.authenticate(*args, **kwargs)
    finally:
        backend.login_transaction = None


class _SignIn:
    """What both backends do once the wiki has given a token: who it is (``user_data``), then the pipeline."""

    login_transaction: logintx.DeferredAtomic | None = None

    def do_auth(self, access_token: Any, *args: Any, **kwargs: Any) -> Any:
        identity = self.user_data(access_token)  # type: ignore[attr-defined]
        self.access_credentials = access_token
        self.identity = identity
        kwargs.update({"response": identity.as_json(), "identity": identity, "backend": self})
        return run_signin(self, identity, args, kwargs)

    def run_pipeline(self, pipeline: list[str], pipeline_index: int = 0, *args: Any, **kwargs: Any) -> Any:
        return logintx.run_pipeline(self, pipeline, pipeline_index, args, kwargs)

    async def aget_user(self, user_id: Any) -> Any:
        # request.auser() in an async view asks the session's backend; social-core's have only get_user.
        return await sync_to_async(self.get_user)(user_id)  # type: ignore[attr-defined]


class MediaWikiOAuth(_SignIn, BaseOAuth1):
    """Sign in with a MediaWiki account (Extension:OAuth, OAuth 1.0a)."""

    name = "mediawiki"
    title = "Wikipedia"
    # social-core's stock MediaWiki backend's key: associations it created are found as they are.
    ID_KEY = "userID"
    EXTRA_DATA: list = []

    access_credentials: oauth1.TokenPair | None = None
    # Read by the error view (policy.end_refused_session) to know who a refusal was about.
    identity: Identity | None = None

    # -- settings -------------------------------------------------------
    def index_url(self) -> str:
        """The wiki's index.php URL (``SOCIAL_AUTH_MEDIAWIKI_URL``, any spelling ``mwsso.wikiurls`` reads)."""
        return self.wiki_urls().index

    def wiki_urls(self) -> WikiURLs:
        configured = str(self.setting("URL") or DEFAULT_WIKI_URL)
        try:
            return wiki_urls(configured)
        except InvalidWikiURL:
            # Check mwsso.E003 says so at start-up; here the handshake fails as "unreachable".
            return WikiURLs(server=configured, script_path="")

    def consumer(self) -> oauth1.Consumer:
        key, secret = self.get_key_and_secret()
        return oauth1.Consumer(str(key or ""), str(secret or ""))

    def callback(self) -> str:
        """``oob`` (the registered callback), an absolute URL, or a path made absolute with this request's host."""
        value = str(self.setting("CALLBACK") or "oob")
        return self.strategy.build_absolute_uri(value) if value.startswith("/") else value

    # -- step 1: initiate and send the browser to the wiki ----------------
    def unauthorized_token(self) -> str:
        request_token = self._call(
            oauth1.initiate, http.get_session(), self.index_url(), self.consumer(), self.callback(), **http.request_options()
        )
        return urlencode({"oauth_token": request_token.key, "oauth_token_secret": request_token.secret})

    def set_unauthorized_token(self) -> str:
        token = self.unauthorized_token()
        pending = self._pending_tokens()[-(MAX_PENDING_LOGINS - 1) :]
        self.strategy.session_set(self.name + self.UNATHORIZED_TOKEN_SUFIX, [*pending, token])
        return token

    def oauth_authorization_request(self, token: str) -> str:
        request_key = parse_qs(token)["oauth_token"][0]
        return oauth1.authorize_url(self.index_url(), self.consumer().key, request_key, app_settings.AUTHORIZE_PAGE)

    # -- step 2: the callback -------------------------------------------
    def auth_complete(self, *args: Any, **kwargs: Any) -> Any:
        request_token = self.get_unauthorized_token()
        verifier = self.data.get("oauth_verifier")
        if not isinstance(verifier, str) or not verifier:
            raise CallbackRejected(self, "the callback has no oauth_verifier", reason="missing_verifier", stage="callback")
        access = self._call(
            oauth1.exchange,
            http.get_session(),
            self.index_url(),
            self.consumer(),
            request_token,
            verifier,
            **http.request_options(),
        )
        return self.do_auth(access, *args, **kwargs)

    def get_unauthorized_token(self) -> oauth1.TokenPair:
        """The request token this browser started with, used up (``mwsso.callbacks``)."""
        return callbacks.take_request_token(self)

    def _pending_tokens(self) -> list[str]:
        return callbacks.pending_request_tokens(self)

    # -- step 3: identify, then the pipeline (do_auth: _SignIn) -----------
    def user_data(self, access_token: oauth1.TokenPair, *args: Any, **kwargs: Any) -> Identity:
        consumer = self.consumer()
        token, nonce = self._call(
            oauth1.identify, http.get_session(), self.index_url(), consumer, access_token, **http.request_options()
        )
        try:
            return verify_identify_jwt(
                token,
                consumer_key=consumer.key,
                consumer_secret=consumer.secret,
                issuer=app_settings.IDENTIFY_ISSUER or self.wiki_urls().server,
                nonce=nonce,
                leeway=app_settings.JWT_LEEWAY,
                wiki=self.index_url(),
            )
        except InvalidIdentity as err:
            # The message quotes claims (aud, iss): a hostile wiki could put a secret there.
            detail = oauth1.redact(err.message, (consumer.secret, access_token.key, access_token.secret))
            raise IdentityRejected(self, detail, reason=err.reason, stage="user_info") from err

    def _call(self, step: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return step(*args, **kwargs)
        except oauth1.ProtocolError as err:
            stage = {"initiate": "begin", "token": "token_exchange"}.get(err.step, "user_info")
            detail = f"{err.step}: {err.message}"
            if err.kind == "refused":
                raise WikiRefused(
                    self, detail, wiki_code=err.wiki_code, wiki_message=err.message, stage=stage
                ) from err
            raise _PROTOCOL_ERRORS[err.kind](self, detail, reason=f"{err.step}_{err.kind}", stage=stage) from err

    # -- what social-core's pipeline sees --------------------------------
    def get_user_id(self, details: dict[str, Any], response: dict[str, Any]) -> str:
        return str(response["sub"])

    def get_user_details(self, response: dict[str, Any]) -> dict[str, Any]:
        return {
            "username": response["username"],
            "email": response.get("email") or "",
            "fullname": response.get("realname") or "",
            "first_name": "",
            "last_name": "",
        }

    def extra_data(self, user: Any, uid: str, response: dict[str, Any], details: dict[str, Any], pipeline_kwargs: dict[str, Any]) -> dict[str, Any]:
        # Never the access token: it lives encrypted in mwsso.models.AccessToken.
        return {"wiki": response.get("wiki"), "username": response.get("username"), self.ID_KEY: uid}


# -- OAuth 2.0 -----------------------------------------------------------------------------
_OAUTH2_STAGES = {"token": "token_exchange", "refresh": "token_exchange", "profile": "user_info", "callback": "callback"}


class MediaWikiOAuth2(_SignIn, BaseOAuth2PKCE):
    """Sign in with a MediaWiki account over OAuth 2.0 (rest.php/oauth2/*), PKCE S256 always.

    State and the PKCE verifier live in social-core's standard per-state session entry
    (``<name>_oauth2_state_<state>``) and are used once. The uid is the profile's ``sub``
    (the central user id), the same uid the OAuth 1.0a backend gives the same person, and
    ``mwsso.pipeline.create_or_update_user`` finds an account made by either protocol.
    """

    name = "mediawiki-oauth2"
    title = "Wikipedia"
    ID_KEY = MediaWikiOAuth.ID_KEY
    EXTRA_DATA: list = []
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
        return self._call(
            oauth2.authorize_url,
            self.index_url(),
            self.client().client_id,
            state,
            oauth2.challenge_for(verifier),
            redirect_uri=self.configured_redirect_uri(),
            scope=self.configured_scope(),
        )

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

    # -- step 3: the profile, then the pipeline (do_auth: _SignIn) --------
    def user_data(self, access_token: Any, *args: Any, **kwargs: Any) -> Identity:
        profile = self._call(
            oauth2.fetch_profile, http.get_session(), self.index_url(), access_token.access_token, **http.request_options()
        )
        try:
            # MWSSO_IDENTIFY_ISSUER is the identify JWT's iss (OAuth 1.0a): the profile names no issuer.
            return identity_from_profile(profile, self.index_url())
        except InvalidIdentity as err:
            detail = oauth1.redact(err.message, (self.client().secret, access_token.access_token, access_token.refresh_token))
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
        except oauth2.ProtocolError as err:
            stage = _OAUTH2_STAGES.get(err.step, "unknown")
            detail = f"{err.step}: {err.message}" + (f" ({err.hint})" if err.hint else "")
            if err.kind == "refused":
                message = err.message + (f" ({err.hint})" if err.hint else "")
                raise WikiRefused(self, detail, wiki_code=err.wiki_code, wiki_message=message, stage=stage) from err
            raise _PROTOCOL_ERRORS[err.kind](self, detail, reason=f"{err.step}_{err.kind}", stage=stage) from err
