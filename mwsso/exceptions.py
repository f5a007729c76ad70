"""mwsso's exceptions: a fixed, user-safe ``message`` each, details for the log in ``detail``.

Login failures subclass social-core's ``AuthException`` so that anything that
already handles social-auth errors (its middleware, a site's own handler)
handles ours. No exception ever carries a token, a token secret or the
consumer secret.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from social_core.exceptions import AuthException


class LoginError(AuthException):
    """Base of every way a sign-in can fail; ``user_message`` is safe to show."""

    user_message = "The sign-in could not be completed."
    http_status = 400
    # What the person can do about it, shown on the error page.
    retry_hint = "Please try again."

    def __init__(self, backend: Any = None, detail: str = "", *, reason: str = "", stage: str = "unknown") -> None:
        super().__init__(backend, detail, code=self.code_name, stage=stage)  # type: ignore[arg-type]
        self.reason = reason or self.code_name
        self.detail = detail

    code_name = "login_failed"

    def __str__(self) -> str:
        return f"{self.user_message} [{self.reason}] {self.detail}".strip()


class WikiUnavailable(LoginError):
    """The wiki did not answer in time, dropped the connection, or answered with an HTTP error."""

    code_name = "wiki_unavailable"
    user_message = "The wiki did not answer. It may be down or overloaded."
    retry_hint = "Please try again in a minute."
    http_status = 502


class WikiRefused(LoginError):
    """The wiki answered with one of its own OAuth errors (``Error: …`` or ``{"error": …}``)."""

    code_name = "wiki_refused"
    user_message = "The wiki refused the sign-in request."
    http_status = 502

    def __init__(
        self, backend: Any = None, detail: str = "", *, wiki_code: str = "", wiki_message: str = "", stage: str = "unknown"
    ) -> None:
        super().__init__(backend, detail, reason=wiki_code or "wiki_error", stage=stage)
        self.wiki_code = wiki_code
        # The wiki's own words (plain text): shown to the person, since they often say what to fix.
        self.wiki_message = wiki_message


class WikiBadResponse(LoginError):
    """The wiki answered, but not with what the protocol says it sends."""

    code_name = "wiki_bad_response"
    user_message = "The wiki sent an answer we could not understand."
    http_status = 502


class IdentityRejected(LoginError):
    """The identify JWT failed a check (signature, audience, issuer, time, nonce, claims)."""

    code_name = "identity_rejected"
    user_message = "The wiki's confirmation of who you are could not be verified."


class CallbackRejected(LoginError):
    """The callback is forged, replayed, incomplete, or from another browser session."""

    code_name = "callback_rejected"
    user_message = "This sign-in link is not valid any more (it was used already, expired, or came from another browser)."
    retry_hint = "Please start the sign-in again."


class LoginRefused(LoginError):
    """A local access policy refused this wiki user; ``reason`` says which rule, in plain words."""

    code_name = "login_refused"
    user_message = "You cannot sign in to this site with this wiki account."
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


class TokenUnreadable(Exception):
    """A stored access token cannot be decrypted with any configured key."""
