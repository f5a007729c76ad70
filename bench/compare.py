"""mwsso side by side with what a site would use instead, in one run: ``make bench`` or

    .venv/bin/python bench/compare.py [--rtt 0.05] [--no-tls] [--count 20] [--database-url postgres://...]

Against the local wiki behind a simulated network (``bench/netsim.py``: every request pays the
round-trip time, every new connection pays the TCP handshake and, with TLS, the TLS one):

- sign-in (first and returning) with mwsso vs social-core's stock ``MediaWiki`` backend;
- an API call as the user with ``mwsso.api`` vs requests-oauthlib by hand, with a new
  ``requests.get`` per call and with a shared ``requests.Session``.

Each side runs in its own process (``bench/compare_worker.py``). The table shows medians per
operation and the ratio mwsso / alternative. "floor" is the physical minimum the network allows:
(round trips + new connections x handshake round trips) x RTT.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent

COMPARISONS = [
    # (operation, result key, mwsso scenario, [(alternative, its short name, its scenario)])
    ("first sign-in", "first", "login-mwsso", [("social-core stock MediaWiki", "stock", "login-stock")]),
    ("returning sign-in", "returning", "login-mwsso", [("social-core stock MediaWiki", "stock", "login-stock")]),
    (
        "API call as the user",
        "call",
        "api-mwsso",
        [
            ("requests-oauthlib, requests.get each call", "requests.get", "api-oauthlib-get"),
            ("requests-oauthlib, shared Session", "Session", "api-oauthlib-session"),
        ],
    ),
    (
        "OAuth 2.0 API call",
        "call",
        "o2api-mwsso",
        [("requests.get with a Bearer header", "requests.get", "o2api-requests")],
    ),
    (
        "OAuth 2.0 refresh",
        "refresh",
        "o2refresh-mwsso",
        [("plain token request (requests.post)", "requests.post", "o2refresh-requests")],
    ),
]
COLUMNS = [
    ("round_trips", "round trips", "{:.0f}"),
    ("connections", "new conns", "{:.0f}"),
    ("queries", "queries", "{:.0f}"),
    ("wall", "wall ms", "{:.1f}"),
    ("cpu", "CPU ms", "{:.1f}"),
    ("floor", "floor ms", "{:.0f}"),
]


def run_scenario(scenario: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / "compare_worker.py"), scenario, "--count", str(args.count)]
    command += ["--rtt", str(args.rtt)] + (["--tls"] if args.tls else [])
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{scenario} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def with_floor(sample: dict[str, float], rtt: float, tls: bool) -> dict[str, float]:
    handshake = 2 if tls else 1
    floor = (sample["round_trips"] + sample["connections"] * handshake) * rtt
    # Times in milliseconds from here on.
    return sample | {"floor": floor * 1000, "wall": sample["wall"] * 1000, "cpu": sample["cpu"] * 1000}


def cells(sample: dict[str, float]) -> list[str]:
    return [fmt.format(sample[key]) for key, _, fmt in COLUMNS]


def ratio_cells(ours: dict[str, float], theirs: dict[str, float]) -> list[str]:
    shown = []
    for key, _, _ in COLUMNS:
        a, b = ours[key], theirs[key]
        shown.append("=" if a == b else (f"{a / b:.2f}x" if b else "—"))
    return shown


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        # The two label columns left-aligned, the figures right-aligned.
        return "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    lines = [line(row) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt", type=float, default=0.05, help="simulated round trip in seconds (default 0.05)")
    parser.add_argument("--no-tls", dest="tls", action="store_false", help="plain HTTP to the wiki")
    parser.add_argument("--count", type=int, default=20, help="operations per side (medians are shown)")
    parser.add_argument("--database-url", default="", help="default: SQLite (tests.settings)")
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    for _, _, ours, alternatives in COMPARISONS:
        for scenario in [ours] + [scenario for _, _, scenario in alternatives]:
            if scenario not in results:
                print(f"running {scenario} …", file=sys.stderr, flush=True)
                results[scenario] = run_scenario(scenario, args)

    rows = []
    for operation, key, ours, alternatives in COMPARISONS:
        mine = with_floor(results[ours][key], args.rtt, args.tls)
        rows.append([operation, "mwsso", *cells(mine)])
        for label, short, scenario in alternatives:
            theirs = with_floor(results[scenario][key], args.rtt, args.tls)
            rows.append(["", label, *cells(theirs)])
            rows.append(["", f"  ratio mwsso / {short}", *ratio_cells(mine, theirs)])
    database = results["login-mwsso"].get("database", "?")
    network = f"{args.rtt * 1000:.0f} ms round trip, wiki over {'HTTPS (TLS)' if args.tls else 'plain HTTP'}"
    print(f"\nmwsso side by side: {network}, {database}, database sessions; medians of {args.count} operations each\n")
    print(table(rows, ["operation", "side", *[title for _, title, _ in COLUMNS]]))
    print(
        "\nround trips: requests the wiki received from the site; new conns: TCP connections the site opened;"
        "\nwall/CPU: the site's own thread (the person's browser and the wiki are not counted);"
        "\nfloor: (round trips + new conns x handshake round trips) x RTT."
    )


if __name__ == "__main__":
    main()
