"""One side of one comparison, in a process of its own (``bench/compare.py`` starts these).

Each worker starts the local wiki behind a simulated network (``netsim``), sets Django up for its
side (mwsso, or social-core's stock ``MediaWiki`` backend, or requests-oauthlib by hand), runs the
operation ``--count`` times after one warm-up, and prints one JSON object: per operation the wall
time and CPU time of the site's own thread (the wiki and the proxy run in other threads and are
not counted), database queries, wiki round trips (requests the wiki received from the site) and
new connections (TCP connections the proxy accepted from the site).

    .venv/bin/python bench/compare_worker.py login-mwsso --count 20 --rtt 0.05 [--tls]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from netsim import SimulatedNetwork  # noqa: E402

# Requests to the wiki that the site makes (the person's browser makes "authorize").
SITE_STEPS = ("initiate", "token", "identify", "api", "oauth2_token_requests", "oauth2_profile")
SCENARIOS: dict[str, str] = {
    "login-mwsso": "tests.settings",
    "login-stock": "stock_settings",
    "api-mwsso": "tests.settings",
    "api-oauthlib-get": "tests.settings",
    "api-oauthlib-session": "tests.settings",
    "o2api-mwsso": "tests.settings",
    "o2api-requests": "tests.settings",
    "o2refresh-mwsso": "tests.settings",
    "o2refresh-requests": "tests.settings",
}
USER = "Alice"


class Meter:
    """Counts what one operation cost the site."""

    def __init__(self, wiki: Any, net: SimulatedNetwork) -> None:
        self.wiki, self.net = wiki, net
        self.samples: list[dict[str, float]] = []
        # The SQL of the last recorded operation (``--show-queries`` prints it).
        self.last_queries: list[str] = []

    def _wiki_requests(self) -> int:
        counters = self.wiki.store.stats()["counters"]
        return sum(counters.get(step, 0) for step in SITE_STEPS)

    @contextmanager
    def measure(self, record: bool = True) -> Iterator[Callable[[Callable[[], Any]], Any]]:
        """``with meter.measure() as site: site(lambda: ...)`` — only what runs inside ``site()`` is timed."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        spent = {"wall": 0.0, "cpu": 0.0}
        requests_before, connections_before = self._wiki_requests(), self.net.connections

        def site(step: Callable[[], Any]) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return step()
            finally:
                spent["cpu"] += time.thread_time() - cpu
                spent["wall"] += time.perf_counter() - wall

        with CaptureQueriesContext(connection) as queries:
            yield site
        if record:
            self.last_queries = [query["sql"] for query in queries]
            self.samples.append(
                {
                    "wall": spent["wall"],
                    "cpu": spent["cpu"],
                    "queries": len(queries),
                    "round_trips": self._wiki_requests() - requests_before,
                    "connections": self.net.connections - connections_before,
                }
            )

    def summary(self) -> dict[str, float]:
        return {key: statistics.median(sample[key] for sample in self.samples) for key in self.samples[0]} | {
            "samples": len(self.samples)
        }


