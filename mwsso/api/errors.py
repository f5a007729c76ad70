"""What can go wrong when calling a wiki's Action API as a user, one class per way callers react.

Every error carries the wiki's ``code`` and ``info`` (or an ``mwsso-*`` code of
our own). Texts that came from the wiki are scrubbed of every secret the call
knew before they reach an exception, so ``str()``, ``repr()`` and log lines are
always safe to show.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# The token store raises these too, so they live below both it and the API client; re-exported here and
# in mwsso.api, where callers import them (``__all__`` says the re-export is meant).
from mwsso.exceptions import (
    APIError,
    BadResponse,
    SignatureRejected,
    SignInExpired,
    SignInRequired,
    SiteMisconfigured,
    TokenInvalid,
    TokenUnusable,
    WikiUnavailable,
)

__all__ = [
    "APIError",
    "AssertUserFailed",
    "BadResponse",
    "BadToken",
    "EditConflict",
    "MaxLagExceeded",
    "NoToken",
    "NotAllowedWiki",
    "RateLimited",
    "SignInExpired",
    "SignInRequired",
    "SignatureRejected",
    "SiteMisconfigured",
    "TokenInvalid",
    "TokenUnusable",
    "WikiUnavailable",
    "error_class",
]


class NoToken(SignInRequired):
    """The user never signed in with a wiki (or their token was deleted)."""


class NotAllowedWiki(APIError):
    """The target wiki is neither the token's own nor allowed by ``MWSSO_ALLOWED_WIKIS``."""

    user_message = _("This site may not act for you on that wiki.")


class MaxLagExceeded(APIError):
    """The wiki's replicas stayed lagged beyond ``maxlag`` through every retry."""

    user_message = _("The wiki is busy right now; please try again in a minute.")

    def __init__(self, code: str, info: str = "", *, lag: float | None = None, http_status: int | None = None) -> None:
        super().__init__(code, info, http_status=http_status)
        self.lag = lag


class RateLimited(APIError):
    """HTTP 429 through every retry, or the wiki's own ``ratelimited`` error."""

    user_message = _("Too many requests to the wiki; please wait a little.")


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
