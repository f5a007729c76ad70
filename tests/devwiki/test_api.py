"""/w/api.php: signed and anonymous calls, edits, continuation, maxlag and the recorded auth errors."""

from __future__ import annotations

import re
import time

import pytest
import requests

from .conftest import CALLBACK, TEST, api, handshake, signed

UIPROP = "groups|rights|editcount|blockinfo|email|registrationdate"


@pytest.fixture
def alice(wiki):
    return signed(TEST, handshake(wiki, "Alice"))


def csrf(wiki, auth) -> str:
    return api(wiki, {"action": "query", "meta": "tokens"}, auth).json()["query"]["tokens"]["csrftoken"]


def test_userinfo_formatversion_1(wiki, alice):
    answer = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": UIPROP}, alice)
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    body = answer.json()
    assert body["batchcomplete"] == ""
    info = body["query"]["userinfo"]
    assert list(info) == ["id", "name", "groups", "rights", "editcount", "registrationdate"]
    assert (info["id"], info["name"], info["editcount"]) == (3, "Alice", 1234)
    assert info["registrationdate"] == "2015-03-01T12:00:00Z"
    # the session's rights are the user's rights its grants allow
    assert "edit" in info["rights"] and "createaccount" not in info["rights"]


def test_userinfo_formatversion_2_and_utf8(wiki):
    auth = signed(TEST, handshake(wiki, "Zoë Ünïcode-Test"))
    answer = api(wiki, {"action": "query", "meta": "userinfo", "formatversion": "2"}, auth)
    assert answer.json() == {"batchcomplete": True, "query": {"userinfo": {"id": 11, "name": "Zoë Ünïcode-Test"}}}
    assert "Zoë" in answer.text
    assert "\\u00eb" in api(wiki, {"action": "query", "meta": "userinfo"}, auth).text


def test_anonymous_userinfo_and_token(wiki):
    body = api(wiki, {"action": "query", "meta": "userinfo|tokens"}).json()
    assert body["query"] == {"userinfo": {"id": 0, "name": "127.0.0.1", "anon": ""}, "tokens": {"csrftoken": "+\\"}}
    fv2 = api(wiki, {"action": "query", "meta": "userinfo", "formatversion": "2"}).json()
    assert fv2["query"]["userinfo"]["anon"] is True


def test_email_needs_the_private_info_grant(wiki, alice):
    info = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": "email"}, alice).json()
    assert "email" not in info["query"]["userinfo"]
    private = wiki.control(
        "add_consumer", name="Mail reader", grants=["basic", "privateinfo"], callback=CALLBACK, callback_is_prefix=True
    )
    pair = (private["key"], private["secret"])
    auth = signed(pair, handshake(wiki, "Alice", pair))
    info = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": "email"}, auth).json()["query"]["userinfo"]
    assert info["email"] == "alice@example.org" and info["emailauthenticated"].endswith("Z")


def test_blockinfo(wiki):
    auth = signed(TEST, handshake(wiki, "Mallory"))
    info = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": "blockinfo"}, auth).json()["query"]["userinfo"]
    assert info["blockedby"] == "Admin Sysop" and info["blockexpiry"] == "infinite"
    assert info["blockreason"] == "Vandalism"


def test_csrf_token_per_user_stable_across_rename(wiki, alice):
    token = csrf(wiki, alice)
    assert re.fullmatch(r"[0-9a-f]{32}\+\\", token)
    assert csrf(wiki, signed(TEST, handshake(wiki, "Bob"))) != token
    wiki.control("rename", sub=3, new_name="Alicia")
    assert csrf(wiki, alice) == token


def edit(wiki, auth, **params):
    return api(wiki, {"action": "edit", **params}, auth, method="POST").json()


