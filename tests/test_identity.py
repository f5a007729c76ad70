"""The identify JWT checks, each failing on its own, with a fake clock (no Django, no network)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import jwt
import pytest

from mwsso.protocol.identity import InvalidIdentity, issuer_of, verify_identify_jwt
from tests import recorded

KEY = "5e341c2d26271efadeac348a0f6bcebb"
SECRET = "0123456789abcdef0123456789abcdef01234567"
WIKI = "http://127.0.0.1:8080/index.php"
NOW = 1795894100.0
NONCE = "16624097696077864671795894089"
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def recorded_claims(name: str = "oauth1_identify_Alice") -> dict:
    return recorded.load("mediawiki-1.39-claims.json")[name]


def sign(claims: dict, secret: str = SECRET, algorithm: str = "HS256") -> str:
    # PyJWS, not jwt.encode: the claims are signed as given, even the malformed ones.
    return jwt.api_jws.PyJWS().encode(json.dumps(claims).encode(), secret, algorithm=algorithm)


def verify(token: str | bytes, **overrides):  # type: ignore[no-untyped-def]
    kwargs = {"consumer_key": KEY, "consumer_secret": SECRET, "issuer": WIKI, "nonce": NONCE, "now": NOW, "leeway": 10}
    kwargs.update(overrides)
    return verify_identify_jwt(token, **kwargs)


def reason_of(token: str | bytes, **overrides) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidIdentity) as caught:
        verify(token, **overrides)
    assert SECRET not in str(caught.value)
    return caught.value.reason


def test_recorded_mediawiki_139_claims_are_accepted_and_normalised():
    identity = verify(sign(recorded_claims()))
    assert identity.sub == "3"
    assert identity.username == "Alice"
    assert identity.issuer == "http://127.0.0.1:8080"
    assert identity.grants == ("basic", "editpage")  # {"0": "basic", "2": "editpage"} on the wire
    assert identity.groups == ("*", "user", "autoconfirmed")
    assert identity.confirmed_email is True and identity.blocked is False
    assert identity.registered == datetime(2026, 11, 28, 19, 24, 12, tzinfo=UTC)
    assert identity.email is None


def test_blocked_user_is_a_valid_identity_that_says_blocked():
    claims = recorded_claims("oauth1_identify_blocked_user_Mallory")
    claims["nonce"] = NONCE
    identity = verify(sign(claims))
    assert identity.blocked is True and identity.username == "Mallory"


@pytest.mark.parametrize("sub", [3, "3"])
def test_numeric_and_string_sub_give_the_same_uid(sub):
    claims = recorded_claims() | {"sub": sub}
    assert verify(sign(claims)).sub == "3"


def test_grants_as_a_list_are_accepted():
    claims = recorded_claims() | {"grants": ["basic", "editpage"]}
    assert verify(sign(claims)).grants == ("basic", "editpage")


def test_grants_object_is_ordered_by_numeric_key():
    claims = recorded_claims() | {"grants": {"10": "c", "2": "b", "0": "a"}}
    assert verify(sign(claims)).grants == ("a", "b", "c")


def test_email_and_realname_are_kept_when_given():
    claims = recorded_claims() | {"email": "alice@example.org", "realname": "Alice A."}
    identity = verify(sign(claims))
    assert (identity.email, identity.realname) == ("alice@example.org", "Alice A.")


def test_wrong_signature():
    assert reason_of(sign(recorded_claims(), secret="another-secret-another-secret-another-se")) == "bad_signature"


def test_alg_none_is_refused():
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(recorded_claims()).encode()).rstrip(b"=").decode()
    assert reason_of(f"{header}.{body}.") == "algorithm_not_allowed"


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_are_refused(algorithm):
    assert reason_of(sign(recorded_claims(), algorithm=algorithm)) == "algorithm_not_allowed"


def test_header_claiming_hs256_over_another_algorithm_fails_the_signature():
    token = sign(recorded_claims(), algorithm="HS512")
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
    assert reason_of(header + token[token.index(".") :]) == "bad_signature"


def test_wrong_audience():
    assert reason_of(sign(recorded_claims() | {"aud": "someone-else"})) == "wrong_audience"


@pytest.mark.parametrize(
    "iss",
    [
        "https://127.0.0.1:8080",  # scheme differs
        "http://127.0.0.1:8081",  # port differs
        "http://evil.example",
        "http://127.0.0.1:8080.evil.example",
        "http://127.0.0.1:8080/other-wiki",
        "http://user@127.0.0.1:8080",
        42,
        "",
    ],
)
def test_wrong_issuer(iss):
    assert reason_of(sign(recorded_claims() | {"iss": iss})) == "wrong_issuer"


def test_issuer_with_default_port_and_case_matches():
    claims = recorded_claims() | {"iss": "https://Meta.Wikimedia.org"}
    identity = verify(sign(claims), issuer="https://meta.wikimedia.org:443/w/index.php")
    assert identity.issuer == "https://Meta.Wikimedia.org"


def test_expired():
    claims = recorded_claims() | {"iat": NOW - 200, "exp": NOW - 100}
    assert reason_of(sign(claims)) == "expired"


def test_expiry_within_leeway_is_accepted():
    claims = recorded_claims() | {"iat": NOW - 105, "exp": NOW - 5}
    assert verify(sign(claims)).username == "Alice"


def test_issued_in_the_future():
    claims = recorded_claims() | {"iat": NOW + 60, "exp": NOW + 160}
    assert reason_of(sign(claims)) == "issued_in_future"


def test_wrong_nonce():
    assert reason_of(sign(recorded_claims() | {"nonce": "0000"})) == "nonce_mismatch"


def test_non_string_nonce():
    assert reason_of(sign(recorded_claims() | {"nonce": 16624097696077864671795894089})) == "nonce_mismatch"


@pytest.mark.parametrize(
    "claim", ["nonce", "sub", "aud", "iss", "exp", "iat", "editcount", "blocked", "groups", "rights", "registered"]
)
def test_missing_required_claim(claim):
    claims = recorded_claims()
    del claims[claim]
    assert reason_of(sign(claims)) == "missing_claim"


def test_hidden_user_without_username_is_refused_cleanly():
    claims = {k: v for k, v in recorded_claims().items() if k in ("iss", "aud", "exp", "iat", "nonce", "sub")}
    claims["blocked"] = True
    assert reason_of(sign(claims)) == "hidden_user"


@pytest.mark.parametrize(
    "claim, value",
    [
        ("sub", True),
        ("sub", "abc"),
        ("sub", 3.5),
        ("sub", None),
        ("username", ""),
        ("username", 7),
        ("editcount", "12"),
        ("editcount", -1),
        ("editcount", True),
        ("blocked", "false"),
        ("confirmed_email", 1),
        ("groups", "sysop"),
        ("groups", [1, 2]),
        ("grants", {"a": "basic"}),
        ("rights", None),
        ("registered", "2026-11-28"),
        ("registered", "20261399000000"),
        ("exp", "soon"),
        ("iat", True),
        ("email", 5),
    ],
)
def test_claims_with_wrong_types_are_refused(claim, value):
    assert reason_of(sign(recorded_claims() | {claim: value})) == "invalid_claim"


def test_sub_zero_means_no_central_account_and_is_refused():
    assert reason_of(sign(recorded_claims() | {"sub": 0})) == "no_central_account"


def test_registered_null_is_an_old_account():
    assert verify(sign(recorded_claims() | {"registered": None})).registered is None


@pytest.mark.parametrize("body", [b"", b"not a jwt", b"a.b.c", b"\xff\xfe.x.y", b'{"error":"x"}', "é.é.é"])
def test_garbage_is_malformed(body):
    assert reason_of(body) == "malformed"


def test_payload_that_is_not_an_object_is_malformed():
    assert reason_of(jwt.api_jws.PyJWS().encode(b"[1,2]", SECRET, algorithm="HS256")) == "malformed"


def test_issuer_of_normalises_scheme_host_and_default_port():
    assert issuer_of("https://meta.wikimedia.org/w/index.php") == "https://meta.wikimedia.org"
    assert issuer_of("http://127.0.0.1:8001/w/index.php") == "http://127.0.0.1:8001"
    assert issuer_of("HTTP://LOCALHOST:80/") == "http://localhost"
    with pytest.raises(ValueError):
        issuer_of("ftp://example.org")


# -- what real wikis of other versions and configurations send -------------------------------------


def test_unconfirmed_email_is_dropped():
    # Extension:OAuth before the email_verified change (REL1_39 included) sends the address even
    # when the user never confirmed it (UserStatementProvider: $user->getEmail()).
    claims = recorded_claims() | {"confirmed_email": False, "email": "victim@example.org", "realname": "M."}
    identity = verify(sign(claims))
    assert identity.email is None and identity.confirmed_email is False
    assert identity.realname == "M."


@pytest.mark.parametrize(
    "iss, wiki",
    [
        ("http://wiki.example.org", "https://wiki.example.org/w/index.php"),
        ("https://wiki.example.org", "http://wiki.example.org/w/index.php"),
        ("//wiki.example.org", "https://wiki.example.org/w/index.php"),
        ("https://wiki.example.org:8443", "http://wiki.example.org:8443/w/index.php"),
        ("http://wiki.example.org:8080", "https://wiki.example.org/w/index.php"),
        ("//wiki.example.org.evil", "https://wiki.example.org/w/index.php"),
        ("ftp://wiki.example.org", "https://wiki.example.org/w/index.php"),
    ],
)
def test_issuer_scheme_must_match_exactly(iss, wiki):
    assert reason_of(sign(recorded_claims() | {"iss": iss}), issuer=wiki) == "wrong_issuer"


def test_a_wiki_whose_canonical_server_is_http_is_accepted_when_named():
    # $wgCanonicalServer defaults to http:// when $wgServer is protocol-relative, even over https:
    # the site names that issuer (MWSSO_IDENTIFY_ISSUER) instead of loosening the check.
    claims = recorded_claims() | {"iss": "http://wiki.example.org"}
    assert verify(sign(claims), issuer="http://wiki.example.org").issuer == "http://wiki.example.org"


@pytest.mark.parametrize("sub", ["", False])
def test_local_user_without_a_central_id_is_named_as_such(sub):
    # Utils::getCentralIdFromLocalUser returns false for a local account not attached to the
    # central one: older wikis send it as false, current ones cast it to "".
    assert reason_of(sign(recorded_claims() | {"sub": sub})) == "no_central_account"
