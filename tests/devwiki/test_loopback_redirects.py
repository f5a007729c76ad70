"""The local wiki's demo OAuth 2.0 clients take their redirect URI on any port of 127.0.0.1; all others match exactly.

A real wiki matches an OAuth 2.0 redirect URI exactly (there is no prefix option; /work/shared facts,
recorded on 1.39 to 1.45). The built-in demo and public clients are the one documented exception, so
that a quick-start site on any port signs in without ``--site-url``; only the port may differ.
"""

from __future__ import annotations

import pytest
import requests
from mwsso_devwiki.oauth2.redirects import on_another_loopback_port
from mwsso_devwiki.state import seed
from mwsso_devwiki.testing import DevWiki, authorize_oauth2

from .oauth2_client import CONFIDENTIAL, PUBLIC, authorize_url, pkce_pair, query_of, redeem

DEMO = (seed.DEMO_OAUTH2_CLIENT_ID, seed.DEMO_OAUTH2_CLIENT_SECRET)
OTHER_PORT = "http://127.0.0.1:38123/complete/mediawiki-oauth2/"


def _authorize(wiki: DevWiki, client_id: str, redirect_uri: str, **params: str):  # type: ignore[no-untyped-def]
    return authorize_oauth2(None, authorize_url(wiki, client_id, redirect_uri=redirect_uri, state="s", **params))


def test_the_demo_client_signs_in_on_another_port(wiki: DevWiki) -> None:
    answer = _authorize(wiki, DEMO[0], OTHER_PORT)
    assert answer.status_code == 302 and answer.headers["Location"].startswith(OTHER_PORT + "?code="), answer.text[:500]
    code = query_of(answer.headers["Location"])["code"]
    data = {"client_id": DEMO[0], "client_secret": DEMO[1], "redirect_uri": OTHER_PORT}
    tokens = redeem(wiki, code, (DEMO[0], ""), **data)
    assert tokens.status_code == 200, tokens.text
    # The token step still wants the authorize step's redirect URI itself, not another port.
    answer = _authorize(wiki, DEMO[0], OTHER_PORT)
    code = query_of(answer.headers["Location"])["code"]
    elsewhere = redeem(wiki, code, (DEMO[0], ""), **{**data, "redirect_uri": OTHER_PORT.replace("38123", "38124")})
    assert elsewhere.status_code in (400, 401), elsewhere.text


def test_the_public_demo_client_too(wiki: DevWiki) -> None:
    verifier, challenge = pkce_pair()
    answer = _authorize(wiki, PUBLIC[0], OTHER_PORT, code_challenge=challenge, code_challenge_method="S256")
    assert answer.headers["Location"].startswith(OTHER_PORT + "?code="), answer.text[:500]
    code = query_of(answer.headers["Location"])["code"]
    assert redeem(wiki, code, PUBLIC, redirect_uri=OTHER_PORT, code_verifier=verifier).status_code == 200


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:38123/complete/mediawiki-oauth2/",  # another host
        "https://127.0.0.1:38123/complete/mediawiki-oauth2/",  # another scheme
        "http://127.0.0.1:38123/complete/mediawiki-oauth2/x",  # a longer path
        "http://127.0.0.1:38123/complete/mediawiki-oauth2/?next=/",  # a query
        "http://127.0.0.1/complete/mediawiki-oauth2/",  # no port
        "http://me:pw@127.0.0.1:38123/complete/mediawiki-oauth2/",  # user and password
        "http://127.0.0.1:99999/complete/mediawiki-oauth2/",  # not a port
        "http://127.0.0.1.evil.example:38123/complete/mediawiki-oauth2/",
    ],
)
def test_only_the_port_may_differ(wiki: DevWiki, redirect_uri: str) -> None:
    answer = _authorize(wiki, DEMO[0], redirect_uri)
    assert answer.status_code != 302 and "Application Connection Error" in answer.text, answer.headers


def test_every_other_client_keeps_the_exact_match(wiki: DevWiki) -> None:
    # The tests' client, as every client a site registers on a real wiki: another port is refused.
    registered = wiki.store.oauth2.client(CONFIDENTIAL[0]).redirect_uri
    answer = _authorize(wiki, CONFIDENTIAL[0], registered.replace(":9000/", ":9001/"))
    assert answer.status_code == 401 and "Application Connection Error" in answer.text
    made = wiki.control("oauth2_add_client", redirect_uri="http://127.0.0.1:40404/cb/", name="mine")
    assert made["any_loopback_port"] is False
    assert _authorize(wiki, made["client_id"], "http://127.0.0.1:40405/cb/").status_code == 401


def test_the_demo_and_public_clients_have_it_and_the_main_page_says_so(wiki: DevWiki) -> None:
    flagged = {spec["client_id"] for spec in seed.BUILTIN_OAUTH2_CLIENTS if spec.get("any_loopback_port")}
    assert flagged == {seed.DEMO_OAUTH2_CLIENT_ID, seed.PUBLIC_OAUTH2_CLIENT_ID}
    main = requests.get(f"{wiki.index_url}?title=Main_Page", timeout=10).text
    assert main.count("on any port of its host (a local-wiki convenience)") == 2, main


@pytest.mark.parametrize(
    ("registered", "given", "accepted"),
    [
        ("http://127.0.0.1:8000/cb/", "http://127.0.0.1:8123/cb/", True),
        ("http://127.0.0.1/cb/", "http://127.0.0.1:8123/cb/", True),
        ("http://[::1]:8000/cb/", "http://[::1]:8123/cb/", True),
        ("http://[::1]:8000/cb/", "http://127.0.0.1:8123/cb/", False),
        ("http://127.0.0.1:8000/cb/", "http://127.0.0.1:8123/cb", False),
        ("https://127.0.0.1:8000/cb/", "https://127.0.0.1:8123/cb/", False),  # loopback is plain http
        ("http://wiki.example:8000/cb/", "http://wiki.example:8123/cb/", False),  # not loopback
        ("http://127.0.0.1:8000/cb/", "http://127.0.0.1:8123/cb/#x", False),
    ],
)
def test_on_another_loopback_port(registered: str, given: str, accepted: bool) -> None:
    assert on_another_loopback_port(registered, given) is accepted
