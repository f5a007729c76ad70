"""rest.php/oauth2/resource/profile and the bearer check that api.php shares."""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING, Any

from ..state import catalog
from ..web.wsgi import Request, Response
from . import errors, grants
from .jwt import TokenRejected

if TYPE_CHECKING:
    from ..state.clients import AccessTokenRecord
    from ..state.models import User
    from ..state.store import Store
    from ..versions import VersionTraits

_BEARER = re.compile(r"^\s*Bearer\s", re.IGNORECASE)
PROFILE_CACHE = [("Cache-Control", "private,must-revalidate,s-maxage=0")]


def bearer_token(header: str) -> str:
    """What BearerTokenValidator parses: the header with a leading ``Bearer `` removed."""
    return _BEARER.sub("", header, count=1).strip()


def access_token_record(store: Store, token: str) -> AccessTokenRecord | None:
    """The live access token record for a bearer token, or None (api.php's "Invalid access token")."""
    try:
        return grants.verify_access_token(store, token)
    except TokenRejected:
        return None


def profile_claims(store: Store, user: User, scopes: list[str], traits: VersionTraits) -> dict[str, Any]:
    """Resource::getProfile: identify's claims without iss/aud/exp; rights limited by the grants."""
    if user.hidden:
        return {"sub": str(user.sub), "blocked": True}
    now = store.now()
    allowed = catalog.grant_rights(scopes)
    claims: dict[str, Any] = {"sub": str(user.sub), "username": user.name, "editcount": user.editcount}
    if traits.identify_email_verified:
        claims["email_verified"] = user.email_confirmed
    claims.update(
        {
            "confirmed_email": user.email_confirmed,
            "blocked": user.blocked,
            "registered": user.registered,
            "groups": user.effective_groups(now),
            "rights": [r for r in user.rights(now, traits) if r in allowed],
            "grants": list(scopes),
        }
    )
    if any(g in catalog.PRIVATE_INFO_GRANTS for g in scopes):
        claims["realname"] = user.realname
        claims["email"] = user.email if user.email_confirmed else ""
    return claims


def _missing_header_crash(req: Request) -> Response:
    """REL1_39's Resource handler passes an empty header array to Guzzle and dies (recorded 9b)."""
    message = "Header value can not be an empty array."
    body = {
        "message": f"Error: exception of type InvalidArgumentException: {message}",
        "exception": {
            "id": secrets.token_hex(12),
            "type": "InvalidArgumentException",
            "file": "<wiki-root>/vendor/guzzlehttp/psr7/src/MessageTrait.php",
            "line": 176,
            "message": message,
            "code": 0,
            "url": req.path,
            "caught_by": "other",
            "backtrace": [
                {
                    "file": "<wiki-root>/extensions/OAuth/src/Rest/Handler/Resource.php",
                    "line": 74,
                    "function": "withHeader",
                    "class": "GuzzleHttp\\Psr7\\Request",
                    "type": "->",
                }
            ],
        },
    }
    return Response(json.dumps(body, separators=(",", ":")), status=500, content_type="application/json")


def _denied(hint: str) -> Response:
    err = errors.access_denied(hint)
    return Response(json.dumps(err.body(), separators=(",", ":")), status=401, content_type="application/json")


def _verified(store: Store, req: Request) -> AccessTokenRecord | Response:
    """ResourceServer::verify: the token's record, or the error response."""
    header = req.headers.get("authorization")
    if header is None and store.traits.profile_without_header_is_500:
        return _missing_header_crash(req)
    try:
        return grants.verify_access_token(store, bearer_token(header or ""))
    except TokenRejected as err:
        if header is not None and _BEARER.match(header + " ") and store.traits.invalid_bearer_is_403:
            return _invalid_authorization()
        return _denied(str(err))


def _invalid_authorization() -> Response:
    """1.44+: core's session provider refuses a bad bearer token before the handler runs (recorded on 1.45)."""
    text = "The authorization headers in your request are not valid: Invalid access token"
    body = errors.rest_error(403, "mwoauth-invalid-authorization", text, "Forbidden")
    return Response(json.dumps(body, separators=(",", ":")), status=403, content_type="application/json")


def handle_scopes(store: Store, req: Request) -> Response:
    """rest.php/oauth2/resource/scopes: the client's grants."""
    record = _verified(store, req)
    if isinstance(record, Response):
        return record
    client = store.oauth2.client(record.client_id)
    body = json.dumps({"scopes": client.grants if client else []}, separators=(",", ":"))
    return Response(body, content_type=store.traits.profile_content_type, headers=PROFILE_CACHE)


def handle_profile(store: Store, req: Request) -> Response:
    store.count("oauth2_profile")
    traits = store.traits
    record = _verified(store, req)
    if isinstance(record, Response):
        return record
    user = store.user(record.sub)
    if user is None:
        return _denied("The user of this access token no longer exists")  # not recorded; the devwiki's words
    body = json.dumps(profile_claims(store, user, record.scopes, traits), separators=(",", ":"))
    return Response(body, content_type=traits.profile_content_type, headers=PROFILE_CACHE)
