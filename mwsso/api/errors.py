"""What can go wrong when calling a wiki's Action API as a user, one class per way callers react.

Every error carries the wiki's ``code`` and ``info`` (or an ``mwsso-*`` code of
our own). Texts that came from the wiki are scrubbed of every secret the call
knew before they reach an exception, so ``str()``, ``repr()`` and log lines are
always safe to show.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class APIError(Exception):
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, info={self.info!r})"


class SignInRequired(APIError):
    """The user has no usable token for this wiki: only signing in again (a new token) helps."""

    user_message = _("Please sign in again with your wiki account.")


class NoToken(SignInRequired):
    """The user never signed in with a wiki (or their token was deleted)."""


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


class NotAllowedWiki(APIError):
    """The target wiki is neither the token's own nor allowed by ``MWSSO_ALLOWED_WIKIS``."""

    user_message = _("This site may not act for you on that wiki.")


class WikiUnavailable(APIError):
    """The wiki did not answer, timed out, or answered with an HTTP error (after the allowed retries)."""

    user_message = _("The wiki did not answer. It may be down or overloaded; please try again in a minute.")


class BadResponse(APIError):
    """The wiki answered, but not with the Action API's JSON (a proxy error page, a redirect, garbage)."""

    user_message = _("The wiki sent an answer that could not be understood.")


class MaxLagExceeded(APIError):
    """The wiki's replicas stayed lagged beyond ``maxlag`` through every retry."""

    user_message = _("The wiki is busy right now; please try again in a minute.")

    def __init__(self, code: str, info: str = "", *, lag: float | None = None, http_status: int | None = None) -> None:
        super().__init__(code, info, http_status=http_status)
        self.lag = lag


class RateLimited(APIError):
    """HTTP 429 through every retry, or the wiki's own ``ratelimited`` error."""

    user_message = _("Too many requests to the wiki; please wait a little.")


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


class BadToken(APIError):
    """The CSRF (or other) token sent was refused, even after fetching a fresh one."""


class EditConflict(APIError):
    """Someone else edited the page since ``baserevid``/``starttimestamp``."""

    user_message = _("Someone else edited the page in the meantime.")


class AssertUserFailed(APIError):
    """The wiki would have run the request as an anonymous (IP) user; ``assert=user`` stopped it."""

    user_message = _("The wiki did not recognise you as signed in. Please sign in again.")


# The wiki's error codes that get their own class; everything else is a plain APIError.
_BY_CODE: dict[str, type[APIError]] = {
    "maxlag": MaxLagExceeded,
    "badtoken": BadToken,
    "editconflict": EditConflict,
    "ratelimited": RateLimited,
    "assertuserfailed": AssertUserFailed,
    "assertnameduserfailed": AssertUserFailed,
}


def error_class(code: str) -> type[APIError]:
    """The exception class for one of the wiki's error codes."""
    return _BY_CODE.get(code, APIError)
