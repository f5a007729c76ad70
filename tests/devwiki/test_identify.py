"""Special:OAuth/identify: the JWT's claims, types, variants and switchable faults, checked with PyJWT."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests import recorded as recorded_data

from .conftest import PRIVATE, TEST, handshake, identify

NONCE = "16624097696077864671795894089"


def decode(wiki, body: str, consumer=TEST, **options) -> dict:
    return jwt.decode(
        body, consumer[1], algorithms=["HS256"], audience=consumer[0], issuer=wiki.server_url, options=options
    )


def claims_for(wiki, user: str, consumer=TEST, **kw) -> tuple[dict, str]:
    access = handshake(wiki, user, consumer)
    answer = identify(wiki, consumer, access, nonce=NONCE, **kw)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "application/json")
    return decode(wiki, answer.text, consumer), answer.text


def test_claims_have_the_recorded_names_order_and_types(wiki, recorded_claims):
    claims, body = claims_for(wiki, "Alice")
    real = recorded_claims["oauth1_identify_Alice"]
    header = json.loads(base64.urlsafe_b64decode(body.split(".")[0] + "=="))
    assert header == recorded_claims["oauth1_identify_Alice_header"]
    assert list(header) == ["typ", "alg"]
    ours = [k for k in claims if k != "email_verified"]  # email_verified is newer than 1.39
    assert ours == list(real)
    for name, value in real.items():
        assert type(claims[name]) is type(value), name
    assert claims["nonce"] == NONCE
    assert claims["exp"] == claims["iat"] + 100
    assert abs(claims["iat"] - time.time()) < 5
    assert claims["iss"] == wiki.server_url and claims["aud"] == TEST[0]
    assert claims["email_verified"] is True
    assert "email" not in claims and "realname" not in claims


RECORDED_RIGHTS = {
    # An ordinary autoconfirmed user's rights in identify, as each version lists them: 1.43 dropped writeapi and
    # purge and moved the watchlist rights to named users; 1.45 took editcontentmodel from plain users.
    "1.39": recorded_data.load("mediawiki-1.39-claims.json")["oauth1_identify_Alice"]["rights"],
    "1.43": recorded_data.load("mediawiki-1.43-flows.json")["oauth1_alice"]["claims"]["rights"],
    "1.45": recorded_data.load("mediawiki-1.45-flows.json")["oauth1_alice"]["claims"]["rights"],
}


@pytest.mark.parametrize("version", sorted(RECORDED_RIGHTS))
def test_alice_values(wiki, version):
    wiki.control("set_mw_version", version=version)
    claims, _ = claims_for(wiki, "Alice")
    assert (claims["sub"], claims["username"], claims["editcount"]) == ("3", "Alice", 1234)
    assert (claims["confirmed_email"], claims["blocked"], claims["registered"]) == (True, False, "20150301120000")
    assert claims["groups"] == ["*", "user", "autoconfirmed"]
    assert claims["rights"] == RECORDED_RIGHTS[version]
    assert claims["grants"] == {"0": "basic", "2": "editpage", "3": "createeditmovepage"}
    assert ("email_verified" in claims) is (version != "1.39")  # identify gained it after REL1_39


@pytest.mark.parametrize(
    ("user", "checks"),
    [
        ("Mallory", {"sub": "5", "blocked": True, "editcount": 12, "confirmed_email": False}),
        ("Newbie", {"sub": "7", "editcount": 0, "groups": ["*", "user"], "confirmed_email": False}),
        ("Zoë Ünïcode-Test", {"sub": "11", "username": "Zoë Ünïcode-Test", "editcount": 42}),
        ("Bob", {"sub": "4", "username": "Bob"}),
    ],
)
def test_built_in_users(wiki, user, checks):
    claims, _ = claims_for(wiki, user)
    assert {k: claims[k] for k in checks} == checks


def test_newbie_registered_today(wiki):
    claims, _ = claims_for(wiki, "Newbie")
    assert claims["registered"][:8] == time.strftime("%Y%m%d", time.gmtime())


def test_sysop_has_more_groups_and_rights(wiki):
    admin, _ = claims_for(wiki, "Admin Sysop")
    alice, _ = claims_for(wiki, "Alice")
    assert admin["sub"] == "1" and admin["editcount"] == 50000
    assert {"sysop", "bureaucrat"} <= set(admin["groups"])
    assert set(alice["rights"]) < set(admin["rights"])
    assert {"block", "delete", "protect", "userrights"} <= set(admin["rights"])


def test_private_info_only_with_the_private_grant(wiki):
    claims, _ = claims_for(wiki, "Alice", PRIVATE)
    assert (claims["email"], claims["realname"]) == ("alice@example.org", "Alice Example")
    assert list(claims)[-3:] == ["realname", "email", "nonce"]
    # an auth-only consumer's grants have no gaps, so PHP prints them as a list
    assert claims["grants"] == ["mwoauth-authonlyprivate"]
    unconfirmed, _ = claims_for(wiki, "Newbie", PRIVATE)
    assert unconfirmed["email"] == ""


def test_sub_as_number_variant(wiki):
    wiki.control("set_variant", sub_type="int")
    access = handshake(wiki, "Alice")
    body = identify(wiki, TEST, access).text
    with pytest.raises(jwt.exceptions.InvalidSubjectError):
        decode(wiki, body)  # what broke PyJWT users on older wikis
    assert decode(wiki, body, verify_sub=False)["sub"] == 3


def test_grants_as_list_variant(wiki):
    wiki.control("set_variant", grants_format="list")
    claims, _ = claims_for(wiki, "Alice")
    assert claims["grants"] == ["basic", "editpage", "createeditmovepage"]


def test_email_verified_can_be_left_out_like_1_39(wiki):
    wiki.control("set_variant", email_verified=False)
    claims, _ = claims_for(wiki, "Alice")
    assert "email_verified" not in claims


def test_unconfirmed_email_variant_like_1_39(wiki):
    wiki.control("set_variant", email="always")
    claims, _ = claims_for(wiki, "Newbie", PRIVATE)
    assert (claims["confirmed_email"], claims["email"]) == (False, "newbie@example.org")


def test_rename_keeps_sub(wiki):
    before, _ = claims_for(wiki, "Bob")
    wiki.control("rename", sub=4, new_name="Robert")
    access = handshake(wiki, "Robert")
    after = decode(wiki, identify(wiki, TEST, access).text)
    assert (after["sub"], after["username"]) == (before["sub"], "Robert")


def test_block_switch(wiki):
    wiki.control("block", user="Alice", blocked=True)
    claims, _ = claims_for(wiki, "Alice")
    assert claims["blocked"] is True


def test_hidden_user_has_only_sub_and_blocked(wiki):
    wiki.control("add_user", sub=99, name="Suppressed", hidden=True, editcount=5)
    claims, _ = claims_for(wiki, "Suppressed")
    assert {k: v for k, v in claims.items() if k not in ("iss", "aud", "exp", "iat", "nonce")} == {
        "sub": "99",
        "blocked": True,
    }


def _payload(body: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(body.split(".")[1] + "=="))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("bad_signature", jwt.InvalidSignatureError),
        ("alg_none", jwt.InvalidAlgorithmError),
        ("alg_hs512", jwt.InvalidAlgorithmError),
        ("wrong_aud", jwt.InvalidAudienceError),
        ("wrong_iss", jwt.InvalidIssuerError),
        ("expired", jwt.ExpiredSignatureError),
        ("future_iat", jwt.ImmatureSignatureError),
        ("garbage", jwt.DecodeError),
    ],
)
def test_jwt_faults_that_pyjwt_rejects(wiki, fault, error):
    access = handshake(wiki, "Alice")
    wiki.control("set_jwt_fault", fault=fault)
    answer = identify(wiki, TEST, access)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "application/json")
    with pytest.raises(error):
        decode(wiki, answer.text)
    wiki.control("set_jwt_fault", fault=None)
    decode(wiki, identify(wiki, TEST, access).text)


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("wrong_nonce", lambda c: c["nonce"] != NONCE),
        ("missing_nonce", lambda c: "nonce" not in c),
        ("missing_sub", lambda c: "sub" not in c and c["username"] == "Alice"),
        ("hidden_user", lambda c: "username" not in c and c["blocked"] is True and c["sub"] == "3"),
    ],
)
def test_jwt_faults_a_client_must_catch_itself(wiki, fault, check):
    access = handshake(wiki, "Alice")
    wiki.control("set_jwt_fault", fault=fault, count=1)
    claims = decode(wiki, identify(wiki, TEST, access, nonce=NONCE).text)
    assert check(claims)
    assert not check(decode(wiki, identify(wiki, TEST, access, nonce=NONCE + "1").text) | {"nonce": NONCE})


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # 40-char secrets, as on the wiki
def test_alg_hs512_is_really_hs512_with_the_consumer_secret(wiki):
    access = handshake(wiki, "Alice")
    wiki.control("set_jwt_fault", fault="alg_hs512")
    body = identify(wiki, TEST, access).text
    assert jwt.decode(body, TEST[1], algorithms=["HS512"], audience=TEST[0])["username"] == "Alice"
    wiki.control("set_jwt_fault", fault="alg_none")
    assert identify(wiki, TEST, access).text.endswith(".")
