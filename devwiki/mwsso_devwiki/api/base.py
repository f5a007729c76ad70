"""Shared pieces of the Action API: the caller's session, errors, tokens, output."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..state import catalog

if TYPE_CHECKING:
    from ..state.models import User
    from ..state.store import Store

API_TYPE = "application/json; charset=utf-8"
ANON_TOKEN = "+\\"
ANNOUNCE = (
    "Subscribe to the mediawiki-api-announce mailing list at &lt;https://lists.wikimedia"
    ".org/postorius/lists/mediawiki-api-announce.lists.wikimedia.org/&gt; for notice of "
    "API deprecations and breaking changes."
)


class ApiError(Exception):
    """An API error: code, info, extra fields for the error object and extra headers."""

    def __init__(self, code: str, info: str, headers: list[tuple[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.info = info
        self.headers = headers or []
        self.extra = extra


@dataclass
class Session:
    """Who is calling: a user through an OAuth access token (``grants`` limit the rights), a user signed in
    with a session cookie (``grants`` None: all the user's rights), or anonymous."""

    user: User | None
    grants: list[str] | None = None
    set_cookies: list[str] = field(default_factory=list)  # Set-Cookie values the answer must carry

    @property
    def anon(self) -> bool:
        return self.user is None

    def rights(self, store: Store) -> list[str]:
        if self.user is None:
            return list(catalog.group_rights("*", store.traits))
        rights = self.user.rights(store.now(), store.traits)
        if self.grants is None:
            return rights
        allowed = catalog.grant_rights(self.grants)
        return [r for r in rights if r in allowed]


def csrf_token(store: Store, session: Session) -> str:
    """Per-user token (stable across renames, since it hangs on the central id)."""
    if session.user is None:
        return ANON_TOKEN
    mac = hmac.new(store.secret.encode(), f"csrf|{session.user.sub}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32] + ANON_TOKEN


def flag(value: bool, fv2: bool) -> Any:
    """A boolean as the API prints it: formatversion=2 true/false, else "" when true."""
    return value if fv2 else ""


def encode(value: Any, fv2: bool, utf8: bool) -> str:
    """ApiFormatJson: formatversion=2 (or utf8=1) keeps non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=not (fv2 or utf8))


def error_object(store: Store, err: ApiError, fv2: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"code": err.code, "info": err.info, **err.extra}
    docs = f"See {store.urls.api} for API usage. {ANNOUNCE}"
    body["docref" if fv2 else "*"] = docs
    return {"error": body}
