"""POST /_devwiki/control: every action over HTTP, as a devwiki in another process is driven."""

from __future__ import annotations

import jwt
import pytest
import requests

from .conftest import CALLBACK, TEST, api, handshake, identify, initiate, signed


def control(wiki, action: str, expect: int = 200, **params):
    answer = requests.post(wiki.control_url, json={"action": action, **params}, timeout=5)
    assert answer.status_code == expect, answer.text
    assert answer.headers["Content-Type"] == "application/json"
    return answer.json()


def test_stats_counts_round_trips_and_lists_tokens_without_secrets(wiki):
    access = handshake(wiki, "Bob")
    identify(wiki, TEST, access)
    stats = control(wiki, "stats")
    assert stats["ok"] is True
    assert {k: stats["counters"][k] for k in ("initiate", "token", "identify")} == {
        "initiate": 1,
        "token": 1,
        "identify": 1,
    }
    (token,) = stats["access_tokens"]
    assert token == {"key": access[0], "consumer_key": TEST[0], "sub": 4, "user": "Bob", "revoked": False}
    assert access[1] not in str(stats)


def test_revoke_then_api_and_identify_refuse(wiki):
    access = handshake(wiki, "Alice")
    assert control(wiki, "revoke", consumer_key=TEST[0], user=3)["revoked"] == access[0]
    assert identify(wiki, TEST, access).json()["error"] == "mwoauthdatastore-access-token-not-found"
    error = api(wiki, {"action": "query", "meta": "userinfo"}, signed(TEST, access)).json()["error"]
    assert error["code"] == "mwoauth-invalid-authorization"
    assert control(wiki, "revoke", expect=400, consumer_key=TEST[0], user="Alice")["ok"] is False


def test_rename_block_add_user_and_variants(wiki):
    assert control(wiki, "rename", sub=3, new_name="Alice B.")["old_name"] == "Alice"
    assert control(wiki, "block", user="Alice B.", blocked=True)["blocked"] is True
    added = control(wiki, "add_user", name="Carol", editcount=3, groups=["bot"])
    assert added["sub"] == 12 and "bot" in added["groups"]
    control(wiki, "set_variant", sub_type="int", grants_format="list")
    claims = jwt.decode(
        identify(wiki, TEST, handshake(wiki, "Alice B.")).text,
        TEST[1],
        algorithms=["HS256"],
        audience=TEST[0],
        options={"verify_sub": False},
    )
    assert (claims["sub"], claims["username"], claims["blocked"]) == (3, "Alice B.", True)
    assert claims["grants"] == ["basic", "editpage", "createeditmovepage"]
    assert control(wiki, "set_variant", expect=400, sub_type="float")["ok"] is False


def test_faults_jwt_and_maxlag_over_http(wiki):
    access = handshake(wiki, "Alice")
    control(wiki, "set_jwt_fault", fault="garbage", count=1)
    assert not identify(wiki, TEST, access).text.startswith("eyJ")
    control(wiki, "set_fault", step="initiate", kind="http500", count=1)
    assert initiate(wiki).status_code == 500
    control(wiki, "set_maxlag", lag=3, count=1)
    lagged = api(wiki, {"action": "query", "meta": "userinfo", "maxlag": "1"})
    assert lagged.json()["error"]["code"] == "maxlag"
    faults = control(wiki, "stats")["faults"]
    assert faults == {"steps": {}, "jwt": None, "maxlag": None}
    assert control(wiki, "set_fault", expect=400, step="nope", kind="drop")["ok"] is False
    assert control(wiki, "set_jwt_fault", expect=400, fault="sideways")["ok"] is False


def test_add_consumer_and_issue_token(wiki):
    made = control(wiki, "add_consumer", name="Bot", callback=CALLBACK, callback_is_prefix=True)
    assert len(made["key"]) == 32 and len(made["secret"]) == 40
    assert "key" in initiate(wiki, (made["key"], made["secret"]), callback=CALLBACK).json()
    issued = control(wiki, "issue_token", consumer_key=made["key"], user="Bob")
    info = api(
        wiki,
        {"action": "query", "meta": "userinfo"},
        signed((made["key"], made["secret"]), (issued["key"], issued["secret"])),
    )
    assert info.json()["query"]["userinfo"]["name"] == "Bob"


def test_reset_restores_the_configured_state(wiki):
    control(wiki, "rename", sub=4, new_name="Robert")
    handshake(wiki, "Robert")
    control(wiki, "set_fault", step="api", kind="drop")
    control(wiki, "reset")
    stats = control(wiki, "stats")
    assert stats["access_tokens"] == [] and stats["faults"]["steps"] == {}
    assert wiki.store.user(4).name == "Bob"


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json", 400), (b"[1, 2]", 400), (b'{"action": "explode"}', 400), (b'{"action": "rename", "sub": 4}', 400)],
)
def test_bad_requests(wiki, body, status):
    answer = requests.post(wiki.control_url, data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == status and answer.json()["ok"] is False


def test_get_is_refused(wiki):
    assert requests.get(wiki.control_url, timeout=5).status_code == 405
