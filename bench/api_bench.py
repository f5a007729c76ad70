"""API client benchmark: signed Action API calls as a user against the local wiki over real HTTP.

Reports calls per second, latency, database queries per call (``last_used`` is
written at most once a minute, so almost every call costs none) and TCP
connections opened (keep-alive: one).

    .venv/bin/python bench/api_bench.py [--calls 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from mwsso import api, http
    from mwsso.devwiki.testing import running_devwiki
    from mwsso.models import AccessToken
    from tests.conftest import TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        with running_devwiki() as wiki:
            settings.SOCIAL_AUTH_MEDIAWIKI_KEY = TEST_CONSUMER_KEY
            settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = TEST_CONSUMER_SECRET
            issued = wiki.control("issue_token", consumer_key=TEST_CONSUMER_KEY, user="Alice")
            user = get_user_model().objects.create(username="Alice")
            token = AccessToken(user=user, wiki=wiki.server_url, wiki_url=wiki.index_url, consumer_key=TEST_CONSUMER_KEY)
            token.set_credentials(issued["key"], issued["secret"])
            token.save()
            timings = []
            with CaptureQueriesContext(connection) as captured:
                client = api.for_user(user)
                start = time.perf_counter()
                for _ in range(args.calls):
                    began = time.perf_counter()
                    client.get(action="query", meta="userinfo")
                    timings.append(time.perf_counter() - began)
                elapsed = time.perf_counter() - start
            pools = http.get_session().get_adapter(wiki.api_url).poolmanager.pools
            connections = sum(pool.num_connections for pool in pools._container.values())
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(f"calls               : {args.calls} in {elapsed:.2f} s = {args.calls / elapsed:.0f} calls/s")
    print(f"latency             : mean {statistics.mean(timings) * 1000:.1f} ms, "
          f"p95 {sorted(timings)[int(len(timings) * 0.95) - 1] * 1000:.1f} ms")
    print(f"database queries    : {len(captured)} for for_user() and {args.calls} calls")
    print(f"TCP connections     : {connections} for {args.calls} calls")


if __name__ == "__main__":
    main()
