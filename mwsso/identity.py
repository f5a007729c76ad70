"""Verify the JWT that Special:OAuth/identify returns and turn it into an ``Identity``.

Pure Python (no Django): every check takes its inputs as arguments, including
the clock, so each can be tested alone. Each failed check raises
``InvalidIdentity`` with its own ``reason`` code, so a log line tells exactly
which check failed. Messages carry claim values, never the token or a secret.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.api_jws import PyJWS

ALGORITHM = "HS256"

# Claims the extension has sent on every version we support; a JWT without one
# of them is not from a MediaWiki we can trust to have vouched for the user.
REQUIRED_CLAIMS = (
    "iss",
    "aud",
    "exp",
    "iat",
    "nonce",
    "sub",
    "editcount",
    "confirmed_email",
    "blocked",
    "registered",
    "groups",
    "rights",
)
# What the database columns hold: a signed claim beyond them is as bad as a malformed one.
MAX_INT = 2**63 - 1
MAX_USERNAME = 255  # MediaWiki's $wgMaxNameChars
MAX_EMAIL = 254  # Django's EmailField
# Control characters are in no MediaWiki name, PostgreSQL cannot store NUL, and a lone
# surrogate (valid as a JSON escape) cannot be encoded for any database or page.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class InvalidIdentity(Exception):
    """The identify response cannot be trusted; ``reason`` names the failed check."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


@dataclass(frozen=True)
class Identity:
    """What the wiki vouches for about the user, with normalised types."""

    sub: str
    username: str
    issuer: str
    editcount: int
    confirmed_email: bool
    blocked: bool
    registered: datetime | None
    groups: tuple[str, ...] = ()
    rights: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    email: str | None = None
    realname: str | None = None
    email_verified: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what is stored and what signals carry)."""
        data = asdict(self)
        data["registered"] = self.registered.isoformat() if self.registered else None
        for name in ("groups", "rights", "grants"):
            data[name] = list(data[name])
        return data


def issuer_of(url: str) -> str:
    """The ``iss`` a wiki at ``url`` signs with: scheme and host (and a non-default port)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port
    except ValueError as err:
        raise ValueError(f"bad port in URL: {url!r}") from err
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


def verify_identify_jwt(
    token: str | bytes,
    *,
    consumer_key: str,
    consumer_secret: str,
    issuer: str,
    nonce: str,
    now: float | None = None,
    leeway: float = 10,
) -> Identity:
    """Check every part of an identify JWT and return the identity it carries.

    ``issuer`` is the configured wiki's URL (any URL of it; only scheme, host and
    port count, and the scheme only off the default ports). ``nonce`` is the
    ``oauth_nonce`` of the identify request.
    """
    claims = _verified_claims(token, consumer_secret)
    _check_claims_present(claims)
    _check_audience(claims["aud"], consumer_key)
    server = _check_issuer(claims["iss"], issuer)
    _check_times(claims, time.time() if now is None else now, leeway)
    _check_nonce(claims["nonce"], nonce)
    return _identity_from(claims, server)


def _verified_claims(token: str | bytes, secret: str) -> dict[str, Any]:
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as err:
            raise InvalidIdentity("malformed", "the identify response is not a JWT") from err
    token = token.strip()
    if token.count(".") != 2:
        raise InvalidIdentity("malformed", "the identify response is not a JWT")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise InvalidIdentity("malformed", "the identify JWT header cannot be read") from err
    if header.get("alg") != ALGORITHM:
        raise InvalidIdentity(
            "algorithm_not_allowed",
            f"the identify JWT uses algorithm {header.get('alg')!r}; only {ALGORITHM} is accepted",
        )
    try:
        # Signature only: the claims are checked below, each with its own reason,
        # and without PyJWT's rule that `sub` be a string (older wikis send a number).
        decoded = PyJWS().decode_complete(token, secret, algorithms=[ALGORITHM])
    except jwt.InvalidSignatureError as err:
        raise InvalidIdentity("bad_signature", "the identify JWT signature does not match the consumer secret") from err
    except jwt.PyJWTError as err:
        raise InvalidIdentity("malformed", "the identify JWT cannot be decoded") from err
    try:
        claims = json.loads(decoded["payload"])
    except (ValueError, RecursionError) as err:
        raise InvalidIdentity("malformed", "the identify JWT payload is not JSON") from err
    if not isinstance(claims, dict):
        raise InvalidIdentity("malformed", "the identify JWT payload is not an object")
    return claims


def _check_claims_present(claims: dict[str, Any]) -> None:
    if "username" not in claims and "sub" in claims:
        # What a suppressed ("hidden") user's identify looks like.
        raise InvalidIdentity("hidden_user", "the wiki returned no username (the account is hidden)")
    for name in (*REQUIRED_CLAIMS, "username"):
        if name not in claims:
            raise InvalidIdentity("missing_claim", f"the identify JWT has no {name!r} claim")


def _check_audience(aud: Any, consumer_key: str) -> None:
    audiences = aud if isinstance(aud, list) else [aud]
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a mismatch).
    if not any(isinstance(a, str) and hmac.compare_digest(a.encode(), consumer_key.encode()) for a in audiences):
        raise InvalidIdentity("wrong_audience", f"the identify JWT is for audience {aud!r}, not this consumer")


