"""Login benchmark: N full sign-ins against the local wiki over real HTTP.

Reports logins per second, latency (mean, p95), database queries per login,
wiki round trips per login and TCP connections opened by the shared HTTP
session (keep-alive means a handful for the whole run, not three per login).

    .venv/bin/python bench/login_bench.py [--logins 200] [--database-url sqlite:///...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from mwsso import http
    from mwsso.devwiki.testing import authorize, running_devwiki
    from tests.conftest import SITE_HOST, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        with running_devwiki() as wiki:
            settings.SOCIAL_AUTH_MEDIAWIKI_URL = wiki.index_url
            settings.SOCIAL_AUTH_MEDIAWIKI_KEY = TEST_CONSUMER_KEY
            settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = TEST_CONSUMER_SECRET
            settings.SOCIAL_AUTH_MEDIAWIKI_CALLBACK = "/complete/mediawiki/"
            users = ["Alice", "Bob", "Admin Sysop", "Zoë Ünïcode-Test"]
            timings, queries = [], []
            browser = __import__("requests").Session()  # the person's browser on the wiki
            start = time.perf_counter()
            for number in range(args.logins):
                client = Client(HTTP_HOST=SITE_HOST)
                began = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    location = client.post("/login/mediawiki/")["Location"]
                    allowed = authorize(browser, location, user=users[number % len(users)])
                    back = urlsplit(allowed.headers["Location"])
                    done = client.get(f"{back.path}?{back.query}")
                timings.append(time.perf_counter() - began)
                queries.append(len(captured))
                assert done.status_code == 302 and done["Location"] == "/profile/", done.content[:300]
            elapsed = time.perf_counter() - start
            counters = wiki.control("stats")["counters"]
            pools = http.get_session().get_adapter(wiki.index_url).poolmanager.pools
            connections = sum(pool.num_connections for pool in pools._container.values())
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"database            : {connection.vendor}")
    print(f"logins              : {args.logins} in {elapsed:.2f} s = {args.logins / elapsed:.1f} logins/s")
    print(f"latency (incl. wiki): mean {statistics.mean(timings) * 1000:.1f} ms, "
          f"p95 {sorted(timings)[int(len(timings) * 0.95) - 1] * 1000:.1f} ms")
    print(f"queries per login   : min {min(queries)}, max {max(queries)} (first login of a user is the max)")
    per_login = {step: counters.get(step, 0) / args.logins for step in ("initiate", "token", "identify")}
    print(f"wiki round trips    : {per_login} per login (authorize is the browser's)")
    print(f"TCP connections     : {connections} opened by the site's pooled session for {3 * args.logins} wiki requests")


if __name__ == "__main__":
    main()
