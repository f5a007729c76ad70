"""The one shared HTTP session keeps no cookies: one user's wiki cookies never ride on another's requests.

The local wiki sets a cookie on every answer (as Wikimedia's ChronologyProtector
and load balancers do) and records every Cookie header it is sent.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from mwsso import api, http

pytestmark = pytest.mark.django_db(transaction=False)
User = get_user_model()
COOKIE = "cpPosIndex=1%401700000000%23abc; Path=/; HttpOnly"


def test_the_shared_session_stores_no_cookie_a_wiki_sets(wiki_settings, devwiki):
    devwiki.control("set_cookie", cookie=COOKIE)
    first = http.request("GET", devwiki.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"})
    assert first.headers["Set-Cookie"].startswith("cpPosIndex=")
    http.request("GET", devwiki.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"})
    assert len(http.get_session().cookies) == 0
    assert devwiki.control("stats")["cookies_received"] == []


def test_sign_ins_and_api_calls_of_several_users_send_the_wiki_no_cookie(login, client_factory, devwiki, settings):
    devwiki.control("set_cookie", cookie=COOKIE)
    login(client_factory(), "Alice")
    login(client_factory(), "Bob")
    for name in ("Alice", "Bob"):
        api.for_user(User.objects.get(username=name)).get(action="query", meta="userinfo")
    stats = devwiki.control("stats")
    assert stats["counters"]["identify"] == 2  # the wiki answered, each time with its cookie
    # The wiki's own browser (the authorize dialog) sends it back, as a browser does; mwsso never.
    assert any(sent["user_agent"] != settings.MWSSO_USER_AGENT for sent in stats["cookies_received"])
    assert [sent for sent in stats["cookies_received"] if sent["user_agent"] == settings.MWSSO_USER_AGENT] == []
    assert len(http.get_session().cookies) == 0
