"""What one deadline per request costs: requests' own adapter against mwsso's ``DeadlineAdapter``, same server.

A local keep-alive server answers a small API-like JSON; rounds alternate between the two adapters
(so that a busy machine slows both alike) and the median time per request of each is printed.

    .venv/bin/python bench/deadline_bench.py [--requests 300] [--rounds 6]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from mwsso.protocol.deadline import DeadlineAdapter

BODY = b'{"batchcomplete":true,"query":{"userinfo":{"id":3,"name":"Alice"}}}' * 20


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        # One write: headers and body in one segment, as a real server's buffered answer.
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
        )

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/w/api.php"
    sessions = {}
    for name, adapter in (
        ("requests", HTTPAdapter(max_retries=0)),
        ("deadline", DeadlineAdapter(max_retries=0, seconds=lambda t: 10.0)),
    ):
        sessions[name] = requests.Session()
        sessions[name].mount("http://", adapter)
    spent: dict[str, list[float]] = {name: [] for name in sessions}
    for round_ in range(args.rounds):
        for name in sorted(sessions, reverse=bool(round_ % 2)):
            started = time.perf_counter()
            for _ in range(args.requests):
                sessions[name].get(url, timeout=10).raise_for_status()  # the body is read: the whole request
            spent[name].append((time.perf_counter() - started) / args.requests * 1e6)
    for name, times in spent.items():
        print(
            f"{name:9}: median {statistics.median(times):6.0f} µs per request ({args.rounds} rounds of {args.requests})"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
