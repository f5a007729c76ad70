"""The devwiki's pages as a person sees them: rendered articles, old revisions, the Cancel page's links, grants."""

from __future__ import annotations

import re

import requests
from mwsso_devwiki.testing import authorize
from mwsso_devwiki.web.wikitext import to_html

from .conftest import CALLBACK, TEST, api, authorize_url, browser, handshake, identify, initiate
from .oauth2_client import CONFIDENTIAL, profile, refresh, signed_in

SERVER = "http://wiki.test"


# -- wikitext (pure) ------------------------------------------------------------------
def test_wikitext_headings_paragraphs_and_inline_markup():
    html = to_html("== Fruit ==\n'''Apple''' is ''red''.\nStill the same paragraph.\n\nA new one.", SERVER)
    assert html == (
        "<h2>Fruit</h2>\n<p><b>Apple</b> is <i>red</i>.<br>\nStill the same paragraph.</p>\n<p>A new one.</p>"
    )
    assert to_html("'''''both''''' and '''bold ''in'' bold'''", SERVER) == (
        "<p><b><i>both</i></b> and <b>bold <i>in</i> bold</b></p>"
    )
    assert to_html("''left open", SERVER) == "<p><i>left open</i></p>"


def test_wikitext_links_internal_missing_and_external():
    html = to_html("See [[apple pie|the pie]], [[Fig]] and [https://example.org/x?a=1&b=2 Example] [//e.org]", SERVER,
                   exists=lambda title: title == "Fig")  # fmt: skip
    assert '<a href="http://wiki.test/wiki/Apple_pie" class="new" title="apple pie">the pie</a>' in html
    assert '<a href="http://wiki.test/wiki/Fig" title="Fig">Fig</a>' in html
    assert '<a rel="nofollow" class="external" href="https://example.org/x?a=1&amp;b=2">Example</a>' in html
    assert '<a rel="nofollow" class="external" href="//e.org">[1]</a>' in html


def test_wikitext_lists_rules_and_preformatted_lines():
    html = to_html("* one\n** one.one\n* two\n# first\n----\n keep <b>this</b>", SERVER)
    assert re.sub(r"\s+", "", html) == (
        "<ul><li>one<ul><li>one.one</li></ul></li><li>two</li></ul><ol><li>first</li></ol><hr>"
        "<pre>keep&lt;b&gt;this&lt;/b&gt;</pre>"
    )


def test_wikitext_never_lets_markup_through():
    html = to_html('<script>alert(1)</script> [[a"><img src=x>]] [javascript:alert(1) x] {{Template}}', SERVER)
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html and "{{Template}}" in html


# -- article pages over HTTP ----------------------------------------------------------
def test_main_page_is_rendered_not_raw_wikitext(wiki):
    page = requests.get(f"{wiki.server_url}/wiki/Main_Page", timeout=5).text
    assert "<b>Main Page</b> is a page on the mwsso development wiki." in page
    assert "'''" not in page and "<pre>'''" not in page
    assert "SOCIAL_AUTH_MEDIAWIKI_URL" in page  # the devwiki's own notes stay below it


def edit(wiki, title: str, text: str) -> int:  # type: ignore[no-untyped-def]
    result = wiki.store.pages.edit(title, "Alice", text=text, summary="test", now=wiki.store.now())
    return result["newrevid"]


def test_oldid_opens_that_revision_of_its_page(wiki):
    first = edit(wiki, "Sandbox", "First text")
    second = edit(wiki, "Sandbox", "Second ''text''")
    old = requests.get(wiki.index_url, params={"oldid": str(first)}, timeout=5)
    assert old.status_code == 200
    assert '<h1 id="firstHeading">Sandbox</h1>' in old.text and "<p>First text</p>" in old.text
    assert "Second" not in old.text
    assert (
        "Revision as of" in old.text
        and "by Alice" in old.text
        and 'href="' + wiki.server_url + '/wiki/Sandbox"' in old.text
    )
    # The revision's own page, whatever the title says (as index.php does); the latest one says so.
    latest = requests.get(wiki.index_url, params={"title": "Main_Page", "oldid": str(second)}, timeout=5).text
    assert "Latest revision as of" in latest and "<p>Second <i>text</i></p>" in latest
    assert '<h1 id="firstHeading">Sandbox</h1>' in latest
    # The page itself shows the latest text.
    assert "<p>Second <i>text</i></p>" in requests.get(f"{wiki.server_url}/wiki/Sandbox", timeout=5).text
    for bad in ("999999", "abc"):
        missing = requests.get(wiki.index_url, params={"oldid": bad}, timeout=5)
        assert missing.status_code == 404 and f"The revision #{bad} of the page does not exist." in missing.text


# -- api.php prop=revisions&revids ------------------------------------------------------
def test_api_revisions_by_revids_formatversion_2(wiki):
    first = edit(wiki, "Sandbox", "First")
    second = edit(wiki, "Sandbox", "Second")
    apple = wiki.store.pages.get("Apple").latest.revid
    params = {
        "action": "query", "prop": "revisions", "revids": f"{second}|{apple}|{first}|999999",
        "rvprop": "ids|content", "rvslots": "main", "formatversion": "2",
    }  # fmt: skip
    body = api(wiki, params).json()
    sandbox = wiki.store.pages.get("Sandbox")
    pages = body["query"]["pages"]
    assert [p["title"] for p in pages] == sorted(["Sandbox", "Apple"], key=lambda t: wiki.store.pages.get(t).pageid)
    by_title = {p["title"]: p for p in pages}
    assert by_title["Sandbox"] == {
        "pageid": sandbox.pageid, "ns": 0, "title": "Sandbox",
        "revisions": [
            {"revid": first, "parentid": sandbox.revisions[0].revid,
             "slots": {"main": {"contentmodel": "wikitext", "contentformat": "text/x-wiki", "content": "First"}}},
            {"revid": second, "parentid": first,
             "slots": {"main": {"contentmodel": "wikitext", "contentformat": "text/x-wiki", "content": "Second"}}},
        ],
    }  # fmt: skip
    assert body["query"]["badrevids"] == {"999999": {"revid": 999999, "missing": True}}