def _direct_browser(wiki: Any, net: SimulatedNetwork) -> Any:
    """The person's browser: it reaches the wiki directly, so its requests are neither delayed nor counted."""
    import requests
    from requests.adapters import HTTPAdapter

    class Direct(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            request.url = wiki.server_url + request.url[len(net.url) :]
            return super().send(request, **kwargs)

    browser = requests.Session()
    browser.mount(net.url, Direct())
    return browser


def run_login(meter: Meter, count: int) -> dict[str, Any]:
    """First sign-ins (the Django user does not exist yet) and returning ones (it does)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from mwsso_devwiki.testing import authorize

    from tests.conftest import SITE_HOST

    browser = _direct_browser(meter.wiki, meter.net)

    def sign_in(record: bool) -> None:
        client = Client(HTTP_HOST=SITE_HOST)
        with meter.measure(record) as site:
            started = site(lambda: client.post("/login/mediawiki/"))  # both are POST-only (social-app-django 8)
            assert started.status_code in (302, 303), (started.status_code, started.content[:300])
            allowed = authorize(browser, started["Location"], user=USER)
            back = urlsplit(allowed.headers["Location"])
            done = site(lambda: client.get(f"{back.path}?{back.query}"))
            assert done.status_code == 302, done.content[:500]

    results: dict[str, Any] = {}
    for phase in ("first", "returning"):
        meter.samples = []
        sign_in(record=False)  # warm-up: imports, the first connection, caches
        for _ in range(count):
            if phase == "first":
                get_user_model().objects.filter(is_superuser=False).delete()
            sign_in(record=True)
        results[phase] = meter.summary()
        results[phase + "_sql"] = meter.last_queries
    return results


def _userinfo_calls(meter: Meter, count: int, call: Callable[[], Any]) -> dict[str, Any]:
    """``count`` measured userinfo calls after one unmeasured warm-up call."""
    for number in range(count + 1):
        with meter.measure(record=number > 0) as site:
            answer = site(call)
            assert "userinfo" in str(answer), str(answer)[:300]
    return {"call": meter.summary(), "call_sql": meter.last_queries}


def run_api(meter: Meter, count: int, style: str) -> dict[str, Any]:
    """Signed ``action=query&meta=userinfo`` calls as the user."""
    import requests
    from django.contrib.auth import get_user_model
    from requests_oauthlib import OAuth1

    from mwsso import api
    from mwsso.models import AccessToken
    from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

    wiki = meter.wiki
    issued = wiki.control("issue_token", consumer_key=TEST_CONSUMER_KEY, user=USER)
    params = {"action": "query", "meta": "userinfo", "format": "json", "formatversion": "2"}
    auth = OAuth1(TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, issued["key"], issued["secret"])
    shared = requests.Session()
    if style == "mwsso":
        user = get_user_model().objects.create(username=USER)
        token = AccessToken(user=user, wiki=wiki.store.server, wiki_url=wiki.index_url, consumer_key=TEST_CONSUMER_KEY)
        token.set_credentials(issued["key"], issued["secret"])
        token.save()

        def call() -> Any:
            # What a view does on each request: find the user's token, make the call.
            return api.for_user(user).get(action="query", meta="userinfo")
    elif style == "oauthlib-get":

        def call() -> Any:
            answer = requests.get(wiki.api_url, params=params, auth=auth, timeout=10)
            answer.raise_for_status()
            return answer.json()
    else:

        def call() -> Any:
            answer = shared.get(wiki.api_url, params=params, auth=auth, timeout=10)
            answer.raise_for_status()
            return answer.json()

    return _userinfo_calls(meter, count, call)


def _oauth2_token(wiki: Any) -> tuple[Any, dict[str, str], tuple[str, str]]:
    """Alice's OAuth 2.0 token from the local wiki's confidential demo client, stored as a sign-in stores it."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from mwsso_devwiki.state import seed as wikiconfig

    from mwsso.models import AccessToken

    client = (wikiconfig.DEMO_OAUTH2_CLIENT_ID, wikiconfig.DEMO_OAUTH2_CLIENT_SECRET)
    settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = client
    pair = wiki.control("oauth2_issue_token", client_id=client[0], user=USER)
    user = get_user_model().objects.create(username=USER)
    token = AccessToken.objects.create(
        user=user, wiki=wiki.store.server, wiki_url=wiki.index_url, consumer_key=client[0], oauth_version=2,
        expires_at=timezone.now() + timedelta(hours=1),
        **AccessToken.credential_fields(pair["access_token"], "", refresh_token=pair["refresh_token"]),
    )  # fmt: skip
    return token, pair, client


def run_oauth2_api(meter: Meter, count: int, style: str) -> dict[str, Any]:
    """Action API calls with a bearer token: mwsso.api vs a hand-written requests.get with an Authorization header."""
    import requests

    from mwsso import api

    token, pair, _ = _oauth2_token(meter.wiki)
    params = {"action": "query", "meta": "userinfo", "format": "json", "formatversion": "2"}
    headers = {"Authorization": f"Bearer {pair['access_token']}"}

    def call() -> Any:
        if style == "mwsso":
            return api.for_user(token.user).get(action="query", meta="userinfo")
        answer = requests.get(meter.wiki.api_url, params=params, headers=headers, timeout=10)
        answer.raise_for_status()
        return answer.json()

    return _userinfo_calls(meter, count, call)


def run_oauth2_refresh(meter: Meter, count: int, style: str) -> dict[str, Any]:
    """One refresh of an expired access token: mwsso's claimed refresh (read, claim, token request, write)
    vs a plain token request with requests (nothing stored, nothing claimed)."""
    from datetime import timedelta

    import requests
    from django.utils import timezone

    from mwsso import api  # noqa: F401  (first: mwsso.tokens.refresh imported alone is a circular import)
    from mwsso.models import AccessToken
    from mwsso.protocol.wikiurls import wiki_urls
    from mwsso.tokens.refresh import refresh_token

    token, pair, client = _oauth2_token(meter.wiki)
    token_url = wiki_urls(meter.wiki.index_url).rest_route("/oauth2/access_token")
    current = {"refresh": pair["refresh_token"]}

    def plain() -> Any:
        answer = requests.post(
            token_url,
            data={"grant_type": "refresh_token", "refresh_token": current["refresh"], "client_id": client[0],
                  "client_secret": client[1]},
            timeout=10,
        )  # fmt: skip
        answer.raise_for_status()
        current["refresh"] = answer.json()["refresh_token"]
        return answer

    for number in range(count + 1):
        if style == "mwsso":
            AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
            token.refresh_from_db()
        with meter.measure(record=number > 0) as site:
            if style == "mwsso":
                token = site(lambda token=token: refresh_token(token))
            else:
                site(plain)
    return {"refresh": meter.summary(), "refresh_sql": meter.last_queries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--rtt", type=float, default=0.05, help="simulated round-trip time in seconds")
    parser.add_argument("--tls", action="store_true", help="the wiki is HTTPS (each new connection pays TLS)")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    net = SimulatedNetwork(args.rtt, tls=args.tls)
    if net.ca_bundle:
        os.environ["REQUESTS_CA_BUNDLE"] = str(net.ca_bundle)  # every client here trusts the bench's wiki
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = SCENARIOS[args.scenario]
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment
    from mwsso_devwiki.testing import running_devwiki

    from tests.conftest import SITE_HOST, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        with running_devwiki({"server": net.url}) as wiki:
            net.connect(wiki.server.port)
            settings.SOCIAL_AUTH_MEDIAWIKI_URL = wiki.index_url
            settings.SOCIAL_AUTH_MEDIAWIKI_KEY = TEST_CONSUMER_KEY
            settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = TEST_CONSUMER_SECRET
            # Stock wants an absolute callback; the test consumer accepts any port of 127.0.0.1.
            settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = f"http://{SITE_HOST}/complete/mediawiki/"
            meter = Meter(wiki, net)
            side, _, style = args.scenario.partition("-")  # the settings module picks stock or mwsso
            if side == "login":
                result = run_login(meter, args.count)
            elif side == "o2api":
                result = run_oauth2_api(meter, args.count, style)
            elif side == "o2refresh":
                result = run_oauth2_refresh(meter, args.count, style)
            else:
                result = run_api(meter, args.count, style)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        net.close()
    result["database"] = connection.vendor
    print(json.dumps(result))


if __name__ == "__main__":
    main()