def test_edit_existing_page_then_read_it_back(wiki, alice):
    token = csrf(wiki, alice)
    base = api(wiki, {"action": "query", "prop": "revisions", "titles": "Apple", "rvprop": "ids"}).json()
    (page,) = base["query"]["pages"].values()
    result = edit(
        wiki,
        alice,
        title="Apple",
        text="Red.",
        summary="test",
        baserevid=str(page["revisions"][0]["revid"]),
        token=token,
    )
    # "watched": a named user's edit watches the page (recorded on 1.43 and 1.45)
    keys = ["result", "pageid", "title", "contentmodel", "oldrevid", "newrevid", "newtimestamp", "watched"]
    assert list(result["edit"]) == keys
    assert result["edit"]["result"] == "Success" and result["edit"]["oldrevid"] == page["revisions"][0]["revid"]
    read = api(
        wiki,
        {
            "action": "query",
            "prop": "revisions",
            "titles": "apple",
            "rvprop": "content|user",
            "rvslots": "main",
            "formatversion": "2",
        },
    ).json()
    assert read["query"]["normalized"] == [{"from": "apple", "to": "Apple"}]
    revision = read["query"]["pages"][0]["revisions"][0]
    assert (revision["user"], revision["slots"]["main"]["content"]) == ("Alice", "Red.")
    info = api(wiki, {"action": "query", "meta": "userinfo", "uiprop": "editcount"}, alice).json()
    assert info["query"]["userinfo"]["editcount"] == 1235


def test_new_page_nochange_and_conflict(wiki, alice):
    token = csrf(wiki, alice)
    created = edit(wiki, alice, title="Brand new", text="One", token=token)["edit"]
    assert created["new"] == "" and created["oldrevid"] == 0
    second = edit(wiki, alice, title="Brand new", text="Two", token=token)["edit"]
    assert edit(wiki, alice, title="Brand new", text="Two", token=token)["edit"]["nochange"] == ""
    conflict = edit(wiki, alice, title="Brand new", text="Three", baserevid=str(created["newrevid"]), token=token)
    assert conflict["error"]["code"] == "editconflict"
    assert second["newrevid"] > created["newrevid"]


def test_edit_errors(wiki, alice):
    token = csrf(wiki, alice)
    bad = api(wiki, {"action": "edit", "title": "Apple", "text": "x", "token": "nope+\\"}, alice, method="POST")
    assert bad.headers["MediaWiki-API-Error"] == "badtoken"
    assert bad.json()["error"]["info"] == "Invalid CSRF token."
    assert edit(wiki, alice, title="Apple", text="x")["error"]["code"] == "missingparam"
    in_query = api(wiki, {"action": "edit", "title": "Apple", "text": "x", "token": token}, alice)
    assert in_query.json()["error"]["code"] == "mustpostparams"
    assert edit(wiki, alice, title="A|B", text="x", token=token)["error"]["code"] == "invalidtitle"
    assert edit(wiki, alice, title="Nope", text="x", nocreate="1", token=token)["error"]["code"] == "missingtitle"
    mallory = signed(TEST, handshake(wiki, "Mallory"))
    assert edit(wiki, mallory, title="Apple", text="x", token=csrf(wiki, mallory))["error"]["code"] == "blocked"


def test_assert_user_for_an_anonymous_caller(wiki):
    answer = api(
        wiki, {"action": "edit", "title": "Apple", "text": "x", "token": "+\\", "assert": "user"}, method="POST"
    )
    assert answer.headers["MediaWiki-API-Error"] == "assertuserfailed"
    assert answer.json()["error"]["info"] == "You are no longer logged in, so the action could not be completed."


def test_allpages_continuation(wiki):
    titles, params, rounds = [], {"action": "query", "list": "allpages", "aplimit": "10"}, 0
    while True:
        body = api(wiki, params).json()
        rounds += 1
        titles += [p["title"] for p in body["query"]["allpages"]]
        if "continue" not in body:
            break
        assert body["continue"]["continue"] == "-||" and set(body["continue"]) == {"apcontinue", "continue"}
        params = {**params, **body["continue"]}
    assert rounds == 3 and len(titles) == len(set(titles)) == 26
    assert titles == sorted(titles, key=lambda t: t.replace(" ", "_").encode()) and "Main Page" in titles


