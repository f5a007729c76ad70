"""API client benchmark: signed Action API calls as a user against the local wiki over real HTTP.

Reports calls per second, latency, database queries per call (``last_used`` is
written at most once a minute, so almost every call costs none) and TCP
connections opened (keep-alive: one).

    .venv/bin/python bench/api_bench.py [--calls 500] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse

from common import bench_environment, connections_opened, latency, time_api_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with bench_environment(args.database_url) as wiki:
        from django.contrib.auth import get_user_model

        from mwsso.models import AccessToken
        from tests.conftest import TEST_CONSUMER_KEY

        issued = wiki.control("issue_token", consumer_key=TEST_CONSUMER_KEY, user="Alice")
        user = get_user_model().objects.create(username="Alice")
        token = AccessToken(user=user, wiki=wiki.server_url, wiki_url=wiki.index_url, consumer_key=TEST_CONSUMER_KEY)
        token.set_credentials(issued["key"], issued["secret"])
        token.save()
        timings, elapsed, queries = time_api_calls(user, args.calls)
        connections = connections_opened(wiki.api_url)

    print(f"calls               : {args.calls} in {elapsed:.2f} s = {args.calls / elapsed:.0f} calls/s")
    print(f"latency             : {latency(timings)}")
    print(f"database queries    : {queries} for for_user() and {args.calls} calls")
    print(f"TCP connections     : {connections} for {args.calls} calls")


if __name__ == "__main__":
    main()
