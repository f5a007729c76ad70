"""OAuth 2.0 benchmark: Action API calls with a bearer token, and what one refresh costs, against the local wiki.

Reports bearer calls per second and latency, then the cost of refreshing an expired access
token on the next call (the read, the committed claim, the token request, the write): milliseconds, database
queries and round trips to the wiki, measured over ``--refreshes`` refreshes.

    .venv/bin/python bench/oauth2_bench.py [--calls 500] [--refreshes 20] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from common import bench_environment, connections_opened, latency, time_api_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--refreshes", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with bench_environment(args.database_url) as wiki:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone
        from mwsso_devwiki.state import seed as wikiconfig

        from mwsso.models import AccessToken
        from mwsso.tokens.refresh import refresh_token

        client_id, secret = wikiconfig.DEMO_OAUTH2_CLIENT_ID, wikiconfig.DEMO_OAUTH2_CLIENT_SECRET
        settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_KEY, settings.SOCIAL_AUTH_MEDIAWIKI_OAUTH2_SECRET = client_id, secret
        pair = wiki.control("oauth2_issue_token", client_id=client_id, user="Alice")
        user = get_user_model().objects.create(username="Alice")
        token = AccessToken.objects.create(
            user=user, wiki=wiki.server_url, wiki_url=wiki.index_url, consumer_key=client_id, oauth_version=2,
            expires_at=timezone.now() + timedelta(hours=1),
            **AccessToken.credential_fields(pair["access_token"], "", refresh_token=pair["refresh_token"]),
        )  # fmt: skip

        # Bearer calls.
        timings, elapsed, queries = time_api_calls(user, args.calls)
        connections = connections_opened(wiki.api_url)

        # Refreshes: each one as for_user() does it for an expired token.
        refresh_times, refresh_queries = [], 0
        before = wiki.control("oauth2_counts")["counts"]["token_requests"]
        for _ in range(args.refreshes):
            AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
            token.refresh_from_db()
            with CaptureQueriesContext(connection) as refresh_captured:
                began = time.perf_counter()
                token = refresh_token(token)
                refresh_times.append(time.perf_counter() - began)
            refresh_queries += len(refresh_captured)
        round_trips = wiki.control("oauth2_counts")["counts"]["token_requests"] - before

    print(f"bearer calls        : {args.calls} in {elapsed:.2f} s = {args.calls / elapsed:.0f} calls/s")
    print(f"latency             : {latency(timings)}")
    print(f"database queries    : {queries} for for_user() and {args.calls} calls")
    print(f"TCP connections     : {connections} for {args.calls} calls")
    print(f"refresh             : {latency(refresh_times)} over {args.refreshes} refreshes")
    print(
        f"refresh queries     : {refresh_queries / args.refreshes:.1f} per refresh ({connection.vendor}, claim included)"
    )
    print(f"refresh round trips : {round_trips / args.refreshes:.1f} token request(s) per refresh")


if __name__ == "__main__":
    main()
