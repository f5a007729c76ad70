"""RS256 access tokens: the devwiki's RSA key, encoding, and checking like league/oauth2-server.

Encoded by hand (not PyJWT) so the header is the extension's byte for byte
(``{"typ":"JWT","alg":"RS256"}``) and so the parse errors carry lcobucci/jwt's
messages, which MediaWiki passes on as the ``hint``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HEADER = {"typ": "JWT", "alg": "RS256"}
TWO_DOTS = "The JWT string must have two dots"
BAD_BASE64 = "Error while decoding from Base64Url, invalid base64 characters detected"
BAD_JSON = "Error while decoding from JSON"
NOT_VERIFIED = "Access token could not be verified"
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class TokenRejected(ValueError):
    """The bearer token is unusable; ``str(err)`` is the hint the wiki would give."""


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64URL.match(text):
        raise TokenRejected(BAD_BASE64)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as err:
        raise TokenRejected(BAD_BASE64) from err


def encode(claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    header = _b64(json.dumps(HEADER, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def decode(token: str, key: rsa.RSAPrivateKey, now: float) -> dict[str, Any]:
    """The claims of a token this wiki signed and that is valid at ``now``; else TokenRejected."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected(TWO_DOTS)
    raw_header, raw_claims, raw_signature = (_unb64(p) for p in parts)
    try:
        header, claims = json.loads(raw_header), json.loads(raw_claims)
    except (ValueError, UnicodeDecodeError) as err:
        raise TokenRejected(BAD_JSON) from err
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected(BAD_JSON)
    if header.get("alg") != "RS256":
        raise TokenRejected(NOT_VERIFIED)
    try:
        key.public_key().verify(
            raw_signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as err:
        raise TokenRejected(NOT_VERIFIED) from err
    try:
        valid = float(claims["nbf"]) <= now + 1 and float(claims["iat"]) <= now + 1 and now < float(claims["exp"])
    except (KeyError, TypeError, ValueError) as err:
        raise TokenRejected(NOT_VERIFIED) from err
    if not valid:
        raise TokenRejected(NOT_VERIFIED)
    return claims
