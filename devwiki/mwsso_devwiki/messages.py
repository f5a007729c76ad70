"""Extension:OAuth's messages (i18n/en.json as of REL1_39), MediaWiki's ways to print them, and its error.

Special:OAuth answers errors in three formats: ``raw`` (text/plain ``Error: <escaped>``),
``json`` (``{"error": key, "message": text}``) and ``html`` (an error page). The
recorded responses show that raw escapes the message but not its help link, which
is a raw parameter; ``Message`` reproduces that.
"""

from __future__ import annotations

import json
import re
from typing import Any

_HELP = "https://www.mediawiki.org/wiki/Help:OAuth/Errors#"
_DETAILS = '\n\n<span class="plainlinks mw-mwoautherror-details">{label}, $L</span>'
_SORRY = "Sorry, something went wrong connecting this application."
_GO_BACK = "Go back and try to connect your account again, or contact the application author."

# key -> (template, help code or None). $1.. are parameters, $L the help link.
MESSAGES: dict[str, tuple[str, str | None]] = {
    "mwoauth-oauth-exception": ("An error occurred in the OAuth protocol: $1", None),
    "mwoauth-callback-not-oob": ('oauth_callback must be set, and must be set to "oob" (case-sensitive)', None),
    "mwoauth-callback-not-oob-or-prefix": (
        'oauth_callback must be set, and must be set to "oob" (case-sensitive), or the '
        "configured callback must be a prefix of the supplied callback.",
        None,
    ),
    "mwoauthdatastore-request-token-not-found": (
        f"{_SORRY}\n{_GO_BACK}" + _DETAILS.format(label="OAuth token not found"),
        "E004",
    ),
    "mwoauthdatastore-request-token-already-used": (
        "This request has already been completed and cannot be resubmitted.\nGo back to the "
        "application and try to connect your account again, or contact the application author."
        + _DETAILS.format(label="OAuth token already used"),
        "E009",
    ),
    "mwoauthdatastore-bad-token": ("No token was found matching your request.", None),
    "mwoauthdatastore-bad-verifier": ("The verification code provided was not valid.", None),
    "mwoauthdatastore-access-token-not-found": ("No approved grant was found for that authorization token.", None),
    "mwoauthdatastore-callback-not-found": (
        "OAuth callback URL not found in cache. This is probably an error in how the "
        "application makes requests to the server.",
        None,
    ),
    "mwoauthserver-bad-consumer": (
        '"$1" is not approved as a Connected App. Contact the application author ($2) for help.'
        + _DETAILS.format(label="Connected OAuth app not approved"),
        "E005",
    ),
    "mwoauthserver-bad-consumer-key": (_SORRY + _DETAILS.format(label="Unknown OAuth key"), "E006"),
    "mwoauthserver-consumer-owner-only": (
        '"$1" is an owner-only Connected App. To fetch the access token, see '
        "Special:OAuthConsumerRegistration/update/$2." + _DETAILS.format(label="Consumer is owner-only"),
        "E010",
    ),
    "mwoauth-invalid-authorization": ("The authorization headers in your request are not valid: $1", None),
    "mwoauth-invalid-authorization-not-approved": (
        'The app that you are trying to connect seems to be set up incorrectly. Contact the author of "$1" for help.',
        None,
    ),
    "mwoauth-invalid-authorization-invalid-user": (
        "The authorization headers in your request are for a user that does not exist here",
        None,
    ),
    "mwoauth-invalid-authorization-blocked-user": (
        "The authorization headers in your request are for a user who is blocked",
        None,
    ),
    "mwoauth-invalid-consumer-key": ("No consumer exists with the given key.", None),
    "mwoauth-db-readonly": ("The OAuth database is temporarily locked. Please try again in a few minutes.", None),
    "mwoauth-oauth-unsupported-version": ("The OAuth version $1 is not supported.", None),
    "mwoauth-bad-request-invalid-action": (
        "Sorry, something went wrong, you'll need to contact the application author for help "
        "with this." + _DETAILS.format(label="Unknown URL"),
        "E002",
    ),
    "mwoauth-acceptance-cancelled": (
        'You have chosen not to allow "$1" to access your account. "$1" will not work unless '
        'you allow it access. You can go back to "$1" or manage your connected apps.',
        None,
    ),
    "mwoauth-verified": (
        "The application is now allowed to access MediaWiki on your behalf.\n\nTo complete the "
        "process, provide this verification value to the application: $1",
        None,
    ),
    "mwoauth-bad-request-missing-params": (
        "Sorry, something went wrong configuring this connected application. Contact support "
        "to get help fixing it." + _DETAILS.format(label="OAuth missing parameters"),
        "E001",
    ),
    "sessionfailure": (
        "Sorry! We could not process your edit due to a loss of session data.\n\nYou might have "
        "been logged out. Please verify that you're still logged in and try again.",
        None,
    ),
    "devwiki-choose-user": ("Choose the account you want to log in with.", None),
}

_PLACEHOLDER = re.compile(r"\$(\d+|L)")


def html_escape(text: str) -> str:
    """PHP htmlspecialchars(ENT_QUOTES), which Message::escaped() uses."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
    )


def help_link(code: str) -> str:
    return f'<a class="external" href="{_HELP}{code}">{code}</a>'


class Message:
    """One message with its parameters, printable as MediaWiki prints it."""

    def __init__(self, key: str, *params: str) -> None:
        self.key = key
        self.params = [str(p) for p in params]
        # an unknown key prints as ⧼key⧽, as MediaWiki does for a missing message
        self.template, code = MESSAGES.get(key, (f"\u29fc{key}\u29fd", None))
        self.link = help_link(code) if code else ""

    def _render(self, escape_template: bool, escape_params: bool) -> str:
        parts = []
        pos = 0
        for match in _PLACEHOLDER.finditer(self.template):
            chunk = self.template[pos : match.start()]
            parts.append(html_escape(chunk) if escape_template else chunk)
            name = match.group(1)
            if name == "L":
                parts.append(self.link)
            else:
                value = self.params[int(name) - 1] if int(name) <= len(self.params) else ""
                parts.append(html_escape(value) if escape_params else value)
            pos = match.end()
        tail = self.template[pos:]
        parts.append(html_escape(tail) if escape_template else tail)
        return "".join(parts)

    def text(self) -> str:
        """Message::text(): the source with parameters substituted, nothing escaped."""
        return self._render(escape_template=False, escape_params=False)

    def escaped(self) -> str:
        """Message::escaped(): everything escaped except raw parameters (the help link)."""
        return self._render(escape_template=True, escape_params=True)

    def html(self) -> str:
        """Parsed HTML for a page: the message's own markup kept, parameters escaped."""
        body = self._render(escape_template=False, escape_params=True)
        return "".join(f"<p>{para.replace(chr(10), '<br>')}</p>" for para in body.split("\n\n"))


def php_json(value: Any) -> str:
    """FormatJson::encode() as Special:OAuth uses it: compact, ASCII, <>& hex-escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


class MWOAuthError(Exception):
    """The extension's exception (MWOAuthException), carrying a message key and its parameters."""

    def __init__(self, key: str, *params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self) -> Message:
        return Message(self.key, *self.params)

    def reason(self) -> str:
        return self.message().text()
