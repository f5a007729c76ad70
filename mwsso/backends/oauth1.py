"""The ``mediawiki`` backend: sign in over OAuth 1.0a (Special:OAuth), social-core's ``MediaWiki`` drop-in."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from django.http import HttpResponse
from social_core.backends.oauth import BaseOAuth1
from social_core.exceptions import ErrorStage

from mwsso import http
from mwsso.app_settings import app_settings, backend_setting
from mwsso.backends.base import LOGIN_ERRORS, MAX_PENDING_LOGINS, SignIn
from mwsso.exceptions import (
    CallbackRejected,
    IdentityRejected,
    WikiRefused,
)
from mwsso.protocol import oauth1
from mwsso.protocol.identity import Identity, InvalidIdentity, verify_identify_jwt
from mwsso.protocol.wikiurls import InvalidWikiURL, WikiURLs, wiki_urls
from mwsso.socialauth import callbacks

# A protocol step as social-core's stage of the sign-in (any other step is the identify call).
_OAUTH1_STAGES: dict[str, ErrorStage] = {"initiate": "begin", "token": "token_exchange"}


class MediaWikiOAuth(SignIn, BaseOAuth1[HttpResponse]):
    """Sign in with a MediaWiki account (Extension:OAuth, OAuth 1.0a)."""

    # The path sites name in AUTHENTICATION_BACKENDS and Django keeps in every signed-in session
    # (BACKEND_SESSION_KEY, from the class's module): it stays ``mwsso.backends.<class>``.
    __module__ = "mwsso.backends"

    name = "mediawiki"
    title = "Wikipedia"
    # social-core's stock MediaWiki backend's key: associations it created are found as they are.
    ID_KEY = "userID"
    EXTRA_DATA = []

    access_credentials: oauth1.TokenPair | None = None
    # Read by the error view (policy.end_refused_session) to know who a refusal was about.
    identity: Identity | None = None

    # -- settings -------------------------------------------------------
    def index_url(self) -> str:
        """The wiki's index.php URL (``SOCIAL_AUTH_MEDIAWIKI_URL``, any spelling ``mwsso.protocol.wikiurls`` reads)."""
        return self.wiki_urls().index

    def wiki_urls(self) -> WikiURLs:
        configured = backend_setting(self, "URL")
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
        value = backend_setting(self, "CALLBACK")
        return self.strategy.build_absolute_uri(value) if value.startswith("/") else value

    # -- step 1: initiate and send the browser to the wiki ----------------
    def unauthorized_token(self) -> str:
        request_token = self._call(
            oauth1.initiate,
            http.get_session(),
            self.index_url(),
            self.consumer(),
            self.callback(),
            **http.request_options(),
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
            raise CallbackRejected(
                self, "the callback has no oauth_verifier", reason="missing_verifier", stage="callback"
            )
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
        """The request token this browser started with, used up (``mwsso.socialauth.callbacks``)."""
        return callbacks.take_request_token(self)

    def _pending_tokens(self) -> list[str]:
        return callbacks.pending_request_tokens(self)

    # -- step 3: identify, then the pipeline (do_auth: SignIn) -----------
    def user_data(self, access_token: oauth1.TokenPair, *args: Any, **kwargs: Any) -> Identity:  # type: ignore[override]  # an Identity, not social-core's dict: only SignIn.do_auth (which replaces social-core's) reads it
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
        except oauth1.OAuth1Error as err:
            stage = _OAUTH1_STAGES.get(err.step, "user_info")
            detail = f"{err.step}: {err.message}"
            if err.kind == "refused":
                raise WikiRefused(self, detail, wiki_code=err.wiki_code, wiki_message=err.message, stage=stage) from err
            raise LOGIN_ERRORS[err.kind](self, detail, reason=f"{err.step}_{err.kind}", stage=stage) from err

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

    def extra_data(
        self, user: Any, uid: str, response: dict[str, Any], details: dict[str, Any], pipeline_kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        # Never the access token: it lives encrypted in mwsso.models.AccessToken.
        return {"wiki": response.get("wiki"), "username": response.get("username"), self.ID_KEY: uid}