def test_api_revisions_by_revids_formatversion_1_and_errors(wiki):
    first = edit(wiki, "Sandbox", "First")
    body = api(wiki, {"action": "query", "prop": "revisions", "revids": f"{first}|5000000", "rvprop": "content"}).json()
    (page,) = body["query"]["pages"].values()
    assert page["revisions"] == [{"contentmodel": "wikitext", "contentformat": "text/x-wiki", "*": "First"}]
    assert body["query"]["badrevids"] == {"5000000": {"revid": 5000000, "missing": ""}}
    mixed = api(wiki, {"action": "query", "prop": "revisions", "revids": str(first), "titles": "Sandbox"}).json()
    assert mixed["error"]["code"] == "invalidparammix"
    garbage = api(wiki, {"action": "query", "prop": "revisions", "revids": "1|x"}).json()
    assert garbage["error"]["code"] == "badinteger"


# -- Cancel and Special:OAuthManageMyGrants -----------------------------------------------
def links(html: str) -> dict[str, str]:
    return {
        text: href.replace("&amp;", "&")
        for href, text in re.findall(r'<a class="devwiki-link" href="([^"]+)"[^>]*>(.*?)</a>', html)
    }


def test_cancel_page_links_back_to_the_app_and_to_the_connected_apps(wiki):
    handshake(wiki, "Bob")  # Bob has allowed the test consumer before
    key = initiate(wiki, callback=CALLBACK).json()["key"]
    bob = browser(wiki, "Bob")
    cancelled = authorize(bob, authorize_url(wiki, key), user="Bob", action="cancel")
    found = links(cancelled.text)
    consumer = wiki.store.consumer(TEST[0])
    assert found[consumer.name] == "http://127.0.0.1:9000/"  # the site the person came from
    manage = found["manage your connected apps"]
    assert manage == f"{wiki.store.server}/wiki/Special:OAuthManageMyGrants"
    page = bob.get(manage, timeout=5)
    assert page.status_code == 200 and "<title>Manage connected applications - devwiki</title>" in page.text
    assert f"<b>{consumer.name}</b>" in page.text and "Edit existing pages" in page.text


def test_cancel_without_a_callback_has_no_back_link(wiki):
    key = initiate(wiki).json()["key"]  # oob
    cancelled = authorize(None, authorize_url(wiki, key), user="Alice", action="cancel")
    assert list(links(cancelled.text)) == ["manage your connected apps"]


def _revoke(session: requests.Session, page: requests.Response, name: str) -> requests.Response:
    """Follow the listed app's "revoke access" link and press Deauthorize, as on Special:OAuthManageMyGrants."""
    link = re.search(
        rf"<b>{re.escape(name)}</b> \[1\.0\] \(<a [^>]*>manage access</a> \| <a href=\"([^\"]+)\">", page.text
    )
    assert link, page.text
    form_page = session.get(link[1], timeout=5)
    assert f"Application name: {name} [1.0]" in form_page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form_page.text))
    assert set(fields) == {"title", "wpEditToken", "wpacceptanceId"}
    action = re.search(r'<form id="mw-mwoauth-revoke-form" method="post" action="([^"]+)"', form_page.text)[1]
    return session.post(action, data={**fields, "renounce": "Deauthorize"}, timeout=5)


def test_manage_grants_lists_the_signed_in_users_apps_and_revokes_each(wiki):
    url = f"{wiki.index_url}?title=Special:OAuthManageMyGrants"
    anonymous = requests.get(url, allow_redirects=False, timeout=5)
    assert anonymous.status_code == 302
    assert "title=Special:UserLogin&returnto=Special%3AOAuthManageMyGrants" in anonymous.headers["Location"]
    alice = browser(wiki, "Alice")
    assert 'id="mw-mwoauth-no-grants"' in alice.get(url, timeout=5).text
    access = handshake(wiki, "Alice")
    tokens = signed_in(wiki, "Alice")
    page = alice.get(url, timeout=5)
    consumer, client = wiki.store.consumer(TEST[0]), wiki.store.oauth2.client(CONFIDENTIAL[0])
    assert f"<b>{consumer.name}</b>" in page.text and f"<b>{client.name}</b>" in page.text
    assert "revoked" in _revoke(alice, page, consumer.name).text
    assert identify(wiki, TEST, access).json()["error"] == "mwoauthdatastore-access-token-not-found"
    assert "revoked" in _revoke(alice, alice.get(url, timeout=5), client.name).text
    assert profile(wiki, tokens["access_token"]).json()["hint"] == "Access token has been revoked"
    assert refresh(wiki, tokens["refresh_token"]).json()["hint"] == "Token has been revoked"
    assert 'id="mw-mwoauth-no-grants"' in alice.get(url, timeout=5).text
    # Another user's acceptance id is not Alice's to revoke.
    handshake(wiki, "Bob")
    bobs = wiki.store.acceptance_id(TEST[0], wiki.store.user("Bob").sub)
    other = alice.get(f"{wiki.index_url}/Special:OAuthManageMyGrants/revoke/{bobs}", timeout=5)
    assert "could not be found" in other.text
