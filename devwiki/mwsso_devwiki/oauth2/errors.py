"""league/oauth2-server's errors as MediaWiki's OAuth 2.0 endpoints send them.

The body is ``error``, ``error_description``, ``hint`` (only when there is one)
and ``message`` (MediaWiki's copy of the description), in that order.
"""

from __future__ import annotations

from typing import Any

MALFORMED = (
    "The request is missing a required parameter, includes an invalid parameter value, includes a "
    "parameter more than once, or is otherwise malformed."
)
CLIENT_FAILED = "Client authentication failed"
# what the HTML error page on the wiki says for invalid_client (an i18n message, longer than the JSON)
CLIENT_FAILED_PAGE = (
    "Client authentication failed (e.g., unknown client, no client authentication included, or "
    "unsupported authentication method)"
)
DENIED = "The resource owner or authorization server denied the request."
INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh "
    "token is invalid, expired, revoked, does not match the redirection URI used in the authorization "
    "request, or was issued to another client."
)


class OAuth2Error(Exception):
    """An OAuthServerException: HTTP status, error code, description and optional hint."""

    def __init__(self, status: int, error: str, description: str, hint: str | None = None) -> None:
        super().__init__(f"{error}: {hint or description}")
        self.status = status
        self.error = error
        self.description = description
        self.hint = hint

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "error_description": self.description}
        if self.hint:
            body["hint"] = self.hint
        body["message"] = self.description
        return body

    def page_text(self) -> str:
        """The text of the "Application Connection Error" page the authorize endpoint shows."""
        if self.error == "invalid_client":
            return CLIENT_FAILED_PAGE
        if self.hint:
            return f"{self.description} Additional debug information: {self.hint}"
        return self.description


def invalid_request(parameter: str, hint: str | None = None) -> OAuth2Error:
    return OAuth2Error(400, "invalid_request", MALFORMED, hint or f"Check the `{parameter}` parameter")


def invalid_client() -> OAuth2Error:
    return OAuth2Error(401, "invalid_client", CLIENT_FAILED)


def invalid_grant(hint: str | None = None) -> OAuth2Error:
    return OAuth2Error(400, "invalid_grant", INVALID_GRANT, hint)


def invalid_refresh_token(hint: str) -> OAuth2Error:
    return OAuth2Error(401, "invalid_request", "The refresh token is invalid.", hint)


def invalid_scope(scope: str) -> OAuth2Error:
    return OAuth2Error(
        400, "invalid_scope", "The requested scope is invalid, unknown, or malformed", f"Check the `{scope}` scope"
    )


def access_denied(hint: str) -> OAuth2Error:
    return OAuth2Error(401, "access_denied", DENIED, hint)


def rest_error(status: int, key: str, text: str, reason: str) -> dict[str, Any]:
    """MediaWiki REST framework's own error body (e.g. 415 rest-unsupported-content-type)."""
    return {"errorKey": key, "messageTranslations": {"en": text}, "httpCode": status, "httpReason": reason}
