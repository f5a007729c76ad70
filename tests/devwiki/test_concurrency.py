"""Thread safety: 200 concurrent signed API calls, and concurrent handshakes, without an error."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from .conftest import TEST, handshake, signed

CONCURRENT = 200


def test_200_concurrent_signed_userinfo_calls(wiki):
    accesses = {name: handshake(wiki, name) for name in ("Alice", "Bob", "Zoë Ünïcode-Test", "Admin Sysop")}
    names = list(accesses)
    start = threading.Barrier(CONCURRENT)

    def call(i: int) -> str:
        name = names[i % len(names)]
        start.wait(timeout=10)  # all requests in flight together
        answer = requests.get(
            wiki.api_url,
            params={"action": "query", "meta": "userinfo", "format": "json"},
            auth=signed(TEST, accesses[name]),
            timeout=10,
        )
        answer.raise_for_status()
        got = answer.json()["query"]["userinfo"]["name"]
        assert got == name, (got, name)
        return got

    before = wiki.control("stats")["counters"].get("api", 0)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        results = list(pool.map(call, range(CONCURRENT)))
    elapsed = time.perf_counter() - began
    assert len(results) == CONCURRENT
    assert wiki.control("stats")["counters"]["api"] - before == CONCURRENT
    print(
        f"\ndevwiki: {CONCURRENT} concurrent signed api.php calls in {elapsed:.2f} s = {CONCURRENT / elapsed:.0f} req/s"
    )


def test_concurrent_handshakes_for_one_user_share_one_access_token(wiki):
    with ThreadPoolExecutor(max_workers=20) as pool:
        tokens = set(pool.map(lambda _: handshake(wiki, "Bob"), range(20)))
    assert len(tokens) == 1
    assert len(wiki.control("stats")["access_tokens"]) == 1


def test_keep_alive_sessions_under_load(wiki):
    access = handshake(wiki, "Alice")
    sessions = [requests.Session() for _ in range(10)]

    def burst(session: requests.Session) -> int:
        ok = 0
        for _ in range(20):
            answer = session.get(
                wiki.api_url,
                params={"action": "query", "meta": "userinfo", "format": "json"},
                auth=signed(TEST, access),
                timeout=10,
            )
            ok += answer.json()["query"]["userinfo"]["name"] == "Alice"
        return ok

    before = wiki.control("stats")["counters"].get("connections", 0)
    with ThreadPoolExecutor(max_workers=10) as pool:
        assert sum(pool.map(burst, sessions)) == 200
    assert wiki.control("stats")["counters"]["connections"] - before == 10
