"""mwsso's exceptions, one tree: ``except MwssoError`` catches everything mwsso raises.

    MwssoError
    ├── ProtocolError            a wiki protocol step failed (mwsso.protocol: OAuth1Error, OAuth2Error)
    ├── InvalidIdentity          the identify JWT or its claims cannot be trusted (mwsso.protocol.claims)
    ├── ConfigurationError       the site's settings are wrong (InvalidWikiURL, InvalidRate, ImportNotConfigured…)
    ├── LoginError               a sign-in failed; also social-core's ``AuthException``
    ├── APIError                 an API call as a user failed (mwsso.api re-exports the whole family)
    └── TokenError               a stored token cannot be used (TokenUnreadable)

Sign-in failures subclass social-core's ``AuthException`` as well, so that anything that already
handles social-auth errors (its middleware, a site's own handler) handles ours. Each has a fixed,
user-safe message; details for the log are in ``detail`` (``info`` for API errors). No exception
ever carries a token, a token secret or the consumer secret. docs/api.md lists each public class and
what a caller should do about it; tests/test_exceptions.py keeps the tree single and the names unique.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from social_core.exceptions import AuthException, ErrorStage

from mwsso.protocol.claims import InvalidIdentity
from mwsso.protocol.errors import ConfigurationError, MwssoError, ProtocolError

__all__ = [
    "APIError",
    "AccountNotLinked",
    "BadResponse",
    "CallbackRejected",
    "ConfigurationError",
    "IdentityRejected",
    "InvalidIdentity",
    "LoginError",
    "LoginRefused",
    "LoginWikiUnavailable",
    "MwssoError",
    "ProtocolError",
    "SignInExpired",
    "SignInRequired",
    "SiteBusy",
    "TokenError",
    "TokenInvalid",
    "TokenUnreadable",
    "TokenUnusable",
    "WikiBadResponse",
    "WikiRefused",
    "WikiUnavailable",
]


class TokenError(MwssoError):
    """A stored access token cannot be used as it is (it cannot be read, or is not the kind asked for)."""


class LoginError(AuthException, MwssoError):
    """Base of every way a sign-in can fail; ``user_message`` is safe to show."""

    # Texts for the page, lazy or plain (a subclass may have no hint: "").
    user_message: str | Promise = _("The sign-in could not be completed.")
    http_status = 400
    # What the person can do about it, shown on the error page.
    retry_hint: str | Promise = _("Please try again.")

    def __init__(
        self, backend: Any = None, detail: str = "", *, reason: str = "", stage: ErrorStage = "unknown"
    ) -> None:
        super().__init__(backend, detail, code=self.code_name, stage=stage)
        self.reason = reason or self.code_name
        self.detail = detail

    code_name = "login_failed"

    def __str__(self) -> str:
        return f"{self.user_message} [{self.reason}] {self.detail}".strip()


class LoginWikiUnavailable(LoginError):
    """The wiki did not answer in time, dropped the connection, or answered with an HTTP error."""

    code_name = "wiki_unavailable"
    user_message = _("The wiki did not answer. It may be down or overloaded.")
    retry_hint = _("Please try again in a minute.")
    http_status = 502


class WikiRefused(LoginError):
    """The wiki answered with one of its own OAuth errors (``Error: …`` or ``{"error": …}``)."""

    code_name = "wiki_refused"
    user_message = _("The wiki refused the sign-in request.")
    http_status = 502

    def __init__(
        self,
        backend: Any = None,
        detail: str = "",
        *,
        wiki_code: str = "",
        wiki_message: str = "",
        stage: ErrorStage = "unknown",
    ) -> None:
        super().__init__(backend, detail, reason=wiki_code or "wiki_error", stage=stage)
        self.wiki_code = wiki_code
        # The wiki's own words (plain text): shown to the person, since they often say what to fix.
        self.wiki_message = wiki_message


class WikiBadResponse(LoginError):
    """The wiki answered, but not with what the protocol says it sends."""

    code_name = "wiki_bad_response"
    user_message = _("The wiki sent an answer we could not understand.")
    http_status = 502


class IdentityRejected(LoginError):
    """The identify JWT failed a check (signature, audience, issuer, time, nonce, claims)."""

    code_name = "identity_rejected"
    user_message = _("The wiki's confirmation of who you are could not be verified.")


class CallbackRejected(LoginError):
    """The callback is forged, replayed, incomplete, or from another browser session."""

    code_name = "callback_rejected"
    user_message = _(
        "This sign-in link is not valid any more (it was used already, expired, or came from another browser)."
    )
    retry_hint = _("Please start the sign-in again.")


class LoginRefused(LoginError):
    """A local access policy refused this wiki user; ``reason`` says which rule, in plain words."""

    code_name = "login_refused"
    user_message = _("You cannot sign in to this site with this wiki account.")
    retry_hint = ""
    http_status = 403

    def __str__(self) -> str:
        return f"{self.user_message} {self.reason}"


class AccountNotLinked(LoginError):
    """The pipeline was handed a Django user that is not the one linked to this wiki account.

    mwsso's own callback never hands one (it signs in as the wiki account's own
    user); a site's view or pipeline that does is refused rather than attaching
    the wiki account to someone else's user.
    """

    code_name = "account_not_linked"
    user_message = _("This wiki account is not linked to the account you are signed in with.")
    retry_hint = _("Please sign out, then sign in with the wiki account.")
    http_status = 409


class SiteBusy(LoginError):
    """The database stayed locked by other sign-ins for longer than its timeout (SQLite)."""

    code_name = "site_busy"
    user_message = _("This site is busy right now, so the sign-in could not be saved.")
    retry_hint = _("Please try again in a moment.")
    http_status = 503


class TokenUnreadable(TokenError):
    """A stored access token cannot be decrypted with any configured key."""


# -- Calling the wiki's API as a user (mwsso.api; the token store raises these too) -----------------
class APIError(MwssoError):
    """The wiki (or the way to it) refused an API call; ``code`` and ``info`` say why."""

    #: What a person can be told; the wiki's own ``info`` is in ``info``.
    user_message = _("The wiki refused the request.")

    def __init__(self, code: str, info: str = "", *, http_status: int | None = None) -> None:
        super().__init__(code, info)
        self.code = code
        self.info = info
        self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.code}: {self.info}" if self.info else self.code

    # Written by hand: an exception is not a dataclass (its args, pickling and traceback machinery). Not a
    # secret-hiding repr: code and info hold no secret (info is scrubbed before it gets here).
    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, info={self.info!r})"


class SignInRequired(APIError):
    """The user has no usable token for this wiki: only signing in again (a new token) helps."""

    user_message = _("Please sign in again with your wiki account.")


class TokenUnusable(SignInRequired):
    """The stored token cannot be used here: unreadable with the configured keys, or issued to another consumer."""


class TokenInvalid(SignInRequired):
    """The wiki no longer accepts the token (revoked, or invalid); mwsso has marked it so."""

    user_message = _("The wiki no longer accepts this site's access to your account. Please sign in again.")

    def __init__(self, code: str, info: str = "", *, status: str = "invalid", http_status: int | None = None) -> None:
        super().__init__(code, info, http_status=http_status)
        #: The ``AccessToken.Status`` the token now has (``revoked`` or ``invalid``).
        self.status = status

    def __str__(self) -> str:
        return f"{super().__str__()} (the user must sign in again)"


class SignInExpired(TokenInvalid):
    """An OAuth 2.0 sign-in ran out: the refresh token expired, or a public client may not refresh at all."""

    user_message = _("Your sign-in with the wiki has expired. Please sign in again.")


class WikiUnavailable(APIError):
    """The wiki did not answer, timed out, or answered with an HTTP error (after the allowed retries)."""

    user_message = _("The wiki did not answer. It may be down or overloaded; please try again in a minute.")


class BadResponse(APIError):
    """The wiki answered, but not with the Action API's JSON (a proxy error page, a redirect, garbage)."""

    user_message = _("The wiki sent an answer that could not be understood.")


class SignatureRejected(APIError):
    """The wiki refused the request's signature for a reason that is not the token's fault (clock skew, nonce reuse).

    The token is left as it is: a server with a wrong clock must not invalidate every user's token.
    """

    user_message = _("The request to the wiki could not be authenticated; please try again.")


class SiteMisconfigured(SignatureRejected):
    """The wiki refuses this site's own consumer-signed request too: the site's set-up is wrong, not a token.

    ``cause`` is ``signature`` (consumer secret, or a wiki URL that is not the wiki's ``$wgServer`` host or
    script path), ``clock``, ``consumer`` (unknown or unapproved consumer), ``url`` or ``refused``; ``info``
    names what to check and never holds a secret. Every stored token is left as it is.
    """

    user_message = _("The site cannot reach the wiki as configured right now. Please try again later.")

    def __init__(self, code: str, info: str = "", *, cause: str = "", http_status: int | None = None) -> None:
        super().__init__(code, info, http_status=http_status)
        self.cause = cause