def _check_issuer(iss: Any, expected_url: str) -> str:
    """The issuing server as a URL, if it is the configured wiki's; else ``InvalidIdentity``."""
    expected = issuer_of(expected_url)
    actual = server = None
    if isinstance(iss, str):
        # A protocol-relative $wgCanonicalServer (//wiki.example.org) gets the configured protocol.
        server = f"{urlsplit(expected).scheme}:{iss}" if iss.startswith("//") else iss
        parts = urlsplit(server)
        # The claim is the bare server ($wgCanonicalServer): anything after the host is not our wiki.
        if parts.path in ("", "/") and not parts.query and not parts.fragment and not parts.username:
            try:
                actual = issuer_of(server)
            except ValueError:
                actual = None
    if actual is None or server is None or not _same_server(actual, expected):
        raise InvalidIdentity("wrong_issuer", f"the identify JWT was issued by {iss!r}, expected {expected!r}")
    return server.rstrip("/")


def _same_server(actual: str, expected: str) -> bool:
    if actual == expected:
        return True
    # Only the protocol differs, both on their default ports: $wgCanonicalServer defaults to
    # http:// when $wgServer is protocol-relative, even on a wiki reached over https.
    host, expected_host = actual.partition("://")[2], expected.partition("://")[2]
    return host == expected_host and ":" not in host.rpartition("]")[2]


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an int no float can hold
        number = math.nan
    # Python's json reads NaN and Infinity; an exp of Infinity would never expire.
    if not math.isfinite(number):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a number")
    return number


def _check_times(claims: dict[str, Any], now: float, leeway: float) -> None:
    exp = _number(claims, "exp")
    iat = _number(claims, "iat")
    if now > exp + leeway:
        raise InvalidIdentity("expired", f"the identify JWT expired {now - exp:.0f} s ago")
    if iat > now + leeway:
        raise InvalidIdentity("issued_in_future", f"the identify JWT was issued {iat - now:.0f} s in the future")


def _check_nonce(actual: Any, expected: str) -> None:
    if not isinstance(actual, str) or not hmac.compare_digest(actual.encode(), expected.encode()):
        raise InvalidIdentity("nonce_mismatch", "the identify JWT's nonce is not the one we sent (a replayed response?)")


def _identity_from(claims: dict[str, Any], issuer: str) -> Identity:
    confirmed_email = _flag(claims, "confirmed_email")
    email = _optional_text(claims, "email", MAX_EMAIL)
    return Identity(
        sub=_sub(claims["sub"]),
        username=_text(claims, "username"),
        issuer=issuer,
        editcount=_count(claims, "editcount"),
        confirmed_email=confirmed_email,
        blocked=_flag(claims, "blocked"),
        registered=_registered(claims["registered"]),
        groups=_strings(claims, "groups"),
        rights=_strings(claims, "rights"),
        grants=_strings(claims, "grants") if "grants" in claims else (),
        # Wikis before the email_verified change (REL1_39 too) send the address even unconfirmed.
        email=email if confirmed_email else None,
        realname=_optional_text(claims, "realname"),
        email_verified=_flag(claims, "email_verified") if "email_verified" in claims else None,
    )


def _sub(value: Any) -> str:
    # A number before December 2024, a string since: stored as a string either way.
    if value is False or value == "":
        # The local account is not attached to a central one: false on older wikis, "" since (string) cast.
        raise InvalidIdentity("no_central_account", "the wiki account has no central user id")
    if isinstance(value, bool):
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'sub' is not a user id")
    text = value.strip() if isinstance(value, str) else ""
    if isinstance(value, int):
        number = value
    elif text.isascii() and text.isdigit() and len(text) <= len(str(MAX_INT)):
        # ASCII only: "²" is a digit to isdigit() but not to int(), and "١٢" must not become user 12.
        number = int(text)
    else:
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'sub' is not a user id")
    if number == 0:
        # 0 means "no central account": every such user would share one uid.
        raise InvalidIdentity("no_central_account", "the wiki account has no central user id (sub is 0)")
    if not 0 < number <= MAX_INT:
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'sub' is not a user id")
    return str(number)


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_USERNAME or _CONTROL.search(value):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a user name")
    return value


def _optional_text(claims: dict[str, Any], name: str, max_length: int | None = None) -> str | None:
    value = claims.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or _CONTROL.search(value) or (max_length is not None and len(value) > max_length):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a plain string (or too long)")
    return value


def _count(claims: dict[str, Any], name: str) -> int:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a count")
    return value


def _flag(claims: dict[str, Any], name: str) -> bool:
    value = claims[name]
    if not isinstance(value, bool):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not true or false")
    return value


def _strings(claims: dict[str, Any], name: str) -> tuple[str, ...]:
    value = claims[name]
    if isinstance(value, dict):
        # MediaWiki 1.39 serialises a PHP array with gaps as an object with numeric keys.
        try:
            value = [value[key] for key in sorted(value, key=int)]
        except (TypeError, ValueError) as err:
            raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} has non-numeric keys") from err
    if not isinstance(value, list) or not all(isinstance(item, str) and not _CONTROL.search(item) for item in value):
        raise InvalidIdentity("invalid_claim", f"the identify JWT's {name!r} is not a list of names")
    return tuple(value)


def _registered(value: Any) -> datetime | None:
    # Accounts created before 2005 have no registration date.
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 14 or not value.isdigit():
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'registered' is not a MediaWiki timestamp")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as err:
        raise InvalidIdentity("invalid_claim", "the identify JWT's 'registered' is not a valid date") from err


def identity_from_json(data: dict[str, Any]) -> Identity:
    """Rebuild an ``Identity`` from ``Identity.as_json()`` output."""
    values = dict(data)
    registered = values.get("registered")
    values["registered"] = datetime.fromisoformat(registered) if registered else None
    for name in ("groups", "rights", "grants"):
        values[name] = tuple(values.get(name) or ())
    values.pop("extra", None)
    return Identity(**values)
