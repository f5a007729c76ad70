"""mwsso.protocol.wikiurls: every script path and spelling of a configured wiki URL gives the same entry points."""

import pytest

from mwsso.protocol.wikiurls import InvalidWikiURL, wiki_urls

CASES = [
    # configured URL, server, script path
    ("https://en.wikipedia.org/w/index.php", "https://en.wikipedia.org", "/w"),
    ("https://en.wikipedia.org/w/index.php/", "https://en.wikipedia.org", "/w"),
    ("https://en.wikipedia.org/w/", "https://en.wikipedia.org", "/w"),
    ("https://en.wikipedia.org/w", "https://en.wikipedia.org", "/w"),
    ("https://en.wikipedia.org/w/api.php", "https://en.wikipedia.org", "/w"),
    ("https://en.wikipedia.org/w/rest.php", "https://en.wikipedia.org", "/w"),
    ("http://wiki.example/index.php", "http://wiki.example", ""),
    ("http://wiki.example/index.php?title=Main_Page", "http://wiki.example", ""),
    ("http://wiki.example/", "http://wiki.example", ""),
    ("http://wiki.example", "http://wiki.example", ""),
    ("http://wiki.example/api.php", "http://wiki.example", ""),
    ("http://wiki.example:8080/mediawiki/index.php", "http://wiki.example:8080", "/mediawiki"),
    ("HTTPS://wiki.example/wiki/w/index.php", "https://wiki.example", "/wiki/w"),
    ("http://wiki.example//w//index.php", "http://wiki.example", "/w"),
    ("http://[::1]:8001/w/index.php", "http://[::1]:8001", "/w"),
]


@pytest.mark.parametrize(("url", "server", "script_path"), CASES)
def test_every_spelling_gives_server_and_script_path(url, server, script_path):
    urls = wiki_urls(url)
    assert (urls.server, urls.script_path) == (server, script_path)
    assert urls.index == f"{server}{script_path}/index.php"
    assert urls.api == f"{server}{script_path}/api.php"
    assert urls.rest == f"{server}{script_path}/rest.php"
    assert "//" not in urls.api.split("://", 1)[1]


def test_root_script_path_never_doubles_the_slash():
    # The bug a root-path wiki met: http://wiki.example//api.php is signed for a URL the wiki never sees.
    urls = wiki_urls("http://wiki.example/index.php")
    assert urls.api == "http://wiki.example/api.php"
    assert urls.rest_route("/oauth2/access_token") == "http://wiki.example/rest.php/oauth2/access_token"
    assert urls.rest_route("oauth2/resource/profile") == "http://wiki.example/rest.php/oauth2/resource/profile"


@pytest.mark.parametrize(
    "url", ["", "wiki.example/w/index.php", "ftp://wiki.example/index.php", "https:///w/index.php"]
)
def test_unusable_urls_are_refused(url):
    with pytest.raises(InvalidWikiURL):
        wiki_urls(url)
