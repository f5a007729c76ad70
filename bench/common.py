"""What both benchmarks need: Django with a throwaway test database, and the local wiki over real HTTP."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def bench_environment(database_url: str = "") -> Iterator[Any]:
    """Set up Django (tests.settings), create a test database, start the local wiki; yields the wiki."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment
    from mwsso_devwiki.testing import running_devwiki

    from tests.conftest import use_test_consumer

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        with running_devwiki() as wiki:
            use_test_consumer(settings, wiki.index_url)
            yield wiki
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def time_api_calls(user: Any, calls: int) -> tuple[list[float], float, int]:
    """``calls`` userinfo queries through ``api.for_user(user)``: each call's time, the total, the queries (for_user's included)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mwsso import api

    timings = []
    with CaptureQueriesContext(connection) as captured:
        client = api.for_user(user)
        start = time.perf_counter()
        for _ in range(calls):
            began = time.perf_counter()
            client.get(action="query", meta="userinfo")
            timings.append(time.perf_counter() - began)
        elapsed = time.perf_counter() - start
    return timings, elapsed, len(captured)


def connections_opened(url: str) -> int:
    """TCP connections the shared HTTP session opened to the wiki (keep-alive: ideally one)."""
    from mwsso import http

    pools = http.get_session().get_adapter(url).poolmanager.pools
    return sum(pool.num_connections for pool in pools._container.values())


def latency(timings: list[float]) -> str:
    p95 = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
    return f"mean {statistics.mean(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
