"""Sign-in and API calls against a local wiki under every common $wgScriptPath, the root ("") included.

The root path is the one that broke: api.php was derived from index.php as ``http://host//api.php``,
which the wiki verifies as ``http://host/api.php`` and answers "Invalid signature".
"""

from __future__ import annotations

import pytest
from mwsso_devwiki.testing import running_devwiki

from mwsso import api
from mwsso.models import AccessToken
from tests.conftest import signed_in_on

pytestmark = pytest.mark.django_db
SCRIPT_PATHS = ["", "/w", "/mediawiki", "/wiki/w"]


@pytest.fixture(scope="module", params=SCRIPT_PATHS, ids=lambda p: p or "root")
def path_wiki(request):
    with running_devwiki(script_path=request.param) as wiki:
        yield wiki


@pytest.fixture
def signed_in(path_wiki, settings, site_client):  # type: ignore[no-untyped-def]
    yield from signed_in_on(path_wiki, settings, site_client)


def test_sign_in_stores_the_wikis_own_index_url(signed_in, path_wiki):
    token = AccessToken.objects.get(user=signed_in)
    assert token.wiki_url == path_wiki.index_url
    # The wiki is its server and its script path: two wikis of one server stay apart.
    assert token.wiki == path_wiki.store.server + path_wiki.script_path


def test_read_edit_and_continuation(signed_in, path_wiki):
    client = api.for_user(signed_in)
    assert client.api_url == path_wiki.api_url
    assert client.index_url == path_wiki.index_url
    assert client.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
    revid = client.edit("Sandbox", "Edited under the script path.", "test")
    assert revid is not None
    assert path_wiki.store.pages.get("Sandbox").latest.text == "Edited under the script path."
    pages = list(client.query(list="allpages", aplimit=7))
    assert len(pages) > 1 and "continue" not in pages[-1]
    assert AccessToken.objects.get(user=signed_in).status == AccessToken.Status.VALID


@pytest.mark.parametrize("spelling", ["{server}{path}/", "{server}{path}/api.php", "{server}{path}/index.php/"])
def test_any_spelling_of_the_configured_url_reaches_the_same_entry_points(signed_in, path_wiki, spelling):
    wiki = spelling.format(server=path_wiki.store.server, path=path_wiki.script_path)
    client = api.for_user(signed_in, wiki)
    assert client.api_url == path_wiki.api_url
    assert client.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == "Alice"
