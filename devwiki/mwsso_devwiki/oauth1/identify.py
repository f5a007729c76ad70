"""Special:OAuth/identify's JWT (src/UserStatementProvider.php), plus switchable faults.

The JWT is encoded here rather than with PyJWT so the header is byte-for-byte
the extension's (``{"typ":"JWT","alg":"HS256"}``) and so broken variants
(alg none, wrong key, ...) can be produced on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

from ..faults.answers import GARBAGE_BODY
from ..state import catalog

if TYPE_CHECKING:
    from ..state.models import AccessToken, Consumer, User
    from ..state.store import Store

EXP_SECONDS = 100


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_jwt(claims: dict[str, Any], key: str, alg: str = "HS256") -> str:
    """firebase/php-jwt's JWT::encode: compact JSON, unescaped slashes, ASCII-escaped unicode."""
    header = _b64(json.dumps({"typ": "JWT", "alg": alg}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    if alg == "none":
        return f"{header}.{payload}."
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    return f"{header}.{payload}.{_b64(hmac.new(key.encode(), signing_input, digest).digest())}"


def grants_claim(grants: list[tuple[int, str]], fmt: str) -> list[str] | dict[str, str]:
    """How json_encode prints the stored grants: a list only if the keys are 0..n-1."""
    if fmt == "list" or [i for i, _ in grants] == list(range(len(grants))):
        return [g for _, g in grants]
    return {str(i): g for i, g in grants}


def _profile(store: Store, user: User, access: AccessToken, hidden: bool) -> dict[str, Any]:
    sub: int | str = user.sub if store.variant["sub_type"] == "int" else str(user.sub)
    if hidden:
        return {"sub": sub, "blocked": True}
    now = store.now()
    grant_names = [g for _, g in access.grants]
    profile: dict[str, Any] = {
        "sub": sub,
        "username": user.name,
        "editcount": user.editcount,
    }
    if store.variant["email_verified"]:  # before confirmed_email, as every version that sends it does
        profile["email_verified"] = user.email_confirmed
    profile.update(
        {
            "confirmed_email": user.email_confirmed,
            "blocked": user.blocked,
            "registered": user.registered,
            "groups": user.effective_groups(now),
            "rights": user.rights(now, store.traits),
            "grants": grants_claim(access.grants, store.variant["grants_format"]),
        }
    )
    if any(g in catalog.PRIVATE_INFO_GRANTS for g in grant_names):
        profile["realname"] = user.realname
        shown = user.email_confirmed or store.variant["email"] == "always"
        profile["email"] = user.email if shown else ""
    return profile


def identify_body(store: Store, consumer: Consumer, user: User, access: AccessToken, nonce: str) -> str:
    """The response body of a successful identify, with the current JWT fault applied."""
    fault = store.faults.take_jwt()
    if fault == "garbage":
        return GARBAGE_BODY
    now = int(store.now())
    if fault == "expired":
        now -= 3600
    elif fault == "future_iat":
        now += 3600
    claims: dict[str, Any] = {
        "iss": "https://wrong-wiki.example.org" if fault == "wrong_iss" else store.server,
        "aud": consumer.key[::-1] if fault == "wrong_aud" else consumer.key,
        "exp": now + EXP_SECONDS,
        "iat": now,
    }
    claims.update(_profile(store, user, access, user.hidden or fault == "hidden_user"))
    claims["nonce"] = secrets.token_hex(8) if fault == "wrong_nonce" else nonce
    if fault == "missing_nonce":
        del claims["nonce"]
    if fault == "missing_sub":
        del claims["sub"]
    key = consumer.secret + "-not-the-secret" if fault == "bad_signature" else consumer.secret
    alg = {"alg_none": "none", "alg_hs512": "HS512"}.get(fault or "", "HS256")
    return encode_jwt(claims, key, alg)
