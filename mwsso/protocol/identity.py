"""Verify the JWT that Special:OAuth/identify returns and turn it into an ``Identity``.

Pure Python (no Django): every check takes its inputs as arguments, including
the clock, so each can be tested alone. Each failed check raises
``InvalidIdentity`` with its own ``reason`` code, so a log line tells exactly
which check failed. Messages carry claim values, never the token or a secret.
"""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.api_jws import PyJWS

from mwsso.protocol import claims as read
from mwsso.protocol.claims import InvalidIdentity
from mwsso.protocol.wikiurls import wiki_urls

__all__ = [
    "ALGORITHM",
    "REQUIRED_CLAIMS",
    "REQUIRED_PROFILE_CLAIMS",
    "Identity",
    "InvalidIdentity",
    "identity_from_profile",
    "issuer_of",
    "verify_identify_jwt",
    "wiki_key",
]

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

# The OAuth 2.0 profile (rest.php/oauth2/resource/profile) carries the same user claims as identify,
# as plain JSON with no signature, iss, aud, exp or nonce: what can be checked is checked the same way.
REQUIRED_PROFILE_CLAIMS = tuple(name for name in REQUIRED_CLAIMS if name not in ("iss", "aud", "exp", "iat", "nonce"))


@dataclass(frozen=True)
class Identity:
    """What the wiki vouches for about the user, with normalised types.

    The wiki account is (``wiki``, ``sub``): ``wiki`` is the wiki's key (``wiki_key``: server and script
    path), ``issuer`` the server that vouched (the identify JWT's ``iss``; for OAuth 2.0 the wiki's server).
    """

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
    # Given by the code that checked the identity; an Identity built by hand is keyed by its issuer.
    wiki: str = ""

    def __post_init__(self) -> None:
        if not self.wiki:
            try:
                key = wiki_key(self.issuer)
            except ValueError:
                key = self.issuer
            object.__setattr__(self, "wiki", key)

    def as_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what is stored and what signals carry)."""
        data = asdict(self)
        data["registered"] = self.registered.isoformat() if self.registered else None
        for name in ("groups", "rights", "grants"):
            data[name] = list(data[name])
        return data


def wiki_key(url: str) -> str:
    """The key of the wiki at ``url``: its server and script path, e.g. ``https://meta.wikimedia.org/w``.

    A wiki account is (this key, its central user id), for both protocols and in every stored row
    (``WikiIdentity.wiki``, ``AccessToken.wiki``). Any spelling of one wiki's URL gives the same key
    (its index.php, api.php or rest.php URL, the script path with or without a slash; scheme and host
    in any case, the default port or none); two wikis of one server under different script paths
    (a path-based farm: ``https://farm.example/a/w``, ``https://farm.example/b/w``) get different keys.
    A query string is not part of it. ``ValueError`` when ``url`` is not an http(s) URL.
    """
    urls = wiki_urls(url)
    return issuer_of(urls.server) + urls.script_path


def issuer_of(url: str) -> str:
    """The ``iss`` a wiki at ``url`` signs with: scheme and host (and a non-default port), never the script path."""
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
    wiki: str | None = None,
) -> Identity:
    """Check every part of an identify JWT and return the identity it carries.

    ``issuer`` is the ``iss`` to expect: the configured wiki's URL (any URL of it; only scheme, host
    and port count, exactly), or ``MWSSO_IDENTIFY_ISSUER``. ``wiki`` is the URL the JWT was asked
    for (the wiki's index.php): its ``wiki_key`` keys the identity (default: ``issuer``'s).
    ``nonce`` is the ``oauth_nonce`` of the identify request.
    """
    claims = _verified_claims(token, consumer_secret)
    _check_claims_present(claims)
    _check_audience(claims["aud"], consumer_key)
    server = _check_issuer(claims["iss"], issuer)
    _check_times(claims, time.time() if now is None else now, leeway)
    _check_nonce(claims["nonce"], nonce)
    return _identity_from(claims, server, wiki_key(wiki or issuer))


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


def identity_from_profile(profile: Any, wiki_url: str) -> Identity:
    """The ``Identity`` in an OAuth 2.0 profile, read as strictly as identify's claims.

    ``wiki_url`` is the wiki the profile was fetched from (the profile names none): its
    ``wiki_key`` keys the identity, the same key an OAuth 1.0a sign-in on that very wiki gets,
    and its server is ``Identity.issuer``. The user is the profile's ``sub``, never the access token's.
    """
    if not isinstance(profile, dict):
        raise InvalidIdentity("malformed", "the OAuth 2.0 profile is not a JSON object")
    try:
        _check_claims_present(profile, REQUIRED_PROFILE_CLAIMS)
        return _identity_from(profile, issuer_of(wiki_url), wiki_key(wiki_url))
    except InvalidIdentity as err:
        # The same checks and reasons as identify; the log line names what was checked.
        message = err.message.replace("the identify JWT", "the OAuth 2.0 profile")
        raise InvalidIdentity(err.reason, message) from err


def _check_claims_present(claims: dict[str, Any], required: tuple[str, ...] = REQUIRED_CLAIMS) -> None:
    if "username" not in claims and "sub" in claims:
        # What a suppressed ("hidden") user's identify looks like.
        raise InvalidIdentity("hidden_user", "the wiki returned no username (the account is hidden)")
    for name in (*required, "username"):
        if name not in claims:
            raise InvalidIdentity("missing_claim", f"the identify JWT has no {name!r} claim")


def _check_audience(aud: Any, consumer_key: str) -> None:
    audiences = aud if isinstance(aud, list) else [aud]
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a mismatch).
    if not any(isinstance(a, str) and hmac.compare_digest(a.encode(), consumer_key.encode()) for a in audiences):
        raise InvalidIdentity("wrong_audience", f"the identify JWT is for audience {aud!r}, not this consumer")


def _check_issuer(iss: Any, expected_url: str) -> str:
    """The issuing server, if it is exactly the expected wiki's scheme, host and port; else ``InvalidIdentity``.

    No leniency on the scheme: a wiki whose $wgCanonicalServer differs from the URL the
    site uses (e.g. http:// on a wiki served over https) is named with MWSSO_IDENTIFY_ISSUER.
    """
    expected = issuer_of(expected_url)
    actual = None
    if isinstance(iss, str):
        parts = urlsplit(iss)
        # The claim is the bare server ($wgCanonicalServer): anything after the host is not our wiki.
        if parts.path in ("", "/") and not parts.query and not parts.fragment and not parts.username:
            try:
                actual = issuer_of(iss)
            except ValueError:
                actual = None
    # (not a str: actual stays None; said again so that the type checker knows iss is a str below)
    if actual is None or actual != expected or not isinstance(iss, str):
        raise InvalidIdentity("wrong_issuer", f"the identify JWT was issued by {iss!r}, expected {expected!r}")
    return iss.rstrip("/")


def _check_times(claims: dict[str, Any], now: float, leeway: float) -> None:
    exp = read.number(claims, "exp")
    iat = read.number(claims, "iat")
    if now > exp + leeway:
        raise InvalidIdentity("expired", f"the identify JWT expired {now - exp:.0f} s ago")
    if iat > now + leeway:
        raise InvalidIdentity("issued_in_future", f"the identify JWT was issued {iat - now:.0f} s in the future")


def _check_nonce(actual: Any, expected: str) -> None:
    if not isinstance(actual, str) or not hmac.compare_digest(actual.encode(), expected.encode()):
        raise InvalidIdentity(
            "nonce_mismatch", "the identify JWT's nonce is not the one we sent (a replayed response?)"
        )


def _identity_from(claims: dict[str, Any], issuer: str, wiki: str) -> Identity:
    confirmed_email = read.flag(claims, "confirmed_email")
    email = read.optional_text(claims, "email", read.MAX_EMAIL)
    return Identity(
        sub=read.sub(claims["sub"]),
        username=read.text(claims, "username"),
        issuer=issuer,
        editcount=read.count(claims, "editcount"),
        confirmed_email=confirmed_email,
        blocked=read.flag(claims, "blocked"),
        registered=read.registered(claims["registered"]),
        groups=read.strings(claims, "groups"),
        rights=read.strings(claims, "rights"),
        grants=read.strings(claims, "grants") if "grants" in claims else (),
        # Wikis before the email_verified change (REL1_39 too) send the address even unconfirmed.
        email=email if confirmed_email else None,
        realname=read.optional_text(claims, "realname"),
        email_verified=read.flag(claims, "email_verified") if "email_verified" in claims else None,
        wiki=wiki,
    )
