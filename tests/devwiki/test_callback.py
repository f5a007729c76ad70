"""The callback rule (MWOAuthServer::checkCallback), over HTTP and as a table of cases."""

from __future__ import annotations

import pytest
from mwsso_devwiki.messages import MWOAuthError
from mwsso_devwiki.oauth1.callback import check_callback
from mwsso_devwiki.state.models import Consumer

from .conftest import initiate

REGISTERED = "http://127.0.0.1:8000/complete/mediawiki/"


def allowed(registered: str, given: str | None, prefix: bool = True) -> str:
    consumer = Consumer(key="k", secret="s", name="c", callback=registered, callback_is_prefix=prefix)
    try:
        check_callback(consumer, given)
    except MWOAuthError as err:
        return err.key
    return "ok"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("oob", "ok"),
        (REGISTERED, "ok"),
        (REGISTERED + "?next=/foo", "ok"),
        (REGISTERED + "extra/path", "ok"),
        ("https://127.0.0.1:8000/complete/mediawiki/", "ok"),  # http may become https
        ("http://127.0.0.1:8001/complete/mediawiki/", "mwoauth-callback-not-oob-or-prefix"),  # port
        ("http://127.0.0.1/complete/mediawiki/", "mwoauth-callback-not-oob-or-prefix"),  # no port
        ("http://localhost:8000/complete/mediawiki/", "mwoauth-callback-not-oob-or-prefix"),  # host
        ("http://127.0.0.1:8000/complete/", "mwoauth-callback-not-oob-or-prefix"),  # path shorter
        ("ftp://127.0.0.1:8000/complete/mediawiki/", "mwoauth-callback-not-oob-or-prefix"),
        ("http://user:pw@127.0.0.1:8000/complete/mediawiki/", "mwoauth-callback-not-oob-or-prefix"),
        ("/complete/mediawiki/", "mwoauth-callback-not-oob-or-prefix"),  # not absolute
        ("OOB", "mwoauth-callback-not-oob-or-prefix"),  # case-sensitive
        ("", "mwoauth-callback-not-oob-or-prefix"),
        (None, "mwoauth-callback-not-oob-or-prefix"),
    ],
)
def test_prefix_rule(given, expected):
    assert allowed(REGISTERED, given) == expected


def test_https_registration_does_not_accept_http():
    assert allowed("https://example.org/cb", "http://example.org/cb") == "mwoauth-callback-not-oob-or-prefix"


def test_port_one_allows_any_port_or_none():
    registered = "http://127.0.0.1:1/complete/mediawiki/"
    assert allowed(registered, "http://127.0.0.1:54321/complete/mediawiki/") == "ok"
    assert allowed(registered, "http://127.0.0.1/complete/mediawiki/") == "ok"


def test_registered_query_makes_the_path_exact_and_query_a_prefix():
    registered = "http://example.org/cb?site=a"
    assert allowed(registered, "http://example.org/cb?site=a&next=/x") == "ok"
    assert allowed(registered, "http://example.org/cb/more?site=a") == "mwoauth-callback-not-oob-or-prefix"
    assert allowed(registered, "http://example.org/cb?site=b") == "mwoauth-callback-not-oob-or-prefix"


def test_without_prefix_option_only_oob():
    assert allowed(REGISTERED, "oob", prefix=False) == "ok"
    assert allowed(REGISTERED, REGISTERED, prefix=False) == "mwoauth-callback-not-oob"


def test_over_http_with_a_consumer_registered_without_prefix(wiki):
    plain = wiki.control("add_consumer", name="Exact", callback=REGISTERED, callback_is_prefix=False)
    pair = (plain["key"], plain["secret"])
    refused = initiate(wiki, pair, callback=REGISTERED)
    assert refused.json() == {
        "error": "mwoauth-callback-not-oob",
        "message": 'oauth_callback must be set, and must be set to "oob" (case-sensitive)',
    }
    refused_raw = initiate(wiki, pair, callback=REGISTERED, fmt=None)
    assert refused_raw.text == (
        "Error: oauth_callback must be set, and must be set to &quot;oob&quot; (case-sensitive)"
    )
    assert "key" in initiate(wiki, pair, callback="oob").json()