def test_maxlag(wiki, alice):
    wiki.control("set_maxlag", lag=7, count=2)
    query = {"action": "query", "meta": "userinfo", "maxlag": "5"}
    assert "error" not in api(wiki, {**query, "maxlag": "10"}, alice).json()
    for _ in range(2):
        lagged = api(wiki, query, alice)
        assert lagged.status_code == 200
        assert (lagged.headers["Retry-After"], lagged.headers["X-Database-Lag"]) == ("5", "7")
        assert lagged.headers["MediaWiki-API-Error"] == "maxlag"
        error = lagged.json()["error"]
        assert (error["code"], error["lag"], error["type"]) == ("maxlag", 7, "db")
    assert api(wiki, query, alice).json()["query"]["userinfo"]["name"] == "Alice"


def test_unknown_action_and_fv2_error_shape(wiki):
    error = api(wiki, {"action": "frobnicate", "formatversion": "2"}).json()["error"]
    assert error["code"] == "badvalue" and error["docref"].startswith(f"See {wiki.api_url} for API usage.")


def _expected(rec: dict, wiki) -> str:
    return rec["body"].replace("http://127.0.0.1:8080/api.php", wiki.api_url)


def _same_api_error(answer: requests.Response, rec: dict, wiki, body: str | None = None) -> None:
    assert (answer.status_code, answer.headers["Content-Type"]) == (rec["status"], rec["content_type"])
    assert answer.headers["MediaWiki-API-Error"] == rec["MediaWiki-API-Error"]
    assert answer.text == (body or _expected(rec, wiki))


def test_recorded_auth_errors(wiki, recorded):
    access = handshake(wiki, "Alice")
    query = {"action": "query", "meta": "userinfo"}
    bogus = api(wiki, query, signed(TEST, ("0" * 32, "0" * 40)))
    _same_api_error(bogus, recorded["5b api userinfo, BOGUS access token"], wiki)
    wrong_secret = api(wiki, query, signed(TEST, (access[0], "0" * 40)))
    _same_api_error(
        wrong_secret, recorded["5d api userinfo, valid token key but WRONG token secret (bad signature)"], wiki
    )
    nonce, now = "165809012570911760521795893976", str(int(time.time()))
    assert "error" not in api(wiki, query, signed(TEST, access, nonce=nonce, timestamp=now)).json()
    replay = api(wiki, query, signed(TEST, access, nonce=nonce, timestamp=now))
    _same_api_error(replay, recorded["5f api userinfo, REPLAYED request (same nonce+timestamp)"], wiki)
    old = api(wiki, query, signed(TEST, access, timestamp=str(int(time.time()) - 3600)))
    rec = recorded["5g api userinfo, timestamp 1 hour old"]
    yours, ours = re.search(r"yours (\d+), ours (\d+)", old.text).groups()
    _same_api_error(old, rec, wiki, _expected(rec, wiki).replace("1795890376", yours).replace("1795893976", ours))
    assert 3600 <= int(ours) - int(yours) <= 3602  # a second may tick over between our clock and the wiki's
    bearer = api(wiki, query, headers={"Authorization": "Bearer abc.def.ghi"})
    _same_api_error(bearer, recorded["9c api userinfo, BOGUS bearer token"], wiki)
    wiki.control("revoke", consumer_key=TEST[0], user="Alice")
    _same_api_error(api(wiki, query, signed(TEST, access)), recorded["6b api userinfo with REVOKED access token"], wiki)


def test_token_of_a_user_who_has_no_account_here(wiki):
    # SessionProvider::provideSessionInfo: an approval whose user has no local account (on a farm,
    # a wiki the user never visited) is mwoauth-invalid-authorization-invalid-user.
    access = handshake(wiki, "Bob")
    with wiki.store._lock:
        wiki.store._users.pop(4)
    answer = api(wiki, {"action": "query", "meta": "userinfo"}, signed(TEST, access)).json()
    assert answer["error"]["code"] == "mwoauth-invalid-authorization-invalid-user"
    assert answer["error"]["info"].endswith("are for a user that does not exist here")
