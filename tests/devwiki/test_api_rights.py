"""api.php: what grants and groups allow, the asserts, siteinfo, and pages reached by path."""

from __future__ import annotations

import requests

from .conftest import CALLBACK, TEST, api, handshake, signed


def consumer(wiki, grants: list[str]) -> tuple[str, str]:
    made = wiki.control("add_consumer", name="Limited", grants=grants, callback=CALLBACK, callback_is_prefix=True)
    return made["key"], made["secret"]


def edit(wiki, auth, **params) -> dict:
    token = api(wiki, {"action": "query", "meta": "tokens"}, auth).json()["query"]["tokens"]["csrftoken"]
    return api(wiki, {"action": "edit", "token": token, **params}, auth, method="POST").json()


def test_grants_limit_what_a_user_may_do(wiki):
    read_only = consumer(wiki, ["basic"])
    auth = signed(read_only, handshake(wiki, "Alice", read_only))
    assert edit(wiki, auth, title="Apple", text="x")["error"]["code"] == "permissiondenied"
    edit_only = consumer(wiki, ["basic", "editpage"])
    auth = signed(edit_only, handshake(wiki, "Alice", edit_only))
    assert edit(wiki, auth, title="Apple", text="x")["edit"]["result"] == "Success"
    assert edit(wiki, auth, title="Not there yet", text="x")["error"]["code"] == "cantcreate"


def test_createonly(wiki):
    auth = signed(TEST, handshake(wiki, "Alice"))
    assert edit(wiki, auth, title="Apple", text="x", createonly="1")["error"]["code"] == "articleexists"


def test_assert_bot_and_assertuser(wiki):
    alice = signed(TEST, handshake(wiki, "Alice"))
    query = {"action": "query", "meta": "userinfo"}
    assert api(wiki, {**query, "assert": "bot"}, alice).json()["error"]["code"] == "assertbotfailed"
    assert api(wiki, {**query, "assert": "anon"}, alice).json()["error"]["code"] == "assertanonfailed"
    assert "error" not in api(wiki, {**query, "assert": "user", "assertuser": "Alice"}, alice).json()
    wrong = api(wiki, {**query, "assertuser": "Bob"}, alice)
    assert wrong.headers["MediaWiki-API-Error"] == "assertnameduserfailed"
    bot_grant = consumer(wiki, ["basic", "highvolume"])
    wiki.control("add_user", name="Robot", groups=["bot"])
    robot = signed(bot_grant, handshake(wiki, "Robot", bot_grant))
    assert "error" not in api(wiki, {**query, "assert": "bot"}, robot).json()


def test_siteinfo_names_the_canonical_server(wiki):
    general = api(wiki, {"action": "query", "meta": "siteinfo"}).json()["query"]["general"]
    assert general["server"] == wiki.server_url and general["script"] == "/w/index.php"


def test_missing_page_shapes(wiki):
    params = {"action": "query", "prop": "revisions", "titles": "No such page", "rvprop": "content"}
    assert api(wiki, params).json()["query"]["pages"] == {"-1": {"ns": 0, "title": "No such page", "missing": ""}}
    fv2 = api(wiki, {**params, "formatversion": "2"}).json()["query"]["pages"]
    assert fv2 == [{"ns": 0, "title": "No such page", "missing": True}]


def test_page_by_path_with_a_non_ascii_title(wiki):
    auth = signed(TEST, handshake(wiki, "Zoë Ünïcode-Test"))
    assert edit(wiki, auth, title="Zoë's notes", text="Ünïcode <b>text</b>")["edit"]["new"] == ""
    page = requests.get(f"{wiki.server_url}/wiki/Zo%C3%AB%27s_notes", timeout=5)
    assert page.status_code == 200
    assert "Ünïcode &lt;b&gt;text&lt;/b&gt;" in page.text
