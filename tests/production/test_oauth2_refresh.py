"""One user's expired OAuth 2.0 token, eight profile pages at once under gunicorn: one refresh reaches the wiki."""

from __future__ import annotations

import pytest
import requests
from mwsso_devwiki.state import seed as wikiconfig
from mwsso_devwiki.testing import authorize_oauth2

from tests.oauth2_support import FaultyProxy
from tests.production.browsers import TIMEOUT, Browser
from tests.production.deploy import Deployment
from tests.production.test_concurrency import run_at_once

pytestmark = pytest.mark.production
TABS = 8


def oauth2_login(prod: Deployment, browser: Browser, user: str) -> None:
    prod.wiki.control(
        "oauth2_set_redirect_uri",
        client_id=wikiconfig.DEMO_OAUTH2_CLIENT_ID,
        redirect_uri=prod.site.url + "/complete/mediawiki-oauth2/",
    )
    home = browser.http.get(prod.site.url + "/", timeout=TIMEOUT)
    start = browser.http.post(
        prod.site.url + "/login/mediawiki-oauth2/", data={"csrfmiddlewaretoken": browser._csrf(home)},
        allow_redirects=False, timeout=TIMEOUT,
    )  # fmt: skip
    assert start.status_code == 302, start.text[:300]
    answer = authorize_oauth2(None, start.headers["Location"], user=user, timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text[:300]
    done = browser.http.get(answer.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
    assert done.status_code == 302 and done.headers["Location"] == "/profile/", done.text[:500]


def test_eight_workers_with_one_expired_token_refresh_it_once(prod: Deployment) -> None:
    prod.add_wiki_user("OAuth2 Tester")
    browser = Browser(prod.site.url, "o2-refresh")
    oauth2_login(prod, browser, "OAuth2 Tester")
    with FaultyProxy(prod.wiki.server_url) as proxy:
        # The wiki answers refreshes slowly: every tab arrives while the first refresh is in flight.
        proxy.delays["/oauth2/access_token"] = 0.5
        [(token_id,)] = prod.db.rows(
            "UPDATE mwsso_accesstoken SET expires_at = now() - interval '1 hour', wiki_url = %s RETURNING id",
            proxy.url + "/w/index.php",
        )
        before = prod.wiki.control("oauth2_counts")["counts"]["refresh"]

        def tab() -> requests.Response:
            session = requests.Session()
            session.cookies.update(browser.http.cookies)
            return session.get(prod.site.url + "/profile/", timeout=TIMEOUT)

        pages, _ = run_at_once([tab] * TABS)
    assert [page.status_code for page in pages] == [200] * TABS
    assert all('id="api-username">OAuth2 Tester' in page.text for page in pages), [p.text[:200] for p in pages]
    assert prod.wiki.control("oauth2_counts")["counts"]["refresh"] - before == 1
    [(status,)] = prod.db.rows("SELECT status FROM mwsso_accesstoken WHERE id = %s", token_id)
    assert status == "valid"
