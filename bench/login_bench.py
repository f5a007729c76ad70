"""Login benchmark: N full sign-ins against the local wiki over real HTTP.

Reports logins per second, latency (mean, p95), database queries per login,
wiki round trips per login and TCP connections opened by the shared HTTP
session (keep-alive means a handful for the whole run, not three per login).

    .venv/bin/python bench/login_bench.py [--logins 200] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlsplit

from common import bench_environment, connections_opened, latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with bench_environment(args.database_url) as wiki:
        import requests
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from mwsso_devwiki.testing import authorize

        from tests.conftest import SITE_HOST

        users = ["Alice", "Bob", "Admin Sysop", "Zoë Ünïcode-Test"]
        timings, queries = [], []
        browser = requests.Session()  # the person's browser on the wiki
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
        connections = connections_opened(wiki.index_url)
        vendor = connection.vendor

    print(f"database            : {vendor}")
    print(f"logins              : {args.logins} in {elapsed:.2f} s = {args.logins / elapsed:.1f} logins/s")
    print(f"latency (incl. wiki): {latency(timings)}")
    print(f"queries per login   : min {min(queries)}, max {max(queries)} (first login of a user is the max)")
    per_login = {step: counters.get(step, 0) / args.logins for step in ("initiate", "token", "identify")}
    print(f"wiki round trips    : {per_login} per login (authorize is the browser's)")
    print(
        f"TCP connections     : {connections} opened by the site's pooled session for {3 * args.logins} wiki requests"
    )


if __name__ == "__main__":
    main()
